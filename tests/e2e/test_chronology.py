"""A case's chronology and the offline camera plan in a real headless Chromium.

This module's server (``conftest.py``: the 10:00 Paris clip on "Rue de l'Essai") gets a second
camera, "Quai du Port" on London time, with its own clip at 09:00:30 GMT (10:00:30 Paris), and
a third clip on the first camera at 10:01:00 Paris; both cameras get a position (about 600 m
apart). A case over both cameras is opened for the operator with one car of each clip marked
relevant. The operator opens the chronology from the case page while another case is active,
switches to it from there, and sees the three sightings in time order across the two zones,
numbered on the plan and on the lanes; the page is scanned by axe and nothing is requested
from another host.

Screenshots, in ``test-artifacts/``:

* ``chrono-01-case-page.png`` — the case page: the camera plan of its scope, the link;
* ``chrono-02-not-active.png`` — the chronology while another case is active (no thumbnails,
  the switch button);
* ``chrono-03-chronology.png`` — the chronology in the case: sightings 1–3 with thumbnails,
  the plan with numbered badges and the path, the per-camera lanes;
* ``chrono-04-map.png`` — the plan alone (element screenshot);
* ``chrono-05-english.png`` — the same page in English;
* ``chrono-06-track.png`` — the track page reached from sighting 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from clips import RED, Moving, make_clip
from retrouve.domain import Camera, Role, ScopeWindow
from retrouve.legal.cases import Actor
from retrouve.store import schema
from retrouve.store.marks import MarkKind
from retrouve.store.records import TrackFilter
from web.conftest import CASE, open_case

from .conftest import ARTIFACTS, CAMERA, CLIP_SECONDS, LiveServer, logged_in_context
from .test_accessibility import WCAG_TAGS, _report

REF = "2026-CHRONO"
PORT = Camera("cam-port", "Quai du Port", "Europe/London", 48.8583, 2.3470)
#: Rue de l'Essai's position: about 600 m south-east of the port camera.
ESSAI_AT = (48.8540, 2.3530)


@dataclass(frozen=True)
class World:
    server: LiveServer
    #: The marked tracks in time order: Essai 10:00:09, Port 10:00:32, Essai 10:01:0x (Paris).
    order: tuple[int, int, int]


def _first_car(server: LiveServer, rec_id: str) -> int:
    ids = [
        t.id
        for t in server.services.store.find_tracks(TrackFilter(), limit=200)
        if t.recording_id == rec_id
    ]
    assert ids, f"recording {rec_id} should give a track"
    return min(ids)


@pytest.fixture(scope="module")
def world(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> World:
    services = live_server.services
    folder = tmp_path_factory.mktemp("chrono")
    with services.store.engine.begin() as conn:
        conn.execute(
            update(schema.cameras)
            .where(schema.cameras.c.id == CAMERA.id)
            .values(latitude=ESSAI_AT[0], longitude=ESSAI_AT[1])
        )
    services.catalogue.add_camera(PORT)
    port = make_clip(
        folder / "port.mp4",
        seconds=CLIP_SECONDS,
        fps=10,
        objects=[Moving(RED, (60, 30), (250, 60), (0, 60), 2.0, 8.0)],
    )
    later = make_clip(
        folder / "essai-later.mp4",
        seconds=CLIP_SECONDS,
        fps=10,
        objects=[Moving(RED, (60, 30), (0, 140), (250, 140), 5.0, 10.0)],
    )
    [port_rec] = services.catalogue.ingest(
        str(port.path), PORT.id, "2026-01-04T09:00:30+00:00"
    ).added
    [later_rec] = services.catalogue.ingest(
        str(later.path), CAMERA.id, "2026-01-04T10:01:00+01:00"
    ).added
    assert services.analyser.analyse([port_rec.id, later_rec.id]).units_failed == 0
    first_rec = next(
        r.recording.id
        for r in services.store.list_recordings()
        if r.recording.id not in (port_rec.id, later_rec.id)
    )
    order = (
        _first_car(live_server, first_rec),
        _first_car(live_server, port_rec.id),
        _first_car(live_server, later_rec.id),
    )
    start = datetime.fromisoformat("2026-01-04T10:00:00+01:00")
    open_case(
        services,
        REF,
        tuple(ScopeWindow(c, start, start + timedelta(hours=1)) for c in (CAMERA.id, PORT.id)),
        (live_server.operator,),
        purpose="Suivi de la voiture rouge",
    )
    operator = Actor(live_server.operator, Role.OPERATOR)
    # Marked out of order: the page orders them by time.
    for track, note in (
        (order[2], "revient rue de l'Essai"),
        (order[0], "première vue"),
        (order[1], "passe au port"),
    ):
        services.cases.mark(operator, REF, track, MarkKind.RELEVANT, note)
    return World(live_server, order)


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"chrono-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def test_chronology_across_cameras_with_the_offline_plan(browser: Any, world: World) -> None:
    server = world.server
    context = logged_in_context(browser, server, server.operator, choose_case=False)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        # Another case active first: the chronology then offers to switch.
        page.goto(f"/case/select?next=%2Fcases%2F{REF}")
        page.check(f"form.case-choose input[name=case][value='{CASE}']")
        page.click("form.case-choose button[type=submit]")
        page.wait_for_url(re.compile(rf"/cases/{REF}$"))
        plan = page.locator("main svg.camera-map")
        assert plan.count() == 1 and plan.locator(".cm-marker").count() == 2
        assert plan.locator(".cm-badge").count() == 0  # the case page numbers nothing
        _shot(page, "01-case-page")

        page.click(f"a[href='/cases/{REF}/chronology']")
        page.wait_for_url(re.compile(rf"/cases/{REF}/chronology$"))
        assert page.locator("ol.chrono img").count() == 0
        assert "n'est pas votre dossier actif" in page.inner_text("main")
        _shot(page, "02-not-active")

        page.click("main form[action='/case/select'] button[type=submit]")
        page.wait_for_url(re.compile(rf"/cases/{REF}/chronology$"))
        page.wait_for_load_state("networkidle")
        items = page.locator("ol.chrono > li")
        assert items.count() == 3
        ids = tuple(int(items.nth(i).get_attribute("data-track") or 0) for i in range(3))
        assert ids == world.order
        # Every thumbnail loaded (served in the case), the port's time in both zones.
        loaded = page.evaluate(
            "() => [...document.querySelectorAll('ol.chrono img')]"
            ".map(i => i.complete && i.naturalWidth > 0)"
        )
        assert loaded == [True, True, True]
        second = items.nth(1).inner_text()
        assert "Quai du Port" in second and "10:00:3" in second and "caméra 09:00:3" in second
        assert "passe au port" in second and "Voiture" in second
        assert "caméra" not in items.nth(0).locator(".when").inner_text()  # Paris = Paris
        # The plan: the port's badge is 2, the Essai camera's 1 and 3, the path drawn.
        plan = page.locator("main svg.camera-map")
        badges = {
            m.get_attribute("data-camera"): m.locator(".cm-badge-n").all_text_contents()
            for m in plan.locator(".cm-marker").all()
        }
        assert badges == {CAMERA.id: ["1", "3"], PORT.id: ["2"]}
        assert plan.locator(".cm-path").count() == 1
        box = plan.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150

        # Port is north-west of Rue de l'Essai: left of it and above it on the plan.
        def centre(cam: str) -> tuple[float, float]:
            b = plan.locator(f".cm-marker[data-camera='{cam}'] .cm-cam").bounding_box()
            assert b is not None
            return b["x"] + b["width"] / 2, b["y"] + b["height"] / 2

        (px, py), (ex, ey) = centre(PORT.id), centre(CAMERA.id)
        assert px < ex and py < ey
        # The lanes: two lanes, three dots going down in time order.
        dots = page.locator("svg.lanes .ln-dot")
        ys = [float(dots.nth(i).get_attribute("cy") or 0) for i in range(dots.count())]
        assert len(ys) == 3 and ys == sorted(ys)
        assert page.locator("svg.lanes .ln-name").all_text_contents() == [
            "Rue de l'Essai",
            "Quai du Port",
        ]
        # axe: no WCAG A/AA violation on the full page.
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(
            page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        violations = results.response["violations"]
        assert not violations, _report(violations)
        _shot(page, "03-chronology")
        plan.screenshot(path=str(ARTIFACTS / "chrono-04-map.png"))

        page.goto(f"/cases/{REF}/chronology?lang=en")
        page.wait_for_load_state("networkidle")
        assert "Chronology of case" in page.inner_text("h1")
        assert "camera 09:00:3" in page.locator("ol.chrono > li").nth(1).inner_text()
        _shot(page, "05-english")
        page.goto(f"/cases/{REF}/chronology?lang=fr")

        page.locator("ol.chrono > li").nth(1).locator("a", has_text="séquence").click()
        page.wait_for_url(re.compile(rf"/track/{world.order[1]}$"))
        assert "Quai du Port" in page.inner_text("main")
        _shot(page, "06-track")
    finally:
        page.close()
        context.close()
    # Nothing from another host, ever.
    foreign = [u for u in requested if not u.startswith(server.url) and not u.startswith("data:")]
    assert foreign == [], foreign
    entries = [
        e for e in server.services.store.journal_entries(case=REF) if e.action == "chronology-view"
    ]
    assert len(entries) >= 3  # not active, active, English
