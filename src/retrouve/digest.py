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


#: Blocks read by :func:`sample_sha256`, and their size: 16 × 64 KiB = 1 MiB per check,
#: whatever the file's size (a 4 GB recording is checked in milliseconds).
SAMPLE_BLOCKS = 16
SAMPLE_BLOCK = 64 * 1024


def sample_offsets(size: int, blocks: int = SAMPLE_BLOCKS, block: int = SAMPLE_BLOCK
                   ) -> list[int]:
    """Byte offsets of the sampled blocks of a ``size``-byte file: evenly spaced from the
    first block to the last one (both always included: headers and an appended tail)."""
    if size <= blocks * block:
        return [0]  # small file: one read covers it whole
    last = size - block
    return [round(i * last / (blocks - 1)) for i in range(blocks)]


def sample_sha256(path: Path, blocks: int = SAMPLE_BLOCKS, block: int = SAMPLE_BLOCK) -> str:
    """Lowercase hex SHA-256 of the file's size and of ``blocks`` blocks of ``block`` bytes at
    :func:`sample_offsets` (the whole file when it is small). A cheap tamper check, not proof:
    a change between the blocks is only caught by :func:`sha256_file`."""
    size = path.stat().st_size
    h = hashlib.sha256(f"{size}:".encode())
    with path.open("rb") as f:
        for offset in sample_offsets(size, blocks, block):
            f.seek(offset)
            h.update(f.read(block if size > blocks * block else size))
    return h.hexdigest()
