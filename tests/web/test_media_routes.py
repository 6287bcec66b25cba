"""Playback routes over real ingested and analysed clips: ranges, windows, stills, refusals.

Self-contained: a bare FastAPI app with only the media router (the real app adds login in
front of it), over services built here with the flat-background shape detector. The routes
work in a case: here one covering the whole footage, given to them by a dependency override
(``test_case_scope`` checks the scope itself through the real app).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from clips import BLUE, CODEC, RED, Moving, make_clip, make_still, render
from retrouve.config import AnalysisSettings, Settings
from retrouve.domain import Camera, Role, ScopeWindow
from retrouve.legal.accounts import User
from retrouve.legal.cases import Actor
from retrouve.services import Services, build_services
from retrouve.store import schema as s
from retrouve.video.playability import PlaybackPolicy
from retrouve.vision.detector import Detector, ShapeDetector
from retrouve.web import media
from retrouve.web.audit import ViewLog
from retrouve.web.auth import AdminCtx, RequestContext
from retrouve.web.case_scope import InCase, in_case

NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
START = "2026-01-04T10:00:00+01:00"
needs_x264 = pytest.mark.skipif(CODEC != "libx264", reason="PyAV built without libx264")
#: A car crossing 12..16 s of a 30 s clip (10 fps, key frame every 2 s).
CAR = Moving(RED, (50, 50), (10, 100), (260, 100), 12.0, 16.0)
#: A person crossing 3..6 s of a 10 s MPEG-4 part 2 AVI (no browser plays it).
PERSON = Moving(BLUE, (30, 60), (40, 80), (240, 80), 3.0, 6.0)
#: A parked car on a still image.
PARKED = Moving(RED, (60, 40), (100, 100), (100, 100), 0.0, 1.0)


def _detector(_settings: AnalysisSettings) -> Detector:
    return ShapeDetector()


def _make_avi(path: Path, seconds: float, fps: int, objects: tuple[Moving, ...]) -> Path:
    """MPEG-4 part 2 in AVI, frame i at i / fps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("mpeg4", rate=fps)
        assert isinstance(vs, av.VideoStream)
        vs.width, vs.height, vs.pix_fmt = 320, 240, "yuv420p"
        vs.options = {"qscale": "3", "g": str(fps)}
        for i in range(round(seconds * fps)):
            img = render((320, 240), objects, i / fps)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    return path


@dataclass(frozen=True)
class World:
    """Ingested, analysed footage: file paths, recording ids and one track id per file."""

    services: Services
    files: dict[str, Path]
    recordings: dict[str, str]
    tracks: dict[str, int]
    work: InCase


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          module_database_url: str | None) -> Iterator[World]:
    root = tmp_path_factory.mktemp("media_routes")
    settings = Settings(data_dir=root / "data", workers=1, executor="inline",
                        database_url=module_database_url)
    services = build_services(settings, detector_factory=_detector, clock=lambda: NOW)
    services.catalogue.add_camera(Camera("cam1", "Rue de la Paix", "Europe/Paris"))
    files = {
        "mp4": make_clip(root / "f" / "long.mp4", seconds=30.0, fps=10, objects=[CAR],
                         gop=20).path,
        "avi": _make_avi(root / "f" / "person.avi", 10.0, 10, (PERSON,)),
        "png": make_still(root / "f" / "still.png", objects=(PARKED,)),
    }
    recordings: dict[str, str] = {}
    for key, path in files.items():
        [rec] = services.catalogue.ingest(str(path), "cam1", start=START).added
        recordings[key] = rec.id
    report = services.analyser.analyse()
    assert report.units_failed == 0
    tracks: dict[str, int] = {}
    with services.store.engine.connect() as conn:
        for key, rec_id in recordings.items():
            q = select(s.tracks.c.id).where(s.tracks.c.recording_id == rec_id)
            found = conn.execute(q.order_by(s.tracks.c.id)).scalars().first()
            assert found is not None, f"the analysis found nothing in {key}"
            tracks[key] = int(found)
    actor = Actor("viewer", Role.SUPERVISOR)  # no accounts here: the local user (a supervisor)
    start = datetime.fromisoformat(START)
    case = services.footage_case(actor, "MEDIA-1", "media routes", (
        ScopeWindow("cam1", start - timedelta(hours=1), start + timedelta(hours=1)),))
    user = User(1, actor.name, actor.role, False, NOW, NOW)
    work = InCase(RequestContext(user, "token", "en", case=case.ref), actor, case)
    try:
        yield World(services, files, recordings, tracks, work)
    finally:
        services.close()


def _app(world: World, policy: PlaybackPolicy | None = None, work: InCase | None = None
         ) -> FastAPI:
    app = FastAPI()
    app.state.services = world.services
    app.state.views = ViewLog()
    app.dependency_overrides[in_case] = lambda: work or world.work
    if policy is not None:
        app.state.playback_policy = policy
    app.include_router(media.router)
    # The real app authenticates (tests/web/test_hardening.py checks the admin-only original);
    # this bare one stands in an admin for the role check of /media/recording.
    app.dependency_overrides[AdminCtx.__metadata__[0].dependency] = lambda: None
    return app


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(_app(world))


def _span(world: World, key: str) -> tuple[float, float, float]:
    with world.services.store.engine.connect() as conn:
        row = conn.execute(
            select(s.tracks.c.t_start, s.tracks.c.t_end, s.tracks.c.best_t)
            .where(s.tracks.c.id == world.tracks[key])
        ).one()
    return float(row.t_start), float(row.t_end), float(row.best_t)


def _decode(data: bytes, tmp_path: Path, suffix: str) -> tuple[str, list[float]]:
    path = tmp_path / f"got.{suffix}"
    path.write_bytes(data)
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        return vs.codec_context.name, [float(f.time) for f in c.decode(vs) if f.time is not None]


# ------------------------------------------------------------------ whole recordings
def test_recording_whole_and_ranges(world: World, client: TestClient) -> None:
    rid, data = world.recordings["mp4"], world.files["mp4"].read_bytes()
    size = len(data)
    whole = client.get(f"/media/recording/{rid}")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["content-length"] == str(size)
    assert whole.headers["cache-control"] == "no-store"
    for header, lo, hi in [("bytes=100-199", 100, 199), ("bytes=-64", size - 64, size - 1),
                           ("bytes=1000-", 1000, size - 1), ("bytes=0-0", 0, 0)]:
        part = client.get(f"/media/recording/{rid}", headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == data[lo:hi + 1]
        assert part.headers["content-range"] == f"bytes {lo}-{hi}/{size}"
        assert part.headers["content-length"] == str(hi - lo + 1)


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=9-2", "bytes=x-y", "lines=1-2"])
def test_recording_bad_range_is_416(world: World, client: TestClient, header: str) -> None:
    size = world.files["mp4"].stat().st_size
    r = client.get(f"/media/recording/{world.recordings['mp4']}", headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"
    assert r.content == b""


def test_recording_still_and_avi_types(world: World, client: TestClient) -> None:
    png = client.get(f"/media/recording/{world.recordings['png']}")
    assert png.headers["content-type"] == "image/png"
    assert png.content == world.files["png"].read_bytes()
    avi = client.get(f"/media/recording/{world.recordings['avi']}", headers={"Range": "bytes=0-3"})
    assert avi.headers["content-type"] == "application/octet-stream"
    assert avi.content == b"RIFF"


# ------------------------------------------------------------------------ clips
def _admin(world: World) -> InCase:
    """The world's case, worked in by an admin (who may have whole originals)."""
    return replace(world.work, actor=Actor("boss", Role.ADMIN))


@needs_x264
def test_clip_never_hands_a_non_admin_the_whole_original(
    world: World, client: TestClient, tmp_path: Path
) -> None:
    """A supervisor's ``<video>`` (it sends ``Range``) on a 30 s playable MP4 whose window is
    7..21 s gets the window alone, copied from the key frame before it into a seekable MP4
    (206, byte ranges of the window's file, the same bytes each time): never the original."""
    t_start, t_end, _ = _span(world, "mp4")
    data = world.files["mp4"].read_bytes()
    url = f"/media/clip/{world.tracks['mp4']}"
    r = client.get(url, headers={"Range": "bytes=0-"})
    assert r.status_code == 206 and r.headers["x-retrouve-mode"] == "remux"
    cut = r.content
    assert len(cut) < len(data) * 0.8 and cut != data
    assert r.headers["content-range"] == f"bytes 0-{len(cut) - 1}/{len(cut)}"
    assert r.headers["cache-control"] == "no-store"
    # Later ranges (the <video> seeking) are ranges of the same cut, never of the original.
    tail = client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == cut[-500:]
    mid = client.get(url, headers={"Range": f"bytes=100-{len(data) - 1}"})
    assert mid.content == cut[100:]
    assert client.get(url, headers={"Range": f"bytes={len(cut)}-"}).status_code == 416
    offset = float(r.headers["x-retrouve-offset"])
    assert t_start - 5 - 2.0 <= offset <= t_start - 5  # the key frame before the window
    codec, times = _decode(cut, tmp_path, "mp4")
    assert codec == "h264" and times[0] == pytest.approx(0.0)
    assert offset + times[-1] == pytest.approx(t_end + 5, abs=0.11)
    with av.open(str(tmp_path / "got.mp4")) as c:  # a plain MP4 with its index: seekable
        assert c.duration is not None and c.duration / 1e6 == pytest.approx(
            t_end + 5 - offset, abs=0.2)
    info = client.get(f"/media/clip/{world.tracks['mp4']}/info").json()
    assert info["mode"] == "remux" and info["offset_s"] == pytest.approx(offset)
    # The track page's hook places the player on the same origin.
    span = media.track_span(world.services.store, world.tracks["mp4"])
    assert span is not None
    assert media.clip_origin(world.services, span) == pytest.approx(offset, abs=1e-3)


def test_window_covers_only_a_file_no_longer_than_the_window(world: World) -> None:
    rec = world.services.store.get_recording(world.recordings["mp4"])
    assert rec is not None and rec.duration_s == pytest.approx(30.0, abs=0.2)
    d = rec.duration_s
    assert media.window_covers((0.0, d), rec)
    assert media.window_covers((media.WHOLE_SLACK_S, d - media.WHOLE_SLACK_S), rec)
    assert not media.window_covers((2.0, d), rec)
    assert not media.window_covers((0.0, d - 2.0), rec)
    assert not media.window_covers((7.0, 21.0), rec)
    unknown = replace(rec, duration_s=0.0)
    assert not media.window_covers((0.0, 1e9), unknown)


@needs_x264
def test_clip_of_playable_original_is_range_served_to_an_admin(world: World) -> None:
    client = TestClient(_app(world, work=_admin(world)))
    t_start, t_end, best = _span(world, "mp4")
    data = world.files["mp4"].read_bytes()
    r = client.get(f"/media/clip/{world.tracks['mp4']}", headers={"Range": "bytes=0-"})
    assert r.status_code == 206 and r.content == data
    assert r.headers["content-range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert r.headers["x-retrouve-mode"] == "original"
    assert float(r.headers["x-retrouve-offset"]) == 0.0
    assert float(r.headers["x-retrouve-window-start"]) == pytest.approx(t_start - 5, abs=1e-3)
    assert float(r.headers["x-retrouve-window-end"]) == pytest.approx(t_end + 5, abs=1e-3)
    assert float(r.headers["x-retrouve-best"]) == pytest.approx(best, abs=1e-3)
    bad = client.get(f"/media/clip/{world.tracks['mp4']}", headers={"Range": "bytes=-0"})
    assert bad.status_code == 416
    span = media.track_span(world.services.store, world.tracks["mp4"])
    assert span is not None
    assert media.clip_origin(world.services, span, admin=True) == 0.0


@needs_x264
def test_clip_window_stream_is_fragmented_mp4_of_the_window(
    world: World, client: TestClient, tmp_path: Path
) -> None:
    t_start, t_end, _ = _span(world, "mp4")
    r = client.get(f"/media/clip/{world.tracks['mp4']}")  # no Range: the window alone
    assert r.status_code == 200
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["x-retrouve-mode"] == "remux"
    assert "content-range" not in r.headers
    offset = float(r.headers["x-retrouve-offset"])
    lo, hi = t_start - 5, t_end + 5
    assert lo - 2.0 <= offset <= lo  # the key frame (every 2 s) before the window
    assert r.content[4:8] == b"ftyp" and b"moof" in r.content
    assert len(r.content) < world.files["mp4"].stat().st_size  # the window, not the file
    codec, times = _decode(r.content, tmp_path, "mp4")
    assert codec == "h264" and times[0] == pytest.approx(0.0)
    assert offset + times[-1] == pytest.approx(hi, abs=0.11)


def test_clip_of_unplayable_codec_is_transcoded(
    world: World, client: TestClient, tmp_path: Path
) -> None:
    t_start, t_end, _ = _span(world, "avi")
    r = client.get(f"/media/clip/{world.tracks['avi']}", headers={"Range": "bytes=0-"})
    assert r.status_code == 200  # the Range is ignored: a new stream, not the file
    assert r.headers["x-retrouve-mode"] == "transcode"
    assert r.headers["content-type"] in ("video/mp4", "video/webm")
    offset = float(r.headers["x-retrouve-offset"])
    lo, hi = max(0.0, t_start - 5), min(10.0, t_end + 5)
    assert offset == pytest.approx(lo, abs=0.051)
    suffix = "mp4" if r.headers["content-type"] == "video/mp4" else "webm"
    codec, times = _decode(r.content, tmp_path, suffix)
    assert codec in ("h264", "vp8")
    assert times[0] == pytest.approx(0.0)
    assert offset + times[-1] == pytest.approx(min(hi, 9.9), abs=0.11)


@needs_x264
def test_clip_policy_without_h264_transcodes_to_webm(world: World, tmp_path: Path) -> None:
    no_h264 = PlaybackPolicy(mp4_codecs=frozenset({"vp9"}), prefer="webm")
    client = TestClient(_app(world, no_h264))
    r = client.get(f"/media/clip/{world.tracks['mp4']}", headers={"Range": "bytes=0-"})
    assert r.status_code == 200
    assert (r.headers["content-type"], r.headers["x-retrouve-mode"]) == ("video/webm",
                                                                        "transcode")
    codec, _ = _decode(r.content, tmp_path, "webm")
    assert codec == "vp8"


def test_clip_of_still_serves_the_image(world: World, client: TestClient) -> None:
    r = client.get(f"/media/clip/{world.tracks['png']}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-retrouve-mode"] == "image"
    assert r.content == world.files["png"].read_bytes()


def test_clip_info_and_origin_hook(world: World, client: TestClient) -> None:
    t_start, t_end, best = _span(world, "avi")
    info = client.get(f"/media/clip/{world.tracks['avi']}/info").json()
    assert info["mode"] == "transcode" and info["src"] == f"/media/clip/{world.tracks['avi']}"
    # Clamped to the 10 s recording.
    assert info["window"] == pytest.approx([max(0.0, t_start - 5), min(10.0, t_end + 5)],
                                           abs=1e-3)
    assert info["best_t"] == pytest.approx(best, abs=1e-3)
    assert info["seek_s"] == pytest.approx(info["window"][0] - info["offset_s"], abs=2e-3)
    streamed = client.get(f"/media/clip/{world.tracks['avi']}", headers={"Range": "bytes=0-"})
    assert float(streamed.headers["x-retrouve-offset"]) == pytest.approx(info["offset_s"])
    # The hook the track page calls gives the same origin.
    span = media.track_span(world.services.store, world.tracks["avi"])
    assert span is not None
    origin = media.clip_origin(world.services, span)
    assert origin == pytest.approx(info["offset_s"], abs=1e-3)


# ------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    ("url", "codes"),
    [
        ("/media/clip/999999", {404}),
        ("/media/clip/0", {422}),
        ("/media/clip/abc", {422}),
        ("/media/clip/999999/info", {404}),
        ("/media/recording/nope", {404}),
        ("/media/clip/..%2F..%2Fetc%2Fpasswd", {404, 422}),
        ("/media/clip/%2Fetc%2Fpasswd", {404, 422}),
        ("/media/recording/..%2F..%2Fetc%2Fpasswd", {404}),
        ("/media/recording/%2Fetc%2Fpasswd", {404}),
        ("/media/recording/../../etc/passwd", {404}),
        ("/media/recording/..%252F..%252Fetc%252Fpasswd", {404}),
        ("/media/recording/%2E%2E/%2E%2E/etc/passwd", {404}),
    ],
)
def test_unknown_ids_and_traversal_are_refused(
    client: TestClient, url: str, codes: set[int]
) -> None:
    r = client.get(url, headers={"Range": "bytes=0-"})
    assert r.status_code in codes, (url, r.status_code)
    assert b"root:" not in r.content


def test_recording_id_that_is_a_real_path_is_refused(world: World, client: TestClient) -> None:
    """An id is only ever a database key: even the path of a real footage file is a 404."""
    path = str(world.files["mp4"]).replace("/", "%2F")
    r = client.get(f"/media/recording/{path}")
    assert r.status_code == 404


def test_missing_footage_file_is_404(world: World, tmp_path: Path) -> None:
    gone = world.services
    cam = Camera("cam-gone", "Gone", "UTC")
    gone.catalogue.add_camera(cam)
    path = shutil.copyfile(world.files["avi"], tmp_path / "gone.avi")
    [rec] = gone.catalogue.ingest(str(path), cam.id, start=START).added
    Path(path).unlink()
    start = datetime.fromisoformat(START)
    case = gone.footage_case(world.work.actor, "MEDIA-GONE", "a missing file", (
        ScopeWindow(cam.id, start - timedelta(hours=1), start + timedelta(hours=1)),))
    app = _app(world)
    app.dependency_overrides[in_case] = lambda: InCase(world.work.ctx, world.work.actor, case)
    r = TestClient(app).get(f"/media/recording/{rec.id}")
    assert r.status_code == 404 and "missing" in r.text and str(tmp_path) not in r.text



# ------------------------------------------------------------- whole-original journal
def _head(world: World) -> int:
    row = world.services.store.journal_head()
    return row.seq if row is not None else 0


def _originals(world: World, since: int) -> list[tuple[str, str | None, list[str], Any]]:
    """(user, case, objects, details) of the ``view-original`` entries after ``since``."""
    return [(e.user, e.case, json.loads(e.objects_json), json.loads(e.details_json))
            for e in world.services.store.journal_entries(seq_from=since + 1)
            if e.action == "view-original"]


def test_each_range_of_a_whole_original_is_journalled_as_view_original(
        world: World, client: TestClient) -> None:
    rid, size = world.recordings["mp4"], world.files["mp4"].stat().st_size
    ref, user = world.work.case.ref, world.work.actor.name
    since = _head(world)
    assert client.get(f"/media/recording/{rid}").status_code == 200
    for header in ("bytes=0-99", "bytes=100-", "bytes=0-99", f"bytes=0-{size - 1}"):
        assert client.get(f"/media/recording/{rid}", headers={"Range": header}).status_code == 206
    assert client.get(f"/media/recording/{rid}", headers={"Range": "bytes=9-2"}).status_code == 416
    # One entry per distinct part served (a repeat is the player re-reading); the range that
    # spans the file is the whole; a 416 served nothing.
    assert _originals(world, since) == [
        (user, ref, [f"recording:{rid}"], {"route": "recording", "bytes": b, "size": size})
        for b in ("whole", "0-99", f"100-{size - 1}")]
    # Never mistaken for a clip's bounded view.
    assert not [e for e in world.services.store.journal_entries(seq_from=since + 1)
                if e.action == "result-view" and "recording" in e.details_json]


@needs_x264
def test_a_clip_url_serving_an_admin_the_whole_file_is_a_view_original(world: World) -> None:
    admin = TestClient(_app(world, work=_admin(world)))
    track, rid = world.tracks["mp4"], world.recordings["mp4"]
    size = world.files["mp4"].stat().st_size
    since = _head(world)
    r = admin.get(f"/media/clip/{track}", headers={"Range": "bytes=0-"})
    assert r.status_code == 206 and r.headers["x-retrouve-mode"] == "original"
    assert _originals(world, since) == [
        ("boss", world.work.case.ref, [f"recording:{rid}", f"track:{track}"],
         {"route": "clip", "bytes": "whole", "size": size})]
    # A non-admin on the same URL gets the window cut: a clip view, no view-original.
    since = _head(world)
    other = TestClient(_app(world))
    assert other.get(f"/media/clip/{track}", headers={"Range": "bytes=0-"}).headers[
        "x-retrouve-mode"] == "remux"
    assert _originals(world, since) == []


def test_served_bytes_as_the_journal_writes_them() -> None:
    assert media.served_bytes(None, 1000) == "whole"
    assert media.served_bytes("bytes=0-", 1000) == "whole"
    assert media.served_bytes("bytes=-1000", 1000) == "whole"
    assert media.served_bytes("bytes=10-19", 1000) == "10-19"
    assert media.served_bytes("bytes=-10", 1000) == "990-999"
    assert media.served_bytes("bytes=2000-", 1000) is None
