"""Run an evaluation dataset end to end: ingest → analyse → every query → scores.

Queries using keys or values this version cannot search yet are *reported* as unsupported
and left out of the means (never silently run without the criterion, which would inflate or
deflate a category).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from retrouve.analysis.runner import AnalysisReport, Progress
from retrouve.domain import Camera, Query, ScopeWindow
from retrouve.evaluation.dataset import (
    EvalDataset,
    LabelledQuery,
    check_queries,
    default_queries_path,
    load_dataset,
    load_queries,
    recording_starts,
)
from retrouve.evaluation.plate_reading import PlateAccuracy, PlateCase, summarise_plates
from retrouve.evaluation.scoring import (
    CategorySummary,
    QueryScore,
    category_of,
    hit_from_json,
    score_query,
    summarise,
    unsupported_keys,
)
from retrouve.legal.cases import Actor
from retrouve.legal.casework import resolve_actor
from retrouve.search.schema import hit_json
from retrouve.services import Services
from retrouve.store.cases import CaseRecord
from retrouve.store.db import TrackFilter

SUPPORTED_KEYS = frozenset(
    {"cameras", "object", "colour", "upper", "lower", "accessory", "plate"}
)
#: Object words of the eval format that this version cannot search (none left; kept so a
#: future format word is reported rather than silently searched without).
UNSUPPORTED_OBJECTS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UnsupportedSummary:
    """The unscored queries in short: how many, how many per category, which keys."""

    queries: int
    by_category: dict[str, int]
    keys: list[str]


@dataclass
class EvalOutcome:
    dataset: str
    scores: list[QueryScore] = field(default_factory=list)
    unsupported: list[tuple[str, str, list[str]]] = field(default_factory=list)
    hits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ingest_failures: list[tuple[str, str]] = field(default_factory=list)
    analysis: AnalysisReport | None = None
    plate_cases: list[PlateCase] = field(default_factory=list)

    @property
    def plate_accuracy(self) -> PlateAccuracy:
        return summarise_plates(self.plate_cases)

    @property
    def summaries(self) -> list[CategorySummary]:
        return summarise(self.scores)

    def unsupported_summary(self) -> UnsupportedSummary:
        """Counts of the unsupported queries, categories and keys sorted by name."""
        by_cat: dict[str, int] = {}
        keys: set[str] = set()
        for _, cat, k in self.unsupported:
            by_cat[cat] = by_cat.get(cat, 0) + 1
            keys.update(k)
        return UnsupportedSummary(len(self.unsupported), dict(sorted(by_cat.items())),
                                  sorted(keys))

    def hits_document(self) -> dict[str, Any]:
        """Every query's hits, as written by ``retrouve eval --hits-json``."""
        return {"queries": [{"id": k, "hits": v} for k, v in self.hits.items()]}

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "summary": [s.__dict__ for s in self.summaries],
            "queries": [s.__dict__ for s in self.scores],
            "unsupported": [{"id": i, "category": c, "keys": k}
                            for i, c, k in self.unsupported],
            "ingest_failures": [{"path": p, "error": e} for p, e in self.ingest_failures],
            "analysis": self.analysis.to_json() if self.analysis else None,
            "plate_reading": self.plate_accuracy.to_json(),
        }


def unsupported_of(query: dict[str, Any]) -> list[str]:
    keys = unsupported_keys(query, SUPPORTED_KEYS)
    if query.get("object") in UNSUPPORTED_OBJECTS:
        keys.append(f"object={query['object']}")
    return keys


def to_query(raw: dict[str, Any], limit: int) -> Query:
    return Query(
        cameras=tuple(raw.get("cameras", ())), object=raw.get("object"),
        colour=raw.get("colour"), upper=raw.get("upper"), lower=raw.get("lower"),
        accessory=raw.get("accessory"), plate=raw.get("plate"), limit=limit,
    )


def eval_case_ref(name: str) -> str:
    """The evaluation's case reference for dataset ``name`` (a valid case reference)."""
    return "EVAL-" + ("".join(c if c.isalnum() or c in "._-" else "-" for c in name)[:58]
                      or "dataset")


def footage_scope(services: Services, recording_ids: list[str]) -> tuple[ScopeWindow, ...]:
    """One window per recording, over its whole span (a second of margin at the end)."""
    windows = []
    for rec_id in recording_ids:
        rec = services.store.get_recording(rec_id)
        if rec is not None:
            windows.append(ScopeWindow(rec.camera_id, rec.start, rec.start + timedelta(
                seconds=max(rec.duration_s, 0.0) + 1.0)))
    return tuple(windows)


def prepare(services: Services, dataset: EvalDataset) -> list[tuple[str, str]]:
    """Register the dataset's cameras and recordings (idempotent). Returns ingest failures."""
    failures: list[tuple[str, str]] = []
    for cam in dataset.cameras:
        services.catalogue.add_camera(Camera(cam.id, cam.name, cam.timezone))
        for rec in cam.recordings:
            report = services.catalogue.ingest(
                str(rec.path), cam.id, start=rec.start.isoformat(), recording_id=rec.id
            )
            failures.extend(report.failed)
    return failures


def run_eval(
    services: Services,
    dataset_path: Path,
    queries_path: Path | None = None,
    progress: Progress | None = None,
    on_stage: Callable[[str], None] | None = None,
    limit: int = 50,
    actor: Actor | None = None,
) -> EvalOutcome:
    """Evaluate ``dataset_path`` with the services' data dir (analysis resumes if present),
    inside the case ``EVAL-<dataset>`` covering its recordings (created as ``actor``, by
    default the local user; analysis and searches journalled)."""
    dataset = load_dataset(dataset_path)
    queries = load_queries(queries_path or default_queries_path(dataset_path))
    check_queries(dataset, queries)
    outcome = EvalOutcome(dataset.name)
    say = on_stage or (lambda _msg: None)
    say(f"ingesting {sum(len(c.recordings) for c in dataset.cameras)} recordings")
    outcome.ingest_failures = prepare(services, dataset)
    say("analysing")
    ids = [r.id for c in dataset.cameras for r in c.recordings]
    actor = actor or resolve_actor(services.store, getpass.getuser())
    case = services.footage_case(actor, eval_case_ref(dataset.name),
                                 f"evaluation on the labelled dataset {dataset.name}",
                                 footage_scope(services, ids))
    outcome.analysis = services.analyse_case(actor, case, progress=progress,
                                             recording_ids=tuple(ids))
    say(f"running {len(queries)} queries")
    starts = recording_starts(dataset)
    for lq in queries:
        _run_query(services, lq, starts, limit, outcome, actor, case)
        if category_of(lq.query) == "plate-exact":
            outcome.plate_cases.extend(_plate_cases(services, lq, starts))
    return outcome


def _plate_cases(services: Services, lq: LabelledQuery,
                 starts: dict[str, Any]) -> list[PlateCase]:
    """The reads of vehicle tracks overlapping each expected sighting of a plate query."""
    truth = "".join(c for c in str(lq.query["plate"]).upper() if c.isalnum())
    cases = []
    for sighting in lq.expected:
        start = starts[sighting.camera]
        rows = services.store.find_tracks(
            TrackFilter(cameras=(sighting.camera,),
                        time_from=start + timedelta(seconds=sighting.t0),
                        time_to=start + timedelta(seconds=sighting.t1), with_plate=True),
            limit=100,
        )
        reads = tuple(r.plate.text for r in rows if r.plate is not None)
        cases.append(PlateCase(lq.id, truth, reads))
    return cases


def _run_query(services: Services, lq: LabelledQuery, starts: dict[str, Any], limit: int,
               outcome: EvalOutcome, actor: Actor, case: CaseRecord) -> None:
    missing = unsupported_of(lq.query)
    if missing:
        outcome.unsupported.append((lq.id, category_of(lq.query), missing))
        return
    result = services.search_query(to_query(lq.query, limit), actor, case)
    hits_json = [hit_json(h) for h in result.hits]
    outcome.hits[lq.id] = hits_json
    eval_hits = [hit_from_json(h, where=f"{lq.id} hit {i}") for i, h in enumerate(hits_json)]
    outcome.scores.append(score_query(lq, eval_hits, starts))
