"""Integration: the built-in SSD-MobileNet detector on the real demo street clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrouve.analysis.pipeline import process_unit
from retrouve.config import AnalysisSettings, Settings
from retrouve.demo import demo_clip
from retrouve.domain import WorkUnit
from retrouve.errors import MediaError
from retrouve.vision.detector import SsdMobileNetDetector


@pytest.fixture(scope="module")
def clip() -> Path:
    try:
        return demo_clip()
    except MediaError as exc:
        pytest.skip(str(exc))


@pytest.mark.integration
def test_ssd_detects_the_cyclist_on_a_real_frame(clip: Path) -> None:
    import av

    with av.open(str(clip)) as container:
        frame = next(f for i, f in enumerate(container.decode(video=0)) if i == 125)
        image = frame.to_ndarray(format="rgb24")
    dets = SsdMobileNetDetector(threshold=0.3).detect(image)
    names = set(dets.class_names())
    assert {"person", "bicycle"} <= names
    h, w = image.shape[:2]
    assert (dets.xyxy[:, [0, 2]] <= w).all() and (dets.xyxy[:, [1, 3]] <= h).all()


@pytest.mark.integration
def test_builtin_pipeline_tracks_people_and_bicycles(clip: Path) -> None:
    settings = Settings(analysis=AnalysisSettings(sample_fps=4.0))
    unit = WorkUnit("demo@0", "demo", str(clip), 3.5, 7.0, 25.0)
    result = process_unit(unit, settings)
    assert result.error is None
    objects = {t.object for t in result.tracks}
    assert "person" in objects and "bicycle" in objects
    for track in result.tracks:
        assert 3.5 <= track.t_start <= track.best_t <= track.t_end <= 7.0
        assert track.thumbnail_jpeg[:2] == b"\xff\xd8"  # JPEG magic
    assert result.stats.frames_detected > 0
    assert set(result.stats.seconds) >= {"decode", "motion", "detect", "track", "attributes"}
