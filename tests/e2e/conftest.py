"""Fixtures of the browser tests: a real server on loopback and a headless Chromium.

One module-scoped server (uvicorn in a background thread, on a free port of 127.0.0.1) runs
``create_app`` over services in a temporary data dir: the fake ``ShapeDetector``, no plate
reader, one synthetic H.264 clip with a red "car" crossing the picture, ingested and analysed
before the first test. Two accounts are created through the accounts service.

Chromium is Debian's ``/usr/bin/chromium`` (or ``chromium`` on ``PATH``), driven by
Playwright's sync API. If it is missing the tests **fail** with a message naming
``scripts/ensure-browser.sh`` (``make test`` runs it first), unless ``RETROUVE_SKIP_BROWSER=1``
is set: then they are skipped with that reason. Silently skipping would let a CI machine
without a browser report green while the player was never exercised.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher

from clips import RED, Moving, make_clip
from conftest import fixed_clock, make_services
from retrouve.config import Settings, WebSettings
from retrouve.domain import Camera, ScopeWindow
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from retrouve.web import create_app
from web.conftest import CASE, open_case

REPO = Path(__file__).resolve().parents[2]
#: Screenshots and other files a CI job keeps (ignored by git).
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
SKIP_ENV = "RETROUVE_SKIP_BROWSER"
#: Flags for a quiet, offline, container-friendly headless Chromium. The autoplay flag lets the
#: test start playback from script without a user gesture (the page itself never autoplays).
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
)

#: The synthetic clip: 20 s at 10 fps (a key frame a second); the "car" (wider than tall, so
#: the fake detector calls it a car) is on screen from 9 s to 13.5 s, so the page's lead-in
#: (3 s) is a real seek, and the clip's window (4..18.5 s) does not cover the file: an operator
#: gets the window cut alone (media time 0 = recording second 4), never the whole original.
CLIP_SECONDS = 20.0
CAR_IN, CAR_OUT = 9.0, 13.5
CAR = Moving(RED, (60, 30), (0, 100), (250, 100), CAR_IN, CAR_OUT)
CAMERA = Camera("cam-e2e", "Rue de l'Essai", "Europe/Paris")


def cheap_hasher() -> PasswordHasher:
    """Argon2 with tiny costs: the login is exercised, not the hashing."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def find_chromium(env: dict[str, str] | None = None, default: Path = CHROMIUM) -> str:
    """The Chromium executable to drive. Fails the test (naming the install script) when there
    is none, or skips it when ``RETROUVE_SKIP_BROWSER=1``."""
    env = dict(os.environ) if env is None else env
    if env.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: browser tests skipped")
    if default.is_file() and os.access(default, os.X_OK):
        return str(default)
    found = shutil.which("chromium")
    if found:
        return found
    pytest.fail(f"Chromium not found at {default} nor on PATH: run scripts/ensure-browser.sh "
                f"(installs Debian's chromium), or set {SKIP_ENV}=1 to skip the browser tests",
                pytrace=False)


@dataclass(frozen=True)
class LiveServer:
    """The running app: base URL, its services, and the account names."""

    url: str
    services: Services
    admin: str = "chef"
    operator: str = "marie"
    password: str = PASSWORD


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # port 0: the kernel picks a free one, no race with others
    return sock


def _populate(services: Services, clip_dir: Path) -> None:
    """Ingest and analyse the synthetic clip (about a second on 2 cores)."""
    services.catalogue.add_camera(CAMERA)
    clip = make_clip(clip_dir / "rue-essai.mp4", seconds=CLIP_SECONDS, fps=10, objects=[CAR])
    report = services.catalogue.ingest(str(clip.path), CAMERA.id, "2026-01-04T10:00:00+01:00")
    assert report.added, "the synthetic clip should be ingested"
    result = services.analyser.analyse()
    assert result.units_total >= 1


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """uvicorn serving ``create_app`` on 127.0.0.1 in a background thread."""
    root = tmp_path_factory.mktemp("e2e")
    services = make_services(Settings(data_dir=root / "data", workers=1, executor="inline"))
    _populate(services, root / "footage")
    accounts = Accounts(services.store, fixed_clock, cheap_hasher())
    env = LiveServer("", services)
    accounts.add(env.admin, "admin", PASSWORD)
    accounts.add(env.operator, "operator", PASSWORD)
    # No case, no processing: the operator works in a case covering the clip's hour.
    start = datetime.fromisoformat("2026-01-04T10:00:00+01:00")
    open_case(services, CASE, (ScopeWindow(CAMERA.id, start, start + timedelta(hours=1)),),
              (env.operator,), purpose="Vol à l'arraché rue de l'Essai")
    # Plain HTTP on loopback: the Secure cookie flag would stop the browser sending it.
    app = create_app(services, WebSettings(secure_cookies=False), accounts=accounts)
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for the module (Playwright sync API)."""
    executable = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in the dev extra
        pytest.fail("the playwright package is missing: pip install -e '.[dev]'", pytrace=False)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True,
                                      args=list(CHROMIUM_ARGS))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page, with a short default timeout so that a
    broken page fails in seconds rather than Playwright's 30 s."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280,
                                                                      "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def mark_first_hit(page: Any, hits: Any, note: str) -> int:
    """Open the first of ``hits`` (a Playwright locator of result cards), mark it relevant
    with ``note`` from the track page's mark form; the track id."""
    import re

    hits.first.locator("a.thumb").click()
    page.wait_for_url(re.compile(r"/track/\d+"))
    found = re.search(r"/track/(\d+)", page.url)
    assert found, page.url
    track_id = int(found.group(1))
    page.fill("form.mark-form input[name=note]", note)
    page.click("form.mark-form button[name=mark][value=relevant]")
    page.wait_for_url(re.compile(rf"/track/{track_id}(\?.*)?$"))  # the results' query kept
    return track_id



def logged_in_context(browser: Any, server: LiveServer, name: str, *,
                      choose_case: bool = True) -> Any:
    """A new browser context (the ``page`` fixture's viewport and timeout) where ``name`` is
    logged in and, with ``choose_case``, works in the first case the chooser offers (for the
    operator, the case opened above). The caller closes it."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", server.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    if choose_case:
        page.goto("/case/select?next=%2Fsearch")
        page.click("form.case-choose button[type=submit]")
        page.wait_for_url("**/search")
    page.close()
    return context


@pytest.fixture
def operator_page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page of a fresh context where the live server's operator is logged in, in a case."""
    context = logged_in_context(browser, live_server, live_server.operator)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
