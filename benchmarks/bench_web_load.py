"""Web load test: concurrent operators searching a large index through the real app, on loopback.

Usage: python benchmarks/bench_web_load.py [--tracks 100000] [--operators 20] [--seconds 30]
                                           [--think 0] [--json FILE] [--data-dir DIR]
                                           [--serve-workers N] [--db-url URL]

1. Generates an index of ``--tracks`` tracks over 20 cameras × 7 days (the days up to today)
   with realistic distributions: more traffic by day than at night and on some cameras than
   others, cars/people/vans/…, common car colours (white, grey, black) far more frequent than
   rare ones, clothing colours, carried objects, French SIV plates on ~55 % of the cars, vans
   and trucks. Written in bulk through the store's engine, into the store's own schema (as
   ``bench_search.py`` does).
2. **Baseline**: the same kinds of searches called directly on ``services.searcher`` in this
   process, one at a time (no HTTP, no concurrency): what the search itself costs.
3. Starts ``retrouve.web.create_app`` under uvicorn in a **subprocess** on 127.0.0.1 (one
   process, as ``retrouve serve`` runs it; a subprocess so that the load generator does not
   share its interpreter lock), creates ``--operators`` operator accounts with the production
   password hasher, and runs that many simulated operators (threads, one ``httpx.Client`` and
   session cookie each): log in through the form, then loop for ``--seconds`` over searches on
   ``/api/search`` (object + colour, person upper/lower, plate pattern, camera + time window,
   free text, paging at offsets 20 and 40) and ``/search`` HTML page loads.
4. Prints requests, throughput, p50/p95/p99 latency overall and per kind, errors, the
   in-process baseline next to it, CPU used by the server and by the load generator, and the
   load average; ``--json FILE`` writes the same figures.

``--think S``: mean pause between an operator's requests (exponential; default 0, i.e. each
operator sends its next request as soon as the previous one is answered: a saturation test,
harsher than people reading result pages). Nothing leaves the machine; the data dir is a
temporary folder unless ``--data-dir`` is given (then an existing index is reused with
``--reuse``).

``--serve-workers N`` runs the production command, ``retrouve --data-dir DIR serve --workers N
--no-secure-cookies`` (sessions, CSRF tokens and the login limiter in the database; its info
and access logs to ``--server-log`` or discarded), instead of the one uvicorn process; the
server CPU then sums every process of the server. ``--db-url URL`` puts the store (index,
accounts, sessions, journal) in that database, e.g. a PostgreSQL one from
``scripts/pg_test_server start DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from retrouve.config import Settings
from retrouve.domain import Camera, LegalBasis, Role, ScopeWindow
from retrouve.legal.cases import Actor
from retrouve.services import Services, build_services
from retrouve.store import schema as s
from retrouve.store.cases import CaseFields
from retrouve.store.track_rows import fill_weighted
from retrouve.vision.plates.confusions import fold
from retrouve.web.search_form import SearchParams, build_query, load_parse_text, site_zone

CAMERAS = 20
DAYS = 7
PASSWORD = "load-test-password"
#: The case the benchmark's operators work in (``open_bench_case``).
BENCH_CASE = "BENCH"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: ``--db-url``: the store's database (None: SQLite in the data dir). Read by every
#: :func:`bench_settings` and passed to the server as ``RETROUVE_DATABASE_URL``.
DB_URL: list[str | None] = [None]


def bench_settings(data_dir: Path) -> Settings:
    """The benchmark's settings: ``data_dir``, one inline worker, the ``--db-url`` store."""
    return Settings(data_dir=data_dir, workers=1, executor="inline", database_url=DB_URL[0])


# ----------------------------------------------------------------------------- generator
def weighted(table: dict[str, float]) -> tuple[list[str], list[float]]:
    return list(table), list(table.values())


#: Share of tracks per object class (street CCTV: mostly cars and pedestrians).
OBJECTS = weighted({"car": 46, "person": 30, "van": 6, "truck": 3, "bus": 2, "bicycle": 7,
                    "motorcycle": 6})
#: Car colours roughly as registered in France (white/grey/black dominate).
VEHICLE_COLOURS = weighted({"white": 26, "grey": 22, "black": 19, "blue": 10, "red": 9,
                            "brown": 4, "green": 3, "yellow": 2, "orange": 2, "purple": 1,
                            "pink": 1})
UPPER = weighted({"black": 30, "grey": 14, "white": 12, "blue": 12, "red": 7, "brown": 6,
                  "green": 6, "yellow": 3, "orange": 3, "purple": 3, "pink": 4})
LOWER = weighted({"blue": 34, "black": 36, "grey": 12, "brown": 7, "white": 4, "green": 3,
                  "red": 1, "pink": 1, "purple": 1, "yellow": 0.5, "orange": 0.5})
ACCESSORY = weighted({"": 75, "backpack": 12, "handbag": 8, "suitcase": 3, "umbrella": 2})
#: Traffic by hour of day (local), relative: quiet nights, morning and evening peaks.
HOURLY = [1, 0.6, 0.4, 0.4, 0.6, 1.5, 4, 8, 10, 8, 7, 7, 8, 7, 7, 8, 9, 10, 9, 6, 4, 3, 2, 1.5]
SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"  # no I, O, U on French SIV plates
PLATED = {"car", "van", "truck"}


def siv_plate(rng: random.Random) -> str:
    """A French SIV plate, normalised (``AB123CD``)."""
    return (rng.choice(SIV_LETTERS) + rng.choice(SIV_LETTERS) + f"{rng.randrange(1, 1000):03d}"
            + rng.choice(SIV_LETTERS) + rng.choice(SIV_LETTERS))


def first_day(days: int = DAYS) -> datetime:
    """UTC midnight ``days - 1`` days before today: the index covers the days up to today, so
    relative free text ("hier soir", "yesterday") finds footage."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


def _colour_rows(rng: random.Random, track_id: int, name: str,
                 dist: tuple[list[str], list[float]]) -> list[dict[str, Any]]:
    first = rng.choices(*dist)[0]
    rows = [{"track_id": track_id, "name": name, "value": first,
             "confidence": rng.uniform(0.35, 0.98), "rank": 1}]
    if rng.random() < 0.3:  # a runner-up colour, as the colour namer reports one
        second = rng.choice([c for c in dist[0] if c != first])
        rows.append({"track_id": track_id, "name": name, "value": second,
                     "confidence": rng.uniform(0.15, 0.3), "rank": 2})
    return rows


def populate(data_dir: Path, n: int, seed: int = 1) -> None:
    """Write ``n`` tracks over ``CAMERAS`` cameras × ``DAYS`` one-day recordings."""
    svc = build_services(bench_settings(data_dir))
    rng = random.Random(seed)
    now = datetime.now(UTC)
    t0 = first_day()
    cams = [f"cam-{i:02d}" for i in range(1, CAMERAS + 1)]
    # Some cameras (a station square) see far more than others (a back street): Zipf-like.
    cam_weights = [1 / (i + 1) ** 0.8 for i in range(CAMERAS)]
    with svc.store.engine.begin() as conn:
        for c in cams:
            svc.store.add_camera(Camera(c, f"Caméra {c[-2:]}", "Europe/Paris"), now)
        conn.execute(insert(s.analysis_runs).values(
            id=1, started_at=now, status="done", settings_json="{}", models_json="{}",
            software_version="bench"))
        conn.execute(insert(s.recordings), [
            {"id": f"{c}-d{d}", "camera_id": c, "path": f"/footage/{c}-d{d}.mp4",
             "sha256": f"{c}{d}", "size_bytes": 0, "start_utc": t0 + timedelta(days=d),
             "end_utc": t0 + timedelta(days=d + 1), "duration_s": 86400.0, "fps": 25.0,
             "width": 1920, "height": 1080, "codec": "h264", "is_image": False,
             "status": "done", "ingested_at": now} for c in cams for d in range(DAYS)])
    batch = 50_000
    for b0 in range(0, n, batch):
        tracks: list[dict[str, Any]] = []
        attrs: list[dict[str, Any]] = []
        plates: list[dict[str, Any]] = []
        for i in range(b0, min(n, b0 + batch)):
            tid = i + 1
            cam = rng.choices(cams, cam_weights)[0]
            day = rng.randrange(DAYS)
            # Local hour from the daily profile (Paris is UTC+1 in winter: close enough).
            hour = rng.choices(range(24), HOURLY)[0]
            t = ((hour - 1) % 24) * 3600 + rng.uniform(0, 3600)
            obj = rng.choices(*OBJECTS)[0]
            dur = rng.uniform(3, 40) if obj == "person" else rng.uniform(2, 15)
            start = t0 + timedelta(days=day, seconds=t)
            x0, y0 = rng.uniform(0, 1600), rng.uniform(200, 800)
            tracks.append({
                "id": tid, "recording_id": f"{cam}-d{day}", "camera_id": cam,
                "unit_id": f"{cam}-d{day}@0000000.0", "run_id": 1, "local_id": tid,
                "object": obj, "object_conf": rng.uniform(0.35, 0.99), "start_utc": start,
                "end_utc": start + timedelta(seconds=dur), "t_start": t, "t_end": t + dur,
                "best_t": t + dur / 2, "box_x0": x0, "box_y0": y0, "box_x1": x0 + 200,
                "box_y1": y0 + 150, "thumbnail": None,
                # Each track its own object, as the store saves it: left NULL, ANALYZE saw
                # one value for the whole column and SQLite scanned ix_tracks_object_id to
                # read each page's objects (~300 ms a search at 1 M tracks).
                "object_id": tid,
                "observations_json": json.dumps([[round(t, 2), x0, y0, x0 + 200, y0 + 150, 0.8],
                                                 [round(t + dur, 2), x0, y0, x0 + 200,
                                                  y0 + 150, 0.8]])})
            if obj == "person":
                attrs += _colour_rows(rng, tid, "upper", UPPER)
                attrs += _colour_rows(rng, tid, "lower", LOWER)
                acc = rng.choices(*ACCESSORY)[0]
                if acc:
                    attrs.append({"track_id": tid, "name": "accessory", "value": acc,
                                  "confidence": rng.uniform(0.4, 0.95), "rank": 1})
                continue
            attrs += _colour_rows(rng, tid, "colour", VEHICLE_COLOURS)
            if obj in PLATED:
                attrs.append({"track_id": tid, "name": "vehicle_type", "value": obj,
                              "confidence": rng.uniform(0.55, 0.97), "rank": 1})
                if rng.random() < 0.55:
                    text = siv_plate(rng)
                    plates.append({
                        "track_id": tid, "text": text, "folded": fold(text),
                        "confidence": rng.uniform(0.5, 0.99), "grammar": "fr-siv",
                        "chars_json": json.dumps([[c, 0.9] for c in text]),
                        "alternatives_json": "[]", "reads": rng.randint(1, 8),
                        "best_t": t + dur / 2, "box_x0": None, "box_y0": None,
                        "box_x1": None, "box_y1": None})
        # Each attribute row's score bound, as the store writes it (migration 0016).
        fill_weighted(attrs, {t["id"]: t["object_conf"] for t in tracks})
        with svc.store.engine.begin() as conn:
            conn.execute(insert(s.tracks), tracks)
            conn.execute(insert(s.track_attributes), attrs)
            if plates:
                conn.execute(insert(s.plate_reads), plates)
    with svc.store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    svc.close()


def track_count(data_dir: Path) -> int:
    svc = build_services(bench_settings(data_dir))
    try:
        with svc.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(s.tracks)).scalar_one())
    finally:
        svc.close()


# ------------------------------------------------------------------------------ searches
#: Request kinds and their share of an operator's requests.
KINDS = {"object+colour": 22, "person upper/lower": 14, "plate pattern": 10,
         "camera+time": 14, "free text": 10, "page 2-3": 15, "html /search": 15}
FREE_TEXT = ("voiture blanche hier soir", "camionnette grise ce matin",
             "homme au haut rouge et pantalon bleu", "white van yesterday",
             "person with a red top and blue jeans", "femme avec sac à dos", "moto noire",
             "voiture rouge", "black car yesterday evening", "bus jaune")


def search_params(kind: str, rng: random.Random) -> dict[str, Any]:
    """The ``/api/search`` (and ``/search``) parameters of one realistic search of ``kind``."""
    if kind in ("object+colour", "page 2-3", "html /search"):
        params: dict[str, Any] = {
            "object": rng.choices(["car", "van", "truck", "vehicle", "motorcycle"],
                                  [60, 15, 8, 12, 5])[0],
            "colour": rng.choices(*VEHICLE_COLOURS)[0]}
        if kind == "page 2-3":
            params["offset"] = rng.choice((20, 40))
        if kind == "html /search":
            params["limit"] = 24
        return params
    if kind == "person upper/lower":
        params = {"object": "person", "upper": rng.choices(*UPPER)[0]}
        if rng.random() < 0.7:
            params["lower"] = rng.choices(*LOWER)[0]
        return params
    if kind == "plate pattern":
        # What a witness remembers: the first letters, sometimes digits with a gap.
        plate = siv_plate(rng)
        return {"plate": rng.choice((plate[:2] + "*", plate[:3] + "*",
                                     "*" + plate[2:5] + "*", plate[:2] + "?" + plate[3:5] + "*"))}
    if kind == "camera+time":
        day = first_day() + timedelta(days=rng.randrange(DAYS))
        local = day.replace(tzinfo=None) + timedelta(hours=rng.randrange(6, 21))
        params = {"camera": f"cam-{rng.randrange(1, CAMERAS + 1):02d}",
                  "from": local.isoformat(timespec="minutes"),
                  "to": (local + timedelta(hours=2)).isoformat(timespec="minutes")}
        if rng.random() < 0.5:
            params["object"] = rng.choice(("person", "vehicle", "car"))
        return params
    if kind == "free text":
        return {"text": rng.choice(FREE_TEXT)}
    raise ValueError(f"unknown kind {kind!r}")


def baseline(data_dir: Path, repeat: int, seed: int) -> dict[str, list[float]]:
    """Milliseconds per search of each kind, called on ``services.searcher`` in process.

    The query is built by the same ``build_query`` as the API; the HTML kind also asks for
    the page's 500-hit timeline spread, exactly as the page does."""
    svc = build_services(bench_settings(data_dir))
    rng = random.Random(seed)
    out: dict[str, list[float]] = {}
    zone = site_zone(svc)
    try:
        for kind in KINDS:
            times: list[float] = []
            for i in range(repeat + 2):  # the first two warm the caches, untimed
                raw = search_params(kind, rng)
                html = kind == "html /search"
                sp = SearchParams(
                    cameras=(raw["camera"],) if "camera" in raw else (),
                    time_from=raw.get("from"), time_to=raw.get("to"),
                    object=raw.get("object"), colour=raw.get("colour"),
                    upper=raw.get("upper"), lower=raw.get("lower"), plate=raw.get("plate"),
                    text=raw.get("text"), limit=raw.get("limit", 20),
                    offset=raw.get("offset", 0))
                t = time.perf_counter()
                built = build_query(sp, svc, lang="fr" if html else "en",
                                    default_zone=zone,
                                    text_parser=load_parse_text)
                svc.searcher.search(built.query, built.order, spread=500 if html else 0)
                if i >= 2:
                    times.append((time.perf_counter() - t) * 1000)
            out[kind] = times
    finally:
        svc.close()
    return out


# ---------------------------------------------------------------------------------- load
def sequential_http(base: str, name: str, repeat: int, seed: int) -> dict[str, list[float]]:
    """Milliseconds per request of each kind for **one** client on the idle server, with the
    very searches of :func:`baseline` (same seed, same order): HTTP + app cost without any
    queueing behind other operators."""
    op = Operator(name, base, seed, 0.0)
    rng = random.Random(seed)
    out: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, timeout=30.0) as client:
        if not op._login(client):
            raise RuntimeError(f"cannot log in as {name}: {op.errors}")
        for kind in KINDS:
            times: list[float] = []
            path = "/search" if kind == "html /search" else "/api/search"
            for i in range(repeat + 2):
                params = search_params(kind, rng)
                t = time.perf_counter()
                resp = client.get(path, params=params)
                if resp.status_code != 200:
                    raise RuntimeError(f"{kind} {params}: {resp.status_code} {resp.text[:200]}")
                if i >= 2:
                    times.append((time.perf_counter() - t) * 1000)
            out[kind] = times
    return out


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool
    hits: int = 0


@dataclass
class Operator:
    """One simulated operator: a client with its own session cookie."""

    name: str
    base: str
    seed: int
    think_s: float
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def run(self, start: threading.Barrier, stop_at: Callable[[], float]) -> None:
        rng = random.Random(self.seed)
        kinds, weights = list(KINDS), list(KINDS.values())
        with httpx.Client(base_url=self.base, timeout=30.0) as client:
            t = time.perf_counter()
            ok = self._login(client)
            self.samples.append(Sample("login", (time.perf_counter() - t) * 1000, ok))
            start.wait()
            if not ok:
                return
            if self.think_s > 0:
                # People do not all press "search" in the same second: spread the first ones.
                time.sleep(rng.uniform(0, self.think_s))
            while time.perf_counter() < stop_at():
                kind = rng.choices(kinds, weights)[0]
                params = search_params(kind, rng)
                path = "/search" if kind == "html /search" else "/api/search"
                t = time.perf_counter()
                try:
                    resp = client.get(path, params=params)
                    ms = (time.perf_counter() - t) * 1000
                    good = resp.status_code == 200
                    hits = len(resp.json()["hits"]) if good and path == "/api/search" else 0
                    if not good:
                        self.errors.append(f"{kind}: {resp.status_code} {resp.text[:120]}")
                except httpx.HTTPError as exc:
                    ms, good, hits = (time.perf_counter() - t) * 1000, False, 0
                    self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                # Requests still answered after the deadline are kept: they were sent in time.
                self.samples.append(Sample(kind, ms, good, hits))
                if self.think_s > 0:
                    # Never past the deadline: the run's wall time must stay --seconds.
                    pause = rng.expovariate(1 / self.think_s)
                    time.sleep(max(0.0, min(pause, stop_at() - time.perf_counter())))

    def _login(self, client: httpx.Client) -> bool:
        for _attempt in range(30):
            page = client.get("/login")
            found = CSRF.search(page.text)
            if not found:
                self.errors.append(f"login: no CSRF token ({page.status_code})")
                return False
            resp = client.post("/login", data={"username": self.name, "password": PASSWORD,
                                               "csrf_token": found.group(1), "next": "/search"})
            if resp.status_code != 429:
                break
            # The login limiter refuses attempts beyond those in flight from one address (all
            # operators share 127.0.0.1 here): try again later, as a person would.
            time.sleep(float(resp.headers.get("Retry-After", 1)) + random.uniform(0, 1))
        if resp.status_code != 303:
            self.errors.append(f"login: {resp.status_code}")
            return False
        # The session made at login has its own CSRF token: read it from the chooser.
        token = CSRF.search(client.get("/case/select").text)
        chosen = client.post("/case/select", data={
            "case": BENCH_CASE, "csrf_token": token.group(1) if token else ""})
        if chosen.status_code != 303:
            self.errors.append(f"case select: {chosen.status_code}")
            return False
        return True


SERVER = """
import sys, uvicorn
from pathlib import Path
from retrouve.config import Settings, WebSettings
from retrouve.services import build_services
from retrouve.web import create_app
services = build_services(Settings(data_dir=Path(sys.argv[1]), workers=1, executor="inline"))
app = create_app(services, WebSettings(secure_cookies=False))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False, timeout_graceful_shutdown=5)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: ``--serve-workers N``: the production command instead of :data:`SERVER`.
SERVE = "import sys; from retrouve.cli import main; sys.argv[0] = 'retrouve'; main()"


def start_server(data_dir: Path, port: int, serve_workers: int = 0,
                 log: Path | None = None) -> subprocess.Popen[bytes]:
    """The app on ``port``: :data:`SERVER` (one process) when ``serve_workers`` is 0, else
    ``retrouve --data-dir DIR serve --workers N --no-secure-cookies`` exactly as a site runs
    it (uvicorn's info log and access log go to ``log``, or are discarded)."""
    env = dict(os.environ)
    if DB_URL[0]:
        env["RETROUVE_DATABASE_URL"] = DB_URL[0]
    if serve_workers:
        cmd = [sys.executable, "-c", SERVE, "--data-dir", str(data_dir), "serve", "--port",
               str(port), "--workers", str(serve_workers), "--no-secure-cookies"]
    else:
        cmd = [sys.executable, "-c", SERVER, str(data_dir), str(port)]
    out = log.open("ab") if log else subprocess.DEVNULL
    # Its own process group: a slow shutdown is ended with its worker processes (main()).
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not answer within 60 s")


def add_operators(data_dir: Path, n: int) -> list[str]:
    """``n`` operator accounts, hashed with the production argon2 parameters."""
    svc: Services = build_services(bench_settings(data_dir))
    try:
        accounts = svc.accounts
        names = [f"operateur{i:02d}" for i in range(1, n + 1)]
        for name in names:
            if accounts.get(name) is None:
                accounts.add(name, "operator", PASSWORD)
        open_bench_case(svc, names)
        return names
    finally:
        svc.close()


def open_bench_case(svc: Services, names: list[str]) -> None:
    """No case, no processing: case ``BENCH_CASE`` over every camera and day, assigned to the
    operators (so the run measures the search *with* its journal entry)."""
    chief = Actor("bench-supervisor", Role.SUPERVISOR)
    if svc.store.get_case(BENCH_CASE) is None:
        t0 = first_day()
        scope = tuple(ScopeWindow(c.id, t0, t0 + timedelta(days=DAYS))
                      for c in svc.store.list_cameras())
        svc.cases.create(chief, CaseFields(
            ref=BENCH_CASE, basis=LegalBasis.ART_60_1, procedure_number=BENCH_CASE,
            authority="bench", authority_service="bench", authority_contact="",
            received_at=datetime.now(UTC), purpose="web load benchmark"), scope, tuple(names))
    else:
        svc.cases.assign(chief, BENCH_CASE, tuple(names))


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its live descendants
    (``--serve-workers``: uvicorn's worker processes), from Linux ``/proc``."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:  # gone meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        todo += [int(c) for c in children]
    return total


# ------------------------------------------------------------------------------- figures
def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summarise(times: list[float]) -> dict[str, float]:
    return {"n": len(times), "p50": pct(times, 50), "p95": pct(times, 95),
            "p99": pct(times, 99), "mean": statistics.fmean(times) if times else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--operators", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean pause between an operator's requests, seconds (default 0)")
    ap.add_argument("--baseline-repeat", type=int, default=30,
                    help="in-process searches timed per kind (default 30)")
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--reuse", action="store_true",
                    help="with --data-dir: keep an index already there (skip generation)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="write every figure to this file")
    ap.add_argument("--serve-workers", type=int, default=0,
                    help="run `retrouve serve --workers N` (default 0: one uvicorn process "
                         "started by this script)")
    ap.add_argument("--db-url", help="store database (default: SQLite in the data dir)")
    ap.add_argument("--server-log", type=Path, help="append the server's output to this file")
    args = ap.parse_args()
    DB_URL[0] = args.db_url

    tmp = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="retrouve-bench-web-")
        data_dir = Path(tmp.name)
    report: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                              "settings": {k: str(v) for k, v in vars(args).items()}}
    try:
        t = time.perf_counter()
        if args.reuse and track_count(data_dir) > 0:
            print(f"reusing the index in {data_dir}", file=sys.stderr)
        else:
            populate(data_dir, args.tracks, args.seed)
            print(f"generated {args.tracks:,} tracks in {time.perf_counter() - t:.1f} s",
                  file=sys.stderr)
        n_tracks = track_count(data_dir)
        report["tracks"] = n_tracks

        print("baseline: searches in process …", file=sys.stderr)
        base = baseline(data_dir, args.baseline_repeat, args.seed + 1000)
        names = add_operators(data_dir, args.operators)

        port = free_port()
        server = start_server(data_dir, port, args.serve_workers, args.server_log)
        try:
            print("one client over HTTP …", file=sys.stderr)
            single = sequential_http(f"http://127.0.0.1:{port}", names[0],
                                     args.baseline_repeat, args.seed + 1000)
            print(f"{len(names)} operators for {args.seconds:g} s …", file=sys.stderr)
            load = run_load(f"http://127.0.0.1:{port}", names, args, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                # Still answering queued searches (a saturated server at 1 M tracks): the
                # figures are already collected, do not lose them to a slow shutdown.
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=15)
        report.update(load)
        report["server"] = (f"retrouve serve --workers {args.serve_workers}"
                            if args.serve_workers else "uvicorn, one process")
        report["backend"] = "postgresql" if args.db_url else "sqlite"
        report["baseline_ms"] = {k: summarise(v) for k, v in base.items()}
        report["single_client_ms"] = {k: summarise(v) for k, v in single.items()}
        print_report(report)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
            print(f"\nfigures written to {args.json}")
    finally:
        if tmp is not None:
            tmp.cleanup()


def run_load(base: str, names: list[str], args: argparse.Namespace,
             server_pid: int) -> dict[str, Any]:
    """Log every operator in, then let them search for ``args.seconds``."""
    ops = [Operator(name, base, args.seed + i, args.think) for i, name in enumerate(names)]
    start = threading.Barrier(len(ops) + 1)
    deadline = [float("inf")]
    threads = [threading.Thread(target=op.run, args=(start, lambda: deadline[0]), daemon=True)
               for op in ops]
    for th in threads:
        th.start()
    start.wait()  # every operator logged in (or failed to)
    cpu_server0, self0 = cpu_of(server_pid), resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    deadline[0] = t0 + args.seconds
    loads: list[float] = []
    while time.perf_counter() < deadline[0]:
        time.sleep(min(5.0, max(0.0, deadline[0] - time.perf_counter())))
        loads.append(os.getloadavg()[0])
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    cpu_server = cpu_of(server_pid) - cpu_server0
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_client = (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)

    samples = [smp for op in ops for smp in op.samples]
    loop = [smp for smp in samples if smp.kind != "login"]
    kinds: dict[str, Any] = {}
    for kind in ["login", *KINDS]:
        mine = [smp for smp in samples if smp.kind == kind]
        kinds[kind] = {**summarise([smp.ms for smp in mine if smp.ok]),
                       "requests": len(mine), "errors": sum(not smp.ok for smp in mine),
                       "mean_hits": statistics.fmean([smp.hits for smp in mine])
                       if mine and kind not in ("login", "html /search") else None}
    errors = [e for op in ops for e in op.errors]
    return {
        "wall_s": wall, "operators": len(ops), "think_s": args.think,
        "requests": len(loop), "errors": sum(not smp.ok for smp in loop),
        "throughput_rps": len(loop) / wall,
        "overall_ms": summarise([smp.ms for smp in loop if smp.ok]),
        "kinds_ms": kinds, "error_examples": errors[:10],
        "cpu": {"server_s": cpu_server, "server_cores": cpu_server / wall,
                "client_s": cpu_client, "client_cores": cpu_client / wall},
        "loadavg_1min": {"samples": loads, "max": max(loads, default=float("nan")),
                         "at_end": os.getloadavg()},
    }


def print_report(r: dict[str, Any]) -> None:
    o = r["overall_ms"]
    print(f"\n{r['tracks']:,} tracks · {r['operators']} operators · think {r['think_s']} s · "
          f"{r['wall_s']:.1f} s · {os.cpu_count()} CPUs")
    print(f"server: {r['server']} · store: {r['backend']}")
    print(f"requests {r['requests']} · errors {r['errors']} · "
          f"throughput {r['throughput_rps']:.1f} req/s · "
          f"p50 {o['p50']:.0f} ms · p95 {o['p95']:.0f} ms · p99 {o['p99']:.0f} ms")
    cpu = r["cpu"]
    la = r["loadavg_1min"]
    print(f"CPU: server {cpu['server_cores']:.2f} cores, load generator "
          f"{cpu['client_cores']:.2f} cores; load average (1 min) max {la['max']:.2f}, "
          f"samples {', '.join(f'{x:.2f}' for x in la['samples'])}")
    print(f"\n{'':20} {'under load (all operators)':^46} │ {'1 client, idle':^15} │ "
          f"{'in process':^15}")
    print(f"{'kind':20} {'reqs':>6} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
          f" {'hits':>5} │ {'p50':>7} {'p95':>7} │ {'p50':>7} {'p95':>7}")
    for kind, k in r["kinds_ms"].items():
        b = r["baseline_ms"].get(kind)
        one = r["single_client_ms"].get(kind)
        hits = "" if k["mean_hits"] is None else f"{k['mean_hits']:.0f}"
        tail = " │ ".join(f"{x['p50']:7.1f} {x['p95']:7.1f}" if x else f"{'':7} {'':7}"
                          for x in (one, b))
        print(f"{kind:20} {k['requests']:6d} {k['errors']:4d} {k['p50']:8.0f} {k['p95']:8.0f}"
              f" {k['p99']:8.0f} {hits:>5} │ {tail}")
    print(f"{'all searches':20} {r['requests']:6d} {r['errors']:4d} {o['p50']:8.0f} "
          f"{o['p95']:8.0f} {o['p99']:8.0f}")
    if r["error_examples"]:
        print("\nerrors, first ones:")
        for e in r["error_examples"]:
            print("  " + e)


if __name__ == "__main__":
    main()
