"""The model-pack manifest: ``manifest.json`` at the root of every pack, validated strictly.

A pack is a folder (or a ``.zip`` / ``.tar.gz`` of one) holding graphs (ONNX files, or OpenVINO
IR ``.xml`` + ``.bin`` pairs) and their side files, each pinned by SHA-256 in the manifest. The
manifest is the contract between whoever exported the model and the backends: task, output
format, runtime, tensor signatures, labels, how labels map onto Retrouve's classes, and how
pixels are turned into the input tensor.

Reference and examples: ``docs/model-packs.md``. Validation errors name the pack and the field
(``model pack 'yolov8n-coco': manifest field 'graphs.model.file': ...``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from retrouve.domain import OBJECT_CLASSES
from retrouve.errors import PackRefused
from retrouve.vision.packs.specs import (
    BIOMETRIC_WORDS,
    Decode,
    Dtype,
    GraphSpec,
    HeadSpec,
    Preprocess,
    StrictModel,
    TensorSpec,
    biometric_word,
    check_relative_path,
)

__all__ = [
    "BIOMETRIC_WORDS", "Decode", "Dtype", "GraphSpec", "HeadSpec", "PackManifest", "Preprocess",
    "TensorSpec", "biometric_word", "check_relative_path", "load_manifest", "parse_manifest",
    "split_make_model",
]

#: Manifest format version this code reads.
SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,31}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_slug(v: str) -> str:
    """Return ``v`` if it is a pack slug (lowercase letters, digits, '.', '_', '-', ≤ 64),
    else raise ValueError (for pydantic validators: manifests and the catalogue)."""
    if not _SLUG.match(v):
        raise ValueError("must be a slug: lowercase letters, digits, '.', '_', '-' (≤ 64)")
    return v

Task = Literal["detector", "classifier", "embedder", "vehicle_attributes", "person_attributes"]
Format = Literal["yolo", "detr", "ssd", "atss", "softmax", "clip", "heads"]
Runtime = Literal["onnxruntime", "openvino"]

#: Tasks whose packs are multi-head attribute models (format ``heads``).
ATTRIBUTE_TASKS = frozenset({"vehicle_attributes", "person_attributes"})
#: Formats allowed for each task.
TASK_FORMATS: dict[str, frozenset[str]] = {
    "detector": frozenset({"yolo", "detr", "ssd", "atss"}),
    "classifier": frozenset({"softmax"}),
    "embedder": frozenset({"clip"}),
    "vehicle_attributes": frozenset({"heads"}),
    "person_attributes": frozenset({"heads"}),
}
#: Graph roles each format needs (keys of ``graphs``).
FORMAT_GRAPHS: dict[str, tuple[str, ...]] = {
    "yolo": ("model",),
    "detr": ("model",),
    "ssd": ("model",),
    "atss": ("model",),
    "softmax": ("model",),
    "clip": ("image", "text"),
    "heads": ("model",),
}
#: Detector formats whose graph already suppresses duplicates (NMS inside the graph).
NMS_INSIDE_FORMATS = frozenset({"ssd", "atss"})

#: Classifier attributes whose labels follow the ``"Make|Model"`` convention.
MAKE_MODEL_ATTRIBUTES = frozenset({"make_model"})



class PackManifest(StrictModel):
    """``manifest.json``. See ``docs/model-packs.md`` for every field and examples."""

    schema_version: Literal[1] = Field(1, alias="schema")
    name: str
    version: str
    task: Task
    format: Format
    #: Which library runs the graphs: ONNX Runtime (ONNX files) or OpenVINO (IR or ONNX files;
    #: the ``openvino`` extra).
    runtime: Runtime = "onnxruntime"
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
    #: Attribute models (format ``heads``): graph output name → what it says.
    heads: dict[str, HeadSpec] = Field(default_factory=dict)
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
        return check_slug(v)

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
            if g.weights is not None and g.weights not in self.files:
                raise ValueError(f"graphs.{role}.weights: {g.weights!r} is not listed in files")
            if g.is_ir and self.runtime != "openvino":
                raise ValueError(f"runtime: graphs.{role} is an OpenVINO IR ({g.file}); set "
                                 f"runtime to 'openvino'")
        self._check_biometric()
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
        if self.format == "heads":
            self._check_heads()
        elif self.heads:
            raise ValueError("heads: only attribute models (format 'heads') declare heads")
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
        elif self.format == "ssd":
            out = g.outputs
            if len(out) != 1 or len(out[0].shape) != 4 or out[0].fixed(3) not in (None, 7):
                raise ValueError("graphs.model.outputs: ssd needs one DetectionOutput "
                                 "(1, 1, N, 7)")
            bg = self.decode.background_label
            if bg is not None and bg < len(self.labels) and self.labels[bg] in self.label_map:
                raise ValueError(
                    f"decode.background_label: label {bg} ({self.labels[bg]!r}) is mapped in "
                    f"label_map; set background_label to the graph's background id (null if "
                    f"it has none)")
        elif self.format == "atss" and len(g.outputs) != 2:
            raise ValueError("graphs.model.outputs: atss needs boxes (N, 5) and labels (N)")

    def _check_heads(self) -> None:
        if self.preprocess is None:
            raise ValueError("preprocess: required for image models")
        if self.labels:
            raise ValueError("labels: an attribute model lists labels per head, in heads")
        self._check_image_input("model")
        outputs = {o.name: o for o in self.graphs["model"].outputs}
        if not self.heads:
            raise ValueError("heads: an attribute model needs at least one head")
        if sorted(self.heads) != sorted(outputs):
            raise ValueError(f"heads: every graph output is one head; outputs are "
                             f"{sorted(outputs)}, heads {sorted(self.heads)}")
        seen: set[str] = set()
        for name, head in self.heads.items():
            if head.attribute in seen:
                raise ValueError(f"heads.{name}.attribute: {head.attribute!r} is filled twice")
            seen.add(head.attribute)
            fixed = [d for d in outputs[name].shape[1:] if isinstance(d, int)]
            symbolic = len(fixed) != len(outputs[name].shape) - 1
            width = int(np.prod(fixed)) if fixed else 1
            if not symbolic and width != head.width:
                raise ValueError(f"heads.{name}: output {outputs[name].shape} carries {width} "
                                 f"values per crop, the head needs {head.width}")

    def _check_biometric(self) -> None:
        # Refused whatever the task: a pack must not be able to bring gender, age or ethnicity
        # into the product, even as a label the analysis would ignore.
        names: list[tuple[str, str]] = [("labels", lb) for lb in self.labels]
        names += [("attribute", self.attribute)] if self.attribute else []
        for out, head in self.heads.items():
            names += [(f"heads.{out}.attribute", head.attribute)]
            names += [(f"heads.{out}.labels", lb) for lb in head.labels]
        for role, g in self.graphs.items():
            names += [(f"graphs.{role}.outputs", o.name) for o in g.outputs]
        for field, name in names:
            word = biometric_word(name)
            if word is not None:
                raise ValueError(
                    f"{field}: {name!r} is biometric ({word!r}); Retrouve never reads gender, "
                    f"age or ethnicity: drop that output from the graph and the manifest")

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
