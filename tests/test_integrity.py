"""Footage integrity before analysis: the ingest stamp (size, mtime, sampled blocks) is
re-checked; a changed file is flagged "changed" and never analysed under its old hash, a touch
alone is not tampering (a full SHA-256 decides), and the batch goes on."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from clips import BLUE, RED, Moving, copy_as, make_clip
from retrouve.catalogue.integrity import check_footage, stamp_of
from retrouve.digest import sample_offsets, sample_sha256, sha256_file
from retrouve.domain import Camera, Recording
from retrouve.errors import FootageChanged, SourceChanged
from retrouve.services import Services
from retrouve.store import schema as s

CAM = Camera("cam1", "Quai", "Europe/Paris")


def _two(services: Services, tmp_path: Path) -> tuple[Recording, Recording]:
    services.catalogue.add_camera(CAM)
    folder = tmp_path / "in"
    make_clip(folder / "cam1_20260104_100000.mp4", seconds=2.0, fps=10,
              objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 2.0)])
    make_clip(folder / "cam1_20260104_110000.mp4", seconds=2.0, fps=10,
              objects=[Moving(BLUE, (60, 30), (0, 40), (260, 40), 0.0, 2.0)])
    added = sorted(services.catalogue.ingest(str(folder), CAM.id).added, key=lambda r: r.path)
    first, second = added
    return first, second


def _status(services: Services, rec_id: str) -> tuple[str, str | None]:
    [e] = [e for e in services.store.list_recordings() if e.recording.id == rec_id]
    return e.status, e.error


def test_ingest_records_the_stamp(services: Services, tmp_path: Path) -> None:
    first, _ = _two(services, tmp_path)
    stored = services.store.get_recording(first.id)
    assert stored is not None
    now = stamp_of(Path(stored.path))
    assert (stored.mtime_ns, stored.sample_sha256) == (now.mtime_ns, now.sample_sha256)
    assert stored.size_bytes == now.size_bytes and check_footage(stored) is None


def test_replaced_file_is_flagged_changed_and_the_batch_goes_on(
        services: Services, tmp_path: Path) -> None:
    first, second = _two(services, tmp_path)
    # The first file is replaced by another clip after ingest (same name, other content).
    make_clip(Path(first.path), seconds=3.0, fps=10,
              objects=[Moving(BLUE, (20, 50), (0, 100), (200, 100), 0.0, 3.0)])
    report = services.analyser.analyse()
    [(rec_id, message)] = report.changed
    assert rec_id == first.id and first.path in message and "changed since ingest" in message
    assert report.units_done == 1 and report.units_failed == 0  # the second one only
    status, error = _status(services, first.id)
    assert status == "changed" and error == message
    assert _status(services, second.id) == ("done", None)
    assert services.store.units_of([first.id]) == []  # never planned, never decoded
    assert report.to_json()["changed"] == [{"recording": first.id, "error": message}]


def test_same_size_edit_is_caught_by_the_sampled_blocks(services: Services,
                                                        tmp_path: Path) -> None:
    first, _ = _two(services, tmp_path)
    path = Path(first.path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped, size unchanged
    path.write_bytes(bytes(data))
    with pytest.raises(FootageChanged, match="sampled blocks differ") as info:
        check_footage(first)
    assert isinstance(info.value, SourceChanged) and str(path) in str(info.value)


def test_a_touch_is_not_tampering(services: Services, tmp_path: Path) -> None:
    first, _ = _two(services, tmp_path)
    path = Path(first.path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    report = services.analyser.analyse()
    assert report.changed == [] and report.units_done == 2
    assert _status(services, first.id) == ("done", None)
    stored = services.store.get_recording(first.id)
    assert stored is not None and stored.mtime_ns == path.stat().st_mtime_ns  # new time kept


def test_an_edit_between_the_sampled_blocks_is_caught_by_the_full_hash(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(3 << 20))  # 3 MiB: 16 sampled blocks leave gaps
    stamp = stamp_of(path)
    rec = Recording("r", "cam1", str(path), sha256_file(path), stamp.size_bytes,
                    datetime(2026, 1, 4, tzinfo=UTC), 10.0, 25.0, 320, 240, "h264",
                    mtime_ns=stamp.mtime_ns, sample_sha256=stamp.sample_sha256)
    offsets = sample_offsets(stamp.size_bytes)
    gap = offsets[1] // 2 + (64 << 10) // 2  # between the first and second sampled blocks
    assert all(not (o <= gap < o + (64 << 10)) for o in offsets)
    with path.open("r+b") as f:
        f.seek(gap)
        byte = f.read(1)
        f.seek(gap)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert sample_sha256(path) == stamp.sample_sha256  # the cheap check alone cannot see it
    os.utime(path, ns=(stamp.mtime_ns, stamp.mtime_ns + 1_000_000_000))
    with pytest.raises(FootageChanged, match="SHA-256"):
        check_footage(rec)


def test_missing_file_then_restored(services: Services, tmp_path: Path) -> None:
    first, _ = _two(services, tmp_path)
    path = Path(first.path)
    kept = copy_as(path, tmp_path / "kept.mp4")
    path.unlink()
    report = services.analyser.analyse()
    [(rec_id, message)] = report.changed
    assert rec_id == first.id and "cannot read" in message
    assert _status(services, first.id)[0] == "changed"
    os.replace(kept, path)  # the original is back (same bytes; a new mtime)
    again = services.analyser.analyse()
    assert again.changed == [] and again.units_done == 1
    assert _status(services, first.id) == ("done", None)


def test_a_recording_without_stamp_gets_one_after_a_full_hash(services: Services,
                                                              tmp_path: Path) -> None:
    first, _ = _two(services, tmp_path)
    with services.store.engine.begin() as conn:  # as ingested before migration 0009
        conn.execute(update(s.recordings).values(mtime_ns=None, sample_sha256=None))
    report = services.analyser.analyse()
    assert report.changed == [] and report.units_done == 2
    stored = services.store.get_recording(first.id)
    assert stored is not None and stored.sample_sha256 == sample_sha256(Path(first.path))
