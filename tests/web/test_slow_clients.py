"""Slow clients (issue 12): a request head or body that arrives too slowly gets 408 and its
connection is closed (``web/slow_clients.py``), without breaking keep-alive.

What matters is what the server does on the socket, so these tests start a real ``retrouve
serve`` (one process, and ``--workers 2``: the deadlines must reach the workers) with 1 s
deadlines and talk to it with raw sockets. No timing is asserted tightly: only generous upper
bounds saying that a connection did end, and a pause between keep-alive requests longer than
the head deadline but well inside uvicorn's keep-alive (5 s).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from conftest import make_services
from retrouve.config import Settings
from retrouve.web.factory import SPEC_ENV, spec
from retrouve.web.hosts import SECURITY_HEADERS
from retrouve.web.slow_clients import (
    SlowClientH11Protocol,
    SlowClientLimits,
    limits_from_spec,
    limits_to_spec,
    timeout_response,
)

SRC = Path(__file__).resolve().parents[2] / "src"
#: The deadlines the test server runs with, in seconds.
HEAD_S = 1.0
BODY_S = 1.0
#: "It did end": far above any deadline, so a loaded machine does not fail the test.
ENDED_WITHIN_S = 30.0


@dataclass(frozen=True)
class Server:
    port: int
    log: Path
    workers: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "workers-2"])
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    module_database_url: str | None,
) -> Iterator[Server]:
    """A real ``retrouve serve`` over an empty data folder, 1 s head and body deadlines."""
    workers = int(request.param)
    tmp = tmp_path_factory.mktemp(f"serve{workers}")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETROUVE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env["RETROUVE_WEB__HEAD_TIMEOUT_S"] = str(HEAD_S)
    env["RETROUVE_WEB__BODY_TIMEOUT_S"] = str(BODY_S)
    if module_database_url:
        env["RETROUVE_DATABASE_URL"] = module_database_url
    # The store exists before the server starts (as after `retrouve users add`).
    make_services(
        Settings(
            data_dir=tmp / "data", workers=1, executor="inline", database_url=module_database_url
        )
    ).close()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from retrouve.cli import main; main()",
                "--data-dir",
                str(tmp / "data"),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if len(re.findall(r"Application startup complete", text)) >= workers:
                break
            assert proc.poll() is None, text
            time.sleep(0.2)
        else:
            pytest.fail("the server did not start:\n" + log.read_text(errors="replace"))
        yield Server(port, log, workers)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=ENDED_WITHIN_S)
    return sock


def _read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and the seconds that took."""
    start = time.monotonic()
    reply = b""
    while True:
        try:
            more = sock.recv(65536)
        except ConnectionResetError:
            break
        if not more:
            break
        reply += more
    return reply, time.monotonic() - start


def _read_response(sock: socket.socket) -> bytes:
    """One whole response (head + Content-Length body) off a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, f"closed mid-response: {data!r}"
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    assert match, head
    length = int(match.group(1))
    while len(body) < length:
        more = sock.recv(65536)
        assert more, "closed mid-body"
        body += more
    assert len(body) == length, "more bytes than one response"
    return head + b"\r\n\r\n" + body


def _headers(reply: bytes) -> dict[str, str]:
    head = reply.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head)}


def _assert_408(reply: bytes) -> None:
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:300]
    headers = _headers(reply)
    assert headers["connection"] == "close"
    assert headers["cache-control"] == "no-store"
    assert headers["content-type"] == "application/json"
    for name, value in SECURITY_HEADERS:
        assert headers[name] == value


def _still_serves(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")


GET_LOGIN = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


# ------------------------------------------------------------------------- slow heads
def test_half_a_head_gets_408_and_the_connection_closes(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.")  # ... and nothing more
        reply, seconds = _read_until_closed(sock)
    _assert_408(reply)
    assert b"request head not received in time" in reply
    assert seconds < ENDED_WITHIN_S
    _still_serves(server)


def test_a_head_dribbled_byte_by_byte_still_gets_408(server: Server) -> None:
    """A total deadline, not an inactivity timer: a byte every 0.2 s does not keep it open."""
    head = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 4000
    with _connect(server) as sock:
        sock.settimeout(0.2)
        start = time.monotonic()
        reply = b""
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
                reply += sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if reply or time.monotonic() - start > ENDED_WITHIN_S:
                break
        sock.settimeout(ENDED_WITHIN_S)
        rest, _ = _read_until_closed(sock)
    _assert_408(reply + rest)
    assert time.monotonic() - start < ENDED_WITHIN_S * 2


def test_a_silent_connection_is_closed_without_an_answer(server: Server) -> None:
    with _connect(server) as sock:
        reply, seconds = _read_until_closed(sock)
    assert reply == b""  # no request, nothing to answer
    assert seconds < ENDED_WITHIN_S


# ------------------------------------------------------------------------- slow bodies
def test_a_dribbled_body_gets_408_and_the_connection_closes(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 1000\r\n\r\nusername="
        )
        sock.settimeout(0.2)
        start = time.monotonic()
        reply = b""
        while time.monotonic() - start < ENDED_WITHIN_S:
            try:
                sock.sendall(b"a")
                reply += sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if reply:
                break
        sock.settimeout(ENDED_WITHIN_S)
        rest, _ = _read_until_closed(sock)
    _assert_408(reply + rest)
    assert b"request body not received in time" in reply + rest
    _still_serves(server)
    # The route waiting on the body was told the client left: no 500, no traceback.
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log


def test_a_body_that_stops_coming_gets_408(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/analysis HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ids"'
        )
        reply, seconds = _read_until_closed(sock)
    _assert_408(reply)
    assert seconds < ENDED_WITHIN_S


# ------------------------------------------------------------------------- normal clients
def test_fast_requests_and_keep_alive_still_work(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(GET_LOGIN)
        first = _read_response(sock)
        assert first.startswith(b"HTTP/1.1 200 ")
        # Idle longer than the head deadline: the idle time is uvicorn's keep-alive (5 s),
        # the head deadline only starts with the next request's first byte.
        time.sleep(HEAD_S * 2)
        sock.sendall(GET_LOGIN)
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
        # A fast POST with its whole body is answered by the route (CSRF refusal), not 408.
        body = b"username=a&password=b"
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        answer = _read_response(sock)
        assert answer.startswith(b"HTTP/1.1 "), answer[:100]
        assert not answer.startswith(b"HTTP/1.1 408"), answer[:300]


def test_pipelined_requests_are_all_answered(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(
            GET_LOGIN * 2 + GET_LOGIN.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
        )
        replies, _ = _read_until_closed(sock)
    assert re.findall(rb"HTTP/1\.1 (\d+) ", replies) == [b"200"] * 3


def test_many_slow_connections_at_once_all_get_408(server: Server) -> None:
    """Whichever process accepted it (``--workers 2``: either worker), each gets its 408."""
    socks = [_connect(server) for _ in range(6)]
    try:
        for sock in socks:
            sock.sendall(b"GET /login HTTP/1.1\r\n")
        for sock in socks:
            _assert_408(_read_until_closed(sock)[0])
    finally:
        for sock in socks:
            sock.close()
    pids = set(re.findall(r"Started server process \[(\d+)\]", server.log.read_text()))
    assert len(pids) == server.workers


# ------------------------------------------------------------------------- the 408 itself
@pytest.mark.parametrize(("phase", "hsts"), [("head", 0), ("body", 0), ("head", 3600)])
def test_timeout_response_is_well_formed(phase: str, hsts: int) -> None:
    limits = SlowClientLimits(1.0, 2.0, hsts_max_age_s=hsts)
    raw = timeout_response(phase, limits, [(b"date", b"Thu, 01 Jan 2026 00:00:00 GMT")])  # type: ignore[arg-type]
    _assert_408(raw)
    headers = _headers(raw)
    body = raw.partition(b"\r\n\r\n")[2]
    assert int(headers["content-length"]) == len(body)
    assert headers["date"].startswith("Thu")
    assert ("strict-transport-security" in headers) == (hsts > 0)


def test_worker_limits_come_from_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = SlowClientLimits(2.5, 7.0, hsts_max_age_s=60)
    monkeypatch.setenv(SPEC_ENV, spec(None, True, ("127.0.0.1",), limits_to_spec(limits)))
    limits_from_spec.cache_clear()
    try:
        assert limits_from_spec() == limits
        monkeypatch.setenv(SPEC_ENV, spec(None, True))  # an older spec: the defaults
        limits_from_spec.cache_clear()
        assert limits_from_spec() == SlowClientLimits()
    finally:
        limits_from_spec.cache_clear()


@pytest.mark.parametrize(("head", "body"), [(0, 1), (1, 0), (-1, 5)])
def test_limits_must_be_positive(head: float, body: float) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        SlowClientLimits(head, body)


# ------------------------------------------------------------------------- in process
class _Transport(asyncio.Transport):
    """Just enough of a transport for uvicorn's protocol: records writes and the close."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False
        self.protocol: asyncio.BaseProtocol | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self.protocol is not None
        return self.protocol

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _echo_app(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body, answers 200 with its length."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drain() -> None:
    for _ in range(5):  # the app task runs and answers
        await asyncio.sleep(0)


def test_the_deadline_follows_the_request_and_not_keep_alive() -> None:
    """Which deadline is armed at each step (no clock involved): head from the connection,
    body once the head is in, none once the request is in nor while a kept-alive connection
    idles, head again with the next request's first byte."""

    async def scenario() -> list[str | None]:
        config = Config(app=_echo_app, lifespan="off", log_level="warning")
        protocol = SlowClientH11Protocol(
            config, ServerState(), {}, limits=SlowClientLimits(100.0, 100.0)
        )
        transport = _Transport()
        transport.protocol = protocol
        seen: list[str | None] = []
        protocol.connection_made(transport)
        seen.append(protocol._phase)  # fresh connection
        protocol.data_received(b"POST /x HTTP/1.1\r\nHost: a\r\n")
        seen.append(protocol._phase)  # half a head
        protocol.data_received(b"Content-Length: 4\r\n\r\nab")
        seen.append(protocol._phase)  # head in, body pending
        protocol.data_received(b"cd")
        seen.append(protocol._phase)  # request in
        await _drain()
        assert transport.written.startswith(b"HTTP/1.1 200 ") and transport.written.endswith(b"4")
        seen.append(protocol._phase)  # kept alive, idle: uvicorn's keep-alive timer only
        assert protocol.timeout_keep_alive_task is not None
        protocol.data_received(b"G")
        seen.append(protocol._phase)  # first byte of the next head
        protocol.connection_lost(None)
        seen.append(protocol._phase)
        return seen

    assert asyncio.run(scenario()) == ["head", "head", "body", None, None, "head", None]


def test_an_expired_body_deadline_answers_408_and_disconnects_the_route() -> None:
    async def scenario() -> tuple[_Transport, bool]:
        config = Config(app=_echo_app, lifespan="off", log_level="warning")
        protocol = SlowClientH11Protocol(
            config, ServerState(), {}, limits=SlowClientLimits(100.0, 0.01)
        )
        transport = _Transport()
        transport.protocol = protocol
        protocol.connection_made(transport)
        protocol.data_received(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nab")
        await _drain()
        protocol._expired("body")  # what the timer calls
        await _drain()
        return transport, protocol.cycle.disconnected

    transport, disconnected = asyncio.run(scenario())
    _assert_408(transport.written)
    assert transport.closed and disconnected
    assert transport.written.count(b"HTTP/1.1") == 1  # the route's own answer was dropped
