"""The working copy of an exhibit: the frames of the window decoded from the original,
the camera's name and each frame's local and UTC time burnt in (Pillow), re-encoded as
H.264 (yuv420p, ``+faststart``) in MP4, which plays in any browser or media player.

Never a substitute for the master: it is re-encoded, and says so in the manifest. Frame
times are kept (millisecond time base), so a variable frame rate stays as recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from retrouve.domain import Camera, Recording
from retrouve.errors import MediaError
from retrouve.export.frames import frame_rate, open_span, timed_frames


@dataclass(frozen=True)
class WorkingCopy:
    """What was encoded: first and last frame times (recording seconds), frame count,
    size in pixels, codec."""

    first_t: float
    last_t: float
    frames: int
    width: int
    height: int
    codec: str

    def to_json(self) -> dict[str, float | int | str]:
        return {"first_frame_s": self.first_t, "last_frame_s": self.last_t,
                "frames": self.frames, "width": self.width, "height": self.height,
                "codec": self.codec, "pix_fmt": "yuv420p", "re_encoded": True}


def stamp(when: datetime, zone: str) -> tuple[str, str]:
    """A frame's local time (with zone abbreviation and offset) and UTC time, to the ms."""
    local = when.astimezone(ZoneInfo(zone))
    off = local.strftime("%z")
    return (f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d} "
            f"{local.tzname()} (UTC{off[:3]}:{off[3:]})",
            f"{when.astimezone(ZoneInfo('UTC')):%H:%M:%S}.{when.microsecond // 1000:03d} UTC")


def burn_in(img: Image.Image, lines: tuple[str, ...]) -> Image.Image:
    """``img`` with ``lines`` written white on a dark band at its top."""
    w, h = img.size
    size = max(10, min(w // 42, h // 22))
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(img)
    pad, step = max(2, size // 4), size + max(2, size // 4)
    draw.rectangle((0, 0, w, pad * 2 + step * len(lines)), fill=(0, 0, 0))
    for i, line in enumerate(lines):
        draw.text((pad, pad + i * step), line, fill=(255, 255, 255), font=font)
    return img


def write_working_copy(rec: Recording, camera: Camera, dst: Path, t_from: float, t_to: float,
                       *, crf: int = 23, preset: str = "veryfast") -> WorkingCopy:
    """Encode the frames of ``rec`` with ``t_from - ½ frame ≤ t ≤ t_to`` (recording seconds)
    into ``dst`` (.mp4); ``MediaError`` when no frame lies in the window."""
    name = f"{rec.camera_id}/{rec.id}"
    if "libx264" not in av.codecs_available:
        raise MediaError(f"cannot write the working copy of {name}: PyAV has no libx264")
    with open_span(Path(rec.path), name) as inp:
        vs = inp.streams.video[0]
        fps = frame_rate(vs)
        half = 0.5 / fps
        out: av.container.OutputContainer | None = None
        ost: av.VideoStream | None = None
        first, last, count, pts = 0.0, 0.0, 0, -1
        try:
            for t, frame in timed_frames(inp, t_from):
                if t < t_from - half:
                    continue
                if t > t_to + 1e-6:
                    break
                img = Image.fromarray(frame.to_ndarray(format="rgb24"))
                width, height = img.width // 2 * 2, img.height // 2 * 2
                if (width, height) != img.size:  # 4:2:0 needs even sizes
                    img = img.crop((0, 0, width, height))
                local, utc = stamp(rec.wall_clock(t), camera.timezone)
                burn_in(img, (f"{camera.name} ({camera.id})", f"{local}  |  {utc}"))
                if out is None:
                    out = av.open(str(dst), "w", format="mp4",
                                  options={"movflags": "+faststart"})
                    ost = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                    ost.width, ost.height, ost.pix_fmt = width, height, "yuv420p"
                    ost.codec_context.time_base = Fraction(1, 1000)
                    ost.options = {"crf": str(crf), "preset": preset,
                                   "g": str(max(1, round(fps)))}
                    first = t
                assert ost is not None
                vf = av.VideoFrame.from_ndarray(np.asarray(img), format="rgb24").reformat(
                    format="yuv420p")
                pts = max(pts + 1, round((t - first) * 1000))  # strictly increasing, ms
                vf.pts, vf.time_base = pts, Fraction(1, 1000)
                out.mux(ost.encode(vf))
                last, count = t, count + 1
            if out is None or ost is None:
                raise MediaError(f"cannot write the working copy of {name}: no frame between "
                                 f"{t_from:.2f}s and {t_to:.2f}s")
            out.mux(ost.encode(None))
        except av.FFmpegError as exc:
            raise MediaError(f"cannot write the working copy of {name}: {exc}") from exc
        finally:
            if out is not None:
                out.close()
    return WorkingCopy(first, last, count, ost.width, ost.height, "h264")


def frame_wall_clock(rec: Recording, t: float) -> datetime:
    """The wall clock the burn-in shows for recording time ``t``."""
    return rec.start + timedelta(seconds=t)
