"""Synthetic footage for tests: tiny clips of coloured rectangles on a flat grey background.

Everything here is deterministic. Frame ``i`` of a clip is shown at ``t = i / fps`` seconds
(recording time base) and its objects' boxes are known exactly (:meth:`Moving.box_at`), in
pixels of the frame, ``x0, y0, x1, y1``. Positions are rounded to even pixels so that the
4:2:0 chroma planes line up with the rectangles' edges.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from retrouve.domain import Box

RGB = tuple[int, int, int]
GREY: RGB = (128, 128, 128)
RED: RGB = (210, 25, 25)
BLUE: RGB = (25, 45, 210)
GREEN: RGB = (30, 170, 40)
YELLOW: RGB = (230, 210, 30)


def _codec() -> str:
    try:
        av.Codec("libx264", "w")
    except Exception:  # PyAV built without libx264: MPEG-4 part 2 is always there
        return "mpeg4"
    return "libx264"


CODEC = _codec()
#: Name PyAV reports when decoding what :data:`CODEC` wrote.
DECODED_CODEC = "h264" if CODEC == "libx264" else "mpeg4"


def _even(v: float) -> int:
    return round(v / 2.0) * 2


@dataclass(frozen=True)
class Moving:
    """A filled rectangle of ``size`` (w, h) moving in a straight line.

    Its top-left corner goes from ``start`` at ``t_in`` to ``end`` at ``t_out`` (seconds); it
    is drawn on frames with ``t_in <= t <= t_out``. ``bottom`` (optional) colours the lower
    half of the rectangle (a person with a top and trousers of different colours).
    """

    colour: RGB
    size: tuple[int, int]
    start: tuple[float, float]
    end: tuple[float, float]
    t_in: float
    t_out: float
    bottom: RGB | None = None

    def visible(self, t: float) -> bool:
        return self.t_in - 1e-9 <= t <= self.t_out + 1e-9

    def box_at(self, t: float, frame_size: tuple[int, int] | None = None) -> Box | None:
        """Ground-truth box at recording time ``t`` (None when not on screen)."""
        if not self.visible(t):
            return None
        span = self.t_out - self.t_in
        k = 0.0 if span <= 0 else min(1.0, max(0.0, (t - self.t_in) / span))
        x0 = _even(self.start[0] + k * (self.end[0] - self.start[0]))
        y0 = _even(self.start[1] + k * (self.end[1] - self.start[1]))
        x1, y1 = x0 + self.size[0], y0 + self.size[1]
        if frame_size is not None:
            w, h = frame_size
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            if x1 <= x0 or y1 <= y0:
                return None
        return Box(float(x0), float(y0), float(x1), float(y1))


@dataclass(frozen=True)
class Clip:
    """A generated clip and its ground truth."""

    path: Path
    seconds: float
    fps: int
    size: tuple[int, int]
    objects: tuple[Moving, ...]

    @property
    def frames(self) -> int:
        return round(self.seconds * self.fps)

    def truth(self, index: int, t: float) -> Box | None:
        """Box of ``objects[index]`` at recording time ``t``."""
        return self.objects[index].box_at(t, self.size)


def render(
    size: tuple[int, int], objects: tuple[Moving, ...] | list[Moving], t: float,
    background: RGB = GREY,
) -> npt.NDArray[np.uint8]:
    """The RGB ``(h, w, 3)`` frame at time ``t``."""
    w, h = size
    img = np.empty((h, w, 3), np.uint8)
    img[:] = background
    for obj in objects:
        box = obj.box_at(t, size)
        if box is None:
            continue
        x0, y0, x1, y1 = int(box.x0), int(box.y0), int(box.x1), int(box.y1)
        img[y0:y1, x0:x1] = obj.colour
        if obj.bottom is not None:
            full = obj.box_at(t)
            assert full is not None
            mid = int(full.y0) + obj.size[1] // 2
            if mid < y1:
                img[max(y0, mid):y1, x0:x1] = obj.bottom
    return img


def make_clip(
    path: Path,
    seconds: float = 4.0,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    objects: tuple[Moving, ...] | list[Moving] = (),
    background: RGB = GREY,
    gop: int | None = None,
) -> Clip:
    """Encode an H.264 (or MPEG-4) clip of moving rectangles; frame ``i`` at ``t = i / fps``.

    ``gop``: keyframe interval in frames (default one per second), so seeks land near. The
    container comes from the suffix: ``.mp4``, ``.mkv``…, or ``.h264`` for a raw H.264
    elementary stream without timestamps (as some NVRs export; needs libx264).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    objs = tuple(objects)
    n = round(seconds * fps)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(CODEC, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        keyint = str(gop or fps)
        if CODEC == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "16", "g": keyint, "bf": "0"}
        else:
            stream.options = {"qscale": "2", "g": keyint}
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(render(size, objs, i / fps, background),
                                               format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return Clip(path, n / fps, fps, size, objs)


def make_still(
    path: Path, size: tuple[int, int] = (320, 240), objects: tuple[Moving, ...] = (),
) -> Path:
    """Write a still image (format from the suffix: .png, .jpg…) with cv2."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = render(size, objects, 0.0)
    if not cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
        raise OSError(f"cv2 could not write {path}")
    return path


def make_corrupt(path: Path, n_bytes: int = 20_000, seed: int = 0) -> Path:
    """Random bytes under a media suffix (e.g. ``.mp4``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).bytes(n_bytes))
    return path


def make_truncated(path: Path, fraction: float = 0.4, seconds: float = 4.0) -> Path:
    """A valid mp4 cut to ``fraction`` of its bytes (an interrupted NVR export)."""
    full = path.with_name("_full_" + path.name)
    make_clip(full, seconds=seconds, fps=25,
              objects=[Moving(GREEN, (40, 40), (10, 10), (250, 150), 0.0, seconds)])
    data = full.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    full.unlink()
    return path


def copy_as(src: Path, dst: Path) -> Path:
    """The same bytes under another name."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst
