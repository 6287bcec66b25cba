"""The JSON API: same filters and hit schema as ``retrouve search --json``, tracks,
recordings, analysis state, OpenAPI behind login."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from retrouve.domain import Query
from retrouve.search.schema import hit_json
from retrouve.services import Services
from web.conftest import Web, token_headers


@pytest.fixture
def api(web: Web) -> TestClient:
    client = web.client()
    client.headers.update(token_headers(web.accounts.issue_token("operator")))
    return client


def _ids(resp: Any) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [h["track_id"] for h in resp.json()["hits"]]


def test_hits_have_the_cli_schema(api: TestClient, populated: Services) -> None:
    got = api.get("/api/search", params={"object": "car", "camera": "cam1"}).json()
    expected = populated.searcher.search(Query(cameras=("cam1",), object="car", limit=20))
    assert len(got["hits"]) == len(expected.hits) == 2
    for hit, want in zip(got["hits"], expected.hits, strict=True):
        ref = hit_json(want)
        assert set(hit) == set(ref)
        # Only the thumbnail differs: a URL behind login, never a server path.
        assert hit["thumbnail"] == f"/media/thumb/{want.track_id}"
        assert {k: v for k, v in hit.items() if k != "thumbnail"} == {
            k: v for k, v in ref.items() if k != "thumbnail"}
    assert got["why_empty"] is None
    assert got["hits"][0]["plate"]["text"] == "AB123CD"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"object": "person"}, {3, 5}),
        ({"object": "person", "upper": "blue"}, {5}),
        ({"colour": "yellow"}, {4}),
        ({"camera": ["cam1", "cam2"], "object": "car"}, {1, 2}),
        ({"camera": "cam2"}, {4, 5}),
        ({"from": "2026-01-04T10:00:45+01:00", "to": "2026-01-04T10:01:00+01:00",
          "camera": "cam1"}, {3}),
        # Without an offset, times are in the first camera's zone (cam1: Paris).
        ({"from": "2026-01-04T10:00:45", "camera": "cam1"}, {3}),
    ],
)
def test_filters(api: TestClient, params: dict[str, Any], expected: set[int]) -> None:
    assert set(_ids(api.get("/api/search", params=params))) == expected


def test_order_limit_offset(api: TestClient) -> None:
    by_score = _ids(api.get("/api/search"))
    assert len(by_score) == 5
    by_time = api.get("/api/search", params={"order": "time"}).json()["hits"]
    starts = [datetime.fromisoformat(h["start"]) for h in by_time]
    assert starts == sorted(starts) and len(starts) == 5
    page = _ids(api.get("/api/search", params={"limit": 2, "offset": 2}))
    assert page == by_score[2:4]


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"object": "spaceship"}, 400, "unknown object"),
        ({"colour": "magenta"}, 400, "colour"),
        ({"camera": "nope"}, 400, "unknown camera"),
        ({"from": "yesterday"}, 400, "ISO-8601"),
        # Naive times are in the operator zone (Europe/Paris here): its DST gap is refused.
        ({"from": "2026-03-29T02:30"}, 400, "does not exist in Europe/Paris"),
        ({"limit": 0}, 422, ""),
        ({"limit": 5000}, 422, ""),
        ({"order": "random"}, 422, ""),
    ],
)
def test_bad_queries(api: TestClient, params: dict[str, Any], status: int,
                     fragment: str) -> None:
    resp = api.get("/api/search", params=params)
    assert resp.status_code == status, resp.text
    assert fragment in str(resp.json()["detail"])


def test_why_empty(api: TestClient) -> None:
    none = api.get("/api/search", params={"camera": "idle"}).json()
    assert none["hits"] == []
    assert none["why_empty"].startswith("no footage has been analysed")
    nomatch = api.get("/api/search", params={"colour": "pink"}).json()
    assert nomatch["why_empty"].startswith("no sighting matches")


def test_free_text_uses_the_parser_when_there_is_one(web: Web, api: TestClient) -> None:
    class Parsed:
        def to_query(self, base: Query) -> Query:
            from dataclasses import replace
            return replace(base, object="bus")

        def describe(self, lang: str) -> str:
            return f"bus ({lang})"

    seen: dict[str, Any] = {}

    def parse_text(text: str, *, now: Any, tz: Any) -> Parsed:
        seen.update(text=text, tz=str(tz))
        return Parsed()

    web.app.state.parse_text = lambda: parse_text
    got = api.get("/api/search", params={"text": "le bus jaune", "camera": "cam1"}).json()
    assert seen == {"text": "le bus jaune", "tz": "Europe/Paris"}
    assert got["understood"] == "bus (en)" and got["text_unparsed"] is False
    web.app.state.parse_text = lambda: None
    got = api.get("/api/search", params={"text": "le bus jaune"}).json()
    assert got["text_unparsed"] is True and got["understood"] is None


def test_track_detail(api: TestClient) -> None:
    got = api.get("/api/tracks/1").json()
    assert got["camera"] == "cam1" and got["object"] == "car"
    assert got["observations"][0] == [10.0, 110.0, 200.0, 310.0, 320.0, 0.9]
    assert got["plate"]["text"] == "AB123CD"
    assert got["thumbnail"] == "/media/thumb/1"
    assert api.get("/api/tracks/999").status_code == 404


def test_cameras_and_recordings(api: TestClient) -> None:
    assert [c["id"] for c in api.get("/api/cameras").json()] == ["cam1", "cam2", "idle"]
    recs = {r["id"]: r for r in api.get("/api/recordings").json()}
    assert recs["r1"]["status"] == "done"
    assert (recs["r1"]["units_done"], recs["r1"]["units_total"]) == (1, 1)
    assert recs["r3"]["status"] == "pending" and recs["r3"]["units_total"] == 0
    assert [r["id"] for r in api.get("/api/recordings?camera=cam2").json()] == ["r2"]


def test_analysis_state(api: TestClient) -> None:
    got = api.get("/api/analysis").json()
    assert got["running"] is False and got["pending_recordings"] == 1


def test_openapi_is_behind_login_and_documents_search(web: Web, api: TestClient) -> None:
    assert web.client().get("/api/openapi.json").status_code == 401
    schema = api.get("/api/openapi.json").json()
    names = {p["name"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert {"camera", "from", "to", "object", "colour", "upper", "lower", "accessory", "plate",
            "make", "model", "text", "limit", "offset", "order"} <= names
    # No Swagger UI (its assets would come from a CDN).
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert api.get(path).status_code == 404


def test_api_docs_page_lists_operations(web: Web) -> None:
    page = web.login("operator").get("/api/docs")
    assert page.status_code == 200 and "/api/search" in page.text
    assert "X-Retrouve-Case: RÉF" in page.text  # how a token names its case


def test_ignored_words_and_the_make_fallback_are_answered(web: Web, api: TestClient) -> None:
    got = api.get("/api/search", params={"text": "Renault Clio grise zorglub"}).json()
    assert got["ignored"] == ["Renault", "Clio", "zorglub"]
    assert got["notices"][0].startswith("make/model is not available")
    assert got["understood"].startswith("Vehicle: car · colour: grey")
    refused = api.get("/api/search", params={"text": "zzzz qqqq"})
    assert refused.status_code == 400 and "nothing searchable" in refused.json()["detail"]
    page = web.login("operator").get("/search", params={"text": "voiture zorglub"})
    assert page.status_code == 200
    assert "Ignoré (ne change pas la recherche) : zorglub" in page.text


def test_pages_show_the_operator_zone_and_the_camera_time(web: Web) -> None:
    # Cameras in Paris and UTC: the site's operator zone is the default, Europe/Paris.
    client = web.login("operator")
    html = client.get("/search?object=bus").text
    assert "heure locale (Europe/Paris)" in html
    # The UTC camera's bus, 09:00:05 UTC: Paris time first, the camera's beside it.
    assert "04/01/2026 10:00:05 CET (caméra 09:00:05 UTC)" in html
    # A time typed without an offset is Paris time whichever camera comes first.
    first = client.get("/api/search", headers=token_headers(web.accounts.issue_token("operator")),
                       params=[("camera", "cam2"), ("camera", "cam1"),
                               ("from", "2026-01-04T10:00:06")]).json()
    second = client.get("/api/search", headers=token_headers(web.accounts.issue_token("operator")),
                        params=[("camera", "cam1"), ("camera", "cam2"),
                                ("from", "2026-01-04T10:00:06")]).json()
    assert [h["track_id"] for h in first["hits"]] == [h["track_id"] for h in second["hits"]]
    assert first["hits"]  # the window still holds tracks


def test_track_navigation_follows_the_make_fallback(web: Web) -> None:
    import re
    client = web.login("operator")
    # No make/model pack: "Renault" is dropped, the rest (any car: two) is searched.
    html = client.get("/search", params={"text": "voiture Renault"}).text
    assert "marque/modèle non disponible" in html
    cards = [h.replace("&amp;", "&") for h in re.findall(r'href="(/track/[^"]+)"', html)
             if "pos=" in h]
    assert cards
    track = client.get(cards[0])
    assert track.status_code == 200
    # The track page walks the same two results: a link to the next one.
    nav = re.findall(r'href="(/track/[^"]+)"', track.text)
    assert any("pos=1" in h for h in nav), nav
