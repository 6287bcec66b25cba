"""Backup and restore round trip on a real analysed installation (SQLite), taken while a
writer keeps writing; a damaged backup is refused by name; nothing half-written."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from click.testing import CliRunner, Result

from clips import RED, Moving, make_clip
from retrouve.cli import cli
from retrouve.config import Settings
from retrouve.legal import journal as j
from retrouve.services import build_services


def run(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


def flat(text: str) -> str:
    return " ".join(text.split())


def snapshot(data: Path) -> dict[str, object]:
    svc = build_services(Settings(data_dir=data))
    try:
        return {"recordings": [(e.recording.id, e.recording.sha256)
                               for e in svc.store.list_recordings()],
                "tracks": svc.store.count_tracks(),
                "journal": svc.journal.verify().ok}
    finally:
        svc.close()


def test_round_trip_while_writing_and_a_damaged_backup_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clip = make_clip(tmp_path / "cam1_20260104_100000.mp4", seconds=2.0, fps=10,
                     objects=[Moving(RED, (40, 20), (0, 40), (200, 40), 0.0, 2.0)])
    assert run(data, "cameras", "add", "cam1", "--name", "Gare").exit_code == 0
    assert run(data, "ingest", str(clip.path), "--camera", "cam1").exit_code == 0
    made = run(data, "cases", "create", "PV-1", "--basis", "60-1", "--procedure", "2026/1",
               "--authority", "OPJ", "--purpose", "vol", "--assign", "root",
               "--scope", "cam1:2026-01-04T08:00Z/2026-01-04T10:00Z")
    assert made.exit_code == 0, made.output
    assert run(data, "analyse", "--case", "PV-1").exit_code == 0
    before = snapshot(data)
    # A writer journals searches while the backup runs: the snapshot is one committed state.
    stop = threading.Event()

    writing = build_services(Settings(data_dir=data))
    writing.store.blobs.put("thumbs/extra.jpg", b"\xff\xd8 a thumbnail")  # at least one blob

    def writer() -> None:
        while not stop.is_set():
            with writing.journal.action_as("w", "anonymous", j.LoginFailed(
                    tried="w", address="10.0.0.1", reason="refused"), "journal"):
                pass

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        taken = run(data, "backup", str(tmp_path / "b1"), "--json")
    finally:
        stop.set()
        thread.join()
        writing.close()
    assert taken.exit_code == 0, taken.output
    info = json.loads(taken.output)
    assert info["database"] == "sqlite" and info["files"] >= 3, info
    manifest = json.loads((tmp_path / "b1" / "backup.json").read_text())
    assert "retrouve.db" in manifest["files"] and any(
        f.startswith("keys/") for f in manifest["files"])
    blobs = {p.relative_to(data).as_posix() for p in (data / "blobs").rglob("*") if p.is_file()}
    assert blobs and blobs <= set(manifest["files"])  # every blob there before the copy
    # The destination exists now: refused, nothing written.
    again = run(data, "backup", str(tmp_path / "b1"))
    assert again.exit_code == 2 and "already exists" in flat(again.output)
    assert not list(tmp_path.glob(".b1.partial-*"))
    # Restore into a fresh installation: the same recordings, tracks, an intact journal.
    fresh = tmp_path / "restored"
    back = run(fresh, "restore", str(tmp_path / "b1"))
    assert back.exit_code == 0, back.output
    after = snapshot(fresh)
    assert after["recordings"] == before["recordings"] and after["tracks"] == before["tracks"]
    assert after["journal"] is True
    # Over an existing database: --force needed; the old one is kept beside.
    refused = run(fresh, "restore", str(tmp_path / "b1"))
    assert refused.exit_code == 2 and "--force" in flat(refused.output)
    assert run(fresh, "restore", str(tmp_path / "b1"), "--force").exit_code == 0
    assert (fresh / "retrouve.db.before-restore").is_file()
    # A damaged backup is refused by name, before anything is touched.
    damaged = tmp_path / "b2"
    shutil.copytree(tmp_path / "b1", damaged)
    blob = next(p for p in (damaged / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(b"not a thumbnail")
    bad = run(tmp_path / "other", "restore", str(damaged))
    assert bad.exit_code == 2 and "altered" in flat(bad.output)
    assert not (tmp_path / "other" / "retrouve.db").exists()
