"""Is a recording's file still what was ingested? The cheap check before each analysis.

At ingest a recording gets a stamp: its size, modification time (``st_mtime_ns``) and the
SHA-256 of sampled blocks (:func:`retrouve.digest.sample_sha256`), beside the full SHA-256.
Before analysing, :func:`check_footage` compares the file with it:

- size or sampled blocks differ, or the file is gone → :class:`FootageChanged` (never
  analysed under the old hash);
- only the modification time differs (a ``touch``, a copy keeping content) → a full SHA-256
  decides: equal, the new time is recorded; different, :class:`FootageChanged`;
- no stamp yet (ingested before migration 0009) → a full SHA-256 decides, and the stamp is
  recorded.

The full check before an export is :func:`retrouve.export.hashing.verify_source`; both hash
with :mod:`retrouve.digest`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from retrouve.digest import sample_sha256, sha256_file
from retrouve.domain import Recording
from retrouve.errors import FootageChanged

log = logging.getLogger(__name__)

__all__ = ["FileStamp", "check_footage", "stamp_of"]


@dataclass(frozen=True)
class FileStamp:
    """What the cheap check compares: ``size_bytes``, ``mtime_ns`` (ns since the epoch) and
    the hex SHA-256 of the sampled blocks."""

    size_bytes: int
    mtime_ns: int
    sample_sha256: str


def stamp_of(path: Path) -> FileStamp:
    """The stamp of the file at ``path`` now (``OSError`` when it cannot be read)."""
    st = path.stat()
    return FileStamp(st.st_size, st.st_mtime_ns, sample_sha256(path))


def _changed(rec: Recording, why: str) -> FootageChanged:
    return FootageChanged(f"recording {rec.id}: {rec.path} changed since ingest ({why}): "
                          "not analysed, flagged 'changed'; restore the original file, or "
                          "ingest the new one as a new recording")


def check_footage(rec: Recording) -> FileStamp | None:
    """Check ``rec``'s file against its ingest stamp (cheap unless the time alone differs).

    Returns the file's stamp when the store should record it (no stamp yet, or a new
    modification time over unchanged content), None when the file matches as stamped.
    Raises :class:`FootageChanged` naming the file when it differs or cannot be read.
    """
    path = Path(rec.path)
    try:
        now = stamp_of(path)
    except OSError as exc:
        raise _changed(rec, f"cannot read it: {exc.strerror or exc}") from exc
    if now.size_bytes != rec.size_bytes:
        raise _changed(rec, f"{now.size_bytes} bytes now, {rec.size_bytes} at ingest")
    if rec.sample_sha256 is not None and now.sample_sha256 != rec.sample_sha256:
        raise _changed(rec, "sampled blocks differ")
    if rec.sample_sha256 is not None and now.mtime_ns == rec.mtime_ns:
        return None
    # A new modification time over the same sampled blocks, or no stamp yet: only the full
    # hash can tell a touch from an edit between the blocks.
    try:
        full = sha256_file(path)
    except OSError as exc:
        raise _changed(rec, f"cannot read it: {exc.strerror or exc}") from exc
    if full != rec.sha256:
        raise _changed(rec, f"SHA-256 {full[:16]}… now, {rec.sha256[:16]}… at ingest")
    log.info("recording %s: modification time changed, content identical (full SHA-256)",
             rec.id)
    return now
