"""The coverage report of a case: footage, gaps, analysed and failed spans checked against
real analysed clips; JSON, HTML and PDF outputs; the right to read it; journalled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clips import RED, Moving, make_clip
from conftest import fails_on_small_frames, fixed_clock, no_plates
from retrouve.config import Settings
from retrouve.domain import Camera, LegalBasis, Query, Role, ScopeWindow
from retrouve.errors import NotPermitted
from retrouve.legal.cases import Actor
from retrouve.legal.coverage import coverage_html, coverage_json, coverage_pdf
from retrouve.services import Services, build_services
from retrouve.store.cases import CaseFields

T0 = datetime(2026, 1, 4, 9, 0, 0, tzinfo=UTC)  # 10:00 Paris
SAM = Actor("sam", Role.SUPERVISOR)


@pytest.fixture
def failing_services(settings: Settings) -> Iterator[Services]:
    """Services whose detector fails on 160×120 frames (``conftest.fails_on_small_frames``)."""
    svc = build_services(settings, detector_factory=fails_on_small_frames,
                         plate_reader_factory=no_plates, clock=fixed_clock)
    try:
        yield svc
    finally:
        svc.close()


def test_coverage_of_a_case_with_a_gap_and_a_failed_unit(failing_services: Services,
                                                          tmp_path: Path) -> None:
    services = failing_services
    obj = [Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 2.0)]
    good = make_clip(tmp_path / "cam12_20260104_100000.mp4", seconds=2.0, fps=10, objects=obj)
    # A second clip whose unit fails: the detector fails on its 160×120 frames.
    bad = make_clip(tmp_path / "cam12_20260104_100005.mp4", seconds=2.0, fps=10,
                    size=(160, 120),
                    objects=[Moving(RED, (40, 30), (0, 60), (100, 60), 0.0, 2.0)])
    services.catalogue.add_camera(Camera("cam12", "Gare", "Europe/Paris"))
    services.catalogue.ingest(str(good.path), "cam12")
    services.catalogue.ingest(str(bad.path), "cam12")
    scope = (ScopeWindow("cam12", T0, T0 + timedelta(seconds=10)),)
    services.cases.create(SAM, CaseFields(
        ref="PV-9", basis=LegalBasis.ART_60_1, procedure_number="2026/9", authority="OPJ X",
        authority_service="SR", authority_contact="", received_at=T0, purpose="vol"),
        scope, ("sam",))
    case = services.cases.work(SAM, "PV-9")
    report = services.analyse_case(SAM, case)
    assert (report.units_done, report.units_failed) == (1, 1)
    services.search_query(Query(), SAM, case)

    cov = services.cases.coverage(SAM, "PV-9", "json")
    data = coverage_json(cov)
    [w] = data["windows"]
    secs = w["seconds"]
    assert secs["window"] == 10.0
    assert secs["footage"] == pytest.approx(4.0, abs=0.2)
    assert secs["gaps"] == pytest.approx(6.0, abs=0.2)  # 02→05 and 07→10
    assert len(w["gaps"]) == 2
    assert secs["analysed"] == pytest.approx(2.0, abs=0.2)
    assert secs["failed"] == pytest.approx(2.0, abs=0.2)
    assert secs["not_analysed"] == pytest.approx(0.0, abs=0.01)
    assert w["state"] == "partial"
    [failed] = w["failed"]
    assert failed["error"] and failed["from"].startswith("2026-01-04T09:00:05")
    [run] = data["runs"]
    assert run["id"] == report.run_id and run["models"] and run["settings"]
    [search] = data["searches"]
    assert search["hits"] == cov.searches[0].hits and search["user"] == "sam"
    assert data["marks"] == []  # nothing marked in this case
    assert "ne prouve pas" in data["notes"][0]

    page = coverage_html(cov)
    assert page.startswith("<!doctype html>") and 'lang="fr"' in page
    assert "PV-9" in page and "analysée en partie" in page and "ne prouve pas" in page
    pdf = coverage_pdf(cov)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/Type /Page" in pdf

    actions = [e.action for e in services.store.journal_entries(case="PV-9")]
    assert actions[-1] == "coverage-report"
    entry = list(services.store.journal_entries(case="PV-9"))[-1]
    assert json.loads(entry.details_json) == {"format": "json", "windows": 1, "searches": 1}


@pytest.mark.parametrize(("role", "ok"), [(Role.AUDITOR, True), (Role.SUPERVISOR, True),
                                          (Role.OPERATOR, False), (Role.ADMIN, False)])
def test_who_may_read_a_coverage_report(services: Services, role: Role, ok: bool) -> None:
    services.catalogue.add_camera(Camera("cam12", "Gare", "Europe/Paris"))
    services.cases.create(SAM, CaseFields(
        ref="PV-1", basis=LegalBasis.ART_60_1, procedure_number="1", authority="OPJ",
        authority_service="", authority_contact="", received_at=T0, purpose="x"),
        (ScopeWindow("cam12", T0, T0 + timedelta(hours=1)),))
    actor = Actor("someone", role)
    if ok:
        cov = services.cases.coverage(actor, "PV-1", "html")
        assert cov.windows[0].state == "no-footage"
        assert cov.windows[0].gap_seconds == 3600.0
    else:
        with pytest.raises(NotPermitted, match="read-coverage"):
            services.cases.coverage(actor, "PV-1", "html")


def test_cli_report_formats(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from retrouve.cli import cli

    def run(*args: str) -> str:
        res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *args])
        assert res.exit_code == 0, res.output
        return res.output

    run("cameras", "add", "cam12")
    run("cases", "create", "R1", "--basis", "60-1", "--procedure", "P", "--authority", "OPJ",
        "--purpose", "t", "--scope", "cam12:2026-01-04T09:00Z/2026-01-04T09:10Z")
    data = json.loads(run("cases", "report", "R1"))
    assert data["windows"][0]["seconds"]["gaps"] == 600.0
    run("cases", "report", "R1", "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    run("cases", "report", "R1", "--format", "html", "--out", str(tmp_path / "r.html"))
    assert "Rapport de couverture" in (tmp_path / "r.html").read_text(encoding="utf-8")
