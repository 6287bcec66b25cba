"""Web hardening (issue 12): body limits before authentication, bounded search inputs, password
sprays, Host header, security headers on every answer (errors too), no caching of evidence,
safe download names, no server paths or whole originals for operators.

Body limits are also checked against a real uvicorn (a subprocess), since what matters there
is what the server reads off the socket.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import fixed_clock
from retrouve.config import WebSettings
from retrouve.domain import Query, Recording
from retrouve.errors import LoginThrottled, QueryTooLong
from retrouve.search.plate_pattern import MAX_PATTERN_CHARS, PlatePattern
from retrouve.search.request import SearchRequest, check_lengths
from retrouve.services import Services
from retrouve.store.db import Store
from retrouve.web import create_app
from retrouve.web.auth import IN_FLIGHT_RETRY_S, LoginLimiter
from retrouve.web.disposition import ascii_fallback, content_disposition
from retrouve.web.hosts import SECURITY_HEADERS, effective_hosts, normalise_host
from web.conftest import PASSWORD, T0, FakeClock, Web, csrf_of, login

SRC = Path(__file__).resolve().parents[2] / "src"


def has_security_headers(resp: object) -> bool:
    headers = resp.headers  # type: ignore[attr-defined]
    return all(headers.get(name) == value for name, value in SECURITY_HEADERS)


# ------------------------------------------------------------------- body limits (in-process)
def test_declared_body_over_the_form_limit_is_413_before_login(web: Web) -> None:
    client = web.client()
    big = b"username=x&password=" + b"a" * (70 * 1024)
    resp = client.post("/login", content=big,
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 413
    assert has_security_headers(resp)
    # Not authenticated, not CSRF-checked: refused on size alone, before any of that.
    api = client.post("/api/analysis", content=b"[" + b"1," * 600_000 + b"1]",
                      headers={"content-type": "application/json"})
    assert api.status_code == 413


def test_chunked_body_is_cut_at_the_limit(web: Web) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(10_000):  # 640 MB if it were all read
            sent += 65536
            yield b"a" * 65536

    resp = web.client().post("/login", content=chunks(),
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 413
    assert has_security_headers(resp)


def test_small_bodies_still_pass(web: Web) -> None:
    assert web.login("operator").get("/search").status_code == 200  # a login POST passed
    cfg = WebSettings(secure_cookies=False, max_form_bytes=1024)
    app = create_app(web.app.state.services, cfg, accounts=web.accounts, clock=web.clock)
    with TestClient(app, follow_redirects=False) as client:
        token = csrf_of(client.get("/login").text)
        ok = client.post("/login", data={"username": "operator", "password": PASSWORD,
                                         "csrf_token": token})
        assert ok.status_code == 303
        too_big = client.post("/login", data={"username": "operator", "password": "p" * 2000,
                                              "csrf_token": token})
        assert too_big.status_code == 413


# ------------------------------------------------------------------ body limits (real server)
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER = """
import sys, uvicorn
from pathlib import Path
from urllib.parse import unquote
from retrouve.config import Settings, WebSettings
from retrouve.services import build_services
from retrouve.web import create_app
svc = build_services(Settings(data_dir=Path(sys.argv[1]), workers=1, executor="inline"))
app = create_app(svc, WebSettings(secure_cookies=False), allowed_hosts=("127.0.0.1",))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(pid, port) of a real uvicorn serving the app over an empty data dir."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path_factory.mktemp("srv")),
                             str(port)], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the server did not start") from None
                time.sleep(0.2)
        yield proc.pid, port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _stream_chunked(port: int, total: int, chunk: int = 1 << 20, path: str = "/login",
                    content_type: str = "application/x-www-form-urlencoded",
                    ) -> tuple[bytes, int, float]:
    """POST ``path`` with a chunked body of up to ``total`` bytes; (first reply bytes, bytes
    the server took before answering or closing, seconds)."""
    start = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Content-Type: {content_type}\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n".encode())
    piece = f"{chunk:x}\r\n".encode() + b"a" * chunk + b"\r\n"
    sent = 0
    pending = piece
    sock.setblocking(False)
    reply = b""
    try:
        while sent < total:
            try:
                reply += sock.recv(65536)
                if reply:
                    break
            except BlockingIOError:
                pass
            try:
                n = sock.send(pending)
                sent += n
                pending = pending[n:] or piece  # whole chunks only: the framing stays valid
            except BlockingIOError:
                time.sleep(0.001)
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(60)
        while b"\r\n\r\n" not in reply:
            more = sock.recv(65536)
            if not more:
                break
            reply += more
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        sock.close()
    return reply, sent, time.monotonic() - start


def test_real_server_refuses_a_1_gb_anonymous_body_without_growing(server: tuple[int, int]
                                                                   ) -> None:
    pid, port = server
    before = _rss_kib(pid)
    for path, ctype in (("/login", "application/x-www-form-urlencoded"),
                        ("/api/analysis", "application/json"),
                        ("/login", "application/octet-stream")):
        reply, sent, seconds = _stream_chunked(port, 1 << 30, path=path, content_type=ctype)
        # 413 from the limit, or (a body that is not a form) the CSRF 403 that comes first:
        # either way answered long before the body ends, without reading it.
        assert reply.startswith((b"HTTP/1.1 413", b"HTTP/1.1 403")), (path, ctype, reply[:200])
        assert sent < 64 << 20, f"the server took {sent} bytes before answering"
        assert seconds < 30
    after = _rss_kib(pid)
    assert after - before < 50 * 1024, f"RSS grew from {before} to {after} KiB"


def test_real_server_refuses_a_declared_length_without_reading(server: tuple[int, int]) -> None:
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/analysis HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"content-security-policy" in reply.lower()


def test_real_server_refuses_unknown_hosts(server: tuple[int, int]) -> None:
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: evil.example\r\n\r\n")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 400")


# ------------------------------------------------------------------------- search inputs
@pytest.mark.parametrize("text", ["AB1" * 134, "A?" * 9, "*A*B*C*D", "-" * 40 + "AB"])
def test_plate_patterns_are_bounded(text: str) -> None:
    with pytest.raises(QueryTooLong):
        PlatePattern.parse(text)


def test_plate_patterns_within_bounds_still_parse() -> None:
    assert PlatePattern.parse("FG-123-AB").tokens == "FG123AB"
    assert PlatePattern.parse("*12*AB*").tokens == "*12*AB*"
    long_ok = PlatePattern.parse("AB?12*CD?34*EF")
    assert len(long_ok.sql_likes()) < 60  # the SQL prefilter stays small


def test_long_plate_pattern_is_refused_cleanly_everywhere(web: Web, populated: Services
                                                          ) -> None:
    pattern = "AB12" * 100  # the 400-character pattern of the report
    with pytest.raises(QueryTooLong):
        populated.searcher.search(Query(plate=pattern))
    client = web.login("operator")
    api = client.get("/api/search", params={"plate": pattern})
    assert api.status_code == 422  # the API's own length bound
    for i in range(15):  # the report: a 500 each time, and memory growing
        page = client.get("/search", params={"object": "car", "plate": pattern[i:],
                                              "lang": "en"})
        assert page.status_code == 200
        assert f"at most {MAX_PATTERN_CHARS}" in page.text.replace("&#39;", "'")


def test_text_criteria_are_bounded_for_every_front_end(web: Web) -> None:
    with pytest.raises(QueryTooLong, match="text: 501 characters, at most 500"):
        check_lengths(SearchRequest(text="a" * 501))
    check_lengths(SearchRequest(text="a" * 500, make="m" * 64))
    page = web.login("operator").get("/search", params={"text": "voiture " * 100,
                                                                "lang": "en"})
    assert "at most 500" in page.text


# ------------------------------------------------------------------------ password spray
def test_parallel_spray_from_one_address_is_refused(store: Store) -> None:
    limiter = LoginLimiter(store, clock=lambda: 100.0, max_failures=5, address_max_failures=10)

    def attempt(i: int) -> bool:
        try:
            limiter.attempt(f"user{i}", "10.0.0.9")
        except LoginThrottled:
            return False
        return True

    with ThreadPoolExecutor(20) as pool:  # none answered yet: all in flight together
        passed = list(pool.map(attempt, range(20)))
    assert sum(passed) == 10
    # Successful logins free their place: a control room is not throttled by itself.
    room = LoginLimiter(store, clock=lambda: 100.0, max_failures=5, address_max_failures=10)
    for i in range(40):
        room.attempt(f"op{i}", "10.0.0.2")
        room.succeeded(f"op{i}", "10.0.0.2")


def test_a_control_room_logging_in_together_is_told_to_retry_in_seconds(store: Store) -> None:
    """Refused only because the address's other logins are still being checked: Retry-After
    is the seconds those checks take, not the window (20 operators behind one address at
    the start of a shift waited 5 minutes). Refused for failures: until they leave it."""
    clock = FakeClock()
    limiter = LoginLimiter(store, clock=clock, max_failures=5, address_max_failures=10,
                           window_s=300)
    for i in range(10):  # ten checks running, none answered yet
        limiter.attempt(f"op{i}", "10.0.0.3")
    with pytest.raises(LoginThrottled) as exc:
        limiter.attempt("op10", "10.0.0.3")
    assert exc.value.retry_after_s == IN_FLIGHT_RETRY_S
    for i in range(10):
        limiter.succeeded(f"op{i}", "10.0.0.3")
    limiter.attempt("op10", "10.0.0.3")  # the room's checks ended: the next one passes
    limiter.succeeded("op10", "10.0.0.3")
    for i in range(4):  # failures mixed with checks in flight: still in flight
        limiter.attempt(f"bad{i}", "10.0.0.3")
        limiter.failed(f"bad{i}", "10.0.0.3", counted=True)
    for i in range(6):
        limiter.attempt(f"op{i}", "10.0.0.3")
    with pytest.raises(LoginThrottled) as exc:
        limiter.attempt("op6", "10.0.0.3")
    assert exc.value.retry_after_s == IN_FLIGHT_RETRY_S
    for i in range(6):  # the checks end as failures: the address waits out the window
        limiter.failed(f"op{i}", "10.0.0.3", counted=True)
    clock.now += 10
    with pytest.raises(LoginThrottled) as exc:
        limiter.attempt("op6", "10.0.0.3")
    assert 280 <= exc.value.retry_after_s <= 301


def test_global_limit_spares_addresses_without_failures(store: Store) -> None:
    clock = FakeClock()
    limiter = LoginLimiter(store, clock=clock, max_failures=5, address_max_failures=10,
                           global_max_failures=3, window_s=60)
    for i in range(3):
        limiter.attempt(f"n{i}", f"10.1.0.{i}")
        limiter.failed(f"n{i}", f"10.1.0.{i}", counted=True)
    with pytest.raises(LoginThrottled) as exc:
        limiter.attempt("other", "10.1.0.0")  # an address that failed: refused
    assert 0 < exc.value.retry_after_s <= 61
    limiter.attempt("operator", "10.2.0.1")  # an operator's clean address: may try
    clock.now += 61
    limiter.attempt("other", "10.1.0.0")


def test_spray_over_20_names_gets_429_with_retry_after(web: Web) -> None:
    limit = WebSettings().login_address_max_failures

    def one(i: int) -> object:
        with TestClient(web.app, follow_redirects=False) as client:
            return login(client, f"sprayed{i}", "Summer2026!")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(20)))
    codes = [a.status_code for a in answers]  # type: ignore[attr-defined]
    assert codes.count(401) <= limit and codes.count(429) >= 20 - limit
    refused = next(a for a in answers if a.status_code == 429)  # type: ignore[attr-defined]
    assert int(refused.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    # Nor did the spray lock the names it did not try: a bearer token still works.
    token = web.accounts.issue_token("operator")
    me = web.client().get("/api/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200


# ----------------------------------------------------------------- host header and headers
def test_effective_hosts() -> None:
    assert effective_hosts((), "127.0.0.1") == ("localhost", "127.0.0.1", "::1")
    assert effective_hosts((), "10.0.0.5")[-1] == "10.0.0.5"
    assert "0.0.0.0" not in effective_hosts((), "0.0.0.0")
    assert effective_hosts(("Retrouve.Mairie.fr",), "0.0.0.0") == ("retrouve.mairie.fr",)
    assert normalise_host("[::1]:8000") == "::1" and normalise_host("a.b.:80") == "a.b"


def test_unknown_host_is_400_with_headers(populated: Services, web: Web) -> None:
    app = create_app(populated, WebSettings(secure_cookies=False), accounts=web.accounts,
                     clock=web.clock, allowed_hosts=("retrouve.local",))
    with TestClient(app, base_url="http://retrouve.local:8000") as good:
        assert good.get("/login").status_code == 200
    with TestClient(app, base_url="http://evil.example") as bad:
        resp = bad.get("/login")
        assert resp.status_code == 400 and has_security_headers(resp)


def test_hsts_only_with_secure_cookies(populated: Services, web: Web) -> None:
    secure = create_app(populated, WebSettings(secure_cookies=True), accounts=web.accounts)
    with TestClient(secure, base_url="https://testserver") as client:
        hsts = client.get("/login").headers.get("strict-transport-security")
        assert hsts == "max-age=31536000"
        assert client.get("/nowhere").headers.get("strict-transport-security") == hsts
    assert "strict-transport-security" not in web.client().get("/login").headers


def _app_with_a_failing_route(populated: Services, web: Web) -> FastAPI:
    app = create_app(populated, WebSettings(secure_cookies=False), accounts=web.accounts,
                     clock=web.clock)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    return app


def test_every_error_answer_has_the_security_headers(populated: Services, web: Web) -> None:
    app = _app_with_a_failing_route(populated, web)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        answers = {
            404: client.get("/nowhere"),
            405: client.put("/login"),
            401: client.get("/api/me"),
            413: client.post("/login", content=b"x" * (65 * 1024)),
            500: client.get("/boom"),
        }
        for status, resp in answers.items():
            assert resp.status_code == status, (status, resp.status_code)
            assert has_security_headers(resp), f"{status} lacks the security headers"
            assert resp.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- caching, names, originals
def test_thumbnails_are_not_cacheable(web: Web) -> None:
    resp = web.login("operator").get("/media/thumb/1")
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "private, no-store"


@pytest.mark.parametrize("name", ['a"b.mp4', "cam\r\nSet-Cookie: x=1.mp4", "caméra 12 ; é.mp4",
                                  "..\\..\\x.mp4", ""])
def test_content_disposition_never_breaks(name: str) -> None:
    value = content_disposition(name)
    assert "\r" not in value and "\n" not in value
    value.encode("latin-1")  # a valid header value
    shown = "".join(c for c in name if c.isprintable())
    found = re.fullmatch(r'inline; filename="([^"\\]*)"; filename\*=UTF-8\'\'(\S*)', value)
    assert found, value
    assert found.group(1) == ascii_fallback(shown) and found.group(1).isascii()
    assert unquote(found.group(2)) == shown  # the exact name, for browsers that read it


@pytest.fixture
def nasty_recording(populated: Services, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / 'cam "12"\r\nX-Evil: 1.mp4'
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    rec = Recording("nasty", "cam1", str(path), "n" * 64, path.stat().st_size, T0, 10.0, 25.0,
                    640, 360, "h264")
    populated.store.add_recording(rec, fixed_clock())
    yield rec.id


def test_originals_are_for_admins_with_a_safe_name(web: Web, nasty_recording: str) -> None:
    operator = web.login("operator")
    assert operator.get(f"/media/recording/{nasty_recording}").status_code == 403
    resp = web.login("admin").get(f"/media/recording/{nasty_recording}")
    assert resp.status_code == 200
    disposition = resp.headers["content-disposition"]
    assert "x-evil" not in {k.lower() for k in resp.headers}
    assert disposition == ('inline; filename="cam _12_X-Evil_ 1.mp4"; '
                           "filename*=UTF-8''cam%20%2212%22X-Evil%3A%201.mp4")


def test_operators_see_file_names_not_server_paths(web: Web) -> None:
    op = web.login("operator").get("/api/recordings").json()
    admin = web.login("admin").get("/api/recordings").json()
    assert {r["path"] for r in op} >= {"r1.mp4", "r2.mp4"}
    assert not any("/" in r["path"] for r in op)
    assert {r["path"] for r in admin} >= {"/footage/r1.mp4", "/footage/r2.mp4"}
    assert "/footage/r1.mp4" not in web.login("operator").get("/footage").text


def test_settings_are_wired(populated: Services, web: Web) -> None:
    cfg = WebSettings(secure_cookies=False, login_address_max_failures=3, max_form_bytes=2048)
    app = create_app(populated, cfg, accounts=web.accounts, clock=web.clock)
    limiter = app.state.limiter
    assert limiter.address_max_failures == 3
    with TestClient(app) as client:
        assert client.post("/login", content=b"x" * 3000).status_code == 413
