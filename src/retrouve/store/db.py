"""The store: the only code that talks to the database (SQLAlchemy Core) and the blob folder.

SQLite is the default (WAL journal, foreign keys on, busy timeout so a reader never fails
while the analysis writes); PostgreSQL works by changing ``database_url`` (extra
``postgres``). All datetimes in and out are timezone-aware.

:class:`Store` is one facade over parts, one concern each, sharing one engine:

* :mod:`.recordings` — cameras, recordings and their analysis status;
* :mod:`.work` — analysis runs, work units, progress;
* :mod:`.tracks` — saving a unit's tracks, search, details, vectors, thumbnails;
* :mod:`.accounts` — users and API tokens;
* :mod:`.cases` — cases (requisitions): scope windows, assignments, amendments;
* :mod:`.journal` — the journal's entries and signed checkpoints;
* :mod:`.retention` — the retention snapshot, the purge of a recording, purge certificates.
* :mod:`.marks` — per-result marks inside a case (relevant / not relevant, note);
* :mod:`.exports` — evidence export requests, approvals and bundles;
* :mod:`.claims` — work-unit claims with leases (several analysis drivers per store) and
  the recovery of what a dead driver left;
* :mod:`.web_sessions`, :mod:`.login_attempts` — the web server's sessions and login
  limiter, shared by its processes.

``Store.transaction(what)`` yields a :class:`~retrouve.store.base.Tx` for writes that must
commit together (an action and its journal entry).

Records are in :mod:`.records`; SQLAlchemy errors leave as ``StoreError`` (:mod:`.base`). A
new part (cases, journal…) is one more mixin here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

from retrouve.errors import MissingExtraError, StoreError
from retrouve.store.accounts import AccountsPart
from retrouve.store.blobs import BlobStore
from retrouve.store.cases import CasesPart
from retrouve.store.claims import ClaimsPart
from retrouve.store.exports import ExportsPart
from retrouve.store.journal import JournalPart
from retrouve.store.login_attempts import LoginAttemptsPart
from retrouve.store.marks import MarksPart
from retrouve.store.migrate import upgrade
from retrouve.store.recordings import RecordingsPart
from retrouve.store.records import (
    AnalysedSpan,
    AnalysisRun,
    AttributeFilter,
    RecordingEntry,
    TrackDetail,
    TrackFilter,
    TrackRow,
    TrackSpan,
    TrackTimes,
    UnitFailure,
    UnitProgress,
    UserRecord,
)
from retrouve.store.retention import RetentionPart
from retrouve.store.tracks import TracksPart
from retrouve.store.web_sessions import WebSessionsPart
from retrouve.store.work import WorkPart

# The records were first defined here; callers import them from either module.
__all__ = [
    "AnalysedSpan",
    "AnalysisRun",
    "AttributeFilter",
    "RecordingEntry",
    "Store",
    "TrackDetail",
    "TrackFilter",
    "TrackRow",
    "TrackSpan",
    "TrackTimes",
    "UnitFailure",
    "UnitProgress",
    "UserRecord",
]


#: Bytes of the SQLite file a connection reads through a memory map (clamped to the build's
#: ``SQLITE_MAX_MMAP_SIZE``, 2 GiB in Debian's and Python's): reads then copy no page through
#: ``read()``. A search's lookups of tracks by id touch pages all over the file; read
#: through the 2 MB page cache, two thirds of their time was system time. Measured on the
#: 1 M index: a count reading 172 k attribute rows took 1.15 s, 0.6 s mapped
#: (benchmarks/README.md, "Where a search's CPU went").
SQLITE_MMAP_BYTES = 1 << 34


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Store(RecordingsPart, WorkPart, TracksPart, AccountsPart, CasesPart, JournalPart,
            RetentionPart, MarksPart, ExportsPart, ClaimsPart, WebSessionsPart,
            LoginAttemptsPart):
    """Metadata in the database, files in the blob folder. Opening migrates to the newest
    schema."""

    def __init__(self, url: str, blob_dir: Path) -> None:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = create_engine(url, future=True)
        except (ModuleNotFoundError, NoSuchModuleError) as exc:
            if url.startswith("postgres"):
                raise MissingExtraError("postgres", "a PostgreSQL database_url") from exc
            raise StoreError(f"cannot open database {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.blobs = BlobStore(blob_dir)
        try:
            upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate database {self.engine.url}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()
