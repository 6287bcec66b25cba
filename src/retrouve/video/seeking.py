"""Position a demuxer on a key frame at or before a recording second.

Index-based containers (MP4, MKV with cues) land right; timestamp-searching ones (MPEG-TS,
MPEG-PS) land on any packet near the target, possibly after the last key frame before it
(a camera with one key frame a minute, or a whole clip in one GOP, then decodes nothing), so
the landing is checked and the seek retried further back. Recording seconds map to raw
timestamps as ``origin + t / time_base`` only while no timestamp reset or jump lies before
the target (:mod:`retrouve.video.timeline`); for containers without an index the packets are
scanned first (demuxing only) and a file with a discontinuity is read from its start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import av
import av.container

from retrouve.errors import MediaError
from retrouve.video.timeline import PacketSpan

#: Seconds to step back when a seek lands after its target.
SEEK_BACKOFF: Final = (0.0, 2.0, 10.0, 30.0, 120.0)
#: Demuxers that find a time by searching timestamps (no index): their files are scanned
#: for discontinuities before a seek, and their duration is measured over the packets.
UNINDEXED: Final = frozenset({"mpegts", "mpeg", "mpegvideo", "h264", "hevc", "m4v"})


def open_video(path: Path | str, name: str, purpose: str = "decode"
               ) -> av.container.InputContainer:
    """Open a file that must hold a video stream; :class:`MediaError` names ``name`` and
    what could not be done (``cannot decode …``, ``cannot play …``)."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot open {name}: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise MediaError(f"cannot {purpose} {name}: no video stream")
    return container


def is_unindexed(container: av.container.InputContainer) -> bool:
    return bool(UNINDEXED & set(container.format.name.split(",")))


def scan_packets(path: Path | str, fps: float) -> PacketSpan | None:
    """Every video packet's timestamps (demux only); ``None`` without a time base."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.time_base is None:
            return None
        span = PacketSpan(stream.time_base, fps, stream.start_time)
        for packet in container.demux(stream):
            if packet.size:
                span.add(packet.pts, packet.dts)
        return span


def _first_key_time(container: av.container.InputContainer, origin: int) -> float | None:
    """Recording seconds of the next key frame packet (consumes packets up to it)."""
    stream = container.streams.video[0]
    assert stream.time_base is not None
    for pkt in container.demux(stream):
        if pkt.is_keyframe and pkt.pts is not None:
            return float((pkt.pts - origin) * stream.time_base)
    return None


def seek_before(
    path: Path | str, name: str, container: av.container.InputContainer, t: float,
    origin: int | None, purpose: str = "decode",
) -> av.container.InputContainer:
    """Position ``container`` on a key frame at or before recording second ``t``.

    Returns the container to read: a new one when the old had to be reopened (a failed seek
    leaves the demuxer unusable), positioned at the start when seeking cannot be trusted
    (raw streams, timestamp discontinuities) — the caller then skips frames up to ``t``.
    """
    if t <= 0:
        return container
    stream = container.streams.video[0]
    base = stream.time_base
    if base is None:
        return container
    zero = origin or 0
    if is_unindexed(container):
        rate = stream.average_rate or stream.guessed_rate
        span = scan_packets(path, float(rate) if rate else 25.0)
        if span is None or span.discontinuities or span.origin is None:
            container.close()
            return open_video(path, name, purpose)
    try:
        for back in SEEK_BACKOFF:
            at = t - back
            if at <= 0:
                break
            container.seek(zero + int(at / base), stream=stream, backward=True)
            first = _first_key_time(container, zero)
            if first is not None and first <= t:
                # The peek consumed packets: seeking the same target lands the same place.
                container.seek(zero + int(at / base), stream=stream, backward=True)
                return container
    except (av.FFmpegError, AssertionError):
        pass
    container.close()
    return open_video(path, name, purpose)
