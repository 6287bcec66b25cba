"""Search latency against index size, on a synthetic index written like a real one.

Usage:
    python benchmarks/bench_search_scale.py --sizes 100000 300000 [--repeat 30]
        [--db-url URL] [--work-dir DIR] [--out DIR]

For each size, generates (or reuses, when ``--work-dir`` already holds it) an index of that
many tracks with :mod:`retrouve.evaluation.synthetic` (1,000 cameras, 30 days, through the
store's write path), then times typical operator queries through the real ``Searcher``:
colour + type, person clothes, plate prefix, plate wildcard, camera + 2 h window, and free
text (parsed by ``search.text_query`` then searched; the parse is in the time). Each query is
run ``--repeat`` times with varying values (colours, plates, cameras, windows drawn from the
index), after one warm-up run; the table gives p50/p95 in milliseconds.

``--db-url`` (with ``{n}`` for the size, e.g. ``postgresql+psycopg://…/bench_{n}``): the
database, which must be empty or already hold that size's index; default SQLite files in the
work dir. Writes ``search_scale.csv`` and a plot of p95 latency against size into ``--out``:
``search_scale.png`` when matplotlib is installed, else ``search_scale.svg`` (drawn by
``benchmarks/svg_plot.py``, standard library only; it also merges several CSVs, e.g. SQLite
and PostgreSQL runs).

Generation uses the bulk writer (``generate(..., bulk=True)``: the rows of the store's write
path, in large batches); ``--store-path`` writes one unit per store transaction instead.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func

from retrouve.config import Settings
from retrouve.domain import COLOURS, Query, RunStatus
from retrouve.evaluation.synthetic import SyntheticSpec, generate
from retrouve.search.text_query import parse_text
from retrouve.services import Services, build_services
from retrouve.store import schema as s

#: The operator's "now": the index's last day, so "hier soir" falls inside the 30 days.
NOW = datetime(2026, 1, 30, 16, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
TEXTS = ("voiture rouge", "camionnette blanche", "homme haut rouge pantalon bleu",
         "white van yesterday afternoon", "femme avec un sac à dos", "moto noire hier soir",
         "voiture grise plaque AB*", "bus")


def open_index(n: int, work: Path, db_url: str | None, bulk: bool = True
               ) -> tuple[Services, float | None]:
    """Services on the index of ``n`` tracks, generating it if the database is empty
    (``bulk``: with the bulk writer, the same rows as the store's write path, faster).
    Returns the generation time in seconds (None when reused)."""
    data = work / f"idx-{n}"
    url = db_url.format(n=n) if db_url else None
    svc = build_services(Settings(data_dir=data, workers=1, executor="inline",
                                  database_url=url))
    if svc.store.count_tracks():
        # Reused only when its generation finished (the synthetic run is marked done).
        if not any(r.software_version == "synthetic" and r.status == RunStatus.DONE
                   for r in svc.store.list_runs()):
            svc.close()
            raise SystemExit(f"{url or data}: a partial or foreign index; "
                             "delete it or use an empty database")
        return svc, None
    t0 = time.perf_counter()
    step = [max(1, n // 10)]

    def progress(done: int, total: int) -> None:
        if done >= step[0]:
            step[0] += max(1, n // 10)
            print(f"  generating {n}: {done}/{total} ({time.perf_counter() - t0:.0f} s)",
                  file=sys.stderr)

    generate(svc.store, SyntheticSpec(tracks=n), NOW, progress, bulk=bulk)
    return svc, time.perf_counter() - t0


def load_average() -> str:
    """The 1-minute load average (``/proc/loadavg``), "?" where there is none."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def queries(svc: Services, rng: random.Random) -> dict[str, Callable[[], Query]]:
    """Query makers: each call draws new values from what the index holds."""
    with svc.store.engine.connect() as conn:
        plates = [r[0] for r in conn.execute(
            s.plate_reads.select().with_only_columns(s.plate_reads.c.text)
            .where(s.plate_reads.c.grammar == "fr-siv").limit(2000))]
        busy = [r[0] for r in conn.execute(
            s.tracks.select().with_only_columns(s.tracks.c.camera_id)
            .group_by(s.tracks.c.camera_id).order_by(func.count().desc()).limit(20))]
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def window() -> Query:
        # One of the 20 busiest cameras, 2 h in the day (7–19 h): where a case looks.
        t = start + timedelta(days=rng.randrange(30), hours=rng.randrange(7, 18))
        return Query(cameras=(rng.choice(busy),), time_from=t, time_to=t + timedelta(hours=2))

    def wildcard() -> Query:
        p = rng.choice(plates)  # AB123CD → A?-12?-*: a witness's partial reading
        return Query(plate=f"{p[0]}?{p[2:4]}?*")

    def text() -> Query:
        return parse_text(rng.choice(TEXTS), now=NOW, tz=PARIS).to_query(Query())

    return {
        "colour+type": lambda: Query(object=rng.choice(("car", "van", "truck")),
                                     colour=rng.choice(COLOURS)),
        "person clothes": lambda: Query(object="person", upper=rng.choice(COLOURS),
                                        lower=rng.choice(COLOURS)),
        "plate prefix": lambda: Query(plate=rng.choice(plates)[:3] + "*"),
        "plate full": lambda: Query(plate=rng.choice(plates)),
        "plate wildcard": wildcard,
        "camera+2h window": window,
        "free text": text,
    }


def measure(svc: Services, repeat: int, seed: int = 7) -> dict[str, tuple[float, float, int]]:
    """p50, p95 (ms) and the median hit count per query kind."""
    rng = random.Random(seed)
    out = {}
    for name, make in queries(svc, rng).items():
        svc.searcher.search(make())  # warm-up: caches, SQLite pages
        times, hits = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            q = make()
            res = svc.searcher.search(q)
            times.append((time.perf_counter() - t0) * 1000)
            hits.append(len(res.hits))
        cuts = statistics.quantiles(times, n=20, method="inclusive")
        out[name] = (statistics.median(times), cuts[18], int(statistics.median(hits)))
    return out


def plot(rows: list[dict[str, object]], out: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        # Not a dependency: the standard-library SVG plotter draws the same figure.
        from svg_plot import render

        svg = out / "search_scale.svg"
        svg.write_text(render([{k: str(v) for k, v in r.items()} for r in rows],
                              "Search p95 latency against index size"))
        return f"plot (matplotlib not installed): {svg}"
    fig, ax = plt.subplots(figsize=(7, 4.5))
    runs = {(str(r["query"]), str(r["backend"]).split(" (")[0]) for r in rows}
    for name, run in sorted(runs):
        mine = [r for r in rows if r["query"] == name
                and str(r["backend"]).split(" (")[0] == run]
        ax.plot([int(str(r["tracks"])) for r in mine], [float(str(r["p95_ms"])) for r in mine],
                marker="o", label=f"{name}, {run}",
                linestyle="--" if run.startswith("postgresql") else "-")
    ax.set_xscale("log")
    ax.set_xlabel("tracks in the index")
    ax.set_ylabel("p95 latency (ms)")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path = out / "search_scale.png"
    fig.savefig(path, dpi=120)
    return f"plot: {path}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--db-url", default=None)
    ap.add_argument("--work-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("."))
    ap.add_argument("--label", default="",
                    help="a tag after the date in each row's backend label (the code measured)")
    ap.add_argument("--merge", type=Path, nargs="*", default=[],
                    help="earlier search_scale.csv files whose rows are kept in the CSV and "
                         "plot written (their labels tell the runs apart)")
    ap.add_argument("--store-path", action="store_true",
                    help="generate through Store.save_unit_result, one unit at a time "
                         "(the same rows as the default bulk writer, ~4x slower)")
    args = ap.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    for old in args.merge:
        with old.open(newline="") as f:
            rows += list(csv.DictReader(f))
    for n in args.sizes:
        svc, gen_s = open_index(n, work, args.db_url, bulk=not args.store_path)
        try:
            stored = svc.store.count_tracks()
            note = f"generated in {gen_s:.0f} s" if gen_s is not None else "reused"
            print(f"\n{n} tracks requested, {stored} stored ({note}), "
                  f"{svc.store.engine.url.get_backend_name()}")
            print(f"{'query':18} {'p50 ms':>8} {'p95 ms':>8} {'hits':>5}")
            before = load_average()
            measured = measure(svc, args.repeat)
            # Other jobs share the machine: each row says the load it was measured under.
            label = " ".join(x for x in (svc.store.engine.url.get_backend_name(),
                                         datetime.now(UTC).date().isoformat(), args.label) if x)
            label += f" (load {before}-{load_average()})"
            print(f"  {label}")
            for name, (p50, p95, hits) in measured.items():
                print(f"{name:18} {p50:8.1f} {p95:8.1f} {hits:5d}")
                rows.append({"tracks": stored, "backend": label, "query": name,
                             "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
                             "median_hits": hits})
        finally:
            svc.close()
    with (args.out / "search_scale.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"\ncsv: {args.out / 'search_scale.csv'}; {plot(rows, args.out)}; work dir {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
