"""The command line as an operator meets it: recordings readable at 80 columns, analysis
progress per unit out of the real total, the data-folder check on `models`, `--lang`."""

from __future__ import annotations

import getpass
import io
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console
from rich.progress import Progress

from clips import RED, Clip, Moving, make_clip
from retrouve.catalogue.sources import start_from_filename
from retrouve.cli import cli
from retrouve.cli import io as cli_io
from retrouve.cli.serve import serve
from retrouve.config import Settings
from retrouve.domain import Camera, LegalBasis, Role, ScopeWindow, StageStats, UnitResult
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.store.cases import CaseFields

CAMERA = "cam-12-place-de-la-gare"


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    folder = tmp_path_factory.mktemp("operator-clips")
    return make_clip(folder / "cam12_20260104_100000.mp4", seconds=2.0, fps=10,
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 2.0)])


@pytest.fixture
def ingested(tmp_path: Path, clip: Clip) -> tuple[Path, str]:
    """A data folder with one London camera and the clip: (folder, recording id)."""
    assert run(tmp_path, "cameras", "add", CAMERA, "--timezone", "Europe/London").exit_code == 0
    added = run(tmp_path, "ingest", str(clip.path), "--camera", CAMERA, "--json")
    assert added.exit_code == 0, added.output
    listed = run(tmp_path, "recordings", "--json")
    [rec] = json.loads(listed.output)
    return tmp_path, rec["id"]


# ------------------------------------------------------------------ recordings
def test_recordings_at_80_columns_keep_ids_whole(ingested: tuple[Path, str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    data, rec_id = ingested
    monkeypatch.setattr(cli_io.console, "width", 80)
    out = run(data, "recordings")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert rec_id in lines  # alone on its line, to copy
    assert all(len(line) <= 80 for line in lines)
    # The operator zone is the only camera's (London): 10:00 local in the file name.
    assert "2026-01-04 10:00:00 GMT · 2.0s · pending" in out.output


def test_recordings_table_when_wide(ingested: tuple[Path, str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data, rec_id = ingested
    monkeypatch.setattr(cli_io.console, "width", 160)
    out = run(data, "--tz", "Europe/Paris", "recordings")
    assert out.exit_code == 0, out.output
    assert rec_id in out.output and "┃ id" in out.output
    # Paris for the operator, the camera's London time beside it.
    assert "2026-01-04 11:00:00 CET (camera 10:00:00 GMT)" in out.output


def test_recordings_json_adds_the_operator_time(ingested: tuple[Path, str]) -> None:
    data, _ = ingested
    [rec] = json.loads(run(data, "--tz", "Asia/Tokyo", "recordings", "--json").output)
    assert rec["start"] == "2026-01-04T10:00:00+00:00"
    assert rec["start_local"] == "2026-01-04T19:00:00+09:00"


# ------------------------------------------------------------------ progress
def test_progress_bar_knows_the_total_before_the_first_unit() -> None:
    bar = Progress(console=Console(file=io.StringIO(), width=80))
    progress = cli_io.UnitProgress(bar)
    [task] = bar.tasks
    assert task.total is None
    progress.start(3)
    assert (task.total, task.completed, task.description) == (3, 0, "analysing 3 units")
    stats = StageStats()
    progress(1, 3, UnitResult("rec-a/0", (), stats))
    progress(2, 3, UnitResult("rec-a/1", (), stats, error="cannot decode"))
    assert (task.total, task.completed, task.description) == (3, 2, "done rec-a/1")
    cli_io.UnitProgress()(1, 1, UnitResult("x", (), stats))  # --json: prints nothing


def test_analysis_announces_its_units_then_advances_per_unit(services: Services,
                                                             tmp_path: Path) -> None:
    # Two different files (the same bytes twice would be one recording).
    clips = [make_clip(tmp_path / f"cam12_20260104_10000{s}.mp4", seconds=2.0, fps=10,
                       objects=[Moving(RED, (60, 30), (0, y), (260, y), 0.0, 2.0)])
             for s, y in ((0, 40), (4, 80))]
    services.catalogue.add_camera(Camera("cam12", "Gare", "Europe/Paris"))
    for c in clips:
        services.catalogue.ingest(str(c.path), "cam12")
    t0 = datetime(2026, 1, 4, 9, 0, tzinfo=UTC)
    sam = Actor("sam", Role.SUPERVISOR)
    services.cases.create(sam, CaseFields(
        ref="PV-1", basis=LegalBasis.ART_60_1, procedure_number="1", authority="OPJ",
        authority_service="", authority_contact="", received_at=t0, purpose="vol"),
        (ScopeWindow("cam12", t0, t0 + timedelta(seconds=10)),), ("sam",))
    events: list[tuple[str, int, int]] = []
    report = services.analyse_case(
        sam, services.cases.work(sam, "PV-1"),
        progress=lambda done, total, _r: events.append(("unit", done, total)),
        started=lambda units: events.append(("start", 0, units)))
    assert report.units_done == 2
    assert events == [("start", 0, 2), ("unit", 1, 2), ("unit", 2, 2)]


# ------------------------------------------------------------------ models and the data dir
def test_models_refuse_a_missing_data_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for args in (("models", "list"), ("models", "verify", "x"), ("models", "remove", "x")):
        res = run(missing, *args)
        assert res.exit_code == 2, (args, res.output)
        assert "does not exist" in " ".join(res.output.split())
    assert not missing.exists()
    # The catalogue says what could be installed: it needs no data folder.
    catalogue = run(missing, "models", "catalogue", "--json")
    assert catalogue.exit_code == 0, catalogue.output
    assert not missing.exists()


# ------------------------------------------------------------------ --lang
def test_group_lang_sets_the_search_lines(tmp_path: Path) -> None:
    assert run(tmp_path, "cameras", "add", "c").exit_code == 0
    made = run(tmp_path, "cases", "create", "T-1", "--basis", "60-1", "--procedure", "P",
               "--authority", "OPJ", "--purpose", "t", "--assign", getpass.getuser(),
               "--scope", "c:2026-01-01T00:00Z/2026-02-01T00:00Z")
    assert made.exit_code == 0, made.output
    en = run(tmp_path, "--lang", "en", "search", "--case", "T-1", "--text", "voiture zorglub")
    assert en.exit_code == 0, en.output
    flat = " ".join(en.output.split())
    assert "understood: Vehicle: car" in flat and "ignored: zorglub" in flat
    # The command's own --lang wins over the group's.
    fr = run(tmp_path, "--lang", "en", "search", "--case", "T-1", "--text", "voiture zorglub",
             "--lang", "fr")
    assert "compris : Véhicule : voiture" in " ".join(fr.output.split())


# ------------------------------------------------------------------ README and deploy/
ROOT = Path(__file__).resolve().parents[1]


def test_readme_file_name_example_reads_its_start() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pattern = re.search(r"RETROUVE_FILENAME_PATTERN='([^']+)'", readme)
    fmt = re.search(r"RETROUVE_START_FORMAT='([^']+)'", readme)
    assert pattern and fmt
    start = start_from_filename(Path("CH01-2026-01-04-10.00.00.dav"), pattern.group(1),
                                fmt.group(1), "Europe/Paris")
    assert start == datetime(2026, 1, 4, 9, 0, tzinfo=UTC)
    # The default pattern reads the README's default examples.
    s = Settings(data_dir=ROOT)
    for name in ("cam12_20260104_100000.mp4", "cam12-20260104T100000.mkv"):
        assert start_from_filename(Path(name), s.filename_pattern, s.start_format,
                                   "UTC") == datetime(2026, 1, 4, 10, 0, tzinfo=UTC)


def _unit() -> dict[str, list[str]]:
    """deploy/retrouve.service as key → values (systemd allows a key several times)."""
    values: dict[str, list[str]] = {}
    text = (ROOT / "deploy" / "retrouve.service").read_text(encoding="utf-8")
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "[")):
            continue
        key, _, value = line.partition("=")
        values.setdefault(key, []).append(value)
    return values


def test_systemd_unit_runs_serve_unprivileged_and_hardened() -> None:
    unit = _unit()
    assert unit["User"] == ["retrouve"] and unit["Group"] == ["retrouve"]
    for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                       ("PrivateDevices", "yes"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("CapabilityBoundingSet", "")):
        assert unit[key] == [value], key
    # The data folder is the one place it may write.
    assert unit["Environment"] == ["RETROUVE_DATA_DIR=/var/lib/retrouve"]
    assert unit["StateDirectory"] == ["retrouve"]
    assert unit["ReadWritePaths"] == ["/var/lib/retrouve"]
    # ExecStart is `retrouve serve` with options the command has.
    [exec_start] = unit["ExecStart"]
    words = exec_start.split()
    assert words[0].endswith("/retrouve") and words[1] == "serve"
    known = {opt for p in serve.params for opt in p.opts}
    assert {w for w in words[2:] if w.startswith("--")} <= known
    assert "--ssl-certfile" in words and "--ssl-keyfile" in words


def test_systemd_unit_verifies_where_systemd_is_installed(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    res = subprocess.run([analyze, "verify", str(ROOT / "deploy" / "retrouve.service")],
                         capture_output=True, text=True, timeout=60, check=False)
    # The only complaint allowed here: Retrouve is not installed under /opt on this machine.
    problems = [line for line in (res.stdout + res.stderr).splitlines()
                if line.strip() and "is not executable" not in line]
    assert problems == []
