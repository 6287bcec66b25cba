"""Multi-head attribute models (``vehicle_attributes`` / ``person_attributes`` packs, format
``heads``): crops → per-crop results of every head.

A pack's graph has one image input and one output per head (``manifest.heads``):

* ``class`` heads give one probability per label (e.g. vehicle colour over 7 colours, vehicle
  type over car/van/truck/bus), after the head's ``activation``;
* ``multilabel`` heads give one independent probability per label (has_bag, has_backpack…);
* ``point`` heads give a place in the crop, ``(x, y)`` normalised 0..1 to the input tensor,
  returned here in *crop pixels* (where to sample the upper/lower clothing colour).

Biometric heads never get this far: the manifest refuses them by name and the session refuses
any graph output the manifest does not declare. The analysis runs them once per track on its
best view (:mod:`retrouve.analysis.track_attributes`). :class:`FakeAttributeModel` is the
scripted stand-in for tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from retrouve.errors import PackError
from retrouve.vision.packs.manifest import ATTRIBUTE_TASKS, HeadSpec, PackManifest
from retrouve.vision.packs.registry import InstalledPack
from retrouve.vision.packs.runtime import (
    Transform,
    batch_size,
    check_image,
    open_session,
    pack_label,
    prepare,
    run_batched_outputs,
)

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CropAttributes:
    """What every head of an attribute model says about one crop.

    ``classes``: attribute → every ``(label, probability)``, best first (probabilities of one
    head sum to 1 after softmax); ``flags``: attribute → label → independent probability 0..1;
    ``points``: attribute → ``(x, y)`` in pixels of the crop as given (0..width, 0..height).
    """

    classes: Mapping[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    flags: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    points: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def best(self, attribute: str) -> tuple[str, float] | None:
        """The most probable ``(label, probability)`` of a class head, None if absent."""
        ranked = self.classes.get(attribute)
        return ranked[0] if ranked else None


def activate(values: F32, activation: str) -> F32:
    """Row-wise ``softmax``, element-wise ``sigmoid``, or ``none`` (as is) of ``(N, K)``."""
    out: F32
    if activation == "softmax":
        e = np.exp(values - values.max(axis=1, keepdims=True))
        out = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    elif activation == "sigmoid":
        out = (1.0 / (1.0 + np.exp(-values))).astype(np.float32)
    else:
        out = values.astype(np.float32, copy=False)
    return out


class AttributePredictor(Protocol):
    """What the analysis needs of an attribute model: its ``task`` (``vehicle_attributes`` or
    ``person_attributes``), name/version, and :meth:`predict` over RGB uint8 crops."""

    name: str
    version: str
    task: str

    def predict(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[CropAttributes]: ...


class FakeAttributeModel:
    """Test fake: every crop gets ``answer``; points given in 0..1 of the crop are scaled to
    each crop's pixels. ``seen`` counts the crops offered so far."""

    name = "fake-attributes"
    version = "1"

    def __init__(self, task: str, answer: CropAttributes) -> None:
        if task not in ATTRIBUTE_TASKS:
            raise ValueError(f"task must be one of {sorted(ATTRIBUTE_TASKS)}, got {task!r}")
        for attr, ranked in answer.classes.items():
            if any(not 0.0 <= p <= 1.0 for _, p in ranked):
                raise ValueError(f"probabilities of {attr!r} must be in 0..1")
        self.task = task
        self.answer = answer
        self.seen = 0

    def predict(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[CropAttributes]:
        self.seen += len(crops)
        out = []
        for c in crops:
            h, w = c.shape[:2]
            points = {k: (x * w, y * h) for k, (x, y) in self.answer.points.items()}
            out.append(CropAttributes(self.answer.classes, self.answer.flags, points))
        return out


class AttributeModel:
    """A ``vehicle_attributes`` or ``person_attributes`` pack; see :class:`PackDetector` for
    ``providers`` and ``threads``."""

    def __init__(
        self,
        pack: InstalledPack,
        *,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
    ) -> None:
        m = pack.manifest
        self._what = pack_label(m)
        if m.task not in ATTRIBUTE_TASKS:
            raise PackError(f"{self._what}: is a {m.task} pack, not an attribute model")
        assert m.preprocess is not None  # guaranteed by the manifest validation
        self.manifest: PackManifest = m
        self.name = m.name
        self.version = m.version
        self.task: str = m.task
        self.heads: dict[str, HeadSpec] = dict(m.heads)
        self._pre = m.preprocess
        self._input = m.graphs["model"].inputs[0]
        self._outputs = list(self.heads)
        self._batch = batch_size(m, "model")
        self._fixed = self._input.fixed(0) is not None
        self._session = open_session(m, pack.path, "model", providers, threads)

    @property
    def attributes(self) -> tuple[str, ...]:
        """The attributes this model fills, in head order."""
        return tuple(h.attribute for h in self.heads.values())

    def head_values(self, crops: Sequence[npt.NDArray[np.uint8]]
                    ) -> tuple[dict[str, F32], list[Transform]]:
        """Output name → ``(N, width)`` float32 after the head's activation (point heads in
        input-tensor pixels: ``x * width, y * height`` of the tensor), and each crop's
        crop → input :class:`Transform`."""
        for c in crops:
            check_image(c, self._what)
        if not crops:
            empty = {name: np.zeros((0, h.width), np.float32) for name, h in self.heads.items()}
            return empty, []
        tensor, transforms = prepare(crops, self._pre, self._input.dtype)
        outs = run_batched_outputs(self._session, self._outputs, self._input.name, tensor,
                                   self._batch, self._fixed)
        values: dict[str, F32] = {}
        for (name, head), out in zip(self.heads.items(), outs, strict=True):
            flat = np.asarray(out, np.float32).reshape(len(crops), -1)
            if flat.shape[1] != head.width:
                raise PackError(f"{self._what}: output {name} gives {flat.shape[1]} values per "
                                f"crop, head {head.attribute!r} needs {head.width}")
            v = activate(flat, head.activation)
            if head.kind == "point":
                v = v * np.array([self._pre.width, self._pre.height], np.float32)
            values[name] = v
        return values, transforms

    def predict(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[CropAttributes]:
        """For each RGB uint8 ``(h, w, 3)`` crop (any size), what every head says."""
        values, transforms = self.head_values(crops)
        out: list[CropAttributes] = []
        for i, (crop, transform) in enumerate(zip(crops, transforms, strict=True)):
            classes: dict[str, tuple[tuple[str, float], ...]] = {}
            flags: dict[str, dict[str, float]] = {}
            points: dict[str, tuple[float, float]] = {}
            for name, head in self.heads.items():
                row = values[name][i]
                if head.kind == "class":
                    order = np.argsort(-row, kind="stable")
                    classes[head.attribute] = tuple((head.labels[int(j)], float(row[j]))
                                                    for j in order)
                elif head.kind == "multilabel":
                    flags[head.attribute] = {lb: float(p)
                                             for lb, p in zip(head.labels, row, strict=True)}
                else:
                    h, w = crop.shape[:2]
                    box = np.array([[row[0], row[1], row[0], row[1]]], np.float32)
                    x, y = transform.to_original(box, w, h)[0, :2]
                    points[head.attribute] = (float(x), float(y))
            out.append(CropAttributes(classes, flags, points))
        return out
