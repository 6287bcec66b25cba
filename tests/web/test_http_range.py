"""HTTP byte ranges: Range parsing, chunked file ranges, 200/206/416 replies."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.testclient import TestClient

from retrouve.errors import RangeNotSatisfiable
from retrouve.web.http_range import (
    ByteRange,
    file_response,
    iter_file_range,
    parse_range,
)


# ---------------------------------------------------------------------------- ranges
@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 1000, None),
        ("bytes=0-499", 1000, (0, 499)),
        ("bytes=500-999", 1000, (500, 999)),
        ("bytes=500-", 1000, (500, 999)),
        ("bytes=900-5000", 1000, (900, 999)),  # end clamped to the last byte
        ("bytes=-100", 1000, (900, 999)),
        ("bytes=-5000", 1000, (0, 999)),  # suffix longer than the file: all of it
        ("bytes=0-0", 1000, (0, 0)),
        ("bytes=999-999", 1000, (999, 999)),
        ("Bytes = 10 - 19", 1000, (10, 19)),  # case and spaces tolerated
        ("bytes=0-9, 20-29", 1000, (0, 9)),  # multi-range: the first range only
        ("bytes=0-", 1, (0, 0)),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    got = parse_range(header, size)
    assert (None if got is None else (got.start, got.end)) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=1000-", 1000),  # starts at the end
        ("bytes=1000-1001", 1000),
        ("bytes=5-2", 1000),  # backwards
        ("bytes=-0", 1000),
        ("bytes=-", 1000),
        ("bytes=a-b", 1000),
        ("bytes=0-1-2", 1000),
        ("bytes 0-10", 1000),  # no '='
        ("items=0-10", 1000),  # other unit
        ("", 1000),
        ("bytes=0-", 0),  # empty file: nothing is satisfiable
        ("bytes=-10", 0),
    ],
)
def test_parse_range_refuses(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        parse_range(header, size)
    assert info.value.size == size


def test_byte_range_headers() -> None:
    r = ByteRange(100, 199)
    assert r.length == 100
    assert r.content_range(1000) == "bytes 100-199/1000"


def test_iter_file_range_exact_bytes_in_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40  # 10240 bytes
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    chunks = list(iter_file_range(path, 1000, 5999, chunk=1024))
    assert b"".join(chunks) == data[1000:6000]
    assert max(len(c) for c in chunks) <= 1024 and len(chunks) == 5
    assert b"".join(iter_file_range(path, 0, 0)) == data[:1]
    # A file cut while served: the stream ends short instead of failing.
    assert b"".join(iter_file_range(path, 10000, 20000)) == data[10000:]




@pytest.mark.parametrize(
    ("header", "status", "content_range", "body"),
    [
        (None, 200, None, slice(0, 1000)),
        ("bytes=100-199", 206, "bytes 100-199/1000", slice(100, 200)),
        ("bytes=-10", 206, "bytes 990-999/1000", slice(990, 1000)),
        ("bytes=1000-", 416, "bytes */1000", slice(0, 0)),
        ("items=0-1", 416, "bytes */1000", slice(0, 0)),
    ],
)
def test_file_response_status_headers_and_body(
    tmp_path: Path, header: str | None, status: int, content_range: str | None, body: slice
) -> None:
    data = bytes(range(250)) * 4
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    app = FastAPI()

    @app.get("/f")
    def serve() -> Response:
        return file_response(str(path), "video/mp4", len(data), header, {"X-Test": "1"})

    got = TestClient(app).get("/f")
    assert got.status_code == status
    assert got.headers["accept-ranges"] == "bytes" and got.headers["x-test"] == "1"
    assert got.headers.get("content-range") == content_range
    assert got.content == data[body]
