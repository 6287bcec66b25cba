"""The bad-input corpus (issue 12), case by case and all in one batch.

Each case of ``badinput/corpus.py`` is made once per session, then ingested in a data folder
of its own: through the public service API (``catalogue.ingest`` then ``analyser.analyse``
with the shape detector) for footage, through the real CLI for CLI text and ``--start``
times. Then every file case together, with two good clips, goes through one CLI ``ingest``
of one folder (under a path that reads as console markup) and one analysis: the good clips
are analysed, every bad one is reported as it was alone, and the store is intact.

``scripts/bad_input_report.py`` runs this file and prints tried / passed per area.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from badinput.corpus import (
    CAMERA,
    CASES,
    ZONE,
    Case,
    Expected,
    Outcome,
    Sample,
    build,
    clip,
    table_markdown,
)
from conftest import make_services
from retrouve.analysis.runner import AnalysisReport
from retrouve.catalogue.ingest import IngestReport
from retrouve.catalogue.integrity import check_footage
from retrouve.catalogue.probe import probe
from retrouve.catalogue.sources import check_plausible, parse_start, start_from_filename
from retrouve.cli import cli
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Camera
from retrouve.services import Services
from retrouve.store import schema as s

CAM = Camera(CAMERA, "Quai", ZONE)
#: The file-name pattern and format of the default settings (the corpus names follow it).
DEFAULTS = Settings()


def settings_in(data: Path) -> Settings:
    """Inline analysis in work units of 10 s (the shortest allowed): the long truncated case
    has units wholly past its cut."""
    return Settings(
        data_dir=data, workers=1, executor="inline", analysis=AnalysisSettings(slice_seconds=10)
    )


@dataclass(frozen=True)
class Made:
    """The corpus on disk: each case's sample, by id."""

    root: Path
    samples: dict[str, Sample]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Made:
    root = tmp_path_factory.mktemp("badinput")
    samples = {c.id: build(c, root, i) for i, c in enumerate(CASES) if _available(c)}
    return Made(root, samples)


def _available(case: Case) -> bool:
    return case.needs is None or case.needs in av.codecs_available


def _param(case: Case) -> object:
    marks: list[pytest.MarkDecorator] = []
    if case.xfail:
        marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
    if not _available(case):
        marks.append(pytest.mark.skip(reason=f"PyAV without {case.needs}"))
    return pytest.param(case, id=case.id, marks=marks)


def flat(text: str) -> str:
    return " ".join(text.split())


def says(expected: Expected, sample: Sample) -> list[str]:
    return [flat(f.replace("{path}", str(sample.path))) for f in expected.says]


def run_cli(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args], terminal_width=400)


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    services = make_services(settings_in(tmp_path / "data"))
    services.catalogue.add_camera(CAM)
    try:
        yield services
    finally:
        services.close()


# ----------------------------------------------------------------------------- checks
def check_refusal_class(expected: Expected, sample: Sample) -> None:
    """The refusal's class, as the catalogue's probe and start readers raise it (the
    ingest report keeps the message only)."""
    assert expected.error is not None
    with pytest.raises(expected.error):  # the catalogue's steps, in its order
        probe(sample.path)
        if sample.start is not None:
            when = parse_start(sample.start, ZONE)
        else:
            found = start_from_filename(
                sample.path, DEFAULTS.filename_pattern, DEFAULTS.start_format, ZONE
            )
            assert found is not None, "a name without a time has no class to check"
            when = found
        check_plausible(when, datetime.now(UTC), "start")


def check_refused(report: IngestReport, expected: Expected, sample: Sample) -> None:
    assert not report.added and not report.skipped, report.to_json()
    [(where, message)] = report.failed
    assert where == str(sample.path)
    for fragment in says(expected, sample):
        assert fragment in flat(message), message
    assert "Traceback" not in message and "unexpected" not in message


def check_tracks_inside(services: Services, rec_id: str) -> int:
    """Every track of ``rec_id`` within the stored duration and frame; returns their number."""
    rec = services.store.get_recording(rec_id)
    assert rec is not None
    with services.store.engine.connect() as conn:
        rows = conn.execute(select(s.tracks).where(s.tracks.c.recording_id == rec_id)).all()
    end = max(rec.duration_s, 0.0) + 1e-6
    for r in rows:
        assert 0.0 <= r.t_start <= r.t_end <= end, (r.t_start, r.t_end, rec.duration_s)
        assert 0.0 <= r.box_x0 < r.box_x1 <= rec.width
        assert 0.0 <= r.box_y0 < r.box_y1 <= rec.height
    return len(rows)


def check_analysed(
    services: Services, rec_id: str, report: AnalysisReport, expected: Expected, sample: Sample
) -> None:
    """``rec_id``'s state after ``report`` is ``expected``'s."""
    [entry] = [e for e in services.store.list_recordings() if e.recording.id == rec_id]
    changed = dict(report.changed)
    partial = dict(report.partial)
    if expected.outcome is Outcome.CHANGED:
        assert entry.status == "changed" and rec_id in changed
        for fragment in says(expected, sample):
            assert fragment in flat(changed[rec_id])
        assert services.store.units_of([rec_id]) == []  # never planned, never decoded
        if expected.error is not None:
            with pytest.raises(expected.error):
                check_footage(entry.recording)
        return
    tracks = check_tracks_inside(services, rec_id)
    if expected.outcome is Outcome.PARTIAL:
        assert entry.status == "partial" and rec_id in partial, (entry.status, entry.error)
        for fragment in says(expected, sample):
            assert fragment in partial[rec_id]
        if expected.until_s is None:
            # Damaged inside, analysed through: no range is missing.
            assert entry.analysed_until_s is None, entry.analysed_until_s
        else:
            assert entry.analysed_until_s is not None
            lo, hi = expected.until_s
            assert lo <= entry.analysed_until_s <= hi
        if expected.tracks:
            assert tracks > 0
        return
    assert expected.outcome is Outcome.DONE
    assert (entry.status, entry.error) == ("done", None)
    assert rec_id not in changed and rec_id not in partial
    if expected.tracks:
        assert tracks > 0


def check_ingested(report: IngestReport, expected: Expected, sample: Sample) -> str:
    assert not report.failed, report.to_json()
    [rec] = report.added
    tolerance = 1.5 / rec.fps if rec.fps else 0.0
    if expected.duration_s is not None:
        assert rec.duration_s == pytest.approx(expected.duration_s, abs=tolerance)
    if expected.size is not None:
        assert (rec.width, rec.height) == expected.size
    if expected.image is not None:
        assert rec.is_image is expected.image
    if expected.codec is not None:
        assert rec.codec == expected.codec
    notes = [n for p, n in report.notes if p == str(sample.path)]
    for fragment in expected.notes:
        assert any(fragment in n for n in notes), notes
    if not expected.notes:
        assert notes == []
    return rec.id


# ------------------------------------------------------------------------------ cases
@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.via == "service"])
def test_footage_case(case: Case, corpus: Made, svc: Services, tmp_path: Path) -> None:
    # A copy is ingested (and changed): the corpus stays as made for the batch.
    made = corpus.samples[case.id]
    sample = replace(made, path=shutil.copy2(made.path, tmp_path / made.path.name))
    expected = case.expected
    begun = time.perf_counter()
    report = svc.catalogue.ingest(str(sample.path), CAM.id, sample.start)
    if expected.outcome is Outcome.REFUSED:
        if expected.within_s is not None:
            assert time.perf_counter() - begun < expected.within_s
        check_refused(report, expected, sample)
        if expected.error is not None:
            check_refusal_class(expected, sample)
        assert svc.store.list_recordings() == []
        return
    rec_id = check_ingested(report, expected, sample)
    if sample.change is not None:
        sample.change(sample.path)
    analysis = svc.analyser.analyse()
    assert analysis.units_failed == 0, analysis.failures
    check_analysed(svc, rec_id, analysis, expected, sample)


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.via == "cli"])
def test_cli_case(case: Case, corpus: Made, tmp_path: Path) -> None:
    sample = corpus.samples[case.id]
    expected = case.expected
    data = tmp_path / "data"
    *before, last = sample.argv
    for argv in before:
        out = run_cli(data, *argv)
        assert out.exit_code == 0, out.output
    out = run_cli(data, *last)
    text = flat(out.output)
    assert "Traceback" not in text, text
    assert out.exception is None or isinstance(out.exception, SystemExit), repr(out.exception)
    assert out.exit_code == expected.exit_code, text
    for fragment in says(expected, sample):
        assert fragment in text
    if expected.error is not None and sample.start is not None:
        with pytest.raises(expected.error):
            check_plausible(parse_start(sample.start, ZONE), datetime.now(UTC), "start")


# ------------------------------------------------------------------------------ batch
def test_one_bad_file_never_stops_a_batch(corpus: Made, tmp_path: Path) -> None:
    """Every file case and two good clips in one folder (its path reads as console markup):
    one CLI ingest, one analysis. The good clips are analysed; every case ends as it does
    alone (a strict-xfail case is only required not to stop the others); the store is
    intact: SQLite's integrity check, no run left "running", no recording left "pending" or
    "analysing", every track inside its recording."""
    folder = tmp_path / "batch [/y]" / "[cam 12]"
    folder.mkdir(parents=True)
    cases = [c for c in CASES if c.batch and c.id in corpus.samples]
    samples = {
        c.id: replace(
            corpus.samples[c.id],
            path=shutil.copy2(corpus.samples[c.id].path, folder / corpus.samples[c.id].path.name),
        )
        for c in cases
    }
    good = [
        clip(folder / f"{CAMERA}_20260104_09{m:02d}00.mp4", len(CASES) + m, 3.0) for m in (0, 5)
    ]
    data = tmp_path / "data"
    assert run_cli(data, "cameras", "add", CAMERA, "--timezone", ZONE).exit_code == 0
    out = run_cli(data, "ingest", str(tmp_path / "batch [/y]"), "--camera", CAMERA)
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    lines = out.output.splitlines()
    refused = {
        line.split(": ", 1)[0].removeprefix("refused ")
        for line in lines
        if line.startswith("refused ")
    }
    added = {line.rsplit("  ", 1)[1] for line in lines if line.startswith("added ")}
    for path in good:
        assert str(path) in added  # printed whole, on one line
    # Every file of the folder is listed, either way (none silently dropped).
    assert refused | added == {str(p.path) for p in samples.values()} | {str(p) for p in good}
    assert not refused & added

    services = make_services(settings_in(data))
    try:
        by_path = {e.recording.path: e.recording.id for e in services.store.list_recordings()}
        assert set(by_path) == added
        for case in cases:
            sample = samples[case.id]
            if sample.change is not None and str(sample.path) in by_path:
                sample.change(sample.path)
        report = services.analyser.analyse()
        assert report.units_failed == 0, report.failures
        for path in good:
            rec_id = by_path[str(path)]
            check_analysed(
                services, rec_id, report, Expected(Outcome.DONE, tracks=True), Sample(path)
            )
        for case in cases:
            sample = samples[case.id]
            where = str(sample.path)
            if case.xfail:
                continue  # fails alone (strict xfail there); here it only must not stop others
            if case.expected.outcome is Outcome.REFUSED:
                assert where in refused and where not in by_path, case.id
                line = next(x for x in lines if x.startswith(f"refused {where}: "))
                for fragment in says(case.expected, sample):
                    assert fragment in line, (case.id, line)
            else:
                assert where in by_path and where not in refused, case.id
                check_analysed(services, by_path[where], report, case.expected, sample)
        entries = services.store.list_recordings()
        assert {e.status for e in entries} <= {"done", "partial", "changed", "failed"}
        with services.store.engine.connect() as conn:
            runs = conn.execute(select(s.analysis_runs.c.status)).scalars().all()
        assert runs and "running" not in runs
        for e in entries:
            check_tracks_inside(services, e.recording.id)
        database = services.store.engine.url.database
        assert database is not None
    finally:
        services.close()
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = run_cli(data, "recordings", "--json")
    assert again.exit_code == 0 and "Traceback" not in again.output


# ------------------------------------------------------------------------------ table
def test_the_table_is_whole_and_documented() -> None:
    """Ids unique, every area of issue 12 present, ``docs/hardening.md`` current."""
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert {str(c.area) for c in CASES} == {
        "integrity",
        "partial",
        "nvr",
        "stills",
        "start",
        "cli",
        "garbage",
    }
    doc = (Path(__file__).parent.parent / "docs" / "hardening.md").read_text(encoding="utf-8")
    table = doc.split("<!-- corpus-table:begin -->\n", 1)[1].split("\n<!-- corpus-table:end -->")[0]
    assert table == table_markdown(), "regenerate: python scripts/bad_input_report.py --write-docs"
