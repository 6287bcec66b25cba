"""``retrouve journal``: verify the hash chain and signed checkpoints, export a case's
entries for offline checking, sign a checkpoint now, print the public key."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from retrouve.cli.io import acting, console, counted, emit, err, open_services, styled
from retrouve.legal.cases import parse_when


@click.group()
def journal() -> None:
    """The journal of every case action, search and analysis (hash-chained, signed)."""


@journal.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Exit 0 when the journal is intact, 1 naming the first bad entry."""
    with open_services(ctx) as svc:
        verdict = svc.journal.verify()
        emit(as_json, verdict.to_json(), lambda: (
            console.print("journal intact: "
                          f"{counted(verdict.entries, 'entry', 'entries')}, "
                          + counted(verdict.checkpoints, "signed checkpoint",
                                    "signed checkpoints"),
                          highlight=False)
            if verdict.ok else
            err.print(styled(("journal NOT intact", "bold red"),
                             f": first bad entry {verdict.bad_seq}: {verdict.reason}"),
                      highlight=False)))
    if not verdict.ok:
        sys.exit(1)


@journal.command("export")
@click.option("--case", "case_ref", required=True, help="The case whose entries to export.")
@click.option("--from", "time_from", help="Entries at or after (ISO-8601).")
@click.option("--to", "time_to", help="Entries at or before (ISO-8601).")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder to write entries.jsonl, checkpoints.json, public-key.pem.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def export(ctx: click.Context, case_ref: str, time_from: str | None, time_to: str | None,
           out: Path, as_json: bool) -> None:
    """Export a case's entries, the checkpoints and the public key (auditor, supervisor)."""
    with open_services(ctx) as svc:
        svc.cases.get(case_ref)
        summary = svc.journal.export(
            acting(ctx, svc), case_ref, out,
            parse_when(time_from, "--from") if time_from else None,
            parse_when(time_to, "--to") if time_to else None)
        emit(as_json, summary, lambda: console.print(
            f"exported {summary['entries']} entries of {case_ref} to {out}", highlight=False))


@journal.command("checkpoint")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def checkpoint(ctx: click.Context, as_json: bool) -> None:
    """Sign a checkpoint over the journal's newest entry now."""
    with open_services(ctx) as svc:
        head = svc.journal.checkpoint()
        emit(as_json, {"entry_seq": head}, lambda: console.print(
            f"checkpoint at entry {head}" if head else "the journal is empty"))


@journal.command("public-key")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (PEM and key id).")
@click.pass_context
def public_key(ctx: click.Context, as_json: bool) -> None:
    """Print the installation's Ed25519 public key (PEM)."""
    with open_services(ctx) as svc:
        key = svc.journal.key
        emit(as_json, {"key_id": key.key_id, "pem": key.public_pem()},
             lambda: click.echo(key.public_pem(), nl=False))
