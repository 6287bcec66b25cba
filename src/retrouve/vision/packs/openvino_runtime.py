"""Packs run by OpenVINO (the optional ``openvino`` extra): OpenVINO IR (``.xml`` + ``.bin``)
and ONNX files, behind the :class:`retrouve.vision.packs.runtime.GraphSession` seam.

OpenVINO runs Intel's Open Model Zoo surveillance models natively, 2-3x faster than ONNX
Runtime on their ONNX conversions (../shared/models/README.md). The graph is compiled once for
the CPU (or GPU) device with a latency hint, one stream and ``threads`` inference threads; the
default inference precision is OpenVINO's (bf16 on CPUs that have it, f32 otherwise).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrouve.errors import MissingExtraError, PackError
from retrouve.vision.packs.runtime import GraphSession, TensorInfo

#: OpenVINO element type names → manifest dtypes.
_OV_DTYPES = {"f32": "float32", "f16": "float16", "i64": "int64", "i32": "int32", "u8": "uint8"}
#: ``providers`` shorthands → OpenVINO devices.
_DEVICES = {"cpu": "CPU", "cpuexecutionprovider": "CPU", "gpu": "GPU", "cuda": "GPU"}


def import_openvino(what: str) -> Any:
    """The ``openvino`` module, or :class:`MissingExtraError` naming the ``openvino`` extra."""
    try:
        import openvino
    except ImportError as exc:
        raise MissingExtraError("openvino", f"{what} (runtime openvino)") from exc
    return openvino


def choose_device(providers: Sequence[str] | None, available: Sequence[str], what: str) -> str:
    """The OpenVINO device for ``providers`` (None or ``cpu`` → ``CPU``; ``gpu`` → ``GPU``).
    PackError when the device is unknown or not present on this machine."""
    wanted = (providers or ("cpu",))[0]
    device = _DEVICES.get(wanted.lower(), wanted.upper())
    if not any(d == device or d.startswith(device + ".") for d in available):
        raise PackError(f"{what}: OpenVINO has no {device} device here "
                        f"(available: {sorted(available)})")
    return device


class OpenVinoSession(GraphSession):
    """One graph compiled by OpenVINO. ``weights``: the IR's ``.bin`` (None for ONNX).

    Runs are serialised on one infer request (a lock), and outputs are copied out of
    OpenVINO's buffers, which the next run reuses.
    """

    def __init__(self, path: Path, weights: Path | None, what: str,
                 providers: Sequence[str] | None, threads: int | None) -> None:
        self.what = what
        ov = import_openvino(what)
        core = ov.Core()
        device = choose_device(providers, core.available_devices, what)
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
        if threads is not None and device == "CPU":
            config["INFERENCE_NUM_THREADS"] = threads
        try:
            model = (core.read_model(str(path), str(weights)) if weights is not None
                     else core.read_model(str(path)))
            self.inputs = tuple(self._info(p) for p in model.inputs)
            self.outputs = tuple(self._info(p) for p in model.outputs)
            self._compiled = core.compile_model(model, device, config)
            self._request = self._compiled.create_infer_request()
        except Exception as exc:  # OpenVINO raises RuntimeError and its own classes
            raise PackError(f"{what}: cannot load graph: {exc}") from exc
        self._ports = {name: i for i, o in enumerate(self.outputs) for name in o.names}
        self._in_ports = {name: i for i, o in enumerate(self.inputs) for name in o.names}
        self._lock = threading.Lock()

    @staticmethod
    def _info(port: Any) -> TensorInfo:
        shape = tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())
        kind = port.get_element_type().get_type_name()
        return TensorInfo(frozenset(port.get_names()), shape, _OV_DTYPES.get(kind, kind))

    def _run(self, outputs: Sequence[str],
             feeds: Mapping[str, npt.NDArray[Any]]) -> list[npt.NDArray[Any]]:
        missing = [n for n in outputs if n not in self._ports]
        if missing:
            raise PackError(f"{self.what}: graph has no output {missing[0]!r}")
        inputs = {self._in_ports[name]: np.ascontiguousarray(arr)
                  for name, arr in feeds.items()}
        with self._lock:
            result = self._request.infer(inputs)
            return [np.array(result[self._compiled.output(self._ports[n])]) for n in outputs]
