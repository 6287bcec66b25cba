"""Stills of an exhibit: the full frame at a track's best moment with its box drawn, PNG
(lossless, so the still adds no compression of its own to the decoded frame)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from retrouve.domain import Box, Recording
from retrouve.errors import MediaError
from retrouve.export.frames import frame_rate, open_span, timed_frames


@dataclass(frozen=True)
class Still:
    """The frame written: its time (recording seconds), the box drawn (frame pixels)."""

    t: float
    box: Box
    width: int
    height: int


def write_still(rec: Recording, t: float, box: Box, dst: Path) -> Still:
    """The decoded frame nearest ``t`` (recording seconds) with ``box`` outlined in red, as
    PNG in ``dst``; ``MediaError`` when the recording has no frame there."""
    name = f"{rec.camera_id}/{rec.id}"
    with open_span(Path(rec.path), name) as inp:
        half = 0.5 / frame_rate(inp.streams.video[0])
        best = None
        for ft, frame in timed_frames(inp, t):
            if best is None or abs(ft - t) < abs(best[0] - t):
                best = (ft, frame)
            if ft > t + half:
                break
        if best is None:
            raise MediaError(f"cannot write a still of {name}: no frame near {t:.2f}s")
        img = Image.fromarray(best[1].to_ndarray(format="rgb24"))
    width = max(2, round(min(img.width, img.height) / 150))
    ImageDraw.Draw(img).rectangle((box.x0, box.y0, box.x1 - 1, box.y1 - 1),
                                  outline=(255, 32, 32), width=width)
    img.save(dst, format="PNG")
    return Still(best[0], box, img.width, img.height)
