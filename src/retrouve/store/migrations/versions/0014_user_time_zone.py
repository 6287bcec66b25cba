"""per-user time zone: ``users.time_zone`` overrides ``site.time_zone`` for that user

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02 18:00:00

``users.time_zone`` is an IANA zone name (``Europe/Paris``), or NULL for the site's operator
zone (every account before this revision). The web pages read typed times and show times in
it for that user (``retrouve users tz NAME ZONE``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
