"""An operator's session in a real headless Chromium: log in, search, look at the results,
open a sighting, watch it play from just before the sighting with its box drawn, log out.

The server and the analysed synthetic clip come from ``conftest.py``. Times: the clip's red
car is on screen from ``CAR_IN`` to ``CAR_OUT`` recording seconds; the track page seeks its
``<video>`` to ``t_start - LEAD_IN`` (``track.js``: video time + ``origin`` = recording time).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, CAR_IN, CAR_OUT, LiveServer, find_chromium

#: Seconds of context the track page shows before a sighting (``pages.LEAD_IN_S``).
LEAD_IN = 3.0
#: Slack on media positions: one frame at 10 fps, key-frame snapping, timer granularity.
SLACK = 0.6


def log_in(page: Any, name: str, password: str) -> None:
    page.goto("/search")
    # Anonymous: sent to the login form, which brings us back afterwards.
    assert re.search(r"/login\?next=%2Fsearch", page.url), page.url
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    # No active case yet: the chooser, which brings us back to the search page.
    page.wait_for_url(re.compile(r"/case/select\?next=%2Fsearch$"))
    page.click("form.case-choose button[type=submit]")
    page.wait_for_url(re.compile(r"/search$"))
    assert "WEB-1" in page.inner_text("header .case-active")


def media_state(page: Any) -> dict[str, Any]:
    """The player's clock and state, and the track data the page was given."""
    state: dict[str, Any] = page.evaluate(
        """() => {
            const v = document.getElementById('player');
            const data = JSON.parse(document.getElementById('track-data').textContent);
            return {t: v.currentTime, paused: v.paused, ready: v.readyState, error: v.error
                    && v.error.code, origin: data.origin, t_start: data.t_start,
                    t_end: data.t_end, width: v.videoWidth};
        }""")
    return state


def test_operator_searches_watches_and_logs_out(
    page: Any, live_server: LiveServer, record_property: Any,
) -> None:
    log_in(page, live_server.operator, live_server.password)

    # --- search: a red car, through the form as an operator fills it
    page.select_option("select[name=object]", "car")
    page.click("fieldset.swatches label:has(input[name=colour][value=red])")
    assert page.is_checked("input[name=colour][value=red]")
    page.click("form.criteria button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?.*object=car.*colour=red"))
    hits = page.locator("ol.grid li.hit")
    assert hits.count() >= 1, page.inner_text("section.results")
    assert "Rue de l'Essai" in hits.first.inner_text()
    # The thumbnail really loaded (an authenticated image route, not a broken icon).
    page.wait_for_function(
        "() => { const i = document.querySelector('li.hit img');"
        " return i && i.complete && i.naturalWidth > 0; }")

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "results.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    record_property("screenshot", str(shot))
    print(f"results screenshot: {shot}")

    # --- open the first result: the sequence page and its player
    hits.first.locator("a.thumb").click()
    page.wait_for_url(re.compile(r"/track/\d+\?"))
    found = re.search(r"/track/(\d+)", page.url)
    assert found, page.url
    track_id = found.group(1)
    # What the <video> is given: the sighting's window alone (packets copied from the key frame
    # before it into a seekable MP4, range-served), not the whole original.
    info = page.evaluate("(u) => fetch(u).then(r => r.json())", f"/media/clip/{track_id}/info")
    assert info["mode"] == "remux" and info["offset_s"] > 1.0, info
    assert page.locator("video#player").count() == 1
    assert page.locator("#track-box").count() == 1  # the overlay element
    page.wait_for_function(
        "() => document.getElementById('player').readyState >= 1")  # HAVE_METADATA
    before = media_state(page)
    assert before["error"] is None, before
    assert before["width"] == 320, before
    assert before["origin"] == pytest.approx(info["offset_s"], abs=1e-3), before
    # The analysis found the car when it appeared (at the first sampled frame on screen).
    assert abs(before["t_start"] - CAR_IN) <= 0.5, before
    # Started a few seconds before the sighting, not at 0: recording time = media + origin.
    expected = before["t_start"] - LEAD_IN
    assert expected > 1.0  # otherwise this test could not tell a seek from no seek
    start = before["t"] + before["origin"]
    assert expected - SLACK <= start <= before["t_start"], (start, before)

    # --- it plays: the clock advances in real time
    page.evaluate("() => { const v = document.getElementById('player');"
                  " v.muted = true; return v.play(); }")
    page.wait_for_timeout(1500)
    during = media_state(page)
    assert not during["paused"] and during["error"] is None, during
    advanced = during["t"] - before["t"]
    assert 0.7 <= advanced <= 3.0, (before, during)
    now = during["t"] + during["origin"]
    assert expected - SLACK <= now <= before["t_start"] + 2.0, (now, during)

    # --- the box is drawn over the car while it is on screen, at its place in the picture
    page.evaluate(
        "(t) => { const v = document.getElementById('player'); v.pause();"
        " v.currentTime = t; }", (before["t_start"] + CAR_OUT) / 2 - before["origin"])
    page.wait_for_function(
        "() => { const v = document.getElementById('player');"
        " return !v.seeking && !document.getElementById('track-box').hidden; }")
    box = page.locator("#track-box").bounding_box()
    video = page.locator("video#player").bounding_box()
    assert box is not None and video is not None
    # 60×30 px car in a 320×240 frame: the same proportions on screen, inside the picture.
    assert box["width"] / video["width"] == pytest.approx(60 / 320, rel=0.25)
    assert video["x"] <= box["x"] and box["x"] + box["width"] <= video["x"] + video["width"] + 1

    # --- log out: the search page now sends us to the login form
    page.click("form[action='/logout'] button[type=submit]")
    page.wait_for_load_state()
    page.goto("/search")
    assert "/login" in page.url, page.url
    assert page.locator("input[name=password]").count() == 1


def test_wrong_password_stays_on_the_login_form(page: Any, live_server: LiveServer) -> None:
    page.goto("/login")
    page.fill("input[name=username]", live_server.admin)
    page.fill("input[name=password]", "not the password at all")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    assert "/login" in page.url
    assert page.locator("p.error[role=alert]").count() == 1
    page.goto("/search")
    assert "/login" in page.url


@pytest.mark.parametrize(
    ("env", "outcome"),
    [({}, "failed"), ({"RETROUVE_SKIP_BROWSER": "1"}, "skipped")],
)
def test_missing_chromium_fails_loudly_unless_skipped(
    env: dict[str, str], outcome: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No browser must not pass silently: fail naming the install script, or skip on request."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on PATH either
    expected = pytest.fail.Exception if outcome == "failed" else pytest.skip.Exception
    with pytest.raises(expected) as caught:
        find_chromium(env, default=tmp_path / "no-chromium")
    if outcome == "failed":
        assert "scripts/ensure-browser.sh" in str(caught.value)
