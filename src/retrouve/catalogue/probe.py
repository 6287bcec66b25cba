"""Probe a media file with PyAV and hash it.

The SHA-256 is computed in one streaming pass over the file bytes (1 MiB reads, so a 4 GB
export costs one sequential read); PyAV then reads only the container headers plus a frame at
the start and one near the end, which is how truncated files are caught at ingest time rather
than hours later in analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from retrouve.digest import sha256_file
from retrouve.errors import MediaError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})


@dataclass(frozen=True)
class Probe:
    """What PyAV says about a file. ``duration_s`` is 0 for a still image."""

    path: Path
    sha256: str
    size_bytes: int
    duration_s: float
    fps: float
    width: int
    height: int
    codec: str
    frame_count: int | None
    is_image: bool


def probe(path: Path) -> Probe:
    """Probe ``path``; raise :class:`MediaError` naming the file and the cause."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise MediaError(f"cannot read {path}: file is empty")
    digest = sha256_file(path)
    is_image = path.suffix.lower() in IMAGE_SUFFIXES
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"cannot use {path}: no video stream")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            width, height, codec = int(ctx.width), int(ctx.height), str(ctx.name)
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate else 0.0
            duration = _duration(container, stream)
            frames = int(stream.frames) or None
            counted = duration <= 0 and not is_image and fps > 0
            if counted:
                # Every packet was read: nothing announced is missing, no tail to check.
                frames = _count_packets(path)
                duration = frames / fps
            first = next(container.decode(stream), None)
            if first is None:
                raise MediaError(f"cannot decode {path}: no frame could be decoded")
            if not is_image and not counted and duration > 2.0:
                _check_tail(container, stream, duration, path)
    except MediaError:
        raise
    except (av.FFmpegError, StopIteration, ValueError, OSError) as exc:
        raise MediaError(f"cannot decode {path}: {exc}") from exc
    if is_image:
        return Probe(path, digest, size, 0.0, 0.0, width, height, codec, 1, True)
    if fps <= 0 or fps > 1000:
        raise MediaError(f"cannot use {path}: implausible frame rate {fps}")
    if duration <= 0:
        duration = (frames or 1) / fps
    return Probe(path, digest, size, duration, fps, width, height, codec, frames, False)


def _count_packets(path: Path) -> int:
    """Raw elementary streams (.h264) announce no duration: count packets (no decoding)."""
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(container.streams.video[0]) if p.size)


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000.0
    return 0.0


def _check_tail(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    duration: float,
    path: Path,
) -> None:
    """Decode one frame near the end: a cut-short file fails here with a clear message."""
    target = max(0.0, duration - 2.0)
    assert stream.time_base is not None
    container.seek(int(target / stream.time_base), stream=stream, backward=True)
    for frame in container.decode(stream):
        if frame.time is not None and frame.time >= target - 10.0:
            return
    raise MediaError(
        f"cannot decode {path}: truncated (no frame near the announced end, {duration:.1f} s)"
    )
