"""Regressions found by using the product as a new operator and admin (issue 13's trial), in
French (the default) and English: each test names what was seen on the page."""

from __future__ import annotations

import html
import re

import pytest

from retrouve.errors import UnknownCameraError
from retrouve.errors_i18n import error_text
from retrouve.services import Services
from retrouve.web.i18n import CATALOGUE, merge_strings
from web.conftest import CASE, Web, csrf_of


def _title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found, "no <title>"
    return html.unescape(found.group(1).strip())


@pytest.mark.parametrize(
    ("lang", "title"), [("fr", "Choisir l'affaire"), ("en", "Choose the case")]
)
def test_case_chooser_title_has_no_unfilled_placeholder(web: Web, lang: str, title: str) -> None:
    """The chooser showed "Dossier {ref}": the case page's key had replaced its own."""
    web.lang = lang
    page = web.login("operator", case=None).get("/case/select")
    assert page.status_code == 200
    assert _title(page.text).startswith(title) and "{ref}" not in page.text
    assert f"<h1>{title}</h1>" in html.unescape(page.text)


def test_a_feature_module_may_not_redefine_a_key() -> None:
    base = {"case.title": "Choisir l'affaire"}
    merge_strings(base, {"case.title": "Choisir l'affaire", "x": "y"}, "same")  # same text: ok
    with pytest.raises(ValueError, match=r"i18n_cases.*case\.title"):
        merge_strings(base, {"case.title": "Dossier {ref}"}, "i18n_cases")
    assert base == {"case.title": "Choisir l'affaire", "x": "y"}


def test_no_catalogue_string_is_left_with_a_placeholder_its_page_does_not_fill() -> None:
    """Every page title/heading key used without fields must have no ``{…}``: spot-check the
    chooser's, which is rendered bare."""
    for lang in ("fr", "en"):
        assert "{" not in CATALOGUE[lang]["case.select_title"]


def test_unknown_camera_in_a_search_is_worded_in_french(web: Web) -> None:
    """A bookmarked search naming a camera since removed said "unknown camera 'nope'
    (known: …)" in English in the French page."""
    page = web.login("operator").get("/search", params={"camera": "nope", "object": "car"})
    assert 'class="error" role="alert"' in page.text
    assert "caméra « nope » inconnue (caméras connues : cam1, cam2, idle)" in page.text
    assert "unknown camera" not in page.text


def test_unknown_camera_in_a_search_in_english(web: Web) -> None:
    web.lang = "en"
    page = web.login("operator").get("/search", params={"camera": "nope"})
    assert 'class="error" role="alert"' in page.text
    assert "unknown camera &#39;nope&#39; (known: cam1, cam2, idle)" in page.text


def test_unknown_camera_error_keeps_its_english_message(populated: Services) -> None:
    with pytest.raises(UnknownCameraError) as caught:
        populated.store.require_camera("nope")
    assert str(caught.value) == "unknown camera 'nope' (known: cam1, cam2, idle)"
    assert error_text(caught.value, "fr") == (
        "caméra « nope » inconnue (caméras connues : cam1, cam2, idle)"
    )


def test_camera_list_is_never_a_browser_worded_drop_down(web: Web) -> None:
    """A ``<select multiple size=1>`` is drawn by Chromium as a drop-down reading
    "0 selected" (the browser's language): the list has at least 2 rows."""
    page = web.login("operator").get("/search").text
    found = re.search(r'<select name="camera" multiple size="(\d+)"', page)
    assert found and int(found.group(1)) >= 2
    # A long name is cut by the list's width: the whole of it is the option's tooltip.
    assert '<option value="cam1" title="Place de la Gare (cam1)"' in page


def test_marking_from_the_track_page_keeps_the_results_navigation(web: Web) -> None:
    """Marking a result came back to /track/N without its query: "Back to results" and
    "Next result" were gone."""
    op = web.login("operator")
    url = "/track/1?object=car&limit=24&offset=0&order=score&pos=0"
    page = op.get(url).text
    assert f'name="next" value="{url.replace("&", "&amp;")}"' in page
    resp = op.post(
        f"/cases/{CASE}/marks",
        data={
            "track_id": "1",
            "mark": "relevant",
            "note": "",
            "next": url,
            "csrf_token": csrf_of(page),
        },
    )
    assert resp.status_code == 303 and resp.headers["location"] == url


def test_footage_page_shows_the_offline_camera_plan(web: Web, populated: Services) -> None:
    """The footage page lists the scope's cameras; it now draws their plan as the case page
    does (inline SVG, nothing fetched), and names the cameras without a position."""
    page = web.login("operator").get("/footage").text
    assert "<h2>Plan des caméras</h2>" in page and 'class="camera-map-figure"' in page
    assert "/static/chrono.css" in page and "position inconnue" in page
    assert "http://" not in page and "https://" not in page  # offline: no tile server


def test_footage_page_plan_in_english(web: Web) -> None:
    web.lang = "en"
    page = web.login("operator").get("/footage").text
    assert "<h2>Camera plan</h2>" in page and "position unknown" in page


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("fr", "un superviseur autre que le demandeur doit l'approuver"),
        ("en", "a supervisor other than the requester must approve it"),
    ],
)
def test_export_waiting_does_not_call_the_approver_a_second_supervisor(
    lang: str, text: str
) -> None:
    """An operator's request showed "a second supervisor must approve": the requester is no
    supervisor, so there is no first one."""
    assert CATALOGUE[lang]["export.waiting"] == text


def test_attribute_lines_follow_each_language_typography(web: Web) -> None:
    """The English page read "colour : red 80 %" (French spacing hard-coded in the
    templates)."""
    fr = web.login("operator").get("/search", params={"object": "car"}).text
    assert "couleur : " in fr and "80 %" in fr
    web.lang = "en"
    en_client = web.login("operator")
    en = en_client.get("/search", params={"object": "car"}).text
    assert "colour: " in en and "80%" in en
    assert "colour : " not in en and "80 %" not in en
    track = en_client.get("/track/1").text
    assert "colour: " in track and "(confidence 90%)" in track and "90%" in track
    assert " %<" not in track and "colour : " not in track


def test_understood_line_uses_french_typography(web: Web) -> None:
    """ "Compris : Véhicule: voiture · couleur: gris": the labels of the understood line had
    no space before their colon in French."""
    fr = web.login("operator").get("/search", params={"text": "voiture rouge"}).text
    assert "Compris : Véhicule : voiture · couleur : rouge" in html.unescape(fr)
    web.lang = "en"
    en = web.login("operator").get("/search", params={"text": "red car"}).text
    assert "Understood: Vehicle: car · colour: red" in html.unescape(en)


def test_admin_camera_page_counts_recordings_in_words(web: Web) -> None:
    """ "Cette caméra a 1 enregistrement(s)": the count goes through the plural forms."""
    fr = html.unescape(web.login("admin", case=None).get("/admin/cameras/cam1").text)
    assert "Cette caméra a 1 enregistrement : son fuseau ne peut plus changer." in fr
    assert "(s)" not in fr
    web.lang = "en"
    en = html.unescape(web.login("admin", case=None).get("/admin/cameras/cam1").text)
    assert "This camera has 1 recording: its time zone can no longer change." in en


def test_full_frame_zoom_level_is_worded_per_language(web: Web) -> None:
    """The zoom read "Zoom 100 %" in English (the percent was hard-coded, also in frame.js):
    the page gives the script its language's format."""
    fr = web.login("operator").get("/frame/1").text
    assert 'data-format="{n} %">100 %</output>' in fr
    web.lang = "en"
    en = web.login("operator").get("/frame/1").text
    assert 'data-format="{n}%">100%</output>' in en


def _event_names() -> set[str]:
    import importlib

    for module in ("retrouve.cli", "retrouve.services", "retrouve.web"):
        importlib.import_module(module)  # loads every module that defines an event
    from retrouve.legal import journal

    def subclasses(cls: type) -> list[type]:
        return [s for c in cls.__subclasses__() for s in (c, *subclasses(c))]

    return {s.name for s in subclasses(journal.Event)}  # type: ignore[attr-defined]


def test_every_journalled_action_has_a_label_in_both_languages() -> None:
    """The French journal listed "search", "result-view", "user-add"… raw."""
    names = _event_names()
    assert {"search", "result-view", "user-add", "export-request"} <= names
    for lang in ("fr", "en"):
        missing = sorted(n for n in names if f"jaction.{n}" not in CATALOGUE[lang])
        assert not missing, (lang, missing)


def test_journal_page_shows_the_label_and_keeps_the_action_name(web: Web) -> None:
    sup = web.login("supervisor")
    sup.get("/search", params={"object": "car"})  # journalled: a "search" entry
    fr = sup.get("/journal").text
    assert 'Recherche<br><small class="mono action-name">search</small>' in fr
    assert '<option value="search">Recherche (search)</option>' in fr
    web.lang = "en"
    en = web.login("supervisor").get("/journal").text
    assert 'Search<br><small class="mono action-name">search</small>' in en


def test_case_chooser_shows_windows_in_each_camera_zone(web: Web) -> None:
    """The chooser listed "cam1 2026-01-04T09:00:00+00:00 → …" (raw UTC ISO) while the
    case page said 10:00 CET: each window is now worded as on the case page."""
    page = html.unescape(web.login("operator", case=None).get("/case/select").text)
    assert "+00:00" not in page
    cam1 = '<span class="mono">cam1</span> 04/01/2026 10:00:00 CET → 04/01/2026 11:00:00 CET'
    # A camera in another zone: the operator's time, the camera's own in brackets.
    cam2 = ('<span class="mono">cam2</span> 04/01/2026 10:00:00 CET (caméra 09:00:00 UTC) → '
            "04/01/2026 11:00:00 CET (caméra 10:00:00 UTC)")
    assert cam1 in page and cam2 in page
