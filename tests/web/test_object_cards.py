"""The result grid and the API show one card per object, with "seen N times"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import fixed_clock, make_services
from retrouve.analysis.objects import link_recordings
from retrouve.config import Settings, WebSettings
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from retrouve.web import create_app
from test_objects import U0, U1, _save, _setup
from web.conftest import (
    PASSWORD,
    FakeClock,
    case_over_everything,
    cheap_hasher,
    login,
    select_case,
)


@pytest.fixture
def client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    services: Services = make_services(Settings(data_dir=tmp_path, workers=1,
                                                executor="inline", database_url=database_url))
    rec = _setup(services)
    _save(services, U0)
    _save(services, U1)
    link_recordings(services.store, [rec])
    accounts = Accounts(services.store, fixed_clock, cheap_hasher())
    accounts.add("marie", "operator", PASSWORD)
    case_over_everything(services, ("marie",))
    app = create_app(services, WebSettings(secure_cookies=False), accounts=accounts,
                     clock=FakeClock())
    c = TestClient(app, follow_redirects=False)
    try:
        resp = login(c, "marie")
        assert getattr(resp, "status_code", None) == 303
        select_case(c, "WEB-1")
        yield c
    finally:
        c.close()
        services.close()


@pytest.mark.parametrize(("lang", "seen", "other"), [
    ("fr", "vu 2 fois, 16.0 s au total", "autres lectures : EF456GH"),
    ("en", "seen 2 times, 16.0 s in all", "other reads: EF456GH"),
])
def test_cards_say_how_often_an_object_was_seen(client: TestClient, lang: str, seen: str,
                                                other: str) -> None:
    html = client.get(f"/search?object=vehicle&lang={lang}").text
    assert html.count('class="hit"') == 3  # five vehicle tracks, three objects
    assert seen in html and other in html
    assert html.count('class="seen"') == 2  # the lone car was seen once: nothing said


def test_api_hits_carry_the_object(client: TestClient) -> None:
    hits = client.get("/api/search?object=vehicle&limit=50").json()["hits"]
    assert sorted(h["seen_count"] for h in hits) == [1, 2, 2]
    van = next(h for h in hits if h["total_duration_s"] == 16.0)
    assert van["plates"] == ["EF456GH"] and len(van["track_ids"]) == 2
    assert van["thumbnail"] == f"/media/thumb/{van['track_id']}"
