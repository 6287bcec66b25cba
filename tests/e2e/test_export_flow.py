"""An evidence export worked end to end in a real headless Chromium (issue 11's browser test):

1. the operator selects the case, searches, opens a result and marks it relevant from the
   track page, then asks for an export on the case page (the relevant track is in it);
2. a supervisor (a second person) approves the request on the case page;
3. the operator builds the bundle (the page follows the background build) and downloads the
   zip through the browser (Playwright's download API);
4. the downloaded file passes ``export.bundle.verify_bundle``, and it is the file the server
   recorded (same SHA-256); the journal holds each step under its user.

The server, the analysed 10:00 clip, the operator and the case ``WEB-1`` come from
``conftest.py``; this module adds the supervisor. Screenshots go to
``test-artifacts/export-NN-*.png`` (ignored by git).
"""

from __future__ import annotations

import hashlib
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import fixed_clock
from retrouve.export.bundle import verify_bundle
from retrouve.legal.accounts import Accounts
from retrouve.store.exports import ExportState
from web.conftest import CASE

from .conftest import ARTIFACTS, LiveServer, cheap_hasher, mark_first_hit
from .test_casework import log_in, log_out

SUPERVISOR = "sophie"
NOTE = "la voiture rouge, pour l'OPJ"


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    Accounts(live_server.services.store, fixed_clock, cheap_hasher()).add(
        SUPERVISOR, "supervisor", live_server.password)
    return live_server


def shoot(page: Any, n: int, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"export-{n:02d}-{name}.png"), full_page=True)


def test_mark_request_approve_build_download_verify(page: Any, server: LiveServer,
                                                    tmp_path: Path) -> None:
    started = time.monotonic()
    svc = server.services
    case_page = f"/cases/{CASE}"

    # --- 1. the operator marks a result relevant from the track page
    log_in(page, server.operator, server.password, "/search")
    page.wait_for_url(re.compile(r"/case/select\?next=%2Fsearch$"))
    page.check(f"form.case-choose input[name=case][value='{CASE}']")
    page.click("form.case-choose button[type=submit]")
    page.wait_for_url(re.compile(r"/search$"))
    page.select_option("select[name=object]", "car")
    page.click("form.criteria button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?.*object=car"))
    hits = page.locator("ol.grid li.hit")
    assert hits.count() >= 1, page.inner_text("section.results")
    track_id = mark_first_hit(page, hits, NOTE)
    shoot(page, 1, "track-marked")

    # ... and asks for an export on the case page: the marked track is offered
    page.goto(f"{case_page}#exports")
    form = page.locator(f"form[action='{case_page}/exports']")
    assert str(track_id) in form.inner_text()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"\?msg=export_pending#exports$"))
    [rec] = svc.store.list_exports(svc.cases.get(CASE).id)
    assert rec.state is ExportState.REQUESTED and rec.requested_by == server.operator
    assert track_id in rec.spec["tracks"]
    # The requester cannot approve their own request: no button for them.
    assert page.locator(f"form[action='{case_page}/exports/{rec.id}/approve']").count() == 0
    shoot(page, 2, "export-requested")
    log_out(page)

    # --- 2. a supervisor approves it
    log_in(page, SUPERVISOR, server.password, case_page)
    page.click(f"form[action='{case_page}/exports/{rec.id}/approve'] button[type=submit]")
    page.wait_for_url(re.compile(r"\?msg=export_approved#exports$"))
    assert svc.store.get_export(rec.id).approved_by == SUPERVISOR  # type: ignore[union-attr]
    shoot(page, 3, "export-approved")
    log_out(page)

    # --- 3. the operator builds it and downloads the zip
    log_in(page, server.operator, server.password, case_page)
    page.click(f"form[action='{case_page}/exports/{rec.id}/build'] button[type=submit]")
    page.wait_for_url(re.compile(r"\?msg=export_building#exports$"))
    link = page.locator(f"a[href='{case_page}/exports/{rec.id}/download']")
    # The page refreshes itself while the bundle is built (a 10 s working copy to encode).
    failed = page.locator("table.exports p.error")
    page.locator(f"a[href='{case_page}/exports/{rec.id}/download'], table.exports p.error"
                 ).first.wait_for(state="visible", timeout=30_000)
    assert failed.count() == 0, failed.first.inner_text()
    shoot(page, 4, "export-built")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".zip"), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))

    # --- 4. the downloaded bundle verifies, and is the one the server sealed
    assert zipfile.is_zipfile(saved)
    assert verify_bundle(saved) == []
    done = svc.store.get_export(rec.id)
    assert done is not None and done.state is ExportState.PRODUCED
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == done.bundle_sha256
    names = zipfile.ZipFile(saved).namelist()
    assert any(n.endswith("manifest.json") for n in names)
    assert any(n.endswith(".sig") for n in names), names
    steps = [(e.user, e.action) for e in svc.store.journal_entries(case=CASE)]
    for step in ((server.operator, "result-mark"), (server.operator, "export-request"),
                 (SUPERVISOR, "export-approve"), (server.operator, "export-produce"),
                 (server.operator, "export-download")):
        assert step in steps, (step, steps)
    assert svc.journal.verify().ok
    assert time.monotonic() - started < 60
