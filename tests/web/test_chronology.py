"""The case chronology page (``GET /cases/{ref}/chronology``): marked results in time order
across cameras in different zones, the case page's access rules, the scope, the journal, and
the offline camera plan on it and on the case page.

The populated store (``conftest.py``) has cam1 (Europe/Paris: tracks 1–3 at 10–70 s after
T0) and cam2 (UTC: tracks 4 at +5 s and 5 at +100 s). By instant the order is 4, 1, 2, 3, 5;
by each camera's wall-clock text it would be 4, 5, 1, 2, 3 (cam2 reads 09:01:40 for track 5,
cam1 10:00:50 for track 3), so the order test tells the two apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from conftest import fixed_clock
from retrouve.domain import Box, Camera, CaseStatus, Role, ScopeWindow
from retrouve.legal.accounts import Accounts
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.store import schema
from retrouve.store.marks import Mark, MarkKind
from retrouve.store.records import TrackDetail
from retrouve.web.chronology import (
    LANE_LEFT,
    LANE_MIN_GAP,
    LANE_TOP,
    LANE_WIDTH,
    chosen_marks,
    chronology,
    lanes,
)
from web.conftest import CASE, PASSWORD, T0, Web, cheap_hasher, csrf_of, open_case, select_case

REF = "CHR-1"
OPERATOR = Actor("operator", Role.OPERATOR)
#: Gare de Lyon and the Louvre (Paris) for cam1 and cam2; "idle" keeps no position.
POSITIONS = {"cam1": (48.8443, 2.3744), "cam2": (48.8611, 2.3358)}
SIGHTING = re.compile(r'id="sighting-(\d+)"')
TRACK_LINK = re.compile(r'<a href="/track/(\d+)">')


@pytest.fixture(scope="module", autouse=True)
def chronology_case(populated: Services) -> Iterator[None]:
    """Positions for cam1 and cam2, an outsider operator and an auditor, and case CHR-1 over
    the three cameras' hour, assigned to the operator, with tracks 1, 3, 4, 5 marked relevant
    and 2 not relevant (notes by the operator)."""
    with populated.store.engine.begin() as conn:
        for cid, (lat, lon) in POSITIONS.items():
            conn.execute(
                update(schema.cameras)
                .where(schema.cameras.c.id == cid)
                .values(latitude=lat, longitude=lon)
            )
    accounts = Accounts(populated.store, fixed_clock, cheap_hasher())
    accounts.add("outsider", "operator", PASSWORD)
    accounts.add("audit", "auditor", PASSWORD)
    window = (T0, T0 + timedelta(hours=1))
    open_case(
        populated,
        REF,
        tuple(ScopeWindow(c, *window) for c in ("cam1", "cam2", "idle")),
        ("operator",),
        purpose="Suivi du véhicule",
    )
    for track, kind, note in (
        (5, MarkKind.RELEVANT, "repart vers le port"),
        (1, MarkKind.RELEVANT, "la voiture rouge"),
        (3, MarkKind.RELEVANT, ""),
        (2, MarkKind.NOT_RELEVANT, "autre voiture"),
        (4, MarkKind.RELEVANT, "le bus la précède"),
    ):
        populated.cases.mark(OPERATOR, REF, track, kind, note)
    yield


def _order(html: str) -> list[int]:
    """Track ids of the page's sightings, in the page's order."""
    return [int(i) for i in re.findall(r'id="sighting-\d+" data-track="(\d+)"', html)]


def _entries(services: Services, action: str, ref: str = REF) -> list[object]:
    return [e for e in services.store.journal_entries(case=ref) if e.action == action]


def test_sightings_in_time_order_across_cameras_and_zones(web: Web) -> None:
    op = web.login("operator", case=REF)
    resp = op.get(f"/cases/{REF}/chronology")
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert "Chronologie du dossier CHR-1" in html
    # Relevant marks only, by instant; numbered 1..4 in that order.
    assert _order(html) == [4, 1, 3, 5]
    assert SIGHTING.findall(html) == ["1", "2", "3", "4"]
    # The operator's zone (Paris: cameras in two zones), the camera's own time beside it
    # when it differs (cam2 is on UTC), none when it does not (cam1 is Paris).
    assert "04/01/2026 10:00:05 CET (caméra 09:00:05 UTC)" in html
    assert "04/01/2026 10:01:40 CET (caméra 09:01:40 UTC)" in html
    assert "04/01/2026 10:00:10 CET</p>" in html
    # Object summary: type, colours, plate; the mark's author and note.
    assert "Voiture · couleur : rouge" in html and "AB123CD" in html
    assert "Bus · couleur : jaune" in html
    assert "Personne · bas : bleu · haut : rouge" in html
    assert "la voiture rouge" in html and "par operator" in html
    assert "autre voiture" not in html  # track 2 is not relevant
    # Thumbnails through the scope-checked route, with the box drawn on them.
    assert '<img src="/media/thumb/4"' in html and 'class="box"' in html
    # Lanes: one per camera, in order of first sighting (the bus's cam2 first).
    lanes = re.search(r'<svg class="lanes".*?</svg>', html, re.S)
    assert lanes is not None
    assert re.findall(r'class="ln-name"[^>]*>([^<]+)<', lanes.group(0)) == [
        "Port",
        "Place de la Gare",
    ]


def test_rejected_marks_on_request(web: Web) -> None:
    op = web.login("operator", case=REF)
    html = op.get(f"/cases/{REF}/chronology?all=1").text
    assert _order(html) == [4, 1, 2, 3, 5]
    assert 'class="not-relevant" id="sighting-3" data-track="2"' in html and "autre voiture" in html
    assert "Non pertinent" in html
    assert 'href="/cases/CHR-1/chronology">N&#39;afficher que les résultats pertinents' in html


def test_english_page(web: Web) -> None:
    op = web.login("operator", case=REF)
    html = op.get(f"/cases/{REF}/chronology?lang=en").text
    assert "Chronology of case CHR-1" in html and "4 marked sightings, in time order." in html
    assert "Car · colour: red" in html and "Bus · colour: yellow" in html
    assert "Camera plan (north up)" in html and "position unknown" in html


def test_camera_plan_numbers_the_sightings_and_loads_nothing(web: Web) -> None:
    op = web.login("operator", case=REF)
    html = op.get(f"/cases/{REF}/chronology").text
    svg = re.search(r'<svg class="camera-map".*?</svg>', html, re.S)
    assert svg is not None
    markers = dict(re.findall(r'data-camera="([^"]+)">(.*?)</g>', svg.group(0), re.S))
    assert set(markers) == {"cam1", "cam2"}
    badges = {
        cam: re.findall(r'class="cm-badge-n"[^>]*>(\d+)<', body) for cam, body in markers.items()
    }
    assert badges == {"cam2": ["1", "4"], "cam1": ["2", "3"]}
    assert 'class="cm-path"' in svg.group(0)
    # The camera without a position is listed beside the plan.
    assert "Pas encore analysée" in html and "position inconnue" in html
    # Nothing from another host: no absolute URL at all in the page.
    assert not re.search(r"(?i)https?://", html), re.findall(r"(?i)https?://\S+", html)
    assert not re.search(r"""(?:src|href)=["']//""", html)


def test_case_page_links_the_chronology_and_shows_the_plan(web: Web) -> None:
    op = web.login("operator", case=REF)
    html = op.get(f"/cases/{REF}").text
    assert f'href="/cases/{REF}/chronology"' in html
    assert '<svg class="camera-map"' in html and "Plan des caméras" in html
    assert html.count('class="cm-marker"') == 2 and 'class="cm-badge' not in html
    assert "position inconnue" in html
    assert not re.search(r"(?i)https?://", html)


def test_marks_outside_the_scope_are_left_out(web: Web, populated: Services) -> None:
    """After a narrowing amendment (applied at once) to cam1 alone, the marks on cam2's
    tracks stay in the store but the chronology leaves them out."""
    ref = "CHR-2"
    open_case(
        populated,
        ref,
        tuple(ScopeWindow(c, T0, T0 + timedelta(hours=1)) for c in ("cam1", "cam2")),
        ("operator",),
    )
    for track in (1, 4, 5):
        populated.cases.mark(OPERATOR, ref, track, MarkKind.RELEVANT, "")
    op = web.login("operator", case=ref)
    assert _order(op.get(f"/cases/{ref}/chronology").text) == [4, 1, 5]
    populated.cases.amend(
        Actor("supervisor", Role.SUPERVISOR),
        ref,
        (ScopeWindow("cam1", T0, T0 + timedelta(hours=1)),),
        "cam1 seule",
    )
    html = op.get(f"/cases/{ref}/chronology").text
    assert _order(html) == [1]
    assert "/media/thumb/4" not in html and "/media/thumb/5" not in html
    assert len(populated.store.case_marks(populated.cases.get(ref).id)) == 3
    [entry] = _entries(populated, "chronology-view", ref)[-1:]
    assert json.loads(entry.objects_json) == ["track:1"]  # type: ignore[attr-defined]
    # The plan shows the scope's cameras only.
    assert 'data-camera="cam2"' not in html and 'data-camera="cam1"' in html


def test_access_is_the_case_pages(web: Web, populated: Services) -> None:
    before = len(_entries(populated, "chronology-view"))
    # Not assigned: refused as the case page is (403), nothing shown.
    outsider = web.login("outsider", case=None)
    assert outsider.get(f"/cases/{REF}").status_code == 403
    resp = outsider.get(f"/cases/{REF}/chronology")
    assert resp.status_code == 403 and "/media/thumb" not in resp.text
    assert "pas affecté à l&#39;affaire CHR-1" in resp.text
    # Unknown case: 404, as the case page.
    assert outsider.get("/cases/NOPE/chronology").status_code == 404
    # An auditor reads the case but gets no footage-derived data on this page.
    audit = web.login("audit", case=None)
    assert audit.get(f"/cases/{REF}").status_code == 200
    resp = audit.get(f"/cases/{REF}/chronology")
    assert resp.status_code == 200
    assert "réservée aux agents affectés" in resp.text
    assert SIGHTING.findall(resp.text) == [] and "AB123CD" not in resp.text
    assert '<svg class="camera-map"' not in resp.text
    assert f'href="/cases/{REF}/chronology"' not in audit.get(f"/cases/{REF}").text
    # Without login: to the login page.
    anon = web.client()
    resp = anon.get(f"/cases/{REF}/chronology")
    assert resp.status_code in (302, 303, 401) and "AB123CD" not in resp.text
    assert len(_entries(populated, "chronology-view")) == before


def test_each_showing_is_journalled_and_covers_its_thumbnails(
    web: Web, populated: Services
) -> None:
    op = web.login("operator", case=REF)
    before = len(_entries(populated, "chronology-view"))
    op.get(f"/cases/{REF}/chronology")
    op.get(f"/cases/{REF}/chronology?all=1")
    entries = _entries(populated, "chronology-view")[before:]
    assert len(entries) == 2
    first, second = entries
    assert first.user == "operator" and first.case == REF  # type: ignore[attr-defined]
    assert json.loads(first.objects_json) == [  # type: ignore[attr-defined]
        "track:4",
        "track:1",
        "track:3",
        "track:5",
    ]
    assert json.loads(first.details_json) == {  # type: ignore[attr-defined]
        "view": "chronology",
        "shown": 4,
        "with_rejected": False,
    }
    assert json.loads(second.details_json)["with_rejected"] is True  # type: ignore[attr-defined]
    # The page's thumbnails are covered by the entry: fetching them writes no more.
    views = len(_entries(populated, "result-view"))
    assert op.get("/media/thumb/4").status_code == 200
    assert len(_entries(populated, "result-view")) == views


def test_another_active_case_gets_no_thumbnails_but_a_switch(web: Web, populated: Services) -> None:
    """Thumbnails and track pages check the *active* case: with WEB-1 active the page shows
    the chronology of CHR-1 without them and offers to switch; the switch comes back here."""
    op = web.login("operator", case=CASE)
    html = op.get(f"/cases/{REF}/chronology").text
    assert "/media/thumb/" not in html and "/track/" not in html
    assert "n&#39;est pas votre dossier actif" in html
    assert _entries(populated, "chronology-view")[-1].case == REF  # type: ignore[attr-defined]
    form = re.search(
        r'<form method="post" action="/case/select".*?</form>', html.split("<main")[1], re.S
    )
    assert form is not None and 'value="CHR-1"' in form.group(0)
    assert 'name="next" value="/cases/CHR-1/chronology"' in form.group(0)
    resp = op.post(
        "/case/select",
        data={"case": REF, "next": f"/cases/{REF}/chronology", "csrf_token": csrf_of(html)},
    )
    assert resp.headers["location"] == f"/cases/{REF}/chronology"
    assert "/media/thumb/4" in op.get(resp.headers["location"]).text
    select_case(op, CASE)


def test_a_closed_case_shows_no_data(web: Web, populated: Services) -> None:
    ref = "CHR-3"
    open_case(populated, ref, (ScopeWindow("cam1", T0, T0 + timedelta(hours=1)),), ("operator",))
    populated.cases.mark(OPERATOR, ref, 1, MarkKind.RELEVANT, "")
    populated.set_case_status(Actor("supervisor", Role.SUPERVISOR), ref, CaseStatus.CLOSED)
    op = web.login("operator", case=None)
    resp = op.get(f"/cases/{ref}/chronology")
    assert resp.status_code == 200 and SIGHTING.findall(resp.text) == []
    assert "est clôturée" in resp.text


# ------------------------------------------------------------------ pure view functions
def _detail(track_id: int, camera: str, start_s: float) -> TrackDetail:
    start = T0 + timedelta(seconds=start_s)
    return TrackDetail(
        id=track_id,
        recording_id=f"rec-{camera}",
        camera_id=camera,
        object="car",
        object_confidence=0.9,
        start=start,
        end=start + timedelta(seconds=4),
        t_start=0.0,
        t_end=4.0,
        best_t=2.0,
        box=Box(10, 10, 50, 30),
        thumbnail=None,
        observations=(),
        attributes={"colour": ("red", 0.8), "vehicle_type": ("car", 1.0)},
        plate=None,
    )


def _mark(track_id: int, kind: MarkKind = MarkKind.RELEVANT) -> Mark:
    return Mark(track_id, kind, "", "operator", T0)


def test_chronology_orders_by_instant_then_camera_then_track() -> None:
    cameras = {
        "paris": Camera("paris", "Paris", "Europe/Paris"),
        "tokyo": Camera("tokyo", "Tokyo", "Asia/Tokyo"),
    }
    details = {
        1: _detail(1, "tokyo", 30),
        2: _detail(2, "paris", 30),
        3: _detail(3, "paris", 10),
        4: _detail(4, "paris", 30),
    }
    marks = [_mark(i) for i in (1, 2, 3, 4, 99)]  # 99: no detail (outside the scope)
    entries = chronology(marks, details, cameras, {})
    assert [e.track_id for e in entries] == [3, 2, 4, 1]
    assert [e.number for e in entries] == [1, 2, 3, 4]
    # Each start carries its camera's zone; the summary leaves the type out.
    assert entries[3].start.utcoffset() == timedelta(hours=9)
    assert entries[0].start.utcoffset() == timedelta(hours=1)
    assert entries[0].attributes == (("colour", "red"),) and entries[0].thumb_url is None
    assert chosen_marks([_mark(1), _mark(2, MarkKind.NOT_RELEVANT)], False) == [_mark(1)]


def test_lanes_follow_time_and_keep_close_sightings_apart() -> None:
    cameras = {"a": Camera("a", "A", "UTC"), "b": Camera("b", "B", "UTC")}
    # Two sightings a second apart, then one 10 minutes later: the first two would overlap
    # if placed by time alone; they are kept LANE_MIN_GAP apart, the order never changes.
    details = {1: _detail(1, "b", 0), 2: _detail(2, "a", 1), 3: _detail(3, "b", 600)}
    got = lanes(
        chronology([_mark(1), _mark(2), _mark(3, MarkKind.NOT_RELEVANT)], details, cameras, {})
    )
    assert got is not None
    assert [(lane.camera_id, lane.x) for lane in got.lanes] == [
        ("b", LANE_LEFT + LANE_WIDTH / 2),
        ("a", LANE_LEFT + LANE_WIDTH * 1.5),
    ]
    ys = [d.y for d in got.dots]
    assert ys[0] == LANE_TOP and ys[1] == pytest.approx(LANE_TOP + LANE_MIN_GAP)
    assert ys[2] > ys[1] and got.bottom == ys[2]
    assert [d.relevant for d in got.dots] == [True, True, False]
    assert lanes([]) is None
    # One sighting: a drawing of minimal height.
    one = lanes(chronology([_mark(1)], details, cameras, {}))
    assert one is not None and one.height > one.bottom > one.top
