"""Vocabulary of the free-text query parser (``search.text_query``), as data.

Every word the parser knows is in a table here: objects, colours, garments, carried objects,
makes and models, plate keywords, function words, time words. Tables list French and English
phrases separately (comma-separated; accents, case, hyphens and plurals optional) so that the
language of a query can be told from its words. :data:`LEXICON` maps a phrase (a tuple of
folded words, ``text_tokens.phrase_key``) to its meaning; the tokeniser is ``text_tokens``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

from retrouve.search.text_tokens import phrase_key, phrase_set, phrases, word_set

Lang = Literal["fr", "en"]

# ============================================================================ vocabulary (data)
# Each table row: (value, French phrases, English phrases). Phrases are comma-separated and go
# through the same tokeniser as the query, so accents, hyphens and plurals are optional. A phrase
# listed in both languages is language-neutral for language detection.

OBJECT_WORDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("car", "voiture, auto, automobile, berline, break, citadine, monospace, cabriolet, suv, "
            "4x4, taxi, véhicule de tourisme, véhicule léger",
     "automobile, sedan, saloon, hatchback, estate car, suv, 4x4, taxi, cab, jeep"),
    # A van is the derived light-commercial class (see domain.DERIVED_CLASSES).
    ("van", "camionnette, camionette, utilitaire, fourgon, fourgonnette, van, "
            "véhicule utilitaire, minibus, camping-car, ambulance",
     "van, minivan, minibus, campervan, camper van, motorhome, ambulance"),
    # A pick-up is a truck for the COCO detector.
    ("truck", "camion, poids lourd, poids-lourd, semi, semi-remorque, camion benne, benne, "
              "pick-up, pickup",
     "truck, lorry, hgv, semi, semi truck, articulated lorry, pickup, pick-up, tipper"),
    # French "car" (a coach) is resolved by language in text_reading.lex(): see AMBIGUOUS_WORDS.
    ("bus", "bus, autobus, autocar, navette", "bus, coach, double decker, double-decker"),
    # "Deux-roues" alone is, in police reports, the motorised kind; the other is said.
    ("motorcycle", "moto, motocyclette, scooter, mobylette, cyclomoteur, motard, deux-roues, "
                   "deux-roues motorisé, 2 roues, maxi-scooter",
     "motorcycle, motorbike, motor bike, scooter, moped, biker, motorcyclist, two-wheeler, "
     "powered two-wheeler"),
    # A cyclist is searched as the bicycle track (the person track is separate).
    ("bicycle", "vélo, bicyclette, vtt, cycliste, deux-roues non motorisé, vélo électrique, "
                "vae", "bicycle, bike, push bike, cyclist, e-bike, pedal bike"),
    ("vehicle", "véhicule, engin", "vehicle"),
    # Gender and age are never stored: every person word means "person".
    ("person", "homme, femme, personne, individu, piéton, piétonne, enfant, garçon, fille, jeune, "
               "adolescent, adolescente, ado, passant, passante, suspect, suspecte, silhouette, "
               "quelqu'un, monsieur, madame, dame, gens",
     "man, men, woman, women, person, people, pedestrian, child, children, kid, boy, girl, guy, "
     "lady, gentleman, individual, suspect, someone, somebody, teenager, adult"),
)

#: Objects the detector has no class for, read as what it does see, with the reason said:
#: (value, French, English, note). An e-scooter's rider is a person track.
NOTED_OBJECT_WORDS: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("person", "trottinette, trottinette électrique, trott, gyroroue, monoroue, hoverboard, "
               "skate, skateboard, planche à roulettes, rollers",
     "e-scooter, kick scooter, electric scooter, push scooter, hoverboard, skateboard, "
     "unicycle, roller skates",
     "no class for it: its rider is searched as a person"),
)

#: Words whose meaning depends on the language of the rest of the text.
AMBIGUOUS_WORDS: Final[dict[str, dict[Lang, str]]] = {
    "car": {"fr": "bus", "en": "car"},  # French "car" = autocar (coach)
}

#: Words that are vocabulary in one language only and ordinary words in the other
#: ("short man", "pull over"): outside that language they are left unknown.
ONLY_IN: Final[dict[str, Lang]] = {"short": "fr", "pull": "fr", "break": "fr", "rose": "fr",
                                    "bas": "fr", "haut": "fr"}

#: The eleven basic colours (domain.COLOURS). Choices: silver/argenté → grey; beige, camel,
#: chocolat → brown (colour naming reports them so); bordeaux/maroon → red; kaki/olive → green;
#: navy/marine/turquoise → blue; doré/gold → yellow; mauve/lilas → purple; crème/ivoire → white.
COLOUR_WORDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("white", "blanc, blanche, blancs, blanches, crème, ivoire, écru", "white, cream, ivory"),
    ("black", "noir, noire, noirs, noires", "black"),
    ("grey", "gris, grise, grises, argent, argenté, argentée, argentés, argentées, anthracite, "
             "alu", "grey, gray, silver, charcoal, gunmetal"),
    ("red", "rouge, rouges, bordeaux, grenat, carmin, écarlate", "red, maroon, burgundy, crimson, "
            "scarlet"),
    ("orange", "orange, oranges, orangé, orangée, orangés, orangées", "orange"),
    ("yellow", "jaune, jaunes, doré, dorée, dorés, dorées, moutarde", "yellow, gold, golden, "
               "mustard"),
    ("green", "vert, verte, verts, vertes, kaki, olive, émeraude", "green, khaki, olive, emerald"),
    ("blue", "bleu, bleue, bleus, bleues, marine, bleu marine, bleu jean, bleu jeans, azur, "
             "turquoise, cyan", "blue, navy, navy blue, turquoise, cyan, teal, denim"),
    ("brown", "marron, marrons, brun, brune, bruns, brunes, beige, beiges, chocolat, camel, "
              "caramel, taupe", "brown, beige, tan, chocolate, camel, taupe"),
    ("purple", "violet, violette, violets, violettes, mauve, mauves, lilas, pourpre, prune, "
               "lavande", "purple, violet, mauve, lilac, lavender, plum"),
    ("pink", "rose, roses, fuchsia, framboise, saumon", "pink, fuchsia, magenta, salmon"),
)

#: Shade words: consumed with their colour and reported, but the eleven colours have no shade.
SHADE_WORDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("shade", "foncé, foncée, foncés, foncées, sombre, sombres, clair, claire, clairs, claires, "
              "pâle, pâles, vif, vive, vifs, vives, fluo, métallisé, métallisée, mat",
     "dark, light, pale, bright, deep, neon, metallic, matte"),
)

#: Garments: ``upper`` and ``lower`` body; ``both`` covers the whole body (a dress, a suit).
GARMENT_WORDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("upper", "veste, blouson, manteau, pull, pull-over, pullover, sweat, sweat-shirt, "
              "sweat à capuche, t-shirt, tshirt, tee-shirt, chemise, chemisette, chemisier, "
              "haut, doudoune, parka, gilet, anorak, polo, débardeur, imperméable, imper, ciré, "
              "k-way, coupe-vent, blazer, veston, cardigan, polaire, trench, caban, maillot, "
              "tunique, top, hoodie, capuche",
     "jacket, coat, overcoat, shirt, top, hoodie, hooded top, sweater, jumper, pullover, "
     "sweatshirt, t-shirt, tshirt, tee, tee-shirt, vest, gilet, blouse, blazer, cardigan, "
     "parka, anorak, raincoat, fleece, windbreaker, puffer jacket, hi-vis, tank top, polo, "
     "polo shirt, jersey, trench coat"),
    ("lower", "pantalon, jean, short, bermuda, jupe, bas, jogging, legging, pantacourt, "
              "treillis, chino, cargo",
     "trousers, pants, jeans, jean, shorts, skirt, leggings, joggers, sweatpants, "
     "tracksuit bottoms, chinos, cargo pants, slacks"),
    ("both", "robe, combinaison, survêtement, costume, uniforme, salopette, tenue",
     "dress, tracksuit, overalls, jumpsuit, suit, uniform, outfit"),
)

#: Carried objects (domain.ACCESSORIES). A plain "sac"/"bag" is a handbag: the eval format's
#: "handbag (any hand-carried bag)".
ACCESSORY_WORDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("backpack", "sac à dos, cartable, sac d'école", "backpack, rucksack, knapsack, back pack, "
                 "school bag, schoolbag"),
    ("handbag", "sac, sac à main, sacoche, pochette, cabas, sac de sport, sac banane, besace, "
                "sac plastique, sac de courses",
     "bag, handbag, hand bag, purse, shoulder bag, tote, tote bag, holdall, duffel bag, "
     "duffle bag, shopping bag, carrier bag, satchel, messenger bag"),
    ("suitcase", "valise, bagage, valise à roulettes, trolley", "suitcase, luggage, trolley, "
                 "wheeled suitcase, roller bag"),
    ("umbrella", "parapluie, ombrelle", "umbrella, brolly"),
)

#: Common makes in France: (name as shown, aliases).
MAKES: Final[tuple[tuple[str, str], ...]] = (
    ("Renault", "renault"), ("Peugeot", "peugeot"), ("Citroën", "citroën"), ("Dacia", "dacia"),
    ("Volkswagen", "volkswagen, vw"), ("Toyota", "toyota"), ("Ford", "ford"),
    ("Mercedes-Benz", "mercedes, mercedes-benz, merco"), ("BMW", "bmw"), ("Audi", "audi"),
    ("Opel", "opel"), ("Fiat", "fiat"), ("Nissan", "nissan"), ("Tesla", "tesla"), ("Kia", "kia"),
    ("Hyundai", "hyundai"), ("Skoda", "skoda"), ("Seat", "seat"), ("Volvo", "volvo"),
    ("Iveco", "iveco"),
)

#: A few frequent models: (model as shown, make, object type). "Polo" and "Jumper" are garment
#: words, so those models are only recognised with their make ("vw polo", "citroën jumper").

MODELS: Final[tuple[tuple[str, str, str], ...]] = (
    ("Clio", "Renault", "car"), ("Mégane", "Renault", "car"), ("Captur", "Renault", "car"),
    ("Twingo", "Renault", "car"), ("Zoé", "Renault", "car"), ("Kangoo", "Renault", "van"),
    ("Master", "Renault", "van"), ("Trafic", "Renault", "van"),
    ("208", "Peugeot", "car"), ("308", "Peugeot", "car"), ("2008", "Peugeot", "car"),
    ("3008", "Peugeot", "car"), ("Partner", "Peugeot", "van"), ("Expert", "Peugeot", "van"),
    ("Boxer", "Peugeot", "van"), ("C3", "Citroën", "car"), ("C4", "Citroën", "car"),
    ("Berlingo", "Citroën", "van"), ("Jumpy", "Citroën", "van"),
    ("Citroën Jumper", "Citroën", "van"),
    ("Sandero", "Dacia", "car"), ("Duster", "Dacia", "car"), ("Golf", "Volkswagen", "car"),
    ("VW Polo", "Volkswagen", "car"), ("Volkswagen Polo", "Volkswagen", "car"),
    ("Transporter", "Volkswagen", "van"), ("Crafter", "Volkswagen", "van"),
    ("Sprinter", "Mercedes-Benz", "van"), ("Vito", "Mercedes-Benz", "van"),
    ("Transit", "Ford", "van"), ("Fiesta", "Ford", "car"), ("Ducato", "Fiat", "van"),
    ("Yaris", "Toyota", "car"),
)

PLATE_KEYWORDS: Final[tuple[str, str]] = (
    "plaque, plaques, plaque d'immatriculation, immatriculation, immatriculé, immatriculée, "
    "immatriculés, immatriculées, immat, numéro de plaque",
    "plate, plates, number plate, licence plate, license plate, plate number, registration, "
    "reg, registered",
)
#: How a partial plate is given: ``prefix`` → "FG*", ``suffix`` → "*12", ``contains`` → "*7F*".
#: Operators leave the preposition out ("plate starting FG", "plaque commençant FG").
PLATE_QUALIFIERS: Final[tuple[tuple[str, str, str], ...]] = (
    ("prefix", "commençant par, commence par, qui commence par, débutant par, qui débute par, "
               "commençant, commence, débutant, en, qui commence",
     "starting with, beginning with, begins with, starts with, starting, beginning, begins, "
     "starts, starting in, beginning in"),
    ("suffix", "finissant par, finit par, qui finit par, se terminant par, terminant par, "
               "qui se termine par, finissant, finit, terminant, se terminant, finissant en",
     "ending with, ending in, ends with, ends in, ending, ends"),
    ("contains", "contenant, qui contient, avec", "containing, contains, that contains, with"),
)

#: Markers before a colour said of the whole person ("habillé en noir", "in black"): upper
#: body; with an "all" word ("tout en noir", "all in black") upper and lower body.
DRESS_WORDS: Final[tuple[str, str]] = (
    "en, habillé, habillée, habillés, habillées, vêtu, vêtue, vêtus, vêtues",
    "in, dressed, clad",
)
ALL_WORDS: Final[tuple[str, str]] = ("tout, toute, tous, toutes, entièrement", "all, entirely")
NEGATION_WORDS: Final[tuple[str, str]] = ("sans, pas de, aucun, aucune", "without, no, not")

STOP_WORDS: Final[tuple[str, str]] = (
    "le, la, les, un, une, des, de, du, au, aux, avec, et, ou, à, sur, dans, par, pour, qui, "
    "que, est, sont, était, étaient, portant, porte, portait, porteur, porteuse, tenant, tient, "
    "tenait, ayant, a, il, elle, ils, elles, on, se, sa, son, ses, leur, leurs, ce, cet, cette, "
    "ces, y, ne, je, me, moi, nous, vous, très, plutôt, assez, genre, type, modèle, marque, "
    "couleur, couleurs, teinte, vu, vue, aperçu, aperçue, cherche, chercher, recherche, "
    "trouver, retrouver, montrer, afficher, près, devant, derrière, vers, entre, après, avant, "
    "depuis, jusque, environ, dernier, dernière, derniers, dernières",
    "the, a, an, with, and, or, of, at, by, for, to, from, on, who, which, that, is, are, was, "
    "were, be, been, has, have, had, having, his, her, their, its, it, he, she, they, wearing, "
    "wears, wore, carrying, carries, holding, holds, some, any, very, quite, rather, kind, sort, "
    "type, model, make, brand, colour, color, coloured, colored, seen, spotted, looking, find, "
    "show, search, me, i, we, near, next, behind, front, around, about, between, after, before, "
    "since, until, over, during, last, past",
)

# ------------------------------------------------------------------------- time vocabulary
#: Day words: offset in days from today.
DAY_WORDS: Final[dict[str, int]] = {
    "aujourd'hui": 0, "aujourdhui": 0, "auj": 0, "today": 0, "hier": -1, "yesterday": -1,
    "avant-hier": -2, "day before yesterday": -2,
}
#: Parts of the day as (start hour, end hour) of the anchor day; the night runs 22:00 → 06:00
#: of the next day.
PART_HOURS: Final[dict[str, tuple[int, int]]] = {
    "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24), "night": (22, 30),
}
PART_WORDS: Final[dict[str, str]] = {
    "matin": "morning", "matinée": "morning", "morning": "morning",
    "après-midi": "afternoon", "aprem": "afternoon", "afternoon": "afternoon",
    "soir": "evening", "soirée": "evening", "evening": "evening", "nuit": "night",
    "night": "night",
}
#: "ce matin", "this morning": the part of today (the night: the one just past).
THIS_WORDS: Final[str] = "ce, cet, cette, this"
#: Special day-part phrases: (part, day offset); offset None for "the night just past".
DAY_PART_PHRASES: Final[dict[str, tuple[str, int | None]]] = {
    "tonight": ("evening", 0), "last night": ("night", None), "nuit dernière": ("night", None),
    "la nuit dernière": ("night", None),
}
WEEKDAYS: Final[tuple[tuple[str, str], ...]] = (
    ("lundi", "monday"), ("mardi", "tuesday"), ("mercredi", "wednesday"), ("jeudi", "thursday"),
    ("vendredi", "friday"), ("samedi", "saturday"), ("dimanche", "sunday"),
)
#: Words around a weekday meaning "the last one" (the default anyway).
LAST_WORDS: Final[str] = "dernier, dernière, passé, last"
MONTHS: Final[tuple[str, ...]] = (
    "janvier, janv, january, jan", "février, févr, fév, february, feb", "mars, march, mar",
    "avril, avr, april, apr", "mai, may", "juin, june, jun", "juillet, juil, july, jul",
    "août, august, aug", "septembre, sept, sep, september", "octobre, oct, october",
    "novembre, nov, november", "décembre, déc, december, dec",
)
NUMBER_WORDS: Final[dict[str, int]] = {
    "un": 1, "une": 1, "one": 1, "a": 1, "an": 1, "deux": 2, "two": 2, "trois": 3, "three": 3,
    "quatre": 4, "four": 4, "cinq": 5, "five": 5, "six": 6, "sept": 7, "seven": 7, "huit": 8,
    "eight": 8, "neuf": 9, "nine": 9, "dix": 10, "ten": 10, "douze": 12, "twelve": 12,
    "quinze": 15, "fifteen": 15, "vingt": 20, "twenty": 20, "trente": 30, "thirty": 30,
}
DURATION_UNITS: Final[dict[str, timedelta]] = {
    **dict.fromkeys(("heure", "heures", "h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("minute", "minutes", "min", "mins", "mn"), timedelta(minutes=1)),
    **dict.fromkeys(("jour", "jours", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("semaine", "semaines", "week", "weeks"), timedelta(weeks=1)),
}
FIXED_DURATIONS: Final[dict[str, timedelta]] = {
    "demi-heure": timedelta(minutes=30), "une demi-heure": timedelta(minutes=30),
    "half an hour": timedelta(minutes=30), "half hour": timedelta(minutes=30),
    "quart d'heure": timedelta(minutes=15), "un quart d'heure": timedelta(minutes=15),
    "quarter of an hour": timedelta(minutes=15), "quarter hour": timedelta(minutes=15),
}
CLOCK_WORDS: Final[dict[str, int]] = {"midi": 12, "noon": 12, "minuit": 0, "midnight": 0}
#: Keywords before a clock time: (kind, the clock must carry a unit). "à"/"at" need "15h"/"3pm"
#: so that "homme à vélo" is not a time.
CLOCK_KEYWORDS: Final[dict[str, tuple[str, bool]]] = {
    "entre": ("range", False), "between": ("range", False), "de": ("from", False),
    "from": ("from", False), "vers": ("around", False), "around": ("around", False),
    "about": ("around", False), "environ": ("around", False), "approximately": ("around", False),
    "aux alentours de": ("around", False), "autour de": ("around", False), "à": ("around", True),
    "at": ("around", True), "après": ("after", False), "after": ("after", False),
    "à partir de": ("after", False), "avant": ("before", False), "before": ("before", False),
    "jusqu'à": ("before", False), "until": ("before", False), "till": ("before", False),
}
RANGE_SEPARATORS: Final[str] = "et, and, à, to, until, till, jusqu'à"
SINCE_WORDS: Final[str] = "depuis, since"
RECENT_WORDS: Final[str] = "last, past, dernière, dernières, dernier, derniers"
AGO_BEFORE: Final[str] = "il y a"
AGO_AFTER: Final[str] = "ago"
#: "vers 15h" and "3 hours ago" mean this much either side.
AROUND: Final = timedelta(minutes=30)

# ================================================================================ lexicon


@dataclass(frozen=True)
class Entry:
    kind: str  # object, colour, shade, garment, accessory, make, model
    value: str
    extra: str = ""  # model: "make|object"
    note: str = ""  # said with the reading (NOTED_OBJECT_WORDS)


def _by_lang(fr: str, en: str) -> tuple[tuple[str, Lang], tuple[str, Lang]]:
    return (fr, "fr"), (en, "en")


def _build_lexicon() -> tuple[dict[tuple[str, ...], Entry], dict[str, Lang]]:
    """The phrase → meaning table, and each word's language (words of both are left out)."""
    lexicon: dict[tuple[str, ...], Entry] = {}
    seen: dict[str, set[Lang]] = {}

    def add(key: tuple[str, ...], entry: Entry, langs: Iterable[Lang]) -> None:
        old = lexicon.get(key)
        if old is not None and old != entry:
            raise ValueError(f"text_query vocabulary: {' '.join(key)!r} means both {old} and "
                             f"{entry}")
        lexicon[key] = entry
        for w in key:
            seen.setdefault(w, set()).update(langs)

    tables = (("object", OBJECT_WORDS), ("colour", COLOUR_WORDS), ("shade", SHADE_WORDS),
              ("garment", GARMENT_WORDS), ("accessory", ACCESSORY_WORDS))
    for kind, rows in tables:
        for value, fr, en in rows:
            for csv, lang in _by_lang(fr, en):
                for key in phrases(csv):
                    add(key, Entry(kind, value), (lang,))
    for value, fr, en, note in NOTED_OBJECT_WORDS:
        for csv, lang in _by_lang(fr, en):
            for key in phrases(csv):
                add(key, Entry("object", value, note=note), (lang,))
    for make, aliases in MAKES:
        for key in phrases(aliases):
            add(key, Entry("make", make), ())
    for model, make, obj in MODELS:
        add(phrase_key(model), Entry("model", model, f"{make}|{obj}"), ())
    for word in AMBIGUOUS_WORDS:
        add((word,), Entry("object", "?"), ())
    # Function words and time words count for language detection only.
    for (fr, en) in (STOP_WORDS, DRESS_WORDS, ALL_WORDS, NEGATION_WORDS, PLATE_KEYWORDS):
        for csv, lang in _by_lang(fr, en):
            for w in word_set(csv):
                seen.setdefault(w, set()).add(lang)
    for csv, lang in _by_lang(",".join(TIME_WORDS_FR), ",".join(TIME_WORDS_EN)):
        for w in word_set(csv):
            seen.setdefault(w, set()).add(lang)
    langs = {w: next(iter(ls)) for w, ls in seen.items() if len(ls) == 1}
    return lexicon, langs


#: Time words that tell the language of a query (with the weekdays and month names).
TIME_WORDS_FR: Final[tuple[str, ...]] = (
    *(fr for fr, _ in WEEKDAYS), *(m.split(",")[0] for m in MONTHS),
    "hier, aujourdhui, matin, soir, nuit, midi, heure, heures, minuit",
)
TIME_WORDS_EN: Final[tuple[str, ...]] = (
    *(en for _, en in WEEKDAYS), "january, february, march, april, june, july, august",
    "september, october, november, december, yesterday, today, morning, evening, night, noon",
    "hour, hours, ago",
)
LEXICON, WORD_LANG = _build_lexicon()
STOP: Final = word_set(*STOP_WORDS) | word_set("le, de, je, ne, se, ce, me, te, que, jusque")
DRESS: Final = word_set(*DRESS_WORDS)
ALL: Final = word_set(*ALL_WORDS)
NEGATION: Final = phrase_set(",".join(NEGATION_WORDS))
PLATE_KW: Final = phrase_set(",".join(PLATE_KEYWORDS))
PLATE_QUAL: Final[dict[tuple[str, ...], str]] = {
    k: mode for mode, fr, en in PLATE_QUALIFIERS for k in phrases(f"{fr}, {en}")
}
