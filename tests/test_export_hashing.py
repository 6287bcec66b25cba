"""The original recording is re-hashed in full; a changed file refuses the export."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from retrouve.digest import sha256_file
from retrouve.domain import Recording
from retrouve.errors import SourceChanged
from retrouve.export.hashing import verify_source


def test_changed_source_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "cam.mp4"
    f.write_bytes(b"x" * 3_000_000)
    digest = hashlib.sha256(f.read_bytes()).hexdigest()
    assert sha256_file(f) == digest
    rec = Recording("r1", "cam", str(f), digest, 3_000_000,
                    datetime(2026, 1, 4, tzinfo=UTC), 1.0, 10.0, 8, 8, "h264")
    assert verify_source(rec) == digest
    with f.open("r+b") as fh:  # one byte changed, past the first read chunk
        fh.seek(2_500_000)
        fh.write(b"y")
    with pytest.raises(SourceChanged, match=r"cam\.mp4 changed since ingest"):
        verify_source(rec)
    f.unlink()
    with pytest.raises(SourceChanged, match="cannot read"):
        verify_source(rec)
