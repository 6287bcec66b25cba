"""No case, no processing, in the web: the active case and its scope on every data route, over
real ingested and analysed clips, through the real app (login, sessions, tokens).

Footage: camera ``camA`` has a clip at 10:00 and one at 12:00 (Paris), ``camB`` one at 10:00.
Case ``A`` covers camA 09:30–10:30 (the first clip only), case ``B`` camB 09:30–10:30. ``op1``
works in both, ``op2`` in none; ``boss`` (admin) is assigned to nothing, ``aud`` is an
auditor. Each refusal of an id outside the scope must look exactly like an unknown id and
leave a ``scope-refused`` journal entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clips import BLUE, RED, Moving, make_clip
from conftest import fixed_clock, make_services
from retrouve.config import Settings, WebSettings
from retrouve.domain import Camera, CaseStatus, Role, ScopeWindow
from retrouve.legal.accounts import Accounts
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.store import schema as s
from retrouve.store.journal import JournalRow
from retrouve.store.records import TrackTimes
from retrouve.web import create_app
from retrouve.web.media import scope_clamp
from web.conftest import (
    PASSWORD,
    FakeClock,
    Web,
    cheap_hasher,
    csrf_of,
    login,
    open_case,
    select_case,
    token_headers,
)

TEN = "2026-01-04T10:00:00+01:00"
NOON = "2026-01-04T12:00:00+01:00"
UNKNOWN = 987_654_321


@dataclass(frozen=True)
class World:
    services: Services
    recordings: dict[str, str]  # a1, a2, b1 → recording id
    tracks: dict[str, list[int]]  # a1, a2, b1 → its track ids


def _window(camera: str, local_from: str, minutes: int) -> ScopeWindow:
    start = datetime.fromisoformat(local_from)
    return ScopeWindow(camera, start, start + timedelta(minutes=minutes))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("case_scope")
    services = make_services(Settings(data_dir=root / "data", workers=1, executor="inline"))
    for cam in ("camA", "camB"):
        services.catalogue.add_camera(Camera(cam, f"Caméra {cam}", "Europe/Paris"))
    footage = {
        "a1": ("camA", TEN, Moving(RED, (50, 50), (10, 100), (260, 100), 4.0, 8.0)),
        "a2": ("camA", NOON, Moving(BLUE, (40, 60), (260, 60), (10, 60), 2.0, 7.0)),
        "b1": ("camB", TEN, Moving(RED, (60, 40), (10, 30), (250, 150), 3.0, 9.0)),
    }
    recordings: dict[str, str] = {}
    for key, (cam, start, obj) in footage.items():
        clip = make_clip(root / "f" / f"{key}.mp4", seconds=12.0, fps=10, objects=[obj])
        [rec] = services.catalogue.ingest(str(clip.path), cam, start=start).added
        recordings[key] = rec.id
    assert services.analyser.analyse().units_failed == 0
    tracks: dict[str, list[int]] = {}
    with services.store.engine.connect() as conn:
        for key, rec_id in recordings.items():
            q = select(s.tracks.c.id).where(s.tracks.c.recording_id == rec_id)
            tracks[key] = [int(i) for i in conn.execute(q.order_by(s.tracks.c.id)).scalars()]
            assert tracks[key], f"the analysis found nothing in {key}"
    accounts = Accounts(services.store, fixed_clock, cheap_hasher())
    for name, role in (("supervisor", "supervisor"), ("op1", "operator"),
                       ("op2", "operator"), ("boss", "admin"), ("aud", "auditor")):
        accounts.add(name, role, PASSWORD)
    open_case(services, "A", (_window("camA", "2026-01-04T09:30:00+01:00", 60),), ("op1",),
              purpose="Vol de véhicule rue A")
    open_case(services, "B", (_window("camB", "2026-01-04T09:30:00+01:00", 60),), ("op1",),
              purpose="Agression quai B")
    try:
        yield World(services, recordings, tracks)
    finally:
        services.close()


@pytest.fixture
def web(world: World) -> Iterator[Web]:
    clock = FakeClock()
    accounts = Accounts(world.services.store, fixed_clock, cheap_hasher())
    app = create_app(world.services, WebSettings(secure_cookies=False), accounts=accounts,
                     clock=clock)
    env = Web(app, clock, accounts)
    try:
        yield env
    finally:
        for c in env.clients:
            c.close()


def entries(world: World, action: str, since: int = 0) -> list[JournalRow]:
    return [e for e in world.services.store.journal_entries(seq_from=since + 1)
            if e.action == action]


def head(world: World) -> int:
    rows = list(world.services.store.journal_entries())
    return rows[-1].seq if rows else 0


def details(row: JournalRow) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(row.details_json)
    return out


def api_ids(client: TestClient, **headers: str) -> set[int]:
    resp = client.get("/api/search", params={"limit": 200}, headers=headers)
    assert resp.status_code == 200, resp.text
    return {h["track_id"] for h in resp.json()["hits"]}


# ------------------------------------------------------------------------------ no case
def test_operator_not_assigned_sees_nothing(world: World, web: Web) -> None:
    client = web.login("op2", case=None)
    for page in ("/search?object=car", "/footage", f"/track/{world.tracks['a1'][0]}"):
        resp = client.get(page)
        assert resp.status_code == 303
        assert resp.headers["location"].startswith("/case/select?next=")
    chooser = client.get("/case/select").text
    assert "Aucune affaire ouverte ne vous est attribuée" in chooser
    refused = client.post("/case/select", data={"case": "A", "csrf_token": csrf_of(chooser)})
    assert refused.status_code == 403 and "pas affecté à l&#39;affaire A" in refused.text
    assert client.get("/search").status_code == 303  # still no active case
    # Media and API: 409 naming what is missing.
    thumb = client.get(f"/media/thumb/{world.tracks['a1'][0]}")
    assert thumb.status_code == 409 and "no active case" in thumb.json()["detail"]
    token = web.accounts.issue_token("op2")
    resp = web.client().get("/api/search", headers=token_headers(token, None))
    assert resp.status_code == 409 and "X-Retrouve-Case" in resp.json()["detail"]
    resp = web.client().get("/api/search", headers=token_headers(token, "A"))
    assert resp.status_code == 403 and "not assigned to case A" in resp.json()["detail"]
    resp = web.client().get("/api/search", headers=token_headers(token, "NOPE"))
    assert resp.status_code == 400 and "unknown case" in resp.json()["detail"]


@pytest.mark.parametrize("name", ["boss", "aud", "supervisor"])
def test_other_roles_see_no_footage_unless_assigned(world: World, web: Web, name: str
                                                    ) -> None:
    """An admin (and a supervisor) must be assigned like anyone; an auditor never works on
    footage."""
    client = web.login(name, case=None)
    chooser = client.get("/case/select").text
    assert 'name="case" value="A"' not in chooser
    resp = client.post("/case/select", data={"case": "A", "csrf_token": csrf_of(chooser)})
    assert resp.status_code == 403
    token = web.accounts.issue_token(name)
    assert web.client().get(f"/media/thumb/{world.tracks['a1'][0]}",
                            headers=token_headers(token, "A")).status_code == 403


def test_auditor_may_not_work_even_if_named(world: World, web: Web) -> None:
    with pytest.raises(Exception, match="auditor never works on footage"):
        world.services.cases.assign(Actor("supervisor", Role.SUPERVISOR), "A", ("aud",))


# ---------------------------------------------------------------------------- in scope
def test_assigned_operator_sees_only_in_scope_tracks(world: World, web: Web) -> None:
    since = head(world)
    client = web.login("op1", case="A")
    ids = api_ids(client)
    assert ids and ids <= set(world.tracks["a1"])
    page = client.get("/search", params={"object": "vehicle"}).text
    assert "<strong>A</strong>" in page and "Vol de véhicule rue A" in page  # the switcher
    linked = {int(h.split("?")[0].split('"')[0]) for h in page.split('href="/track/')[1:]}
    assert linked and linked <= set(world.tracks["a1"])
    footage = client.get("/footage").text
    assert "a1.mp4" in footage and "a2.mp4" not in footage and "b1.mp4" not in footage
    recs = client.get("/api/recordings").json()
    assert [r["id"] for r in recs] == [world.recordings["a1"]]
    searches = entries(world, "search", since)
    assert len(searches) == 2 and {e.case for e in searches} == {"A"}
    assert details(searches[0])["hits"] == len(ids) and searches[0].user == "op1"
    assert [e.case for e in entries(world, "case-select", since)] == ["A"]


def test_switching_case_changes_results(world: World, web: Web) -> None:
    client = web.login("op1", case="A")
    in_a = api_ids(client)
    select_case(client, "B")
    in_b = api_ids(client)
    assert in_a and in_b and in_a <= set(world.tracks["a1"]) and in_b <= set(world.tracks["b1"])
    page = client.get("/search").text
    assert "<strong>B</strong>" in page and 'value="A"' in page  # A is still on offer
    token = web.accounts.issue_token("op1")
    assert api_ids(web.client(), **token_headers(token, "A")) == in_a
    assert api_ids(web.client(), **token_headers(token, "B")) == in_b


# ------------------------------------------------------------------- crafted out-of-scope
ROUTES = {
    "track": "/track/{t}", "api-track": "/api/tracks/{t}", "thumbnail": "/media/thumb/{t}",
    "clip": "/media/clip/{t}", "clip-info": "/media/clip/{t}/info",
    "recording": "/media/recording/{r}",
}


@pytest.mark.parametrize("other", ["a2", "b1"])  # same camera other time; other camera
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_crafted_url_outside_scope_is_404_like_unknown_and_journalled(
        world: World, web: Web, route: str, other: str) -> None:
    # The whole original is for admins only (operators play bounded clips): an admin
    # assigned to a copy of case A ("E") asks for it.
    user, ref = ("boss", "E") if route == "recording" else ("op1", "A")
    if user == "boss" and world.services.store.get_case("E") is None:
        open_case(world.services, "E", world.services.cases.get("A").scope, ("boss",))
    client = web.login(user, case=ref)
    url = ROUTES[route]

    def get(key: str | None) -> tuple[int, str]:
        """Status and body, the id asked replaced by "ID" (a page names its own URL)."""
        t = world.tracks[key][0] if key else UNKNOWN
        r = world.recordings[key] if key else "no-such-recording"
        resp = client.get(url.format(t=t, r=r), headers={"Range": "bytes=0-"})
        if "{r}" in url:
            return resp.status_code, resp.text.replace(r, "ID")
        return resp.status_code, (resp.text.replace(f"/track/{t}", "/track/ID")
                                  .replace(f"track {t}", "track ID"))

    assert get("a1")[0] in (200, 206)
    since = head(world)
    outside, unknown = get(other), get(None)
    assert outside[0] == unknown[0] == 404
    assert outside[1] == unknown[1]  # nothing tells the two apart
    refused = entries(world, "scope-refused", since)
    asked = world.recordings[other] if route == "recording" else str(world.tracks[other][0])
    kind = "clip" if route == "clip-info" else route
    first = refused[0]
    assert (first.user, first.case, details(first)) == (
        user, ref, {"route": kind, "requested": asked})
    assert len(refused) == 2  # the unknown id too: the scoped query cannot tell them apart


def test_similar_search_from_outside_the_scope_is_refused(world: World, web: Web) -> None:
    client = web.login("op1", case="A")
    since = head(world)
    outside = world.tracks["b1"][0]
    resp = client.get("/api/search", params={"like": outside})
    unknown = client.get("/api/search", params={"like": UNKNOWN})
    assert resp.status_code == unknown.status_code == 400
    assert resp.json()["detail"].replace(str(outside), "N") == \
        unknown.json()["detail"].replace(str(UNKNOWN), "N")
    [first, _] = entries(world, "scope-refused", since)
    assert details(first) == {"route": "similar", "requested": str(outside)}


def test_a_closed_case_stops_the_session_at_once(world: World, web: Web) -> None:
    open_case(world.services, "C", (_window("camA", "2026-01-04T09:30:00+01:00", 60),),
              ("op1",))
    client = web.login("op1", case="C")
    assert client.get("/search?object=car").status_code == 200
    world.services.cases.set_status(Actor("supervisor", Role.SUPERVISOR), "C",
                                    CaseStatus.CLOSED)
    resp = client.get("/search?object=car")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/case/select")
    assert 'value="C"' not in client.get("/case/select").text


def test_partial_recording_is_never_served_whole(world: World, web: Web) -> None:
    """A case covering part of a recording: its clip is the in-scope window only, the whole
    original file is refused."""
    track = world.tracks["a1"][0]
    start = datetime.fromisoformat(TEN)
    open_case(world.services, "D", (ScopeWindow("camA", start + timedelta(seconds=3),
                                                start + timedelta(seconds=9)),), ("op1",))
    client = web.login("op1", case="D")
    info = client.get(f"/media/clip/{track}/info").json()
    assert info["mode"] != "original"
    assert info["window"][0] >= 3.0 and info["window"][1] <= 9.0
    # Whole originals are for admins only, and then only wholly inside one window.
    assert client.get(f"/media/recording/{world.recordings['a1']}").status_code == 403
    if world.services.store.get_case("D2") is None:
        open_case(world.services, "D2", world.services.cases.get("D").scope, ("boss",))
    admin = web.login("boss", case="D2")
    assert admin.get(f"/media/recording/{world.recordings['a1']}").status_code == 404
    clip = client.get(f"/media/clip/{track}", headers={"Range": "bytes=0-"})
    # The in-scope window cut alone (206 over the cut's bytes, or a 200 stream): never the file.
    assert clip.status_code in (200, 206) and clip.headers["x-retrouve-mode"] != "original"
    assert float(clip.headers["x-retrouve-window-start"]) >= 3.0
    original = Path(world.services.store.get_recording(world.recordings["a1"]).path)
    assert clip.content != original.read_bytes()
    assert len(clip.content) < original.stat().st_size


def test_scope_clamp_cuts_the_margin_at_the_window() -> None:
    from retrouve.domain import Recording

    start = datetime.fromisoformat(TEN)
    rec = Recording("r", "camA", "/x.mp4", "0" * 64, 1, start, 60.0, 10.0, 320, 240, "h264")
    span = TrackTimes("r", 10.0, 12.0, 11.0)
    scope = (ScopeWindow("camA", start + timedelta(seconds=8), start + timedelta(seconds=30)),
             ScopeWindow("camB", start, start + timedelta(hours=1)))
    assert scope_clamp((5.0, 17.0), span, rec, scope) == (8.0, 17.0)
    elsewhere = (ScopeWindow("camB", start, start + timedelta(hours=1)),)
    assert scope_clamp((5.0, 17.0), span, rec, elsewhere) == (5.0, 5.0)


# ----------------------------------------------------------------------------- journal
def test_login_failed_login_and_logout_are_journalled(world: World, web: Web) -> None:
    since = head(world)
    wrong = "not the password 42"
    assert getattr(login(web.client(), "op1", wrong), "status_code", None) == 401
    assert getattr(login(web.client(), "nobody", wrong), "status_code", None) == 401
    client = web.login("op1", case=None)
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/case/select").text)})
    failed = entries(world, "login-failed", since)
    assert [(e.user, e.role, details(e)) for e in failed] == [
        ("op1", "anonymous", {"name": "op1", "address": "testclient", "reason": "refused"}),
        ("nobody", "anonymous",
         {"name": "nobody", "address": "testclient", "reason": "refused"})]
    [ok] = entries(world, "login", since)
    assert (ok.user, ok.role, details(ok)) == ("op1", "operator", {"address": "testclient"})
    [out] = entries(world, "logout", since)
    assert out.user == "op1"
    everything = [e.details_json + e.objects_json for e in
                  world.services.store.journal_entries(seq_from=since + 1)]
    assert not any(wrong in text for text in everything)
    assert world.services.journal.verify().ok


def test_views_are_journalled_once_per_view_not_per_request(world: World, web: Web) -> None:
    client = web.login("op1", case="A")
    track = world.tracks["a1"][0]
    since = head(world)
    assert client.get(f"/track/{track}").status_code == 200
    for rng in ("bytes=0-", "bytes=100-", "bytes=0-99"):  # what a <video> sends
        assert client.get(f"/media/clip/{track}", headers={"Range": rng}).status_code in (
            200, 206)
    assert client.get(f"/media/thumb/{track}").status_code == 200
    views = entries(world, "result-view", since)
    assert [(e.case, json.loads(e.objects_json), details(e)) for e in views] == [
        ("A", [f"track:{track}"], {"view": "track"})]
    # Past the window (10 min), a clip fetched on its own (a script) is a new viewing: one
    # entry, however many ranges it reads.
    web.clock.now += 3600
    since = head(world)
    for rng in ("bytes=0-", "bytes=100-", "bytes=0-99"):
        client.get(f"/media/clip/{track}", headers={"Range": rng})
    assert [details(e) for e in entries(world, "result-view", since)] == [{"view": "clip"}]


def test_thumbnails_of_a_search_are_covered_by_its_entry(world: World, web: Web) -> None:
    client = web.login("op1", case="A")
    since = head(world)
    hits = client.get("/api/search", params={"limit": 200}).json()["hits"]
    for h in hits:
        assert client.get(h["thumbnail"]).status_code == 200
    [search] = entries(world, "search", since)
    assert set(json.loads(search.objects_json)) == {f"track:{h['track_id']}" for h in hits}
    assert entries(world, "result-view", since) == []


def test_whole_original_needs_the_admin_role_and_is_journalled_apart(
        world: World, web: Web) -> None:
    """An operator never gets a whole original (403, nothing journalled as served); an admin
    does, and each download is a ``view-original`` entry (user, case, recording, bytes), not
    a ``result-view``."""
    rid = world.recordings["a1"]
    size = Path(world.services.store.get_recording(rid).path).stat().st_size
    since = head(world)
    operator = web.login("op1", case="A")
    assert operator.get(f"/media/recording/{rid}").status_code == 403
    assert entries(world, "view-original", since) == []
    if world.services.store.get_case("E") is None:
        open_case(world.services, "E", world.services.cases.get("A").scope, ("boss",))
    admin = web.login("boss", case="E")
    since = head(world)
    assert admin.get(f"/media/recording/{rid}").status_code == 200
    assert admin.get(f"/media/recording/{rid}", headers={"Range": "bytes=0-1023"}
                     ).status_code == 206
    got = [(e.user, e.role, e.case, json.loads(e.objects_json), details(e))
           for e in entries(world, "view-original", since)]
    assert got == [("boss", "admin", "E", [f"recording:{rid}"],
                    {"route": "recording", "bytes": b, "size": size})
                   for b in ("whole", "0-1023")]
    assert entries(world, "result-view", since) == []
    assert world.services.journal.verify().ok
