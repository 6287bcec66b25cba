"""What a case's scope costs a search: the same queries with and without the scope.

Usage (an index made by ``bench_web_load.py --data-dir DIR``, which opens case BENCH)::

    PYTHONPATH=src python benchmarks/bench_scope_cost.py DIR [--repeat 12]

For each query kind of ``bench_web_load.search_params`` (plate pattern, object + colour,
camera + 2 h window), ``repeat`` searches through ``Searcher.search`` (the store query, no
journal), once without a scope and once inside case BENCH's windows; prints the median of all
but the first two (warm-up) and the maximum, in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_web_load as b
from retrouve.services import build_services
from retrouve.web.search_form import (
    SearchParams,
    build_query,
    load_parse_text,
    site_zone,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--repeat", type=int, default=12)
    args = ap.parse_args()
    svc = build_services(b.bench_settings(args.data_dir))
    scope = svc.cases.get("BENCH").scope
    zone = site_zone(svc)
    print(f"case BENCH: {len(scope)} windows; {svc.store.count_tracks()} tracks")
    for kind in ("plate pattern", "object+colour", "camera+time"):
        for label, sc in (("no scope", None), ("scope", scope)):
            rng = random.Random(5)  # the same queries with and without the scope
            times = []
            for _ in range(args.repeat):
                raw = b.search_params(kind, rng)
                sp = SearchParams(cameras=(raw["camera"],) if "camera" in raw else (),
                                  time_from=raw.get("from"), time_to=raw.get("to"),
                                  object=raw.get("object"), colour=raw.get("colour"),
                                  plate=raw.get("plate"))
                q = build_query(sp, svc, lang="en", default_zone=zone,
                                text_parser=load_parse_text)
                t0 = time.perf_counter()
                svc.searcher.search(q.query, q.order, scope=sc)
                times.append((time.perf_counter() - t0) * 1000)
            warm = times[2:] or times
            print(f"{kind:15s} {label:9s} p50 {statistics.median(warm):6.0f} ms  "
                  f"max {max(warm):6.0f} ms")
    svc.close()


if __name__ == "__main__":
    main()
