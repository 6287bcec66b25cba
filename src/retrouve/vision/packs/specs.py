"""The parts of a model-pack manifest: tensor and graph signatures, attribute heads,
preprocessing and detector decoding, and the biometric-name check.

:mod:`retrouve.vision.packs.manifest` assembles them into :class:`PackManifest` (and
re-exports them). Reference: ``docs/model-packs.md``.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Dtype = Literal["float32", "float16", "int64", "int32", "uint8"]
_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Words that make a label, attribute or output name biometric. Retrouve never reads gender,
#: age or ethnicity (docs/model-packs.md, "Biometric outputs are refused"). Matched against
#: whole words of the name (``is_male`` → ``is``, ``male``), so ``luggage`` is not ``age``.
BIOMETRIC_WORDS = frozenset({
    "gender", "sex", "male", "female", "man", "woman", "men", "women", "boy", "girl",
    "age", "aged", "ethnicity", "ethnic", "race", "racial", "skin",
})


def biometric_word(name: str) -> str | None:
    """The first biometric word of ``name`` (split on non-letters and camelCase), else None."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    for word in re.split(r"[^a-z]+", spaced.lower()):
        if word in BIOMETRIC_WORDS:
            return word
    return None


def check_relative_path(path: str) -> str:
    """Return ``path`` if it is a safe relative POSIX path inside a pack, else raise ValueError.

    Refused: empty, absolute (``/x``, ``C:x``, ``\\\\x``), backslashes, ``..`` or ``.`` parts.
    """
    if not path or "\\" in path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise ValueError(f"{path!r} must be a relative POSIX path inside the pack")
    parts = PurePosixPath(path).parts
    if any(p in ("..", ".", "") for p in parts) or path.endswith("/"):
        raise ValueError(f"{path!r} must not contain '..' or '.' parts")
    return path


class StrictModel(BaseModel):
    # Unknown keys are refused: a typo in a manifest must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class TensorSpec(StrictModel):
    """One graph input or output: ``shape`` lists ints (fixed) or names (symbolic, e.g. "N")."""

    name: str = Field(min_length=1)
    shape: list[Annotated[int, Field(ge=1)] | str]
    dtype: Dtype = "float32"

    @field_validator("shape")
    @classmethod
    def _symbols(cls, shape: list[int | str]) -> list[int | str]:
        for d in shape:
            if isinstance(d, str) and not _SYMBOL.match(d):
                raise ValueError(f"symbolic dimension {d!r} must be an identifier")
        return shape

    def fixed(self, axis: int) -> int | None:
        """The size of ``axis`` if fixed, else None."""
        d = self.shape[axis]
        return d if isinstance(d, int) else None


class GraphSpec(StrictModel):
    """One graph and its signature (the backend checks the real graph against it).

    ``file`` is an ONNX file, or an OpenVINO IR ``.xml`` whose weights (the ``.bin``) are
    ``weights``; ``weights`` is required for an ``.xml`` and refused otherwise. Every output the
    real graph has must be declared here (an undeclared output is refused at load).
    """

    file: str
    weights: str | None = None
    inputs: list[TensorSpec] = Field(min_length=1)
    outputs: list[TensorSpec] = Field(min_length=1)

    @field_validator("file", "weights")
    @classmethod
    def _file(cls, v: str | None) -> str | None:
        return None if v is None else check_relative_path(v)

    @property
    def is_ir(self) -> bool:
        """Whether ``file`` is an OpenVINO IR (``.xml``)."""
        return self.file.lower().endswith(".xml")

    @model_validator(mode="after")
    def _weights(self) -> GraphSpec:
        if self.is_ir and self.weights is None:
            raise ValueError(f"weights: the OpenVINO IR {self.file!r} needs its .bin as weights")
        if not self.is_ir and self.weights is not None:
            raise ValueError(f"weights: only an OpenVINO IR (.xml) file has weights, not "
                             f"{self.file!r}")
        return self


class HeadSpec(StrictModel):
    """One output of a ``heads`` (attribute) model.

    * ``kind`` ``class``: one label per crop, ``labels`` in output order, probabilities after
      ``activation`` (``softmax`` on logits, ``none`` when the graph outputs probabilities);
    * ``multilabel``: one independent probability per label (``sigmoid`` or ``none``);
    * ``point``: ``(x, y)`` normalised 0..1 to the input tensor (a place in the crop, e.g. where
      to sample the upper-clothing colour); ``labels`` empty or ``["x", "y"]``.
    The output may carry extra unit axes (``(1, 7, 1, 1)`` reads as ``(1, 7)``).
    """

    attribute: str
    labels: list[str] = Field(default_factory=list)
    activation: Literal["softmax", "sigmoid", "none"] = "none"
    kind: Literal["class", "multilabel", "point"]

    @field_validator("attribute")
    @classmethod
    def _attribute(cls, v: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_]{0,31}$", v):
            raise ValueError("must be a lowercase identifier such as 'colour'")
        return v

    @model_validator(mode="after")
    def _kind(self) -> HeadSpec:
        if self.kind == "point":
            if self.labels not in ([], ["x", "y"]):
                raise ValueError("labels: a point head has no labels (or exactly ['x', 'y'])")
            if self.activation == "softmax":
                raise ValueError("activation: a point head takes 'none' or 'sigmoid'")
        else:
            if len(self.labels) < 1 or len(set(self.labels)) != len(self.labels):
                raise ValueError(f"labels: a {self.kind} head needs distinct labels")
            if self.kind == "multilabel" and self.activation == "softmax":
                raise ValueError("activation: a multilabel head takes 'sigmoid' or 'none'")
        return self

    @property
    def width(self) -> int:
        """Values per crop this head's output carries."""
        return 2 if self.kind == "point" else len(self.labels)


class Preprocess(StrictModel):
    """Pixels → input tensor.

    The RGB uint8 image is resized to ``width`` x ``height`` (``letterbox``: keep the aspect
    ratio, centre, pad with ``pad_value``; ``stretch``: plain resize), optionally reordered to
    BGR, multiplied by ``scale`` (1/255 by default, so values are 0..1), then ``(x - mean) / std``
    per channel (in the order of ``channel_order``), and laid out ``NCHW`` or ``NHWC``.
    """

    width: int = Field(ge=8, le=8192)
    height: int = Field(ge=8, le=8192)
    resize: Literal["letterbox", "stretch"] = "letterbox"
    pad_value: int = Field(114, ge=0, le=255)
    channel_order: Literal["RGB", "BGR"] = "RGB"
    scale: float = Field(1.0 / 255.0, gt=0)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    layout: Literal["NCHW", "NHWC"] = "NCHW"

    @field_validator("std")
    @classmethod
    def _std_positive(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(s <= 0 for s in v):
            raise ValueError("every std value must be > 0")
        return v


class Decode(StrictModel):
    """Detector output decoding.

    * ``yolo_layout``: ``v8`` = ``(1, 4+nc, N)`` rows ``cx, cy, w, h, class scores…``;
      ``v5`` = ``(1, N, 5+nc)`` rows ``cx, cy, w, h, objectness, class scores…``; ``auto``
      decides from the output shape and ``len(labels)``. Boxes in input-tensor pixels.
    * ``detr_activation``: ``softmax`` (DETR: the last logit column is "no object") or
      ``sigmoid`` (RT-DETR, Deformable DETR: one logit per label). Boxes are ``cx, cy, w, h``
      normalised 0..1 to the input tensor.
    * ``background_label`` (``ssd``): DetectionOutput rows ``(image_id, label, conf, x0, y0,
      x1, y1)`` whose label is this are dropped. A label that is an index into ``labels`` must
      not be mapped in ``label_map``; an index past the end of ``labels`` is allowed (OMZ
      person-vehicle-bike-detection-2001 uses 3 after its three classes).
    """

    confidence: float = Field(0.25, ge=0.0, le=1.0)
    iou: float = Field(0.45, gt=0.0, le=1.0)
    max_detections: int = Field(300, ge=1)
    yolo_layout: Literal["auto", "v8", "v5"] = "auto"
    detr_activation: Literal["softmax", "sigmoid"] = "softmax"
    #: ``ssd``: the row label of the background class (rows with it are dropped); ``None`` when
    #: the graph emits none. Row labels index ``labels`` directly.
    background_label: int | None = Field(0, ge=0)
