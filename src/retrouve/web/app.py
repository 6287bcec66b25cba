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
* request bodies are bounded before anything reads them (``limits.py``), the ``Host`` header
  is checked (``hosts.py``), both outside Starlette's stack (:class:`RetrouveApp`);
* a request head or body that arrives too slowly gets 408: that is the server's part
  (``retrouve serve`` runs uvicorn with ``slow_clients.py``), not the app's;
* every response, errors included, carries a strict Content-Security-Policy (no inline
  script or style, nothing from other origins: the application works offline), ``no-store``
  caching unless a route says otherwise, HSTS when cookies are Secure, and no referrer
  (search URLs can hold plate numbers).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from retrouve import __version__
from retrouve.config import WebSettings
from retrouve.errors import CsrfRejected, Forbidden, NoCaseError, NotAuthenticated, RetrouveError
from retrouve.errors_i18n import error_text
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from retrouve.web import (
    admin_pages,
    api,
    case_chronology,
    case_exports,
    case_pages,
    files,
    full_frame,
    pages,
)
from retrouve.web.audit import ViewLog
from retrouve.web.auth import LoginLimiter, SessionStore, current_context, optional_context
from retrouve.web.csrf import csrf_guard
from retrouve.web.export_jobs import ExportBuilds
from retrouve.web.hosts import HostGuard, SecurityHeaders
from retrouve.web.i18n import resolve_lang
from retrouve.web.jobs import AnalysisJob
from retrouve.web.limits import BodyLimitMiddleware, BodyLimits
from retrouve.web.scheduler import PeriodicPurge
from retrouve.web.search_form import load_parse_text
from retrouve.web.templating import make_templates, render

log = logging.getLogger(__name__)

MEDIA_MODULE = "retrouve.web.media"
#: Paths answered with JSON (401/403) rather than redirected to the login page.
MACHINE_PREFIXES = ("/api", "/media", "/static")

class RetrouveApp(FastAPI):
    """FastAPI with the request guards *outside* Starlette's own middleware stack.

    ``add_middleware`` puts a middleware inside ``ServerErrorMiddleware``, so the bare 500 of
    an unhandled exception left without the security headers. Here the stack is, outermost
    first: security headers → host check → body limit → Starlette's stack (error middleware,
    exception handlers, routes): every answer, refusals and 500s included, gets the headers,
    and bodies are bounded before anything (authentication included) reads them.
    """

    #: Set by :func:`create_app` before the first request builds the stack.
    guard_config: WebSettings
    guard_hosts: tuple[str, ...] = ()

    def build_middleware_stack(self) -> ASGIApp:
        config = self.guard_config
        inner = super().build_middleware_stack()
        limited = BodyLimitMiddleware(inner, BodyLimits(config.max_form_bytes,
                                                        config.max_api_body_bytes))
        hosted = HostGuard(limited, self.guard_hosts)
        hsts = config.hsts_max_age_s if config.secure_cookies else 0
        return SecurityHeaders(hosted, secure_cookies=config.secure_cookies,
                               hsts_max_age_s=hsts)


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

    async def no_case(request: Request, exc: Exception) -> Response:
        # No case, no processing: pages go to the case chooser, the API (and a token, which
        # has no chooser) says which is missing.
        ctx = getattr(request.state, "context", None)
        if (_is_machine(request) or request.method != "GET"
                or getattr(ctx, "via", None) == "token"):
            assert isinstance(exc, NoCaseError)
            return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/case/select?next={quote(target, safe='')}", status_code=303)

    async def project_error(request: Request, exc: Exception) -> Response:
        # An InputError is about the request (unknown camera, bad query): its message helps
        # the caller. Anything else is our failure: logged in full, answered generically.
        assert isinstance(exc, RetrouveError)
        status = exc.http_status
        if status >= 500:
            log.error("%s %s failed: %s: %s", request.method, request.url.path,
                      type(exc).__name__, exc, exc_info=exc)
            return JSONResponse({"detail": "internal error: see the server log"},
                                status_code=status)
        # ``detail`` stays the English message (scripts match it); a keyed error adds its
        # stable ``code`` and the message in the request's language.
        body: dict[str, Any] = {"detail": str(exc)}
        if exc.key is not None:
            body.update(code=exc.key, message=error_text(exc, resolve_lang(request)))
        return JSONResponse(body, status_code=status)

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
    app.add_exception_handler(NoCaseError, no_case)
    # Starlette picks the handler of the nearest class in the exception's MRO, so the access
    # errors above keep their own answers although they are RetrouveErrors too.
    app.add_exception_handler(RetrouveError, project_error)
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


def create_app(services: Services, config: WebSettings | None = None, *,
               accounts: Accounts | None = None, clock: Any = time.time,
               purge: PeriodicPurge | None = None,
               allowed_hosts: tuple[str, ...] | None = None) -> FastAPI:
    """The application over ``services``, configured by ``services.settings.web`` unless
    ``config`` replaces it (``retrouve serve`` decides ``secure_cookies``; tests). ``accounts``
    and ``clock`` (wall-clock epoch seconds, for sessions and the login limiter: the same in
    every process sharing the store) may be injected by
    tests. ``purge``: the retention purge to run while the server runs (``retrouve serve``
    passes it; None: none). ``allowed_hosts``: the ``Host`` names answered (``retrouve
    serve`` passes :func:`hosts.effective_hosts`); None: ``config.allowed_hosts``, where
    empty means no host check."""
    config = config or services.settings.web

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(purge.loop()) if purge is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = RetrouveApp(
        lifespan=lifespan,
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
    # The admin pages' changes are journalled (``by=``): an injected accounts service
    # without a journal (tests) gets a twin over the same store, hasher and clock with one.
    base: Accounts = app.state.accounts
    app.state.admin_accounts = base if base.journal is not None else Accounts(
        base.store, base.clock, base.hasher, services.journal)
    # In the store, so that every process of ``retrouve serve --workers N`` shares them.
    app.state.sessions = SessionStore(services.store, clock=clock,
                                      idle_s=config.session_idle_s,
                                      absolute_s=config.session_absolute_s)
    app.state.limiter = LoginLimiter(services.store, clock=clock,
                                     max_failures=config.login_max_failures,
                                     window_s=config.login_window_s,
                                     address_max_failures=config.login_address_max_failures,
                                     global_max_failures=config.login_global_max_failures)
    app.state.views = ViewLog(clock=clock)
    app.state.analysis = AnalysisJob(services)
    app.state.exports = ExportBuilds(services.export_build, services.clock)
    app.state.templates = make_templates()
    # Looked up per request (cheap after the first import) so that the text parser, written
    # in parallel, is picked up when installed; tests replace it.
    app.state.parse_text = load_parse_text
    app.guard_config = config
    app.guard_hosts = tuple(config.allowed_hosts if allowed_hosts is None else allowed_hosts)
    _install_handlers(app)
    app.include_router(pages.router)
    # Before the case pages: their GET /cases/{ref:path} would take …/exports/ID/download.
    app.include_router(case_exports.router)
    # Before the case pages: /cases/{ref}/chronology would match their catch-all page route.
    app.include_router(case_chronology.router)
    app.include_router(case_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(files.router)
    app.include_router(api.router)
    app.state.has_player = _include_media(app)
    # The full frame of a sighting (its JPEG and its zoomable page), behind login as media.
    app.include_router(full_frame.router, dependencies=[Depends(current_context)])
    return app
