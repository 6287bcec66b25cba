"""Fixtures of the web tests: a populated store, three accounts, an app per test, logged-in
clients. Passwords are hashed with cheap argon2 parameters to keep the tests fast.

No case, no processing: the store holds case :data:`CASE` covering all its footage, assigned
to the three accounts; :meth:`Web.login` makes it the session's active case and
:func:`token_headers` names it for token clients."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete

from conftest import fixed_clock, make_services
from databases import fresh_database
from retrouve.config import Settings, WebSettings
from retrouve.domain import (
    Attribute,
    Box,
    Camera,
    LegalBasis,
    Observation,
    PlateRead,
    Recording,
    Role,
    ScopeWindow,
    StageStats,
    Track,
    UnitResult,
    WorkUnit,
)
from retrouve.legal.accounts import Accounts
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.store import schema
from retrouve.store.cases import CaseFields
from retrouve.store.db import Store
from retrouve.web import create_app
from retrouve.web.i18n import LANG_COOKIE

PASSWORD = "correct horse battery"
ROLES = ("admin", "supervisor", "operator")
T0 = datetime(2026, 1, 4, 9, 0, tzinfo=UTC)  # 10:00 in Paris
#: A real (tiny) JPEG is not needed: the route serves bytes, the browser is not involved.
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: The case the web tests work in: every camera, the recordings' whole hour.
CASE = "WEB-1"
CASE_HEADER = "X-Retrouve-Case"


def open_case(services: Services, ref: str, scope: tuple[ScopeWindow, ...],
              assign: tuple[str, ...], purpose: str = "web tests") -> None:
    """Create case ``ref`` (by the supervisor) with ``scope``, assigned to ``assign``."""
    services.cases.create(Actor("supervisor", Role.SUPERVISOR), CaseFields(
        ref=ref, basis=LegalBasis.ART_60_1, procedure_number=f"PV-{ref}",
        authority="OPJ Martin", authority_service="Commissariat central",
        authority_contact="", received_at=T0, purpose=purpose), scope, assign)


def case_over_everything(services: Services, assign: tuple[str, ...], ref: str = CASE) -> None:
    """Open case ``ref`` over every registered camera, 2000 to 2100, for tests about other
    things than the scope."""
    span = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    open_case(services, ref, tuple(ScopeWindow(c.id, *span)
                                   for c in services.store.list_cameras()), assign)


def token_headers(token: str, case: str | None = CASE) -> dict[str, str]:
    """Headers of a token request working in ``case`` (None: no case)."""
    return {"Authorization": f"Bearer {token}", **({CASE_HEADER: case} if case else {})}


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class FakeClock:
    """Monotonic seconds for sessions and the login limiter, moved by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def _track(rec: str, local: int, obj: str, conf: float, t0: float, t1: float,
           attrs: tuple[tuple[str, str, float], ...] = (), plate: str | None = None) -> Track:
    box = Box(100.0 + 10 * local, 200.0, 300.0 + 10 * local, 320.0)
    return Track(
        recording_id=rec, unit_id=f"{rec}@0000000.0", local_id=local, object=obj,
        object_confidence=conf, t_start=t0, t_end=t1, best_t=(t0 + t1) / 2, best_box=box,
        attributes=tuple(Attribute(n, v, c) for n, v, c in attrs)
        # The analysis gives every car-like track its type probabilities.
        + ((Attribute("vehicle_type", obj, 1.0),) if obj in ("car", "van", "truck") else ()),
        observations=(Observation(t0, box, conf), Observation(t1, box, 0.9)),
        thumbnail_jpeg=JPEG,
        plate=None if plate is None else PlateRead(plate, 0.9, tuple((c, 0.9) for c in plate),
                                                    (("AB123CE", 0.4),)),
    )


#: (recording, local id, object, confidence, t0, t1, attributes, plate)
TRACKS = (
    _track("r1", 1, "car", 0.9, 10, 20, (("colour", "red", 0.8),), plate="AB123CD"),
    _track("r1", 2, "car", 0.8, 30, 40, (("colour", "white", 0.9),)),
    _track("r1", 3, "person", 0.95, 50, 70, (("upper", "red", 0.7), ("lower", "blue", 0.6))),
    _track("r2", 1, "bus", 0.85, 5, 25, (("colour", "yellow", 0.9),)),
    _track("r2", 2, "person", 0.7, 100, 130, (("upper", "blue", 0.8),)),
)


def populate(services: Services) -> None:
    for cam in (Camera("cam1", "Place de la Gare", "Europe/Paris"),
                Camera("cam2", "Port", "UTC"), Camera("idle", "Pas encore analysée")):
        services.catalogue.add_camera(cam)
    for rec_id, cam_id in (("r1", "cam1"), ("r2", "cam2"), ("r3", "idle")):
        services.store.add_recording(
            Recording(rec_id, cam_id, f"/footage/{rec_id}.mp4", rec_id * 32, 1000, T0, 600.0,
                      25.0, 1280, 720, "h264"), fixed_clock())
    run = services.store.start_run(fixed_clock(), {}, {"detector": "hand"}, "test")
    for rec_id in ("r1", "r2"):
        mine = tuple(t for t in TRACKS if t.recording_id == rec_id)
        # One unit to +inf, as ``plan_units`` plans a recording's last slice.
        services.store.ensure_units([WorkUnit(f"{rec_id}@0000000.0", rec_id,
                                              f"/footage/{rec_id}.mp4", 0.0, math.inf, 25.0)])
        services.store.save_unit_result(run, UnitResult(f"{rec_id}@0000000.0", mine,
                                                        StageStats()), fixed_clock())
        services.store.set_recording_status(rec_id, "done", None)


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    """An empty store of this test's own (sessions, limiter)."""
    st = Store(database_url or f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "blobs")
    try:
        yield st
    finally:
        st.close()


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One store per test module, with cameras, recordings, tracks and three accounts."""
    data_dir = tmp_path_factory.mktemp("web")
    with fresh_database(data_dir) as url:
        services = make_services(Settings(data_dir=data_dir, workers=1, executor="inline",
                                          database_url=url))
        try:
            populate(services)
            accounts = Accounts(services.store, fixed_clock, cheap_hasher())
            for role in ROLES:
                accounts.add(role, role, PASSWORD)
            accounts.add("gone", "operator", PASSWORD)
            accounts.set_disabled("gone", True)
            open_case(services, CASE, tuple(ScopeWindow(cam, T0, T0 + timedelta(hours=1))
                                            for cam in ("cam1", "cam2", "idle")), ROLES,
                      purpose="Vol à l'arraché, place de la Gare")
            yield services
        finally:
            services.close()


@dataclass
class Web:
    """An app over the populated store, with its clock and client factory."""

    app: FastAPI
    clock: FakeClock
    accounts: Accounts
    clients: list[TestClient] = field(default_factory=list)
    #: The interface language of every client made (its ``lang`` cookie); None: the default,
    #: French. Tests that read English messages ask for English (fixture ``english``).
    lang: str | None = None

    def client(self) -> TestClient:
        c = TestClient(self.app, follow_redirects=False)
        if self.lang is not None:
            c.cookies.set(LANG_COOKIE, self.lang)
        self.clients.append(c)
        return c

    def login(self, name: str, password: str = PASSWORD, case: str | None = CASE
              ) -> TestClient:
        """A client logged in as ``name`` with ``case`` active (None: no active case)."""
        c = self.client()
        resp = login(c, name, password)
        assert resp.status_code == 303, resp.text
        if case is not None:
            select_case(c, case)
        return c


def select_case(client: TestClient, case: str) -> object:
    """Make ``case`` the session's active case (``POST /case/select``)."""
    token = csrf_of(client.get("/case/select").text)
    resp = client.post("/case/select", data={"case": case, "csrf_token": token})
    assert resp.status_code == 303, resp.text
    return resp


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD,
          next_url: str = "/search") -> object:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": token, "next": next_url})


@pytest.fixture
def web(populated: Services) -> Iterator[Web]:
    # A new app used to mean new (in-memory) sessions and limiter; they are in the module's
    # store now, so each test starts them empty.
    with populated.store.engine.begin() as conn:
        conn.execute(delete(schema.login_attempts))
        conn.execute(delete(schema.web_sessions))
    clock = FakeClock()
    accounts = Accounts(populated.store, fixed_clock, cheap_hasher())
    app = create_app(populated, WebSettings(secure_cookies=False), accounts=accounts, clock=clock)
    env = Web(app, clock, accounts)
    try:
        yield env
    finally:
        for c in env.clients:
            c.close()


@pytest.fixture
def english(web: Web) -> Web:
    """``web`` whose clients all read the interface in English (a module's
    ``pytestmark = pytest.mark.usefixtures("english")``)."""
    web.lang = "en"
    return web
