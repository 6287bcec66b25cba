"""``retrouve analyse``: analyse pending recordings into searchable tracks.

Exit codes: 1 when some work units failed (the others are stored; a rerun retries them) or
some recordings were left out because their file changed since ingest, 130 on Ctrl-C
(finished units are kept).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from retrouve.analysis.runner import AnalysisReport
from retrouve.cli.io import (
    case_option,
    console,
    emit,
    err,
    in_case,
    open_services,
    progress_bar,
    styled,
)


def print_analysis(report: AnalysisReport) -> None:
    """Print an analysis report for people: counts and the recordings left partial (with
    what is missing) on stdout, each failed unit and each recording left out because its file
    changed on stderr."""
    for _rec, error in report.changed:
        err.print(styled(("changed", "red"), f" {error}"), highlight=False, soft_wrap=True)
    for rec, note in report.partial:
        console.print(styled(("partial", "yellow"), f" {rec}: {note}"), highlight=False,
                      soft_wrap=True)
    if report.units_total == 0:
        console.print("nothing to analyse: the footage in scope is analysed, or there is "
                      "none (see `retrouve recordings`; `retrouve ingest` adds more)")
        return
    if report.held_by:
        held = sum(h.units for h in report.held_by)
        console.print(
            f"nothing left to analyse here: {report.units_skipped} unit(s) already done, the "
            f"{held} left are being analysed by "
            + ", ".join(h.describe() for h in report.held_by)
            + " on this store; run again later to take over the units of one that stops",
            highlight=False)
        return
    others = (f", {report.units_elsewhere} by other analysis runs on this store"
              if report.units_elsewhere else "")
    console.print(
        f"units: {report.units_done} analysed{others}, {report.units_skipped} already done, "
        f"{report.units_failed} failed; {report.tracks} tracks from "
        f"{report.footage_seconds:.0f}s of footage", highlight=False)
    if report.units_taken_over:
        err.print(f"{report.units_taken_over} result(s) dropped: another analysis run took "
                  "the unit over after this run's claim lapsed (it stored it once)",
                  highlight=False)
    for unit, error in report.failures:
        err.print(styled(("failed", "red"), f" {unit}: {error}"), highlight=False,
                  soft_wrap=True)


@click.command()
@case_option
@click.option("--recording", "recording_ids", multiple=True, help="Only these recordings.")
@click.option("--workers", type=click.IntRange(1, 256), help="Processes [default: cores].")
@click.option("--sample-fps", type=click.FloatRange(0.1, 60), help="Frames analysed per second.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (no progress bar).")
@click.pass_context
def analyse(ctx: click.Context, case_ref: str | None, recording_ids: tuple[str, ...],
            workers: int | None, sample_fps: float | None, as_json: bool) -> None:
    """Analyse the footage inside a case's scope into searchable tracks (nothing outside it
    is decoded). Ctrl-C is safe: run again to resume."""
    overrides: dict[str, Any] = {"workers": workers}
    if sample_fps:
        overrides["analysis"] = {"sample_fps": sample_fps}
    with open_services(ctx, **overrides) as svc:
        actor, case = in_case(ctx, svc, case_ref, "analyse")
        with progress_bar(not as_json) as bar:
            report = svc.analyse_case(actor, case, progress=bar, recording_ids=recording_ids,
                                      started=bar.start)
            emit(as_json, report.to_json(), lambda: print_analysis(report))
    if report.units_failed or report.changed:
        sys.exit(1)
