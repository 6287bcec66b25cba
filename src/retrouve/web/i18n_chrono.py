"""The strings of a case's chronology page (``chronology.html``) and of the offline camera
plan (``camera_map.py``, ``_camera_map.html``), French and English, merged into
:data:`retrouve.web.i18n.CATALOGUE`."""

from __future__ import annotations

from typing import Final

CHRONO_FR: Final[dict[str, str]] = {
    "chrono.title": "Chronologie du dossier {ref}",
    "chrono.back": "← Dossier {ref}",
    "chrono.link": "Chronologie des résultats marqués et plan des caméras",
    "chrono.count.one": "{n} observation marquée, dans l'ordre du temps.",
    "chrono.count.other": "{n} observations marquées, dans l'ordre du temps.",
    "chrono.zone": "Heures en {zone} ; entre parenthèses, l'heure de la caméra quand elle diffère.",
    "chrono.with_rejected": "Afficher aussi les résultats marqués non pertinents",
    "chrono.only_relevant": "N'afficher que les résultats pertinents",
    "chrono.not_active": "Ce dossier n'est pas votre dossier actif : les vignettes et les "
    "séquences ne s'ouvrent que dans le dossier actif.",
    "chrono.make_active": "Travailler dans ce dossier",
    "chrono.restricted": "La chronologie montre des données tirées des images : elle est "
    "réservée aux agents affectés à ce dossier ouvert.",
    "chrono.sightings": "Déroulé",
    "chrono.none": "Aucun résultat marqué pertinent dans le périmètre du dossier.",
    "chrono.none_rejected": "Aucun résultat marqué dans le périmètre du dossier.",
    "chrono.no_thumb": "pas de vignette",
    "chrono.thumb_inactive": "vignette dans le dossier actif",
    "chrono.object": "Objet",
    "chrono.attr": "{name} : {value}",
    "chrono.duration": "Durée",
    "chrono.marked_by": "par {by}, le {when}",
    "chrono.open": "Voir la séquence n° {id}",
    "chrono.map_caption": "Les numéros sont ceux du déroulé ; le tracé relie les caméras "
    "dans l'ordre des observations.",
    "chrono.lanes": "Frise par caméra",
    "chrono.lanes_title": "Frise : {n} observations sur {cameras} caméras, de haut en bas "
    "dans l'ordre du temps",
    "chrono.lanes_span": "Du {start} au {end} (de haut en bas ; les écarts trop courts "
    "pour être lus sont allongés).",
    "map.heading": "Plan des caméras",
    "map.title": "Plan des caméras (nord en haut)",
    "map.desc": "Caméras placées d'après leur latitude et longitude enregistrées : {cameras}.",
    "map.desc_sightings": "Caméras placées d'après leur latitude et longitude "
    "enregistrées : {cameras} ; observations numérotées dans l'ordre : {sightings}.",
    "map.north": "N",
    "map.scale": "échelle",
    "map.none": "Aucune caméra du périmètre n'a de position enregistrée.",
    "map.unknown_title": "Caméras sans position :",
    "map.unknown": "position inconnue",
    "map.caption": "Plan tracé sur place d'après les coordonnées des caméras du périmètre "
    "(aucune carte chargée d'Internet).",
}

CHRONO_EN: Final[dict[str, str]] = {
    "chrono.title": "Chronology of case {ref}",
    "chrono.back": "← Case {ref}",
    "chrono.link": "Chronology of the marked results and camera plan",
    "chrono.count.one": "{n} marked sighting, in time order.",
    "chrono.count.other": "{n} marked sightings, in time order.",
    "chrono.zone": "Times in {zone}; in brackets, the camera's time when it differs.",
    "chrono.with_rejected": "Also show results marked not relevant",
    "chrono.only_relevant": "Show relevant results only",
    "chrono.not_active": "This case is not your active case: thumbnails and sequences open "
    "only in the active case.",
    "chrono.make_active": "Work in this case",
    "chrono.restricted": "The chronology shows data taken from footage: it is for the agents "
    "assigned to this case while it is open.",
    "chrono.sightings": "Sequence of events",
    "chrono.none": "No result marked relevant inside the case's scope.",
    "chrono.none_rejected": "No marked result inside the case's scope.",
    "chrono.no_thumb": "no thumbnail",
    "chrono.thumb_inactive": "thumbnail in the active case",
    "chrono.object": "Object",
    "chrono.attr": "{name}: {value}",
    "chrono.duration": "Duration",
    "chrono.marked_by": "by {by}, on {when}",
    "chrono.open": "Open sequence #{id}",
    "chrono.map_caption": "Numbers are those of the sequence of events; the line joins the "
    "cameras in the order of the sightings.",
    "chrono.lanes": "Per-camera lanes",
    "chrono.lanes_title": "Lanes: {n} sightings on {cameras} cameras, top to bottom in time order",
    "chrono.lanes_span": "From {start} to {end} (top to bottom; gaps too short to read are "
    "stretched).",
    "map.heading": "Camera plan",
    "map.title": "Camera plan (north up)",
    "map.desc": "Cameras placed from their stored latitude and longitude: {cameras}.",
    "map.desc_sightings": "Cameras placed from their stored latitude and longitude: "
    "{cameras}; sightings numbered in order: {sightings}.",
    "map.north": "N",
    "map.scale": "scale",
    "map.none": "No camera of the scope has a stored position.",
    "map.unknown_title": "Cameras without a position:",
    "map.unknown": "position unknown",
    "map.caption": "Plan drawn here from the coordinates of the scope's cameras (no map "
    "loaded from the Internet).",
}
