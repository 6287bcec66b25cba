"""The case forms of the web pages (create a case, amend its scope): what was typed, kept to
re-show it, and its parsing into the values :class:`~retrouve.legal.casework.CaseDesk` takes.

The rules stay in ``retrouve.legal.cases``: a scope row becomes the CLI's ``CAMERA:FROM/TO``
text and goes through :func:`~retrouve.legal.cases.parse_scope`, times with an offset through
:func:`~retrouve.legal.cases.parse_when`. The browser's ``datetime-local`` inputs send naive
wall-clock times: a scope row's are read in *its camera's* zone (the clock the requisition's
windows are written in), the date received and the deadline in the site's zone; an hour the
zone skips or repeats is refused (:func:`retrouve.catalogue.sources.local_time`), never
guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from retrouve.catalogue.sources import local_time
from retrouve.domain import Camera, LegalBasis, ScopeWindow
from retrouve.errors import CaseError, InputError, Word
from retrouve.errors_i18n import error_text
from retrouve.legal.cases import parse_scope, parse_when
from retrouve.store.cases import CaseFields

#: Blank scope rows offered below the filled ones (no script: rows are plain inputs).
BLANK_ROWS = 3
#: ``datetime-local`` value format (seconds kept: ``step="1"`` on the inputs).
LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"


#: A submitted form (Starlette's; tests build one from a list of pairs).
FormLike = FormData


def form_text(form: FormLike, key: str, limit: int = 2000) -> str:
    """A submitted field stripped and cut at ``limit`` characters; "" when absent or a file."""
    value = form.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _texts(form: FormLike, key: str, limit: int = 200) -> list[str]:
    return [v.strip()[:limit] if isinstance(v, str) else "" for v in form.getlist(key)]


@dataclass(frozen=True)
class ScopeRow:
    """One scope row as typed: camera id, from, to (``datetime-local`` text)."""

    camera: str = ""
    start: str = ""
    end: str = ""

    @property
    def blank(self) -> bool:
        return not (self.camera or self.start or self.end)


def local_input(when: datetime, zone: str) -> str:
    """An aware time as a ``datetime-local`` value in ``zone``."""
    return when.astimezone(ZoneInfo(zone)).strftime(LOCAL_FORMAT)


def scope_rows(scope: Sequence[ScopeWindow], cameras: Mapping[str, Camera]) -> list[ScopeRow]:
    """The rows showing ``scope``, each in its camera's zone (UTC for an unknown camera)."""
    def zone(cam: str) -> str:
        return cameras[cam].timezone if cam in cameras else "UTC"

    return [ScopeRow(w.camera, local_input(w.start, zone(w.camera)),
                     local_input(w.end, zone(w.camera))) for w in scope]


def with_blanks(rows: Sequence[ScopeRow]) -> list[ScopeRow]:
    """``rows`` without blank ones, then :data:`BLANK_ROWS` blank rows to fill."""
    return [r for r in rows if not r.blank] + [ScopeRow()] * BLANK_ROWS


def read_rows(form: FormLike) -> list[ScopeRow]:
    """The submitted scope rows (``scope_camera``, ``scope_from``, ``scope_to`` in step)."""
    cams, starts, ends = (_texts(form, k) for k in ("scope_camera", "scope_from", "scope_to"))
    n = max(len(cams), len(starts), len(ends))
    pad = [*cams, *[""] * n], [*starts, *[""] * n], [*ends, *[""] * n]
    return [ScopeRow(pad[0][i], pad[1][i], pad[2][i]) for i in range(n)]


def form_time(text: str, zone: str, what: str | Word) -> datetime:
    """A typed time → aware UTC: with an offset as the CLI reads it, else wall-clock time in
    ``zone`` (refused when the zone skips or repeats it)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CaseError(key="case.time_not_date", params={"what": what, "text": text}) from None
    if when.tzinfo is not None:
        return parse_when(text, what)
    return local_time(when, zone, Word.of("field.typed", what=what, text=text)).astimezone(UTC)


def parse_rows(rows: Sequence[ScopeRow], cameras: Mapping[str, Camera], lang: str = "en"
               ) -> tuple[tuple[ScopeWindow, ...], list[str]]:
    """The windows of the filled rows, and one message per bad row in ``lang`` (all of
    them, so the user fixes them in one go)."""
    windows: list[ScopeWindow] = []
    errors: list[str] = []
    for n, row in enumerate((r for r in rows if not r.blank), start=1):
        what = Word.of("field.scope_row", n=n)
        if row.camera not in cameras:
            errors.append(error_text(
                CaseError(key="form.choose_camera", params={"what": what}) if not row.camera
                else CaseError(key="form.unknown_camera",
                               params={"what": what, "camera": row.camera}), lang))
            continue
        if not row.start or not row.end:
            errors.append(error_text(CaseError(key="form.both_ends", params={
                "what": what, "camera": row.camera}), lang))
            continue
        zone = cameras[row.camera].timezone
        try:
            a = form_time(row.start, zone, Word.of("field.scope_row_from", n=n,
                                                   camera=row.camera))
            b = form_time(row.end, zone, Word.of("field.scope_row_to", n=n, camera=row.camera))
            # The CLI's text, in the camera's zone: its messages then quote what was typed.
            z = ZoneInfo(zone)
            windows.append(parse_scope(f"{row.camera}:{a.astimezone(z).isoformat()}/"
                                       f"{b.astimezone(z).isoformat()}"))
        except InputError as exc:
            # parse_scope's messages quote the CLI text it was given: say which row it is.
            scoped = exc.key in {"case.scope_syntax", "case.scope_reversed"}
            errors.append(error_text(CaseError(key="form.row_error", params={
                "what": what, "error": exc}) if scoped else exc, lang))
    return tuple(windows), errors


@dataclass(frozen=True)
class CaseForm:
    """The create form as typed (re-shown as is when refused)."""

    ref: str = ""
    basis: str = LegalBasis.ART_60_1.value
    prosecutor_authorisation: str = ""
    procedure_number: str = ""
    authority: str = ""
    authority_service: str = ""
    authority_contact: str = ""
    received: str = ""
    deadline: str = ""
    purpose: str = ""
    rows: tuple[ScopeRow, ...] = field(default_factory=tuple)
    assign: tuple[str, ...] = ()

    @classmethod
    def read(cls, form: FormLike) -> CaseForm:
        return cls(
            ref=form_text(form, "ref", 64), basis=form_text(form, "basis", 16),
            prosecutor_authorisation=form_text(form, "prosecutor_authorisation"),
            procedure_number=form_text(form, "procedure_number", 200),
            authority=form_text(form, "authority", 200),
            authority_service=form_text(form, "authority_service", 200),
            authority_contact=form_text(form, "authority_contact", 200),
            received=form_text(form, "received", 40), deadline=form_text(form, "deadline", 40),
            purpose=form_text(form, "purpose"), rows=tuple(read_rows(form)),
            assign=tuple(dict.fromkeys(a for a in _texts(form, "assign", 64) if a)))

    def parse(self, cameras: Mapping[str, Camera], site_zone: str, now: datetime,
              lang: str = "en") -> tuple[CaseFields | None, tuple[ScopeWindow, ...], list[str]]:
        """The fields and the scope, or the messages in ``lang`` saying what is wrong (then
        the fields are None). Completeness (procedure number, authority…) is checked by
        ``CaseDesk.create``, as for the CLI."""
        errors: list[str] = []
        try:
            basis = LegalBasis(self.basis)
        except ValueError:
            basis = LegalBasis.ART_60_1
            errors.append(error_text(CaseError(key="form.bad_basis", params={
                "basis": self.basis, "choices": ", ".join(b.value for b in LegalBasis)}),
                lang))
        received, deadline = now, None
        try:
            if self.received:
                received = form_time(self.received, site_zone, Word("field.received"))
        except InputError as exc:
            errors.append(error_text(exc, lang))
        try:
            if self.deadline:
                deadline = form_time(self.deadline, site_zone, Word("field.deadline"))
        except InputError as exc:
            errors.append(error_text(exc, lang))
        scope, row_errors = parse_rows(self.rows, cameras, lang)
        errors += row_errors
        if errors:
            return None, scope, errors
        return CaseFields(
            ref=self.ref, basis=basis, procedure_number=self.procedure_number,
            authority=self.authority, authority_service=self.authority_service,
            authority_contact=self.authority_contact, received_at=received,
            purpose=self.purpose, deadline=deadline,
            prosecutor_authorisation=self.prosecutor_authorisation or None), scope, []


__all__ = ["BLANK_ROWS", "CaseForm", "FormLike", "ScopeRow", "form_text", "form_time",
           "local_input", "parse_rows", "read_rows", "scope_rows", "with_blanks"]
