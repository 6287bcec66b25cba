"""The JSON API under ``/api``, for scripts and the pages' own needs.

Authentication: the session cookie (then POSTs need the ``X-CSRF-Token`` header) or
``Authorization: Bearer TOKEN`` (``retrouve users token NAME``). Data routes (search, tracks,
recordings) work inside a case: a session's active case, or the case a token request names
with ``X-Retrouve-Case: REF``; without one they answer 409 (``{"detail": "no case: ..."}``),
with a case the user may not work in 403 (unknown case: 400), and an id outside the case's
scope 404 exactly as an unknown id (journalled as ``scope-refused``). Hits use the JSON schema
``retrouve.search.schema.HitOut`` (the CLI's ``search --json``), except that ``thumbnail`` is
the authenticated URL of the image rather than a path on the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi import Query as Q
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from retrouve.legal.accounts import Accounts
from retrouve.search.request import WEB_WORDING, SearchRequest
from retrouve.search.schema import EmptyReason, HitOut
from retrouve.services import Services
from retrouve.web import audit
from retrouve.web.auth import AdminCtx, Ctx
from retrouve.web.case_scope import CaseCtx, like_in_scope, refused
from retrouve.web.jobs import AnalysisJob, to_analyse
from retrouve.web.search_form import api_params_model
from retrouve.web.templating import shown_path

router = APIRouter(prefix="/api", tags=["api"])

if TYPE_CHECKING:  # generated from the criteria table: mypy sees only its base
    SearchQueryParams = BaseModel
else:
    #: ``GET /api/search``'s query parameters, one per ``retrouve.search.criteria`` criterion.
    SearchQueryParams = api_params_model()


# -------------------------------------------------------------------------------- models
class SearchOut(BaseModel):
    hits: list[HitOut]
    #: Why there are no hits, in English (None when there are some).
    why_empty: str | None
    #: The same reason as a stable code (``EmptyReason``): ``no_footage``, ``not_analysed``,
    #: ``no_match``; None with hits.
    why_empty_code: EmptyReason | None = None
    #: How the free text was understood, when it was parsed.
    understood: str | None = None
    #: The free text could not be parsed (parser not installed) and was searched as is.
    text_unparsed: bool = False
    #: Words of the free text that did not shape the search (not understood without an
    #: image-text pack; a make/model without its pack).
    ignored: list[str] = []
    #: What to tell the operator about the search (English): a make/model not available and
    #: what was searched instead.
    notices: list[str] = []
    limit: int
    offset: int
    order: str
    #: Results over all pages (objects, one per hit, as ``offset``/``limit`` page them): the
    #: web page's "Results 1–20 of 57".
    total: int
    #: ``total`` is a lower bound (a plate pattern or find-similar search re-ranks its first
    #: 20 000 candidate tracks only, and there were more).
    total_at_least: bool = False


class MeOut(BaseModel):
    name: str
    role: str
    via: str
    #: The case the request names (session's active case or ``X-Retrouve-Case``), unchecked.
    case: str | None = None


class AnalysisStart(BaseModel):
    #: Recording ids to analyse; empty or absent: all the footage of the case's scope.
    recordings: list[str] = Field(default_factory=list, max_length=10_000)


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


# -------------------------------------------------------------------------------- routes
@router.get("/me", response_model=MeOut, summary="Who am I")
def me(ctx: Ctx) -> dict[str, Any]:
    return {"name": ctx.user.name, "role": ctx.role, "via": ctx.via, "case": ctx.case}


@router.get("/search", response_model=SearchOut, summary="Search sightings")
def search(request: Request, work: CaseCtx,
           params: Annotated[SearchQueryParams, Q()]) -> SearchOut:
    """Same filters and hit schema as ``retrouve search --json``, inside the case's scope
    (header ``X-Retrouve-Case: REF`` with a token); journalled."""
    services = _services(request)
    # Times without an offset: the caller's own zone (users.time_zone), else the site's.
    search_request = SearchRequest.from_values(params.model_dump(),
                                               operator_zone=work.ctx.user.time_zone)
    like_in_scope(request, work, search_request.like)
    outcome = services.search(search_request, lang="en", wording=WEB_WORDING,
                              text_parser=request.app.state.parse_text, case=work.case,
                              actor=work.actor, count=True)
    built, result = outcome.built, outcome.result
    audit.searched(request, work, (h.track_id for h in result.hits))
    hits = [HitOut.of(h).with_thumbnail(f"/media/thumb/{h.track_id}" if h.thumbnail else None)
            for h in result.hits]
    return SearchOut(hits=hits, why_empty=result.why_empty(),
                     why_empty_code=result.empty_reason(), understood=built.understood,
                     text_unparsed=built.text_unparsed, ignored=list(built.ignored),
                     notices=list(built.notices), limit=search_request.limit,
                     offset=search_request.offset, order=search_request.order,
                     total=result.total if result.total is not None else len(hits),
                     total_at_least=result.total_at_least)


@router.get("/tracks/{track_id}", summary="One track with its observations")
def track(request: Request, work: CaseCtx, track_id: int) -> dict[str, Any]:
    """A track: wall-clock span (UTC), recording-time span (seconds), best box, attributes,
    plate, and ``observations`` ``[[t, x0, y0, x1, y1, confidence], ...]`` (recording
    seconds, original-frame pixels). Inside the case's scope only (else 404, as unknown)."""
    d = (_services(request).store.track_detail(track_id, scope=work.scope)
         if 0 < track_id < 2**62 else None)
    if d is None:
        refused(request, work, "api-track", track_id)
        raise HTTPException(404, f"unknown track {track_id}")
    audit.viewed(request, work, "api-track", track_id=d.id)
    return {
        "track_id": d.id, "camera": d.camera_id, "recording": d.recording_id,
        "object": d.object, "object_confidence": round(d.object_confidence, 4),
        "start": d.start.isoformat(), "end": d.end.isoformat(), "t_start": d.t_start,
        "t_end": d.t_end, "best_t": d.best_t, "box": d.box.as_list(),
        "attributes": {k: {"value": v, "confidence": round(c, 3)}
                       for k, (v, c) in d.attributes.items()},
        "plate": None if d.plate is None else {
            "text": d.plate.text, "confidence": round(d.plate.confidence, 3),
            "alternatives": [[x, round(c, 3)] for x, c in d.plate.alternatives]},
        "thumbnail": f"/media/thumb/{d.id}" if d.thumbnail else None,
        "observations": [list(o) for o in d.observations],
    }


@router.get("/cameras", summary="Registered cameras")
def cameras(request: Request, ctx: Ctx) -> list[dict[str, Any]]:
    return [c.__dict__ for c in _services(request).store.list_cameras()]


@router.get("/recordings", summary="Recordings with analysis status and progress")
def recordings(request: Request, work: CaseCtx,
               camera: Annotated[str | None, Q(max_length=128)] = None) -> list[dict[str, Any]]:
    """The recordings overlapping the case's scope (operators get the file name, admins the
    server path)."""
    rows = [e.to_json() for e in _services(request).catalogue.recordings(camera, work.scope)]
    for row in rows:
        row["path"] = shown_path(row["path"], work.ctx)
    return rows


@router.get("/analysis", summary="State of the analysis started from the web")
def analysis_state(request: Request, work: CaseCtx) -> dict[str, Any]:
    """The web-started analysis as seen from the active case (another case's run shows only
    that one is running) and the recordings of the case's scope still to analyse."""
    job: AnalysisJob = request.app.state.analysis
    return {**job.state().seen_from(work.case.ref).to_json(),
            "pending_recordings": job.pending_count(work.scope)}


@router.post("/analysis", status_code=202,
             summary="Analyse the footage of the active case's scope in the background")
def analysis_start(request: Request, work: CaseCtx,
                   body: Annotated[AnalysisStart | None, Body()] = None) -> Any:
    """As ``retrouve analyse --case REF``: only footage inside the case's scope, journalled
    with the case. 202 when started; 409 when one is already running (or without a case);
    200 with ``started: false`` when there is nothing to analyse in the case."""
    job: AnalysisJob = request.app.state.analysis
    wanted = (body.recordings if body else None) or None
    if not to_analyse(_services(request), work.scope, wanted):
        return JSONResponse({"started": False, "reason": "nothing to analyse in the case"},
                            status_code=200)
    if not job.start(work.actor, work.case, wanted):
        return JSONResponse({"started": False, "reason": "an analysis is already running"},
                            status_code=409)
    return {"started": True, **job.state().to_json()}


@router.get("/users", summary="Accounts (admin)")
def users(request: Request, ctx: AdminCtx) -> list[dict[str, Any]]:
    accounts: Accounts = request.app.state.accounts
    return [u.to_json() for u in accounts.list()]


@router.get("/openapi.json", summary="This API's OpenAPI schema")
def openapi_json(request: Request, ctx: Ctx) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema
