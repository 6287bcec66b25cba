"""End-to-end analysis with the fake detector on synthetic clips: tracks, colours, resume."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select

from clips import BLUE, GREEN, RED, YELLOW, Clip, Moving, copy_as, make_clip, make_still
from conftest import fails_on_small_frames, fixed_clock, make_services, no_plates, shape_detector
from retrouve.analysis.pipeline import process_unit
from retrouve.analysis.planning import plan_units
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Box, Camera, Detections, Query, Recording, StageStats, UnitResult
from retrouve.errors import ModelError
from retrouve.services import Services, build_services
from retrouve.store import schema as s
from retrouve.video import still_size
from retrouve.vision.detector import Detector

CAM = Camera("cam1", "Rue de la Paix", "Europe/Paris")


@dataclass(frozen=True)
class StoredTrack:
    row: dict[str, Any]
    attributes: list[tuple[str, str, float, int]]

    def attr(self, name: str) -> tuple[str, float] | None:
        best = [(v, c) for n, v, c, rank in self.attributes if n == name and rank == 1]
        return best[0] if best else None


def stored_tracks(svc: Services) -> list[StoredTrack]:
    with svc.store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(s.tracks).order_by(s.tracks.c.id))]
        attrs = conn.execute(select(s.track_attributes)).all()
    by_track: dict[int, list[tuple[str, str, float, int]]] = {}
    for a in attrs:
        by_track.setdefault(a.track_id, []).append((a.name, a.value, a.confidence, a.rank))
    return [StoredTrack(r, sorted(by_track.get(r["id"], []))) for r in rows]


def work_units(svc: Services) -> dict[str, dict[str, Any]]:
    with svc.store.engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(select(s.work_units))}


def statuses(svc: Services) -> dict[str, tuple[str, str | None]]:
    return {e.recording.id: (e.status, e.error) for e in svc.store.list_recordings()}


# ------------------------------------------------------------------------ clean analysis
CAR = Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 4.0)
PERSON = Moving(RED, (20, 50), (140, 150), (200, 150), 0.0, 4.0, bottom=BLUE)


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    folder = tmp_path_factory.mktemp("street")
    return make_clip(folder / "cam1_20260104_100000.mp4", seconds=4.0, fps=10, size=(320, 240),
                     objects=[CAR, PERSON])


@pytest.fixture(scope="module")
def analysed(
    street: Clip, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Services, Recording, Any]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("street-data"), workers=1,
                        executor="inline")
    svc = make_services(settings)
    try:
        svc.catalogue.add_camera(CAM)
        [rec] = svc.catalogue.ingest(str(street.path), CAM.id).added
        report = svc.analyser.analyse()
        yield svc, rec, report
    finally:
        svc.close()


def test_analysis_report(analysed: tuple[Services, Recording, Any]) -> None:
    svc, rec, report = analysed
    assert report.units_total == 1 and report.units_done == 1
    assert report.units_failed == 0 and report.units_skipped == 0
    assert report.failures == [] and not report.interrupted
    assert report.tracks == 2 == svc.store.count_tracks()
    assert report.footage_seconds == pytest.approx(rec.duration_s)
    [stats] = report.stats
    assert stats.frames_decoded == 40
    assert stats.frames_sampled == 16  # 4 fps over 4 s
    assert 1 <= stats.frames_detected <= stats.frames_sampled
    assert statuses(svc) == {rec.id: ("done", None)}
    assert report.to_json()["tracks"] == 2


def test_car_track_is_red_and_where_the_car_was(
    analysed: tuple[Services, Recording, Any], street: Clip
) -> None:
    svc, rec, _ = analysed
    [car] = [t for t in stored_tracks(svc) if t.row["object"] == "car"]
    colour = car.attr("colour")
    assert colour is not None and colour[0] == "red" and colour[1] > 0.5
    assert car.attr("upper") is None and car.attr("lower") is None
    _check_track_against_truth(svc, rec, car, street, 0)


def test_person_track_has_red_top_and_blue_trousers(
    analysed: tuple[Services, Recording, Any], street: Clip
) -> None:
    svc, rec, _ = analysed
    [person] = [t for t in stored_tracks(svc) if t.row["object"] == "person"]
    upper, lower = person.attr("upper"), person.attr("lower")
    assert upper is not None and upper[0] == "red" and upper[1] > 0.5
    assert lower is not None and lower[0] == "blue" and lower[1] > 0.5
    assert person.attr("colour") is None
    _check_track_against_truth(svc, rec, person, street, 1)


def _check_track_against_truth(
    svc: Services, rec: Recording, track: StoredTrack, clip: Clip, index: int
) -> None:
    obj = clip.objects[index]
    row = track.row
    assert row["camera_id"] == "cam1" and row["recording_id"] == rec.id
    assert row["object_conf"] > 0.5
    # Times overlap the truth (recording seconds and wall clock agree).
    assert row["t_start"] <= obj.t_in + 0.5 and row["t_end"] >= min(obj.t_out, 3.9) - 0.5
    assert row["start_utc"] == rec.start + timedelta(seconds=row["t_start"])
    assert row["end_utc"] == rec.start + timedelta(seconds=row["t_end"])
    assert 0.0 <= row["t_start"] <= row["best_t"] <= row["t_end"]
    best = Box(row["box_x0"], row["box_y0"], row["box_x1"], row["box_y1"])
    truth = clip.truth(index, row["best_t"])
    assert truth is not None
    assert best.iou(truth) >= 0.5
    # Every stored observation is near the truth at its time.
    observations = json.loads(row["observations_json"])
    assert len(observations) >= 8
    for t, x0, y0, x1, y1, _conf in observations:
        at = clip.truth(index, t)
        assert at is not None and Box(x0, y0, x1, y1).iou(at) >= 0.5, t
    # The thumbnail is a JPEG in the blob folder, showing the object's colour.
    assert row["thumbnail"]
    path = svc.store.blobs.path_of(row["thumbnail"])
    assert path.is_file() and path.read_bytes()[:2] == b"\xff\xd8"
    thumb = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert thumb is not None and thumb.shape[0] >= best.height and thumb.shape[1] >= best.width


def test_analysed_tracks_are_searchable(analysed: tuple[Services, Recording, Any]) -> None:
    svc, rec, _ = analysed
    cars = svc.searcher.search(Query(cameras=("cam1",), object="car", colour="red")).hits
    assert [h.object for h in cars] == ["car"]
    assert cars[0].recording == rec.id and cars[0].thumbnail is not None
    people = svc.searcher.search(Query(upper="red", lower="blue")).hits
    assert [h.object for h in people] == ["person"]
    assert svc.searcher.search(Query(object="car", colour="blue")).hits == ()
    assert svc.searcher.search(Query(upper="blue")).hits == ()


def test_run_is_recorded_with_models_and_settings(
    analysed: tuple[Services, Recording, Any],
) -> None:
    svc, _, report = analysed
    [run] = svc.store.list_runs()
    assert run.id == report.run_id
    assert run.status == "done"
    assert run.started_at == fixed_clock() and run.finished_at == fixed_clock()
    assert json.loads(run.models_json) == {"detector": shape_detector.__qualname__}
    recorded = json.loads(run.settings_json)
    assert recorded == json.loads(json.dumps(svc.settings.analysis.model_dump()))
    assert recorded["sample_fps"] == 4.0 and recorded["slice_seconds"] == 600.0
    assert run.software_version


def test_rerun_when_everything_is_done_does_nothing(
    analysed: tuple[Services, Recording, Any],
) -> None:
    svc, rec, first = analysed
    tracks_before = [t.row["id"] for t in stored_tracks(svc)]
    runs_before = svc.store.list_runs()
    again = svc.analyser.analyse()
    assert first.units_total == 1
    assert again.units_skipped == again.units_total  # nothing left to do
    assert again.units_done == again.units_failed == again.tracks == 0
    assert again.run_id is None
    assert [t.row["id"] for t in stored_tracks(svc)] == tracks_before
    assert svc.store.list_runs() == runs_before
    assert statuses(svc)[rec.id] == ("done", None)
    # Asking for the recording by id changes nothing either.
    assert svc.analyser.analyse([rec.id]).units_total == 0


# ---------------------------------------------------------------------------- images
def test_image_is_analysed_as_one_frame(services: Services, tmp_path: Path) -> None:
    services.catalogue.add_camera(CAM)
    still = make_still(tmp_path / "cam1_20260104_100000.png", size=(320, 240),
                       objects=(Moving(YELLOW, (80, 40), (100, 100), (100, 100), 0.0, 0.0),))
    [rec] = services.catalogue.ingest(str(still), CAM.id).added
    report = services.analyser.analyse()
    assert report.units_done == 1 and report.tracks == 1
    [track] = stored_tracks(services)
    assert track.row["object"] == "car"
    assert track.row["t_start"] == track.row["best_t"] == 0.0
    assert Box(track.row["box_x0"], track.row["box_y0"], track.row["box_x1"],
               track.row["box_y1"]).iou(Box(100, 100, 180, 140)) > 0.9
    colour = track.attr("colour")
    assert colour is not None and colour[0] == "yellow"
    assert statuses(services)[rec.id] == ("done", None)


def test_huge_still_is_analysed_scaled_down(services: Services, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A still over ``STILL_MAX_PIXELS`` (here lowered to 320×240 so the test stays cheap) is
    stored and analysed at a bounded size: its boxes are in that size's pixels, at the same
    place in the picture."""
    monkeypatch.setattr(still_size, "STILL_MAX_PIXELS", 320 * 240)
    services.catalogue.add_camera(CAM)
    still = make_still(tmp_path / "cam1_20260104_100000.png", size=(640, 480),
                       objects=(Moving(YELLOW, (160, 80), (200, 200), (200, 200), 0.0, 0.0),))
    [rec] = services.catalogue.ingest(str(still), CAM.id).added
    assert (rec.width, rec.height) == (320, 240) and rec.is_image
    report = services.analyser.analyse()
    assert report.units_done == 1 and report.tracks == 1
    [track] = stored_tracks(services)
    assert track.row["object"] == "car"
    assert Box(track.row["box_x0"], track.row["box_y0"], track.row["box_x1"],
               track.row["box_y1"]).iou(Box(100, 100, 180, 140)) > 0.9
    assert statuses(services)[rec.id] == ("done", None)


def test_analysis_size_bounds_pixels_and_keeps_the_aspect() -> None:
    w, h = still_size.analysis_size(12000, 9000)
    assert w * h <= still_size.STILL_MAX_PIXELS and w % 2 == h % 2 == 0
    assert w / h == pytest.approx(12000 / 9000, rel=1e-3) and w * h > 0.99 * 16e6
    assert still_size.analysis_size(4000, 3000) == (4000, 3000)  # 12 Mpx: as it is
    assert still_size.analysis_size(100_000, 10, max_pixels=10_000) == (10_000, 2)


def test_image_track_span_is_the_instant_of_the_image(
    services: Services, tmp_path: Path
) -> None:
    """An image is a zero-length recording: its tracks must not end after it does."""
    services.catalogue.add_camera(CAM)
    still = make_still(tmp_path / "cam1_20260104_100000.jpg", size=(320, 240),
                       objects=(Moving(GREEN, (80, 40), (60, 60), (60, 60), 0.0, 0.0),))
    [rec] = services.catalogue.ingest(str(still), CAM.id).added
    services.analyser.analyse()
    [track] = stored_tracks(services)
    assert track.row["t_end"] <= rec.duration_s
    assert track.row["end_utc"] == rec.end
    [hit] = services.searcher.search(Query()).hits
    assert hit.start == hit.end


# ---------------------------------------------------------------------------- resume
#: Three units of 10 s (25 s at 5 fps, 160x120): an object in each unit.
LONG_OBJECTS = (
    Moving(RED, (30, 14), (0, 20), (120, 20), 1.0, 8.0),
    Moving(BLUE, (10, 24), (140, 40), (40, 40), 11.0, 18.0),
    Moving(GREEN, (30, 14), (120, 60), (10, 60), 21.0, 24.6),
    Moving(YELLOW, (12, 28), (20, 90), (120, 90), 2.0, 24.0),
)
SLICED = AnalysisSettings(slice_seconds=10, sample_fps=4.0)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    folder = tmp_path_factory.mktemp("long")
    return make_clip(folder / "cam1_20260104_100000.mp4", seconds=25.0, fps=5, size=(160, 120),
                     objects=LONG_OBJECTS, gop=10)


def sliced_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, workers=1, executor="inline", analysis=SLICED)


def track_keys(svc: Services) -> list[tuple[str, int, str]]:
    return sorted((t.row["unit_id"], t.row["local_id"], t.row["object"])
                  for t in stored_tracks(svc))


@pytest.fixture(scope="module")
def clean_long_run(
    long_clip: Clip, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[str, int, str]]:
    """Tracks of an uninterrupted analysis of the long clip on a fresh data dir."""
    svc = make_services(sliced_settings(tmp_path_factory.mktemp("clean")))
    try:
        svc.catalogue.add_camera(CAM)
        svc.catalogue.ingest(str(long_clip.path), CAM.id)
        report = svc.analyser.analyse()
        assert report.units_total == 3 and report.units_done == 3
        return track_keys(svc)
    finally:
        svc.close()


class FaultyFactory:
    """Detector factory whose ``unit``-th detector (1-based) raises ``error`` on its
    ``after``-th detect call; the other units get the plain fake."""

    def __init__(self, unit: int, after: int, error: BaseException) -> None:
        self.unit, self.after, self.error = unit, after, error
        self.made = 0
        self.raised = False

    def __call__(self, settings: AnalysisSettings) -> Detector:
        self.made += 1
        inner = shape_detector(settings)
        if self.made != self.unit:
            return inner
        factory = self

        class Faulty:
            name, version = "faulty", "1"
            calls = 0

            def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
                self.calls += 1
                if self.calls >= factory.after:
                    factory.raised = True
                    raise factory.error
                return inner.detect(image)

        return Faulty()


def test_plan_of_the_long_clip_has_three_units(long_clip: Clip, settings: Settings) -> None:
    svc = make_services(sliced_settings(settings.data_dir))
    try:
        svc.catalogue.add_camera(CAM)
        [rec] = svc.catalogue.ingest(str(long_clip.path), CAM.id).added
        units = plan_units(rec, 10)
        assert [(u.t0, u.t1) for u in units] == [(0.0, 10.0), (10.0, 20.0), (20.0, float("inf"))]
    finally:
        svc.close()


def test_interrupted_analysis_resumes_without_duplicates(
    long_clip: Clip, tmp_path: Path, clean_long_run: list[tuple[str, int, str]]
) -> None:
    settings = sliced_settings(tmp_path / "data")
    faulty = FaultyFactory(unit=2, after=3, error=KeyboardInterrupt())
    svc = build_services(settings, detector_factory=faulty, clock=fixed_clock)
    try:
        svc.catalogue.add_camera(CAM)
        [rec] = svc.catalogue.ingest(str(long_clip.path), CAM.id).added
        seen: list[tuple[int, int, str]] = []
        with pytest.raises(KeyboardInterrupt):
            svc.analyser.analyse(progress=lambda d, n, r: seen.append((d, n, r.unit_id)))
        assert faulty.raised and faulty.made == 2
        units = work_units(svc)
        done = sorted(u for u, row in units.items() if row["status"] == "done")
        assert len(units) == 3 and len(done) == 1 and done[0].endswith("@0000000.0")
        assert seen == [(1, 3, done[0])]
        first_tracks = track_keys(svc)
        assert first_tracks and {k[0] for k in first_tracks} == set(done)
        [run] = svc.store.list_runs()
        assert run.status == "interrupted"
        assert statuses(svc)[rec.id][0] == "pending"  # put back, resumed by the next run
    finally:
        svc.close()

    # "Run the same command again": a fresh process on the same data dir.
    svc = make_services(settings)
    try:
        report = svc.analyser.analyse()
        assert report.units_total == 3
        assert report.units_skipped == 1 and report.units_done == 2
        assert report.units_failed == 0
        units = work_units(svc)
        assert all(row["status"] == "done" for row in units.values())
        assert all(row["attempts"] == 1 for row in units.values())  # each unit done once
        keys = track_keys(svc)
        per_key = Counter((unit, local) for unit, local, _ in keys)
        assert max(per_key.values()) == 1
        assert keys == clean_long_run
        assert {k for k in keys if k[0] == done[0]} == set(first_tracks)
        assert statuses(svc)[rec.id] == ("done", None)
        runs = svc.store.list_runs()
        assert [r.status for r in runs] == ["interrupted", "done"]
        assert all(json.loads(r.settings_json)["slice_seconds"] == 10 for r in runs)
    finally:
        svc.close()


def test_failed_unit_leaves_recording_partial_then_retry_completes(
    long_clip: Clip, tmp_path: Path, clean_long_run: list[tuple[str, int, str]]
) -> None:
    settings = sliced_settings(tmp_path / "data")
    faulty = FaultyFactory(unit=2, after=1, error=ModelError("detector exploded"))
    svc = build_services(settings, detector_factory=faulty, clock=fixed_clock)
    try:
        svc.catalogue.add_camera(CAM)
        [rec] = svc.catalogue.ingest(str(long_clip.path), CAM.id).added
        report = svc.analyser.analyse()
        assert report.units_done == 2 and report.units_failed == 1
        [(unit, error)] = report.failures
        assert unit == f"{rec.id}@0000010.0" and "detector exploded" in error
        status, recorded = statuses(svc)[rec.id]
        assert status == "partial" and recorded is not None and "detector exploded" in recorded
        assert work_units(svc)[unit]["status"] == "failed"
        assert svc.store.list_runs()[-1].status == "done-with-errors"
    finally:
        svc.close()

    svc = make_services(settings)
    try:
        retry = svc.analyser.analyse()
        assert retry.units_skipped == 2 and retry.units_done == 1 and retry.units_failed == 0
        assert statuses(svc)[rec.id] == ("done", None)
        assert work_units(svc)[unit]["attempts"] == 2
        assert track_keys(svc) == clean_long_run
    finally:
        svc.close()


def test_failing_unit_fails_while_the_other_recording_succeeds(
    settings: Settings, street: Clip, long_clip: Clip, tmp_path: Path
) -> None:
    services = build_services(settings, detector_factory=fails_on_small_frames,
                              plate_reader_factory=no_plates, clock=fixed_clock)
    try:
        services.catalogue.add_camera(CAM)
        good = copy_as(street.path, tmp_path / "in" / "cam1_20260104_100000.mp4")
        doomed = copy_as(long_clip.path, tmp_path / "in" / "cam1_20260104_110000.mp4")
        added = {Path(r.path).name: r for r in services.catalogue.ingest(
            str(tmp_path / "in"), CAM.id).added}
        assert len(added) == 2

        report = services.analyser.analyse()
        bad_id, good_id = added[doomed.name].id, added[good.name].id
        assert report.units_total == 2 and report.units_done == 1 and report.units_failed == 1
        [(unit, error)] = report.failures
        assert unit.startswith(f"{bad_id}@") and "160x120" in error
        result = statuses(services)
        assert result[good_id] == ("done", None)
        status, recorded = result[bad_id]
        assert status == "failed" and recorded is not None and "160x120" in recorded
        assert {t.row["recording_id"] for t in stored_tracks(services)} == {good_id}
        assert services.store.list_runs()[-1].status == "done-with-errors"
        assert work_units(services)[unit]["error"] == error
    finally:
        services.close()


def test_resaving_a_unit_replaces_its_tracks(services: Services, street: Clip) -> None:
    services.catalogue.add_camera(CAM)
    [rec] = services.catalogue.ingest(str(street.path), CAM.id).added
    [unit] = plan_units(rec, 600)
    services.store.ensure_units([unit])
    result = process_unit(unit, services.settings, shape_detector)
    assert result.error is None and len(result.tracks) == 2
    run = services.store.start_run(fixed_clock(), {}, {}, "test")
    assert services.store.save_unit_result(run, result, fixed_clock()) == 2
    # A second save of the same unit (a retry after a crash) does not duplicate.
    assert services.store.save_unit_result(run, result, fixed_clock()) == 2
    assert services.store.count_tracks() == 2
    empty = UnitResult(unit.id, (), StageStats())
    assert services.store.save_unit_result(run, empty, fixed_clock()) == 0
    assert services.store.count_tracks() == 0
