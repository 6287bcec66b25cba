"""Keep a vehicle track's best full-resolution views, then read its plate once per track.

Reading every frame would cost 30–60 ms of OCR per vehicle per frame; one frame alone is
fragile (blur, glare, a pedestrian in front). So while the track is built, up to ``k`` views
are kept — the largest, most confident, not cut by the frame edge, at least ``spacing_s``
apart — and when the unit ends they are read and the reads combined into one consensus
(:func:`retrouve.vision.plates.consensus.consensus`). Crops come from the full-resolution
frame, never from a detector input. Times are recording seconds, boxes original pixels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.analysis import spaced_views
from retrouve.domain import Box, PlateRead
from retrouve.vision.plates.consensus import MAX_ALTERNATIVES, consensus
from retrouve.vision.plates.ocr import PlateReader, RawRead

#: Views wider than this are downscaled before OCR: a plate is then still ≥ 100 px wide.
MAX_VIEW_PX = 640
#: Margin around the vehicle box (share of its size): plates sit on the box's lower edge.
MARGIN = 0.05
#: Pieces (boxes folded into the track's detection, views of a track merged into this one:
#: often a tile's part of a large vehicle) are read one by one and their reads added as
#: alternatives: on the plate-camera dev clip such a piece often holds the legible plate,
#: but its partial reads would dissent in the consensus. Each costs one OCR call: on that clip
#: 3 pieces per track took 240 calls (plate-exact recall 0.649), 1 took 182 (0.622), against
#: 145 (0.595) before tracks were deduplicated (docs/analysis.md, "Duplicates").
PIECE_VIEWS = 1
#: Pieces are read only when the track's own views gave no read this confident (0..1).
PIECE_BELOW = 0.9


@dataclass
class _View:
    quality: float
    t: float
    crop: npt.NDArray[np.uint8]
    x0: int
    y0: int
    scale: float


@dataclass
class PlateViews:
    """The best ``k`` views of one vehicle track (see module docstring)."""

    k: int = 3
    spacing_s: float = 0.4
    min_px: int = 90
    views: list[_View] = field(default_factory=list)
    #: The best :data:`PIECE_VIEWS` pieces (see there), read separately.
    pieces: list[_View] = field(default_factory=list)

    def offer(self, t: float, box: Box, score: float, image: npt.NDArray[np.uint8],
              piece: bool = False) -> None:
        """Consider the view of ``box`` at ``t`` on the full-resolution RGB ``image``;
        ``piece``: a box folded into the track's detection (see :data:`PIECE_VIEWS`)."""
        if box.width < self.min_px:
            return
        h, w = image.shape[:2]
        quality = score * box.width * (0.3 if box.touches_edge(w, h) else 1.0)
        if piece:
            if len(self.pieces) < PIECE_VIEWS or quality > min(v.quality for v in self.pieces):
                self._keep_piece(_crop_view(image, box, t, quality))
        elif self._admits(t, quality):
            self._keep(_crop_view(image, box, t, quality))

    def absorb(self, other: PlateViews) -> None:
        """Take ``other``'s views as pieces (two tracks merged into one): each is read on its
        own, so a duplicate track's reads cannot dissent in this track's consensus."""
        for view in [*other.views, *other.pieces]:
            self._keep_piece(view)
        other.views, other.pieces = [], []

    def _admits(self, t: float, quality: float) -> bool:
        return spaced_views.admits(self.views, t, quality, self.k, self.spacing_s)

    def _keep(self, view: _View) -> None:
        spaced_views.keep(self.views, view, self.k, self.spacing_s)

    def _keep_piece(self, view: _View) -> None:
        self.pieces = sorted([*self.pieces, view], key=lambda v: -v.quality)[:PIECE_VIEWS]

    def read(self, reader: PlateReader) -> PlateRead | None:
        """Read every kept view and combine the reads; boxes come back in frame pixels.

        Each piece is read on its own; its consensus joins the alternatives (or becomes the
        read when the views gave none), so a piece's legible plate stays searchable.
        """
        main = _read_views(reader, self.views)
        pieces = self.pieces if main is None or main.confidence < PIECE_BELOW else []
        extra = [p for p in (_read_views(reader, [v]) for v in pieces) if p is not None]
        self.views, self.pieces = [], []  # free the crops as soon as they are read
        return _with_pieces(main, extra)


def _read_views(reader: PlateReader, views: list[_View]) -> PlateRead | None:
    reads: list[RawRead] = []
    times: list[float] = []
    for v in sorted(views, key=lambda v: v.t):
        for r in reader.read(v.crop):
            b = r.box
            frame_box = Box(v.x0 + b.x0 / v.scale, v.y0 + b.y0 / v.scale,
                            v.x0 + b.x1 / v.scale, v.y0 + b.y1 / v.scale)
            reads.append(dataclasses.replace(r, box=frame_box))
            times.append(v.t)
    return consensus(reads, times) if reads else None


def _with_pieces(main: PlateRead | None, pieces: list[PlateRead]) -> PlateRead | None:
    """``main`` with the pieces' reads added as alternatives (their own confidence); the
    most confident piece read stands in when ``main`` is ``None``."""
    if main is None:
        if not pieces:
            return None
        main, *pieces = sorted(pieces, key=lambda p: -p.confidence)
    alts = dict(main.alternatives)
    for p in pieces:
        for text, score in ((p.text, p.confidence), *p.alternatives):
            if text != main.text and score > alts.get(text, -1.0):
                alts[text] = score
    ranked = tuple(sorted(alts.items(), key=lambda kv: -kv[1])[:MAX_ALTERNATIVES + PIECE_VIEWS])
    return dataclasses.replace(main, alternatives=ranked)


def _crop_view(image: npt.NDArray[np.uint8], box: Box, t: float, quality: float) -> _View:
    h, w = image.shape[:2]
    mx, my = box.width * MARGIN, box.height * MARGIN
    x0, y0 = max(0, int(box.x0 - mx)), max(0, int(box.y0 - my))
    x1, y1 = min(w, int(np.ceil(box.x1 + mx))), min(h, int(np.ceil(box.y1 + my)))
    crop = image[y0:y1, x0:x1]
    scale = min(1.0, MAX_VIEW_PX / max(1, x1 - x0))
    if scale < 1.0:
        crop = np.asarray(cv2.resize(crop, (max(1, int((x1 - x0) * scale)),
                                            max(1, int((y1 - y0) * scale))),
                                     interpolation=cv2.INTER_AREA), np.uint8)
    else:
        crop = crop.copy()  # the decoder reuses its frame buffer
    return _View(quality, t, crop, x0, y0, scale)
