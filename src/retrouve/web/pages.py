"""Server-rendered pages: login, search and results, sequence view, footage and analysis.

Pages read GET parameters (bookmarkable searches) and change state only by POST, with the
CSRF token checked application-wide (``csrf.py``). Text comes from the i18n catalogue.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from retrouve.domain import (
    ACCESSORIES,
    COLOURS,
    Camera,
    Hit,
    Recording,
    Role,
)
from retrouve.errors import (
    AuthError,
    CaseError,
    InputError,
    LoginThrottled,
    NoCaseError,
    RetrouveError,
)
from retrouve.errors_i18n import error_text
from retrouve.legal.accounts import Accounts
from retrouve.legal.cases import Actor
from retrouve.search.engine import SearchResult
from retrouve.search.request import WEB_WORDING
from retrouve.services import Services
from retrouve.store.db import TrackDetail
from retrouve.web import audit, form_fill
from retrouve.web.auth import (
    CASE_HEADER,
    Ctx,
    LoginLimiter,
    SessionStore,
    client_address,
    cookie_settings,
    optional_context,
    session_of,
)
from retrouve.web.camera_map import map_view
from retrouve.web.case_scope import (
    CaseCtx,
    InCase,
    actor_of,
    in_case,
    like_in_scope,
    refused,
    workable_cases,
)
from retrouve.web.i18n import (
    counter,
    resolve_lang,
    translator,
    value_labeller,
    why_empty_text,
)
from retrouve.web.jobs import AnalysisJob, to_analyse
from retrouve.web.result_list import count_heading, group_by_camera, next_offset
from retrouve.web.search_form import (
    SearchParams,
    build_query,
    site_zone,
)
from retrouve.web.templating import format_datetime, render
from retrouve.web.timeline_axis import Tick, ticks
from retrouve.web.views import (
    TIMELINE_UNITS,
    hit_card,
    thumbnail_overlay,
    timeline_window,
    timelines,
)

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: Object choices of the search form, in the order operators think of them (a test checks
#: they are exactly the domain's ``QUERY_OBJECTS``).
OBJECT_CHOICES = ("person", "vehicle", "car", "van", "truck", "bus", "motorcycle", "bicycle",
                  "backpack", "handbag", "suitcase", "umbrella")
#: Seconds of context shown before a sighting in the player.
LEAD_IN_S = 3.0
FLASH_KEYS = {"started": "footage.started", "busy": "footage.busy",
              "nothing": "footage.nothing"}


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other sites, ``//host``,
    ``/\\host``, the login page itself) becomes the search page."""
    if (not target or not target.startswith("/") or target.startswith(("//", "/\\"))
            or target.startswith("/login") or any(c in target for c in "\r\n\\")):
        return "/search"
    return target


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ------------------------------------------------------------------------------ login
def _login_page(request: Request, *, error: str | None, username: str, next_url: str,
                status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    sessions: SessionStore = request.app.state.sessions
    sess = session_of(request)
    if sess is None or sess.user_id is not None:
        sess = sessions.create(None)
    response = render(request, "login.html", None, status_code=status_code,
                      csrf_token=sess.csrf_token, error=error, username=username,
                      next_url=next_url, headers=headers)
    response.set_cookie(value=sess.id, **cookie_settings(request))
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/search") -> Response:
    ctx = optional_context(request)
    if ctx is not None and ctx.via == "session":
        return _redirect(safe_next(next))
    return _login_page(request, error=None, username="", next_url=safe_next(next))


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1024)],
          next: Annotated[str, Form(max_length=2000)] = "/search") -> Response:
    state = request.app.state
    limiter: LoginLimiter = state.limiter
    accounts: Accounts = state.accounts
    t = translator(resolve_lang(request))
    address = client_address(request)
    try:
        limiter.attempt(username, address)
    except LoginThrottled as exc:
        audit.login_failed(request, username, address, "throttled")
        return _login_page(request, error=counter(resolve_lang(request))(
                               "login.throttled", exc.retry_after_s),
                           username=username, next_url=safe_next(next), status_code=429,
                           headers={"retry-after": str(exc.retry_after_s)})
    try:
        with limiter.checking():
            user = accounts.authenticate(username, password)
    except AuthError:
        limiter.failed(username, address, counted=True)
        log.warning("failed web login (counted by the rate limiter)")
        audit.login_failed(request, username, address, "refused")
        return _login_page(request, error=t("login.failed"), username=username,
                           next_url=safe_next(next), status_code=401)
    limiter.succeeded(username, address)
    # Journalled before the session exists: no login without its entry.
    audit.logged_in(request, Actor(user.name, user.role), address)
    sessions: SessionStore = state.sessions
    # A fresh session id at login: an id planted before login is worthless after it.
    old = session_of(request)
    sessions.drop(old.id if old else None)
    sess = sessions.create(user.id, logged_in_at=accounts.clock())
    response = _redirect(safe_next(next))
    response.set_cookie(value=sess.id, **cookie_settings(request))
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx) -> Response:
    audit.logged_out(request, actor_of(ctx))
    sessions: SessionStore = request.app.state.sessions
    sessions.drop(ctx.session.id if ctx.session else None)
    response = _redirect("/login")
    settings = cookie_settings(request)
    response.delete_cookie(key=settings["key"], path="/", secure=settings["secure"],
                           httponly=True, samesite="strict")
    return response


@router.get("/")
def home(ctx: Ctx) -> Response:
    return _redirect("/search")


# ------------------------------------------------------------------------ active case
def _case_page(request: Request, ctx: Ctx, next_url: str, error: str | None = None,
               status_code: int = 200) -> Response:
    services = _services(request)
    zones = {c.id: c.timezone for c in services.store.list_cameras()}

    def cam_zone(camera_id: str) -> ZoneInfo:
        # Each window in its camera's zone, as on the case page (they were raw UTC ISO).
        return ZoneInfo(zones.get(camera_id, "UTC"))

    return render(request, "case_select.html", ctx, status_code=status_code,
                  choices=workable_cases(services, ctx), next_url=next_url,
                  error=error, cam_zone=cam_zone)


@router.get("/case/select", response_class=HTMLResponse)
def case_select_page(request: Request, ctx: Ctx, next: str = "/search") -> Response:
    """The case chooser: where data pages send a session without an active case."""
    return _case_page(request, ctx, safe_next(next))


@router.post("/case/select")
def case_select(request: Request, ctx: Ctx, case: Annotated[str, Form(max_length=64)],
                next: Annotated[str, Form(max_length=2000)] = "/search") -> Response:
    """Make ``case`` the session's active case, if the user may work in it (the CLI's rule:
    open, assigned, a role that works on footage); journalled (``case-select``)."""
    if ctx.session is None:
        raise InputError(f"an API token names its case with the {CASE_HEADER} header")
    actor = actor_of(ctx)
    try:
        found = _services(request).cases.work(actor, case)
    except CaseError as exc:
        t = translator(ctx.lang)
        return _case_page(request, ctx, safe_next(next),
                          t("case.refused", msg=error_text(exc, ctx.lang)),
                          status_code=exc.http_status)
    audit.case_selected(request, actor, found.ref)
    request.app.state.sessions.set_active_case(ctx.session, found.ref)
    return _redirect(safe_next(next))


# ----------------------------------------------------------------------------- search
class _Lookups:
    """Cameras and recordings of one page, each read once."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.cameras = {c.id: c for c in services.store.list_cameras()}
        self._recordings: dict[str, Recording | None] = {}

    def recording(self, rec_id: str) -> Recording | None:
        if rec_id not in self._recordings:
            self._recordings[rec_id] = self.services.store.get_recording(rec_id)
        return self._recordings[rec_id]


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, work: CaseCtx) -> Response:
    """Search inside the active case's scope (the store query's filter); each search is
    journalled with its structured query and hits."""
    ctx = work.ctx
    services = _services(request)
    config = request.app.state.config
    t = translator(ctx.lang)
    params = SearchParams.from_params(request.query_params, default_limit=config.page_size,
                                      max_limit=200)
    looks = _Lookups(services)
    zone = site_zone(services, ctx.user.time_zone)
    submitted = bool(set(request.query_params.keys()) - {"lang"})
    view: dict[str, Any] = {"result": None, "error": None, "built": None, "cards": [],
                            "timelines": [], "why_empty": None, "prev_url": None,
                            "next_url": None, "groups": None, "axis": [], "axis_full": [],
                            "form_filled": False, "from_text": frozenset()}
    # Text and fields together: form_fill's rules (a set field wins; fields the text filled
    # stay the search while the text is unchanged).
    resolved = form_fill.resolve(params)
    if submitted:
        try:
            like_in_scope(request, work, params.like)
            outcome = services.search(resolved.params, lang=ctx.lang, wording=WEB_WORDING,
                                      default_zone=zone,
                                      text_parser=form_fill.text_parser(
                                          request.app.state.parse_text, resolved.kept),
                                      spread=config.timeline_hits, case=work.case,
                                      actor=work.actor, count=True)
            built, result = outcome.built, outcome.result
            audit.searched(request, work, (h.track_id for h in result.hits))
        except InputError as exc:  # the operator's search is at fault; failures reach the 500
            view["error"] = t("search.error", msg=error_text(exc, ctx.lang))
        else:
            # The form shows what was searched: the blank fields the text set are filled.
            params = form_fill.filled_form(resolved, built, zone)
            view.update(built=built, result=result, form_filled=params.filled is not None,
                        from_text=form_fill.from_text(params),
                        **_results_view(request, params, built.query, result, looks,
                                        ctx.lang, zone, order=built.order))
    return render(
        request, "search.html", ctx, params=params, cameras=list(looks.cameras.values()),
        zone=zone or "UTC", objects=OBJECT_CHOICES, colours=COLOURS, accessories=ACCESSORIES,
        like_thumb=f"/media/thumb/{params.like}" if params.like else None,
        # Make/model fields only when a make/model classifier pack serves the search.
        make_model=services.searcher.capabilities.make_model, **view,
    )


def _results_view(request: Request, params: SearchParams, query: Any, result: SearchResult,
                  looks: _Lookups, lang: str, zone: str, order: str) -> dict[str, Any]:
    """The results part of the page: the heading with the total, the cards (in time order,
    grouped by camera), the timelines over the searched window with their time axis in the
    operator's ``zone``, and the pager."""
    config = request.app.state.config
    qs = params.query_string()
    tv = value_labeller(lang)

    def href(hit: Hit, pos: int) -> str:
        return f"/track/{hit.track_id}?{qs}&pos={pos}"

    cards = [hit_card(h, href(h, params.offset + i), looks.cameras.get(h.camera),
                      looks.recording(h.recording))
             for i, h in enumerate(result.hits)]
    lines = []
    axis: list[Tick] = []
    window = (query.time_from, query.time_to)
    if result.hits and result.spread:
        # The same ranking's first hits, all pages: the timelines show where they fall.
        lines = timelines(
            result.spread, window, looks.cameras,
            href_of=lambda h: f"/track/{h.track_id}",
            title_of=lambda h: f"{format_datetime(h.start, lang, zone)} · {tv(h.object)}",
        )
        t0, t1 = timeline_window(result.spread, window)
        axis = ticks(t0, t1, ZoneInfo(zone), lang, TIMELINE_UNITS)
    limit, shown = params.limit, len(result.hits)
    following = next_offset(offset=params.offset, limit=limit, shown=shown,
                            total=result.total, at_least=result.total_at_least)
    return {
        "cards": cards, "timelines": lines, "timeline_n": config.timeline_hits,
        "axis": axis, "axis_full": [format_datetime(k.when, lang, zone) for k in axis],
        # In time order the page reads camera by camera (each camera's hits in time order).
        "groups": group_by_camera(cards, looks.cameras) if order == "time" else None,
        "count_heading": count_heading(lang, total=result.total, offset=params.offset,
                                       shown=shown, at_least=result.total_at_least),
        "why_empty": why_empty_text(result.empty_reason(), lang),
        "past_end": shown == 0 and bool(result.total),
        "first_url": f"/search?{params.query_string(offset=0)}",
        "prev_url": (f"/search?{params.query_string(offset=max(0, params.offset - limit))}"
                     if params.offset > 0 else None),
        "next_url": (f"/search?{params.query_string(offset=following)}"
                     if following is not None else None),
    }


# --------------------------------------------------------------------------- sequence
def _neighbours(request: Request, work: InCase, track_id: int) -> dict[str, str | None]:
    """Previous/next hit and the results page of the search the user came from, re-run
    around the ``pos`` it passed (None when absent or when the results have changed)."""
    qp = request.query_params
    pos_text = qp.get("pos")
    out: dict[str, str | None] = {"prev": None, "next": None, "back": None}
    # ASCII digits only (str.isdigit accepts '²'), and a bounded position.
    if pos_text is None or re.fullmatch(r"[0-9]{1,6}", pos_text) is None:
        return out
    services = _services(request)
    pos = int(pos_text)
    params = SearchParams.from_params(qp, default_limit=request.app.state.config.page_size,
                                      max_limit=200)
    out["back"] = "/search?" + params.query_string(offset=pos // params.limit * params.limit)
    first = max(0, pos - 1)
    resolved = form_fill.resolve(params)
    try:
        built = build_query(replace(resolved.params, offset=first, limit=pos - first + 2),
                            services, lang=work.ctx.lang,
                            default_zone=site_zone(services, work.ctx.user.time_zone),
                            text_parser=form_fill.text_parser(request.app.state.parse_text,
                                                              resolved.kept))
        # Inside the case too (not journalled: the page view is, and the search was).
        hits = services.searcher.search(built.query, built.order, scope=work.scope).hits
    except RetrouveError:
        return out
    here = pos - first
    if here >= len(hits) or hits[here].track_id != track_id:
        return out
    qs = params.query_string()
    if here > 0:
        out["prev"] = f"/track/{hits[here - 1].track_id}?{qs}&pos={pos - 1}"
    if here + 1 < len(hits):
        out["next"] = f"/track/{hits[here + 1].track_id}?{qs}&pos={pos + 1}"
    return out


def clip_origin(request: Request, detail: TrackDetail, work: InCase) -> float:
    """Recording seconds at the clip's time 0. The media module may serve a cut and say where
    it starts with ``clip_origin(services, detail) -> float``; otherwise the clip is taken to
    be on the recording's own time base."""
    if not request.app.state.has_player:
        return 0.0
    module: Any = importlib.import_module("retrouve.web.media")
    hook = getattr(module, "clip_origin", None)
    if not callable(hook):
        return 0.0
    # The same viewer rule as the clip route: only admins get whole originals.
    admin = work.actor.role == Role.ADMIN
    return float(hook(_services(request), detail, scope=work.scope, admin=admin))


@router.get("/track/{track_id}", response_class=HTMLResponse)
def track_page(request: Request, track_id: int, work: CaseCtx) -> Response:
    """A track inside the active case (else 404 as unknown, journalled); the view is
    journalled once (it covers the clip the page plays and its thumbnail)."""
    ctx = work.ctx
    services = _services(request)
    detail = (services.store.track_detail(track_id, scope=work.scope)
              if 0 < track_id < 2**62 else None)
    if detail is None:
        refused(request, work, "track", track_id)
        return render(request, "error.html", ctx, status_code=404, message_key="error.404",
                      code=404)
    recording = services.store.get_recording(detail.recording_id)
    camera = services.store.get_camera(detail.camera_id) or Camera(detail.camera_id,
                                                                   detail.camera_id, "UTC")
    zone = ZoneInfo(camera.timezone)
    audit.viewed(request, work, "track", track_id=detail.id, covers=("clip", "thumbnail"))
    origin = clip_origin(request, detail, work)
    # The mark in force for the mark form (the case pages own the POST route and its rules).
    current_mark = next((m for m in services.cases.marks(work.actor, work.case.ref)
                         if m.track_id == detail.id), None)
    player = {
        "origin": origin,
        "width": recording.width if recording else 0,
        "height": recording.height if recording else 0,
        "t_start": detail.t_start, "t_end": detail.t_end, "best_t": detail.best_t,
        "observations": [list(o) for o in detail.observations],
    }
    return render(
        request, "track.html", ctx, track=detail, recording=recording, camera=camera,
        start=detail.start.astimezone(zone), end=detail.end.astimezone(zone),
        rec_start=recording.start.astimezone(zone) if recording else None,
        has_player=request.app.state.has_player,
        video_src=f"/media/clip/{detail.id}#t={max(0.0, detail.t_start - LEAD_IN_S - origin):.2f}",
        player=player, nav=_neighbours(request, work, track_id),
        overlay=thumbnail_overlay(detail.box, recording.width, recording.height)
        if recording else None,
        similar_url="/search?" + urlencode({"like": detail.id}),
        case_ref=work.case.ref, current_mark=current_mark,
    )


# ---------------------------------------------------------------------------- footage
@router.get("/footage", response_class=HTMLResponse)
def footage_page(request: Request, work: CaseCtx) -> Response:
    """The recordings of the active case's scope (those overlapping one of its windows) and
    their cameras."""
    ctx = work.ctx
    services = _services(request)
    rows = services.catalogue.recordings(scope=work.scope)
    in_case = {w.camera for w in work.scope}
    cameras = [c for c in services.store.list_cameras() if c.id in in_case]
    job: AnalysisJob = request.app.state.analysis
    state = job.state().seen_from(work.case.ref)
    counts: dict[str, int] = {}
    for e in rows:
        counts[e.recording.camera_id] = counts.get(e.recording.camera_id, 0) + 1
    flash = FLASH_KEYS.get(request.query_params.get("msg", ""))
    if flash == "footage.started" and not state.running:
        # The page refreshes itself on /footage?msg=started while the run goes on: once it
        # has finished, "started" is stale (the finished line says what happened).
        flash = None
    return render(
        request, "footage.html", ctx, cameras=cameras, counts=counts, recordings=rows,
        job=state, pending=job.pending_count(work.scope), flash=flash,
        # The offline plan of the scope's cameras, as on the case page (positions only).
        camera_map=map_view(cameras, [], translator(ctx.lang)),
    )


@router.post("/footage/analyse")
def start_analysis(request: Request, ctx: Ctx,
                   recording: Annotated[str | None, Form(max_length=200)] = None) -> Response:
    """Analyse the footage of the active case's scope (of one recording, when given) in the
    background, as ``retrouve analyse --case REF`` does; whoever may work in the case may
    start it. Without an active case: to the case chooser, back to the footage page."""
    try:
        work = in_case(request, ctx)
    except NoCaseError:
        if ctx.via == "token":
            raise  # a token has no chooser: 409 naming the missing case header
        return _redirect("/case/select?next=%2Ffootage")
    wanted = [recording] if recording else None
    if not to_analyse(_services(request), work.scope, wanted):
        return _redirect("/footage?msg=nothing")
    job: AnalysisJob = request.app.state.analysis
    started = job.start(work.actor, work.case, wanted)
    return _redirect(f"/footage?msg={'started' if started else 'busy'}")


# --------------------------------------------------------------------------- API docs
@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request, ctx: Ctx) -> Response:
    """A plain list of the API's operations (Swagger UI would need assets from a CDN)."""
    schema = request.app.openapi()
    ops = []
    for path, methods in sorted(schema.get("paths", {}).items()):
        for method, op in methods.items():
            params = [p["name"] for p in op.get("parameters", [])]
            ops.append((method.upper(), path, op.get("summary", ""), op.get("description", ""),
                        params))
    return render(request, "api_docs.html", ctx, ops=ops)
