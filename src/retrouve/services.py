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

import numpy as np

from retrouve.analysis.executor import Executor, make_executor
from retrouve.analysis.packs import select_packs
from retrouve.analysis.runner import Analyser
from retrouve.catalogue.ingest import Catalogue
from retrouve.config import Settings
from retrouve.legal.accounts import Accounts
from retrouve.search.engine import Capabilities, Searcher
from retrouve.search.request import (
    ParseText,
    SearchOutcome,
    SearchRequest,
    Wording,
    load_parse_text,
    run_search,
)
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

    def search(self, request: SearchRequest, *, lang: str, wording: Wording,
               default_zone: str | None = None,
               text_parser: Callable[[], ParseText | None] = load_parse_text,
               spread: int = 0) -> SearchOutcome:
        """Run an operator's search (:func:`retrouve.search.request.run_search`) with this
        services' searcher and clock."""
        return run_search(self.searcher, request, clock=self.clock, lang=lang, wording=wording,
                          default_zone=default_zone, text_parser=text_parser, spread=spread)

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
        executor_factory or (lambda: make_executor(settings.executor, settings.workers)),
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

