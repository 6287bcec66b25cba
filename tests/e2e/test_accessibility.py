"""Every page of the application passes axe-core's WCAG 2 A/AA rules, in a real Chromium.

axe-core comes inside the ``axe-playwright-python`` wheel (no CDN: it is injected into the
page by Playwright, outside the page's Content-Security-Policy). Each page is loaded in a
browser context logged in as the role that sees most of it, its ``<details>`` opened (axe
skips what is hidden), scanned, and saved as ``test-artifacts/a11y-<page>.png``.

The server and its analysed synthetic clip come from ``conftest.py``; this module adds a
supervisor (the case form, the journal, a case page with its forms), uses the admin for the
admin pages (their refused-form states are scanned by ``test_admin.py``) and marks the first
result relevant as the operator, so that the case page has a marks table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pytest

from conftest import fixed_clock
from retrouve.legal.accounts import Accounts
from web.conftest import CASE

from .conftest import ARTIFACTS, LiveServer, cheap_hasher, logged_in_context, mark_first_hit

SUPERVISOR = "sophie"
#: axe-core rule tags: WCAG 2.0, 2.1 and 2.2, levels A and AA. No rule is disabled.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@dataclass(frozen=True)
class Sessions:
    """Logged-in browser contexts, one per role, and the id of the track marked relevant."""

    anonymous: Any
    operator: Any
    supervisor: Any
    admin: Any
    track_id: int


@pytest.fixture(scope="module")
def sessions(browser: Any, live_server: LiveServer) -> Iterator[Sessions]:
    Accounts(live_server.services.store, fixed_clock, cheap_hasher()).add(
        SUPERVISOR, "supervisor", live_server.password)
    anonymous = browser.new_context(base_url=live_server.url,
                                    viewport={"width": 1280, "height": 900})
    operator = logged_in_context(browser, live_server, live_server.operator)
    supervisor = logged_in_context(browser, live_server, SUPERVISOR, choose_case=False)
    admin = logged_in_context(browser, live_server, live_server.admin, choose_case=False)
    try:
        page = operator.new_page()
        page.goto("/search?object=car")
        track_id = mark_first_hit(page, page.locator("ol.grid li.hit"), "vue en a11y")
        page.close()
        yield Sessions(anonymous, operator, supervisor, admin, track_id)
    finally:
        for context in (anonymous, operator, supervisor, admin):
            context.close()


@dataclass(frozen=True)
class PageCase:
    """One page to scan: who looks at it, its URL, the HTTP status it answers."""

    name: str
    role: str
    url: Callable[[Sessions], str]
    status: int = 200
    #: Run in the page before the scan (e.g. open the keyboard help).
    prepare: str | None = None


#: The English pages come last: ?lang= is remembered in a cookie of the context.
PAGES = [
    PageCase("login", "anonymous", lambda s: "/login"),
    PageCase("login-en", "anonymous", lambda s: "/login?lang=en"),
    PageCase("case-select", "operator", lambda s: "/case/select"),
    PageCase("search", "operator", lambda s: "/search"),
    PageCase("search-results", "operator", lambda s: "/search?object=car"),
    # In time order: grouped by camera under h3 headings (``web/result_list.py``).
    PageCase("search-results-time", "operator", lambda s: "/search?object=car&order=time"),
    PageCase("search-empty", "operator", lambda s: "/search?object=bus"),
    PageCase("search-invalid", "operator", lambda s: "/search?from=not-a-date"),
    PageCase("search-help", "operator", lambda s: "/search?object=car",
             prepare="document.querySelector('[data-keys-open]').click()"),
    PageCase("track", "operator", lambda s: f"/track/{s.track_id}"),
    PageCase("track-help", "operator", lambda s: f"/track/{s.track_id}",
             prepare="document.querySelector('[data-keys-open]').click()"),
    PageCase("frame", "operator", lambda s: f"/frame/{s.track_id}"),
    PageCase("frame-zoomed", "operator", lambda s: f"/frame/{s.track_id}",
             prepare="document.querySelector('[data-zoom=in]').click()"),
    PageCase("search-filled", "operator", lambda s: "/search?text=voiture+rouge"),
    PageCase("footage", "operator", lambda s: "/footage"),
    PageCase("cases", "operator", lambda s: "/cases"),
    PageCase("case", "operator", lambda s: f"/cases/{CASE}"),
    PageCase("case-supervisor", "supervisor", lambda s: f"/cases/{CASE}"),
    PageCase("case-form", "supervisor", lambda s: "/cases/new"),
    PageCase("chronology", "operator", lambda s: f"/cases/{CASE}/chronology"),
    # A supervisor not assigned to the case: the page without footage-derived data.
    PageCase("chronology-restricted", "supervisor", lambda s: f"/cases/{CASE}/chronology"),
    PageCase("case-refused", "operator", lambda s: "/cases/NO-SUCH-CASE", status=404),
    PageCase("journal", "supervisor", lambda s: "/journal"),
    PageCase("api-docs", "operator", lambda s: "/api/docs"),
    PageCase("error", "operator", lambda s: "/track/4242424", status=404),
    PageCase("admin", "admin", lambda s: "/admin"),
    PageCase("admin-user", "admin", lambda s: "/admin/users/marie"),
    PageCase("admin-self", "admin", lambda s: "/admin/users/chef"),
    PageCase("admin-camera", "admin", lambda s: "/admin/cameras/cam-e2e"),
    PageCase("admin-forbidden", "operator", lambda s: "/admin", status=403),
    PageCase("search-results-en", "operator", lambda s: "/search?object=car&lang=en"),
    PageCase("error-en", "operator", lambda s: "/track/4242424?lang=en", status=404),
    PageCase("chronology-en", "operator", lambda s: f"/cases/{CASE}/chronology?lang=en"),
    PageCase("admin-en", "admin", lambda s: "/admin?lang=en"),
]


def _report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {', '.join(map(str, n['target']))}: {n['html'][:160]}"
                     for n in v["nodes"][:8])
    return "\n".join(lines)


@pytest.mark.parametrize("case", PAGES, ids=[p.name for p in PAGES])
def test_page_has_no_wcag_violations(case: PageCase, sessions: Sessions) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = getattr(sessions, case.role)
    page = context.new_page()
    try:
        response = page.goto(case.url(sessions))
        assert response is not None and response.status == case.status, case
        # Media and thumbnails loaded, so the screenshot and the contrast checks see them.
        page.wait_for_load_state("networkidle")
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        if case.prepare:
            page.evaluate(case.prepare)
        results = Axe().run(page, options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"a11y-{case.name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000
        violations = results.response["violations"]
        assert not violations, f"{case.name}: {len(violations)} axe violations\n" \
                               + _report(violations)
        # The scan ran rules and looked at the page (not an empty or blocked document).
        assert results.response["passes"] or results.response["inapplicable"]
        # Headings in order (axe's heading-order is a best practice, outside the WCAG tags):
        # one h1 first, then no level skipped on the way down.
        levels = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]"
                               ".map(h => Number(h.tagName[1]))")
        assert levels[:1] == [1] and levels.count(1) == 1, (case.name, levels)
        assert all(b <= a + 1 for a, b in pairwise(levels)), \
            (case.name, levels)
    finally:
        page.close()


def test_the_scan_reports_a_real_violation(sessions: Sessions) -> None:
    """The scanner really runs in this setup: a field without a label, added to the login
    page, is reported (a scan that found nothing anywhere would otherwise look the same)."""
    from axe_playwright_python.sync_playwright import Axe

    page = sessions.anonymous.new_page()
    try:
        page.goto("/login")
        page.evaluate("() => document.querySelector('main form').append("
                      "Object.assign(document.createElement('input'), {name: 'stray'}))")
        results = Axe().run(page, options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
        found = {v["id"]: v for v in results.response["violations"]}
        assert "label" in found, sorted(found)
        assert [n["target"] for n in found["label"]["nodes"]] == [["input[name=\"stray\"]"]]
    finally:
        page.close()


def test_every_template_is_scanned() -> None:
    """A new template gets a row in PAGES (partials, named ``_*.html``, are inside others)."""
    from retrouve.web.templating import TEMPLATES_DIR

    scanned = {"login", "case_select", "search", "track", "frame", "footage", "cases", "case",
               "case_form", "chronology", "case_refused", "journal", "api_docs", "error", "base",
               "admin", "admin_user", "admin_camera"}
    templates = {p.stem for p in TEMPLATES_DIR.glob("*.html") if not p.stem.startswith("_")}
    assert templates <= scanned, f"pages not scanned by axe: {sorted(templates - scanned)}"
