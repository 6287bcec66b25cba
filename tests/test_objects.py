"""Fragments linked into objects (pure rules), stored object ids, one hit per object, ranking."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from clips import BLUE, GREEN, RED, YELLOW, Clip, Moving, make_clip
from conftest import fixed_clock, make_services
from retrouve.analysis.objects import LinkRules, family, group_fragments, link_recordings
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import (
    Attribute,
    Box,
    Camera,
    Observation,
    PlateRead,
    Query,
    Recording,
    ScopeWindow,
    StageStats,
    Track,
    UnitResult,
    WorkUnit,
)
from retrouve.search.schema import hit_json
from retrouve.services import Services
from retrouve.store import schema as s
from retrouve.store.records import TrackSummary

T0 = 1_767_520_800.0  # 2026-01-04 10:00 UTC, POSIX seconds


def frag(
    i: int,
    start: float,
    end: float,
    first: tuple[float, float, float, float],
    last: tuple[float, float, float, float] | None = None,
    kind: str = "car",
    seg: tuple[float, float] = (0.0, 600.0),
    plate: str | None = None,
    plate_conf: float = 0.9,
    camera: str = "c1",
    kinds: tuple[str, ...] = (),
) -> TrackSummary:
    """A fragment seen from ``start`` to ``end`` (seconds after T0), first/last boxes at the
    first/last samples (an eighth of a second inside the padded span)."""
    return TrackSummary(
        id=i,
        camera_id=camera,
        recording_id="r",
        kinds=frozenset({kind, *kinds}),
        start=T0 + start,
        end=T0 + end,
        first_t=T0 + start + 0.125,
        first_box=Box(*first),
        last_t=T0 + end - 0.125,
        last_box=Box(*(last or first)),
        seg_start=T0 + seg[0],
        seg_end=T0 + seg[1],
        plate=plate,
        plate_confidence=plate_conf if plate else 0.0,
    )


S1, S2, S3 = (0.0, 600.0), (600.0, 1200.0), (1200.0, 1800.0)
BOX = (100.0, 100.0, 160.0, 140.0)

#: (case, fragments, expected objects as sets of fragment ids)
CASES: list[tuple[str, list[TrackSummary], list[set[int]]]] = [
    (
        "continuation across a slice boundary (moving right at 50 px/s)",
        [
            frag(1, 590, 600, (0, 100, 60, 140), (495, 100, 555, 140)),
            frag(2, 600, 604, (505, 100, 565, 140), (700, 100, 760, 140), seg=S2),
        ],
        [{1, 2}],
    ),
    (
        "continuation: a van called truck after the boundary is the same kind",
        [frag(1, 595, 600, BOX, kind="van"), frag(2, 600, 603, BOX, kind="truck", seg=S2)],
        [{1, 2}],
    ),
    (
        "boundary: a person where the car was is another object",
        [frag(1, 595, 600, BOX), frag(2, 600, 603, BOX, kind="person", seg=S2)],
        [{1}, {2}],
    ),
    (
        "boundary: boxes far apart are two objects",
        [frag(1, 595, 600, BOX), frag(2, 600, 603, (400, 300, 460, 340), seg=S2)],
        [{1}, {2}],
    ),
    (
        "boundary: the earlier fragment ended long before the slice did",
        [frag(1, 580, 590, BOX), frag(2, 600, 603, BOX, seg=S2)],
        [{1}, {2}],
    ),
    (
        "two cars crossing at the boundary stay two objects",
        [
            frag(1, 590, 600, (-220, 100, -160, 140), (280, 100, 340, 140)),
            frag(2, 590, 600, (820, 100, 880, 140), (320, 100, 380, 140)),
            frag(3, 600, 605, (290, 100, 350, 140), (540, 100, 600, 140), seg=S2),
            frag(4, 600, 605, (310, 100, 370, 140), (60, 100, 120, 140), seg=S2),
        ],
        [{1, 3}, {2, 4}],
    ),
    (
        "short gap on the same spot (lost behind a bus)",
        [frag(1, 10, 20, BOX), frag(2, 22.5, 30, (102, 100, 162, 140))],
        [{1, 2}],
    ),
    (
        "a chain never skips a fragment (nearest successor first)",
        [frag(1, 10, 20, BOX), frag(2, 20.2, 21, (110, 100, 170, 140)), frag(3, 21.2, 30, BOX)],
        [{1, 2, 3}],
    ),
    (
        "still gap: a person on the box a car left 5 s before is another object",
        [
            frag(1, 22.9, 30.6, (375, 6, 538, 352)),
            frag(2, 35.6, 44.6, (384, 8, 552, 355), kind="person"),
        ],
        [{1}, {2}],
    ),
    (
        "a still person missed by one periodic detection (same kind)",
        [
            frag(1, 22.9, 30.6, (375, 6, 538, 352), kind="person"),
            frag(2, 35.6, 44.6, (384, 8, 552, 355), kind="person"),
        ],
        [{1, 2}],
    ),
    (
        "5 s gap, boxes only roughly on the same spot: another object",
        [frag(1, 10, 20, BOX), frag(2, 25, 30, (115, 100, 175, 140))],
        [{1}, {2}],
    ),
    (
        "gap too long: a later car parks on the same spot",
        [frag(1, 10, 20, BOX), frag(2, 40, 50, BOX)],
        [{1}, {2}],
    ),
    (
        "overlapping in time: two objects side by side, never chained",
        [frag(1, 10, 20, BOX), frag(2, 12, 25, BOX)],
        [{1}, {2}],
    ),
    (
        "other camera, same spot and time",
        [frag(1, 595, 600, BOX), frag(2, 600, 603, BOX, seg=S2, camera="c2")],
        [{1}, {2}],
    ),
    (
        "plate camera: successive stills with the same consensus read",
        [
            frag(1, 100, 100.5, (10, 10, 200, 150), plate="AB123CD"),
            frag(2, 130, 130.5, (300, 200, 500, 330), plate="AB123CD"),
            frag(3, 160, 160.5, (50, 50, 250, 200), plate="AB123CD", kind="truck"),
            frag(4, 140, 140.5, (300, 200, 500, 330), plate="XY987ZZ"),
        ],
        [{1, 2, 3}, {4}],
    ),
    (
        "plate camera: the same read much later is another passage",
        [frag(1, 100, 100.5, BOX, plate="AB123CD"), frag(2, 400, 400.5, BOX, plate="AB123CD")],
        [{1}, {2}],
    ),
    (
        "plate camera: an unsure read links nothing",
        [
            frag(1, 100, 100.5, BOX, plate="AB123CD"),
            frag(2, 130, 130.5, (300, 200, 500, 330), plate="AB123CD", plate_conf=0.3),
        ],
        [{1}, {2}],
    ),
    (
        "different confident plates are never linked, even on the same spot",
        [frag(1, 595, 600, BOX, plate="AB123CD"), frag(2, 600, 603, BOX, seg=S2, plate="ZZ999ZZ")],
        [{1}, {2}],
    ),
    (
        "left-behind bag across three slices",
        [
            frag(1, 300, 600, BOX, kind="suitcase"),
            frag(2, 600, 1200, BOX, kind="suitcase", seg=S2),
            frag(3, 1200, 1500, BOX, kind="handbag", seg=S3),
            frag(4, 290, 310, (90, 60, 150, 200), kind="person"),
        ],
        [{1, 2, 3}, {4}],
    ),
    (
        "a bicycle (runner-up motorcycle) does not continue a car",
        [
            frag(1, 595, 600, BOX, kind="car"),
            frag(2, 600, 603, BOX, kind="bicycle", seg=S2, kinds=("motorcycle",)),
        ],
        [{1}, {2}],
    ),
]


def _partition(objects: dict[int, int]) -> list[set[int]]:
    groups: dict[int, set[int]] = {}
    for track, obj in objects.items():
        groups.setdefault(obj, set()).add(track)
    return sorted(groups.values(), key=min)


@pytest.mark.parametrize(("case", "fragments", "expected"), CASES, ids=[c[0] for c in CASES])
def test_grouping_rules(case: str, fragments: list[TrackSummary], expected: list[set[int]]) -> None:
    objects = group_fragments(fragments)
    assert _partition(objects) == expected, case
    for group in expected:  # the object id is its earliest fragment's id
        earliest = min(group, key=lambda i: (next(f.start for f in fragments if f.id == i), i))
        assert {objects[i] for i in group} == {earliest}


@pytest.mark.parametrize(
    ("case", "fragments", "expected"),
    [c for c in CASES if len(c[1]) >= 3],
    ids=lambda v: str(v)[:30],
)
def test_grouping_does_not_depend_on_input_order(
    case: str, fragments: list[TrackSummary], expected: list[set[int]]
) -> None:
    results = {
        tuple(sorted(group_fragments(list(p)).items())) for p in itertools.permutations(fragments)
    }
    assert len(results) == 1, case


@pytest.mark.parametrize(
    ("kind", "fam"),
    [
        ("car", "motor"),
        ("van", "motor"),
        ("bus", "motor"),
        ("suitcase", "bag"),
        ("person", "person"),
        ("bicycle", "bicycle"),
    ],
)
def test_family(kind: str, fam: str) -> None:
    assert family(kind) == fam


def test_rules_are_thresholds() -> None:
    pair = [frag(1, 10, 20, BOX), frag(2, 30, 40, BOX)]  # a 10 s gap on the same spot
    assert _partition(group_fragments(pair)) == [{1}, {2}]
    assert _partition(group_fragments(pair, LinkRules(gap_s=12))) == [{1, 2}]


def test_migration_0005_makes_every_stored_track_its_own_object(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, event

    from retrouve.store.db import _sqlite_pragmas
    from retrouve.store.migrate import alembic_config
    from test_migrations import _ROWS_0003, _dump

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    event.listen(engine, "connect", _sqlite_pragmas)
    command.upgrade(alembic_config(engine), "0004")
    with engine.begin() as conn:
        for sql in _ROWS_0003:
            conn.execute(text(sql))
    before = _dump(engine)
    command.upgrade(alembic_config(engine), "0005")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, object_id FROM tracks")).all() == [(2, 2)]
        assert "ix_tracks_object_id" in {
            r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
        }
        assert conn.execute(text("SELECT count(*) FROM track_attributes")).scalar_one() == 1
    command.downgrade(alembic_config(engine), "0004")
    assert _dump(engine) == before


# ------------------------------------------------------------------------ store round trip
CAM = Camera("cam1", "Péage", "Europe/Paris")
START = datetime(2026, 1, 4, 10, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


def _track(
    unit: str,
    local: int,
    obj: str,
    conf: float,
    t0: float,
    t1: float,
    box0: Box,
    box1: Box,
    attrs: tuple[tuple[str, str, float], ...] = (),
    plate: tuple[str, float] | None = None,
) -> Track:
    pr = (
        None
        if plate is None
        else PlateRead(
            text=plate[0],
            confidence=plate[1],
            chars=tuple((c, plate[1]) for c in plate[0]),
            alternatives=(),
            grammar="fr-siv",
            reads=2,
            best_t=(t0 + t1) / 2,
        )
    )
    return Track(
        recording_id="rec",
        unit_id=unit,
        local_id=local,
        object=obj,
        object_confidence=conf,
        t_start=t0,
        t_end=t1,
        best_t=(t0 + t1) / 2,
        best_box=box1,
        attributes=tuple(Attribute(n, v, c) for n, v, c in attrs),
        observations=(Observation(t0 + 0.125, box0, conf), Observation(t1 - 0.125, box1, conf)),
        thumbnail_jpeg=JPEG,
        plate=pr,
    )


B = Box(100, 100, 160, 140)
U0, U1 = "rec@0000000.0", "rec@0000600.0"
#: The tracks of two slices: a white van crossing the boundary (fragments (U0, 1), (U1, 1),
#: the second read a plate), a car on the plate camera twice 20 s apart with one read, a lone
#: person, and a car called van only as runner-up.
STORED = {
    U0: (
        _track(
            U0,
            1,
            "van",
            0.9,
            590,
            600,
            Box(0, 100, 60, 140),
            Box(495, 100, 555, 140),
            (("colour", "white", 0.9), ("vehicle_type", "van", 0.8), ("vehicle_type", "car", 0.2)),
        ),
        _track(
            U0,
            2,
            "car",
            0.8,
            100,
            104,
            B,
            B,
            (("colour", "white", 0.7), ("vehicle_type", "car", 0.9)),
            plate=("AB123CD", 0.9),
        ),
        _track(
            U0,
            3,
            "car",
            0.7,
            124,
            126,
            Box(300, 200, 400, 280),
            Box(300, 200, 400, 280),
            (("colour", "white", 0.8), ("vehicle_type", "car", 0.9)),
            plate=("AB123CD", 0.8),
        ),
        _track(U0, 4, "person", 0.95, 200, 230, B, B, (("upper", "red", 0.9),)),
        _track(
            U0,
            5,
            "car",
            0.99,
            300,
            320,
            B,
            B,
            (("colour", "white", 0.95), ("vehicle_type", "car", 0.6), ("vehicle_type", "van", 0.4)),
        ),
    ),
    U1: (
        _track(
            U1,
            1,
            "van",
            0.6,
            600,
            606,
            Box(505, 100, 565, 140),
            Box(800, 100, 860, 140),
            (("colour", "white", 0.6), ("vehicle_type", "van", 0.7)),
            plate=("EF456GH", 0.9),
        ),
    ),
}


def _setup(services: Services) -> Recording:
    services.catalogue.add_camera(CAM)
    rec = Recording(
        "rec", CAM.id, "/footage/rec.mp4", "ab" * 32, 1000, START, 1200.0, 25.0, 1280, 720, "h264"
    )
    services.store.add_recording(rec, fixed_clock())
    services.store.ensure_units(
        [
            WorkUnit(U0, "rec", rec.path, 0.0, 600.0, 25.0, False),
            WorkUnit(U1, "rec", rec.path, 600.0, 1200.0, 25.0, False),
        ]
    )
    return rec


def _save(services: Services, unit: str) -> None:
    run = services.store.start_run(fixed_clock(), {}, {}, "t")
    services.store.save_unit_result(
        run, UnitResult(unit, STORED[unit], StageStats()), fixed_clock()
    )


def _objects(services: Services) -> list[set[tuple[str, int]]]:
    """Stored objects as sets of (unit, local id): independent of row ids."""
    with services.store.engine.connect() as conn:
        rows = conn.execute(
            select(s.tracks.c.unit_id, s.tracks.c.local_id, s.tracks.c.object_id)
        ).all()
    groups: dict[int, set[tuple[str, int]]] = {}
    for u, local, obj in rows:
        groups.setdefault(obj, set()).add((u, local))
    return sorted(groups.values(), key=min)


EXPECTED_OBJECTS = [{(U0, 1), (U1, 1)}, {(U0, 2), (U0, 3)}, {(U0, 4)}, {(U0, 5)}]


@pytest.fixture
def linked(services: Services) -> Iterator[tuple[Services, Recording]]:
    rec = _setup(services)
    _save(services, U1)  # units are stored in any order
    _save(services, U0)
    link_recordings(services.store, [rec])
    yield services, rec


def test_store_round_trip_and_relinking_is_idempotent(linked: tuple[Services, Recording]) -> None:
    services, rec = linked
    assert _objects(services) == EXPECTED_OBJECTS
    assert link_recordings(services.store, [rec]) == 0  # nothing changes a second time
    summaries = services.store.track_summaries(CAM.id, START, START + timedelta(hours=1))
    van = next(x for x in summaries if x.end - START.timestamp() == 600.0)
    assert van.kinds == {"van", "car"}
    assert (van.seg_start - START.timestamp(), van.seg_end - START.timestamp()) == (0.0, 600.0)
    assert van.last_box == Box(495, 100, 555, 140)
    assert van.last_t - START.timestamp() == pytest.approx(599.875)


def test_redoing_a_unit_gives_the_same_objects(linked: tuple[Services, Recording]) -> None:
    services, rec = linked
    # Only the run that stored a unit may store it again (another run's result is refused:
    # ``test_claims.py``); its rewrite gives new rows, new ids.
    [stored_by] = [u.run_id for u in services.store.units_of(["rec"]) if u.id == U0]
    assert stored_by is not None
    services.store.save_unit_result(
        stored_by, UnitResult(U0, STORED[U0], StageStats()), fixed_clock()
    )
    assert sorted(map(len, _objects(services))) == [1, 1, 1, 1, 1, 1]  # not linked yet
    link_recordings(services.store, [rec])
    assert _objects(services) == EXPECTED_OBJECTS


def test_new_tracks_are_their_own_object(services: Services) -> None:
    _setup(services)
    _save(services, U0)
    with services.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, object_id FROM tracks")).all()
    assert rows and all(i == o for i, o in rows)


# ------------------------------------------------------------------- one hit per object
def _local(services: Services, track_id: int) -> tuple[str, int]:
    with services.store.engine.connect() as conn:
        r = conn.execute(
            select(s.tracks.c.unit_id, s.tracks.c.local_id).where(s.tracks.c.id == track_id)
        ).one()
    return (r.unit_id, r.local_id)


def test_search_returns_one_hit_per_object(linked: tuple[Services, Recording]) -> None:
    services, _ = linked
    hits = services.searcher.search(Query(object="vehicle", limit=50)).hits
    assert len(hits) == 3  # five vehicle tracks: the van, the plate car, the lone car
    by_best = {_local(services, h.track_id): h for h in hits}
    van = by_best[(U0, 1)]  # its best fragment: the more confident one
    assert van.seen_count == 2
    assert {_local(services, i) for i in van.track_ids} == {(U0, 1), (U1, 1)}
    assert van.total_duration_s == pytest.approx(16.0)
    # The hit spans the object (both fragments); its box is the best fragment's.
    assert (van.start - START, van.end - START) == (timedelta(seconds=590), timedelta(seconds=606))
    assert van.box == Box(495, 100, 555, 140)
    assert van.plates == ("EF456GH",) and van.plate is None  # the read is on the other fragment
    plate_car = by_best[(U0, 2)]
    assert plate_car.seen_count == 2 and plate_car.plates == ("AB123CD",)
    assert plate_car.total_duration_s == pytest.approx(6.0)
    js = hit_json(van)
    assert js["seen_count"] == 2 and js["total_duration_s"] == 16.0
    assert js["object_id"] == van.track_ids[0] and js["plates"] == ["EF456GH"]
    assert hit_json(by_best[(U0, 5)])["seen_count"] == 1


@pytest.mark.parametrize(
    "query",
    [
        Query(object="vehicle"),
        Query(colour="white"),
        Query(object="car"),
        Query(object="van"),
        Query(plate="AB123CD"),
        Query(plate="AB*"),
        Query(),
    ],
    ids=repr,
)
@pytest.mark.parametrize("order", ["score", "time"])
def test_pages_concatenate_to_the_grouped_list(
    linked: tuple[Services, Recording], query: Query, order: str
) -> None:
    services, _ = linked
    full = [h.track_id for h in services.searcher.search(replace(query, limit=100), order).hits]
    paged = []
    for offset in range(0, len(full) + 2, 2):
        paged += [
            h.track_id
            for h in services.searcher.search(replace(query, limit=2, offset=offset), order).hits
        ]
    assert paged == full
    objects = [h.object_id for h in services.searcher.search(replace(query, limit=100), order).hits]
    assert len(objects) == len(set(objects))  # never the same object twice


def test_plate_search_finds_the_object_once_with_every_fragment(
    linked: tuple[Services, Recording],
) -> None:
    services, _ = linked
    [hit] = services.searcher.search(Query(plate="AB123CD")).hits
    assert hit.seen_count == 2 and _local(services, hit.track_id) == (U0, 2)
    [van] = services.searcher.search(Query(plate="EF456GH")).hits
    assert _local(services, van.track_id) == (U1, 1) and van.seen_count == 2


# ------------------------------------------------------------------------------ ranking
def _ranked(services: Services, query: Query) -> list[str]:
    hits = services.searcher.search(query).hits
    return [LABELS[_local(services, h.track_id)] for h in hits]


RANK_UNIT = "rec@0000000.0"
#: (label, object, object confidence, span, vehicle types best first)
RANK_TRACKS = (
    ("van-sure", "van", 0.6, (10, 14), (("van", 0.5), ("car", 0.4))),
    ("van-weak", "van", 0.5, (20, 30), (("van", 0.3), ("truck", 0.3))),
    ("car-van-runner-up", "car", 0.99, (40, 60), (("car", 0.55), ("van", 0.45))),
    ("car-van-runner-up-late", "car", 0.99, (500, 520), (("car", 0.55), ("van", 0.45))),
    ("truck-van-runner-up", "truck", 0.9, (70, 71), (("truck", 0.6), ("van", 0.4))),
    # Three equal scores (0.375, exact in binary): object confidence, then duration decide.
    ("tie-long", "van", 0.5, (80, 90), (("van", 0.75),)),
    ("tie-short", "van", 0.5, (91, 93), (("van", 0.75),)),
    ("tie-conf", "van", 0.75, (100, 103), (("van", 0.5),)),
)
LABELS: dict[tuple[str, int], str] = {}


@pytest.fixture
def ranking(services: Services) -> Services:
    _setup(services)
    tracks = []
    for i, (label, obj, conf, (t0, t1), types) in enumerate(RANK_TRACKS, start=1):
        LABELS[(RANK_UNIT, i)] = label
        # Far apart boxes, so no two are one object.
        box = Box(10.0 + 70 * i, 10, 60.0 + 70 * i, 50)
        tracks.append(
            _track(
                RANK_UNIT,
                i,
                obj,
                conf,
                t0,
                t1,
                box,
                box,
                tuple(("vehicle_type", v, c) for v, c in types),
            )
        )
    run = services.store.start_run(fixed_clock(), {}, {}, "t")
    services.store.save_unit_result(
        run, UnitResult(RANK_UNIT, tuple(tracks), StageStats()), fixed_clock()
    )
    return services


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # First choices first (even a weak van beats a sure car that may be a van), then within a
        # tier by score, then object confidence, then duration; never time.
        (
            Query(object="van"),
            [
                "tie-conf",
                "tie-long",
                "tie-short",
                "van-sure",
                "van-weak",
                "car-van-runner-up",
                "car-van-runner-up-late",
                "truck-van-runner-up",
            ],
        ),
        (Query(object="car"), ["car-van-runner-up", "car-van-runner-up-late", "van-sure"]),
        (Query(object="truck"), ["truck-van-runner-up", "van-weak"]),
    ],
    ids=["van", "car", "truck"],
)
def test_ranking_order(ranking: Services, query: Query, expected: list[str]) -> None:
    assert _ranked(ranking, query) == expected


def test_ties_never_break_on_time(ranking: Services) -> None:
    # Two identical cars 460 s apart: the order is the id's, whatever their times.
    order = _ranked(ranking, Query(object="car"))
    assert order.index("car-van-runner-up") < order.index("car-van-runner-up-late")
    hits = ranking.searcher.search(Query(object="van")).hits
    tiers = [h.attributes["vehicle_type"][0] == "van" for h in hits]
    assert tiers == sorted(tiers, reverse=True)  # every first-choice van before any runner-up


# ------------------------------------------------------------------ end to end (analysis)
SLICE_OBJECTS = (
    Moving(RED, (30, 14), (0, 20), (120, 20), 1.0, 8.0),
    Moving(BLUE, (10, 24), (140, 40), (40, 40), 11.0, 18.0),
    Moving(GREEN, (30, 14), (120, 60), (10, 60), 21.0, 24.6),
    Moving(YELLOW, (12, 28), (20, 90), (120, 90), 2.0, 24.0),  # crosses both boundaries
)


@pytest.fixture(scope="module")
def sliced_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    folder = tmp_path_factory.mktemp("sliced")
    return make_clip(
        folder / "cam1_20260104_100000.mp4",
        seconds=25.0,
        fps=5,
        size=(160, 120),
        objects=SLICE_OBJECTS,
        gop=10,
    )


def test_analysis_links_an_object_crossing_slices_and_a_rerun_keeps_it(
    sliced_clip: Clip, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "d",
        workers=1,
        executor="inline",
        analysis=AnalysisSettings(slice_seconds=10, sample_fps=4.0),
    )
    svc = make_services(settings)
    try:
        svc.catalogue.add_camera(Camera("cam1", "Rue", "Europe/Paris"))
        svc.catalogue.ingest(str(sliced_clip.path), "cam1")
        report = svc.analyser.analyse()
        assert report.units_done == 3
        first = _objects(svc)
        # The tall yellow object crosses two boundaries: its fragments are one object.
        hits = svc.searcher.search(Query(limit=50)).hits
        tall = [h for h in hits if h.box.height > 20 and h.box.width < 20 and h.box.y0 > 70]
        assert len(tall) == 1 and tall[0].seen_count >= 2
        # Redo the middle unit as a resumed analysis would: same objects.
        with svc.store.engine.begin() as conn:
            conn.execute(
                text("UPDATE work_units SET status = 'pending' WHERE id LIKE '%@0000010.0'")
            )
            conn.execute(text("UPDATE recordings SET status = 'partial'"))
        again = svc.analyser.analyse()
        assert again.units_done == 1 and again.units_skipped == 2
        assert _objects(svc) == first
    finally:
        svc.close()


def test_cli_table_and_json_show_seen_counts(linked: tuple[Services, Recording]) -> None:
    from click.testing import CliRunner

    from retrouve.cli import cli
    from retrouve.cli.search import _plates, _seen

    services, rec = linked
    data_dir = str(services.settings.data_dir)
    import getpass
    from datetime import timedelta

    fmt = "%Y-%m-%dT%H:%MZ"
    window = (
        f"{rec.camera_id}:{(rec.start - timedelta(days=1)).strftime(fmt)}/"
        f"{(rec.start + timedelta(days=1)).strftime(fmt)}"
    )
    made = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            data_dir,
            "cases",
            "create",
            "T-1",
            "--basis",
            "60-1",
            "--procedure",
            "P-1",
            "--authority",
            "OPJ Test",
            "--purpose",
            "tests",
            "--assign",
            getpass.getuser(),
            "--scope",
            window,
        ],
    )
    assert made.exit_code == 0, made.output
    table = CliRunner().invoke(
        cli, ["--data-dir", data_dir, "search", "--case", "T-1", "--object", "vehicle"]
    )
    assert table.exit_code == 0, table.output
    # The table's cells (the console wraps them to its width).
    hits = {
        _local(services, h.track_id): h
        for h in services.searcher.search(Query(object="vehicle")).hits
    }
    assert [_seen(hits[k], "en") for k in ((U0, 1), (U0, 2), (U0, 5))] == [
        "2 times, 16.0s",
        "2 times, 6.0s",
        "once",
    ]
    assert _plates(hits[(U0, 1)]) == "EF456GH"  # the van's read, from its other fragment
    assert _plates(hits[(U0, 2)]) == "AB123CD (0.90)"
    js = CliRunner().invoke(
        cli, ["--data-dir", data_dir, "search", "--case", "T-1", "--plate", "AB123CD", "--json"]
    )
    [hit] = __import__("json").loads(js.output)["hits"]
    assert (hit["seen_count"], hit["total_duration_s"], hit["plates"]) == (2, 6.0, ["AB123CD"])
    assert len(hit["track_ids"]) == 2 and hit["object_id"] == hit["track_ids"][0]


def test_fragments_outside_the_case_scope_never_show(linked: tuple[Services, Recording]) -> None:
    # The van's second fragment (and its plate read) lies after the window: the hit is the
    # object as seen inside the scope only.
    services, rec = linked
    scope = (ScopeWindow(rec.camera_id, START, START + timedelta(seconds=599)),)
    hits = services.searcher.search(Query(object="vehicle", limit=50), scope=scope).hits
    van = next(h for h in hits if _local(services, h.track_id) == (U0, 1))
    assert van.seen_count == 1 and van.plates == ()
    assert {_local(services, i) for i in van.track_ids} == {(U0, 1)}
    assert van.end - START <= timedelta(seconds=600)
