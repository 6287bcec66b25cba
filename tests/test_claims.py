"""Several analysis drivers on one store (``store/claims.py``): claims with leases, takeover
of a dead driver's units, refused late saves, per-driver recovery, and real ``analyse``
processes running in parallel whose index equals a single driver's.

On SQLite by default; under ``TEST_DATABASE_URL`` (``make test``'s second pass) every store is
a fresh PostgreSQL database, so the same races run on PostgreSQL's read committed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clips import BLUE, GREEN, RED, Moving, make_clip
from conftest import NOW, no_plates, shape_detector
from retrouve.analysis.planning import plan_units
from retrouve.analysis.runner import _Heartbeat
from retrouve.cli.analyse import print_analysis
from retrouve.config import ClaimSettings, Settings
from retrouve.domain import RecordingStatus, StageStats, Track, UnitResult, WorkUnit
from retrouve.errors import ClaimLost, ConfigError
from retrouve.services import Services, build_services
from retrouve.store import schema as s
from retrouve.store.claims import pid_alive
from retrouve.store.db import Store
from retrouve.store.records import UnitRow
from test_concurrency import CAM as CLIP_CAM
from test_concurrency import _ingested, _track_keys, _wait, settings_for, start_child
from test_store import CAM, recording, track, unit

LEASE = timedelta(seconds=60)


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    st = Store(database_url or f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "blobs")
    st.add_camera(CAM, NOW)
    st.add_recording(recording("ra", "ab"), NOW)
    st.add_recording(recording("rb", "cd", NOW - timedelta(hours=1)), NOW)
    try:
        yield st
    finally:
        st.close()


def _run(
    st: Store, host: str = "node-a", pid: int = 4242, lease_until: datetime | None = NOW + LEASE
) -> int:
    return st.start_run(NOW, {}, {}, "t", host=host, pid=pid, lease_until=lease_until)


def _result(u: WorkUnit, *tracks: Track) -> UnitResult:
    return UnitResult(u.id, tracks, StageStats())


def _count(st: Store, table: str) -> int:
    with st.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(s.metadata.tables[table])).scalar_one()
        )


def _unit_row(st: Store, unit_id: str) -> tuple[str, int | None, int | None, int]:
    w = s.work_units
    with st.engine.connect() as conn:
        r = conn.execute(
            select(w.c.status, w.c.claimed_by, w.c.run_id, w.c.attempts).where(w.c.id == unit_id)
        ).one()
    return r.status, r.claimed_by, r.run_id, int(r.attempts)


def test_a_claim_holds_until_its_lease_lapses_and_the_heartbeat_renews_it(store: Store) -> None:
    u = unit("ra", 0)
    store.ensure_units([u])
    a, b = _run(store), _run(store, "node-b")
    assert store.claim_unit(a, u.id, "ra", NOW, NOW + LEASE)
    assert {e.recording.id: e.status for e in store.list_recordings()}["ra"] == "analysing"
    assert not store.claim_unit(b, u.id, "ra", NOW + timedelta(seconds=30), NOW + 2 * LEASE)
    assert store.claim_unit(a, u.id, "ra", NOW, NOW + LEASE)  # already its own: still True
    # The heartbeat at +30 s pushes the lease to +90 s: at +61 s it still holds.
    assert store.renew_claims(a, NOW + timedelta(seconds=30), NOW + timedelta(seconds=90)) == 1
    assert not store.claim_unit(b, u.id, "ra", NOW + timedelta(seconds=61), NOW + 2 * LEASE)
    assert store.live_claims([u.id], NOW + timedelta(seconds=61)) == {u.id: a}
    # No heartbeat after that: at +91 s the lease has lapsed and run b takes the unit over.
    assert store.claim_unit(b, u.id, "ra", NOW + timedelta(seconds=91), NOW + 2 * LEASE)
    assert _unit_row(store, u.id)[1] == b
    [holder] = store.runs_holding(store.live_claims([u.id], NOW + timedelta(seconds=91)))
    assert (holder.run_id, holder.host, holder.pid, holder.units) == (b, "node-b", 4242, 1)
    assert holder.describe() == f"run {b} (pid 4242 on node-b, 1 unit)"


def test_the_heartbeat_stops_renewing_when_its_driver_shows_no_progress(store: Store) -> None:
    """A driver hung in its own code must not keep its units behind a live heartbeat: past
    ``stall_s`` without a tick, the beat stops renewing, the lease lapses and another run
    takes the unit over; a tick brings the renewals back."""
    u = unit("ra", 0)
    store.ensure_units([u])
    a, b = _run(store), _run(store, "node-b")
    assert store.claim_unit(a, u.id, "ra", NOW, NOW + LEASE)
    wall = [NOW]
    mono = [0.0]
    beat = _Heartbeat(store, a, lambda: wall[0], every_s=10, lease_s=60, stall_s=100,
                      monotonic=lambda: mono[0])
    # (seconds since the start, driver ticks then?, renewed?)
    steps = [(30, False, True), (90, True, True), (150, False, True), (200, False, False),
             (250, False, False)]
    for t, ticks, renewed in steps:
        wall[0], mono[0] = NOW + timedelta(seconds=t), float(t)
        if ticks:
            beat.tick()
        assert beat.beat() is renewed, t
    # Last renewal at +150 s held the unit to +210 s; at +251 s another run takes it over.
    later = NOW + timedelta(seconds=251)
    assert store.claim_unit(b, u.id, "ra", later, later + LEASE)
    assert _unit_row(store, u.id)[1] == b
    # The hung driver comes back: its ticks renew again (its lost unit is not among them).
    beat.tick()
    assert beat.beat() is True
    assert _unit_row(store, u.id)[1] == b


def test_a_late_save_from_a_lapsed_claim_is_refused_and_the_unit_stored_once(store: Store) -> None:
    u = unit("ra", 0)
    store.ensure_units([u])
    slow, other = _run(store), _run(store, "node-b")
    assert store.claim_unit(slow, u.id, "ra", NOW, NOW + LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    assert store.claim_unit(other, u.id, "ra", later, later + LEASE)  # taken over
    late = replace(track(u, 1), thumbnail_jpeg=b"slow driver's crop")
    with pytest.raises(ClaimLost, match=f"held by run {other}"):
        store.save_unit_result(slow, _result(u, late), later)
    assert _count(store, "tracks") == 0  # nothing of the refused result
    thumbs = store.blobs.root / "thumbs"
    assert not thumbs.exists() or not list(thumbs.rglob("*.jpg"))
    with pytest.raises(ClaimLost, match=f"held by run {other}"):
        store.mark_unit_failed(u.id, slow, "decoder exploded", later)
    mine = replace(track(u, 1), thumbnail_jpeg=b"taker's crop")
    assert store.save_unit_result(other, _result(u, mine, track(u, 2)), later) == 2
    # The slow driver finishing even later: the unit was stored by the other run.
    with pytest.raises(ClaimLost, match=f"stored by run {other}"):
        store.save_unit_result(slow, _result(u, late), later + LEASE)
    assert _unit_row(store, u.id) == ("done", None, other, 1)
    assert _count(store, "tracks") == 2
    [thumb] = (store.blobs.root / "thumbs").rglob("*-1.jpg")
    assert thumb.read_bytes() == b"taker's crop"  # not overwritten by the refused result
    assert not store.claim_unit(slow, u.id, "ra", later + 3 * LEASE, later + 4 * LEASE)


def test_a_save_after_recovery_freed_the_claim_is_accepted_once(store: Store) -> None:
    u = unit("ra", 0)
    store.ensure_units([u])
    slow = _run(store)
    assert store.claim_unit(slow, u.id, "ra", NOW, NOW + LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    left = store.recover_interrupted(later, "elsewhere")
    assert (left.runs, left.units, left.recordings) == (1, 1, 1)
    # Nobody holds the unit: the slow driver's result is the only one, so it is kept.
    assert store.save_unit_result(slow, _result(u, track(u, 1)), later) == 1
    assert not store.claim_unit(_run(store, "node-b"), u.id, "ra", later, later + LEASE)
    assert _unit_row(store, u.id) == ("done", None, slow, 1)
    # Its heartbeat comes back: the run declared dead is running again.
    assert store.renew_claims(slow, later, later + LEASE) == 0
    assert store.list_runs()[0].status == "running"


def test_recovery_leaves_live_drivers_alone(store: Store) -> None:
    units = [unit("ra", 0), unit("ra", 1), unit("rb", 0), unit("rb", 1)]
    store.ensure_units(units)
    me = os.getpid()
    live_far = _run(store, "node-b", 1)  # another machine, lease current
    lapsed = _run(store, "node-c", 2, NOW - timedelta(seconds=1))  # lease lapsed
    killed = _run(store, "here", 999_999)  # this host, pid gone, lease current
    alive = _run(store, "here", me)  # this host, alive
    for run, u in zip((live_far, lapsed, killed, alive), units, strict=True):
        assert store.claim_unit(
            run,
            u.id,
            u.recording_id,
            NOW - timedelta(seconds=2),
            NOW + LEASE if run != lapsed else NOW - timedelta(seconds=1),
        )
    left = store.recover_interrupted(NOW, "here", alive=lambda pid: pid == me)
    assert (left.runs, left.units, left.recordings) == (2, 2, 0)
    status = {r.id: r.status for r in store.list_runs()}
    assert status == {
        live_far: "running",
        lapsed: "interrupted",
        killed: "interrupted",
        alive: "running",
    }
    assert store.live_claims([u.id for u in units], NOW) == {
        units[0].id: live_far,
        units[3].id: alive,
    }
    # Both recordings still have a live claim: they stay "analysing".
    assert {e.status for e in store.list_recordings()} == {"analysing"}
    store.release_claims(live_far)
    store.release_claims(alive)
    left = store.recover_interrupted(NOW, "here", alive=lambda pid: pid == me)
    assert (left.runs, left.recordings) == (0, 2)
    assert {e.status for e in store.list_recordings()} == {"pending"}
    assert pid_alive(me) and not pid_alive(999_999)


def test_a_recording_stays_analysing_while_another_run_is_on_it(store: Store) -> None:
    a, b = unit("ra", 0), unit("ra", 1)
    store.ensure_units([a, b])
    mine, theirs = _run(store), _run(store, "node-b")
    assert store.claim_unit(mine, a.id, "ra", NOW, NOW + LEASE)
    assert store.claim_unit(theirs, b.id, "ra", NOW, NOW + LEASE)
    store.save_unit_result(mine, _result(a), NOW)

    def done(units: list[UnitRow]) -> tuple[RecordingStatus, None, None]:
        return RecordingStatus.DONE, None, None

    assert store.settle_recording("ra", NOW, done) == "analysing"  # theirs is on b
    store.save_unit_result(theirs, _result(b), NOW)
    assert store.settle_recording("ra", NOW, done) == "done"
    assert {e.recording.id: e.status for e in store.list_recordings()}["ra"] == "done"


def test_racing_drivers_claim_each_unit_once(store: Store) -> None:
    """Eight threads, one run each, racing for the same 40 units: each unit is taken by
    exactly one (SQLite serialises writers; PostgreSQL re-checks the WHERE on the row)."""
    units = [unit("ra", i) for i in range(20)] + [unit("rb", i) for i in range(20)]
    errors: list[BaseException] = []

    def plan() -> None:  # every driver plans the same units at the same moment
        try:
            store.ensure_units(units)
        except BaseException as exc:  # a thread's exception is not the test's
            errors.append(exc)

    planners = [threading.Thread(target=plan) for _ in range(4)]
    for p in planners:
        p.start()
    for p in planners:
        p.join()
    assert errors == [] and _count(store, "work_units") == 40
    runs = [_run(store, f"node-{i}") for i in range(8)]
    won: dict[int, list[str]] = {r: [] for r in runs}
    go = threading.Barrier(len(runs))

    def drive(run: int) -> None:
        go.wait()
        try:
            for u in units:
                if store.claim_unit(run, u.id, u.recording_id, NOW, NOW + LEASE):
                    won[run].append(u.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    taken = [u for ids in won.values() for u in ids]
    assert sorted(taken) == sorted(u.id for u in units)  # each once, none lost
    held = store.live_claims([u.id for u in units], NOW)
    assert all(held[u] == r for r, ids in won.items() for u in ids)


def test_lease_settings_are_checked() -> None:
    assert ClaimSettings().lease_seconds == 120 and ClaimSettings().heartbeat_seconds == 10
    with pytest.raises(ConfigError, match=r"claims\.heartbeat_seconds.*a third of lease"):
        Settings(claims={"lease_seconds": 20, "heartbeat_seconds": 10})


# ----------------------------------------------------------------- analysis drivers


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 s at 10 s slices: 8 work units to share."""
    folder = tmp_path_factory.mktemp("claims")
    return make_clip(
        folder / "cam1_20260104_110000.mp4",
        seconds=80.0,
        fps=5,
        size=(160, 120),
        objects=[
            Moving(RED, (30, 16), (0, 30), (120, 30), 0.0, 38.0),
            Moving(BLUE, (12, 26), (20, 80), (120, 80), 30.0, 65.5),
            Moving(GREEN, (20, 12), (130, 60), (10, 60), 45.0, 78.0),
        ],
        gop=10,
    ).path


@pytest.fixture(scope="module")
def single_driver(
    long_clip: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[str, int]]:
    """The index one driver makes of ``long_clip`` (track keys)."""
    svc = _ingested(tmp_path_factory.mktemp("single"), long_clip)
    try:
        assert svc.analyser.analyse().units_done == 8
        return _track_keys(svc)
    finally:
        svc.close()


def _last_json(out: bytes) -> dict[str, object]:
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


def test_two_analyse_processes_share_the_units(
    long_clip: Path, tmp_path: Path, database_url: str | None, single_driver: list[tuple[str, int]]
) -> None:
    data = tmp_path / "data"
    svc = _ingested(data, long_clip, database_url)
    children = [start_child(data, database_url=database_url) for _ in range(2)]
    try:
        outs = [c.communicate(timeout=600)[0] for c in children]
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
    assert [c.returncode for c in children] == [0, 0], outs
    reports = [_last_json(o) for o in outs]
    done = [int(r["units_done"]) for r in reports]  # type: ignore[call-overload]
    assert sum(done) == 8 and min(done) >= 1, reports  # both progressed, units split
    assert all(r["units_taken_over"] == 0 and r["units_failed"] == 0 for r in reports)
    runs = svc.store.list_runs()
    assert [r.status for r in runs] == ["done", "done"]
    # Each unit analysed and stored once, by one of the two runs.
    w = s.work_units
    with svc.store.engine.connect() as conn:
        rows = conn.execute(select(w.c.run_id, w.c.attempts, w.c.claimed_by)).all()
    assert sorted({r.run_id for r in rows}) == sorted(r.id for r in runs)
    assert {(r.attempts, r.claimed_by) for r in rows} == {(1, None)}
    keys = _track_keys(svc)
    assert len(keys) == len(set(keys))  # no unit's tracks twice
    assert keys == single_driver  # the same index as one driver
    assert [e.status for e in svc.store.list_recordings()] == ["done"]
    svc.close()


def test_nothing_left_when_live_runs_hold_every_unit(
    long_clip: Path, tmp_path: Path, database_url: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    svc = _ingested(tmp_path / "data", long_clip, database_url)
    st = svc.store
    [rec] = [e.recording for e in st.list_recordings()]
    units = plan_units(rec, 10)
    st.ensure_units(units)
    other = _run(st, "node-b", 77)
    for u in units:
        assert st.claim_unit(other, u.id, u.recording_id, NOW, NOW + LEASE)
    report = svc.analyser.analyse()
    assert report.run_id is None and report.units_done == 0
    assert [(h.run_id, h.host, h.pid, h.units) for h in report.held_by] == [
        (other, "node-b", 77, 8)
    ]
    assert report.to_json()["held_by"] == [
        {
            "run_id": other,
            "host": "node-b",
            "pid": 77,
            "units": 8,
            "lease_until": (NOW + LEASE).isoformat(),
        }
    ]
    assert len(st.list_runs()) == 1  # no run started
    print_analysis(report)  # what ``retrouve analyse`` prints
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "nothing left to analyse here: 0 unit(s) already done, the 8 left are being "
        f"analysed by run {other} (pid 77 on node-b, 8 units)" in out
    )
    svc.close()


class _Clock:
    """Aware UTC time running from ``NOW`` at the real pace (leases lapse in real time)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self) -> datetime:
        return NOW + timedelta(seconds=time.monotonic() - self.t0)


def _services(data: Path, database_url: str | None, clock: Callable[[], datetime]) -> Services:
    settings = settings_for(data, database_url=database_url).model_copy(
        update={"claims": ClaimSettings(lease_seconds=3, heartbeat_seconds=1)}
    )
    return build_services(
        settings, detector_factory=shape_detector, plate_reader_factory=no_plates, clock=clock
    )


def test_units_of_a_lost_node_are_taken_over_after_their_lease(
    long_clip: Path, tmp_path: Path, database_url: str | None, single_driver: list[tuple[str, int]]
) -> None:
    """A node that claimed two units and vanished (no heartbeat, another host: its pid
    cannot be checked): this driver analyses the free units, waits for the lease to lapse,
    then takes the two over; the lost node's run ends interrupted."""
    clock = _Clock()
    svc = _services(tmp_path / "data", database_url, clock)
    svc.catalogue.add_camera(CLIP_CAM)
    svc.catalogue.ingest(str(long_clip), CLIP_CAM.id)
    st = svc.store
    [rec] = [e.recording for e in st.list_recordings()]
    units = plan_units(rec, 10)
    st.ensure_units(units)
    now = clock()
    lost = st.start_run(
        now, {}, {}, "t", host="node-lost", pid=1, lease_until=now + timedelta(seconds=3)
    )
    for u in units[3:5]:
        assert st.claim_unit(lost, u.id, u.recording_id, now, now + timedelta(seconds=3))
    started = time.monotonic()
    report = svc.analyser.analyse()
    took = time.monotonic() - started
    assert report.units_done == 8 and report.units_taken_over == 0
    assert took >= 2.0  # it waited for the lease (3 s from the claim) to lapse
    assert {r.id: r.status for r in st.list_runs()} == {lost: "interrupted", report.run_id: "done"}
    assert _track_keys(svc) == single_driver
    assert [e.status for e in st.list_recordings()] == ["done"]
    assert st.live_claims([u.id for u in units], clock()) == {}
    svc.close()


def test_a_driver_waits_for_a_live_one_then_settles(
    long_clip: Path, tmp_path: Path, database_url: str | None, single_driver: list[tuple[str, int]]
) -> None:
    """A second driver started while a slow one (a real process) is analysing: it takes the
    free units, waits for the other's, and both end with one index and the recording
    done."""
    data = tmp_path / "data"
    svc = _ingested(data, long_clip, database_url)
    child = start_child(data, database_url=database_url)
    try:
        _wait(lambda: bool(svc.store.list_runs()), 120, "the first run to start")
        report = svc.analyser.analyse()
        out = child.communicate(timeout=600)[0]
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, out
    first = _last_json(out)
    assert report.units_done + int(first["units_done"]) == 8  # type: ignore[call-overload]
    assert report.units_done >= 1
    assert report.units_skipped + report.units_done + report.units_elsewhere == 8
    assert _track_keys(svc) == single_driver
    assert [e.status for e in svc.store.list_recordings()] == ["done"]
    svc.close()
