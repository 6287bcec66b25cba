"""Which ``Host`` headers the server answers, and the headers every response carries.

``HostGuard`` answers 400 to a request whose ``Host`` (port stripped, case ignored) is not in
the allowed set: a rebinding attacker's name, or a forged host that would end up in absolute
URLs. ``retrouve serve`` passes the effective set (:func:`effective_hosts`): the
``web.allowed_hosts`` setting, or by default the loopback names and the bind address.
An app built with an empty set (tests, embedding) checks no host.

``SecurityHeaders`` is installed *outside* Starlette's error middleware (see
``app.RetrouveApp``), so every answer carries the headers: pages, API, 404/405 from routing,
413 from the body limit, 400 from the host guard, and the bare 500 of an unhandled exception
(which Starlette's ``ServerErrorMiddleware`` sends from outside any user middleware).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retrouve.web.i18n import LANG_COOKIE, valid_lang

#: Names a loopback server is always reached by.
LOOPBACK_HOSTS: Final = ("localhost", "127.0.0.1", "::1")
#: Bind addresses that mean "every interface": not a name a browser sends.
_WILDCARDS: Final = ("0.0.0.0", "::", "")

SECURITY_HEADERS: Final = (
    ("content-security-policy",
     "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
     "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
     "frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)


def effective_hosts(configured: Iterable[str], bind_host: str | None) -> tuple[str, ...]:
    """The host names to accept: ``configured`` when given, else the loopback names plus
    ``bind_host`` (unless it is a wildcard such as ``0.0.0.0``). Lower-cased, brackets of an
    IPv6 literal removed."""
    wanted = [normalise_host(h) for h in configured if h.strip()]
    if not wanted:
        wanted = list(LOOPBACK_HOSTS)
        if bind_host and normalise_host(bind_host) not in _WILDCARDS:
            wanted.append(normalise_host(bind_host))
    return tuple(dict.fromkeys(wanted))


def normalise_host(host: str) -> str:
    """``host`` without port, brackets or trailing dot, lower-cased (``[::1]:8000`` → ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):  # [v6]:port
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:  # name:port (a bare v6 literal has several colons)
        host = host.partition(":")[0]
    return host.rstrip(".")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class HostGuard:
    """Pure ASGI: 400 for a ``Host`` outside ``allowed`` (empty: every host is accepted)."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(normalise_host(h) for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.allowed:
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if host is None or normalise_host(host) not in self.allowed:
            body = json.dumps({"detail": "unknown host name (see web.allowed_hosts)"}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Pure ASGI (no body buffering: video streams pass through untouched). Adds the security
    headers, HSTS when ``hsts_max_age_s`` > 0, ``Cache-Control: no-store`` unless the route
    set one, and remembers ``?lang=`` in a cookie (``Secure`` with ``secure_cookies``)."""

    def __init__(self, app: ASGIApp, secure_cookies: bool, hsts_max_age_s: int = 0) -> None:
        self.app = app
        self.secure_cookies = secure_cookies
        self.hsts = f"max-age={hsts_max_age_s}" if hsts_max_age_s > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang = None
        for part in scope.get("query_string", b"").decode("latin-1").split("&"):
            key, _, value = part.partition("=")
            if key == "lang":
                lang = valid_lang(value)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers[name] = value
                if self.hsts:
                    headers["strict-transport-security"] = self.hsts
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
                if lang:
                    cookie = (f"{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; "
                              "SameSite=Strict; HttpOnly")
                    headers.append("set-cookie", cookie + ("; Secure" if self.secure_cookies
                                                           else ""))
            await send(message)

        await self.app(scope, receive, send_with_headers)
