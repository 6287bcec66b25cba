"""The working copy of an exhibit: the frames of the window decoded from the original,
the camera's name and each frame's local and UTC time burnt in (Pillow), re-encoded as
H.264 (yuv420p, ``+faststart``) in MP4, which plays in any browser or media player.

Never a substitute for the master: it is re-encoded, and says so in the manifest. Frame
times are kept (millisecond time base), so a variable frame rate stays as recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np
import numpy.typing as npt
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


class Caption:
    """The caption band burnt into the top of every frame of a ``width`` × ``height`` video:
    white lines on black, drawn with Pillow on the band only and written straight into the
    frame's yuv420p planes (the rest of the frame is never converted to RGB and back)."""

    def __init__(self, width: int, height: int, n_lines: int) -> None:
        self.width, self.height = width, height
        self.size = max(10, min(width // 42, height // 22))
        self.font = ImageFont.load_default(size=self.size)
        self.pad, self.step = max(2, self.size // 4), self.size + max(2, self.size // 4)
        band = self.pad * 2 + self.step * n_lines
        # A multiple of 4 rows, so the band's chroma rows pack whole in the I420 array.
        self.rows = min(height // 4 * 4, (band + 3) // 4 * 4)

    def band(self, lines: tuple[str, ...]) -> npt.NDArray[np.uint8]:
        """The band as packed I420 rows: Y (rows × width), then U and V (rows / 4 each)."""
        img = Image.new("RGB", (self.width, self.rows))
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(lines):
            draw.text((self.pad, self.pad + i * self.step), line, fill=(255, 255, 255),
                      font=self.font)
        out = av.VideoFrame.from_ndarray(np.asarray(img), format="rgb24").reformat(
            format="yuv420p").to_ndarray()
        return np.asarray(out, dtype=np.uint8)

    def burn(self, frame: av.VideoFrame, lines: tuple[str, ...]) -> av.VideoFrame:
        """A yuv420p copy of ``frame`` (even size) with the caption at its top."""
        if (frame.format.name, frame.width, frame.height) != ("yuv420p", self.width,
                                                               self.height):
            frame = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        planes = np.array(frame.to_ndarray(), dtype=np.uint8)  # (h * 3/2, w), a copy
        band, r, h = self.band(lines), self.rows, self.height
        planes[:r] = band[:r]
        planes[h:h + r // 4] = band[r:r + r // 4]                      # U
        planes[h + h // 4:h + h // 4 + r // 4] = band[r + r // 4:]    # V
        return av.VideoFrame.from_ndarray(planes, format="yuv420p")


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
                local, utc = stamp(rec.wall_clock(t), camera.timezone)
                lines = (f"{camera.name} ({camera.id})", f"{local}  |  {utc}")
                if out is None:
                    # 4:2:0 needs even sizes (an odd one is scaled by a pixel).
                    width, height = max(2, frame.width // 2 * 2), max(2, frame.height // 2 * 2)
                    caption = Caption(width, height, len(lines))
                    out = av.open(str(dst), "w", format="mp4",
                                  options={"movflags": "+faststart"})
                    ost = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                    ost.width, ost.height, ost.pix_fmt = width, height, "yuv420p"
                    ost.codec_context.time_base = Fraction(1, 1000)
                    ost.options = {"crf": str(crf), "preset": preset,
                                   "g": str(max(1, round(fps)))}
                    first = t
                assert ost is not None
                vf = caption.burn(frame, lines)
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

