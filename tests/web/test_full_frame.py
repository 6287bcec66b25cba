"""The full-frame view over a real ingested and analysed clip, through the real app: the JPEG
at the stored resolution, the box on the page in stored-frame pixels, the scope refusals,
the journal entry (with the frame time) and the cache headers.

Footage: camera ``cam`` (Paris) has one 16:9 clip (480×270, not the 4:3 of the cards) at
10:00 where a red "car" crosses 4..9 s. Case ``FULL`` covers the hour; case ``CUT`` only
10:00:00–10:00:06 (the clip's window past 6 s is outside it); case ``OTHER`` another camera.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from clips import RED, Moving, make_clip
from conftest import fixed_clock, make_services
from retrouve.config import Settings, WebSettings
from retrouve.domain import Camera, ScopeWindow
from retrouve.legal.accounts import Accounts
from retrouve.legal.journal import ResultViewed
from retrouve.services import Services
from retrouve.store import schema as s
from retrouve.store.journal import JournalRow
from retrouve.web import create_app
from retrouve.web.full_frame import box_at
from web.conftest import PASSWORD, FakeClock, Web, cheap_hasher, open_case

TEN = "2026-01-04T10:00:00+01:00"
SIZE = (480, 270)
CAR = Moving(RED, (80, 40), (20, 120), (360, 120), 4.0, 9.0)


@dataclass(frozen=True)
class World:
    services: Services
    track_id: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("full_frame")
    services = make_services(Settings(data_dir=root / "data", workers=1, executor="inline"))
    for cam in ("cam", "far"):
        services.catalogue.add_camera(Camera(cam, f"Caméra {cam}", "Europe/Paris"))
    clip = make_clip(root / "f" / "car.mp4", seconds=12.0, fps=10, size=SIZE, objects=[CAR])
    [rec] = services.catalogue.ingest(str(clip.path), "cam", start=TEN).added
    assert services.analyser.analyse().units_failed == 0
    with services.store.engine.connect() as conn:
        ids = [
            int(i)
            for i in conn.execute(
                select(s.tracks.c.id).where(s.tracks.c.recording_id == rec.id)
            ).scalars()
        ]
    assert ids, "the analysis found no track"
    Accounts(services.store, fixed_clock, cheap_hasher()).add("op", "operator", PASSWORD)
    start = datetime.fromisoformat(TEN)
    open_case(services, "FULL", (ScopeWindow("cam", start, start + timedelta(hours=1)),), ("op",))
    open_case(services, "CUT", (ScopeWindow("cam", start, start + timedelta(seconds=6)),), ("op",))
    open_case(services, "OTHER", (ScopeWindow("far", start, start + timedelta(hours=1)),), ("op",))
    try:
        yield World(services, ids[0])
    finally:
        services.close()


@pytest.fixture
def web(world: World) -> Iterator[Web]:
    accounts = Accounts(world.services.store, fixed_clock, cheap_hasher())
    app = create_app(
        world.services, WebSettings(secure_cookies=False), accounts=accounts, clock=FakeClock()
    )
    env = Web(app, FakeClock(), accounts)
    try:
        yield env
    finally:
        for c in env.clients:
            c.close()


def _head(world: World) -> int:
    rows = list(world.services.store.journal_entries())
    return rows[-1].seq if rows else 0


def _entries(world: World, action: str, since: int) -> list[JournalRow]:
    return [
        e for e in world.services.store.journal_entries(seq_from=since + 1) if e.action == action
    ]


def _details(row: JournalRow) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(row.details_json)
    return out


def _client(web: Web, case: str = "FULL") -> TestClient:
    return web.login("op", case=case)


def test_the_jpeg_is_the_whole_frame_at_the_stored_size(web: Web, world: World) -> None:
    detail = world.services.store.track_detail(world.track_id)
    assert detail is not None
    resp = _client(web).get(f"/media/frame/{world.track_id}")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/jpeg"
    assert resp.headers["cache-control"] == "private, no-store"
    assert resp.headers["x-content-type-options"] == "nosniff"
    img = Image.open(io.BytesIO(resp.content))
    assert img.format == "JPEG" and img.size == SIZE
    assert resp.headers["x-retrouve-frame-size"] == "480x270"
    # The best frame itself (an analysed frame's own time), not one near it.
    assert float(resp.headers["x-retrouve-frame-t"]) == pytest.approx(detail.best_t, abs=1e-3)
    # The car is where the stored box says, on this very frame: red inside, grey around.
    rgb = np.asarray(img.convert("RGB")).astype(int)
    b = detail.box
    inner = rgb[int(b.y0) + 4 : int(b.y1) - 4, int(b.x0) + 4 : int(b.x1) - 4]
    assert inner.size and (inner[..., 0] > 150).all() and (inner[..., 1] < 90).all()
    outside = rgb[int(b.y0) + 4 : int(b.y1) - 4, max(0, int(b.x0) - 12) : int(b.x0) - 6]
    assert outside.size and (abs(outside[..., 0] - outside[..., 1]) < 30).all()


def test_a_time_picks_the_nearest_frame(web: Web, world: World) -> None:
    resp = _client(web).get(f"/media/frame/{world.track_id}", params={"t": "5.04"})
    assert resp.status_code == 200, resp.text
    assert float(resp.headers["x-retrouve-frame-t"]) == pytest.approx(5.0, abs=1e-3)


def test_the_page_draws_the_box_in_frame_pixels(web: Web, world: World) -> None:
    detail = world.services.store.track_detail(world.track_id)
    assert detail is not None
    resp = _client(web).get(f"/frame/{world.track_id}?lang=en")
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert 'viewBox="0 0 480 270"' in html
    rect = re.search(
        r'<svg class="box"[^>]*><rect x="([\d.]+)" y="([\d.]+)" '
        r'width="([\d.]+)" height="([\d.]+)"',
        html,
    )
    assert rect, html
    got = tuple(float(v) for v in rect.groups())
    b = detail.box
    assert got == pytest.approx((b.x0, b.y0, b.width, b.height), abs=0.051)
    assert f'src="/media/frame/{world.track_id}?t={detail.best_t:.3f}"' in html
    assert 'width="480" height="270"' in html
    assert "Full frame — sequence" in html and 'data-zoom="in"' in html
    assert '<script src="/static/frame.js"></script>' in html


def test_the_box_at_another_time_follows_the_observations(world: World) -> None:
    detail = world.services.store.track_detail(world.track_id)
    assert detail is not None
    t, x0 = detail.observations[1][0], detail.observations[1][1]
    box = box_at(detail, t)
    assert box is not None and box.x0 == pytest.approx(x0)
    assert box_at(detail, detail.t_end + 1.0) is None


def test_views_are_journalled_with_the_frame_time(web: Web, world: World) -> None:
    detail = world.services.store.track_detail(world.track_id)
    assert detail is not None
    since = _head(world)
    client = _client(web)
    assert client.get(f"/frame/{world.track_id}").status_code == 200
    assert (
        client.get(
            f"/media/frame/{world.track_id}", params={"t": f"{detail.best_t:.3f}"}
        ).status_code
        == 200
    )
    views = _entries(world, "result-view", since)
    # The page's entry covers the JPEG it shows: one entry, with the frame's time.
    assert [_details(e) for e in views] == [{"view": "frame", "frame_t": round(detail.best_t, 3)}]
    assert json.loads(views[0].objects_json) == [f"track:{world.track_id}"]
    assert views[0].case == "FULL"
    # Another time is another view.
    assert client.get(f"/media/frame/{world.track_id}", params={"t": "5"}).status_code == 200
    assert [_details(e)["frame_t"] for e in _entries(world, "result-view", since)][1:] == [5.0]


def test_an_entry_without_frame_time_reads_as_before() -> None:
    assert ResultViewed(case="X", view="clip", track_id=1).details() == {"view": "clip"}


@pytest.mark.parametrize(
    ("case", "url", "status"),
    [
        # CUT ends at 6 s: 7.5 s is inside the clip's window but outside the case.
        ("CUT", "/media/frame/{id}?t=7.5", 404),
        ("CUT", "/frame/{id}?t=7.5", 404),
        # Inside both (the window starts 5 s before the car, at 0 s).
        ("CUT", "/media/frame/{id}?t=0.5", 200),
        # Inside the case (the whole hour) but past the clip's window (the recording's end).
        ("FULL", "/media/frame/{id}?t=600", 404),
    ],
)
def test_a_time_outside_the_scope_is_refused(
    web: Web, world: World, case: str, url: str, status: int
) -> None:
    since = _head(world)
    resp = _client(web, case).get(url.format(id=world.track_id))
    assert resp.status_code == status
    refusals = _entries(world, "scope-refused", since)
    if status == 404:
        # As an unknown track, journalled with the time asked for, and nothing shown.
        assert [_details(r)["route"] for r in refusals] == ["frame"]
        t = float(url.rsplit("=", 1)[1])
        assert _details(refusals[0])["requested"] == f"{world.track_id}@{t:.3f}"
        assert _entries(world, "result-view", since) == []
    else:
        assert refusals == [] and resp.headers["content-type"] == "image/jpeg"


def test_a_track_of_another_camera_is_unknown(web: Web, world: World) -> None:
    since = _head(world)
    client = _client(web, "OTHER")
    for url in (f"/media/frame/{world.track_id}", f"/frame/{world.track_id}"):
        assert client.get(url).status_code == 404
    assert len(_entries(world, "scope-refused", since)) == 2
    assert _entries(world, "result-view", since) == []


def test_no_login_no_frame(web: Web, world: World) -> None:
    resp = web.client().get(f"/media/frame/{world.track_id}")
    assert resp.status_code in (303, 401)
    assert not resp.headers.get("content-type", "").startswith("image/")


def test_cards_and_the_track_page_offer_the_full_frame(web: Web, world: World) -> None:
    client = _client(web)
    page = client.get("/search", params={"object": "car", "lang": "en"}).text
    link = re.search(r'<a class="button small" href="(/frame/(\d+)\?[^"]*)">Full frame', page)
    assert link, page
    # The thumbnail link still opens the sequence.
    assert re.search(rf'<a href="/track/{link.group(2)}\?[^"]*" class="thumb"', page)
    track = client.get(f"/track/{world.track_id}?lang=en").text
    assert f'href="/frame/{world.track_id}?lang=en">Full frame</a>' in track
