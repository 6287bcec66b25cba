"""tracks.object_id: the object a track is a fragment of (search returns one hit per object)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:00:00

Existing tracks become their own object (``object_id = id``); the next analysis of a
recording links its fragments (``analysis/objects.py``). SQLite adds the column through batch
mode, as 0004 does (``env.py`` turns foreign keys off around the table copy).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("object_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_tracks_object_id", ["object_id"], unique=False)
    op.get_bind().execute(sa.text("UPDATE tracks SET object_id = id WHERE object_id IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.drop_index("ix_tracks_object_id")
        batch_op.drop_column("object_id")
