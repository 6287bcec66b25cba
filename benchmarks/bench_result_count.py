"""What the results page's total ("Résultats 1–20 sur 57") costs on a large index.

Usage: python benchmarks/bench_result_count.py [--tracks N] [--repeat R] [--data-dir DIR]

Generates ``bench_search.py``'s index (default 100 000 tracks over 100 cameras and 30 days,
one track in five a fragment of the previous one's object), then, for each of its queries in
both orders, times the page search alone (``Searcher.search(count=False)``) and with the
total (``count=True``: one more ``COUNT(DISTINCT object)`` over the same filter, see
``Store.count_objects``), and the count query alone. Prints median and p95 milliseconds and
the total found; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench_search import QUERIES, populate
from retrouve.config import Settings
from retrouve.search.engine import to_filter
from retrouve.services import build_services


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 milliseconds of ``repeat`` calls of ``fn`` (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    tmp = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="retrouve-bench-count-")
        data_dir = Path(tmp.name)
    t = time.perf_counter()
    populate(data_dir, args.tracks)
    print(f"generated {args.tracks:,} tracks in {time.perf_counter() - t:.1f} s")
    svc = build_services(Settings(data_dir=data_dir, workers=1, executor="inline"))
    print(
        f"{'query':30} {'order':5} {'total':>6} {'page p50':>9} {'+total p50':>10} "
        f"{'count p50':>9} {'page p95':>9} {'+total p95':>10}"
    )
    for name, q in QUERIES.items():
        for order in ("score", "time"):
            query = replace(q, limit=20)
            total = svc.searcher.search(query, order, count=True).total
            page = _timed(lambda: svc.searcher.search(query, order), args.repeat)  # noqa: B023
            both = _timed(
                lambda: svc.searcher.search(query, order, count=True),  # noqa: B023
                args.repeat,
            )
            flt = to_filter(query)
            alone = _timed(lambda: svc.store.count_objects(flt), args.repeat)  # noqa: B023
            print(
                f"{name:30} {order:5} {total:6d} {page[0]:9.1f} {both[0]:10.1f} "
                f"{alone[0]:9.1f} {page[1]:9.1f} {both[1]:10.1f}"
            )
    svc.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
