"""What every command module shares: the consoles, failing with an exit code, printing text or
``--json``, opening the services for one command, and the progress bar of long runs.

Exit codes: 0 success, 1 partial failure (a command says which), 2 bad input or refused
operation, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from retrouve.config import load_settings
from retrouve.domain import UnitResult
from retrouve.errors import RetrouveError
from retrouve.services import Services, build_services

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` as an error on stderr and exit with ``code``."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(code)


def emit(as_json: bool, data: Any, text: Callable[[], None]) -> None:
    """Print ``data`` as JSON, or call ``text`` to print it for people."""
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        text()


@contextmanager
def open_services(ctx: click.Context, **overrides: Any) -> Iterator[Services]:
    """The services for one command; project errors become ``fail`` (exit 2), Ctrl-C 130."""
    try:
        settings = load_settings(data_dir=(ctx.obj or {}).get("data_dir"), **overrides)
        services = build_services(settings)
    except RetrouveError as exc:
        fail(str(exc))
    try:
        yield services
    except RetrouveError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted: finished work is saved; run the same command again to resume", 130)
    finally:
        services.close()


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int, UnitResult], None]]:
    """A ``progress(done, total, result)`` callback drawing a bar on stderr, failures above it.

    ``enabled=False`` (``--json``) yields a callback that prints nothing.
    """
    if not enabled:
        yield lambda done, total, result: None
        return
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err) as bar:
        task = bar.add_task("analysing", total=None)

        def update(done: int, total: int, result: UnitResult) -> None:
            bar.update(task, completed=done, total=total)
            if result.error:
                bar.console.print(f"[red]failed[/] {result.unit_id}: {result.error}",
                                  highlight=False)

        yield update
