"""``retrouve ingest`` and ``retrouve recordings``: register recorded footage and list it.

Exit codes: ``ingest`` exits 1 when some files were refused (the others are registered).
"""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from retrouve.catalogue.overview import RecordingOverview
from retrouve.cli.io import console, emit, err, open_services, operator_zone, styled
from retrouve.wallclock import camera_note, local_iso, show_time


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
    cannot be read is reported and the others go on (exit code 1). Lines naming a path are
    never wrapped, so that a path can be copied or grepped whole.
    """
    with open_services(ctx, create=True) as svc:
        report = svc.catalogue.ingest(source, camera_id, start)

        def text() -> None:
            zone = operator_zone(ctx, svc)
            for r in report.added:
                console.print(f"added    {r.id}  {show_time(r.start, zone)}  {r.duration_s:.1f}s  "
                              f"{r.width}x{r.height} {r.codec}  {r.path}", highlight=False,
                              soft_wrap=True)
            for r in report.skipped:
                console.print(f"known    {r.id}  {r.path}", highlight=False, soft_wrap=True)
            for p, n in report.notes:
                console.print(f"note     {p}: {n}", highlight=False, markup=False,
                              soft_wrap=True)
            for p, e in report.failed:
                err.print(styled(("refused", "red"), f" {p}: {e}"), highlight=False,
                          soft_wrap=True)

        emit(as_json, report.to_json(), text)
    if report.failed:
        sys.exit(1)


@click.command()
@click.option("--camera", "camera_id", help="Only this camera.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def recordings(ctx: click.Context, camera_id: str | None, as_json: bool) -> None:
    """List recordings with their analysis status and errors.

    Ids are always printed whole (to copy into `analyse --recording`): a table when the
    terminal is wide enough, else one block per recording. Starts are in the operator's
    zone, with the camera's own time where it differs."""
    with open_services(ctx) as svc:
        rows = svc.catalogue.recordings(camera_id)
        zone = operator_zone(ctx, svc)
        emit(as_json, [{**e.to_json(), "start_local": local_iso(e.recording.start, zone)}
                       for e in rows], lambda: _print_recordings(rows, zone))


#: Columns of the recordings table besides the id, at their narrowest (start, duration,
#: status, units, camera, borders): below id + this, the block layout is used.
_TABLE_REST = 70


def _start_text(e: RecordingOverview, zone: str) -> str:
    """The operator-zone start, and the camera's where its zone reads it differently."""
    shown = show_time(e.recording.start, zone)
    tz = e.local_start.tzinfo
    note = camera_note(e.recording.start, zone, tz.key) if isinstance(tz, ZoneInfo) else ""
    return f"{shown} ({note})" if note else shown


def _units_text(e: RecordingOverview) -> str:
    p = e.progress
    failed = f", {p.failed} failed" if p.failed else ""
    return f"{p.done}/{p.total}{failed}" if p.total else "-"


def _missing_text(e: RecordingOverview) -> str:
    """A truncated file's span after its decodable end, never analysed ("" when none)."""
    if e.analysed_until_s is None:
        return ""
    return f"{e.analysed_until_s:.1f}–{e.recording.duration_s:.1f}s"


def _print_recordings(rows: list[RecordingOverview], zone: str) -> None:
    if not rows:
        console.print("no recordings (`retrouve ingest` registers footage)")
        return
    widest = max(len(e.recording.id) for e in rows)
    if console.width >= widest + _TABLE_REST:
        # The "missing" column only when a truncated file has one (80-column budget).
        partial = any(e.analysed_until_s is not None for e in rows)
        t = Table("id", "camera", "start", "duration", "status", "units",
                  *(("missing",) if partial else ()), "error")
        t.columns[0].no_wrap = True
        for e in rows:
            r = e.recording
            t.add_row(r.id, r.camera_id, _start_text(e, zone), f"{r.duration_s:.1f}s",
                      e.status, _units_text(e), *((_missing_text(e),) if partial else ()),
                      e.error or "")
        console.print(t)
        return
    # Narrow terminal (80 columns): one block per recording, the id alone on its line.
    for e in rows:
        r = e.recording
        console.print(styled((r.id, "bold")), highlight=False, soft_wrap=True)
        missing = f" · not analysed {_missing_text(e)}" if e.analysed_until_s is not None else ""
        console.print(f"  {r.camera_id} · {_start_text(e, zone)} · "
                      f"{r.duration_s:.1f}s · {e.status} · units {_units_text(e)}{missing}",
                      highlight=False)
        if e.error:
            console.print(styled(("  error:", "red"), f" {e.error}"), highlight=False)
