"""Search by plate pattern, accessory, vehicle type (van), make/model and find-similar,
over hand-made tracks stored directly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from conftest import fixed_clock, make_services
from retrouve.config import Settings
from retrouve.domain import (
    Attribute,
    Box,
    Camera,
    Observation,
    PlateRead,
    Query,
    Recording,
    StageStats,
    Track,
    UnitResult,
)
from retrouve.errors import QueryError
from retrouve.search.engine import Capabilities, Searcher
from retrouve.search.schema import hit_json
from retrouve.services import Services
from retrouve.vision import appearance

T0 = datetime(2026, 1, 4, 9, 0, tzinfo=UTC)


def vec(*values: float) -> np.ndarray:
    v = np.zeros(appearance.DIM, np.float32)
    v[: len(values)] = values
    out = appearance.normalise(v)
    assert out is not None
    return out


def plate(text: str, conf: float = 0.9, alts: tuple[tuple[str, float], ...] = (),
          weak: int | None = None) -> PlateRead:
    chars = tuple((c, 0.3 if i == weak else conf) for i, c in enumerate(text))
    return PlateRead(text, conf, chars, alts, "fr-siv", 3, 1.0, None)


def track(local: int, obj: str, conf: float = 0.8, attrs: tuple[tuple[str, str, float], ...] = (),
          plate_read: PlateRead | None = None, vector: np.ndarray | None = None) -> Track:
    box = Box(10, 10, 110, 80)
    t = float(local * 10)
    return Track(
        recording_id="r1", unit_id="r1@0000000.0", local_id=local, object=obj,
        object_confidence=conf, t_start=t, t_end=t + 5, best_t=t + 1, best_box=box,
        attributes=tuple(Attribute(n, v, c) for n, v, c in attrs),
        observations=(Observation(t, box, conf), Observation(t + 1, box, conf)),
        plate=plate_read, vectors={} if vector is None else {appearance.KIND: vector},
    )


TRACKS = (
    track(1, "car", 0.9, (("vehicle_type", "car", 0.9),), plate("FG123AB"), vec(1, 0, 0)),
    track(2, "car", 0.8, (("vehicle_type", "car", 0.8),), plate("FG128AB", weak=4),
          vec(0.9, 0.1, 0)),
    # OCR read a 0 where the plate has an O-like glyph: "AB-0..." vs witness "ABO".
    track(3, "van", 0.7, (("vehicle_type", "van", 0.6), ("vehicle_type", "car", 0.3)),
          plate("AB012CD", alts=(("AB012CO", 0.5),)), vec(0, 1, 0)),
    track(4, "truck", 0.8, (("vehicle_type", "truck", 0.7),), plate("1234AB75")),
    track(5, "person", 0.9, (("upper", "brown", 0.8), ("accessory", "handbag", 0.6)),
          vector=vec(0, 0, 1)),
    track(6, "person", 0.8, (("upper", "brown", 0.7),), vector=vec(0, 0.2, 1)),
    track(7, "person", 0.7, (("accessory", "backpack", 0.5),), vector=vec(1, 0, 0)),
    track(8, "car", 0.6, (("vehicle_type", "car", 0.7), ("vehicle_type", "van", 0.25)),
          plate("ZZ999ZZ")),
    track(9, "car", 0.5, (("vehicle_type", "car", 0.95),)),
    track(10, "backpack", 0.6, (("left_behind", "yes", 0.6),)),
    # The right plate is only the runner-up read.
    track(11, "car", 0.5, (("vehicle_type", "car", 0.9),),
          plate("XY999ZZ", alts=(("KM123PR", 0.4),))),
    # A bus from a COCO detector (its own class, no vehicle_type), a detector pack's vehicle
    # decided bus, and one decided truck with bus as its runner-up.
    track(12, "bus", 0.7),
    track(13, "bus", 0.8, (("vehicle_type", "bus", 0.5), ("vehicle_type", "truck", 0.3))),
    track(14, "truck", 0.9, (("vehicle_type", "truck", 0.45), ("vehicle_type", "bus", 0.4))),
)


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory,
        module_database_url: str | None) -> Iterator[Services]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("crit"), workers=1, executor="inline",
                        database_url=module_database_url)
    services = make_services(settings)
    try:
        services.catalogue.add_camera(Camera("cam1", "Gare", "Europe/Paris"))
        services.store.add_recording(
            Recording("r1", "cam1", "/footage/r1.mp4", "ab" * 32, 1000, T0, 600.0, 25.0, 1280,
                      720, "h264"), fixed_clock())
        run = services.store.start_run(fixed_clock(), {}, {}, "t")
        services.store.save_unit_result(run, UnitResult("r1@0000000.0", TRACKS, StageStats()),
                                        fixed_clock())
        services.store.set_recording_status("r1", "done", None)
        yield services
    finally:
        services.close()


def locals_of(svc: Services, query: Query, searcher: Searcher | None = None) -> list[int]:
    hits = (searcher or svc.searcher).search(query).hits
    out = []
    for h in hits:
        row = svc.store.get_track(h.track_id)
        assert row is not None
        out.append(int(row.best_t // 10))
    return out


# ---------------------------------------------------------------------------- plates
@pytest.mark.parametrize(
    ("pattern", "expected_first", "must_include", "must_exclude"),
    [
        ("FG-123-AB", 1, {1}, {3, 4, 8}),       # exact, with dashes
        ("fg 123 ab", 1, {1}, {3, 4, 8}),       # case and spaces ignored
        ("FG*", 1, {1, 2}, {3, 4, 8}),          # prefix
        ("*75", 4, {4}, {1, 2, 3, 8}),          # suffix (FNI department)
        ("FG12?AB", 1, {1, 2}, {3, 4}),         # one unknown character
        ("ABO12CD", 3, {3}, {1, 2, 4}),         # witness typed O for the read 0: confusion
        ("AB012C0", 3, {3}, {1, 2}),            # matches the runner-up alternative read
        ("FG1Z3AB", 1, {1}, {3, 4}),            # Z/2 confusion
        ("FG23AB", 1, {1}, {3, 4}),             # one character missing: an edit, ranked lower
    ],
)
def test_plate_patterns(svc: Services, pattern: str, expected_first: int,
                        must_include: set[int], must_exclude: set[int]) -> None:
    got = locals_of(svc, Query(plate=pattern))
    assert got and got[0] == expected_first
    assert must_include <= set(got)
    assert not must_exclude & set(got)


def test_exact_plate_outranks_a_confusion(svc: Services) -> None:
    hits = svc.searcher.search(Query(plate="FG123AB")).hits
    assert hits[0].plate is not None and hits[0].plate.text == "FG123AB"
    assert all(h.score <= hits[0].score for h in hits)


def test_plate_shown_on_hits_and_in_json(svc: Services) -> None:
    hit = svc.searcher.search(Query(plate="*75")).hits[0]
    data = hit_json(hit)
    assert data["plate"]["text"] == "1234AB75"
    assert data["plate"]["confidence"] == pytest.approx(0.9)


def test_plate_combines_with_vehicle_type(svc: Services) -> None:
    assert locals_of(svc, Query(plate="FG*", object="van")) == []
    assert set(locals_of(svc, Query(plate="FG*", object="car"))) == {1, 2}


@pytest.mark.parametrize("bad", ["", "   ", "AB#12", "é12"])
def test_bad_plate_patterns_are_refused(svc: Services, bad: str) -> None:
    with pytest.raises(QueryError):
        svc.searcher.search(Query(plate=bad))


def test_plate_on_a_person_is_refused(svc: Services) -> None:
    with pytest.raises(QueryError, match="motor vehicles"):
        svc.searcher.search(Query(plate="AB*", object="person"))


# ---------------------------------------------------------------------- vehicle type
def test_van_query_finds_vans_then_cars_that_may_be_vans(svc: Services) -> None:
    assert locals_of(svc, Query(object="van")) == [3, 8]


def test_car_query_includes_runner_up_cars(svc: Services) -> None:
    got = locals_of(svc, Query(object="car"))
    assert got[:2] == [1, 2]
    assert {3, 8, 9, 11} <= set(got) and 4 not in got


def test_bus_query_finds_buses_then_vehicles_that_may_be_buses(svc: Services) -> None:
    # First choices (the COCO bus, the pack's bus) before the truck whose runner-up is bus,
    # though that one's detection is the most confident; no car.
    got = locals_of(svc, Query(object="bus"))
    assert sorted(got[:2]) == [12, 13] and got[2:] == [14]
    assert locals_of(svc, Query(object="bus", colour="red")) == []


def test_vehicle_means_every_motor_vehicle(svc: Services) -> None:
    assert set(locals_of(svc, Query(object="vehicle"))) == {1, 2, 3, 4, 8, 9, 11, 12, 13, 14}


# ------------------------------------------------------------------------- accessory
def test_accessory_filter_means_a_person_carrying_it(svc: Services) -> None:
    assert locals_of(svc, Query(accessory="handbag")) == [5]
    assert locals_of(svc, Query(accessory="backpack", object="person")) == [7]
    assert locals_of(svc, Query(accessory="handbag", upper="brown")) == [5]


def test_left_behind_bag_is_its_own_searchable_track(svc: Services) -> None:
    hits = svc.searcher.search(Query(object="backpack")).hits
    assert [h.attributes.get("left_behind") for h in hits] == [("yes", 0.6)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (Query(accessory="wallet"), "unknown accessory"),
        (Query(accessory="handbag", object="car"), "apply to people"),
        (Query(accessory="handbag", plate="AB*"), "cannot be combined"),
    ],
)
def test_accessory_validation(svc: Services, query: Query, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        svc.searcher.search(query)


# ------------------------------------------------------------------------ make/model
def test_make_without_a_classifier_pack_says_which_pack_to_install(svc: Services) -> None:
    with pytest.raises(QueryError, match="make/model classifier pack"):
        svc.searcher.search(Query(make="Renault"))


def test_make_model_filters_with_a_classifier_pack(svc: Services) -> None:
    searcher = Searcher(svc.store, Capabilities(make_model=True))
    assert searcher.search(Query(make="Renault")).hits == ()


# ----------------------------------------------------------------------- find similar
def test_find_similar_ranks_by_appearance_within_the_same_kind(svc: Services) -> None:
    tid = svc.searcher.search(Query(plate="FG123AB")).hits[0].track_id
    got = locals_of(svc, Query(like_track=tid))
    assert got == [2]  # 3 is a different colour layout; 7 is a person, not a vehicle


def test_find_similar_for_a_person(svc: Services) -> None:
    tid = svc.searcher.search(Query(accessory="handbag")).hits[0].track_id
    assert locals_of(svc, Query(like_track=tid)) == [6]


def test_find_similar_respects_filters(svc: Services) -> None:
    tid = svc.searcher.search(Query(accessory="handbag")).hits[0].track_id
    assert locals_of(svc, Query(like_track=tid, upper="red")) == []


def test_find_similar_unknown_track(svc: Services) -> None:
    with pytest.raises(QueryError, match="unknown track 999"):
        svc.searcher.search(Query(like_track=999))


def test_find_similar_without_vector(svc: Services) -> None:
    tid = svc.searcher.search(Query(object="truck")).hits[0].track_id
    with pytest.raises(QueryError, match="no appearance vector"):
        svc.searcher.search(Query(like_track=tid))


@pytest.mark.parametrize("pattern", ["KM1*", "KM123PR", "KM-I23-PR"])
def test_a_runner_up_read_is_found_whatever_the_pattern_length(svc: Services,
                                                                 pattern: str) -> None:
    assert locals_of(svc, Query(plate=pattern)) == [11]


@pytest.mark.parametrize("pattern", ["*1*", "*2*", "FG1?3AB", "AB012CD"])
def test_plate_paging_is_stable(svc: Services, pattern: str) -> None:
    whole = [h.track_id for h in svc.searcher.search(Query(plate=pattern, limit=100)).hits]
    paged: list[int] = []
    for offset in range(0, len(whole) + 2, 2):
        paged += [h.track_id for h in
                  svc.searcher.search(Query(plate=pattern, limit=2, offset=offset)).hits]
    assert paged == whole and len(set(paged)) == len(paged)


def test_stored_plates_are_folded_by_the_store_whatever_the_caller_says(svc: Services) -> None:
    from sqlalchemy import select

    from retrouve.store import schema as sch

    with svc.store.engine.connect() as conn:
        rows = dict(conn.execute(select(sch.plate_reads.c.text, sch.plate_reads.c.folded_alts)
                                 ).all())
    assert rows["AB012CD"] == "|48012C0|" and rows["FG123AB"] == "|"


def test_find_similar_keeps_the_plate_criterion(svc: Services) -> None:
    tid = svc.searcher.search(Query(plate="FG123AB")).hits[0].track_id
    assert locals_of(svc, Query(like_track=tid, plate="FG*")) == [2]
    assert locals_of(svc, Query(like_track=tid, plate="ZZ*")) == []


# ------------------------------------------------------------- approximate plates are marked
def _match_of(svc: Services, pattern: str, local: int) -> dict[str, object] | None:
    for h in svc.searcher.search(Query(plate=pattern, limit=50)).hits:
        row = svc.store.get_track(h.track_id)
        assert row is not None
        if int(row.best_t // 10) == local:
            data = hit_json(h)["plate_match"]
            assert data is None or isinstance(data, dict)
            return data
    raise AssertionError(f"track {local} not found for {pattern}")


def test_exact_plate_hit_is_not_approximate(svc: Services) -> None:
    assert _match_of(svc, "FG-123-AB", 1) == {
        "read": "FG123AB", "alternative": False, "edits": 0, "cost": 0.0,
        "approximate": False}


def test_plate_found_by_tolerance_says_how_many_characters_differ(svc: Services) -> None:
    # FG23AB lists FG123AB only through OCR tolerance (one character missing).
    got = _match_of(svc, "FG23AB", 1)
    assert got is not None and got["approximate"] and got["edits"] == 1
    assert not got["alternative"] and got["read"] == "FG123AB"
    assert isinstance(got["cost"], float) and got["cost"] >= 1.0


def test_plate_matched_on_the_runner_up_read_names_it(svc: Services) -> None:
    got = _match_of(svc, "KM123PR", 11)
    assert got == {"read": "KM123PR", "alternative": True, "edits": 0, "cost": 0.5,
                   "approximate": True}


def test_no_plate_match_without_a_pattern(svc: Services) -> None:
    hits = svc.searcher.search(Query(object="car")).hits
    assert hits and all(h.plate_match is None and hit_json(h)["plate_match"] is None
                        for h in hits)


def test_cli_plate_column_marks_approximate_hits(svc: Services) -> None:
    from retrouve.cli.search import approximate_note

    by_pattern = {p: svc.searcher.search(Query(plate=p)).hits[0] for p in
                  ("FG123AB", "FG23AB", "KM123PR")}
    assert approximate_note(by_pattern["FG123AB"].plate_match) == ""
    assert approximate_note(by_pattern["FG23AB"].plate_match) == (
        "approximate: 1 character differs")
    assert approximate_note(by_pattern["KM123PR"].plate_match) == (
        "approximate: runner-up read KM123PR")
