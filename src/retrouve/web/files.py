"""Thumbnails and the application's own static files.

Neither route takes a path from the user: a thumbnail is found from an integer track id (the
store gives the blob key, and ``BlobStore.path_of`` refuses any key that escapes the blob
folder); a static file must be one of the names listed in :data:`STATIC`. The stylesheet is
the only file served without login (the login page needs it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from retrouve.errors import NotAuthenticated, StoreError
from retrouve.services import Services
from retrouve.web import audit
from retrouve.web.auth import optional_context
from retrouve.web.case_scope import CaseCtx, refused

STATIC_DIR: Final = Path(__file__).parent / "static"
#: name → (media type, served without login).
STATIC: Final[dict[str, tuple[str, bool]]] = {
    "style.css": ("text/css; charset=utf-8", True),
    "results.css": ("text/css; charset=utf-8", False),  # the search page's results
    "track.js": ("text/javascript; charset=utf-8", False),
    "keys.js": ("text/javascript; charset=utf-8", False),
    # The camera plan and the chronology (case pages).
    "chrono.css": ("text/css; charset=utf-8", False),
    "frame.js": ("text/javascript; charset=utf-8", False),
}
TrackId = Annotated[int, PathParam(ge=1, le=2**62)]

router = APIRouter(include_in_schema=False)


@router.get("/media/thumb/{track_id}")
def thumbnail(request: Request, track_id: TrackId, work: CaseCtx) -> FileResponse:
    """The JPEG thumbnail of a track (a crop around its best box), inside the active case's
    scope only (else 404 as for a track without one, journalled)."""
    services: Services = request.app.state.services
    key = services.store.thumbnail_key(track_id, scope=work.scope)
    if key is None:
        if services.store.get_track(track_id, scope=work.scope) is None:
            refused(request, work, "thumbnail", track_id)
        raise HTTPException(404, "no thumbnail for this track")
    try:
        path = services.store.blobs.path_of(key)
    except StoreError:
        raise HTTPException(404, "no thumbnail for this track") from None
    if not path.is_file():
        raise HTTPException(404, "thumbnail file missing")
    audit.viewed(request, work, "thumbnail", track_id=track_id)
    return FileResponse(path, media_type="image/jpeg",
                        # Per-case evidence: never in a browser or proxy cache.
                        headers={"cache-control": "private, no-store"})


@router.get("/static/{name}")
def static(request: Request, name: str) -> FileResponse:
    entry = STATIC.get(name)
    if entry is None:
        raise HTTPException(404, "not found")
    media_type, public = entry
    if not public and optional_context(request) is None:
        raise NotAuthenticated()
    return FileResponse(STATIC_DIR / name, media_type=media_type,
                        headers={"cache-control": "no-cache"})
