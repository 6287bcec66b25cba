"""Probe a media file with PyAV and hash it.

The SHA-256 is computed in one streaming pass over the file bytes (1 MiB reads, so a 4 GB
export costs one sequential read). What the file *is* comes from its bytes, never its name
(:mod:`retrouve.catalogue.sniff`): a still's header gives its pixel count, and a still over
the limit is refused before anything decodes it, and a still is decoded strictly (a decoder
error is :class:`CorruptStill`, :mod:`retrouve.video.still_strict`). PyAV then reads the
container headers plus a frame at the start and, for indexed containers (MP4, MKV…), one
near the announced end, which is how truncated files are caught at ingest time rather than
hours later in analysis.

Containers without an index or a reliable duration header (MPEG-TS, MPEG-PS, raw H.264/H.265)
are measured over their packets instead (demuxing only, no decoding): the duration is the
recording time (:mod:`retrouve.video.timeline`) of the last frame plus one frame period, so
timestamp resets and jumps are found here and reported in :attr:`Probe.discontinuities`.
The stored size is the *displayed* one (display-matrix rotation applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import av

from retrouve.catalogue.sniff import sniff_still
from retrouve.digest import sha256_file
from retrouve.errors import CorruptStill, ImageTooLarge, MediaError
from retrouve.video.orient import displayed_size, quarter_turns
from retrouve.video.seeking import is_unindexed, scan_packets
from retrouve.video.still_size import analysis_size
from retrouve.video.still_strict import corrupt_cause, decode_strictly
from retrouve.video.timeline import Discontinuity

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
#: Default most pixels (width × height) of a still or video frame accepted at ingest.
MAX_PIXELS: Final = 40_000_000
#: Demuxers of still images (FFmpeg's ``image2`` and ``*_pipe`` families).
_IMAGE_DEMUXERS: Final = ("image2", "_pipe")


@dataclass(frozen=True)
class Probe:
    """What PyAV says about a file. ``duration_s`` is 0 for a still image; ``width`` and
    ``height`` are the displayed size; ``rotation`` the counter-clockwise quarter turns the
    decoder applies; ``discontinuities`` the timestamp resets and jumps found; ``ends_early``
    that no frame decodes near the announced end (a truncated file: it is ingested all the
    same, and the analysis marks it partial where its decodable content ends)."""

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
    rotation: int = 0
    discontinuities: tuple[Discontinuity, ...] = ()
    ends_early: bool = False


def _refuse_pixels(path: Path, width: int, height: int, max_pixels: int, what: str) -> None:
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"cannot use {path}: {what} of {width}×{height} = {width * height / 1e6:.1f} Mpx "
            f"exceeds the limit of {max_pixels / 1e6:.1f} Mpx (setting max_pixels); "
            "refused before decoding")


def probe(path: Path, max_pixels: int = MAX_PIXELS) -> Probe:
    """Probe ``path``; raise :class:`MediaError` naming the file and the cause
    (:class:`ImageTooLarge` for more than ``max_pixels`` pixels)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise MediaError(f"cannot read {path}: file is empty")
    try:
        still = sniff_still(path)
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if still is not None:
        _refuse_pixels(path, still.width, still.height, max_pixels, f"{still.kind} image")
    digest = sha256_file(path)
    discontinuities: tuple[Discontinuity, ...] = ()
    tail_decodes = True
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"cannot use {path}: no video stream")
            demuxer = container.format.name
            is_image = still is not None or any(d in demuxer for d in _IMAGE_DEMUXERS)
            stream = container.streams.video[0]
            ctx = stream.codec_context
            width, height, codec = int(ctx.width), int(ctx.height), str(ctx.name)
            _refuse_pixels(path, width, height, max_pixels, "frame")
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate else 0.0
            duration = _duration(container, stream)
            frames = int(stream.frames) or None
            counted = not is_image and fps > 0 and (duration <= 0 or is_unindexed(container))
            if counted:
                # Every packet was read: nothing announced is missing, no tail to check.
                span = scan_packets(path, fps)
                if span is not None:
                    frames = span.packets
                    measured = span.duration()
                    duration = measured if measured > 0 else frames / fps
                    discontinuities = tuple(span.discontinuities)
            if is_image:
                decode_strictly(stream)  # a concealed (partly invented) still is refused
            first = _first_frame(path, container, stream, is_image)
            if first is None:
                raise MediaError(f"cannot decode {path}: no frame could be decoded")
            turns = quarter_turns(first)
            width, height = displayed_size(width or first.width, height or first.height, turns)
            if not is_image and not counted and duration > 2.0:
                tail_decodes = _tail_decodes(container, stream, duration)
    except MediaError:
        raise
    except (av.FFmpegError, StopIteration, ValueError, OSError) as exc:
        raise MediaError(f"cannot decode {path}: {exc}") from exc
    if is_image:
        # Stored (and analysed, see video.decode) at a bounded size: boxes are in its pixels.
        width, height = analysis_size(width, height)
        return Probe(path, digest, size, 0.0, 0.0, width, height, codec, 1, True, turns)
    if fps <= 0 or fps > 1000:
        raise MediaError(f"cannot use {path}: implausible frame rate {fps}")
    if duration <= 0:
        duration = (frames or 1) / fps
    return Probe(path, digest, size, duration, fps, width, height, codec, frames, False,
                 turns, discontinuities, ends_early=not tail_decodes)


def _first_frame(
    path: Path,
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    is_image: bool,
) -> av.VideoFrame | None:
    """The first decoded frame (None: none decodes); a still's decode error is
    :class:`CorruptStill` with the decoder's words."""
    try:
        return next(container.decode(stream), None)
    except av.InvalidDataError as exc:
        if not is_image:
            raise
        raise CorruptStill(
            f"cannot use {path}: the decoder reported corrupt image data "
            f"({corrupt_cause(exc)}); refused rather than analysing a picture whose damaged "
            "part the decoder would conceal") from exc


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000.0
    return 0.0


def _tail_decodes(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    duration: float,
) -> bool:
    """Whether a frame decodes near the announced end (within 10 s before ``duration - 2``).

    False for a cut-short file, which is not refused for it: what it holds is evidence, the
    analysis decodes it as far as it goes and marks it partial with that range (issue 12).
    Times are raw stream seconds shifted by the stream's start, i.e. recording seconds."""
    target = max(0.0, duration - 2.0)
    assert stream.time_base is not None
    zero = float((stream.start_time or 0) * stream.time_base)
    try:
        container.seek(int((target + zero) / stream.time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.time is not None and frame.time - zero >= target - 10.0:
                return True
    except av.FFmpegError:
        return False  # FFmpeg's "invalid data" past the cut
    return False
