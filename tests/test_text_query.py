"""Free-text queries (French and English) read into search fields, and ``retrouve parse``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from retrouve.cli import cli
from retrouve.domain import ACCESSORIES, COLOURS, QUERY_OBJECTS, Query
from retrouve.errors import QueryError
from retrouve.search.text_query import FIELDS, ParsedText, parse_text
from retrouve.search.text_tokens import MAX_PHRASE_WORDS
from retrouve.search.text_vocab import ACCESSORY_WORDS, COLOUR_WORDS, LEXICON, MODELS, OBJECT_WORDS

PARIS = ZoneInfo("Europe/Paris")
#: The fixed "now" of these tests: Wednesday 7 January 2026, 15:30 in Paris.
NOW = datetime(2026, 1, 7, 15, 30, tzinfo=PARIS)


def at(text: str, year: int = 2026) -> datetime:
    """``"01-06 14:00"`` → 6 January 14:00 in Paris."""
    return datetime.strptime(f"{year}-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=PARIS)


def parse(text: str, **kw: Any) -> ParsedText:
    return parse_text(text, now=NOW, tz=PARIS, **kw)


def window(start: str, end: str, year: int = 2026) -> dict[str, datetime]:
    return {"time_from": at(start, year), "time_to": at(end, year)}


# (text, expected fields): every field the text sets, and only those.
PHRASES: list[tuple[str, dict[str, Any]]] = [
    # vehicles and their colour, French (colour after the noun) and English (before)
    ("camionnette blanche plaque FG*", {"object": "van", "colour": "white", "plate": "FG*"}),
    ("voiture rouge", {"object": "car", "colour": "red"}),
    ("red car", {"object": "car", "colour": "red"}),
    ("Voiture Blanche", {"object": "car", "colour": "white"}),
    ("voitures grises", {"object": "car", "colour": "grey"}),
    ("camionnette blanches", {"object": "van", "colour": "white"}),
    ("vehicule utilitaire blanc", {"object": "van", "colour": "white"}),  # no accents
    ("véhicule utilitaire blanc", {"object": "van", "colour": "white"}),
    ("voiture argentée", {"object": "car", "colour": "grey"}),
    ("silver car", {"object": "car", "colour": "grey"}),
    ("voiture bordeaux", {"object": "car", "colour": "red"}),
    ("moto bleu marine", {"object": "motorcycle", "colour": "blue"}),
    ("navy blue van", {"object": "van", "colour": "blue"}),
    ("poids lourd rouge", {"object": "truck", "colour": "red"}),
    ("semi-remorque", {"object": "truck"}),
    ("autocar blanc", {"object": "bus", "colour": "white"}),
    ("car rouge", {"object": "bus", "colour": "red"}),  # French "car" is a coach
    ("scooter noir", {"object": "motorcycle", "colour": "black"}),
    ("vélo jaune", {"object": "bicycle", "colour": "yellow"}),
    ("yellow bike", {"object": "bicycle", "colour": "yellow"}),
    ("4x4 noir", {"object": "car", "colour": "black"}),
    ("vert kaki", {"colour": "green"}),
    # makes, models, plates
    ("Peugeot 208 grise", {"object": "car", "colour": "grey", "make": "Peugeot",
                           "model": "208"}),
    ("Renault Kangoo blanc", {"object": "van", "colour": "white", "make": "Renault",
                              "model": "Kangoo"}),
    ("white Ford Transit", {"object": "van", "colour": "white", "make": "Ford",
                            "model": "Transit"}),
    ("citroen berlingo", {"object": "van", "make": "Citroën", "model": "Berlingo"}),
    ("VW noire", {"colour": "black", "make": "Volkswagen"}),
    ("voiture immatriculée AB-123-CD", {"object": "car", "plate": "AB123CD"}),
    ("plate 12*", {"plate": "12*"}),
    ("plaque AB 123 CD", {"plate": "AB123CD"}),
    ("plaque commençant par FG", {"plate": "FG*"}),
    ("utilitaire gris plaque se terminant par 75", {"object": "van", "colour": "grey",
                                                    "plate": "*75"}),
    ("white van plate starting with AB", {"object": "van", "colour": "white", "plate": "AB*"}),
    ("AB123CD", {"plate": "AB123CD"}),
    ("fg*", {"plate": "FG*"}),
    ("FG?12", {"plate": "FG?12"}),
    # people: clothing colours, accessories; gender is never stored
    ("homme en veste marron avec un sac noir", {"object": "person", "upper": "brown",
                                                 "accessory": "handbag"}),
    ("man in brown jacket with a black bag", {"object": "person", "upper": "brown",
                                              "accessory": "handbag"}),
    ("femme pantalon bleu jean", {"object": "person", "lower": "blue"}),
    ("femme en robe rouge", {"object": "person", "upper": "red", "lower": "red"}),
    ("homme habillé en noir", {"object": "person", "upper": "black"}),
    ("homme habille tout en noir", {"object": "person", "upper": "black", "lower": "black"}),
    ("man in black", {"object": "person", "upper": "black"}),
    ("woman all in red", {"object": "person", "upper": "red", "lower": "red"}),
    ("piéton en jaune", {"object": "person", "upper": "yellow"}),
    ("homme pull rouge jean bleu sac à dos noir", {"object": "person", "upper": "red",
                                                   "lower": "blue", "accessory": "backpack"}),
    ("individu portant un blouson noir et un pantalon gris, sac à main",
     {"object": "person", "upper": "black", "lower": "grey", "accessory": "handbag"}),
    ("femme veste rose, jupe noire, parapluie", {"object": "person", "upper": "pink",
                                                 "lower": "black", "accessory": "umbrella"}),
    ("guy in a dark blue hoodie and grey joggers", {"object": "person", "upper": "blue",
                                                    "lower": "grey"}),
    ("man in a black hoodie and blue jeans", {"object": "person", "upper": "black",
                                              "lower": "blue"}),
    ("personne en t-shirt blanc et short noir", {"object": "person", "upper": "white",
                                                 "lower": "black"}),
    ("woman carrying a suitcase", {"object": "person", "accessory": "suitcase"}),
    ("une personne avec une valise", {"object": "person", "accessory": "suitcase"}),
    ("veste marron", {"object": "person", "upper": "brown"}),  # a garment implies a person
    ("homme pantalon kaki", {"object": "person", "lower": "green"}),
    ("femme pull violet", {"object": "person", "upper": "purple"}),
    ("femme brune", {"object": "person"}),  # hair colour: never searched
    ("homme noir", {"object": "person"}),  # skin colour: never searched
    ("homme sans sac", {"object": "person"}),  # a negation is not searchable
    # time, French and English (now = Wed 2026-01-07 15:30 Paris)
    ("camion hier entre 14h et 16h", {"object": "truck", **window("01-06 14:00", "01-06 16:00")}),
    ("voiture grise hier entre 14h et 16h", {"object": "car", "colour": "grey",
                                             **window("01-06 14:00", "01-06 16:00")}),
    ("voiture grise hier de 14h30 à 15h", {"object": "car", "colour": "grey",
                                           **window("01-06 14:30", "01-06 15:00")}),
    ("camion aujourd'hui", {"object": "truck", **window("01-07 00:00", "01-08 00:00")}),
    ("camion avant-hier", {"object": "truck", **window("01-05 00:00", "01-06 00:00")}),
    ("bus ce matin", {"object": "bus", **window("01-07 06:00", "01-07 12:00")}),
    ("bus cet après-midi", {"object": "bus", **window("01-07 12:00", "01-07 18:00")}),
    ("moto cette nuit", {"object": "motorcycle", **window("01-06 22:00", "01-07 06:00")}),
    ("moto hier soir vers 9h", {"object": "motorcycle", **window("01-06 20:30", "01-06 21:30")}),
    ("voiture rouge vers 15h", {"object": "car", "colour": "red",
                                **window("01-07 14:30", "01-07 15:30")}),
    # the most recent 18:00 that has started is yesterday's
    ("scooter noir après 18h", {"object": "motorcycle", "colour": "black",
                                **window("01-06 18:00", "01-07 00:00")}),
    ("vélo avant 9h", {"object": "bicycle", **window("01-07 00:00", "01-07 09:00")}),
    ("camion 14h-16h", {"object": "truck", **window("01-07 14:00", "01-07 16:00")}),
    ("camion lundi", {"object": "truck", **window("01-05 00:00", "01-06 00:00")}),
    ("moto le 12/11", {"object": "motorcycle", **window("11-12 00:00", "11-13 00:00", 2025)}),
    ("voiture le 12 novembre", {"object": "car", **window("11-12 00:00", "11-13 00:00", 2025)}),
    ("truck on 12 November", {"object": "truck", **window("11-12 00:00", "11-13 00:00", 2025)}),
    ("van yesterday", {"object": "van", **window("01-06 00:00", "01-07 00:00")}),
    ("white van this morning", {"object": "van", "colour": "white",
                                **window("01-07 06:00", "01-07 12:00")}),
    ("red car last night", {"object": "car", "colour": "red",
                            **window("01-06 22:00", "01-07 06:00")}),
    ("car between 2pm and 4pm", {"object": "car", **window("01-07 14:00", "01-07 16:00")}),
    ("car between 2 and 4pm", {"object": "car", **window("01-07 14:00", "01-07 16:00")}),
    ("car from 14:00 to 16:00", {"object": "car", **window("01-07 14:00", "01-07 16:00")}),
    ("car around 3pm", {"object": "car", **window("01-07 14:30", "01-07 15:30")}),
    ("bus after 6 pm", {"object": "bus", **window("01-06 18:00", "01-07 00:00")}),
    ("camionnette depuis 2 heures", {"object": "van", **window("01-07 13:30", "01-07 15:30")}),
    ("van in the last 2 hours", {"object": "van", **window("01-07 13:30", "01-07 15:30")}),
    ("voiture les 30 dernières minutes", {"object": "car",
                                          **window("01-07 15:00", "01-07 15:30")}),
    ("voiture il y a 2 heures", {"object": "car", **window("01-07 13:00", "01-07 14:00")}),
    ("car 2 hours ago", {"object": "car", **window("01-07 13:00", "01-07 14:00")}),
    ("voiture depuis hier", {"object": "car", **window("01-06 00:00", "01-07 15:30")}),
    ("voiture depuis 14h", {"object": "car", **window("01-07 14:00", "01-07 15:30")}),
    ("voiture depuis 24h", {"object": "car", **window("01-06 15:30", "01-07 15:30")}),
]


@pytest.mark.parametrize(("text", "expected"), PHRASES, ids=[p[0] for p in PHRASES])
def test_phrases(text: str, expected: dict[str, Any]) -> None:
    parsed = parse(text)
    assert parsed.fields == expected
    assert set(parsed.fields) <= set(FIELDS)


def test_the_table_is_big_enough() -> None:
    assert len(PHRASES) >= 40


# (text, words not understood)
UNKNOWN: list[tuple[str, tuple[str, ...]]] = [
    ("voiture rouge toute cabossée", ("cabossée",)),
    ("brown leather jacket", ("leather",)),
    ("camionnette blanche avec autocollant publicitaire", ("autocollant", "publicitaire")),
    ("the red one", ("one",)),
    ("homme en veste marron", ()),
    ("a short man in a red coat", ("short",)),  # "short" is a garment only in French
]


@pytest.mark.parametrize(("text", "unknown"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_unknown_words_are_reported(text: str, unknown: tuple[str, ...]) -> None:
    parsed = parse(text)
    assert parsed.unknown == unknown
    for word in unknown:
        assert word in parsed.residual_text


def test_accessory_colour_is_kept_as_a_note_and_free_text() -> None:
    parsed = parse("homme en veste marron avec un sac noir")
    notes = [i for i in parsed.interpretation if i.field == "accessory_colour"]
    assert [(n.words, n.value, n.applied) for n in notes] == [(("noir",), "black", False)]
    assert parsed.residual_text == "sac noir"
    assert parsed.unknown == ()
    assert any("carried object" in n for n in parsed.notes)
    assert parse("man in brown jacket with a black bag").residual_text == "black bag"


@pytest.mark.parametrize(("text", "kept", "refused"), [
    ("voiture rouge et blanche", {"object": "car", "colour": "red"}, ("blanche",)),
    ("black and white car", {"object": "car", "colour": "black"}, ("white",)),
    ("voiture rouge et camion bleu", {"object": "car", "colour": "red"}, ("camion", "bleu")),
    ("homme veste rouge voiture bleue", {"object": "person", "upper": "red"},
     ("voiture", "bleue")),
    ("cyclist in a yellow jacket", {"object": "bicycle"}, ("jacket", "yellow")),
    ("camion hier lundi", {"object": "truck", **window("01-06 00:00", "01-07 00:00")},
     ("lundi",)),
])
def test_contradictions_keep_the_first_and_say_so(text: str, kept: dict[str, Any],
                                                  refused: tuple[str, ...]) -> None:
    parsed = parse(text)
    assert parsed.fields == kept
    not_applied = {w for i in parsed.interpretation if not i.applied for w in i.words}
    assert set(refused) <= not_applied
    assert parsed.notes


def test_interpretation_is_in_reading_order_with_the_words_consumed() -> None:
    parsed = parse("camionnette blanche plaque FG*")
    assert [(i.words, i.field, i.value) for i in parsed.interpretation] == [
        (("camionnette",), "object", "van"),
        (("blanche",), "colour", "white"),
        (("plaque", "FG*"), "plate", "FG*"),
    ]
    parsed = parse("man in brown jacket")
    assert [(i.words, i.field, i.value) for i in parsed.interpretation] == [
        (("man",), "object", "person"),
        (("brown", "jacket"), "upper", "brown"),
    ]


def test_gender_is_never_stored() -> None:
    def reading(text: str) -> tuple[Any, ...]:
        p = parse(text)
        return p.fields, [(i.field, i.value) for i in p.interpretation]

    assert reading("homme en veste noire") == reading("femme en veste noire") == \
        reading("personne en veste noire")
    assert reading("man in a red coat") == reading("woman in a red coat")


def test_french_car_is_a_coach_english_car_a_car() -> None:
    assert parse("car blanc").fields["object"] == "bus"
    assert parse("white car").fields["object"] == "car"
    assert parse("car").fields["object"] == "car"  # no other word: the common meaning
    assert parse("car", lang="fr").fields["object"] == "bus"
    assert any("'car'" in n for n in parse("car").notes)


def test_a_window_across_a_daylight_saving_change() -> None:
    parsed = parse("voiture le 29/03/2026 entre 1h et 4h")
    start, end = parsed.fields["time_from"], parsed.fields["time_to"]
    assert start.utcoffset() == timedelta(hours=1) and end.utcoffset() == timedelta(hours=2)
    # 01:00-04:00 wall clock is two real hours: 02:00-03:00 does not exist that night.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)


def test_times_are_in_the_operator_zone() -> None:
    london = ZoneInfo("Europe/London")
    parsed = parse_text("bus yesterday between 2pm and 4pm", now=NOW, tz=london)
    assert parsed.fields["time_from"] == datetime(2026, 1, 6, 14, 0, tzinfo=london)


@pytest.mark.parametrize(("text", "message"), [
    ("", "nothing to search for"),
    ("le la les de", "nothing to search for"),
    ("the with and", "nothing to search for"),
    ("?", "nothing to search for"),
    ("voiture entre 16h et 14h", "ends before it starts"),
    ("voiture le 31/02", "no such date"),
])
def test_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(text)


def test_the_reversed_window_is_named() -> None:
    with pytest.raises(QueryError, match="entre 16h et 14h"):
        parse("camion hier entre 16h et 14h")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_text("voiture", now=datetime(2026, 1, 7, 15, 30), tz=PARIS)


def test_to_query_fills_what_the_base_leaves_open() -> None:
    parsed = parse("camionnette blanche plaque FG* hier avec autocollant")
    base = Query(cameras=("cam-12",), colour="grey", limit=10)
    query = parsed.to_query(base)
    assert query.cameras == ("cam-12",) and query.limit == 10
    assert query.colour == "grey"  # the explicit field wins
    assert (query.object, query.plate) == ("van", "FG*")
    assert query.time_from == at("01-06 00:00") and query.time_to == at("01-07 00:00")
    assert query.text == "autocollant"
    assert parse("voiture rouge").to_query(Query()).text is None


@pytest.mark.parametrize(("text", "lang", "line"), [
    ("camionnette blanche plaque FG*", None, "Véhicule : camionnette · couleur : blanc · "
                                             "plaque : FG*"),
    ("camionnette blanche plaque FG*", "en", "Vehicle: van · colour: white · plate: FG*"),
    ("man in brown jacket with a black bag", None,
     "Person · upper: brown · accessory: handbag"),
    ("homme en veste marron avec un sac noir", None,
     "Personne · haut : marron · accessoire : sac"),
    ("camion hier entre 14h et 16h", None,
     "Véhicule : camion · période : le 06/01/2026 de 14:00 à 16:00"),
    ("truck yesterday", None, "Vehicle: truck · time: 2026-01-06 (whole day)"),
    ("voiture rouge cabossée", None, "Véhicule : voiture · couleur : rouge · "
                                     "non compris : cabossée"),
])
def test_describe(text: str, lang: Any, line: str) -> None:
    assert parse(text).describe(lang) == line


def test_to_json_uses_the_eval_query_keys() -> None:
    data = parse("camion hier entre 14h et 16h plaque AB*").to_json()
    assert data["query"] == {"object": "truck", "plate": "AB*",
                             "time_from": "2026-01-06T14:00:00+01:00",
                             "time_to": "2026-01-06T16:00:00+01:00"}
    assert [i["field"] for i in data["interpretation"]] == ["object", "time", "time", "plate"]
    assert data["unknown"] == []
    json.dumps(data)  # plain JSON


def test_pure_same_input_same_output() -> None:
    assert parse("voiture rouge hier").to_json() == parse("voiture rouge hier").to_json()


def test_vocabulary_values_are_domain_values() -> None:
    assert {v for v, _, _ in COLOUR_WORDS} == set(COLOURS)
    assert {v for v, _, _ in OBJECT_WORDS} <= QUERY_OBJECTS
    assert {v for v, _, _ in ACCESSORY_WORDS} == set(ACCESSORIES)
    assert {obj for _, _, obj in MODELS} <= QUERY_OBJECTS
    assert max(len(k) for k in LEXICON) <= MAX_PHRASE_WORDS


# ------------------------------------------------------------------------------------ CLI
def test_cli_parse_json() -> None:
    result = CliRunner().invoke(cli, ["parse", "camionnette blanche plaque FG*", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["query"] == {"object": "van", "colour": "white", "plate": "FG*"}
    assert data["unknown"] == []
    assert [i["words"] for i in data["interpretation"]] == [
        ["camionnette"], ["blanche"], ["plaque", "FG*"]]


def test_cli_parse_words_without_quotes_and_iso_times() -> None:
    result = CliRunner().invoke(cli, ["parse", "red", "car", "yesterday", "--tz",
                                      "Europe/London", "--json"])
    assert result.exit_code == 0, result.output
    query = json.loads(result.output)["query"]
    assert query["object"] == "car" and query["colour"] == "red"
    start = datetime.fromisoformat(query["time_from"])
    assert start.utcoffset() is not None and (start.hour, start.minute) == (0, 0)


def test_cli_parse_text_shows_interpretation_and_unknown_words() -> None:
    result = CliRunner().invoke(cli, ["parse", "voiture rouge cabossée"])
    assert result.exit_code == 0, result.output
    assert "Véhicule : voiture" in result.output
    assert "not understood: cabossée" in result.output
    english = CliRunner().invoke(cli, ["parse", "voiture rouge", "--lang", "en"])
    assert "Vehicle: car · colour: red" in english.output


@pytest.mark.parametrize(("args", "message"), [
    (["parse", "le la"], "nothing to search for"),
    (["parse", "voiture entre 16h et 14h"], "ends before it starts"),
    (["parse", "voiture", "--tz", "Mars/Olympus"], "unknown time zone"),
])
def test_cli_parse_errors_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_cli_parse_help() -> None:
    result = CliRunner().invoke(cli, ["parse", "--help"])
    assert result.exit_code == 0 and "--json" in result.output and "--tz" in result.output
