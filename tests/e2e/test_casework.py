"""A requisition worked end to end in a real headless Chromium (issue 10's browser test):

1. the supervisor logs in, creates a case through the ``/cases/new`` form (scope: the test
   camera, 09:59–10:30 camera time, which holds the 10:00 clip and not the noon one) and
   assigns the operator on the case page;
2. the operator logs in, selects the case in the header switcher, searches, opens a result and
   marks it relevant from the track page's mark form; a crafted URL to a track of the noon
   clip (outside the scope) shows the 404 page;
3. the auditor logs in and sees those actions on ``/journal``, filtered by the case.

A screenshot of each step goes to ``test-artifacts/casework-NN-*.png`` (ignored by git). The
server, the analysed 10:00 clip and the operator come from ``conftest.py``; this module adds a
second analysed clip at noon on the same camera, a supervisor and an auditor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clips import RED, Moving, make_clip
from conftest import fixed_clock
from retrouve.legal.accounts import Accounts
from retrouve.store.records import TrackFilter

from .conftest import (
    ARTIFACTS,
    CAMERA,
    CLIP_SECONDS,
    LiveServer,
    cheap_hasher,
    mark_first_hit,
)

REF = "2026-0042"
SUPERVISOR, AUDITOR = "sophie", "aude"
NOTE = "la voiture rouge de la réquisition"
NOON_START = "2026-01-04T12:00:00+01:00"


@dataclass(frozen=True)
class World:
    server: LiveServer
    outside_track: int  # a track of the noon clip, outside the case's scope


@pytest.fixture(scope="module")
def world(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> World:
    services = live_server.services
    clip = make_clip(tmp_path_factory.mktemp("noon") / "noon.mp4", seconds=CLIP_SECONDS,
                     fps=10, objects=[Moving(RED, (60, 30), (250, 60), (0, 60), 2.0, 8.0)])
    [rec] = services.catalogue.ingest(str(clip.path), CAMERA.id, NOON_START).added
    assert services.analyser.analyse([rec.id]).units_failed == 0
    noon = [t.id for t in services.store.find_tracks(TrackFilter(), limit=100)
            if t.recording_id == rec.id]
    assert noon, "the noon clip should give a track (the crafted URL needs one)"
    accounts = Accounts(services.store, fixed_clock, cheap_hasher())
    accounts.add(SUPERVISOR, "supervisor", live_server.password)
    accounts.add(AUDITOR, "auditor", live_server.password)
    return World(live_server, noon[0])


class Shots:
    """Numbered full-page screenshots of one test, in ``test-artifacts/``."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.n = 0
        ARTIFACTS.mkdir(exist_ok=True)
        for old in ARTIFACTS.glob("casework-*.png"):
            old.unlink()

    def __call__(self, name: str) -> Path:
        self.n += 1
        path = ARTIFACTS / f"casework-{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        return path


def log_in(page: Any, name: str, password: str, target: str) -> None:
    """Open ``target`` anonymously, log in on the form it sends us to, land back on it (or on
    the case chooser, for a data page without an active case)."""
    page.goto(target)
    assert "/login?next=" in page.url, page.url
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.inner_text("main")


def log_out(page: Any) -> None:
    page.click("form[action='/logout'] button[type=submit]")
    page.wait_for_load_state()
    page.context.clear_cookies()


def test_a_case_from_creation_to_the_journal(page: Any, world: World) -> None:
    server = world.server
    shot = Shots(page)

    # --- 1. the supervisor creates the case through the form
    log_in(page, SUPERVISOR, server.password, "/cases/new")
    assert page.url.endswith("/cases/new")
    page.fill("input[name=ref]", REF)
    page.fill("input[name=procedure_number]", "PV 2026/0042")
    page.check("input[name=basis][value='60-1']")
    page.fill("input[name=authority]", "OPJ Martin")
    page.fill("input[name=authority_service]", "Commissariat central")
    page.fill("textarea[name=purpose]", "Vol à l'arraché rue de l'Essai")
    page.select_option("select[name=scope_camera] >> nth=0", CAMERA.id)
    page.fill("input[name=scope_from] >> nth=0", "2026-01-04T09:59:00")
    page.fill("input[name=scope_to] >> nth=0", "2026-01-04T10:30:00")
    shot("case-form")
    page.click("form.case-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{REF}\?msg=created$"))
    assert REF in page.inner_text("main")
    # ... and assigns the operator on the case page
    page.check(f"form[action='/cases/{REF}/assign'] input[name=assign]"
               f"[value='{server.operator}']")
    page.click(f"form[action='/cases/{REF}/assign'] button[type=submit]")
    page.wait_for_load_state()
    assert server.operator in page.inner_text("main")
    shot("case-assigned")
    case = server.services.cases.get(REF)
    assert case.assigned == (server.operator,)
    assert [w.camera for w in case.scope] == [CAMERA.id]
    log_out(page)

    # --- 2. the operator: log in, choose a case, switch to the new one in the header
    log_in(page, server.operator, server.password, "/search")
    page.wait_for_url(re.compile(r"/case/select\?next=%2Fsearch$"))
    page.check("form.case-choose input[name=case][value='WEB-1']")
    page.click("form.case-choose button[type=submit]")
    page.wait_for_url(re.compile(r"/search$"))
    assert "WEB-1" in page.inner_text("header .case-active")
    page.select_option(".case-switch select[name=case]", REF)
    page.click(".case-switch form button[type=submit]")
    page.wait_for_load_state()
    assert REF in page.inner_text("header .case-active")
    shot("case-switched")

    # ... searches a car in it: the 10:00 clip's, never the noon one's
    page.select_option("select[name=object]", "car")
    page.click("form.criteria button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?.*object=car"))
    hits = page.locator("ol.grid li.hit")
    assert hits.count() >= 1, page.inner_text("section.results")
    links = [hits.nth(i).locator("a.thumb").get_attribute("href") for i in range(hits.count())]
    assert not any(f"/track/{world.outside_track}?" in (h or "") for h in links), links
    shot("search-results")

    # ... opens the first result and marks it relevant
    track_id = mark_first_hit(page, hits, NOTE)
    assert "Pertinent" in page.inner_text("form.mark-form .mark-now")
    shot("track-marked")
    [mark] = server.services.store.case_marks(server.services.cases.get(REF).id)
    assert (mark.track_id, mark.mark.value, mark.note, mark.by) == (
        track_id, "relevant", NOTE, server.operator)

    # ... a crafted URL to a track outside the scope: the 404 page, as for an unknown id
    resp = page.goto(f"/track/{world.outside_track}")
    assert resp is not None and resp.status == 404
    assert "Introuvable" in page.inner_text("main")
    shot("out-of-scope-404")
    log_out(page)

    # --- 3. the auditor sees the entries of the case on /journal
    log_in(page, AUDITOR, server.password, "/journal")
    assert page.url.endswith("/journal")
    page.select_option("form.filters select[name=case]", REF)
    page.click("form[action='/journal'] button[type=submit]")
    page.wait_for_url(re.compile(rf"/journal\?.*case={REF}"))
    assert page.locator("p.verdict.ok").count() == 1  # the chain verifies, said on the page
    rows = page.locator("table.journal tbody tr")
    seen = [(rows.nth(i).locator("td").nth(2).inner_text().split(" ")[0],
             # The action's label, then its canonical name (in small type): the name.
             rows.nth(i).locator("td").nth(4).inner_text().split()[-1])
            for i in range(rows.count())]
    shot("journal")
    for user, action in ((SUPERVISOR, "case-create"), (SUPERVISOR, "case-assign"),
                         (server.operator, "case-select"), (server.operator, "search"),
                         (server.operator, "result-mark"),
                         (server.operator, "scope-refused")):
        assert (user, action) in seen, (user, action, seen)
    # The refusal names the crafted id; the mark its track and note.
    table = page.inner_text("table.journal")
    assert str(world.outside_track) in table and NOTE in table
    # An auditor never gets footage: no track or media link on the page.
    assert page.locator("a[href*='/track/'], a[href*='/media/']").count() == 0
