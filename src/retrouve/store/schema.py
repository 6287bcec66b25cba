"""Database schema (SQLAlchemy Core). Alembic migrations in ``migrations/`` create it.

Times are stored as naive UTC in ``UTCDateTime`` columns (portable between SQLite and
PostgreSQL; comparisons and indexes work the same), and come back timezone-aware in UTC.

Sized for one case of 400 h of footage (~1 M tracks): every search filter has an index that
starts with its most selective column (camera+time, object+time, attribute name+value).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from retrouve.domain import CaseStatus, LegalBasis, RecordingStatus, Role, RunStatus, UnitStatus


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetime in, naive UTC stored, aware UTC out. Naive input is refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored: add a zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


def one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    """CHECK that ``column`` holds one of the enum's values (named ``ck_<table>_<column>``).

    Migration 0004 adds these to existing databases with its own frozen copy of the values;
    a later change to an enum needs a migration too.
    """
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)

cameras = Table(
    "cameras",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("address", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

recordings = Table(
    "recordings",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("camera_id", String(128), ForeignKey("cameras.id"), nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("start_utc", UTCDateTime, nullable=False),
    Column("end_utc", UTCDateTime, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("fps", Float, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("codec", String(32), nullable=False),
    Column("frame_count", Integer),
    Column("is_image", Boolean, nullable=False, default=False),
    # pending → analysing → done | failed; "partial" when some units failed, the decodable
    # content ends early or only part was analysed; "changed" when the file no longer
    # matches its ingest stamp (migration 0009).
    Column("status", String(16), nullable=False, default="pending"),
    Column("error", Text),
    Column("ingested_at", UTCDateTime, nullable=False),
    # Whether Retrouve owns the file (copied into the data folder: the purge deletes it) or
    # only registered it in place (an NVR share: ``retention.unowned_files`` decides);
    # migration 0009.
    Column("owned", Boolean, nullable=False, default=False, server_default="0"),
    # The cheap integrity stamp re-checked before each analysis (``catalogue/integrity.py``):
    # modification time (ns since the epoch) and the SHA-256 of sampled blocks; NULL for
    # recordings ingested before migration 0009 (their first check is a full SHA-256).
    Column("mtime_ns", BigInteger),
    Column("sample_sha256", String(64)),
    # Where the decodable content ends (recording seconds) when it ends before
    # ``duration_s`` (a truncated file: status "partial"); NULL otherwise. Migration 0009.
    Column("analysed_until_s", Float),
    UniqueConstraint("camera_id", "sha256"),
    one_of("status", RecordingStatus),
    Index("ix_recordings_camera_start", "camera_id", "start_utc"),
    Index("ix_recordings_status", "status"),
)

analysis_runs = Table(
    "analysis_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(16), nullable=False),
    Column("settings_json", Text, nullable=False),
    Column("models_json", Text, nullable=False),
    Column("software_version", String(32), nullable=False),
    # The driver process (``retrouve analyse``) of the run, and when the run counts as gone
    # unless its heartbeat renews it (aware UTC); NULL for runs stored before 0015.
    Column("host", String(255)),
    Column("pid", Integer),
    Column("lease_until", UTCDateTime),
    # running → done | done-with-errors | interrupted
    one_of("status", RunStatus),
)

work_units = Table(
    "work_units",
    metadata,
    Column("id", String(200), primary_key=True),
    Column(
        "recording_id", String(160), ForeignKey("recordings.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("t0", Float, nullable=False),
    Column("t1", Float, nullable=False),
    # pending | done | failed
    Column("status", String(16), nullable=False, default="pending"),
    Column("error", Text),
    Column("run_id", Integer, ForeignKey("analysis_runs.id")),
    Column("attempts", Integer, nullable=False, default=0),
    Column("finished_at", UTCDateTime),
    Column("stats_json", Text),
    # Recording seconds where decoding stopped (``t1`` when the unit reached its end, less
    # when the stream ended first); NULL for units stored before migration 0009.
    Column("decoded_until_s", Float),
    # The run holding this pending unit (``store/claims.py``), and when its claim lapses
    # unless renewed (aware UTC): another run may take the unit over after that. NULL: not
    # claimed; both cleared when the unit is done or failed.
    Column("claimed_by", Integer, ForeignKey("analysis_runs.id")),
    Column("lease_until", UTCDateTime),
    Index("ix_work_units_recording", "recording_id", "status"),
    Index("ix_work_units_claimed_by", "claimed_by"),
    one_of("status", UnitStatus),
)

tracks = Table(
    "tracks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "recording_id", String(160), ForeignKey("recordings.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Denormalised from the recording so camera+time filters need no join.
    Column("camera_id", String(128), nullable=False),
    Column("unit_id", String(200), nullable=False),
    Column("run_id", Integer, ForeignKey("analysis_runs.id"), nullable=False),
    Column("local_id", Integer, nullable=False),
    Column("object", String(32), nullable=False),
    Column("object_conf", Float, nullable=False),
    Column("start_utc", UTCDateTime, nullable=False),
    Column("end_utc", UTCDateTime, nullable=False),
    Column("t_start", Float, nullable=False),
    Column("t_end", Float, nullable=False),
    Column("best_t", Float, nullable=False),
    Column("box_x0", Float, nullable=False),
    Column("box_y0", Float, nullable=False),
    Column("box_x1", Float, nullable=False),
    Column("box_y1", Float, nullable=False),
    Column("thumbnail", Text),
    # [[t, x0, y0, x1, y1, conf], ...] at the analysed frames (player overlay, export).
    Column("observations_json", Text, nullable=False),
    # The object this track is a fragment of: the id of the object's earliest fragment
    # (``analysis/objects.py``), the track's own id until its recording is linked; search
    # returns one hit per object (migration 0005).
    Column("object_id", Integer),
    UniqueConstraint("unit_id", "local_id"),
    Index("ix_tracks_camera_start", "camera_id", "start_utc"),
    Index("ix_tracks_object_start", "object", "start_utc"),
    Index("ix_tracks_recording", "recording_id"),
    Index("ix_tracks_object_id", "object_id"),
    # Score floors of broad searches and the maximum confidence per class (migration 0016).
    Index("ix_tracks_object_conf", "object", "object_conf"),
)

#: The longest track of each camera, seconds (``t_end - t_start``; migration 0017). Kept by
#: the database itself — triggers on ``tracks`` insert and update (outside this metadata:
#: row triggers on SQLite, statement triggers with transition tables on PostgreSQL) — so no
#: writer can leave it short; deletes leave it as it was (still an upper bound). A search's
#: time window then bounds ``start_utc`` from below too: a track overlapping ``[a, b]``
#: started after ``a`` minus the camera's longest track (``store/tracks.with_longest``).
track_duration_bounds = Table(
    "track_duration_bounds",
    metadata,
    Column("camera_id", String(128), primary_key=True),
    Column("longest_s", Float, nullable=False),
)

track_attributes = Table(
    "track_attributes",
    metadata,
    Column(
        "track_id", Integer, ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("name", String(32), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("confidence", Float, nullable=False),
    # 1 for the track's best value of this attribute, 2 for the runner-up…
    Column("rank", Integer, nullable=False),
    # ``confidence`` × the track's ``object_conf`` (migration 0016): a bound on the score of
    # any search asking for this value, so that a score floor is one range of
    # ``ix_track_attributes_weighted`` (``store/top_objects.py``). NULL only in rows written
    # by hand; a search then ranks without floors.
    Column("weighted", Float),
    Index("ix_track_attributes_lookup", "name", "value", "confidence", "track_id"),
    Index("ix_track_attributes_weighted", "name", "value", "weighted", "track_id"),
)

#: One consensus licence-plate read per vehicle track (see ``retrouve.plates``).
plate_reads = Table(
    "plate_reads",
    metadata,
    Column(
        "track_id", Integer, ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    ),
    # Normalised read: uppercase letters and digits only, no separators.
    Column("text", String(16), nullable=False),
    # The read folded onto OCR-confusion classes (O/D/Q→0, I/L→1…): SQL prefilter for
    # confusion-tolerant plate search; the exact edit cost is ranked in Python.
    Column("folded", String(16), nullable=False),
    # The runner-up reads, folded, as ``|ALT1|ALT2|`` (``|`` when none): the SQL prefilter
    # also finds a track whose right plate is only a runner-up (migration 0003).
    Column("folded_alts", Text, nullable=False, server_default="|"),
    Column("confidence", Float, nullable=False),
    # Grammar the read fits best (``fr-siv``, ``fr-fni``…) or NULL when none fits.
    Column("grammar", String(16)),
    # [[char, confidence], ...] of the consensus read.
    Column("chars_json", Text, nullable=False),
    # [[text, score], ...]: the runner-up reads, best first.
    Column("alternatives_json", Text, nullable=False),
    # How many frames of the track contributed a read.
    Column("reads", Integer, nullable=False),
    # Recording seconds and original-frame pixels of the plate on its best read.
    Column("best_t", Float, nullable=False),
    Column("box_x0", Float),
    Column("box_y0", Float),
    Column("box_x1", Float),
    Column("box_y1", Float),
    Index("ix_plate_reads_folded", "folded"),
    # Plus, outside this metadata (migrations 0011 and 0016): trigram indexes of ``folded``
    # and ``folded_alts`` for plate patterns — GIN ``pg_trgm`` on PostgreSQL, the FTS5 table
    # ``plate_reads_trigram`` and its triggers on SQLite (``store/plate_filter.py``).
)

#: Appearance vectors per track, for "find similar" (float32 little-endian, L2-normalised).
track_vectors = Table(
    "track_vectors",
    metadata,
    Column(
        "track_id", Integer, ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    ),
    # ``builtin-colour`` for the built-in body-region histograms; a pack name otherwise.
    Column("kind", String(64), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Index("ix_track_vectors_kind", "kind", "track_id"),
)

#: Operator accounts of the web application. Passwords are argon2 hashes.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    # admin | supervisor | operator | auditor (auditor: migration 0005).
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    # IANA zone overriding site.time_zone for this user; NULL: the site's (migration 0014).
    Column("time_zone", String(64), nullable=True),
    one_of("role", Role),
)

#: API tokens for scripts. Only the SHA-256 of a token is stored; the token is shown once.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)


#: Cases: one judicial requisition each (``retrouve.legal.cases`` holds the rules).
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    Column("basis", String(16), nullable=False),
    # 77-1-1 only: who authorised the requisition (the prosecutor) and how.
    Column("prosecutor_authorisation", Text),
    Column("procedure_number", String(64), nullable=False),
    # OPJ or magistrate, their service and a contact.
    Column("authority", Text, nullable=False),
    Column("authority_service", Text, nullable=False),
    Column("authority_contact", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime),
    Column("purpose", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    one_of("basis", LegalBasis),
    one_of("status", CaseStatus),
)

#: The scope of a case: (camera, wall-clock window) rows, in force from their approval.
case_windows = Table(
    "case_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("camera_id", String(128), nullable=False),
    Column("start_utc", UTCDateTime, nullable=False),
    Column("end_utc", UTCDateTime, nullable=False),
    Index("ix_case_windows_case", "case_id", "camera_id"),
)

#: Who works in a case (user names: the CLI's local user may have no account).
case_assignments = Table(
    "case_assignments",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("user_name", String(64), primary_key=True),
    Column("assigned_by", String(64), nullable=False),
    Column("assigned_at", UTCDateTime, nullable=False),
)

#: Amendments: a proposed new scope (and reason); a widening waits for a second approver.
case_amendments = Table(
    "case_amendments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    # [[camera, start iso, end iso], ...]: the whole scope after the amendment.
    Column("scope_json", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("widens", Boolean, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    # pending | applied | (a widening) approved, then applied
    Column("state", String(16), nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", UTCDateTime),
    CheckConstraint("state IN ('pending', 'applied')", name="state"),
)

#: Marks on results inside a case: every mark is kept (history); the newest per (case, track)
#: is the one in force.
case_marks = Table(
    "case_marks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("track_id", Integer, nullable=False),
    Column("mark", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("by_user", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    CheckConstraint("mark IN ('relevant', 'not_relevant')", name="mark"),
    Index("ix_case_marks_case_track", "case_id", "track_id", "id"),
)

#: The journal: append-only, hash-chained entries (``retrouve.legal.journal``).
journal_entries = Table(
    "journal_entries",
    metadata,
    # 1, 2, 3…: contiguous; the chain's order.
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("case_ref", String(64)),
    Column("action", String(48), nullable=False),
    Column("objects_json", Text, nullable=False),
    Column("details_json", Text, nullable=False),
    # SHA-256 (hex) of the canonical content; of the previous entry's hash + this digest.
    Column("digest", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_journal_entries_case", "case_ref", "seq"),
)

#: Signed checkpoints: the chain's head at ``entry_seq``, signed with the installation's key.
journal_checkpoints = Table(
    "journal_checkpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("entry_seq", BigInteger, nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("key_id", String(64), nullable=False),
    # Ed25519 signature (hex) over the checkpoint's canonical form.
    Column("signature", String(128), nullable=False),
)


#: Signed purge certificates (``retrouve.legal.retention``): what was destroyed, when, why.
#: Append-only; the register of recordings and destruction dates (CSI R252-11) reads them.
purge_certificates = Table(
    "purge_certificates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("recording_id", String(160), nullable=False),
    Column("camera_id", String(128), nullable=False),
    Column("rule", String(32), nullable=False),
    # The certificate's canonical JSON and its Ed25519 signature (hex) by ``key_id``.
    Column("body_json", Text, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Index("ix_purge_certificates_at", "at"),
)

#: Evidence exports (``retrouve.legal.exports``): the request (what, as JSON), its approval
#: and the bundle produced. ``approved_by`` stays NULL when the site policy needs no approval.
exports = Table(
    "exports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", UTCDateTime),
    Column("state", String(16), nullable=False),
    Column("bundle_path", Text),
    Column("bundle_sha256", String(64)),
    CheckConstraint("state IN ('requested', 'approved', 'produced', 'refused')",
                    name="state"),
    Index("ix_exports_case", "case_id", "id"),
)

# Web sessions and the login limiter, shared by every process of ``retrouve serve --workers
# N`` (see ``web/auth.py``). Times are the web clock's seconds (wall clock, epoch seconds: the
# same on every process and machine), not datetimes: the lifetimes are arithmetic on them.
web_sessions = Table(
    "web_sessions",
    metadata,
    # SHA-256 (hex) of the cookie's value: a copy of the table does not hand out sessions.
    Column("key_sha256", String(64), primary_key=True),
    Column("csrf_token", String(64), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    # user_id IS NULL, as a column so that eviction "least recently used of its kind" is an
    # index range.
    Column("anonymous", Boolean, nullable=False),
    Column("created", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("logged_in_at", UTCDateTime),
    # The judicial case the user works under in this session (a case reference), if any.
    Column("active_case", String(64)),
    Index("ix_web_sessions_kind_seen", "anonymous", "last_seen"),
    Index("ix_web_sessions_user", "user_id"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # What the attempt is charged to: ``user:<casefolded name>``, ``addr:<address>``…
    Column("key", String(320), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_login_attempts_key_at", "key", "at"),
    Index("ix_login_attempts_at", "at"),
)
