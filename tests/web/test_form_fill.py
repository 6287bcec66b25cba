"""Free text fills the search form's fields, and the filled form searches the same again.

Over the web tests' populated store (``conftest.py``: two cars on cam1, red track 1 and white
track 2, a bus and two people) with the real free-text parser and the fixed clock
(2026-01-05 12:00 UTC, so "hier" is 4 January, the footage's day). A browser is simulated by
:class:`FormReader`: it submits the form ``form.criteria`` as Chromium would (text and hidden
inputs, the checked radio, the selected options).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from retrouve.domain import Query
from retrouve.search.request import BuiltQuery
from retrouve.web.form_fill import Filled, Resolved, filled_form, form_time, resolve
from retrouve.web.search_form import SearchParams
from web.conftest import Web


class FormReader(HTMLParser):
    """The name/value pairs a browser submits for ``<form class="criteria">``."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._multiple = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "criteria" in a.get("class", ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "radio":
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "")))
            else:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
            self._multiple = "multiple" in a
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "select" and self._select:
            chosen = [v for v, sel in self._options if sel]
            if not chosen and not self._multiple and self._options:
                chosen = [self._options[0][0]]  # a single select submits its first option
            self.pairs += [(self._select, v) for v in chosen]
            self._select = None


def form_of(html: str) -> dict[str, list[str]]:
    reader = FormReader()
    reader.feed(html)
    out: dict[str, list[str]] = {}
    for k, v in reader.pairs:
        out.setdefault(k, []).append(v)
    return out


def submit(client: TestClient, form: dict[str, list[str]], **changes: str) -> str:
    pairs = [(k, v) for k, vs in form.items() if k not in changes for v in vs]
    pairs += list(changes.items())
    resp = client.get("/search", params=[*pairs, ("lang", "en")])
    assert resp.status_code == 200, resp.text
    return resp.text


def hit_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/track/(\d+)\?[^"]*" class="thumb"', html)]


def searched(web: Web) -> dict[str, object]:
    """The structured query of the last journalled search."""
    rows = [e for e in web.app.state.services.store.journal_entries() if e.action == "search"]
    query: dict[str, object] = json.loads(rows[-1].details_json)["query"]
    return query


TEXT = "voiture rouge hier entre 10h et 11h"


def test_free_text_fills_the_fields(web: Web) -> None:
    client = web.login("operator")
    html = submit(client, {"text": [TEXT]})
    form = form_of(html)
    assert form["object"] == ["car"] and form["colour"] == ["red"]
    assert form["from"] == ["2026-01-04T10:00"] and form["to"] == ["2026-01-04T11:00"]
    assert form["text"] == [TEXT]  # the sentence stays, for the record and the ranking
    marker = Filled.decode(form["filled"][0])
    assert marker is not None and marker.text == TEXT
    assert dict(marker.fields) == {
        "object": "car",
        "colour": "red",
        "time_from": "2026-01-04T10:00",
        "time_to": "2026-01-04T11:00",
    }
    assert "Fields filled from the free text" in html
    assert hit_ids(html) == [1]
    # Each field filled from the text says so (in its label or legend).
    marked = re.findall(
        r'(Object type|Vehicle colour|From|To) <small class="from-text">'
        r"\(from the text\)</small>",
        html,
    )
    assert sorted(marked) == ["From", "Object type", "To", "Vehicle colour"]


def test_submitting_the_filled_form_gives_the_same_results(web: Web) -> None:
    client = web.login("operator")
    first = submit(client, {"text": [TEXT]})
    query = searched(web)
    again = submit(client, form_of(first))
    assert hit_ids(again) == hit_ids(first) == [1]
    assert searched(web) == query
    # And again: the round trip is stable (the form comes back the same).
    assert form_of(again) == form_of(first)
    # A browser gives back "10:00" for "10:00:00": the same search.
    seconds = {**form_of(first), "from": ["2026-01-04T10:00:00"]}
    assert hit_ids(submit(client, seconds)) == [1] and searched(web) == query


def test_an_edited_field_wins_over_the_unchanged_text(web: Web) -> None:
    client = web.login("operator")
    form = form_of(submit(client, {"text": [TEXT]}))
    html = submit(client, form, colour="white")
    assert hit_ids(html) == [2]
    assert html.count('class="from-text"') == 3  # the colour is the operator's now
    assert searched(web)["colour"] == "white"
    assert form_of(html)["colour"] == ["white"]


def test_a_cleared_field_is_no_longer_searched(web: Web) -> None:
    client = web.login("operator")
    form = form_of(submit(client, {"text": [TEXT]}))
    html = submit(client, form, colour="")
    assert sorted(hit_ids(html)) == [1, 2]  # both cars, red or not
    assert searched(web).get("colour") is None
    refined = form_of(html)
    assert refined["colour"] == [""]  # "any" stays chosen
    # The marker still says what the text filled: clearing it holds on the next submit.
    assert sorted(hit_ids(submit(client, refined))) == [1, 2]


def test_a_new_sentence_replaces_what_the_old_one_filled(web: Web) -> None:
    client = web.login("operator")
    form = form_of(submit(client, {"text": [TEXT]}))
    html = submit(client, form, text="personne hier")
    refilled = form_of(html)
    assert refilled["object"] == ["person"] and refilled["colour"] == [""]
    assert refilled["from"] == ["2026-01-04T00:00"] and refilled["to"] == ["2026-01-05T00:00"]
    assert sorted(hit_ids(html)) == [3, 5]


def test_a_field_the_operator_set_beats_a_new_sentence(web: Web) -> None:
    client = web.login("operator")
    form = form_of(submit(client, {"text": [TEXT]}))
    html = submit(client, form, text="voiture rouge", colour="white")
    assert hit_ids(html) == [2]  # the white field wins over "rouge" (rule 1)


def test_without_the_marker_a_set_field_wins(web: Web) -> None:
    """A bookmark or the API (no marker): the field wins, the text fills the rest."""
    client = web.login("operator")
    html = submit(client, {"text": ["voiture rouge"], "colour": ["white"]})
    assert hit_ids(html) == [2]
    assert form_of(html)["object"] == ["car"]


def test_every_field_cleared_reads_the_text_afresh(web: Web) -> None:
    client = web.login("operator")
    form = form_of(submit(client, {"text": [TEXT]}))
    html = submit(client, form, object="", colour="", **{"from": "", "to": ""})
    assert hit_ids(html) == [1]
    assert form_of(html)["colour"] == ["red"]


def test_make_model_without_pack_keeps_its_notice_and_fills_the_rest(web: Web) -> None:
    client = web.login("operator")
    html = submit(client, {"text": ["Renault Clio grise zzzz"]})
    form = form_of(html)
    assert form["object"] == ["car"] and form["colour"] == ["grey"]
    assert "make" not in form  # no make/model pack: no such field, nothing filled
    assert "make/model is not available" in html
    assert "zzzz" in html


def test_the_sequence_links_walk_the_same_results(web: Web) -> None:
    client = web.login("operator")
    first = submit(client, {"text": ["voiture hier"]})
    ids = hit_ids(first)
    assert len(ids) == 2
    refined = submit(client, form_of(first), colour="")
    href = re.search(r'<a href="(/track/\d+\?[^"]*)" class="thumb"', refined)
    assert href and "filled=" in href.group(1)
    page = client.get(href.group(1).replace("&amp;", "&")).text
    assert 'rel="next"' in page


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        (None, False),
        ("", False),
        ("x=1", False),
        ("text=a&zzz=b", False),
        ("text=a&object=car&object=bus", False),
        ("text=a&object=car", True),
        ("text=" + "a" * 5000, False),
    ],
)
def test_a_marker_is_read_strictly(raw: str | None, ok: bool) -> None:
    assert (Filled.decode(raw) is not None) == ok


def test_a_repeated_wall_time_is_left_to_the_text() -> None:
    paris = ZoneInfo("Europe/Paris")
    # 25 October 2026, 02:30 happens twice in Paris.
    repeated = datetime(2026, 10, 25, 2, 30, tzinfo=paris)
    assert form_time(repeated, "Europe/Paris") is None
    assert (
        form_time(datetime(2026, 10, 25, 4, 0, 5, tzinfo=paris), "Europe/Paris")
        == "2026-10-25T04:00:05"
    )
    # Filled from an unparsed text: nothing filled, the marker dropped.
    params = SearchParams(text="x", filled="text=x&object=car")
    out = filled_form(Resolved(params, (), None), BuiltQuery(Query(), "score"), "UTC")
    assert out.filled is None and out.object is None


def test_the_same_text_keeps_the_fields_the_text_filled() -> None:
    params = SearchParams(
        text="t",
        colour=None,
        object="car",
        filled=Filled("t", (("object", "car"), ("colour", "red"))).encode(),
    )
    got = resolve(params)
    assert got.kept == ("object", "colour") and got.params == params
