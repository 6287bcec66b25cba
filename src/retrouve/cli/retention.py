"""``retrouve retention``: apply the retention plan (footage past its maximum age, derived
data of closed cases; legal holds respected) and print the register of destructions."""

from __future__ import annotations

from pathlib import Path

import click

from retrouve.cli.io import acting, console, emit, open_services
from retrouve.errors import InputError


@click.group()
def retention() -> None:
    """Purge footage and derived data past retention, with signed certificates."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def run(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Purge what retention requires now (each purge certified, signed and journalled)."""
    with open_services(ctx) as svc:
        report = svc.retention.run(acting(ctx, svc), dry_run=dry_run)

        def text() -> None:
            verb = "would purge" if dry_run else "purged"
            for p in report.purged:
                rec = p.body["recording"]
                what = ("derived data of" if p.body["derived_only"]
                        else "footage and derived data of")
                cert = "" if p.certificate_id is None else f" (certificate {p.certificate_id})"
                console.print(f"{verb} {what} {rec['id']} ({rec['camera']}, "
                              f"{rec['start_utc']} → {rec['end_utc']}): {p.body['reason']}{cert}",
                              markup=False, highlight=False)
            for rec_id, case, until, _rule in report.held:
                console.print(f"held {rec_id} for case {case} until {until}",
                              markup=False, highlight=False)
            if not report.purged:
                console.print("nothing to purge", highlight=False)

        emit(as_json, report.to_json(), text)


@retention.command("register")
@click.option("--format", "fmt", type=click.Choice(["csv", "pdf"]), default="csv",
              show_default=True, help="CSV (UTF-8) or PDF (Latin-1 text).")
@click.option("--out", type=click.Path(path_type=Path),
              help="File to write the register to (default: standard output; a PDF needs "
                   "--out).")
@click.pass_context
def register(ctx: click.Context, fmt: str, out: Path | None) -> None:
    """The register of destructions (CSI R252-11), one row per purge certificate."""
    with open_services(ctx) as svc:
        if fmt == "pdf" and out is None:
            raise InputError("the PDF register needs --out FILE")
        data = (svc.retention.register_pdf() if fmt == "pdf"
                else svc.retention.register_csv().encode("utf-8"))
    if out is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        out.write_bytes(data)
        console.print(f"register written to {out}", markup=False, highlight=False)
