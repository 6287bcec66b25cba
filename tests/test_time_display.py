"""The operator's clock: one zone shows every time and reads every typed time, whichever
cameras are searched and in whichever order; daylight-saving gaps and folds refused."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from retrouve.catalogue.sources import local_time
from retrouve.cli import cli
from retrouve.config import Settings
from retrouve.domain import Camera, LegalBasis, Query, Role, ScopeWindow
from retrouve.errors import ConfigError, InputError, QueryError, RecordingTimeError
from retrouve.legal.cases import Actor
from retrouve.legal.coverage import coverage_html
from retrouve.search.request import CLI_WORDING, SearchRequest, build_query
from retrouve.services import Services
from retrouve.store.cases import CaseFields
from retrouve.wallclock import camera_note, local_iso, read_local, show_time, site_zone
from retrouve.web.templating import format_datetime

WINTER = datetime(2026, 1, 4, 13, 3, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 4, 13, 3, 12, tzinfo=UTC)


# ------------------------------------------------------------------ showing a time
@pytest.mark.parametrize(("when", "zone", "lang", "shown"), [
    (WINTER, "Europe/Paris", "en", "2026-01-04 14:03:12 CET"),
    (WINTER, "Europe/Paris", "fr", "04/01/2026 14:03:12 CET"),
    (SUMMER, "Europe/Paris", "fr", "04/07/2026 15:03:12 CEST"),
    (SUMMER, "Europe/London", "en", "2026-07-04 14:03:12 BST"),
    (WINTER, "UTC", "en", "2026-01-04 13:03:12 UTC"),
    # tzdata has no letters for Dubai: its name is the offset.
    (WINTER, "Asia/Dubai", "en", "2026-01-04 17:03:12 +04"),
])
def test_show_time_in_the_operator_zone(when: datetime, zone: str, lang: str,
                                        shown: str) -> None:
    assert show_time(when, zone, lang) == shown
    # The same instant given in another zone prints the same.
    assert show_time(when.astimezone(ZoneInfo("America/New_York")), zone, lang) == shown


def test_show_time_without_the_date_and_unknown_zones() -> None:
    assert show_time(WINTER, ZoneInfo("Europe/Paris"), date=False) == "14:03:12 CET"
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'"):
        show_time(WINTER, "Mars/Olympus")


def test_camera_note_only_where_the_camera_reads_it_differently() -> None:
    assert camera_note(WINTER, "Europe/Paris", "Europe/Paris") == ""
    # Same offset and abbreviation (Brussels is CET too): nothing to add.
    assert camera_note(WINTER, "Europe/Paris", "Europe/Brussels") == ""
    assert camera_note(WINTER, "Europe/Paris", "Europe/London") == "camera 13:03:12 GMT"
    assert camera_note(WINTER, "Europe/Paris", "Europe/London", "fr") == "caméra 13:03:12 GMT"
    # Another day at the camera: the date is given.
    late = datetime(2026, 1, 4, 23, 30, tzinfo=UTC)
    assert camera_note(late, "Europe/London", "Asia/Tokyo") == "camera 2026-01-05 08:30:00 JST"


def test_local_iso_for_json() -> None:
    assert local_iso(WINTER, "Europe/Paris") == "2026-01-04T14:03:12+01:00"
    assert local_iso(SUMMER, "Europe/Paris") == "2026-07-04T15:03:12+02:00"


def test_web_filter_shows_the_operator_zone_and_the_camera_time() -> None:
    at_camera = WINTER.astimezone(ZoneInfo("Europe/London"))
    assert format_datetime(at_camera, "fr", "Europe/Paris") == (
        "04/01/2026 14:03:12 CET (caméra 13:03:12 GMT)")
    assert format_datetime(WINTER.astimezone(ZoneInfo("Europe/Paris")), "en",
                           "Europe/Paris") == "2026-01-04 14:03:12 CET"
    # No zone (a caller not yet given one): the value's own zone.
    assert format_datetime(at_camera, "en") == "2026-01-04 13:03:12 GMT"


# ------------------------------------------------------------------ which zone
@pytest.mark.parametrize(("configured", "cameras", "zone"), [
    ("Europe/London", ["Europe/Paris"], "Europe/London"),
    (None, ["America/Cayenne", "America/Cayenne"], "America/Cayenne"),
    (None, ["Europe/London", "Europe/Paris"], "Europe/Paris"),
    (None, ["Europe/Paris", "Europe/London"], "Europe/Paris"),
    (None, [], "Europe/Paris"),
])
def test_site_zone(configured: str | None, cameras: list[str], zone: str) -> None:
    assert site_zone(configured, cameras) == zone


def test_site_time_zone_setting_is_checked(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).site.time_zone is None
    monkeypatch.setenv("RETROUVE_SITE__TIME_ZONE", "Europe/London")
    assert Settings(data_dir=tmp_path).site.time_zone == "Europe/London"
    monkeypatch.setenv("RETROUVE_SITE__TIME_ZONE", "Europe/Londres")
    with pytest.raises(ConfigError, match=r"site.time_zone.*unknown time zone 'Europe/Londres'"):
        Settings(data_dir=tmp_path)


def test_services_operator_zone(services: Services) -> None:
    assert services.operator_zone() == "Europe/Paris"
    services.catalogue.add_camera(Camera("ldn", "London", "Europe/London"))
    assert services.operator_zone() == "Europe/London"  # the only camera's
    services.catalogue.add_camera(Camera("par", "Paris", "Europe/Paris"))
    assert services.operator_zone() == "Europe/Paris"  # mixed: the default
    services.settings.site = services.settings.site.model_copy(
        update={"time_zone": "America/Cayenne"})
    assert services.operator_zone() == "America/Cayenne"


# ------------------------------------------------------------------ reading a typed time
def test_read_local_across_daylight_saving() -> None:
    assert read_local(datetime(2026, 3, 29, 1, 30), "Europe/Paris", "x").utcoffset() == \
        timedelta(hours=1)
    assert read_local(datetime(2026, 3, 29, 3, 30), "Europe/Paris", "x").utcoffset() == \
        timedelta(hours=2)
    with pytest.raises(QueryError, match="does not exist in Europe/Paris"):
        read_local(datetime(2026, 3, 29, 2, 30), "Europe/Paris", "from", QueryError)
    with pytest.raises(QueryError, match=r"happens twice.*02:30:00\+02:00 or .*02:30:00\+01:00"):
        read_local(datetime(2026, 10, 25, 2, 30), "Europe/Paris", "to", QueryError)
    # Ingest says the same through its own error class.
    with pytest.raises(RecordingTimeError, match="does not exist in Europe/Paris"):
        local_time(datetime(2026, 3, 29, 2, 30), "Europe/Paris", "start")


class _Cameras:
    """Cameras in three zones a long way apart."""

    ZONES: ClassVar[dict[str, str]] = {
        "paris": "Europe/Paris", "london": "Europe/London", "tokyo": "Asia/Tokyo"}

    def require_camera(self, camera_id: str) -> Camera:
        return Camera(camera_id, camera_id, self.ZONES[camera_id])


def _window(cameras: tuple[str, ...], time_from: str, time_to: str, zone: str) -> Query:
    request = SearchRequest(cameras=cameras, time_from=time_from, time_to=time_to,
                            operator_zone=zone)
    return build_query(request, _Cameras(), clock=lambda: WINTER, lang="en",
                       wording=CLI_WORDING).query


@pytest.mark.parametrize(("day", "offset"), [("2026-01-04", 1), ("2026-07-04", 2)])
def test_camera_order_never_changes_the_window(day: str, offset: int) -> None:
    windows = {
        (q.time_from, q.time_to)
        for order in itertools.permutations(_Cameras.ZONES)
        for q in [_window(order, f"{day}T10:00", f"{day}T12:00", "Europe/Paris")]
    }
    start = datetime.fromisoformat(day).replace(hour=10 - offset, tzinfo=UTC)
    assert windows == {(start, start + timedelta(hours=2))}


def test_free_text_times_are_read_in_the_operator_zone_too() -> None:
    request = SearchRequest(cameras=("tokyo", "paris"), text="voiture hier 14h",
                            operator_zone="Europe/Paris")
    query = build_query(request, _Cameras(), clock=lambda: WINTER, lang="fr",
                        wording=CLI_WORDING).query
    swapped = build_query(SearchRequest(cameras=("paris", "tokyo"), text="voiture hier 14h",
                                        operator_zone="Europe/Paris"),
                          _Cameras(), clock=lambda: WINTER, lang="fr",
                          wording=CLI_WORDING).query
    # "14h" is 14:00 give or take half an hour, in Paris whichever camera comes first.
    assert query.time_from == swapped.time_from == datetime(2026, 1, 3, 12, 30, tzinfo=UTC)


# ------------------------------------------------------------------ the coverage report
def test_coverage_report_in_the_operator_zone(services: Services) -> None:
    services.catalogue.add_camera(Camera("cam12", "Gare", "Europe/Paris"))
    sam = Actor("sam", Role.SUPERVISOR)
    scope = (ScopeWindow("cam12", WINTER, WINTER + timedelta(hours=1)),)
    services.cases.create(sam, CaseFields(
        ref="PV-1", basis=LegalBasis.ART_60_1, procedure_number="1", authority="OPJ",
        authority_service="", authority_contact="", received_at=WINTER, purpose="vol"),
        scope, ("sam",))
    cov = services.cases.coverage(sam, "PV-1", "html")
    page = coverage_html(cov, "Europe/Paris")
    assert "04/01/2026 14:03:12 CET → 04/01/2026 15:03:12 CET" in page
    assert "fuseau Europe/Paris" in page
    assert "04/01/2026 13:03:12 UTC" in coverage_html(cov)  # the default stays UTC


# ------------------------------------------------------------------ the command line
def _run(data_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])


def test_cli_shows_times_in_the_operator_zone(tmp_path: Path) -> None:
    added = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "users", "add", "ana",
                                     "--role", "operator", "--password-stdin"],
                               input="a long enough password 1\n")
    assert added.exit_code == 0, added.output
    tokyo = _run(tmp_path, "--tz", "Asia/Tokyo", "users", "list")
    assert tokyo.exit_code == 0, tokyo.output
    assert "JST" in tokyo.output and "UTC" not in tokyo.output
    # The setting, when the option is not given.
    london = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "users", "list"],
                                env={"RETROUVE_SITE__TIME_ZONE": "Europe/London"})
    assert london.exit_code == 0 and ("GMT" in london.output or "BST" in london.output)
    parsed = _run(tmp_path, "--tz", "Asia/Tokyo", "parse", "voiture", "hier", "--json")
    assert parsed.exit_code == 0, parsed.output
    assert json.loads(parsed.output)["query"]["time_from"].endswith("T00:00:00+09:00")
    bad = _run(tmp_path, "--tz", "Mars/Olympus", "users", "list")
    assert bad.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in bad.output
