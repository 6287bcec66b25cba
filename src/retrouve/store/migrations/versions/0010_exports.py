"""exports: evidence export requests, their approval and the bundle produced

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("bundle_path", sa.Text(), nullable=True),
        sa.Column("bundle_sha256", sa.String(64), nullable=True),
        sa.CheckConstraint("state IN ('requested', 'approved', 'produced', 'refused')",
                           name=op.f("ck_exports_state")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_exports_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    op.create_index("ix_exports_case", "exports", ["case_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_exports_case", table_name="exports")
    op.drop_table("exports")
