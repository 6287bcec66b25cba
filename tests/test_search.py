"""Search over hand-made tracks stored directly: filters, ranking, paging, validation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from conftest import fixed_clock, make_services
from retrouve.config import Settings
from retrouve.domain import (
    Attribute,
    Box,
    Camera,
    Observation,
    Query,
    Recording,
    StageStats,
    Track,
    UnitResult,
)
from retrouve.errors import QueryError, UnknownCameraError
from retrouve.search.engine import MIN_ATTRIBUTE_CONFIDENCE, to_filter, validate
from retrouve.search.schema import hit_json
from retrouve.services import Services
from retrouve.store import schema as s

T0 = {
    "r1": datetime(2026, 1, 4, 9, 0, tzinfo=UTC),  # cam1, Europe/Paris
    "r2": datetime(2026, 1, 4, 10, 0, tzinfo=UTC),  # cam2, UTC
    "r3": datetime(2026, 1, 4, 15, 0, tzinfo=UTC),  # cam3, America/New_York
    "r4": datetime(2026, 1, 4, 9, 0, tzinfo=UTC),  # idle: registered, not analysed
}
CAMERAS = (
    Camera("cam1", "Gare", "Europe/Paris"),
    Camera("cam2", "Port", "UTC"),
    Camera("cam3", "Bridge", "America/New_York"),
    Camera("idle", "Not analysed yet", "Europe/Paris"),
    Camera("empty", "No footage", "Europe/Paris"),
)
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


@dataclass(frozen=True)
class T:
    """A hand-made track: recording, local id, object, confidence, span (s), attributes."""

    rec: str
    local: int
    object: str
    conf: float
    t0: float
    t1: float
    attrs: tuple[tuple[str, str, float], ...] = ()
    thumb: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.rec, self.local)

    def track(self) -> Track:
        box = Box(10.0 * self.local, 20.0, 10.0 * self.local + 40.0, 60.0)
        best = (self.t0 + self.t1) / 2
        return Track(
            recording_id=self.rec, unit_id=f"{self.rec}@0000000.0", local_id=self.local,
            object=self.object, object_confidence=self.conf, t_start=self.t0, t_end=self.t1,
            best_t=best, best_box=box,
            attributes=tuple(Attribute(n, v, c) for n, v, c in self.attrs)
            # The analysis gives every car-like track its type probabilities.
            + ((Attribute("vehicle_type", self.object, 1.0),)
               if self.object in ("car", "van", "truck") else ()),
            observations=(Observation(self.t0, box, self.conf), Observation(best, box, 0.9)),
            thumbnail_jpeg=JPEG if self.thumb else b"",
        )


TRACKS = (
    T("r1", 1, "car", 0.9, 10, 20, (("colour", "red", 0.8), ("colour", "orange", 0.3)), True),
    T("r1", 2, "car", 0.8, 30, 40, (("colour", "white", 0.9), ("colour", "grey", 0.4))),
    T("r1", 3, "person", 0.95, 50, 70, (("upper", "red", 0.7), ("lower", "blue", 0.6))),
    T("r1", 4, "truck", 0.7, 100, 130, (("colour", "grey", 0.85),)),
    T("r1", 5, "bicycle", 0.6, 200, 210, (("colour", "red", 0.5),)),
    T("r1", 6, "backpack", 0.5, 55, 65),
    T("r2", 1, "car", 0.85, 0, 5, (("colour", "grey", 0.75),)),
    T("r2", 2, "bus", 0.9, 100, 150, (("colour", "yellow", 0.9),)),
    T("r2", 3, "person", 0.8, 10, 20, (("upper", "blue", 0.8), ("lower", "black", 0.7))),
    T("r3", 1, "motorcycle", 0.75, 0, 10, (("colour", "black", 0.6),)),
    T("r3", 2, "person", 0.6, 5, 25, (("upper", "red", 0.9), ("lower", "blue", 0.5))),
    T("r3", 3, "car", 0.9, 30, 35, (("colour", "green", 0.1),)),
)
BY_KEY = {t.key: t for t in TRACKS}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory,
        module_database_url: str | None) -> Iterator[Services]:
    """One populated store for the module: searching never writes."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("search"), workers=1,
                        executor="inline", database_url=module_database_url)
    services = make_services(settings)
    try:
        _populate(services)
        yield services
    finally:
        services.close()


def _populate(services: Services) -> None:
    for cam in CAMERAS:
        services.catalogue.add_camera(cam)
    for rec_id, cam_id in (("r1", "cam1"), ("r2", "cam2"), ("r3", "cam3"), ("r4", "idle")):
        services.store.add_recording(
            Recording(rec_id, cam_id, f"/footage/{rec_id}.mp4", rec_id * 16, 1000, T0[rec_id],
                      600.0, 25.0, 1280, 720, "h264"),
            fixed_clock(),
        )
    run = services.store.start_run(fixed_clock(), {"sample_fps": 4}, {"detector": "hand"}, "t")
    for rec_id in ("r1", "r2", "r3"):
        mine = tuple(t.track() for t in TRACKS if t.rec == rec_id)
        result = UnitResult(f"{rec_id}@0000000.0", mine, StageStats())
        assert services.store.save_unit_result(run, result, fixed_clock()) == len(mine)
        services.store.set_recording_status(rec_id, "done", None)


def keys(svc: Services, query: Query, order: str = "score") -> list[tuple[str, int]]:
    return [(h.recording, _local(svc, h.track_id)) for h in svc.searcher.search(query, order).hits]


def _local(svc: Services, track_id: int) -> int:
    with svc.store.engine.connect() as conn:
        return int(conn.execute(
            select(s.tracks.c.local_id).where(s.tracks.c.id == track_id)).scalar_one())


def scores(svc: Services, query: Query) -> list[float]:
    return [h.score for h in svc.searcher.search(query).hits]


def wall(rec: str, seconds: float) -> datetime:
    return T0[rec] + timedelta(seconds=seconds)


# ------------------------------------------------------------------------------- filters
def test_no_filter_returns_everything_best_first(svc: Services) -> None:
    hits = svc.searcher.search(Query()).hits
    assert len(hits) == len(TRACKS)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert [h.score for h in hits][:1] == [pytest.approx(0.95)]


@pytest.mark.parametrize(
    ("cameras", "recs"),
    [
        (("cam1",), {"r1"}),
        (("cam2",), {"r2"}),
        (("cam1", "cam3"), {"r1", "r3"}),
        (("cam1", "cam2", "cam3"), {"r1", "r2", "r3"}),
        (("idle",), set()),
    ],
)
def test_camera_filter(svc: Services, cameras: tuple[str, ...], recs: set[str]) -> None:
    hits = svc.searcher.search(Query(cameras=cameras)).hits
    assert {h.recording for h in hits} == recs
    assert len(hits) == sum(1 for t in TRACKS if t.rec in recs)
    assert {h.camera for h in hits} <= set(cameras)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ("person", {("r1", 3), ("r2", 3), ("r3", 2)}),
        ("car", {("r1", 1), ("r1", 2), ("r2", 1), ("r3", 3)}),
        ("bus", {("r2", 2)}),
        ("bicycle", {("r1", 5)}),
        ("backpack", {("r1", 6)}),
        ("vehicle", {("r1", 1), ("r1", 2), ("r1", 4), ("r2", 1), ("r2", 2), ("r3", 1),
                     ("r3", 3)}),
        ("suitcase", set()),
    ],
)
def test_object_filter(svc: Services, obj: str, expected: set[tuple[str, int]]) -> None:
    assert set(keys(svc, Query(object=obj))) == expected


def test_vehicle_means_motor_vehicles(svc: Services) -> None:
    objects = {h.object for h in svc.searcher.search(Query(object="vehicle")).hits}
    assert objects == {"car", "truck", "bus", "motorcycle"}
    assert set(to_filter(Query(object="vehicle")).objects) == {"car", "van", "truck", "bus",
                                                               "motorcycle"}


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Inside the track: overlap.
        (wall("r1", 15), wall("r1", 16), {("r1", 1)}),
        # Touching either end is still an overlap.
        (wall("r1", 20), wall("r1", 25), {("r1", 1)}),
        (wall("r1", 5), wall("r1", 10), {("r1", 1)}),
        # Strictly between tracks 1 (10–20 s) and 2 (30–40 s): nothing.
        (wall("r1", 20.5), wall("r1", 29.5), set()),
        # Covering both.
        (wall("r1", 0), wall("r1", 45), {("r1", 1), ("r1", 2)}),
        # The same instants written in the camera's zone (+01:00).
        (wall("r1", 15).astimezone(timezone(timedelta(hours=1))),
         wall("r1", 16).astimezone(timezone(timedelta(hours=1))), {("r1", 1)}),
    ],
)
def test_time_window_overlap(
    svc: Services, start: datetime, end: datetime, expected: set[tuple[str, int]]
) -> None:
    assert set(keys(svc, Query(cameras=("cam1",), time_from=start, time_to=end))) == expected


def test_open_ended_time_windows(svc: Services) -> None:
    after = set(keys(svc, Query(cameras=("cam1",), time_from=wall("r1", 150))))
    assert after == {("r1", 5)}
    before = set(keys(svc, Query(cameras=("cam1",), time_to=wall("r1", 9))))
    assert before == set()
    late = set(keys(svc, Query(time_from=datetime(2026, 1, 4, 14, 0, tzinfo=UTC))))
    assert late == {("r3", 1), ("r3", 2), ("r3", 3)}


# ------------------------------------------------------------------------ colours, ranking
def test_colour_filter_ranks_by_object_times_colour_confidence(svc: Services) -> None:
    hits = svc.searcher.search(Query(colour="grey")).hits
    assert [(h.recording, h.object) for h in hits] == [("r2", "car"), ("r1", "truck"),
                                                       ("r1", "car")]
    assert [h.score for h in hits] == pytest.approx([0.85 * 0.75, 0.7 * 0.85, 0.8 * 0.4])
    # The third hit matched on its runner-up colour: it is ranked lower, and still shows its
    # best colour.
    value, confidence = hits[2].attributes["colour"]
    assert value == "white" and confidence == pytest.approx(0.9)


def test_secondary_colour_ranks_below_primary(svc: Services) -> None:
    white = svc.searcher.search(Query(colour="white")).hits
    grey = svc.searcher.search(Query(colour="grey")).hits
    same = [h for h in grey if h.track_id == white[0].track_id]
    assert len(white) == 1 and len(same) == 1
    assert same[0].score < white[0].score
    assert same[0].score < grey[0].score


def test_colour_without_object_covers_vehicles_and_bicycles(svc: Services) -> None:
    hits = svc.searcher.search(Query(colour="red")).hits
    assert [(h.recording, h.object) for h in hits] == [("r1", "car"), ("r1", "bicycle")]
    assert [h.score for h in hits] == pytest.approx([0.9 * 0.8, 0.6 * 0.5])
    # People with a red top are not "red" objects.
    assert all(h.object != "person" for h in hits)


def test_colour_below_minimum_confidence_is_not_evidence(svc: Services) -> None:
    assert BY_KEY[("r3", 3)].attrs[0][2] < MIN_ATTRIBUTE_CONFIDENCE
    assert svc.searcher.search(Query(colour="green")).hits == ()


def test_colour_and_object_combine(svc: Services) -> None:
    assert set(keys(svc, Query(object="truck", colour="grey"))) == {("r1", 4)}
    assert set(keys(svc, Query(object="car", colour="grey"))) == {("r2", 1), ("r1", 2)}
    assert set(keys(svc, Query(object="vehicle", colour="yellow"))) == {("r2", 2)}
    assert keys(svc, Query(object="bus", colour="red")) == []


@pytest.mark.parametrize(
    ("upper", "lower", "expected", "expected_scores"),
    [
        ("red", None, [("r1", 3), ("r3", 2)], [0.95 * 0.7, 0.6 * 0.9]),
        (None, "blue", [("r1", 3), ("r3", 2)], [0.95 * 0.6, 0.6 * 0.5]),
        ("red", "blue", [("r1", 3), ("r3", 2)], [0.95 * 0.7 * 0.6, 0.6 * 0.9 * 0.5]),
        ("blue", "black", [("r2", 3)], [0.8 * 0.8 * 0.7]),
        ("blue", "blue", [], []),
    ],
)
def test_upper_and_lower_filters(
    svc: Services, upper: str | None, lower: str | None, expected: list[tuple[str, int]],
    expected_scores: list[float],
) -> None:
    query = Query(upper=upper, lower=lower)
    assert keys(svc, query) == expected
    assert scores(svc, query) == pytest.approx(expected_scores)
    assert keys(svc, Query(object="person", upper=upper, lower=lower)) == expected


# ------------------------------------------------------------------------- paging, order
def test_order_by_time(svc: Services) -> None:
    hits = svc.searcher.search(Query(limit=100), order="time").hits
    starts = [h.start for h in hits]
    assert starts == sorted(starts)
    assert len(hits) == len(TRACKS)
    assert (hits[0].recording, hits[-1].recording) == ("r1", "r3")


@pytest.mark.parametrize("order", ["score", "time"])
def test_limit_and_offset_page_through_all_hits(svc: Services, order: str) -> None:
    full = [h.track_id for h in svc.searcher.search(Query(limit=100), order).hits]
    pages: list[int] = []
    for offset in range(0, 15, 5):
        page = svc.searcher.search(Query(limit=5, offset=offset), order).hits
        assert len(page) == min(5, max(0, len(TRACKS) - offset))
        pages.extend(h.track_id for h in page)
    assert pages == full
    assert len(set(full)) == len(TRACKS)
    assert svc.searcher.search(Query(offset=len(TRACKS))).hits == ()


# ---------------------------------------------------------------------------- validation
NAIVE = datetime(2026, 1, 4, 10, 0)
AWARE = datetime(2026, 1, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (Query(colour="mauve"), "colour"),
        (Query(upper="teal"), "upper"),
        (Query(lower="beige"), "lower"),
        (Query(object="dragon"), "object"),
        (Query(object="vehicles"), "object"),
        (Query(time_from=AWARE, time_to=AWARE - timedelta(seconds=1)), "from"),
        (Query(time_from=NAIVE), "time_from"),
        (Query(time_to=NAIVE), "time_to"),
        (Query(object="person", colour="red"), "colour"),
        (Query(object="backpack", colour="red"), "colour"),
        (Query(object="car", upper="red"), "upper"),
        (Query(object="vehicle", lower="blue"), "lower"),
        (Query(limit=0), "limit"),
        (Query(limit=5000), "limit"),
        (Query(offset=-1), "offset"),
        (Query(offset=10_001), "offset"),
    ],
)
def test_validate_refuses_bad_queries(svc: Services, query: Query, field: str) -> None:
    with pytest.raises(QueryError, match=field):
        validate(query)
    with pytest.raises(QueryError, match=field):
        svc.searcher.search(query)


@pytest.mark.parametrize(
    "query",
    [
        Query(),
        Query(object="vehicle", colour="white"),
        Query(object="bicycle", colour="red"),
        Query(object="person", upper="red", lower="blue"),
        Query(time_from=AWARE, time_to=AWARE),
        Query(limit=1000, offset=0),
    ],
)
def test_validate_accepts_good_queries(query: Query) -> None:
    validate(query)
    assert to_filter(query).time_from == query.time_from


def test_unknown_camera_is_an_error_naming_it(svc: Services) -> None:
    with pytest.raises(UnknownCameraError, match="'nope'"):
        svc.searcher.search(Query(cameras=("cam1", "nope")))


# ----------------------------------------------------------------------------- why empty
@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (Query(cameras=("empty",)), "no footage is registered"),
        (Query(cameras=("idle",)), "no footage has been analysed yet"),
        (Query(cameras=("idle",), object="car"), "retrouve analyse"),
        (Query(cameras=("cam1",), colour="purple"), "no sighting matches"),
        (Query(cameras=("cam1", "idle"), object="suitcase"), "no sighting matches"),
    ],
)
def test_why_empty(svc: Services, query: Query, reason: str) -> None:
    result = svc.searcher.search(query)
    assert result.hits == ()
    message = result.why_empty()
    assert message is not None and reason in message


def test_why_empty_is_none_with_hits(svc: Services) -> None:
    result = svc.searcher.search(Query(cameras=("cam1",)))
    assert result.hits and result.why_empty() is None
    assert (result.recordings_in_scope, result.recordings_analysed) == (1, 1)


def test_why_empty_on_an_empty_store(services: Services) -> None:
    result = services.searcher.search(Query())
    assert result.hits == ()
    assert result.why_empty() == "no footage is registered for these cameras"


# ------------------------------------------------------------------------------ hit json
def test_hit_json_in_the_camera_zone(svc: Services) -> None:
    [hit] = svc.searcher.search(Query(cameras=("cam1",), colour="red", object="car")).hits
    data: dict[str, Any] = hit_json(hit)
    assert {"camera", "recording", "start", "end", "score", "object", "attributes", "box",
            "box_time", "thumbnail"} <= set(data)
    assert data["camera"] == "cam1" and data["recording"] == "r1" and data["object"] == "car"
    # 09:00:10Z is 10:00:10 in Paris in January.
    assert data["start"] == "2026-01-04T10:00:10+01:00"
    assert data["end"] == "2026-01-04T10:00:20+01:00"
    assert data["box_time"] == "2026-01-04T10:00:15+01:00"
    assert data["score"] == pytest.approx(0.72)
    assert data["attributes"] == {"colour": {"value": "red", "confidence": 0.8},
                                  "vehicle_type": {"value": "car", "confidence": 1.0}}
    assert data["box"] == [10.0, 20.0, 50.0, 60.0]
    assert data["thumbnail"] is not None and data["thumbnail"].endswith(".jpg")
    assert svc.store.blobs.path_of(hit_thumb_key(data["thumbnail"])).read_bytes() == JPEG


def hit_thumb_key(path: str) -> str:
    return path.split("/blobs/", 1)[1]


@pytest.mark.parametrize(
    ("camera", "offset"), [("cam2", "+00:00"), ("cam3", "-05:00")]
)
def test_hit_times_use_each_camera_zone(svc: Services, camera: str, offset: str) -> None:
    hits = svc.searcher.search(Query(cameras=(camera,))).hits
    assert hits
    for hit in hits:
        data = hit_json(hit)
        for key in ("start", "end", "box_time"):
            assert data[key].endswith(offset)
        assert datetime.fromisoformat(data["start"]) == wall(hit.recording,
                                                             BY_KEY[(hit.recording,
                                                                     _local(svc, hit.track_id)
                                                                     )].t0)
        assert data["thumbnail"] is None
    # Without a camera filter, each hit still carries its own camera's zone.
    zones = {h.camera: h.start.utcoffset() for h in svc.searcher.search(Query()).hits}
    assert zones == {"cam1": timedelta(hours=1), "cam2": timedelta(0),
                     "cam3": timedelta(hours=-5)}


@pytest.mark.parametrize("order", ["score", "time"])
def test_spread_gives_the_first_matches_of_all_pages_in_order(svc: Services, order: str) -> None:
    full = svc.searcher.search(Query(limit=100), order).hits
    page = svc.searcher.search(Query(limit=2, offset=2), order, spread=5)
    assert [h.track_id for h in page.hits] == [h.track_id for h in full[2:4]]
    assert [s.track_id for s in page.spread] == [h.track_id for h in full[:5]]
    assert all(s.start.utcoffset() == h.start.utcoffset()
               for s, h in zip(page.spread, full, strict=False))
    assert svc.searcher.search(Query(limit=2), order).spread == ()
