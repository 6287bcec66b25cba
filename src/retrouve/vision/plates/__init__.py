"""Licence plates: grammars and normalisation, the OCR reader seam, per-track consensus.

* :mod:`.grammar` — ``normalise``, ``best_grammar``, ``coerce`` (pure, plate shapes as data);
* :mod:`.ocr` — ``PlateReader`` protocol, ``RapidOcrPlateReader`` (default), ``FakePlateReader``;
* :mod:`.consensus` — ``consensus(reads, t_of)`` → :class:`~retrouve.domain.PlateRead`.

Pattern matching of operator queries against plates lives in :mod:`retrouve.search.plate_pattern`.
"""

from __future__ import annotations

from retrouve.vision.plates.consensus import consensus
from retrouve.vision.plates.grammar import GRAMMARS, best_grammar, coerce, normalise
from retrouve.vision.plates.ocr import FakePlateReader, PlateReader, RapidOcrPlateReader, RawRead

__all__ = [
    "GRAMMARS",
    "FakePlateReader",
    "PlateReader",
    "RapidOcrPlateReader",
    "RawRead",
    "best_grammar",
    "coerce",
    "consensus",
    "normalise",
]
