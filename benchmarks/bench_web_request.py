"""What a web request costs around its search: the app in process, one request at a time.

Usage: python benchmarks/bench_web_request.py DATA_DIR [--repeat 8] [--seed 1001]
           [--kinds KIND ...] [--profile [KIND ...]] [--top 25] [--sort cumulative]

Runs the very requests of ``bench_web_load.sequential_http`` (same seed, same order: the first
two per kind warm the caches, untimed) against ``create_app(services)`` over an in-memory
ASGI transport (no socket, no uvicorn), logged in as operator ``operateur01`` in case
``BENCH`` (created and assigned as ``bench_web_load.add_operators`` does: this writes an
account, a case and journal entries into DATA_DIR). Starlette's thread pool is bypassed (sync
routes and dependencies run in the calling thread) so that ``--profile`` sees every call of a
request in one cProfile table.

Prints, per kind, p50 / max milliseconds of: the whole request; ``services.search`` (the
search with its count, inside the case, and its journal entry); the journal entry alone; and
the rest (session, account, case check, query parsing, JSON or HTML rendering). The in-process
figure is the same code path as ``bench_search_breakdown.py --server`` plus the journal.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import fastapi.dependencies.utils
import fastapi.routing
import httpx

from bench_web_load import (
    BENCH_CASE,
    CSRF,
    KINDS,
    PASSWORD,
    add_operators,
    bench_settings,
    search_params,
)
from retrouve.config import WebSettings
from retrouve.services import Services, build_services
from retrouve.web import create_app

T = TypeVar("T")
#: cProfile sort keys (``--sort``).
SORT: list[str] = ["cumulative"]


async def _inline(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``run_in_threadpool`` run in the calling thread (profiling sees it)."""
    return func(*args, **kwargs)


class Timers:
    """Wall milliseconds spent inside wrapped callables during the current request."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        inner = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + (time.perf_counter() - t) * 1e3

        setattr(owner, attr, timed)

    @contextmanager
    def request(self) -> Iterator[dict[str, float]]:
        self.spent = {}
        yield self.spent


async def login(client: httpx.AsyncClient, name: str) -> None:
    page = await client.get("/login")
    found = CSRF.search(page.text)
    assert found, page.status_code
    resp = await client.post("/login", data={"username": name, "password": PASSWORD,
                                             "csrf_token": found.group(1), "next": "/search"})
    assert resp.status_code == 303, resp.status_code
    token = CSRF.search((await client.get("/case/select")).text)
    assert token
    chosen = await client.post("/case/select", data={"case": BENCH_CASE,
                                                     "csrf_token": token.group(1)})
    assert chosen.status_code == 303, chosen.status_code


async def run(svc: Services, args: argparse.Namespace) -> None:
    timers = Timers()
    timers.wrap(svc, "search", "search")
    timers.wrap(svc, "_journal_search", "journal")
    app = create_app(svc, WebSettings(secure_cookies=False))
    transport = httpx.ASGITransport(app=app)
    rng = random.Random(args.seed)
    rows: list[tuple[str, dict[str, list[float]]]] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await login(client, "operateur01")
        for kind in KINDS:
            path = "/search" if kind == "html /search" else "/api/search"
            profile = (cProfile.Profile() if args.profile is not None
                       and (not args.profile or kind in args.profile) else None)
            got: dict[str, list[float]] = {"request": [], "search": [], "journal": [],
                                           "rest": []}
            for i in range(args.repeat + 2):
                params = search_params(kind, rng)
                if args.kinds and kind not in args.kinds:
                    continue
                with timers.request() as spent:
                    if profile is not None and i >= 2:
                        profile.enable()
                    t = time.perf_counter()
                    resp = await client.get(path, params=params)
                    ms = (time.perf_counter() - t) * 1e3
                    if profile is not None:
                        profile.disable()
                assert resp.status_code == 200, (kind, params, resp.status_code, resp.text[:300])
                if i < 2:
                    continue
                got["request"].append(ms)
                got["search"].append(spent.get("search", 0.0))
                got["journal"].append(spent.get("journal", 0.0))
                got["rest"].append(ms - spent.get("search", 0.0))
            if got["request"]:
                rows.append((kind, got))
            if profile is not None and got["request"]:
                print(f"\n=== {kind}: {len(got['request'])} requests", file=sys.stderr)
                pstats.Stats(profile, stream=sys.stderr).sort_stats(*SORT).print_stats(
                    args.top)
    print(f"{'kind':20} {'request':>15} {'services.search':>17} {'journal':>13} "
          f"{'rest (web)':>13}   ms p50 / max")
    for kind, got in rows:
        cells = [f"{statistics.median(v):7.1f} / {max(v):6.1f}" for v in got.values()]
        print(f"{kind:20} " + "  ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--repeat", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1001, help="bench_web_load's baseline seed")
    ap.add_argument("--kinds", nargs="*", help="only these kinds (the others still drawn)")
    ap.add_argument("--profile", nargs="*", help="cProfile these kinds (none named: all)")
    ap.add_argument("--top", type=int, default=25, help="rows of each cProfile table")
    ap.add_argument("--sort", default="cumulative", help="cProfile sort key (tottime…)")
    args = ap.parse_args()
    SORT[:] = [args.sort]
    add_operators(args.data_dir, 1)
    # Sync routes and dependencies in this thread: one profile sees the whole request.
    fastapi.routing.run_in_threadpool = _inline  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = _inline  # type: ignore[assignment]
    svc = build_services(bench_settings(args.data_dir))
    try:
        asyncio.run(run(svc, args))
    finally:
        svc.close()


if __name__ == "__main__":
    main()
