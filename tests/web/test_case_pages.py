"""The case pages and the journal page: the forms call the same CaseDesk / Journal methods as
the CLI, so each test checks the page *and* the stored result (the case, its scope, the
journal entries), and every refusal is a message in the page, never a 500."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from retrouve.domain import Role
from retrouve.legal.accounts import Accounts
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.store.cases import CaseRecord
from retrouve.web import case_pages
from retrouve.web.auth import RequestContext
from web.conftest import PASSWORD, T0, Web, cheap_hasher, csrf_of, fixed_clock

#: cam1 is in Europe/Paris: 10:00 local is T0 (09:00 UTC); its tracks lie 10–70 s after T0.
CAM1_FROM, CAM1_TO = "2026-01-04T10:00:00", "2026-01-04T10:10:00"


@pytest.fixture(scope="module", autouse=True)
def more_accounts(populated: Services) -> Iterator[None]:
    """A second supervisor (approvals) and an auditor, beside conftest's three accounts."""
    accounts = Accounts(populated.store, fixed_clock, cheap_hasher())
    accounts.add("chef2", "supervisor", PASSWORD)
    accounts.add("audit", "auditor", PASSWORD)
    yield


def _form(ref: str, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "ref": ref, "basis": "60-1", "procedure_number": f"PV {ref}",
        "authority": "OPJ Martin", "authority_service": "Commissariat central",
        "authority_contact": "01 23 45 67 89", "received": "", "deadline": "",
        "purpose": "Vol de véhicule place de la Gare",
        "scope_camera": ["cam1", "", ""], "scope_from": [CAM1_FROM, "", ""],
        "scope_to": [CAM1_TO, "", ""], "assign": ["operator"],
    }
    data.update(over)
    return data


def _create(client: TestClient, ref: str, **over: object) -> object:
    token = csrf_of(client.get("/cases/new").text)
    return client.post("/cases", data={**_form(ref, **over), "csrf_token": token})


def _case(services: Services, ref: str) -> CaseRecord:
    case = services.store.get_case(ref)
    assert case is not None
    return case


def _actions(services: Services, ref: str) -> list[str]:
    return [r.action for r in services.store.journal_entries(case=ref)]


def _post(client: TestClient, page: str, url: str, data: dict[str, object]) -> object:
    return client.post(url, data={**data, "csrf_token": csrf_of(client.get(page).text)})


def test_supervisor_creates_a_case_through_the_form(web: Web, populated: Services) -> None:
    sup = web.login("supervisor")
    form = sup.get("/cases/new")
    assert form.status_code == 200
    assert 'name="scope_camera"' in form.text
    assert "Place de la Gare (cam1, Europe/Paris)" in form.text
    assert 'value="77-1-1"' in form.text and 'name="assign" value="operator"' in form.text
    assert 'value="audit"' not in form.text  # an auditor is never offered for assignment
    resp = _create(sup, "W-1", deadline="2026-01-06T18:00")
    assert resp.status_code == 303, resp.text  # type: ignore[attr-defined]
    assert resp.headers["location"] == "/cases/W-1?msg=created"  # type: ignore[attr-defined]
    case = _case(populated, "W-1")
    # The form's local time is cam1's wall clock (Paris): 10:00 local = T0.
    assert case.scope[0].camera == "cam1" and case.scope[0].start == T0
    assert case.scope[0].end == T0 + timedelta(minutes=10)
    assert case.assigned == ("operator",)
    assert case.fields.received_at == fixed_clock()
    assert case.fields.deadline is not None and case.fields.deadline.hour == 17  # 18:00 CET
    assert _actions(populated, "W-1") == ["case-create", "case-assign"]
    page = sup.get("/cases/W-1?msg=created")
    assert "Dossier W-1" in page.text and "Dossier ouvert" in page.text
    assert "04/01/2026 10:00:00 CET" in page.text and "OPJ Martin" in page.text
    listing = sup.get("/cases").text
    assert 'href="/cases/W-1"' in listing and "art. 60-1" in listing and "operator" in listing


def test_bad_scope_reshows_the_form_with_the_message(web: Web, populated: Services) -> None:
    sup = web.login("supervisor")
    resp = _create(sup, "W-2", scope_from=[CAM1_TO, "2026-01-04T10:00", ""],
                   scope_to=[CAM1_FROM, "", ""], scope_camera=["cam1", "", ""])
    assert resp.status_code == 400  # type: ignore[attr-defined]
    html = resp.text  # type: ignore[attr-defined]
    assert "la fenêtre finit avant de commencer" in html  # parse_scope's own message, in French
    assert "ligne de portée 2 : choisissez une caméra" in html  # every bad row, in one go
    # Nothing typed is lost.
    assert 'value="PV W-2"' in html and "Vol de véhicule place de la Gare</textarea>" in html
    assert f'value="{CAM1_TO}"' in html and 'value="2026-01-04T10:00"' in html
    assert 'name="assign" value="operator" checked' in html
    assert populated.store.get_case("W-2") is None
    # A rule of CaseDesk (77-1-1 needs the prosecutor's authorisation): shown the same way.
    resp = _create(sup, "W-2", basis="77-1-1")
    assert resp.status_code == 400  # type: ignore[attr-defined]
    assert "demande l&#39;autorisation du procureur" in resp.text  # type: ignore[attr-defined]
    assert 'value="77-1-1" checked' in resp.text  # type: ignore[attr-defined]
    # The autumn clock change repeats 02:00–03:00 in Paris: refused, never guessed.
    resp = _create(sup, "W-2", scope_from=["2026-10-25T02:30", "", ""],
                   scope_to=["2026-10-25T04:00", "", ""])
    assert resp.status_code == 400 and "existe deux fois dans le fuseau" in resp.text  # type: ignore[attr-defined]
    assert populated.store.get_case("W-2") is None


def test_widening_needs_a_second_supervisor(web: Web, populated: Services) -> None:
    sup, sup2 = web.login("supervisor"), web.login("chef2", case=None)
    assert _create(sup, "W-3").status_code == 303  # type: ignore[attr-defined]
    resp = _post(sup, "/cases/W-3", "/cases/W-3/amend", {
        "scope_camera": ["cam1", "cam2"], "scope_from": [CAM1_FROM, "2026-01-04T09:00"],
        "scope_to": [CAM1_TO, "2026-01-04T09:30"], "reason": "réquisition complémentaire"})
    assert resp.headers["location"] == "/cases/W-3?msg=pending"  # type: ignore[attr-defined]
    assert len(_case(populated, "W-3").scope) == 1  # not applied yet
    [am] = populated.store.amendments("W-3")
    assert am.widens and am.state == "pending"
    page = sup.get("/cases/W-3").text
    assert f"/amendments/{am.id}/approve" not in page  # the requester gets no button
    assert "un autre superviseur doit approuver" in page
    # Even forged, the requester's approval is refused by CaseDesk, as a message.
    refused = _post(sup, "/cases/W-3", f"/cases/W-3/amendments/{am.id}/approve", {})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "a demandé cette modification et ne peut pas" in refused.text  # type: ignore[attr-defined]
    assert populated.store.amendments("W-3")[0].state == "pending"
    page2 = sup2.get("/cases/W-3").text
    assert f'action="/cases/W-3/amendments/{am.id}/approve"' in page2
    ok = _post(sup2, "/cases/W-3", f"/cases/W-3/amendments/{am.id}/approve", {})
    assert ok.headers["location"] == "/cases/W-3?msg=approved"  # type: ignore[attr-defined]
    assert {w.camera for w in _case(populated, "W-3").scope} == {"cam1", "cam2"}
    assert _actions(populated, "W-3")[-2:] == ["case-amend", "case-approve"]
    assert "appliquée" in sup.get("/cases/W-3").text
    # A bad amendment row re-shows the case page with the typed rows and reason.
    bad = _post(sup, "/cases/W-3", "/cases/W-3/amend", {
        "scope_camera": ["nope"], "scope_from": [CAM1_FROM], "scope_to": [CAM1_TO],
        "reason": "motif gardé"})
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert "caméra inconnue « nope »" in bad.text and 'value="motif gardé"' in bad.text  # type: ignore[attr-defined]


def test_assignment_opens_the_case_to_the_operator(web: Web, populated: Services) -> None:
    sup, op = web.login("supervisor"), web.login("operator")
    assert _create(sup, "W-4", assign=[]).status_code == 303  # type: ignore[attr-defined]
    assert 'href="/cases/W-4"' not in op.get("/cases").text
    assert op.get("/cases/W-4").status_code == 403
    page = sup.get("/cases/W-4").text
    assert 'name="assign" value="operator"' in page and 'value="audit"' not in page
    none = _post(sup, "/cases/W-4", "/cases/W-4/assign", {})
    assert none.status_code == 400  # type: ignore[attr-defined]
    resp = _post(sup, "/cases/W-4", "/cases/W-4/assign", {"assign": ["operator"]})
    assert resp.headers["location"] == "/cases/W-4?msg=assigned"  # type: ignore[attr-defined]
    assert _case(populated, "W-4").assigned == ("operator",)
    assert 'href="/cases/W-4"' in op.get("/cases").text
    assert op.get("/cases/W-4").status_code == 200
    # An operator cannot assign (CaseDesk says why), and gets no form for it.
    assert 'action="/cases/W-4/assign"' not in op.get("/cases/W-4").text
    refused = _post(op, "/cases/W-4", "/cases/W-4/assign", {"assign": ["admin"]})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "ne peut pas affecter à une affaire" in refused.text  # type: ignore[attr-defined]


def test_marking_a_track_in_the_case(web: Web, populated: Services) -> None:
    sup, op = web.login("supervisor"), web.login("operator")
    assert _create(sup, "W-5").status_code == 303  # type: ignore[attr-defined]
    resp = _post(op, "/cases/W-5", "/cases/W-5/marks",
                 {"track_id": "1", "mark": "relevant", "note": "la voiture rouge",
                  "next": "/track/1"})
    assert resp.status_code == 303, resp.text  # type: ignore[attr-defined]
    assert resp.headers["location"] == "/track/1"  # type: ignore[attr-defined]
    [mark] = populated.cases.marks(Actor("operator", Role.OPERATOR), "W-5")
    assert (mark.track_id, mark.mark.value, mark.note, mark.by) == (
        1, "relevant", "la voiture rouge", "operator")
    page = op.get("/cases/W-5").text
    assert 'href="/track/1"' in page and "la voiture rouge" in page and "Pertinent" in page
    assert 'action="/cases/W-5/marks"' in page  # the macro, to change the mark
    # Changed to not relevant: the newest mark is in force; no next → the case page.
    resp = _post(op, "/cases/W-5", "/cases/W-5/marks", {"track_id": "1", "mark": "not-relevant"})
    assert resp.headers["location"] == "/cases/W-5?msg=marked"  # type: ignore[attr-defined]
    assert populated.store.case_marks(_case(populated, "W-5").id)[0].mark.value == "not_relevant"
    # Track 4 is on cam2, outside the scope: not found, and nothing marked.
    out = _post(op, "/cases/W-5", "/cases/W-5/marks", {"track_id": "4", "mark": "relevant"})
    assert out.status_code == 404  # type: ignore[attr-defined]
    assert "pas dans la portée" in out.text  # type: ignore[attr-defined]
    bad = _post(op, "/cases/W-5", "/cases/W-5/marks", {"track_id": "x", "mark": "maybe"})
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert _actions(populated, "W-5").count("result-mark") == 2
    # The supervisor is not assigned: no footage links, and marking is refused.
    assert 'href="/track/1"' not in sup.get("/cases/W-5").text
    assert _post(sup, "/cases/W-5", "/cases/W-5/marks",
                 {"track_id": "1", "mark": "relevant"}).status_code == 403  # type: ignore[attr-defined]


def test_operator_cannot_create_a_case(web: Web, populated: Services) -> None:
    op = web.login("operator")
    page = op.get("/cases/new")
    assert page.status_code == 403 and "ne peut pas créer une affaire" in page.text
    assert 'href="/cases/new"' not in op.get("/cases").text
    resp = op.post("/cases", data={**_form("W-6"), "csrf_token": csrf_of(op.get("/cases").text)})
    assert resp.status_code == 403 and "ne peut pas créer une affaire" in resp.text
    assert populated.store.get_case("W-6") is None
    # And without the CSRF token, nothing is even tried.
    sup = web.login("supervisor")
    assert sup.post("/cases", data=_form("W-6")).status_code == 403
    assert populated.store.get_case("W-6") is None


def test_auditor_reads_the_journal_but_never_footage(web: Web, populated: Services) -> None:
    sup = web.login("supervisor")
    assert _create(sup, "W-7").status_code == 303  # type: ignore[attr-defined]
    op = web.login("operator")
    _post(op, "/cases/W-7", "/cases/W-7/marks", {"track_id": "2", "mark": "relevant"})
    audit = web.login("audit", case=None)
    page = audit.get("/journal")
    assert page.status_code == 200
    assert "Journal intègre" in page.text and "result-mark" in page.text
    assert "/track/" not in page.text and "/media/" not in page.text
    case_page = audit.get("/cases/W-7").text
    assert "Séquence n° 2" in case_page and 'href="/track/2"' not in case_page
    assert 'action="/cases/W-7/marks"' not in case_page
    assert 'action="/cases/W-7/amend"' not in case_page
    assert "/cases/W-7/coverage.pdf" in case_page
    # Filters: one case, one action.
    only = audit.get("/journal?case=W-7&action=case-create").text
    assert only.count('<small class="mono action-name">case-create</small></td>') == 1
    assert 'action-name">result-mark</small>' not in only
    # The reading itself is journalled, with its filters.
    last = list(populated.store.journal_entries())[-1]
    assert last.action == "journal-read" and last.user == "audit"
    assert json.loads(last.details_json)["filters"] == {"action": "case-create", "case": "W-7"}
    # Times, in the site's zone: the fixed clock journals everything at 2026-01-05 13:00 CET.
    assert "Aucune entrée." in audit.get("/journal?from=2026-01-05T13:00:01").text
    assert "Aucune entrée." not in audit.get("/journal?from=2026-01-05T13:00:00").text
    assert "Aucune entrée." in audit.get("/journal?to=2026-01-05T12:59:59").text
    assert "Case W-7" in audit.get("/cases/W-7?lang=en").text
    bad = audit.get("/journal?from=yesterday")
    assert bad.status_code == 200 and "is not a date and time" in bad.text
    # An operator does not read the journal.
    refused = op.get("/journal")
    assert refused.status_code == 403 and "ne peut pas lire le journal" in refused.text


def test_journal_pages_and_export(web: Web, populated: Services,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_pages, "JOURNAL_PAGE", 3)
    sup = web.login("supervisor")
    assert _create(sup, "W-8").status_code == 303  # type: ignore[attr-defined]
    # create, assign: fewer than a page, no "older" link.
    assert _actions(populated, "W-8") == ["case-create", "case-assign"]
    page = sup.get("/journal?case=W-8").text
    assert 'rel="next"' not in page and page.count("<td>W-8</td>") == 2
    # Reading a case's journal is an entry of that case.
    assert _actions(populated, "W-8")[-1] == "journal-read"
    page = sup.get("/journal").text
    found = re.search(r'href="([^"]+)" rel="next"', page)
    assert found, "no link to older entries"
    older = found.group(1).replace("&amp;", "&")
    head = [r.seq for r in populated.store.journal_entries()][-1]
    # The page showed the 3 newest entries before this reading; the next starts below them.
    assert older == f"/journal?before={head - 3}"
    second = sup.get(older).text
    assert "Entrées les plus récentes" in second
    assert f"<td>{head - 4}</td>" in second and f"<td>{head - 3}</td>" not in second
    resp = _post(sup, "/journal", "/journal/export", {"case": "W-8", "from": "", "to": ""})
    assert resp.status_code == 200, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"] == "application/zip"  # type: ignore[attr-defined]
    names = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()  # type: ignore[attr-defined]
    assert sorted(names) == ["checkpoints.json", "entries.jsonl", "public-key.pem"]
    assert _actions(populated, "W-8")[-1] == "journal-export"
    unknown = _post(sup, "/journal", "/journal/export", {"case": "NOPE"})
    assert unknown.status_code == 400 and "affaire inconnue" in unknown.text  # type: ignore[attr-defined]


def test_coverage_pdf_and_html_downloads(web: Web, populated: Services) -> None:
    sup = web.login("supervisor")
    assert _create(sup, "W-9").status_code == 303  # type: ignore[attr-defined]
    pdf = sup.get("/cases/W-9/coverage.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="couverture-W-9.pdf"' in pdf.headers["content-disposition"]
    html = sup.get("/cases/W-9/coverage.html")
    assert html.status_code == 200 and "Rapport de couverture" in html.text
    entries = [json.loads(r.details_json)["format"] for r in populated.store.journal_entries(
        case="W-9") if r.action == "coverage-report"]
    assert entries == ["pdf", "html"]
    # An operator has no right to the coverage report.
    refused = web.login("operator").get("/cases/W-9/coverage.pdf")
    assert refused.status_code == 403
    assert "ne peut pas lire le rapport de couverture" in refused.text


def test_close_then_archive(web: Web, populated: Services) -> None:
    sup = web.login("supervisor")
    assert _create(sup, "W/10").status_code == 303  # type: ignore[attr-defined]
    page = sup.get("/cases/W/10").text  # a reference with a slash
    assert 'action="/cases/W/10/status"' in page and "Clore le dossier" in page
    resp = _post(sup, "/cases/W/10", "/cases/W/10/status", {"status": "closed"})
    assert resp.headers["location"] == "/cases/W/10?msg=status"  # type: ignore[attr-defined]
    assert _case(populated, "W/10").status.value == "closed"
    page = sup.get("/cases/W/10").text
    assert "Archiver le dossier" in page and 'action="/cases/W/10/amend"' not in page
    again = _post(sup, "/cases/W/10", "/cases/W/10/status", {"status": "closed"})
    assert again.status_code == 400 and "ne peut pas devenir clôturée" in again.text  # type: ignore[attr-defined]
    _post(sup, "/cases/W/10", "/cases/W/10/status", {"status": "archived"})
    assert _case(populated, "W/10").status.value == "archived"
    assert _actions(populated, "W/10")[-2:] == ["case-status", "case-status"]
    assert sup.get("/cases/NOPE").status_code == 404


def test_mark_form_macro_as_the_track_page_includes_it(web: Web, populated: Services) -> None:
    """The include the track page gets at merge: the macro posts what ``/cases/REF/marks``
    reads, and shows the mark in force."""
    from retrouve.web.i18n import translator
    from retrouve.web.templating import make_templates

    env = make_templates().env
    tmpl = env.from_string('{% from "_mark_form.html" import mark_form with context %}'
                           '{{ mark_form(ref, 1, "tok", current, "/track/1") }}')
    empty = tmpl.render(t=translator("fr"), ref="W-11", current=None)
    assert 'action="/cases/W-11/marks"' in empty and 'name="track_id" value="1"' in empty
    assert 'name="csrf_token" value="tok"' in empty and 'name="next" value="/track/1"' in empty
    assert 'value="relevant"' in empty and 'value="not-relevant"' in empty
    assert "Marqué par" not in empty
    sup, op = web.login("supervisor"), web.login("operator")
    assert _create(sup, "W-11").status_code == 303  # type: ignore[attr-defined]
    _post(op, "/cases/W-11", "/cases/W-11/marks",
          {"track_id": "1", "mark": "not-relevant", "note": "autre voiture"})
    [current] = populated.cases.marks(Actor("operator", Role.OPERATOR), "W-11")
    user = web.accounts.require("operator")
    ctx = RequestContext(user, "session", "fr")
    assert case_pages.mark_in_force(populated, ctx, "W-11", 1) == current
    assert case_pages.mark_in_force(populated, ctx, "W-11", 2) is None
    outsider = RequestContext(web.accounts.require("admin"), "session", "fr")
    assert case_pages.mark_in_force(populated, outsider, "W-11", 1) is None  # not assigned
    shown = tmpl.render(t=translator("en"), ref="W-11", current=current)
    assert "Marked by operator:" in shown and "<strong>Not relevant</strong>" in shown
    assert 'value="autre voiture"' in shown


def test_case_pages_need_a_login(web: Web) -> None:
    anon = web.client()
    for url in ("/cases", "/cases/new", "/cases/W-1", "/journal", "/cases/W-1/coverage.pdf"):
        resp = anon.get(url)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login")


def test_track_page_marks_in_the_active_case(web: Web, populated: Services) -> None:
    """The track page carries the mark form of the active case; marking from it comes back
    to the page, which then shows the mark in force."""
    op = web.login("operator")
    page = op.get("/track/1")
    assert page.status_code == 200
    assert 'action="/cases/WEB-1/marks"' in page.text and "Marqué par" not in page.text
    resp = _post(op, "/track/1", "/cases/WEB-1/marks",
                 {"track_id": "1", "mark": "relevant", "note": "le bon véhicule",
                  "next": "/track/1"})
    assert resp.status_code == 303 and resp.headers["location"] == "/track/1"  # type: ignore[attr-defined]
    again = op.get("/track/1").text
    assert "Marqué par operator" in again and 'value="le bon véhicule"' in again
    assert [m.track_id for m in populated.cases.marks(Actor("operator", Role.OPERATOR),
                                                      "WEB-1")] == [1]
