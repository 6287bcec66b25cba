"""Applying a purge: every table derived from a recording emptied, thumbnails and owned files
deleted, a signed certificate per recording, journalled; the register."""

from __future__ import annotations

import csv
import io
import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from conftest import make_services
from retrouve.config import RetentionSettings, Settings
from retrouve.domain import (
    Attribute,
    Box,
    Camera,
    CaseStatus,
    LegalBasis,
    Observation,
    PlateRead,
    Recording,
    Role,
    ScopeWindow,
    StageStats,
    Track,
    UnitResult,
    WorkUnit,
)
from retrouve.errors import ConfigError
from retrouve.legal.cases import Actor
from retrouve.legal.purge import SYSTEM, Retention, verify_certificate
from retrouve.store import schema as s
from retrouve.store.cases import CaseFields
from retrouve.store.db import Store
from retrouve.store.retention import dependent_tables

T0 = datetime(2026, 1, 4, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=31)
CAM = Camera("cam1", "Gare", "Europe/Paris")


def add_analysed(store: Store, rec_id: str, sha: str, path: Path, *, owned: bool) -> None:
    path.write_bytes(b"footage " + rec_id.encode())
    store.add_recording(Recording(rec_id, CAM.id, str(path), sha * 32, 10, T0, 20.0, 25.0,
                                  640, 360, "h264"), T0, owned=owned)
    u = WorkUnit(f"{rec_id}@0000000.0", rec_id, str(path), 0.0, 10.0, 25.0)
    store.ensure_units([u])
    run = store.start_run(T0, {}, {}, "t")
    box = Box(10, 20, 50, 80)
    track = Track(rec_id, u.id, 1, "car", 0.9, 1.0, 4.0, 2.0, box,
                  (Attribute("colour", "red", 0.8),),
                  (Observation(1.0, box, 0.9), Observation(4.0, box, 0.8)),
                  thumbnail_jpeg=b"\xff\xd8jpeg",
                  plate=PlateRead("AB123CD", 0.9, tuple((c, 0.9) for c in "AB123CD")),
                  vectors={"builtin-colour": np.ones(4, dtype=np.float32) / 2})
    store.save_unit_result(run, UnitResult(u.id, (track,), StageStats()), T0)


def rows_of(store: Store, table: s.Table, rec_id: str) -> int:
    """Rows of ``table`` belonging to ``rec_id`` (through tracks for the track tables)."""
    with store.engine.connect() as conn:
        if "recording_id" in table.c:
            cond = table.c.recording_id == rec_id
        else:
            cond = table.c.track_id.in_(select(s.tracks.c.id)
                                        .where(s.tracks.c.recording_id == rec_id))
        return int(conn.execute(select(func.count()).select_from(table).where(cond))
                   .scalar_one())


@pytest.fixture
def world(tmp_path: Path, database_url: str | None) -> tuple[Settings, Store, Retention]:
    settings = Settings(data_dir=tmp_path / "data", workers=1, executor="inline",
                        database_url=database_url)
    svc = make_services(settings)
    svc.store.add_camera(CAM, T0)
    retention = Retention(svc.store, svc.journal, settings.retention, lambda: NOW)
    return settings, svc.store, retention


def test_every_table_referencing_a_recording_is_found() -> None:
    names = {t.name for t, _, _ in dependent_tables()}
    assert names == {"work_units", "tracks", "track_attributes", "plate_reads",
                     "track_vectors"}
    # And no other table holds a recording or track id under another name (case_marks names
    # tracks without a foreign key and is purged by track id: see the purge test).
    for table in s.metadata.sorted_tables:
        if table.name in names | {"recordings", "purge_certificates", "case_marks"}:
            continue
        assert not {"recording_id", "track_id"} & set(table.c.keys()), table.name


def test_purge_removes_everything_derived_and_the_owned_file(
        world: tuple[Settings, Store, Retention], tmp_path: Path) -> None:
    settings, store, retention = world
    owned, shared = tmp_path / "owned.mp4", tmp_path / "nvr.mp4"
    add_analysed(store, "ra", "ab", owned, owned=True)
    add_analysed(store, "rb", "cd", shared, owned=False)
    blobs = list((settings.data_dir / "blobs").rglob("*.jpg"))
    assert len(blobs) == 2
    for table, _, _ in dependent_tables():
        assert rows_of(store, table, "ra") == 1, table.name

    dry = retention.run(SYSTEM, dry_run=True)
    assert [p.body["recording"]["id"] for p in dry.purged] == ["ra", "rb"]
    assert store.get_recording("ra") is not None and owned.exists()

    report = retention.run(SYSTEM)
    assert [(p.body["recording"]["id"], p.body["file"]) for p in report.purged] == [
        ("ra", "deleted"), ("rb", "forgotten")]
    for rec in ("ra", "rb"):
        assert store.get_recording(rec) is None
        for table, _, _ in dependent_tables():
            assert rows_of(store, table, rec) == 0, table.name
    assert not list((settings.data_dir / "blobs").rglob("*.jpg"))
    assert not owned.exists() and shared.exists()  # unowned: only forgotten by default
    body = report.purged[0].body
    assert body["rows"] == {"case_marks": 0, "plate_reads": 1, "recordings": 1,
                            "track_attributes": 1,
                            "track_vectors": 1, "tracks": 1, "work_units": 1}
    assert body["recording"]["sha256"] == "ab" * 32 and body["rule"] == "age"

    certs = retention.certificates()
    assert len(certs) == 2 and all(retention.verify(c) for c in certs)
    forged = certs[0].body_json.replace('"file":"deleted"', '"file":"kept"')
    assert not verify_certificate(forged, certs[0].signature, certs[0].key_id,
                                  retention.journal.key.public)
    verdict = retention.journal.verify()
    assert verdict.ok and verdict.entries == 2
    assert retention.run(SYSTEM).purged == ()  # nothing left to purge


def test_unowned_files_deleted_when_the_site_says_so(tmp_path: Path,
                                                    database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1, executor="inline",
                        retention={"unowned_files": "delete"}, database_url=database_url)
    svc = make_services(settings)
    svc.store.add_camera(CAM, T0)
    shared = tmp_path / "nvr.mp4"
    add_analysed(svc.store, "rb", "cd", shared, owned=False)
    report = Retention(svc.store, svc.journal, settings.retention, lambda: NOW).run(SYSTEM)
    assert [p.body["file"] for p in report.purged] == ["deleted"] and not shared.exists()


def test_register_csv_lists_each_destruction(world: tuple[Settings, Store, Retention],
                                            tmp_path: Path) -> None:
    _, store, retention = world
    add_analysed(store, "ra", "ab", tmp_path / "a.mp4", owned=True)
    retention.run(SYSTEM)
    rows = list(csv.DictReader(io.StringIO(retention.register_csv())))
    assert [(r["recording"], r["camera"], r["rule"], r["file"], r["rows"]) for r in rows] == [
        ("ra", "cam1", "age", "deleted", "6")]
    assert rows[0]["destroyed_at_utc"] == NOW.isoformat(timespec="microseconds")
    assert json.loads(retention.certificates()[0].body_json)["recording"]["start_utc"]


def pdf_text(data: bytes) -> bytes:
    """The content streams of an fpdf2 PDF, inflated (as tests/test_export_bundle.py)."""
    out = b""
    for body in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out += zlib.decompress(body)
        except zlib.error:
            continue
    return out


def test_register_pdf_lists_each_destruction(world: tuple[Settings, Store, Retention],
                                            tmp_path: Path) -> None:
    _, store, retention = world
    empty = pdf_text(retention.register_pdf())
    assert "Aucune destruction".encode("latin-1") in empty
    add_analysed(store, "rec-alpha", "ab", tmp_path / "a.mp4", owned=True)
    add_analysed(store, "rec-beta", "cd", tmp_path / "b.mp4", owned=False)
    # Before the purge both are listed as kept, with their due destruction date.
    due = (T0 + timedelta(seconds=20) + timedelta(days=30)).isoformat(timespec="microseconds")
    assert [r["destruction_due_utc"] for r in retention.kept_rows()] == [due, due]
    kept = pdf_text(retention.register_pdf())
    assert b"rec-alpha" in kept and b"rec-beta" in kept and due.encode() in kept
    retention.run(SYSTEM)
    assert retention.kept_rows() == []
    data = retention.register_pdf()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for rec, sha in (("rec-alpha", "ab"), ("rec-beta", "cd")):
        assert rec.encode() in text and (sha * 32).encode() in text
    assert b"deleted" in text and b"forgotten" in text
    assert "Caméra".encode("latin-1") in text  # accents pass in Latin-1
    assert text.count(b"Certificat ") == len(retention.certificates()) == 2


@pytest.mark.parametrize("days", [31, 0])
def test_max_age_above_the_cap_is_refused(days: int) -> None:
    with pytest.raises(ConfigError, match="max_age_days"):
        Settings(retention={"max_age_days": days})
    with pytest.raises(ConfigError, match="camera_max_age_days"):
        Settings(retention={"camera_max_age_days": {"cam1": days}})
    assert RetentionSettings(camera_max_age_days={"cam1": 7}).max_age("cam1") == 7


def case_fields(ref: str) -> CaseFields:
    return CaseFields(ref=ref, basis=LegalBasis.ART_60_1, procedure_number="2026/001",
                      authority="OPJ Martin", authority_service="Commissariat",
                      authority_contact="01 23", received_at=T0, purpose="vol")


def test_closing_a_case_purges_its_derived_data_at_once(tmp_path: Path,
                                                        database_url: str | None) -> None:
    svc = make_services(Settings(data_dir=tmp_path / "data", workers=1, executor="inline",
                                 database_url=database_url))
    svc.store.add_camera(CAM, T0)
    for rec_id, sha, offset in (("ra", "ab", 0), ("rb", "cd", 3600)):
        add_analysed(svc.store, rec_id, sha, tmp_path / f"{rec_id}.mp4", owned=True)
        if offset:  # move rb an hour later: only case PV-B's scope reaches it
            with svc.store.engine.begin() as conn:
                conn.execute(s.recordings.update().where(s.recordings.c.id == rec_id).values(
                    start_utc=T0 + timedelta(seconds=offset),
                    end_utc=T0 + timedelta(seconds=offset + 10)))
    sup = Actor("sup", Role.SUPERVISOR)
    a = (ScopeWindow("cam1", T0 - timedelta(minutes=1), T0 + timedelta(minutes=1)),)
    both = (ScopeWindow("cam1", T0 - timedelta(minutes=1), T0 + timedelta(hours=2)),)
    svc.cases.create(sup, case_fields("PV-A"), a, ("sup",))
    svc.cases.create(sup, case_fields("PV-B"), both, ("sup",))
    # Closing PV-A: ra is still held by the open PV-B, nothing is purged yet.
    svc.set_case_status(sup, "PV-A", CaseStatus.CLOSED)
    assert rows_of(svc.store, s.tracks, "ra") == 1 and not svc.retention.certificates()
    # Closing PV-B: both recordings lose their derived data now, not at the next run.
    svc.set_case_status(sup, "PV-B", CaseStatus.CLOSED)
    certs = svc.retention.certificates()
    assert sorted(c.recording_id for c in certs) == ["ra", "rb"]
    assert {c.rule for c in certs} == {"case-closed"}
    for rec_id in ("ra", "rb"):
        for table, _col, _parent in dependent_tables():
            assert rows_of(svc.store, table, rec_id) == 0, (table.name, rec_id)
        assert (tmp_path / f"{rec_id}.mp4").is_file()  # the footage follows its age rule
    assert len(svc.store.retention_recordings()) == 2
    assert all(svc.retention.verify(c) for c in certs)
    bodies = [json.loads(c.body_json) for c in certs]
    assert {(b["case"], b["derived_only"], b["file"]) for b in bodies} == {
        ("PV-B", True, "kept")}
    purges = [e for e in svc.store.journal_entries() if e.action == "purge"]
    assert [e.user for e in purges] == ["sup", "sup"]
    assert svc.retention.run(SYSTEM).purged == ()  # nothing left for the scheduled run
    assert svc.journal.verify().ok
