"""The search criteria are written once (``retrouve.search.criteria.CRITERIA``): the CLI's
``search`` options, ``GET /api/search``'s parameters and the search form's URL fields are
exactly that table's, with its names, choices and bounds, so a criterion cannot reach one
front end only."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import click
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from starlette.datastructures import QueryParams

from retrouve.cli import cli
from retrouve.cli.search import search as search_command
from retrouve.search.criteria import CRITERIA, Criterion, Kind
from retrouve.search.request import SearchRequest
from retrouve.web.search_form import SearchParams
from web.conftest import Web, token_headers

#: The CLI's own options, not criteria.
CLI_ONLY = {"tz_name", "lang", "as_json", "case_ref"}
#: A value for every criterion, as ``SearchRequest`` holds it.
FULL: dict[str, Any] = {
    "cameras": ("cam1", "cam2"), "time_from": "2026-01-04T10:00", "time_to": "2026-01-04T11:00",
    "object": "car", "colour": "red", "upper": "blue", "lower": "black",
    "accessory": "backpack", "plate": "AB*", "make": "Renault", "model": "Clio",
    "text": "voiture rouge", "like": 7, "limit": 9, "offset": 3, "order": "time",
}


@pytest.fixture
def api(web: Web) -> TestClient:
    client = web.client()
    client.headers.update(token_headers(web.accounts.issue_token("operator")))
    return client


def test_request_fields_are_the_criteria() -> None:
    assert [f.name for f in fields(SearchRequest) if f.name != "operator_zone"] == [
        c.attr for c in CRITERIA]
    assert set(FULL) == {c.attr for c in CRITERIA}


def test_cli_options_are_the_criteria() -> None:
    options = {p.name: p for p in search_command.params if isinstance(p, click.Option)}
    assert set(options) - CLI_ONLY == {c.attr for c in CRITERIA}
    for c in CRITERIA:
        option = options[c.attr]
        assert tuple(option.opts) == c.flags, c.attr
        assert option.multiple is c.repeatable and option.default == (
            None if c.repeatable else c.default), c.attr
        if c.choices:
            assert isinstance(option.type, click.Choice)
            assert tuple(option.type.choices) == c.choices


def test_api_parameters_are_the_criteria(api: TestClient) -> None:
    schema = api.get("/api/openapi.json").json()
    params = schema["paths"]["/api/search"]["get"]["parameters"]
    assert [p["name"] for p in params] == [c.param for c in CRITERIA]
    assert all(p["in"] == "query" and not p["required"] for p in params)


def test_form_fields_are_the_criteria() -> None:
    request = SearchParams(**FULL)
    pairs = request.pairs()
    assert {name for name, _ in pairs} == {c.param for c in CRITERIA}
    assert [name for name, _ in pairs if name == "camera"] == ["camera", "camera"]
    assert SearchParams.from_params(QueryParams(request.query_string())) == request


def test_from_values_fills_defaults_and_refuses_unknown_keys() -> None:
    assert SearchRequest.from_values({}) == SearchRequest()
    assert SearchRequest.from_values({"cameras": ["a"], "limit": None, "object": "car"},
                                     operator_zone="UTC") == SearchRequest(
        cameras=("a",), object="car", operator_zone="UTC")
    with pytest.raises(TypeError, match="time_form"):
        SearchRequest.from_values({"time_form": "x"})


def _bounded() -> list[tuple[Criterion, int]]:
    out = []
    for c in CRITERIA:
        if c.minimum is not None:
            out.append((c, c.minimum - 1))
        if c.maximum is not None:
            out.append((c, c.maximum + 1))
    return out


@pytest.mark.parametrize(("criterion", "value"), _bounded(),
                         ids=lambda v: v.param if isinstance(v, Criterion) else str(v))
def test_numbers_out_of_bounds(api: TestClient, tmp_path: Any, criterion: Criterion,
                               value: int) -> None:
    assert criterion.kind is Kind.INT
    assert api.get("/api/search", params={criterion.param: value}).status_code == 422
    # The form clamps a number with a default and drops one without.
    got = getattr(SearchParams.from_params(QueryParams({criterion.param: str(value)}),
                                           max_limit=criterion.maximum or 1000), criterion.attr)
    low = criterion.minimum is not None and value < criterion.minimum
    if criterion.default is None:
        assert got is None
    else:
        assert got == (criterion.minimum if low else criterion.maximum)
    if low:  # the CLI refuses it before any search (the track id's maximum is not checked)
        result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "search",
                                          criterion.flag, str(value)])
        assert result.exit_code == 2 and "range" in result.output


@pytest.mark.parametrize("criterion", [c for c in CRITERIA if c.max_length],
                         ids=lambda c: c.param)
def test_api_text_lengths(api: TestClient, criterion: Criterion) -> None:
    assert criterion.max_length is not None
    too_long = api.get("/api/search", params={criterion.param: "A" * (criterion.max_length + 1)})
    assert too_long.status_code == 422


@pytest.mark.parametrize("criterion", [c for c in CRITERIA if c.choices], ids=lambda c: c.param)
def test_choices(api: TestClient, tmp_path: Any, criterion: Criterion) -> None:
    # Strict choices are refused by the front end (422); others by the engine, naming the value.
    status = api.get("/api/search", params={criterion.param: "zorglub"}).status_code
    assert status == (422 if criterion.strict else 400)
    form = SearchParams.from_params(QueryParams({criterion.param: "zorglub"}))
    assert getattr(form, criterion.attr) == (criterion.default if criterion.strict
                                             else "zorglub")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "search", criterion.flag,
                                      "zorglub"])
    assert result.exit_code == 2 and "zorglub" in result.output
