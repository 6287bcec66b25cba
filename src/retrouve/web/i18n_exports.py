"""The strings of the case page's Export section (``export_view.py``, ``case_exports.py``),
French and English, merged into :data:`retrouve.web.i18n.CATALOGUE`."""

from __future__ import annotations

from typing import Final

EXPORTS_FR: Final[dict[str, str]] = {
    "cases.msg.export_pending": "Demande d'export enregistrée : elle attend l'approbation "
                                "d'un superviseur autre que vous.",
    "cases.msg.export_ready": "Demande d'export enregistrée (la politique du site n'exige "
                              "pas de seconde approbation) : vous pouvez la produire.",
    "cases.msg.export_approved": "Export approuvé : il peut être produit.",
    "cases.msg.export_building": "Production de l'export lancée : cette page se met à jour "
                                 "seule.",
    "export.title": "Export de pièces (scellés numériques)",
    "export.none": "Aucune demande d'export dans ce dossier.",
    "export.id": "n°",
    "export.state": "État",
    "export.requested": "Demandé par",
    "export.approved": "Approuvé par",
    "export.what": "Contenu",
    "export.tracks": "séquences : {ids}",
    "export.no_tracks": "aucune séquence",
    "export.redacted": "copie floutée",
    "export.policy": "sans approbation (politique du site)",
    "export.state.requested": "en attente d'approbation",
    "export.state.approved": "approuvé",
    "export.state.produced": "produit",
    "export.state.refused": "refusé",
    "export.approve": "Approuver",
    "export.waiting": "un superviseur autre que le demandeur doit l'approuver",
    "export.build": "Produire",
    "export.building": "Production en cours (depuis {when}, par {who})…",
    "export.failed": "Échec de la production : {msg}",
    "export.built": "Produit en {seconds} s",
    "export.download": "Télécharger le zip",
    "export.sha256": "SHA-256",
    "export.new": "Demander un export",
    "export.relevant": "Séquences marquées pertinentes, incluses d'office : {ids}",
    "export.relevant_none": "Aucune séquence n'est marquée pertinente : indiquez des "
                            "séquences ou des fenêtres.",
    "export.extra_tracks": "Autres séquences du dossier (n°, séparés par des espaces)",
    "export.windows": "Fenêtres supplémentaires (facultatif), dans le périmètre du dossier",
    "export.redact": "Copie floutée en plus (visages des tiers et autres plaques ; jamais "
                     "l'original)",
    "export.submit": "Demander l'export",
    "export.hint": "Le contenu est figé à la demande : l'approbateur approuve ce qui sera "
                   "produit. Vérification hors ligne : retrouve export verify ZIP "
                   "(voir docs/export.md).",
}

EXPORTS_EN: Final[dict[str, str]] = {
    "cases.msg.export_pending": "Export request recorded: it waits for the approval of a "
                                "supervisor other than you.",
    "cases.msg.export_ready": "Export request recorded (the site policy needs no second "
                              "approval): you may build it.",
    "cases.msg.export_approved": "Export approved: it may be built.",
    "cases.msg.export_building": "Building the export: this page updates itself.",
    "export.title": "Evidence export",
    "export.none": "No export request in this case.",
    "export.id": "no.",
    "export.state": "State",
    "export.requested": "Requested by",
    "export.approved": "Approved by",
    "export.what": "Contents",
    "export.tracks": "tracks: {ids}",
    "export.no_tracks": "no track",
    "export.redacted": "redacted copy",
    "export.policy": "no approval (site policy)",
    "export.state.requested": "awaiting approval",
    "export.state.approved": "approved",
    "export.state.produced": "produced",
    "export.state.refused": "refused",
    "export.approve": "Approve",
    "export.waiting": "a supervisor other than the requester must approve it",
    "export.build": "Build",
    "export.building": "Building (since {when}, by {who})…",
    "export.failed": "Build failed: {msg}",
    "export.built": "Built in {seconds} s",
    "export.download": "Download the zip",
    "export.sha256": "SHA-256",
    "export.new": "Request an export",
    "export.relevant": "Tracks marked relevant, included by default: {ids}",
    "export.relevant_none": "No track is marked relevant: name tracks or windows.",
    "export.extra_tracks": "Other tracks of the case (ids, separated by spaces)",
    "export.windows": "Extra windows (optional), inside the case's scope",
    "export.redact": "Also a redacted copy (bystanders' faces and other plates; never the "
                     "original)",
    "export.submit": "Request the export",
    "export.hint": "What is exported is fixed when asked for: the approver approves what "
                   "will be built. Check it offline: retrouve export verify ZIP (see "
                   "docs/export.md).",
}

__all__ = ["EXPORTS_EN", "EXPORTS_FR"]
