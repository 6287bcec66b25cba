"""Where a video's decoder reported corrupt data, and the sentence that reports it.

A stretch of garbage inside a clip makes FFmpeg's H.264 decoder refuse the packets it lands in;
:func:`retrouve.video.decode.sample_frames` skips them and goes on, and this log keeps, for each
damaged stretch, where it starts (the end of the last good frame), where decoding resumed (the
first frame decoded after it) and the decoder's words. Times are recording seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

#: Most damaged stretches kept (with their times) per decoded slice; all are counted.
MAX_STRETCHES: Final = 5


@dataclass
class Stretch:
    """One damaged stretch: from ``start`` (end of the last good frame, recording seconds)
    to ``resumed`` (the next decoded frame; None when none came), ``reports`` refusals."""

    start: float
    cause: str
    resumed: float | None = None
    reports: int = 1

    def describe(self) -> str:
        span = (
            f"{self.start:.2f} s to the end of the slice"
            if self.resumed is None
            else f"{self.start:.2f}–{self.resumed:.2f} s"
        )
        times = f" ×{self.reports}" if self.reports > 1 else ""
        return f"{span} ({self.cause}{times})"


@dataclass
class DamageLog:
    """The damaged stretches of one decoded slice (at most :data:`MAX_STRETCHES` kept)."""

    stretches: list[Stretch] = field(default_factory=list)
    reports: int = 0
    _open: bool = False  # a stretch is going on (no frame decoded since its report)
    _kept: bool = False  # ... and it is the last one of ``stretches``

    def report(self, start: float, cause: str) -> None:
        """The decoder refused data after the frame ending at ``start``."""
        self.reports += 1
        if self._open:
            if self._kept:
                self.stretches[-1].reports += 1  # the same stretch goes on
            return
        self._open = True
        self._kept = len(self.stretches) < MAX_STRETCHES
        if self._kept:
            self.stretches.append(Stretch(round(start, 2), cause))

    def resumed(self, t: float) -> None:
        """A frame at ``t`` decoded: an open stretch ends there."""
        if self._open:
            self._open = False
            if self._kept:
                self.stretches[-1].resumed = round(t, 2)

    def note(self) -> str | None:
        """One sentence for the unit's record, or None when the slice decoded cleanly."""
        if not self.reports:
            return None
        where = ", ".join(s.describe() for s in self.stretches)
        kept = sum(s.reports for s in self.stretches)
        more = f" and {self.reports - kept} more report(s)" if self.reports > kept else ""
        return (
            f"the decoder reported corrupt data at {where}{more}: the damaged data "
            "was skipped, nothing decodes in between, and the frames after it, up to the "
            "next keyframe, may be concealed (partly invented) by the decoder"
        )
