"""``retrouve export`` from the command line: create (at once, or recorded for approval with
exit 3), approve by a second supervisor only, build the approved request, list, verify a zip
or folder (exit 1 naming the tampered file)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner, Result
from tests.test_export_bundle import OLGA, Setup, make_setup

from retrouve.cli import cli
from retrouve.store.marks import MarkKind


def run(s: Setup, user: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(s.svc.settings.data_dir), "--user",
                                    user, "export", *args], env=env)


def test_create_without_approval_prints_the_bundle_and_verify_checks_it(tmp_path: Path
                                                                        ) -> None:
    s = make_setup(tmp_path, approval=False)
    s.svc.close()
    env = {"RETROUVE_EXPORT__REQUIRE_APPROVAL": "false",
           "RETROUVE_EXPORT__WORKING_PRESET": "ultrafast"}
    made = run(s, "sam", "create", "--case", "PV-1", "--track", str(s.track), "--window",
               "cam1:2026-01-04T10:00:04+01:00/2026-01-04T10:00:05+01:00", "--out",
               str(tmp_path / "out"), env=env)
    assert made.exit_code == 0, made.output
    bundle = Path(made.stdout.strip().splitlines()[-1])
    assert bundle.is_file() and bundle.suffix == ".zip"
    ok = run(s, "sam", "verify", str(bundle))
    assert ok.exit_code == 0 and "intact" in ok.output
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "x")
    assert sum(n.endswith("master.mp4") for n in names) == 2  # the track, the window
    root = tmp_path / "x" / bundle.stem
    (root / "exhibits/E02/working.mp4").write_bytes(b"not the working copy")
    bad = run(s, "sam", "verify", str(root), "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["problems"] == [
        "exhibits/E02/working.mp4: altered (SHA-256 differs)"]
    assert "exhibits/E02/working.mp4" in bad.stderr
    outside = run(s, "sam", "create", "--case", "PV-1", "--window",
                  "cam1:2026-01-04T11:00+01:00/2026-01-04T11:01+01:00", "--out",
                  str(tmp_path / "o2"), env=env)
    assert outside.exit_code == 2 and "scope" in outside.output


def test_approval_flow_from_the_command_line(tmp_path: Path) -> None:
    s = make_setup(tmp_path, approval=True)
    s.svc.cases.mark(OLGA, "PV-1", s.track, MarkKind.RELEVANT, "")
    s.svc.close()
    out = tmp_path / "out"
    asked = run(s, "sam", "create", "--case", "PV-1", "--out", str(out), "--json")
    assert asked.exit_code == 3, asked.output
    assert json.loads(asked.stdout)["state"] == "requested"
    said = " ".join(asked.stderr.split())
    assert "export request 1" in said and "retrouve export approve 1" in said
    assert "retrouve export create --request 1" in said
    assert not out.exists()
    early = run(s, "sam", "create", "--request", "1", "--out", str(out))
    assert early.exit_code == 2 and "approval" in early.output
    own = run(s, "sam", "approve", "1")  # the requester cannot approve
    assert own.exit_code == 2 and "cannot approve it too" in " ".join(own.output.split())
    approved = run(s, "zoe", "approve", "1", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["approved_by"] == "zoe"
    built = run(s, "sam", "create", "--request", "1", "--out", str(out), "--json")
    assert built.exit_code == 0, built.output
    data = json.loads(built.stdout)
    assert data["state"] == "produced" and Path(data["bundle"]).is_file()
    assert "exhibits/E01/still.png" in data["files"]
    listed = run(s, "sam", "list", "--case", "PV-1", "--json")
    assert listed.exit_code == 0
    [row] = json.loads(listed.stdout)
    assert (row["requested_by"], row["approved_by"], row["sha256"]) == (
        "sam", "zoe", data["sha256"])
    mixed = run(s, "sam", "create", "--request", "1", "--track", "1", "--out", str(out))
    assert mixed.exit_code == 2
