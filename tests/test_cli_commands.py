"""The command skeleton: every command of every command module is reachable from
``retrouve --help``, and every command that prints data accepts ``--json``."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from retrouve.cli import COMMAND_MODULES, cli
from retrouve.cli.io import counted

#: Leaf commands without ``--json``, each with the reason.
NO_JSON = {
    ("demo",): "a guided tour for people: progress bar, then prose and tables",
    ("serve",): "runs the web server; prints only uvicorn's log",
    ("users", "passwd"): "prints only a confirmation line; no data to emit",
    ("users", "disable"): "prints only a confirmation line; no data to emit",
    ("users", "role"): "prints only a confirmation line; no data to emit",
    ("users", "tz"): "prints only a confirmation line; no data to emit",
    ("cases", "report"): "emits a document (--format json|html|pdf), not a data listing",
    ("retention", "register"): "emits the register itself as CSV, a document for the file",
}


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


REACHABLE = dict(_walk(cli, ()))
LEAVES = {p: c for p, c in REACHABLE.items() if not isinstance(c, click.Group)}


def _defined_in(module: object) -> Iterator[click.Command]:
    for value in vars(module).values():
        if isinstance(value, click.Command) and value.callback is not None \
                and value.callback.__module__ == getattr(module, "__name__", None):
            yield from (c for _, c in _walk(value, ()))


@pytest.mark.parametrize("module", COMMAND_MODULES, ids=lambda m: m.__name__)
def test_every_command_of_the_module_is_reachable(module: object) -> None:
    defined = list(_defined_in(module))
    assert defined, f"{module} defines no command"
    reachable = {id(c) for c in REACHABLE.values()}
    missing = [c.name for c in defined if id(c) not in reachable]
    assert missing == []


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_every_data_printing_command_has_json(path: tuple[str, ...]) -> None:
    options = {opt for p in LEAVES[path].params for opt in getattr(p, "opts", [])}
    assert ("--json" in options) == (path not in NO_JSON), path


@pytest.mark.parametrize("path", sorted(NO_JSON), ids=" ".join)
def test_json_exceptions_name_real_commands(path: tuple[str, ...]) -> None:
    assert path in LEAVES


@pytest.mark.parametrize("path", sorted(p for p in REACHABLE if p), ids=" ".join)
def test_every_command_is_listed_in_its_parent_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path[:-1], "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.split("Commands:", 1)[1].splitlines()
              if line.startswith("  ") and line.split()]
    assert path[-1] in listed


def test_search_errors_and_lines_follow_lang(tmp_path: Path) -> None:
    """``--lang`` (the group's option) words a search's errors and its lines."""
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    assert runner.invoke(cli, [*base, "cameras", "add", "c", "--timezone", "Europe/Paris"]
                         ).exit_code == 0
    made = runner.invoke(cli, [*base, "cases", "create", "L-1", "--basis", "60-1",
                               "--procedure", "2026/1", "--authority", "OPJ Martin",
                               "--purpose", "vol", "--assign", getpass.getuser(),
                               "--scope", "c:2026-01-01T00:00+01:00/2026-02-01T00:00+01:00"])
    assert made.exit_code == 0, made.output
    bad = ["search", "--case", "L-1", "--plate", "AB#12"]
    en = runner.invoke(cli, [*base, "--lang", "en", *bad])
    fr = runner.invoke(cli, [*base, "--lang", "fr", *bad])
    assert en.exit_code == fr.exit_code == 2
    assert "unexpected character(s) #" in " ".join(en.output.split())
    assert "caractère(s) inattendu(s) #" in " ".join(fr.output.split())
    default = runner.invoke(cli, [*base, *bad])  # Europe/Paris: French, as the web
    assert "caractère(s) inattendu(s) #" in " ".join(default.output.split())
    time_en = runner.invoke(cli, [*base, "--lang", "en", "search", "--case", "L-1",
                                  "--from", "hier"])
    time_fr = runner.invoke(cli, [*base, "--lang", "fr", "search", "--case", "L-1",
                                  "--from", "hier"])
    assert "--from 'hier' is not ISO-8601" in " ".join(time_en.output.split())
    assert "--from « hier » n'est pas au format ISO-8601" in " ".join(time_fr.output.split())
    text_en = runner.invoke(cli, [*base, "--lang", "en", "search", "--case", "L-1",
                                  "--text", "voiture rouge"])
    text_fr = runner.invoke(cli, [*base, "--lang", "fr", "search", "--case", "L-1",
                                  "--text", "voiture rouge"])
    assert "understood:" in text_en.output and "no hits:" in text_en.output
    assert "compris :" in text_fr.output and "aucun résultat :" in text_fr.output


def test_counted_is_singular_for_one() -> None:
    assert [counted(n, "file", "files") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]


def test_python_dash_m_runs_the_command_line() -> None:
    """``python -m retrouve`` (a checkout with ``PYTHONPATH=src``) is the ``retrouve`` CLI."""
    import os
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-m", "retrouve", "--help"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Usage: retrouve" in done.stdout and "search" in done.stdout
