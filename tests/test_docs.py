"""Guard: what a user can type or meet is documented (in the manner of Datasette's test_docs).

- every CLI command path (``retrouve cameras add``…) appears in docs/cli.md, and every option of
  it is named there;
- every error class has a row in docs/errors.md with its family, exit code and HTTP status;
- every setting (dotted key) is in docs/settings.md (generated: ``scripts/gen_settings_doc.py``;
  tests/test_config.py checks it is current).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from pydantic import BaseModel

from retrouve import errors
from retrouve.cli import cli
from retrouve.config import Settings
from retrouve.config.check import section_of

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


ERRORS_DOC = (DOCS / "errors.md").read_text(encoding="utf-8")
SETTINGS_DOC = (DOCS / "settings.md").read_text(encoding="utf-8")


def _error_classes() -> list[type[errors.RetrouveError]]:
    return sorted((c for _, c in inspect.getmembers(errors, inspect.isclass)
                   if issubclass(c, errors.RetrouveError)), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_is_documented(cls: type[errors.RetrouveError]) -> None:
    row = re.search(rf"^\| `{cls.__name__}` \| (\w+) \| (\d+) \| (\d+) \|", ERRORS_DOC, re.M)
    assert row, f"{cls.__name__} has no row in docs/errors.md"
    family = "input" if issubclass(cls, errors.InputError) else "failure"
    assert row.groups() == (family, str(cls.exit_code), str(cls.http_status)), cls.__name__


def _settings(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        section = section_of(field.annotation)
        if section is not None:
            yield from _settings(section, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


@pytest.mark.parametrize("key", sorted(_settings(Settings)))
def test_every_setting_is_documented(key: str) -> None:
    assert f"`{key}`" in SETTINGS_DOC, f"setting {key} is not in docs/settings.md"
