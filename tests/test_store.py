"""The store's parts behind one facade: typed records, status enums, CHECK constraints, and
SQLAlchemy errors leaving as StoreError with the object named."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from retrouve.domain import (
    Box,
    Camera,
    Observation,
    Recording,
    RecordingStatus,
    Role,
    RunStatus,
    StageStats,
    Track,
    UnitResult,
    UnitStatus,
    WorkUnit,
)
from retrouve.errors import StoreError
from retrouve.store.base import mapped
from retrouve.store.db import Store
from retrouve.store.records import (
    AnalysedSpan,
    RecordingEntry,
    TrackFilter,
    TrackTimes,
    UnitFailure,
    UnitProgress,
)

NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
T0 = datetime(2026, 1, 4, 9, 0, 0, tzinfo=UTC)
CAM = Camera("cam1", "Gare", "Europe/Paris")


#: A CHECK constraint failure in the database's words (SQLite / PostgreSQL).
CHECK_FAILED = "CHECK constraint failed|violates check constraint"

def recording(rec_id: str, sha: str, start: datetime = T0) -> Recording:
    return Recording(rec_id, CAM.id, f"/footage/{rec_id}.mp4", sha * 32, 1000, start, 20.0,
                     25.0, 640, 360, "h264")


def unit(rec_id: str, i: int) -> WorkUnit:
    return WorkUnit(f"{rec_id}@{i:07d}.0", rec_id, f"/footage/{rec_id}.mp4", i * 10.0,
                    (i + 1) * 10.0, 25.0)


def track(u: WorkUnit, local_id: int) -> Track:
    box = Box(10, 20, 50, 80)
    return Track(u.recording_id, u.id, local_id, "person", 0.9, u.t0 + 1, u.t0 + 4, u.t0 + 2,
                 box, (), (Observation(u.t0 + 1, box, 0.9), Observation(u.t0 + 4, box, 0.8)))


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    st = Store(database_url or f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "blobs")
    st.add_camera(CAM, NOW)
    for rec_id, sha, start in (("ra", "ab", T0), ("rb", "cd", T0 + timedelta(hours=1))):
        st.add_recording(recording(rec_id, sha, start), NOW)
    try:
        yield st
    finally:
        st.close()


def test_statuses_print_as_the_stored_words() -> None:
    # StrEnums: JSON, templates and string comparisons see the same words as before.
    assert json.dumps([RecordingStatus.PARTIAL, RunStatus.DONE_WITH_ERRORS, Role.ADMIN]) == (
        '["partial", "done-with-errors", "admin"]')
    assert f"status-{UnitStatus.FAILED}" == "status-failed"
    assert [str(r) for r in Role] == ["admin", "supervisor", "operator", "auditor"]


def test_work_records_are_typed(store: Store) -> None:
    units = [unit("ra", 0), unit("ra", 1), unit("rb", 0)]
    assert store.ensure_units(units) == 3 and store.ensure_units(units) == 0
    run = store.start_run(NOW, {"sample_fps": 4}, {"detector": "hand"}, "t")
    assert store.save_unit_result(run, UnitResult(units[0].id, (track(units[0], 1),),
                                                  StageStats()), NOW) == 1
    store.mark_unit_failed(units[1].id, run, "decoder exploded", NOW)
    store.finish_run(run, NOW, RunStatus.DONE_WITH_ERRORS)
    store.set_recording_status("ra", RecordingStatus.PARTIAL, "decoder exploded")
    store.set_recording_status("rb", RecordingStatus.DONE, None)

    assert store.unit_status(["ra"]) == {units[0].id: UnitStatus.DONE,
                                         units[1].id: UnitStatus.FAILED}
    assert store.unit_errors("ra") == [UnitFailure(units[1].id, "decoder exploded")]
    assert store.unit_errors("rb") == []
    assert store.unit_progress() == {"ra": UnitProgress(1, 1, 2), "rb": UnitProgress(0, 0, 1)}
    [entry_a, entry_b] = store.list_recordings()
    assert entry_a == RecordingEntry(recording("ra", "ab"), RecordingStatus.PARTIAL,
                                     "decoder exploded")
    assert entry_b.status is RecordingStatus.DONE and entry_b.error is None
    assert [e.recording.id for e in store.list_recordings(status=[RecordingStatus.DONE])] == [
        "rb"]
    assert store.analysed_span([]) == AnalysedSpan(recordings=2, analysed=1)
    assert store.analysed_span(["elsewhere"]) == AnalysedSpan(0, 0)
    [recorded] = store.list_runs()
    assert (recorded.id, recorded.status, recorded.finished_at) == (
        run, RunStatus.DONE_WITH_ERRORS, NOW)
    assert json.loads(recorded.models_json) == {"detector": "hand"}
    [stored] = store.find_tracks(TrackFilter())
    assert store.track_times(stored.id) == TrackTimes("ra", 1.0, 4.0, 2.0)
    assert store.track_times(stored.id + 1) is None


def test_user_records_are_typed(store: Store) -> None:
    uid = store.add_user("marie", "$argon2id$hash", Role.SUPERVISOR, NOW)
    user = store.get_user(name="marie")
    assert user is not None and user == store.get_user(user_id=uid)
    assert (user.id, user.name, user.password_hash, user.role, user.disabled) == (
        uid, "marie", "$argon2id$hash", Role.SUPERVISOR, False)
    assert user.created_at == user.password_changed_at == NOW
    store.update_user(uid, role=Role.ADMIN, disabled=True)
    assert [(u.name, u.role, u.disabled) for u in store.list_users()] == [
        ("marie", Role.ADMIN, True)]
    assert store.get_user(name="nobody") is None


@pytest.mark.parametrize(
    ("act", "fragment"),
    [
        (lambda st: st.set_recording_status("ra", "finished", None),
         "cannot set status of recording ra to 'finished'"),
        (lambda st: st.finish_run(st.start_run(NOW, {}, {}, "t"), NOW, "ok"),
         "cannot finish analysis run"),
        (lambda st: st.add_user("eve", "h", "root", NOW), "cannot add user 'eve'"),
        (lambda st: st.update_user(st.add_user("eve", "h", Role.OPERATOR, NOW), role="root"),
         "cannot update user"),
    ],
    ids=["recording", "run", "new-user-role", "user-role"],
)
def test_a_status_outside_its_set_is_refused(
    store: Store, act: Callable[[Store], object], fragment: str
) -> None:
    with pytest.raises(StoreError, match=CHECK_FAILED) as caught:
        act(store)
    assert fragment in str(caught.value)


def test_work_unit_status_is_checked_too(store: Store) -> None:
    store.ensure_units([unit("ra", 0)])
    with pytest.raises(StoreError, match=f"cannot set a unit status: .*({CHECK_FAILED})"), \
            mapped("set a unit status"), store.engine.begin() as conn:
        conn.execute(text("UPDATE work_units SET status = 'maybe'"))
    assert store.unit_status() == {unit("ra", 0).id: UnitStatus.PENDING}


@pytest.mark.parametrize(
    ("act", "message"),
    [
        (lambda st: st.add_recording(recording("ra", "ab"), NOW),
         "recording ra (/footage/ra.mp4) already registered"),
        (lambda st: [st.add_user("marie", "h", Role.OPERATOR, NOW) for _ in range(2)],
         "user 'marie' already exists"),
    ],
    ids=["recording", "user"],
)
def test_a_taken_key_keeps_its_precise_message(
    store: Store, act: Callable[[Store], object], message: str
) -> None:
    with pytest.raises(StoreError) as caught:
        act(store)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("table", "act", "message"),
    [
        ("tracks",
         lambda st: st.save_unit_result(1, UnitResult("ra@0000000.0", (), StageStats()), NOW),
         "cannot save unit ra@0000000.0: "),
        ("work_units", lambda st: st.mark_unit_failed("ra@0000000.0", 1, "x", NOW),
         "cannot mark unit ra@0000000.0 failed: "),
        ("tracks", lambda st: st.track_times(7), "cannot read times of track 7: "),
        ("api_tokens", lambda st: st.use_api_token("ab" * 32, NOW),
         "cannot check an API token: "),
        ("work_units", lambda st: st.unit_progress(), "cannot count work units: "),
    ],
    ids=["save-unit", "unit-failed", "track-times", "token", "progress"],
)
def test_database_failures_name_the_object(
    store: Store, table: str, act: Callable[[Store], object], message: str
) -> None:
    # SQLite: a child table, nothing cascades; PostgreSQL drops the foreign keys onto it.
    cascade = " CASCADE" if store.engine.dialect.name == "postgresql" else ""
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {table}{cascade}"))
    with pytest.raises(StoreError) as caught:
        act(store)
    text_ = str(caught.value)
    assert text_.startswith(message)
    # The database's own words, one line, no SQL (SQLite / PostgreSQL wording).
    missing = (f"no such table: {table}", f'relation "{table}" does not exist')
    assert "\n" not in text_ and any(m in text_ for m in missing), text_
    assert caught.value.__cause__ is not None  # the SQLAlchemy error stays chained
