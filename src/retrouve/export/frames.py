"""Decoded frames of a span of a recording, with their times, for the working copy and the
stills. Times are recording seconds in the analysis's own rule (PyAV's ``frame.time``, as in
:func:`retrouve.video.decode.sample_frames`), so a track's ``best_t`` finds its frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av

from retrouve.video.seeking import open_video


def frame_rate(stream: av.VideoStream) -> float:
    """The stream's frame rate (25 when the file does not say)."""
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else 25.0


def timed_frames(container: av.container.InputContainer, t_from: float
                 ) -> Iterator[tuple[float, av.VideoFrame]]:
    """``(t, frame)`` from the key frame at or before ``t_from`` on (strictly increasing
    ``t``; a frame without a time gets the previous one's plus half a frame)."""
    vs = container.streams.video[0]
    vs.thread_type = "AUTO"
    half = 0.5 / frame_rate(vs)
    if t_from > 0 and vs.time_base is not None:
        try:  # to the key frame before t_from: decoding starts there, not at 0
            container.seek(int(t_from / vs.time_base), stream=vs, backward=True)
        except av.FFmpegError:
            container.seek(0, stream=vs, backward=True)
    last = -1.0
    for frame in container.decode(vs):
        t = float(frame.time) if frame.time is not None else last + 2 * half
        if t <= last:
            t = last + half
        last = t
        yield t, frame


def open_span(path: Path, name: str) -> av.container.InputContainer:
    """The recording opened for decoding (:class:`~retrouve.errors.MediaError` naming
    ``name``)."""
    return open_video(path, name, "export")


__all__ = ["frame_rate", "open_span", "timed_frames"]
