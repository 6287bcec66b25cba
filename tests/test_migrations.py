"""Migrations upgrade an existing database in place (data kept, new columns filled)."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import CheckConstraint, create_engine, event, inspect, text

from conftest import NOW
from databases import empty_database
from retrouve.errors import StoreError
from retrouve.store import schema
from retrouve.store.db import Store, _sqlite_pragmas
from retrouve.store.migrate import alembic_config


def test_0003_folds_plate_reads_and_types_older_vehicle_tracks(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0002")
    with engine.begin() as conn:
        # A plate row as 0002 stored it: folded not trusted, no runner-up column yet.
        conn.execute(text("PRAGMA foreign_keys=OFF"))
        conn.execute(text(
            "INSERT INTO plate_reads (track_id, text, folded, confidence, chars_json, "
            "alternatives_json, reads, best_t) VALUES (1, 'AB012CD', 'AB012CD', 0.9, '[]', "
            ":alts, 2, 1.0)"), {"alts": json.dumps([["AB0I2CO", 0.5], ["ZZ1", 0.2]])})
        conn.execute(text(
            "INSERT INTO tracks (id, recording_id, camera_id, unit_id, run_id, local_id, object, "
            "object_conf, start_utc, end_utc, t_start, t_end, best_t, box_x0, box_y0, box_x1, "
            "box_y1, observations_json) VALUES (2, 'r', 'c', 'u', 1, 1, 'car', 0.8, "
            "'2026-01-04 10:00:00', '2026-01-04 10:00:05', 0, 5, 1, 0, 0, 10, 10, '[]')"))
    command.upgrade(alembic_config(engine), "0003")
    with engine.connect() as conn:
        types = conn.execute(text("SELECT track_id, value, confidence, rank FROM "
                                  "track_attributes WHERE name = 'vehicle_type'")).all()
        row = conn.execute(text("SELECT folded, folded_alts FROM plate_reads")).one()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert tuple(row) == ("48012C0", "|48012C0|221|")
    assert version == "0003"
    assert [tuple(t) for t in types] == [(2, "car", 1.0, 1)]


#: One row in every table a 0004 table copy touches, and in each of their children (which a
#: copy with foreign keys on would delete through ON DELETE CASCADE).
_ROWS_0003 = (
    "INSERT INTO cameras VALUES ('c', 'Gare', 'UTC', NULL, NULL, NULL, '2026-01-01 00:00:00')",
    "INSERT INTO recordings (id, camera_id, path, sha256, size_bytes, start_utc, end_utc, "
    "duration_s, fps, width, height, codec, is_image, status, error, ingested_at) VALUES "
    "('r', 'c', '/f.mp4', 's', 1, '2026-01-04 10:00:00', '2026-01-04 10:00:20', 20, 25, 640, "
    "360, 'h264', 0, 'partial', 'boom', '2026-01-05 00:00:00')",
    "INSERT INTO analysis_runs (id, started_at, status, settings_json, models_json, "
    "software_version) VALUES (1, '2026-01-05 00:00:00', 'done-with-errors', '{}', '{}', 't')",
    "INSERT INTO work_units (id, recording_id, t0, t1, status, error, run_id, attempts) VALUES "
    "('r@0', 'r', 0, 10, 'done', NULL, 1, 1), ('r@10', 'r', 10, 20, 'failed', 'boom', 1, 1)",
    "INSERT INTO tracks (id, recording_id, camera_id, unit_id, run_id, local_id, object, "
    "object_conf, start_utc, end_utc, t_start, t_end, best_t, box_x0, box_y0, box_x1, box_y1, "
    "observations_json) VALUES (2, 'r', 'c', 'r@0', 1, 1, 'person', 0.8, "
    "'2026-01-04 10:00:00', '2026-01-04 10:00:05', 0, 5, 1, 0, 0, 10, 10, '[]')",
    "INSERT INTO track_attributes VALUES (2, 'upper', 'red', 0.9, 1)",
    "INSERT INTO users (id, name, password_hash, role, disabled, created_at, "
    "password_changed_at) VALUES (1, 'marie', 'h', 'supervisor', 0, '2026-01-01 00:00:00', "
    "'2026-01-01 00:00:00')",
    "INSERT INTO api_tokens (id, user_id, token_sha256, created_at) VALUES "
    "(1, 1, 'ab', '2026-01-01 00:00:00')",
)
_TABLES = ("cameras", "recordings", "analysis_runs", "work_units", "tracks",
           "track_attributes", "users", "api_tokens")


def _dump(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
                for t in _TABLES}


def test_0004_adds_status_checks_and_keeps_every_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)  # foreign keys on, as the store has them
    command.upgrade(alembic_config(engine), "0003")
    with engine.begin() as conn:
        for sql in _ROWS_0003:
            conn.execute(text(sql))
    before = _dump(engine)
    # Up to 0004 exactly (later revisions add columns, which would change the dump).
    command.upgrade(alembic_config(engine), "0004")
    engine.dispose()
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    try:
        assert _dump(engine) == before
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            checks = {name: conn.execute(text(
                "SELECT sql FROM sqlite_master WHERE name = :t"), {"t": name}).scalar_one()
                for name in ("recordings", "analysis_runs", "work_units", "users")}
    finally:
        engine.dispose()
    store = Store(url, tmp_path / "blobs")  # opening migrates to the newest revision
    try:
        assert version == "0004"
        assert "CONSTRAINT ck_recordings_status CHECK" in checks["recordings"]
        assert "CONSTRAINT ck_analysis_runs_status CHECK" in checks["analysis_runs"]
        assert "CONSTRAINT ck_work_units_status CHECK" in checks["work_units"]
        assert "CONSTRAINT ck_users_role CHECK" in checks["users"]
        [entry] = store.list_recordings()
        assert (entry.recording.id, entry.status, entry.error) == ("r", "partial", "boom")
        with pytest.raises(StoreError, match="cannot set status of recording r to 'over'"):
            store.set_recording_status("r", "over", None)  # type: ignore[arg-type]
    finally:
        store.close()


def test_0004_downgrades_without_losing_rows(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db'}")
    event.listen(engine, "connect", _sqlite_pragmas)
    command.upgrade(alembic_config(engine), "0003")
    with engine.begin() as conn:
        for sql in _ROWS_0003:
            conn.execute(text(sql))
    before = _dump(engine)
    command.upgrade(alembic_config(engine), "0004")
    command.downgrade(alembic_config(engine), "0003")
    assert _dump(engine) == before
    with engine.begin() as conn:  # the constraint is gone again
        conn.execute(text("UPDATE recordings SET status = 'whatever'"))


def _migration(name: str) -> Any:
    path = (Path(__file__).resolve().parents[1] / "src" / "retrouve" / "store" / "migrations"
            / "versions" / f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _migration_0004() -> Any:
    path = Path(alembic_config(create_engine("sqlite://")).get_main_option("script_location")
                or "") / "versions" / "0004_status_checks.py"
    spec = importlib.util.spec_from_file_location("migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("table", "column"), [("recordings", "status"),
                                                ("analysis_runs", "status"),
                                                ("work_units", "status"), ("users", "role")])
def test_0004_matches_the_schema_and_alters_postgresql_in_place(table: str, column: str) -> None:
    migration = _migration_0004()
    [values] = [v for t, c, v in migration._CHECKS if (t, c) == (table, column)]
    if (table, column) == ("users", "role"):  # 0005 rebuilds it with ``auditor``
        values = _migration("0006_cases_journal")._ROLES
    if (table, column) == ("recordings", "status"):  # 0009 rebuilds it with ``changed``
        values = _migration("0009_footage_hardening").STATUSES
    [check] = [c for c in schema.metadata.tables[table].constraints
               if isinstance(c, CheckConstraint)]
    assert check.name == f"ck_{table}_{column}"
    assert str(check.sqltext) == f"{column} IN ({', '.join(repr(v) for v in values)})"
    out = io.StringIO()
    context = MigrationContext.configure(dialect_name="postgresql",
                                         opts={"as_sql": True, "output_buffer": out})
    with Operations.context(context):
        migration.upgrade()
    assert (f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_{column} CHECK "
            f"({column} IN (") in out.getvalue()


def test_0009_adds_the_stamp_and_changed_status_and_keeps_rows(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0008")
    with engine.begin() as conn:
        for row in _ROWS_0003[:4]:
            conn.execute(text(row))
    command.upgrade(alembic_config(engine), "0009")
    with engine.begin() as conn:
        rec = conn.execute(text("SELECT status, mtime_ns, sample_sha256, analysed_until_s "
                                "FROM recordings")).one()
        assert tuple(rec) == ("partial", None, None, None)
        assert conn.execute(text("SELECT count(*) FROM work_units WHERE decoded_until_s IS "
                                 "NULL")).scalar_one() == 2
        conn.execute(text("UPDATE recordings SET status = 'changed'"))
        assert conn.execute(text("SELECT count(*) FROM analysis_lock")).scalar_one() == 0
    command.downgrade(alembic_config(engine), "0008")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM recordings")).scalar_one() == "failed"


def test_0015_adds_claims_drops_the_lock_and_keeps_rows(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0014")
    with engine.begin() as conn:
        for row in _ROWS_0003[:4]:
            conn.execute(text(row))
        # A lock row left by a run that the upgrade stopped: it goes with its table.
        conn.execute(text("INSERT INTO analysis_lock VALUES (1, 'node-a', 12, "
                          "'2026-01-05 00:00:00', '2026-01-05 00:00:00')"))
    command.upgrade(alembic_config(engine), "0015")
    with engine.begin() as conn:
        assert "analysis_lock" not in inspect(conn).get_table_names()
        units = conn.execute(text("SELECT id, status, claimed_by, lease_until FROM work_units "
                                  "ORDER BY id")).all()
        assert [tuple(u) for u in units] == [("r@0", "done", None, None),
                                            ("r@10", "failed", None, None)]
        run = conn.execute(text("SELECT status, host, pid, lease_until FROM "
                                "analysis_runs")).one()
        assert tuple(run) == ("done-with-errors", None, None, None)
    # An old row reads through the new schema: no claim, a run without a lease.
    store = Store(f"sqlite:///{tmp_path / 'old.db'}", tmp_path / "blobs")
    try:
        assert [u.status for u in store.units_of(["r"])] == ["done", "failed"]
        assert store.live_claims(["r@0", "r@10"], NOW) == {}
    finally:
        store.close()
    command.downgrade(alembic_config(engine), "0014")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM analysis_lock")).scalar_one() == 0
        assert "claimed_by" not in {c["name"] for c in inspect(conn).get_columns("work_units")}
        assert conn.execute(text("SELECT count(*) FROM work_units")).scalar_one() == 2


def test_every_migration_goes_down_and_up_again(tmp_path: Path) -> None:
    """The whole chain on this run's backend (SQLite, or PostgreSQL under the test server):
    up to the head, down to nothing, up again, and the store opens on it."""
    with empty_database(tmp_path) as url:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            command.upgrade(alembic_config(engine), "head")
            head = set(inspect(engine).get_table_names())
            command.downgrade(alembic_config(engine), "base")
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            command.upgrade(alembic_config(engine), "head")
            assert set(inspect(engine).get_table_names()) == head
            assert set(schema.metadata.tables) <= head
        finally:
            engine.dispose()
        store = Store(url, tmp_path / "blobs")
        try:
            assert store.list_recordings() == []
        finally:
            store.close()
