"""The strings of the full-frame view (``frame.html``, ``static/frame.js``, the "Full frame"
buttons of the result cards and the track page) and of the search form filled from free text
(``search.html``), French and English, merged into :data:`retrouve.web.i18n.CATALOGUE`."""

from __future__ import annotations

from typing import Final

FRAME_FR: Final[dict[str, str]] = {
    "frame.open": "Image entière",
    "frame.open_of": "de la séquence n° {id}",
    "frame.title": "Image entière — séquence n° {id}",
    "frame.back": "Retour à la séquence",
    "frame.at": "Image du {at} — {camera}, à {pos} de l'enregistrement",
    "frame.size": "{w} × {h} pixels, pleine résolution",
    "frame.box": "Cadre de l'objet : x {x}, y {y}, {w} × {h} pixels",
    "frame.no_box": "L'objet n'est pas repéré sur cette image.",
    "frame.alt": "Image entière de la caméra {camera}, {at}",
    "frame.tools": "Zoom de l'image",
    "frame.zoom_in": "Zoom avant",
    "frame.zoom_out": "Zoom arrière",
    "frame.zoom_reset": "Ajuster",
    "frame.zoom_level": "Zoom",
    "frame.view": "Image entière (zoomable)",
    "frame.keys": "Zoom : molette, boutons ou touches + et − ; déplacer : glisser ou flèches "
    "(quand l'image a le focus) ; 0 : ajuster l'image.",
    "form.from_text": "(d'après le texte)",
    "form.filled": "Champs remplis d'après le texte libre : modifiez-les et relancez pour affiner.",
    "form.filled_rule": "Un champ rempli l'emporte sur le texte ; vidé, il n'est plus cherché.",
}

FRAME_EN: Final[dict[str, str]] = {
    "frame.open": "Full frame",
    "frame.open_of": "of sequence #{id}",
    "frame.title": "Full frame — sequence #{id}",
    "frame.back": "Back to the sequence",
    "frame.at": "Frame of {at} — {camera}, at {pos} into the recording",
    "frame.size": "{w} × {h} pixels, full resolution",
    "frame.box": "Object box: x {x}, y {y}, {w} × {h} pixels",
    "frame.no_box": "The object is not located on this frame.",
    "frame.alt": "Full frame of camera {camera}, {at}",
    "frame.tools": "Image zoom",
    "frame.zoom_in": "Zoom in",
    "frame.zoom_out": "Zoom out",
    "frame.zoom_reset": "Fit",
    "frame.zoom_level": "Zoom",
    "frame.view": "Full frame (zoomable)",
    "frame.keys": "Zoom: wheel, buttons or the + and − keys; pan: drag or arrow keys (when "
    "the image has the focus); 0: fit the image.",
    "form.from_text": "(from the text)",
    "form.filled": "Fields filled from the free text: edit them and search again to refine.",
    "form.filled_rule": "A filled field wins over the text; cleared, it is no longer searched.",
}
