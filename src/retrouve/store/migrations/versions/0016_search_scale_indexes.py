"""indexes for search at 1 M tracks: object confidence, and a trigram index of plate reads on
SQLite

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 15:00:00

Both databases: ``track_attributes.weighted`` = ``confidence`` × the track's ``object_conf``
(filled here for the stored rows, written by the store for new ones) and
``ix_track_attributes_weighted (name, value, weighted, track_id)``; ``ix_tracks_object_conf``
on ``tracks (object, object_conf)``. The ranking of a broad search is first tried on the
tracks above a score floor (``store/top_objects.py``): ``weighted`` bounds the score of any
search asking for that value, so the floor is one range of the index; the object-confidence
index serves the floor of a search for one class without attributes ("bus") and the indexed
maximum that checks every confidence is at most 1.

SQLite only: ``plate_reads_trigram``, an FTS5 table with the ``trigram`` tokenizer over
``plate_reads.folded`` and ``folded_alts`` (external content: the index only, no copy of the
text), kept current by triggers on ``plate_reads``. A plate pattern's ``LIKE`` prefilter is
answered from it (``store/plate_filter.py``) when each of its patterns holds three literal
characters in a row; before, SQLite tested every pattern on every vehicle track. PostgreSQL
has the same thing since 0011 (``pg_trgm`` GIN indexes on both columns).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: The FTS5 table and its triggers (insert, delete, update of ``plate_reads``).
_FTS = "plate_reads_trigram"
_SQLITE_UP = (
    f"CREATE VIRTUAL TABLE {_FTS} USING fts5(folded, folded_alts, content='plate_reads', "
    "content_rowid='track_id', tokenize='trigram')",
    f"CREATE TRIGGER {_FTS}_ai AFTER INSERT ON plate_reads BEGIN "
    f"INSERT INTO {_FTS}(rowid, folded, folded_alts) "
    "VALUES (new.track_id, new.folded, new.folded_alts); END",
    f"CREATE TRIGGER {_FTS}_ad AFTER DELETE ON plate_reads BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, folded, folded_alts) "
    "VALUES ('delete', old.track_id, old.folded, old.folded_alts); END",
    f"CREATE TRIGGER {_FTS}_au AFTER UPDATE ON plate_reads BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, folded, folded_alts) "
    "VALUES ('delete', old.track_id, old.folded, old.folded_alts); "
    f"INSERT INTO {_FTS}(rowid, folded, folded_alts) "
    "VALUES (new.track_id, new.folded, new.folded_alts); END",
    # Index the reads already stored.
    f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')",
)


def upgrade() -> None:
    op.create_index("ix_tracks_object_conf", "tracks", ["object", "object_conf"])
    op.add_column("track_attributes", sa.Column("weighted", sa.Float(), nullable=True))
    # Every stored attribute row gets its bound (the store writes it for new rows).
    op.execute("UPDATE track_attributes SET weighted = confidence * (SELECT object_conf "
               "FROM tracks WHERE tracks.id = track_attributes.track_id)")
    op.create_index("ix_track_attributes_weighted", "track_attributes",
                    ["name", "value", "weighted", "track_id"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {_FTS}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {_FTS}")
    op.drop_index("ix_track_attributes_weighted", table_name="track_attributes")
    # Plain ALTER on both (SQLite >= 3.35): a batch copy of the table is not needed.
    op.execute("ALTER TABLE track_attributes DROP COLUMN weighted")
    op.drop_index("ix_tracks_object_conf", table_name="tracks")
