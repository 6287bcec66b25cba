"""Start times an operator or a file name gives: implausible dates, daylight-saving gaps and
folds are refused with a message naming the problem; no date gives a traceback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retrouve.catalogue.sources import check_plausible, parse_start, start_from_filename
from retrouve.errors import RecordingTimeError

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PARIS = "Europe/Paris"


@pytest.mark.parametrize(("text", "reason"), [
    ("1900-01-01T10:00:00+00:00", "before 1990"),
    ("1989-12-31T23:59:59+00:00", "before 1990"),
    ("2999-01-01T10:00:00+00:00", "in the future"),
    ("2026-12-03T12:00:01+00:00", "in the future"),
    ("9999-12-31", "in the future"),
])
def test_implausible_starts_are_refused(text: str, reason: str) -> None:
    with pytest.raises(RecordingTimeError, match=reason):
        check_plausible(parse_start(text, PARIS), NOW, "start")


def test_year_one_is_refused_without_a_traceback() -> None:
    with pytest.raises(RecordingTimeError, match=r"out of range|before 1990"):
        check_plausible(parse_start("0001-01-01", PARIS), NOW, "start")


def test_plausible_bounds_are_accepted() -> None:
    check_plausible(parse_start("1990-01-01T00:00:00+00:00", PARIS), NOW, "start")
    check_plausible(parse_start("2026-12-03T12:00:00+00:00", PARIS), NOW, "start")


def test_a_time_in_the_spring_gap_is_refused() -> None:
    # 29 March 2026: Paris clocks jump from 02:00 to 03:00.
    with pytest.raises(RecordingTimeError, match="does not exist in Europe/Paris"):
        parse_start("2026-03-29T02:30:00", PARIS)


def test_a_time_in_the_autumn_fold_is_refused_naming_both_readings() -> None:
    # 25 October 2026: 02:30 happens at +02:00 and again at +01:00.
    with pytest.raises(RecordingTimeError, match=r"twice.*\+02:00.*\+01:00"):
        parse_start("2026-10-25T02:30:00", PARIS)


def test_an_explicit_offset_resolves_the_fold() -> None:
    when = parse_start("2026-10-25T02:30:00+01:00", PARIS)
    assert when.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_ordinary_local_times_read_in_the_camera_zone() -> None:
    assert parse_start("2026-01-04T10:00:00", PARIS).astimezone(UTC) == datetime(
        2026, 1, 4, 9, 0, tzinfo=UTC)


def test_a_file_name_in_the_gap_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    with pytest.raises(RecordingTimeError, match="does not exist"):
        start_from_filename(Path("cam1_20260329_023000.mp4"), r"(?P<start>\d{8}_\d{6})",
                            "%Y%m%d%H%M%S", PARIS)


def test_ingest_refuses_a_start_far_in_the_future_even_with_an_old_clock(
    tmp_path: object,
) -> None:
    """Ingest checks the future bound against the later of its clock and the machine's: a
    fixed clock in the past (as in tests) does not let 2999 or 9999-12-31 through."""
    from pathlib import Path

    from clips import make_clip
    from retrouve.config import Settings
    from retrouve.domain import Camera
    from retrouve.services import build_services

    root = Path(str(tmp_path))
    clip = make_clip(root / "a.mp4", seconds=1.0, fps=5)
    services = build_services(Settings(data_dir=root / "data", workers=1, executor="inline"),
                              clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    try:
        services.catalogue.add_camera(Camera("cam1", "Cam", PARIS))
        for start in ("9999-12-31T10:00:00", "2999-01-01T10:00:00+00:00"):
            report = services.catalogue.ingest(str(clip.path), "cam1", start)
            assert report.added == []
            [(_, message)] = report.failed
            assert "in the future" in message
        report = services.catalogue.ingest(str(clip.path), "cam1", "2026-01-04T10:00:00")
        assert len(report.added) == 1
    finally:
        services.close()
