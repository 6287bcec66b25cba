"""plate runner-up reads searchable (plate_reads.folded_alts); vehicle types of older tracks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:45:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copy of the confusion classes at this revision (a migration must not change when
# the application's table does).
_CLASSES = ("0ODQ", "1IL", "2Z", "4A", "5S", "6G", "7T", "8B", "UV")
_FOLD = {c: cls[0] for cls in _CLASSES for c in cls}


def _fold(text: str) -> str:
    return "".join(_FOLD.get(c, c) for c in text)


def upgrade() -> None:
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("folded_alts", sa.Text(), nullable=False, server_default="|")
        )
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT track_id, text, alternatives_json FROM plate_reads"))
    for track_id, text, alts_json in rows.fetchall():
        alts = [str(a) for a, _ in json.loads(alts_json)]
        conn.execute(
            sa.text("UPDATE plate_reads SET folded = :f, folded_alts = :fa "
                    "WHERE track_id = :t"),
            {"f": _fold(text), "fa": "|" + "".join(_fold(a) + "|" for a in alts), "t": track_id},
        )


    # Tracks stored before vehicle types existed get their class as their type (rank 1,
    # confidence 1.0), so `--object car` keeps finding them without re-analysis.
    conn.execute(sa.text(
        "INSERT INTO track_attributes (track_id, name, value, confidence, rank) "
        "SELECT id, 'vehicle_type', object, 1.0, 1 FROM tracks "
        "WHERE object IN ('car', 'van', 'truck') AND NOT EXISTS ("
        "SELECT 1 FROM track_attributes a WHERE a.track_id = tracks.id "
        "AND a.name = 'vehicle_type')"))


def downgrade() -> None:
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.drop_column("folded_alts")
