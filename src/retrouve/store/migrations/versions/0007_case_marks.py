"""case_marks: per-result marks inside a case (relevant / not relevant, a note), history kept

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:20:00

No foreign key to ``tracks``: a mark is part of the case's record and outlives a track
removed by a later re-analysis.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_marks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by_user", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("mark IN ('relevant', 'not_relevant')",
                           name=op.f("ck_case_marks_mark")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_case_marks_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_marks")),
    )
    op.create_index("ix_case_marks_case_track", "case_marks", ["case_id", "track_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_case_marks_case_track", table_name="case_marks")
    op.drop_table("case_marks")
