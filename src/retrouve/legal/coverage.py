"""The coverage report of a case, annexed to the police report: for each (camera, window) of
the scope, what footage exists (and its gaps), what was analysed, what failed and why, with
which models and settings; every search run in the case with its hit count; the marked
results when given; and the statement that no hit does not prove absence.

:func:`build_coverage` is a pure function of store state (recordings, work units, runs,
journal entries) and an explicit ``now``. Times are aware UTC; durations are seconds of
wall-clock time. Work units are ``[t0, t1)`` in recording seconds (``t1`` may be ``inf``:
the recording's end).

Renderers: :func:`coverage_json`, :func:`coverage_html` (self-contained, French) and
:func:`coverage_pdf` (fpdf2, core fonts).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from retrouve.domain import Recording, ScopeWindow, UnitStatus
from retrouve.legal.journal import iso
from retrouve.store.cases import CaseRecord
from retrouve.store.journal import JournalRow
from retrouve.store.marks import Mark
from retrouve.store.records import AnalysisRun, UnitRow
from retrouve.wallclock import show_time

Span = tuple[datetime, datetime]

NO_PROOF_FR: Final = ("L'absence de résultat ne prouve pas l'absence de l'objet recherché : "
                      "la détection automatique peut manquer un objet (occultation, angle, "
                      "éclairage, résolution), et seules les séquences analysées ont été "
                      "interrogées.")
NO_PROOF_EN: Final = ("The absence of a hit does not prove the absence of the object: "
                      "automatic detection can miss an object, and only the analysed footage "
                      "was searched.")


@dataclass(frozen=True)
class FailedPart:
    """A failed work unit's span inside the window and its cause."""

    start: datetime
    end: datetime
    unit_id: str
    error: str


@dataclass(frozen=True)
class WindowCoverage:
    """One scope window: footage present, gaps (no footage), analysed, failed and not yet
    analysed spans (each sorted, merged), their seconds, and the runs that analysed it."""

    window: ScopeWindow
    recordings: tuple[str, ...]
    footage: tuple[Span, ...]
    gaps: tuple[Span, ...]
    analysed: tuple[Span, ...]
    failed: tuple[FailedPart, ...]
    not_analysed: tuple[Span, ...]
    run_ids: tuple[int, ...]

    @property
    def window_seconds(self) -> float:
        return (self.window.end - self.window.start).total_seconds()

    @property
    def footage_seconds(self) -> float:
        return _seconds(self.footage)

    @property
    def gap_seconds(self) -> float:
        return _seconds(self.gaps)

    @property
    def analysed_seconds(self) -> float:
        return _seconds(self.analysed)

    @property
    def failed_seconds(self) -> float:
        return _seconds(_merge([(f.start, f.end) for f in self.failed]))

    @property
    def not_analysed_seconds(self) -> float:
        return _seconds(self.not_analysed)

    @property
    def state(self) -> str:
        """``complete`` (all footage analysed), ``partial``, ``failed`` (nothing analysed,
        some failed), ``not-analysed`` or ``no-footage``."""
        if not self.footage:
            return "no-footage"
        if not self.failed and not self.not_analysed:
            return "complete"
        if self.analysed:
            return "partial"
        return "failed" if self.failed else "not-analysed"


@dataclass(frozen=True)
class RunInfo:
    """An analysis run that analysed footage of the case: its models (packs with name,
    version, hash, as the run recorded them) and settings."""

    id: int
    started_at: datetime
    status: str
    software_version: str
    models: dict[str, Any]
    settings: dict[str, Any]


@dataclass(frozen=True)
class SearchInfo:
    """A search run in the case (from its journal entry)."""

    seq: int
    at: datetime
    user: str
    query: dict[str, Any]
    hits: int


@dataclass(frozen=True)
class CoverageReport:
    """The coverage of one case at ``produced_at``."""

    case: CaseRecord
    produced_at: datetime
    windows: tuple[WindowCoverage, ...]
    runs: tuple[RunInfo, ...]
    searches: tuple[SearchInfo, ...]
    marks: tuple[Mark, ...] | None = None
    notes: tuple[str, ...] = field(default=(NO_PROOF_FR,))


# ------------------------------------------------------------------ interval arithmetic
def _merge(spans: Sequence[Span]) -> tuple[Span, ...]:
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def _minus(spans: Sequence[Span], cut: Sequence[Span]) -> tuple[Span, ...]:
    pieces = list(_merge(spans))
    for c0, c1 in _merge(cut):
        nxt: list[Span] = []
        for p0, p1 in pieces:
            if c1 <= p0 or c0 >= p1:
                nxt.append((p0, p1))
                continue
            if p0 < c0:
                nxt.append((p0, c0))
            if c1 < p1:
                nxt.append((c1, p1))
        pieces = nxt
    return tuple(pieces)


def _clip(span: Span, w: ScopeWindow) -> Span | None:
    a, b = max(span[0], w.start), min(span[1], w.end)
    return (a, b) if b > a else None


def _seconds(spans: Sequence[Span]) -> float:
    return sum((b - a).total_seconds() for a, b in spans)


def _unit_span(unit: UnitRow, rec: Recording) -> Span:
    end = rec.duration_s if math.isinf(unit.t1) else min(unit.t1, rec.duration_s)
    if unit.status == UnitStatus.DONE and unit.decoded_until is not None:
        # A stream that ended inside the unit (a truncated file): the rest is not analysed.
        end = min(end, unit.decoded_until)
    return (rec.start + timedelta(seconds=unit.t0), rec.start + timedelta(seconds=end))


# ------------------------------------------------------------------ build
def build_coverage(case: CaseRecord, recordings: Sequence[Recording], units: Sequence[UnitRow],
                   runs: Sequence[AnalysisRun], journal: Sequence[JournalRow],
                   now: datetime, marks: Sequence[Mark] | None = None
                   ) -> CoverageReport:
    """The coverage of ``case``'s scope from the store's recordings (of its cameras), their
    work units, the analysis runs and the case's journal entries. ``marks``: the results
    marked in the case, when a marks store exists (None: not reported)."""
    by_rec: dict[str, list[UnitRow]] = {}
    for u in units:
        by_rec.setdefault(u.recording_id, []).append(u)
    windows, used_runs = [], set()
    for w in case.scope:
        footage, analysed, failed, rec_ids, run_ids = [], [], [], [], set()
        for rec in recordings:
            if rec.camera_id != w.camera:
                continue
            span = _clip((rec.start, rec.start + timedelta(seconds=rec.duration_s)), w)
            if span is None:
                continue
            rec_ids.append(rec.id)
            footage.append(span)
            for u in by_rec.get(rec.id, []):
                part = _clip(_unit_span(u, rec), w)
                if part is None:
                    continue
                if u.status == UnitStatus.DONE:
                    analysed.append(part)
                    if u.run_id is not None:
                        run_ids.add(u.run_id)
                elif u.status == UnitStatus.FAILED:
                    failed.append(FailedPart(part[0], part[1], u.id, u.error or "unknown"))
        done = _merge(analysed)
        failed_spans = [(f.start, f.end) for f in failed]
        used_runs |= run_ids
        windows.append(WindowCoverage(
            window=w, recordings=tuple(rec_ids), footage=_merge(footage),
            gaps=_minus([(w.start, w.end)], footage), analysed=done,
            failed=tuple(sorted(failed, key=lambda f: f.start)),
            not_analysed=_minus(_minus(footage, done), failed_spans),
            run_ids=tuple(sorted(run_ids))))
    run_infos = tuple(
        RunInfo(r.id, r.started_at, r.status.value, r.software_version,
                json.loads(r.models_json), json.loads(r.settings_json))
        for r in runs if r.id in used_runs)
    searches = tuple(
        SearchInfo(e.seq, e.at, e.user, dict(json.loads(e.details_json).get("query", {})),
                   int(json.loads(e.details_json).get("hits", 0)))
        for e in journal if e.action == "search" and e.case == case.ref)
    return CoverageReport(case, now, tuple(windows), run_infos, searches,
                          tuple(marks) if marks is not None else None)


# ------------------------------------------------------------------ render: JSON
def _spans(spans: Sequence[Span]) -> list[list[str]]:
    return [[iso(a), iso(b)] for a, b in spans]


def coverage_json(r: CoverageReport) -> dict[str, Any]:
    f = r.case.fields
    return {
        "case": f.ref, "basis": f.basis.value, "procedure_number": f.procedure_number,
        "authority": f.authority, "status": r.case.status.value,
        "produced_at": iso(r.produced_at),
        "windows": [{
            "camera": c.window.camera, "from": iso(c.window.start), "to": iso(c.window.end),
            "state": c.state, "recordings": list(c.recordings),
            "seconds": {"window": round(c.window_seconds, 3),
                        "footage": round(c.footage_seconds, 3),
                        "gaps": round(c.gap_seconds, 3),
                        "analysed": round(c.analysed_seconds, 3),
                        "failed": round(c.failed_seconds, 3),
                        "not_analysed": round(c.not_analysed_seconds, 3)},
            "footage": _spans(c.footage), "gaps": _spans(c.gaps),
            "analysed": _spans(c.analysed), "not_analysed": _spans(c.not_analysed),
            "failed": [{"from": iso(x.start), "to": iso(x.end), "unit": x.unit_id,
                        "error": x.error} for x in c.failed],
            "runs": list(c.run_ids)} for c in r.windows],
        "runs": [{"id": x.id, "started_at": iso(x.started_at), "status": x.status,
                  "software_version": x.software_version, "models": x.models,
                  "settings": x.settings} for x in r.runs],
        "searches": [{"seq": s.seq, "at": iso(s.at), "user": s.user, "query": s.query,
                      "hits": s.hits} for s in r.searches],
        "marks": None if r.marks is None else [
            {"track": m.track_id, "verdict": m.mark.value, "note": m.note, "by": m.by,
             "at": iso(m.at)} for m in r.marks],
        "notes": list(r.notes),
    }


# ------------------------------------------------------------------ render: HTML / PDF
_STATE_FR: Final = {"complete": "analysée en totalité", "partial": "analysée en partie",
                    "failed": "analyse en échec", "not-analysed": "non analysée",
                    "no-footage": "aucune image"}


def _hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600} h {s % 3600 // 60:02d} min {s % 60:02d} s"


def _span_text(spans: Sequence[Span], when: Callable[[datetime], str]) -> str:
    return "; ".join(f"{when(a)} → {when(b)}" for a, b in spans) or "—"


def _lines(r: CoverageReport, zone: str = "UTC") -> list[tuple[str, str]]:
    """The report as (kind, text) lines — ``h1``, ``h2``, ``p``, ``li`` — shared by the HTML
    and PDF renderers so both say the same. Times in the operator ``zone`` (IANA), each with
    its abbreviation (:func:`retrouve.wallclock.show_time`)."""

    def _when(t: datetime) -> str:
        return show_time(t, zone, "fr")

    f = r.case.fields
    out = [("h1", f"Rapport de couverture — dossier {f.ref}"),
           ("p", f"Réquisition art. {f.basis.value} CPP, procédure {f.procedure_number}, "
                 f"autorité requérante : {f.authority} {f.authority_service}".strip()),
           ("p", f"Objet : {f.purpose}. Statut du dossier : {r.case.status.value}. "
                 f"Rapport établi le {_when(r.produced_at)}. Heures données dans le fuseau "
                 f"{zone}."),
           ("h2", "Périmètre et couverture")]
    for c in r.windows:
        w = c.window
        out += [("h3", f"Caméra {w.camera} : {_when(w.start)} → {_when(w.end)} "
                       f"({_STATE_FR[c.state]})"),
                ("li", f"Durée de la fenêtre : {_hms(c.window_seconds)} ; images présentes : "
                       f"{_hms(c.footage_seconds)} ; sans images : {_hms(c.gap_seconds)}"),
                ("li", f"Analysé : {_hms(c.analysed_seconds)} "
                       f"({_span_text(c.analysed, _when)})"),
                ("li", f"Non analysé : {_hms(c.not_analysed_seconds)} "
                       f"({_span_text(c.not_analysed, _when)})"),
                ("li", f"Sans images (lacunes) : {_span_text(c.gaps, _when)}")]
        for x in c.failed:
            out.append(("li", f"Échec {_when(x.start)} → {_when(x.end)} "
                              f"(unité {x.unit_id}) : {x.error}"))
        out.append(("li", "Enregistrements : " + (", ".join(c.recordings) or "aucun")))
    out.append(("h2", "Analyses, modèles et réglages"))
    for run in r.runs:
        models = ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False, sort_keys=True)}"
                           for k, v in sorted(run.models.items()))
        out += [("h3", f"Analyse n° {run.id} du {_when(run.started_at)} ({run.status}, "
                       f"Retrouve {run.software_version})"),
                ("li", f"Modèles : {models or '—'}"),
                ("li", "Réglages : " + json.dumps(run.settings, ensure_ascii=False,
                                                  sort_keys=True))]
    if not r.runs:
        out.append(("p", "Aucune analyse."))
    out.append(("h2", "Recherches effectuées"))
    for s in r.searches:
        out.append(("li", f"{_when(s.at)}, {s.user} : {s.hits} résultat(s) — critères "
                          + json.dumps(s.query, ensure_ascii=False, sort_keys=True)))
    if not r.searches:
        out.append(("p", "Aucune recherche."))
    if r.marks is not None:
        out.append(("h2", "Résultats marqués"))
        for m in r.marks:
            out.append(("li", f"Piste {m.track_id} : {m.mark.value} par {m.by} le {_when(m.at)}"
                              + (f" — {m.note}" if m.note else "")))
        if not r.marks:
            out.append(("p", "Aucun résultat marqué."))
    out.append(("h2", "Avertissement"))
    out += [("p", n) for n in r.notes]
    return out


def coverage_html(r: CoverageReport, zone: str = "UTC") -> str:
    """A self-contained, printable HTML page (French), times in ``zone`` (IANA)."""
    body, in_list = [], False
    for kind, text in _lines(r, zone):
        if kind == "li" and not in_list:
            body.append("<ul>")
            in_list = True
        elif kind != "li" and in_list:
            body.append("</ul>")
            in_list = False
        body.append(f"<{kind}>{html.escape(text)}</{kind}>")
    if in_list:
        body.append("</ul>")
    title = html.escape(f"Rapport de couverture — {r.case.ref}")
    return ("<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:60em;"
            "margin:2em auto;line-height:1.4}h1{font-size:1.4em}h2{font-size:1.15em;"
            "border-bottom:1px solid #999}h3{font-size:1em}li{word-break:break-word}"
            "@media print{body{margin:0}}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _latin1(text: str) -> str:
    # The PDF's core fonts are Latin-1: French accents pass, other signs are replaced.
    text = text.replace("—", "-").replace("→", "->").replace("’", "'")
    return text.encode("latin-1", "replace").decode("latin-1")


def coverage_pdf(r: CoverageReport, zone: str = "UTC") -> bytes:
    """The same report as a PDF (fpdf2, A4, Helvetica), times in ``zone`` (IANA)."""
    from fpdf import FPDF  # the PDF library is only needed for this output

    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"Rapport de couverture - {r.case.ref}"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    sizes = {"h1": 15, "h2": 12.5, "h3": 11, "p": 10, "li": 9.5}
    for kind, text in _lines(r, zone):
        pdf.set_font("helvetica", "B" if kind.startswith("h") else "", sizes[kind])
        if kind in ("h2", "h3"):
            pdf.ln(2)
        pdf.multi_cell(0, sizes[kind] * 0.5, _latin1(("- " if kind == "li" else "") + text),
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
