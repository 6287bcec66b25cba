"""The model-pack manifest: ``manifest.json`` at the root of every pack, validated strictly.

A pack is a folder (or a ``.zip`` / ``.tar.gz`` of one) holding ONNX graphs and their side
files, each pinned by SHA-256 in the manifest. The manifest is the contract between whoever
exported the model and the backends: task, output format, tensor signatures, labels, how
labels map onto Retrouve's classes, and how pixels are turned into the input tensor.

Reference and examples: ``docs/model-packs.md``. Validation errors name the pack and the field
(``model pack 'yolov8n-coco': manifest field 'graphs.model.file': ...``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from retrouve.domain import OBJECT_CLASSES
from retrouve.errors import PackRefused

#: Manifest format version this code reads.
SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,31}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Task = Literal["detector", "classifier", "embedder"]
Format = Literal["yolo", "detr", "softmax", "clip"]
Dtype = Literal["float32", "float16", "int64", "int32", "uint8"]

#: Formats allowed for each task.
TASK_FORMATS: dict[str, frozenset[str]] = {
    "detector": frozenset({"yolo", "detr"}),
    "classifier": frozenset({"softmax"}),
    "embedder": frozenset({"clip"}),
}
#: Graph roles each format needs (keys of ``graphs``).
FORMAT_GRAPHS: dict[str, tuple[str, ...]] = {
    "yolo": ("model",),
    "detr": ("model",),
    "softmax": ("model",),
    "clip": ("image", "text"),
}
#: Classifier attributes whose labels follow the ``"Make|Model"`` convention.
MAKE_MODEL_ATTRIBUTES = frozenset({"make_model"})


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


class _Strict(BaseModel):
    # Unknown keys are refused: a typo in a manifest must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class TensorSpec(_Strict):
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


class GraphSpec(_Strict):
    """One ONNX file and its signature (the backend checks the real graph against it)."""

    file: str
    inputs: list[TensorSpec] = Field(min_length=1)
    outputs: list[TensorSpec] = Field(min_length=1)

    @field_validator("file")
    @classmethod
    def _file(cls, v: str) -> str:
        return check_relative_path(v)


class Preprocess(_Strict):
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


class Decode(_Strict):
    """Detector output decoding.

    * ``yolo_layout``: ``v8`` = ``(1, 4+nc, N)`` rows ``cx, cy, w, h, class scores…``;
      ``v5`` = ``(1, N, 5+nc)`` rows ``cx, cy, w, h, objectness, class scores…``; ``auto``
      decides from the output shape and ``len(labels)``. Boxes in input-tensor pixels.
    * ``detr_activation``: ``softmax`` (DETR: the last logit column is "no object") or
      ``sigmoid`` (RT-DETR, Deformable DETR: one logit per label). Boxes are ``cx, cy, w, h``
      normalised 0..1 to the input tensor.
    """

    confidence: float = Field(0.25, ge=0.0, le=1.0)
    iou: float = Field(0.45, gt=0.0, le=1.0)
    max_detections: int = Field(300, ge=1)
    yolo_layout: Literal["auto", "v8", "v5"] = "auto"
    detr_activation: Literal["softmax", "sigmoid"] = "softmax"


class PackManifest(_Strict):
    """``manifest.json``. See ``docs/model-packs.md`` for every field and examples."""

    schema_version: Literal[1] = Field(1, alias="schema")
    name: str
    version: str
    task: Task
    format: Format
    licence: str = Field(min_length=1)
    description: str = ""
    #: Every file of the pack (relative POSIX path → lowercase hex SHA-256), manifest excepted.
    files: dict[str, str] = Field(min_length=1)
    #: Graphs by role: ``model`` (yolo, detr, softmax) or ``image`` + ``text`` (clip).
    graphs: dict[str, GraphSpec]
    labels: list[str] = Field(default_factory=list)
    #: Pack label → Retrouve class (:data:`retrouve.domain.OBJECT_CLASSES`); detectors only.
    label_map: dict[str, str] = Field(default_factory=dict)
    preprocess: Preprocess | None = None
    decode: Decode = Field(default_factory=lambda: Decode())
    #: Classifiers: the track attribute this pack fills (``make_model``, ``upper_type``…).
    attribute: str | None = None
    #: Classifiers: ``true`` when the graph outputs logits (softmax applied here).
    apply_softmax: bool = True
    #: Most crops per session run; ``None``: all at once when the batch axis is symbolic.
    batch_size: int | None = Field(None, ge=1)
    #: CLIP: HuggingFace ``tokenizers`` JSON file, sequence length, and padding id.
    tokenizer: str | None = None
    context_length: int | None = Field(None, ge=2, le=4096)
    pad_id: int = Field(0, ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError("must be a slug: lowercase letters, digits, '.', '_', '-' (≤ 64)")
        return v

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not _VERSION.match(v):
            raise ValueError("must be letters, digits, '.', '+', '_', '-' (≤ 32)")
        return v

    @field_validator("files")
    @classmethod
    def _files(cls, v: dict[str, str]) -> dict[str, str]:
        for path, digest in v.items():
            check_relative_path(path)
            if path == MANIFEST_NAME:
                raise ValueError(f"{MANIFEST_NAME} cannot list itself")
            if not _SHA256.match(digest):
                raise ValueError(f"{path}: sha256 must be 64 lowercase hex digits")
        return v

    @field_validator("attribute")
    @classmethod
    def _attribute(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[a-z][a-z0-9_]{0,31}$", v):
            raise ValueError("must be a lowercase identifier such as 'make_model'")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> PackManifest:
        # Each check names the field it is about; _format_errors prefixes pack and "manifest".
        if self.format not in TASK_FORMATS[self.task]:
            raise ValueError(
                f"format: {self.format!r} is not a {self.task} format "
                f"(expected one of {sorted(TASK_FORMATS[self.task])})"
            )
        roles = FORMAT_GRAPHS[self.format]
        if sorted(self.graphs) != sorted(roles):
            raise ValueError(
                f"graphs: format {self.format!r} needs exactly {list(roles)}, "
                f"got {sorted(self.graphs)}"
            )
        for role, g in self.graphs.items():
            if g.file not in self.files:
                raise ValueError(f"graphs.{role}.file: {g.file!r} is not listed in files")
        # Detectors may repeat placeholders (DETR's COCO list has "N/A" ten times); a
        # classifier's labels are its answers, so they must be distinct.
        if self.task == "classifier" and len(set(self.labels)) != len(self.labels):
            raise ValueError("labels: duplicate label")
        if self.task in ("detector", "classifier"):
            self._check_image_task()
        if self.task == "detector":
            self._check_label_map()
        elif self.label_map:
            raise ValueError("label_map: only detector packs map labels onto object classes")
        if self.task == "classifier":
            self._check_classifier()
        elif self.attribute is not None:
            raise ValueError("attribute: only classifier packs fill an attribute")
        if self.format == "clip":
            self._check_clip()
        return self

    def _check_image_task(self) -> None:
        if not self.labels:
            raise ValueError("labels: a detector or classifier needs its label list")
        if self.preprocess is None:
            raise ValueError("preprocess: required for image models")
        self._check_image_input("model")

    def _check_image_input(self, role: str) -> None:
        assert self.preprocess is not None
        g = self.graphs[role]
        if len(g.inputs) != 1:
            raise ValueError(f"graphs.{role}.inputs: exactly one image input is supported")
        spec = g.inputs[0]
        if len(spec.shape) != 4 or spec.dtype not in ("float32", "float16"):
            raise ValueError(
                f"graphs.{role}.inputs.{spec.name}: expected a float32/float16 image tensor of "
                f"rank 4, got {spec.dtype} {spec.shape}"
            )
        p = self.preprocess
        axes = (1, 2, 3) if p.layout == "NCHW" else (3, 1, 2)  # channels, height, width
        for axis, want, what in zip(axes, (3, p.height, p.width), ("channels", "height", "width"),
                                    strict=True):
            got = spec.fixed(axis)
            if got is not None and got != want:
                raise ValueError(
                    f"graphs.{role}.inputs.{spec.name}: {what} is {got} but preprocess "
                    f"({p.layout}, {p.width}x{p.height}) says {want}"
                )

    def _check_label_map(self) -> None:
        if not self.label_map:
            raise ValueError("label_map: a detector must map at least one label to a class")
        for src, dst in self.label_map.items():
            if src not in self.labels:
                raise ValueError(f"label_map: {src!r} is not in labels")
            if dst not in OBJECT_CLASSES:
                raise ValueError(
                    f"label_map.{src}: {dst!r} is not a Retrouve class {list(OBJECT_CLASSES)}"
                )
        g = self.graphs["model"]
        if self.format == "detr":
            names = [o.name for o in g.outputs]
            if len(names) != 2:
                raise ValueError("graphs.model.outputs: detr needs logits and pred_boxes")

    def _check_classifier(self) -> None:
        if self.attribute is None:
            raise ValueError("attribute: a classifier must say which attribute it fills")
        out = self.graphs["model"].outputs[0]
        if len(out.shape) != 2:
            raise ValueError(f"graphs.model.outputs.{out.name}: expected (N, K), got {out.shape}")
        k = out.fixed(1)
        if k is not None and k != len(self.labels):
            raise ValueError(
                f"labels: {len(self.labels)} labels but output {out.name} has {k} classes"
            )
        if self.attribute in MAKE_MODEL_ATTRIBUTES:
            for label in self.labels:
                split_make_model(label)

    def _check_clip(self) -> None:
        if self.preprocess is None:
            raise ValueError("preprocess: required for the clip image encoder")
        self._check_image_input("image")
        if self.tokenizer is None:
            raise ValueError("tokenizer: a clip pack needs its tokenizer.json")
        check_relative_path(self.tokenizer)
        if self.tokenizer not in self.files:
            raise ValueError(f"tokenizer: {self.tokenizer!r} is not listed in files")
        if self.context_length is None:
            raise ValueError("context_length: required for clip text encoders")
        text = self.graphs["text"]
        if not 1 <= len(text.inputs) <= 2:
            raise ValueError("graphs.text.inputs: expected input_ids [, attention_mask]")
        for spec in text.inputs:
            if spec.dtype not in ("int64", "int32") or len(spec.shape) != 2:
                raise ValueError(
                    f"graphs.text.inputs.{spec.name}: expected int64/int32 (N, L), got "
                    f"{spec.dtype} {spec.shape}"
                )
            if spec.fixed(1) not in (None, self.context_length):
                raise ValueError(
                    f"graphs.text.inputs.{spec.name}: length {spec.shape[1]} != context_length "
                    f"{self.context_length}"
                )
        dims = {role: self.graphs[role].outputs[0].shape[-1] for role in ("image", "text")}
        if all(isinstance(d, int) for d in dims.values()) and dims["image"] != dims["text"]:
            raise ValueError(f"graphs: image and text embedding sizes differ {dims}")

    def to_json(self) -> dict[str, Any]:
        """The manifest as written in ``manifest.json`` (``schema`` key, defaults included)."""
        return self.model_dump(mode="json", by_alias=True)


def split_make_model(label: str) -> tuple[str, str]:
    """``"Renault|Clio"`` → ``("Renault", "Clio")``; ValueError unless exactly one ``|``."""
    parts = label.split("|")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise ValueError(f"make/model label {label!r} must be 'Make|Model'")
    return parts[0].strip(), parts[1].strip()


def _format_errors(exc: ValidationError) -> str:
    msgs = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if not loc and ": " in msg:
            # Cross-field checks say "field: problem"; present them like per-field errors.
            loc, msg = msg.split(": ", 1)
        msgs.append(f"manifest field '{loc}': {msg}" if loc else f"manifest: {msg}")
    return "; ".join(msgs)


def parse_manifest(data: Any, where: str) -> PackManifest:
    """Validate a decoded manifest; ``where`` (a path or source) appears in errors."""
    name = data.get("name") if isinstance(data, dict) else None
    label = f"model pack {name!r} ({where})" if isinstance(name, str) else f"model pack {where}"
    if not isinstance(data, dict):
        raise PackRefused(f"{label}: manifest must be a JSON object")
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise PackRefused(
            f"{label}: manifest schema {schema!r} is not supported (this Retrouve reads "
            f"schema {SCHEMA_VERSION}); upgrade Retrouve or re-export the pack"
        )
    try:
        return PackManifest.model_validate(data)
    except ValidationError as exc:
        raise PackRefused(f"{label}: {_format_errors(exc)}") from exc


def load_manifest(folder: Path) -> PackManifest:
    """Read and validate ``folder/manifest.json``; PackRefused naming the pack and field."""
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackRefused(f"model pack {folder}: no {MANIFEST_NAME}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackRefused(f"model pack {folder}: cannot read {MANIFEST_NAME}: {exc}") from exc
    return parse_manifest(data, str(folder))
