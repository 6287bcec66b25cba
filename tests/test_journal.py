"""The journal: each kind of tampering detected (edit, delete, insert, reorder, truncate, a
forged checkpoint signature), the same-transaction rule, export and the standalone offline
check (scripts/verify_journal_export.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import NOW
from retrouve.cli import cli
from retrouve.domain import Camera, LegalBasis, Role, ScopeWindow
from retrouve.errors import StoreError
from retrouve.legal import journal as j
from retrouve.legal.cases import Actor
from retrouve.search.request import CLI_WORDING, SearchRequest
from retrouve.services import Services
from retrouve.store.cases import CaseFields

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 1, 4, 9, 0, tzinfo=UTC)
SAM = Actor("sam", Role.SUPERVISOR)


def fields(ref: str) -> CaseFields:
    return CaseFields(ref=ref, basis=LegalBasis.ART_60_1, procedure_number="1",
                      authority="OPJ", authority_service="", authority_contact="",
                      received_at=NOW, purpose="test")


def fill(svc: Services, cases: int = 3, every: int = 4) -> None:
    """A journal of ``cases`` cases × 4 entries (create, assign, 2 searches), checkpointed
    every ``every`` entries."""
    svc.journal.every = every
    svc.store.add_camera(Camera("cam1", "Gare", "Europe/Paris"), NOW)
    for i in range(cases):
        ref = f"PV-{i}"
        svc.cases.create(SAM, fields(ref), (ScopeWindow("cam1", T0, T0 + timedelta(hours=1)),),
                         ("sam",))
        case = svc.cases.work(SAM, ref)
        for _ in range(2):
            svc.search(SearchRequest(cameras=("cam1",)), lang="en", wording=CLI_WORDING,
                       case=case, actor=SAM)


def sql(svc: Services, *statements: str) -> None:
    with svc.store.engine.begin() as conn:
        for s in statements:
            conn.exec_driver_sql(s)


def test_an_intact_journal_verifies(services: Services) -> None:
    fill(services)
    verdict = services.journal.verify()
    assert verdict.ok, verdict.reason
    assert (verdict.entries, verdict.checkpoints) == (12, 3)


#: Each tampering, and the first bad entry verification must name.
TAMPERING: list[tuple[str, list[str], int, str]] = [
    ("edit details", ["UPDATE journal_entries SET details_json = '{\"hits\":0,\"query\":{}}' "
                      "WHERE seq = 7"], 7, "edited"),
    ("edit user", ["UPDATE journal_entries SET user_name = 'mallory' WHERE seq = 2"], 2,
     "edited"),
    ("edit time", ["UPDATE journal_entries SET at = '2026-01-01 00:00:00.000000' "
                   "WHERE seq = 5"], 5, "edited"),
    ("delete", ["DELETE FROM journal_entries WHERE seq = 6"], 6, "should be"),
    ("delete and renumber", ["DELETE FROM journal_entries WHERE seq = 6",
                             "UPDATE journal_entries SET seq = seq - 1 WHERE seq > 6"], 6,
     "does not follow"),
    ("insert", ["UPDATE journal_entries SET seq = seq + 100 WHERE seq >= 4",
                "UPDATE journal_entries SET seq = seq - 99 WHERE seq >= 104",
                "INSERT INTO journal_entries SELECT 4, at, user_name, role, case_ref, action, "
                "objects_json, details_json, digest, prev_hash, hash FROM journal_entries "
                "WHERE seq = 3"], 4, "does not follow"),
    ("reorder", ["UPDATE journal_entries SET seq = -1 WHERE seq = 3",
                 "UPDATE journal_entries SET seq = 3 WHERE seq = 4",
                 "UPDATE journal_entries SET seq = 4 WHERE seq = -1"], 3, "does not follow"),
    ("truncate the tail", ["DELETE FROM journal_entries WHERE seq > 9"], 10, "truncated"),
    # The last byte is changed whatever it was (the key, so the signature, is new each run).
    ("forge a checkpoint", ["UPDATE journal_checkpoints SET signature = "
                            "substr(signature, 1, 126) || CASE substr(signature, 127, 2) "
                            "WHEN '00' THEN 'ff' ELSE '00' END WHERE seq = 2"], 8,
     "bad signature"),
    ("move a checkpoint", ["UPDATE journal_checkpoints SET entry_seq = 7 WHERE seq = 2"], 7,
     "bad signature"),
]


@pytest.mark.parametrize(("name", "statements", "bad", "why"), TAMPERING,
                         ids=[t[0] for t in TAMPERING])
def test_tampering_is_detected(services: Services, name: str, statements: list[str],
                               bad: int, why: str) -> None:
    fill(services)
    sql(services, *statements)
    verdict = services.journal.verify()
    assert not verdict.ok
    assert verdict.bad_seq == bad, verdict.reason
    assert why in verdict.reason


def test_recomputing_the_chain_does_not_beat_the_checkpoints(services: Services) -> None:
    """An attacker who edits an entry and recomputes every hash after it still fails the
    signed checkpoints (without the private key)."""
    fill(services)
    rows = list(services.store.journal_entries())
    prev = j.GENESIS
    statements = []
    for r in rows:
        details = r.details_json if r.seq != 3 else j.canonical({"hits": 99, "query": {}})
        digest = j.entry_digest(r.seq, j.iso(r.at), r.user, r.role, r.case, r.action,
                                r.objects_json, details)
        h = j.chain_hash(prev, digest)
        statements.append(f"UPDATE journal_entries SET details_json = '{details}', "
                          f"digest = '{digest}', prev_hash = '{prev}', hash = '{h}' "
                          f"WHERE seq = {r.seq}")
        prev = h
    sql(services, *statements)
    verdict = services.journal.verify()
    assert not verdict.ok and verdict.bad_seq == 4  # the first checkpoint signed entry 4
    assert "differs from what checkpoint 1 signed" in verdict.reason


def test_cli_verify_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["--data-dir", str(tmp_path), *args])

    assert run("cameras", "add", "cam1").exit_code == 0
    assert run("cases", "create", "PV-1", "--basis", "60-1", "--procedure", "1",
               "--authority", "OPJ", "--purpose", "p", "--assign", "me",
               "--scope", "cam1:2026-01-04T09:00Z/2026-01-04T10:00Z").exit_code == 0
    assert run("journal", "checkpoint").exit_code == 0
    intact = run("journal", "verify", "--json")
    assert intact.exit_code == 0, intact.output
    assert json.loads(intact.output)["ok"] is True
    db = tmp_path / "retrouve.db"
    import sqlite3
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE journal_entries SET user_name = 'x' WHERE seq = 1")
    broken = run("journal", "verify")
    assert broken.exit_code == 1
    assert "first bad entry 1" in " ".join(broken.output.split())


# ------------------------------------------------------------------ same transaction
def failing(*_args: Any, **_kwargs: Any) -> Any:
    raise StoreError("cannot append to the journal: disk full (injected)")


@pytest.mark.parametrize(("action", "expected_rows"), [
    ("create", 0),
    ("search", 2),  # the case's create + assign entries; the search fails with no entry
])
def test_no_action_without_its_entry(services: Services, monkeypatch: pytest.MonkeyPatch,
                                     action: str, expected_rows: int) -> None:
    services.store.add_camera(Camera("cam1", "Gare", "Europe/Paris"), NOW)
    scope = (ScopeWindow("cam1", T0, T0 + timedelta(hours=1)),)
    if action == "search":
        services.cases.create(SAM, fields("PV-1"), scope, ("sam",))
    case = services.store.get_case("PV-1")
    monkeypatch.setattr(services.store, "append_entry", failing)
    with pytest.raises(StoreError, match="injected"):
        if action == "create":
            services.cases.create(SAM, fields("PV-1"), scope, ("sam",))
        else:
            assert case is not None
            services.search(SearchRequest(cameras=("cam1",)), lang="en", wording=CLI_WORDING,
                            case=case, actor=SAM)
    monkeypatch.undo()
    assert len(list(services.store.journal_entries())) == expected_rows
    if action == "create":
        assert services.store.get_case("PV-1") is None  # the action was rolled back


def test_a_failure_after_the_action_leaves_neither(services: Services) -> None:
    """Inside one journalled transaction: the action ran, then something failed before
    the commit — neither the case change nor its entry remains."""
    services.store.add_camera(Camera("cam1", "Gare", "Europe/Paris"), NOW)
    scope = (ScopeWindow("cam1", T0, T0 + timedelta(hours=1)),)
    services.cases.create(SAM, fields("PV-1"), scope, ())
    case = services.cases.get("PV-1")
    before = len(list(services.store.journal_entries()))
    event = j.CaseAssigned(case="PV-1", user="olga")
    with (pytest.raises(RuntimeError, match="injected"),
          services.journal.action(SAM, event, "assign") as tx):
        services.store.assign(tx, case.id, "olga", "sam", NOW)
        raise RuntimeError("injected after the action")
    assert services.cases.get("PV-1").assigned == ()
    assert len(list(services.store.journal_entries())) == before
    with services.journal.action(SAM, event, "assign") as tx:  # and without the failure
        services.store.assign(tx, case.id, "olga", "sam", NOW)
    assert services.cases.get("PV-1").assigned == ("olga",)
    assert len(list(services.store.journal_entries())) == before + 1


# ------------------------------------------------------------------ export, offline check
def offline_check(folder: Path, key: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(ROOT / "scripts" / "verify_journal_export.py"), str(folder)]
    if key is not None:
        args += ["--key", str(key)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


Edit = Callable[[list[dict[str, Any]]], None]


def _edit_full(lines: list[dict[str, Any]]) -> None:
    full = [e for e in lines if "action" in e]
    full[0]["details"]["scope"] = []


def _drop_middle(lines: list[dict[str, Any]]) -> None:
    del lines[len(lines) // 2]


def _drop_tail(lines: list[dict[str, Any]]) -> None:
    del lines[-1]


@pytest.mark.parametrize(("edit", "message"), [
    (None, "intact"),
    (_edit_full, "was edited"),
    (_drop_middle, "should be"),
    (_drop_tail, "export truncated"),
])
def test_an_export_checks_offline(services: Services, tmp_path: Path, edit: Edit | None,
                                  message: str) -> None:
    fill(services)
    out = tmp_path / "export"
    summary = services.journal.export(SAM, "PV-1", out)
    lines = [json.loads(x) for x in (out / "entries.jsonl").read_text().splitlines()]
    assert summary["entries"] == 4
    # The case's entries in full; the other cases' in between only as hashes.
    assert {e.get("case") for e in lines if "action" in e} == {"PV-1"}
    assert any("action" not in e for e in lines)
    if edit is not None:
        edit(lines)
        (out / "entries.jsonl").write_text("".join(j.canonical(e) + "\n" for e in lines))
    done = offline_check(out)
    assert message in done.stdout, done.stdout + done.stderr
    assert done.returncode == (0 if edit is None else 1)


def test_an_export_signed_by_another_key_is_refused(services: Services, tmp_path: Path,
                                                    settings: Any) -> None:
    fill(services)
    out = tmp_path / "export"
    services.journal.export(SAM, "PV-0", out)
    from retrouve.legal.signing import SigningKey
    other = SigningKey.load_or_create(tmp_path / "elsewhere")
    (tmp_path / "other.pem").write_text(other.public_pem())
    done = offline_check(out, tmp_path / "other.pem")
    assert done.returncode == 1 and "another key" in done.stdout


def test_the_key_is_created_once_and_kept_private(services: Services) -> None:
    key = services.journal.key
    path = services.settings.data_dir / "keys" / "journal-ed25519.pem"
    assert path.stat().st_mode & 0o077 == 0
    from retrouve.legal.signing import SigningKey
    assert SigningKey.load_or_create(services.settings.data_dir).key_id == key.key_id


def test_parallel_appends_queue_instead_of_failing(services: Services) -> None:
    """Eight threads journalling at once (parallel logins, several web workers): every entry
    is written, numbered without gaps, and the chain verifies."""
    from concurrent.futures import ThreadPoolExecutor

    journal = services.journal

    def one(i: int) -> None:
        with journal.action_as(f"u{i}", "anonymous", j.LoginFailed(
                tried=f"u{i}", address="10.0.0.1", reason="refused"), "journal a login"):
            pass

    before = len(list(services.store.journal_entries()))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(24)))
    seqs = [e.seq for e in services.store.journal_entries()]
    assert len(seqs) == before + 24 and seqs == list(range(1, len(seqs) + 1))
    assert journal.verify().ok
