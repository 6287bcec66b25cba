"""per-unit claims with leases replace the store-wide analysis lock

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:00:00

Several analysis drivers (``retrouve analyse`` on one or more machines) share one store: each
run claims the work units it analyses. ``work_units.claimed_by`` is the run holding a pending
unit and ``work_units.lease_until`` when that claim lapses unless renewed (aware UTC);
``analysis_runs.host``/``pid`` name the driver process and ``analysis_runs.lease_until`` when
the run counts as gone without a heartbeat. Every column is NULL for rows stored before this
revision (no claim; an old ``running`` run reads as dead). The ``analysis_lock`` table (one
run at a time per store, 0009) is dropped: its row, if any, belonged to a run that an
upgrade has stopped anyway.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analysis_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("work_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_work_units_claimed_by_analysis_runs"), "analysis_runs", ["claimed_by"], ["id"]
        )
        batch_op.create_index("ix_work_units_claimed_by", ["claimed_by"], unique=False)
    op.drop_table("analysis_lock")


def downgrade() -> None:
    op.create_table(
        "analysis_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_lock")),
    )
    with op.batch_alter_table("work_units", schema=None) as batch_op:
        batch_op.drop_index("ix_work_units_claimed_by")
        batch_op.drop_constraint(op.f("fk_work_units_claimed_by_analysis_runs"), type_="foreignkey")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("analysis_runs", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("pid")
        batch_op.drop_column("host")
