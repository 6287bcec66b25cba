"""Decode a slice of a recording at a sampling rate, with PyAV.

Every frame of the slice is decoded (inter-frame codecs need it; frame-threaded decoding keeps
it cheap) but only the frames nearest the sampling instants ``t0 + k / sample_fps`` are
converted to pixels, and lazily: the motion gate first asks for a tiny greyscale image
(``small_gray``, converted by swscale straight from YUV) and only frames that pass the gate pay
for the full-resolution RGB conversion (``rgb``).

Times are *recording seconds* (:mod:`retrouve.video.timeline`: 0 = the stream's first
timestamp, monotonic across PTS resets and jumps). Images are upright and at the *stored*
size (:mod:`retrouve.video.orient`: display-matrix rotation applied, segments at another
resolution scaled), so every box is in pixels of the stored frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from retrouve.errors import MediaError
from retrouve.video.damage import DamageLog
from retrouve.video.orient import displayed_size, quarter_turns, upright
from retrouve.video.seeking import open_video, seek_before
from retrouve.video.still_size import analysis_size, is_still_container
from retrouve.video.still_strict import corrupt_cause, decode_strictly
from retrouve.video.timeline import Timeline

#: Width of the greyscale image the motion gate works on.
GATE_WIDTH = 160


@dataclass
class SampledFrame:
    """One sampled frame. ``t`` in recording seconds; images are converted on demand.

    ``size``: the stored (displayed) ``(width, height)`` every image is given at; ``turns``:
    counter-clockwise quarter turns that make the decoded picture upright. ``None`` size: the
    frame's own (rotated) size.
    """

    index: int
    t: float
    _frame: av.VideoFrame = field(repr=False)
    _rgb: npt.NDArray[np.uint8] | None = field(default=None, repr=False)
    size: tuple[int, int] | None = None
    turns: int = 0

    @property
    def width(self) -> int:
        return self._shown()[0]

    @property
    def height(self) -> int:
        return self._shown()[1]

    def _shown(self) -> tuple[int, int]:
        if self.size is not None:
            return self.size
        return displayed_size(int(self._frame.width), int(self._frame.height), self.turns)

    def _image(self, width: int, height: int, fmt: str) -> npt.NDArray[np.uint8]:
        """The picture at displayed ``width`` × ``height``, upright, in ``fmt``."""
        cw, ch = displayed_size(width, height, self.turns)  # coded orientation
        if (cw, ch) == (self._frame.width, self._frame.height):
            img = self._frame.to_ndarray(format=fmt)
        else:
            img = self._frame.reformat(width=cw, height=ch, format=fmt).to_ndarray()
        return upright(np.ascontiguousarray(img, dtype=np.uint8), self.turns)

    def small_gray(self, width: int = GATE_WIDTH) -> npt.NDArray[np.uint8]:
        """``(h, width)`` uint8 luma, aspect ratio kept (h rounded to even)."""
        h = max(2, round(self.height * width / self.width / 2) * 2)
        return self._image(width, h, "gray")

    def rgb(self) -> npt.NDArray[np.uint8]:
        """``(H, W, 3)`` uint8 RGB at the stored size, upright (cached)."""
        if self._rgb is None:
            self._rgb = self._image(self.width, self.height, "rgb24")
        return self._rgb


@dataclass
class DecodeCounter:
    """Frames decoded so far (all of them, sampled or not), and how far decoding got:
    ``decoded_until`` is the end (recording seconds) of the last decoded frame, or ``t1``
    when a frame at or past ``t1`` was reached (None before any frame); ``last_t``:
    recording seconds of the last decoded frame (−1 before any), whose display ends one
    frame ``period`` later."""

    decoded: int = 0
    decoded_until: float | None = None
    last_t: float = -1.0
    period: float = 0.04
    #: Where the decoder reported corrupt data (damaged packets skipped, decoding went on).
    damage: DamageLog = field(default_factory=DamageLog)


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
    stream = container.streams.video[0]
    origin = stream.start_time
    # Seek only when raw timestamps map to recording seconds one to one (no reset or jump
    # before t0, which only a packet scan can tell); otherwise decode from the start.
    container = seek_before(path, name, container, t0, origin)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 25.0
        half_frame = 0.5 / fps
        coded = (int(stream.codec_context.width), int(stream.codec_context.height))
        still = is_still_container(container)
        if still:
            decode_strictly(stream)  # as probed: a damaged still fails, never concealed
        clock = Timeline(stream.time_base, fps, origin)
        counter.period = clock.period
        size: tuple[int, int] | None = None
        turns = 0
        next_t = t0
        index = -1
        try:
            for frame in _frames(container, stream, counter, clock, still):
                index += 1
                counter.decoded += 1
                t = clock.place(frame.pts)
                counter.damage.resumed(t)
                counter.last_t = t
                if t >= t1:
                    counter.decoded_until = t1
                    break
                # A frame lasts until the next one: its end is how far the content goes.
                counter.decoded_until = t + clock.period
                if size is None:
                    turns = quarter_turns(frame)
                    w, h = coded if coded[0] > 0 else (frame.width, frame.height)
                    size = displayed_size(w, h, turns)
                    if still:
                        # A huge still is analysed scaled down (as probe stored it).
                        size = analysis_size(*size)
                if t < t0 - half_frame:
                    continue
                if t + half_frame >= next_t:
                    yield SampledFrame(index=index, t=t, _frame=frame, size=size, turns=turns)
                    # Skip ahead on the sampling grid (no burst after a timestamp gap).
                    while next_t <= t + half_frame:
                        next_t += step
        except (av.FFmpegError, OSError) as exc:
            # PyAV's errors mapped here, naming the recording and file (``label``).
            raise MediaError(f"cannot decode {name} at t={clock.last:.2f}s: {exc}") from exc
        if counter.damage.reports and counter.decoded == 0:
            # Nothing decodes at all: not a damaged stretch, an undecodable slice.
            cause = counter.damage.stretches[0].cause
            raise MediaError(f"cannot decode {name} at t={clock.last:.2f}s: {cause}")


def _frames(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    counter: DecodeCounter,
    clock: Timeline,
    still: bool,
) -> Iterator[av.VideoFrame]:
    """``stream``'s decoded frames, packet by packet. A packet the decoder refuses as
    invalid data (a damaged stretch in the middle of a clip) is noted in ``counter`` with
    the time of the last frame before it and skipped, so decoding resumes after it instead
    of losing the rest of the slice; a frame the decoder flags corrupt is noted too. A
    still's error is raised (decoded strictly, see :mod:`retrouve.video.still_strict`)."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.InvalidDataError as exc:
            if still:
                raise
            counter.damage.report(max(clock.last + clock.period, 0.0), corrupt_cause(exc))
            continue
        for frame in frames:
            if not isinstance(frame, av.VideoFrame):
                continue
            if frame.is_corrupt and not still:
                counter.damage.report(max(clock.last + clock.period, 0.0),
                                      "frame flagged corrupt")
            yield frame
