"""Search at scale gives the results it gave before the 1 M-track work: the score floors of
``store/top_objects.py``, the trigram plate prefilter of ``store/plate_filter.py``, the lower
bound on starts (``track_duration_bounds``) and the capped count return the same hits, in the
same order, as the full ranking, the row-by-row ``LIKE``, no bound and the exact count, on a
generated index (SQLite, or PostgreSQL under the test server)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from conftest import make_services
from retrouve.config import Settings
from retrouve.domain import COLOURS, Query, ScopeWindow
from retrouve.evaluation.synthetic import SyntheticIndex, SyntheticSpec, generate
from retrouve.search import engine
from retrouve.search.engine import SearchResult
from retrouve.search.plate_pattern import PlatePattern
from retrouve.services import Services
from retrouve.store import join_order, plate_filter, top_objects, tracks
from retrouve.store.records import TrackFilter
from retrouve.store.track_rows import fill_weighted, weighted

NOW = datetime(2026, 1, 3, tzinfo=UTC)
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[tuple[Services, SyntheticIndex]]:
    """A 5 k-track synthetic index (12 cameras, 2 days, one object in five split in two)."""
    svc = make_services(
        Settings(
            data_dir=tmp_path_factory.mktemp("bounded"),
            workers=1,
            executor="inline",
            database_url=module_database_url,
        )
    )
    try:
        spec = SyntheticSpec(tracks=4000, cameras=12, days=2, start=START, fragment_rate=0.2)
        yield svc, generate(svc.store, spec, NOW, bulk=True)
    finally:
        svc.close()


def _queries(index: SyntheticIndex) -> list[tuple[Query, dict[str, Any]]]:
    """Typical operator searches, broad and narrow, paged, with timelines and a scope."""
    rng = random.Random(3)
    cams = index.cameras
    out: list[tuple[Query, dict[str, Any]]] = []
    for obj in ("car", "van", "truck"):
        for colour in COLOURS:
            out.append((Query(object=obj, colour=colour, limit=20), {}))
    for colour in ("white", "black", "grey", "red"):
        out.append((Query(colour=colour, limit=10, offset=30), {}))
        out.append((Query(object="vehicle", colour=colour, limit=50), {"spread": 200}))
    for upper, lower in (
        ("red", "blue"),
        ("black", "black"),
        ("white", "grey"),
        ("yellow", "green"),
    ):
        out.append((Query(object="person", upper=upper, lower=lower, limit=20), {"spread": 100}))
    out.append((Query(upper="black", accessory="backpack", limit=20), {}))
    for obj in ("bus", "person", "car", "vehicle", "bicycle"):
        out.append((Query(object=obj, limit=25, offset=5), {}))
    for _ in range(6):
        t = START + timedelta(hours=rng.randrange(40))
        out.append(
            (
                Query(
                    cameras=(rng.choice(cams),),
                    time_from=t,
                    time_to=t + timedelta(hours=3),
                    limit=20,
                ),
                {},
            )
        )
        out.append(
            (
                Query(
                    object="car",
                    colour=rng.choice(("white", "black")),
                    cameras=(rng.choice(cams), rng.choice(cams)),
                    time_from=t,
                    time_to=t + timedelta(hours=8),
                    limit=10,
                ),
                {},
            )
        )
    for plate in index.sample_plates[:6]:
        out += [
            (Query(plate=plate), {}),
            (Query(plate=plate[:3] + "*"), {}),
            (Query(plate=f"{plate[0]}?{plate[2:4]}?*"), {}),
            (Query(plate=plate[:2] + "*", limit=10, offset=10), {"spread": 50}),
            (Query(plate="*" + plate[-3:]), {}),
            (Query(object="car", colour="white", plate=plate[:3] + "*"), {}),
        ]
    return out


def _scope(index: SyntheticIndex) -> tuple[ScopeWindow, ...]:
    """A case's scope: three cameras over a day, one more over two hours."""
    day = START + timedelta(days=1)
    return (
        *(ScopeWindow(cam, START, day) for cam in index.cameras[:3]),
        ScopeWindow(index.cameras[5], day, day + timedelta(hours=2)),
    )


def _search(
    svc: Services, q: Query, *, reference: bool, scope: Any = None, **kw: Any
) -> SearchResult:
    """``q`` searched the new way, or the way before (full ranking, ``LIKE`` on every plate
    read, exact count; on PostgreSQL the planner picks the plate plan either way)."""
    if not reference:
        return svc.searcher.search(q, count=True, scope=scope, **kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(top_objects, "FLOORS", ())
        mp.setattr(plate_filter, "uses_trigram_table", lambda dialect, likes: False)
        mp.setattr(engine, "count_cap", lambda need: 10**9)
        mp.setattr(tracks, "rarest", lambda conn, flt: None)  # the planner's own join order
        mp.setattr(tracks, "with_longest", lambda conn, flt: flt)  # no lower bound on starts
        # The count with its loose attributes outer-joined, as the ranking joins them.
        mp.setattr(tracks, "_matches", lambda *a, **k: _MATCHES(*a, **{**k, "scored": True}))
        return svc.searcher.search(q, count=True, scope=scope, **kw)


_MATCHES = tracks._matches


def _same(a: SearchResult, b: SearchResult) -> None:
    assert [h.track_id for h in a.hits] == [h.track_id for h in b.hits]
    assert a.hits == b.hits  # every field: scores, spans, fragments, plates, matches
    assert a.spread == b.spread
    if b.total_at_least or not a.total_at_least:
        assert (a.total, a.total_at_least) == (b.total, b.total_at_least)
    else:  # only the new count stopped early (engine.count_cap): a lower bound of the exact
        assert a.total is not None and b.total is not None
        assert a.query.offset + len(a.hits) <= a.total <= b.total


def test_new_paths_return_the_same_hits_in_the_same_order(
    indexed: tuple[Services, SyntheticIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, index = indexed
    floors: list[float] = []
    real = tracks.top_objects

    def spy(*args: Any) -> top_objects.Ranked:
        got = real(*args)
        floors.append(got.floor)
        return got

    monkeypatch.setattr(tracks, "top_objects", spy)
    queries = _queries(index)
    assert len(queries) > 80
    nonempty = 0
    for q, kw in queries:
        for scope in (None, _scope(index)):
            new = _search(svc, q, reference=False, scope=scope, **kw)
            _same(new, _search(svc, q, reference=True, scope=scope, **kw))
            nonempty += bool(new.hits)
    assert nonempty > len(queries)
    # The floors did the work for part of the searches, and fell back for others.
    assert any(f > 0 for f in floors) and 0.0 in floors


def test_plate_patterns_use_the_trigram_index_where_they_can(
    indexed: tuple[Services, SyntheticIndex],
) -> None:
    svc, index = indexed
    dialect = svc.store.engine.dialect.name
    plate = index.sample_plates[0]
    full = PlatePattern.parse(plate).sql_likes()
    wildcard = PlatePattern.parse(f"{plate[0]}?{plate[2:4]}?*").sql_likes()
    assert plate_filter.uses_trigram_table(dialect, full) == (dialect == "sqlite")
    assert not plate_filter.uses_trigram_table(dialect, wildcard)
    if dialect == "sqlite":
        # The FTS5 table follows plate_reads: every read is in it, none too many.
        with svc.store.engine.connect() as conn:
            conn.execute(
                text(
                    "INSERT INTO plate_reads_trigram(plate_reads_trigram, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )


def test_a_capped_count_is_a_lower_bound_that_says_so(
    indexed: tuple[Services, SyntheticIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, _ = indexed
    q = Query(object="car", limit=20, offset=40)
    exact = svc.store.count_objects(engine.to_filter(q))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "count_cap", lambda need: 10**9)
        full = svc.searcher.search(q, count=True)
    assert (full.total, full.total_at_least) == (exact, False)
    monkeypatch.setattr(engine, "COUNT_CAP", 30)
    capped = svc.searcher.search(q, count=True)
    assert capped.hits == full.hits
    assert capped.total_at_least
    assert capped.total is not None and 60 <= capped.total < exact


def test_the_count_reads_as_deep_as_the_page_and_answers_the_broad_probe(
    indexed: tuple[Services, SyntheticIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count reads one match more than the ranking's narrow limit, so the ranking never
    probes again; deeper pages count deeper; beyond the cap the total is a lower bound."""
    svc, _ = indexed
    assert engine.count_cap(20) == engine.count_cap(500) == top_objects.narrow_limit(500) + 1
    assert engine.count_cap(5000) == engine.COUNT_CAP
    # Limits shrunk so that searches of this 4 k-track index are broad.

    def small(need: int) -> int:
        return max(40, 4 * need)

    monkeypatch.setattr(engine, "narrow_limit", small)
    monkeypatch.setattr(top_objects, "narrow_limit", small)
    answered: list[bool] = []
    real = top_objects.broad

    def spy(conn: Any, matches: Any, need: int, counted: Any = None) -> bool:
        answered.append(counted is not None
                        and (not counted.capped or counted.tracks > small(need)))
        return real(conn, matches, need, counted)

    monkeypatch.setattr(top_objects, "broad", spy)
    exact = svc.store.count_objects(engine.to_filter(Query(object="car")))
    for offset, limit, read in ((0, 5, 41), (100, 20, 481)):
        q = Query(object="car", limit=limit, offset=offset)
        got = svc.searcher.search(q, count=True)
        assert got.total_at_least and got.total is not None
        assert offset + len(got.hits) <= got.total <= read < exact
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(engine, "count_cap", lambda need: 10**9)
            full = svc.searcher.search(q, count=True)
        assert got.hits == full.hits and (full.total, full.total_at_least) == (exact, False)
    assert answered and all(answered)


def test_a_counted_search_chooses_its_join_order_once(
    indexed: tuple[Services, SyntheticIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ranking reuses the attribute the count was driven from (``MatchCount.drive``):
    the values are probed once a search, and the hits are those of a fresh choice."""
    svc, _ = indexed
    calls: list[Any] = []
    real = tracks.rarest

    def spy(conn: Any, flt: Any) -> Any:
        calls.append(flt)
        return real(conn, flt)

    q = Query(object="person", upper="black", lower="blue", limit=20)
    fresh = svc.searcher.search(q, count=True)
    monkeypatch.setattr(tracks, "rarest", spy)
    again = svc.searcher.search(q, count=True)
    assert len(calls) == 1
    assert again.hits == fresh.hits and again.total == fresh.total
    svc.searcher.search(q)  # not counted: the ranking chooses for itself
    assert len(calls) == 2


def test_a_confidence_above_one_turns_the_floors_off(
    indexed: tuple[Services, SyntheticIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The floors assume every confidence is at most 1; the data is checked, not trusted."""
    svc, _ = indexed
    flt = engine.to_filter(Query(object="person", upper="red"))
    with svc.store.engine.connect() as conn:
        assert top_objects.bounded(conn, flt)
    with svc.store.engine.begin() as conn:
        # A dim person (object confidence < 0.4: below every floor) whose red top reads
        # 3.0: it scores above 1, first of all, and only the full ranking can see it.
        row = conn.execute(
            text(
                "SELECT a.track_id, a.confidence FROM track_attributes a JOIN tracks t "
                "ON t.id = a.track_id WHERE a.name = 'upper' AND a.value = 'red' AND a.rank = 1 "
                "AND t.object = 'person' AND t.object_conf < 0.4 ORDER BY t.object_conf LIMIT 1"
            )
        ).one()
        conn.execute(
            text(
                "UPDATE track_attributes SET confidence = 3.0 WHERE track_id = :t "
                "AND name = 'upper' AND value = 'red'"
            ),
            {"t": row.track_id},
        )
    try:
        with svc.store.engine.connect() as conn:
            assert not top_objects.bounded(conn, flt)
        q = Query(object="person", upper="red", limit=5)
        new = _search(svc, q, reference=False)
        _same(new, _search(svc, q, reference=True))
        assert new.hits[0].track_id == row.track_id
    finally:
        with svc.store.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE track_attributes SET confidence = :c WHERE track_id = :t "
                    "AND name = 'upper' AND value = 'red'"
                ),
                {"t": row.track_id, "c": row.confidence},
            )


def test_a_filter_without_classes_is_never_floored(
    indexed: tuple[Services, SyntheticIndex],
) -> None:
    svc, index = indexed
    with svc.store.engine.connect() as conn:
        assert not top_objects.bounded(conn, TrackFilter(cameras=index.cameras[:1]))


def test_camera_zones_in_one_query(indexed: tuple[Services, SyntheticIndex]) -> None:
    """The zones of every camera a page and timeline name, unknown ids left out."""
    svc, index = indexed
    cams = list(index.cameras[:5])
    zones = svc.store.camera_zones([*cams, "no-such-camera", "bad\x00id"])
    assert zones == {c: svc.store.require_camera(c).timezone for c in cams}
    res = svc.searcher.search(Query(object="car", limit=20), spread=300)
    assert {str(h.start.tzinfo) for h in res.hits} <= set(zones.values()) | {"UTC"}
    assert all(sp.start.utcoffset() is not None for sp in res.spread)


def test_an_attribute_row_without_its_bound_turns_the_floors_off(
    indexed: tuple[Services, SyntheticIndex],
) -> None:
    """A row written without ``weighted`` (by hand) would be cut by any floor: none then."""
    svc, _ = indexed
    flt = engine.to_filter(Query(object="car", colour="white"))
    sql = "SELECT track_id FROM track_attributes WHERE name = 'colour' AND value = 'white' LIMIT 1"
    with svc.store.engine.begin() as conn:
        track = conn.execute(text(sql)).scalar_one()
        conn.execute(
            text(
                "UPDATE track_attributes SET weighted = NULL WHERE track_id = :t AND "
                "name = 'colour' AND value = 'white'"
            ),
            {"t": track},
        )
    try:
        with svc.store.engine.connect() as conn:
            assert not top_objects.bounded(conn, flt)
        q = Query(object="car", colour="white", limit=10)
        _same(_search(svc, q, reference=False), _search(svc, q, reference=True))
    finally:
        with svc.store.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE track_attributes SET weighted = confidence * (SELECT object_conf FROM "
                    "tracks WHERE tracks.id = track_attributes.track_id) WHERE weighted IS NULL"
                )
            )
    with svc.store.engine.connect() as conn:
        assert top_objects.bounded(conn, flt)


def test_a_count_answers_the_broad_probe_as_the_probe_does(
    indexed: tuple[Services, SyntheticIndex],
) -> None:
    """A counted search skips the probe of how many tracks match (``top_objects.broad``)
    when its capped count already says: the answer is the probe's, capped or not."""
    svc, index = indexed
    dialect = svc.store.engine.dialect.name
    decided = 0
    for q, _ in _queries(index)[::3]:
        for scope in (None, _scope(index)):
            flt = replace(engine.to_filter(q), scope=scope)
            matches = tracks._ranked(flt, dialect, 0.0)
            for cap in (30, 2500, 10**9):
                counted = svc.store.count_objects_upto(flt, cap)
                with svc.store.engine.connect() as conn:
                    for need in (20, 500, 1000):
                        probed = top_objects.broad(conn, matches, need)
                        assert top_objects.broad(conn, matches, need, counted) == probed
                        small = top_objects.narrow_limit(need)
                        decided += not counted.capped or counted.tracks > small
    assert decided  # the count answered for part of them without a probe


def test_hand_built_attribute_rows_get_the_stores_bound(
    indexed: tuple[Services, SyntheticIndex],
) -> None:
    """``fill_weighted`` (benchmark generators) writes what the store writes: the
    attribute's confidence times its track's object confidence."""
    svc, _ = indexed
    sql = (
        "SELECT a.track_id, a.confidence, a.weighted, t.object_conf FROM track_attributes a "
        "JOIN tracks t ON t.id = a.track_id ORDER BY a.track_id, a.name, a.value LIMIT 500"
    )
    with svc.store.engine.connect() as conn:
        stored = conn.execute(text(sql)).all()
    rows = [{"track_id": r.track_id, "confidence": r.confidence} for r in stored]
    fill_weighted(rows, {r.track_id: r.object_conf for r in stored})
    assert [r["weighted"] for r in rows] == [r.weighted for r in stored]
    assert all(r.weighted == weighted(r.confidence, r.object_conf) for r in stored)


def test_sqlite_reads_through_a_memory_map(indexed: tuple[Services, SyntheticIndex]) -> None:
    svc, _ = indexed
    if svc.store.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite pragma")
    with svc.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA mmap_size").scalar_one() > 0


def test_sqlite_drives_a_two_colour_search_from_the_rarer_colour(
    indexed: tuple[Services, SyntheticIndex],
) -> None:
    """``join_order.rarest`` names the rarer strict attribute on SQLite (none on PostgreSQL,
    nor with one strict attribute); the driven searches equal the planner's own above."""
    svc, _ = indexed
    flt = engine.to_filter(Query(object="person", upper="black", lower="yellow"))
    with svc.store.engine.connect() as conn:
        counts = {
            af.name: conn.execute(
                text(
                    "SELECT count(*) FROM track_attributes WHERE name = :n AND value = :v "
                    "AND confidence >= :c"
                ),
                {"n": af.name, "v": af.value, "c": af.min_confidence},
            ).scalar_one()
            for af in flt.attributes
        }
        got = join_order.rarest(conn, flt)
        one = join_order.rarest(conn, engine.to_filter(Query(object="person", upper="red")))
    assert one is None
    if svc.store.engine.dialect.name != "sqlite":
        assert got is None
        return
    assert got is not None
    assert counts[flt.attributes[got].name] == min(counts.values())


def test_sqlite_drives_a_rare_type_and_common_colour_from_the_type(
    indexed: tuple[Services, SyntheticIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loose type (``vehicle_type`` or the class) whose two index ranges hold fewer entries
    than the colour's rows drives the search on SQLite (never on PostgreSQL, nor when the
    colour is rarer); the results equal the planner's own order and the outer-joined count."""
    svc, index = indexed

    def entries(sql: str, **params: Any) -> int:
        with svc.store.engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())

    colours = {
        c: entries(
            "SELECT count(*) FROM track_attributes WHERE name = 'colour' AND value = :v "
            "AND confidence >= :m",
            v=c,
            m=engine.MIN_ATTRIBUTE_CONFIDENCE,
        )
        for c in COLOURS
    }
    common, rare = max(colours, key=colours.__getitem__), min(colours, key=colours.__getitem__)
    typed = {
        o: max(
            entries(
                "SELECT count(*) FROM track_attributes WHERE name = 'vehicle_type' "
                "AND value = :v AND confidence >= :m",
                v=o,
                m=engine.MIN_ATTRIBUTE_CONFIDENCE,
            ),
            entries("SELECT count(*) FROM tracks WHERE object = :o", o=o),
        )
        for o in ("bus", "truck", "van", "car")
    }
    kind = min(typed, key=typed.__getitem__)
    assert typed[kind] < colours[common]  # the index has a rare type for this test
    driven = Query(object=kind, colour=common, limit=20)
    with svc.store.engine.connect() as conn:
        got = join_order.rarest(conn, engine.to_filter(driven))
        by_colour = join_order.rarest(conn, engine.to_filter(Query(object=kind, colour=rare)))
        if colours[rare] < typed[kind]:
            assert by_colour is None
    sqlite = svc.store.engine.dialect.name == "sqlite"
    assert got == (0 if sqlite else None)  # the loose ``vehicle_type`` comes first
    drives: list[int | None] = []

    def spy(conn: Any, flt: TrackFilter) -> int | None:
        drives.append(real(conn, flt))
        return drives[-1]

    real = join_order.rarest
    monkeypatch.setattr(tracks, "rarest", spy)
    for q, kw in ((driven, {}), (replace(driven, offset=20), {"spread": 100})):
        for scope in (None, _scope(index)):
            _same(_search(svc, q, reference=False, scope=scope, **kw),
                  _search(svc, q, reference=True, scope=scope, **kw))
    assert (0 in drives) == sqlite
