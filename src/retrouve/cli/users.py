"""``retrouve users …``: accounts of the web application (add, list, passwd, disable, token).

Passwords are prompted for (with confirmation) or read as one line from stdin.
"""

from __future__ import annotations

import sys

import click

from retrouve.cli.io import console, emit, open_services, operator_zone, shell_user
from retrouve.legal.accounts import ROLES
from retrouve.wallclock import show_time


def _read_password(from_stdin: bool, confirm: bool) -> str:
    if from_stdin:
        # One line, without its newline: `printf '%s\n' "$PW" | retrouve users add …`.
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return value


@click.group()
def users() -> None:
    """Accounts of the web application (roles: admin, supervisor, operator)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool,
              as_json: bool) -> None:
    """Create the account NAME (the password is prompted for)."""
    with open_services(ctx, create=True) as svc:
        accounts = svc.accounts
        user = accounts.add(name, role, _read_password(password_stdin, confirm=True),
                            by=shell_user(ctx, svc))
        emit(as_json, user.to_json(),
              lambda: console.print(f"user {user.name} added ({user.role})", highlight=False))


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts."""
    from rich.table import Table

    with open_services(ctx) as svc:
        found = svc.accounts.list()

        zone = operator_zone(ctx, svc)

        def text() -> None:
            t = Table("name", "role", "state", "created", "password changed", "time zone")
            for u in found:
                t.add_row(u.name, u.role, "disabled" if u.disabled else "active",
                          show_time(u.created_at, zone), show_time(u.password_changed_at, zone),
                          u.time_zone or "(site)")
            console.print(t)

        emit(as_json, [u.to_json() for u in found], text)


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME."""
    with open_services(ctx) as svc:
        accounts = svc.accounts
        accounts.require(name)
        accounts.set_password(name, _read_password(password_stdin, confirm=True),
                              by=shell_user(ctx, svc))
        console.print(f"password of {name} changed", highlight=False)


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def users_role(ctx: click.Context, name: str, role: str) -> None:
    """Give NAME the role ROLE (journalled; the change applies at the next request)."""
    with open_services(ctx) as svc:
        svc.accounts.set_role(name, role, by=shell_user(ctx, svc))
        console.print(f"user {name} is now {role}", highlight=False)


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Re-enable the account instead.")
@click.pass_context
def users_disable(ctx: click.Context, name: str, enable: bool) -> None:
    """Disable NAME: no login, API tokens revoked, open sessions end at their next request."""
    with open_services(ctx) as svc:
        svc.accounts.set_disabled(name, not enable, by=shell_user(ctx, svc))
        console.print(f"user {name} {'enabled' if enable else 'disabled'}", highlight=False)


@users.command("tz")
@click.argument("name")
@click.argument("zone", required=False)
@click.option("--clear", is_flag=True, help="Back to the site's operator zone.")
@click.pass_context
def users_tz(ctx: click.Context, name: str, zone: str | None, clear: bool) -> None:
    """Set NAME's own time zone (IANA, e.g. Europe/Paris): the web pages read typed times and
    show times in it for that user instead of site.time_zone. Journalled."""
    if clear == (zone is not None):
        raise click.UsageError("give either ZONE or --clear")
    with open_services(ctx) as svc:
        svc.accounts.set_time_zone(name, None if clear else zone, by=shell_user(ctx, svc))
        console.print(f"user {name}: time zone {zone or 'of the site'}", highlight=False)


@users.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke every token of NAME instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_token(ctx: click.Context, name: str, revoke: bool, as_json: bool) -> None:
    """Print a new API token for NAME (shown once; scripts send `Authorization: Bearer`)."""
    with open_services(ctx) as svc:
        accounts = svc.accounts
        if revoke:
            n = accounts.revoke_tokens(name, by=shell_user(ctx, svc))
            emit(as_json, {"user": name, "revoked": n},
                  lambda: console.print(f"{n} token(s) of {name} revoked", highlight=False))
            return
        token = accounts.issue_token(name, by=shell_user(ctx, svc))
        # Plain echo: rich could wrap or colour the token.
        emit(as_json, {"user": name, "token": token}, lambda: click.echo(token))
