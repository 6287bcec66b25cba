"""Reading licence plates on vehicle crops: the ``PlateReader`` seam, the RapidOCR default and a
scripted fake.

Input of every reader: an RGB ``uint8`` array ``(H, W, 3)``, the crop of one vehicle cut from
the *full-resolution* frame (plates are small: a downscaled frame loses them). Output: the
plate-like text lines found on it, as :class:`RawRead` with boxes in pixels of that crop
(origin top-left); :meth:`RawRead.shifted` moves them into frame pixels.

The default :class:`RapidOcrPlateReader` runs PP-OCRv4 from ``rapidocr-onnxruntime`` 1.4.4:
its text detector (DB) on the lower part of the crop, then its CTC recogniser on each plate-like
line. RapidOCR only reports a mean score per line, so the recogniser's ONNX session is run here
directly and the per-character confidence is the highest CTC step probability of that
character's run of steps.
"""

from __future__ import annotations

import importlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.domain import Box
from retrouve.errors import ModelError
from retrouve.vision.plates.grammar import normalise_indexed

log = logging.getLogger(__name__)

RAPIDOCR_PACKAGE: Final = "rapidocr-onnxruntime"
RAPIDOCR_VERSION: Final = "1.4.4"
#: Shortest and longest normalised plate text kept (EU plates: 4–10 characters with no band).
MIN_CHARS: Final = 4
MAX_CHARS: Final = 10


@dataclass(frozen=True)
class RawRead:
    """One plate-like text line read on one crop.

    ``text`` is normalised (see :func:`~retrouve.vision.plates.grammar.normalise`); ``chars``
    pairs each character of ``text`` with its OCR confidence 0..1; ``confidence`` is the line's
    confidence 0..1 (mean of ``chars``); ``box`` is in pixels of the crop given to ``read``
    (or of the frame after :meth:`shifted`).
    """

    text: str
    chars: tuple[tuple[str, float], ...]
    confidence: float
    box: Box

    def __post_init__(self) -> None:
        if "".join(c for c, _ in self.chars) != self.text:
            raise ValueError(
                f"RawRead.chars spell {''.join(c for c, _ in self.chars)!r}, "
                f"expected the text {self.text!r}"
            )
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"RawRead.confidence must be in 0..1, got {self.confidence}")

    @classmethod
    def from_text(
        cls, raw: str, confidence: float = 0.9, box: Box | None = None,
        char_conf: Sequence[float] | None = None,
    ) -> RawRead:
        """Build a read from raw text (normalised here). ``char_conf``, when given, has one
        confidence per character of ``raw``; else every character gets ``confidence``.
        ``box`` defaults to a unit box at the origin (tests)."""
        text, idx = normalise_indexed(raw)
        confs = [confidence] * len(raw) if char_conf is None else list(char_conf)
        if len(confs) != len(raw):
            raise ValueError(f"char_conf has {len(confs)} entries for {len(raw)} characters")
        chars = tuple((c, float(confs[i])) for c, i in zip(text, idx, strict=True))
        mean = sum(c for _, c in chars) / len(chars) if chars else 0.0
        return cls(text, chars, mean, box or Box(0.0, 0.0, 1.0, 1.0))

    def shifted(self, dx: float, dy: float) -> RawRead:
        """The same read with its box moved by ``(dx, dy)`` pixels (crop → frame: pass the
        crop's top-left corner in the frame)."""
        b = self.box
        return replace(self, box=Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy))


class PlateReader(Protocol):
    """Reads plates on one vehicle crop: RGB ``uint8`` ``(H, W, 3)`` cut from the
    full-resolution frame. Returns plate-like reads, best first; boxes in crop pixels."""

    name: str
    version: str

    def read(self, vehicle_crop: npt.NDArray[np.uint8]) -> list[RawRead]: ...


def check_crop(crop: npt.NDArray[np.uint8]) -> None:
    """Raise ``ValueError`` (expected vs got) unless ``crop`` is ``uint8`` ``(H, W, 3)``."""
    if crop.dtype != np.uint8 or crop.ndim != 3 or crop.shape[2] != 3:
        raise ValueError(
            f"vehicle crop must be uint8 (H, W, 3) RGB, got {crop.dtype} {tuple(crop.shape)}"
        )


def looks_like_plate(text: str) -> bool:
    """Normalised ``text`` has a plate's length (:data:`MIN_CHARS`..:data:`MAX_CHARS`) and at
    least one digit (every grammar we know has digits)."""
    return MIN_CHARS <= len(text) <= MAX_CHARS and any(c.isdigit() for c in text)


def ctc_decode(
    probs: npt.NDArray[np.float32], alphabet: Sequence[str]
) -> list[tuple[str, float]]:
    """Greedy CTC decoding of one line: ``probs`` is ``(T, C)`` softmax output, class 0 the
    blank, ``alphabet[k]`` the character of class ``k``. Returns each character with the
    highest probability among the steps of its run (a run = consecutive equal argmaxes)."""
    best = probs.argmax(axis=1)
    top = probs.max(axis=1)
    out: list[tuple[str, float]] = []
    prev = 0
    for k, p in zip(best.tolist(), top.tolist(), strict=True):
        if k != 0 and k < len(alphabet):
            if k == prev and out:
                out[-1] = (out[-1][0], max(out[-1][1], float(p)))
            else:
                out.append((alphabet[k], float(p)))
        prev = k
    return out


def _order_quad(pts: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Four points as top-left, top-right, bottom-right, bottom-left."""
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).reshape(-1)
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32
    )


def _warp_line(img: npt.NDArray[np.uint8], quad: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Rectify one text quad (tl, tr, br, bl) into an upright image."""
    w = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2])))
    h = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(quad, dst)
    out = cv2.warpPerspective(
        img, m, (max(w, 1), max(h, 1)), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    return np.asarray(out, np.uint8)


def merge_lines(
    quads: Sequence[npt.NDArray[np.float32]], max_gap: float = 0.8
) -> list[npt.NDArray[np.float32]]:
    """Merge text quads lying on one line: the detector often splits a plate at its band or
    at wide spaces (``1234 AB 75``). Two boxes merge when their vertical extents overlap by
    60 % of the smaller height and the horizontal gap is below ``max_gap`` x that height.
    Returns quads (tl, tr, br, bl) of the minimum-area rectangles around each group."""
    groups: list[list[npt.NDArray[np.float32]]] = [[q] for q in quads]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                a = np.concatenate(groups[i])
                b = np.concatenate(groups[j])
                ay0, ay1 = a[:, 1].min(), a[:, 1].max()
                by0, by1 = b[:, 1].min(), b[:, 1].max()
                hmin = min(ay1 - ay0, by1 - by0)
                overlap = min(ay1, by1) - max(ay0, by0)
                gap = max(a[:, 0].min(), b[:, 0].min()) - min(a[:, 0].max(), b[:, 0].max())
                if hmin > 0 and overlap >= 0.6 * hmin and gap <= max_gap * hmin:
                    groups[i] = groups[i] + groups[j]
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    out = []
    for g in groups:
        if len(g) == 1:
            out.append(_order_quad(g[0]))
        else:
            rect = cv2.minAreaRect(np.concatenate(g).astype(np.float32))
            out.append(_order_quad(cv2.boxPoints(rect).astype(np.float32)))
    return out


class RapidOcrPlateReader:
    """PP-OCRv4 (``rapidocr-onnxruntime`` 1.4.4) plate reader on the CPU.

    * ``lower_fraction``: share of the crop, from the bottom, searched for plates. Plates sit in
      the lower part of a well-boxed vehicle, but on the benchmark stills (docs/plates.md) the
      detector's box often cuts the car's bottom off, and searching only the lower 2/3 lost
      plates (exact reads 0.64 vs 0.69): the whole crop is searched by default; non-plate text
      is dropped by the aspect, length and digit filters.
    * ``det_limit_side_len``: the detector's input long side (pixels); the region is
      downscaled to it, never upscaled (``det_limit_type='max'``: the default 'min' upsizes
      small crops and is slow).
    * ``min_aspect``/``max_aspect``: width/height of a text line kept (plates are wide).
    * ``min_height_px``: lines shorter than this (crop pixels) are illegible and skipped.
    """

    name = "rapidocr-ppocrv4"
    version = RAPIDOCR_VERSION

    def __init__(
        self,
        lower_fraction: float = 1.0,
        det_limit_side_len: int = 640,
        min_aspect: float = 1.2,
        max_aspect: float = 12.0,
        min_height_px: float = 8.0,
        threads: int | None = None,
    ) -> None:
        if not 0.0 < lower_fraction <= 1.0:
            raise ValueError(f"lower_fraction must be in (0, 1], got {lower_fraction}")
        self.lower_fraction = lower_fraction
        self.min_aspect = min_aspect
        self.max_aspect = max_aspect
        self.min_height_px = min_height_px
        try:
            module: Any = importlib.import_module("rapidocr_onnxruntime")
        except ImportError as exc:
            raise ModelError(
                f"plate reader needs the package '{RAPIDOCR_PACKAGE}' (PP-OCRv4 models): install "
                f"it with `pip install --no-deps {RAPIDOCR_PACKAGE}=={RAPIDOCR_VERSION}` plus "
                "pyclipper shapely pyyaml six tqdm pillow onnxruntime"
            ) from exc
        kwargs: dict[str, Any] = {
            "det_limit_type": "max",
            "det_limit_side_len": det_limit_side_len,
        }
        if threads is not None:
            kwargs["intra_op_num_threads"] = threads
        try:
            engine = module.RapidOCR(**kwargs)
        except Exception as exc:  # the package raises bare Exceptions for bad model files
            raise ModelError(f"cannot load {RAPIDOCR_PACKAGE} models: {exc}") from exc
        self._det: Any = engine.text_det
        self._rec: Any = engine.text_rec
        self._alphabet: list[str] = list(engine.text_rec.postprocess_op.character)

    def read(self, vehicle_crop: npt.NDArray[np.uint8]) -> list[RawRead]:
        """Plate-like reads on ``vehicle_crop`` (RGB ``(H, W, 3)`` uint8), best first; boxes
        in crop pixels."""
        check_crop(vehicle_crop)
        h, w = vehicle_crop.shape[:2]
        if h < 8 or w < 16:
            return []
        y0 = round(h * (1.0 - self.lower_fraction))
        # PP-OCR models were trained on BGR (cv2.imread) images.
        region = np.ascontiguousarray(vehicle_crop[y0:, :, ::-1])
        boxes, _ = self._det(region)
        if boxes is None or len(boxes) == 0:
            return []
        quads = merge_lines([np.asarray(b, np.float32).reshape(4, 2) for b in boxes])
        lines: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]] = []
        for q in quads:
            qw = float(max(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[3] - q[2])))
            qh = float(max(np.linalg.norm(q[0] - q[3]), np.linalg.norm(q[1] - q[2])))
            if qh < self.min_height_px or not self.min_aspect <= qw / qh <= self.max_aspect:
                continue
            lines.append((q, _warp_line(region, q)))
        if not lines:
            return []
        reads = []
        for (q, _), decoded in zip(lines, self._recognise([img for _, img in lines]), strict=True):
            raw = "".join(c for c, _ in decoded)
            text, idx = normalise_indexed(raw)
            if not looks_like_plate(text):
                continue
            chars = tuple((c, decoded[i][1]) for c, i in zip(text, idx, strict=True))
            conf = float(np.mean([c for _, c in chars]))
            box = Box(
                float(max(0.0, q[:, 0].min())), float(max(0.0, q[:, 1].min()) + y0),
                float(min(float(w), q[:, 0].max())), float(min(float(h - y0), q[:, 1].max()) + y0),
            )
            reads.append(RawRead(text, chars, min(1.0, conf), box))
        reads.sort(key=lambda r: -r.confidence)
        return reads

    def _recognise(self, images: list[npt.NDArray[np.uint8]]) -> list[list[tuple[str, float]]]:
        """Run the CTC recogniser on BGR line images; per-character (char, probability)."""
        _, img_h, img_w = self._rec.rec_image_shape
        ratios = [im.shape[1] / max(1, im.shape[0]) for im in images]
        max_ratio = max(img_w / img_h, *ratios)
        batch = np.stack([self._rec.resize_norm_img(im, max_ratio) for im in images])
        probs = np.asarray(self._rec.session(batch.astype(np.float32))[0], np.float32)
        out = []
        for k, ratio in enumerate(ratios):
            # Steps past the line's own width only saw zero padding: drop them.
            steps = max(1, math.ceil(probs.shape[1] * min(1.0, ratio / max_ratio)) + 1)
            out.append(ctc_decode(probs[k, : min(steps, probs.shape[1])], self._alphabet))
        return out


class FakePlateReader:
    """Test fake: the ``n``-th call to :meth:`read` returns ``script[n]`` (``default`` once the
    script is used up). Records the shape of every crop it was given in ``crops``."""

    name = "fake-plates"
    version = "1"

    def __init__(
        self, script: Sequence[Sequence[RawRead]] = (), default: Sequence[RawRead] = ()
    ) -> None:
        self.script = [list(s) for s in script]
        self.default = list(default)
        self.crops: list[tuple[int, ...]] = []

    def read(self, vehicle_crop: npt.NDArray[np.uint8]) -> list[RawRead]:
        check_crop(vehicle_crop)
        n = len(self.crops)
        self.crops.append(tuple(vehicle_crop.shape))
        return list(self.script[n]) if n < len(self.script) else list(self.default)
