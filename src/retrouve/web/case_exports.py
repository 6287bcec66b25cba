"""The case page's export actions: ask for an evidence export, approve it (a second
supervisor), build it in the background, download the sealed zip.

Each action calls what ``retrouve export`` calls (:meth:`Services.export_request`,
``Services.exports.approve`` / ``ready``, :meth:`Services.export_build`), so the rules and
the journal entries (``export-request``, ``export-approve``, ``export-produce``) are theirs.
A refusal is shown in the case page with its status (400, 403, 404, 409), never a 500. A
download is for users who work in the case (``require_work``) and is journalled as
``export-download`` (the request and the zip's SHA-256).

This router is included before the case pages' (their ``GET /cases/{ref:path}`` would
otherwise take ``…/exports/ID/download`` as a case reference).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from retrouve.errors import CaseError, ExportError, InputError
from retrouve.errors_i18n import error_text
from retrouve.legal import journal as j
from retrouve.store.exports import ExportRecord, ExportState
from retrouve.web.auth import Ctx
from retrouve.web.case_form import ScopeRow, parse_rows, read_rows
from retrouve.web.case_pages import Form, _actor, _cameras, _case_page, _redirect, _refused, _svc
from retrouve.web.export_view import builds, download_name, exports_dir

router = APIRouter(include_in_schema=False)

_IDS = re.compile(r"[0-9]{1,18}")
_SEP = re.compile(r"[\s,;]+")


def _record(request: Request, ref: str, export_id: int) -> ExportRecord:
    """Export ``export_id`` of case ``ref`` (an id of another case is unknown here: 404)."""
    rec = _svc(request).store.get_export(export_id)
    if rec is None or rec.case_ref != ref:
        raise _NotHere(f"case {ref} has no export request {export_id}")
    return rec


class _NotHere(CaseError):
    http_status = 404


def _tracks(text: str, lang: str) -> tuple[tuple[int, ...], list[str]]:
    """Track ids typed as ``12 34,56``; a message in ``lang`` naming the tokens that are not
    ids."""
    tokens = [t for t in _SEP.split(text.strip()) if t]
    bad = [t for t in tokens if not _IDS.fullmatch(t)]
    return tuple(int(t) for t in tokens if _IDS.fullmatch(t)), ([error_text(ExportError(
        key="form.bad_track_ids", params={"tokens": ", ".join(repr(b[:20]) for b in bad[:5])}),
        lang)] if bad else [])


@router.post("/cases/{ref:path}/exports", response_class=HTMLResponse)
def request_export(request: Request, ctx: Ctx, ref: str, data: Form) -> Response:
    """Ask for an export: the tracks marked relevant, plus ``tracks`` (ids) and the scope
    rows (windows, camera wall-clock time), and ``redact``."""
    svc = _svc(request)
    text = data.get("tracks")
    text = text[:400] if isinstance(text, str) else ""
    redact = data.get("redact") == "1"
    rows = read_rows(data)
    tracks, errors = _tracks(text, ctx.lang)
    windows, row_errors = parse_rows(rows, _cameras(svc), ctx.lang)
    # A refusal shows the form again, open and as typed.
    typed: dict[str, Any] = {"export_typed": {"tracks": text, "redact": redact},
             "export_rows": [r for r in rows if not r.blank] or [ScopeRow()]}
    if errors or row_errors:
        return _case_page(request, ctx, ref, status=400, errors=errors + row_errors, **typed)
    try:
        rec = svc.export_request(_actor(ctx), ref, tracks, windows, redact)
    except InputError as exc:
        return _case_page(request, ctx, ref, status=exc.http_status,
                          errors=[error_text(exc, ctx.lang)],
                          **typed)
    msg = "export_pending" if rec.state is ExportState.REQUESTED else "export_ready"
    return _redirect(f"/cases/{ref}?msg={msg}#exports")


@router.post("/cases/{ref:path}/exports/{export_id:int}/approve", response_class=HTMLResponse)
def approve_export(request: Request, ctx: Ctx, ref: str, export_id: int) -> Response:
    svc = _svc(request)
    try:
        _record(request, ref, export_id)
        svc.exports.approve(_actor(ctx), export_id)
    except InputError as exc:
        return _case_page(request, ctx, ref, status=exc.http_status,
                          errors=[error_text(exc, ctx.lang)])
    return _redirect(f"/cases/{ref}?msg=export_approved#exports")


@router.post("/cases/{ref:path}/exports/{export_id:int}/build", response_class=HTMLResponse)
def build_export(request: Request, ctx: Ctx, ref: str, export_id: int) -> Response:
    """Start building an approved request into ``data_dir/exports/<ref>/`` in the
    background; the case page shows its progress and then the download link."""
    svc = _svc(request)
    actor = _actor(ctx)
    try:
        _record(request, ref, export_id)
        svc.exports.ready(actor, export_id)  # refused now, not in the thread, when it can be
        if not builds(request).start(actor, export_id, exports_dir(svc, ref)):
            raise ExportError(f"export {export_id} is being built already")
    except InputError as exc:
        return _case_page(request, ctx, ref, status=exc.http_status,
                          errors=[error_text(exc, ctx.lang)])
    return _redirect(f"/cases/{ref}?msg=export_building#exports")


@router.get("/cases/{ref:path}/exports/{export_id:int}/download")
def download_export(request: Request, ctx: Ctx, ref: str, export_id: int) -> Response:
    """The bundle's zip, for who works in the case; journalled (``export-download``)."""
    svc = _svc(request)
    actor = _actor(ctx)
    try:
        rec = _record(request, ref, export_id)
        case = svc.cases.work(actor, ref)
        if rec.state is not ExportState.PRODUCED or not rec.bundle_path:
            raise ExportError(f"export {export_id} is {rec.state.value}: no bundle yet")
        path = _bundle_file(rec)
        event = j.ExportDownloaded(case=case.ref, export_id=rec.id,
                                   sha256=rec.bundle_sha256 or "")
        with svc.journal.action(actor, event, f"journal the download of export {rec.id}"):
            pass
    except InputError as exc:
        return _refused(request, ctx, exc)
    return FileResponse(path, media_type="application/zip", filename=download_name(rec))


def _bundle_file(rec: ExportRecord) -> str:
    path = Path(rec.bundle_path or "")
    if not path.is_file():
        raise ExportError(f"export {rec.id}: its bundle {path} is no longer on this server "
                          "(moved or purged); build a new export")
    return str(path)


__all__ = ["router"]
