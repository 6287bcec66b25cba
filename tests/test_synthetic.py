"""The synthetic index generator: the index a benchmark searches has the real shape."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from conftest import make_services
from retrouve.config import Settings
from retrouve.domain import Query, RecordingStatus
from retrouve.evaluation.synthetic import SyntheticSpec, generate
from retrouve.services import Services
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
