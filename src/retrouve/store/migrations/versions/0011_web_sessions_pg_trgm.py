"""web sessions and login attempts in the database (several server processes share them);
on PostgreSQL, trigram indexes for plate patterns

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 16:40:00

Sessions used to live in process memory: nothing to carry over (everyone logs in again, as
after any restart).

PostgreSQL only: ``pg_trgm`` (shipped with PostgreSQL's contrib, a *trusted* extension: the
database owner may create it) and GIN trigram indexes on ``plate_reads.folded`` and
``folded_alts``, so that the plate search's ``LIKE '%AB_12%'`` uses an index instead of
reading every plate. SQLite has no such index; it scans ``plate_reads``, which is small next
to ``tracks``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("logged_in_at", sa.DateTime(), nullable=True),
        sa.Column("active_case", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("key_sha256", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_kind_seen", "web_sessions", ["anonymous", "last_seen"])
    op.create_index("ix_web_sessions_user", "web_sessions", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_key_at", "login_attempts", ["key", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    if _postgres():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in ("folded", "folded_alts"):
            op.execute(f"CREATE INDEX ix_plate_reads_{column}_trgm ON plate_reads "
                       f"USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if _postgres():
        for column in ("folded", "folded_alts"):
            op.execute(f"DROP INDEX IF EXISTS ix_plate_reads_{column}_trgm")
        # The extension stays: other databases' objects or the site's own may use it.
    op.drop_index("ix_login_attempts_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_key_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index("ix_web_sessions_user", table_name="web_sessions")
    op.drop_index("ix_web_sessions_kind_seen", table_name="web_sessions")
    op.drop_table("web_sessions")
