"""The search page's results as the operator reads them, through the app (TestClient): the
total ("Résultats 1–20 sur 57", counting objects as the pages list them, not tracks), the
pager it drives, the API's same total, the per-camera groups of a time-ordered page, and the
timelines' time ticks in the operator's zone.

The module's own store: 60 car tracks over two cameras (Paris and UTC) between 09:00 and
09:30 UTC on 4 January 2026, three pairs of them linked as fragments of one object each, so
57 results; one track is red, the others white.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import fixed_clock, make_services
from retrouve.config import Settings, WebSettings
from retrouve.domain import (
    Attribute,
    Box,
    Camera,
    Observation,
    Recording,
    StageStats,
    Track,
    UnitResult,
    WorkUnit,
)
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from retrouve.store.records import TrackFilter
from retrouve.web import create_app
from web.conftest import JPEG, FakeClock, Web, case_over_everything, cheap_hasher

T0 = datetime(2026, 1, 4, 9, 0, tzinfo=UTC)  # 10:00 in Paris
CAMERAS = (Camera("nord", "Rue du Nord", "Europe/Paris"), Camera("port", "Port", "UTC"))
N_TRACKS, N_RESULTS = 60, 57
H3 = re.compile(r'<h3 class="cam-group"[^>]*>(.*?)</h3>', re.S)


def _camera_of(i: int) -> str:
    return "port" if i % 5 in (1, 3) else "nord"  # 24 on the port, 36 on the north street


def _tracks(camera: str) -> tuple[Track, ...]:
    rec = f"r-{camera}"
    out = []
    for i in range(N_TRACKS):
        if _camera_of(i) != camera:
            continue
        t0 = 30.0 * i + 5
        box = Box(100.0, 200.0, 300.0, 320.0)
        # Confidence not in time order: score order and time order differ.
        conf = 0.5 + ((i * 37) % 50) / 100
        colour = "red" if i == 7 else "white"
        out.append(
            Track(
                recording_id=rec,
                unit_id=f"{rec}@0",
                local_id=i + 1,
                object="car",
                object_confidence=conf,
                t_start=t0,
                t_end=t0 + 8,
                best_t=t0 + 4,
                best_box=box,
                attributes=(
                    Attribute("colour", colour, 0.9),
                    Attribute("vehicle_type", "car", 1.0),
                ),
                observations=(Observation(t0, box, conf), Observation(t0 + 8, box, conf)),
                thumbnail_jpeg=JPEG,
            )
        )
    return tuple(out)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    data_dir: Path = tmp_path_factory.mktemp("results")
    svc = make_services(Settings(data_dir=data_dir, workers=1, executor="inline"))
    try:
        run = svc.store.start_run(fixed_clock(), {}, {"detector": "hand"}, "test")
        for cam in CAMERAS:
            svc.catalogue.add_camera(cam)
            rec = f"r-{cam.id}"
            svc.store.add_recording(
                Recording(
                    rec,
                    cam.id,
                    f"/footage/{rec}.mp4",
                    cam.id * 32,
                    1000,
                    T0,
                    3600.0,
                    25.0,
                    1280,
                    720,
                    "h264",
                ),
                fixed_clock(),
            )
            svc.store.ensure_units(
                [WorkUnit(f"{rec}@0", rec, f"/footage/{rec}.mp4", 0.0, math.inf, 25.0)]
            )
            svc.store.save_unit_result(
                run, UnitResult(f"{rec}@0", _tracks(cam.id), StageStats()), fixed_clock()
            )
            svc.store.set_recording_status(rec, "done", None)
        # Three objects seen twice on the north street: 60 tracks, 57 results.
        nord = [
            r.id
            for r in svc.store.find_tracks(TrackFilter(cameras=("nord",)), order="time", limit=100)
        ]
        svc.store.set_objects({nord[1]: nord[0], nord[3]: nord[2], nord[5]: nord[4]})
        case_over_everything(svc, ("operator",))
        yield svc
    finally:
        svc.close()


@pytest.fixture
def web(services: Services) -> Iterator[Web]:
    accounts = Accounts(services.store, fixed_clock, cheap_hasher())
    if accounts.get("operator") is None:
        accounts.add("operator", "operator", "correct horse battery")
    clock = FakeClock()
    env = Web(
        create_app(services, WebSettings(secure_cookies=False), accounts=accounts, clock=clock),
        clock,
        accounts,
    )
    try:
        yield env
    finally:
        for c in env.clients:
            c.close()


def _heading(html: str) -> str:
    found = re.search(r'<h2 class="results-count">(.*?)</h2>', html, re.S)
    assert found, "no results heading"
    return found.group(1).strip()


def _hits(html: str) -> int:
    return html.count('<li class="hit">')


# ------------------------------------------------------------------------------- total
def test_the_total_counts_results_as_paged_not_tracks(services: Services, web: Web) -> None:
    assert services.store.count_tracks() == N_TRACKS
    client = web.login("operator")
    pages = [client.get(f"/search?object=car&limit=20&offset={o}").text for o in (0, 20, 40)]
    assert [_heading(p) for p in pages] == [
        "Résultats 1–20 sur 57",
        "Résultats 21–40 sur 57",
        "Résultats 41–57 sur 57",
    ]
    assert [_hits(p) for p in pages] == [20, 20, 17]  # the pages hold exactly the total
    assert "offset=20" in pages[0] and "Suivants" in pages[0]
    assert "Suivants" not in pages[2] and "Précédents" in pages[2]  # the last page
    english = client.get("/search?object=car&limit=20&lang=en").text
    assert _heading(english) == "Results 1–20 of 57"


def test_a_full_last_page_has_no_next_link(web: Web) -> None:
    client = web.login("operator")
    html = client.get("/search?object=car&limit=19&offset=38").text
    assert _heading(html) == "Résultats 39–57 sur 57" and _hits(html) == 19
    assert "Suivants" not in html  # 57 = 3 × 19: no empty fourth page offered


@pytest.mark.parametrize(
    ("url", "fr", "en"),
    [
        ("/search?object=car&colour=red", "1 résultat", "1 result"),
        ("/search?object=person", "Aucun résultat", "No results"),
        ("/search?object=car&limit=96", "57 résultats", "57 results"),
    ],
)
def test_count_wording(web: Web, url: str, fr: str, en: str) -> None:
    client = web.login("operator")
    assert _heading(client.get(url).text) == fr
    assert _heading(client.get(url + "&lang=en").text) == en


def test_past_the_last_page_says_how_many_and_leads_back(web: Web) -> None:
    html = web.login("operator").get("/search?object=car&limit=20&offset=60").text
    assert _heading(html) == "Aucun résultat sur cette page : la recherche en compte 57"
    assert "Première page" in html and "offset=0" in html


def test_the_api_gives_the_same_total(web: Web) -> None:
    client = web.login("operator")
    first = client.get("/api/search?object=car&limit=20").json()
    last = client.get("/api/search?object=car&limit=20&offset=40").json()
    assert (first["total"], first["total_at_least"], len(first["hits"])) == (57, False, 20)
    assert (last["total"], len(last["hits"])) == (57, 17)
    timed = client.get("/api/search?object=car&limit=20&order=time").json()
    assert timed["total"] == 57


# ------------------------------------------------------------------------------ groups
def test_time_order_groups_the_page_by_camera(web: Web) -> None:
    html = web.login("operator").get("/search?object=car&limit=20&order=time").text
    headings = H3.findall(html)
    assert len(headings) == 2
    # The north street first: its first object was first seen at 10:00:05 (its best-ranked
    # fragment, at 10:01:05, comes after the port's first car at 10:00:35). Objects are
    # placed in time by their first sighting, the time their card shows.
    assert (
        re.search(r'<time datetime="([^"]+)"', html)
        .group(1)
        .startswith(  # type: ignore[union-attr]
            "2026-01-04T10:00:05+01:00"
        )
    )
    assert "Rue du Nord" in headings[0] and "nord · Europe/Paris" in headings[0]
    assert "Port" in headings[1] and "port · UTC" in headings[1]
    counts = [
        int(re.search(r"(\d+) résultats? sur cette page", h).group(1))  # type: ignore[union-attr]
        for h in headings
    ]
    assert sum(counts) == 20 == _hits(html)
    # Heading levels: the results' h2, then one h3 per camera, each before its own list.
    assert html.index('class="results-count"') < html.index('class="cam-group"')
    sections = html.split('<h3 class="cam-group"')[1:]
    for section, n in zip(sections, counts, strict=True):
        times = re.findall(r'<time datetime="([^"]+)">', section)
        assert len(times) == n
        instants = [datetime.fromisoformat(t) for t in times]
        assert instants == sorted(instants)  # time order inside each group
    # Every result keeps its position in the search (the sequence page's previous/next).
    positions = sorted(int(p) for p in re.findall(r'href="/track/\d+\?[^"]*pos=(\d+)"', html))
    assert positions == list(range(20))


def test_score_order_is_one_list(web: Web) -> None:
    html = web.login("operator").get("/search?object=car&limit=20").text
    assert 'class="cam-group"' not in html and html.count('<ol class="grid"') == 1
    english = web.login("operator").get("/search?object=car&limit=20&order=time&lang=en").text
    assert "results on this page" in english and "grouped by camera" in english


# ------------------------------------------------------------------------------- ticks
def _tick_labels(html: str) -> list[str]:
    axis = re.search(r'<svg class="tl-axis".*?</svg>', html, re.S)
    assert axis, "no time axis"
    return re.findall(r'<text x="[\d.]+%" y="18"[^>]*>([^<]+)</text>', axis.group(0))


def test_the_axis_ticks_the_searched_window_in_the_operator_zone(web: Web) -> None:
    client = web.login("operator")
    # Half an hour typed in the operator zone (Paris: the cameras differ, the default).
    url = "/search?object=car&from=2026-01-04T10:00&to=2026-01-04T10:30"
    html = client.get(url).text
    assert _tick_labels(html) == ["10:00", "10:05", "10:10", "10:15", "10:20", "10:25", "10:30"]
    assert 'class="tl-day"' in html and ">04/01<" in html  # the date beside the first tick
    assert "<title>04/01/2026 10:00:00 CET</title>" in html  # the full time, on hover
    assert "heures de Europe/Paris" in html
    # Two hours: quarter hours.
    wide = client.get("/search?object=car&from=2026-01-04T09:00&to=2026-01-04T11:00").text
    assert _tick_labels(wide)[:3] == ["09:00", "09:15", "09:30"]
    # Grid lines at the same places through each camera's timeline.
    assert wide.count('class="tl-grid"') == 2 * len(_tick_labels(wide))


def test_ticks_follow_the_user_zone(web: Web) -> None:
    web.accounts.set_time_zone("operator", "Asia/Tokyo")
    try:
        html = (
            web.login("operator")
            .get("/search?object=car&from=2026-01-04T18:00&to=2026-01-04T18:30&lang=en")
            .text
        )
    finally:
        web.accounts.set_time_zone("operator", None)
    assert _tick_labels(html)[0] == "18:00" and _tick_labels(html)[-1] == "18:30"
    assert ">Jan 04<" in html and "times in Asia/Tokyo" in html


def test_an_open_window_ticks_the_hits_span(web: Web) -> None:
    html = web.login("operator").get("/search?object=car").text
    labels = _tick_labels(html)
    # Hits from 10:00:05 to 10:29:43 Paris: five-minute ticks from 10:05.
    assert labels[0] == "10:05" and labels[-1] == "10:25" and len(labels) == 5
