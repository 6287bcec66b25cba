"""``retrouve serve``: run the operator web application (pages and JSON API) with uvicorn.

Cookies are Secure by default unless the host is a loopback address served over plain HTTP.
Only the ``Host`` names of ``web.allowed_hosts`` are answered (default: loopback names and the
bind address). A request whose head or body arrives too slowly gets 408 and its connection
is closed (``web.head_timeout_s``, ``web.body_timeout_s``; see ``web/slow_clients.py``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import threading
from typing import Any

import click

from retrouve.cli.io import err, fail, open_services, styled


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes. They share sessions and the login limit through the "
                   "database; the retention purge runs once, in this process.")
@click.option("--proxy-headers", is_flag=True,
              help="Trust X-Forwarded-For/-Proto from the reverse proxy on 127.0.0.1 (client "
                   "addresses for the login rate limit).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, secure_cookies: bool | None,
          ssl_certfile: str | None, ssl_keyfile: str | None, workers: int,
          proxy_headers: bool) -> None:
    """Run the operator web application (pages and JSON API under /api).

    \b
    Create the first account before:  retrouve users add admin --role admin
    Then open http://127.0.0.1:8000/ (sessions live in the database: --workers N
    processes share them).
    """
    import uvicorn

    from retrouve.legal.purge import SYSTEM
    from retrouve.web import create_app, factory
    from retrouve.web.factory import SPEC_ENV, spec
    from retrouve.web.hosts import effective_hosts
    from retrouve.web.scheduler import PeriodicPurge
    from retrouve.web.slow_clients import (
        WORKER_PROTOCOL,
        SlowClientLimits,
        limits_to_spec,
        slow_client_protocol,
    )

    if bool(ssl_certfile) != bool(ssl_keyfile):
        fail("--ssl-certfile and --ssl-keyfile go together")
    https = bool(ssl_certfile)
    if secure_cookies is None:
        secure_cookies = https or not _is_loopback(host)
    if secure_cookies and not https and not proxy_headers:
        err.print(styled(("note:", "yellow"), " session cookies are Secure: browsers send "
                         "them over HTTPS only (use --ssl-certfile/--ssl-keyfile or an HTTPS "
                         "reverse proxy)"), highlight=False)
    with open_services(ctx) as svc:
        if not svc.store.list_users():
            err.print(styled(("note:", "yellow"), " no account yet: "
                             "retrouve users add admin --role admin"), highlight=False)
        web = svc.settings.web.model_copy(update={"secure_cookies": secure_cookies})
        # Retention runs while the server runs: at start-up, then every run_every_s.
        retention = svc.retention
        purge = PeriodicPurge(lambda: retention.run(SYSTEM), svc.settings.retention.run_every_s)
        # Host header check: the configured names, else loopback names + the bind address.
        hosts = effective_hosts(web.allowed_hosts, host)
        options: dict[str, Any] = {"host": host, "port": port, "proxy_headers": proxy_headers,
                                   "forwarded_allow_ips": "127.0.0.1", "server_header": False,
                                   "log_level": "info"}
        # Slow clients (slowloris) get 408 past web.head_timeout_s / web.body_timeout_s.
        limits = SlowClientLimits(web.head_timeout_s, web.body_timeout_s,
                                  web.hsts_max_age_s if secure_cookies else 0)
        if https:
            options.update(ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
        if workers == 1:
            uvicorn.run(create_app(svc, web, purge=purge, allowed_hosts=hosts),
                        http=slow_client_protocol(limits), **options)
            return
        # Several processes: each builds its app (factory) and reads the slow-client limits
        # from the spec (WORKER_PROTOCOL says why not the partial); the purge runs here only.
        os.environ[SPEC_ENV] = spec((ctx.obj or {}).get("data_dir"), secure_cookies, hosts,
                                    limits_to_spec(limits))
        threading.Thread(target=asyncio.run, args=(purge.loop(),), daemon=True,
                         name="retention-purge").start()
        uvicorn.run(f"{factory.__name__}:{factory.app_from_env.__name__}", factory=True,
                    workers=workers, http=WORKER_PROTOCOL, **options)
