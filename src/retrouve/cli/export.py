"""``retrouve export``: evidence bundles — create (ask for one, and build it when no approval
is needed), approve (a second person), create --request (build an approved one), list, and
verify a bundle (zip or folder) offline."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from retrouve.cli.io import acting, console, emit, err, fail, open_services
from retrouve.errors import CaseError
from retrouve.export.bundle import BundleResult, verify_bundle
from retrouve.legal.cases import parse_scope
from retrouve.legal.exports import export_json
from retrouve.store.exports import ExportRecord, ExportState

#: Exit code of ``export create`` when the request was recorded and waits for approval.
WAITING_FOR_APPROVAL = 3
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _built(rec: ExportRecord, result: BundleResult) -> dict[str, object]:
    return {**export_json(rec), "seconds": round(result.seconds, 3),
            "exhibits": [e["label"] for e in result.manifest["exhibits"]],
            "files": sorted(result.manifest["files"])}


@click.group("export")
def export() -> None:
    """Evidence bundles: master clips, working copies, stills, report, signed manifest."""


@export.command("create")
@click.option("--case", "case_ref", envvar="RETROUVE_CASE",
              help="The case whose results to export [env RETROUVE_CASE].")
@click.option("--track", "tracks", type=int, multiple=True,
              help="A track of the case to export too (besides those marked relevant); "
                   "repeatable.")
@click.option("--window", "windows", multiple=True,
              help="CAMERA:FROM/TO (ISO-8601 with offsets) to export, inside the case's "
                   "scope; repeatable.")
@click.option("--redact", is_flag=True, help="Also write redacted copies (never of the "
              "master).")
@click.option("--request", "request_id", type=int,
              help="Build this approved request instead of asking for a new one.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the bundle's zip into.")
@_JSON
@click.pass_context
def create(ctx: click.Context, case_ref: str | None, tracks: tuple[int, ...],
           windows: tuple[str, ...], redact: bool, request_id: int | None, out: Path,
           as_json: bool) -> None:
    """Export a case's results marked relevant (and --track, --window) as one sealed zip,
    and print its path. When the site needs approval (export.require_approval, the default)
    the request is recorded and the command exits 3 naming the request and the command to
    approve it; once approved, `--request ID` builds it."""
    if request_id is not None and (tracks or windows or redact):
        raise click.UsageError("--request builds a recorded request as it was asked for: "
                               "no --track, --window or --redact with it")
    if request_id is None and not case_ref:
        raise click.UsageError("--case REF (or --request ID) is required")
    with open_services(ctx) as svc:
        actor = acting(ctx, svc)
        if request_id is None:
            assert case_ref is not None
            try:
                scope = tuple(parse_scope(w) for w in windows)
            except CaseError as exc:
                fail(f"--window: {exc}")
            rec = svc.export_request(actor, case_ref, tracks, scope, redact)
            if rec.state is ExportState.REQUESTED:
                emit(as_json, export_json(rec), lambda: None)
                fail(f"export request {rec.id} of case {case_ref} recorded; it needs a "
                     f"supervisor's approval (someone other than {rec.requested_by}): "
                     f"`retrouve export approve {rec.id}`, then `retrouve export create "
                     f"--request {rec.id} --out {out}`", WAITING_FOR_APPROVAL)
            request_id = rec.id
        done, result = svc.export_build(actor, request_id, out)
        emit(as_json, _built(done, result), lambda: click.echo(str(result.path)))
        if not as_json:
            err.print(f"export {done.id}: {len(result.manifest['exhibits'])} exhibit(s), "
                      f"SHA-256 {result.sha256}, {result.seconds:.1f} s", markup=False,
                      highlight=False)


@export.command("approve")
@click.argument("export_id", type=int)
@_JSON
@click.pass_context
def approve(ctx: click.Context, export_id: int, as_json: bool) -> None:
    """Approve an export request (a supervisor other than the one who asked)."""
    with open_services(ctx) as svc:
        rec = svc.exports.approve(acting(ctx, svc), export_id)
        emit(as_json, export_json(rec), lambda: console.print(
            f"export {rec.id} of {rec.case_ref} approved by {rec.approved_by}: build it with "
            f"`retrouve export create --request {rec.id} --out DIR`", markup=False,
            highlight=False))


@export.command("list")
@click.option("--case", "case_ref", envvar="RETROUVE_CASE", required=True,
              help="The case [env RETROUVE_CASE].")
@_JSON
@click.pass_context
def list_(ctx: click.Context, case_ref: str, as_json: bool) -> None:
    """A case's export requests: state, who asked, who approved, the bundle."""
    with open_services(ctx) as svc:
        found = svc.exports.list(acting(ctx, svc), case_ref)

        def text() -> None:
            t = Table("id", "state", "requested by", "approved by", "tracks", "windows",
                      "bundle")
            for r in found:
                t.add_row(str(r.id), r.state.value, r.requested_by, r.approved_by or "",
                          str(len(r.spec.get("tracks", []))),
                          str(len(r.spec.get("windows", []))), r.bundle_path or "")
            console.print(t)

        emit(as_json, [export_json(r) for r in found], text)


@export.command("verify")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@_JSON
def verify(bundle: Path, as_json: bool) -> None:
    """Check a bundle (its zip or unzipped folder) offline: exit 0 when every file is
    listed and unchanged, nothing was added and the signature is good; else exit 1 naming
    each altered, missing or added file or the bad signature. Opens no database."""
    problems = verify_bundle(bundle)
    emit(as_json, {"bundle": str(bundle), "ok": not problems, "problems": problems},
         lambda: None if problems else console.print(
             f"{bundle}: intact (every file matches the signed manifest)", markup=False,
             highlight=False))
    if problems:
        fail("; ".join(problems), 1)


__all__ = ["export"]
