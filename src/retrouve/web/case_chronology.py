"""``GET /cases/{ref}/chronology``: a case's marked results in time order across its cameras,
beside the offline camera plan (sightings numbered in order) and per-camera lanes.

Who may open it is the case page's rule (:func:`retrouve.web.case_pages.load_case`: unknown
404, not assigned 403). What it shows is derived from footage (times, objects, plates,
thumbnails), so it is shown only to whoever may work on the case's footage
(:func:`retrouve.legal.cases.require_work`: open, assigned, a working role); anyone else (an
auditor, an unassigned supervisor, a closed case) gets the page with the reason and no data.
Every showing is journalled (``chronology-view``: the tracks shown, in order). Tracks are read
through the scope-checked ``track_detail(id, scope=case.scope)``: a mark on a track the
scope no longer covers (after a narrowing amendment) is left out.

Thumbnails and track links go through the routes of the *active* case (the session's), which
check its scope and journal under it; they are offered only when this case is the active
one, otherwise the page offers to make it so (``POST /case/select``, back here).

This router is included before the case pages' so that its path wins over their catch-all
``GET /cases/{ref:path}``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from retrouve.errors import InputError
from retrouve.errors_i18n import error_text
from retrouve.legal.cases import Actor, require_work
from retrouve.services import Services
from retrouve.store.records import TrackDetail
from retrouve.web import audit
from retrouve.web.auth import Ctx
from retrouve.web.camera_map import map_view
from retrouve.web.case_pages import load_case
from retrouve.web.case_scope import InCase
from retrouve.web.chronology import chosen_marks, chronology, lanes
from retrouve.web.i18n import translator
from retrouve.web.templating import render

router = APIRouter(include_in_schema=False)


def _svc(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


@router.get("/cases/{ref:path}/chronology", response_class=HTMLResponse)
def chronology_page(request: Request, ctx: Ctx, ref: str) -> Response:
    """The chronology of case ``ref``; ``?all=1`` includes results marked not relevant."""
    svc = _svc(request)
    case = load_case(request, ctx, ref)
    if isinstance(case, HTMLResponse):
        return case
    actor = Actor(ctx.user.name, ctx.role)
    with_rejected = request.query_params.get("all") == "1"
    common: dict[str, Any] = {"case": case, "f": case.fields, "with_rejected": with_rejected}
    try:
        require_work(case, actor)
    except InputError as exc:
        return render(
            request,
            "chronology.html",
            ctx,
            restricted=error_text(exc, ctx.lang),
            entries=[],
            lanes=None,
            camera_map=None,
            active=False,
            **common,
        )
    cameras = {c.id: c for c in svc.store.list_cameras()}
    marks = chosen_marks(svc.cases.marks(actor, ref), with_rejected)
    details: dict[int, TrackDetail] = {}
    for m in marks:
        d = svc.store.track_detail(m.track_id, scope=case.scope)
        if d is not None:
            details[m.track_id] = d
    sizes: dict[str, tuple[int, int]] = {}
    for rec_id in {d.recording_id for d in details.values()}:
        rec = svc.store.get_recording(rec_id)
        if rec is not None:
            sizes[rec_id] = (rec.width, rec.height)
    entries = chronology(marks, details, cameras, sizes)
    active = ctx.case == case.ref
    work = InCase(replace(ctx, case=case.ref), actor, case)
    audit.chronology_viewed(
        request, work, [e.track_id for e in entries], with_rejected=with_rejected, thumbnails=active
    )
    in_scope = list(dict.fromkeys(w.camera for w in case.scope))
    plan_cameras = [cameras[c] for c in in_scope if c in cameras]
    return render(
        request,
        "chronology.html",
        ctx,
        restricted=None,
        entries=entries,
        lanes=lanes(entries),
        active=active,
        # The lanes' times: the zone every time of the page is shown in (the user's own,
        # else the site's), as ``render`` chooses it.
        axis_zone=ZoneInfo(ctx.user.time_zone or svc.operator_zone()),
        camera_map=map_view(plan_cameras, [e.camera_id for e in entries], translator(ctx.lang)),
        **common,
    )


__all__ = ["router"]
