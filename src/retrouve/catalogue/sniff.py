"""What a file is by its first bytes, and a still's pixel size from its header alone.

The probe asks here before PyAV opens anything: the file's *content* decides whether it is a
still (a video named ``.jpg`` is a video, a JPEG named ``.mp4`` a still), and a still's
width × height is read from its header (PNG ``IHDR``, JPEG ``SOFn``, GIF, BMP, WebP) so that a
decompression bomb is refused in microseconds instead of being decoded (a 16000 × 16000 PNG
took 84 s and 1.3 GB).

Pure byte parsing; reads at most a few hundred KiB of the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

#: JPEG start-of-frame markers (baseline, progressive, lossless…; not DHT C4, JPG C8, DAC CC).
_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: Most JPEG marker segments walked before giving up on finding the frame header.
_MAX_JPEG_SEGMENTS: Final = 512


@dataclass(frozen=True)
class StillHeader:
    """A still image's format (``png``, ``jpeg``, ``gif``, ``bmp``, ``webp``) and pixel size
    (``0`` when the header does not say)."""

    kind: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def sniff_still(path: Path) -> StillHeader | None:
    """The still-image header of ``path``, or ``None`` when its bytes are not a still."""
    with path.open("rb") as f:
        head = f.read(64)
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            w, h = struct.unpack(">II", head[16:24]) if len(head) >= 24 else (0, 0)
            return StillHeader("png", w, h)
        if head.startswith(b"\xff\xd8\xff"):
            w, h = _jpeg_size(f)
            return StillHeader("jpeg", w, h)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            w, h = struct.unpack("<HH", head[6:10])
            return StillHeader("gif", w, h)
        if head.startswith(b"BM") and len(head) >= 26:
            w, h = struct.unpack("<ii", head[18:26])
            return StillHeader("bmp", abs(w), abs(h))
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            w, h = _webp_size(head)
            return StillHeader("webp", w, h)
    return None


def _jpeg_size(f: BinaryIO) -> tuple[int, int]:
    """Walk the marker segments from the start to the first SOFn (EXIF thumbnails live in
    APP1, which is skipped whole, so their own SOF is never taken for the image's)."""
    f.seek(2)
    for _ in range(_MAX_JPEG_SEGMENTS):
        byte = f.read(1)
        while byte == b"\xff":  # fill bytes before a marker
            byte = f.read(1)
        if not byte:
            return 0, 0
        marker = byte[0]
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers: no length
            continue
        raw = f.read(2)
        if len(raw) < 2:
            return 0, 0
        length = struct.unpack(">H", raw)[0]
        if marker in _SOF:
            body = f.read(5)
            if len(body) < 5:
                return 0, 0
            h, w = struct.unpack(">HH", body[1:5])
            return w, h
        if marker == 0xDA:  # start of scan before any frame header: malformed
            return 0, 0
        f.seek(length - 2, 1)
        if f.read(1) != b"\xff":
            return 0, 0
        f.seek(-1, 1)
    return 0, 0


def _webp_size(head: bytes) -> tuple[int, int]:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    if chunk == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(head) >= 30:
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return 0, 0
