"""What the pack backends share: the graph-session seam (ONNX Runtime or OpenVINO), checking a
real graph against the manifest signature, turning RGB pixels into input tensors.

The seam: :func:`open_session` returns a :class:`GraphSession` for one graph of a pack, whatever
runs it (``manifest.runtime``: ``onnxruntime`` here, ``openvino`` in
:mod:`retrouve.vision.packs.openvino_runtime`). A session runs named inputs to named outputs
(``run(output_names, feeds) -> [arrays]``, like ONNX Runtime's), has been checked against the
manifest (input names, ranks, fixed dimensions, dtypes; and *no output the manifest does not
declare*: an undeclared output could carry what a pack must not bring, such as gender), and
maps the library's errors to :class:`PackError` naming the pack and the graph.

Coordinate frames: *original* pixels are those of the image given to a backend; *input* pixels
are those of the resized (letterboxed or stretched) tensor the graph sees. :class:`Transform`
maps input-pixel boxes back to original pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from retrouve.errors import MissingExtraError, PackError
from retrouve.vision.packs.manifest import GraphSpec, PackManifest, Preprocess

#: Providers that need the ``onnxruntime-gpu`` wheel (the ``gpu`` extra).
_GPU_PROVIDERS = frozenset({
    "CUDAExecutionProvider", "TensorrtExecutionProvider", "ROCMExecutionProvider",
    "MIGraphXExecutionProvider", "DmlExecutionProvider",
})
#: Shorthands accepted in ``providers``.
_ALIASES: dict[str, tuple[str, ...]] = {
    "cpu": ("CPUExecutionProvider",),
    "gpu": ("CUDAExecutionProvider", "CPUExecutionProvider"),
    "cuda": ("CUDAExecutionProvider", "CPUExecutionProvider"),
}
_ORT_DTYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int64)": "int64",
    "tensor(int32)": "int32", "tensor(uint8)": "uint8",
}


def pack_label(manifest: PackManifest) -> str:
    """How errors and logs name a pack: ``model pack 'yolov8n-coco' 1.0``."""
    return f"model pack {manifest.name!r} {manifest.version}"


def graph_label(manifest: PackManifest, role: str) -> str:
    """How errors name one graph: ``model pack 'x' 1.0 graph model (model.onnx)``."""
    return f"{pack_label(manifest)} graph {role} ({manifest.graphs[role].file})"


@dataclass(frozen=True)
class TensorInfo:
    """A real graph's input or output as its runtime reports it.

    ``names``: every name of the tensor (OpenVINO tensors may have several); ``shape``: ints
    for fixed dimensions, ``None`` for dynamic ones; ``dtype``: a manifest dtype name
    (``float32``…) or the runtime's own spelling when it has no manifest equivalent.
    """

    names: frozenset[str]
    shape: tuple[int | None, ...]
    dtype: str


class GraphSession:
    """One loaded graph of a pack: named inputs → named outputs.

    Subclasses fill :attr:`inputs` / :attr:`outputs` and implement :meth:`_run`; :meth:`run`
    maps every library error to :class:`PackError` naming the pack and graph. Safe to share
    between threads (runs are serialised where the runtime needs it).
    """

    what: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]

    def run(self, outputs: Sequence[str],
            feeds: Mapping[str, npt.NDArray[Any]]) -> list[npt.NDArray[Any]]:
        """The named ``outputs`` (in that order) for the input arrays ``feeds``."""
        try:
            return self._run(outputs, feeds)
        except PackError:
            raise
        except Exception as exc:  # the runtimes raise their own, untyped, exception classes
            raise PackError(f"{self.what}: inference failed: {exc}") from exc

    def _run(self, outputs: Sequence[str],
             feeds: Mapping[str, npt.NDArray[Any]]) -> list[npt.NDArray[Any]]:
        raise NotImplementedError


class OrtSession(GraphSession):
    """A graph run by ONNX Runtime (``threads``: intra-op threads, None = ORT's default)."""

    def __init__(self, path: Path, what: str, providers: Sequence[str] | None,
                 threads: int | None) -> None:
        self.what = what
        chosen = resolve_providers(providers, what)
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        # Quiet: ORT warns on every graph it cannot fully optimise, which is noise for operators.
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(path), sess_options=options,
                                                 providers=chosen)
        except Exception as exc:  # ORT raises its own untyped exception classes
            raise PackError(f"{what}: cannot load graph: {exc}") from exc
        self.inputs = tuple(self._info(a) for a in self._session.get_inputs())
        self.outputs = tuple(self._info(a) for a in self._session.get_outputs())

    @staticmethod
    def _info(arg: Any) -> TensorInfo:
        shape = tuple(d if isinstance(d, int) else None for d in arg.shape)
        return TensorInfo(frozenset({arg.name}), shape, _ORT_DTYPES.get(arg.type, arg.type))

    def _run(self, outputs: Sequence[str],
             feeds: Mapping[str, npt.NDArray[Any]]) -> list[npt.NDArray[Any]]:
        return [np.asarray(o) for o in self._session.run(list(outputs), dict(feeds))]


def resolve_providers(providers: Sequence[str] | None, what: str) -> list[str]:
    """ONNX Runtime provider names for ``providers`` (None → CPU; ``gpu`` → CUDA then CPU).

    Raises MissingExtraError naming the ``gpu`` extra when a GPU provider is asked for and the
    installed onnxruntime lacks it, PackError for an unknown provider name.
    """
    wanted: list[str] = []
    for p in providers or ("cpu",):
        for name in _ALIASES.get(p.lower(), (p,)):
            if name not in wanted:
                wanted.append(name)
    available = set(ort.get_available_providers())
    for name in wanted:
        if name in available:
            continue
        if name in _GPU_PROVIDERS:
            raise MissingExtraError("gpu", f"{what} on {name} (onnxruntime-gpu)")
        raise PackError(f"{what}: unknown ONNX Runtime provider {name!r} "
                        f"(available: {sorted(available)})")
    return wanted


def open_session(
    manifest: PackManifest,
    folder: Path,
    role: str,
    providers: Sequence[str] | None = None,
    threads: int | None = None,
) -> GraphSession:
    """A :class:`GraphSession` on graph ``role`` of the pack in ``folder``, run by the
    manifest's ``runtime`` and checked against the manifest signature (:func:`check_signature`).

    ``threads``: inference threads (None: the runtime's default, all cores; pass 1 when a
    process pool already runs one analysis per core). ``providers``: ONNX Runtime providers or
    ``cpu``/``gpu``; for OpenVINO, ``cpu``/``gpu`` pick the device. Raises
    :class:`MissingExtraError` naming ``openvino`` when an OpenVINO pack is opened without the
    extra, :class:`PackError` when the graph cannot be loaded or differs from the manifest.
    """
    what = graph_label(manifest, role)
    spec = manifest.graphs[role]
    session: GraphSession
    if manifest.runtime == "openvino":
        from retrouve.vision.packs.openvino_runtime import OpenVinoSession

        weights = folder / spec.weights if spec.weights is not None else None
        session = OpenVinoSession(folder / spec.file, weights, what, providers, threads)
    else:
        session = OrtSession(folder / spec.file, what, providers, threads)
    check_signature(session, spec, what)
    return session


def check_graphs(manifest: PackManifest, folder: Path) -> None:
    """Open every graph of the pack in ``folder`` on the CPU and check it against the manifest
    (what :func:`open_session` checks, undeclared outputs included). For an install to refuse a
    pack whose graphs do not match before it becomes visible; raises :class:`PackError` (or
    :class:`MissingExtraError` for an ``openvino`` pack without the extra)."""
    for role in manifest.graphs:
        open_session(manifest, folder, role, ("cpu",), 1)


def check_signature(session: GraphSession, spec: GraphSpec, what: str) -> None:
    """Refuse a graph whose inputs/outputs differ from the manifest: input names (exactly),
    declared outputs present, *no undeclared output*, ranks, fixed dims, dtypes. Dynamic
    dimensions on either side match anything."""
    declared_in = sorted(t.name for t in spec.inputs)
    real_in = sorted(min(i.names) for i in session.inputs)
    if len(session.inputs) != len(spec.inputs) or not all(
            any(t.name in i.names for i in session.inputs) for t in spec.inputs):
        raise PackError(f"{what}: graph inputs are {real_in}, manifest declares {declared_in}")
    declared_out = {t.name for t in spec.outputs}
    for o in session.outputs:
        if not o.names & declared_out:
            raise PackError(
                f"{what}: graph output {min(o.names)!r} is not declared in the manifest; "
                f"refused: every output a pack's graph has must be declared (an undeclared "
                f"output could carry what Retrouve must never read, such as gender)")
    for kind, declared, actual in (("input", spec.inputs, session.inputs),
                                   ("output", spec.outputs, session.outputs)):
        for t in declared:
            a = next((x for x in actual if t.name in x.names), None)
            if a is None:
                names = sorted(min(x.names) for x in actual)
                raise PackError(f"{what}: graph has no {kind} {t.name!r} (has {names})")
            if a.dtype != t.dtype:
                raise PackError(f"{what}: {kind} {t.name} is {a.dtype}, manifest says {t.dtype}")
            if len(a.shape) != len(t.shape) or any(
                isinstance(g, int) and isinstance(d, int) and g != d
                for g, d in zip(a.shape, t.shape, strict=True)
            ):
                shown = [d if d is not None else "?" for d in a.shape]
                raise PackError(f"{what}: {kind} {t.name} has shape {shown}, manifest says "
                                f"{t.shape}")


@dataclass(frozen=True)
class Transform:
    """Original pixels → input pixels: ``x_in = x * scale_x + pad_x`` (same for y)."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float

    def to_original(self, xyxy: npt.NDArray[np.float32], width: int,
                    height: int) -> npt.NDArray[np.float32]:
        """Input-pixel boxes ``(N, 4)`` → original-image pixels, clipped to the image."""
        out = np.empty_like(xyxy, dtype=np.float32)
        out[:, [0, 2]] = (xyxy[:, [0, 2]] - self.pad_x) / self.scale_x
        out[:, [1, 3]] = (xyxy[:, [1, 3]] - self.pad_y) / self.scale_y
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, width)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, height)
        return out


def check_image(image: npt.NDArray[Any], what: str) -> None:
    """Raise ValueError unless ``image`` is RGB uint8 ``(H, W, 3)`` with H, W ≥ 1."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise ValueError(f"{what}: expected an RGB uint8 (H, W, 3) image, got "
                         f"{image.dtype} {tuple(image.shape)}")


def resize_image(image: npt.NDArray[np.uint8],
                 p: Preprocess) -> tuple[npt.NDArray[np.uint8], Transform]:
    """Resize an RGB image to ``p.width`` x ``p.height`` (letterbox or stretch)."""
    h, w = image.shape[:2]
    if p.resize == "stretch":
        out = cv2.resize(image, (p.width, p.height), interpolation=cv2.INTER_LINEAR)
        return out.astype(np.uint8, copy=False), Transform(p.width / w, p.height / h, 0.0, 0.0)
    r = min(p.width / w, p.height / h)
    nw, nh = max(1, round(w * r)), max(1, round(h * r))
    left, top = (p.width - nw) // 2, (p.height - nh) // 2
    canvas = np.full((p.height, p.width, 3), p.pad_value, np.uint8)
    resized = image if (nw, nh) == (w, h) else cv2.resize(
        image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    canvas[top:top + nh, left:left + nw] = resized
    # The exact scale of the content (nw / w), not r: rounding nw moves far edges by < 1 px.
    return canvas, Transform(nw / w, nh / h, float(left), float(top))


def to_tensor(images: Sequence[npt.NDArray[np.uint8]], p: Preprocess,
              dtype: str = "float32") -> npt.NDArray[Any]:
    """Stack same-size RGB uint8 images into a normalised ``NCHW``/``NHWC`` tensor."""
    batch = np.stack(images).astype(np.float32)  # (N, H, W, 3) RGB
    if p.channel_order == "BGR":
        batch = batch[..., ::-1]
    mean, std = np.asarray(p.mean, np.float32), np.asarray(p.std, np.float32)
    batch = ((batch * np.float32(p.scale) - mean) / std).astype(np.float32, copy=False)
    if p.layout == "NCHW":
        batch = batch.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch.astype(np.dtype(dtype), copy=False))


def prepare(images: Sequence[npt.NDArray[np.uint8]], p: Preprocess,
            dtype: str = "float32") -> tuple[npt.NDArray[Any], list[Transform]]:
    """Resize each RGB image and stack them: ``(tensor, per-image transforms)``."""
    resized = [resize_image(img, p) for img in images]
    return to_tensor([r[0] for r in resized], p, dtype), [r[1] for r in resized]


def batch_size(manifest: PackManifest, role: str, default: int = 32) -> int:
    """Images per session run: 1 when the graph's batch axis is fixed at 1, else the
    manifest's ``batch_size`` or ``default`` (bounds memory on large crop lists)."""
    fixed = manifest.graphs[role].inputs[0].fixed(0)
    if fixed is not None:
        return fixed
    return manifest.batch_size or default


def run_batched_outputs(session: GraphSession, outputs: Sequence[str], input_name: str,
                        tensor: npt.NDArray[Any], size: int,
                        fixed: bool) -> list[npt.NDArray[Any]]:
    """Run ``tensor`` (N, …) through ``session`` ``size`` rows at a time; for each of
    ``outputs`` its concatenated rows (dtype as the graph gives it). A graph with a fixed batch
    size gets its last chunk padded (by repeating its first row) and the padding dropped."""
    parts: list[list[npt.NDArray[Any]]] = [[] for _ in outputs]
    for start in range(0, len(tensor), size):
        chunk = tensor[start:start + size]
        n = len(chunk)
        if fixed and n < size:
            chunk = np.concatenate([chunk, np.repeat(chunk[:1], size - n, axis=0)])
        for acc, out in zip(parts, session.run(outputs, {input_name: chunk}), strict=True):
            acc.append(np.asarray(out)[:n])
    return [np.concatenate(acc) for acc in parts]


def run_batched(session: GraphSession, output: str, input_name: str,
                tensor: npt.NDArray[Any], size: int, fixed: bool) -> npt.NDArray[np.float32]:
    """:func:`run_batched_outputs` for one float ``output``."""
    out = run_batched_outputs(session, [output], input_name, tensor, size, fixed)[0]
    return out.astype(np.float32, copy=False)


def run_images(session: GraphSession, graph_input: Any, output: str,
               crops: Sequence[npt.NDArray[np.uint8]], p: Preprocess, size: int, fixed: bool,
               what: str) -> npt.NDArray[np.float32]:
    """Check, preprocess and run RGB uint8 ``crops`` through an image graph whose input is
    ``graph_input`` (a manifest tensor spec); the ``output`` rows, ``(N, …)`` float32.
    Inference failures are :class:`PackError` naming the pack and graph (from the session)."""
    for c in crops:
        check_image(c, what)
    tensor, _ = prepare(crops, p, graph_input.dtype)
    return run_batched(session, output, graph_input.name, tensor, size, fixed)
