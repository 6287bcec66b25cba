"""Search latency on a large generated index (default 1 M tracks ≈ 400 h of busy footage).

Usage: python benchmarks/bench_search.py [--tracks N] [--repeat R] [--data-dir DIR]

Generates tracks over 100 cameras and 30 days with random objects and colours (inserted in
bulk through the store's engine), then times typical operator queries through the real
``Searcher`` and prints median/p95 latency per query next to a baseline: a full ``COUNT(*)``
scan of the tracks table measured in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from retrouve.config import Settings
from retrouve.domain import COLOURS, Camera, Query
from retrouve.services import build_services
from retrouve.store import schema as s
from retrouve.store.track_rows import fill_weighted

OBJECTS = ["car"] * 50 + ["person"] * 30 + ["truck"] * 6 + ["bus"] * 3 + ["bicycle"] * 5 + [
    "motorcycle"] * 4 + ["handbag"] * 2
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def populate(data_dir: Path, n: int, seed: int = 1) -> None:
    svc = build_services(Settings(data_dir=data_dir, workers=1, executor="inline"))
    rng = random.Random(seed)
    now = datetime.now(UTC)
    cams = [f"cam-{i:03d}" for i in range(100)]
    with svc.store.engine.begin() as conn:
        for c in cams:
            svc.store.add_camera(Camera(c, c, "Europe/Paris"), now)
        conn.execute(insert(s.analysis_runs).values(
            id=1, started_at=now, status="done", settings_json="{}", models_json="{}",
            software_version="bench"))
        conn.execute(insert(s.recordings), [
            {"id": f"{c}-r", "camera_id": c, "path": "/dev/null", "sha256": c, "size_bytes": 0,
             "start_utc": T0, "end_utc": T0 + timedelta(days=30), "duration_s": 30 * 86400.0,
             "fps": 25.0, "width": 1920, "height": 1080, "codec": "h264", "is_image": False,
             "status": "done", "ingested_at": now} for c in cams])
    batch = 50_000
    has_objects = "object_id" in s.tracks.c  # tracks.object_id (migration 0005)
    for b0 in range(0, n, batch):
        tracks, attrs = [], []
        for i in range(b0, min(n, b0 + batch)):
            cam = rng.choice(cams)
            obj = rng.choice(OBJECTS)
            t = rng.uniform(0, 30 * 86400)
            tracks.append({
                "id": i + 1, "recording_id": f"{cam}-r", "camera_id": cam, "unit_id": f"u{i}",
                "run_id": 1, "local_id": 1, "object": obj, "object_conf": rng.uniform(0.3, 1),
                "start_utc": T0 + timedelta(seconds=t),
                "end_utc": T0 + timedelta(seconds=t + rng.uniform(1, 20)), "t_start": t,
                "t_end": t + 5, "best_t": t + 2, "box_x0": 10.0, "box_y0": 10.0,
                "box_x1": 50.0, "box_y1": 90.0, "thumbnail": None, "observations_json": "[]",
                # One track in five continues the previous one (an object of fragments).
                **({"object_id": i if i % 5 == 4 else i + 1} if has_objects else {})})
            names = ("upper", "lower") if obj == "person" else ("colour",)
            for name in names:
                first, second = rng.sample(COLOURS, 2)
                attrs.append({"track_id": i + 1, "name": name, "value": first,
                              "confidence": rng.uniform(0.3, 1), "rank": 1})
                if rng.random() < 0.3:
                    attrs.append({"track_id": i + 1, "name": name, "value": second,
                                  "confidence": rng.uniform(0.15, 0.3), "rank": 2})
        # Each attribute row's score bound, as the store writes it (migration 0016): without
        # it the searches skip the score floors of store/top_objects.py.
        fill_weighted(attrs, {t["id"]: t["object_conf"] for t in tracks})
        with svc.store.engine.begin() as conn:
            conn.execute(insert(s.tracks), tracks)
            conn.execute(insert(s.track_attributes), attrs)
    with svc.store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    svc.close()


QUERIES: dict[str, Query] = {
    "white car, all cameras": Query(object="car", colour="white", limit=50),
    "white car, 3 cameras, 1 day": Query(
        cameras=("cam-001", "cam-002", "cam-003"), object="car", colour="white",
        time_from=T0 + timedelta(days=10), time_to=T0 + timedelta(days=11), limit=50),
    "person red top blue legs": Query(object="person", upper="red", lower="blue", limit=50),
    "any vehicle, 1 camera, 2 h": Query(
        cameras=("cam-042",), object="vehicle", time_from=T0 + timedelta(days=5),
        time_to=T0 + timedelta(days=5, hours=2), limit=50),
    "truck page 5": Query(object="truck", limit=50, offset=200),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    tmp = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="retrouve-bench-search-")
        data_dir = Path(tmp.name)
    t = time.perf_counter()
    populate(data_dir, args.tracks)
    print(f"generated {args.tracks:,} tracks in {time.perf_counter() - t:.1f} s")
    svc = build_services(Settings(data_dir=data_dir, workers=1, executor="inline"))
    with svc.store.engine.connect() as conn:
        t = time.perf_counter()
        conn.execute(select(func.count()).select_from(s.tracks)).scalar_one()
        scan_ms = (time.perf_counter() - t) * 1000
    print(f"baseline: COUNT(*) over tracks = {scan_ms:.1f} ms")
    print(f"{'query':32} {'hits':>5} {'p50 ms':>8} {'p95 ms':>8}")
    for name, q in QUERIES.items():
        times = []
        hits = 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            hits = len(svc.searcher.search(q).hits)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"{name:32} {hits:5d} {statistics.median(times):8.1f} {p95:8.1f}")
    svc.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
