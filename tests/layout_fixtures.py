"""Tiny generated graphs for the SSD, ATSS and multi-head attribute layouts, and conversion of
any generated ONNX pack to another runtime (OpenVINO reading the ONNX, or an OpenVINO IR made
in the test with ``openvino.convert_model`` + ``openvino.save_model``).

Outputs are constants (plus ``0 x mean(input)`` so the graph consumes its input), so decoding
can be checked exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from packs_fixtures import sha256

OPSET = 17
#: The runtimes every layout is tested on.
RUNTIMES = ["onnxruntime", "openvino-onnx", "openvino-ir"]


def _zero_probe(inp: str) -> list[onnx.NodeProto]:
    # ReduceMean(input) * 0 → "nothing" (1,1,1,1): keeps the input consumed.
    return [helper.make_node("ReduceMean", [inp], ["mean4"], keepdims=1),
            helper.make_node("Mul", ["mean4", "zero"], ["nothing"])]


def const_graph(path: Path, inp: tuple[str, list[int]],
                outputs: dict[str, np.ndarray[Any, Any]]) -> Path:
    """``inp`` (float, NCHW) → each named output = its constant (float outputs get ``+ 0 x
    mean(input)``; int outputs are passed through Identity)."""
    nodes = _zero_probe(inp[0])
    inits = [numpy_helper.from_array(np.zeros((1, 1, 1, 1), np.float32), "zero")]
    outs = []
    for name, arr in outputs.items():
        inits.append(numpy_helper.from_array(arr, f"{name}_c"))
        if arr.dtype == np.float32:
            nothing = "nothing"
            if arr.ndim != 4:
                nodes.append(helper.make_node("Reshape", ["nothing", f"{name}_s"],
                                              [f"{name}_z"]))
                inits.append(numpy_helper.from_array(np.array([1] * arr.ndim, np.int64),
                                                     f"{name}_s"))
                nothing = f"{name}_z"
            nodes.append(helper.make_node("Add", [f"{name}_c", nothing], [name]))
            kind = TensorProto.FLOAT
        else:
            nodes.append(helper.make_node("Identity", [f"{name}_c"], [name]))
            kind = TensorProto.INT64
        outs.append(helper.make_tensor_value_info(name, kind, list(arr.shape)))
    graph = helper.make_graph(
        nodes, path.stem,
        [helper.make_tensor_value_info(inp[0], TensorProto.FLOAT, inp[1])], outs,
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def write(folder: Path, manifest: dict[str, Any]) -> Path:
    data = dict(manifest)
    data["files"] = {rel: sha256(folder / rel) for rel in data["files"]}
    (folder / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder


def with_runtime(folder: Path, runtime: str) -> Path:
    """Turn the generated ONNX pack in ``folder`` (graph role ``model``) into one run by
    ``runtime``: ``onnxruntime`` (as is), ``openvino-onnx`` (OpenVINO reads the ONNX) or
    ``openvino-ir`` (converted here to ``model.xml`` + ``model.bin``, the ONNX removed)."""
    if runtime == "onnxruntime":
        return folder
    data = json.loads((folder / "manifest.json").read_text())
    data["runtime"] = "openvino"
    if runtime == "openvino-ir":
        import openvino as ov

        graph = data["graphs"]["model"]
        onnx_file = folder / graph["file"]
        ov.save_model(ov.convert_model(str(onnx_file)), str(folder / "model.xml"),
                      compress_to_fp16=False)
        onnx_file.unlink()
        del data["files"][graph["file"]]
        data["files"].update({"model.xml": "", "model.bin": ""})
        graph.update({"file": "model.xml", "weights": "model.bin"})
    return write(folder, data)


def _image(name: str, h: int, w: int) -> dict[str, Any]:
    return {"name": name, "shape": [1, 3, h, w], "dtype": "float32"}


def ssd_pack(folder: Path, rows: list[list[float]], *, labels: list[str],
             label_map: dict[str, str], background: int | None = 0, size: int = 300,
             confidence: float = 0.3) -> Path:
    """SSD pack: ``image (1,3,S,S) → detection_out (1,1,N,7)`` holding ``rows`` (padded to
    N = 10 with ``image_id = -1`` rows)."""
    out = np.zeros((1, 1, 10, 7), np.float32)
    out[0, 0, :, 0] = -1
    out[0, 0, :len(rows)] = np.asarray(rows, np.float32)
    const_graph(folder / "model.onnx", ("image", [1, 3, size, size]), {"detection_out": out})
    return write(folder, {
        "schema": 1, "name": "ssd-fake", "version": "1.0", "task": "detector", "format": "ssd",
        "licence": "test-only", "files": {"model.onnx": ""},
        "graphs": {"model": {"file": "model.onnx", "inputs": [_image("image", size, size)],
                             "outputs": [{"name": "detection_out", "shape": [1, 1, 10, 7]}]}},
        "labels": labels, "label_map": label_map,
        "preprocess": {"width": size, "height": size, "resize": "stretch",
                       "channel_order": "BGR", "scale": 1.0},
        "decode": {"confidence": confidence, "background_label": background},
    })


def atss_pack(folder: Path, boxes: list[list[float]], labels: list[int], *,
              names: list[str], label_map: dict[str, str], w: int = 448,
              h: int = 256) -> Path:
    """ATSS pack: ``image (1,3,H,W) → boxes (N,5), labels (N,)`` (int64)."""
    const_graph(folder / "model.onnx", ("image", [1, 3, h, w]),
                {"boxes": np.asarray(boxes, np.float32),
                 "labels": np.asarray(labels, np.int64)})
    n = len(boxes)
    return write(folder, {
        "schema": 1, "name": "atss-fake", "version": "1.0", "task": "detector",
        "format": "atss", "licence": "test-only", "files": {"model.onnx": ""},
        "graphs": {"model": {"file": "model.onnx", "inputs": [_image("image", h, w)],
                             "outputs": [{"name": "boxes", "shape": [n, 5]},
                                         {"name": "labels", "shape": [n],
                                          "dtype": "int64"}]}},
        "labels": names, "label_map": label_map,
        "preprocess": {"width": w, "height": h, "resize": "stretch", "scale": 1.0},
        "decode": {"confidence": 0.3},
    })


def heads_pack(folder: Path, outputs: dict[str, np.ndarray[Any, Any]],
               heads: dict[str, dict[str, Any]], *, task: str = "vehicle_attributes",
               w: int = 72, h: int = 72, declared: list[str] | None = None) -> Path:
    """Attribute pack: ``input (1,3,H,W) →`` the constant ``outputs``; ``declared`` (default:
    all) are the outputs the manifest lists."""
    const_graph(folder / "model.onnx", ("input", [1, 3, h, w]), outputs)
    names = list(outputs) if declared is None else declared
    return write(folder, {
        "schema": 1, "name": "heads-fake", "version": "1.0", "task": task, "format": "heads",
        "licence": "test-only", "files": {"model.onnx": ""},
        "graphs": {"model": {"file": "model.onnx", "inputs": [_image("input", h, w)],
                             "outputs": [{"name": n, "shape": list(outputs[n].shape)}
                                         for n in names]}},
        "heads": {n: heads[n] for n in names if n in heads},
        "preprocess": {"width": w, "height": h, "resize": "stretch", "scale": 1.0,
                       "channel_order": "BGR"},
    })
