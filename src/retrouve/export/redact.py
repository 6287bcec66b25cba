"""The redacted copy of an exhibit: bystanders' faces and other vehicles' plates blurred.

A *copy*: the clip given (a master or a working copy) is decoded and re-encoded (H.264,
yuv420p, MP4) with regions obscured; the source file is only read, and writing onto it is
refused, so a master is never altered (LEGAL.md row 13). Faces are found on every frame by
the built-in face detector (:mod:`retrouve.vision.faces`: detection only, never recognition
nor any attribute of a face, LEGAL.md row 10); plates are the boxes the caller gives
(:class:`TimedBox`, e.g. the other vehicles' plate reads), since which plate belongs to the
vehicle of interest is the operator's decision, not the tool's. Audio is not carried (voices
are personal data too; CCTV evidence is judged on the pictures).

Times are seconds from the clip's first frame (its first presentation time is 0); boxes are
pixels of the clip's frames. The frame rate, the frame count and every frame's presentation
time are kept, so the copy lines up with the master frame for frame.

The :class:`RedactionLog` says what was done (detector and version, threshold, settings,
frames, faces and plate boxes blurred, where faces were seen, frames scanned downscaled): it
travels in the bundle beside the copy. It is no guarantee: small, turned, masked or blurred
faces may be missed, and the operator must review the redacted copy before disclosure.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from retrouve.config import RedactionSettings
from retrouve.errors import InputError, MediaError
from retrouve.vision.faces import FaceDetector

#: A region in clip pixels, ``x0, y0, x1, y1`` (floats; rounded outwards when blurred).
Region = tuple[float, float, float, float]


@dataclass(frozen=True)
class TimedBox:
    """A box to blur around one instant: ``t_s`` seconds from the clip's first frame;
    ``x, y, w, h`` in pixels of the clip (top-left corner and size); ``label`` what it is
    (``plate``); ``key`` optionally names the object (e.g. a track id) so that successive
    boxes of the same plate are interpolated between their instants."""

    t_s: float
    x: float
    y: float
    w: float
    h: float
    label: str = "plate"
    key: str = ""

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.t_s, self.x, self.y, self.w, self.h)):
            raise ValueError(f"timed box values must be finite, got {self}")
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"timed box must have w > 0 and h > 0, got {self.w}x{self.h}")

    @property
    def region(self) -> Region:
        return (self.x, self.y, self.x + self.w, self.y + self.h)


class BoxSchedule:
    """Which of the given boxes apply at a frame time (pure; built once per clip).

    Boxes with a ``key`` form one track each: between two of its boxes at most
    ``2 * hold_s`` apart the box is interpolated linearly (a moving plate between the
    analysis' samples); otherwise the nearest within ``hold_s`` is used. Boxes without a key
    are grouped by label: the group's nearest instant within ``hold_s`` is taken, with every
    box given at that instant (several plates seen on the same sampled frame)."""

    def __init__(self, boxes: Sequence[TimedBox], hold_s: float) -> None:
        self.hold_s = hold_s
        groups: dict[tuple[str, str], list[TimedBox]] = {}
        for box in boxes:
            groups.setdefault((box.key, box.label if not box.key else ""), []).append(box)
        self._groups = {k: sorted(v, key=lambda b: b.t_s) for k, v in groups.items()}
        self._times = {k: [b.t_s for b in v] for k, v in self._groups.items()}

    def at(self, t: float) -> list[Region]:
        """Regions to blur on the frame shown at ``t`` seconds."""
        out: list[Region] = []
        eps = 1e-9
        for k, boxes in self._groups.items():
            times = self._times[k]
            i = bisect.bisect_right(times, t + eps)
            before = boxes[i - 1] if i > 0 else None
            j = bisect.bisect_left(times, t - eps)
            after = boxes[j] if j < len(boxes) else None
            # A keyed track: interpolate between its neighbouring boxes.
            if (k[0] and before is not None and after is not None
                    and after.t_s > before.t_s
                    and after.t_s - before.t_s <= 2 * self.hold_s + eps):
                a = (t - before.t_s) / (after.t_s - before.t_s)
                (p0, p1, p2, p3), (q0, q1, q2, q3) = before.region, after.region
                out.append((p0 + a * (q0 - p0), p1 + a * (q1 - p1), p2 + a * (q2 - p2),
                            p3 + a * (q3 - p3)))
                continue
            candidates = [b for b in (before, after) if b is not None
                          and abs(b.t_s - t) <= self.hold_s + eps]
            if not candidates:
                continue
            nearest = min(candidates, key=lambda b: abs(b.t_s - t)).t_s
            if k[0]:
                out.append(next(b for b in candidates if b.t_s == nearest).region)
            else:
                lo = bisect.bisect_left(times, nearest)
                hi = bisect.bisect_right(times, nearest)
                out.extend(b.region for b in boxes[lo:hi])
        return out


def grow(region: Region, margin: float, width: int, height: int) -> tuple[int, int, int, int]:
    """``region`` enlarged by ``margin`` × its size on each side, rounded outwards to even
    pixels (so the 4:2:0 chroma samples of the edge are inside too) and clipped to the
    frame: integer ``x0, y0, x1, y1`` (empty when outside the frame)."""
    x0, y0, x1, y1 = region
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    ix0 = max(0, math.floor((x0 - mx) / 2) * 2)
    iy0 = max(0, math.floor((y0 - my) / 2) * 2)
    ix1 = min(width, math.ceil((x1 + mx) / 2) * 2)
    iy1 = min(height, math.ceil((y1 + my) / 2) * 2)
    return ix0, iy0, max(ix0, ix1), max(iy0, iy1)


def obscure(img: npt.NDArray[np.uint8], box: tuple[int, int, int, int], blocks: int,
            noise: float, rng: np.random.Generator) -> None:
    """Obscure ``img[y0:y1, x0:x1]`` in place, irreversibly (``img``: one plane ``(H, W)``
    or an ``(H, W, C)`` image).

    Why not a plain Gaussian blur: a known, linear blur of a region is in principle undone
    by deconvolution (sharpening filters recover recognisable faces and legible text from
    moderate blurs). Here the region is first *averaged* into at most ``blocks`` blocks
    along its longer side: every pixel of a block is replaced by the block's mean, a
    many-to-one map, so the detail inside a block (eyes, characters: each smaller than a
    block) is gone, not hidden. Random noise is then added to each block mean (fresh
    randomness per call, not reproducible) so the few remaining means cannot be matched
    against rendered candidates (a known attack on pixelated plates and text). Last, a
    Gaussian of half a block smooths the block edges, which only removes information."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return
    region = img[y0:y1, x0:x1]
    size = max(2, math.ceil(max(w, h) / blocks))
    bw, bh = max(1, math.ceil(w / size)), max(1, math.ceil(h / size))
    means = np.asarray(cv2.resize(region, (bw, bh), interpolation=cv2.INTER_AREA),
                       dtype=np.float32)
    if noise > 0:
        means += rng.normal(0.0, noise, means.shape).astype(np.float32)
    small = np.clip(means, 0, 255).astype(np.uint8)
    up = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    region[...] = cv2.GaussianBlur(up, (0, 0), sigmaX=size / 2.0,
                                   borderType=cv2.BORDER_REPLICATE)


@dataclass(frozen=True)
class FaceSpan:
    """A run of consecutive frames on which at least one face box was blurred: frame
    indices (0 = first frame) and times in seconds from the clip's first frame, inclusive,
    and the most faces blurred on one of its frames."""

    first_frame: int
    last_frame: int
    t_from_s: float
    t_to_s: float
    max_faces: int

    def to_json(self) -> dict[str, float | int]:
        return {"first_frame": self.first_frame, "last_frame": self.last_frame,
                "t_from_s": round(self.t_from_s, 6), "t_to_s": round(self.t_to_s, 6),
                "max_faces": self.max_faces}


@dataclass(frozen=True)
class RedactionLog:
    """What one redaction did; times in seconds from the clip's first frame.

    ``faces_detected``: face boxes found and blurred, summed over frames; ``faces_held``:
    boxes blurred on a frame where the detector missed a face it had found on one of the
    previous ``face_hold_frames`` frames; ``plate_boxes_blurred``: plate regions blurred,
    summed over frames (``plate_frames`` frames had one or more); ``plate_boxes_given``:
    the boxes the caller gave; ``downscaled_frames`` / ``tiled_frames``: frames the detector
    saw reduced to its 960 px limit / also as full-resolution tiles."""

    source: str
    output: str
    detector: str
    detector_version: str
    score_threshold: float
    frames: int
    duration_s: float
    frame_rate: str
    width: int
    height: int
    faces_detected: int
    faces_held: int
    frames_with_faces: int
    max_faces_in_frame: int
    face_spans: tuple[FaceSpan, ...]
    plate_boxes_given: int
    plate_boxes_blurred: int
    plate_frames: int
    downscaled_frames: int
    tiled_frames: int
    settings: RedactionSettings
    elapsed_s: float = field(compare=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``redaction-log.json`` in a bundle)."""
        return {
            "source": self.source, "output": self.output,
            "what": "faces found by the face detector (detection only, no recognition) and "
                    "the plate boxes given are blurred; the master is not altered",
            "detector": {"name": self.detector, "version": self.detector_version,
                         "score_threshold": self.score_threshold},
            "frames": self.frames, "duration_s": round(self.duration_s, 6),
            "frame_rate": self.frame_rate, "width": self.width, "height": self.height,
            "faces": {"detected": self.faces_detected, "held": self.faces_held,
                      "frames_with_faces": self.frames_with_faces,
                      "max_in_frame": self.max_faces_in_frame,
                      "spans": [s.to_json() for s in self.face_spans]},
            "plates": {"boxes_given": self.plate_boxes_given,
                       "boxes_blurred": self.plate_boxes_blurred,
                       "frames": self.plate_frames},
            "downscaled_frames": self.downscaled_frames, "tiled_frames": self.tiled_frames,
            "settings": self.settings.model_dump(mode="json"),
            "elapsed_s": round(self.elapsed_s, 3),
            "review": "small, turned, masked or blurred faces may be missed: review the "
                      "redacted copy before disclosure",
        }


def _iou(a: Region, b: Region) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class _FaceHold:
    """Face boxes of recent frames, so a face the detector misses for a few frames (turned
    head, motion blur) stays blurred. A held box is dropped once a new detection overlaps
    it or ``frames`` frames have passed without one."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self._recent: list[tuple[Region, int]] = []

    def update(self, index: int, found: list[Region]) -> list[Region]:
        """Boxes to blur on frame ``index`` beside ``found`` (the held ones)."""
        held = [(r, seen) for r, seen in self._recent
                if index - seen <= self.frames and all(_iou(r, f) < 0.3 for f in found)]
        self._recent = [(f, index) for f in found] + held
        return [r for r, _ in held]


def _planes(frame: av.VideoFrame) -> list[npt.NDArray[np.uint8]]:
    """Y, U, V of a yuv420p frame as writable arrays (line padding dropped), the luma
    padded to even sizes by repeating its last row/column (4:2:0 H.264 needs even sizes;
    nothing is cut, and the chroma planes already have ``ceil(size / 2)`` samples)."""
    out = []
    for plane in frame.planes:
        buf = np.frombuffer(memoryview(plane), np.uint8)
        rows = buf[: plane.line_size * plane.height].reshape(plane.height, plane.line_size)
        out.append(np.array(rows[:, : plane.width], dtype=np.uint8))
    y = out[0]
    h, w = y.shape
    if h % 2 or w % 2:
        out[0] = np.pad(y, ((0, h % 2), (0, w % 2)), mode="edge")
    return out


def _frame_of(planes: list[npt.NDArray[np.uint8]]) -> av.VideoFrame:
    """A yuv420p frame from even-sized Y, U, V planes (PyAV's stacked layout)."""
    h, w = planes[0].shape
    flat = np.concatenate([p.ravel() for p in planes])
    return av.VideoFrame.from_ndarray(flat.reshape(h * 3 // 2, w), format="yuv420p")


def _obscure_yuv(planes: list[npt.NDArray[np.uint8]], box: tuple[int, int, int, int],
                 blocks: int, noise: float, rng: np.random.Generator) -> None:
    """:func:`obscure` on the luma and, at half resolution, on both chroma planes. The noise
    goes on the luma only: the detail that identifies is in the luma, and noise in the
    chroma would only paint coloured speckles."""
    obscure(planes[0], box, blocks, noise, rng)
    x0, y0, x1, y1 = box
    half = (x0 // 2, y0 // 2, -(-x1 // 2), -(-y1 // 2))
    for chroma in planes[1:]:
        obscure(chroma, half, blocks, 0.0, rng)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def redact_clip(source: Path, out: Path, plates: Sequence[TimedBox], *,
                settings: RedactionSettings, detector: FaceDetector | None = None,
                progress: Callable[[float], None] | None = None) -> RedactionLog:
    """Write ``out`` (H.264 yuv420p MP4): ``source`` with faces and ``plates`` blurred.

    ``detector`` defaults to the built-in one made from ``settings`` (a caller redacting
    several clips passes one to reuse it); ``progress`` is called with the fraction of the
    clip done (0-1, by time). Raises :class:`InputError` when ``out`` is ``source``,
    :class:`MediaError` when the clip cannot be decoded or the copy written, and
    :class:`~retrouve.errors.ModelError` naming the package when the face detector is not
    installed."""
    if _same_file(source, out):
        raise InputError(f"refusing to redact {source} onto itself: a redacted copy is a "
                         "separate file, the source (master) is never altered")
    if detector is None:
        detector = FaceDetector(settings.face_threshold, large=settings.large_frames,
                                tile_overlap=settings.tile_overlap_px)
    started = time.perf_counter()
    schedule = BoxSchedule(plates, settings.plate_hold_s)
    hold = _FaceHold(settings.face_hold_frames)
    rng = np.random.default_rng()  # fresh entropy: the noise must not be reproducible
    frames = faces = held_total = with_faces = max_faces = 0
    plate_blurred = plate_frames = downscaled = tiled = 0
    spans: list[FaceSpan] = []
    span_start: tuple[int, float, int] | None = None  # first frame, its time, max faces
    last_t = 0.0
    try:
        with av.open(str(source)) as inp:
            if not inp.streams.video:
                raise MediaError(f"{source}: no video stream to redact")
            ist = inp.streams.video[0]
            ist.thread_type = "AUTO"
            base = ist.time_base or Fraction(1, 90000)
            rate = ist.average_rate or ist.guessed_rate or Fraction(25)
            origin = ist.start_time
            total = float(ist.duration * base) if ist.duration else None
            width, height = ist.codec_context.width, ist.codec_context.height
            with av.open(str(out), "w", format="mp4") as outc:
                ost = outc.add_stream("libx264", rate=rate)
                ost.width, ost.height = width + width % 2, height + height % 2
                ost.pix_fmt = "yuv420p"
                # The source's time base, and each frame's own presentation time: the copy
                # shows every frame at the instant the source does (variable rate too).
                ost.time_base = base
                ost.codec_context.time_base = base
                ost.options = {"crf": str(settings.crf), "preset": settings.preset}
                for frame in inp.decode(ist):
                    if origin is None:
                        origin = frame.pts if frame.pts is not None else 0
                    pts = (frame.pts - origin if frame.pts is not None
                           else round(frames / rate / base))
                    t = float(pts * base)
                    # Blur in the decoded YUV planes: pixels outside the regions stay
                    # exactly as decoded (a YUV → RGB → YUV round trip would shift colours
                    # by a few levels); RGB is made for the detector only.
                    yuv = frame if frame.format.name == "yuv420p" else frame.reformat(
                        format="yuv420p")
                    planes = _planes(yuv)
                    img: npt.NDArray[np.uint8] = np.ascontiguousarray(
                        frame.to_ndarray(format="bgr24"), dtype=np.uint8)
                    scan = detector.detect(img)
                    found: list[Region] = [
                        (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
                        for b in scan.boxes]
                    kept = hold.update(frames, found)
                    downscaled += scan.downscaled
                    tiled += scan.tiles > 0
                    h, w = img.shape[:2]
                    for region in found + kept:
                        _obscure_yuv(planes, grow(region, settings.face_margin, w, h),
                                     settings.blocks_across, settings.noise_level, rng)
                    plate_regions = schedule.at(t)
                    for region in plate_regions:
                        _obscure_yuv(planes, grow(region, settings.plate_margin, w, h),
                                     settings.blocks_across, settings.noise_level, rng)
                    n_faces = len(found) + len(kept)
                    faces += len(found)
                    held_total += len(kept)
                    plate_blurred += len(plate_regions)
                    plate_frames += bool(plate_regions)
                    if n_faces:
                        with_faces += 1
                        max_faces = max(max_faces, n_faces)
                        span_start = ((frames, t, n_faces) if span_start is None else
                                      (span_start[0], span_start[1],
                                       max(span_start[2], n_faces)))
                    elif span_start is not None:
                        spans.append(FaceSpan(span_start[0], frames - 1, span_start[1],
                                              last_t, span_start[2]))
                        span_start = None
                    new = _frame_of(planes)
                    new.pts = pts
                    new.time_base = base
                    for packet in ost.encode(new):
                        outc.mux(packet)
                    frames += 1
                    last_t = t
                    if progress is not None and total:
                        progress(min(1.0, t / total))
                for packet in ost.encode():
                    outc.mux(packet)
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot redact {source} into {out}: {exc}") from exc
    if span_start is not None:
        spans.append(FaceSpan(span_start[0], frames - 1, span_start[1], last_t,
                              span_start[2]))
    if frames == 0:
        raise MediaError(f"{source}: no frame could be decoded to redact")
    if progress is not None:
        progress(1.0)
    return RedactionLog(
        source=source.name, output=out.name, detector=detector.name,
        detector_version=detector.version, score_threshold=detector.threshold,
        frames=frames, duration_s=last_t + float(1 / rate), frame_rate=str(rate),
        width=width, height=height, faces_detected=faces, faces_held=held_total,
        frames_with_faces=with_faces, max_faces_in_frame=max_faces, face_spans=tuple(spans),
        plate_boxes_given=len(plates), plate_boxes_blurred=plate_blurred,
        plate_frames=plate_frames, downscaled_frames=downscaled, tiled_frames=tiled,
        settings=settings, elapsed_s=time.perf_counter() - started)
