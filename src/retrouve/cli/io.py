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
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from retrouve.config import Settings, load_settings
from retrouve.domain import UnitResult
from retrouve.errors import InputError, NoCaseError, RetrouveError
from retrouve.errors_i18n import error_text
from retrouve.legal.cases import Actor
from retrouve.legal.casework import resolve_actor
from retrouve.services import Services, build_services
from retrouve.store.cases import CaseRecord
from retrouve.wallclock import DEFAULT_ZONE, zone_of

#: Both consoles print text as is, never reading it as console markup: paths, camera names and
#: messages may hold ``[/y]`` or ``[cam 12]`` (a markup error would crash a command after its
#: work was saved, or make the text vanish). Styles go through :func:`styled`.
console = Console(markup=False)
err = Console(stderr=True, markup=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text with styled parts, e.g. ``styled(("failed", "red"), " ", path)``: user text stays
    text (rich ``Text``, no markup parsing)."""
    return Text.assemble(*parts)


def counted(n: int, one: str, other: str) -> str:
    """``n`` and its noun in English, singular for exactly 1 ("1 file", "2 files"): the
    command line's counterpart of the web's ``tn``."""
    return f"{n} {one if n == 1 else other}"


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` as an error on stderr and exit with ``code``. Never wrapped nor
    cropped by the console (``soft_wrap``): a path longer than the width was cut to
    ``/tmp/…/te...`` and the words after it lost."""
    err.print(styled(("error:", "bold red"), f" {message}"), highlight=False, soft_wrap=True)
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
        check_data_dir(settings, create=create)
        services = build_services(settings)
    except RetrouveError as exc:
        fail(str(exc), exc.exit_code)
    try:
        # A change of settings is journalled by the first command that runs under it.
        services.journal_settings(*shell_user(ctx, services))
    except RetrouveError as exc:
        services.close()
        fail(str(exc), exc.exit_code)
    try:
        yield services
    except RetrouveError as exc:
        # Keyed errors in the command's language (``--lang``, set in ctx.obj by the
        # command once it knows it); without one they stay in English, as logged.
        lang = (ctx.obj or {}).get("lang")
        fail(error_text(exc, lang) if lang else str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted: finished work is saved; run the same command again to resume", 130)
    finally:
        services.close()


def operator_zone(ctx: click.Context, svc: Services | None = None,
                  given: str | None = None) -> str:
    """The zone this command shows and reads times in: ``given`` (a command's own ``--tz``),
    else the group's ``--tz``, else the site's (:meth:`Services.operator_zone`; without
    services, ``site.time_zone`` or Europe/Paris). An unknown zone fails (exit 2)."""
    name = given or (ctx.obj or {}).get("zone")
    if not name:
        if svc is not None:
            name = svc.operator_zone()
        else:
            try:
                name = load_settings().site.time_zone or DEFAULT_ZONE
            except RetrouveError as exc:
                fail(str(exc), exc.exit_code)
    try:
        zone_of(name)
    except InputError as exc:
        fail(str(exc))
    return name


def check_data_dir(settings: Settings, *, create: bool) -> None:
    """Fail (exit 2) naming the folder and where it comes from when the data folder is
    missing, unless the command registers data (``create``): then say it is new."""
    if settings.data_dir.is_dir():
        return
    if not create:
        fail(f"data folder {settings.data_dir} does not exist "
             "(set by --data-dir, RETROUVE_DATA_DIR, data_dir in the settings file, "
             "or the default ~/.local/share/retrouve); create it by registering "
             "footage (`retrouve cameras add`, `retrouve ingest`, `retrouve demo`) "
             "or pass the right --data-dir")
    err.print(f"new data folder: {settings.data_dir}", highlight=False)


def case_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--case REF`` (or ``RETROUVE_CASE``): the case a data command works in."""
    return click.option("--case", "case_ref", envvar="RETROUVE_CASE",
                        help="The case (requisition) to work in [env RETROUVE_CASE]; "
                             "required.")(command)


def acting(ctx: click.Context, svc: Services) -> Actor:
    """The user the command acts as (``--user`` / ``RETROUVE_USER`` / the OS user)."""
    return resolve_actor(svc.store, (ctx.obj or {}).get("user") or getpass.getuser())


def shell_user(ctx: click.Context, svc: Services) -> tuple[str, str]:
    """Who an administrative command (accounts, packs) is journalled as: ``--user`` /
    ``RETROUVE_USER`` / the OS user, with its account's role, or ``system`` when that name
    has no account (the administrator at the server's shell, e.g. creating the first
    account)."""
    name = (ctx.obj or {}).get("user") or getpass.getuser()
    user = svc.store.get_user(name=name)
    return name, user.role.value if user is not None else "system"


def in_case(ctx: click.Context, svc: Services, ref: str | None, what: str
            ) -> tuple[Actor, CaseRecord]:
    """The actor and the case they may work in; ``NoCaseError`` without a case."""
    if not ref:
        raise NoCaseError(f"{what} needs a case: pass --case REF (or set RETROUVE_CASE); "
                          "no case, no processing (see `retrouve cases list`)")
    actor = acting(ctx, svc)
    return actor, svc.cases.work(actor, ref)


class UnitProgress:
    """The analysis progress of one command: :meth:`start` with the number of units (before
    the first runs, so the bar never says ``0/?``), then one call per finished unit
    (``progress(done, total, result)``, the runner's ``Progress``). Without a bar
    (``--json``) it prints nothing."""

    def __init__(self, bar: Progress | None = None) -> None:
        self._bar = bar
        self._task = bar.add_task("planning", total=None) if bar is not None else None

    def start(self, units: int) -> None:
        """``units`` work units are about to run."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=units, completed=0,
                             description=f"analysing {units} unit{'s' if units != 1 else ''}")

    def __call__(self, done: int, total: int, result: UnitResult) -> None:
        if self._bar is None or self._task is None:
            return
        self._bar.update(self._task, completed=done, total=total,
                         description=f"done {result.unit_id}")
        if result.error:
            self._bar.console.print(styled(("failed", "red"),
                                           f" {result.unit_id}: {result.error}"),
                                    highlight=False)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[UnitProgress]:
    """A :class:`UnitProgress` drawing a bar on stderr (units done of the real total, time
    left), failures printed above it. ``enabled=False`` (``--json``) prints nothing."""
    if not enabled:
        yield UnitProgress()
        return
    # A plain TextColumn: the consoles parse no markup, and unit ids are user text.
    with Progress(TextColumn("{task.description}", markup=False, style="progress.description"),
                  BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err) as bar:
        yield UnitProgress(bar)
