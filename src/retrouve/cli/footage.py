"""``retrouve ingest`` and ``retrouve recordings``: register recorded footage and list it.

Exit codes: ``ingest`` exits 1 when some files were refused (the others are registered).
"""

from __future__ import annotations

import sys

import click
from rich.table import Table

from retrouve.cli.io import console, emit, err, open_services


@click.command()
@click.argument("source")
@click.option("--camera", "camera_id", required=True, help="Camera the footage comes from.")
@click.option("--start", help="Wall-clock time of the first frame, ISO-8601 (one file only). "
              "Without it, the time is read from the file name.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def ingest(ctx: click.Context, source: str, camera_id: str, start: str | None,
           as_json: bool) -> None:
    """Register recorded footage: a file or a folder (recursive) of SOURCE for a camera.

    Files are probed and hashed (SHA-256); a file already registered is skipped. A file that
    cannot be read is reported and the others go on (exit code 1).
    """
    with open_services(ctx, create=True) as svc:
        report = svc.catalogue.ingest(source, camera_id, start)

        def text() -> None:
            for r in report.added:
                console.print(f"added    {r.id}  {r.start.isoformat()}  {r.duration_s:.1f}s  "
                              f"{r.width}x{r.height} {r.codec}  {r.path}", highlight=False)
            for r in report.skipped:
                console.print(f"known    {r.id}  {r.path}", highlight=False)
            for p, n in report.notes:
                console.print(f"note     {p}: {n}", highlight=False, markup=False)
            for p, e in report.failed:
                err.print(f"[red]refused[/] {p}: {e}", highlight=False)

        emit(as_json, report.to_json(), text)
    if report.failed:
        sys.exit(1)


@click.command()
@click.option("--camera", "camera_id", help="Only this camera.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def recordings(ctx: click.Context, camera_id: str | None, as_json: bool) -> None:
    """List recordings with their analysis status and errors."""
    with open_services(ctx) as svc:
        rows = svc.catalogue.recordings(camera_id)

        def text() -> None:
            t = Table("id", "camera", "start (camera time)", "duration", "status", "error")
            for e in rows:
                r = e.recording
                t.add_row(r.id, r.camera_id, e.local_start.isoformat(), f"{r.duration_s:.1f}s",
                          e.status, e.error or "")
            console.print(t)

        emit(as_json, [e.to_json() for e in rows], text)
