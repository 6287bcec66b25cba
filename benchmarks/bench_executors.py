"""Analysis throughput by executor: one process, a process pool of 2, and 2 Ray nodes.

The same generated footage (``bench_analysis.make_synthetic_clip``: a textured street with
moving rectangles, H.264) is ingested into a fresh data folder per configuration and analysed
by the real ``Analyser.analyse`` (claims, the store's writes, thumbnails, linking: what
``retrouve analyse`` does), with the built-in models and the default analysis settings except
``slice_seconds`` (so that the footage makes several units to spread). Configurations:

- ``inline``: one process, the driver itself (``executor = "inline"``), OpenCV limited to one
  thread as in a pool worker (``--inline-threads`` changes it);
- ``pool2``: ``executor = "process"``, ``workers = 2``;
- ``ray2``: ``executor = "ray"`` on a local Ray cluster the script starts on loopback, a head
  and a second node of one CPU each (``ray start``), stopped at the end.

Per configuration it prints and (``--json``) writes: footage seconds, wall seconds of
``analyse`` (executor start-up and model loading included), footage seconds per wall second,
CPU seconds and CPU core-seconds per hour of footage, and the 1/5/15-minute load average
before and after. CPU is user + system time from ``getrusage`` (this process and its reaped
children: pool workers) plus, for Ray, every process of the two ``ray start`` sessions read
sampled from ``/proc`` while the run lasts (:class:`RayCpu`: workers, raylets, GCS, agents;
Ray's own cost is counted). Nothing is asserted; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the Ray session helpers the tests use

from bench_analysis import make_synthetic_clip  # noqa: E402
from ray_sessions import free_port, ray_start, stop_sessions  # noqa: E402
from retrouve.analysis.executor import Executor, make_executor  # noqa: E402
from retrouve.config import Settings  # noqa: E402
from retrouve.domain import Camera  # noqa: E402
from retrouve.services import build_services  # noqa: E402

CAM = Camera("cam1", "Bench street", "Europe/Paris")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    """One configuration's figures. Seconds are wall (``time.perf_counter``) or CPU."""

    config: str
    units: int
    footage_s: float
    wall_s: float
    cpu_s: float
    #: Of ``cpu_s``: Ray's daemons (raylets, GCS, agents), not its workers; 0 without Ray.
    ray_daemons_cpu_s: float
    tracks: int
    load_before: str
    load_after: str

    @property
    def footage_per_wall_s(self) -> float:
        return self.footage_s / self.wall_s

    @property
    def core_s_per_footage_h(self) -> float:
        return 3600.0 * self.cpu_s / self.footage_s


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _own_cpu_s() -> float:
    """User + system CPU seconds of this process and of its reaped children."""
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# ------------------------------------------------------------------- a local Ray cluster
def _session_procs(sessions: frozenset[int]) -> dict[int, tuple[bool, float]]:
    """Every live process of ``sessions``: pid → (is a Ray worker, user + system CPU s)."""
    procs: dict[int, tuple[bool, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        f = stat.rsplit(")", 1)[1].split()  # state ppid pgrp session ... (man 5 proc)
        if int(f[3]) not in sessions:
            continue
        # A worker's title is ray::<task> or ray::IDLE; ray::DashboardAgent etc. are daemons.
        worker = (cmd.startswith(b"ray::") and b"Agent" not in cmd) or b"default_worker" in cmd
        procs[int(entry.name)] = (worker, (int(f[11]) + int(f[12])) / CLK_TCK)
    return procs


class RayCpu:
    """CPU seconds the processes of the Ray sessions use while it runs (a sampler thread,
    every 0.2 s). Ray kills a job's workers when the driver disconnects, before anyone can
    read their totals, so each process's latest sample counts (at most 0.2 s of an idle
    worker's end is missed); processes alive at the start count from their first sample."""

    def __init__(self, sessions: frozenset[int]) -> None:
        self.sessions = sessions
        self._base = {pid: cpu for pid, (_, cpu) in _session_procs(sessions).items()}
        self._last: dict[int, tuple[bool, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RayCpu:
        if self.sessions:
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._sample()

    def _sample(self) -> None:
        for pid, (worker, cpu) in _session_procs(self.sessions).items():
            # Once a worker, always: an exiting process (a zombie) has an empty cmdline.
            was = self._last.get(pid, (False, 0.0))[0]
            self._last[pid] = (worker or was, cpu)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def seconds(self) -> tuple[float, float]:
        """(workers, daemons) CPU seconds."""
        workers = daemons = 0.0
        for pid, (worker, cpu) in self._last.items():
            used = cpu - self._base.get(pid, 0.0)
            if worker:
                workers += used
            else:
                daemons += used
        return workers, daemons


@contextlib.contextmanager
def ray_cluster(temp: Path) -> Iterator[tuple[str, frozenset[int]]]:
    """A head and a second node, one CPU each, on 127.0.0.1; yields (address, sessions)."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = dict(
        os.environ,
        RAY_USAGE_STATS_ENABLED="0",
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    )
    common = [
        "--node-ip-address=127.0.0.1",
        "--num-cpus=1",
        "--object-store-memory=100000000",
        "--disable-usage-stats",
    ]
    sessions: set[int] = set()
    try:
        for args in (
            ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}"],
            [f"--address={address}"],
        ):
            sessions.add(ray_start([*args, *common], env, timeout_s=300))
        yield address, frozenset(sessions)
    finally:
        stop_sessions(frozenset(sessions))


def analyse(
    config: str, settings: Settings, clips: Sequence[Path], sessions: frozenset[int] = frozenset()
) -> Row:
    """Ingest ``clips`` into ``settings.data_dir`` and time one ``analyse`` of them."""
    executors: list[Executor] = []

    def factory() -> Executor:
        executors.append(make_executor(settings.executor, settings.workers, settings.ray_address))
        return executors[-1]

    svc = build_services(settings, executor_factory=factory)
    try:
        svc.catalogue.add_camera(CAM)
        for clip in clips:
            svc.catalogue.ingest(str(clip), CAM.id)
        print(f"{config}: analysing ...", file=sys.stderr, flush=True)
        load_before = _load()
        cpu0 = _own_cpu_s()
        with RayCpu(sessions) as ray_cpu:
            start = time.perf_counter()
            report = svc.analyser.analyse()
            wall = time.perf_counter() - start
            for child in multiprocessing.active_children():  # reap pool workers
                child.join()
        workers, daemons = ray_cpu.seconds()
        cpu = _own_cpu_s() - cpu0 + workers + daemons
        if report.units_failed:
            raise RuntimeError(f"{config}: units failed: {report.failures[:3]}")
        return Row(
            config,
            report.units_done,
            report.footage_seconds,
            wall,
            cpu,
            daemons,
            report.tracks,
            load_before,
            _load(),
        )
    finally:
        svc.close()


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| configuration | units | footage s | wall s | footage s / wall s | CPU s "
        "| of which Ray daemons | CPU core-s / footage h | tracks | load avg before "
        "→ after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.config} | {r.units} | {r.footage_s:.0f} | {r.wall_s:.1f} | "
            f"{r.footage_per_wall_s:.2f} | {r.cpu_s:.1f} | {r.ray_daemons_cpu_s:.1f} | "
            f"{r.core_s_per_footage_h:.0f} | {r.tracks} | {r.load_before} → "
            f"{r.load_after} |"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clips", type=int, default=2, help="generated clips (default 2)")
    p.add_argument("--seconds", type=float, default=40.0, help="seconds per clip (default 40)")
    p.add_argument("--size", default="1280x720", help="clip frame size (default 1280x720)")
    p.add_argument("--fps", type=int, default=25, help="clip frame rate (default 25)")
    p.add_argument(
        "--slice-seconds",
        type=float,
        default=10.0,
        help="analysis.slice_seconds: the unit length (default 10)",
    )
    p.add_argument(
        "--inline-threads",
        type=int,
        default=1,
        help="cv2.setNumThreads for the inline run (default 1; 0: OpenCV's choice)",
    )
    p.add_argument(
        "--configs",
        nargs="+",
        default=["inline", "pool2", "ray2"],
        choices=["inline", "pool2", "ray2"],
    )
    p.add_argument(
        "--media", type=Path, nargs="+", help="analyse these video files instead of generated clips"
    )
    p.add_argument("--json", type=Path, help="write the rows as JSON")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    work = Path(tempfile.mkdtemp(prefix="rt-bex-", dir="/tmp"))  # short: Ray socket paths
    rows: list[Row] = []
    try:
        clips = []
        for i, media in enumerate(args.media or []):
            # Linked under a name that gives the camera's start time (``filename_pattern``).
            clip = work / f"cam1_20260104_{10 + i:02d}0000{media.suffix}"
            clip.symlink_to(media.resolve())
            clips.append(clip)
        for i in range(0 if args.media else args.clips):
            clip = work / f"cam1_20260104_{10 + i:02d}0000.mp4"
            print(f"generating {clip.name} ({args.seconds:.0f} s {args.size})", file=sys.stderr)
            make_synthetic_clip(clip, args.seconds, args.fps, (width, height), seed=7 + i)
            clips.append(clip)
        print(f"load average at the start: {_load()}; cores: {os.cpu_count()}")
        base = {"analysis": {"slice_seconds": args.slice_seconds}}
        for config in args.configs:
            data = work / config
            if config == "inline":
                if args.inline_threads:
                    cv2.setNumThreads(args.inline_threads)
                rows.append(
                    analyse(
                        config, Settings(data_dir=data, executor="inline", workers=1, **base), clips
                    )
                )
                cv2.setNumThreads(0)  # back to OpenCV's default for the driver
            elif config == "pool2":
                rows.append(
                    analyse(
                        config,
                        Settings(data_dir=data, executor="process", workers=2, **base),
                        clips,
                    )
                )
            else:
                with ray_cluster(work / "ray") as (address, sessions):
                    rows.append(
                        analyse(
                            config,
                            Settings(
                                data_dir=data,
                                executor="ray",
                                ray_address=address,
                                workers=1,
                                **base,
                            ),
                            clips,
                            sessions,
                        )
                    )
        print(table(rows))
        print(f"load average at the end: {_load()}")
        if args.json:
            args.json.write_text(
                json.dumps(
                    [
                        {
                            **asdict(r),
                            "footage_per_wall_s": round(r.footage_per_wall_s, 3),
                            "core_s_per_footage_h": round(r.core_s_per_footage_h, 1),
                        }
                        for r in rows
                    ],
                    indent=2,
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
