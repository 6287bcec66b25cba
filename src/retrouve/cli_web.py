"""Commands of the web application: ``retrouve serve`` and ``retrouve users …``.

Registered on the main group by ``retrouve.cli``. Helpers of ``retrouve.cli`` are imported
inside the commands because that module imports this one (an import at the top would be
circular).
"""

from __future__ import annotations

import ipaddress
import sys
from typing import Any

import click

from retrouve.cli_io import console, emit, err, fail, open_services
from retrouve.legal.accounts import ROLES


def _read_password(from_stdin: bool, confirm: bool) -> str:
    if from_stdin:
        # One line, without its newline: `printf '%s\n' "$PW" | retrouve users add …`.
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ------------------------------------------------------------------------------- serve
@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--secure-cookies/--no-secure-cookies", default=None,
              help="Mark session cookies Secure (HTTPS only). Default: on unless the host is "
                   "a loopback address served over plain HTTP.")
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False),
              help="Serve HTTPS with this certificate (PEM).")
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False),
              help="Private key of --ssl-certfile.")
@click.option("--proxy-headers", is_flag=True,
              help="Trust X-Forwarded-For/-Proto from the reverse proxy on 127.0.0.1 (client "
                   "addresses for the login rate limit).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, secure_cookies: bool | None,
          ssl_certfile: str | None, ssl_keyfile: str | None, proxy_headers: bool) -> None:
    """Run the operator web application (pages and JSON API under /api).

    \b
    Create the first account before:  retrouve users add admin --role admin
    Then open http://127.0.0.1:8000/ (one process: sessions live in memory).
    """
    import uvicorn

    from retrouve.web import create_app

    if bool(ssl_certfile) != bool(ssl_keyfile):
        fail("--ssl-certfile and --ssl-keyfile go together")
    https = bool(ssl_certfile)
    if secure_cookies is None:
        secure_cookies = https or not _is_loopback(host)
    if secure_cookies and not https and not proxy_headers:
        err.print("[yellow]note:[/] session cookies are Secure: browsers send them over HTTPS "
                  "only (use --ssl-certfile/--ssl-keyfile or an HTTPS reverse proxy)",
                  highlight=False)
    with open_services(ctx) as svc:
        if not svc.store.list_users():
            err.print("[yellow]note:[/] no account yet: "
                      "retrouve users add admin --role admin", highlight=False)
        web = svc.settings.web.model_copy(update={"secure_cookies": secure_cookies})
        app = create_app(svc, web)
        options: dict[str, Any] = {"host": host, "port": port, "proxy_headers": proxy_headers,
                                   "forwarded_allow_ips": "127.0.0.1", "server_header": False,
                                   "log_level": "info"}
        if https:
            options.update(ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
        uvicorn.run(app, **options)


# ------------------------------------------------------------------------------- users
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
    from retrouve.legal.accounts import Accounts

    with open_services(ctx) as svc:
        accounts = Accounts(svc.store, svc.clock)
        user = accounts.add(name, role, _read_password(password_stdin, confirm=True))
        emit(as_json, user.to_json(),
              lambda: console.print(f"user {user.name} added ({user.role})", highlight=False))


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts."""
    from rich.table import Table

    from retrouve.legal.accounts import Accounts

    with open_services(ctx) as svc:
        found = Accounts(svc.store, svc.clock).list()

        def text() -> None:
            t = Table("name", "role", "state", "created", "password changed")
            for u in found:
                t.add_row(u.name, u.role, "disabled" if u.disabled else "active",
                          u.created_at.strftime("%Y-%m-%d %H:%M"),
                          u.password_changed_at.strftime("%Y-%m-%d %H:%M"))
            console.print(t)

        emit(as_json, [u.to_json() for u in found], text)


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME."""
    from retrouve.legal.accounts import Accounts

    with open_services(ctx) as svc:
        accounts = Accounts(svc.store, svc.clock)
        accounts.require(name)
        accounts.set_password(name, _read_password(password_stdin, confirm=True))
        console.print(f"password of {name} changed", highlight=False)


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Re-enable the account instead.")
@click.pass_context
def users_disable(ctx: click.Context, name: str, enable: bool) -> None:
    """Disable NAME: no login, API tokens revoked, open sessions end at their next request."""
    from retrouve.legal.accounts import Accounts

    with open_services(ctx) as svc:
        Accounts(svc.store, svc.clock).set_disabled(name, not enable)
        console.print(f"user {name} {'enabled' if enable else 'disabled'}", highlight=False)


@users.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke every token of NAME instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_token(ctx: click.Context, name: str, revoke: bool, as_json: bool) -> None:
    """Print a new API token for NAME (shown once; scripts send `Authorization: Bearer`)."""
    from retrouve.legal.accounts import Accounts

    with open_services(ctx) as svc:
        accounts = Accounts(svc.store, svc.clock)
        if revoke:
            n = accounts.revoke_tokens(name)
            emit(as_json, {"user": name, "revoked": n},
                  lambda: console.print(f"{n} token(s) of {name} revoked", highlight=False))
            return
        token = accounts.issue_token(name)
        # Plain echo: rich could wrap or colour the token.
        emit(as_json, {"user": name, "token": token}, lambda: click.echo(token))
