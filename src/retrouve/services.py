"""The one composition root: builds the store, models, accounts and executor from settings.

Everything else receives what it needs from here; tests inject fakes through the keyword
arguments of :func:`build_services` (injected fakes win). Models are not loaded here: the
run's description and the search capabilities read pack manifests only, and the models
themselves come from :mod:`retrouve.vision.models`' per-process holder on first use (the
analysis in each worker, the CLIP text encoder at the first free-text search).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from retrouve import __version__
from retrouve.analysis.executor import Executor, make_executor
from retrouve.analysis.packs import select_packs
from retrouve.analysis.runner import Analyser, AnalysisReport, Progress
from retrouve.catalogue.ingest import Catalogue
from retrouve.config import Settings
from retrouve.domain import CaseStatus, LegalBasis, Query, ScopeWindow
from retrouve.errors import CaseError, OutOfScope
from retrouve.export.bundle import BundleResult, Encoding, ExportContext, Redactor, build_bundle
from retrouve.export.exhibits import Exhibit, select_exhibits
from retrouve.export.redaction_plan import make_redactor
from retrouve.legal import journal as journal_events
from retrouve.legal.accounts import Accounts
from retrouve.legal.camera_register import CameraRegister
from retrouve.legal.cases import Actor, widens
from retrouve.legal.casework import CaseDesk, Journal
from retrouve.legal.exports import ExportDesk, make_spec, spec_windows
from retrouve.legal.purge import Retention
from retrouve.search.engine import Capabilities, Searcher, SearchResult
from retrouve.search.request import (
    ParseText,
    SearchOutcome,
    SearchRequest,
    Wording,
    load_parse_text,
    run_search,
)
from retrouve.store.cases import CaseFields, CaseRecord
from retrouve.store.db import Store
from retrouve.store.exports import ExportRecord
from retrouve.store.journal import EntryFilter
from retrouve.store.records import TrackDetail
from retrouve.vision.models import (
    HOLDER,
    DetectorFactory,
    ModelHolder,
    ModelKey,
    PlateReaderFactory,
    run_description,
)
from retrouve.vision.packs import InstalledPack, PackRegistry, packs_dir
from retrouve.wallclock import site_zone


def flat_settings(settings: Settings) -> dict[str, Any]:
    """``settings`` as dotted names → JSON values, without ``data_dir``."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}{k}.", v)
        else:
            out[prefix[:-1]] = value

    dumped = settings.model_dump(mode="json")
    dumped.pop("data_dir", None)
    walk("", dumped)
    return out


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    store: Store
    catalogue: Catalogue
    analyser: Analyser
    searcher: Searcher
    clock: Callable[[], datetime]
    packs: PackRegistry
    #: The redacted-copy step of exports; None: the built-in one
    #: (``export/redaction_plan.py``: faces by yuface, the other vehicles' plates).
    redactor: Redactor | None = None

    @functools.cached_property
    def accounts(self) -> Accounts:
        """The operator accounts over this store and clock: built once, on first use (its
        constructor hashes a dummy password, which commands without accounts need not pay)."""
        return Accounts(self.store, self.clock, journal=self.journal)

    @functools.cached_property
    def journal(self) -> Journal:
        """The journal over this store (its signing key under the data dir, made on first
        use)."""
        return Journal(self.store, self.settings.data_dir, self.clock)

    @functools.cached_property
    def cases(self) -> CaseDesk:
        return CaseDesk(self.store, self.journal, self.clock)

    @functools.cached_property
    def cameras(self) -> CameraRegister:
        """Camera registration and edits, journalled (``legal.camera_register``)."""
        return CameraRegister(self.store, self.catalogue, self.journal, self.clock)

    @functools.cached_property
    def retention(self) -> Retention:
        """The retention purge over this store, journal, settings and clock."""
        return Retention(self.store, self.journal, self.settings.retention, self.clock)

    def set_case_status(self, actor: Actor, ref: str, status: CaseStatus) -> CaseRecord:
        """Change case ``ref``'s status (``CaseDesk.set_status``: checked, journalled); on
        closing, purge at once the derived data the case no longer holds
        (``Retention.purge_case``: certified and journalled per recording, as ``actor``).
        The status commits first: a failed purge leaves the case closed and the scheduled
        run purges the same recordings later."""
        case = self.cases.set_status(actor, ref, status)
        if status is CaseStatus.CLOSED:
            self.retention.purge_case(actor, ref)
        return case

    def journal_settings(self, user: str, role: str) -> bool:
        """Journal the settings in force if they differ from those last journalled
        (``settings-change``: their digest and each changed setting's old and new value;
        ``data_dir`` is left out, it names the store itself). Settings live in files and the
        environment, so a change is seen by the first command or server start after it.
        True when an entry was written."""
        now = flat_settings(self.settings)
        digest = hashlib.sha256(json.dumps(now, sort_keys=True).encode()).hexdigest()
        last = self.store.journal_page(
            EntryFilter(action=journal_events.SettingsChanged.name), limit=1)
        before: dict[str, Any] = {}
        if last:
            details = json.loads(last[0].details_json)
            if details.get("digest") == digest:
                return False
            before = details.get("settings", {})
        changed = tuple((k, before.get(k), now.get(k)) for k in sorted(set(before) | set(now))
                        if before.get(k) != now.get(k))
        event = journal_events.SettingsChanged(digest=digest, changed=changed, settings=now)
        with self.journal.action_as(user, role, event, "journal the settings in force"):
            pass
        return True

    def operator_zone(self) -> str:
        """The operator time zone (IANA): ``site.time_zone``, else the zone all registered
        cameras share, else Europe/Paris (:func:`retrouve.wallclock.site_zone`). Read per
        call, so a camera registered since is taken into account."""
        configured = self.settings.site.time_zone
        if configured:
            return configured
        return site_zone(None, (c.timezone for c in self.store.list_cameras()))

    @functools.cached_property
    def exports(self) -> ExportDesk:
        """Export requests and approvals (``export.require_approval``), journalled."""
        return ExportDesk(self.store, self.journal, self.cases, self.clock,
                          self.settings.export.require_approval)

    def export_request(self, actor: Actor, ref: str, tracks: tuple[int, ...] = (),
                       windows: tuple[ScopeWindow, ...] = (), redact: bool = False
                       ) -> ExportRecord:
        """Ask for an export of case ``ref``: its tracks marked relevant, plus ``tracks``
        and ``windows``; checked now (``OutOfScope``, ``ExportError``), then recorded and
        journalled (approved at once when the policy needs no second person)."""
        case = self.cases.work(actor, ref)
        relevant = tuple(self.store.relevant_tracks(case.id))
        spec = make_spec(tuple(dict.fromkeys(relevant + tracks)), tracks, windows, redact)
        self._exhibits(case, spec)
        return self.exports.request(actor, case, spec)

    def _exhibits(self, case: CaseRecord, spec: dict[str, Any]) -> list[Exhibit]:
        details = []
        for track_id in spec["tracks"]:
            detail = (self.store.track_detail(track_id)
                      if self.store.get_track(track_id, scope=case.scope) else None)
            if detail is None:
                raise OutOfScope(f"track {track_id} is not in the scope of case {case.ref}")
            details.append(detail)
        cams = {w.camera for w in case.scope}
        recordings = [e.recording for e in self.store.list_recordings()
                      if e.recording.camera_id in cams]
        return select_exhibits(case.scope, details, spec_windows(spec), recordings,
                               self.settings.export.margin_s)

    def _others(self, case: CaseRecord, exhibit: Exhibit) -> list[TrackDetail]:
        """The tracks of ``exhibit``'s camera overlapping its span, inside ``case``'s scope
        (the other vehicles whose plates the redacted copy blurs)."""
        found = self.store.track_summaries(exhibit.camera_id, exhibit.utc_from,
                                           exhibit.utc_to)
        return [d for t in found
                if (d := self.store.track_detail(t.id, scope=case.scope)) is not None]

    def export_build(self, actor: Actor, export_id: int, out: Path
                     ) -> tuple[ExportRecord, BundleResult]:
        """Build the bundle of an approved request into ``out``, sealed with the
        installation's key, and journal it (redacted copies by :attr:`redactor` when the
        request asked for them)."""
        rec, case = self.exports.ready(actor, export_id)
        exhibits = self._exhibits(case, rec.spec)
        redactor = ((self.redactor or make_redactor(self.settings.redaction,
                                                    functools.partial(self._others, case)))
                    if rec.spec.get("redact") else None)
        f = case.fields
        runs = {r.id: {"started_at": r.started_at.isoformat(), "status": r.status.value,
                       "software_version": r.software_version,
                       "models": json.loads(r.models_json),
                       "settings": json.loads(r.settings_json)} for r in self.store.list_runs()}
        track_runs = {e.track.id: run for e in exhibits if e.track is not None
                      and (run := self.store.track_run_id(e.track.id)) is not None}
        searches = [{"at": r.at.isoformat(), "user": r.user,
                     "query": json.loads(r.details_json).get("query", {}),
                     "hits": json.loads(r.details_json).get("hits")}
                    for r in self.store.journal_entries(case=case.ref) if r.action == "search"]
        cameras = {c: self.store.require_camera(c) for c in {e.camera_id for e in exhibits}}
        ctx = ExportContext(
            export_id=rec.id,
            case={"ref": f.ref, "basis": f.basis.value, "procedure_number": f.procedure_number,
                  "prosecutor_authorisation": f.prosecutor_authorisation,
                  "purpose": f.purpose},
            authority={"name": f.authority, "service": f.authority_service,
                       "contact": f.authority_contact},
            requested_by=rec.requested_by, requested_at=rec.requested_at,
            approved_by=rec.approved_by, approved_at=rec.approved_at,
            produced_at=self.clock(), software_version=__version__, cameras=cameras,
            runs=runs, track_runs=track_runs, searches=searches,
            notes={m.track_id: m.note for m in self.store.case_marks(case.id)})
        key = self.journal.key
        enc = Encoding(self.settings.export.working_crf, self.settings.export.working_preset)
        result = build_bundle(ctx, exhibits, out, key.sign_raw,
                              key.public_pem().encode("ascii"), encoding=enc,
                              redactor=redactor)
        done = self.exports.produced(actor, rec, case, str(result.path), result.sha256,
                                     len(exhibits))
        return done, result

    def search(self, request: SearchRequest, *, lang: str, wording: Wording,
               default_zone: str | None = None,
               text_parser: Callable[[], ParseText | None] = load_parse_text,
               spread: int = 0, case: CaseRecord | None = None,
               actor: Actor | None = None, count: bool = False) -> SearchOutcome:
        """Run an operator's search (:func:`retrouve.search.request.run_search`) with this
        services' searcher and clock.

        In a ``case`` (with its ``actor``, already allowed by ``cases.work``): only tracks
        inside the case's scope (the store query's filter), and the search is journalled
        (the structured query and the hit count); if the entry cannot be written the search
        fails and its hits are not returned. Times without an offset are read in the
        request's ``operator_zone``, else ``default_zone``, else :meth:`operator_zone`.
        ``count``: the result carries the total over all pages (``SearchResult.total``).
        """
        outcome = run_search(self.searcher, request, clock=self.clock, lang=lang,
                             wording=wording,
                             default_zone=default_zone or self.operator_zone(),
                             text_parser=text_parser, spread=spread,
                             scope=case.scope if case is not None else None, count=count)
        if case is not None and actor is not None:
            self._journal_search(actor, case, outcome.built.query, outcome.result)
        return outcome

    def search_query(self, query: Query, actor: Actor, case: CaseRecord,
                     order: str = "score") -> SearchResult:
        """A structured query (demo, evaluation) inside ``case``'s scope, journalled."""
        result = self.searcher.search(query, order, scope=case.scope)
        self._journal_search(actor, case, query, result)
        return result

    def _journal_search(self, actor: Actor, case: CaseRecord, query: Query,
                        result: SearchResult) -> None:
        event = journal_events.SearchRun(
            case=case.ref, query=query_json(query), hits=len(result.hits),
            track_ids=tuple(h.track_id for h in result.hits))
        with self.journal.action(actor, event, f"journal a search in case {case.ref}"):
            pass

    def footage_case(self, actor: Actor, ref: str, purpose: str,
                     scope: tuple[ScopeWindow, ...]) -> CaseRecord:
        """The case ``ref`` that the demo or an evaluation works in, created (assigned to
        ``actor``) when missing; raises ``CaseError`` if it exists without covering
        ``scope``."""
        found = self.store.get_case(ref)
        if found is None:
            self.cases.create(actor, CaseFields(
                ref=ref, basis=LegalBasis.ART_60_1, procedure_number=ref,
                authority=f"{actor.name} (local test footage)", authority_service="retrouve",
                authority_contact="", received_at=self.clock(), purpose=purpose),
                scope, (actor.name,))
        elif widens(found.scope, scope):
            raise CaseError(f"case {ref} exists but does not cover this footage: amend it "
                            "(`retrouve cases amend`) or use another data dir")
        return self.cases.work(actor, ref)

    def analyse_case(self, actor: Actor, case: CaseRecord, progress: Progress | None = None,
                     recording_ids: tuple[str, ...] = (),
                     started: Callable[[int], None] | None = None) -> AnalysisReport:
        """Analyse the footage inside ``case``'s scope only; journalled before (nothing is
        decoded unless the entry is written) and after (the run and its counts).
        ``progress`` and ``started`` as in :meth:`Analyser.analyse`."""
        with self.journal.action(actor, journal_events.AnalysisStarted(
                case=case.ref, scope=case.scope), f"journal an analysis in case {case.ref}"):
            pass
        report = self.analyser.analyse(list(recording_ids) or None, progress=progress,
                                       scope=case.scope, started=started)
        with self.journal.action(actor, journal_events.AnalysisFinished(
                case=case.ref, run_id=report.run_id, report=report.to_json()),
                f"journal an analysis in case {case.ref}"):
            pass
        return report

    def close(self) -> None:
        self.store.close()


def build_services(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    executor_factory: Callable[[], Executor] | None = None,
    detector_factory: DetectorFactory | None = None,
    plate_reader_factory: PlateReaderFactory | None = None,
    models: dict[str, str] | None = None,
) -> Services:
    """Build every service for ``settings``; keyword arguments replace the defaults.

    ``detector_factory`` / ``plate_reader_factory`` replace the default detector and plate
    reader in every analysed unit; ``models`` replaces the run's model description.
    """
    clock = clock or utc_now
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = PackRegistry(packs_dir(settings))
    if settings.analysis.use_packs:
        # Pin the installed packs into the settings the workers get (and the run records).
        settings = settings.model_copy(update={"analysis": settings.analysis.model_copy(
            update={"packs": select_packs(registry)})})
    store = Store(settings.db_url, settings.blob_dir)
    catalogue = Catalogue(store, clock, settings.filename_pattern, settings.start_format,
                          max_pixels=settings.max_pixels)
    analyser = Analyser(
        store, settings,
        executor_factory or (lambda: make_executor(settings.executor, settings.workers,
                                                     settings.ray_address)),
        clock,
        models or run_description(settings.analysis, detector_factory),
        detector_factory,
        plate_reader_factory,
    )
    searcher = Searcher(store, capabilities(settings))
    return Services(settings, store, catalogue, analyser, searcher, clock, registry)


def capabilities(settings: Settings, holder: ModelHolder | None = None) -> Capabilities:
    """What searches the selected packs allow. Reads manifests only: the embedder is taken
    from ``holder`` (the process's models) at the first free-text search."""
    key = ModelKey.of(settings.analysis)
    if key.embedder_pack is None:
        return Capabilities(make_model=key.make_model_pack is not None)
    kind = InstalledPack.load(Path(key.embedder_pack)).name
    models = holder or HOLDER

    def embed_text(text: str) -> np.ndarray | None:
        embedder = models.embedder(key)
        assert embedder is not None  # the key names an embedder pack
        return embedder.embed_text(text)

    return Capabilities(make_model=key.make_model_pack is not None, text_kind=kind,
                        embed_text=embed_text)



def query_json(query: Any) -> dict[str, Any]:
    """A query's set fields as JSON values (times ISO-8601), for the journal."""
    out: dict[str, Any] = {}
    for name, value in vars(query).items():
        if value is None or value == () or value == "":
            continue
        out[name] = value.isoformat() if isinstance(value, datetime) else (
            list(value) if isinstance(value, tuple) else value)
    return out
