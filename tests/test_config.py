"""Strict settings: unknown keys and bad choices are ConfigErrors naming the key, its source and
the nearest valid key, from keyword arguments, the environment and the TOML file alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from retrouve.analysis.executor import make_executor
from retrouve.cli import cli
from retrouve.config import NON_SETTING_ENV, Settings, WebSettings, load_settings
from retrouve.config.reference import DOC_PATH, render
from retrouve.errors import ConfigError, InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No stray RETROUVE_* variable of the developer's shell leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("RETROUVE_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(("env", "fragments"), [
    ({"RETROUVE_ANALYSIS__SAMPLE_FSP": "3"},
     ["'analysis.sample_fsp'", "RETROUVE_ANALYSIS__SAMPLE_FSP",
      "did you mean 'analysis.sample_fps'"]),
    ({"RETROUVE_EXECUTR": "inline"}, ["'executr'", "did you mean 'executor'"]),
    ({"retrouve_web__page_sise": "3"}, ["'web.page_sise'", "did you mean 'web.page_size'"]),
    ({"RETROUVE_WORKERS__X": "1"}, ["'workers.x'", "workers is not a section"]),
    ({"RETROUVE_EXECUTOR": "dask"}, ["'executor'", "RETROUVE_EXECUTOR", "'process'", "'inline'",
                                     "'ray'", "got 'dask'"]),
    ({"RETROUVE_WORKERS": "0"}, ["'workers'", "greater than or equal to 1"]),
    ({"RETROUVE_WEB__PAGE_SIZE": "none"}, ["'web.page_size'", "RETROUVE_WEB__PAGE_SIZE"]),
])
def test_bad_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                         fragments: list[str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(("toml", "fragments"), [
    ("[analysis]\nsample_fsp = 3\n",
     ["'analysis.sample_fsp'", "did you mean 'analysis.sample_fps'"]),
    ("workerz = 3\n", ["'workerz'", "did you mean 'workers'"]),
    ("executor = 'dask'\n", ["'executor'", "'process', 'inline' or 'ray'"]),
    ("[web]\nsecure_cookie = false\n", ["'web.secure_cookie'", "'web.secure_cookies'"]),
    ("[analysis\n", ["not valid TOML"]),
])
def test_bad_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str,
                       fragments: list[str]) -> None:
    path = tmp_path / "retrouve.toml"
    path.write_text(toml, encoding="utf-8")
    monkeypatch.setenv("RETROUVE_CONFIG", str(path))
    with pytest.raises(ConfigError) as info:
        load_settings()
    for fragment in [*fragments, str(path)]:
        assert fragment in str(info.value)


def test_missing_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETROUVE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match=r"nope\.toml.*no such file"):
        load_settings()


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"executer": "inline"}, "did you mean 'executor'"),
    ({"analysis": {"sample_fsp": 3}}, "did you mean 'analysis.sample_fps'"),
    ({"web": {"page_size": 0}}, "'web.page_size'"),
])
def test_bad_keyword_arguments(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        Settings(**kwargs)


def test_good_sources_still_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "retrouve.toml"
    path.write_text("workers = 3\n[analysis]\nsample_fps = 2.0\n[web]\npage_size = 10\n",
                    encoding="utf-8")
    monkeypatch.setenv("RETROUVE_CONFIG", str(path))
    monkeypatch.setenv("RETROUVE_ANALYSIS__TILE_PX", "800")
    monkeypatch.setenv("RETROUVE_DATA_DIR", str(tmp_path / "data"))
    for name in NON_SETTING_ENV - {"RETROUVE_CONFIG"}:
        monkeypatch.setenv(name, "1")
    settings = load_settings(executor="inline", workers=None)
    assert (settings.workers, settings.executor) == (3, "inline")
    assert (settings.analysis.sample_fps, settings.analysis.tile_px) == (2.0, 800)
    assert settings.web.page_size == 10 and settings.web.timeline_hits == 500
    assert settings.data_dir == tmp_path / "data"


def test_config_error_is_input_error() -> None:
    assert issubclass(ConfigError, InputError)
    assert ConfigError.exit_code == 2


def test_executor_choices_are_the_built_ones() -> None:
    for kind in ("process", "inline"):
        assert make_executor(kind, 1) is not None
        assert Settings(executor=kind).executor == kind


def test_web_section_defaults_match_the_web_app() -> None:
    web = WebSettings()
    assert Settings().web == web
    assert web.cookie_name == "__Host-retrouve-session"
    assert WebSettings(secure_cookies=False).cookie_name == "retrouve-session"


@pytest.mark.parametrize(("env", "code", "fragment"), [
    ({"RETROUVE_ANALYSIS__SAMPLE_FSP": "3"}, 2, "sample_fps"),
    ({"RETROUVE_EXECUTOR": "dask"}, 2, "'process', 'inline' or 'ray'"),
    ({}, 0, ""),
])
def test_cli_exit_code_for_bad_settings(tmp_path: Path, env: dict[str, str], code: int,
                                        fragment: str) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "recordings"], env=env)
    assert result.exit_code == code, result.output
    assert fragment in " ".join(result.output.split())


def test_settings_reference_is_up_to_date() -> None:
    assert (ROOT / DOC_PATH).read_text(encoding="utf-8") == render(), (
        "docs/settings.md is out of date: run python scripts/gen_settings_doc.py")


def test_every_setting_has_a_description() -> None:
    text = render()
    for row in text.splitlines():
        if row.startswith("| `"):
            assert not row.rstrip().endswith("|  |"), row


def test_generator_script_check_mode() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_settings_doc.py"),
                           "--check"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
