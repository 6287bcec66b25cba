"""The analysis started from the web works in the active case, as ``retrouve analyse --case``:
only footage inside the case's scope is planned (and so decoded), the run is journalled with
the case and the user, and without a case the routes answer as every data route does.

Footage: camera ``camA`` has a real 6 s clip at 10:00 (Paris) and one at 12:00; case ``IN``
covers 09:30–10:30 only, assigned to ``op``. ``stranger`` (operator) is not assigned, ``aud``
is an auditor. Nothing is analysed before each test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clips import BLUE, RED, Moving, make_clip
from conftest import fixed_clock, make_services
from retrouve.config import Settings, WebSettings
from retrouve.domain import Camera, RecordingStatus, ScopeWindow
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from retrouve.store.records import TrackFilter
from retrouve.web import create_app
from retrouve.web.jobs import JobState
from web.conftest import PASSWORD, cheap_hasher, csrf_of, login, open_case, token_headers

CASE = "IN"


@dataclass(frozen=True)
class Env:
    services: Services
    app: Any
    accounts: Accounts
    inside: str  # the recording of the case's scope
    outside: str  # the one at noon, outside it


@pytest.fixture
def env(tmp_path: Any) -> Iterator[Env]:
    services = make_services(Settings(data_dir=tmp_path / "data", workers=1,
                                      executor="inline"))
    services.catalogue.add_camera(Camera("camA", "Place de la Gare", "Europe/Paris"))
    ids = []
    for name, start, obj in (
            ("ten", "2026-01-04T10:00:00+01:00", Moving(RED, (60, 30), (0, 60), (260, 60),
                                                         1.0, 5.0)),
            ("noon", "2026-01-04T12:00:00+01:00", Moving(BLUE, (60, 30), (260, 90), (0, 90),
                                                          1.0, 5.0))):
        clip = make_clip(tmp_path / f"{name}.mp4", seconds=6.0, fps=10, objects=[obj])
        [rec] = services.catalogue.ingest(str(clip.path), "camA", start=start).added
        ids.append(rec.id)
    accounts = Accounts(services.store, fixed_clock, cheap_hasher())
    for name, role in (("op", "operator"), ("stranger", "operator"), ("aud", "auditor")):
        accounts.add(name, role, PASSWORD)
    start = datetime.fromisoformat("2026-01-04T09:30:00+01:00")
    open_case(services, CASE, (ScopeWindow("camA", start, start + timedelta(hours=1)),),
              ("op",))
    app = create_app(services, WebSettings(secure_cookies=False), accounts=accounts)
    try:
        yield Env(services, app, accounts, ids[0], ids[1])
    finally:
        app.state.analysis.join(timeout=60)
        services.close()


def session(env: Env, name: str, case: str | None = CASE) -> TestClient:
    client = TestClient(env.app, follow_redirects=False)
    assert login(client, name).status_code == 303  # type: ignore[attr-defined]
    if case is not None:
        token = csrf_of(client.get("/case/select").text)
        assert client.post("/case/select", data={"case": case, "csrf_token": token}
                           ).status_code == 303
    return client


def analysis_entries(env: Env) -> list[Any]:
    return [e for e in env.services.store.journal_entries()
            if e.action in ("analysis-start", "analysis-finish")]


def assert_only_the_case_was_analysed(env: Env) -> None:
    env.app.state.analysis.join(timeout=120)
    state = env.app.state.analysis.state()
    assert state.running is False and state.error is None, state
    assert state.case == CASE and state.started_by == "op"
    assert state.units_done == state.units_total >= 1
    status = {e.recording.id: e.status for e in env.services.store.list_recordings()}
    assert status[env.inside] is RecordingStatus.DONE
    assert status[env.outside] is RecordingStatus.PENDING
    # Nothing planned, so nothing decoded, outside the scope; no track from it.
    assert env.services.store.unit_status([env.outside]) == {}
    tracks = env.services.store.find_tracks(TrackFilter(), limit=100)
    assert tracks and {t.recording_id for t in tracks} == {env.inside}
    # Journalled as the CLI does: before (with the scope) and after (the report), the case,
    # the user who started it.
    start, finish = analysis_entries(env)
    assert (start.action, finish.action) == ("analysis-start", "analysis-finish")
    assert {start.case, finish.case} == {CASE} and {start.user, finish.user} == {"op"}
    assert json.loads(start.details_json)["scope"] == [
        ["camA", "2026-01-04T08:30:00.000000+00:00", "2026-01-04T09:30:00.000000+00:00"]]
    assert json.loads(finish.details_json)["units_failed"] == 0


def test_footage_page_analyses_only_the_case(env: Env) -> None:
    client = session(env, "op")
    page = client.get("/footage").text
    assert 'action="/footage/analyse"' in page
    assert "Analyser les enregistrements en attente du dossier (1)" in page
    assert "/noon.mp4" not in page  # the recording outside the scope is not listed either
    token = csrf_of(page)
    resp = client.post("/footage/analyse", data={"csrf_token": token})
    assert resp.headers["location"] == "/footage?msg=started"
    assert_only_the_case_was_analysed(env)
    again = client.post("/footage/analyse", data={"csrf_token": token})
    assert again.headers["location"] == "/footage?msg=nothing"
    assert len(analysis_entries(env)) == 2  # nothing to do: no run, no entry
    state = client.get("/api/analysis").json()
    assert state["case"] == CASE and state["pending_recordings"] == 0


def test_api_analyses_only_the_case(env: Env) -> None:
    headers = token_headers(env.accounts.issue_token("op"), CASE)
    client = TestClient(env.app)
    assert client.get("/api/analysis", headers=headers).json()["pending_recordings"] == 1
    # Asking for the recording outside the scope by id: nothing of it is in the case.
    only_out = client.post("/api/analysis", json={"recordings": [env.outside]},
                           headers=headers)
    assert only_out.status_code == 200 and only_out.json()["started"] is False
    resp = client.post("/api/analysis", json={}, headers=headers)
    assert resp.status_code == 202, resp.text
    assert resp.json()["started"] is True and resp.json()["case"] == CASE
    assert_only_the_case_was_analysed(env)


def test_without_a_case_nothing_starts(env: Env) -> None:
    client = session(env, "op", case=None)
    token = csrf_of(client.get("/case/select").text)
    page = client.post("/footage/analyse", data={"csrf_token": token})
    assert page.status_code == 303
    assert page.headers["location"] == "/case/select?next=%2Ffootage"
    api = client.post("/api/analysis", json={}, headers={"X-CSRF-Token": token})
    assert api.status_code == 409 and "case" in api.json()["detail"]
    bearer = token_headers(env.accounts.issue_token("op"), None)
    resp = TestClient(env.app).post("/api/analysis", json={}, headers=bearer)
    assert resp.status_code == 409, resp.text
    assert "X-Retrouve-Case" in resp.json()["detail"]
    assert env.app.state.analysis.state() == JobState()
    assert analysis_entries(env) == []


@pytest.mark.parametrize(("user", "status"), [("stranger", 403), ("aud", 403)])
def test_only_who_may_work_in_the_case_starts_it(env: Env, user: str, status: int) -> None:
    """Not assigned, or a role that never works on footage: refused, nothing started."""
    headers = token_headers(env.accounts.issue_token(user), CASE)
    resp = TestClient(env.app).post("/api/analysis", json={}, headers=headers)
    assert resp.status_code == status, resp.text
    assert env.app.state.analysis.state() == JobState()
    assert analysis_entries(env) == []


def test_another_case_sees_only_that_an_analysis_runs() -> None:
    running = JobState(running=True, case="A", started_by="op", units_done=3, units_total=9)
    assert running.seen_from("A") == running
    assert running.seen_from("B") == JobState(running=True)
    assert JobState().seen_from("B") == JobState()
