"""The strings of the search page's results header, per-camera groups and timeline axis
(``search.html``, ``web/result_list.py``), French and English, merged into
:data:`retrouve.web.i18n.CATALOGUE`. Counts go through ``tn`` (``.one``/``.other``)."""

from __future__ import annotations

from typing import Final

RESULTS_FR: Final[dict[str, str]] = {
    "results.of_total": "Résultats {first}–{last} sur {total}",
    "results.of_at_least": "Résultats {first}–{last} sur au moins {total}",
    "results.one_of": "Résultat {first} sur {total}",
    "results.one_of_at_least": "Résultat {first} sur au moins {total}",
    "results.all.one": "{total} résultat",
    "results.all.other": "{total} résultats",
    "results.past_end.one": "Aucun résultat sur cette page : la recherche en compte {total}",
    "results.past_end.other": "Aucun résultat sur cette page : la recherche en compte {total}",
    "results.first_page": "Première page",
    "results.group.one": "{n} résultat sur cette page",
    "results.group.other": "{n} résultats sur cette page",
    "results.grouped": "Classés par heure, regroupés par caméra.",
    "results.axis": "Graduation du temps",
    "results.axis_zone": "heures de {zone}",
    # Typography of an attribute line ("couleur : gris 63 %" / "colour: grey 63%"): French
    # puts a space before the colon and the percent sign, English does not.
    "fmt.label": "{label} :",
    "fmt.percent": "{n} %",
}

RESULTS_EN: Final[dict[str, str]] = {
    "results.of_total": "Results {first}–{last} of {total}",
    "results.of_at_least": "Results {first}–{last} of at least {total}",
    "results.one_of": "Result {first} of {total}",
    "results.one_of_at_least": "Result {first} of at least {total}",
    "results.all.one": "{total} result",
    "results.all.other": "{total} results",
    "results.past_end.one": "No results on this page: the search has {total}",
    "results.past_end.other": "No results on this page: the search has {total}",
    "results.first_page": "First page",
    "results.group.one": "{n} result on this page",
    "results.group.other": "{n} results on this page",
    "results.grouped": "In time order, grouped by camera.",
    "results.axis": "Time scale",
    "results.axis_zone": "times in {zone}",
    "fmt.label": "{label}:",
    "fmt.percent": "{n}%",
}
