"""Where a search's time goes: the searches of ``bench_web_load.py``, in process, per kind.

Usage: python benchmarks/bench_search_breakdown.py DATA_DIR [--repeat 8] [--seed 1001]
           [--server] [--sql] [--profile [KIND ...]] [--kinds KIND ...] [--fingerprint FILE]

Runs the very searches of ``bench_web_load.baseline()`` (same seed, same order: the first two
per kind warm the caches, untimed) on an index written by ``bench_web_load.py`` and prints
p50 / max milliseconds per kind. ``--server``: as the web runs them, with the result count
(``count=True``) and inside the ``BENCH`` case's scope (``bench_web_load.open_bench_case``);
otherwise as ``baseline()`` does (no count, no case). ``--sql`` (SQLite) runs each SQL
statement of a timed search again on its own connection (memory-mapped, as the store's) and
prints the four slowest with their rows; ``--profile`` prints a cProfile table per kind.
``--fingerprint FILE`` writes every result (hits with every field, timeline, total, "at
least") as JSON, to check that a change returns the same results (compare two files).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench_web_load import BENCH_CASE, KINDS, bench_settings, search_params
from retrouve.search.engine import SearchResult
from retrouve.services import build_services
from retrouve.store.db import SQLITE_MMAP_BYTES
from retrouve.web.search_form import SearchParams, build_query, load_parse_text, site_zone


def fingerprint(res: SearchResult) -> dict[str, Any]:
    """Every field of a result a change must keep, as JSON values."""
    return {
        "hits": [
            [
                h.track_id,
                h.score,
                h.start.isoformat(),
                h.end.isoformat(),
                list(h.track_ids),
                list(h.plates),
                h.total_duration_s,
                sorted((k, *v) for k, v in h.attributes.items()),
                h.plate.text if h.plate else None,
                repr(h.plate_match),
                h.thumbnail,
                h.box_time.isoformat(),
                h.object,
                h.object_id,
            ]
            for h in res.hits
        ],
        "spread": [
            [s.track_id, s.camera, s.object, s.start.isoformat(), s.end.isoformat()]
            for s in res.spread
        ],
        "total": res.total,
        "at_least": res.total_at_least,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--repeat", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1001, help="bench_web_load's baseline seed")
    ap.add_argument("--server", action="store_true", help="count and case scope, as the web")
    ap.add_argument("--sql", action="store_true", help="time each statement alone (SQLite)")
    ap.add_argument("--profile", nargs="*", help="cProfile these kinds (none named: all)")
    ap.add_argument("--kinds", nargs="*", help="only these kinds (the others still drawn)")
    ap.add_argument("--fingerprint", type=Path, help="write every result to this JSON file")
    args = ap.parse_args()
    svc = build_services(bench_settings(args.data_dir))
    statements: list[tuple[str, Any]] = []

    def remember(_c: Any, _cur: Any, st: str, params: Any, _ctx: Any, _many: bool) -> None:
        statements.append((st, params))

    event.listen(svc.store.engine, "before_cursor_execute", remember)
    case = svc.store.get_case(BENCH_CASE) if args.server else None
    if args.server and case is None:
        sys.exit(f"no case {BENCH_CASE} in {args.data_dir}: run bench_web_load.py on it first")
    scope = case.scope if case is not None else None
    rng = random.Random(args.seed)
    zone = site_zone(svc)
    prints: dict[str, Any] = {}
    try:
        for kind in KINDS:
            times: list[float] = []
            wanted = not args.kinds or kind in args.kinds
            prof = (
                cProfile.Profile()
                if args.profile is not None and (not args.profile or kind in args.profile)
                else None
            )
            for i in range(args.repeat + 2):
                raw = search_params(kind, rng)  # drawn for every kind: the same searches
                if not wanted:
                    continue
                html = kind == "html /search"
                sp = SearchParams(
                    cameras=(raw["camera"],) if "camera" in raw else (),
                    time_from=raw.get("from"),
                    time_to=raw.get("to"),
                    object=raw.get("object"),
                    colour=raw.get("colour"),
                    upper=raw.get("upper"),
                    lower=raw.get("lower"),
                    plate=raw.get("plate"),
                    text=raw.get("text"),
                    limit=raw.get("limit", 20),
                    offset=raw.get("offset", 0),
                )
                statements.clear()
                if prof is not None and i >= 2:
                    prof.enable()
                t = time.perf_counter()
                built = build_query(
                    sp,
                    svc,
                    lang="fr" if html else "en",
                    default_zone=zone,
                    text_parser=load_parse_text,
                )
                res = svc.searcher.search(
                    built.query,
                    built.order,
                    spread=500 if html else 0,
                    scope=scope,
                    count=args.server,
                )
                ms = (time.perf_counter() - t) * 1000
                if prof is not None:
                    prof.disable()
                prints[f"{kind}#{i}"] = {"params": raw, **fingerprint(res)}
                if i < 2:
                    continue
                times.append(ms)
                if args.sql and svc.store.engine.dialect.name == "sqlite":
                    _replay(args.data_dir / "retrouve.db", kind, ms, raw, list(statements))
            if times:
                print(
                    f"{kind:20s} p50 {statistics.median(times):7.0f}  max {max(times):7.0f}"
                    f"  ms: {' '.join(f'{x:.0f}' for x in times)}",
                    flush=True,
                )
            if prof is not None and times:
                pstats.Stats(prof).sort_stats("tottime").print_stats(18)
    finally:
        svc.close()
    if args.fingerprint:
        args.fingerprint.write_text(json.dumps(prints, indent=0, default=str))


def _replay(
    db: Path, kind: str, ms: float, raw: dict[str, Any], statements: list[tuple[str, Any]]
) -> None:
    """Each statement of one search again, alone, with its rows fetched: the four slowest."""
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    parts = []
    for st, params in statements:
        t = time.perf_counter()
        rows = con.execute(st, params).fetchall()
        parts.append(((time.perf_counter() - t) * 1000, len(rows), " ".join(st.split())))
    con.close()
    print(
        f"  [{kind}] {ms:.0f} ms, {len(parts)} statements, "
        f"{sum(p[0] for p in parts):.0f} ms alone: {raw}"
    )
    for p in sorted(parts, reverse=True)[:4]:
        print(f"    {p[0]:7.1f} ms {p[1]:6d} rows  {p[2][:240]}")


if __name__ == "__main__":
    main()
