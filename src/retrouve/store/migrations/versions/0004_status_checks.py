"""CHECK constraints on statuses and roles (recordings, analysis runs, work units, users)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:30:00

SQLite cannot add a constraint to a table, so batch mode copies each table (``env.py`` turns
foreign keys off around the migration, as SQLite's table-rebuild procedure requires: dropping
``recordings`` or ``users`` with foreign keys on would cascade to their tracks and tokens).
PostgreSQL adds the constraints in place and checks the existing rows.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen copy of the value sets at this revision (a migration must not change when the
# application's enums do): table, column, allowed values.
_CHECKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("recordings", "status", ("pending", "analysing", "done", "partial", "failed")),
    ("analysis_runs", "status", ("running", "done", "done-with-errors", "interrupted")),
    ("work_units", "status", ("pending", "done", "failed")),
    ("users", "role", ("admin", "supervisor", "operator")),
)


def upgrade() -> None:
    for table, column, values in _CHECKS:
        allowed = ", ".join(f"'{v}'" for v in values)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"),
                                             f"{column} IN ({allowed})")


def downgrade() -> None:
    for table, column, _ in reversed(_CHECKS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
