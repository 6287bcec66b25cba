"""Recovery after kill -9, on real subprocesses sharing one store: the next run sees at once
that the killed driver's pid is gone, marks its run interrupted, takes its units over and
resumes without duplicate tracks; nothing stays "analysing" or "running"; pool workers die
with their parent; a full disk (ENOSPC) gives DiskFull and consistent statuses, no claim left.
Several drivers at once, leases and takeovers: ``test_claims.py``.

The child processes are started by :func:`start_child` (also used by ``test_claims.py``); on
``TEST_DATABASE_URL`` every store here is a fresh PostgreSQL database."""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from clips import BLUE, GREEN, RED, Moving, make_clip
from conftest import fixed_clock, make_services, no_plates
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Camera, Detections
from retrouve.errors import DiskFull, StoreError
from retrouve.services import Services, build_services
from retrouve.store import schema as s
from retrouve.store.base import mapped
from retrouve.store.blobs import BlobStore
from retrouve.vision.detector import Detector, ShapeDetector

CAM = Camera("cam1", "Quai", "Europe/Paris")
TESTS = Path(__file__).parent
SRC = TESTS.parent / "src"
SLICED = AnalysisSettings(slice_seconds=10, sample_fps=2.0)


class _SlowDetector(ShapeDetector):
    """The shape detector, 0.15 s per frame: a run lasts long enough to be killed mid-way."""

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        time.sleep(0.15)
        return super().detect(image)


def slow_detector(_settings: AnalysisSettings) -> Detector:
    """Detector factory (top level: process pool workers unpickle it by name)."""
    return _SlowDetector()


def settings_for(data_dir: Path, workers: int = 1, database_url: str | None = None
                 ) -> Settings:
    return Settings(data_dir=data_dir, workers=workers, database_url=database_url,
                    executor="inline" if workers == 1 else "process", analysis=SLICED)


def run_child(data_dir: str, workers: int, database_url: str | None = None) -> None:
    """The child process: analyse the data folder's store with the slow detector; prints
    the report as JSON on its last line."""
    svc = build_services(settings_for(Path(data_dir), workers, database_url),
                         detector_factory=slow_detector, plate_reader_factory=no_plates,
                         clock=fixed_clock)
    try:
        report = svc.analyser.analyse()
        print(json.dumps(report.to_json()), flush=True)
    finally:
        svc.close()


def start_child(data_dir: Path, workers: int = 1, database_url: str | None = None
                ) -> subprocess.Popen[bytes]:
    code = (f"import sys; sys.path[:0] = [{str(TESTS)!r}, {str(SRC)!r}]\n"
            "from test_concurrency import run_child\n"
            f"run_child({str(data_dir)!r}, {workers}, {database_url!r})\n")
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{TESTS}"}
    return subprocess.Popen([sys.executable, "-c", code], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("conc")
    return make_clip(folder / "cam1_20260104_100000.mp4", seconds=40.0, fps=5, size=(160, 120),
                     objects=[Moving(RED, (30, 16), (0, 30), (120, 30), 0.0, 38.0),
                              Moving(BLUE, (12, 26), (20, 80), (120, 80), 1.0, 25.5),
                              Moving(GREEN, (20, 12), (130, 60), (10, 60), 13.0, 34.0)],
                     gop=10).path


def _ingested(data_dir: Path, clip: Path, database_url: str | None = None) -> Services:
    svc = make_services(settings_for(data_dir, database_url=database_url))
    svc.catalogue.add_camera(CAM)
    svc.catalogue.ingest(str(clip), CAM.id)
    return svc


def _count(svc: Services, table: str, **where: object) -> int:
    t = s.metadata.tables[table]
    q = select(func.count()).select_from(t)
    for k, v in where.items():
        q = q.where(t.c[k] == v)
    with svc.store.engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def _wait(cond: object, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _track_keys(svc: Services) -> list[tuple[str, int]]:
    with svc.store.engine.connect() as conn:
        return sorted((r.unit_id, r.local_id) for r in conn.execute(
            select(s.tracks.c.unit_id, s.tracks.c.local_id)))


@pytest.fixture(scope="module")
def clean_keys(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int]]:
    """Tracks of an uninterrupted run (the normal detector: same tracks, faster)."""
    svc = _ingested(tmp_path_factory.mktemp("clean"), clip)
    try:
        report = svc.analyser.analyse()
        assert report.units_total == 4 and report.units_done == 4
        return _track_keys(svc)
    finally:
        svc.close()


def no_claims_left(svc: Services) -> bool:
    """Whether no work unit is claimed any more (every run gave its claims back)."""
    return _count(svc, "work_units") > 0 and not any(
        u for u in _claims(svc) if u[1] is not None)


def _claims(svc: Services) -> list[tuple[str, int | None]]:
    with svc.store.engine.connect() as conn:
        return [(r.id, r.claimed_by) for r in conn.execute(
            select(s.work_units.c.id, s.work_units.c.claimed_by))]


def test_kill_9_taken_over_at_once_without_duplicates(
        clip: Path, tmp_path: Path, database_url: str | None,
        clean_keys: list[tuple[str, int]]) -> None:
    data = tmp_path / "data"
    svc = _ingested(data, clip, database_url)
    child = start_child(data, database_url=database_url)
    try:
        _wait(lambda: _count(svc, "work_units", status="done") >= 1, 120, "a unit done")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    # What kill -9 left: a run "running" under a lease still current (the tests' clock is
    # fixed), the recording "analysing", the unit it was on claimed (none if it was killed
    # between a save and the next claim).
    [dead] = svc.store.list_runs()
    assert dead.status == "running"
    assert svc.store.list_recordings()[0].status == "analysing"
    assert {r for _, r in _claims(svc) if r is not None} <= {dead.id}
    done_before = _count(svc, "work_units", status="done")
    assert 1 <= done_before < 4

    # The next start, on the same host, sees the pid gone: no wait for the lease.
    report = svc.analyser.analyse()
    assert report.units_skipped == done_before and report.units_done == 4 - done_before
    runs = svc.store.list_runs()
    assert [r.status for r in runs] == ["interrupted", "done"]
    assert runs[0].finished_at is not None
    assert svc.store.list_recordings()[0].status == "done"
    assert no_claims_left(svc)
    assert _track_keys(svc) == clean_keys  # no duplicate, none lost
    svc.close()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead; on Linux its state says so.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and pgrep")
def test_pool_workers_die_with_their_parent(clip: Path, tmp_path: Path,
                                            database_url: str | None) -> None:
    data = tmp_path / "data"
    svc = _ingested(data, clip, database_url)
    child = start_child(data, workers=2, database_url=database_url)
    try:
        _wait(lambda: _count(svc, "analysis_runs") >= 1, 120, "the run to start")
        # The spawn pool: a resource tracker and the workers.
        _wait(lambda: len(_children(child.pid)) >= 2, 60, "the pool's workers")
        workers = _children(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        _wait(lambda: not any(_alive(p) for p in workers), 15, "the workers to exit")
    finally:
        if child.poll() is None:
            child.kill()
        for p in _children(child.pid):
            os.kill(p, signal.SIGKILL)
    svc.close()


def test_disk_full_while_writing_thumbnails(tmp_path: Path, clip: Path,
                                            database_url: str | None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    services = _ingested(tmp_path / "data", clip, database_url)
    real = Path.write_bytes
    writes = {"n": 0}

    def full_after_two(self: Path, data: bytes) -> int:  # type: ignore[override]
        writes["n"] += 1
        if writes["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_after_two)
    with pytest.raises(DiskFull) as info:
        services.analyser.analyse()
    message = str(info.value)
    assert "no space left" in message and str(services.settings.data_dir) in message
    assert "bytes needed" in message
    [run] = services.store.list_runs()
    assert run.status == "interrupted"
    assert services.store.list_recordings()[0].status == "pending"  # not stuck
    assert no_claims_left(services)
    assert not list(services.settings.data_dir.rglob("*.tmp"))  # nothing half-written
    monkeypatch.setattr(Path, "write_bytes", real)
    report = services.analyser.analyse()  # space freed: resumes
    assert report.units_done + report.units_skipped == 4
    assert services.store.list_recordings()[0].status == "done"
    services.close()


def test_blob_store_refuses_enospc_with_the_folder(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = BlobStore(tmp_path / "blobs")

    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(DiskFull, match="12 bytes needed"):
        blobs.put("thumbs/a.jpg", b"x" * 12)
    assert not (tmp_path / "blobs" / "thumbs").exists() or not list(
        (tmp_path / "blobs" / "thumbs").iterdir())




def test_database_disk_full_is_diskfull() -> None:
    with pytest.raises(DiskFull, match="cannot add recording r: no space left"), \
            mapped("add recording r"):
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError(
            "database or disk is full"))
    # Other operational errors stay StoreError.
    with pytest.raises(StoreError) as info, mapped("add recording r"):
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))
    assert not isinstance(info.value, DiskFull)


def test_disk_full_at_ingest_stops_the_folder_and_writes_nothing(
        services: Services, clip: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    services.catalogue.add_camera(CAM)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / clip.name).write_bytes(clip.read_bytes())

    def full(rec: object, now: object, *, owned: bool = False) -> None:
        with mapped("add recording x"):
            raise OperationalError("INSERT …", {}, sqlite3.OperationalError(
                "database or disk is full"))

    monkeypatch.setattr(services.store, "add_recording", full)
    with pytest.raises(DiskFull, match="no space left"):
        services.catalogue.ingest(str(folder), CAM.id)
    assert services.store.list_recordings() == []


def test_disk_full_in_the_parent_names_the_data_folder(
        tmp_path: Path, clip: Path, database_url: str | None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    services = _ingested(tmp_path / "data", clip, database_url)
    real = services.store.save_unit_result
    calls = {"n": 0}

    def save(run_id: int, result: object, now: object) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(run_id, result, now)  # type: ignore[arg-type]

    monkeypatch.setattr(services.store, "save_unit_result", save)
    with pytest.raises(DiskFull, match=f"data folder {services.settings.data_dir}"):
        services.analyser.analyse()
    assert [r.status for r in services.store.list_runs()] == ["interrupted"]
    assert services.store.list_recordings()[0].status == "pending"
    assert _count(services, "work_units", status="done") == 1  # the first one kept
    assert no_claims_left(services)
    monkeypatch.setattr(services.store, "save_unit_result", real)
    report = services.analyser.analyse()
    assert report.units_skipped == 1 and report.units_done == 3
    services.close()
