"""HTTP byte ranges: parse a ``Range`` header, read a file's range in chunks, answer 200/206/416.

Serves any file as-is (footage originals, stills) without ever loading it whole: the reply
streams ``CHUNK_BYTES`` pieces. Single ranges only (see :func:`parse_range`), which is all a
``<video>`` element or a download manager asks for. Positions are **bytes**, ends
**inclusive**, as in HTTP (RFC 9110 §14).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fastapi.responses import Response, StreamingResponse

from retrouve.errors import RangeNotSatisfiable

#: Bytes per chunk read from disk and handed to the HTTP layer.
CHUNK_BYTES: Final = 256 * 1024

_RANGE_RE: Final = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start..end`` of a file, both **inclusive** (HTTP semantics), ``end < size``."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        """The ``Content-Range`` header value for a 206 reply."""
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """Parse an HTTP ``Range`` header against a file of ``size`` bytes.

    ``None`` (no header) means "the whole file, 200". Accepted: ``bytes=a-b`` (``b`` clamped
    to the last byte), ``bytes=a-``, ``bytes=-n`` (last ``n`` bytes, the whole file if
    ``n >= size``). A multi-range request (``bytes=0-9,20-29``) is answered with its **first**
    range only: media elements never send one, and a multipart/byteranges reply would cost
    code nobody uses; the reply's ``Content-Range`` tells the client what it got.
    Raises :class:`RangeNotSatisfiable` for any other unit, bad syntax, ``a > b``, a start at
    or past the end, ``bytes=-0``, or any range of an empty file.
    """
    if header is None:
        return None
    unit, eq, spec = header.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        raise RangeNotSatisfiable(header, size, "only 'bytes=' ranges are served")
    first = spec.split(",", 1)[0]
    m = _RANGE_RE.match(first)
    if m is None or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable(header, size, "malformed range")
    a, b = m.group(1), m.group(2)
    if not a:  # suffix range: the last n bytes
        n = int(b)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(header, size, "empty suffix range")
        return ByteRange(max(0, size - n), size - 1)
    start = int(a)
    end = int(b) if b else size - 1
    if b and end < start:
        raise RangeNotSatisfiable(header, size, "range ends before it starts")
    if start >= size:
        raise RangeNotSatisfiable(header, size, "range starts past the end")
    return ByteRange(start, min(end, size - 1))


def iter_file_range(
    path: Path | str, start: int, end: int, chunk: int = CHUNK_BYTES
) -> Iterator[bytes]:
    """Yield bytes ``start..end`` (inclusive) of ``path`` in chunks of at most ``chunk`` bytes.

    The file is opened lazily (on the first ``next``) and read piecewise, never whole. If the
    file turns out shorter than ``end`` (cut while served), the stream just ends early.
    """
    remaining = end - start + 1
    with open(path, "rb") as fh:
        fh.seek(start)
        while remaining > 0:
            data = fh.read(min(chunk, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


def file_response(
    path: str, media_type: str, size: int, range_header: str | None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Serve ``path`` (``size`` bytes) whole (200) or one byte range (206), read in chunks.

    Every reply says ``Accept-Ranges: bytes`` and carries ``headers``. A bad or
    unsatisfiable ``Range`` gets 416 with ``Content-Range: bytes */size`` and no body.
    """
    base = {"Accept-Ranges": "bytes", **(headers or {})}
    try:
        rng = parse_range(range_header, size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    if rng is None:
        return StreamingResponse(
            iter_file_range(path, 0, size - 1), media_type=media_type,
            headers={**base, "Content-Length": str(size)},
        )
    return StreamingResponse(
        iter_file_range(path, rng.start, rng.end), status_code=206, media_type=media_type,
        headers={**base, "Content-Length": str(rng.length),
                 "Content-Range": rng.content_range(size)},
    )


def bytes_response(
    data: bytes, media_type: str, range_header: str | None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Serve ``data`` (a file built in memory) whole (200) or one byte range (206), with
    the same headers and 416 rule as :func:`file_response`."""
    size = len(data)
    base = {"Accept-Ranges": "bytes", **(headers or {})}
    try:
        rng = parse_range(range_header, size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    if rng is None:
        return Response(data, media_type=media_type, headers=base)
    return Response(
        data[rng.start:rng.end + 1], status_code=206, media_type=media_type,
        headers={**base, "Content-Range": rng.content_range(size)},
    )
