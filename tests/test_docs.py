"""Guard: what a user can type or meet is documented (in the manner of Datasette's test_docs).

- every CLI command path (``retrouve cameras add``…) appears in docs/cli.md, and every option of
  it is named there;
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from retrouve.cli import cli

DOCS = Path(__file__).resolve().parents[1] / "docs"
CLI_DOC = (DOCS / "cli.md").read_text(encoding="utf-8")

#: Options every command has, documented once at the top of docs/cli.md.
COMMON_OPTIONS = {"--help", "-h", "--json"}


def _commands(command: click.Command, path: tuple[str, ...]) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    if path:
        yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(cli, ()))


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    assert f"retrouve {' '.join(path)}" in CLI_DOC, (
        f"`retrouve {' '.join(path)}` is not in docs/cli.md")


def _long_options(command: click.Command) -> set[str]:
    return {opt for p in command.params for opt in getattr(p, "opts", [])
            if opt.startswith("--")} - COMMON_OPTIONS


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_option_is_documented(path: tuple[str, ...]) -> None:
    missing = sorted(o for o in _long_options(COMMANDS[path])
                     if not re.search(re.escape(o) + r"(?![\w-])", CLI_DOC))
    assert not missing, f"options of `retrouve {' '.join(path)}` missing in docs/cli.md: {missing}"


def test_global_options_are_documented() -> None:
    missing = sorted(o for o in _long_options(cli) if o not in CLI_DOC)
    assert not missing
