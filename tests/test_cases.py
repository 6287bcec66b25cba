"""Cases: the permission table, the requisition's rules, planning cut at scope boundaries,
scope enforcement in the store query and in the CLI, amendments needing a second approver."""

from __future__ import annotations

import getpass
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clips import RED, Clip, Moving, make_clip
from conftest import NOW
from retrouve.analysis.planning import plan_scoped_units, plan_units, scope_intervals
from retrouve.cli import cli
from retrouve.domain import (
    Box,
    Camera,
    CaseStatus,
    LegalBasis,
    Observation,
    Query,
    Recording,
    Role,
    ScopeWindow,
    StageStats,
    Track,
    UnitResult,
    WorkUnit,
)
from retrouve.errors import CaseError, NotPermitted
from retrouve.legal.cases import Actor, parse_scope, widens
from retrouve.legal.permissions import RIGHTS, Right, allowed
from retrouve.services import Services
from retrouve.store.cases import CaseFields
from retrouve.store.records import TrackFilter

T0 = datetime(2026, 1, 4, 9, 0, 0, tzinfo=UTC)
CAM = Camera("cam1", "Gare", "Europe/Paris")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def win(camera: str, a: float, b: float) -> ScopeWindow:
    return ScopeWindow(camera, at(a), at(b))


# ------------------------------------------------------------------ permissions
@pytest.mark.parametrize(("role", "right", "expected"), [
    (Role.ADMIN, Right.MANAGE_ACCOUNTS, True),
    (Role.ADMIN, Right.CREATE_CASE, False),
    (Role.ADMIN, Right.WORK_IN_CASE, True),  # only when assigned (require_work)
    (Role.ADMIN, Right.READ_JOURNAL, False),
    (Role.SUPERVISOR, Right.CREATE_CASE, True),
    (Role.SUPERVISOR, Right.APPROVE_AMENDMENT, True),
    (Role.SUPERVISOR, Right.ASSIGN_CASE, True),
    (Role.SUPERVISOR, Right.CLOSE_CASE, True),
    (Role.SUPERVISOR, Right.MANAGE_ACCOUNTS, False),
    (Role.ADMIN, Right.RUN_PURGE, True),
    (Role.SUPERVISOR, Right.RUN_PURGE, True),
    (Role.OPERATOR, Right.RUN_PURGE, False),
    (Role.AUDITOR, Right.RUN_PURGE, False),
    (Role.OPERATOR, Right.WORK_IN_CASE, True),
    (Role.OPERATOR, Right.AMEND_CASE, True),
    (Role.OPERATOR, Right.CREATE_CASE, False),
    (Role.OPERATOR, Right.APPROVE_AMENDMENT, False),
    (Role.OPERATOR, Right.READ_JOURNAL, False),
    (Role.AUDITOR, Right.READ_JOURNAL, True),
    (Role.AUDITOR, Right.READ_COVERAGE, True),
    (Role.AUDITOR, Right.WORK_IN_CASE, False),
    (Role.AUDITOR, Right.CREATE_CASE, False),
])
def test_permission_table(role: Role, right: Right, expected: bool) -> None:
    assert allowed(role, right) is expected


def test_every_role_has_rights() -> None:
    assert set(RIGHTS) == set(Role)


# ------------------------------------------------------------------ pure rules
@pytest.mark.parametrize(("text", "error"), [
    ("cam1:2026-01-04T10:00+01:00/2026-01-04T11:00+01:00", None),
    ("cam1:2026-01-04T09:00Z/2026-01-04T10:00Z", None),
    ("cam1", "expected CAMERA:FROM/TO"),
    ("cam1:2026-01-04T10:00/2026-01-04T11:00+01:00", "no offset"),
    ("cam1:2026-01-04T11:00Z/2026-01-04T10:00Z", "ends before it starts"),
    ("cam1:yesterday/2026-01-04T10:00Z", "not an ISO-8601 time"),
])
def test_parse_scope(text: str, error: str | None) -> None:
    if error is None:
        w = parse_scope(text)
        assert (w.camera, w.start, w.end) == ("cam1", at(0), at(60))
    else:
        with pytest.raises(CaseError, match=error):
            parse_scope(text)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ([win("a", 0, 60)], [win("a", 10, 20)], False),          # narrower
    ([win("a", 0, 60)], [win("a", 0, 60)], False),            # same
    ([win("a", 0, 30), win("a", 30, 60)], [win("a", 0, 60)], False),  # adjoining old windows
    ([win("a", 0, 60)], [win("a", 0, 61)], True),             # later end
    ([win("a", 0, 60)], [win("a", -1, 60)], True),            # earlier start
    ([win("a", 0, 20), win("a", 40, 60)], [win("a", 0, 60)], True),  # fills a gap
    ([win("a", 0, 60)], [win("b", 0, 60)], True),             # another camera
    ([win("a", 0, 60)], [win("a", 0, 30), win("a", 40, 50)], False),
])
def test_widens(old: list[ScopeWindow], new: list[ScopeWindow], expected: bool) -> None:
    assert widens(tuple(old), tuple(new)) is expected


# ------------------------------------------------------------------ planning
def rec(duration: float = 1800.0, start: datetime = T0) -> Recording:
    return Recording("r1", "cam1", "/f/r1.mp4", "ab" * 32, 1000, start, duration, 25.0, 640,
                     360, "h264")


@pytest.mark.parametrize(("scope", "done", "expected"), [
    # A window inside one 600 s slice: one cut unit.
    ([win("cam1", 2, 5)], [], [(120.0, 300.0)]),
    # Across a slice boundary: cut at the boundary too.
    ([win("cam1", 8, 12)], [], [(480.0, 600.0), (600.0, 720.0)]),
    # A whole slice keeps the slice's id (same unit as an unscoped plan).
    ([win("cam1", 10, 20)], [], [(600.0, 1200.0)]),
    # Past the end of the recording: the last piece runs to +inf (never drop a tail).
    ([win("cam1", 25, 90)], [], [(1500.0, math.inf)]),
    # Another camera, or before the recording: nothing.
    ([win("cam2", 0, 30)], [], []),
    ([win("cam1", -30, -1)], [], []),
    # Two windows, one slice.
    ([win("cam1", 1, 2), win("cam1", 3, 4)], [], [(60.0, 120.0), (180.0, 240.0)]),
    # Footage already analysed (another case) is left out.
    ([win("cam1", 0, 10)], [(0.0, 300.0)], [(300.0, 600.0)]),
    ([win("cam1", 0, 10)], [(0.0, 600.0)], []),
])
def test_planning_cuts_at_scope_boundaries(
        scope: list[ScopeWindow], done: list[tuple[float, float]],
        expected: list[tuple[float, float]]) -> None:
    units = plan_scoped_units(rec(), 600.0, scope, done)
    assert [(u.t0, u.t1) for u in units] == expected
    assert len({u.id for u in units}) == len(units)
    inside = scope_intervals(rec(), scope)
    for u in units:  # nothing outside the scope is planned, hence never decoded
        assert any(a <= u.t0 and u.t1 <= b for a, b in inside)


def test_a_whole_slice_keeps_its_unscoped_id() -> None:
    [whole] = plan_scoped_units(rec(), 600.0, [win("cam1", 10, 20)])
    assert whole.id == plan_units(rec(), 600.0)[1].id
    [cut] = plan_scoped_units(rec(), 600.0, [win("cam1", 2, 5)])
    assert cut.id == "r1@0000120.0-0000300.0"


# ------------------------------------------------------------------ store and services
def fields(ref: str = "PV-1", basis: LegalBasis = LegalBasis.ART_60_1,
           authorisation: str | None = None) -> CaseFields:
    return CaseFields(ref=ref, basis=basis, procedure_number="2026/001",
                      authority="OPJ Martin", authority_service="Commissariat",
                      authority_contact="01 23", received_at=NOW, purpose="vol",
                      prosecutor_authorisation=authorisation)


def add_tracks(svc: Services) -> dict[str, int]:
    """Two recordings of cam1 (09:00 and 10:00 UTC), one person track each; track ids."""
    svc.store.add_camera(CAM, NOW)
    svc.store.add_camera(Camera("cam2", "Quai", "Europe/Paris"), NOW)
    run_id = svc.store.start_run(NOW, {}, {}, "test")
    ids = {}
    for rec_id, cam, start in (("r9", "cam1", at(0)), ("r10", "cam1", at(60)),
                               ("q9", "cam2", at(0))):
        svc.store.add_recording(Recording(rec_id, cam, f"/f/{rec_id}.mp4", rec_id * 16 + "0" *
                                          (64 - 16 * len(rec_id)), 1000, start, 600.0, 25.0,
                                          640, 360, "h264"), NOW)
        u = WorkUnit(f"{rec_id}@0000000.0", rec_id, f"/f/{rec_id}.mp4", 0.0, math.inf, 25.0)
        svc.store.ensure_units([u])
        box = Box(10, 20, 50, 80)
        tr = Track(rec_id, u.id, 1, "person", 0.9, 10.0, 20.0, 15.0, box, (),
                   (Observation(10.0, box, 0.9), Observation(20.0, box, 0.8)))
        svc.store.save_unit_result(run_id, UnitResult(u.id, (tr,), StageStats()), NOW)
    for row in svc.store.find_tracks(TrackFilter(), limit=10):
        ids[row.recording_id] = row.id
    return ids


@pytest.mark.parametrize(("scope", "expected"), [
    (None, {"r9", "r10", "q9"}),                              # no restriction (internal use)
    ((), set()),                                              # an empty scope: nothing
    ((win("cam1", 0, 5),), {"r9"}),                           # in scope
    ((win("cam1", 30, 50),), set()),                          # between the recordings
    ((win("cam1", 0, 5), win("cam2", 0, 5)), {"r9", "q9"}),   # OR-ed windows
    ((win("cam2", 60, 70),), set()),                          # right time, other camera
])
def test_scope_is_enforced_in_the_store_query(
        services: Services, scope: tuple[ScopeWindow, ...] | None, expected: set[str]) -> None:
    ids = add_tracks(services)
    rows = services.store.find_tracks(TrackFilter(scope=scope), limit=10)
    assert {r.recording_id for r in rows} == expected
    for rec_id, track_id in ids.items():  # a track by id, too
        got = services.store.get_track(track_id, scope=scope)
        assert (got is not None) is (rec_id in expected)
    result = services.searcher.search(Query(), scope=scope)
    assert {h.track_id for h in result.hits} == {ids[r] for r in expected}


SUPER = Actor("sam", Role.SUPERVISOR)
SUPER2 = Actor("sue", Role.SUPERVISOR)
OPERATOR = Actor("olga", Role.OPERATOR)


@pytest.fixture
def desk(services: Services) -> Iterator[Services]:
    add_tracks(services)
    for name, role in (("sam", Role.SUPERVISOR), ("sue", Role.SUPERVISOR),
                       ("olga", Role.OPERATOR), ("otto", Role.OPERATOR),
                       ("ada", Role.ADMIN), ("aude", Role.AUDITOR)):
        services.store.add_user(name, "x", role, NOW)
    yield services


def test_requisition_rules(desk: Services) -> None:
    scope = (win("cam1", 0, 5),)
    with pytest.raises(CaseError, match="prosecutor's authorisation"):
        desk.cases.create(SUPER, fields(basis=LegalBasis.ART_77_1_1), scope)
    made = desk.cases.create(SUPER, fields(basis=LegalBasis.ART_77_1_1,
                                           authorisation="parquet, 3 Jan"), scope, ("olga",))
    assert made.status is CaseStatus.OPEN and made.assigned == ("olga",)
    with pytest.raises(CaseError, match="already exists"):
        desk.cases.create(SUPER, fields(), scope)
    with pytest.raises(CaseError, match="scope is required"):
        desk.cases.create(SUPER, fields("PV-2"), ())
    with pytest.raises(NotPermitted, match="may not create-case"):
        desk.cases.create(OPERATOR, fields("PV-3"), scope)
    with pytest.raises(CaseError, match="auditor never works"):
        desk.cases.create(SUPER, fields("PV-4"), scope, ("aude",))


@pytest.mark.parametrize(("actor", "error"), [
    (Actor("olga", Role.OPERATOR), None),                        # assigned operator
    (Actor("otto", Role.OPERATOR), "not assigned to case PV-1"),  # another operator's case
    (Actor("ada", Role.ADMIN), "not assigned"),                  # admin, not assigned
    (Actor("sam", Role.SUPERVISOR), "not assigned"),
    (Actor("aude", Role.AUDITOR), "may not work-in-case"),       # never footage
])
def test_who_may_work_in_a_case(desk: Services, actor: Actor, error: str | None) -> None:
    desk.cases.create(SUPER, fields(), (win("cam1", 0, 5),), ("olga",))
    if error is None:
        assert desk.cases.work(actor, "PV-1").ref == "PV-1"
    else:
        with pytest.raises(NotPermitted, match=error):
            desk.cases.work(actor, "PV-1")


def test_a_closed_case_allows_no_work(desk: Services) -> None:
    desk.cases.create(SUPER, fields(), (win("cam1", 0, 5),), ("olga",))
    desk.cases.set_status(SUPER, "PV-1", CaseStatus.CLOSED)
    with pytest.raises(CaseError, match="is closed"):
        desk.cases.work(OPERATOR, "PV-1")
    with pytest.raises(CaseError, match="cannot become open"):
        desk.cases.set_status(SUPER, "PV-1", CaseStatus.OPEN)
    assert desk.cases.set_status(SUPER, "PV-1", CaseStatus.ARCHIVED).status is \
        CaseStatus.ARCHIVED


def test_widening_needs_a_second_supervisor(desk: Services) -> None:
    desk.cases.create(SUPER, fields(), (win("cam1", 0, 5),), ("olga",))
    wider = (win("cam1", 0, 70),)
    am = desk.cases.amend(OPERATOR, "PV-1", wider, "amended requisition of 5 Jan")
    assert am.widens and am.state == "pending"
    assert desk.cases.get("PV-1").scope == (win("cam1", 0, 5),)  # not yet in force
    with pytest.raises(NotPermitted, match="may not approve-amendment"):
        desk.cases.approve(OPERATOR, "PV-1", am.id)
    am2 = desk.cases.amend(SUPER, "PV-1", (win("cam1", 0, 80),), "again")
    with pytest.raises(NotPermitted, match="cannot approve it too"):
        desk.cases.approve(SUPER, "PV-1", am2.id)
    case = desk.cases.approve(SUPER, "PV-1", am.id)  # sam did not ask for amendment 1
    assert case.scope == wider
    assert desk.cases.approve(SUPER2, "PV-1", am2.id).scope == (win("cam1", 0, 80),)
    with pytest.raises(CaseError, match="no pending amendment"):
        desk.cases.approve(SUPER2, "PV-1", am.id)
    actions = [r.action for r in desk.store.journal_entries(case="PV-1")]
    assert actions == ["case-create", "case-assign", "case-amend", "case-amend",
                       "case-approve", "case-approve"]


def test_narrowing_applies_at_once(desk: Services) -> None:
    desk.cases.create(SUPER, fields(), (win("cam1", 0, 60),), ("olga",))
    am = desk.cases.amend(OPERATOR, "PV-1", (win("cam1", 0, 5),), "fewer hours")
    assert not am.widens and am.state == "applied"
    assert desk.cases.get("PV-1").scope == (win("cam1", 0, 5),)


# ------------------------------------------------------------------ the CLI
@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    folder = tmp_path_factory.mktemp("case-clips")
    return make_clip(folder / "cam12_20260104_100000.mp4", seconds=2.0, fps=10,
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 2.0)])


def run(data_dir: Path, *args: str, user: str | None = None) -> Result:
    extra = ["--user", user] if user else []
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *extra, *args])


def create(data_dir: Path, ref: str, scope: str, *more: str, user: str | None = None
           ) -> Result:
    return run(data_dir, "cases", "create", ref, "--basis", "60-1", "--procedure", "P",
               "--authority", "OPJ", "--purpose", "test", "--scope", scope, *more, user=user)


def test_data_commands_without_a_case_fail_saying_why(tmp_path: Path) -> None:
    for command in ("analyse", "search"):
        result = run(tmp_path, command)
        assert result.exit_code == 2
        assert "needs a case" in " ".join(result.output.split())
        assert "no case, no processing" in " ".join(result.output.split())


@pytest.mark.parametrize(("user", "ref", "code", "text"), [
    ("olga", "IN", 0, None),                      # assigned, in scope
    ("olga", "OUT", 0, None),                      # assigned, scope misses the clip: no hits
    # The CLI speaks French by default (``--lang``): the legal layer's messages too.
    ("otto", "IN", 2, "pas affecté à l'affaire IN"),  # another operator's case
    ("aude", "IN", 2, "ne peut pas travailler dans une affaire"),  # auditor
    ("olga", "GHOST", 2, "affaire inconnue"),
    ("nobody", "IN", 2, "pas de compte ici"),
])
def test_cli_search_and_analyse_in_a_case(tmp_path: Path, clip: Clip, user: str, ref: str,
                                          code: int, text: str | None) -> None:
    me = getpass.getuser()
    assert run(tmp_path, "cameras", "add", "cam12").exit_code == 0
    assert run(tmp_path, "ingest", str(clip.path), "--camera", "cam12").exit_code == 0
    # The clip is 10:00:00–10:00:02 Paris (09:00 UTC).
    assert create(tmp_path, "IN", "cam12:2026-01-04T09:00Z/2026-01-04T09:10Z",
                  "--assign", me, "--assign", "olga").exit_code == 0
    assert create(tmp_path, "OUT", "cam12:2026-01-04T11:00Z/2026-01-04T12:00Z",
                  "--assign", "olga").exit_code == 0
    for name, role in (("olga", "operator"), ("otto", "operator"), ("aude", "auditor"),
                       (me, "supervisor")):
        made = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "users", "add", name,
                                        "--role", role, "--password-stdin"],
                                  input="correct horse battery\n")
        assert made.exit_code == 0, made.output
    searched = run(tmp_path, "search", "--case", ref, "--json", user=user)
    assert searched.exit_code == code, searched.output
    if text is not None:
        assert text in " ".join(searched.output.split())
        return
    assert json.loads(searched.output)["hits"] == []  # nothing analysed yet
    if ref == "OUT":  # the scope holds no footage: nothing is planned, nothing decoded
        analysed = run(tmp_path, "analyse", "--case", ref, "--json", user=user)
        assert analysed.exit_code == 0, analysed.output
        assert json.loads(analysed.output)["units_total"] == 0
        assert list(journal_actions(tmp_path, ref))[-3:] == [
            "search", "analysis-start", "analysis-finish"]
    else:  # (the analysis in scope, with the fake detector: test_analysis_stays_in_scope)
        assert list(journal_actions(tmp_path, ref))[-1] == "search"


def test_analysis_stays_in_scope(services: Services, clip: Clip) -> None:
    services.catalogue.add_camera(Camera("cam12", "x", "Europe/Paris"))
    services.catalogue.ingest(str(clip.path), "cam12")
    actor = Actor("sam", Role.SUPERVISOR)
    # 09:00:00.5–09:00:01.5 UTC of a clip running 09:00:00–09:00:02.
    scope = (ScopeWindow("cam12", T0 + timedelta(seconds=0.5), T0 + timedelta(seconds=1.5)),)
    services.cases.create(actor, fields(), scope, ("sam",))
    case = services.cases.work(actor, "PV-1")
    report = services.analyse_case(actor, case)
    assert (report.units_total, report.units_done) == (1, 1)
    assert report.footage_seconds == pytest.approx(1.0)
    [unit] = services.store.unit_status().keys()
    assert unit.endswith("@0000000.5-0000001.5")
    for row in services.store.find_tracks(TrackFilter(), limit=100):  # nothing outside
        assert row.start >= scope[0].start - timedelta(seconds=0.2)
        assert row.end <= scope[0].end + timedelta(seconds=0.2)
    again = services.analyse_case(actor, case)  # resumes: nothing left to do
    assert again.units_total == 0
    actions = [r.action for r in services.store.journal_entries(case="PV-1")]
    assert actions[-4:] == ["analysis-start", "analysis-finish", "analysis-start",
                            "analysis-finish"]


def journal_actions(data_dir: Path, ref: str) -> Iterator[str]:
    exported = run(data_dir, "journal", "export", "--case", ref, "--out",
                   str(data_dir / f"export-{ref}"), "--json")
    assert exported.exit_code == 0, exported.output
    for line in (data_dir / f"export-{ref}" / "entries.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("case") == ref and entry["action"] != "journal-export":
            yield entry["action"]


def test_eval_works_in_its_own_case(services: Services, tmp_path: Path) -> None:
    """``retrouve eval``'s runner opens ``EVAL-<name>`` over the dataset's recordings, and
    analyses and searches inside it (journalled); a rerun reuses the case."""
    from retrouve.evaluation.runner import run_eval

    media = tmp_path / "media"
    media.mkdir()
    make_clip(media / "cam-a.mp4", seconds=2.0, fps=10,
              objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 2.0)])
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "dataset.json").write_text(json.dumps({"name": "tiny set", "cameras": [{
        "id": "cam-a", "name": "a", "timezone": "Europe/Paris",
        "recordings": [{"id": "cam-a", "file": "../media/cam-a.mp4",
                        "start": "2026-01-12T09:00:00+01:00"}]}]}))
    (dev / "queries.jsonl").write_text(json.dumps({
        "id": "q1", "query": {"cameras": ["cam-a"], "object": "car"},
        "expected": [{"camera": "cam-a", "t0": 0.0, "t1": 2.0}]}) + "\n")
    actor = Actor("eve", Role.SUPERVISOR)
    outcome = run_eval(services, dev / "dataset.json", actor=actor)
    assert outcome.analysis is not None and outcome.analysis.units_done == 1
    case = services.cases.get("EVAL-tiny-set")
    assert case.assigned == ("eve",)
    assert [w.camera for w in case.scope] == ["cam-a"]
    actions = [r.action for r in services.store.journal_entries(case="EVAL-tiny-set")]
    assert actions == ["case-create", "case-assign", "analysis-start", "analysis-finish",
                       "search"]
    again = run_eval(services, dev / "dataset.json", actor=actor)
    assert again.analysis is not None and again.analysis.units_total == 0
