"""Evaluation labels and scoring: the README rules, corner cases, and the real dev labels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from retrouve.errors import EvaluationError
from retrouve.evaluation.dataset import (
    LabelledBox,
    LabelledQuery,
    Sighting,
    check_queries,
    default_queries_path,
    load_dataset,
    load_queries,
    recording_starts,
)
from retrouve.evaluation.scoring import (
    EvalHit,
    QueryScore,
    category_of,
    format_table,
    hit_from_json,
    iou,
    matches,
    score_query,
    summarise,
    unsupported_keys,
)

START = datetime(2019, 6, 28, 13, 2, 51, tzinfo=timezone(timedelta(hours=1)))
CAM = "cam-a"
STARTS = {CAM: START, "cam-b": START}
DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev" / "dataset.json"


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def hit(
    t0: float,
    t1: float,
    *,
    camera: str = CAM,
    box: tuple[float, float, float, float] | None = None,
    box_t: float | None = None,
) -> EvalHit:
    return EvalHit(
        camera=camera,
        start=at(t0),
        end=at(t1),
        score=1.0,
        box=box,
        box_time=None if box_t is None else at(box_t),
    )


def sighting(t0: float, t1: float, *boxes: LabelledBox, camera: str = CAM) -> Sighting:
    return Sighting(camera=camera, t0=t0, t1=t1, boxes=boxes)


# A labelled 100x100 box sampled at 1.0 s and 2.0 s.
LBOX = (0.0, 0.0, 100.0, 100.0)
BOXED = sighting(0.0, 4.0, LabelledBox(1.0, *LBOX), LabelledBox(2.0, *LBOX))
# Boxes with IoU 0.35 and 0.25 against LBOX (same height, shifted right).
BOX_035 = (0.0, 0.0, 35.0, 100.0)
BOX_025 = (0.0, 0.0, 25.0, 100.0)


def test_iou_helpers_are_what_the_cases_assume() -> None:
    assert iou(BOX_035, LBOX) == pytest.approx(0.35)
    assert iou(BOX_025, LBOX) == pytest.approx(0.25)
    assert iou(LBOX, (200.0, 200.0, 300.0, 300.0)) == 0.0


MATCH_CASES: list[tuple[str, EvalHit, Sighting, bool]] = [
    ("same interval", hit(2, 6), sighting(2, 6), True),
    ("camera mismatch", hit(2, 6, camera="cam-b"), sighting(2, 6), False),
    ("disjoint", hit(7, 9), sighting(2, 6), False),
    # Sighting 4 s long: threshold min(1, 2) = 1 s.
    ("overlap exactly 1 s", hit(5, 7), sighting(2, 6), True),
    ("overlap 0.99 s", hit(5.01, 7), sighting(2, 6), False),
    ("hit inside, 1 s long", hit(3, 4), sighting(2, 6), True),
    # Sighting 1.2 s long: threshold is half of it, 0.6 s.
    ("short sighting, overlap 0.6 s", hit(2.6, 5), sighting(2, 3.2), True),
    ("short sighting, overlap 0.59 s", hit(2.61, 5), sighting(2, 3.2), False),
    ("long hit covers short sighting", hit(0, 10), sighting(2, 3.2), True),
    # Stills: an instant matches when it lies inside the other, closed, interval.
    ("still sighting inside hit", hit(1, 3), sighting(2, 2), True),
    ("still sighting on hit edge", hit(2, 3), sighting(2, 2), True),
    ("still sighting outside hit", hit(2.5, 3), sighting(2, 2), False),
    ("instant hit inside sighting", hit(3, 3), sighting(2, 6), True),
    ("instant hit outside sighting", hit(6.5, 6.5), sighting(2, 6), False),
    ("instant hit on still sighting", hit(2, 2), sighting(2, 2), True),
    ("instant hit beside still sighting", hit(2.04, 2.04), sighting(2, 2), False),
    # Boxed sightings (rule 3).
    ("box IoU 0.35", hit(0, 4, box=BOX_035, box_t=1.0), BOXED, True),
    ("box IoU 0.25", hit(0, 4, box=BOX_025, box_t=1.0), BOXED, False),
    ("box_time 0.5 s from nearest box", hit(0, 4, box=LBOX, box_t=2.5), BOXED, True),
    ("box_time 0.7 s from nearest box", hit(0, 4, box=LBOX, box_t=2.7), BOXED, False),
    ("box_time 0.6 s from nearest box", hit(0, 4, box=LBOX, box_t=0.4), BOXED, True),
    ("missing box", hit(0, 4), BOXED, False),
    ("box but time rule fails", hit(3.5, 4, box=LBOX, box_t=2.0), BOXED, False),
    ("box ignored on unboxed sighting", hit(2, 6, box=BOX_025, box_t=3.0), sighting(2, 6), True),
]


@pytest.mark.parametrize(
    ("hit_", "sighting_", "expected"),
    [c[1:] for c in MATCH_CASES],
    ids=[c[0] for c in MATCH_CASES],
)
def test_matches(hit_: EvalHit, sighting_: Sighting, expected: bool) -> None:
    assert matches(hit_, sighting_, START) is expected


def test_box_tie_between_two_samples_takes_either() -> None:
    other = (500.0, 500.0, 600.0, 600.0)
    s = sighting(0, 4, LabelledBox(1.0, *other), LabelledBox(2.0, *LBOX))
    # 1.5 s is equally near both samples; only the later one overlaps.
    assert matches(hit(0, 4, box=LBOX, box_t=1.5), s, START)


def test_matches_uses_offsets_not_wall_clock_digits() -> None:
    # Same instant written in UTC: the hour digits differ, the time does not.
    utc_hit = EvalHit(CAM, at(2).astimezone(UTC), at(6).astimezone(UTC), 0.5)
    assert matches(utc_hit, sighting(2, 6), START)


# --------------------------------------------------------------------------- hit JSON


def test_hit_from_json() -> None:
    h = hit_from_json(
        {
            "camera": CAM,
            "start": "2019-06-28T13:02:53+01:00",
            "end": "2019-06-28T12:02:57Z",
            "score": 3,
            "box": [1, 2, 30, 40],
            "box_time": "2019-06-28T13:02:54.5+01:00",
            "track": 7,
        }
    )
    assert h == EvalHit(CAM, at(2), at(6), 3.0, (1.0, 2.0, 30.0, 40.0), at(3.5))


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"start": "2019-06-28T13:02:53"}, "no UTC offset"),
        ({"end": "2019-06-28T13:02:52+01:00"}, "before 'start'"),
        ({"score": True}, "'score'"),
        ({"box": [1, 2, 3, 4]}, "together"),
        ({"box": [1, 2, 3], "box_time": "2019-06-28T13:02:53+01:00"}, "'box'"),
        ({"camera": ""}, "'camera'"),
    ],
)
def test_hit_from_json_rejects(patch: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "camera": CAM,
        "start": "2019-06-28T13:02:53+01:00",
        "end": "2019-06-28T13:02:57+01:00",
        "score": 0.5,
    }
    with pytest.raises(EvaluationError, match=message):
        hit_from_json({**base, **patch}, where="run.jsonl:3")


# --------------------------------------------------------------------------- score_query


def labelled(
    expected: tuple[Sighting, ...],
    also_ok: tuple[Sighting, ...] = (),
    query: dict[str, Any] | None = None,
) -> LabelledQuery:
    return LabelledQuery(
        id="q",
        query=query if query is not None else {"object": "car"},
        expected=expected,
        also_ok=also_ok,
        note=None,
        line=1,
    )


def test_recall_half_when_one_of_two_expected_found() -> None:
    q = labelled((sighting(0, 2), sighting(10, 12)))
    s = score_query(q, [hit(0, 2)], STARTS)
    assert (s.recall, s.precision, s.top1, s.clean) == (0.5, 1.0, 1.0, None)
    assert not s.negative
    assert s.category == "object-type"


def test_precision_counts_also_ok_but_recall_does_not() -> None:
    q = labelled((sighting(0, 2),), also_ok=(sighting(20, 22),))
    s = score_query(q, [hit(20, 22), hit(40, 42), hit(0, 2), hit(50, 52)], STARTS)
    assert s.recall == 1.0
    assert s.precision == 0.5
    assert s.top1 == 1.0  # an also_ok answer ranked first is not an error
    assert s.n_hits == 4


def test_only_first_k_hits_count() -> None:
    q = labelled((sighting(0, 2),))
    misses = [hit(100 + i, 101 + i) for i in range(10)]
    s = score_query(q, [*misses, hit(0, 2)], STARTS)
    assert (s.recall, s.precision, s.top1, s.n_hits) == (0.0, 0.0, 0.0, 11)
    s5 = score_query(q, [hit(0, 2), *misses], STARTS, k=5)
    assert (s5.recall, s5.precision, s5.top1) == (1.0, 0.2, 1.0)


def test_top1_is_the_first_hit_only() -> None:
    q = labelled((sighting(0, 2),))
    s = score_query(q, [hit(50, 52), hit(0, 2)], STARTS)
    assert (s.recall, s.precision, s.top1) == (1.0, 0.5, 0.0)


def test_positive_query_with_no_hit() -> None:
    s = score_query(labelled((sighting(0, 2),)), [], STARTS)
    assert (s.recall, s.precision, s.top1, s.clean, s.n_hits) == (0.0, 0.0, 0.0, None, 0)


def test_negative_query_clean_and_unclean() -> None:
    q = labelled((), also_ok=(sighting(0, 2),), query={"object": "car", "colour": "red"})
    clean = score_query(q, [], STARTS)
    assert (clean.negative, clean.clean, clean.recall, clean.precision, clean.top1) == (
        True,
        1.0,
        None,
        None,
        None,
    )
    # Any hit spoils a negative query, even one on an also_ok sighting.
    dirty = score_query(q, [hit(0, 2)], STARTS)
    assert (dirty.clean, dirty.n_hits, dirty.category) == (0.0, 1, "vehicle-colour")


def test_sighting_camera_without_recording_start_is_an_error() -> None:
    q = labelled((sighting(0, 2, camera="nowhere"),))
    with pytest.raises(EvaluationError, match="nowhere"):
        score_query(q, [hit(0, 2)], STARTS)


# --------------------------------------------------------------------------- categories


@pytest.mark.parametrize(
    ("query", "category"),
    [
        ({"plate": "AB12CDE"}, "plate-exact"),
        ({"plate": "AB1?CDE"}, "plate-wildcard"),
        ({"plate": "AB*"}, "plate-wildcard"),
        ({"object": "car", "plate": "AB12CDE", "colour": "red"}, "plate-exact"),
        ({"object": "person", "accessory": "backpack", "upper": "red"}, "accessories"),
        ({"object": "person", "upper": "grey"}, "person-attributes"),
        ({"lower": "blue"}, "person-attributes"),
        ({"object": "car", "colour": "white"}, "vehicle-colour"),
        ({"cameras": ["x"], "object": "bus"}, "object-type"),
        ({}, "object-type"),
    ],
)
def test_category_of(query: dict[str, Any], category: str) -> None:
    assert category_of(query) == category


def test_unsupported_keys_keeps_query_order() -> None:
    q = {"cameras": ["a"], "plate": "X", "object": "car", "accessory": "umbrella"}
    assert unsupported_keys(q, {"cameras", "object"}) == ["plate", "accessory"]
    assert unsupported_keys(q, q.keys()) == []


# --------------------------------------------------------------------------- summaries


def qs(category: str, recall: float | None = None, clean: float | None = None) -> QueryScore:
    negative = clean is not None
    return QueryScore(
        query_id=f"{category}-{recall}-{clean}",
        category=category,
        negative=negative,
        recall=recall,
        precision=None if negative else (recall or 0.0) / 2,
        top1=None if negative else 1.0,
        clean=clean,
        n_hits=0,
    )


def test_summarise_means_per_category_and_overall() -> None:
    rows = summarise(
        [
            qs("vehicle-colour", recall=1.0),
            qs("object-type", recall=0.5),
            qs("object-type", recall=0.0),
            qs("object-type", clean=1.0),
            qs("vehicle-colour", clean=0.0),
            qs("vehicle-colour", clean=1.0),
        ]
    )
    by = {r.category: r for r in rows}
    assert [r.category for r in rows] == ["object-type", "vehicle-colour", "overall"]

    obj = by["object-type"]
    assert (obj.n_queries, obj.n_positive, obj.n_negative) == (3, 2, 1)
    assert obj.recall == pytest.approx(0.25)
    assert obj.precision == pytest.approx(0.125)
    assert (obj.top1, obj.clean) == (1.0, 1.0)

    col = by["vehicle-colour"]
    assert (col.recall, col.clean) == (1.0, 0.5)

    overall = by["overall"]
    assert (overall.n_queries, overall.n_positive, overall.n_negative) == (6, 3, 3)
    assert overall.recall == pytest.approx(0.5)  # mean over queries, not over categories
    assert overall.clean == pytest.approx(2 / 3)


def test_summarise_none_where_no_queries_of_the_kind() -> None:
    rows = summarise([qs("plate-exact", recall=1.0)])
    assert rows[0].clean is None
    assert rows[-1].category == "overall"
    empty = summarise([])
    assert len(empty) == 1
    assert (empty[0].n_queries, empty[0].recall, empty[0].clean) == (0, None, None)


def test_format_table_is_fixed_width() -> None:
    table = format_table(summarise([qs("object-type", recall=0.5), qs("object-type", clean=1.0)]))
    lines = table.splitlines()
    assert lines[0].split() == [
        "category",
        "queries",
        "pos",
        "neg",
        "recall@10",
        "prec@10",
        "top1",
        "clean",
    ]
    assert lines[2].split() == ["object-type", "2", "1", "1", "0.500", "0.250", "1.000", "1.000"]
    assert lines[3].startswith("overall")
    assert len({len(line) for line in lines}) == 1
    assert format_table(summarise([])).splitlines()[-1].split()[-4:] == ["-", "-", "-", "-"]


# --------------------------------------------------------------------------- loading


def write_dataset(folder: Path, cameras: Any) -> Path:
    path = folder / "dataset.json"
    path.write_text(json.dumps({"name": "t", "cameras": cameras}), encoding="utf-8")
    return path


def camera(cid: str = "cam-a", start: str = "2026-01-12T09:00:00+01:00") -> dict[str, Any]:
    return {
        "id": cid,
        "name": cid,
        "timezone": "Europe/Paris",
        "recordings": [{"id": cid, "file": f"../media/{cid}.mp4", "start": start}],
    }


def test_load_dataset_resolves_paths_and_starts(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    ds = load_dataset(write_dataset(tmp_path / "dev", [camera("cam-a"), camera("cam-b")]))
    assert [c.id for c in ds.cameras] == ["cam-a", "cam-b"]
    rec = ds.camera("cam-a").recordings[0]
    assert rec.path == (tmp_path / "media" / "cam-a.mp4").resolve()
    assert rec.path.is_absolute()
    assert rec.start == datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    assert recording_starts(ds) == {"cam-a": rec.start, "cam-b": rec.start}
    assert default_queries_path(ds.path) == tmp_path / "dev" / "queries.jsonl"


@pytest.mark.parametrize(
    ("cameras", "message"),
    [
        ([camera(start="2026-01-12T09:00:00")], "no UTC offset"),
        ([camera(start="yesterday")], "not an ISO-8601 time"),
        ([camera(), camera()], "duplicate camera id 'cam-a'"),
        ([{k: v for k, v in camera().items() if k != "name"}], r"cameras\[0\].*missing key 'name'"),
        ([{**camera(), "recordings": []}], "'recordings' is empty"),
        ([], "'cameras' is empty"),
    ],
)
def test_load_dataset_errors(tmp_path: Path, cameras: Any, message: str) -> None:
    path = write_dataset(tmp_path, cameras)
    with pytest.raises(EvaluationError, match=message) as err:
        load_dataset(path)
    assert "dataset.json" in str(err.value)


def test_load_dataset_invalid_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "dataset.json"
    path.write_text('{"name": "t",\n "cameras": [\n}', encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"dataset\.json:3: invalid JSON"):
        load_dataset(path)


def test_recording_starts_needs_one_recording_per_camera(tmp_path: Path) -> None:
    cam = camera()
    cam["recordings"].append({**cam["recordings"][0], "id": "second"})
    ds = load_dataset(write_dataset(tmp_path, [cam]))
    with pytest.raises(EvaluationError, match="2 recordings"):
        recording_starts(ds)


GOOD_LINE: dict[str, Any] = {
    "id": "q1",
    "query": {"cameras": ["cam-a"], "object": "car"},
    "expected": [{"camera": "cam-a", "t0": 1.0, "t1": 3.0, "boxes": [[2.0, 1, 2, 3, 4]]}],
}


def write_queries(folder: Path, *lines: Any) -> Path:
    path = folder / "queries.jsonl"
    text = "\n".join(ln if isinstance(ln, str) else json.dumps(ln) for ln in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_load_queries(tmp_path: Path) -> None:
    neg = {"id": "q2", "query": {"object": "bus"}, "expected": [], "note": "none"}
    queries = load_queries(write_queries(tmp_path, GOOD_LINE, "", neg))
    assert [(q.id, q.line) for q in queries] == [("q1", 1), ("q2", 3)]
    assert queries[0].expected == (
        Sighting("cam-a", 1.0, 3.0, (LabelledBox(2.0, 1.0, 2.0, 3.0, 4.0),)),
    )
    assert queries[0].also_ok == ()
    assert queries[1].negative and queries[1].note == "none"


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD_LINE.items() if k != key}


def _sighting_patch(**patch: Any) -> dict[str, Any]:
    return {**GOOD_LINE, "expected": [{**GOOD_LINE["expected"][0], **patch}]}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([GOOD_LINE, GOOD_LINE], r"queries\.jsonl:2: duplicate query id 'q1' \(first on line 1\)"),
        ([_without("expected")], r":1: query 'q1': missing key 'expected'"),
        ([_without("id")], r":1: query line: missing key 'id'"),
        ([_without("query")], "missing key 'query'"),
        ([{**GOOD_LINE, "expectd": []}], r"unknown key\(s\) \['expectd'\]"),
        ([GOOD_LINE, "{not json"], r":2: invalid JSON"),
        ([_sighting_patch(t1=0.5)], r"expected\[0\]: t1 0.5 is before t0 1.0"),
        ([_sighting_patch(t0="1.0")], "'t0' must be a finite number"),
        ([_sighting_patch(boxes=[])], "non-empty list"),
        ([_sighting_patch(boxes=[[2.0, 1, 2, 3]])], r"\[t, x0, y0, x1, y1\]"),
        ([_sighting_patch(boxes=[[5.0, 1, 2, 3, 4]])], "outside the sighting"),
        ([_sighting_patch(boxes=[[2.0, 3, 2, 1, 4]])], "x1 > x0"),
        ([{**GOOD_LINE, "also_ok": {}}], "'also_ok' must be a list"),
    ],
)
def test_load_queries_errors(tmp_path: Path, lines: list[Any], message: str) -> None:
    path = write_queries(tmp_path, *lines)
    with pytest.raises(EvaluationError, match=message):
        load_queries(path)


def test_check_queries_reports_unknown_cameras(tmp_path: Path) -> None:
    ds = load_dataset(write_dataset(tmp_path, [camera("cam-a")]))
    bad = {
        "id": "q9",
        "query": {"cameras": ["cam-a", "cam-x"]},
        "expected": [{"camera": "cam-y", "t0": 0, "t1": 1}],
        "also_ok": [{"camera": "cam-a", "t0": 0, "t1": 1}],
    }
    elsewhere = {
        "id": "q10",
        "query": {"cameras": ["cam-a"]},
        "expected": [],
        "also_ok": [{"camera": "cam-a", "t0": 0, "t1": 1}],
    }
    qpath = write_queries(tmp_path, GOOD_LINE, bad, elsewhere)
    queries = load_queries(qpath)
    check_queries(ds, queries[:1])  # fine
    check_queries(ds, queries[2:])  # fine
    with pytest.raises(EvaluationError) as err:
        check_queries(ds, queries, source=qpath)
    text = str(err.value)
    assert f"{qpath}:2 ('q9'): query camera 'cam-x'" in text
    assert "expected[0] camera 'cam-y' is not in dataset 't'" in text
    assert "2 problem(s)" in text


def test_check_queries_sighting_outside_searched_cameras(tmp_path: Path) -> None:
    ds = load_dataset(write_dataset(tmp_path, [camera("cam-a"), camera("cam-b")]))
    line = {**GOOD_LINE, "expected": [{"camera": "cam-b", "t0": 0, "t1": 1}]}
    with pytest.raises(EvaluationError, match="not among the query's cameras"):
        check_queries(ds, load_queries(write_queries(tmp_path, line)))


# --------------------------------------------------------------------------- real dev labels


@pytest.mark.skipif(not DEV.is_file(), reason="shared/eval/dev not present")
def test_real_dev_dataset_and_queries_load() -> None:
    ds = load_dataset(DEV)
    queries = load_queries(default_queries_path(DEV))
    check_queries(ds, queries, source=default_queries_path(DEV))
    starts = recording_starts(ds)
    for q in queries:
        for s in (*q.expected, *q.also_ok):
            assert s.camera in starts, q.id
    assert len({q.id for q in queries}) == len(queries)
    assert any(q.negative for q in queries)
    # A perfect system (one exact hit per expected sighting, at a labelled box) scores 1.
    for q in queries:
        hits = [_perfect_hit(s, starts[s.camera]) for s in q.expected]
        score = score_query(q, hits[:10], starts)
        if q.negative:
            assert score.clean == 1.0
        else:
            assert score.recall == min(1.0, 10 / len(q.expected)), q.id
            assert score.precision == 1.0, q.id
    categories = {category_of(q.query) for q in queries}
    assert {"object-type", "vehicle-colour", "plate-exact", "plate-wildcard"} <= categories


def _perfect_hit(s: Sighting, start: datetime) -> EvalHit:
    box = s.boxes[0] if s.boxes else None
    return EvalHit(
        camera=s.camera,
        start=start + timedelta(seconds=s.t0),
        end=start + timedelta(seconds=s.t1),
        score=1.0,
        box=None if box is None else (box.x0, box.y0, box.x1, box.y1),
        box_time=None if box is None else start + timedelta(seconds=box.t),
    )
