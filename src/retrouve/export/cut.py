"""The master clip: a cut of the original recording WITHOUT re-encoding (LEGAL.md rows 13, 15).

The packets of the video stream are copied as they are, from the key frame at or before the
requested start (a clip cannot begin on a frame that depends on earlier ones) up to the last
packet whose decode time is at or before the requested end (every frame shown up to the end is
then present with the frames it references). Times are recording seconds as
:mod:`retrouve.video.timeline` defines them (0 = the stream's first timestamp; across a PTS
reset or jump, frame order), measured on the packets by its ``PacketSpan``. An MPEG-TS master
is cut like any other (into the ``dst`` suffix's container, usually MP4); a cut spanning a
discontinuity has its copied timestamps rewritten onto that one timeline (the packets' bytes
are untouched), since MP4/MKV muxers refuse timestamps that go back.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from retrouve.errors import MediaError
from retrouve.video.timeline import PacketSpan


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
            rate = stream.average_rate or stream.guessed_rate
            clock = PacketSpan(base, float(rate) if rate else 25.0, stream.start_time)
            # One demux pass (no decoding): keep the packets since the last key frame until
            # the start is reached, then everything up to the end.
            pending: list[tuple[av.Packet, float]] = []  # type: ignore[type-arg]  # (packet, pts s)
            started = False
            with av.open(str(dst), "w") as out:
                ostream = out.add_stream_from_template(stream)
                copied, first, last = 0, 0.0, 0.0
                for packet in inp.demux(stream):
                    if packet.size == 0 or packet.pts is None:
                        continue  # the demuxer's flush packet
                    placed = clock.add(packet.pts, packet.dts)
                    assert placed is not None
                    pts, when = placed
                    _onto_timeline(packet, clock.shift_s, base)
                    if not started:
                        if packet.is_keyframe and pts <= t_from + 1e-6:
                            pending = [(packet, pts)]
                            first = pts
                            continue
                        if pending and pts < t_from - 1e-6:
                            pending.append((packet, pts))
                            continue
                        if not pending:
                            continue  # no key frame seen yet
                        started = True
                        for p, p_pts in pending:
                            last = max(last, p_pts)
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
                    for p, p_pts in pending:
                        last = max(last, p_pts)
                        p.stream = ostream
                        out.mux(p)
                        copied += 1
        if copied == 0:
            raise MediaError(f"{src}: no key frame at or before {t_from:.3f}s to cut from")
    except av.FFmpegError as exc:
        raise MediaError(f"{src}: cannot cut {t_from:.3f}–{t_to:.3f}s: {exc}") from exc
    return CutPoints(t_from, t_to, first, last, copied)


def _onto_timeline(packet: av.Packet, shift_s: float, base: Fraction) -> None:  # type: ignore[type-arg]
    """Move a packet of a segment after a discontinuity onto the recording timeline."""
    if shift_s == 0.0:
        return
    ticks = round(shift_s / base)
    assert packet.pts is not None
    packet.pts += ticks
    if packet.dts is not None:
        packet.dts += ticks
