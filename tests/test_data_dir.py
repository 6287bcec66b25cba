"""The data folder never depends on the current directory, and read commands never create it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from retrouve.cli import cli
from retrouve.config import Settings, default_data_dir


def test_default_data_dir_is_fixed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("RETROUVE_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_data_dir() == tmp_path / "xdg" / "retrouve"
    assert Settings().data_dir == tmp_path / "xdg" / "retrouve"


def test_search_on_missing_folder_fails_without_creating(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(cli, ["--data-dir", str(missing), "recordings"])
    assert result.exit_code == 2
    assert "does not exist" in " ".join(result.output.split())
    assert not missing.exists()


def test_cameras_add_creates_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    result = CliRunner().invoke(cli, ["--data-dir", str(folder), "cameras", "add", "cam-1",
                                      "--timezone", "Europe/Paris"])
    assert result.exit_code == 0, result.output
    assert folder.is_dir()
