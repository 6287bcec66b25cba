"""Playback routes: a sighting's window, or a whole original, to the browser's ``<video>``.

``create_app`` includes the router behind the app's auth dependency::

    app.include_router(media.router, dependencies=[Depends(auth.current_context)])

and every route takes the active case (``case_scope.CaseCtx``: no case, no playback). A track
or recording the case's scope does not reach is answered as an unknown one (404) and
journalled (``scope-refused``). Inside the scope, a clip's window is clamped to the case's
windows, and an original file is range-served only when it lies wholly inside one of them
(else the window alone is streamed): footage outside the requisition never leaves. Nor does
a clip hand a non-admin the whole original: unless the window already covers the file, they
get the window alone, copied from the key frame before it. Each
viewing is journalled once (``audit.viewed``), not each byte-range request; a whole original
file (``/media/recording``, or a clip URL range-serving the file past its window to an admin)
is journalled as its own event, ``view-original``, with each distinct byte range served
(``audit.original_viewed``).

Every file reached here comes from the database (a track id or a recording id looked up in
the store); nothing in a URL is ever joined to a filesystem path, so path traversal has
nothing to act on. Media logic lives in :mod:`retrouve.video.playability` (serve the original
as-is?) and :mod:`retrouve.video.window` (cut a window); this module maps it to HTTP: 206 byte
ranges for originals (:mod:`retrouve.web.http_range`), a streamed fragmented MP4/WebM for
windows.

Headers every clip reply carries (all times in recording seconds, see ``domain``):
``X-Retrouve-Offset`` (recording second at media time 0, so
``recording_t = offset + video.currentTime``), ``X-Retrouve-Window-Start``/``-End``,
``X-Retrouve-Best`` (the track's best frame) and ``X-Retrouve-Mode``
(``original``/``remux``/``transcode``/``image``). A ``<video>`` element cannot read headers,
so the same facts come as JSON from ``GET /media/clip/{track_id}/info``, and the track page
gets the offset from :func:`clip_origin`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from retrouve.domain import Recording, Role, ScopeWindow
from retrouve.errors import MediaError, RangeNotSatisfiable
from retrouve.services import Services
from retrouve.store.db import Store
from retrouve.store.records import TrackTimes
from retrouve.video.playability import (
    DEFAULT_POLICY,
    MEDIA_TYPES,
    PlaybackPolicy,
    browser_playable,
    image_media_type,
    original_target,
)
from retrouve.video.window import ClipStream, WindowFile, remux_or_transcode, remux_window_file
from retrouve.web import audit
from retrouve.web.auth import AdminCtx
from retrouve.web.case_scope import CaseCtx, InCase, refused
from retrouve.web.disposition import content_disposition
from retrouve.web.http_range import bytes_response, file_response, parse_range

log = logging.getLogger(__name__)

router = APIRouter(prefix="/media", tags=["media"])

#: Seconds of context shown before and after a sighting.
WINDOW_MARGIN_S = 5.0
#: Seconds a recording may extend beyond a clip's window on either side and still be
#: range-served whole to a non-admin: about one key-frame interval, so a short file that the
#: window already covers is sent as it is rather than re-muxed.
WHOLE_SLACK_S = 1.0
#: Largest window cut into a seekable in-memory file for one range request (bytes): a
#: window of a sighting is seconds long; a longer one (an hour-long parked car) is streamed.
WINDOW_FILE_MAX_BYTES = 64 * 1024 * 1024
#: Footage is evidence: keep it out of the operator workstation's disk cache.
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

TrackId = Annotated[int, PathParam(ge=1, le=2**62, description="track id (integer)")]
RangeHeader = Annotated[str | None, Header(alias="range")]


def track_span(store: Store, track_id: int, scope: tuple[ScopeWindow, ...] | None = None
               ) -> TrackTimes | None:
    """The recording and times of track ``track_id``, ``None`` if there is no such track
    (or it lies outside ``scope``, when given)."""
    return store.track_times(track_id, scope=scope)


def scope_clamp(window: tuple[float, float], span: TrackTimes, recording: Recording,
                scope: tuple[ScopeWindow, ...]) -> tuple[float, float]:
    """``window`` (recording seconds) cut to the case's windows that the track overlaps
    (their hull) on the recording's camera: the margin never reaches outside the scope."""
    origin = recording.start.timestamp()  # wall-clock second at recording time 0
    t0, t1 = origin + span.t_start, origin + span.t_end
    mine = [w for w in scope if w.camera == recording.camera_id
            and w.end.timestamp() >= t0 and w.start.timestamp() <= t1]
    if not mine:
        # Cannot happen after the scoped lookup of the track; should it, show nothing.
        return window[0], window[0]
    lo = min(w.start for w in mine).timestamp() - origin
    hi = max(w.end for w in mine).timestamp() - origin
    a, b = max(window[0], lo), min(window[1], hi)
    return a, max(a, b)


def clip_window(
    span: TrackTimes, recording: Recording, margin_s: float = WINDOW_MARGIN_S
) -> tuple[float, float]:
    """``[t_start - margin, t_end + margin]`` clamped to the recording (recording seconds).

    A recording of unknown length (``duration_s <= 0``) is only clamped at 0.
    """
    lo = max(0.0, span.t_start - margin_s)
    hi = span.t_end + margin_s
    if recording.duration_s > 0:
        hi = min(hi, recording.duration_s)
    return lo, max(lo, hi)


class _Span(Protocol):
    """What :func:`clip_origin` needs of a track (``store.TrackDetail`` fits)."""

    @property
    def recording_id(self) -> str: ...
    @property
    def t_start(self) -> float: ...
    @property
    def t_end(self) -> float: ...
    @property
    def best_t(self) -> float: ...


def _store(request: Request) -> Store:
    store = request.app.state.services.store
    assert isinstance(store, Store)
    return store


def _policy(request: Request) -> PlaybackPolicy:
    """``app.state.playback_policy`` when the app sets one (a browser without H.264)."""
    policy = getattr(request.app.state, "playback_policy", None)
    return policy if isinstance(policy, PlaybackPolicy) else DEFAULT_POLICY


def _recording(store: Store, recording_id: str) -> Recording:
    rec = store.get_recording(recording_id)
    if rec is None:
        raise HTTPException(404, "unknown recording")
    return rec


def _size(rec: Recording) -> int:
    try:
        return os.stat(rec.path).st_size
    except OSError as exc:
        # Purged by retention or moved: say so without echoing the server path.
        log.warning("footage of recording %s is missing: %s", rec.id, exc)
        raise HTTPException(404, "footage file missing") from exc


def served_bytes(range_: str | None, size: int) -> str | None:
    """What a range-served reply of a ``size``-byte file hands out, as the journal writes
    it: ``whole`` (no ``Range``, or one that spans the file) or ``start-end`` (inclusive
    bytes); ``None`` for a range the reply answers 416 (nothing is served)."""
    try:
        part = parse_range(range_, size)
    except RangeNotSatisfiable:
        return None
    if part is None or (part.start == 0 and part.end == size - 1):
        return "whole"
    return f"{part.start}-{part.end}"


def _fmt(t: float) -> str:
    return f"{t:.3f}"


@dataclass(frozen=True)
class ClipPlan:
    """How a clip request is answered and the player's time facts (recording seconds).

    ``mode``: ``image``, ``original`` (range-served file, offset 0) or ``window`` (a
    streamed cut; its offset is known once :func:`open_window` has positioned the source).
    """

    recording: Recording
    span: TrackTimes
    window: tuple[float, float]
    mode: str
    media_type: str | None

    def headers(self, offset: float, mode: str | None = None) -> dict[str, str]:
        return {
            "X-Retrouve-Offset": _fmt(offset), "X-Retrouve-Mode": mode or self.mode,
            "X-Retrouve-Window-Start": _fmt(self.window[0]),
            "X-Retrouve-Window-End": _fmt(self.window[1]),
            "X-Retrouve-Best": _fmt(self.span.best_t),
        }


def window_covers(window: tuple[float, float], recording: Recording,
                  slack_s: float = WHOLE_SLACK_S) -> bool:
    """True when ``window`` (recording seconds) spans the whole recording, give or take
    ``slack_s`` on each side: serving the file then shows nothing the window would not.
    A recording of unknown length (``duration_s <= 0``) is never covered."""
    return (recording.duration_s > 0 and window[0] <= slack_s
            and window[1] >= recording.duration_s - slack_s)


def plan_clip(
    store: Store, span: TrackTimes, policy: PlaybackPolicy, *, ranged: bool,
    scope: tuple[ScopeWindow, ...] | None = None, admin: bool = False,
) -> ClipPlan:
    """Decide how to serve ``span``'s clip; ``ranged``: the client sent ``Range``;
    ``scope``: the case's windows (the window is clamped to them, and the original is
    served whole only when it lies inside one); ``admin``: the viewer may have the whole
    original file. Anyone else gets only the bounded window: the original is range-served
    to them only when the window already covers it (:func:`window_covers`), otherwise the
    window alone is streamed, so a clip URL never hands out a whole recording.

    Raises ``HTTPException(404)`` for a recording or file that is gone.
    """
    rec = _recording(store, span.recording_id)
    _size(rec)  # 404 for a missing file before any probing or decoding
    window = clip_window(span, rec)
    whole = True
    if scope is not None:
        window = scope_clamp(window, span, rec, scope)
        whole = store.get_recording(rec.id, scope, whole=True) is not None
    if rec.is_image:
        return ClipPlan(rec, span, (0.0, 0.0), "image", image_media_type(rec))
    if not admin and not window_covers(window, rec):
        whole = False
    if ranged and whole and browser_playable(rec, policy):
        target = original_target(rec)
        assert target is not None  # browser_playable checked the suffix
        return ClipPlan(rec, span, window, "original", MEDIA_TYPES[target])
    return ClipPlan(rec, span, window, "window", None)


def open_window(plan: ClipPlan, policy: PlaybackPolicy) -> ClipStream:
    """Position the source on the plan's window; 422 when the footage cannot be played."""
    try:
        return remux_or_transcode(
            plan.recording.path, *plan.window, policy=policy, label=plan.recording.id
        )
    except MediaError as exc:
        log.warning("cannot stream track window of %s: %s", plan.recording.id, exc)
        raise HTTPException(422, "this footage cannot be played") from exc


def window_file(plan: ClipPlan, policy: PlaybackPolicy) -> WindowFile | None:
    """The plan's window as a whole seekable file in memory (packets copied from the key
    frame before it), or ``None`` when it must be streamed (a transcode, too big)."""
    try:
        return remux_window_file(
            plan.recording.path, *plan.window, duration_s=plan.recording.duration_s,
            policy=policy, label=plan.recording.id, max_bytes=WINDOW_FILE_MAX_BYTES,
        )
    except MediaError as exc:
        log.warning("cannot cut track window of %s: %s", plan.recording.id, exc)
        raise HTTPException(422, "this footage cannot be played") from exc


def plan_offset(plan: ClipPlan, policy: PlaybackPolicy) -> tuple[float, str, str | None]:
    """(offset, mode, media type) a ``<video>`` gets for ``plan``; positions, never encodes."""
    if plan.mode != "window":
        return 0.0, plan.mode, plan.media_type
    stream = open_window(plan, policy)
    stream.close()
    return stream.offset_s, stream.mode, stream.media_type


def clip_origin(
    services: Services, detail: _Span, policy: PlaybackPolicy = DEFAULT_POLICY,
    scope: tuple[ScopeWindow, ...] | None = None, admin: bool = False,
) -> float:
    """Recording seconds at media time 0 of what ``/media/clip/{id}`` sends a ``<video>``
    (which always sends ``Range``) for the track ``detail`` to this viewer (``admin``: see
    :func:`plan_clip`): the hook the track page uses to place its ``#t=`` fragment and
    overlay boxes. 0.0 when the clip cannot be played."""
    span = TrackTimes(detail.recording_id, detail.t_start, detail.t_end, detail.best_t)
    try:
        plan = plan_clip(services.store, span, policy, ranged=True, scope=scope, admin=admin)
        return plan_offset(plan, policy)[0]
    except HTTPException:
        return 0.0


def is_admin(work: InCase) -> bool:
    """May this viewer have whole original files (range-served past the clip's window)?"""
    return work.actor.role == Role.ADMIN


def _plan(request: Request, work: CaseCtx, track_id: int, ranged: bool, route: str
          ) -> ClipPlan:
    store = _store(request)
    span = track_span(store, track_id, work.scope)
    if span is None:
        refused(request, work, route, track_id)
        raise HTTPException(404, "unknown track")
    return plan_clip(store, span, _policy(request), ranged=ranged, scope=work.scope,
                     admin=is_admin(work))


@router.get("/clip/{track_id}", response_class=Response)
def clip(request: Request, track_id: TrackId, work: CaseCtx,
         range_: RangeHeader = None) -> Response:
    """Play a sighting: ``[t_start - 5 s, t_end + 5 s]`` of the track's recording.

    With a ``Range`` header (every ``<video>`` sends one) and a browser-playable original
    that the viewer may have whole (an admin, or a file the window already covers), the
    original is range-served (206) and the player seeks to the window itself. Otherwise,
    with a ``Range``, the window alone is cut (packets copied from the key frame before it)
    into a whole MP4/WebM in memory and range-served (206, seekable, the same bytes for
    every range request); when it cannot be copied or is too big, or without ``Range``,
    the window is streamed as fragmented MP4 or WebM (200, no ranges). A still is served
    as its image.
    """
    plan = _plan(request, work, track_id, ranged=range_ is not None, route="clip")
    audit.viewed(request, work, "clip", track_id=track_id)
    rec = plan.recording
    if plan.mode in ("image", "original"):
        if plan.media_type is None:
            raise HTTPException(422, "this image format cannot be shown")
        size = _size(rec)
        served = served_bytes(range_, size)
        if plan.mode == "original" and not window_covers(plan.window, rec) and served:
            # Only an admin gets here (plan_clip): the whole file past the clip's window
            # leaves, which is an original's view, not a clip's.
            audit.original_viewed(request, work, rec.id, route="clip", served=served,
                                  size=size, track_id=track_id)
        return file_response(
            rec.path, plan.media_type, size, range_, {**_NO_STORE, **plan.headers(0.0)}
        )
    if range_ is not None:
        cut = window_file(plan, _policy(request))
        if cut is not None:
            return bytes_response(cut.data, cut.media_type, range_,
                                  {**_NO_STORE, **plan.headers(cut.offset_s, "remux")})
    stream = open_window(plan, _policy(request))
    return StreamingResponse(
        stream, media_type=stream.media_type,
        headers={**_NO_STORE, **plan.headers(stream.offset_s, stream.mode)},
        # Normally the iterator closes the source itself; this covers an unread stream.
        background=BackgroundTask(stream.close),
    )


@router.get("/clip/{track_id}/info")
def clip_info(request: Request, track_id: TrackId, work: CaseCtx) -> JSONResponse:
    """What ``/media/clip/{track_id}`` plays for a ``<video>`` element, as JSON.

    ``offset_s`` is the recording second at media time 0; ``window``, ``best_t`` are
    recording seconds; ``seek_s`` is where the player should start (media seconds).
    ``wall_clock_start`` is the recording's first frame (aware ISO-8601).
    """
    plan = _plan(request, work, track_id, ranged=True, route="clip")
    offset, mode, media_type = plan_offset(plan, _policy(request))
    rec = plan.recording
    body: dict[str, Any] = {
        "track_id": track_id, "recording_id": rec.id, "mode": mode, "media_type": media_type,
        "src": str(request.url_for("clip", track_id=track_id).path),
        "offset_s": round(offset, 3),
        "window": [round(plan.window[0], 3), round(plan.window[1], 3)],
        "best_t": round(plan.span.best_t, 3),
        "seek_s": round(max(0.0, plan.window[0] - offset), 3),
        "wall_clock_start": rec.start.isoformat(),
    }
    return JSONResponse(body, headers=_NO_STORE)


@router.get("/recording/{recording_id}", response_class=Response)
def recording(request: Request, recording_id: str, work: CaseCtx, _admin: AdminCtx,
              range_: RangeHeader = None) -> Response:
    """The whole original file of a recording, as stored: 206 for a ``Range``, else 200.
    Admins only: operators play bounded clips (``/media/clip``); a full original leaves the
    system through the evidence export, which re-checks its hash and journals it. Every
    distinct byte range served is journalled as ``view-original`` (user, case, recording,
    ``whole`` or ``start-end`` of the size).

    Read from disk in chunks, never loaded whole. The content type comes from the file's
    suffix (MP4/MOV as ``video/mp4``, WebM, browser images), else
    ``application/octet-stream``. Only a recording lying wholly inside one of the case's
    windows (else 404, as unknown, and journalled).
    """
    rec = _store(request).get_recording(recording_id[:200], work.scope, whole=True)
    if rec is None:
        refused(request, work, "recording", recording_id)
        raise HTTPException(404, "unknown recording")
    size = _size(rec)
    # A distinct event (``view-original``) with the bytes served, per distinct range.
    served = served_bytes(range_, size)
    if served is not None:  # a 416 hands out nothing
        audit.original_viewed(request, work, rec.id, route="recording", served=served,
                              size=size)
    target = original_target(rec)
    media_type = (
        image_media_type(rec) if rec.is_image
        else MEDIA_TYPES[target] if target is not None else None
    ) or "application/octet-stream"
    # The name comes from the footage share (quotes, CR/LF, Unicode): RFC 6266 both ways.
    headers = {**_NO_STORE, "Content-Disposition": content_disposition(Path(rec.path).name)}
    return file_response(rec.path, media_type, size, range_, headers)
