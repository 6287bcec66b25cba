"""The operator web application: ``create_app(services)`` builds it, ``retrouve serve`` runs it.

Layout: HTML pages (``pages.py``), the JSON API under ``/api`` (``api.py``), thumbnails and
static files (``files.py``), and, when installed, the video playback routes of
``retrouve.web.media``. Every piece of state (sessions, login limiter, accounts, analysis
job, templates) hangs off ``app.state``; two apps in one process share nothing.

Security, all on by construction:

* every route but ``/login`` and ``/static/style.css`` needs a session or an API token
  (route dependencies; pages redirect to the login page, the API answers 401);
* every POST made with a session cookie needs the session's CSRF token (an application-wide
  dependency, so a new route cannot forget it);
* responses carry a strict Content-Security-Policy (no inline script or style, nothing from
  other origins: the application works offline), ``no-store`` caching for anything
  authenticated, and no referrer (search URLs can hold plate numbers).
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retrouve import __version__
from retrouve.errors import RetrouveError
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from retrouve.web import api, files, pages
from retrouve.web.auth import (
    Forbidden,
    LoginLimiter,
    NotAuthenticated,
    SessionStore,
    current_context,
    optional_context,
)
from retrouve.web.csrf import CsrfRejected, csrf_guard
from retrouve.web.i18n import LANG_COOKIE, valid_lang
from retrouve.web.jobs import AnalysisJob
from retrouve.web.search_form import load_parse_text
from retrouve.web.templating import make_templates, render

log = logging.getLogger(__name__)

MEDIA_MODULE = "retrouve.web.media"
#: Paths answered with JSON (401/403) rather than redirected to the login page.
MACHINE_PREFIXES = ("/api", "/media", "/static")

SECURITY_HEADERS = (
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


@dataclass(frozen=True)
class WebConfig:
    """Web settings. ``secure_cookies`` must be on unless served over plain-HTTP loopback."""

    secure_cookies: bool = True
    session_idle_s: float = 2 * 3600.0
    session_absolute_s: float = 12 * 3600.0
    login_max_failures: int = 5
    login_window_s: float = 300.0
    #: Hits per results page (the API's default stays 20, like the CLI).
    page_size: int = 24
    #: Hits drawn on the per-camera timelines (a second, time-ordered query).
    timeline_hits: int = 500

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only and
        # Path=/, so a sibling sub-domain cannot plant a session.
        return "__Host-retrouve-session" if self.secure_cookies else "retrouve-session"


class HeadersMiddleware:
    """Pure ASGI (no body buffering: video streams pass through untouched). Adds the security
    headers, ``Cache-Control: no-store`` unless the route set one, and remembers ``?lang=``
    in a cookie."""

    def __init__(self, app: ASGIApp, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

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
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
                if lang:
                    cookie = (f"{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; "
                              "SameSite=Strict; HttpOnly")
                    headers.append("set-cookie", cookie + ("; Secure" if self.secure_cookies
                                                           else ""))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_machine(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PREFIXES)


def _install_handlers(app: FastAPI) -> None:
    async def not_authenticated(request: Request, exc: Exception) -> Response:
        if _is_machine(request):
            return JSONResponse({"detail": "authentication required"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        if _is_machine(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return render(request, "error.html", optional_context(request), status_code=403,
                      message_key="error.403", code=403)

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        if _is_machine(request):
            return JSONResponse({"detail": "CSRF token missing or wrong"}, status_code=403)
        return render(request, "error.html", None, status_code=403, message_key="error.csrf",
                      code=403)

    async def bad_request(request: Request, exc: Exception) -> Response:
        # Project errors reaching here are about the request (unknown camera, bad query).
        return JSONResponse({"detail": str(exc)}, status_code=400)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _is_machine(request) or request.method != "GET":
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=exc.headers)
        key = "error.404" if exc.status_code == 404 else "error.generic"
        return render(request, "error.html", optional_context(request),
                      status_code=exc.status_code, message_key=key, code=exc.status_code)

    app.add_exception_handler(NotAuthenticated, not_authenticated)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
    app.add_exception_handler(RetrouveError, bad_request)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _include_media(app: FastAPI) -> bool:
    """Mount the playback routes if ``retrouve.web.media`` exists. They get the login
    requirement here, whatever the module declares."""
    try:
        module: Any = importlib.import_module(MEDIA_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != MEDIA_MODULE:
            raise
        return False
    app.include_router(module.router, dependencies=[Depends(current_context)])
    return True


def create_app(services: Services, config: WebConfig | None = None, *,
               accounts: Accounts | None = None, clock: Any = time.monotonic) -> FastAPI:
    """The application over ``services``. ``accounts`` and ``clock`` (monotonic seconds, for
    sessions and the login limiter) may be injected by tests."""
    config = config or WebConfig()
    app = FastAPI(
        title="Retrouve", version=__version__,
        description="Forensic search in recorded CCTV footage: JSON API.",
        # The docs UI would load Swagger from a CDN: off. The schema is served behind login
        # by ``api.openapi_json`` and summarised by the /api/docs page.
        docs_url=None, redoc_url=None, openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.services = services
    app.state.config = config
    app.state.accounts = accounts or services.accounts
    app.state.sessions = SessionStore(clock=clock, idle_s=config.session_idle_s,
                                      absolute_s=config.session_absolute_s)
    app.state.limiter = LoginLimiter(clock=clock, max_failures=config.login_max_failures,
                                     window_s=config.login_window_s)
    app.state.analysis = AnalysisJob(services.analyser, services.clock)
    app.state.templates = make_templates()
    # Looked up per request (cheap after the first import) so that the text parser, written
    # in parallel, is picked up when installed; tests replace it.
    app.state.parse_text = load_parse_text
    app.add_middleware(HeadersMiddleware, secure_cookies=config.secure_cookies)
    _install_handlers(app)
    app.include_router(pages.router)
    app.include_router(files.router)
    app.include_router(api.router)
    app.state.has_player = _include_media(app)
    return app
