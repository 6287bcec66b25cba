"""``retrouve analyse``: analyse pending recordings into searchable tracks.

Exit codes: 1 when some work units failed (the others are stored; a rerun retries them),
130 on Ctrl-C (finished units are kept).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from retrouve.analysis.runner import AnalysisReport
from retrouve.cli.io import console, emit, err, open_services, progress_bar


def print_analysis(report: AnalysisReport) -> None:
    """Print an analysis report for people: counts on stdout, each failed unit on stderr."""
    if report.units_total == 0:
        console.print("nothing to analyse: all registered footage is analysed "
                      "(see `retrouve recordings`; `retrouve ingest` adds more)")
        return
    console.print(
        f"units: {report.units_done} analysed, {report.units_skipped} already done, "
        f"{report.units_failed} failed; {report.tracks} tracks from "
        f"{report.footage_seconds:.0f}s of footage", highlight=False)
    for unit, error in report.failures:
        err.print(f"[red]failed[/] {unit}: {error}", highlight=False)


@click.command()
@click.option("--recording", "recording_ids", multiple=True, help="Only these recordings.")
@click.option("--workers", type=click.IntRange(1, 256), help="Processes [default: cores].")
@click.option("--sample-fps", type=click.FloatRange(0.1, 60), help="Frames analysed per second.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (no progress bar).")
@click.pass_context
def analyse(ctx: click.Context, recording_ids: tuple[str, ...], workers: int | None,
            sample_fps: float | None, as_json: bool) -> None:
    """Analyse pending recordings into searchable tracks. Ctrl-C is safe: run again to resume."""
    overrides: dict[str, Any] = {"workers": workers}
    if sample_fps:
        overrides["analysis"] = {"sample_fps": sample_fps}
    with open_services(ctx, **overrides) as svc, progress_bar(not as_json) as bar:
        report = svc.analyser.analyse(list(recording_ids) or None, progress=bar)
        emit(as_json, report.to_json(), lambda: print_analysis(report))
    if report.units_failed:
        sys.exit(1)
