"""SHA-256 of files, read in full, and the check that a recording is still what was ingested."""

from __future__ import annotations

from pathlib import Path

from retrouve.digest import sha256_file
from retrouve.domain import Recording
from retrouve.errors import SourceChanged

__all__ = ["verify_source"]


def verify_source(rec: Recording) -> str:
    """Re-hash ``rec``'s file in full; ``SourceChanged`` naming it when it differs from the
    ingest hash or cannot be read. Returns the hash."""
    path = Path(rec.path)
    try:
        now = sha256_file(path)
    except OSError as exc:
        raise SourceChanged(f"recording {rec.id}: cannot read {path}: {exc}") from exc
    if now != rec.sha256:
        raise SourceChanged(f"recording {rec.id}: {path} changed since ingest (SHA-256 "
                            f"{now[:16]}… now, {rec.sha256[:16]}… at ingest): export refused")
    return now
