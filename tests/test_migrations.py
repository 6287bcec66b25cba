"""Migrations upgrade an existing database in place (data kept, new columns filled)."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from retrouve.store.migrate import alembic_config, upgrade


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
    upgrade(engine)
    with engine.connect() as conn:
        types = conn.execute(text("SELECT track_id, value, confidence, rank FROM "
                                  "track_attributes WHERE name = 'vehicle_type'")).all()
        row = conn.execute(text("SELECT folded, folded_alts FROM plate_reads")).one()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert tuple(row) == ("48012C0", "|48012C0|221|")
    assert version == "0003"
    assert [tuple(t) for t in types] == [(2, "car", 1.0, 1)]
