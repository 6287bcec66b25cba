"""The Ray executor on a real two-node Ray cluster started on loopback by the test.

The head and a second node (``ray start``, one CPU each, small object stores) run the same
``process_unit`` as the process pool; the driver (this process) writes the results. Checked:
units ran on both nodes, a worker process killed mid-unit is retried by Ray, a whole third
node killed mid-unit has its unit rerun on the two left, the ``retrouve analyse`` driver
killed with SIGKILL mid-run is resumed by the same command without duplicates, the progress
callback sees every unit, and every index (tracks, attributes) equals the process pool's on
the same footage. Skipped cleanly when the ``ray`` extra is not installed."""

from __future__ import annotations

import contextlib
import getpass
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select

from clips import BLUE, GREEN, RED, YELLOW, Clip, Moving, make_clip
from conftest import fixed_clock, no_plates, shape_detector
from ray_sessions import free_port, ray_start, stop_sessions
from retrouve.analysis.executor import Executor, make_executor
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Camera, Detections, UnitResult
from retrouve.errors import MissingExtraError
from retrouve.services import Services, build_services
from retrouve.store import schema as s
from retrouve.vision.detector import Detector, ShapeDetector

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
        make_executor("ray", 1, f"127.0.0.1:{free_port()}")


# ------------------------------------------------------------------- a local Ray cluster
@dataclass(frozen=True)
class LocalCluster:
    address: str
    #: Session ids of the two ``ray start`` commands: every daemon and worker they spawned.
    sessions: frozenset[int]
    #: What a further node is started with (:meth:`add_node`).
    env: dict[str, str]
    common: tuple[str, ...]

    def add_node(self, **env: str) -> int:
        """Start one more node (one CPU) joined to the cluster, its raylet (and so its
        workers) with ``env`` added; returns its session id, every process of the node."""
        import ray

        sid = ray_start([f"--address={self.address}", *self.common], {**self.env, **env})
        ray.init(address=self.address, log_to_driver=False, configure_logging=False)
        try:
            _wait_for(lambda: _alive_nodes(ray) == 3, 60, "the third node to join")
        finally:
            ray.shutdown()
        return sid


def _alive_nodes(ray: Any) -> int:
    return sum(bool(n["Alive"]) for n in ray.nodes())


def _wait_for(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    if not HAS_RAY or not sys.platform.startswith("linux"):
        pytest.skip("needs the 'ray' extra on Linux")
    import ray

    temp = Path(tempfile.mkdtemp(prefix="rt-ray-", dir="/tmp"))  # short: socket paths
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = dict(
        os.environ,
        RAY_USAGE_STATS_ENABLED="0",
        # A node killed by the test is declared dead after ~3 s, not Ray's ~15 s.
        RAY_health_check_period_ms="1000",
        RAY_health_check_failure_threshold="3",
        RAY_health_check_timeout_ms="1000",
        PYTHONPATH=os.pathsep.join(
            [str(ROOT / "src"), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
        ),
    )
    common = (
        "--node-ip-address=127.0.0.1",
        "--num-cpus=1",
        "--object-store-memory=80000000",
        "--disable-usage-stats",
    )
    sessions: set[int] = set()
    try:
        sessions.add(
            ray_start(
                [
                    "--head",
                    f"--port={port}",
                    "--include-dashboard=false",
                    f"--temp-dir={temp}",
                    *common,
                ],
                env,
            )
        )
        sessions.add(ray_start([f"--address={address}", *common], env))
        ray.init(address=address, log_to_driver=False, configure_logging=False)
        try:
            _wait_for(lambda: _alive_nodes(ray) == 2, 60, "the second node to join")
        finally:
            ray.shutdown()
        yield LocalCluster(address, frozenset(sessions), env, common)
    finally:
        stop_sessions(frozenset(sessions))
        shutil.rmtree(temp, ignore_errors=True)


# ------------------------------------------------------------------------ the footage
@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> list[Clip]:
    """Two 25 s recordings (different content: ingest refuses a copy): six 10 s units."""
    folder = tmp_path_factory.mktemp("ray-footage")
    return [
        make_clip(
            folder / f"cam1_20260104_{hh}0000.mp4",
            seconds=25.0,
            fps=5,
            size=(160, 120),
            objects=list(objects),
            gop=10,
        )
        for hh, objects in (("10", OBJECTS), ("11", OBJECTS[1:]))
    ]


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
        (
            key[r["id"]],
            key[r["object_id"]],
            tuple(sorted((k, v) for k, v in r.items() if k not in skip)),
            tuple(sorted(by_track.get(r["id"], []))),
        )
        for r in rows
    )


def _analyse(
    settings: Settings,
    footage: list[Clip],
    executors: list[Executor],
    detector: Any = shape_detector,
) -> tuple[Services, Any, list[tuple[int, int]]]:
    def factory() -> Executor:
        executors.append(make_executor(settings.executor, settings.workers, settings.ray_address))
        return executors[-1]

    svc = build_services(
        settings,
        detector_factory=detector,
        plate_reader_factory=no_plates,
        clock=fixed_clock,
        executor_factory=factory,
    )
    svc.catalogue.add_camera(CAM)
    for clip in footage:
        svc.catalogue.ingest(str(clip.path), CAM.id)
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, _result: UnitResult) -> None:
        seen.append((done, total))

    report = svc.analyser.analyse(progress=progress)
    return svc, report, seen


@pytest.fixture(scope="module")
def expected(
    footage: list[Clip], tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[Any, ...]]:
    """The index the process pool (two workers) makes of ``footage``: what every Ray run
    here must equal."""
    pool_settings = Settings(
        data_dir=tmp_path_factory.mktemp("pool"), workers=2, executor="process", analysis=SLICED
    )
    pool_svc, pool_report, _ = _analyse(pool_settings, footage, [])
    try:
        assert (pool_report.units_done, pool_report.units_failed) == (6, 0)
        index = _index(pool_svc)
    finally:
        pool_svc.close()
    assert index, "the fake detector found nothing: the comparison would be empty"
    return index


@needs_ray
def test_ray_cluster_analysis_equals_the_process_pool(
    cluster: LocalCluster, footage: list[Clip], tmp_path: Path, expected: list[tuple[Any, ...]]
) -> None:
    import ray

    from retrouve.analysis.ray_executor import RayExecutor

    marker = tmp_path / "killed-once"
    ray_settings = Settings(
        data_dir=tmp_path / "ray",
        workers=1,
        executor="ray",
        ray_address=cluster.address,
        analysis=SLICED,
    )
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

    settings = Settings(
        data_dir=tmp_path / "lost",
        workers=1,
        executor="ray",
        ray_address=cluster.address,
        analysis=SLICED,
    )
    # No retries: the unit whose worker is killed is lost, the five others are stored.
    svc = build_services(
        settings,
        detector_factory=KillFirstWorker(tmp_path / "killed"),
        plate_reader_factory=no_plates,
        clock=fixed_clock,
        executor_factory=lambda: RayExecutor(cluster.address, 1, max_retries=0),
    )
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


# ------------------------------------------------------------- a node or the driver killed
#: Set in the environment of the node the test kills; its workers inherit it from its raylet.
VICTIM_ENV = "RT_TEST_VICTIM_NODE"


class StallOnVictim:
    """Detector factory: in a worker of the victim node (:data:`VICTIM_ENV` set) it writes
    that node's id to ``marker`` and stalls, so that the unit is mid-way when the test kills
    the node; on the other nodes, the plain fake detector."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self, settings: AnalysisSettings) -> Detector:
        if os.environ.get(VICTIM_ENV) != "1":
            return shape_detector(settings)
        import ray

        self.marker.write_text(ray.get_runtime_context().get_node_id())
        time.sleep(300)  # the test kills this node within seconds
        raise AssertionError("the victim node was not killed")


def _units(svc: Services) -> list[tuple[str, str, int, int | None, int | None]]:
    """(id, status, attempts, run, claimed by) of every work unit."""
    w = s.work_units
    with svc.store.engine.connect() as conn:
        return sorted(
            tuple(r)
            for r in conn.execute(
                select(w.c.id, w.c.status, w.c.attempts, w.c.run_id, w.c.claimed_by)
            )
        )


def _stored_once(svc: Services, run_ids: set[int]) -> None:
    """Every unit done, stored once (one save: ``attempts`` 1) by one of ``run_ids``, no
    claim left; every recording done; no run left running; no track twice."""
    units = _units(svc)
    assert len(units) == 6
    assert {(status, attempts, claimed) for _, status, attempts, _, claimed in units} == {
        ("done", 1, None)
    }, units
    assert {run for *_, run, _ in units} <= run_ids
    assert [e.status for e in svc.store.list_recordings()] == ["done", "done"]
    assert "running" not in {r.status for r in svc.store.list_runs()}
    with svc.store.engine.connect() as conn:
        keys = [
            (r.unit_id, r.local_id)
            for r in conn.execute(select(s.tracks.c.unit_id, s.tracks.c.local_id))
        ]
    assert len(keys) == len(set(keys))


@needs_ray
def test_a_node_killed_mid_unit_its_units_finish_on_the_others(
    cluster: LocalCluster, footage: list[Clip], tmp_path: Path, expected: list[tuple[Any, ...]]
) -> None:
    """A third node joins, takes a unit and is killed whole (SIGKILL to its raylet, object
    store and workers) while the unit runs: Ray reruns the unit on the two nodes left and
    the analysis ends as without the kill."""
    from retrouve.analysis.ray_executor import RayExecutor

    victim = cluster.add_node(**{VICTIM_ENV: "1"})
    marker = tmp_path / "on-victim"
    killed = threading.Event()

    def kill_the_node_when_busy() -> None:
        with contextlib.suppress(AssertionError):  # never busy: the asserts below say so
            _wait_for(
                lambda: marker.exists() and bool(marker.read_text()),
                120,
                "a unit to start on the victim node",
            )
            stop_sessions(frozenset({victim}))
            killed.set()

    killer = threading.Thread(target=kill_the_node_when_busy, daemon=True)
    killer.start()
    settings = Settings(
        data_dir=tmp_path / "data",
        workers=1,
        executor="ray",
        ray_address=cluster.address,
        analysis=SLICED,
    )
    executors: list[Executor] = []
    try:
        svc, report, seen = _analyse(settings, footage, executors, StallOnVictim(marker))
    finally:
        stop_sessions(frozenset({victim}))
    killer.join(timeout=10)
    try:
        assert killed.is_set(), "no unit ran on the victim node"
        victim_id = marker.read_text()
        [executor] = executors
        assert isinstance(executor, RayExecutor)
        assert executor.cpus == 3  # the victim counted when the run started
        assert (
            report.units_total,
            report.units_done,
            report.units_failed,
            report.units_taken_over,
        ) == (6, 6, 0, 0)
        assert seen == [(i, 6) for i in range(1, 7)]
        placed = {p.item.id: p.node_id for p in executor.placements}
        assert len(placed) == 6 and victim_id not in placed.values()
        _stored_once(svc, {report.run_id} if report.run_id else set())
        assert [r.status for r in svc.store.list_runs()] == ["done"]
        assert _index(svc) == expected
    finally:
        svc.close()


class _SlowShapes(ShapeDetector):
    """The fake detector, 0.1 s per frame: a unit lasts about 4 s (40 frames at 4 fps), so
    the driver is killed with units in flight."""

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        time.sleep(0.1)
        return super().detect(image)


def slow_shapes(_settings: AnalysisSettings) -> Detector:
    return _SlowShapes()


def run_cli(data_dir: str, slow: bool) -> None:
    """The child: ``retrouve analyse --case PV-1 --json`` (the real command, settings from
    the environment) with the fake detector injected where the command builds its
    services."""
    import retrouve.cli.io as io
    from retrouve.cli import cli

    def with_fakes(settings: Settings) -> Services:
        return build_services(
            settings,
            detector_factory=slow_shapes if slow else shape_detector,
            plate_reader_factory=no_plates,
        )

    io.build_services = with_fakes  # type: ignore[attr-defined,assignment]
    cli(["--data-dir", data_dir, "analyse", "--case", "PV-1", "--json"], prog_name="retrouve")


def _start_cli(data: Path, cluster: LocalCluster, slow: bool) -> subprocess.Popen[str]:
    code = (
        f"import sys; sys.path[:0] = [{str(ROOT / 'tests')!r}, {str(ROOT / 'src')!r}]\n"
        f"from test_ray_executor import run_cli; run_cli({str(data)!r}, {slow})\n"
    )
    env = {
        **cluster.env,
        "RETROUVE_EXECUTOR": "ray",
        "RETROUVE_RAY_ADDRESS": cluster.address,
        "RETROUVE_WORKERS": "1",
        "RETROUVE_ANALYSIS__SLICE_SECONDS": "10",
        "RETROUVE_ANALYSIS__SAMPLE_FPS": str(SLICED.sample_fps),
        "XDG_CONFIG_HOME": str(data.parent / "no-config"),
    }  # no user settings file
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@needs_ray
def test_the_driver_killed_mid_run_the_rerun_resumes_without_duplicates(
    cluster: LocalCluster, footage: list[Clip], tmp_path: Path, expected: list[tuple[Any, ...]]
) -> None:
    """``retrouve analyse`` on the Ray cluster, kill -9 once a unit is stored (others in
    flight on the nodes), then the same command again: it recovers the dead run's claims at
    once (same host, pid gone), analyses only the units not stored, and the index equals
    the process pool's."""
    from click.testing import CliRunner

    from retrouve.cli import cli

    data = tmp_path / "data"

    def run(*args: str) -> None:
        result = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
        assert result.exit_code == 0, result.output

    run("cameras", "add", CAM.id, "--name", CAM.name, "--timezone", CAM.timezone)
    for clip in footage:
        run("ingest", str(clip.path), "--camera", CAM.id)
    run(
        "cases",
        "create",
        "PV-1",
        "--basis",
        "60-1",
        "--procedure",
        "2026/1",
        "--authority",
        "OPJ",
        "--purpose",
        "vol",
        "--assign",
        getpass.getuser(),
        "--scope",
        f"{CAM.id}:2026-01-04T08:00Z/2026-01-04T12:00Z",
    )
    svc = build_services(
        Settings(data_dir=data), detector_factory=shape_detector, plate_reader_factory=no_plates
    )
    try:
        child = _start_cli(data, cluster, slow=True)
        try:
            _wait_for(
                lambda: any(u[1] == "done" for u in _units(svc)), 180, "the first unit stored"
            )
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
        # What kill -9 left: its run "running", recordings "analysing", units claimed.
        [dead] = svc.store.list_runs()
        assert dead.status == "running"
        units = _units(svc)
        done_before = sum(1 for u in units if u[1] == "done")
        assert 1 <= done_before < 6
        assert any(u[4] == dead.id for u in units), "no unit in flight when killed"
        assert "analysing" in {e.status for e in svc.store.list_recordings()}

        rerun = _start_cli(data, cluster, slow=False)
        out, _ = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, out[-3000:]
        # The report: the last JSON document (pretty-printed: only its braces at column 0).
        report = json.loads(out[("\n" + out).rindex("\n{") :])
        # Only the units not stored (a case's analysis plans none over analysed footage).
        left = 6 - done_before
        assert (report["units_total"] - report["units_skipped"], report["units_done"]) == (
            left,
            left,
        ), report
        assert (report["units_failed"], report["units_taken_over"]) == (0, 0), report
        runs = svc.store.list_runs()
        assert [(r.id, r.status) for r in runs] == [
            (dead.id, "interrupted"),
            (report["run_id"], "done"),
        ]
        _stored_once(svc, {dead.id, report["run_id"]})
        assert _index(svc) == expected
    finally:
        svc.close()
