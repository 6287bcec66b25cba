"""Free text as operators type it: typos and synonyms, approximate plates, words that do not
shape the search reported as ignored, a make/model without its pack falling back clearly."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from click.testing import CliRunner, Result

from retrouve.cli import cli
from retrouve.domain import Camera
from retrouve.errors import QueryError
from retrouve.search.engine import Capabilities
from retrouve.search.request import (
    CLI_WORDING,
    BuiltQuery,
    SearchRequest,
    build_query,
    fit_capabilities,
    ignored_line,
)
from retrouve.search.text_fuzzy import max_typos, near
from retrouve.search.text_query import parse_text

NOW = datetime(2026, 1, 7, 15, 30, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def _fields(text: str) -> dict[str, object]:
    return parse_text(text, now=NOW, tz=PARIS).fields


# ------------------------------------------------------------------ near misses
@pytest.mark.parametrize(("word", "key", "typos"), [
    ("vouture", "voiture", 1),       # substitution
    ("blanhce", "blanche", 1),       # two neighbours swapped
    ("pantallon", "pantalon", 1),    # one letter too many
    ("camionnete", "camionnette", 1),
    ("peugot", "peugeot", 1),
    ("trotinette", "trottinette", 1),
    ("motocyclete", "motocyclette", 1),
    ("bicyclettte", "bicyclette", 1),
    ("parrapluie", "parapluie", 1),
])
def test_typos_are_read_as_the_near_word(word: str, key: str, typos: int) -> None:
    found = near(word)
    assert found is not None and found.entry is not None
    assert (found.key, found.typos) == (key, typos)


@pytest.mark.parametrize("word", [
    "rouj",      # under 5 letters: too many short words are one letter from another
    "roule",     # an ordinary word one letter from "rouge": never corrected
    "zzzzz",     # nothing near
    "oiture",    # the first letter is wrong
    "voiture",   # vocabulary already: not a typo
    "ab12c",     # not a word
])
def test_words_that_are_not_corrected(word: str) -> None:
    assert near(word) is None


def test_a_tie_between_meanings_is_not_guessed() -> None:
    # "jaupe" is one edit from "jaune" (yellow) and from "jupe" (a skirt).
    found = near("jaupe")
    assert found is not None and found.entry is None
    assert found.candidates == ("jaune", "jupe")
    parsed = parse_text("femme jaupe", now=NOW, tz=PARIS)
    assert parsed.fields == {"object": "person"} and parsed.unknown == ("jaupe",)
    assert "jaupe: did you mean 'jaune' or 'jupe'?" in parsed.notes


def test_allowed_typos_grow_with_the_word() -> None:
    assert [max_typos(w) for w in ("sac", "gris", "grise", "camionne", "camionnet")] == \
        [0, 0, 1, 1, 2]


@pytest.mark.parametrize(("text", "fields"), [
    ("vouture blanhce", {"object": "car", "colour": "white"}),
    ("camionete blanche", {"object": "van", "colour": "white"}),
    ("camionnete grise", {"object": "van", "colour": "grey"}),
    ("homme veste bleue pantallon noir",
     {"object": "person", "upper": "blue", "lower": "black"}),
    ("deux-roues noir", {"object": "motorcycle", "colour": "black"}),
    ("deux roues non motorisé", {"object": "bicycle"}),
    ("fourgon gris", {"object": "van", "colour": "grey"}),
    ("utilitaire blanc", {"object": "van", "colour": "white"}),
    ("scooter rouge", {"object": "motorcycle", "colour": "red"}),
    ("trottinette", {"object": "person"}),
    ("trotinette", {"object": "person"}),
    ("red e-scooter", {"object": "person"}),
    ("voiture qui roule", {"object": "car"}),
])
def test_typos_and_synonyms_in_free_text(text: str, fields: dict[str, object]) -> None:
    assert _fields(text) == fields


def test_every_correction_is_said() -> None:
    parsed = parse_text("vouture blanhce", now=NOW, tz=PARIS)
    assert parsed.notes == ("vouture: 'vouture' read as 'voiture' (1 typo)",
                            "blanhce: 'blanhce' read as 'blanche' (1 typo)")
    scooter = parse_text("trotinette", now=NOW, tz=PARIS)
    assert scooter.notes == ("trotinette: 'trotinette' read as 'trottinette' (1 typo); no "
                             "class for it: its rider is searched as a person",)


# ------------------------------------------------------------------ approximate plates
@pytest.mark.parametrize(("text", "plate"), [
    ("plaque FG-?12", "FG?12"),
    ("plate starting FG", "FG*"),
    ("plaque commençant FG", "FG*"),
    ("plaque en FG", "FG*"),
    ("plate ending 75", "*75"),
    ("plate starting with FG", "FG*"),
    ("plaque AB 123 CD", "AB123CD"),
    ("voiture plaque FG12 rouge", "FG12"),
])
def test_approximate_plates(text: str, plate: str) -> None:
    assert _fields(text)["plate"] == plate


def test_a_long_word_ends_the_plate() -> None:
    parsed = parse_text("plate FG something", now=NOW, tz=PARIS)
    assert parsed.fields["plate"] == "FG" and parsed.unknown == ("something",)


# ------------------------------------------------------------------ fitting the searcher
class _Cameras:
    def require_camera(self, camera_id: str) -> Camera:
        return Camera(camera_id, camera_id, "Europe/Paris")


def _fit(request: SearchRequest, caps: Capabilities, lang: str = "fr") -> BuiltQuery:
    built = build_query(request, _Cameras(), clock=lambda: NOW, lang=lang, wording=CLI_WORDING,
                        default_zone="Europe/Paris")
    return fit_capabilities(built, request, caps, lang)


def test_make_and_model_without_a_pack_fall_back_to_the_rest() -> None:
    built = _fit(SearchRequest(text="Renault Clio grise"), Capabilities())
    q = built.query
    assert (q.object, q.colour, q.make, q.model) == ("car", "grey", None, None)
    assert built.ignored == ("Renault", "Clio")
    [notice] = built.notices
    assert notice.startswith("marque/modèle non disponible (aucun pack marque/modèle "
                             "installé) : « Renault Clio » n'est pas cherché")
    assert notice.endswith("recherche lancée sur : Véhicule : voiture · couleur : gris")
    assert built.understood == "Véhicule : voiture · couleur : gris"
    english = _fit(SearchRequest(text="grey Renault Clio"), Capabilities(), "en")
    assert english.notices[0].startswith("make/model is not available")
    # With the pack, nothing changes.
    full = _fit(SearchRequest(text="Renault Clio grise"), Capabilities(make_model=True))
    assert (full.query.make, full.query.model, full.notices) == ("Renault", "Clio", ())


def test_an_explicit_make_is_not_dropped() -> None:
    built = _fit(SearchRequest(text="voiture grise", make="Renault"), Capabilities())
    assert built.query.make == "Renault" and built.notices == ()


def test_unknown_words_are_ignored_and_said() -> None:
    built = _fit(SearchRequest(text="voiture rouge zorglub"), Capabilities())
    assert built.ignored == ("zorglub",)
    assert ignored_line(built, "fr") == "ignoré : zorglub"
    assert ignored_line(built, "en") == "ignored: zorglub"
    # An image-text pack ranks by them: then they are not ignored.
    caps = Capabilities(text_kind="clip", embed_text=lambda s: np.zeros(4, np.float32))
    assert _fit(SearchRequest(text="voiture rouge zorglub"), caps).ignored == ()


def test_a_text_understood_as_nothing_is_refused_not_searched_whole() -> None:
    with pytest.raises(QueryError, match=r"nothing searchable in 'zzzz qqqq' \(not "
                                         r"understood: zzzz, qqqq\)"):
        _fit(SearchRequest(text="zzzz qqqq"), Capabilities())
    with pytest.raises(QueryError, match="nothing searchable in 'Renault'"):
        _fit(SearchRequest(text="Renault"), Capabilities())
    # Another criterion keeps the search narrow: it runs, the words are reported ignored.
    kept = _fit(SearchRequest(text="zzzz", object="car"), Capabilities())
    assert kept.ignored == ("zzzz",)


# ------------------------------------------------------------------ command line
def _run(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


@pytest.fixture
def cli_case(tmp_path: Path) -> Path:
    assert _run(tmp_path, "cameras", "add", "cam").exit_code == 0
    made = _run(tmp_path, "cases", "create", "T-1", "--basis", "60-1", "--procedure", "P",
                "--authority", "OPJ", "--purpose", "t", "--assign", getpass.getuser(),
                "--scope", "cam:2026-01-01T00:00Z/2026-02-01T00:00Z")
    assert made.exit_code == 0, made.output
    return tmp_path


def test_cli_make_fallback_and_ignored_words_in_the_chosen_language(cli_case: Path) -> None:
    fr = _run(cli_case, "search", "--case", "T-1", "--text", "Renault Clio grise zorglub",
              "--lang", "fr")
    assert fr.exit_code == 0, fr.output
    out = " ".join(fr.output.split())
    assert "compris : Véhicule : voiture · couleur : gris" in out
    assert "marque/modèle non disponible" in out and "« Renault Clio »" in out
    assert "ignoré : Renault, Clio, zorglub" in out
    en = _run(cli_case, "search", "--case", "T-1", "--text", "grey Renault Clio",
              "--lang", "en", "--json")
    assert en.exit_code == 0, en.output
    reading = json.loads(en.output)["interpretation"]
    assert reading["ignored"] == ["Renault", "Clio"]
    assert reading["notices"][0].startswith("make/model is not available")


def test_cli_refuses_a_text_of_unknown_words(cli_case: Path) -> None:
    res = _run(cli_case, "search", "--case", "T-1", "--text", "zzzz qqqq")
    assert res.exit_code == 2
    # The CLI's default language here is French (the engine's error, worded by errors_i18n).
    assert "rien d'exploitable dans « zzzz qqqq »" in " ".join(res.output.split())
