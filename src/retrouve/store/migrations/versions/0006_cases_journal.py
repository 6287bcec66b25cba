"""cases (requisitions, scope windows, assignments, amendments), the journal and its signed
checkpoints; the auditor role

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:00:00

The users' role CHECK is rebuilt with ``auditor`` (batch mode on SQLite: a table copy, with
foreign keys off around it as ``env.py`` arranges, so tokens are not cascaded away).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen copies of the value sets at this revision.
_ROLES_BEFORE = ("admin", "supervisor", "operator")
_ROLES = ("admin", "supervisor", "operator", "auditor")
_BASES = ("60-1", "77-1-1", "99-3")
_CASE_STATUSES = ("open", "closed", "archived")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _utc() -> sa.DateTime:
    return sa.DateTime()


def _set_roles(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _in("role", values))


def upgrade() -> None:
    _set_roles(_ROLES)
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("prosecutor_authorisation", sa.Text()),
        sa.Column("procedure_number", sa.String(64), nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("authority_service", sa.Text(), nullable=False),
        sa.Column("authority_contact", sa.Text(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("deadline", _utc()),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("closed_at", _utc()),
        sa.CheckConstraint(_in("basis", _BASES), name=op.f("ck_cases_basis")),
        sa.CheckConstraint(_in("status", _CASE_STATUSES), name=op.f("ck_cases_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("ref", name=op.f("uq_cases_ref")),
    )
    op.create_table(
        "case_windows",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(128), nullable=False),
        sa.Column("start_utc", _utc(), nullable=False),
        sa.Column("end_utc", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_case_windows_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_windows")),
    )
    op.create_index("ix_case_windows_case", "case_windows", ["case_id", "camera_id"])
    op.create_table(
        "case_assignments",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("assigned_by", sa.String(64), nullable=False),
        sa.Column("assigned_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_case_assignments_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", "user_name", name=op.f("pk_case_assignments")),
    )
    op.create_table(
        "case_amendments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("scope_json", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("widens", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", _utc(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("approved_at", _utc()),
        sa.CheckConstraint("state IN ('pending', 'applied')",
                           name=op.f("ck_case_amendments_state")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_case_amendments_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_amendments")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("case_ref", sa.String(64)),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("objects_json", sa.Text(), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal_entries")),
    )
    op.create_index("ix_journal_entries_case", "journal_entries", ["case_ref", "seq"])
    op.create_table(
        "journal_checkpoints",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("journal_checkpoints")
    op.drop_index("ix_journal_entries_case", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_table("case_amendments")
    op.drop_table("case_assignments")
    op.drop_index("ix_case_windows_case", table_name="case_windows")
    op.drop_table("case_windows")
    op.drop_table("cases")
    _set_roles(_ROLES_BEFORE)
