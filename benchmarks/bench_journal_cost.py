"""Cost of the journal entry on a search, on a synthetic index: the store query alone against
the same query with its journal entry, for the same queries, in one run.

Usage:
    python benchmarks/bench_journal_cost.py [--tracks 100000] [--work-dir DIR] [--repeat 40]
        [--db-url URL] [--cameras 20]

The index is :mod:`retrouve.evaluation.synthetic`'s (``bench_search_scale.py``'s
``open_index``: ``--work-dir/idx-N`` is reused when it already holds an index of that size,
else generated, ~390 s at 100 k tracks on 2 cores). A case ``JCOST`` is opened over the
``--cameras`` busiest cameras for the index's 30 days and assigned to one operator. Then, for
each query kind of ``bench_search_scale.py`` (values drawn afresh on every repetition), the
same query is timed twice, in alternating order (so that a load change on the shared machine
hits both alike):

- **query alone**: ``services.searcher.search(query, scope=case.scope)``, the ranked store
  query inside the case's scope, nothing written;
- **query + journal**: ``services.search_query(query, actor, case)``, what every search in a
  case runs: the same store query, then its ``SearchRun`` entry (query, hit count, track ids,
  hash chain, signed checkpoint when due) appended in its own write transaction; the search
  fails if the entry cannot be written.

Prints p50/p95 (ms, wall clock, ``time.perf_counter``) of each, the median of the paired
differences, the journal entries written, a ``journal verify`` of the whole journal, and the
1-minute load average before and after. Nothing is asserted. The journal entries are really
written into the index's journal (a throw-away copy is advised).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func

from retrouve.domain import LegalBasis, Role, ScopeWindow
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.store import schema as s
from retrouve.store.cases import CaseFields, CaseRecord

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search_scale import open_index, queries

CASE = "JCOST"
OPERATOR = "jcost-operator"
#: The synthetic index's 30 days (``bench_search_scale.NOW`` is its last day).
DAYS_FROM = datetime(2026, 1, 1, tzinfo=UTC)
DAYS_TO = datetime(2026, 1, 31, tzinfo=UTC)


def open_case(svc: Services, cameras: int) -> tuple[Actor, CaseRecord]:
    """Case ``CASE`` over the ``cameras`` busiest cameras × 30 days, worked by ``OPERATOR``."""
    chief = Actor("jcost-supervisor", Role.SUPERVISOR)
    actor = Actor(OPERATOR, Role.OPERATOR)
    if svc.accounts.get(OPERATOR) is None:
        svc.accounts.add(OPERATOR, "operator", "journal-cost-password")
    if svc.store.get_case(CASE) is None:
        with svc.store.engine.connect() as conn:
            busy = [r[0] for r in conn.execute(
                s.tracks.select().with_only_columns(s.tracks.c.camera_id)
                .group_by(s.tracks.c.camera_id).order_by(func.count().desc()).limit(cameras))]
        scope = tuple(ScopeWindow(c, DAYS_FROM, DAYS_TO) for c in busy)
        svc.cases.create(chief, CaseFields(
            ref=CASE, basis=LegalBasis.ART_60_1, procedure_number=CASE, authority="bench",
            authority_service="bench", authority_contact="", received_at=datetime.now(UTC),
            purpose="journal cost benchmark"), scope, (OPERATOR,))
    return actor, svc.cases.work(actor, CASE)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--work-dir", type=Path, default=None)
    ap.add_argument("--db-url", default=None)
    ap.add_argument("--repeat", type=int, default=40, help="timed pairs per query kind")
    ap.add_argument("--cameras", type=int, default=20, help="cameras in the case's scope")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-jcost-"))
    load0 = os.getloadavg()
    svc, gen_s = open_index(args.tracks, work, args.db_url)
    try:
        actor, case = open_case(svc, args.cameras)
        entries0 = svc.journal.verify().entries
        rng = random.Random(args.seed)
        print(f"{svc.store.count_tracks():,} tracks "
              f"({'reused' if gen_s is None else f'generated in {gen_s:.0f} s'}), "
              f"{svc.store.engine.url.get_backend_name()}, case {CASE} over {args.cameras} "
              f"cameras × 30 days, {args.repeat} pairs per kind, load avg before "
              f"{load0[0]:.2f}")
        print(f"{'query':18} {'alone p50':>9} {'p95':>7} │ {'+journal p50':>12} {'p95':>7} │ "
              f"{'diff p50':>8} {'p95':>7} {'hits':>5}")
        all_a: list[float] = []
        all_b: list[float] = []
        all_d: list[float] = []
        for name, make in queries(svc, rng).items():
            warm = make()
            svc.searcher.search(warm, scope=case.scope)
            svc.search_query(warm, actor, case)
            a: list[float] = []
            b: list[float] = []
            hits: list[int] = []
            for i in range(args.repeat):
                q = make()
                for journalled in ((False, True) if i % 2 == 0 else (True, False)):
                    t0 = time.perf_counter()
                    if journalled:
                        res = svc.search_query(q, actor, case)
                        b.append((time.perf_counter() - t0) * 1000)
                    else:
                        res = svc.searcher.search(q, scope=case.scope)
                        a.append((time.perf_counter() - t0) * 1000)
                hits.append(len(res.hits))
            d = [y - x for x, y in zip(a, b, strict=True)]
            all_a += a
            all_b += b
            all_d += d
            print(f"{name:18} {statistics.median(a):9.1f} {p95(a):7.1f} │ "
                  f"{statistics.median(b):12.1f} {p95(b):7.1f} │ {statistics.median(d):8.2f} "
                  f"{p95(d):7.2f} {int(statistics.median(hits)):5d}")
        print(f"{'all kinds':18} {statistics.median(all_a):9.1f} {p95(all_a):7.1f} │ "
              f"{statistics.median(all_b):12.1f} {p95(all_b):7.1f} │ "
              f"{statistics.median(all_d):8.2f} {p95(all_d):7.2f}")
        t0 = time.perf_counter()
        verdict = svc.journal.verify()
        verify_ms = (time.perf_counter() - t0) * 1000
        print(f"journal: {verdict.entries - entries0} entries written in this run; verify of "
              f"all {verdict.entries} entries, {verdict.checkpoints} checkpoints: "
              f"ok={verdict.ok}, {verify_ms:.0f} ms; load avg after "
              f"{os.getloadavg()[0]:.2f}")
    finally:
        svc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
