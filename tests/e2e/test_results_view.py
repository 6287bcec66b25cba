"""The search results as an operator sees them in Chromium at 1280 px: the total and the pager,
the time-ordered page grouped by camera (headings, j/k through every card in order, axe
clean), and the timelines' time axis over the searched window, readable (labels apart, inside
the drawing, not shrunk).

The server and its clip (one red car at 10:00:09 Paris on the "Rue de l'Essai" camera) come
from ``conftest.py``; this module adds two cameras with an analysed clip each (two cars
apiece; the second camera keeps London time, so its cards also say the camera's own time) and
a case ``E2E-RES`` over the three cameras' 10:00–11:00, in which the operator works.
Screenshots: ``test-artifacts/results-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from clips import BLUE, GREEN, RED, YELLOW, Moving, make_clip
from retrouve.domain import Camera, ScopeWindow
from web.conftest import open_case

from .conftest import ARTIFACTS, CAMERA, LiveServer, logged_in_context
from .test_accessibility import WCAG_TAGS

CASE_REF = "E2E-RES"
QUAI = Camera("cam-quai", "Quai des Brumes", "Europe/Paris")
PONT = Camera("cam-pont", "Pont Neuf", "Europe/London")
#: The clips' starts (Paris time) and their cars (each ~4 s on screen).
CLIPS = (
    (QUAI, "2026-01-04T10:05:00+01:00", (BLUE, GREEN)),
    (PONT, "2026-01-04T10:12:00+01:00", (YELLOW, RED)),
)
N_CARS = 5  # the conftest's red car, and two per added clip


@pytest.fixture(scope="module")
def results_case(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two more cameras with two cars each, and a case over the three cameras' hour."""
    services = live_server.services
    folder = tmp_path_factory.mktemp("results-view")
    for cam, start, (first, second) in CLIPS:
        services.catalogue.add_camera(cam)
        clip = make_clip(
            folder / f"{cam.id}.mp4",
            seconds=12.0,
            fps=10,
            objects=[
                Moving(first, (60, 30), (0, 40), (250, 40), 1.0, 5.0),
                Moving(second, (60, 30), (250, 150), (0, 150), 6.0, 10.0),
            ],
        )
        [rec] = services.catalogue.ingest(str(clip.path), cam.id, start).added
        assert services.analyser.analyse([rec.id]).units_failed == 0
    hour = datetime.fromisoformat("2026-01-04T10:00:00+01:00")
    open_case(
        services,
        CASE_REF,
        tuple(ScopeWindow(c.id, hour, hour + timedelta(hours=1)) for c in (CAMERA, QUAI, PONT)),
        (live_server.operator,),
        purpose="Vol de véhicule, trois caméras",
    )
    return CASE_REF


@pytest.fixture(scope="module")
def operator(browser: Any, live_server: LiveServer, results_case: str) -> Iterator[Any]:
    """The operator, logged in, working in the module's case."""
    context = logged_in_context(browser, live_server, live_server.operator, choose_case=False)
    page = context.new_page()
    page.goto("/case/select?next=%2Fsearch")
    page.check(f"input[name=case][value='{results_case}']")
    page.click("form.case-choose button[type=submit]")
    page.wait_for_url("**/search")
    page.close()
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def pg(operator: Any) -> Iterator[Any]:
    page = operator.new_page()
    try:
        yield page
    finally:
        page.close()


def _shot(page: Any, name: str, record_property: Any, element: str | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"results-{name}.png"
    if element:
        page.locator(element).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    record_property(f"screenshot-{name}", str(path))
    print(f"screenshot: {path}")


def _thumbs_loaded(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('li.hit img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )


def _heading(page: Any) -> str:
    text: str = page.inner_text("h2.results-count")
    return text.strip()


def test_the_total_and_the_pager(pg: Any, record_property: Any) -> None:
    pg.goto("/search?object=car&limit=12&lang=fr")  # ?lang= sticks: said each time
    assert _heading(pg) == f"{N_CARS} résultats"
    assert pg.locator("li.hit").count() == N_CARS
    assert pg.locator("nav.pager a").count() == 0  # one page holds them all
    pg.goto("/search?object=car&limit=2")
    assert _heading(pg) == f"Résultats 1–2 sur {N_CARS}"
    pg.click("nav.pager a:has-text('Suivants')")
    pg.wait_for_url(re.compile(r"offset=2"))
    assert _heading(pg) == f"Résultats 3–4 sur {N_CARS}"
    _thumbs_loaded(pg)
    _shot(pg, "count-paged", record_property)
    pg.click("nav.pager a:has-text('Suivants')")
    pg.wait_for_url(re.compile(r"offset=4"))
    assert _heading(pg) == f"Résultat 5 sur {N_CARS}"
    assert pg.locator("nav.pager a:has-text('Suivants')").count() == 0  # the last page
    pg.goto("/search?object=car&limit=2&lang=en")
    assert _heading(pg) == f"Results 1–2 of {N_CARS}"
    pg.goto("/search?object=car&colour=yellow&lang=en")
    assert _heading(pg) == "1 result"
    pg.goto("/search?object=bus&lang=fr")
    assert _heading(pg) == "Aucun résultat"


def test_time_order_groups_by_camera_and_j_walks_every_card(pg: Any, record_property: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    pg.goto("/search?object=car&order=time&lang=fr")
    groups = pg.locator("h3.cam-group")
    names = [groups.nth(i).locator(".cam-name").inner_text() for i in range(groups.count())]
    # In the order the cameras were first seen: 10:00:09, 10:05:01, 10:12:01 (Paris).
    assert names == ["Rue de l'Essai", "Quai des Brumes", "Pont Neuf"]
    assert "Europe/London" in groups.nth(2).inner_text()
    assert "2 résultats sur cette page" in groups.nth(1).inner_text()
    # Each group's list is named by its heading, its cards in time order.
    for i in range(groups.count()):
        heading_id = groups.nth(i).get_attribute("id")
        cards = pg.locator(f"ol[aria-labelledby='{heading_id}'] li.hit time")
        times = [cards.nth(k).get_attribute("datetime") for k in range(cards.count())]
        assert times and times == sorted(times, key=datetime.fromisoformat)
    _thumbs_loaded(pg)
    _shot(pg, "grouped", record_property)
    # j walks every card, across the groups, in the page's order; k walks back.
    total = pg.locator(".results .hit").count()
    assert total == N_CARS
    order = []
    for _ in range(total + 1):  # one more press stays on the last card
        pg.keyboard.press("j")
        order.append(
            pg.evaluate(
                "() => [...document.querySelectorAll('.results .hit')]"
                ".indexOf(document.activeElement.closest('.results .hit'))"
            )
        )
    assert order == [*range(total), total - 1]
    pg.keyboard.press("k")
    assert pg.evaluate("() => document.activeElement.querySelector('time') !== null")
    # Headings in order for the accessibility scan: h1, h2 (the count), h3 per camera.
    levels = pg.evaluate(
        "() => [...document.querySelectorAll('main h1, main h2, main h3')]"
        ".map(h => Number(h.tagName[1]))"
    )
    assert levels[:2] == [1, 2] and levels.count(3) == 3
    assert all(b <= a + 1 for a, b in pairwise(levels))
    pg.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    found = (
        Axe()
        .run(
            pg,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        .response["violations"]
    )
    assert not found, [(v["id"], [n["target"] for n in v["nodes"]]) for v in found]
    pg.goto("/search?object=car&order=time&lang=en")
    assert "2 results on this page" in pg.locator("h3.cam-group").nth(1).inner_text()
    _thumbs_loaded(pg)
    _shot(pg, "grouped-en", record_property)


def _tick_boxes(page: Any) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        """() => {
            const svg = document.querySelector('svg.tl-axis');
            const box = svg.getBoundingClientRect();
            const texts = [...svg.querySelectorAll('text:not(.tl-day)')];
            return {svg: [box.left, box.right],
                    labels: texts.map(t => t.textContent),
                    boxes: texts.map(t => { const b = t.getBoundingClientRect();
                                            return [b.left, b.right]; }),
                    font: parseFloat(getComputedStyle(texts[0]).fontSize),
                    track: document.querySelector('.timeline svg').getBoundingClientRect().width};
        }"""
    )
    return found


def test_the_timeline_axis_is_readable_over_the_searched_window(
    pg: Any, record_property: Any
) -> None:
    pg.goto("/search?object=car&from=2026-01-04T10:00&to=2026-01-04T10:30&order=time&lang=fr")
    axis = _tick_boxes(pg)
    assert axis["labels"] == ["10:00", "10:05", "10:10", "10:15", "10:20", "10:25", "10:30"]
    left, right = axis["svg"]
    boxes = axis["boxes"]
    # Inside the drawing, apart from each other (8 px at least), at a readable size.
    assert all(left - 0.5 <= a and b <= right + 0.5 for a, b in boxes), (axis["svg"], boxes)
    assert all(b[0] - a[1] >= 8 for a, b in pairwise(boxes)), boxes
    assert axis["font"] >= 11
    assert abs((right - left) - axis["track"]) < 1  # the axis spans the timelines' width
    # The marks fall where their times are: the 10:12 cars on the bridge at 12/30 of the way.
    mark = pg.locator(".timeline svg a").filter(has=pg.locator("title", has_text="10:12")).first
    x = float(mark.locator("rect").get_attribute("x"))
    assert 390 <= x <= 420, x
    _shot(pg, "timeline-axis", record_property, element="details.timelines")
    # A day-long window: hours, labelled in the operator zone, the day beside the first.
    pg.goto("/search?object=car&from=2026-01-04T00:00&to=2026-01-05T00:00&lang=en")
    axis = _tick_boxes(pg)
    assert axis["labels"] == [
        "00:00",
        "03:00",
        "06:00",
        "09:00",
        "12:00",
        "15:00",
        "18:00",
        "21:00",
        "00:00",
    ]
    assert all(b[0] - a[1] >= 8 for a, b in pairwise(axis["boxes"])), axis["boxes"]
    assert pg.locator("svg.tl-axis text.tl-day").first.text_content() == "Jan 04"
    _shot(pg, "timeline-day-en", record_property, element="details.timelines")
