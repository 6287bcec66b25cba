"""Administrative changes are journalled: accounts (added, password, role, disabled,
tokens), cameras registered, model packs installed or removed (with every file's SHA-256),
and the settings in force when they change — journalled by whoever ran the command (their
account's role, or ``system`` for a shell user without one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from packs_fixtures import yolo_pack
from retrouve.cli import cli
from retrouve.config import Settings
from retrouve.services import build_services
from retrouve.store.journal import JournalRow
from test_packs_registry import CAR

PASSWORD = "correct horse battery\n"


def run(data: Path, *args: str, user: str = "root", env: dict[str, str] | None = None,
        stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), "--user", user, *args],
                              input=stdin, env=env)


def entries(data: Path) -> list[JournalRow]:
    svc = build_services(Settings(data_dir=data))
    try:
        return list(svc.store.journal_entries())
    finally:
        svc.close()


def test_account_changes_are_journalled_never_the_password(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "users", "add", "ada", "--role", "admin", "--password-stdin",
               stdin=PASSWORD).exit_code == 0
    # ada now has an account: her changes are journalled with her role.
    assert run(data, "users", "add", "olga", "--role", "operator", "--password-stdin",
               user="ada", stdin=PASSWORD).exit_code == 0
    assert run(data, "users", "passwd", "olga", "--password-stdin", user="ada",
               stdin=PASSWORD + PASSWORD).exit_code == 0
    token = run(data, "users", "token", "olga", user="ada")
    assert token.exit_code == 0
    assert run(data, "users", "token", "olga", "--revoke", user="ada").exit_code == 0
    assert run(data, "users", "role", "olga", "supervisor", user="ada").exit_code == 0
    assert run(data, "users", "disable", "olga", user="ada").exit_code == 0
    rows = [r for r in entries(data) if r.action.startswith("user-")]
    got = [(r.user, r.role, r.action, json.loads(r.objects_json),
            json.loads(r.details_json)) for r in rows]
    assert got == [
        ("root", "system", "user-add", ["user:ada"], {"role": "admin"}),
        ("ada", "admin", "user-add", ["user:olga"], {"role": "operator"}),
        ("ada", "admin", "user-change", ["user:olga"], {"change": "password"}),
        ("ada", "admin", "user-change", ["user:olga"], {"change": "token-issued"}),
        # passwd revoked the first token: the second revocation finds one (the new one).
        ("ada", "admin", "user-change", ["user:olga"],
         {"change": "tokens-revoked", "value": "1"}),
        ("ada", "admin", "user-change", ["user:olga"],
         {"change": "role", "value": "supervisor"}),
        ("ada", "admin", "user-change", ["user:olga"], {"change": "disabled"}),
    ]
    raw = "\n".join(r.details_json + r.objects_json for r in entries(data))
    assert "correct horse" not in raw and token.output.strip() not in raw


def test_camera_registration_is_journalled_by_whoever_ran_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    add = ("cameras", "add", "cam-7", "--name", "Quai", "--lat", "43.3", "--lon", "5.4")
    assert run(data, *add).exit_code == 0
    assert run(data, *add).exit_code == 0  # the identical no-op journals nothing
    assert run(data, "users", "add", "ada", "--role", "admin", "--password-stdin",
               stdin=PASSWORD).exit_code == 0
    assert run(data, "users", "add", "olga", "--role", "operator", "--password-stdin",
               stdin=PASSWORD).exit_code == 0
    assert run(data, "cameras", "add", "cam-8", user="ada").exit_code == 0
    refused = run(data, "cameras", "add", "cam-9", user="olga")  # manage-cameras: admin only
    assert refused.exit_code == 2 and "manage-cameras" in refused.output
    rows = [r for r in entries(data) if r.action == "camera-change"]
    assert [(r.user, r.role, json.loads(r.objects_json)) for r in rows] == [
        ("root", "system", ["camera:cam-7"]), ("ada", "admin", ["camera:cam-8"])]
    assert json.loads(rows[0].details_json) == {
        "change": "add", "name": "Quai", "timezone": "Europe/Paris", "latitude": 43.3,
        "longitude": 5.4, "address": None}


def test_pack_install_and_remove_are_journalled_with_file_hashes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    src = yolo_pack(tmp_path / "yolo", [CAR])
    assert run(data, "models", "install", str(src)).exit_code == 0
    assert run(data, "models", "remove", "yolo-fake").exit_code == 0
    rows = [r for r in entries(data) if r.action == "pack-change"]
    assert [json.loads(r.details_json)["change"] for r in rows] == ["install", "remove"]
    details = json.loads(rows[0].details_json)
    manifest = json.loads((src / "manifest.json").read_text())
    assert details["files"] == manifest["files"] and details["task"] == "detector"
    assert json.loads(rows[0].objects_json) == [f"pack:yolo-fake@{manifest['version']}"]


def test_a_settings_change_is_journalled_once_with_old_and_new(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert run(data, "cameras", "list").exit_code == 0
    assert run(data, "cameras", "list").exit_code == 0  # unchanged: no second entry
    changed = run(data, "cameras", "list", env={"RETROUVE_WORKERS": "1"})
    assert changed.exit_code == 0, changed.output
    rows = [r for r in entries(data) if r.action == "settings-change"]
    assert len(rows) == 2
    first, second = (json.loads(r.details_json) for r in rows)
    assert first["digest"] != second["digest"] and "data_dir" not in second["settings"]
    assert list(second["changed"]) == ["workers"]
    assert second["changed"]["workers"]["new"] == 1
    assert second["changed"]["workers"]["old"] == first["settings"]["workers"]


@pytest.mark.parametrize("args", [("users", "list"), ("cases", "list")])
def test_read_only_commands_add_no_entry_while_settings_stay(tmp_path: Path,
                                                             args: tuple[str, ...]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    run(data, *args)
    before = len(entries(data))
    run(data, *args)
    assert len(entries(data)) == before
