"""What an operator reads at a glance: approximate plate matches marked on the result card and
in the API, counts with the right plural, no case switcher for roles that cannot work in a
case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from retrouve.web.i18n import CATALOGUE, counter, plural_form
from retrouve.web.templating import TEMPLATES_DIR
from web.conftest import PASSWORD, Web, token_headers


def auditor(web: Web) -> TestClient:
    """A client logged in as the auditor ``audit`` (created on first use; no active case)."""
    if web.accounts.get("audit") is None:
        web.accounts.add("audit", "auditor", PASSWORD)
    return web.login("audit", case=None)


def _approx(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip()
            for m in re.findall(r'<div class="plate approx"[^>]*>(.*?)</div>', html, re.S)]


# ------------------------------------------------------------------ approximate plate results
def test_exact_plate_card_is_not_marked(web: Web) -> None:
    html = web.login("operator").get("/search?plate=AB-123-CD").text
    assert 'class="hit"' in html and "AB123CD" in html
    assert _approx(html) == []


def test_runner_up_plate_card_is_marked_in_both_languages(web: Web) -> None:
    # The consensus read is AB123CD; AB123CE is only its runner-up read.
    client = web.login("operator")
    fr = client.get("/search?plate=AB123CE").text
    assert _approx(fr) == ["plaque approchée : lecture de second rang AB123CE"]
    en = client.get("/search?plate=AB123CE&lang=en").text
    assert _approx(en) == ["approximate plate: runner-up read AB123CE"]


def test_tolerant_plate_card_says_how_many_characters_differ(web: Web) -> None:
    # One character missing (AB23CD for AB123CD): kept by OCR tolerance, marked as such.
    html = web.login("operator").get("/search?plate=AB23CD").text
    assert _approx(html) == ["plaque approchée : 1 caractère diffère"]
    assert 'data-edits="1"' in html


def test_api_hits_carry_the_plate_match(web: Web) -> None:
    api: TestClient = web.client()
    api.headers.update(token_headers(web.accounts.issue_token("operator")))
    exact = api.get("/api/search", params={"plate": "AB123CD"}).json()["hits"][0]
    assert exact["plate_match"] == {"read": "AB123CD", "alternative": False, "edits": 0,
                                    "cost": 0.0, "approximate": False}
    alt = api.get("/api/search", params={"plate": "AB123CE"}).json()["hits"][0]
    assert alt["plate_match"]["approximate"] and alt["plate_match"]["alternative"]
    assert alt["plate_match"]["read"] == "AB123CE"
    plain = api.get("/api/search", params={"object": "car"}).json()["hits"]
    assert plain and all(h["plate_match"] is None for h in plain)


# ----------------------------------------------------------------------------- plurals
@pytest.mark.parametrize(("lang", "n", "form"), [
    ("fr", 0, "one"), ("fr", 1, "one"), ("fr", 2, "other"), ("fr", 10, "other"),
    ("en", 0, "other"), ("en", 1, "one"), ("en", 2, "other"),
])
def test_plural_form(lang: str, n: int, form: str) -> None:
    assert plural_form(lang, n) == form


def test_counter_picks_the_form() -> None:
    fr, en = counter("fr"), counter("en")
    assert fr("hit.approx_edits", 1) == "1 caractère diffère"
    assert fr("hit.approx_edits", 2) == "2 caractères diffèrent"
    assert en("hit.approx_edits", 1) == "1 character differs"
    assert en("hit.approx_edits", 3) == "3 characters differ"


def test_plural_families_are_complete() -> None:
    for lang in ("fr", "en"):
        keys = set(CATALOGUE[lang])
        for key in keys:
            if key.endswith(".one"):
                assert key[:-4] + ".other" in keys, key
            if key.endswith(".other"):
                assert key[:-6] + ".one" in keys, key


def test_every_count_key_used_is_a_family() -> None:
    used: set[str] = set()
    for path in Path(TEMPLATES_DIR).glob("*.html"):
        used |= set(re.findall(r"""\btn\(\s*'(\w+\.\w+)'""", path.read_text()))
    for path in Path(TEMPLATES_DIR).parent.glob("*.py"):
        used |= set(re.findall(r"""counter\((?:[^()]|\([^()]*\))*\)\(\s*["'](\w+\.\w+)["']""",
                               path.read_text()))
    assert {"count.slices", "count.checkpoints", "login.throttled"} <= used
    for lang in ("fr", "en"):
        for key in used:
            assert {f"{key}.one", f"{key}.other"} <= set(CATALOGUE[lang]), (lang, key)


@pytest.mark.parametrize(("n", "fr", "en"), [
    (1, "1 tranche traitée", "1 slice processed"),
    (0, "0 tranche traitée", "0 slices processed"),
    (3, "3 tranches traitées", "3 slices processed"),
])
def test_count_phrases(n: int, fr: str, en: str) -> None:
    assert counter("fr")("count.slices_done", n) == fr
    assert counter("en")("count.slices_done", n) == en


def test_no_plural_after_one_on_pages(web: Web) -> None:
    """The journal's verdict with one signed checkpoint (or none) reads in the singular."""
    html = auditor(web).get("/journal").text
    verdict = re.search(r'<p class="verdict ok"[^>]*>(.*?)</p>', html, re.S)
    assert verdict is not None, html[:2000]
    text = verdict.group(1)
    entries = int(re.search(r"(\d+) entrée", text).group(1))  # type: ignore[union-attr]
    assert ("entrées" in text) == (entries >= 2)
    checkpoints = int(re.search(r"(\d+) point", text).group(1))  # type: ignore[union-attr]
    assert ("points de contrôle signés" in text) == (checkpoints >= 2)
    assert not re.search(r"\b[01] (entrées|points|tranches)", html)


# ------------------------------------------------------------------------- case switcher
def test_auditor_header_has_no_case_switcher(web: Web) -> None:
    """An auditor never works in a case: no "Aucune affaire active" link to the chooser."""
    for path in ("/journal", "/cases"):
        page = auditor(web).get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert 'class="case-switch"' not in page.text, path
        assert 'href="/case/select"' not in page.text and "Aucune affaire active" not in page.text


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
def test_working_roles_keep_the_case_switcher(web: Web, role: str) -> None:
    html = web.login(role).get("/search").text
    assert 'class="case-switch"' in html and 'action="/case/select"' in html
    idle = web.login(role, case=None).get("/case/select").text
    assert 'class="case-switch"' in idle and "Aucune affaire active" in idle
