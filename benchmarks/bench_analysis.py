"""Analysis throughput benchmark: how fast is ``process_unit`` compared with plain decoding?

For every clip (the evaluation media plus a generated 1080p street-like clip) this measures, in
one run: plain PyAV decoding of the same file, ``ffmpeg -f null`` decoding (when an ``ffmpeg``
binary is on PATH), then the full analysis (decode → motion gate → detect → track →
attributes) of the whole clip in this process, with its per-stage counts and seconds. It then
analyses the whole evaluation set again with a process pool (``ProcessExecutor``) to give the
parallel throughput. Nothing is asserted: it only measures and reports.

Run ``.venv/bin/python benchmarks/bench_analysis.py --help``; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import io
import json
import logging
import math
import multiprocessing
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

import retrouve
from retrouve.analysis.executor import ProcessExecutor
from retrouve.analysis.packs import select_packs
from retrouve.analysis.pipeline import process_unit
from retrouve.analysis.planning import plan_units, unit_id
from retrouve.catalogue.probe import IMAGE_SUFFIXES, Probe, probe
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import VEHICLE_CLASSES, Recording, UnitResult, WorkUnit
from retrouve.vision.models import load_models
from retrouve.vision.packs import PackRegistry
from retrouve.vision.packs.catalogue import load_catalogue
from retrouve.vision.packs.catalogue_install import install_from_folder

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MEDIA = REPO_ROOT.parent / "shared" / "eval" / "media"
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg", ".webm",
     ".flv", ".wmv", ".3gp", ".h264", ".264", ".dav"}
)
STAGES = ("decode", "motion", "detect", "track", "attributes", "plates")
#: Per-track stages that only run with packs (coarse detector classes, attribute packs).
PACK_STAGES = ("vehicle_type", "vehicle_pack", "person_pack")
ALL_STAGES = (*STAGES, *PACK_STAGES)
DEFAULT_PACK_SOURCE = REPO_ROOT.parent / "shared" / "models"
SYNTHETIC_NAME = "synthetic-1080p25.mp4"
QUICK_SYNTHETIC_S = 6.0
FULL_SYNTHETIC_S = 20.0
QUICK_MAX_S = 20.0

log = logging.getLogger("bench_analysis")


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class ClipResult:
    """Every figure measured on one clip. Times in seconds, rates in frames per second."""

    name: str
    path: str
    synthetic: bool
    duration_s: float  # seconds of video covered (capped by --max-seconds)
    file_duration_s: float
    width: int
    height: int
    codec: str
    fps: float
    pyav_frames: int = 0
    pyav_s: float = 0.0
    ffmpeg_s: float | None = None
    analysis_s: float = 0.0
    frames_decoded: int = 0
    frames_sampled: int = 0
    frames_detected: int = 0
    detector_passes: int = 0
    stage_s: dict[str, float] = dataclasses.field(default_factory=dict)
    tracks: int = 0
    vehicle_tracks: int = 0  # tracks whose plate may be read (motor vehicles)
    plate_reads: int = 0  # tracks that got a consensus plate read
    #: CPU seconds (user + system, every thread of this process) spent in ``process_unit``.
    cpu_s: float = 0.0
    error: str | None = None

    @property
    def other_s(self) -> float:
        """Wall time not attributed to a stage (unit set-up, model cache look-up, overhead)."""
        return self.analysis_s - sum(self.stage_s.values())

    def derived(self) -> dict[str, float | None]:
        return {
            "pyav_fps": _rate(self.pyav_frames, self.pyav_s),
            "pyav_x_realtime": _rate(self.duration_s, self.pyav_s),
            "ffmpeg_x_realtime": (
                None if self.ffmpeg_s is None else _rate(self.duration_s, self.ffmpeg_s)
            ),
            "analysis_x_realtime": _rate(self.duration_s, self.analysis_s),
            "analysis_over_pyav": _rate(self.analysis_s, self.pyav_s),
            "cpu_core_s_per_hour": _rate(3600.0 * self.cpu_s, self.duration_s),
            "other_s": round(self.other_s, 4),
            **{f"{st}_fps": _rate(self.stage_frames(st), self.stage_s.get(st, 0.0))
               for st in ALL_STAGES},
            "detector_passes_per_s": _rate(self.detector_passes, self.stage_s.get("detect", 0.0)),
        }

    def stage_frames(self, stage: str) -> int:
        """Frames each stage handles: decode all, motion the sampled, the rest the detected."""
        if stage == "decode":
            return self.frames_decoded
        if stage == "motion":
            return self.frames_sampled
        return self.frames_detected


@dataclasses.dataclass
class ParallelResult:
    clips: int
    units: int
    workers: int
    duration_s: float
    wall_s: float
    sum_pyav_s: float
    sum_single_analysis_s: float
    tracks: int
    errors: list[str]
    #: Peak resident memory of each worker (``VmHWM`` from /proc, read before shutdown).
    worker_peak_rss_mib: list[float] = dataclasses.field(default_factory=list)
    frames_decoded: int = 0
    frames_detected: int = 0
    detector_passes: int = 0
    stage_s: dict[str, float] = dataclasses.field(default_factory=dict)
    #: CPU seconds of the finished workers (``RUSAGE_CHILDREN`` user + system, delta).
    cpu_s: float = 0.0


def _rate(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


# --------------------------------------------------------------------------------------------
# Synthetic clip
# --------------------------------------------------------------------------------------------


def _street_background(width: int, height: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """A fixed street-like RGB image: sky gradient, façades, pavement, road with markings,
    all with a blurred noise texture so the encoder and the motion gate see real detail."""
    img = np.zeros((height, width, 3), np.float32)
    sky_h, road_top, road_bottom = height * 28 // 100, height * 58 // 100, height * 88 // 100
    ramp = np.linspace(0.0, 1.0, sky_h, dtype=np.float32)[:, None]
    img[:sky_h] = (np.array([150, 180, 215], np.float32) * (1 - ramp)
                   + np.array([200, 210, 220], np.float32) * ramp)[:, None, :]
    img[sky_h:road_top] = (178, 188, 198)  # hazy distance behind the façades
    x = 0
    while x < width:  # façades
        w = int(rng.integers(width // 14, width // 6))
        top = int(rng.integers(height // 12, sky_h + height // 10))
        colour = rng.integers(70, 200, 3).astype(np.float32)
        img[top:road_top, x:x + w] = colour
        for wy in range(top + 30, road_top - 60, 70):  # windows
            for wx in range(x + 20, x + w - 40, 60):
                img[wy:wy + 40, wx:wx + 30] = colour * 0.45
        x += w
    img[road_top - height // 14:road_top] = (165, 160, 150)  # pavement
    img[road_top:road_bottom] = (88, 90, 94)  # road
    img[road_bottom:] = (160, 156, 148)  # far pavement
    lane_y = (road_top + road_bottom) // 2
    for mx in range(0, width, 160):  # dashed centre line
        img[lane_y - 4:lane_y + 4, mx:mx + 90] = (225, 225, 215)
    texture = rng.normal(0.0, 14.0, (height, width, 1)).astype(np.float32)
    img += np.asarray(cv2.GaussianBlur(texture, (0, 0), 1.2), np.float32)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class _Mover:
    """A coloured rectangle crossing the frame during ``[f0, f1)`` (fractions of the clip)."""

    f0: float
    f1: float
    y: float  # top edge, fraction of frame height
    w: int
    h: int
    rgb: tuple[int, int, int]
    left_to_right: bool


_MOVERS = (
    _Mover(0.15, 0.45, 0.62, 260, 120, (200, 30, 30), True),  # red "car"
    _Mover(0.55, 0.85, 0.70, 300, 140, (30, 60, 190), False),  # blue "van"
    _Mover(0.58, 0.88, 0.47, 70, 190, (230, 200, 40), True),  # yellow "pedestrian"
    _Mover(0.62, 0.82, 0.60, 240, 110, (235, 235, 235), True),  # white "car"
)


def make_synthetic_clip(path: Path, seconds: float, fps: int = 25,
                        size: tuple[int, int] = (1920, 1080), seed: int = 7) -> None:
    """Write a ``size`` H.264 clip: static textured street with light per-frame noise, and
    rectangles entering and leaving (static 0–15 %, one mover 15–45 %, static 45–55 %, three
    movers 55–88 %, static after)."""
    width, height = size
    rng = np.random.default_rng(seed)
    background = _street_background(width, height, rng).astype(np.int16)
    # Sensor noise: a few fixed fields cycled per frame (cheap, still changes every frame).
    noise = [rng.normal(0.0, 2.0, (height, width, 1)).astype(np.int16) for _ in range(5)]
    n_frames = round(seconds * fps)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = 2 * fps
        stream.options = {"preset": "veryfast", "crf": "23"}
        for i in range(n_frames):
            img = np.clip(background + noise[i % len(noise)], 0, 255).astype(np.uint8)
            f = i / n_frames
            for m in _MOVERS:
                if not m.f0 <= f < m.f1:
                    continue
                p = (f - m.f0) / (m.f1 - m.f0)
                x0 = int(-m.w + p * (width + m.w)) if m.left_to_right else int(
                    width - p * (width + m.w))
                y0 = int(m.y * height)
                cv2.rectangle(img, (x0, y0), (x0 + m.w, y0 + m.h), m.rgb, thickness=-1)
                cv2.rectangle(img, (x0 + m.w // 8, y0 + m.h // 6),  # a darker "window"
                              (x0 + m.w * 7 // 8, y0 + m.h // 2),
                              tuple(c // 3 for c in m.rgb), thickness=-1)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def pyav_decode(path: Path, max_s: float | None) -> tuple[int, float]:
    """Decode every video frame (frame threads, no pixel conversion): (frames, seconds)."""
    start = time.perf_counter()
    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if max_s is not None and frame.time is not None and frame.time >= max_s:
                break
            n += 1
    return n, time.perf_counter() - start


def ffmpeg_decode(ffmpeg: str, path: Path, max_s: float | None) -> float:
    """Seconds ``ffmpeg -f null`` takes to decode the first video stream."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path)]
    if max_s is not None:
        cmd += ["-t", f"{max_s:g}"]
    cmd += ["-map", "0:v:0", "-an", "-f", "null", "-"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def whole_clip_unit(name: str, info: Probe, max_s: float | None) -> WorkUnit:
    t1 = math.inf if max_s is None or info.duration_s <= max_s else max_s
    return WorkUnit(unit_id(name, 0.0), name, str(info.path), 0.0, t1, info.fps)


def eval_units(clips: Sequence[ClipResult], infos: dict[str, Probe], slice_s: float,
               max_s: float | None) -> list[WorkUnit]:
    """The units ``retrouve analyse`` would plan for these clips (capped at ``max_s``)."""
    units: list[WorkUnit] = []
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for c in clips:
        info = infos[c.name]
        rec = Recording(c.name, "bench", str(info.path), info.sha256, info.size_bytes, start,
                        c.duration_s, info.fps, info.width, info.height, info.codec,
                        info.frame_count)
        for u in plan_units(rec, slice_s):
            if max_s is not None and c.duration_s < info.duration_s:
                u = dataclasses.replace(u, t1=min(u.t1, max_s))
            units.append(u)
    return units


def run_parallel(clips: Sequence[ClipResult], infos: dict[str, Probe], settings: Settings,
                 workers: int, max_s: float | None) -> ParallelResult:
    units = eval_units(clips, infos, settings.analysis.slice_seconds, max_s)
    fn = functools.partial(process_unit, settings=settings)
    results: list[UnitResult] = []
    cpu0 = _cpu_s(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    executor = ProcessExecutor(workers)
    try:
        for r in executor.map_unordered(fn, units):
            results.append(r)
            _progress(f"  pool: {len(results)}/{len(units)} units done "
                      f"({time.perf_counter() - start:.1f} s)")
        wall = time.perf_counter() - start
        worker_rss = [_vm_hwm_mib(p.pid) for p in multiprocessing.active_children()]
    finally:
        executor.shutdown()
    for child in multiprocessing.active_children():  # reap workers: RUSAGE_CHILDREN sees them
        child.join()
    cpu = _cpu_s(resource.RUSAGE_CHILDREN) - cpu0
    stage_s: dict[str, float] = {}
    for r in results:
        for k, v in r.stats.seconds.items():
            stage_s[k] = stage_s.get(k, 0.0) + v
    return ParallelResult(
        clips=len(clips), units=len(units), workers=workers,
        duration_s=sum(c.duration_s for c in clips), wall_s=wall,
        sum_pyav_s=sum(c.pyav_s for c in clips),
        sum_single_analysis_s=sum(c.analysis_s for c in clips),
        tracks=sum(len(r.tracks) for r in results),
        errors=[f"{r.unit_id}: {r.error}" for r in results if r.error],
        worker_peak_rss_mib=[round(v, 1) for v in worker_rss if v is not None],
        frames_decoded=sum(r.stats.frames_decoded for r in results),
        frames_detected=sum(r.stats.frames_detected for r in results),
        detector_passes=sum(r.stats.detector_passes for r in results),
        stage_s={k: round(v, 4) for k, v in stage_s.items()},
        cpu_s=round(cpu, 3),
    )


def measure_clip(name: str, info: Probe, synthetic: bool, settings: Settings,
                 ffmpeg: str | None, max_s: float | None) -> ClipResult:
    covered = info.duration_s if max_s is None else min(info.duration_s, max_s)
    c = ClipResult(name, str(info.path), synthetic, covered, info.duration_s, info.width,
                   info.height, info.codec, info.fps)
    _progress(f"{name}: {covered:.1f} s of {info.width}x{info.height} {info.codec}")
    c.pyav_frames, c.pyav_s = pyav_decode(info.path, max_s)
    _progress(f"  pyav decode   {c.pyav_s:7.2f} s  ({c.pyav_frames} frames)")
    if ffmpeg is not None:
        try:
            c.ffmpeg_s = ffmpeg_decode(ffmpeg, info.path, max_s)
            _progress(f"  ffmpeg decode {c.ffmpeg_s:7.2f} s")
        except (OSError, subprocess.CalledProcessError) as exc:
            _progress(f"  ffmpeg failed: {exc}")
    return c


def analyse_clip(base: ClipResult, info: Probe, settings: Settings, max_s: float | None,
                 label: str) -> ClipResult:
    """``base`` (its decode baselines) plus the analysis of the clip with ``settings``."""
    c = dataclasses.replace(base, stage_s={})
    unit = whole_clip_unit(c.name, info, max_s)
    cpu0 = _cpu_s(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = process_unit(unit, settings)
    c.analysis_s = time.perf_counter() - start
    c.cpu_s = _cpu_s(resource.RUSAGE_SELF) - cpu0
    st = result.stats
    c.frames_decoded, c.frames_sampled = st.frames_decoded, st.frames_sampled
    c.frames_detected, c.detector_passes = st.frames_detected, st.detector_passes
    c.stage_s = {k: st.seconds.get(k, 0.0) for k in ALL_STAGES}
    c.tracks, c.error = len(result.tracks), result.error
    c.vehicle_tracks = sum(1 for t in result.tracks if t.object in VEHICLE_CLASSES)
    c.plate_reads = sum(1 for t in result.tracks if t.plate is not None)
    _progress(f"  [{label}] {c.name}: analysis {c.analysis_s:7.2f} s, CPU {c.cpu_s:7.2f} s "
              f"({c.tracks} tracks"
              f"{', ERROR ' + c.error if c.error else ''})")
    return c


def total_row(clips: Sequence[ClipResult]) -> ClipResult:
    """Sums over ``clips``: rates derived from it are sum(duration or frames) / sum(time)."""
    t = ClipResult("TOTAL eval", "", False, sum(c.duration_s for c in clips),
                   sum(c.file_duration_s for c in clips), 0, 0, "", 0.0)
    t.pyav_frames = sum(c.pyav_frames for c in clips)
    t.pyav_s = sum(c.pyav_s for c in clips)
    ff = [c.ffmpeg_s for c in clips]
    t.ffmpeg_s = None if not ff or any(v is None for v in ff) else sum(v or 0.0 for v in ff)
    t.analysis_s = sum(c.analysis_s for c in clips)
    t.cpu_s = sum(c.cpu_s for c in clips)
    t.frames_decoded = sum(c.frames_decoded for c in clips)
    t.frames_sampled = sum(c.frames_sampled for c in clips)
    t.frames_detected = sum(c.frames_detected for c in clips)
    t.detector_passes = sum(c.detector_passes for c in clips)
    t.stage_s = {k: sum(c.stage_s.get(k, 0.0) for c in clips) for k in ALL_STAGES}
    t.tracks = sum(c.tracks for c in clips)
    t.vehicle_tracks = sum(c.vehicle_tracks for c in clips)
    t.plate_reads = sum(c.plate_reads for c in clips)
    return t


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def _f(v: float | None, fmt: str) -> str:
    return "n/a" if v is None else format(v, fmt)


def _cpu_s(who: int) -> float:
    """User + system CPU seconds of ``RUSAGE_SELF`` (every thread) or ``RUSAGE_CHILDREN``."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # KiB on Linux


def _vm_hwm_mib(pid: int | None) -> float | None:
    """Peak RSS of a live process from ``/proc/PID/status`` (Linux), else None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


def format_tables(clips: Sequence[ClipResult], total: ClipResult | None) -> str:
    rows = [*clips, *([total] if total is not None else [])]
    # The pack-only stages are shown when some clip spent time in them.
    stages = [*STAGES, *(st for st in PACK_STAGES if any(c.stage_s.get(st) for c in rows))]
    name_w = max(10, *(len(c.name) for c in rows))
    lines = ["Throughput (×RT = seconds of video per second of wall time)"]
    head = (f"{'clip':<{name_w}} {'dur s':>6} {'resolution':>10} {'fps':>5}  "
            f"{'pyav fps':>8} {'pyav ×RT':>8} {'ffmpeg ×RT':>10}  "
            f"{'analysis s':>10} {'anal ×RT':>8} {'anal/dec':>8} {'CPU s':>7} "
            f"{'core-s/h':>8} {'tracks':>6}")
    lines += [head, "-" * len(head)]
    for c in rows:
        if c is total:
            lines.append("-" * len(head))
        d = c.derived()
        res = f"{c.width}x{c.height}" if c.width else ""
        fps = f"{c.fps:5.1f}" if c.fps else ""
        lines.append(
            f"{c.name:<{name_w}} {c.duration_s:6.1f} {res:>10} {fps:>5}  "
            f"{_f(d['pyav_fps'], '8.0f'):>8} {_f(d['pyav_x_realtime'], '8.1f'):>8} "
            f"{_f(d['ffmpeg_x_realtime'], '10.1f'):>10}  "
            f"{c.analysis_s:10.2f} {_f(d['analysis_x_realtime'], '8.2f'):>8} "
            f"{_f(d['analysis_over_pyav'], '8.1f'):>8} {c.cpu_s:7.1f} "
            f"{_f(d['cpu_core_s_per_hour'], '8.0f'):>8} {c.tracks:6d}"
            + (f"  ERROR: {c.error}" if c.error else "")
        )
    lines += ["", "Analysis stages: seconds (frames/s through the stage; detect also passes/s)"]
    head = (f"{'clip':<{name_w}} {'decoded':>7} {'sampled':>7} {'detectd':>7} {'passes':>6}  "
            + " ".join(f"{st:>{20 if st == 'detect' else 13}}" for st in stages)
            + f" {'other':>6}")
    lines += [head, "-" * len(head)]
    for c in rows:
        if c is total:
            lines.append("-" * len(head))
        d = c.derived()
        cells = []
        for st in stages:
            cell = f"{c.stage_s.get(st, 0.0):6.2f} ({_f(d[f'{st}_fps'], '4.0f'):>4})"
            if st == "detect":
                cell += f" {_f(d['detector_passes_per_s'], '5.1f'):>5}p"
            cells.append(cell)
        lines.append(
            f"{c.name:<{name_w}} {c.frames_decoded:7d} {c.frames_sampled:7d} "
            f"{c.frames_detected:7d} {c.detector_passes:6d}  "
            + " ".join(f"{cell:>{20 if st == 'detect' else 13}}"
                       for st, cell in zip(stages, cells, strict=True))
            + f" {c.other_s:6.2f}"
        )
    if total is not None and total.analysis_s > 0:
        share = ", ".join(f"{st} {100 * total.stage_s.get(st, 0.0) / total.analysis_s:.1f} %"
                          for st in stages)
        lines.append(f"Share of TOTAL analysis time: {share}, "
                     f"other {100 * total.other_s / total.analysis_s:.1f} %")
    lines += ["", "Per-track cost of the track attributes (ms per track)"]
    head = (f"{'clip':<{name_w}} {'tracks':>6} {'vehicles':>8} {'plates':>6}  "
            f"{'attributes ms/track':>19} {'plate OCR ms/vehicle':>20}")
    lines += [head, "-" * len(head)]
    for c in rows:
        attr = _rate(1000 * c.stage_s.get("attributes", 0.0), c.tracks)
        ocr = _rate(1000 * c.stage_s.get("plates", 0.0), c.vehicle_tracks)
        lines.append(f"{c.name:<{name_w}} {c.tracks:6d} {c.vehicle_tracks:8d} "
                     f"{c.plate_reads:6d}  {_f(attr, '19.1f'):>19} {_f(ocr, '20.1f'):>20}")
    return "\n".join(lines)


def format_parallel(p: ParallelResult) -> str:
    rt = _rate(p.duration_s, p.wall_s)
    lines = [
        f"Process pool: {p.clips} clips, {p.units} units, {p.workers} workers "
        f"(ProcessExecutor, spawn, cv2 1 thread per worker)",
        f"  video {p.duration_s:.1f} s   wall {p.wall_s:.2f} s (incl. pool start and model "
        f"loads)   ×RT {_f(rt, '.2f')}   tracks {p.tracks}",
        f"  CPU {p.cpu_s:.1f} core-s (workers, RUSAGE_CHILDREN): "
        f"{_f(_rate(3600 * p.cpu_s, p.duration_s), '.0f')} core-s per hour of footage",
        f"  sum of plain PyAV decode times {p.sum_pyav_s:.2f} s (×RT "
        f"{_f(_rate(p.duration_s, p.sum_pyav_s), '.1f')}): pool wall / decode "
        f"{_f(_rate(p.wall_s, p.sum_pyav_s), '.1f')}",
        f"  sum of single-process analysis times {p.sum_single_analysis_s:.2f} s: speed-up "
        f"{_f(_rate(p.sum_single_analysis_s, p.wall_s), '.2f')}×",
        "  worker stage seconds (summed over units): "
        + ", ".join(f"{k} {p.stage_s.get(k, 0.0):.1f}" for k in ALL_STAGES if k in p.stage_s)
        + f"; {p.detector_passes} detector passes on {p.frames_detected} frames",
        "  worker peak RSS (VmHWM): "
        + (", ".join(f"{v:.0f}" for v in p.worker_peak_rss_mib) + " MiB"
           if p.worker_peak_rss_mib else "n/a"),
    ]
    lines += [f"  ERROR {e}" for e in p.errors]
    return "\n".join(lines)


def source_digest() -> str:
    """Short hash of the ``retrouve`` sources, to tell whether they changed during a run."""
    h = hashlib.sha256()
    root = Path(retrouve.__file__).parent
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def _loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def collect_media(media: Path) -> list[Path]:
    if not media.is_dir():
        print(f"no evaluation media at {media}: only the synthetic clip is measured")
        return []
    files = sorted(p for p in media.iterdir()
                   if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
                   and p.suffix.lower() not in IMAGE_SUFFIXES)
    if not files:
        print(f"no video files in {media}: only the synthetic clip is measured")
    return files


@dataclasses.dataclass(frozen=True)
class Config:
    """One model configuration measured on every clip: a label and its settings."""

    label: str
    settings: Settings
    packs: tuple[str, ...] = ()  # installed pack folders, for the record


def pack_config(label: str, data_dir: Path, analysis: AnalysisSettings) -> Config:
    """The configuration whose packs are the active ones of ``data_dir/models``."""
    registry = PackRegistry(data_dir / "models")
    selection = select_packs(registry)
    chosen = tuple(str(v) for v in selection.model_dump().values() if v is not None)
    if not chosen:
        raise SystemExit(f"no model packs installed in {data_dir / 'models'}")
    return Config(label, Settings(data_dir=data_dir, analysis=analysis.model_copy(
        update={"packs": selection, "use_packs": True})), chosen)


def install_config(names: Sequence[str], source: Path, data_dir: Path,
                   analysis: AnalysisSettings) -> Config:
    """Install the catalogue packs ``names`` from the folder ``source`` into ``data_dir``."""
    catalogue = load_catalogue()
    registry = PackRegistry(data_dir / "models")
    for name in names:
        start = time.perf_counter()
        install_from_folder(registry, catalogue.get(name), source)
        _progress(f"installed {name} from {source} in {time.perf_counter() - start:.1f} s")
    return pack_config(" + ".join(names), data_dir, analysis)


def format_summary(rows: Sequence[tuple[Config, ClipResult | None, ParallelResult | None]],
                   pyav_s: float, duration_s: float) -> str:
    """One line per configuration: totals over the evaluation clips."""
    lines = [f"Summary over the evaluation clips ({duration_s:.0f} s of video; plain PyAV "
             f"decode {pyav_s:.1f} s = {_f(_rate(duration_s, pyav_s), '.1f')}× real time, "
             f"{_f(_rate(3600 * pyav_s, duration_s), '.0f')} s per hour of footage)"]
    head = (f"{'configuration':<60} {'single ×RT':>10} {'core-s/h':>8} "
            f"{'pool ×RT':>8} {'pool core-s/h':>13}  largest stages")
    lines += [head, "-" * len(head)]
    for cfg, total, par in rows:
        if total is None:
            continue
        top = sorted(((v, k) for k, v in total.stage_s.items() if v > 0), reverse=True)[:3]
        share = ", ".join(f"{k} {100 * v / total.analysis_s:.0f} %" for v, k in top)
        d = total.derived()
        prt = None if par is None else _rate(par.duration_s, par.wall_s)
        pcs = None if par is None else _rate(3600 * par.cpu_s, par.duration_s)
        lines.append(f"{cfg.label[:60]:<60} {_f(d['analysis_x_realtime'], '10.2f'):>10} "
                     f"{_f(d['cpu_core_s_per_hour'], '8.0f'):>8} {_f(prt, '8.2f'):>8} "
                     f"{_f(pcs, '13.0f'):>13}  {share}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--media", type=Path, default=DEFAULT_MEDIA,
                    help=f"folder of video clips (default {DEFAULT_MEDIA})")
    ap.add_argument("--workers", type=int, default=2, help="process-pool workers (default 2)")
    ap.add_argument("--sample-fps", type=float, default=None,
                    help="override the analysis sampling rate (default: Settings())")
    ap.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_SYNTHETIC_S:g} s synthetic clip and only the first "
                         f"{QUICK_MAX_S:g} s of each clip (unless --max-seconds)")
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="analyse and decode only the first S seconds of each clip")
    ap.add_argument("--cv-threads", type=int, default=None,
                    help="cv2.setNumThreads for the single-process runs (default: OpenCV's)")
    ap.add_argument("--no-pool", action="store_true", help="skip the process-pool run")
    ap.add_argument("--no-plates", action="store_true",
                    help="analyse without plate reading (to measure what plates cost)")
    ap.add_argument("--packs", nargs="+", action="append", default=[], metavar="NAME",
                    help="one more configuration: these catalogue packs, installed from "
                         "--from into a temporary data dir (repeat for several)")
    ap.add_argument("--packs-dir", type=Path, action="append", default=[], metavar="DATA_DIR",
                    help="one more configuration: the active packs of DATA_DIR/models")
    ap.add_argument("--from", dest="pack_source", type=Path, default=DEFAULT_PACK_SOURCE,
                    help=f"folder holding the packs' files (default {DEFAULT_PACK_SOURCE})")
    ap.add_argument("--no-builtin", action="store_true",
                    help="skip the built-in models configuration")
    ap.add_argument("--pack-threads", type=int, default=None,
                    help="override AnalysisSettings.pack_threads (0: the runtime's default)")
    ap.add_argument("--no-synthetic", action="store_true",
                    help="do not generate and measure the synthetic clip")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # keep the report and the progress in order
        sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    max_s: float | None = args.max_seconds
    if max_s is None and args.quick:
        max_s = QUICK_MAX_S
    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    analysis = AnalysisSettings(plates=not args.no_plates, use_packs=False)
    if args.sample_fps is not None:
        analysis = analysis.model_copy(update={"sample_fps": args.sample_fps})
    if args.pack_threads is not None:
        analysis = analysis.model_copy(update={"pack_threads": args.pack_threads})
    ffmpeg = shutil.which("ffmpeg")
    meta: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "pyav": av.__version__,
        "ffmpeg_libs": av.library_versions.get("libavcodec"), "opencv": cv2.__version__,
        "cpu_count": os.cpu_count(), "cv2_threads_single": cv2.getNumThreads(),
        "ffmpeg_binary": ffmpeg, "max_seconds": max_s, "quick": args.quick,
        "workers": args.workers, "analysis_settings": analysis.model_dump(mode="json"),
        "source_digest": source_digest(), "loadavg_start": _loadavg(),
    }
    print(f"retrouve analysis benchmark  {meta['when']}  python {meta['python']}  "
          f"PyAV {meta['pyav']}  OpenCV {meta['opencv']} ({meta['cv2_threads_single']} threads "
          f"single-process)  cpus {meta['cpu_count']}")
    print(f"settings: sample_fps {analysis.sample_fps:g}  motion_min_area "
          f"{analysis.motion_min_area:g}  refresh {analysis.refresh_seconds:g} s  tile "
          f"{analysis.tile_px} px  threshold {analysis.detect_threshold:g}  pack threads "
          f"{analysis.pack_threads or 'runtime default'}"
          + (f"  first {max_s:g} s of each clip" if max_s is not None else ""))
    print(f"ffmpeg: {ffmpeg or 'n/a (no ffmpeg binary on PATH)'}   retrouve sources "
          f"{meta['source_digest']}   load average {meta['loadavg_start']} (1/5/15 min)")

    media = collect_media(args.media.resolve())
    docs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="retrouve-bench-") as tmp:
        configs: list[Config] = []
        if not args.no_builtin:
            configs.append(Config("built-in models", Settings(data_dir=Path(tmp) / "builtin",
                                                              analysis=analysis)))
        for i, names in enumerate(args.packs):
            configs.append(install_config(names, args.pack_source.resolve(),
                                          Path(tmp) / f"packs-{i}", analysis))
        for d in args.packs_dir:
            configs.append(pack_config(f"packs of {d}", d.resolve(), analysis))
        if not configs:
            raise SystemExit("nothing to measure: --no-builtin without --packs/--packs-dir")

        synth_path = Path(tmp) / SYNTHETIC_NAME
        synth_s = QUICK_SYNTHETIC_S if args.quick else FULL_SYNTHETIC_S
        paths = list(media)
        if not args.no_synthetic:
            start = time.perf_counter()
            make_synthetic_clip(synth_path, synth_s)
            meta["synthetic_generation_s"] = round(time.perf_counter() - start, 2)
            _progress(f"generated {SYNTHETIC_NAME} ({synth_s:g} s) in "
                      f"{meta['synthetic_generation_s']} s")
            paths.append(synth_path)

        infos: dict[str, Probe] = {}
        for p in paths:
            try:
                infos[p.name] = probe(p)  # also reads the whole file: page cache is warm
            except Exception as exc:
                print(f"skipping {p}: {exc}")
        bases = {name: measure_clip(name, info, info.path == synth_path, configs[0].settings,
                                    ffmpeg, max_s) for name, info in infos.items()}
        eval_bases = [c for c in bases.values() if not c.synthetic]
        summary: list[tuple[Config, ClipResult | None, ParallelResult | None]] = []
        for cfg in configs:
            print(f"\n=== {cfg.label} ===" + (f"  packs: {', '.join(cfg.packs)}"
                                              if cfg.packs else ""))
            print(f"load average {_loadavg()} (1/5/15 min)")
            start = time.perf_counter()
            load_models(cfg.settings.analysis)  # load once, outside the per-clip timings
            load_s = round(time.perf_counter() - start, 3)
            clips = [analyse_clip(bases[name], info, cfg.settings, max_s, cfg.label)
                     for name, info in infos.items()]
            eval_clips = [c for c in clips if not c.synthetic and not c.error]
            total = total_row(eval_clips) if eval_clips else None
            print(format_tables(clips, total))
            parallel: ParallelResult | None = None
            if args.no_pool:
                print("\nProcess pool: skipped (--no-pool)")
            else:
                pool_clips = eval_clips or [c for c in clips if not c.error]
                if pool_clips:
                    _progress(f"process pool: {len(pool_clips)} clips on {args.workers} workers")
                    parallel = run_parallel(pool_clips, infos, cfg.settings, args.workers,
                                            max_s)
                    print()
                    print(format_parallel(parallel))
            print(f"models loaded in {load_s:.2f} s (excluded from per-clip times); load "
                  f"average {_loadavg()}")
            summary.append((cfg, total, parallel))
            docs.append({
                "label": cfg.label, "packs": list(cfg.packs), "model_load_s": load_s,
                "loadavg_end": _loadavg(),
                "clips": [{**dataclasses.asdict(c), **c.derived()} for c in clips],
                "total_eval": None if total is None else {**dataclasses.asdict(total),
                                                          **total.derived()},
                "parallel": None if parallel is None else {
                    **dataclasses.asdict(parallel),
                    "x_realtime": _rate(parallel.duration_s, parallel.wall_s),
                    "cpu_core_s_per_hour": _rate(3600 * parallel.cpu_s, parallel.duration_s),
                    "decode_x_realtime": _rate(parallel.duration_s, parallel.sum_pyav_s),
                    "wall_over_sum_pyav": _rate(parallel.wall_s, parallel.sum_pyav_s),
                    "speedup_vs_single": _rate(parallel.sum_single_analysis_s,
                                               parallel.wall_s),
                },
            })
        print()
        print(format_summary(summary, sum(c.pyav_s for c in eval_bases),
                             sum(c.duration_s for c in eval_bases)))

    rss_self = _maxrss_mib(resource.RUSAGE_SELF)
    rss_children = _maxrss_mib(resource.RUSAGE_CHILDREN)
    print(f"\nPeak RSS (ru_maxrss): RUSAGE_SELF {rss_self:.0f} MiB (single-process analyses, "
          f"every configuration's models loaded); RUSAGE_CHILDREN {rss_children:.0f} MiB "
          "(Linux carries the parent's peak into a spawned child: see the pools' VmHWM for "
          "the workers' own peak)")
    meta["loadavg_end"] = _loadavg()
    meta["source_digest_end"] = source_digest()
    print(f"load average at the end {meta['loadavg_end']} (other work on the machine skews "
          "every figure: compare CPU seconds)")
    if meta["source_digest_end"] != meta["source_digest"]:
        print(f"WARNING: the retrouve sources changed during the run ({meta['source_digest']} → "
              f"{meta['source_digest_end']}): pool workers may have run newer code than the "
              "single-process measurements")

    if args.json is not None:
        doc = {"meta": meta, "configurations": docs,
               "peak_rss_mib": {"self": round(rss_self, 1),
                                "children": round(rss_children, 1)}}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
