"""Partial footage: a file whose decodable content ends before its announced duration is
"partial" with the analysed range, never "done"; the missing range shows in `recordings` and
in the coverage report; a case-scoped analysis of part of a recording is not "done" either."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from clips import GREEN, RED, Moving, make_clip
from retrouve.analysis.runner import settle_status
from retrouve.cli import cli
from retrouve.domain import Camera, LegalBasis, Recording, Role, ScopeWindow
from retrouve.legal.cases import Actor
from retrouve.legal.coverage import coverage_json
from retrouve.services import Services
from retrouve.store.cases import CaseFields
from retrouve.store.records import UnitRow

T0 = datetime(2026, 1, 4, 9, 0, 0, tzinfo=UTC)  # 10:00 Paris: the files' names
SAM = Actor("sam", Role.SUPERVISOR)
CAM = Camera("cam12", "Gare", "Europe/Paris")


def _case(services: Services, ref: str, start: datetime, end: datetime) -> None:
    services.cases.create(SAM, CaseFields(
        ref=ref, basis=LegalBasis.ART_60_1, procedure_number="2026/9", authority="OPJ X",
        authority_service="SR", authority_contact="", received_at=T0, purpose="vol"),
        (ScopeWindow(CAM.id, start, end),), ("sam",))


def _truncated(folder: Path) -> Path:
    """An 8 s Matroska clip cut to half its bytes: the header still announces 8 s."""
    full = make_clip(folder / "full.mkv", seconds=8.0, fps=10,
                     objects=[Moving(GREEN, (40, 40), (10, 10), (250, 150), 0.0, 8.0)])
    cut = folder / "cam12_20260104_100000.mkv"
    data = full.path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    full.path.unlink()
    return cut


def test_truncated_file_is_partial_with_the_missing_range_everywhere(
        services: Services, tmp_path: Path) -> None:
    cut = _truncated(tmp_path / "in")
    services.catalogue.add_camera(CAM)
    [rec] = services.catalogue.ingest(str(cut), CAM.id).added
    assert rec.duration_s == pytest.approx(8.0, abs=0.2)  # what the container announces
    _case(services, "PV-1", T0, T0 + timedelta(seconds=20))
    report = services.analyse_case(SAM, services.cases.work(SAM, "PV-1"))
    assert report.units_done >= 1 and report.units_failed == 0
    [(partial_id, note)] = report.partial
    assert partial_id == rec.id and "decodable content ends" in note

    [entry] = services.store.list_recordings()
    assert entry.status == "partial"  # never "done"
    until = entry.analysed_until_s
    assert until is not None and 1.0 < until < 6.0
    assert entry.error is not None and "not analysed" in entry.error
    [view] = services.catalogue.recordings()
    assert view.to_json()["analysed_until_s"] == until and view.to_json()["status"] == "partial"

    data = coverage_json(services.cases.coverage(SAM, "PV-1", "json"))
    [w] = data["windows"]
    assert w["state"] == "partial"
    assert w["seconds"]["analysed"] == pytest.approx(until, abs=0.05)
    assert w["seconds"]["not_analysed"] == pytest.approx(rec.duration_s - until, abs=0.05)
    [(a, b)] = w["not_analysed"]
    assert a.startswith("2026-01-04T09:00:0") and b.startswith("2026-01-04T09:00:08")

    # Analysing again does not pretend the rest was analysed, nor decode anything twice.
    again = services.analyse_case(SAM, services.cases.work(SAM, "PV-1"))
    assert again.units_done == 0
    assert services.store.list_recordings()[0].status == "partial"

    out = CliRunner().invoke(cli, ["--data-dir", str(services.settings.data_dir),
                                   "recordings"], terminal_width=250)
    assert out.exit_code == 0, out.output
    assert "partial" in out.output and f"{until:.1f}–8.0s" in out.output
    js = CliRunner().invoke(cli, ["--data-dir", str(services.settings.data_dir),
                                  "recordings", "--json"])
    assert '"analysed_until_s": ' + str(until) in js.output


def test_case_scoped_part_of_a_recording_is_not_done(services: Services,
                                                     tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "cam12_20260104_100000.mp4", seconds=6.0, fps=10,
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 6.0)])
    services.catalogue.add_camera(CAM)
    services.catalogue.ingest(str(clip.path), CAM.id)
    _case(services, "PV-2", T0, T0 + timedelta(seconds=2))  # the first 2 s only
    report = services.analyse_case(SAM, services.cases.work(SAM, "PV-2"))
    assert report.units_done == 1
    assert [r for r, _ in report.partial] == [services.store.list_recordings()[0].recording.id]
    assert report.to_json()["partial"][0]["note"].startswith("2.0 s of 6.0 s analysed")
    [entry] = services.store.list_recordings()
    assert entry.status == "partial" and entry.analysed_until_s is None
    assert entry.error is not None and "2.0 s of 6.0 s analysed" in entry.error
    # A case over the rest completes it: now, and only now, "done".
    _case(services, "PV-3", T0, T0 + timedelta(seconds=30))
    services.analyse_case(SAM, services.cases.work(SAM, "PV-3"))
    [entry] = services.store.list_recordings()
    assert (entry.status, entry.error) == ("done", None)


def _rec(duration: float) -> Recording:
    return Recording("r", "c", "/f.mp4", "s", 1, T0, duration, 10.0, 320, 240, "h264")


def _unit(t0: float, t1: float, status: str, until: float | None) -> UnitRow:
    return UnitRow(f"r@{t0}", "r", t0, t1, status, None if status == "done" else "boom",
                   1, until)


@pytest.mark.parametrize(("units", "expected"), [
    ([_unit(0, math.inf, "done", 8.0)], ("done", None)),
    ([_unit(0, math.inf, "done", None)], ("done", None)),  # stored before migration 0009
    ([_unit(0, 4, "done", 4.0), _unit(4, math.inf, "done", 8.1)], ("done", None)),
    ([_unit(0, 4, "done", 4.0), _unit(4, math.inf, "done", 5.0)], ("partial", 5.0)),
    ([_unit(0, 4, "done", 2.5), _unit(4, math.inf, "done", 4.0)], ("partial", 2.5)),
    ([_unit(0, 4, "done", 4.0), _unit(4, math.inf, "failed", None)], ("partial", None)),
    ([_unit(0, 4, "failed", None), _unit(4, math.inf, "failed", None)], ("failed", None)),
    ([_unit(2, 4, "done", 4.0)], ("partial", None)),
])
def test_settle_status(units: list[UnitRow], expected: tuple[str, float | None]) -> None:
    status, _note, until = settle_status(_rec(8.0), units)
    assert (str(status), until) == expected
