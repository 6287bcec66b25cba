"""The synthetic index generator: the index a benchmark searches has the real shape."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

from sqlalchemy import func, select

from conftest import make_services
from retrouve.config import Settings
from retrouve.domain import Query, RecordingStatus
from retrouve.evaluation.synthetic import SyntheticSpec, generate
from retrouve.services import Services
from retrouve.store import bulk as synthetic_bulk
from retrouve.store import schema as s

NOW = datetime(2026, 2, 1, tzinfo=UTC)
SIV = re.compile(r"[A-HJ-NP-TV-Z]{2}\d{3}[A-HJ-NP-TV-Z]{2}")
FNI = re.compile(r"\d{1,4}[A-Z]{2}\d{2}")


def test_synthetic_index_is_searchable_like_a_real_one(services: Services) -> None:
    spec = SyntheticSpec(tracks=400, cameras=30, days=3, fragment_rate=0.2)
    index = generate(services.store, spec, NOW)
    store = services.store
    with store.engine.connect() as conn:
        tracks = conn.execute(select(s.tracks)).all()
        objects = conn.execute(select(func.count(func.distinct(s.tracks.c.object_id)))).scalar()
        attrs = conn.execute(select(s.track_attributes)).all()
        plates = conn.execute(select(s.plate_reads)).all()
        vectors = conn.execute(select(func.count()).select_from(s.track_vectors)).scalar()
    # 400 drawn objects; the split ones are two fragments linked into one object.
    assert objects == 400
    assert len(tracks) == index.tracks > 400
    assert index.objects_linked == len(tracks) - 400
    assert vectors == len(tracks)
    assert {t.camera_id for t in tracks} <= set(index.cameras)
    assert all(NOW.replace(month=1) <= t.start_utc.replace(tzinfo=UTC) < NOW for t in tracks)
    kinds = Counter(t.object for t in tracks)
    assert kinds.most_common(2)[0][0] == "car" and kinds["person"] > 0
    names = {(t.object, a.name) for t in tracks for a in attrs if a.track_id == t.id}
    assert ("person", "upper") in names and ("car", "colour") in names
    assert ("car", "vehicle_type") in names
    assert plates and index.plates == len(plates)
    for p in plates:
        assert (SIV if p.grammar == "fr-siv" else FNI).fullmatch(p.text), p.text
    assert any(p.alternatives_json != "[]" for p in plates)
    assert all(e.status == RecordingStatus.DONE for e in store.list_recordings())
    # A generated plate is found by plate search, and so is a colour + type.
    res = services.searcher.search(Query(plate=index.sample_plates[0]))
    assert any(h.plate and h.plate.text == index.sample_plates[0] for h in res.hits)
    assert services.searcher.search(Query(object="car", colour="white")).hits


def test_generation_is_deterministic(services: Services, tmp_path: Path) -> None:
    spec = SyntheticSpec(tracks=60, cameras=5, days=2)
    first = generate(services.store, spec, NOW)
    other = make_services(Settings(data_dir=tmp_path / "again", workers=1, executor="inline"))
    try:
        again = generate(other.store, spec, NOW)
    finally:
        other.close()
    assert (first.sample_plates, first.tracks, first.recordings) == (
        again.sample_plates, again.tracks, again.recordings)


#: The tables a synthetic generation writes (cameras, the run, recordings, units, tracks and
#: what hangs off them).
WRITTEN = (s.cameras, s.analysis_runs, s.recordings, s.work_units, s.tracks,
           s.track_attributes, s.plate_reads, s.track_vectors)


def _rows(services: Services) -> dict[str, list[tuple[object, ...]]]:
    with services.store.engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(
            select(t).order_by(*(t.primary_key.columns or t.c)))] for t in WRITTEN}


def test_bulk_generation_writes_the_rows_of_the_store_path(services: Services,
                                                           tmp_path: Path) -> None:
    # Enough tracks for several units per camera and linked fragments; the bulk batch
    # shrunk so that several batches (and their commits) are exercised.
    spec = SyntheticSpec(tracks=2000, cameras=40, days=5, fragment_rate=0.2)
    slow = generate(services.store, spec, NOW)
    other = make_services(Settings(data_dir=tmp_path / "bulk", workers=1, executor="inline"))
    try:
        with patch.object(synthetic_bulk, "BATCH_TRACKS", 300):
            fast = generate(other.store, spec, NOW, bulk=True)
        assert fast == slow
        ours, theirs = _rows(other), _rows(services)
        for table in WRITTEN:
            assert ours[table.name] == theirs[table.name], table.name
        assert sum(len(v) for v in ours.values()) > 10_000
        # The store goes on numbering tracks after the bulk-written ones (PostgreSQL's
        # sequence was moved) and writes durably again.
        res = other.searcher.search(Query(plate=fast.sample_plates[0]))
        assert res.hits
    finally:
        other.close()
