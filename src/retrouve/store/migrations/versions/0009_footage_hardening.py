"""footage hardening: the cheap integrity stamp of each recording, the decodable end of each
work unit, the "changed" recording status, and the store's analysis lock

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:30:00

``recordings.mtime_ns`` and ``recordings.sample_sha256`` (the SHA-256 of fixed blocks at
fixed offsets, ``retrouve.digest.sample_sha256``) let the analysis re-check a file cheaply
before decoding it; recordings ingested before this revision have none, so their first
check is a full SHA-256 (and records the stamp). ``recordings.analysed_until_s`` is where the
decodable content of a truncated file ends (NULL: not known to end early).
``work_units.decoded_until_s`` is where a unit's decoding actually stopped.

The status CHECK of ``recordings`` is rebuilt with ``changed`` (batch mode on SQLite: a table
copy with foreign keys off, see ``env.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Frozen copies of the recording statuses before and at this revision.
_STATUSES_BEFORE = ("pending", "analysing", "done", "partial", "failed")
STATUSES = ("pending", "analysing", "done", "partial", "failed", "changed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mtime_ns", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("sample_sha256", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("analysed_until_s", sa.Float(), nullable=True))
        batch_op.drop_constraint(op.f("ck_recordings_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_recordings_status"), _in("status", STATUSES))
    with op.batch_alter_table("work_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decoded_until_s", sa.Float(), nullable=True))
    op.create_table(
        "analysis_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_lock")),
    )


def downgrade() -> None:
    op.drop_table("analysis_lock")
    with op.batch_alter_table("work_units", schema=None) as batch_op:
        batch_op.drop_column("decoded_until_s")
    op.execute("UPDATE recordings SET status = 'failed' WHERE status = 'changed'")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_recordings_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_recordings_status"),
                                         _in("status", _STATUSES_BEFORE))
        batch_op.drop_column("analysed_until_s")
        batch_op.drop_column("sample_sha256")
        batch_op.drop_column("mtime_ns")
