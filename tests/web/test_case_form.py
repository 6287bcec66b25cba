"""The case forms' parsing (``web/case_form.py``): typed rows and times → what CaseDesk
takes, with the CLI's rules and every bad row reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.datastructures import FormData

from retrouve.domain import Camera, LegalBasis, ScopeWindow
from retrouve.errors import InputError
from retrouve.web.case_form import (
    BLANK_ROWS,
    CaseForm,
    ScopeRow,
    form_time,
    parse_rows,
    read_rows,
    scope_rows,
    with_blanks,
)

CAMS = {"cam1": Camera("cam1", "Gare", "Europe/Paris"), "cam2": Camera("cam2", "Port", "UTC")}
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("2026-01-04T10:00", "Europe/Paris", datetime(2026, 1, 4, 9, 0, tzinfo=UTC)),
    ("2026-07-04T10:00:30", "Europe/Paris", datetime(2026, 7, 4, 8, 0, 30, tzinfo=UTC)),
    ("2026-01-04T10:00", "UTC", datetime(2026, 1, 4, 10, 0, tzinfo=UTC)),
    # With an offset: read as the CLI reads it, whatever the zone.
    ("2026-01-04T10:00+02:00", "Europe/Paris", datetime(2026, 1, 4, 8, 0, tzinfo=UTC)),
])
def test_form_time(text: str, zone: str, expected: datetime) -> None:
    assert form_time(text, zone, "from") == expected


@pytest.mark.parametrize(("text", "message"), [
    ("yesterday", "is not a date and time"),
    ("2026-03-29T02:30", "does not exist in Europe/Paris"),  # spring gap
    ("2026-10-25T02:30", "happens twice in Europe/Paris"),  # autumn fold
])
def test_form_time_refuses(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        form_time(text, "Europe/Paris", "from")


def test_rows_read_pad_and_round_trip() -> None:
    form = FormData([("scope_camera", "cam1"), ("scope_from", "2026-01-04T10:00:00"),
                     ("scope_to", "2026-01-04T11:00:00"), ("scope_camera", ""),
                     ("scope_from", "")])
    rows = read_rows(form)
    assert rows == [ScopeRow("cam1", "2026-01-04T10:00:00", "2026-01-04T11:00:00"),
                    ScopeRow("", "", "")]
    scope, errors = parse_rows(rows, CAMS)
    assert errors == []
    assert scope == (ScopeWindow("cam1", datetime(2026, 1, 4, 9, tzinfo=UTC),
                                 datetime(2026, 1, 4, 10, tzinfo=UTC)),)
    # Shown back in the camera's zone: the same text the user typed.
    assert scope_rows(scope, CAMS) == rows[:1]
    assert len(with_blanks(rows)) == 1 + BLANK_ROWS


def test_every_bad_row_is_reported() -> None:
    rows = [ScopeRow("", "2026-01-04T10:00", ""), ScopeRow("cam9", "x", "y"),
            ScopeRow("cam1", "2026-01-04T10:00", ""),
            ScopeRow("cam2", "2026-01-04T11:00", "2026-01-04T10:00"),
            ScopeRow("cam2", "2026-01-04T10:00", "2026-01-04T11:00")]
    scope, errors = parse_rows(rows, CAMS)
    assert [w.camera for w in scope] == ["cam2"]
    assert errors[0] == "scope row 1: choose a camera"
    assert errors[1] == "scope row 2: unknown camera 'cam9'"
    assert errors[2] == "scope row 3 (cam1): give both the start and the end"
    assert errors[3].startswith("scope row 4: scope 'cam2:2026-01-04T11:00:00+00:00/")
    assert errors[3].endswith("the window ends before it starts")


def test_case_form_parse() -> None:
    form = CaseForm.read(FormData([
        ("ref", " R-1 "), ("basis", "77-1-1"), ("prosecutor_authorisation", "ST 26/4"),
        ("procedure_number", "PV 1"), ("authority", "OPJ"), ("purpose", "vol"),
        ("deadline", "2026-01-06T18:00"), ("scope_camera", "cam1"),
        ("scope_from", "2026-01-04T10:00"), ("scope_to", "2026-01-04T10:30"),
        ("assign", "marie"), ("assign", "marie"), ("assign", "")]))
    assert form.ref == "R-1" and form.assign == ("marie",)
    fields, scope, errors = form.parse(CAMS, "Europe/Paris", NOW)
    assert errors == [] and fields is not None and len(scope) == 1
    assert fields.basis is LegalBasis.ART_77_1_1 and fields.received_at == NOW
    assert fields.deadline == datetime(2026, 1, 6, 17, 0, tzinfo=UTC)
    assert fields.prosecutor_authorisation == "ST 26/4"
    bad = CaseForm(ref="R-2", basis="12-3", deadline="soon")
    fields, _, errors = bad.parse(CAMS, "Europe/Paris", NOW)
    assert fields is None
    assert errors == ["legal basis '12-3': choose one of 60-1, 77-1-1, 99-3",
                      "deadline: 'soon' is not a date and time"]
