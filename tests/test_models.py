"""The model set (vision/models.py): built from settings by one function, loaded once per
process, injected fakes win, used by process_unit and the services; the Embedder/Classifier
fakes and the built-in appearance embedder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from clips import BLUE, RED, Clip, Moving, make_clip
from conftest import fixed_clock
from packs_fixtures import COCO80, FakeBox, classifier_pack, clip_pack, yolo_pack
from retrouve.analysis import pipeline
from retrouve.analysis.packs import make_model_attributes
from retrouve.analysis.planning import plan_units
from retrouve.config import AnalysisSettings, PackSelection, Settings
from retrouve.domain import Attribute, Camera, Detections
from retrouve.services import build_services, capabilities
from retrouve.vision import appearance, models
from retrouve.vision.appearance import AppearanceEmbedder
from retrouve.vision.classifier import Classifier, FakeClassifier
from retrouve.vision.detector import Detector, ShapeDetector
from retrouve.vision.embedder import Embedder, FakeEmbedder
from retrouve.vision.models import ModelHolder, ModelKey, ModelSet, describe_models, load_models
from retrouve.vision.packs import PackRegistry
from retrouve.vision.plates.ocr import FakePlateReader, PlateReader


@dataclass(frozen=True)
class Packs:
    detector: Path
    makes_a: Path
    makes_b: Path
    clip: Path


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Packs:
    src = tmp_path_factory.mktemp("pack-src")
    reg = PackRegistry(tmp_path_factory.mktemp("models"))
    car = FakeBox(320, 320, 120, 60, COCO80.index("car"), 0.9)
    return Packs(
        reg.install(str(yolo_pack(src / "yolo", [car]))).path,
        reg.install(str(classifier_pack(src / "ma", name="makes-a"))).path,
        reg.install(str(classifier_pack(src / "mb", name="makes-b"))).path,
        reg.install(str(clip_pack(src / "clip"))).path,
    )


def base(packs: Packs) -> AnalysisSettings:
    return AnalysisSettings(plates=False, packs=PackSelection(
        detector=packs.detector, make_model=packs.makes_a, embedder=packs.clip))


ROLES = ("detector", "make_model", "embedder")


# ------------------------------------------------------------------ loaded once per process
@pytest.mark.parametrize(("change", "same", "absent"), [
    # Another make/model pack: only the classifier is reloaded.
    ({"packs": "makes_b"}, {"detector", "embedder"}, set()),
    # Another threshold: only the detector depends on it.
    ({"detect_threshold": 0.4}, {"make_model", "embedder"}, set()),
    # No embedder pack selected: no embedder, the rest reused.
    ({"packs": "no_clip"}, {"detector", "make_model"}, {"embedder"}),
])
def test_same_settings_same_models_and_a_new_selection_new_ones(
    packs: Packs, change: dict[str, Any], same: set[str], absent: set[str]
) -> None:
    holder = ModelHolder()
    first = load_models(base(packs), holder=holder)
    # Equal settings built afresh (as a worker unpickles them) give the very same objects.
    assert load_models(base(packs).model_copy(deep=True), holder=holder) is first
    assert holder.builds == {"detector": 1, "make_model": 1, "embedder": 1, "appearance": 1,
                             "set": 1}
    update: dict[str, Any] = {k: v for k, v in change.items() if k != "packs"}
    if change.get("packs") == "makes_b":
        update["packs"] = PackSelection(detector=packs.detector, make_model=packs.makes_b,
                                        embedder=packs.clip)
    elif change.get("packs") == "no_clip":
        update["packs"] = PackSelection(detector=packs.detector, make_model=packs.makes_a)
    other = load_models(base(packs).model_copy(update=update), holder=holder)
    assert other is not first
    for role in ROLES:
        if role in absent:
            assert getattr(other, role) is None
        elif role in same:
            assert getattr(other, role) is getattr(first, role)
        else:
            assert getattr(other, role) is not getattr(first, role)
    assert other.appearance is first.appearance
    assert other.plate_reader is None  # plates off


def test_use_packs_off_ignores_the_selection(packs: Packs) -> None:
    key = ModelKey.of(base(packs).model_copy(update={"use_packs": False}))
    assert (key.detector_pack, key.make_model_pack, key.embedder_pack) == (None, None, None)
    assert ModelKey.of(base(packs)).pack("make_model") == str(packs.makes_a)


def test_description_reads_manifests_and_loads_no_model(packs: Packs) -> None:
    holder = ModelHolder()
    desc = describe_models(ModelKey.of(base(packs)))
    assert holder.builds == {}
    assert desc["pack_detector"] == "yolo-fake@1.0"
    assert desc["pack_make_model"] == "makes-a@1.0"
    assert desc["pack_embedder"] == "clip-fake@1.0"
    assert desc["appearance"] == f"{appearance.KIND}@1"
    assert load_models(base(packs), holder=holder).description == desc


# ------------------------------------------------------------------ injected fakes win
class CountingFactory:
    """Detector factory counting its calls (picklable: a module-level class)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, _settings: AnalysisSettings) -> Detector:
        self.calls += 1
        return ShapeDetector()


@pytest.mark.parametrize(("plates", "reader_calls"), [(True, 2), (False, 0)])
def test_injected_factories_win_and_are_called_on_every_load(
    packs: Packs, plates: bool, reader_calls: int
) -> None:
    holder = ModelHolder()
    made = CountingFactory()
    readers: list[PlateReader] = []

    def reader(_settings: AnalysisSettings) -> PlateReader | None:
        readers.append(FakePlateReader())
        return readers[-1]

    settings = base(packs).model_copy(update={"plates": plates})
    sets = [load_models(settings, detector=made, plate_reader=reader, holder=holder)
            for _ in range(2)]
    assert made.calls == 2 and len(readers) == reader_calls
    assert all(isinstance(s.detector, ShapeDetector) for s in sets)
    assert [s.plate_reader for s in sets] == (readers if plates else [None, None])
    # The packs the fakes do not replace still come from the holder, loaded once.
    assert sets[0].make_model is sets[1].make_model is holder.make_model(ModelKey.of(settings))
    assert "detector" not in holder.builds
    # An instance has no __qualname__: the run records that its detector was injected.
    assert sets[0].description == {"detector": "injected"}


# ------------------------------------------------------------------ process_unit
CAR = Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 4.0)
PERSON = Moving(RED, (20, 50), (140, 150), (200, 150), 0.0, 4.0, bottom=BLUE)


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return make_clip(tmp_path_factory.mktemp("street") / "cam1_20260104_100000.mp4",
                     seconds=2.0, fps=10, size=(320, 240), objects=[CAR, PERSON])


def units_of(tmp_path: Path, clip: Clip, slice_s: float = 600) -> tuple[Settings, list[Any]]:
    settings = Settings(data_dir=tmp_path / "data", workers=1, executor="inline")
    svc = build_services(settings, clock=fixed_clock)
    try:
        svc.catalogue.add_camera(Camera("cam1", "Gare", "Europe/Paris"))
        [rec] = svc.catalogue.ingest(str(clip.path), "cam1").added
        return svc.settings, plan_units(rec, slice_s)
    finally:
        svc.close()


class CountingDetector:
    name, version = "counting", "1"

    def __init__(self) -> None:
        self.inner = ShapeDetector()
        self.calls = 0

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        self.calls += 1
        return self.inner.detect(image)


def test_process_unit_analyses_with_the_model_set(
    tmp_path: Path, street: Clip, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, [unit] = units_of(tmp_path, street)
    detector = CountingDetector()
    fake_set = ModelSet(detector=detector, plate_reader=None,
                        make_model=FakeClassifier((("Renault|Clio", 0.8),)),
                        embedder=FakeEmbedder())
    asked: list[AnalysisSettings] = []

    def fake_load(cfg: AnalysisSettings, **_kw: Any) -> ModelSet:
        asked.append(cfg)
        return fake_set

    monkeypatch.setattr(pipeline, "load_models", fake_load)
    result = pipeline.process_unit(unit, settings)
    assert result.error is None and asked == [settings.analysis]
    assert detector.calls == result.stats.frames_detected > 0
    by_object = {t.object: t for t in result.tracks}
    assert set(by_object) == {"car", "person"}
    car_attrs = {(a.name, a.value) for a in by_object["car"].attributes}
    assert {("make", "renault"), ("model", "clio")} <= car_attrs
    for track in result.tracks:
        assert set(track.vectors) == {appearance.KIND, "fake-embedder"}
        assert track.vectors["fake-embedder"].shape == (3,)


def test_process_unit_loads_the_default_models_once_per_process(
    tmp_path: Path, street: Clip, packs: Packs, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = ModelHolder()
    monkeypatch.setattr(models, "HOLDER", holder)
    settings, units = units_of(tmp_path, street, slice_s=1.0)
    settings = settings.model_copy(update={"analysis": settings.analysis.model_copy(
        update={"plates": False, "packs": PackSelection(detector=packs.detector)})})
    assert len(units) == 2
    results = [pipeline.process_unit(u, settings) for u in units]
    assert [r.error for r in results] == [None, None]
    assert holder.builds == {"detector": 1, "appearance": 1, "set": 1}


# ------------------------------------------------------------------ services
def test_services_text_search_uses_the_holders_embedder(tmp_path: Path, packs: Packs) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1, executor="inline")
    setup = build_services(settings, clock=fixed_clock)
    setup.packs.install(str(packs.clip))
    setup.close()
    svc = build_services(settings, clock=fixed_clock)
    try:
        holder = ModelHolder()
        caps = capabilities(svc.settings, holder)
        assert holder.builds == {}  # nothing loaded before the first free-text search
        assert caps.text_kind == "clip-fake" and not caps.make_model
        assert caps.embed_text is not None
        vec = caps.embed_text("red")
        assert vec is not None and vec.shape == (512,)
        assert holder.builds == {"embedder": 1}
        analysis = load_models(svc.settings.analysis, detector=CountingFactory(), holder=holder,
                               plate_reader=lambda _s: None)
        assert analysis.embedder is holder.embedder(ModelKey.of(svc.settings.analysis))
        assert holder.builds == {"embedder": 1, "appearance": 1}
        assert svc.accounts is svc.accounts
    finally:
        svc.close()


# ------------------------------------------------------------------ embedders and fakes
def solid(rgb: tuple[int, int, int], h: int = 40, w: int = 20) -> npt.NDArray[np.uint8]:
    return np.full((h, w, 3), rgb, np.uint8)


def two_tone(h: int = 60, w: int = 30) -> npt.NDArray[np.uint8]:
    img = solid((150, 30, 30), h, w)
    img[h // 2:] = (30, 40, 120)
    return img


@pytest.mark.parametrize(("crop", "person"), [
    (two_tone(), True), (two_tone(), False), (solid((250, 250, 250), 90, 200), False),
    (two_tone(200, 90), True),  # resized inside: still the same bits
])
def test_appearance_embedder_is_bit_identical_to_the_functions(
    crop: npt.NDArray[np.uint8], person: bool
) -> None:
    emb: Embedder = AppearanceEmbedder()
    builtin = AppearanceEmbedder()
    raw = appearance.appearance_vector(crop, person)
    assert raw is not None
    got = builtin.vector(crop, person)
    assert got is not None and got.tobytes() == raw.tobytes()
    unit = appearance.normalise(raw)
    assert unit is not None
    assert builtin.embed_images([crop], person=person)[0].tobytes() == unit.tobytes()
    assert emb.kind == appearance.KIND and emb.dim == appearance.DIM
    assert emb.embed_text("red") is None


def test_appearance_embedder_gives_zero_rows_for_tiny_crops() -> None:
    out = AppearanceEmbedder().embed_images([two_tone(), np.zeros((4, 4, 3), np.uint8)])
    assert out.shape == (2, appearance.DIM) and out.dtype == np.float32
    assert float(np.linalg.norm(out[0])) == pytest.approx(1.0, abs=1e-6)
    assert not out[1].any()
    assert AppearanceEmbedder().embed_images([]).shape == (0, appearance.DIM)


@pytest.mark.parametrize(("text", "best"), [("red", 0), ("Blue ", 1), ("green", 2)])
def test_fake_embedder_ranks_crops_by_colour_word(text: str, best: int) -> None:
    emb: Embedder = FakeEmbedder()
    crops = [solid((200, 10, 10)), solid((10, 10, 200)), solid((10, 200, 10))]
    vecs = emb.embed_images(crops)
    assert vecs.shape == (3, 3) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0)
    q = emb.embed_text(text)
    assert q is not None and int(np.argmax(vecs @ q)) == best


@pytest.mark.parametrize(("texts", "text", "known"), [
    (None, "purple", False), (None, "", False), ({"plum": (0.5, 0.0, 0.5)}, "plum", True),
    ({"plum": (0.5, 0.0, 0.5)}, "red", False),
])
def test_fake_embedder_text_vocabulary(texts: dict[str, tuple[float, float, float]] | None,
                                       text: str, known: bool) -> None:
    assert (FakeEmbedder(texts=texts).embed_text(text) is not None) == known


def test_fake_embedder_blank_and_empty() -> None:
    emb = FakeEmbedder(kind="k")
    assert emb.kind == "k" and emb.embed_images([]).shape == (0, 3)
    assert not emb.embed_images([solid((0, 0, 0))]).any()
    assert emb.calls == 2


def test_fake_classifier_answers_every_crop_best_first() -> None:
    clf: Classifier = FakeClassifier((("Peugeot|208", 0.2), ("Renault|Clio", 0.7)))
    assert clf.classify([solid((1, 2, 3))] * 2) == [[("Renault|Clio", 0.7),
                                                     ("Peugeot|208", 0.2)]] * 2
    assert clf.attribute == "make_model"
    with pytest.raises(ValueError, match=r"in 0\.\.1"):
        FakeClassifier((("X|Y", 1.5),))


@pytest.mark.parametrize(("answer", "expected"), [
    ((("Renault|Clio", 0.6), ("Renault|Megane", 0.3), ("Peugeot|208", 0.05)),
     [Attribute("make", "renault", 0.9), Attribute("model", "clio", 0.6),
      Attribute("model", "megane", 0.3)]),
    ((("Ford|Fiesta", 0.09),), []),
    ((("Citroen|C3", 0.5), ("Citroen|C3", 0.2)),
     [Attribute("make", "citroen", 0.7), Attribute("model", "c3", 0.5)]),
])
def test_make_model_attributes_from_a_classifier(
    answer: tuple[tuple[str, float], ...], expected: list[Attribute]
) -> None:
    clf = FakeClassifier(answer)
    assert make_model_attributes(clf, [solid((9, 9, 9))]) == [expected]
    assert make_model_attributes(clf, []) == []


FACTORIES: list[Callable[[], Embedder]] = [AppearanceEmbedder, FakeEmbedder]


@pytest.mark.parametrize("factory", FACTORIES)
def test_embedders_share_the_protocol_shape(factory: Callable[[], Embedder]) -> None:
    emb = factory()
    out = emb.embed_images([two_tone(), two_tone(80, 40)])
    assert out.shape == (2, emb.dim) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
