"""`retrouve retention run|register` end to end: real footage ingested 60 days ago is purged
with a signed certificate, a dry run changes nothing, the register lists the destruction."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from clips import make_clip
from conftest import make_services
from retrouve.cli import cli
from retrouve.config import Settings
from test_retention_purge import pdf_text


def test_retention_run_purges_old_footage(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clip = make_clip(tmp_path / "old.mp4", seconds=2.0).path
    start = (datetime.now(UTC) - timedelta(days=60)).replace(microsecond=0)
    run = CliRunner().invoke
    base = ["--data-dir", str(data)]
    assert run(cli, [*base, "cameras", "add", "cam1", "--timezone", "Europe/Paris"]).exit_code == 0
    r = run(cli, [*base, "ingest", str(clip), "--camera", "cam1", "--start", start.isoformat()])
    assert r.exit_code == 0, r.output

    dry = run(cli, [*base, "retention", "run", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.output)
    assert planned["dry_run"] is True
    assert [p["certificate"] for p in planned["purged"]] == [None]
    assert planned["purged"][0]["recording"]["camera"] == "cam1"
    listed = run(cli, [*base, "recordings", "--json"])
    assert len(json.loads(listed.output)) == 1

    done = run(cli, [*base, "retention", "run", "--json"])
    assert done.exit_code == 0, done.output
    purged = json.loads(done.output)["purged"]
    assert len(purged) == 1 and isinstance(purged[0]["certificate"], int)
    assert json.loads(run(cli, [*base, "recordings", "--json"]).output) == []
    # Footage registered in place is not Retrouve's: forgotten, never deleted by default.
    assert clip.is_file() and purged[0]["file"] == "forgotten"

    again = run(cli, [*base, "retention", "run", "--json"])
    assert json.loads(again.output)["purged"] == []

    reg = run(cli, [*base, "retention", "register"])
    rows = list(csv.DictReader(io.StringIO(reg.output)))
    assert [row["camera"] for row in rows] == ["cam1"]
    assert rows[0]["sha256"] == purged[0]["recording"]["sha256"]
    pdf = tmp_path / "register.pdf"
    assert run(cli, [*base, "retention", "register", "--format", "pdf"]).exit_code == 2
    made = run(cli, [*base, "retention", "register", "--format", "pdf", "--out", str(pdf)])
    assert made.exit_code == 0, made.output
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert purged[0]["recording"]["id"].encode() in pdf_text(data)
    assert run(cli, [*base, "journal", "verify"]).exit_code == 0


def test_only_admins_and_supervisors_run_a_purge_by_hand(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clip = make_clip(tmp_path / "old.mp4", seconds=1.0).path
    start = (datetime.now(UTC) - timedelta(days=60)).replace(microsecond=0)
    run = CliRunner().invoke
    base = ["--data-dir", str(data)]
    assert run(cli, [*base, "cameras", "add", "cam1", "--timezone", "Europe/Paris"]).exit_code == 0
    assert run(cli, [*base, "ingest", str(clip), "--camera", "cam1", "--start",
                     start.isoformat()]).exit_code == 0
    for name, role in (("ada", "admin"), ("sam", "supervisor"), ("olga", "operator"),
                       ("aude", "auditor")):
        made = run(cli, [*base, "users", "add", name, "--role", role, "--password-stdin"],
                   input="correct horse battery\n")
        assert made.exit_code == 0, made.output
    for name in ("olga", "aude"):
        for extra in (["--dry-run"], []):
            refused = run(cli, [*base, "--user", name, "retention", "run", *extra])
            assert refused.exit_code == 2, refused.output
            assert "run-purge" in " ".join(refused.output.split())
    assert len(json.loads(run(cli, [*base, "recordings", "--json"]).output)) == 1
    dry = run(cli, [*base, "--user", "sam", "retention", "run", "--dry-run", "--json"])
    assert dry.exit_code == 0 and len(json.loads(dry.output)["purged"]) == 1
    done = run(cli, [*base, "--user", "ada", "retention", "run", "--json"])
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.output)["purged"]) == 1
    assert json.loads(run(cli, [*base, "recordings", "--json"]).output) == []
    svc = make_services(Settings(data_dir=data))
    try:
        purges = [e for e in svc.store.journal_entries() if e.action == "purge"]
        assert [(e.user, e.role) for e in purges] == [("ada", "admin")]
    finally:
        svc.close()
