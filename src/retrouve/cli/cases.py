"""``retrouve cases``: requisitions as cases — create, amend, approve, assign, close, list,
show (each with ``--json``). The acting user is the group's ``--user``; every change is
journalled in the same transaction."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import click
from rich.table import Table

from retrouve.cli.io import acting, console, emit, open_services, operator_zone, styled
from retrouve.domain import CaseStatus, LegalBasis
from retrouve.legal.cases import parse_scope, parse_when
from retrouve.legal.casework import case_json
from retrouve.legal.coverage import coverage_html, coverage_json, coverage_pdf
from retrouve.store.cases import CaseFields, CaseRecord
from retrouve.store.marks import Mark, MarkKind
from retrouve.wallclock import local_iso, show_time

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_SCOPE = click.option("--scope", "scopes", multiple=True, required=True,
                      help="CAMERA:FROM/TO (ISO-8601 with offsets); repeatable.")


def _show(case: CaseRecord) -> None:
    f = case.fields
    console.print(styled((f.ref, "bold"), f" ({case.status.value}) art. {f.basis.value} "
                  f"procedure {f.procedure_number}; {f.authority}, {f.authority_service} "
                  f"({f.authority_contact}); purpose: {f.purpose}"), highlight=False)
    for w in case.scope:
        console.print(f"  scope {w.text()}", highlight=False)
    console.print(f"  assigned: {', '.join(case.assigned) or '(nobody)'}", highlight=False)


@click.group()
def cases() -> None:
    """Cases: one per judicial requisition; analysis and search work only inside one."""


@cases.command("create")
@click.argument("ref")
@click.option("--basis", type=click.Choice([b.value for b in LegalBasis]), required=True,
              help="CPP article of the requisition.")
@click.option("--procedure", "procedure", required=True, help="Procedure number.")
@click.option("--authority", required=True, help="Requesting OPJ or magistrate.")
@click.option("--service", default="", help="Their service.")
@click.option("--contact", default="", help="How to reach them.")
@click.option("--prosecutor-authorisation", help="77-1-1: the prosecutor's authorisation.")
@click.option("--received", help="When the requisition arrived (ISO-8601) [default: now].")
@click.option("--deadline", help="Answer by (ISO-8601).")
@click.option("--purpose", required=True, help="What the requisition is for.")
@_SCOPE
@click.option("--assign", "assign", multiple=True, help="User to assign; repeatable.")
@_JSON
@click.pass_context
def create(ctx: click.Context, ref: str, basis: str, procedure: str, authority: str,
           service: str, contact: str, prosecutor_authorisation: str | None,
           received: str | None, deadline: str | None, purpose: str,
           scopes: tuple[str, ...], assign: tuple[str, ...], as_json: bool) -> None:
    """Open a case for a requisition (supervisor)."""
    with open_services(ctx, create=True) as svc:
        now = svc.clock()
        fields = CaseFields(
            ref=ref, basis=LegalBasis(basis), procedure_number=procedure, authority=authority,
            authority_service=service, authority_contact=contact,
            received_at=parse_when(received, "--received") if received else now,
            purpose=purpose,
            deadline=parse_when(deadline, "--deadline") if deadline else None,
            prosecutor_authorisation=prosecutor_authorisation)
        scope = tuple(parse_scope(s) for s in scopes)
        case = svc.cases.create(acting(ctx, svc), fields, scope, assign)
        emit(as_json, case_json(case), lambda: _show(case))


@cases.command("amend")
@click.argument("ref")
@_SCOPE
@click.option("--reason", required=True, help="Why (the amended requisition).")
@_JSON
@click.pass_context
def amend(ctx: click.Context, ref: str, scopes: tuple[str, ...], reason: str,
          as_json: bool) -> None:
    """Replace a case's scope: narrowing applies now, widening waits for a second
    supervisor's approval."""
    with open_services(ctx) as svc:
        am = svc.cases.amend(acting(ctx, svc), ref, tuple(parse_scope(s) for s in scopes),
                             reason)
        data = {"case": ref, "amendment": am.id, "widens": am.widens, "state": am.state}
        emit(as_json, data, lambda: console.print(
            f"amendment {am.id} of {ref}: " + ("widens the scope, waiting for approval "
                                               f"(`retrouve cases approve {ref} {am.id}`)"
                                               if am.widens else "applied"), highlight=False))


@cases.command("approve")
@click.argument("ref")
@click.argument("amendment", type=int)
@_JSON
@click.pass_context
def approve(ctx: click.Context, ref: str, amendment: int, as_json: bool) -> None:
    """Approve a pending widening (a supervisor other than its requester)."""
    with open_services(ctx) as svc:
        case = svc.cases.approve(acting(ctx, svc), ref, amendment)
        emit(as_json, case_json(case), lambda: _show(case))


@cases.command("assign")
@click.argument("ref")
@click.argument("users", nargs=-1, required=True)
@_JSON
@click.pass_context
def assign(ctx: click.Context, ref: str, users: tuple[str, ...], as_json: bool) -> None:
    """Assign users to a case (supervisor)."""
    with open_services(ctx) as svc:
        case = svc.cases.assign(acting(ctx, svc), ref, users)
        emit(as_json, case_json(case), lambda: _show(case))


@cases.command("close")
@click.argument("ref")
@click.option("--archive", is_flag=True, help="Archive a closed case instead.")
@_JSON
@click.pass_context
def close(ctx: click.Context, ref: str, archive: bool, as_json: bool) -> None:
    """Close a case (no more work in it), or archive a closed one (supervisor)."""
    with open_services(ctx) as svc:
        case = svc.set_case_status(acting(ctx, svc), ref,
                                   CaseStatus.ARCHIVED if archive else CaseStatus.CLOSED)
        emit(as_json, case_json(case), lambda: _show(case))


@cases.command("list")
@_JSON
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """The cases the user may see."""
    with open_services(ctx) as svc:
        found = svc.cases.read(acting(ctx, svc))

        def text() -> None:
            t = Table("case", "status", "basis", "procedure", "windows", "assigned")
            for c in found:
                t.add_row(c.ref, c.status.value, c.fields.basis.value,
                          c.fields.procedure_number, str(len(c.scope)), ", ".join(c.assigned))
            console.print(t)

        emit(as_json, [case_json(c) for c in found], text)


@cases.command("show")
@click.argument("ref")
@_JSON
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """One case with its amendments."""
    with open_services(ctx) as svc:
        [case] = svc.cases.read(acting(ctx, svc), ref)
        amendments = svc.store.amendments(ref)

        def text() -> None:
            _show(case)
            for a in amendments:
                console.print(f"  amendment {a.id} ({a.state}{', widens' if a.widens else ''})"
                              f" by {a.requested_by}: {a.reason}", highlight=False)

        emit(as_json, case_json(case, amendments), text)


@cases.command("report")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["json", "html", "pdf"]), default="json",
              show_default=True, help="Output format.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file [default: stdout; required for pdf].")
@click.pass_context
def report(ctx: click.Context, ref: str, fmt: str, out: Path | None) -> None:
    """The coverage report of a case: footage, gaps, analysed and failed spans, models,
    searches (auditor, supervisor); journalled."""
    if fmt == "pdf" and out is None:
        raise click.UsageError("--format pdf needs --out FILE")
    with open_services(ctx) as svc:
        cov = svc.cases.coverage(acting(ctx, svc), ref, fmt)
        if fmt == "pdf":
            data = coverage_pdf(cov, operator_zone(ctx, svc))
        elif fmt == "html":
            data = coverage_html(cov, operator_zone(ctx, svc)).encode("utf-8")
        else:
            data = (json.dumps(coverage_json(cov), indent=2, ensure_ascii=False)
                    + "\n").encode("utf-8")
        if out is None:
            click.echo(data.decode("utf-8"), nl=False)
        else:
            out.write_bytes(data)
            console.print(f"coverage report of {ref} written to {out}", highlight=False)
def _mark_json(m: Mark, zone: str) -> dict[str, object]:
    """A mark in JSON: ``at`` in UTC (ISO-8601), ``at_local`` in the operator's zone."""
    return {"track": m.track_id, "mark": m.mark.value, "note": m.note, "by": m.by,
            "at": m.at.astimezone(UTC).isoformat(), "at_local": local_iso(m.at, zone)}


@cases.command("mark")
@click.argument("ref")
@click.argument("track", type=int)
@click.option("--relevant/--not-relevant", "relevant", required=True,
              help="Mark the result relevant or not relevant.")
@click.option("--note", default="", help="A note on the result.")
@_JSON
@click.pass_context
def mark(ctx: click.Context, ref: str, track: int, relevant: bool, note: str,
         as_json: bool) -> None:
    """Mark a result (a track in the case's scope) relevant or not, with a note."""
    with open_services(ctx) as svc:
        m = svc.cases.mark(acting(ctx, svc), ref, track,
                           MarkKind.RELEVANT if relevant else MarkKind.NOT_RELEVANT, note)
        emit(as_json, _mark_json(m, operator_zone(ctx, svc)), lambda: console.print(
            f"track {m.track_id} in {ref}: {m.mark.value}", highlight=False))


@cases.command("marks")
@click.argument("ref")
@_JSON
@click.pass_context
def marks(ctx: click.Context, ref: str, as_json: bool) -> None:
    """The marks in force in a case (the newest per track)."""
    with open_services(ctx) as svc:
        found = svc.cases.marks(acting(ctx, svc), ref)
        zone = operator_zone(ctx, svc)

        def text() -> None:
            t = Table("track", "mark", "note", "by", "at")
            for m in found:
                # Notes and names are the users' text, never console markup.
                t.add_row(str(m.track_id), m.mark.value, m.note, m.by,
                          show_time(m.at, zone))
            console.print(t)

        emit(as_json, [_mark_json(m, zone) for m in found], text)


__all__ = ["cases"]
