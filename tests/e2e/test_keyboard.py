"""The keyboard shortcuts (``static/keys.js``) and the skip link, driven with real key presses
in a headless Chromium.

The server and its 10 fps clip (one red car) come from ``conftest.py``; this module adds a
second clip in the case's hour, at 8 fps, with two more cars, so that a search for cars
has three cards to move between, and a sequence whose frame (1/8 s) is neither 1/10 s nor a
guessed 1/25 s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from clips import BLUE, GREEN, Moving, make_clip
from retrouve.store.records import TrackFilter

from .conftest import ARTIFACTS, CAMERA, LiveServer, logged_in_context

SECOND_FPS = 8
SECOND_START = "2026-01-04T10:20:00+01:00"
#: currentTime after a seek is the time asked for; the slack covers float rounding only.
TIME_EPS = 1e-3


@pytest.fixture(scope="module")
def second_clip_tracks(live_server: LiveServer,
                       tmp_path_factory: pytest.TempPathFactory) -> list[int]:
    """Ingest and analyse the 8 fps clip; the ids of its tracks."""
    services = live_server.services
    clip = make_clip(tmp_path_factory.mktemp("keys") / "second.mp4", seconds=12.0,
                     fps=SECOND_FPS, objects=[
                         Moving(BLUE, (60, 30), (0, 40), (250, 40), 1.0, 5.0),
                         Moving(GREEN, (60, 30), (250, 150), (0, 150), 6.0, 10.0)])
    [rec] = services.catalogue.ingest(str(clip.path), CAMERA.id, SECOND_START).added
    assert services.analyser.analyse([rec.id]).units_failed == 0
    tracks = [t.id for t in services.store.find_tracks(TrackFilter(), limit=100)
              if t.recording_id == rec.id]
    assert tracks, "the 8 fps clip should give tracks"
    return tracks


@pytest.fixture(scope="module")
def operator(browser: Any, live_server: LiveServer,
             second_clip_tracks: list[int]) -> Iterator[Any]:
    context = logged_in_context(browser, live_server, live_server.operator)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def pg(operator: Any) -> Iterator[Any]:
    page = operator.new_page()
    try:
        yield page
    finally:
        page.close()


def focused_card(page: Any) -> int:
    """The index of the result card holding the focus, -1 when none does."""
    index: int = page.evaluate(
        "() => [...document.querySelectorAll('.results .hit')]"
        ".indexOf(document.activeElement.closest('.results .hit'))")
    return index


def video_state(page: Any) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(
        "() => { const v = document.getElementById('player');"
        " return {t: v.currentTime, paused: v.paused, seeking: v.seeking,"
        " fps: parseFloat(v.dataset.fps)}; }")
    return state


def wait_seeked(page: Any) -> None:
    page.wait_for_function("() => { const v = document.getElementById('player');"
                           " return !v.seeking && v.readyState >= 2; }")


# ------------------------------------------------------------------------------ search page
def test_ctrl_enter_submits_the_search_from_a_field(pg: Any) -> None:
    pg.goto("/search")
    pg.select_option("select[name=object]", "car")
    pg.focus("select[name=object]")  # Enter alone does nothing on a select
    pg.keyboard.press("Control+Enter")
    pg.wait_for_url(re.compile(r"/search\?.*object=car"))
    assert pg.locator("ol.grid li.hit").count() >= 1
    # ⌘+Enter does the same (macOS), here from the plate field.
    pg.fill("input[name=plate]", "")
    pg.select_option("select[name=order]", "time")
    pg.focus("select[name=order]")
    pg.keyboard.press("Meta+Enter")
    pg.wait_for_url(re.compile(r"/search\?.*order=time"))


def test_j_k_move_between_cards_and_enter_opens_the_sequence(pg: Any) -> None:
    pg.goto("/search?object=car&order=time")
    cards = pg.locator("ol.grid li.hit")
    assert cards.count() >= 3, pg.inner_text("section.results")
    assert focused_card(pg) == -1
    pg.keyboard.press("j")
    assert focused_card(pg) == 0
    pg.keyboard.press("j")
    pg.keyboard.press("j")
    assert focused_card(pg) == 2
    pg.keyboard.press("k")
    assert focused_card(pg) == 1
    # Letters with Alt/Ctrl/Meta are the browser's: the focus stays where it is.
    pg.keyboard.press("Alt+j")
    assert focused_card(pg) == 1
    # m: the cards offer no mark form (yet), so nothing is sent and the page stays.
    url = pg.url
    pg.keyboard.press("m")
    pg.wait_for_timeout(200)
    assert pg.url == url and focused_card(pg) == 1
    href = cards.nth(1).locator("a.thumb").get_attribute("href")
    pg.keyboard.press("Enter")
    pg.wait_for_url(re.compile(r"/track/\d+\?"))
    assert pg.url.endswith(href), (pg.url, href)


def test_typing_j_in_a_field_does_not_move_the_focus(pg: Any) -> None:
    pg.goto("/search?object=car")
    pg.focus("input[name=text]")
    pg.keyboard.type("jk?")
    assert pg.evaluate("() => document.activeElement.name") == "text"
    assert pg.input_value("input[name=text]") == "jk?"
    assert focused_card(pg) == -1
    assert not pg.evaluate("() => document.getElementById('keys-help').open")


def test_skip_link_reaches_the_first_result_in_three_keys(pg: Any) -> None:
    pg.goto("/search?object=car")
    pg.keyboard.press("Tab")
    assert pg.evaluate("() => document.activeElement.textContent") == "Aller aux résultats"
    pg.keyboard.press("Enter")
    pg.keyboard.press("Tab")
    first = pg.locator("ol.grid li.hit").first.locator("a.thumb").get_attribute("href")
    assert pg.evaluate("() => document.activeElement.getAttribute('href')") == first
    # Elsewhere the link goes to the main content.
    pg.goto("/footage")
    pg.keyboard.press("Tab")
    assert pg.evaluate("() => document.activeElement.textContent") == "Aller au contenu"
    pg.keyboard.press("Enter")
    assert pg.evaluate("() => document.activeElement.id") == "main"


def test_question_mark_opens_the_help_and_escape_closes_it(pg: Any) -> None:
    pg.goto("/search?object=car")
    pg.keyboard.press("j")
    pg.keyboard.press("?")
    dialog = pg.locator("#keys-help")
    assert dialog.evaluate("d => d.open") and dialog.is_visible()
    text = dialog.inner_text()
    assert "Raccourcis clavier" in text and "Aller au résultat suivant" in text
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "keys-help.png"
    pg.screenshot(path=str(shot))
    assert shot.stat().st_size > 1000
    # Shortcuts wait while the help is open.
    pg.keyboard.press("j")
    assert focused_card(pg) == -1  # the focus is in the dialog
    pg.keyboard.press("Escape")
    assert not dialog.evaluate("d => d.open") and not dialog.is_visible()
    assert focused_card(pg) == 0  # back on the card it left
    # In English too, opened from the footer's button.
    pg.goto("/search?object=car&lang=en")
    pg.click("footer [data-keys-open]")
    assert "Go to the next result" in dialog.inner_text()
    pg.click("#keys-help [data-keys-close]")
    assert not dialog.evaluate("d => d.open")
    pg.goto("/search?lang=fr")


# ---------------------------------------------------------------------------- sequence page
@pytest.mark.parametrize("which", ["first", "second"])
def test_space_plays_and_frame_keys_step_one_frame(
    pg: Any, live_server: LiveServer, second_clip_tracks: list[int], which: str,
) -> None:
    if which == "first":
        track = live_server.services.store.find_tracks(TrackFilter(), limit=1)[0].id
        fps = 10.0
    else:
        track, fps = second_clip_tracks[0], float(SECOND_FPS)
    pg.goto(f"/track/{track}")
    wait_seeked(pg)
    state = video_state(pg)
    assert state["fps"] == fps and state["paused"], state  # the recording's own rate

    pg.keyboard.press(" ")  # focus on the page: plays
    pg.wait_for_function("() => document.getElementById('player').currentTime > "
                         f"{state['t'] + 0.2}")
    assert not video_state(pg)["paused"]
    pg.focus("video#player")  # on the video: its controls' own toggle must not double it
    pg.keyboard.press(" ")
    assert video_state(pg)["paused"]
    pg.keyboard.press(" ")
    assert not video_state(pg)["paused"]

    pg.keyboard.press(".")  # playing: pauses, then one frame on
    assert video_state(pg)["paused"]
    wait_seeked(pg)
    start = video_state(pg)["t"]
    pg.keyboard.press(".")
    wait_seeked(pg)
    assert video_state(pg)["t"] - start == pytest.approx(1 / fps, abs=TIME_EPS)
    pg.keyboard.press(",")
    pg.keyboard.press(",")
    wait_seeked(pg)
    assert video_state(pg)["t"] - start == pytest.approx(-1 / fps, abs=TIME_EPS)
    assert video_state(pg)["paused"]


def test_m_marks_the_sequence_relevant_and_help_lists_the_player_keys(
    pg: Any, second_clip_tracks: list[int],
) -> None:
    track = second_clip_tracks[-1]
    pg.goto(f"/track/{track}")
    assert pg.locator(".mark-now").count() == 0
    pg.fill("form.mark-form input[name=note]", "vue au clavier")
    pg.focus("video#player")
    pg.keyboard.press("m")
    pg.wait_for_load_state()
    pg.wait_for_selector(".mark-now.mark-relevant")
    assert pg.input_value("form.mark-form input[name=note]") == "vue au clavier"
    pg.keyboard.press("?")
    text = pg.locator("#keys-help").inner_text()
    assert "Avancer d'une image" in text and "Lecture / pause" in text
    pg.keyboard.press("Escape")
    assert not pg.evaluate("() => document.getElementById('keys-help').open")
