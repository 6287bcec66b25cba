"""Per-result marks inside a case: scope check, newest mark wins, history kept, journalled."""

from __future__ import annotations

import json

import pytest
from tests.test_cases import OPERATOR, SUPER, desk, fields, win

from retrouve.errors import NotPermitted, OutOfScope
from retrouve.services import Services
from retrouve.store.db import TrackFilter
from retrouve.store.marks import MarkKind

__all__ = ["desk"]  # the fixture, re-exported for pytest


def tracks(svc: Services, recording: str) -> list[int]:
    """Ids of the tracks of one recording (``add_tracks`` makes one each)."""
    return [r.id for r in svc.store.find_tracks(TrackFilter(), limit=10)
            if r.recording_id == recording]


def test_marks_newest_wins_history_kept_journalled(desk: Services) -> None:
    case = desk.cases.create(SUPER, fields(), (win("cam1", 0, 5),), ("olga",))
    [in_scope] = tracks(desk, "r9")
    desk.cases.mark(OPERATOR, "PV-1", in_scope, MarkKind.RELEVANT, "red car")
    desk.cases.mark(OPERATOR, "PV-1", in_scope, MarkKind.NOT_RELEVANT, "wrong plate")
    [m] = desk.cases.marks(OPERATOR, "PV-1")
    assert (m.track_id, m.mark, m.note, m.by) == (in_scope, MarkKind.NOT_RELEVANT,
                                                  "wrong plate", "olga")
    assert [k.mark for k in desk.store.mark_history(case.id)] == [
        MarkKind.RELEVANT, MarkKind.NOT_RELEVANT]
    assert desk.store.relevant_tracks(case.id) == []
    entries = [e for e in desk.store.journal_entries(case="PV-1") if e.action == "result-mark"]
    assert [json.loads(e.details_json)["mark"] for e in entries] == ["relevant",
                                                                     "not_relevant"]
    assert json.loads(entries[0].objects_json) == [f"track:{in_scope}"]
    assert desk.journal.verify().ok


def test_a_track_outside_the_scope_cannot_be_marked(desk: Services) -> None:
    case = desk.cases.create(SUPER, fields(), (win("cam1", 0, 5),), ("olga",))
    outside = tracks(desk, "r10") + tracks(desk, "q9")
    for track_id in [*outside, 999_999]:
        with pytest.raises(OutOfScope):
            desk.cases.mark(OPERATOR, "PV-1", track_id, MarkKind.RELEVANT)
    assert desk.store.case_marks(case.id) == []
    assert not [e for e in desk.store.journal_entries() if e.action == "result-mark"]


def test_only_case_workers_mark(desk: Services) -> None:
    desk.cases.create(SUPER, fields(), (win("cam1", 0, 5),), ("olga",))
    [track] = tracks(desk, "r9")
    with pytest.raises(NotPermitted):
        desk.cases.mark(SUPER, "PV-1", track, MarkKind.RELEVANT)  # not assigned



def test_the_coverage_report_lists_the_marks_in_force(desk: Services) -> None:
    desk.cases.create(SUPER, fields(), (win("cam1", 0, 5),), ("olga",))
    [track] = tracks(desk, "r9")
    desk.cases.mark(OPERATOR, "PV-1", track, MarkKind.RELEVANT, "red car")
    report = desk.cases.coverage(SUPER, "PV-1", "json")
    assert report.marks is not None
    assert [(m.track_id, m.mark.value, m.note, m.by) for m in report.marks] == [
        (track, "relevant", "red car", "olga")]


def test_cases_mark_and_marks_from_the_command_line(desk: Services) -> None:
    from click.testing import CliRunner

    from retrouve.cli import cli

    desk.cases.create(SUPER, fields(), (win("cam1", 0, 5),), ("olga",))
    [track] = tracks(desk, "r9")
    base = ["--data-dir", str(desk.settings.data_dir), "--user", "olga"]
    # The command finds the test's database as a site would: RETROUVE_DATABASE_URL.
    url = desk.settings.database_url
    run = CliRunner(env={"RETROUVE_DATABASE_URL": url} if url else None).invoke
    made = run(cli, [*base, "cases", "mark", "PV-1", str(track), "--relevant",
                     "--note", "[red] car", "--json"])
    assert made.exit_code == 0, made.output
    listed = run(cli, [*base, "cases", "marks", "PV-1", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert (row["track"], row["mark"], row["note"]) == (track, "relevant", "[red] car")
    table = run(cli, [*base, "cases", "marks", "PV-1"])
    assert "[red] car" in table.output  # the note is text, not console markup
    [outside] = tracks(desk, "r10")
    refused = run(cli, [*base, "cases", "mark", "PV-1", str(outside), "--not-relevant"])
    assert refused.exit_code == 2 and "PV-1" in refused.output
