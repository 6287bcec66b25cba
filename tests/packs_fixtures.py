"""Tiny ONNX graphs with real model signatures, and helpers that write model packs.

Every graph's output is deterministic and easy to predict, so tests can check decoding
exactly:

* detectors output fixed candidate boxes in *input-tensor* pixels (plus one whose score is the
  mean of the input tensor, which checks letterbox padding and normalisation);
* the classifier's logits are ``channel means @ W`` (a red crop → the first label…);
* the CLIP image encoder is ``channel means @ W`` and the text encoder sums per-token rows
  chosen so that the text "red" points exactly where a pure red crop does.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

COCO80 = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
]
COCO_MAP = {k: k for k in ("person", "bicycle", "car", "motorcycle", "bus", "truck",
                           "backpack", "umbrella", "handbag", "suitcase")}
#: DETR's 91-id COCO list (id 0 and the gaps are "N/A"): logits (1, 100, 92).
COCO91 = ["N/A", *COCO80[0:11], "N/A", *COCO80[11:24], "N/A", *COCO80[24:26], "N/A", "N/A",
          *COCO80[26:40], "N/A", *COCO80[40:60], "N/A", COCO80[60], "N/A", "N/A", COCO80[61],
          "N/A", *COCO80[62:73], "N/A", *COCO80[73:]]
assert len(COCO91) == 91 and COCO91[3] == "car" and COCO91[33] == "suitcase"
assert COCO91[44] == "bottle" and COCO91[90] == "toothbrush"

#: Identity with a dropped-to-zero fourth column: red/green/blue crop → label 0/1/2.
MAKE_MODEL_LABELS = ["Renault|Clio", "Peugeot|208", "Citroen|C3", "Other|Other"]
CLIP_DIM = 512
CONTEXT = 77
CLIP_VOCAB = ["[PAD]", "[UNK]", "<start>", "<end>", "red", "green", "blue", "car", "person",
              "a", "photo", "of"]
OPSET = 17


def _save(model: onnx.ModelProto, path: Path) -> Path:
    # IR 9 / opset 17: loadable by every onnxruntime of the last few years.
    model.ir_version = 9
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _const(name: str, arr: np.ndarray[Any, Any]) -> onnx.TensorProto:
    return numpy_helper.from_array(arr, name)


# ----------------------------------------------------------------------------- detectors
@dataclass(frozen=True)
class FakeBox:
    """A candidate the fake detector emits: centre/size in input pixels, label index, score.
    ``score=None`` means "the mean of the input tensor" (computed by the graph)."""

    cx: float
    cy: float
    w: float
    h: float
    label: int
    score: float | None


def _mean_probe(x: str, nodes: list[onnx.NodeProto]) -> str:
    """Nodes computing ReduceMean of the whole input as a (1, 1, 1) tensor; returns its name."""
    nodes.append(helper.make_node("ReduceMean", [x], ["mean4"], keepdims=1))  # (1,1,1,1)
    nodes.append(helper.make_node("Reshape", ["mean4", "shape111"], ["mean"]))
    return "mean"


def yolo_graph(path: Path, boxes: list[FakeBox], *, layout: str = "v8", nc: int = 80,
               size: int = 640) -> Path:
    """YOLOv8 ``images (1,3,S,S) → output0 (1, 4+nc, 8400)`` or YOLOv5
    ``images → output0 (1, 25200, 5+nc)`` (S = 640), candidates from ``boxes``, zeros elsewhere."""
    n_total = 8400 if layout == "v8" else 25200
    width = 4 + nc if layout == "v8" else 5 + nc
    k = len(boxes)
    rows = np.zeros((k, width), np.float32)
    mask = np.zeros((k, width), np.float32)
    first_cls = 4 if layout == "v8" else 5
    for i, b in enumerate(boxes):
        rows[i, :4] = (b.cx, b.cy, b.w, b.h)
        if layout == "v5":
            rows[i, 4] = 1.0  # objectness 1: the class score alone decides
        if b.score is None:
            mask[i, first_cls + b.label] = 1.0
        else:
            rows[i, first_cls + b.label] = b.score
    # v8 keeps candidates on the last axis; v5 on the middle one.
    small, small_mask = (rows.T[None], mask.T[None]) if layout == "v8" else (rows[None],
                                                                            mask[None])
    pad_axis = 2 if layout == "v8" else 1
    pads = [0, 0, 0, 0, 0, 0]
    pads[3 + pad_axis] = n_total - k
    nodes: list[onnx.NodeProto] = []
    mean = _mean_probe("images", nodes)
    nodes += [
        helper.make_node("Mul", [mean, "mask"], ["probe"]),
        helper.make_node("Add", ["rows", "probe"], ["small"]),
        helper.make_node("Pad", ["small", "pads"], ["output0"], mode="constant"),
    ]
    shape = [1, width, n_total] if layout == "v8" else [1, n_total, width]
    graph = helper.make_graph(
        nodes, f"yolo{layout}-fake",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, shape)],
        initializer=[_const("rows", small), _const("mask", small_mask),
                     _const("pads", np.array(pads, np.int64)),
                     _const("shape111", np.array([1, 1, 1], np.int64))],
    )
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)]), path)


def detr_graph(path: Path, boxes: list[FakeBox], *, size: int = 640, queries: int = 100,
               nc: int = 91) -> Path:
    """DETR ``pixel_values (1,3,S,S) → logits (1,Q,nc+1), pred_boxes (1,Q,4)``: boxes given in
    input pixels are written normalised; each listed query's softmax puts ``score`` on its
    label (and the rest on "no object"); the other queries say "no object"."""
    logits = np.full((1, queries, nc + 1), -10.0, np.float32)
    logits[0, :, nc] = 10.0
    pred = np.full((1, queries, 4), 0.5, np.float32)
    for i, b in enumerate(boxes):
        assert b.score is not None
        # Two-way softmax: label logit l, no-object 0, all else -inf-ish → p = sigmoid(l).
        logits[0, i, :] = -30.0
        logits[0, i, nc] = 0.0
        logits[0, i, b.label] = float(np.log(b.score / (1 - b.score)))
        pred[0, i] = (b.cx / size, b.cy / size, b.w / size, b.h / size)
    nodes: list[onnx.NodeProto] = []
    # Use the input (times zero) so the graph really consumes pixel_values.
    mean = _mean_probe("pixel_values", nodes)
    nodes += [
        helper.make_node("Mul", [mean, "zero"], ["nothing"]),
        helper.make_node("Add", ["logits_c", "nothing"], ["logits"]),
        helper.make_node("Add", ["boxes_c", "nothing"], ["pred_boxes"]),
    ]
    graph = helper.make_graph(
        nodes, "detr-fake",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, queries, nc + 1]),
         helper.make_tensor_value_info("pred_boxes", TensorProto.FLOAT, [1, queries, 4])],
        initializer=[_const("logits_c", logits), _const("boxes_c", pred),
                     _const("zero", np.zeros((1, 1, 1), np.float32)),
                     _const("shape111", np.array([1, 1, 1], np.int64))],
    )
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)]), path)


# ------------------------------------------------------------------- classifier and CLIP
def _channel_means_matmul(inp: str, weight: np.ndarray[Any, Any], out: str,
                          inputs: list[onnx.ValueInfoProto], out_dim: int | str,
                          name: str, extra_init: list[onnx.TensorProto] | None = None
                          ) -> onnx.ModelProto:
    nodes = [
        helper.make_node("ReduceMean", [inp, "axes23"], ["means4"], keepdims=0),  # (N, 3)
        helper.make_node("MatMul", ["means4", "w"], [out]),
    ]
    graph = helper.make_graph(
        nodes, name, inputs,
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", out_dim])],
        initializer=[_const("w", weight.astype(np.float32)),
                     _const("axes23", np.array([2, 3], np.int64)), *(extra_init or [])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def classifier_graph(path: Path, *, size: int = 224) -> Path:
    """``input (N,3,S,S) → logits (N,4)``: logits = 10 x per-channel means (normalised),
    so with mean = std = 0.5 a pure red crop scores (10, -10, -10, 0)."""
    w = np.zeros((3, len(MAKE_MODEL_LABELS)), np.float32)
    w[0, 0] = w[1, 1] = w[2, 2] = 10.0
    model = _channel_means_matmul(
        "input", w, "logits",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, size, size])],
        len(MAKE_MODEL_LABELS), "classifier-fake")
    return _save(model, path)


def clip_weights() -> np.ndarray[Any, Any]:
    """The image encoder's (3, 512) matrix: three orthonormal directions."""
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.normal(size=(CLIP_DIM, 3)))
    return q.T.astype(np.float32)


def clip_image_graph(path: Path, *, size: int = 224) -> Path:
    """``pixel_values (N,3,S,S) → image_embeds (N,512)`` = channel means @ clip_weights()."""
    model = _channel_means_matmul(
        "pixel_values", clip_weights(), "image_embeds",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT,
                                       ["N", 3, size, size])],
        CLIP_DIM, "clip-image-fake")
    return _save(model, path)


def clip_text_graph(path: Path) -> Path:
    """``input_ids (N,77) int64 → text_embeds (N,512)``: sum of per-token rows; "red" is the
    direction of a pure red crop normalised with mean = std = 0.5, i.e. (1, -1, -1) @ W."""
    w = clip_weights()
    table = np.zeros((len(CLIP_VOCAB), CLIP_DIM), np.float32)
    signs = {"red": (1, -1, -1), "green": (-1, 1, -1), "blue": (-1, -1, 1)}
    for word, s in signs.items():
        table[CLIP_VOCAB.index(word)] = np.asarray(s, np.float32) @ w
    rng = np.random.default_rng(3)
    for word in ("car", "person"):
        table[CLIP_VOCAB.index(word)] = rng.normal(size=CLIP_DIM) * 0.05
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["per_token"], axis=0),
        helper.make_node("ReduceSum", ["per_token", "axis1"], ["text_embeds"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "clip-text-fake",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", CONTEXT])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["N", CLIP_DIM])],
        initializer=[_const("table", table), _const("axis1", np.array([1], np.int64))],
    )
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)


def clip_tokenizer(path: Path) -> Path:
    """A WordLevel ``tokenizer.json``: lowercase, whitespace split, ``<start> … <end>``."""
    vocab = {w: i for i, w in enumerate(CLIP_VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<start> $A <end>", special_tokens=[("<start>", 2), ("<end>", 3)])
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


# ------------------------------------------------------------------------ pack writing
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(folder: Path, manifest: dict[str, Any], *, hash_files: bool = True) -> Path:
    """Write ``manifest.json``; with ``hash_files`` fill ``files`` with every file's SHA-256
    (the keys already in ``manifest["files"]`` name the files)."""
    data = dict(manifest)
    if hash_files:
        data["files"] = {rel: sha256(folder / rel) for rel in data["files"]}
    (folder / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder


def _image_spec(name: str, size: int, batch: int | str = 1) -> dict[str, Any]:
    return {"name": name, "shape": [batch, 3, size, size], "dtype": "float32"}


def yolo_pack(folder: Path, boxes: list[FakeBox], *, layout: str = "v8",
              name: str = "yolo-fake", version: str = "1.0", **extra: Any) -> Path:
    """A detector pack (YOLO format) whose model is :func:`yolo_graph`."""
    yolo_graph(folder / "model.onnx", boxes, layout=layout)
    out = [1, 84, 8400] if layout == "v8" else [1, 25200, 85]
    manifest = {
        "schema": 1, "name": name, "version": version, "task": "detector", "format": "yolo",
        "licence": "test-only", "description": f"fake YOLO{layout}",
        "files": {"model.onnx": ""},
        "graphs": {"model": {"file": "model.onnx", "inputs": [_image_spec("images", 640)],
                             "outputs": [{"name": "output0", "shape": out}]}},
        "labels": COCO80, "label_map": COCO_MAP,
        "preprocess": {"width": 640, "height": 640, "resize": "letterbox", "pad_value": 114},
        "decode": {"confidence": 0.25, "iou": 0.45, "yolo_layout": layout},
        **extra,
    }
    return write_manifest(folder, manifest)


def detr_pack(folder: Path, boxes: list[FakeBox], *, resize: str = "stretch",
              name: str = "detr-fake") -> Path:
    """A detector pack (DETR format) whose model is :func:`detr_graph` (ImageNet mean/std)."""
    detr_graph(folder / "model.onnx", boxes)
    manifest = {
        "schema": 1, "name": name, "version": "1.0", "task": "detector", "format": "detr",
        "licence": "test-only", "files": {"model.onnx": ""},
        "graphs": {"model": {"file": "model.onnx",
                             "inputs": [_image_spec("pixel_values", 640)],
                             "outputs": [{"name": "logits", "shape": [1, 100, 92]},
                                         {"name": "pred_boxes", "shape": [1, 100, 4]}]}},
        "labels": COCO91, "label_map": COCO_MAP,
        "preprocess": {"width": 640, "height": 640, "resize": resize,
                       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        "decode": {"confidence": 0.5, "detr_activation": "softmax"},
    }
    return write_manifest(folder, manifest)


def classifier_pack(folder: Path, *, name: str = "makes-fake", batch_size: int = 2) -> Path:
    """A ``make_model`` classifier pack whose model is :func:`classifier_graph`."""
    classifier_graph(folder / "model.onnx")
    manifest = {
        "schema": 1, "name": name, "version": "1.0", "task": "classifier", "format": "softmax",
        "licence": "test-only", "files": {"model.onnx": ""}, "attribute": "make_model",
        "graphs": {"model": {"file": "model.onnx",
                             "inputs": [_image_spec("input", 224, "N")],
                             "outputs": [{"name": "logits", "shape": ["N", 4]}]}},
        "labels": MAKE_MODEL_LABELS,
        "preprocess": {"width": 224, "height": 224, "resize": "stretch",
                       "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "batch_size": batch_size,
    }
    return write_manifest(folder, manifest)


def clip_pack(folder: Path, *, name: str = "clip-fake") -> Path:
    """An embedder pack (CLIP format): both fake encoders and the WordLevel tokenizer."""
    clip_image_graph(folder / "image.onnx")
    clip_text_graph(folder / "text.onnx")
    clip_tokenizer(folder / "tokenizer.json")
    manifest = {
        "schema": 1, "name": name, "version": "1.0", "task": "embedder", "format": "clip",
        "licence": "test-only",
        "files": {"image.onnx": "", "text.onnx": "", "tokenizer.json": ""},
        "graphs": {
            "image": {"file": "image.onnx", "inputs": [_image_spec("pixel_values", 224, "N")],
                      "outputs": [{"name": "image_embeds", "shape": ["N", CLIP_DIM]}]},
            "text": {"file": "text.onnx",
                     "inputs": [{"name": "input_ids", "shape": ["N", CONTEXT],
                                 "dtype": "int64"}],
                     "outputs": [{"name": "text_embeds", "shape": ["N", CLIP_DIM]}]},
        },
        "preprocess": {"width": 224, "height": 224, "resize": "stretch",
                       "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "tokenizer": "tokenizer.json", "context_length": CONTEXT, "pad_id": 0,
    }
    return write_manifest(folder, manifest)


# ----------------------------------------------------------------------------- archives
def make_zip(folder: Path, dest: Path, *, prefix: str = "",
             extra: dict[str, bytes] | None = None) -> Path:
    """Zip ``folder``'s files under ``prefix``; ``extra`` adds raw members (any name)."""
    with zipfile.ZipFile(dest, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, prefix + p.relative_to(folder).as_posix())
        for member, data in (extra or {}).items():
            zf.writestr(member, data)
    return dest


def make_tar(folder: Path, dest: Path, *, prefix: str = "",
             extra: dict[str, bytes] | None = None) -> Path:
    """``.tar.gz`` of ``folder``'s files under ``prefix``; ``extra`` adds raw members."""
    with tarfile.open(dest, "w:gz") as tf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                tf.add(p, prefix + p.relative_to(folder).as_posix())
        for member, data in (extra or {}).items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return dest


def copy_pack(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest
