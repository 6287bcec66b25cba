"""The one composition root: builds the store, models, accounts and executor from settings.

Everything else receives what it needs from here; tests inject fakes through the keyword
arguments of :func:`build_services` (injected fakes win). Models are not loaded here: the
run's description and the search capabilities read pack manifests only, and the models
themselves come from :mod:`retrouve.vision.models`' per-process holder on first use (the
analysis in each worker, the CLIP text encoder at the first free-text search).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from retrouve.analysis.executor import Executor, make_executor
from retrouve.analysis.packs import select_packs
from retrouve.analysis.runner import Analyser, AnalysisReport, Progress
from retrouve.catalogue.ingest import Catalogue
from retrouve.config import Settings
from retrouve.domain import LegalBasis, Query, ScopeWindow
from retrouve.errors import CaseError
from retrouve.legal import journal as journal_events
from retrouve.legal.accounts import Accounts
from retrouve.legal.cases import Actor, widens
from retrouve.legal.casework import CaseDesk, Journal
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
from retrouve.vision.models import (
    HOLDER,
    DetectorFactory,
    ModelHolder,
    ModelKey,
    PlateReaderFactory,
    run_description,
)
from retrouve.vision.packs import InstalledPack, PackRegistry, packs_dir


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

    @functools.cached_property
    def accounts(self) -> Accounts:
        """The operator accounts over this store and clock: built once, on first use (its
        constructor hashes a dummy password, which commands without accounts need not pay)."""
        return Accounts(self.store, self.clock)

    @functools.cached_property
    def journal(self) -> Journal:
        """The journal over this store (its signing key under the data dir, made on first
        use)."""
        return Journal(self.store, self.settings.data_dir, self.clock)

    @functools.cached_property
    def cases(self) -> CaseDesk:
        return CaseDesk(self.store, self.journal, self.clock)

    @functools.cached_property
    def retention(self) -> Retention:
        """The retention purge over this store, journal, settings and clock."""
        return Retention(self.store, self.journal, self.settings.retention, self.clock)

    def search(self, request: SearchRequest, *, lang: str, wording: Wording,
               default_zone: str | None = None,
               text_parser: Callable[[], ParseText | None] = load_parse_text,
               spread: int = 0, case: CaseRecord | None = None,
               actor: Actor | None = None) -> SearchOutcome:
        """Run an operator's search (:func:`retrouve.search.request.run_search`) with this
        services' searcher and clock.

        In a ``case`` (with its ``actor``, already allowed by ``cases.work``): only tracks
        inside the case's scope (the store query's filter), and the search is journalled
        (the structured query and the hit count); if the entry cannot be written the search
        fails and its hits are not returned.
        """
        outcome = run_search(self.searcher, request, clock=self.clock, lang=lang,
                             wording=wording, default_zone=default_zone,
                             text_parser=text_parser, spread=spread,
                             scope=case.scope if case is not None else None)
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
                     recording_ids: tuple[str, ...] = ()) -> AnalysisReport:
        """Analyse the footage inside ``case``'s scope only; journalled before (nothing is
        decoded unless the entry is written) and after (the run and its counts)."""
        with self.journal.action(actor, journal_events.AnalysisStarted(
                case=case.ref, scope=case.scope), f"journal an analysis in case {case.ref}"):
            pass
        report = self.analyser.analyse(list(recording_ids) or None, progress=progress,
                                       scope=case.scope)
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
    catalogue = Catalogue(store, clock, settings.filename_pattern, settings.start_format)
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
