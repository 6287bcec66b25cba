"""Decode a slice of a recording at a sampling rate, with PyAV.

Every frame of the slice is decoded (inter-frame codecs need it; frame-threaded decoding keeps
it cheap) but only the frames nearest the sampling instants ``t0 + k / sample_fps`` are
converted to pixels, and lazily: the motion gate first asks for a tiny greyscale image
(``small_gray``, converted by swscale straight from YUV) and only frames that pass the gate pay
for the full-resolution RGB conversion (``rgb``). Times are recording seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from retrouve.errors import MediaError

#: Width of the greyscale image the motion gate works on.
GATE_WIDTH = 160


@dataclass
class SampledFrame:
    """One sampled frame. ``t`` in recording seconds; images are converted on demand."""

    index: int
    t: float
    _frame: av.VideoFrame = field(repr=False)
    _rgb: npt.NDArray[np.uint8] | None = field(default=None, repr=False)

    @property
    def width(self) -> int:
        return int(self._frame.width)

    @property
    def height(self) -> int:
        return int(self._frame.height)

    def small_gray(self, width: int = GATE_WIDTH) -> npt.NDArray[np.uint8]:
        """``(h, width)`` uint8 luma, aspect ratio kept (h rounded to even)."""
        h = max(2, round(self.height * width / self.width / 2) * 2)
        img = self._frame.reformat(width=width, height=h, format="gray").to_ndarray()
        return np.ascontiguousarray(img, dtype=np.uint8)

    def rgb(self) -> npt.NDArray[np.uint8]:
        """Full-resolution ``(H, W, 3)`` uint8 RGB (cached)."""
        if self._rgb is None:
            self._rgb = np.ascontiguousarray(self._frame.to_ndarray(format="rgb24"))
        return self._rgb


@dataclass
class DecodeCounter:
    """Frames decoded so far (all of them, sampled or not), and how far decoding got:
    ``decoded_until`` is the end (recording seconds) of the last decoded frame, or ``t1``
    when a frame at or past ``t1`` was reached (None before any frame)."""

    decoded: int = 0
    decoded_until: float | None = None


def sample_frames(
    path: Path | str,
    t0: float,
    t1: float,
    sample_fps: float,
    counter: DecodeCounter | None = None,
    label: str | None = None,
) -> Iterator[SampledFrame]:
    """Yield frames of ``[t0, t1)`` about ``1 / sample_fps`` seconds apart.

    A sampling instant takes the first decoded frame at or after it (minus half a frame of
    tolerance), so a 25 fps stream sampled at 4 fps yields frames 0.24/0.28 s apart. A still
    image yields its one frame. Raises :class:`MediaError` naming ``label`` (or the file) and
    the time of the failure when the stream cannot be decoded.
    """
    name = label or str(path)
    counter = counter or DecodeCounter()
    step = 1.0 / sample_fps
    container = open_video(path, name)
    if t0 > 0:
        try:
            stream = container.streams.video[0]
            assert stream.time_base is not None
            container.seek(int(t0 / stream.time_base), stream=stream, backward=True)
        except (av.FFmpegError, AssertionError):
            # Raw elementary streams cannot seek (and a failed seek leaves the demuxer
            # unusable): reopen, decode from the start and skip up to t0.
            container.close()
            container = open_video(path, name)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 25.0
        half_frame = 0.5 / fps
        next_t = t0
        index = -1
        last_t = -1.0
        try:
            for frame in container.decode(stream):
                index += 1
                counter.decoded += 1
                # Some AVI/MPEG-4 files carry no timestamps: fall back to the frame count.
                t = float(frame.time) if frame.time is not None else index / fps
                if t <= last_t:  # duplicated or non-monotonic timestamps: keep order sane
                    t = last_t + half_frame
                last_t = t
                if t >= t1:
                    counter.decoded_until = t1
                    break
                # A frame lasts until the next one: its end is how far the content goes.
                counter.decoded_until = t + 2 * half_frame
                if t < t0 - half_frame:
                    continue
                if t + half_frame >= next_t:
                    yield SampledFrame(index=index, t=t, _frame=frame)
                    # Skip ahead on the sampling grid (no burst after a timestamp gap).
                    while next_t <= t + half_frame:
                        next_t += step
        except (av.FFmpegError, OSError) as exc:
            # PyAV's errors mapped here, naming the recording and file (``label``).
            raise MediaError(f"cannot decode {name} at t={last_t:.2f}s: {exc}") from exc


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
