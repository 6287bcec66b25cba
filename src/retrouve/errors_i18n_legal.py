"""The wording of the legal layer's keyed errors (cases, assignments, rights, exports, the web
case forms) in French and English, merged into :data:`retrouve.errors_i18n.CATALOGUE`, and
the vocabulary (:data:`WORDS`) their :class:`~retrouve.errors.Word` params name.

The English is each error's ``str()`` (raised with a key and no message), so it keeps the
CLI's wording that scripts and the journal's readers know; commands (``retrouve cases
assign``) stay as typed in both languages.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LEGAL", "WORDS"]

#: key → language → text; placeholders named as the raise site's params.
LEGAL: Final[dict[str, dict[str, str]]] = {
    # --- times and scopes as the CLI and the forms read them (legal/cases.py, web/case_form.py)
    "case.time_not_iso": {
        "fr": "{what} : « {text} » n'est pas une date ISO-8601",
        "en": "{what}: {text!r} is not an ISO-8601 time"},
    "case.time_no_offset": {
        "fr": "{what} : « {text} » n'a pas de décalage horaire (ajoutez +01:00 ou Z)",
        "en": "{what}: {text!r} has no offset (add +01:00 or Z)"},
    "case.time_not_date": {
        "fr": "{what} : « {text} » n'est pas une date et une heure",
        "en": "{what}: {text!r} is not a date and time"},
    "case.scope_syntax": {
        "fr": "portée « {text} » : attendu CAMÉRA:DÉBUT/FIN (par ex. "
              "cam-12:2026-01-04T10:00+01:00/2026-01-04T12:00+01:00)",
        "en": "scope {text!r}: expected CAMERA:FROM/TO "
              "(e.g. cam-12:2026-01-04T10:00+01:00/2026-01-04T12:00+01:00)"},
    "case.scope_reversed": {
        "fr": "portée « {text} » : la fenêtre finit avant de commencer",
        "en": "scope {text!r}: the window ends before it starts"},
    "case.scope_required": {
        "fr": "affaire {ref} : une portée est obligatoire (--scope CAMÉRA:DÉBUT/FIN)",
        "en": "case {ref}: a scope is required (--scope CAMERA:FROM/TO)"},
    # --- the requisition (legal/cases.py)
    "case.bad_ref": {
        "fr": "référence d'affaire « {ref} » : lettres, chiffres et . _ / - seulement "
              "(64 au plus)",
        "en": "case reference {ref!r}: letters, digits and . _ / - only (at most 64)"},
    "case.field_required": {
        "fr": "affaire {ref} : {field} de la réquisition est obligatoire",
        "en": "case {ref}: the requisition's {field} is required"},
    "case.needs_authorisation": {
        "fr": "affaire {ref} : une réquisition 77-1-1 demande l'autorisation du procureur "
              "(--prosecutor-authorisation)",
        "en": "case {ref}: a 77-1-1 requisition needs the prosecutor's authorisation "
              "(--prosecutor-authorisation)"},
    "case.deadline_before_received": {
        "fr": "affaire {ref} : échéance antérieure à la date de réception",
        "en": "case {ref}: deadline before the date received"},
    # --- a case's life and work in it (legal/cases.py, legal/casework.py)
    "case.unknown": {
        "fr": "affaire inconnue « {ref} » (voir `retrouve cases list`)",
        "en": "unknown case {ref!r} (see `retrouve cases list`)"},
    "case.exists": {
        "fr": "l'affaire {ref} existe déjà",
        "en": "case {ref} already exists"},
    "case.no_more_work": {
        "fr": "l'affaire {ref} est {status} : plus aucun travail n'y est possible",
        "en": "case {ref} is {status}: no more work in it"},
    "case.cannot_become": {
        "fr": "l'affaire {ref} est {status} : elle ne peut pas devenir {to}",
        "en": "case {ref} is {status}: it cannot become {to}"},
    "case.cannot_amend": {
        "fr": "l'affaire {ref} est {status} : sa portée ne peut plus être modifiée",
        "en": "case {ref} is {status}: it cannot be amended"},
    "case.no_new_assignments": {
        "fr": "l'affaire {ref} est {status} : plus d'affectation possible",
        "en": "case {ref} is {status}: no new assignments"},
    "case.not_assigned": {
        "fr": "l'utilisateur « {user} » n'est pas affecté à l'affaire {ref}",
        "en": "user {user!r} is not assigned to case {ref}"},
    "case.not_assigned_work": {
        "fr": "l'utilisateur « {user} » n'est pas affecté à l'affaire {ref} (un superviseur "
              "l'affecte : `retrouve cases assign`)",
        "en": "user {user!r} is not assigned to case {ref} "
              "(a supervisor runs `retrouve cases assign`)"},
    "case.assign_unknown_user": {
        "fr": "impossible d'affecter « {user} » : cet utilisateur n'existe pas",
        "en": "cannot assign {user!r}: no such user"},
    "case.assign_auditor": {
        "fr": "impossible d'affecter « {user} » : un auditeur ne travaille jamais sur les "
              "images",
        "en": "cannot assign {user!r}: an auditor never works on footage"},
    "case.amend_reason": {
        "fr": "affaire {ref} : une modification de portée donne son motif (--reason)",
        "en": "case {ref}: an amendment states its reason (--reason)"},
    "case.no_pending_amendment": {
        "fr": "affaire {ref} : aucune modification {amendment} en attente",
        "en": "case {ref}: no pending amendment {amendment}"},
    "case.self_approve_amendment": {
        "fr": "affaire {ref} : « {user} » a demandé cette modification et ne peut pas "
              "l'approuver aussi (un second superviseur le doit)",
        "en": "case {ref}: {user!r} asked for this amendment and cannot approve it too "
              "(a second supervisor must)"},
    "case.track_out_of_scope": {
        "fr": "la trace {track} n'est pas dans la portée de l'affaire {ref}",
        "en": "track {track} is not in the scope of case {ref}"},
    # --- accounts and rights (legal/casework.py, legal/permissions.py)
    "account.disabled": {
        "fr": "l'utilisateur « {user} » est désactivé",
        "en": "user {user!r} is disabled"},
    "account.none_here": {
        "fr": "l'utilisateur « {user} » n'a pas de compte ici : passez --user (ou "
              "RETROUVE_USER) avec le nom d'un compte",
        "en": "user {user!r} has no account here: pass --user (or RETROUVE_USER) with an "
              "account's name"},
    "right.denied": {
        "fr": "l'utilisateur « {user} » ({role}) ne peut pas {right} : il faut le rôle "
              "{holders}",
        "en": "user {user!r} ({role}) may not {right}: that needs role {holders}"},
    # --- evidence exports (legal/exports.py)
    "export.self_approve": {
        "fr": "export {export} : « {user} » l'a demandé et ne peut pas l'approuver aussi "
              "(une seconde personne, superviseur, le doit)",
        "en": "export {export}: {user!r} asked for it and cannot approve it too (a second "
              "person, a supervisor, must)"},
    "export.unknown": {
        "fr": "demande d'export inconnue {export} (voir `retrouve export list --case REF`)",
        "en": "unknown export request {export} (see `retrouve export list --case REF`)"},
    "export.nothing_to_approve": {
        "fr": "l'export {export} est {state} : rien à approuver",
        "en": "export {export} is {state}: nothing to approve"},
    "export.awaits_approval": {
        "fr": "l'export {export} attend l'approbation d'un superviseur : `retrouve export "
              "approve {export}` (par une autre personne que {requester})",
        "en": "export {export} waits for a supervisor's approval: `retrouve export approve "
              "{export}` (by someone other than {requester})"},
    "export.already": {
        "fr": "l'export {export} est déjà {state}{where}",
        "en": "export {export} is already {state}{where}"},
    # --- the web's case forms (web/case_form.py, web/case_pages.py)
    "form.row_error": {
        "fr": "{what} : {error}",
        "en": "{what}: {error}"},
    "form.choose_camera": {
        "fr": "{what} : choisissez une caméra",
        "en": "{what}: choose a camera"},
    "form.unknown_camera": {
        "fr": "{what} : caméra inconnue « {camera} »",
        "en": "{what}: unknown camera {camera!r}"},
    "form.both_ends": {
        "fr": "{what} ({camera}) : donnez le début et la fin",
        "en": "{what} ({camera}): give both the start and the end"},
    "form.bad_basis": {
        "fr": "base légale « {basis} » : choisissez parmi {choices}",
        "en": "legal basis {basis!r}: choose one of {choices}"},
    "form.bad_track_ids": {
        "fr": "traces : pas un numéro de trace : {tokens}",
        "en": "tracks: not a track id: {tokens}"},
    "form.unknown_status": {
        "fr": "affaire {ref} : statut inconnu « {status} »",
        "en": "case {ref}: unknown status {status!r}"},
}

#: Vocabulary a message names (``Word`` keys): field names, statuses, roles and rights.
WORDS: Final[dict[str, dict[str, str]]] = {
    "field.procedure_number": {"fr": "le numéro de procédure", "en": "procedure number"},
    "field.authority": {"fr": "l'autorité requérante", "en": "authority"},
    "field.purpose": {"fr": "l'objet", "en": "purpose"},
    "field.received": {"fr": "date de réception", "en": "date received"},
    "field.deadline": {"fr": "échéance", "en": "deadline"},
    "field.typed": {"fr": "{what} {text}", "en": "{what} {text}"},
    "field.scope": {"fr": "portée « {text} »", "en": "scope {text!r}"},
    "field.scope_row": {"fr": "ligne de portée {n}", "en": "scope row {n}"},
    "field.scope_row_from": {"fr": "ligne de portée {n} ({camera}), début",
                             "en": "scope row {n} ({camera}) from"},
    "field.scope_row_to": {"fr": "ligne de portée {n} ({camera}), fin",
                           "en": "scope row {n} ({camera}) to"},
    "case_status.open": {"fr": "ouverte", "en": "open"},
    "case_status.closed": {"fr": "clôturée", "en": "closed"},
    "case_status.archived": {"fr": "archivée", "en": "archived"},
    "export_state.requested": {"fr": "demandé", "en": "requested"},
    "export_state.approved": {"fr": "approuvé", "en": "approved"},
    "export_state.produced": {"fr": "produit", "en": "produced"},
    "export_state.refused": {"fr": "refusé", "en": "refused"},
    "role.admin": {"fr": "administrateur", "en": "admin"},
    "role.supervisor": {"fr": "superviseur", "en": "supervisor"},
    "role.operator": {"fr": "opérateur", "en": "operator"},
    "role.auditor": {"fr": "auditeur", "en": "auditor"},
    "or": {"fr": " ou ", "en": " or "},
    "right.manage-accounts": {"fr": "gérer les comptes", "en": "manage-accounts"},
    "right.manage-cameras": {"fr": "gérer les caméras", "en": "manage-cameras"},
    "right.change-settings": {"fr": "changer les réglages", "en": "change-settings"},
    "right.install-packs": {"fr": "installer des paquets de modèles", "en": "install-packs"},
    "right.create-case": {"fr": "créer une affaire", "en": "create-case"},
    "right.amend-case": {"fr": "modifier la portée d'une affaire", "en": "amend-case"},
    "right.approve-amendment": {"fr": "approuver une modification de portée",
                                "en": "approve-amendment"},
    "right.assign-case": {"fr": "affecter à une affaire", "en": "assign-case"},
    "right.close-case": {"fr": "clôturer une affaire", "en": "close-case"},
    "right.read-cases": {"fr": "consulter les affaires", "en": "read-cases"},
    "right.work-in-case": {"fr": "travailler dans une affaire", "en": "work-in-case"},
    "right.read-journal": {"fr": "lire le journal", "en": "read-journal"},
    "right.read-coverage": {"fr": "lire le rapport de couverture", "en": "read-coverage"},
    "right.approve-export": {"fr": "approuver un export", "en": "approve-export"},
    "right.run-purge": {"fr": "lancer la purge de conservation", "en": "run-purge"},
}
