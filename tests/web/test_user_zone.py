"""A user's own time zone (``users.time_zone``, ``retrouve users tz``): set, journalled,
refused when unknown, and used by the web for that user's typed and shown times."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from retrouve.cli import cli
from retrouve.errors import AccountError
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from web.conftest import PASSWORD, Web, cheap_hasher, fixed_clock, token_headers


def test_set_and_clear_a_user_zone(services: Services) -> None:
    accounts = Accounts(services.store, fixed_clock, cheap_hasher())
    accounts.add("lea", "operator", PASSWORD)
    assert accounts.require("lea").time_zone is None
    accounts.set_time_zone("lea", "America/New_York")
    assert accounts.require("lea").time_zone == "America/New_York"
    assert accounts.require("lea").to_json()["time_zone"] == "America/New_York"
    with pytest.raises(AccountError, match="unknown time zone"):
        accounts.set_time_zone("lea", "Mars/Olympus")
    assert accounts.require("lea").time_zone == "America/New_York"
    accounts.set_time_zone("lea", None)
    assert accounts.require("lea").time_zone is None
    with pytest.raises(AccountError, match="unknown user"):
        accounts.set_time_zone("nobody", "Europe/Paris")


def _run(data_dir: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], input=stdin)
    return r.exit_code, r.output


def test_users_tz_command_is_journalled(tmp_path: Path) -> None:
    assert _run(tmp_path, "users", "add", "op", "--role", "operator", "--password-stdin",
                stdin=PASSWORD + "\n")[0] == 0
    code, out = _run(tmp_path, "users", "tz", "op", "Asia/Tokyo")
    assert code == 0, out
    listed = json.loads(_run(tmp_path, "users", "list", "--json")[1])
    assert listed[0]["time_zone"] == "Asia/Tokyo"
    code, out = _run(tmp_path, "users", "tz", "op", "Nowhere/Land")
    assert code == 2 and "unknown time zone" in out
    assert _run(tmp_path, "users", "tz", "op")[0] == 2  # neither ZONE nor --clear
    assert _run(tmp_path, "users", "tz", "op", "--clear")[0] == 0
    assert json.loads(_run(tmp_path, "users", "list", "--json")[1])[0]["time_zone"] is None
    with sqlite3.connect(tmp_path / "retrouve.db") as db:
        rows = db.execute("SELECT details_json FROM journal_entries WHERE action = "
                          "'user-change' ORDER BY seq").fetchall()
    details = [json.loads(r[0]) for r in rows]
    assert [(d.get("change"), d.get("value")) for d in details] == [
        ("time-zone", "Asia/Tokyo"), ("time-zone", None)]  # cleared: no value


@pytest.fixture
def tokyo_operator(web: Web) -> Iterator[str]:
    """The conftest's operator with a Tokyo zone for the test, then back to the site's."""
    web.accounts.set_time_zone("operator", "Asia/Tokyo")
    try:
        yield "operator"
    finally:
        web.accounts.set_time_zone("operator", None)


def test_web_uses_the_user_zone_for_typed_and_shown_times(web: Web, tokyo_operator: str
                                                          ) -> None:
    client = web.login(tokyo_operator)
    form = client.get("/search").text
    assert "heure locale (Asia/Tokyo)" in form  # named beside the time fields
    # The conftest's footage is on 2026-01-04 from 09:00 UTC (18:00 in Tokyo, 10:00 in Paris):
    # a window typed as Tokyo times finds it, the same figures read in Paris would not.
    tokyo = client.get("/search?object=car&from=2026-01-04T17:55&to=2026-01-04T19:00").text
    assert 'class="hit"' in tokyo
    assert "JST" in tokyo  # shown in the user's zone
    other = web.login("supervisor")
    paris = other.get("/search?object=car&from=2026-01-04T17:55&to=2026-01-04T19:00").text
    assert 'class="hit"' not in paris and "Aucun résultat" in paris  # read in Paris: 16:55 UTC


def test_api_reads_typed_times_in_the_user_zone(web: Web, tokyo_operator: str) -> None:
    params = {"object": "car", "from": "2026-01-04T17:55", "to": "2026-01-04T19:00"}
    tokyo = web.client()
    tokyo.headers.update(token_headers(web.accounts.issue_token(tokyo_operator)))
    got = tokyo.get("/api/search", params=params)
    assert got.status_code == 200, got.text
    assert got.json()["hits"]
    paris = web.client()
    paris.headers.update(token_headers(web.accounts.issue_token("supervisor")))
    assert paris.get("/api/search", params=params).json()["hits"] == []
