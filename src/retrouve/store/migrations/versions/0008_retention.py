"""retention: recordings.owned (whether the purge may delete the file) and the signed purge
certificates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:00:00

Existing recordings were all registered in place, so they are not owned (``owned = 0``): the
purge deletes their files only when ``retention.unowned_files`` says so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owned", sa.Boolean(), nullable=False,
                                      server_default="0"))
    op.create_table(
        "purge_certificates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("recording_id", sa.String(160), nullable=False),
        sa.Column("camera_id", sa.String(128), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("body_json", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_certificates")),
    )
    op.create_index("ix_purge_certificates_at", "purge_certificates", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_purge_certificates_at", table_name="purge_certificates")
    op.drop_table("purge_certificates")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("owned")
