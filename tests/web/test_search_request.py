"""One search request for every front end: the CLI's ``search``, the search page and
``/api/search`` turn the same inputs into the same :class:`Query`; every empty-result reason
is worded in every language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from retrouve.cli import cli
from retrouve.domain import Camera, LegalBasis, Query, Role, ScopeWindow
from retrouve.errors import QueryError, UnknownCameraError
from retrouve.legal.cases import Actor
from retrouve.search.engine import Searcher
from retrouve.search.request import (
    CLI_WORDING,
    WEB_WORDING,
    BuiltQuery,
    SearchRequest,
    Wording,
    build_query,
    operator_lang,
)
from retrouve.search.schema import EmptyReason, HitOut
from retrouve.services import Services
from retrouve.store.cases import CaseFields
from retrouve.web.i18n import CATALOGUE, LANGS, WHY_EMPTY_KEYS, why_empty_text
from web.conftest import Web, token_headers

#: Inputs as URL parameters (the API's names); the CLI gets them as ``--name value``.
CASES: tuple[dict[str, Any], ...] = (
    {"camera": ["cam1"], "object": "car", "colour": "red"},
    {"camera": ["cam1", "cam2"], "object": "person", "upper": "blue", "lower": "black",
     "accessory": "backpack"},
    {"camera": ["cam2"], "from": "2026-01-04T09:00", "to": "2026-01-04T10:00+01:00"},
    {"camera": ["cam1"], "plate": "AB*", "order": "time", "limit": "7", "offset": "3"},
    {"camera": ["cam1"], "like": "1"},
    # Free text: its fields fill what the request leaves empty (the explicit colour wins).
    {"camera": ["cam1"], "text": "camionnette blanche plaque FG*", "colour": "red"},
    {"camera": ["cam1"], "text": "voiture rouge zorglub"},
)


def _cli_args(params: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for name, value in params.items():
        for one in value if isinstance(value, list) else [value]:
            args += [f"--{name}", str(one)]
    # The page and the API read free text in the camera's zone; the CLI in --tz (cam1: Paris).
    return [*args, "--tz", "Europe/Paris"]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Query, str]]]:
    """Every (query, order) the searcher is asked for, whichever front end asks."""
    calls: list[tuple[Query, str]] = []
    original = Searcher.search

    def spy(self: Searcher, query: Query, order: str = "score", spread: int = 0,
            scope: Any = None, count: bool = False) -> Any:
        calls.append((query, order))
        return original(self, query, order, spread, scope, count)

    monkeypatch.setattr(Searcher, "search", spy)
    yield calls


@pytest.mark.parametrize("params", CASES, ids=lambda p: "&".join(p))
def test_cli_form_and_api_build_the_same_query(web: Web, populated: Services,
                                               seen: list[tuple[Query, str]],
                                               params: dict[str, Any]) -> None:
    # The page's limit is clamped to 200 and defaults to the page size: give it explicitly.
    params = {"limit": "20", **params}
    api = web.client()
    api.headers.update(token_headers(web.accounts.issue_token("operator")))
    answer = api.get("/api/search", params=params)
    page = web.login("operator").get("/search", params=params)
    # The CLI searches inside a case (over both cameras), as the operator assigned to it.
    if populated.store.get_case("T-1") is None:
        scope = tuple(ScopeWindow(c, datetime(2026, 1, 1, tzinfo=UTC),
                                  datetime(2026, 2, 1, tzinfo=UTC)) for c in ("cam1", "cam2"))
        populated.cases.create(Actor("sup", Role.SUPERVISOR), CaseFields(
            ref="T-1", basis=LegalBasis.ART_60_1, procedure_number="1", authority="OPJ",
            authority_service="", authority_contact="", received_at=NOW, purpose="tests"),
            scope, ("operator",))
    url = populated.settings.database_url  # the CLI finds the test's database as a site would
    runner = CliRunner(env={"RETROUVE_DATABASE_URL": url} if url else None)
    result = runner.invoke(cli, ["--data-dir", str(populated.settings.data_dir),
                                 "--user", "operator", "search", "--case", "T-1",
                                 *_cli_args(params), "--json"])
    # A query the searcher refuses (find-similar without vectors) is refused by all three.
    refused = answer.status_code == 400
    assert answer.status_code in (200, 400) and page.status_code == 200
    assert ("Recherche invalide" in page.text) == refused
    assert result.exit_code == (2 if refused else 0), result.output
    assert len(seen) == 3
    (api_query, api_order), (page_query, page_order), (cli_query, cli_order) = seen
    assert api_query == page_query == cli_query
    assert api_order == page_order == cli_order == params.get("order", "score")


class _Cameras:
    def require_camera(self, camera_id: str) -> Camera:
        zones = {"paris": "Europe/Paris", "utc": "UTC"}
        if camera_id not in zones:
            raise UnknownCameraError(f"unknown camera {camera_id!r}")
        return Camera(camera_id, camera_id, zones[camera_id])


NOW = datetime(2026, 1, 7, 15, 30, tzinfo=UTC)


def _build(request: SearchRequest, wording: Wording = CLI_WORDING, **kw: Any) -> BuiltQuery:
    return build_query(request, _Cameras(), clock=lambda: NOW, lang="en", wording=wording,
                       **kw)


@pytest.mark.parametrize(
    ("request_", "wording", "message"),
    [
        (SearchRequest(time_from="2026-01-04T10:00"), CLI_WORDING,
         "--from '2026-01-04T10:00' has no offset: add one (+01:00) or a --camera"),
        (SearchRequest(time_to="2026-01-04T10:00"), WEB_WORDING,
         "to '2026-01-04T10:00' has no offset: add one (+01:00) or a camera"),
        (SearchRequest(time_from="hier"), WEB_WORDING,
         "from 'hier' is not ISO-8601 (e.g. 2026-01-04T10:00)"),
        (SearchRequest(text="voiture", operator_zone="Mars/Olympus"), CLI_WORDING,
         "unknown time zone 'Mars/Olympus' (e.g. Europe/Paris)"),
        (SearchRequest(text="le la les"), CLI_WORDING, "nothing to search for in 'le la les'"),
    ],
)
def test_errors_keep_each_front_end_wording(request_: SearchRequest, wording: Wording,
                                            message: str) -> None:
    with pytest.raises(QueryError) as exc:
        _build(request_, wording)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("request_", "default_zone", "expected"),
    [
        # Naive times: the operator zone, else the front end's default zone; never a
        # camera's (cam "utc" first does not make 10:00 UTC).
        (SearchRequest(cameras=("utc", "paris"), time_from="2026-01-04T10:00",
                       operator_zone="Europe/Paris"), "UTC",
         Query(cameras=("utc", "paris"), time_from=datetime(2026, 1, 4, 9, 0, tzinfo=UTC),
               limit=20)),
        (SearchRequest(time_to="2026-01-04T10:00"), "UTC",
         Query(time_to=datetime(2026, 1, 4, 10, 0, tzinfo=UTC), limit=20)),
        # Repeated cameras count once; paging is the request's.
        (SearchRequest(cameras=("utc", "utc"), object="bus", like=4, limit=5, offset=10), None,
         Query(cameras=("utc",), object="bus", like_track=4, limit=5, offset=10)),
        # Explicit fields win over the text; paging stays the request's.
        (SearchRequest(text="voiture rouge", colour="white", limit=3), None,
         Query(object="car", colour="white", limit=3)),
    ],
)
def test_build_query(request_: SearchRequest, default_zone: str | None,
                     expected: Query) -> None:
    built = _build(request_, default_zone=default_zone)
    assert built.query == expected
    assert built.text_unparsed is False


def test_free_text_reading_for_the_cli() -> None:
    built = _build(SearchRequest(text="voiture rouge zorglub", operator_zone="Europe/Paris"))
    reading = built.reading()
    assert reading is not None and built.understood is not None
    assert reading["query"] == {"object": "car", "colour": "red"}
    assert reading["unknown"] == ["zorglub"] and reading["describe"] == built.understood
    assert _build(SearchRequest(object="car")).reading() is None


def test_unknown_camera_is_refused_before_anything_else() -> None:
    with pytest.raises(UnknownCameraError, match="nope"):
        _build(SearchRequest(cameras=("paris", "nope"), time_from="not a time"))


def _broken(text: str, *, now: datetime, tz: Any) -> Any:
    raise RuntimeError("parser bug")


@pytest.mark.parametrize("parser", [None, _broken], ids=["absent", "failing"])
def test_text_is_searched_as_is_without_a_working_parser(parser: Any) -> None:
    built = _build(SearchRequest(text="bus jaune", object="bus"), text_parser=lambda: parser)
    assert built.text_unparsed and built.understood is None and built.reading() is None
    assert built.query == Query(object="bus", text="bus jaune", limit=20)


@pytest.mark.parametrize(("zone", "lang"), [("Europe/Paris", "fr"), ("UTC", "en"),
                                            ("America/New_York", "en")])
def test_operator_lang(zone: str, lang: str) -> None:
    assert operator_lang(zone) == lang


# ------------------------------------------------------------------------- empty reasons
@pytest.mark.parametrize("reason", list(EmptyReason))
@pytest.mark.parametrize("lang", LANGS)
def test_every_empty_reason_is_worded_in_every_language(reason: EmptyReason,
                                                        lang: str) -> None:
    key = WHY_EMPTY_KEYS[reason]
    assert CATALOGUE[lang][key].strip()
    assert why_empty_text(reason, lang) == CATALOGUE[lang][key]
    assert reason.english.strip()


def test_empty_reasons_are_distinct() -> None:
    assert len({r.english for r in EmptyReason}) == len(EmptyReason)
    assert len(set(WHY_EMPTY_KEYS.values())) == len(EmptyReason)
    for lang in LANGS:
        assert len({why_empty_text(r, lang) for r in EmptyReason}) == len(EmptyReason)


@pytest.mark.parametrize(
    ("params", "code"),
    [({"camera": "idle"}, "not_analysed"), ({"colour": "pink"}, "no_match"),
     ({"camera": "cam1"}, None)],
)
def test_api_returns_the_reason_code_and_its_english(web: Web, params: dict[str, str],
                                                     code: str | None) -> None:
    api: TestClient = web.client()
    api.headers.update(token_headers(web.accounts.issue_token("operator")))
    got = api.get("/api/search", params=params).json()
    assert got["why_empty_code"] == code
    assert got["why_empty"] == (None if code is None else EmptyReason(code).english)


def test_hit_schema_is_the_api_response_model(web: Web) -> None:
    schema = web.app.openapi()["components"]["schemas"]
    assert set(schema["HitOut"]["properties"]) == set(HitOut.model_fields)
