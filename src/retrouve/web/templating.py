"""Jinja2 rendering with the request's language, user, CSRF token and operator time zone in
every template.

Every time a page shows goes through :func:`format_datetime` (the ``local_time`` filter,
also ``fmt_dt(d)`` in every template): the site's operator zone
(``Services.operator_zone``), with the camera's own time beside it when the value carries a
camera's zone that reads it differently (``04/01/2026 14:03:12 CET (caméra 13:03:12 GMT)``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2.runtime import Context

from retrouve.legal.permissions import Right, allowed
from retrouve.wallclock import camera_note, show_time
from retrouve.web.auth import RequestContext
from retrouve.web.case_scope import workable_cases
from retrouve.web.i18n import (
    LANGS,
    counter,
    labeller,
    resolve_lang,
    translator,
    value_labeller,
)

TEMPLATES_DIR = Path(__file__).parent / "templates"


def make_templates() -> Jinja2Templates:
    # StrictUndefined: a misspelt variable fails the tests instead of rendering blank.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["local_time"] = _local_time_filter
    return Jinja2Templates(env=env)


def format_datetime(when: datetime, lang: str, zone: str | None = None) -> str:
    """``when`` as operators read it (:func:`retrouve.wallclock.show_time`) in ``zone`` (the
    operator's; None: ``when``'s own zone), then the camera's time in brackets when
    ``when`` carries a camera's zone (pages convert hits to it) that reads it differently."""
    own = when.tzinfo
    if zone is None:
        return show_time(when, own if isinstance(own, ZoneInfo) else "UTC", lang)
    shown = show_time(when, zone, lang)
    note = camera_note(when, zone, own.key, lang) if isinstance(own, ZoneInfo) else ""
    return f"{shown} ({note})" if note else shown


@jinja2.pass_context
def _local_time_filter(context: Context, when: datetime | None) -> str:
    """``{{ when|local_time }}``: :func:`format_datetime` with the page's language and the
    site's operator zone; empty for None."""
    if when is None:
        return ""
    return format_datetime(when, context.get("lang", "en"), context.get("site_zone"))


def format_seconds(seconds: float) -> str:
    """``h:mm:ss`` (or ``m:ss``) for a position or a duration."""
    total = max(0, round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def shown_path(path: str, ctx: RequestContext | None) -> str:
    """A footage file as the caller may see it: the full server path for an admin, the file
    name alone for anyone else (server paths tell operators nothing they need, and tell an
    intruder where the evidence lies)."""
    if ctx is not None and ctx.has_role("admin"):
        return path
    return PurePath(path).name


def _switch_url(request: Request, lang: str) -> str:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*pairs, ('lang', lang)])}"


def _switcher(request: Request, ctx: RequestContext | None) -> dict[str, Any]:
    """The header's case switcher: the cases the user may work in and the active one;
    ``case_switch`` False (no switcher at all) for a role that never works in a case (an
    auditor), who would otherwise see "no active case" linking to a chooser it cannot use."""
    if ctx is None or ctx.session is None or not allowed(ctx.role, Right.WORK_IN_CASE):
        return {"case_choices": [], "active_case": None, "case_switch": False}
    choices = workable_cases(request.app.state.services, ctx)
    active = next((c for c in choices if c.ref == ctx.case), None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # From the chooser (or a case page) switching leads to the search page, not back there.
    return {"case_choices": choices, "active_case": active, "case_switch": True,
            "here": "/search" if request.url.path.startswith("/case") else here}


def short(text: str, n: int = 40) -> str:
    """``text`` cut to ``n`` characters (an ellipsis when cut)."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


def render(request: Request, name: str, ctx: RequestContext | None, *,
           status_code: int = 200, csrf_token: str | None = None,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Render ``name``. ``csrf_token`` overrides the session's (the login page)."""
    lang = ctx.lang if ctx else resolve_lang(request)
    services = getattr(request.app.state, "services", None)
    # The user's own zone (users.time_zone) wins over the site's for every time shown.
    user_zone = ctx.user.time_zone if ctx is not None else None
    zone = user_zone or (services.operator_zone() if services is not None else None)
    other = next(x for x in LANGS if x != lang)
    base = {
        "t": translator(lang), "tn": counter(lang), "tr": labeller(lang),
        "tv": value_labeller(lang),
        "lang": lang, "ctx": ctx,
        "csrf_token": csrf_token if csrf_token is not None else (ctx.csrf_token if ctx else ""),
        "switch_url": _switch_url(request, other),
        "fmt_dt": lambda d: format_datetime(d, lang, zone), "fmt_s": format_seconds,
        "site_zone": zone, "short": short, **_switcher(request, ctx),
        "file_shown": lambda path: shown_path(path, ctx),
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, {**base, **context},
                                      status_code=status_code, headers=headers)
