"""Several server processes over one store: sessions, CSRF tokens and the login limiter are
in the database, so any process can serve any request.

Two apps over one store stand for two processes (in-process, fast); the last test starts a
real ``retrouve serve --workers 2`` and talks to it over HTTP.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import make_services
from retrouve.config import Settings, WebSettings
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from retrouve.web import create_app
from web.conftest import PASSWORD, Web, cheap_hasher, csrf_of, login


def _second_app(web: Web, populated: Services) -> TestClient:
    """Another app over the same store (another process), on the same clock."""
    app = create_app(populated, WebSettings(secure_cookies=False), accounts=web.accounts,
                     clock=web.clock)
    client = TestClient(app, follow_redirects=False)
    web.clients.append(client)
    return client


def test_a_session_made_by_one_app_works_on_the_other(web: Web, populated: Services) -> None:
    one = web.login("operator")
    two = _second_app(web, populated)
    two.cookies.update(one.cookies)
    me = two.get("/api/me")
    assert me.status_code == 200 and me.json()["name"] == "operator"
    # The CSRF token of a page rendered by one app is accepted by the other.
    token = csrf_of(one.get("/search").text)
    out = two.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert one.get("/api/me").status_code == 401  # logged out everywhere


def test_the_login_limit_counts_failures_on_both_apps(web: Web, populated: Services) -> None:
    two = _second_app(web, populated)
    for i in range(5):  # alternating between the two processes
        client = web.client() if i % 2 else two
        assert login(client, "supervisor", "wrong password!").status_code == 401  # type: ignore[attr-defined]
    assert login(two, "supervisor").status_code == 429  # type: ignore[attr-defined]
    assert login(web.client(), "supervisor").status_code == 429  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_retrouve_serve_with_two_workers_over_http(tmp_path: Path,
                                                  database_url: str | None) -> None:
    data = tmp_path / "data"
    svc = make_services(Settings(data_dir=data, workers=1, executor="inline",
                                 database_url=database_url))
    try:
        Accounts(svc.store, svc.clock, cheap_hasher()).add("marie", "operator", PASSWORD)
    finally:
        svc.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETROUVE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parents[2] / "src"),
                                                    env.get("PYTHONPATH")) if p)
    if database_url:
        env["RETROUVE_DATABASE_URL"] = database_url
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from retrouve.cli import main; main()", "--data-dir",
             str(data), "serve", "--port", str(port), "--workers", "2"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if len(re.findall(r"Application startup complete", text)) >= 2:
                break
            assert proc.poll() is None, text
            time.sleep(0.2)
        else:
            pytest.fail("the workers did not start:\n" + log.read_text(errors="replace"))
        pids = set(re.findall(r"Started server process \[(\d+)\]", log.read_text()))
        assert len(pids) == 2
        with httpx.Client(base_url=base, follow_redirects=False) as browser:
            token = csrf_of(browser.get("/login").text)
            resp = browser.post("/login", data={"username": "marie", "password": PASSWORD,
                                                "csrf_token": token, "next": "/search"})
            assert resp.status_code == 303, resp.text
            cookies = dict(browser.cookies)
        # A new connection each time: the kernel hands each to either worker; with
        # per-process sessions about half of these would be 401.
        for _ in range(20):
            with httpx.Client(base_url=base, cookies=cookies) as fresh:
                me = fresh.get("/api/me")
                assert me.status_code == 200 and me.json()["name"] == "marie"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
