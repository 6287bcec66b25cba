"""The strings of the keyboard shortcuts' help panel (``_keys_help.html``, ``static/keys.js``)
and of the skip links of ``base.html``, French and English, merged into
:data:`retrouve.web.i18n.CATALOGUE`."""

from __future__ import annotations

from typing import Final

KEYS_FR: Final[dict[str, str]] = {
    "skip.main": "Aller au contenu",
    "skip.results": "Aller aux résultats",
    "keys.open": "Raccourcis clavier",
    "keys.title": "Raccourcis clavier",
    "keys.close": "Fermer",
    "keys.col_key": "Touche",
    "keys.col_action": "Action",
    "keys.hint": "Les raccourcis d'une seule touche ne s'appliquent pas pendant la saisie "
                 "dans un champ, ni avec Alt, Ctrl ou ⌘.",
    "keys.enter": "Entrée",
    "keys.space": "Espace",
    "keys.escape": "Échap",
    "keys.submit": "Lancer la recherche, depuis n'importe quel champ du formulaire",
    "keys.next": "Aller au résultat suivant",
    "keys.prev": "Aller au résultat précédent",
    "keys.open_card": "Ouvrir la séquence du résultat sélectionné",
    "keys.mark_card": "Marquer le résultat sélectionné comme pertinent (si la page propose "
                      "le marquage)",
    "keys.play": "Lecture / pause",
    "keys.frame_back": "Reculer d'une image (met la vidéo en pause)",
    "keys.frame_next": "Avancer d'une image (met la vidéo en pause)",
    "keys.mark": "Marquer la séquence comme pertinente pour l'affaire (avec la note saisie)",
    "keys.help": "Afficher cette aide",
    "keys.close_help": "Fermer cette aide",
}

KEYS_EN: Final[dict[str, str]] = {
    "skip.main": "Skip to content",
    "skip.results": "Skip to results",
    "keys.open": "Keyboard shortcuts",
    "keys.title": "Keyboard shortcuts",
    "keys.close": "Close",
    "keys.col_key": "Key",
    "keys.col_action": "Action",
    "keys.hint": "Single-key shortcuts do not apply while typing in a field, nor with Alt, "
                 "Ctrl or ⌘.",
    "keys.enter": "Enter",
    "keys.space": "Space",
    "keys.escape": "Esc",
    "keys.submit": "Run the search, from any field of the form",
    "keys.next": "Go to the next result",
    "keys.prev": "Go to the previous result",
    "keys.open_card": "Open the selected result's sequence",
    "keys.mark_card": "Mark the selected result relevant (where the page offers marking)",
    "keys.play": "Play / pause",
    "keys.frame_back": "One frame back (pauses the video)",
    "keys.frame_next": "One frame forward (pauses the video)",
    "keys.mark": "Mark the sequence relevant to the case (with the note typed)",
    "keys.help": "Show this help",
    "keys.close_help": "Close this help",
}
