"""What every command module shares: the consoles, failing with an exit code, printing text or
``--json``, opening the services for one command, and the progress bar of long runs.

Exit codes: 0 success, 1 failure (a project error that is not the caller's fault, such as a
database failure, or a partial failure a command reports), 2 bad input or refused operation
(:class:`~retrouve.errors.InputError`), 130 interrupted. A project error's code is its
``exit_code``.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.text import Text

from retrouve.config import load_settings
from retrouve.domain import UnitResult
from retrouve.errors import NoCaseError, RetrouveError
from retrouve.legal.cases import Actor
from retrouve.legal.casework import resolve_actor
from retrouve.services import Services, build_services
from retrouve.store.cases import CaseRecord

#: Both consoles print text as is, never reading it as console markup: paths, camera names and
#: messages may hold ``[/y]`` or ``[cam 12]`` (a markup error would crash a command after its
#: work was saved, or make the text vanish). Styles go through :func:`styled`.
console = Console(markup=False)
err = Console(stderr=True, markup=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text with styled parts, e.g. ``styled(("failed", "red"), " ", path)``: user text stays
    text (rich ``Text``, no markup parsing)."""
    return Text.assemble(*parts)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` as an error on stderr and exit with ``code``."""
    err.print(styled(("error:", "bold red"), f" {message}"), highlight=False)
    sys.exit(code)


def emit(as_json: bool, data: Any, text: Callable[[], None]) -> None:
    """Print ``data`` as JSON, or call ``text`` to print it for people."""
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        text()


@contextmanager
def open_services(ctx: click.Context, *, create: bool = False, **overrides: Any
                  ) -> Iterator[Services]:
    """The services for one command; project errors become ``fail`` with their ``exit_code``
    (2 bad input, 1 otherwise), Ctrl-C 130.

    Only a command that registers data (``create=True``: ``cameras add``, ``ingest``,
    ``demo``, ``eval``, ``users add``, ``cases create``) may create a missing data folder,
    and says so on stderr; any other command on a missing folder fails (exit 2) naming the
    folder and where it came from, instead of silently opening an empty one.
    """
    try:
        settings = load_settings(data_dir=(ctx.obj or {}).get("data_dir"), **overrides)
        if not settings.data_dir.is_dir():
            if not create:
                fail(f"data folder {settings.data_dir} does not exist "
                     "(set by --data-dir, RETROUVE_DATA_DIR, data_dir in the settings file, "
                     "or the default ~/.local/share/retrouve); create it by registering "
                     "footage (`retrouve cameras add`, `retrouve ingest`, `retrouve demo`) "
                     "or pass the right --data-dir")
            err.print(f"new data folder: {settings.data_dir}", highlight=False)
        services = build_services(settings)
    except RetrouveError as exc:
        fail(str(exc), exc.exit_code)
    try:
        yield services
    except RetrouveError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted: finished work is saved; run the same command again to resume", 130)
    finally:
        services.close()


def case_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--case REF`` (or ``RETROUVE_CASE``): the case a data command works in."""
    return click.option("--case", "case_ref", envvar="RETROUVE_CASE",
                        help="The case (requisition) to work in [env RETROUVE_CASE]; "
                             "required.")(command)


def acting(ctx: click.Context, svc: Services) -> Actor:
    """The user the command acts as (``--user`` / ``RETROUVE_USER`` / the OS user)."""
    return resolve_actor(svc.store, (ctx.obj or {}).get("user") or getpass.getuser())


def in_case(ctx: click.Context, svc: Services, ref: str | None, what: str
            ) -> tuple[Actor, CaseRecord]:
    """The actor and the case they may work in; ``NoCaseError`` without a case."""
    if not ref:
        raise NoCaseError(f"{what} needs a case: pass --case REF (or set RETROUVE_CASE); "
                          "no case, no processing (see `retrouve cases list`)")
    actor = acting(ctx, svc)
    return actor, svc.cases.work(actor, ref)


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
                bar.console.print(styled(("failed", "red"),
                                         f" {result.unit_id}: {result.error}"),
                                  highlight=False)

        yield update
