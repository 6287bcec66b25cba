"""Pack folders for the real Open Model Zoo files in ``../shared/models`` (tests, benchmarks).

The files are copied (never linked: an install copies anyway) into a folder with a
``manifest.json`` whose SHA-256 are computed here, from the copies in ``../shared/models``
(these differ from the upstream OMZ release hashes; the catalogue of recommended packs pins
both). :data:`SHARED_MODELS` is ``None`` when ``../shared/models`` is absent (a fresh clone):
callers skip.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_CANDIDATES = [ROOT.parent / "shared" / "models", ROOT.parents[1] / "shared" / "models"]
SHARED_MODELS: Path | None = next((p for p in _CANDIDATES if (p / "README.md").is_file()), None)
_SHARED_EVAL = [p.parent / "eval" for p in _CANDIDATES]
SHARED_EVAL: Path | None = next((p for p in _SHARED_EVAL if (p / "media").is_dir()), None)

PVB_LABELS = ["vehicle", "person", "bike"]
#: OMZ's vehicle class is car/van/truck/bus together; "car" is the closest Retrouve class (the
#: type is decided later, per track). "bike" is bicycles and motorcycles.
PVB_MAP = {"vehicle": "car", "person": "person", "bike": "bicycle"}
BGR_255 = {"resize": "stretch", "channel_order": "BGR", "scale": 1.0}
VA_COLOURS = ["white", "gray", "yellow", "red", "green", "blue", "black"]
VA_TYPES = ["car", "van", "truck", "bus"]
PA_FLAGS = ["has_bag", "has_backpack", "has_hat", "has_longsleeves", "has_longpants",
            "has_longhair", "has_coat_jacket"]


def _t(name: str, shape: list[Any], dtype: str = "float32") -> dict[str, Any]:
    return {"name": name, "shape": shape, "dtype": dtype}


def _graph(file: str, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]
           ) -> dict[str, Any]:
    g: dict[str, Any] = {"file": file, "inputs": inputs, "outputs": outputs}
    if file.endswith(".xml"):
        g["weights"] = file[:-4] + ".bin"
    return g


def _pvb(folder: str, file: str, runtime: str, fmt: str, size: tuple[int, int],
         inp: str, outputs: list[dict[str, Any]], labels: list[str],
         decode: dict[str, Any]) -> dict[str, Any]:
    w, h = size
    return {
        "folder": folder, "task": "detector", "format": fmt, "runtime": runtime,
        "graph": _graph(file, [_t(inp, [1, 3, h, w])], outputs),
        "labels": labels, "label_map": PVB_MAP,
        "preprocess": {"width": w, "height": h, **BGR_255},
        "decode": {"confidence": 0.3, "iou": 0.45, **decode},
    }


_D2001 = "omz-person-vehicle-bike-detection-2001"
_D2004 = "omz-person-vehicle-bike-detection-2004"
_D1016 = "omz-person-vehicle-bike-detection-crossroad-1016-int8"
_VA = "omz-vehicle-attributes-recognition-barrier-0039"
_PA = "omz-person-attributes-recognition-crossroad-0230-nogender"
_IR2001 = "ir/FP16/person-vehicle-bike-detection-2001.xml"
_VA_IR = "ir/FP32/vehicle-attributes-recognition-barrier-0039.xml"
_VA_ONNX = "vehicle-attributes-recognition-barrier-0039.onnx"
_PA_ONNX = "person-attributes-recognition-crossroad-0230-nogender.onnx"
_PA_HEADS = {
    "attributes": {"attribute": "person_flags", "labels": PA_FLAGS, "activation": "none",
                   "kind": "multilabel"},
    "top_color_point": {"attribute": "upper_colour_point", "kind": "point"},
    "bottom_color_point": {"attribute": "lower_colour_point", "kind": "point"},
}

#: name → manifest parts (``folder`` under ../shared/models, one ``graph``).
PACKS: dict[str, dict[str, Any]] = {
    "pvb-2001-ir": _pvb(_D2001, _IR2001, "openvino", "ssd", (384, 384), "image",
                        [_t("detection_out", [1, 1, 200, 7])], PVB_LABELS,
                        {"background_label": 3}),
    "pvb-2001-onnx": _pvb(_D2001, "person-vehicle-bike-detection-2001.onnx", "onnxruntime",
                          "yolo", (384, 384), "images", [_t("output0", [1, 7, 3024])],
                          PVB_LABELS, {"yolo_layout": "v8"}),
    "pvb-2001-onnx-ov": _pvb(_D2001, "person-vehicle-bike-detection-2001.onnx", "openvino",
                             "yolo", (384, 384), "images", [_t("output0", [1, 7, 3024])],
                             PVB_LABELS, {"yolo_layout": "v8"}),
    "pvb-2004": _pvb(_D2004, "ir/FP16/person-vehicle-bike-detection-2004.xml", "openvino",
                     "atss", (448, 256), "image",
                     [_t("boxes", ["N", 5]), _t("labels", ["N"], "int64")], PVB_LABELS, {}),
    "pvb-1016": _pvb(_D1016, "ir/FP16-INT8/person-vehicle-bike-detection-crossroad-1016.xml",
                     "openvino", "ssd", (512, 512), "input.1", [_t("653", [1, 1, 200, 7])],
                     ["background", *PVB_LABELS], {"background_label": 0}),
    "va-0039-ir": {
        "folder": _VA, "task": "vehicle_attributes", "format": "heads", "runtime": "openvino",
        "graph": _graph(_VA_IR, [_t("input", [1, 3, 72, 72])],
                        [_t("color", [1, 7, 1, 1]), _t("type", [1, 4, 1, 1])]),
        "heads": {"color": {"attribute": "colour", "labels": VA_COLOURS, "kind": "class"},
                  "type": {"attribute": "vehicle_type", "labels": VA_TYPES, "kind": "class"}},
        "preprocess": {"width": 72, "height": 72, **BGR_255},
    },
    "va-0039-onnx": {
        "folder": _VA, "task": "vehicle_attributes", "format": "heads",
        "runtime": "onnxruntime",
        "graph": _graph(_VA_ONNX, [_t("input", [1, 3, 72, 72])],
                        [_t("color", [1, 7]), _t("type", [1, 4])]),
        "heads": {"color": {"attribute": "colour", "labels": VA_COLOURS, "kind": "class"},
                  "type": {"attribute": "vehicle_type", "labels": VA_TYPES, "kind": "class"}},
        "preprocess": {"width": 72, "height": 72, **BGR_255},
    },
    **{f"pa-0230-{rt}": {
        "folder": _PA, "task": "person_attributes", "format": "heads", "runtime": runtime,
        "graph": _graph(_PA_ONNX, [_t("input", [1, 3, 160, 80])],
                        [_t("attributes", [1, 7]), _t("top_color_point", [1, 2]),
                         _t("bottom_color_point", [1, 2])]),
        "heads": _PA_HEADS,
        "preprocess": {"width": 80, "height": 160, **BGR_255},
    } for rt, runtime in (("onnx", "onnxruntime"), ("ov", "openvino"))},
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_of(name: str, folder: Path) -> dict[str, Any]:
    """The manifest of pack ``name`` for the files already in ``folder``."""
    spec = dict(PACKS[name])
    graph = spec.pop("graph")
    spec.pop("folder")
    files = [graph["file"], *([graph["weights"]] if "weights" in graph else [])]
    return {"schema": 1, "name": f"omz-{name}", "version": "1.0", "licence": "Apache-2.0 (Intel "
            "Open Model Zoo)", "description": f"test pack for {PACKS[name]['folder']}",
            "files": {f: sha256(folder / f) for f in files}, "graphs": {"model": graph},
            **spec}


def write_pack(name: str, dest: Path) -> Path:
    """Copy pack ``name``'s files from ../shared/models into ``dest`` and write its manifest.
    Requires :data:`SHARED_MODELS`."""
    assert SHARED_MODELS is not None, "../shared/models is absent"
    graph = PACKS[name]["graph"]
    src = SHARED_MODELS / PACKS[name]["folder"]
    for rel in (graph["file"], graph.get("weights")):
        if rel is not None:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, dest / rel)
    (dest / "manifest.json").write_text(json.dumps(manifest_of(name, dest), indent=2),
                                        encoding="utf-8")
    return dest
