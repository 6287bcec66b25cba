"""Analysis end to end on synthetic clips: plates read per track (scripted reader), vans,
appearance vectors for find-similar."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from clips import BLUE, RED, YELLOW, Moving, make_clip
from conftest import fixed_clock, shape_detector
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Box, Camera, Query
from retrouve.services import Services, build_services
from retrouve.vision.plates.ocr import FakePlateReader, PlateReader, RawRead


def read(text: str, conf: float = 0.9) -> RawRead:
    return RawRead(text, tuple((c, conf) for c in text), conf, Box(10, 40, 70, 52))


def scripted(reads: list[RawRead], _settings: AnalysisSettings) -> PlateReader | None:
    return FakePlateReader(default=reads)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    # A large car (plates are read on vehicles ≥ plate_min_vehicle_px wide) and a person.
    return make_clip(
        tmp_path / "cam1_20260104_100000.mp4", seconds=4.0, fps=10, size=(480, 270),
        objects=(Moving(YELLOW, (120, 60), (0, 60), (340, 60), 0.0, 4.0),
                 Moving(RED, (24, 60), (200, 180), (260, 180), 0.0, 4.0, bottom=BLUE)),
    ).path


def analyse(tmp_path: Path, clip: Path, reads: list[RawRead]) -> Services:
    settings = Settings(data_dir=tmp_path / "data", workers=1, executor="inline")
    svc = build_services(settings, detector_factory=shape_detector, clock=fixed_clock,
                         plate_reader_factory=functools.partial(scripted, reads))
    svc.catalogue.add_camera(Camera("cam1", "Gare", "Europe/Paris"))
    svc.catalogue.ingest(str(clip), "cam1")
    report = svc.analyser.analyse()
    assert report.units_failed == 0
    return svc


def test_plate_read_on_every_view_becomes_a_searchable_consensus(tmp_path: Path,
                                                                 clip: Path) -> None:
    svc = analyse(tmp_path, clip, [read("AB123CD")])
    hits = svc.searcher.search(Query(plate="AB-123-CD")).hits
    assert len(hits) == 1 and hits[0].object in ("car", "van")
    plate = hits[0].plate
    assert plate is not None and plate.text == "AB123CD" and plate.reads >= 2
    # Tolerant search: a witness's "AB-I23" fragment (I for 1).
    assert svc.searcher.search(Query(plate="ABI23*")).hits
    assert not svc.searcher.search(Query(plate="ZZ*")).hits


def test_no_legible_plate_means_no_plate(tmp_path: Path, clip: Path) -> None:
    svc = analyse(tmp_path, clip, [])
    hits = svc.searcher.search(Query(object="vehicle")).hits
    assert hits and all(h.plate is None for h in hits)


def test_tracks_get_vehicle_type_and_appearance_vectors(tmp_path: Path, clip: Path) -> None:
    svc = analyse(tmp_path, clip, [])
    car = svc.searcher.search(Query(object="car")).hits
    assert car and "vehicle_type" in car[0].attributes
    person = svc.searcher.search(Query(object="person")).hits
    assert person
    # Only one person: find-similar returns nothing else, but runs on the stored vector.
    assert svc.searcher.search(Query(like_track=person[0].track_id)).hits == ()


# ------------------------------------------------------------------ installed packs
def test_packs_add_make_model_and_clip_text_search(tmp_path: Path, clip: Path) -> None:
    from packs_fixtures import MAKE_MODEL_LABELS, classifier_pack, clip_pack

    settings = Settings(data_dir=tmp_path / "data", workers=1, executor="inline")
    setup = build_services(settings, detector_factory=shape_detector, clock=fixed_clock)
    setup.packs.install(str(classifier_pack(tmp_path / "src-mm")))
    setup.packs.install(str(clip_pack(tmp_path / "src-clip")))
    setup.close()
    svc = build_services(settings, detector_factory=shape_detector, clock=fixed_clock,
                         plate_reader_factory=functools.partial(scripted, []))
    assert svc.settings.analysis.packs.make_model is not None
    svc.catalogue.add_camera(Camera("cam1", "Gare", "Europe/Paris"))
    svc.catalogue.ingest(str(clip), "cam1")
    assert svc.analyser.analyse().units_failed == 0
    # The yellow car's best view is mostly red+green: the fake classifier's labels 0/1 win.
    makes = {lab.split("|")[0].lower() for lab in MAKE_MODEL_LABELS}
    car = svc.searcher.search(Query(object="car")).hits[0]
    assert car.attributes["make"][0] in makes
    found = svc.searcher.search(Query(make=car.attributes["make"][0].upper())).hits
    assert [h.track_id for h in found] == [car.track_id]
    # Free text through the CLIP pack: "red" ranks the red-shirted person first.
    hits = svc.searcher.search(Query(text="red", object="person")).hits
    assert hits and hits[0].object == "person"
    # find-similar uses the pack's vectors when the track has them.
    assert svc.searcher.search(Query(like_track=car.track_id)).hits == ()
    svc.close()
