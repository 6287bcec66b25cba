"""The process pool survives a worker process that dies mid-unit (a native crash, the OOM
killer): the units in flight are rerun one at a time, the one that keeps killing its worker
is given up, every other unit's result comes back, and through the runner the batch ends
with that unit failed (retried by the next run), never interrupted."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from clips import BLUE, RED, Moving, make_clip
from conftest import fixed_clock, no_plates, shape_detector
from retrouve.analysis.executor import CRASH_ATTEMPTS, ProcessExecutor
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Camera
from retrouve.errors import AnalysisError
from retrouve.services import build_services
from retrouve.store import schema as s
from retrouve.vision.detector import Detector

CAM = Camera("cam1", "Rue de la Paix", "Europe/Paris")
SLICED = AnalysisSettings(slice_seconds=10, sample_fps=4.0)
OBJECTS = (
    Moving(RED, (24, 12), (0, 20), (130, 20), 1.0, 9.0),
    Moving(BLUE, (10, 24), (140, 40), (40, 40), 11.0, 24.0),
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL, spawn")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def square(item: tuple[int, str]) -> int:
    """``item`` = (number, how): ``ok`` squares it, ``always`` kills its worker every time,
    ``once:PATH`` kills it the first time only (a marker file decides)."""
    n, how = item
    if how == "always":
        _die()
    if how.startswith("once:"):
        try:
            os.close(os.open(how[5:], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return n * n
        _die()
    return n * n


def _gave_up(item: tuple[int, str], why: str) -> int:
    assert "died" in why and "alone" in why, why
    return -item[0]


@pytest.mark.parametrize(
    ("crashing", "expected", "restarts"),
    [
        # (items that kill their worker → how), results (negative: given up), pool restarts
        ({}, {n * n for n in range(8)}, 0),
        ({3: "always"}, {n * n for n in range(8) if n != 3} | {-3}, None),
        ({2: "always", 5: "always"}, {n * n for n in range(8) if n not in (2, 5)} | {-2, -5},
         None),
        ({4: "once"}, {n * n for n in range(8)}, None),
    ],
    ids=["none", "one-always", "two-always", "one-once"],
)
def test_a_dying_worker_loses_only_its_own_unit(
    tmp_path: Path, crashing: dict[int, str], expected: set[int], restarts: int | None
) -> None:
    items = [(n, f"once:{tmp_path / str(n)}" if crashing.get(n) == "once"
              else crashing.get(n, "ok")) for n in range(8)]
    ex = ProcessExecutor(2)
    try:
        got = list(ex.map_unordered(square, items, lost=_gave_up))
    finally:
        ex.shutdown()
    assert sorted(got) == sorted(expected)  # each item exactly once
    if restarts is not None:
        assert ex.restarts == restarts
    always = sum(1 for how in crashing.values() if how == "always")
    # Each always-crashing item dies at least CRASH_ATTEMPTS times alone.
    assert ex.restarts >= always * CRASH_ATTEMPTS


def test_without_a_lost_callback_the_others_come_back_then_an_error(tmp_path: Path) -> None:
    ex = ProcessExecutor(2)
    got: list[int] = []
    try:
        with pytest.raises(AnalysisError, match=r"1 work unit\(s\) given up .*died 2 times"):
            for r in ex.map_unordered(square, [(n, "always" if n == 1 else "ok")
                                               for n in range(5)]):
                got.append(r)
    finally:
        ex.shutdown()
    assert sorted(got) == [0, 4, 9, 16]


class KillAlways:
    """Detector factory (called in the worker, once per unit) that SIGKILLs its worker
    while the file ``marker_dir/kill`` exists, then hands out the plain fake detector."""

    def __init__(self, marker_dir: Path) -> None:
        self.marker_dir = marker_dir

    def __call__(self, settings: AnalysisSettings) -> Detector:
        if (self.marker_dir / "kill").exists():
            _die()
        return shape_detector(settings)


def test_through_the_runner_a_crashing_unit_fails_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "footage"
    folder.mkdir()
    clip = make_clip(folder / "cam1_20260104_100000.mp4", seconds=25.0, fps=5,
                     size=(160, 120), objects=list(OBJECTS), gop=10)
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "kill").touch()
    settings = Settings(data_dir=tmp_path / "data", workers=2, executor="process",
                        analysis=SLICED)
    svc = build_services(settings, detector_factory=KillAlways(markers),
                         plate_reader_factory=no_plates, clock=fixed_clock)
    try:
        svc.catalogue.add_camera(CAM)
        svc.catalogue.ingest(str(clip.path), CAM.id)
        # Every unit kills its worker: each is given up after dying alone, none is lost
        # silently and the run is not interrupted.
        report = svc.analyser.analyse()
        assert not report.interrupted
        assert (report.units_total, report.units_done, report.units_failed) == (3, 0, 3)
        assert all("died 2 times" in why for _, why in report.failures)
        with svc.store.engine.connect() as conn:
            status = sorted(r.status for r in conn.execute(select(s.work_units)))
        assert status == ["failed"] * 3
        # The cause removed (a fixed decoder, more memory), the next run redoes them.
        (markers / "kill").unlink()
        again = svc.analyser.analyse()
        assert (again.units_done, again.units_failed) == (3, 0)
        with svc.store.engine.connect() as conn:
            assert conn.execute(select(s.tracks)).first() is not None
    finally:
        svc.close()


def slow(item: tuple[int, str]) -> int:
    """``hang`` sleeps far past any limit of the test; the others return at once."""
    n, how = item
    if how == "hang":
        time.sleep(600)
    return n * n


def test_a_hung_unit_is_stopped_and_given_up_the_others_come_back() -> None:
    ex = ProcessExecutor(2)
    whys: list[str] = []

    def gave_up(item: tuple[int, str], why: str) -> int:
        whys.append(why)
        return -item[0]

    started = time.monotonic()
    try:
        got = list(ex.map_unordered(slow, [(n, "hang" if n == 2 else "ok") for n in range(6)],
                                    lost=gave_up, time_limit=lambda _item: 1.5))
    finally:
        ex.shutdown()
    assert sorted(got) == [-2, 0, 1, 9, 16, 25]
    [why] = whys
    assert "stopped 2 times after running longer than its limit of 2 s" in why
    # Two overruns of 1.5 s (plus pool restarts), not the 600 s sleep.
    assert time.monotonic() - started < 120


class HangWhile:
    """Detector factory (in the worker) that sleeps far past any test limit while the file
    ``marker_dir/hang`` exists."""

    def __init__(self, marker_dir: Path) -> None:
        self.marker_dir = marker_dir

    def __call__(self, settings: AnalysisSettings) -> Detector:
        if (self.marker_dir / "hang").exists():
            time.sleep(600)
        return shape_detector(settings)


def test_through_the_runner_a_hung_unit_is_stopped_and_marked_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrouve.analysis import runner

    monkeypatch.setattr(runner, "MIN_TIME_LIMIT_S", 1.0)
    folder = tmp_path / "footage"
    folder.mkdir()
    clip = make_clip(folder / "cam1_20260104_100000.mp4", seconds=4.0, fps=5,
                     size=(160, 120), objects=list(OBJECTS), gop=10)
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "hang").touch()
    # One unit of 4 s footage: limit max(1 s, 1 × 4 s) = 4 s.
    settings = Settings(data_dir=tmp_path / "data", workers=2, executor="process",
                        unit_time_limit=1.0, analysis=SLICED)
    svc = build_services(settings, detector_factory=HangWhile(markers),
                         plate_reader_factory=no_plates, clock=fixed_clock)
    try:
        svc.catalogue.add_camera(CAM)
        svc.catalogue.ingest(str(clip.path), CAM.id)
        started = time.monotonic()
        report = svc.analyser.analyse()
        assert time.monotonic() - started < 120  # two 4 s overruns, not the 600 s sleep
        assert (report.units_total, report.units_done, report.units_failed) == (1, 0, 1)
        [(_, why)] = report.failures
        assert "stopped 2 times after running longer than its limit of 4 s" in why
        (markers / "hang").unlink()
        again = svc.analyser.analyse()
        assert (again.units_done, again.units_failed) == (1, 0)
    finally:
        svc.close()


def test_a_pool_that_refuses_a_call_is_restarted_and_nothing_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker may die between two looks: the next ``submit`` then raises. The refused item
    never ran (not a suspect); the pool is restarted and every item still comes back."""
    from concurrent.futures.process import BrokenProcessPool

    ex = ProcessExecutor(2)
    calls = {"n": 0}
    real = ex._pool.submit

    def refuse_third(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise BrokenProcessPool("a worker died")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ex._pool, "submit", refuse_third)
    try:
        got = list(ex.map_unordered(square, [(n, "ok") for n in range(6)], lost=_gave_up))
    finally:
        ex.shutdown()
    assert sorted(got) == [n * n for n in range(6)]
    assert ex.restarts == 1
