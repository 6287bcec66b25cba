"""SHA-256 of files, read in pieces: footage (evidence integrity) and model packs (checksums)."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Bytes read at a time: large enough for speed, small enough for multi-GB recordings.
CHUNK = 1 << 20


def sha256_file(path: Path, chunk: int = CHUNK) -> str:
    """Lowercase hex SHA-256 of the file at ``path``."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
