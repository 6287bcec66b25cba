"""The case pages: the list of cases, the form opening one, a case's page (scope, amendments
and their approval, assignment, closing, the marks in force, the coverage report) and the
auditor's journal page.

Every action calls the same :class:`~retrouve.legal.casework.CaseDesk` or
:class:`~retrouve.legal.casework.Journal` method the CLI calls, so the rules (who may, what
widens a scope, who approves) and the journal entry written with each action are theirs; the
pages only decide what to *offer*, by asking the same rules (``permissions.allowed``,
``cases.check_approver``, ``cases.require_work``) whether the action would pass. An
:class:`~retrouve.errors.InputError` they raise is shown in the page, the form kept as typed
(status 400, 403 for :class:`~retrouve.errors.NotPermitted`, 404 for
:class:`~retrouve.errors.OutOfScope`); it never reaches the 500 handler.

Case references may hold ``/`` (``2026/0042``): routes take them as ``{ref:path}``, the
action routes declared before the page so their suffixes win.
"""

from __future__ import annotations

import functools
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from retrouve.domain import Camera, CaseStatus, LegalBasis, Role
from retrouve.errors import CaseError, InputError
from retrouve.errors_i18n import error_text
from retrouve.legal.cases import TRANSITIONS, Actor, check_approver, require_work
from retrouve.legal.permissions import Right, allowed, require
from retrouve.services import Services
from retrouve.store.cases import CaseRecord
from retrouve.store.journal import EntryFilter, JournalRow
from retrouve.store.marks import Mark, MarkKind
from retrouve.web.auth import Ctx, RequestContext
from retrouve.web.camera_map import map_view
from retrouve.web.case_form import (
    CaseForm,
    ScopeRow,
    form_time,
    parse_rows,
    read_rows,
    scope_rows,
    with_blanks,
)
from retrouve.web.export_view import export_view
from retrouve.web.i18n import translator
from retrouve.web.pages import safe_next
from retrouve.web.search_form import site_zone
from retrouve.web.templating import render

router = APIRouter(include_in_schema=False)

#: Journal entries per page.
JOURNAL_PAGE = 50
#: ``?msg=`` of a redirect after an action → catalogue key of the line shown.
FLASH_KEYS = {k: f"cases.msg.{k}" for k in (
    "created", "amended", "pending", "approved", "assigned", "status", "marked",
    "export_pending", "export_ready", "export_approved", "export_building")}
#: Mark values the form sends (the brief's spelling and the store's) → the mark.
MARK_VALUES = {"relevant": MarkKind.RELEVANT, "not-relevant": MarkKind.NOT_RELEVANT,
               "not_relevant": MarkKind.NOT_RELEVANT}
_DIGITS = re.compile(r"[0-9]{1,18}")


async def _form(request: Request) -> FormData:
    # Parsed once (the CSRF guard already read it: Starlette caches it on the request).
    return await request.form()


Form = Annotated[FormData, Depends(_form)]


def _svc(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def _actor(ctx: RequestContext) -> Actor:
    return Actor(ctx.user.name, ctx.role)


def _cameras(svc: Services) -> dict[str, Camera]:
    return {c.id: c for c in svc.store.list_cameras()}


def _zone(svc: Services) -> str:
    return site_zone(svc) or "UTC"


def _passes(check: Callable[[], object]) -> bool:
    """Whether a rule of ``retrouve.legal`` lets the action through (to offer it or not)."""
    try:
        check()
    except InputError:
        return False
    return True


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _refused(request: Request, ctx: RequestContext, exc: InputError,
             status: int | None = None) -> HTMLResponse:
    """The page saying why an action or a page is refused."""
    code = status or exc.http_status
    return render(request, "case_refused.html", ctx, status_code=code, code=code,
                  message=error_text(exc, ctx.lang))


def mark_in_force(services: Services, ctx: RequestContext, ref: str, track_id: int
                  ) -> Mark | None:
    """The mark in force on ``track_id`` in case ``ref`` for the track page's
    ``mark_form(…, current_mark)`` (None: unmarked, or the user may not read the case)."""
    try:
        marks = services.cases.marks(_actor(ctx), ref)
    except InputError:
        return None
    return next((m for m in marks if m.track_id == track_id), None)


# ------------------------------------------------------------------------------ list
@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, ctx: Ctx) -> Response:
    svc = _svc(request)
    try:
        found = svc.cases.read(_actor(ctx))
    except InputError as exc:
        return _refused(request, ctx, exc)
    zone = ZoneInfo(_zone(svc))
    return render(request, "cases.html", ctx, cases=found, zone=zone,
                  can_create=allowed(ctx.role, Right.CREATE_CASE),
                  can_journal=allowed(ctx.role, Right.READ_JOURNAL),
                  flash=FLASH_KEYS.get(request.query_params.get("msg", "")))


# ------------------------------------------------------------------------------ create
def _assignable(svc: Services) -> list[str]:
    """Users a case may be assigned to (an auditor never works on footage; CaseDesk checks
    it again)."""
    return [u.name for u in svc.accounts.list() if not u.disabled and u.role is not Role.AUDITOR]


def _form_page(request: Request, ctx: RequestContext, form: CaseForm, errors: list[str],
               status: int = 200) -> HTMLResponse:
    svc = _svc(request)
    return render(request, "case_form.html", ctx, status_code=status, form=form,
                  rows=with_blanks(form.rows), errors=errors, cameras=_cameras(svc),
                  zone=_zone(svc), bases=[b.value for b in LegalBasis],
                  users=_assignable(svc))


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_page(request: Request, ctx: Ctx) -> Response:
    refusal = _refusal(ctx, Right.CREATE_CASE)
    if refusal is not None:
        return _refused(request, ctx, refusal)
    return _form_page(request, ctx, CaseForm(), [])


def _refusal(ctx: RequestContext, right: Right) -> InputError | None:
    """``permissions.require``'s refusal of ``right`` to this user, or None."""
    try:
        require(ctx.user.name, ctx.role, right)
    except InputError as exc:
        return exc
    return None


@router.post("/cases", response_class=HTMLResponse)
def create_case(request: Request, ctx: Ctx, data: Form) -> Response:
    svc = _svc(request)
    typed = CaseForm.read(data)
    fields, scope, errors = typed.parse(_cameras(svc), _zone(svc), svc.clock(), ctx.lang)
    status = 400
    if fields is not None:
        try:
            case = svc.cases.create(_actor(ctx), fields, scope, typed.assign)
        except InputError as exc:
            errors, status = [error_text(exc, ctx.lang)], exc.http_status
        else:
            return _redirect(f"/cases/{case.ref}?msg=created")
    return _form_page(request, ctx, typed, errors, status)


# ------------------------------------------------------------------------- case page
def _case_view(request: Request, ctx: RequestContext, case: CaseRecord) -> dict[str, Any]:
    """What the case page shows and offers to this user."""
    svc = _svc(request)
    actor = _actor(ctx)
    cameras = _cameras(svc)
    amendments = svc.store.amendments(case.ref)
    is_open = case.status is CaseStatus.OPEN
    assigned = set(case.assigned)

    def cam_zone(cam: str) -> ZoneInfo:
        return ZoneInfo(cameras[cam].timezone if cam in cameras else "UTC")

    return {
        "case": case, "f": case.fields, "zone": ZoneInfo(_zone(svc)), "cam_zone": cam_zone,
        "cameras": cameras,
        "amendments": [(a, is_open and a.state == "pending" and _passes(
            functools.partial(check_approver, case.ref, a.requested_by, actor)))
            for a in amendments],
        "marks": svc.cases.marks(actor, case.ref),
        # Footage links only for who may view footage in this case (never an auditor).
        "footage": _passes(lambda: require_work(case, actor)),
        "can_amend": is_open and allowed(ctx.role, Right.AMEND_CASE),
        "can_assign": is_open and allowed(ctx.role, Right.ASSIGN_CASE),
        "assignable": [u for u in _assignable(svc) if u not in assigned],
        "next_status": ([s.value for s in CaseStatus if s in TRANSITIONS[case.status]]
                        if allowed(ctx.role, Right.CLOSE_CASE) else []),
        "can_report": allowed(ctx.role, Right.READ_COVERAGE),
        "can_journal": allowed(ctx.role, Right.READ_JOURNAL),
        "amend_rows": with_blanks(scope_rows(case.scope, cameras)),
        "amend_reason": "", "errors": [],
        "flash": FLASH_KEYS.get(request.query_params.get("msg", "")),
        # The offline plan of the scope's cameras (positions are no footage: shown to all).
        "camera_map": map_view([cameras[c] for c in dict.fromkeys(w.camera for w in case.scope)
                                if c in cameras], [], translator(ctx.lang)),
        **export_view(request, svc, actor, case),
    }


def _load(request: Request, ctx: RequestContext, ref: str) -> CaseRecord | HTMLResponse:
    """The case if this user may read it, else the refusal page (404: unknown)."""
    svc = _svc(request)
    if svc.store.get_case(ref) is None:
        return _refused(request, ctx, CaseError(f"unknown case {ref!r}"), 404)
    try:
        [case] = svc.cases.read(_actor(ctx), ref)
    except InputError as exc:
        return _refused(request, ctx, exc)
    return case


def load_case(request: Request, ctx: RequestContext, ref: str) -> CaseRecord | HTMLResponse:
    """The case page's access rule for the case's other pages (the chronology): the case,
    or the refusal page to answer."""
    return _load(request, ctx, ref)


def _case_page(request: Request, ctx: RequestContext, ref: str, *, status: int = 200,
               errors: list[str] | None = None, amend_rows: list[ScopeRow] | None = None,
               amend_reason: str = "", **extra: Any) -> Response:
    """The case page; ``extra`` replaces view variables (a refused export form, as typed)."""
    case = _load(request, ctx, ref)
    if isinstance(case, HTMLResponse):
        return case
    view = _case_view(request, ctx, case) | extra
    if errors:
        view.update(errors=errors, flash=None)
    if amend_rows is not None:
        view.update(amend_rows=with_blanks(amend_rows), amend_reason=amend_reason)
    return render(request, "case.html", ctx, status_code=status, **view)


def _act(request: Request, ctx: RequestContext, ref: str, action: Callable[[], object],
         msg: str) -> Response:
    """Run a CaseDesk action; on success back to the case page with ``msg``, else the page
    with the refusal."""
    try:
        action()
    except InputError as exc:
        return _case_page(request, ctx, ref, status=exc.http_status,
                          errors=[error_text(exc, ctx.lang)])
    return _redirect(f"/cases/{ref}?msg={msg}")


@router.post("/cases/{ref:path}/amend", response_class=HTMLResponse)
def amend_case(request: Request, ctx: Ctx, ref: str, data: Form) -> Response:
    svc = _svc(request)
    rows = read_rows(data)
    reason = data.get("reason")
    reason = reason.strip()[:2000] if isinstance(reason, str) else ""
    scope, errors = parse_rows(rows, _cameras(svc), ctx.lang)
    if errors:
        return _case_page(request, ctx, ref, status=400, errors=errors, amend_rows=rows,
                          amend_reason=reason)
    try:
        am = svc.cases.amend(_actor(ctx), ref, scope, reason)
    except InputError as exc:
        return _case_page(request, ctx, ref, status=exc.http_status,
                          errors=[error_text(exc, ctx.lang)],
                          amend_rows=rows, amend_reason=reason)
    return _redirect(f"/cases/{ref}?msg={'pending' if am.widens else 'amended'}")


@router.post("/cases/{ref:path}/amendments/{amendment_id}/approve",
             response_class=HTMLResponse)
def approve_amendment(request: Request, ctx: Ctx, ref: str, amendment_id: int) -> Response:
    svc = _svc(request)
    return _act(request, ctx, ref, lambda: svc.cases.approve(_actor(ctx), ref, amendment_id),
                "approved")


@router.post("/cases/{ref:path}/assign", response_class=HTMLResponse)
def assign_case(request: Request, ctx: Ctx, ref: str, data: Form) -> Response:
    svc = _svc(request)
    names = tuple(dict.fromkeys(v.strip() for v in data.getlist("assign")
                                if isinstance(v, str) and v.strip()))
    if not names:
        return _case_page(request, ctx, ref, status=400, errors=[
            translator(ctx.lang)("case.assign_none")])
    return _act(request, ctx, ref, lambda: svc.cases.assign(_actor(ctx), ref, names),
                "assigned")


@router.post("/cases/{ref:path}/status", response_class=HTMLResponse)
def set_case_status(request: Request, ctx: Ctx, ref: str, data: Form) -> Response:
    svc = _svc(request)
    value = str(data.get("status") or "")
    try:
        status = CaseStatus(value)
    except ValueError:
        return _case_page(request, ctx, ref, status=400,
                          errors=[error_text(CaseError(key="form.unknown_status", params={
                              "ref": ref, "status": value}), ctx.lang)])
    return _act(request, ctx, ref, lambda: svc.set_case_status(_actor(ctx), ref, status),
                "status")


@router.post("/cases/{ref:path}/marks", response_class=HTMLResponse)
def mark_result(request: Request, ctx: Ctx, ref: str, data: Form) -> Response:
    """Mark a result of the case (``track_id``, ``mark`` relevant|not-relevant, ``note``);
    then back to ``next`` (a local path: the track page the form was on) or the case page.
    A track outside the case's scope is refused as not found (404)."""
    svc = _svc(request)
    track, mark, note, back = (data.get(k) for k in ("track_id", "mark", "note", "next"))
    kind = MARK_VALUES.get(mark if isinstance(mark, str) else "")
    if not isinstance(track, str) or not _DIGITS.fullmatch(track) or kind is None:
        return _refused(request, ctx, CaseError(
            f"case {ref}: a mark needs a track id and relevant or not-relevant"), 400)
    try:
        svc.cases.mark(_actor(ctx), ref, int(track), kind,
                       note.strip()[:2000] if isinstance(note, str) else "")
    except InputError as exc:
        return _refused(request, ctx, exc)
    target = safe_next(back if isinstance(back, str) else None)
    return _redirect(target if isinstance(back, str) and back else f"/cases/{ref}?msg=marked")


def _report(request: Request, ctx: RequestContext, ref: str, fmt: str) -> Response:
    from retrouve.legal.coverage import coverage_html, coverage_pdf

    svc = _svc(request)
    case = _load(request, ctx, ref)
    if isinstance(case, HTMLResponse):
        return case
    try:
        report = svc.cases.coverage(_actor(ctx), ref, fmt)
    except InputError as exc:
        return _refused(request, ctx, exc)
    name = f"couverture-{ref.replace('/', '_')}.{fmt}"
    # A download (the HTML report carries its own style, which this site's CSP would block
    # in the page; opened from the file it prints as written).
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    if fmt == "pdf":
        return Response(coverage_pdf(report), media_type="application/pdf", headers=headers)
    return Response(coverage_html(report), media_type="text/html; charset=utf-8",
                    headers=headers)


@router.get("/cases/{ref:path}/coverage.pdf")
def coverage_pdf_download(request: Request, ctx: Ctx, ref: str) -> Response:
    return _report(request, ctx, ref, "pdf")


@router.get("/cases/{ref:path}/coverage.html")
def coverage_html_download(request: Request, ctx: Ctx, ref: str) -> Response:
    return _report(request, ctx, ref, "html")


@router.get("/cases/{ref:path}", response_class=HTMLResponse)
def case_page(request: Request, ctx: Ctx, ref: str) -> Response:
    return _case_page(request, ctx, ref)


# ---------------------------------------------------------------------------- journal
def _filter(params: Any, zone: str, lang: str
            ) -> tuple[EntryFilter, dict[str, str], list[str]]:
    """The journal filter of the query string, the values as typed, and the errors in
    ``lang``."""
    typed = {k: str(params.get(k, "")).strip()[:64]
             for k in ("case", "user", "action", "from", "to")}
    errors: list[str] = []
    times: dict[str, Any] = {}
    for key, what in (("from", "from"), ("to", "to")):
        if typed[key]:
            try:
                times[key] = form_time(typed[key], zone, what)
            except InputError as exc:
                errors.append(error_text(exc, lang))
    f = EntryFilter(case=typed["case"] or None, user=typed["user"] or None,
                    action=typed["action"] or None, at_from=times.get("from"),
                    at_to=times.get("to"))
    return f, typed, errors


def _entry(row: JournalRow) -> dict[str, Any]:
    """An entry as the page shows it: objects and details as compact JSON text (never
    links: an auditor gets no footage)."""
    return {"row": row, "objects": ", ".join(json.loads(row.objects_json)),
            "details": json.dumps(json.loads(row.details_json), ensure_ascii=False,
                                  sort_keys=True)}


def _journal_page(request: Request, ctx: RequestContext, *, status: int = 200,
                  export_error: str | None = None) -> Response:
    svc = _svc(request)
    zone = _zone(svc)
    refusal = _refusal(ctx, Right.READ_JOURNAL)
    if refusal is not None:
        return _refused(request, ctx, refusal)
    f, typed, errors = _filter(request.query_params, zone, ctx.lang)
    before_text = request.query_params.get("before", "")
    before = int(before_text) if _DIGITS.fullmatch(before_text) else None
    rows: list[JournalRow] = []
    if not errors:
        try:
            rows = svc.journal.read(_actor(ctx), f, before=before, limit=JOURNAL_PAGE)
        except InputError as exc:
            return _refused(request, ctx, exc)
    # Verified after the reading was journalled: the verdict covers that entry too.
    verdict = svc.journal.verify()
    kept = [(k, v) for k, v in typed.items() if v]
    older = (f"/journal?{urlencode([*kept, ('before', str(rows[-1].seq))])}"
             if len(rows) == JOURNAL_PAGE else None)
    return render(request, "journal.html", ctx, status_code=status, entries=map(_entry, rows),
                  verdict=verdict, typed=typed, errors=errors, zone=ZoneInfo(zone),
                  zone_name=zone, older=older,
                  first=f"/journal?{urlencode(kept)}" if before is not None else None,
                  actions=svc.store.journal_actions(),
                  cases=[c.ref for c in svc.store.list_cases()],
                  users=[u.name for u in svc.accounts.list()], export_error=export_error)


@router.get("/journal", response_class=HTMLResponse)
def journal_page(request: Request, ctx: Ctx) -> Response:
    return _journal_page(request, ctx)


@router.post("/journal/export")
def journal_export(request: Request, ctx: Ctx, data: Form) -> Response:
    """A case's journal (``Journal.export``: entries, checkpoints, public key) as one zip."""
    svc = _svc(request)
    zone = _zone(svc)
    ref, start, end = (str(data.get(k) or "").strip()[:64] for k in ("case", "from", "to"))
    try:
        svc.cases.get(ref)
        a = form_time(start, zone, "from") if start else None
        b = form_time(end, zone, "to") if end else None
        with tempfile.TemporaryDirectory(prefix="retrouve-journal-") as tmp:
            out = Path(tmp)
            svc.journal.export(_actor(ctx), ref, out, a, b)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for path in sorted(out.iterdir()):
                    z.write(path, path.name)
    except InputError as exc:
        return _journal_page(request, ctx, status=exc.http_status,
                             export_error=error_text(exc, ctx.lang))
    name = f"journal-{ref.replace('/', '_')}.zip"
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


__all__ = ["load_case", "mark_in_force", "router"]
