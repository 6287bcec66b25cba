"""The recording time base: raw presentation timestamps → monotonic *recording seconds*.

Recording second 0 is the stream's first timestamp (``stream.start_time``, or the first
frame's when the container gives none): an MPEG-TS export whose clock starts at 1.4 s or at
10 h maps its first frame to 0, like an MP4. Within a *segment* a frame's recording time is
``(pts − origin) × time_base`` plus the segment's offset, so gaps of a few seconds (variable
frame rates, dropped frames) are kept as recorded.

A *discontinuity* is a raw step backwards of more than :data:`BACKWARD_TOLERANCE_FRAMES`
frame periods (a PTS reset: two NVR segments concatenated, a camera reboot) or forwards of more than
:data:`MAX_GAP_S` (a jump). The timeline is then built from frame order: the first frame
after it is placed one frame period after the last one, and the step is recorded as a
:class:`Discontinuity`. Recording time thus never goes back and never leaps, the stored
duration (computed by the probe with the same rule over the packets) bounds every time the
analysis produces, and the wall clock of frames after a discontinuity is an estimate: the
recording start plus the footage *before* them. Frames without timestamps are placed at
``index / fps`` (raw streams, some AVI).

Pure: no PyAV, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final, Literal

#: Largest forward step (s) between successive timestamps kept as a gap in the footage.
MAX_GAP_S: Final = 10.0
#: A backward step up to this many frame periods is jitter (kept monotonic by half a frame);
#: beyond, a reset (decoders give frames in presentation order, so any real step back is one).
BACKWARD_TOLERANCE_FRAMES: Final = 1.5


@dataclass(frozen=True)
class Discontinuity:
    """A timestamp reset or jump. ``at_s``: recording second of the first frame after it;
    ``raw_step_s``: the raw timestamp step (negative for a reset); ``index``: that frame's
    (or packet's) position in the sequence."""

    index: int
    at_s: float
    raw_step_s: float

    @property
    def kind(self) -> Literal["reset", "jump"]:
        return "reset" if self.raw_step_s < 0 else "jump"

    def describe(self) -> str:
        return (f"timestamp {self.kind} of {self.raw_step_s:+.2f} s at recording second "
                f"{self.at_s:.2f}: later times follow frame order")


@dataclass
class Timeline:
    """Places successive timestamps (presentation order) on the recording time base.

    ``time_base``: the stream's (seconds per tick); ``origin``: the raw timestamp of recording
    second 0 (``None``: the first one seen); ``fps``: the nominal rate, whose period is the
    step after a discontinuity and for frames without timestamps.
    """

    time_base: Fraction | None
    fps: float
    origin: int | None = None
    discontinuities: list[Discontinuity] = field(default_factory=list)
    _offset: float = 0.0
    _last_raw: float | None = None
    _last_t: float = -1.0
    _count: int = 0

    @property
    def period(self) -> float:
        return 1.0 / self.fps if self.fps > 0 else 0.04

    def place(self, pts: int | None) -> float:
        """Recording seconds of the next timestamp (strictly after the previous one)."""
        index = self._count
        self._count += 1
        if pts is None or self.time_base is None:
            t = index * self.period
        else:
            if self.origin is None:
                self.origin = pts
            raw = float((pts - self.origin) * self.time_base)
            if self._last_raw is not None:
                step = raw - self._last_raw
                if step < -BACKWARD_TOLERANCE_FRAMES * self.period or step > MAX_GAP_S:
                    self._offset = self._last_t + self.period - raw
                    self.discontinuities.append(
                        Discontinuity(index, self._last_t + self.period, step))
            self._last_raw = raw
            t = raw + self._offset
        if t <= self._last_t:  # duplicated or jittering timestamps: keep order sane
            t = self._last_t + 0.5 * self.period
        self._last_t = t
        return t

    @property
    def last(self) -> float:
        """Recording seconds of the last placed timestamp (−1 before any)."""
        return self._last_t


@dataclass
class PacketSpan:
    """The extent of a stream measured over its packets in *decode* order (no decoding).

    Segments are cut where the decode timestamps step like :class:`Timeline`'s
    discontinuities; each segment spans its smallest to largest presentation timestamp, and
    segments are laid end to end one frame period apart — what :class:`Timeline` gives the
    decoded frames. :meth:`duration` is the last frame's recording time plus one period.
    """

    time_base: Fraction
    fps: float
    origin: int | None = None
    packets: int = 0
    discontinuities: list[Discontinuity] = field(default_factory=list)
    _start: float | None = None  # recording second of a later segment's first frame
    _seg_min: float | None = None
    _seg_max: float | None = None
    _last_dts: float | None = None
    _shift: float = 0.0  # recording seconds minus raw seconds in the current segment

    @property
    def period(self) -> float:
        return 1.0 / self.fps if self.fps > 0 else 0.04

    def add(self, pts: int | None, dts: int | None) -> tuple[float, float] | None:
        """Account one packet (``pts``/``dts`` raw ticks) and return its ``(pts, dts)`` in
        recording seconds (``None`` for a packet without timestamps, which is counted).

        A segment after a discontinuity is shifted so that its first packet's pts lands
        where :class:`Timeline` puts its first frame."""
        self.packets += 1
        stamp = dts if dts is not None else pts
        if stamp is None:
            return None
        if self.origin is None:
            self.origin = pts if pts is not None else stamp
        d = float((stamp - self.origin) * self.time_base)
        p = float(((pts if pts is not None else stamp) - self.origin) * self.time_base)
        if self._last_dts is not None and self._seg_min is not None and self._seg_max is not None:
            step = d - self._last_dts
            if step < -BACKWARD_TOLERANCE_FRAMES * self.period or step > MAX_GAP_S:
                start = self._seg_min if self._start is None else self._start
                self._start = start + self._seg_max - self._seg_min + self.period
                self._shift = self._start - p
                self.discontinuities.append(
                    Discontinuity(self.packets - 1, self._start, step))
                self._seg_min = self._seg_max = None
        self._last_dts = d
        self._seg_min = p if self._seg_min is None else min(self._seg_min, p)
        self._seg_max = p if self._seg_max is None else max(self._seg_max, p)
        return p + self._shift, d + self._shift

    @property
    def shift_s(self) -> float:
        """Recording seconds minus raw seconds for the packets of the current segment."""
        return self._shift

    def duration(self) -> float:
        """Seconds from recording second 0 to the end of the last frame (0: no timestamps)."""
        if self._seg_min is None or self._seg_max is None:
            return 0.0
        # The first segment starts at its own first pts (≈ 0 when origin is start_time).
        start = self._seg_min if self._start is None else self._start
        return max(0.0, start + (self._seg_max - self._seg_min) + self.period)
