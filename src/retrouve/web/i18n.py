"""The user-interface strings, in French (the default) and English.

A small dict-based catalogue rather than gettext: a few hundred strings, no build step, and a
test checks that both languages have every key and that every key the templates use exists.
The language comes from ``?lang=`` (remembered in a ``lang`` cookie by the app's middleware),
then that cookie, then French.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from fastapi import Request

from retrouve.search.schema import EmptyReason
from retrouve.web.i18n_admin import ADMIN_EN, ADMIN_FR
from retrouve.web.i18n_cases import CASES_EN, CASES_FR
from retrouve.web.i18n_chrono import CHRONO_EN, CHRONO_FR
from retrouve.web.i18n_exports import EXPORTS_EN, EXPORTS_FR
from retrouve.web.i18n_frame import FRAME_EN, FRAME_FR
from retrouve.web.i18n_journal import JOURNAL_EN, JOURNAL_FR
from retrouve.web.i18n_keys import KEYS_EN, KEYS_FR
from retrouve.web.i18n_results import RESULTS_EN, RESULTS_FR

LANGS: Final[tuple[str, ...]] = ("fr", "en")
DEFAULT_LANG: Final = "fr"
LANG_COOKIE: Final = "lang"

_FR: dict[str, str] = {
    "app.name": "Retrouve",
    "app.tagline": "Recherche dans les enregistrements vidéo",
    "app.notice": "Outil d'aide à l'enquête : les résultats sont à vérifier par l'opérateur.",
    "case.active": "Affaire :",
    "case.none": "Aucune affaire active",
    "case.switch": "Changer",
    "case.select_title": "Choisir l'affaire",
    "case.why": "Toute recherche et tout visionnage se font dans une affaire (réquisition "
                "judiciaire) qui vous est attribuée, et seulement dans ses caméras et ses "
                "plages horaires.",
    "case.choose": "Travailler dans cette affaire",
    "case.no_choice": "Aucune affaire ouverte ne vous est attribuée : demandez à un "
                      "superviseur de vous en attribuer une.",
    "case.refused": "Affaire refusée : {msg}",
    "nav.search": "Recherche",
    "nav.footage": "Enregistrements",
    "nav.api": "API",
    "nav.logout": "Se déconnecter",
    "nav.switch_lang": "English",
    "nav.user": "{name} ({role})",
    "role.admin": "administrateur",
    "role.supervisor": "superviseur",
    "role.operator": "opérateur",
    "role.auditor": "auditeur",
    "login.title": "Connexion",
    "login.username": "Identifiant",
    "login.password": "Mot de passe",
    "login.submit": "Se connecter",
    "login.failed": "Identifiant ou mot de passe incorrect.",
    "login.throttled.one": "Trop d'échecs de connexion. Réessayez dans {n} seconde.",
    "login.throttled.other": "Trop d'échecs de connexion. Réessayez dans {n} secondes.",
    "search.title": "Recherche",
    "search.criteria": "Critères",
    "search.submit": "Rechercher",
    "search.reset": "Effacer",
    "search.like": "Objets semblables à la séquence n° {id}",
    "search.error": "Recherche invalide : {msg}",
    "search.understood": "Compris : {desc}",
    "search.ignored": "Ignoré (ne change pas la recherche) : {words}",
    "search.text_unparsed": "L'analyse du texte libre n'est pas disponible : "
                            "le texte est cherché tel quel.",
    "field.any": "Indifférent",
    "field.object": "Type d'objet",
    "field.colour": "Couleur du véhicule",
    "field.upper": "Vêtement du haut",
    "field.lower": "Vêtement du bas",
    "field.accessory": "Objet porté",
    "field.plate": "Plaque (motif)",
    "field.plate_hint": "? = un caractère, * = plusieurs ; espaces et tirets ignorés",
    "field.make": "Marque",
    "field.model": "Modèle",
    "field.text": "Description libre",
    "field.text_hint": "ex. : voiture blanche hier soir",
    "field.cameras": "Caméras",
    "field.cameras_hint": "aucune sélection = toutes les caméras",
    "field.from": "Du",
    "field.to": "Au",
    "field.time_hint": "vide = toute la période analysée ; heure locale ({zone})",
    "field.order": "Tri",
    "field.limit": "Par page",
    "order.score": "Pertinence",
    "order.time": "Chronologique",
    "object.person": "Personne",
    "object.vehicle": "Véhicule (tous)",
    "object.car": "Voiture",
    "object.van": "Utilitaire",
    "object.truck": "Camion",
    "object.bus": "Bus",
    "object.motorcycle": "Deux-roues motorisé",
    "object.bicycle": "Vélo",
    "object.backpack": "Sac à dos",
    "object.handbag": "Sac à main",
    "object.suitcase": "Valise",
    "object.umbrella": "Parapluie",
    "colour.black": "noir",
    "colour.white": "blanc",
    "colour.grey": "gris",
    "colour.red": "rouge",
    "colour.orange": "orange",
    "colour.yellow": "jaune",
    "colour.green": "vert",
    "colour.blue": "bleu",
    "colour.brown": "marron",
    "colour.purple": "violet",
    "colour.pink": "rose",
    "attr.colour": "couleur",
    "attr.upper": "haut",
    "attr.lower": "bas",
    "attr.accessory": "objet porté",
    "attr.vehicle_type": "type",
    "attr.left_behind": "laissé sur place",
    "value.yes": "oui",
    "attr.make": "marque",
    "attr.model": "modèle",
    "results.title": "Résultats",
    "results.count": "Résultats {first} à {last}",
    "results.none": "Aucun résultat",
    "results.prev": "← Précédents",
    "results.next": "Suivants →",
    "results.timeline": "Répartition dans le temps, par caméra",
    "results.timeline_hint.one": "le premier résultat, dans l'ordre de la liste",
    "results.timeline_hint.other": "les {n} premiers résultats, dans l'ordre de la liste",
    "hit.score": "score {score}",
    "hit.duration": "{s} s",
    "hit.seen": "vu {n} fois, {s} s au total",
    "hit.other_plates": "autres lectures : {plates}",
    "hit.plate": "Plaque : {text} ({conf} %)",
    "hit.approx": "plaque approchée :",
    "hit.approx_edits.one": "{n} caractère diffère",
    "hit.approx_edits.other": "{n} caractères diffèrent",
    "hit.approx_alt": "lecture de second rang {read}",
    "hit.open": "Voir la séquence",
    "empty.no_footage": "Aucun enregistrement n'est déclaré pour ces caméras.",
    "empty.not_analysed": "Aucun enregistrement de ces caméras n'a encore été analysé : "
                          "lancez l'analyse depuis la page Enregistrements.",
    "empty.no_match": "Aucune détection ne correspond : élargissez la période "
                      "ou retirez un critère.",
    "track.title": "Séquence n° {id}",
    "track.prev": "← Résultat précédent",
    "track.next": "Résultat suivant →",
    "track.back": "Retour aux résultats",
    "track.similar": "Trouver des objets semblables",
    "track.seen": "Vu du {start} au {end}",
    "track.object": "{object} (confiance {conf} %)",
    "track.attributes": "Attributs",
    "track.mark": "Pertinence pour l'affaire",
    "track.plate": "Plaque lue",
    "track.plate_alternatives": "autres lectures possibles",
    "track.no_video": "Votre navigateur ne peut pas lire cette vidéo.",
    "track.player_unavailable": "La lecture vidéo n'est pas disponible sur ce serveur.",
    "track.recording": "Enregistrement",
    "meta.file": "Fichier",
    "meta.sha256": "SHA-256",
    "meta.camera": "Caméra",
    "meta.timezone": "Fuseau horaire",
    "meta.start": "Début de l'enregistrement",
    "meta.offset": "Position dans le fichier",
    "footage.title": "Caméras et enregistrements",
    "footage.cameras": "Caméras",
    "footage.recordings": "Enregistrements",
    "footage.none": "Aucun enregistrement. Ajoutez-en avec « retrouve ingest ».",
    "footage.no_cameras": "Aucune caméra. Ajoutez-en avec « retrouve cameras add ».",
    "footage.analyse_pending": "Analyser les enregistrements en attente du dossier ({n})",
    "footage.analyse_one": "Analyser",
    "footage.running": "Analyse en cours (lancée par {user}) : {done} / {total}",
    "count.slices.one": "{n} tranche",
    "count.slices.other": "{n} tranches",
    "count.slices_unknown": "? tranches",
    "count.slices_done.one": "{n} tranche traitée",
    "count.slices_done.other": "{n} tranches traitées",
    "count.failed.one": "{n} en échec",
    "count.failed.other": "{n} en échec",
    "count.tracked.one": "{n} objet suivi",
    "count.tracked.other": "{n} objets suivis",
    "footage.finished": "Dernière analyse : {done}, {failed}, {tracks}.",
    "footage.job_error": "L'analyse s'est arrêtée : {msg}",
    "footage.started": "Analyse lancée.",
    "footage.busy": "Une analyse est déjà en cours.",
    "footage.nothing": "Rien à analyser : tout est déjà analysé.",
    # "Périmètre", as on the case page (the scope's name everywhere else in French).
    "footage.case_only": "L'analyse ne porte que sur le périmètre du dossier {case} : rien "
                         "en dehors n'est décodé.",
    "footage.running_elsewhere": "Une analyse est en cours dans un autre dossier.",
    "footage.partial_range": "Non analysé de {start} à {end} : le fichier s'arrête avant sa "
                             "fin annoncée (tronqué). Aucune recherche ne couvre cette partie.",
    "footage.changed_help": "Le fichier ne correspond plus à son empreinte d'ingestion : il "
                            "n'est pas analysé. Remettez le fichier d'origine en place, ou "
                            "ingérez le nouveau comme un nouvel enregistrement.",
    "col.id": "Identifiant",
    "col.name": "Nom",
    "col.timezone": "Fuseau horaire",
    "col.location": "Emplacement",
    "col.file": "Fichier",
    "col.camera": "Caméra",
    "col.start": "Début (heure de la caméra)",
    "col.duration": "Durée",
    "col.status": "Analyse",
    "col.progress": "Avancement",
    "col.error": "Cause de l'échec",
    "status.pending": "en attente",
    "status.analysing": "en cours",
    "status.done": "terminée",
    "status.failed": "échec",
    "status.partial": "partielle",
    "status.changed": "fichier modifié",
    "error.title": "Erreur",
    "error.403": "Accès refusé : votre rôle ne le permet pas.",
    "error.404": "Introuvable.",
    "error.csrf": "Le formulaire a expiré ou n'est pas valide. Rechargez la page et recommencez.",
    "error.generic": "Erreur {code}.",
    "api.title": "API JSON",
    "api.intro": "Authentification : cookie de session, ou en-tête « Authorization: Bearer "
                 "JETON » (jeton créé par « retrouve users token NOM »).",
    "api.case": "Pas d'affaire, pas de traitement : la recherche, les séquences et les "
                "enregistrements ne répondent que dans une affaire. Avec un jeton, nommez-la "
                "par l'en-tête « X-Retrouve-Case: RÉF » (sinon 409 ; affaire non attribuée : "
                "403). Un identifiant hors du périmètre de l'affaire répond 404, comme un "
                "identifiant inconnu, et le refus est journalisé.",
    "api.schema": "Schéma OpenAPI (JSON)",
    "api.method": "Méthode",
    "api.path": "Chemin",
    "api.summary": "Description",
    "api.params": "Paramètres",
}

_EN: dict[str, str] = {
    "app.name": "Retrouve",
    "app.tagline": "Search in recorded video",
    "app.notice": "An investigation aid: results must be checked by the operator.",
    "case.active": "Case:",
    "case.none": "No active case",
    "case.switch": "Switch",
    "case.select_title": "Choose the case",
    "case.why": "Every search and every view happens inside a case (a judicial requisition) "
                "assigned to you, and only within its cameras and time windows.",
    "case.choose": "Work in this case",
    "case.no_choice": "No open case is assigned to you: ask a supervisor to assign one.",
    "case.refused": "Case refused: {msg}",
    "nav.search": "Search",
    "nav.footage": "Footage",
    "nav.api": "API",
    "nav.logout": "Log out",
    "nav.switch_lang": "Français",
    "nav.user": "{name} ({role})",
    "role.admin": "administrator",
    "role.supervisor": "supervisor",
    "role.operator": "operator",
    "role.auditor": "auditor",
    "login.title": "Log in",
    "login.username": "User name",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.failed": "Unknown user or wrong password.",
    "login.throttled.one": "Too many failed logins. Try again in {n} second.",
    "login.throttled.other": "Too many failed logins. Try again in {n} seconds.",
    "search.title": "Search",
    "search.criteria": "Criteria",
    "search.submit": "Search",
    "search.reset": "Clear",
    "search.like": "Objects similar to sequence #{id}",
    "search.error": "Invalid search: {msg}",
    "search.understood": "Understood: {desc}",
    "search.ignored": "Ignored (does not change the search): {words}",
    "search.text_unparsed": "Free-text parsing is not available: the text is searched as is.",
    "field.any": "Any",
    "field.object": "Object type",
    "field.colour": "Vehicle colour",
    "field.upper": "Upper clothing",
    "field.lower": "Lower clothing",
    "field.accessory": "Carried object",
    "field.plate": "Plate (pattern)",
    "field.plate_hint": "? = one character, * = several; spaces and dashes ignored",
    "field.make": "Make",
    "field.model": "Model",
    "field.text": "Free description",
    "field.text_hint": "e.g. white car last night",
    "field.cameras": "Cameras",
    "field.cameras_hint": "none selected = all cameras",
    "field.from": "From",
    "field.to": "To",
    "field.time_hint": "empty = all analysed footage; local time ({zone})",
    "field.order": "Order",
    "field.limit": "Per page",
    "order.score": "Relevance",
    "order.time": "Time",
    "object.person": "Person",
    "object.vehicle": "Vehicle (any)",
    "object.car": "Car",
    "object.van": "Van",
    "object.truck": "Truck",
    "object.bus": "Bus",
    "object.motorcycle": "Motorcycle or scooter",
    "object.bicycle": "Bicycle",
    "object.backpack": "Backpack",
    "object.handbag": "Handbag",
    "object.suitcase": "Suitcase",
    "object.umbrella": "Umbrella",
    "colour.black": "black",
    "colour.white": "white",
    "colour.grey": "grey",
    "colour.red": "red",
    "colour.orange": "orange",
    "colour.yellow": "yellow",
    "colour.green": "green",
    "colour.blue": "blue",
    "colour.brown": "brown",
    "colour.purple": "purple",
    "colour.pink": "pink",
    "attr.colour": "colour",
    "attr.upper": "upper",
    "attr.lower": "lower",
    "attr.accessory": "carried",
    "attr.vehicle_type": "type",
    "attr.left_behind": "left behind",
    "value.yes": "yes",
    "attr.make": "make",
    "attr.model": "model",
    "results.title": "Results",
    "results.count": "Results {first} to {last}",
    "results.none": "No results",
    "results.prev": "← Previous",
    "results.next": "Next →",
    "results.timeline": "When, per camera",
    "results.timeline_hint.one": "the first result, in the list's order",
    "results.timeline_hint.other": "the first {n} results, in the list's order",
    "hit.score": "score {score}",
    "hit.duration": "{s} s",
    "hit.seen": "seen {n} times, {s} s in all",
    "hit.other_plates": "other reads: {plates}",
    "hit.plate": "Plate: {text} ({conf}%)",
    "hit.approx": "approximate plate:",
    "hit.approx_edits.one": "{n} character differs",
    "hit.approx_edits.other": "{n} characters differ",
    "hit.approx_alt": "runner-up read {read}",
    "hit.open": "View sequence",
    "empty.no_footage": "No footage is registered for these cameras.",
    "empty.not_analysed": "No footage of these cameras has been analysed yet: "
                          "start the analysis from the Footage page.",
    "empty.no_match": "No sighting matches: widen the time window or drop a criterion.",
    "track.title": "Sequence #{id}",
    "track.prev": "← Previous result",
    "track.next": "Next result →",
    "track.back": "Back to results",
    "track.similar": "Find similar objects",
    "track.seen": "Seen from {start} to {end}",
    "track.object": "{object} (confidence {conf}%)",
    "track.attributes": "Attributes",
    "track.mark": "Relevance to the case",
    "track.plate": "Plate read",
    "track.plate_alternatives": "other possible reads",
    "track.no_video": "Your browser cannot play this video.",
    "track.player_unavailable": "Video playback is not available on this server.",
    "track.recording": "Recording",
    "meta.file": "File",
    "meta.sha256": "SHA-256",
    "meta.camera": "Camera",
    "meta.timezone": "Time zone",
    "meta.start": "Recording start",
    "meta.offset": "Position in the file",
    "footage.title": "Cameras and footage",
    "footage.cameras": "Cameras",
    "footage.recordings": "Recordings",
    "footage.none": "No footage. Add some with “retrouve ingest”.",
    "footage.no_cameras": "No cameras. Add some with “retrouve cameras add”.",
    "footage.analyse_pending": "Analyse the case's pending recordings ({n})",
    "footage.analyse_one": "Analyse",
    "footage.running": "Analysis running (started by {user}): {done} / {total}",
    "count.slices.one": "{n} slice",
    "count.slices.other": "{n} slices",
    "count.slices_unknown": "? slices",
    "count.slices_done.one": "{n} slice processed",
    "count.slices_done.other": "{n} slices processed",
    "count.failed.one": "{n} failed",
    "count.failed.other": "{n} failed",
    "count.tracked.one": "{n} object tracked",
    "count.tracked.other": "{n} objects tracked",
    "footage.finished": "Last analysis: {done}, {failed}, {tracks}.",
    "footage.job_error": "The analysis stopped: {msg}",
    "footage.started": "Analysis started.",
    "footage.busy": "An analysis is already running.",
    "footage.nothing": "Nothing to analyse: everything is analysed.",
    "footage.case_only": "The analysis covers only the scope of case {case}: nothing "
                         "outside it is decoded.",
    "footage.running_elsewhere": "An analysis is running in another case.",
    "footage.partial_range": "Not analysed from {start} to {end}: the file ends before its "
                             "announced end (truncated). No search covers that part.",
    "footage.changed_help": "The file no longer matches its ingest fingerprint: it is not "
                            "analysed. Put the original file back, or ingest the new one as "
                            "a new recording.",
    "col.id": "Id",
    "col.name": "Name",
    "col.timezone": "Time zone",
    "col.location": "Location",
    "col.file": "File",
    "col.camera": "Camera",
    "col.start": "Start (camera time)",
    "col.duration": "Duration",
    "col.status": "Analysis",
    "col.progress": "Progress",
    "col.error": "Failure reason",
    "status.pending": "pending",
    "status.analysing": "running",
    "status.done": "done",
    "status.failed": "failed",
    "status.partial": "partial",
    "status.changed": "file changed",
    "error.title": "Error",
    "error.403": "Access denied: your role does not allow this.",
    "error.404": "Not found.",
    "error.csrf": "The form has expired or is invalid. Reload the page and try again.",
    "error.generic": "Error {code}.",
    "api.title": "JSON API",
    "api.intro": "Authentication: the session cookie, or an “Authorization: Bearer TOKEN” "
                 "header (token made by “retrouve users token NAME”).",
    "api.case": "No case, no processing: search, tracks and recordings answer only inside a "
                "case. With a token, name it with the header “X-Retrouve-Case: REF” (else "
                "409; a case not assigned to you: 403). An id outside the case's scope "
                "answers 404, like an unknown id, and the refusal is journalled.",
    "api.schema": "OpenAPI schema (JSON)",
    "api.method": "Method",
    "api.path": "Path",
    "api.summary": "Description",
    "api.params": "Parameters",
}

def merge_strings(base: dict[str, str], extra: Mapping[str, str], module: str) -> None:
    """Add a feature module's strings to ``base``; a key that is already there with another
    text is refused (``ValueError``): ``dict.update`` would silently replace it, and a page
    using the first meaning would show the second (e.g. a title with an unfilled ``{ref}``)."""
    clashes = sorted(k for k, v in extra.items() if k in base and base[k] != v)
    if clashes:
        raise ValueError(f"{module}: strings already defined with another text: {clashes}")
    base.update(extra)


# Each feature's strings live in its own module; none may redefine another's key.
for _module, _fr, _en in (
    ("i18n_cases", CASES_FR, CASES_EN),  # the case and journal pages
    ("i18n_exports", EXPORTS_FR, EXPORTS_EN),  # the case page's Export section
    ("i18n_keys", KEYS_FR, KEYS_EN),  # keyboard shortcuts' help and skip links
    ("i18n_chrono", CHRONO_FR, CHRONO_EN),  # case chronology and camera plan
    ("i18n_results", RESULTS_FR, RESULTS_EN),  # results header, camera groups, timeline axis
    ("i18n_frame", FRAME_FR, FRAME_EN),  # the full-frame view and the form filled from text
    ("i18n_admin", ADMIN_FR, ADMIN_EN),  # the admin pages
    ("i18n_journal", JOURNAL_FR, JOURNAL_EN),  # the journal's action labels
):
    merge_strings(_FR, _fr, _module)
    merge_strings(_EN, _en, _module)

CATALOGUE: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {"fr": MappingProxyType(_FR), "en": MappingProxyType(_EN)}
)

#: Catalogue key of each reason a search is empty (a test checks every reason has one).
WHY_EMPTY_KEYS: Final[Mapping[EmptyReason, str]] = MappingProxyType({
    EmptyReason.NO_FOOTAGE: "empty.no_footage",
    EmptyReason.NOT_ANALYSED: "empty.not_analysed",
    EmptyReason.NO_MATCH: "empty.no_match",
})

Translator = Callable[..., str]


def translator(lang: str) -> Translator:
    """``t(key, **fields)`` for ``lang``: the string, formatted; the key itself if missing
    (visible in the page, and caught by the catalogue test)."""
    strings = CATALOGUE.get(lang, CATALOGUE[DEFAULT_LANG])

    def t(key: str, **fields: object) -> str:
        text = strings.get(key, key)
        return text.format(**fields) if fields else text

    return t


def plural_form(lang: str, n: int) -> str:
    """``"one"`` or ``"other"``: the plural category of count ``n`` in ``lang``. French
    counts 0 and 1 as singular ("0 tranche traitée", "1 point"), English only 1."""
    if lang == "fr":
        return "one" if abs(n) < 2 else "other"
    return "one" if abs(n) == 1 else "other"


def counter(lang: str) -> Callable[..., str]:
    """``tn(key, n, **fields)`` for ``lang``: the catalogue's ``key.one`` or ``key.other``
    (by :func:`plural_form` of ``n``), formatted with ``n`` and ``fields``. Every count shown
    in the interface goes through it, so that no page says "1 tranches"."""
    strings = CATALOGUE.get(lang, CATALOGUE[DEFAULT_LANG])

    def tn(key: str, n: int, **fields: object) -> str:
        full = f"{key}.{plural_form(lang, n)}"
        return strings.get(full, full).format(n=n, **fields)

    return tn


def why_empty_text(reason: EmptyReason | None, lang: str) -> str | None:
    """Why a search is empty, in ``lang`` (None when it is not)."""
    return None if reason is None else translator(lang)(WHY_EMPTY_KEYS[reason])


def valid_lang(value: str | None) -> str | None:
    return value if value in LANGS else None


def resolve_lang(request: Request) -> str:
    """``?lang=`` first, then the ``lang`` cookie, then French."""
    return (valid_lang(request.query_params.get("lang"))
            or valid_lang(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG)


def labeller(lang: str) -> Callable[[str, str], str]:
    """``tr(prefix, value)``: the catalogue's ``prefix + value`` (``colour.red`` → rouge), or
    the value itself for words the catalogue does not know (a pack's makes and models)."""
    strings = CATALOGUE.get(lang, CATALOGUE[DEFAULT_LANG])

    def tr(prefix: str, value: str) -> str:
        return strings.get(prefix + value, value)

    return tr


def value_labeller(lang: str) -> Callable[[str], str]:
    """``tv(value)``: an attribute value in words, whether a colour or an object
    (``red`` → rouge, ``backpack`` → sac à dos), else the value itself."""
    strings = CATALOGUE.get(lang, CATALOGUE[DEFAULT_LANG])

    def tv(value: str) -> str:
        return (strings.get(f"colour.{value}") or strings.get(f"object.{value}")
                or strings.get(f"value.{value}") or value)

    return tv
