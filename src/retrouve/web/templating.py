"""Jinja2 rendering with the request's language, user and CSRF token in every template."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from retrouve.web.auth import RequestContext
from retrouve.web.i18n import LANGS, labeller, resolve_lang, translator, value_labeller

TEMPLATES_DIR = Path(__file__).parent / "templates"
_DATE_FORMATS = {"fr": "%d/%m/%Y %H:%M:%S", "en": "%Y-%m-%d %H:%M:%S"}


def make_templates() -> Jinja2Templates:
    # StrictUndefined: a misspelt variable fails the tests instead of rendering blank.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


def format_datetime(when: datetime, lang: str) -> str:
    """Local date and time as operators read it, with the zone abbreviation."""
    return f"{when.strftime(_DATE_FORMATS.get(lang, _DATE_FORMATS['en']))} {when.tzname()}"


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


def render(request: Request, name: str, ctx: RequestContext | None, *,
           status_code: int = 200, csrf_token: str | None = None,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Render ``name``. ``csrf_token`` overrides the session's (the login page)."""
    lang = ctx.lang if ctx else resolve_lang(request)
    other = next(x for x in LANGS if x != lang)
    base = {
        "t": translator(lang), "tr": labeller(lang), "tv": value_labeller(lang),
        "lang": lang, "ctx": ctx,
        "csrf_token": csrf_token if csrf_token is not None else (ctx.csrf_token if ctx else ""),
        "switch_url": _switch_url(request, other),
        "fmt_dt": lambda d: format_datetime(d, lang), "fmt_s": format_seconds,
        "file_shown": lambda path: shown_path(path, ctx),
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, {**base, **context},
                                      status_code=status_code, headers=headers)
