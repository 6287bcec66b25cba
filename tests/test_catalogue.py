"""Cameras, ingest of recorded files and folders, probing and hashing (synthetic clips)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clips import (
    BLUE,
    CODEC,
    DECODED_CODEC,
    RED,
    YELLOW,
    Clip,
    Moving,
    copy_as,
    make_clip,
    make_corrupt,
    make_still,
    make_truncated,
)
from retrouve.catalogue.probe import probe
from retrouve.catalogue.sources import media_files, start_from_filename
from retrouve.digest import sha256_file
from retrouve.domain import Camera
from retrouve.errors import (
    CatalogueError,
    DuplicateCameraError,
    LiveSourceRefused,
    MediaError,
    RecordingTimeError,
    UnknownCameraError,
)
from retrouve.services import Services

CAM = Camera("cam1", "Place de la Gare", "Europe/Paris", 48.8, 2.3, "1 place de la Gare")


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def clip_a(clip_dir: Path) -> Clip:
    return make_clip(clip_dir / "a.mp4", seconds=4.0, fps=25, size=(320, 240),
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 4.0)])


@pytest.fixture(scope="module")
def clip_b(clip_dir: Path) -> Clip:
    return make_clip(clip_dir / "b.mp4", seconds=2.0, fps=10, size=(320, 240),
                     objects=[Moving(BLUE, (30, 60), (280, 100), (20, 100), 0.0, 2.0)])


@pytest.fixture(scope="module")
def clip_c(clip_dir: Path) -> Clip:
    return make_clip(clip_dir / "c.mp4", seconds=3.0, fps=10, size=(320, 240),
                     objects=[Moving(YELLOW, (40, 40), (100, 10), (100, 180), 0.0, 3.0)])


@pytest.fixture
def cam(services: Services) -> Camera:
    services.catalogue.add_camera(CAM)
    return CAM


# ------------------------------------------------------------------------------ cameras
def test_add_camera_then_same_again_is_a_noop(services: Services) -> None:
    assert services.catalogue.add_camera(CAM) is True
    assert services.catalogue.add_camera(CAM) is False
    assert services.store.list_cameras() == [CAM]
    assert services.store.require_camera("cam1") == CAM


@pytest.mark.parametrize(
    "change",
    [{"name": "Other"}, {"timezone": "Europe/London"}, {"latitude": 1.0}, {"address": None}],
)
def test_add_camera_with_other_details_is_refused(
    services: Services, change: dict[str, object]
) -> None:
    services.catalogue.add_camera(CAM)
    with pytest.raises(DuplicateCameraError, match="'cam1'"):
        services.catalogue.add_camera(replace(CAM, **change))  # type: ignore[arg-type]
    assert services.store.list_cameras() == [CAM]


@pytest.mark.parametrize(
    ("camera", "error", "text"),
    [
        (Camera("", "empty"), CatalogueError, "bad camera id"),
        (Camera("a/b", "slash"), CatalogueError, "bad camera id"),
        (Camera("cam9", "zone", "Mars/Olympus"), RecordingTimeError, "Mars/Olympus"),
        (Camera("cam9", " "), CatalogueError, "name must be 1-256"),
        (Camera("cam9", "x" * 257), CatalogueError, "name must be 1-256"),
        (Camera("cam9", "lat", latitude=90.5, longitude=0.0), CatalogueError,
         "latitude 90.5 is outside"),
        (Camera("cam9", "lon", latitude=0.0, longitude=-180.1), CatalogueError,
         "longitude -180.1 is outside"),
        (Camera("cam9", "nan", latitude=float("nan"), longitude=0.0), CatalogueError,
         "latitude nan"),
    ],
)
def test_add_camera_refuses_bad_ids_and_zones(
    services: Services, camera: Camera, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        services.catalogue.add_camera(camera)
    assert services.store.list_cameras() == []


def test_unknown_camera_error_names_the_camera(services: Services, clip_a: Clip) -> None:
    services.catalogue.add_camera(CAM)
    with pytest.raises(UnknownCameraError, match="'nope'") as info:
        services.catalogue.ingest(str(clip_a.path), "nope", "2026-01-04T10:00:00+01:00")
    assert "cam1" in str(info.value)  # the known cameras are listed
    with pytest.raises(UnknownCameraError, match="'ghost'"):
        services.store.require_camera("ghost")


# --------------------------------------------------------------------------- live refused
@pytest.mark.parametrize(
    "source",
    [
        "rtsp://10.0.0.12:554/stream1",
        "RTSP://cam/live",
        "http://nvr.local/live.m3u8",
        "https://example.org/cam.mjpg",
        "/dev/video0",
        "srt://10.0.0.1:9000",
        "udp://239.0.0.1:1234",
        "rtmp://server/app",
    ],
)
def test_live_sources_are_refused(services: Services, cam: Camera, source: str) -> None:
    with pytest.raises(LiveSourceRefused) as info:
        services.catalogue.ingest(source, cam.id)
    message = str(info.value)
    assert source in message
    assert "recorded footage only" in message
    assert services.store.list_recordings() == []


def test_live_source_refused_before_camera_lookup(services: Services) -> None:
    # Refusal does not depend on the camera existing.
    with pytest.raises(LiveSourceRefused):
        services.catalogue.ingest("rtsp://x", "not-registered")


def test_missing_path_is_a_media_error(services: Services, cam: Camera, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.mp4"
    with pytest.raises(MediaError, match=r"nowhere\.mp4"):
        services.catalogue.ingest(str(missing), cam.id, "2026-01-04T10:00:00+01:00")


# -------------------------------------------------------------------------- single files
def test_ingest_with_start_then_reingest_is_skipped(
    services: Services, cam: Camera, clip_a: Clip, tmp_path: Path
) -> None:
    report = services.catalogue.ingest(str(clip_a.path), cam.id, "2026-01-04T10:00:00+01:00")
    assert report.failed == [] and report.skipped == []
    assert len(report.added) == 1
    rec = report.added[0]
    assert rec.camera_id == "cam1"
    assert rec.path == str(clip_a.path.resolve())
    assert rec.start == datetime(2026, 1, 4, 9, 0, 0, tzinfo=UTC)
    assert rec.id == f"cam1-{rec.sha256[:12]}"
    stored = services.store.get_recording(rec.id)
    assert stored == rec
    [entry] = services.store.list_recordings("cam1")
    listed, status, error = entry.recording, entry.status, entry.error
    assert (listed, status, error) == (rec, "pending", None)

    again = services.catalogue.ingest(str(clip_a.path), cam.id, "2026-01-04T10:00:00+01:00")
    assert again.added == [] and again.failed == []
    assert [r.id for r in again.skipped] == [rec.id]

    # The same bytes under another name (an export copied twice) are recognised too.
    twin = copy_as(clip_a.path, tmp_path / "copy" / "renamed.mp4")
    third = services.catalogue.ingest(str(twin), cam.id, "2026-01-04T11:00:00+01:00")
    assert third.added == [] and third.failed == []
    assert [r.id for r in third.skipped] == [rec.id]
    assert len(services.store.list_recordings()) == 1
    added_json = report.to_json()["added"]
    assert isinstance(added_json, list)
    [added] = added_json
    assert added["id"] == rec.id and added["path"] == rec.path
    assert datetime.fromisoformat(added["start"]) == datetime(2026, 1, 4, 9, 0, tzinfo=UTC)


def test_same_file_for_another_camera_is_a_new_recording(
    services: Services, cam: Camera, clip_a: Clip
) -> None:
    services.catalogue.add_camera(Camera("cam2", "Other"))
    first = services.catalogue.ingest(str(clip_a.path), "cam1", "2026-01-04T10:00:00+01:00")
    second = services.catalogue.ingest(str(clip_a.path), "cam2", "2026-01-04T10:00:00+01:00")
    assert len(first.added) == len(second.added) == 1
    assert first.added[0].id != second.added[0].id
    assert second.added[0].id.startswith("cam2-")


@pytest.mark.parametrize(
    ("start", "zone", "utc"),
    [
        ("2026-01-04T10:00:00", "Europe/Paris", datetime(2026, 1, 4, 9, 0, tzinfo=UTC)),
        ("2026-07-04T10:00:00", "Europe/Paris", datetime(2026, 7, 4, 8, 0, tzinfo=UTC)),
        ("2026-01-04T10:00:00", "America/New_York", datetime(2026, 1, 4, 15, 0, tzinfo=UTC)),
        ("2026-01-04T10:00:00+00:00", "Europe/Paris", datetime(2026, 1, 4, 10, 0, tzinfo=UTC)),
        ("2026-01-04T10:00:00-03:00", "Asia/Tokyo", datetime(2026, 1, 4, 13, 0, tzinfo=UTC)),
    ],
)
def test_start_without_offset_is_in_the_camera_zone(
    services: Services, clip_a: Clip, start: str, zone: str, utc: datetime
) -> None:
    services.catalogue.add_camera(Camera("z", "zoned", zone))
    [rec] = services.catalogue.ingest(str(clip_a.path), "z", start).added
    assert rec.start == utc
    stored = services.store.get_recording(rec.id)
    assert stored is not None and stored.start == utc


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-45T10:00", "10h00"])
def test_bad_start_text_is_reported_per_file(
    services: Services, cam: Camera, clip_a: Clip, bad: str
) -> None:
    report = services.catalogue.ingest(str(clip_a.path), cam.id, bad)
    assert report.added == []
    [(path, message)] = report.failed
    assert path == str(clip_a.path)
    assert "bad start time" in message and repr(bad) in message


def test_missing_start_time_is_a_recording_time_error(
    services: Services, cam: Camera, clip_a: Clip, tmp_path: Path
) -> None:
    unnamed = copy_as(clip_a.path, tmp_path / "export" / "clip.mp4")
    report = services.catalogue.ingest(str(unnamed), cam.id)
    assert report.added == [] and report.skipped == []
    [(path, message)] = report.failed
    assert path == str(unnamed)
    assert "clip.mp4" in message and "no start time" in message and "--start" in message
    # The same message, as the error type the catalogue uses for it.
    with pytest.raises(RecordingTimeError, match="no start time"):
        services.catalogue._ingest_file(unnamed, cam, None, None)


def test_start_applies_to_one_file_only(
    services: Services, cam: Camera, clip_a: Clip, clip_b: Clip, tmp_path: Path
) -> None:
    folder = tmp_path / "two"
    copy_as(clip_a.path, folder / "x.mp4")
    copy_as(clip_b.path, folder / "y.mp4")
    with pytest.raises(RecordingTimeError, match="one file"):
        services.catalogue.ingest(str(folder), cam.id, "2026-01-04T10:00:00+01:00")
    assert services.store.list_recordings() == []


# ------------------------------------------------------------------------------- folders
@pytest.mark.parametrize(
    ("zone", "first_utc", "second_utc"),
    [
        ("Europe/Paris", datetime(2026, 1, 4, 9, 0, tzinfo=UTC),
         datetime(2026, 1, 4, 9, 15, tzinfo=UTC)),
        ("UTC", datetime(2026, 1, 4, 10, 0, tzinfo=UTC), datetime(2026, 1, 4, 10, 15, tzinfo=UTC)),
    ],
)
def test_folder_ingest_is_recursive_with_starts_from_names(
    services: Services, clip_a: Clip, clip_b: Clip, tmp_path: Path, zone: str,
    first_utc: datetime, second_utc: datetime,
) -> None:
    services.catalogue.add_camera(Camera("cam1", "c", zone))
    folder = tmp_path / "export"
    first = copy_as(clip_a.path, folder / "cam1_20260104_100000.mp4")
    second = copy_as(clip_b.path, folder / "day2" / "deep" / "cam1-20260104T101500.mp4")
    (folder / "notes.txt").write_text("not media")
    (folder / "day2" / "index.json").write_text("{}")

    report = services.catalogue.ingest(str(folder), "cam1")
    assert report.failed == [] and report.skipped == []
    starts = {Path(r.path).name: r.start for r in report.added}
    assert starts == {first.name: first_utc, second.name: second_utc}
    assert {r.path for r in report.added} == {str(first.resolve()), str(second.resolve())}

    again = services.catalogue.ingest(str(folder), "cam1")
    assert again.added == [] and len(again.skipped) == 2


def test_folder_with_corrupt_and_truncated_files_keeps_the_good_one(
    services: Services, cam: Camera, clip_c: Clip, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    good = copy_as(clip_c.path, folder / "cam1_20260104_120000.mp4")
    corrupt = make_corrupt(folder / "cam1_20260104_110000.mp4")
    truncated = make_truncated(folder / "sub" / "cam1_20260104_130000.mp4")

    report = services.catalogue.ingest(str(folder), cam.id)
    assert [r.path for r in report.added] == [str(good.resolve())]
    assert report.skipped == []
    failed = dict(report.failed)
    assert set(failed) == {str(corrupt), str(truncated)}
    for path, message in failed.items():
        assert Path(path).name in message
        assert "cannot" in message
    assert [e.recording.id for e in services.store.list_recordings()] == [report.added[0].id]
    failed_json = report.to_json()["failed"]
    assert isinstance(failed_json, list)
    assert {f["path"] for f in failed_json} == set(failed)


def test_corrupt_and_truncated_files_fail_probe_naming_the_file(tmp_path: Path) -> None:
    for path in (make_corrupt(tmp_path / "junk.mp4"),
                 make_truncated(tmp_path / "cut.mp4")):
        with pytest.raises(MediaError, match=re.escape(path.name)):
            probe(path)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        probe(empty)


def test_media_files_lists_media_recursively_sorted(tmp_path: Path) -> None:
    for name in ("b.MP4", "a.mkv", "x/c.jpg", "x/y/d.avi", "notes.txt", "x/e.srt"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"0")
    found = [p.relative_to(tmp_path).as_posix() for p in media_files(tmp_path)]
    assert found == ["a.mkv", "b.MP4", "x/c.jpg", "x/y/d.avi"]
    assert list(media_files(tmp_path / "notes.txt")) == [tmp_path / "notes.txt"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cam1_20260104_100000.mp4", datetime(2026, 1, 4, 9, 0, tzinfo=UTC)),
        ("cam1-20260104T101500.mp4", datetime(2026, 1, 4, 9, 15, tzinfo=UTC)),
        ("20260104-235959_cam.mp4", datetime(2026, 1, 4, 22, 59, 59, tzinfo=UTC)),
        ("20260104101500.avi", datetime(2026, 1, 4, 9, 15, tzinfo=UTC)),
        ("clip.mp4", None),
        ("cam1_2026_01_04.mp4", None),
    ],
)
def test_start_from_filename(name: str, expected: datetime | None) -> None:
    found = start_from_filename(Path(name), r"(?P<start>\d{8}[T_-]?\d{6})", "%Y%m%d%H%M%S",
                                "Europe/Paris")
    assert found == expected
    if found is not None:
        assert found.utcoffset() is not None


def test_start_from_filename_bad_digits_names_the_file() -> None:
    with pytest.raises(RecordingTimeError, match=r"cam1_20261399_250000\.mp4"):
        start_from_filename(Path("cam1_20261399_250000.mp4"), r"(?P<start>\d{8}[T_-]?\d{6})",
                            "%Y%m%d%H%M%S", "Europe/Paris")


# -------------------------------------------------------------------------------- images
@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg"])
def test_image_is_a_one_frame_recording(
    services: Services, cam: Camera, tmp_path: Path, suffix: str
) -> None:
    still = make_still(tmp_path / f"cam1_20260104_100000{suffix}", size=(320, 240),
                       objects=(Moving(RED, (50, 30), (100, 100), (100, 100), 0.0, 0.0),))
    [rec] = services.catalogue.ingest(str(still), cam.id).added
    assert rec.is_image is True
    assert rec.duration_s == 0.0
    assert (rec.width, rec.height) == (320, 240)
    assert rec.frame_count == 1
    assert rec.start == rec.end == datetime(2026, 1, 4, 9, 0, tzinfo=UTC)
    assert rec.codec in {"png", "mjpeg"}


# ---------------------------------------------------------------------------- probe / hash
def test_probe_values_of_a_generated_clip(clip_a: Clip, clip_b: Clip) -> None:
    for clip in (clip_a, clip_b):
        info = probe(clip.path)
        assert info.is_image is False
        assert info.fps == pytest.approx(clip.fps)
        assert (info.width, info.height) == clip.size
        assert info.codec == DECODED_CODEC
        assert abs(info.duration_s - clip.seconds) <= 1.0 / clip.fps + 1e-6
        assert info.frame_count in (None, clip.frames)
        assert info.size_bytes == clip.path.stat().st_size


def test_sha256_matches_hashlib(clip_a: Clip, tmp_path: Path) -> None:
    expected = hashlib.sha256(clip_a.path.read_bytes()).hexdigest()
    assert sha256_file(clip_a.path) == expected
    assert probe(clip_a.path).sha256 == expected
    # More than one 1 MiB read chunk.
    big = tmp_path / "big.bin"
    data = bytes(range(256)) * (5 * 4096 + 3)
    big.write_bytes(data)
    assert sha256_file(big) == hashlib.sha256(data).hexdigest()


def test_ingested_recording_hash_and_size(
    services: Services, cam: Camera, clip_b: Clip
) -> None:
    [rec] = services.catalogue.ingest(str(clip_b.path), cam.id, "2026-01-04T10:00:00Z").added
    assert rec.sha256 == hashlib.sha256(clip_b.path.read_bytes()).hexdigest()
    assert rec.size_bytes == clip_b.path.stat().st_size
    assert rec.fps == pytest.approx(10.0)
    assert rec.end == datetime(2026, 1, 4, 10, 0, 2, tzinfo=UTC)


@pytest.mark.skipif(CODEC != "libx264", reason="raw .h264 needs the libx264 encoder")
def test_probe_duration_of_a_raw_h264_stream(tmp_path: Path) -> None:
    raw = make_clip(tmp_path / "cam1_20260104_100000.h264", seconds=4.0, fps=25,
                    objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 4.0)])
    info = probe(raw.path)
    assert info.codec == "h264" and info.fps == pytest.approx(25.0)
    assert abs(info.duration_s - 4.0) <= 1.0 / 25 + 1e-6


def test_recordings_overview_in_the_camera_zone_with_progress(
    services: Services, cam: Camera, clip_a: Clip, clip_b: Clip
) -> None:
    services.catalogue.add_camera(Camera("cam2", "Quai", "America/New_York"))
    services.catalogue.ingest(str(clip_a.path), cam.id, "2026-01-04T10:00:00+01:00")
    services.catalogue.ingest(str(clip_b.path), "cam2", "2026-07-04T10:00:00-04:00")
    rows = {r.recording.camera_id: r for r in services.catalogue.recordings()}
    assert rows["cam1"].local_start.isoformat() == "2026-01-04T10:00:00+01:00"
    assert rows["cam2"].local_start.isoformat() == "2026-07-04T10:00:00-04:00"
    assert rows["cam1"].progress.total == 0 and rows["cam1"].status == "pending"
    assert [r.recording.camera_id for r in services.catalogue.recordings("cam2")] == ["cam2"]

    services.analyser.analyse()
    after = {r.recording.camera_id: r.to_json() for r in services.catalogue.recordings()}
    assert after["cam1"]["status"] == "done"
    assert after["cam1"]["units_done"] == after["cam1"]["units_total"] >= 1
    assert after["cam1"]["units_failed"] == 0
    assert set(after["cam1"]) == {"id", "camera", "path", "start", "duration_s", "sha256",
                                  "status", "error", "units_done", "units_failed",
                                  "units_total", "analysed_until_s"}
