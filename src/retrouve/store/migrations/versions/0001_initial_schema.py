"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:31:19.445681
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import retrouve.store.schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", retrouve.store.schema.UTCDateTime(), nullable=False),
        sa.Column("finished_at", retrouve.store.schema.UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("models_json", sa.Text(), nullable=False),
        sa.Column("software_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_runs")),
    )
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("created_at", retrouve.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("camera_id", sa.String(length=128), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("start_utc", retrouve.store.schema.UTCDateTime(), nullable=False),
        sa.Column("end_utc", retrouve.store.schema.UTCDateTime(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("codec", sa.String(length=32), nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=True),
        sa.Column("is_image", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("ingested_at", retrouve.store.schema.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_recordings_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("camera_id", "sha256", name=op.f("uq_recordings_camera_id_sha256")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recordings_camera_start", ["camera_id", "start_utc"], unique=False
        )
        batch_op.create_index("ix_recordings_status", ["status"], unique=False)

    op.create_table(
        "tracks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.String(length=160), nullable=False),
        sa.Column("camera_id", sa.String(length=128), nullable=False),
        sa.Column("unit_id", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("object", sa.String(length=32), nullable=False),
        sa.Column("object_conf", sa.Float(), nullable=False),
        sa.Column("start_utc", retrouve.store.schema.UTCDateTime(), nullable=False),
        sa.Column("end_utc", retrouve.store.schema.UTCDateTime(), nullable=False),
        sa.Column("t_start", sa.Float(), nullable=False),
        sa.Column("t_end", sa.Float(), nullable=False),
        sa.Column("best_t", sa.Float(), nullable=False),
        sa.Column("box_x0", sa.Float(), nullable=False),
        sa.Column("box_y0", sa.Float(), nullable=False),
        sa.Column("box_x1", sa.Float(), nullable=False),
        sa.Column("box_y1", sa.Float(), nullable=False),
        sa.Column("thumbnail", sa.Text(), nullable=True),
        sa.Column("observations_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_tracks_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["analysis_runs.id"], name=op.f("fk_tracks_run_id_analysis_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
        sa.UniqueConstraint("unit_id", "local_id", name=op.f("uq_tracks_unit_id_local_id")),
    )
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.create_index("ix_tracks_camera_start", ["camera_id", "start_utc"], unique=False)
        batch_op.create_index("ix_tracks_object_start", ["object", "start_utc"], unique=False)
        batch_op.create_index("ix_tracks_recording", ["recording_id"], unique=False)

    op.create_table(
        "work_units",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("recording_id", sa.String(length=160), nullable=False),
        sa.Column("t0", sa.Float(), nullable=False),
        sa.Column("t1", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", retrouve.store.schema.UTCDateTime(), nullable=True),
        sa.Column("stats_json", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_work_units_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["analysis_runs.id"], name=op.f("fk_work_units_run_id_analysis_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_units")),
    )
    with op.batch_alter_table("work_units", schema=None) as batch_op:
        batch_op.create_index("ix_work_units_recording", ["recording_id", "status"], unique=False)

    op.create_table(
        "track_attributes",
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["tracks.id"],
            name=op.f("fk_track_attributes_track_id_tracks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("track_id", "name", "value", name=op.f("pk_track_attributes")),
    )
    with op.batch_alter_table("track_attributes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_track_attributes_lookup", ["name", "value", "confidence", "track_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("track_attributes", schema=None) as batch_op:
        batch_op.drop_index("ix_track_attributes_lookup")

    op.drop_table("track_attributes")
    with op.batch_alter_table("work_units", schema=None) as batch_op:
        batch_op.drop_index("ix_work_units_recording")

    op.drop_table("work_units")
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.drop_index("ix_tracks_recording")
        batch_op.drop_index("ix_tracks_object_start")
        batch_op.drop_index("ix_tracks_camera_start")

    op.drop_table("tracks")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_status")
        batch_op.drop_index("ix_recordings_camera_start")

    op.drop_table("recordings")
    op.drop_table("cameras")
    op.drop_table("analysis_runs")
