"""The case page's Export section on a real generated clip (analysed by the shape detector):
request → approval by a second supervisor (refused for the requester and an operator) →
build in the background → download of a zip that ``verify_bundle`` accepts, journalled; an
operator outside the case gets no bundle; refusals are pages with their status, never 500s."""

from __future__ import annotations

import re
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.test_export_bundle import Setup, make_setup

from conftest import fixed_clock
from retrouve.config import WebSettings
from retrouve.domain import Role
from retrouve.errors import ExportError
from retrouve.export.bundle import BundleResult, verify_bundle
from retrouve.legal.accounts import Accounts
from retrouve.legal.cases import Actor
from retrouve.store.exports import ExportRecord, ExportState
from retrouve.store.marks import MarkKind
from retrouve.web import create_app
from retrouve.web.export_jobs import ExportBuilds
from retrouve.web.export_view import download_name, exports_dir
from web.conftest import FakeClock, cheap_hasher, csrf_of, login

CASE = "PV-1"
PAGE = f"/cases/{CASE}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Setup, TestClient]]:
    """PV-1 over a 6 s clip, its red car marked relevant by olga; accounts sam and zoe
    (supervisors; sam assigned), olga (operator, assigned), eve (operator, not assigned)."""
    s = make_setup(tmp_path, approval=True)
    s.svc.cases.mark(Actor("olga", Role.OPERATOR), CASE, s.track, MarkKind.RELEVANT,
                     "la voiture rouge")
    accounts = Accounts(s.svc.store, fixed_clock, cheap_hasher())
    for name, role in (("sam", "supervisor"), ("zoe", "supervisor"), ("olga", "operator"),
                       ("eve", "operator")):
        accounts.add(name, role, "correct horse battery")
    app = create_app(s.svc, WebSettings(secure_cookies=False), accounts=accounts,
                     clock=FakeClock())
    try:
        yield s, TestClient(app, follow_redirects=False)
    finally:
        s.svc.close()


def as_user(client: TestClient, name: str) -> str:
    """Log ``client`` in as ``name`` (dropping the previous session); its CSRF token."""
    client.cookies.clear()
    assert login(client, name).status_code == 303  # type: ignore[attr-defined]
    return csrf_of(client.get(PAGE).text)


def post(client: TestClient, url: str, token: str, **data: str) -> Any:
    return client.post(url, data={"csrf_token": token, **data})


def test_request_approve_build_download_verify(site: tuple[Setup, TestClient],
                                                tmp_path: Path) -> None:
    s, c = site
    token = as_user(c, "sam")
    page = c.get(PAGE).text
    assert f"d&#39;office : {s.track}" in page  # French by default
    resp = post(c, f"{PAGE}/exports", token)
    assert resp.status_code == 303 and "msg=export_pending" in resp.headers["location"]
    [rec] = s.svc.store.list_exports(s.svc.cases.get(CASE).id)
    assert rec.state is ExportState.REQUESTED and rec.spec["tracks"] == [s.track]
    url = f"{PAGE}/exports/{rec.id}"

    # The requester may not approve (no button; the POST is refused in the page, 403).
    assert f"{url}/approve" not in c.get(PAGE).text
    refused = post(c, f"{url}/approve", token)
    assert refused.status_code == 403
    assert "une seconde personne, superviseur, le doit" in refused.text
    # Nor build it before approval (400, the desk's message).
    early = post(c, f"{url}/build", token)
    assert early.status_code == 400
    assert "attend l&#39;approbation d&#39;un superviseur" in early.text
    # An operator may not approve either.
    token = as_user(c, "olga")
    assert post(c, f"{url}/approve", token).status_code == 403

    token = as_user(c, "zoe")
    assert f"{url}/approve" in c.get(PAGE).text
    ok = post(c, f"{url}/approve", token)
    assert ok.status_code == 303 and "export_approved" in ok.headers["location"]
    assert s.svc.exports.get(rec.id).approved_by == "zoe"

    token = as_user(c, "olga")
    assert f"{url}/build" in c.get(PAGE).text
    started = post(c, f"{url}/build", token)
    assert started.status_code == 303 and "export_building" in started.headers["location"]
    c.app.state.exports.join(rec.id, 120)  # type: ignore[attr-defined]
    done = s.svc.exports.get(rec.id)
    assert done.state is ExportState.PRODUCED, c.app.state.exports.state(rec.id)  # type: ignore[attr-defined]
    assert Path(done.bundle_path or "").parent == exports_dir(s.svc, CASE)
    page = c.get(PAGE).text
    assert f"{url}/download" in page and 'http-equiv="refresh"' not in page
    # Built once: no second build offered, and a second POST is refused.
    assert f"{url}/build" not in page
    assert post(c, f"{url}/build", token).status_code == 400

    got = c.get(f"{url}/download")
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert got.headers["content-disposition"] == (
        f'attachment; filename="retrouve-PV-1-export-{rec.id}.zip"')
    zpath = tmp_path / "downloaded.zip"
    zpath.write_bytes(got.content)
    assert zipfile.is_zipfile(zpath) and verify_bundle(zpath) == []
    entries = [e for e in s.svc.store.journal_entries(case=CASE)
               if e.action.startswith("export-")]
    assert [(e.action, e.user) for e in entries] == [
        ("export-request", "sam"), ("export-approve", "zoe"), ("export-produce", "olga"),
        ("export-download", "olga")]
    assert done.bundle_sha256 and done.bundle_sha256 in entries[-1].details_json

    # An operator not assigned to the case gets no bundle (403), and nothing is journalled.
    as_user(c, "eve")
    assert c.get(f"{url}/download").status_code == 403
    assert c.get(f"{PAGE}/exports/99/download").status_code == 404
    assert [e.action for e in s.svc.store.journal_entries(case=CASE)].count(
        "export-download") == 1


def test_bad_input_and_unknown_requests_are_refused_in_the_page(
        site: tuple[Setup, TestClient]) -> None:
    s, c = site
    token = as_user(c, "olga")
    bad = post(c, f"{PAGE}/exports", token, tracks="12 abc")
    assert bad.status_code == 400 and "pas un numéro de trace" in bad.text
    assert 'value="12 abc"' in bad.text  # the form shown again as typed
    outside = post(c, f"{PAGE}/exports", token, tracks="999999")
    assert outside.status_code == 404 and "not in the scope" in outside.text
    window = post(c, f"{PAGE}/exports", token, scope_camera="cam1",
                  scope_from="2026-01-04T11:00:00", scope_to="2026-01-04T11:01:00")
    assert window.status_code == 404
    assert post(c, f"{PAGE}/exports/7/approve", token).status_code == 404
    # Without the CSRF token nothing is recorded.
    assert c.post(f"{PAGE}/exports", data={}).status_code == 403
    assert s.svc.store.list_exports(s.svc.cases.get(CASE).id) == []
    # A window inside the scope, redacted copy asked: recorded as asked.
    ok = post(c, f"{PAGE}/exports", token, scope_camera="cam1",
              scope_from="2026-01-04T10:00:01", scope_to="2026-01-04T10:00:03", redact="1")
    assert ok.status_code == 303
    [rec] = s.svc.store.list_exports(s.svc.cases.get(CASE).id)
    assert rec.spec["redact"] is True and rec.spec["windows"] == [
        ["cam1", "2026-01-04T09:00:01+00:00", "2026-01-04T09:00:03+00:00"]]


def test_a_running_build_refreshes_the_page_and_refuses_a_second_start() -> None:
    gate = threading.Event()

    def slow(actor: Actor, export_id: int, out: Path) -> tuple[ExportRecord, BundleResult]:
        gate.wait(10)
        raise ExportError("footage changed")

    jobs = ExportBuilds(slow, lambda: datetime(2026, 1, 4, tzinfo=UTC))
    olga = Actor("olga", Role.OPERATOR)
    assert jobs.start(olga, 1, Path("unused"))
    assert not jobs.start(olga, 1, Path("unused"))
    state = jobs.state(1)
    assert state is not None and state.running and state.started_by == "olga"
    gate.set()
    jobs.join(1, 10)
    state = jobs.state(1)
    assert state is not None and not state.running and state.error == "footage changed"
    assert jobs.start(olga, 1, Path("unused"))  # a failed build may be started again
    jobs.join(1, 10)


@pytest.mark.parametrize(("path", "name"), [
    ("/x/retrouve-PV-1-export-3.zip", "retrouve-PV-1-export-3.zip"),
    ('/x/a"b\r\n.zip', "a_b__.zip"), ("", "export-3.zip"), ("/x/notazip", "export-3.zip")])
def test_download_names_are_safe(path: str, name: str) -> None:
    rec = ExportRecord(3, 1, "PV-1", {}, "sam", datetime(2026, 1, 4, tzinfo=UTC), None, None,
                       ExportState.PRODUCED, path, None)
    assert download_name(rec) == name
    assert re.fullmatch(r"[A-Za-z0-9._-]+", download_name(rec))
