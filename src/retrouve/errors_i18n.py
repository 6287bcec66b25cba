"""The operator-facing wording of keyed errors, in French (the default) and English.

An error raised with ``key=`` and ``params=`` (:class:`retrouve.errors.RetrouveError`) is
worded here by :func:`error_text` in the interface language: the web pages use the request's,
the CLI its ``--lang``. ``str(err)`` stays the English message for logs and the API's
``detail``; the API adds the key as its machine-readable ``code``. An error without a key (or
with a key missing here) is shown as ``str(err)``, so a new error is never lost, only
untranslated. Every key has both texts with the same placeholders (checked by
``tests/test_errors_i18n.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from retrouve.errors import RetrouveError, Word
from retrouve.errors_i18n_legal import LEGAL, WORDS

__all__ = ["CATALOGUE", "LANGS", "WORDS", "english", "error_text", "word_text"]

LANGS: Final = ("fr", "en")

#: key → language → text with ``str.format`` placeholders named as the error's params.
CATALOGUE: Final[dict[str, dict[str, str]]] = {
    # --- plate patterns (search/plate_pattern.py)
    "plate.empty": {
        "fr": "motif de plaque vide : donnez des lettres ou chiffres, par ex. FG-123-AB ou FG*",
        "en": "plate pattern is empty: give letters/digits, e.g. FG-123-AB or FG*"},
    "plate.too_long": {
        "fr": "motif de plaque de {n} caractères : au plus {max} (une plaque en a une dizaine)",
        "en": "plate pattern of {n} characters: at most {max} (a plate has about ten)"},
    "plate.bad_chars": {
        "fr": "motif de plaque « {pattern} » : caractère(s) inattendu(s) {chars} ; utilisez "
              "lettres, chiffres, ? (un caractère), * (une suite), espaces, tirets ou points",
        "en": "plate pattern {pattern!r}: unexpected character(s) {chars}; use letters, "
              "digits, ? (one character), * (any run), spaces, dashes or dots"},
    "plate.no_alnum": {
        "fr": "le motif de plaque « {pattern} » n'a ni lettre ni chiffre : il trouverait "
              "toutes les plaques",
        "en": "plate pattern {pattern!r} has no letter or digit: it would match every plate"},
    "plate.too_many_tokens": {
        "fr": "le motif de plaque « {pattern} » a {n} lettres, chiffres et jokers : au plus "
              "{max}",
        "en": "plate pattern {pattern!r} has {n} letters, digits and wildcards: at most {max}"},
    "plate.too_many_stars": {
        "fr": "le motif de plaque « {pattern} » a {n} jokers « * » : au plus {max}",
        "en": "plate pattern {pattern!r} has {n} '*' wildcards: at most {max}"},
    # --- times and time zones (search/engine.py, search/text_time.py, wallclock.py)
    "time.not_iso": {
        "fr": "{what} « {text} » n'est pas au format ISO-8601 (par ex. 2026-01-04T10:00)",
        "en": "{what} '{text}' is not ISO-8601 (e.g. 2026-01-04T10:00)"},
    "time.no_offset": {
        "fr": "{what} « {text} » n'a pas de décalage horaire : ajoutez-en un (+01:00) ou "
              "choisissez {hint}",
        "en": "{what} '{text}' has no offset: add one (+01:00) or {hint}"},
    "time.empty_window": {
        "fr": "fenêtre de temps vide : le début {start} est après la fin {end}",
        "en": "empty time window: from {start} is after to {end}"},
    "time.no_such_date": {
        "fr": "date inexistante : « {text} »",
        "en": "no such date: '{text}'"},
    "time.ends_before_start": {
        "fr": "la fenêtre « {words} » finit avant de commencer : {start} → {end} (pour une "
              "fenêtre qui passe minuit, dites « cette nuit » ou donnez deux dates)",
        "en": "time window '{words}' ends before it starts: {start} → {end} (for a window "
              "across midnight say 'last night' or give two dates)"},
    "time.unknown_zone": {
        "fr": "fuseau horaire inconnu « {zone} » (par ex. Europe/Paris)",
        "en": "unknown time zone '{zone}' (e.g. Europe/Paris)"},
    "time.out_of_range": {
        "fr": "{what} : hors limites",
        "en": "{what}: out of range"},
    "time.dst_gap": {
        "fr": "{what} n'existe pas dans le fuseau {zone} (sautée au changement d'heure) : "
              "donnez le décalage UTC, par ex. +01:00",
        "en": "{what} does not exist in {zone} (skipped by the daylight-saving change): give "
              "the UTC offset, e.g. +01:00"},
    "time.dst_fold": {
        "fr": "{what} existe deux fois dans le fuseau {zone} (le changement d'heure répète "
              "cette heure) : donnez le décalage UTC, {first} ou {second}",
        "en": "{what} happens twice in {zone} (the daylight-saving change repeats that "
              "hour): give the UTC offset, {first} or {second}"},
    # --- structured criteria (search/engine.py validate, search/request.py)
    "query.unknown_object": {
        "fr": "objet inconnu « {value} » : choisissez parmi {choices}",
        "en": "unknown object '{value}': expected one of {choices}"},
    "query.unknown_colour": {
        "fr": "couleur inconnue « {value} » ({field}) : choisissez parmi {choices}",
        "en": "unknown {field} '{value}': expected one of {choices}"},
    "query.unknown_accessory": {
        "fr": "accessoire inconnu « {value} » : choisissez parmi {choices}",
        "en": "unknown accessory '{value}': expected one of {choices}"},
    "query.bad_limit": {
        "fr": "le nombre de résultats par page doit être entre 1 et {max} (reçu {value})",
        "en": "limit must be between 1 and {max}, got {value}"},
    "query.bad_offset": {
        "fr": "le décalage doit être entre 0 et {max} (affinez la recherche pour voir plus "
              "loin ; reçu {value})",
        "en": "offset must be between 0 and {max} (narrow the search to see further), got "
              "{value}"},
    "query.colour_not_vehicle": {
        "fr": "la couleur s'applique aux véhicules ; pour « {object} », utilisez les couleurs "
              "du haut et du bas",
        "en": "colour applies to vehicles; for a {object} use upper/lower clothing colours"},
    "query.person_only": {
        "fr": "{fields} s'applique aux personnes (objet personne), pas à « {object} »",
        "en": "{fields} apply to people (object person), not to a {object}"},
    "query.vehicle_only": {
        "fr": "{fields} s'applique aux véhicules à moteur, pas à « {object} »",
        "en": "{fields} apply to motor vehicles, not to a {object}"},
    "query.vehicle_and_person": {
        "fr": "{vehicle} (véhicules) ne peut pas être combiné avec {person} (personnes)",
        "en": "{vehicle} (vehicles) cannot be combined with {person} (people)"},
    "query.no_make_model": {
        "fr": "la recherche par marque/modèle demande un pack de classification marque/modèle "
              ": installez-en un (`retrouve models install PACK`), puis ré-analysez les images",
        "en": "make/model search needs a vehicle make/model classifier pack: install one "
              "with `retrouve models install PACK` (task classifier, attribute make_model), "
              "then re-analyse the footage"},
    "query.unknown_order": {
        "fr": "ordre inconnu « {value} » : score ou time",
        "en": "unknown order '{value}': expected score or time"},
    "query.unknown_track": {
        "fr": "piste {track} inconnue pour « objets ressemblants »",
        "en": "unknown track {track} for find-similar"},
    # --- free text (search/text_query.py, search/request.py)
    "text.nothing": {
        "fr": "rien à chercher dans « {text} »",
        "en": "nothing to search for in '{text}'"},
    "text.nothing_searchable": {
        "fr": "rien d'exploitable dans « {text} » (non compris : {unknown}) : nommez un objet, "
              "une couleur, une plaque ou un moment",
        "en": "nothing searchable in '{text}' (not understood: {unknown}): name an object, a "
              "colour, a plate or a time"},
    "text.too_long": {
        "fr": "{field} : {n} caractères, au plus {max}",
        "en": "{field}: {n} characters, at most {max}"},
    # --- accounts (legal/accounts.py, legal/admin_guard.py)
    "account.bad_name": {
        "fr": "nom d'utilisateur « {name} » invalide : 1 à 64 lettres, chiffres, « . », « _ » "
              "ou « - », en commençant par une lettre ou un chiffre",
        "en": "invalid user name '{name}': 1-64 letters, digits, '.', '_' or '-', starting "
              "with a letter or digit"},
    "account.exists": {
        "fr": "l'utilisateur « {name} » existe déjà",
        "en": "user '{name}' already exists"},
    "account.unknown": {
        "fr": "utilisateur « {name} » inconnu",
        "en": "unknown user '{name}'"},
    "account.bad_role": {
        "fr": "rôle « {role} » inconnu : choisissez parmi {choices}",
        "en": "unknown role '{role}': expected one of {choices}"},
    "account.password_short": {
        "fr": "mot de passe trop court : au moins {min} caractères",
        "en": "password too short: at least {min} characters"},
    "account.password_long": {
        "fr": "mot de passe trop long : au plus {max} caractères",
        "en": "password too long: at most {max} characters"},
    "account.self_disable": {
        "fr": "vous ne pouvez pas désactiver votre propre compte : un autre administrateur "
              "doit le faire",
        "en": "you cannot disable your own account: another admin must"},
    "account.self_demote": {
        "fr": "vous ne pouvez pas vous retirer le rôle d'administrateur : un autre "
              "administrateur doit le faire",
        "en": "you cannot take away your own admin role: another admin must"},
    "account.last_admin": {
        "fr": "« {name} » est le dernier administrateur actif : créez ou réactivez d'abord un "
              "autre administrateur",
        "en": "'{name}' is the last enabled admin: create or enable another admin first"},
    # --- cameras (catalogue/ingest.py check_camera, legal/camera_register.py)
    "camera.bad_id": {
        "fr": "identifiant de caméra « {id} » invalide : lettres, chiffres, « . », « _ » et "
              "« - » seulement, commençant et finissant par une lettre ou un chiffre, au plus "
              "128 caractères",
        "en": "bad camera id '{id}': letters, digits, '.', '_' and '-' only, starting and "
              "ending with a letter or digit, at most 128 characters"},
    "camera.bad_id_hint": {
        "fr": "identifiant de caméra « {id} » invalide : lettres, chiffres, « . », « _ » et "
              "« - » seulement, commençant et finissant par une lettre ou un chiffre, au plus "
              "128 caractères (par ex. « {hint} »)",
        "en": "bad camera id '{id}': letters, digits, '.', '_' and '-' only, starting and "
              "ending with a letter or digit, at most 128 characters (e.g. '{hint}')"},
    "camera.case_clash": {
        "fr": "l'identifiant « {id} » ne diffère de la caméra enregistrée « {other} » que par "
              "les majuscules : utilisez « {other} » ou un autre identifiant",
        "en": "camera id '{id}' differs from the registered '{other}' by case only: use "
              "'{other}', or another id"},
    "camera.bad_name": {
        "fr": "caméra « {id} » : le nom doit compter de 1 à {max} caractères",
        "en": "camera '{id}': its name must be 1-{max} characters"},
    "camera.bad_latitude": {
        "fr": "caméra « {id} » : la latitude {value} est hors de -90..90 degrés",
        "en": "camera '{id}': latitude {value} is outside -90..90 degrees"},
    "camera.bad_longitude": {
        "fr": "caméra « {id} » : la longitude {value} est hors de -180..180 degrés",
        "en": "camera '{id}': longitude {value} is outside -180..180 degrees"},
    "camera.not_number": {
        "fr": "{field} « {text} » n'est pas un nombre (degrés décimaux, par ex. 48.8566)",
        "en": "{field} '{text}' is not a number (decimal degrees, e.g. 48.8566)"},
    "camera.half_position": {
        "fr": "donnez la latitude et la longitude ensemble, ou aucune des deux",
        "en": "give both latitude and longitude, or neither"},
    "camera.exists": {
        "fr": "la caméra « {id} » existe déjà (modifiez-la depuis sa page)",
        "en": "camera '{id}' already exists (edit it from its page)"},
    "camera.unknown": {
        "fr": "caméra « {id} » inconnue",
        "en": "unknown camera '{id}'"},
    "camera.unknown_known": {
        "fr": "caméra « {id} » inconnue (caméras connues : {known})",
        "en": "unknown camera '{id}' (known: {known})"},
    "camera.unknown_none": {
        "fr": "caméra « {id} » inconnue (aucune caméra enregistrée)",
        "en": "unknown camera '{id}' (none registered)"},
    "camera.zone_locked": {
        "fr": "la caméra « {id} » a des enregistrements : son fuseau reste {zone} (leurs "
              "heures de début ont été lues dans ce fuseau à l'import)",
        "en": "camera '{id}' has recordings: its time zone stays {zone} (their start times "
              "were read in it at ingest)"},
}

CATALOGUE.update(LEGAL)  # cases, rights, exports, the web's case forms (errors_i18n_legal.py)

#: Parameter values that are words of the interface (a field named by the web's wording),
#: worded in each language; any other value is shown as given.
_PARAM_WORDS: Final[dict[str, dict[str, str]]] = {
    "fr": {"from": "le début", "to": "la fin", "a camera": "une caméra",
           "a --camera": "une --camera", "latitude": "la latitude",
           "longitude": "la longitude"},
    "en": {},
}


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else "fr"


def _worded(value: object, lang: str) -> object:
    """A param's value in ``lang``: a :class:`Word` or a nested error worded, a field word
    translated, anything else (data) as given."""
    if isinstance(value, Word):
        return word_text(value, lang)
    if isinstance(value, RetrouveError):
        return error_text(value, lang)
    if isinstance(value, str):
        return _PARAM_WORDS[lang].get(value, value)
    if isinstance(value, tuple):  # alternatives: "admin or supervisor"
        return WORDS["or"][lang].join(str(_worded(v, lang)) for v in value)
    return value


def word_text(word: Word, lang: str) -> str:
    """``word`` in ``lang`` (its key itself when :data:`WORDS` lacks it: never lost)."""
    texts = WORDS.get(word.key)
    if texts is None:
        return word.key
    lang = _lang(lang)
    try:
        return texts[lang].format(**{k: _worded(v, lang) for k, v in word.params})
    except (KeyError, IndexError, ValueError):
        return texts[lang]


def english(key: str, params: Mapping[str, object]) -> str:
    """The English message of ``key`` with ``params`` — an error raised with a key and no
    message carries it as ``str(err)``; the key itself when the catalogue lacks it."""
    texts = CATALOGUE.get(key)
    if texts is None:
        return key
    try:
        return texts["en"].format(**{k: _worded(v, "en") for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return texts["en"]


def error_text(err: BaseException, lang: str) -> str:
    """``err`` worded for an operator in ``lang`` (``fr``/``en``; anything else is French,
    the interface's default): its key's text filled with its params, else ``str(err)``."""
    key = getattr(err, "key", None) if isinstance(err, RetrouveError) else None
    texts = CATALOGUE.get(key) if key else None
    if texts is None:
        return str(err)
    lang = _lang(lang)
    assert isinstance(err, RetrouveError)
    params = {k: _worded(v, lang) for k, v in err.params.items()}
    if key == "text.nothing_searchable" and not params.get("unknown"):
        # "(not understood: )" reads badly: the sentence without the parenthesis.
        return texts[lang].replace(" (non compris : {unknown})", "").replace(
            " (not understood: {unknown})", "").format(**params)
    try:
        return texts[lang].format(**params)
    except (KeyError, IndexError, ValueError):  # a param missing: English is still right
        return str(err)
