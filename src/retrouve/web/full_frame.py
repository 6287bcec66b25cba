"""The full frame of a sighting: the whole decoded picture at full resolution, with its box.

Two routes, behind login (``create_app`` adds it) and inside the active case:

* ``GET /media/frame/{track_id}?t=SECONDS`` — the JPEG of the frame nearest ``t`` (recording
  seconds; default the track's best frame), decoded by :func:`retrouve.video.frame_at.frame_at`
  (the analysis's decoder: upright, at the stored size, so boxes in stored-frame pixels lie
  on it). Headers: ``Cache-Control: private, no-store`` (evidence stays out of caches, as
  thumbnails), ``X-Retrouve-Frame-T`` (the decoded frame's recording second),
  ``X-Retrouve-Frame-Size`` (``WxH``).
* ``GET /frame/{track_id}?t=SECONDS`` — the page showing that JPEG with the track's box
  drawn over it (an SVG whose ``viewBox`` is the stored frame size, so the box is exact at any
  zoom), zoomable and pannable by ``static/frame.js``.

Scope, as the clip route (:mod:`retrouve.web.media`): the track must be inside the case
(scoped store lookup), and ``t`` inside the clip's window cut to the case's windows on the
recording's camera (:func:`media.scope_clamp`): a time outside is answered 404 as an unknown
track and journalled (``scope-refused``). Each view is journalled once per user, case, track
and frame time (``result-view``, ``view: frame``, ``frame_t``): the page's entry covers the
JPEG it shows.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Annotated, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from retrouve.domain import Box, Camera, Recording
from retrouve.errors import MediaError
from retrouve.services import Services
from retrouve.store.records import TrackDetail, TrackTimes
from retrouve.video.frame_at import frame_at
from retrouve.web import audit
from retrouve.web.case_scope import CaseCtx, InCase, refused
from retrouve.web.media import clip_window, scope_clamp
from retrouve.web.templating import render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: What a frame answer carries: private evidence, never cached or sniffed.
FRAME_HEADERS: Final = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
#: Beyond this gap (s) between two observations the box is not interpolated (as track.js).
MAX_GAP_S: Final = 2.0

TrackId = Annotated[int, PathParam(ge=1, le=2**62, description="track id (integer)")]
FrameT = Annotated[float | None, Query(ge=0.0, le=1e7, description="recording seconds")]


@dataclass(frozen=True)
class FrameView:
    """What the page draws: the frame's time ``t`` (recording seconds), the stored frame
    size (pixels) and the box at ``t`` in its pixels (None: the object is not on that
    frame)."""

    t: float
    width: int
    height: int
    box: Box | None


def box_at(detail: TrackDetail, t: float) -> Box | None:
    """The track's box at ``t`` (recording seconds): the best box at the best time, else
    interpolated linearly between the observations around ``t`` (not across a gap over
    :data:`MAX_GAP_S`), None outside the observations."""
    if abs(t - detail.best_t) < 1e-6:
        return detail.box
    obs = detail.observations
    if not obs or t < obs[0][0] - 1e-6 or t > obs[-1][0] + 1e-6:
        return None
    for a, b in pairwise(obs):
        if a[0] <= t <= b[0]:
            if b[0] - a[0] > MAX_GAP_S and t not in (a[0], b[0]):
                return None
            k = 0.0 if b[0] == a[0] else (t - a[0]) / (b[0] - a[0])
            return Box(*(a[i] + k * (b[i] - a[i]) for i in range(1, 5)))
    return Box(*obs[0][1:5])


def allowed_window(
    services: Services, work: InCase, detail: TrackDetail, rec: Recording
) -> tuple[float, float]:
    """The recording seconds whose frames this viewer may see for the track: its clip's
    window cut to the case's windows (the clip route's rule)."""
    span = TrackTimes(detail.recording_id, detail.t_start, detail.t_end, detail.best_t)
    return scope_clamp(clip_window(span, rec), span, rec, work.scope)


@dataclass(frozen=True)
class _Found:
    detail: TrackDetail
    recording: Recording
    t: float


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def _find(request: Request, work: InCase, track_id: int, t: float | None, route: str) -> _Found:
    """The track, its recording and the time asked for, inside the case; else 404 as an
    unknown track, journalled as refused (a time outside the scope names it)."""
    services = _services(request)
    detail = services.store.track_detail(track_id, scope=work.scope)
    rec = services.store.get_recording(detail.recording_id) if detail else None
    if detail is None or rec is None:
        refused(request, work, route, track_id)
        raise HTTPException(404, "unknown track")
    when = detail.best_t if t is None else t
    lo, hi = allowed_window(services, work, detail, rec)
    if not math.isfinite(when) or not lo - 1e-6 <= when <= hi + 1e-6:
        refused(request, work, route, f"{track_id}@{when:.3f}")
        raise HTTPException(404, "unknown track")
    return _Found(detail, rec, when)


def _t_param(t: float) -> str:
    return f"{t:.3f}"


@router.get("/media/frame/{track_id}", response_class=Response)
def frame_jpeg(request: Request, track_id: TrackId, work: CaseCtx, t: FrameT = None) -> Response:
    """The JPEG of the frame nearest ``t`` (recording seconds; default the best frame) at
    the stored resolution, inside the case's scope; journalled (``view: frame``)."""
    found = _find(request, work, track_id, t, "frame")
    rec = found.recording
    try:
        frame = frame_at(rec.path, found.t, f"{rec.camera_id}/{rec.id}")
    except MediaError as exc:
        log.warning("cannot decode a frame of %s: %s", rec.id, exc)
        raise HTTPException(422, "this footage cannot be decoded") from exc
    audit.viewed(request, work, "frame", track_id=track_id, frame_t=round(found.t, 3))
    return Response(
        frame.jpeg(),
        media_type="image/jpeg",
        headers={
            **FRAME_HEADERS,
            "X-Retrouve-Frame-T": _t_param(frame.t),
            "X-Retrouve-Frame-Size": f"{frame.width}x{frame.height}",
        },
    )


@router.get("/frame/{track_id}", response_class=HTMLResponse)
def frame_page(request: Request, track_id: TrackId, work: CaseCtx, t: FrameT = None) -> Response:
    """The full frame with the track's box, zoomable; journalled (it covers the JPEG)."""
    found = _find(request, work, track_id, t, "frame")
    detail, rec = found.detail, found.recording
    services = _services(request)
    camera = services.store.get_camera(detail.camera_id) or Camera(
        detail.camera_id, detail.camera_id, "UTC"
    )
    view = FrameView(found.t, rec.width, rec.height, box_at(detail, found.t))
    audit.viewed(request, work, "frame", track_id=track_id, frame_t=round(found.t, 3))
    # Back to the sequence with the search it came from (its previous/next links).
    rest = [(k, v) for k, v in request.query_params.multi_items() if k not in ("t", "lang")]
    back = f"/track/{detail.id}" + (f"?{urlencode(rest)}" if rest else "")
    wall = rec.start.timestamp() + found.t
    shown_at = datetime.fromtimestamp(wall, UTC).astimezone(ZoneInfo(camera.timezone))
    return render(
        request,
        "frame.html",
        work.ctx,
        track=detail,
        camera=camera,
        recording=rec,
        view=view,
        at=shown_at,
        back_url=back,
        src=f"/media/frame/{detail.id}?t={_t_param(found.t)}",
    )
