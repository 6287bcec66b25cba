"""the longest track of each camera, kept by triggers: a lower bound on starts for windows

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:00:00

``track_duration_bounds (camera_id, longest_s)``: the longest ``t_end - t_start`` of the
camera's tracks, filled here from the stored tracks and kept by triggers on ``tracks``
(insert, and update of the camera or times) on both databases. A track overlaps a window
``[a, b]`` when it ends after ``a`` and starts before ``b``; only the second is a range of
``ix_tracks_camera_start``, so a camera + two-hour search read every track of the camera
that started before ``b`` — its whole history before the window. With the bound the start is
also after ``a`` minus the longest track: one short range of the index
(``store/tracks.with_longest``, which says when it is used). Deletes leave the bound as it
was: still an upper bound.

SQLite: row triggers with an upsert. PostgreSQL: statement triggers reading the transition
table (one upsert per statement and camera, also for the bulk writer's ``COPY``), cameras in
order, so that two writers of several cameras lock their rows in the same order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_T = "track_duration_bounds"
_UPSERT_SQLITE = (
    f"INSERT INTO {_T} (camera_id, longest_s) VALUES (new.camera_id, new.t_end - new.t_start) "
    f"ON CONFLICT (camera_id) DO UPDATE SET longest_s = max(longest_s, excluded.longest_s)"
)
_SQLITE_UP = (
    f"CREATE TRIGGER {_T}_ai AFTER INSERT ON tracks BEGIN {_UPSERT_SQLITE}; END",
    f"CREATE TRIGGER {_T}_au AFTER UPDATE OF camera_id, t_start, t_end ON tracks "
    f"BEGIN {_UPSERT_SQLITE}; END",
)
_PG_FUNCTION = f"""
CREATE FUNCTION {_T}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {_T} (camera_id, longest_s)
    SELECT camera_id, max(t_end - t_start) FROM changed GROUP BY camera_id ORDER BY camera_id
    ON CONFLICT (camera_id) DO UPDATE
        SET longest_s = greatest({_T}.longest_s, excluded.longest_s);
    RETURN NULL;
END
$$"""
_PG_UP = (
    _PG_FUNCTION,
    f"CREATE TRIGGER {_T}_ai AFTER INSERT ON tracks REFERENCING NEW TABLE AS changed "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {_T}_keep()",
    # A column list is not allowed with a transition table: every update of tracks.
    f"CREATE TRIGGER {_T}_au AFTER UPDATE ON tracks REFERENCING NEW TABLE AS changed "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {_T}_keep()",
)


def upgrade() -> None:
    op.create_table(
        _T,
        sa.Column("camera_id", sa.String(128), nullable=False),
        sa.Column("longest_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name=op.f(f"pk_{_T}")),
    )
    op.execute(f"INSERT INTO {_T} (camera_id, longest_s) "
               "SELECT camera_id, max(t_end - t_start) FROM tracks GROUP BY camera_id")
    for statement in _SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _PG_UP:
        op.execute(statement)


def downgrade() -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {_T}_ai" + ("" if _sqlite() else " ON tracks"))
    op.execute(f"DROP TRIGGER IF EXISTS {_T}_au" + ("" if _sqlite() else " ON tracks"))
    if not _sqlite():
        op.execute(f"DROP FUNCTION IF EXISTS {_T}_keep()")
    op.drop_table(_T)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"
