"""Free text fills the search form in Chromium, and the filled form is refined by its fields.

The server and its clip (one red "car", 4 January 2026 at 10:00:09 Paris) come from
``conftest.py``. A sentence with a day and hours is typed and searched: the object, colour
and time fields come back filled (the time fields as the browser shows them), the filled
form submitted again finds the same results with the same query, and a field changed or
cleared is what is searched next. Screenshots: ``test-artifacts/form-filled.png`` (the form
filled from the text, with its note) and ``form-refined.png`` (the colour changed to blue:
no result, the text unchanged).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .conftest import ARTIFACTS, LiveServer

TEXT = "voiture rouge le 4 janvier 2026 entre 10h et 11h"


def _form(operator_page: Any) -> dict[str, Any]:
    state: dict[str, Any] = operator_page.evaluate("""() => {
      const f = document.querySelector('form.criteria');
      const checked = n => (f.querySelector(`input[name=${n}]:checked`) || {}).value;
      return {text: f.text.value, object: f.object.value, colour: checked('colour'),
              from: f.querySelector('[name=from]').value, to: f.querySelector('[name=to]').value,
              filled: (f.querySelector('[name=filled]') || {}).value || null};
    }""")
    return state


def _hits(operator_page: Any) -> list[str]:
    hrefs: list[str] = operator_page.eval_on_selector_all(
        "ol.grid li.hit a.thumb", "els => els.map(a => a.getAttribute('href').split('?')[0])"
    )
    return hrefs


def _submit(operator_page: Any) -> None:
    with operator_page.expect_navigation():
        operator_page.click("form.criteria button[type=submit]")


def _last_query(server: LiveServer) -> dict[str, Any]:
    rows = [e for e in server.services.store.journal_entries() if e.action == "search"]
    query: dict[str, Any] = json.loads(rows[-1].details_json)["query"]
    return query


def test_text_fills_the_form_and_the_fields_refine_it(
    operator_page: Any, live_server: LiveServer
) -> None:
    operator_page.goto("/search")
    operator_page.fill("form.criteria input[name=text]", TEXT)
    _submit(operator_page)
    filled = _form(operator_page)
    assert filled["object"] == "car" and filled["colour"] == "red", filled
    assert filled["from"] == "2026-01-04T10:00" and filled["to"] == "2026-01-04T11:00"
    assert filled["text"] == TEXT and filled["filled"]
    assert operator_page.locator("#form-filled").is_visible()
    hits = _hits(operator_page)
    assert len(hits) == 1
    query = _last_query(live_server)
    ARTIFACTS.mkdir(exist_ok=True)
    operator_page.screenshot(path=str(ARTIFACTS / "form-filled.png"), full_page=True)

    # The filled form submitted as it is: the same query, the same results, the same form.
    _submit(operator_page)
    assert _hits(operator_page) == hits and _last_query(live_server) == query
    assert _form(operator_page) == filled

    # A field changed wins over the unchanged text: blue, no red car any more.
    operator_page.locator(
        "form.criteria label", has=operator_page.locator("input[name=colour][value=blue]")
    ).click()
    _submit(operator_page)
    assert _last_query(live_server)["colour"] == "blue"
    assert _hits(operator_page) == [] and _form(operator_page)["colour"] == "blue"
    assert _form(operator_page)["text"] == TEXT
    operator_page.screenshot(path=str(ARTIFACTS / "form-refined.png"), full_page=True)

    # Cleared ("any"): no colour searched, the text does not put red back.
    operator_page.locator(
        "form.criteria label", has=operator_page.locator("input[name=colour][value='']")
    ).click()
    _submit(operator_page)
    assert _last_query(live_server).get("colour") is None
    assert _hits(operator_page) == hits and _form(operator_page)["colour"] == ""
    assert re.search(r"[?&]filled=", operator_page.url)
