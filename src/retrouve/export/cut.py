"""The master clip: a cut of the original recording WITHOUT re-encoding (LEGAL.md rows 13, 15).

The packets of the video stream are copied as they are, from the key frame at or before the
requested start (a clip cannot begin on a frame that depends on earlier ones) up to the last
packet whose decode time is at or before the requested end (every frame shown up to the end is
then present with the frames it references). Times are recording seconds (0 = first frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from retrouve.errors import MediaError


@dataclass(frozen=True)
class CutPoints:
    """Requested and actual bounds of a master cut, in recording seconds.

    ``actual_from`` is the presentation time of the first key frame copied (≤
    ``requested_from``); ``actual_to`` the largest presentation time copied; ``packets`` the
    number of video packets copied."""

    requested_from: float
    requested_to: float
    actual_from: float
    actual_to: float
    packets: int

    def to_json(self) -> dict[str, float | int]:
        return {"requested_from_s": self.requested_from, "requested_to_s": self.requested_to,
                "actual_from_s": self.actual_from, "actual_to_s": self.actual_to,
                "packets": self.packets}


def _seconds(value: int | None, base: Fraction, origin: int) -> float | None:
    return None if value is None else float((value - origin) * base)


def cut_master(src: Path, dst: Path, t_from: float, t_to: float) -> CutPoints:
    """Copy the video packets covering ``[t_from, t_to]`` of ``src`` into ``dst`` (same
    container family as ``dst``'s suffix, usually ``.mp4``/``.mkv``); ``MediaError`` when
    nothing can be cut."""
    if t_to < t_from:
        raise MediaError(f"{src}: cut ends ({t_to}s) before it starts ({t_from}s)")
    try:
        with av.open(str(src)) as inp:
            stream = inp.streams.video[0]
            base = stream.time_base
            if base is None:
                raise MediaError(f"{src}: the video stream has no time base")
            origin = stream.start_time or 0
            # One demux pass (no decoding): keep the packets since the last key frame until
            # the start is reached, then everything up to the end.
            pending: list[av.Packet] = []  # type: ignore[type-arg]
            started = False
            with av.open(str(dst), "w") as out:
                ostream = out.add_stream_from_template(stream)
                copied, first, last = 0, 0.0, 0.0
                for packet in inp.demux(stream):
                    if packet.size == 0 or packet.pts is None:
                        continue  # the demuxer's flush packet
                    pts = _seconds(packet.pts, base, origin)
                    dts = _seconds(packet.dts, base, origin)
                    assert pts is not None
                    when = dts if dts is not None else pts
                    if not started:
                        if packet.is_keyframe and pts <= t_from + 1e-6:
                            pending = [packet]
                            first = pts
                            continue
                        if pending and pts < t_from - 1e-6:
                            pending.append(packet)
                            continue
                        if not pending:
                            continue  # no key frame seen yet
                        started = True
                        for p in pending:
                            last = max(last, _seconds(p.pts, base, origin) or 0.0)
                            p.stream = ostream
                            out.mux(p)
                            copied += 1
                    if when > t_to + 1e-6:
                        break
                    last = max(last, pts)
                    packet.stream = ostream
                    out.mux(packet)
                    copied += 1
                if not started and pending:  # the window lies in the clip's last GOP
                    for p in pending:
                        last = max(last, _seconds(p.pts, base, origin) or 0.0)
                        p.stream = ostream
                        out.mux(p)
                        copied += 1
        if copied == 0:
            raise MediaError(f"{src}: no key frame at or before {t_from:.3f}s to cut from")
    except av.FFmpegError as exc:
        raise MediaError(f"{src}: cannot cut {t_from:.3f}–{t_to:.3f}s: {exc}") from exc
    return CutPoints(t_from, t_to, first, last, copied)
