"""Cost of cases and journalling on a search: the same search without a case, inside a case's
scope, and inside a case with its journal entry (one SQLite write per search), then the time
to verify the whole journal. Nothing is asserted: it only measures and reports.

Run ``.venv/bin/python benchmarks/bench_journal.py [--searches N]``; see
``benchmarks/README.md``. The web load benchmark (``bench_web_load.py``) measures pages; the
web routes do not journal yet.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from retrouve.config import Settings
from retrouve.domain import Camera, LegalBasis, Role, ScopeWindow
from retrouve.legal.cases import Actor
from retrouve.search.request import CLI_WORDING, SearchRequest
from retrouve.services import Services, build_services
from retrouve.store.cases import CaseFields

NOW = datetime(2026, 1, 5, tzinfo=UTC)
T0 = datetime(2026, 1, 4, 9, tzinfo=UTC)


def median_ms(svc: Services, n: int, **kw: Any) -> float:
    request = SearchRequest(cameras=("cam1",))
    times = []
    for _ in range(n):
        t = time.perf_counter()
        svc.search(request, lang="en", wording=CLI_WORDING, **kw)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--searches", type=int, default=300, help="searches per variant")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    svc = build_services(Settings(data_dir=data, workers=1, executor="inline"))
    svc.store.add_camera(Camera("cam1", "cam1", "Europe/Paris"), NOW)
    actor = Actor("sam", Role.SUPERVISOR)
    svc.cases.create(actor, CaseFields("PV", LegalBasis.ART_60_1, "1", "OPJ", "", "", NOW,
                                       "benchmark"),
                     (ScopeWindow("cam1", T0, T0 + timedelta(hours=1)),), ("sam",))
    case = svc.cases.work(actor, "PV")
    plain = median_ms(svc, args.searches)
    scoped = median_ms(svc, args.searches, case=case)
    journalled = median_ms(svc, args.searches, case=case, actor=actor)
    t = time.perf_counter()
    verdict = svc.journal.verify()
    verify_ms = (time.perf_counter() - t) * 1000
    print(f"search median over {args.searches}: no case {plain:.2f} ms, in scope "
          f"{scoped:.2f} ms, in scope + journal entry {journalled:.2f} ms "
          f"(+{journalled - scoped:.2f} ms)")
    print(f"journal verify: {verdict.entries} entries, {verdict.checkpoints} checkpoints, "
          f"ok={verdict.ok}, {verify_ms:.0f} ms")
    svc.close()


if __name__ == "__main__":
    main()
