"""The Ray executor on a real two-node Ray cluster started on loopback by the test.

The head and a second node (``ray start``, one CPU each, small object stores) run the same
``process_unit`` as the process pool; the driver (this process) writes the results. Checked:
units ran on both nodes, a worker process killed mid-unit is retried by Ray, the progress
callback sees every unit, and the index (tracks, attributes) equals the process pool's on the
same footage. Skipped cleanly when the ``ray`` extra is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clips import BLUE, GREEN, RED, YELLOW, Clip, Moving, make_clip
from conftest import fixed_clock, no_plates, shape_detector
from retrouve.analysis.executor import Executor, make_executor
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Camera, UnitResult
from retrouve.errors import MissingExtraError
from retrouve.services import Services, build_services
from retrouve.store import schema as s
from retrouve.vision.detector import Detector

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="the optional extra 'ray' is not installed")

ROOT = Path(__file__).resolve().parent.parent
CAM = Camera("cam1", "Rue de la Paix", "Europe/Paris")
SLICED = AnalysisSettings(slice_seconds=10, sample_fps=4.0)
OBJECTS = (
    Moving(RED, (24, 12), (0, 20), (130, 20), 1.0, 9.0),
    Moving(BLUE, (10, 24), (140, 40), (40, 40), 11.0, 18.0),
    Moving(GREEN, (30, 14), (120, 60), (10, 60), 21.0, 24.6),
    Moving(YELLOW, (12, 28), (20, 90), (120, 90), 2.0, 24.0),
)


def test_ray_without_the_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes ``import ray`` raise ImportError
    with pytest.raises(MissingExtraError) as info:
        make_executor("ray", 1)
    assert info.value.extra == "ray"
    assert "pip install 'retrouve[ray]'" in str(info.value)
    assert "executor = 'ray'" in str(info.value)


@needs_ray
def test_a_ray_address_where_nothing_listens_is_a_config_error() -> None:
    from retrouve.errors import ConfigError

    with pytest.raises(ConfigError, match=r"ray_address '127\.0\.0\.1:\d+': no Ray head"):
        make_executor("ray", 1, f"127.0.0.1:{_free_port()}")


# ------------------------------------------------------------------- a local Ray cluster
@dataclass(frozen=True)
class LocalCluster:
    address: str
    #: Session ids of the two ``ray start`` commands: every daemon and worker they spawned.
    sessions: frozenset[int]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ray_start(args: list[str], env: dict[str, str]) -> int:
    """Run ``ray start ARGS`` in a new session; returns the session id its daemons keep."""
    cli = Path(sys.executable).with_name("ray")
    proc = subprocess.Popen([str(cli), "start", *args], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out[-3000:]
    return proc.pid


def _session_pids(sessions: frozenset[int]) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command (which may hold spaces) start at ")": state ppid pgrp sid.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) in sessions:
            pids.append(int(entry.name))
    return pids


def _stop(sessions: frozenset[int]) -> None:
    """Kill exactly the processes of our ``ray start`` sessions (``ray stop`` would kill
    every Ray on the machine, another user's included)."""
    for _ in range(50):
        pids = _session_pids(sessions)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    if not HAS_RAY or not sys.platform.startswith("linux"):
        pytest.skip("needs the 'ray' extra on Linux")
    import ray

    temp = Path(tempfile.mkdtemp(prefix="rt-ray-", dir="/tmp"))  # short: socket paths
    port = _free_port()
    address = f"127.0.0.1:{port}"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests"),
                                           os.environ.get("PYTHONPATH", "")]))
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1",
              "--object-store-memory=80000000", "--disable-usage-stats"]
    sessions: set[int] = set()
    try:
        sessions.add(_ray_start(["--head", f"--port={port}", "--include-dashboard=false",
                                 f"--temp-dir={temp}", *common], env))
        sessions.add(_ray_start([f"--address={address}", *common], env))
        ray.init(address=address, log_to_driver=False, configure_logging=False)
        try:
            deadline = time.monotonic() + 60
            while sum(n["Alive"] for n in ray.nodes()) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert sum(n["Alive"] for n in ray.nodes()) == 2
        finally:
            ray.shutdown()
        yield LocalCluster(address, frozenset(sessions))
    finally:
        _stop(frozenset(sessions))
        shutil.rmtree(temp, ignore_errors=True)


# ------------------------------------------------------------------------ the footage
@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> list[Clip]:
    """Two 25 s recordings (different content: ingest refuses a copy): six 10 s units."""
    folder = tmp_path_factory.mktemp("ray-footage")
    return [make_clip(folder / f"cam1_20260104_{hh}0000.mp4", seconds=25.0, fps=5,
                      size=(160, 120), objects=list(objects), gop=10)
            for hh, objects in (("10", OBJECTS), ("11", OBJECTS[1:]))]


class KillFirstWorker:
    """Detector factory that SIGKILLs the worker process it runs in, once across the
    cluster (a marker file decides), then hands out the plain fake detector."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self, settings: AnalysisSettings) -> Detector:
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return shape_detector(settings)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


def _index(svc: Services) -> list[tuple[Any, ...]]:
    """Every track (without database ids and run ids) with its object and attributes, keyed
    by (unit, local id): comparable between two data dirs."""
    with svc.store.engine.connect() as conn:
        rows = [r._mapping for r in conn.execute(select(s.tracks))]
        attrs = conn.execute(select(s.track_attributes)).all()
    key = {r["id"]: (r["unit_id"], r["local_id"]) for r in rows}
    by_track: dict[int, list[tuple[str, str, float, int]]] = {}
    for a in attrs:
        by_track.setdefault(a.track_id, []).append((a.name, a.value, a.confidence, a.rank))
    skip = {"id", "run_id", "object_id"}
    return sorted(
        (key[r["id"]], key[r["object_id"]],
         tuple(sorted((k, v) for k, v in r.items() if k not in skip)),
         tuple(sorted(by_track.get(r["id"], []))))
        for r in rows)


def _analyse(settings: Settings, footage: list[Clip], executors: list[Executor],
             detector: Any = shape_detector) -> tuple[Services, Any, list[tuple[int, int]]]:
    def factory() -> Executor:
        executors.append(make_executor(settings.executor, settings.workers,
                                       settings.ray_address))
        return executors[-1]

    svc = build_services(settings, detector_factory=detector, plate_reader_factory=no_plates,
                         clock=fixed_clock, executor_factory=factory)
    svc.catalogue.add_camera(CAM)
    for clip in footage:
        svc.catalogue.ingest(str(clip.path), CAM.id)
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, _result: UnitResult) -> None:
        seen.append((done, total))

    report = svc.analyser.analyse(progress=progress)
    return svc, report, seen


@needs_ray
def test_ray_cluster_analysis_equals_the_process_pool(
    cluster: LocalCluster, footage: list[Clip], tmp_path: Path
) -> None:
    import ray

    from retrouve.analysis.ray_executor import RayExecutor

    pool_settings = Settings(data_dir=tmp_path / "pool", workers=2, executor="process",
                             analysis=SLICED)
    pool_svc, pool_report, _ = _analyse(pool_settings, footage, [])
    try:
        assert (pool_report.units_done, pool_report.units_failed) == (6, 0)
        expected = _index(pool_svc)
    finally:
        pool_svc.close()
    assert expected, "the fake detector found nothing: the comparison would be empty"

    marker = tmp_path / "killed-once"
    ray_settings = Settings(data_dir=tmp_path / "ray", workers=1, executor="ray",
                            ray_address=cluster.address, analysis=SLICED)
    executors: list[Executor] = []
    svc, report, seen = _analyse(ray_settings, footage, executors, KillFirstWorker(marker))
    try:
        # One worker was SIGKILLed mid-unit; Ray reran that unit and nothing was lost.
        assert marker.exists()
        assert (report.units_total, report.units_done, report.units_failed) == (6, 6, 0)
        assert seen == [(i, 6) for i in range(1, 7)]
        [executor] = executors
        assert isinstance(executor, RayExecutor)
        assert executor.cpus == 2
        placed = {p.item.id: p.node_id for p in executor.placements}
        with svc.store.engine.connect() as conn:
            units = {r.id for r in conn.execute(select(s.work_units))}
        assert set(placed) == units
        assert len(set(placed.values())) == 2, f"all units on one node: {placed}"
        assert not ray.is_initialized()  # the executor disconnected the driver
        assert _index(svc) == expected
    finally:
        svc.close()


@needs_ray
def test_unit_lost_after_its_retries_is_resumed_by_the_next_run(
    cluster: LocalCluster, footage: list[Clip], tmp_path: Path
) -> None:
    from retrouve.analysis.ray_executor import RayExecutor
    from retrouve.errors import AnalysisError

    settings = Settings(data_dir=tmp_path / "lost", workers=1, executor="ray",
                        ray_address=cluster.address, analysis=SLICED)
    # No retries: the unit whose worker is killed is lost, the five others are stored.
    svc = build_services(settings, detector_factory=KillFirstWorker(tmp_path / "killed"),
                         plate_reader_factory=no_plates, clock=fixed_clock,
                         executor_factory=lambda: RayExecutor(cluster.address, 1, max_retries=0))
    try:
        svc.catalogue.add_camera(CAM)
        for clip in footage[:1]:
            svc.catalogue.ingest(str(clip.path), CAM.id)
        with pytest.raises(AnalysisError, match=r"1 work unit\(s\) lost .* run analyse again"):
            svc.analyser.analyse()
        with svc.store.engine.connect() as conn:
            done = [r.status for r in conn.execute(select(s.work_units))]
        assert sorted(done) == ["done", "done", "pending"]
        # The next run (the marker is there: no more kills) does only the lost unit.
        report = svc.analyser.analyse()
        assert (report.units_skipped, report.units_done, report.units_failed) == (2, 1, 0)
    finally:
        svc.close()
