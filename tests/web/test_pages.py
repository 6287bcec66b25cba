"""The server-rendered pages: login, search and results, sequence view, footage, language."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from clips import RED, Moving, make_clip
from retrouve.config import WebSettings
from retrouve.domain import COLOURS, Camera
from retrouve.legal.accounts import Accounts
from retrouve.services import Services
from retrouve.web import create_app
from web.conftest import (
    PASSWORD,
    Web,
    case_over_everything,
    cheap_hasher,
    csrf_of,
    fixed_clock,
    login,
    select_case,
)


def _hrefs(html: str, prefix: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(' + prefix + r'[^"]*)"', html)]


# ---------------------------------------------------------------------------------- login
def test_login_page_is_french_by_default_and_switches(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    assert '<html lang="fr">' in page.text and "Mot de passe" in page.text
    english = client.get("/login?lang=en")
    assert '<html lang="en">' in english.text and "Password" in english.text
    assert "lang=en" in english.headers["set-cookie"]
    # Remembered by the cookie.
    assert "Password" in client.get("/login").text


def test_wrong_password_says_so_without_saying_which(web: Web) -> None:
    wrong = login(web.client(), "operator", "not the password")
    unknown = login(web.client(), "nobody", "not the password")
    for resp in (wrong, unknown):
        assert resp.status_code == 401  # type: ignore[attr-defined]
        assert "Identifiant ou mot de passe incorrect" in resp.text  # type: ignore[attr-defined]


def test_logged_in_user_is_sent_from_login_to_search(web: Web) -> None:
    client = web.login("operator")
    assert client.get("/login").headers["location"] == "/search"
    assert client.get("/").headers["location"] == "/search"


# --------------------------------------------------------------------------------- search
def test_search_form_only_until_submitted(web: Web) -> None:
    page = web.login("operator").get("/search")
    assert page.status_code == 200
    assert 'name="object"' in page.text and 'class="grid"' not in page.text
    # Colour swatches: one radio per colour for each of colour, upper, lower.
    for name in ("colour", "upper", "lower"):
        for colour in COLOURS:
            assert f'name="{name}" value="{colour}"' in page.text
    assert page.text.count('class="sw sw-red"') == 3
    assert "Place de la Gare (cam1)" in page.text
    assert "Europe/Paris" in page.text  # the zone of times typed without one
    # No make/model classifier pack installed: no make/model fields to mislead.
    assert 'name="make"' not in page.text and 'name="plate"' in page.text


def test_results_grid(web: Web) -> None:
    page = web.login("operator").get("/search?object=car&colour=red")
    html = page.text
    assert html.count('class="hit"') == 1
    assert "/media/thumb/1" in html
    assert '<svg class="box"' in html  # the box drawn over the thumbnail
    assert "Place de la Gare" in html
    assert "04/01/2026 10:00:10 CET" in html  # camera's local time, French format
    assert "10.0 s" in html
    assert "rouge" in html and "80 %" in html
    assert "Plaque : AB123CD" in html
    assert 'class="timeline"' in html


def test_results_in_english(web: Web) -> None:
    html = web.login("operator").get("/search?object=car&colour=red&lang=en").text
    assert "2026-01-04 10:00:10 CET" in html and "red" in html and "Plate: AB123CD" in html


def test_empty_results_say_why(web: Web) -> None:
    client = web.login("operator")
    html = client.get("/search?camera=idle").text
    assert "Aucun résultat" in html and "n'a encore été analysé" in html.replace("&#39;", "'")
    html = client.get("/search?colour=pink").text
    assert "élargissez la période" in html


def test_bad_search_is_explained(web: Web) -> None:
    html = web.login("operator").get("/search?object=person&colour=red").text
    assert "Recherche invalide" in html


def test_paging_and_order(web: Web) -> None:
    client = web.login("operator")
    first = client.get("/search?order=time&limit=12&offset=0").text
    assert first.count('class="hit"') == 5
    assert not _hrefs(first, "/search\\?[^\"]*offset=12")  # 5 hits: no next page
    two = client.get("/search?limit=12&offset=3").text
    assert two.count('class="hit"') == 2
    prev = _hrefs(two, "/search\\?")
    assert any("offset=0" in h for h in prev)


def test_track_links_carry_the_search_and_position(web: Web) -> None:
    client = web.login("operator")
    html = client.get("/search?object=car").text
    links = _hrefs(html, "/track/")
    cards = [h for h in links if "pos=" in h]
    assert cards[0].startswith("/track/1?") and "object=car" in cards[0] and "pos=0" in cards[0]
    first = client.get(cards[0]).text
    nav = _hrefs(first, "/track/")
    assert any(h.startswith("/track/2?") and "pos=1" in h for h in nav)  # next
    second = client.get(cards[1]).text
    assert any(h.startswith("/track/1?") and "pos=0" in h for h in _hrefs(second, "/track/"))
    assert "/search?object=car" in second.replace("&amp;", "&")  # back to the results


# ------------------------------------------------------------------------------- sequence
def test_track_page(web: Web) -> None:
    html = web.login("operator").get("/track/1").text
    assert "Séquence n° 1" in html
    # File name and SHA-256; the server path is for admins only.
    assert "r1.mp4" in html and "/footage/r1.mp4" not in html and "r1" * 32 in html
    assert "/footage/r1.mp4" in web.login("admin").get("/track/1").text
    assert "Europe/Paris" in html
    assert 'href="/search?like=1"' in html
    assert 'id="track-data"' in html and "[10.0, 110.0, 200.0, 310.0, 320.0, 0.9]" in html
    assert "AB123CE" in html  # plate alternative


def test_track_page_player(web: Web) -> None:
    html = web.login("operator").get("/track/1").text
    if web.app.state.has_player:
        # Starts 3 s before the sighting (10 s), in the clip's own time.
        assert re.search(r'<video id="player"[^>]* src="/media/clip/1#t=\d+\.\d\d"', html)
        assert '<script src="/static/track.js"></script>' in html
    else:
        assert "La lecture vidéo n'est pas disponible" in html.replace("&#39;", "'")


def test_unknown_track_is_404_page(web: Web) -> None:
    page = web.login("operator").get("/track/4242")
    assert page.status_code == 404 and "Introuvable" in page.text


def test_similar_search_shows_the_reference(web: Web) -> None:
    html = web.login("operator").get("/search?like=1").text
    assert "Objets semblables à la séquence n° 1" in html


# -------------------------------------------------------------------------------- footage
def test_footage_page(web: Web) -> None:
    html = web.login("operator").get("/footage").text
    assert "Place de la Gare" in html and "r3.mp4" in html and "/footage/r3.mp4" not in html
    assert "terminée" in html and "en attente" in html
    # Whoever may work in the case analyses its scope (as `retrouve analyse --case`).
    assert "ne porte que sur le périmètre du dossier WEB-1" in html
    assert 'action="/footage/analyse"' in html
    assert "Analyser les enregistrements en attente du dossier (1)" in html


def test_footage_page_shows_partial_range_and_changed_file(web: Web, populated: Services
                                                           ) -> None:
    """A truncated recording shows the range nobody searched; a changed file says what to do,
    and its error names the file without the server path (to an operator)."""
    store = populated.store
    try:
        store.set_recording_status("r3", "partial", None, analysed_until_s=245.4)
        html = web.login("operator").get("/footage").text.replace("&#39;", "'")
        assert "partielle" in html
        assert "Non analysé de 4:05 à 10:00" in html  # 245.4 s .. the announced 600 s
        assert 'name="recording" value="r3"' in html  # may be analysed again
        store.set_recording_status(
            "r3", "changed", "recording r3: /footage/r3.mp4 changed since ingest (sampled "
            "blocks differ): not analysed, flagged 'changed'")
        html = web.login("operator").get("/footage").text.replace("&#39;", "'")
        assert "fichier modifié" in html and "Remettez le fichier d'origine en place" in html
        assert "recording r3: r3.mp4 changed since ingest" in html
        assert "/footage/r3.mp4" not in html
        # No "analyse" button for it: a changed file is never analysed under its old stamp.
        assert 'name="recording" value="r3"' not in html
        english = web.login("operator").get("/footage?lang=en").text.replace("&#39;", "'")
        assert "Put the original file back" in english and "file changed" in english
    finally:
        store.set_recording_status("r3", "pending", None)


def test_admin_analyses_from_the_footage_page(services: Services, tmp_path: Path) -> None:
    """End to end: a real clip is ingested, analysed from the page, then found."""
    services.catalogue.add_camera(Camera("cam9", "Rue du Test", "Europe/Paris"))
    clip = make_clip(tmp_path / "c.mp4", seconds=2.0, fps=10,
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 2.0)])
    report = services.catalogue.ingest(str(clip.path), "cam9", "2026-01-04T10:00:00+01:00")
    assert report.added
    accounts = Accounts(services.store, fixed_clock, cheap_hasher())
    accounts.add("chief", "admin", PASSWORD)
    case_over_everything(services, ("chief",), ref="WEB-9")  # an admin sees footage if assigned
    app = create_app(services, WebSettings(secure_cookies=False), accounts=accounts)
    with TestClient(app, follow_redirects=False) as client:
        assert login(client, "chief").status_code == 303  # type: ignore[attr-defined]
        select_case(client, "WEB-9")
        token = csrf_of(client.get("/footage").text)
        resp = client.post("/footage/analyse", data={"csrf_token": token})
        assert resp.headers["location"] == "/footage?msg=started"
        app.state.analysis.join(timeout=120)
        state = client.get("/api/analysis").json()
        assert state["running"] is False and state["error"] is None
        assert state["units_done"] == state["units_total"] >= 1
        page = client.get("/footage").text
        assert "terminée" in page
        # The refresh lands on ?msg=started: once finished, that notice is stale, not shown.
        refreshed = client.get("/footage?msg=started").text
        assert "terminée" in refreshed and "Analyse lancée." not in refreshed
        again = client.post("/footage/analyse", data={"csrf_token": token})
        assert again.headers["location"] == "/footage?msg=nothing"
        hits = client.get("/api/search", params={"camera": "cam9"}).json()["hits"]
        assert hits, "the analysed clip should give at least one track"
        thumb = client.get(hits[0]["thumbnail"])
        assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
        assert thumb.headers["content-type"] == "image/jpeg"


# ------------------------------------------------------------------ keyboard, skip links
def test_skip_link_is_the_first_focusable_element(web: Web) -> None:
    client = web.login("operator")
    for url, text, target in (("/footage", "Aller au contenu", "#main"),
                              ("/search", "Aller au contenu", "#main"),
                              ("/search?object=car", "Aller aux résultats", "#results")):
        html = client.get(url).text
        body = html[html.index("<body>"):]
        first = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body)
        assert first and f'class="skip-link" href="{target}"' in first.group(0), (url, first)
        assert f">{text}</a>" in body
        assert '<main id="main" tabindex="-1">' in html
    assert 'id="results"' in client.get("/search?object=car").text


def test_keyboard_help_and_frame_rate_on_the_sequence_page(web: Web) -> None:
    client = web.login("operator")
    html = client.get("/track/1").text
    assert '<dialog id="keys-help"' in html and 'data-keys-page="track"' in html
    assert '<script src="/static/keys.js"></script>' in html
    if web.app.state.has_player:
        # The recording's rate as the store holds it (the browser test checks 10 and 8 fps).
        fps = web.app.state.services.store.get_recording("r1").fps
        assert re.search(rf'<video id="player"[^>]* data-fps="{fps}"', html), fps
    english = client.get("/search?object=car&lang=en").text
    assert 'data-keys-page="search"' in english and "Go to the next result" in english
    assert client.get("/static/keys.js").status_code == 200


def test_keys_script_needs_a_login(web: Web) -> None:
    assert web.client().get("/static/keys.js").status_code == 401


def test_engine_errors_follow_the_page_language(web: Web) -> None:
    """A bad plate pattern, a bad time and a malformed query: French on the French page,
    English on the English one (the engine's keyed errors, not its English as is)."""
    client = web.login("operator")
    cases = [
        ("plate=AB%2312", "caractère(s) inattendu(s) #", "unexpected character(s) #"),
        ("from=hier", "n'est pas au format ISO-8601", "is not ISO-8601"),
        ("object=person&colour=red", "la couleur s'applique aux véhicules",
         "colour applies to vehicles"),
    ]
    for query, french, english in cases:
        fr = client.get(f"/search?{query}&lang=fr").text.replace("&#39;", "'")
        en = client.get(f"/search?{query}&lang=en").text.replace("&#39;", "'")
        assert french in fr and english not in fr, query
        assert english in en and french not in en, query


def test_api_error_keeps_english_detail_and_adds_its_code(web: Web) -> None:
    client = web.login("operator")
    resp = client.get("/api/search?plate=AB%2312&lang=fr")
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "plate.bad_chars"
    assert "unexpected character(s) #" in body["detail"]
    assert "caractère(s) inattendu(s) #" in body["message"]
