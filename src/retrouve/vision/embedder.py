"""The :class:`Embedder` seam: appearance vectors for crops (and text), with a fake beside it.

Implementations:

* :class:`retrouve.vision.appearance.AppearanceEmbedder`: the built-in colour-layout vector
  (no model, no text side); every analysis run computes it.
* :class:`retrouve.vision.packs.onnx_embedder.ClipEmbedder`: an installed CLIP-family pack
  (image and text in one space).
* :class:`FakeEmbedder`: a deterministic stand-in for tests (mean colour, a few colour words).

Vectors are float32 and L2-normalised, so the dot product of two vectors of one ``kind`` is
their cosine similarity (−1..1). ``kind`` names the vector space: the store keeps a track's
vectors per kind and only vectors of one kind are ever compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Appearance vectors for crops, and (when the model has a text side) for text.

    ``embed_images``: RGB uint8 crops ``(h, w, 3)`` of any size → float32 ``(N, dim)``, rows
    L2-normalised (a row that cannot be computed, e.g. a tiny crop, is all zeros).
    ``embed_text``: a phrase → float32 ``(dim,)`` L2-normalised, or ``None`` when the embedder
    has no text encoder or the text has no usable token.
    """

    #: The vector space's name, stored with each vector (a pack's name, or a built-in kind).
    kind: str
    name: str
    version: str
    dim: int

    def embed_images(self, crops: Sequence[npt.NDArray[np.uint8]]) -> F32: ...

    def embed_text(self, text: str) -> F32 | None: ...


def l2_normalise(v: F32) -> F32:
    """Rows (last axis) scaled to unit length; zero rows stay zero."""
    norm: F32 = np.linalg.norm(v, axis=-1, keepdims=True)
    out: F32 = (v / np.maximum(norm, np.float32(1e-12))).astype(np.float32)
    return out


#: The words :class:`FakeEmbedder` understands by default, as RGB directions.
FAKE_COLOUR_WORDS: Final[Mapping[str, tuple[float, float, float]]] = {
    "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0), "white": (1.0, 1.0, 1.0),
}


class FakeEmbedder:
    """Test fake: a crop's vector is its mean RGB colour, L2-normalised, in ``dim`` = 3.

    ``embed_text`` knows the words of ``texts`` (default :data:`FAKE_COLOUR_WORDS`, matched
    case-insensitively after stripping) as RGB directions, so ``"red"`` ranks red crops first;
    any other text gives ``None``. ``calls`` counts ``embed_images`` calls (tests check reuse).
    """

    version = "1"
    dim = 3

    def __init__(self, kind: str = "fake-embedder",
                 texts: Mapping[str, tuple[float, float, float]] | None = None) -> None:
        self.kind = kind
        self.name = kind
        self._texts = {k.lower(): v for k, v in (texts or FAKE_COLOUR_WORDS).items()}
        self.calls = 0

    def embed_images(self, crops: Sequence[npt.NDArray[np.uint8]]) -> F32:
        """Mean RGB of each crop, L2-normalised: float32 ``(N, 3)``; black or empty → zeros."""
        self.calls += 1
        rows = [np.asarray(c, np.float32).reshape(-1, 3).mean(axis=0) if np.size(c)
                else np.zeros(3, np.float32) for c in crops]
        if not rows:
            return np.zeros((0, self.dim), np.float32)
        return l2_normalise(np.stack(rows).astype(np.float32))

    def embed_text(self, text: str) -> F32 | None:
        """The colour direction of ``text`` (float32 ``(3,)``, unit length), else ``None``."""
        rgb = self._texts.get(text.strip().lower())
        if rgb is None:
            return None
        return l2_normalise(np.asarray(rgb, np.float32))
