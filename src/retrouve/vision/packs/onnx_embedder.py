"""CLIP-family embedder packs behind the :class:`~retrouve.vision.embedder.Embedder` seam.

Vectors are float32 and L2-normalised, so the dot product of two vectors is their cosine
similarity (−1..1). Images and text of one pack live in the same space: a text query ranks
track crops by ``crops @ text``. The vector kind is the pack's name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from retrouve.errors import PackError
from retrouve.vision.embedder import l2_normalise
from retrouve.vision.packs.registry import InstalledPack
from retrouve.vision.packs.runtime import (
    batch_size,
    open_session,
    pack_label,
    run_images,
)


class ClipEmbedder:
    """An ``embedder`` pack in ``clip`` format: an image encoder and a text encoder ONNX graph
    plus a HuggingFace ``tokenizers`` JSON.

    Text is tokenised with the pack's tokenizer (its post-processor adds start/end tokens),
    cut to ``context_length`` keeping the final (end) token, and padded with ``pad_id``. When
    the text graph has a second input it receives the attention mask (1 = token, 0 = pad).
    """

    def __init__(
        self,
        pack: InstalledPack,
        *,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
    ) -> None:
        m = pack.manifest
        self._what = pack_label(m)
        if m.task != "embedder" or m.format != "clip":
            raise PackError(f"{self._what}: is a {m.task}/{m.format} pack, not a clip embedder")
        assert m.preprocess is not None and m.tokenizer is not None  # manifest validation
        assert m.context_length is not None
        self.name = m.name
        self.kind = m.name
        self.version = m.version
        self._pre = m.preprocess
        self._context = m.context_length
        self._pad = m.pad_id
        image, text = m.graphs["image"], m.graphs["text"]
        self._image_in = image.inputs[0]
        self._image_out = image.outputs[0].name
        self._text_in = [t.name for t in text.inputs]
        self._text_dtype = np.dtype(text.inputs[0].dtype)
        self._text_out = text.outputs[0].name
        self._batch = batch_size(m, "image")
        self._fixed = self._image_in.fixed(0) is not None
        try:
            self._tokenizer = Tokenizer.from_file(str(pack.file(m.tokenizer)))
        except Exception as exc:  # tokenizers raises a bare Exception on a bad file
            raise PackError(f"{self._what}: cannot load tokenizer {m.tokenizer}: {exc}") from exc
        self._image = open_session(m, pack.path, "image", providers, threads)
        self._text = open_session(m, pack.path, "text", providers, threads)
        dim = image.outputs[0].shape[-1]
        self.dim: int = dim if isinstance(dim, int) else self._probe_dim()

    def _probe_dim(self) -> int:
        # Symbolic output width in the manifest: ask the graph once with a tiny input.
        blank = np.zeros((8, 8, 3), np.uint8)
        return int(self.embed_images([blank]).shape[1])

    def embed_images(self, crops: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """RGB uint8 crops → float32 ``(N, dim)`` L2-normalised image vectors."""
        if not crops:
            return np.zeros((0, getattr(self, "dim", 0)), np.float32)
        out = run_images(self._image, self._image_in, self._image_out, crops, self._pre,
                         self._batch, self._fixed, f"{self._what} (image)")
        return l2_normalise(out.reshape(len(crops), -1))

    def tokenize(self, text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
        """``(input_ids, attention_mask)``, each int64 ``(1, context_length)``; None when the
        text yields no token beyond those the tokenizer always adds."""
        ids = self._tokenizer.encode(text).ids
        bare = self._tokenizer.encode("").ids
        if len(ids) <= len(bare):
            return None
        if len(ids) > self._context:
            # CLIP pools at the end token: keep it when cutting a long phrase.
            ids = [*ids[: self._context - 1], ids[-1]]
        n = len(ids)
        input_ids = np.full((1, self._context), self._pad, np.int64)
        input_ids[0, :n] = ids
        mask = np.zeros((1, self._context), np.int64)
        mask[0, :n] = 1
        return input_ids, mask

    def embed_text(self, text: str) -> npt.NDArray[np.float32] | None:
        """A phrase → float32 ``(dim,)`` L2-normalised text vector, None for empty text."""
        tokens = self.tokenize(text.strip())
        if tokens is None:
            return None
        feeds = {name: arr.astype(self._text_dtype)
                 for name, arr in zip(self._text_in, tokens, strict=False)}
        out = self._text.run([self._text_out], feeds)[0]  # PackError naming the text graph
        return l2_normalise(np.asarray(out, np.float32).reshape(-1))
