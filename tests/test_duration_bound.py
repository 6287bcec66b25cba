"""The longest track of each camera (``track_duration_bounds``, migration 0017): kept by the
database on every write path, and a time window's lower bound on starts that changes no
result (SQLite, or PostgreSQL under the test server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import TextClause, select, text, update

from conftest import make_services
from retrouve.config import Settings
from retrouve.domain import Query, ScopeWindow
from retrouve.evaluation.synthetic import SyntheticSpec, generate
from retrouve.search import engine
from retrouve.services import Services
from retrouve.store import schema as s
from retrouve.store import tracks

NOW = datetime(2026, 1, 3, tzinfo=UTC)
START = datetime(2026, 1, 1, tzinfo=UTC)
LONGEST = text("SELECT camera_id, longest_s FROM track_duration_bounds ORDER BY camera_id")
OBSERVED = text("SELECT camera_id, max(t_end - t_start) FROM tracks GROUP BY camera_id "
                "ORDER BY camera_id")


def _bounds(svc: Services, sql: TextClause = LONGEST) -> dict[str, float]:
    with svc.store.engine.connect() as conn:
        return {str(c): round(float(v), 6) for c, v in conn.execute(sql)}


@pytest.mark.parametrize("bulk", [False, True], ids=["store-path", "bulk-writer"])
def test_the_bound_follows_every_write(
    tmp_path: Path, database_url: str | None, bulk: bool
) -> None:
    svc = make_services(Settings(data_dir=tmp_path, workers=1, executor="inline",
                                 database_url=database_url))
    try:
        spec = SyntheticSpec(tracks=300, cameras=4, days=1, start=START)
        generate(svc.store, spec, NOW, bulk=bulk)
        observed = _bounds(svc, OBSERVED)
        assert len(observed) == 4 and _bounds(svc) == observed
        with svc.store.engine.begin() as conn:
            cam, tid = conn.execute(text("SELECT camera_id, min(id) FROM tracks "
                                         "GROUP BY camera_id ORDER BY camera_id")).first()
            # A track made longer (times rewritten) raises its camera's bound at once.
            conn.execute(text("UPDATE tracks SET t_end = t_start + 5000, end_utc = end_utc "
                              "WHERE id = :i"), {"i": tid})
        assert _bounds(svc)[cam] == 5000.0
        with svc.store.engine.begin() as conn:
            conn.execute(text("DELETE FROM tracks WHERE id = :i"), {"i": tid})
        # Deleting leaves the bound as it was: still an upper bound, never too short.
        assert _bounds(svc)[cam] == 5000.0
        assert all(_bounds(svc)[c] >= v for c, v in _bounds(svc, OBSERVED).items())
    finally:
        svc.close()


def test_time_windows_and_scopes_find_what_they_found_without_the_bound(
    tmp_path: Path, database_url: str | None
) -> None:
    """Tracks of every length around window edges, one of them 40 minutes long: the same
    hits and counts with the lower bound on starts as without it."""
    svc = make_services(Settings(data_dir=tmp_path, workers=1, executor="inline",
                                 database_url=database_url))
    try:
        index = generate(svc.store, SyntheticSpec(tracks=1500, cameras=3, days=1,
                                                  start=START), NOW, bulk=True)
        t = s.tracks
        long_ids: dict[str, tuple[int, datetime]] = {}
        with svc.store.engine.begin() as conn:
            for cam in index.cameras:
                # A parked car seen for 40 minutes: a window opening 30 minutes after it
                # appeared must still find it.
                row = conn.execute(select(t.c.id, t.c.start_utc, t.c.t_start)
                                   .where(t.c.camera_id == cam).order_by(t.c.id)
                                   .limit(1)).one()
                conn.execute(update(t).where(t.c.id == row.id).values(
                    t_end=row.t_start + 2400, end_utc=row.start_utc + timedelta(seconds=2400)))
                long_ids[cam] = (int(row.id), row.start_utc)
        queries: list[tuple[Query, tuple[ScopeWindow, ...] | None]] = []
        for cam, (_, began) in long_ids.items():
            late = began + timedelta(minutes=30)
            queries.append((Query(cameras=(cam,), time_from=late,
                                  time_to=late + timedelta(minutes=5), limit=50), None))
            queries.append((Query(cameras=(cam,), limit=50),
                            (ScopeWindow(cam, late, late + timedelta(minutes=5)),)))
        for h in range(0, 24, 3):
            t0 = START + timedelta(hours=h, minutes=17)
            queries.append((Query(time_from=t0, time_to=t0 + timedelta(minutes=40),
                                  limit=30), None))
            queries.append((Query(object="car", cameras=index.cameras[:2], time_from=t0,
                                  time_to=t0 + timedelta(hours=2), limit=10, offset=5),
                            tuple(ScopeWindow(c, t0 - timedelta(hours=1), t0
                                              + timedelta(minutes=30))
                                  for c in index.cameras)))
        found_long = 0
        for q, scope in queries:
            got = svc.searcher.search(q, count=True, scope=scope)
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(tracks, "with_longest", lambda conn, flt: flt)
                want = svc.searcher.search(q, count=True, scope=scope)
            assert got.hits == want.hits
            assert (got.total, got.total_at_least) == (want.total, want.total_at_least)
            found_long += any(h.track_id == i for h in got.hits for i, _ in long_ids.values())
        assert found_long >= 2 * len(long_ids)  # each long track, by window and by scope
    finally:
        svc.close()


def test_a_camera_window_is_one_range_of_the_camera_start_index(
    tmp_path: Path, database_url: str | None
) -> None:
    """The plan reads the camera's starts between the window's start minus the longest
    track and its end, not every start before the window's end (SQLite's plan)."""
    svc = make_services(Settings(data_dir=tmp_path, workers=1, executor="inline",
                                 database_url=database_url))
    try:
        generate(svc.store, SyntheticSpec(tracks=200, cameras=2, days=1, start=START),
                 NOW, bulk=True)
        if svc.store.engine.dialect.name != "sqlite":
            pytest.skip("the plan checked is SQLite's (PostgreSQL's planner chooses)")
        cam = svc.store.list_cameras()[0].id
        t0 = START + timedelta(hours=10)
        flt = engine.to_filter(Query(cameras=(cam,), time_from=t0,
                                     time_to=t0 + timedelta(hours=2)))
        with svc.store.engine.connect() as conn:
            bounded = tracks.with_longest(conn, flt)
            assert bounded.longest_s is not None and bounded.longest_s > 0
            q = tracks._matches(bounded, "sqlite", scored=False).query
            sql = str(q.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "ix_tracks_camera_start (camera_id=? AND start_utc>? AND start_utc<?)" in plan
        assert replace(flt, longest_s=None) == flt  # the engine's filter never carries it
        week = engine.to_filter(Query(cameras=(cam,), time_from=t0,
                                      time_to=t0 + timedelta(days=7)))
        scoped = replace(engine.to_filter(Query(object="car")),
                         scope=(ScopeWindow(cam, t0, t0 + timedelta(hours=1)),))
        with svc.store.engine.connect() as conn:
            # Left to the other indexes: SQLite would take any two-ended range for a small
            # share of the table (tracks.BOUNDED_WINDOW).
            assert tracks.with_longest(conn, week).longest_s is None
            assert tracks.with_longest(conn, scoped).longest_s is None
    finally:
        svc.close()
