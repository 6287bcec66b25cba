"""The strings of the admin pages (``admin.html``, ``admin_user.html``, ``admin_camera.html``)
and of their link in ``base.html``, French and English, merged into
:data:`retrouve.web.i18n.CATALOGUE`. The refusals themselves are keyed errors
(``account.*``, ``camera.*`` in :mod:`retrouve.errors_i18n`)."""

from __future__ import annotations

from typing import Final

ADMIN_FR: Final[dict[str, str]] = {
    "nav.admin": "Administration",
    "admin.title": "Administration",
    "admin.back": "← Administration",
    "admin.intro": "Comptes et caméras de l'installation. Chaque modification est inscrite au "
                   "journal à votre nom.",
    "admin.users": "Comptes",
    "admin.cameras": "Caméras",
    "admin.col_name": "Nom",
    "admin.col_role": "Rôle",
    "admin.col_state": "État",
    "admin.col_created": "Créé le",
    "admin.col_password": "Mot de passe changé le",
    "admin.col_zone": "Fuseau",
    "admin.col_id": "Identifiant",
    "admin.col_camera_name": "Nom",
    "admin.col_position": "Latitude, longitude",
    "admin.col_address": "Adresse",
    "admin.col_recordings": "Enregistrements",
    "admin.state_active": "actif",
    "admin.state_disabled": "désactivé",
    "admin.you": "(vous)",
    "admin.manage": "Gérer {name}",
    "admin.edit_camera": "Modifier {id}",
    "admin.no_users": "Aucun compte.",
    "admin.no_cameras": "Aucune caméra enregistrée.",
    "admin.new_user": "Créer un compte",
    "admin.username": "Nom d'utilisateur",
    "admin.username_hint": "1 à 64 lettres, chiffres, « . », « _ » ou « - ».",
    "admin.role": "Rôle",
    "admin.password": "Mot de passe initial",
    "admin.new_password": "Nouveau mot de passe",
    "admin.password_hint": "Au moins {min} caractères. Communiquez-le à la personne par un "
                           "canal sûr.",
    "admin.password_confirm": "Confirmer le mot de passe",
    "admin.password_mismatch": "Les deux mots de passe diffèrent.",
    "admin.create_user": "Créer le compte",
    "admin.new_camera": "Enregistrer une caméra",
    "admin.camera_id": "Identifiant de la caméra",
    "admin.camera_id_hint": "Lettres, chiffres, « . », « _ » et « - » ; il nomme les "
                            "enregistrements et ne change plus ensuite.",
    "admin.camera_name": "Nom",
    "admin.camera_name_hint": "Par défaut, l'identifiant.",
    "admin.camera_zone": "Fuseau horaire de l'horloge de la caméra",
    "admin.camera_zone_hint": "Nom IANA, par ex. Europe/Paris.",
    "admin.camera_zone_locked.one": "Cette caméra a {n} enregistrement : son fuseau ne peut "
                                    "plus changer.",
    "admin.camera_zone_locked.other": "Cette caméra a {n} enregistrements : son fuseau ne "
                                      "peut plus changer.",
    "admin.latitude": "Latitude (degrés WGS84)",
    "admin.longitude": "Longitude (degrés WGS84)",
    "admin.position_hint": "Facultatif ; les deux ensemble, en degrés décimaux.",
    "admin.address": "Adresse ou description du lieu",
    "admin.create_camera": "Enregistrer la caméra",
    "admin.save_camera": "Enregistrer les modifications",
    "admin.cases_note": "L'affectation des comptes aux affaires est un acte de superviseur : "
                        "elle se fait sur la page de chaque affaire, et est inscrite au "
                        "journal. Un administrateur ne s'affecte pas lui-même.",
    "admin.cases_link": "Voir les affaires",
    "admin.user_title": "Compte {name}",
    "admin.facts": "Le compte",
    "admin.change_role": "Changer le rôle",
    "admin.save_role": "Changer le rôle",
    "admin.reset_password": "Réinitialiser le mot de passe",
    "admin.reset_hint": "Les sessions ouvertes du compte prennent fin et ses jetons d'API sont "
                        "révoqués.",
    "admin.save_password": "Réinitialiser",
    "admin.access": "Accès",
    "admin.disable": "Désactiver le compte",
    "admin.disable_hint": "Plus de connexion : ses sessions ouvertes prennent fin "
                          "immédiatement et ses jetons d'API sont révoqués.",
    "admin.enable": "Réactiver le compte",
    "admin.enable_hint": "Le compte pourra se reconnecter avec son mot de passe actuel.",
    "admin.self_role_note": "C'est votre compte : vous ne pouvez pas vous retirer le rôle "
                            "d'administrateur ; un autre administrateur doit le faire.",
    "admin.self_access_note": "C'est votre compte : vous ne pouvez pas le désactiver ; un "
                              "autre administrateur doit le faire (il reste ainsi toujours "
                              "un administrateur actif).",
    "admin.self_reset_note": "Votre propre session aussi : vous vous reconnecterez avec le "
                             "nouveau mot de passe.",
    "admin.camera_title": "Caméra {id}",
    "admin.refused": "Demande refusée :",
    "admin.refused_fields": "Demande refusée : voyez le message sous le champ concerné.",
    "admin.msg.user_added": "Compte créé.",
    "admin.msg.role": "Rôle changé.",
    "admin.msg.password": "Mot de passe réinitialisé ; les sessions du compte sont fermées.",
    "admin.msg.disabled": "Compte désactivé ; ses sessions sont fermées.",
    "admin.msg.enabled": "Compte réactivé.",
    "admin.msg.camera_added": "Caméra enregistrée.",
    "admin.msg.camera_saved": "Caméra modifiée.",
    "admin.msg.unchanged": "Rien n'a changé.",
}

ADMIN_EN: Final[dict[str, str]] = {
    "nav.admin": "Administration",
    "admin.title": "Administration",
    "admin.back": "← Administration",
    "admin.intro": "Accounts and cameras of this installation. Every change is journalled in "
                   "your name.",
    "admin.users": "Accounts",
    "admin.cameras": "Cameras",
    "admin.col_name": "Name",
    "admin.col_role": "Role",
    "admin.col_state": "State",
    "admin.col_created": "Created",
    "admin.col_password": "Password changed",
    "admin.col_zone": "Time zone",
    "admin.col_id": "Id",
    "admin.col_camera_name": "Name",
    "admin.col_position": "Latitude, longitude",
    "admin.col_address": "Address",
    "admin.col_recordings": "Recordings",
    "admin.state_active": "active",
    "admin.state_disabled": "disabled",
    "admin.you": "(you)",
    "admin.manage": "Manage {name}",
    "admin.edit_camera": "Edit {id}",
    "admin.no_users": "No account.",
    "admin.no_cameras": "No camera registered.",
    "admin.new_user": "Create an account",
    "admin.username": "User name",
    "admin.username_hint": "1-64 letters, digits, '.', '_' or '-'.",
    "admin.role": "Role",
    "admin.password": "Initial password",
    "admin.new_password": "New password",
    "admin.password_hint": "At least {min} characters. Give it to the person over a safe "
                           "channel.",
    "admin.password_confirm": "Confirm the password",
    "admin.password_mismatch": "The two passwords differ.",
    "admin.create_user": "Create the account",
    "admin.new_camera": "Register a camera",
    "admin.camera_id": "Camera id",
    "admin.camera_id_hint": "Letters, digits, '.', '_' and '-'; it names the recordings and "
                            "never changes afterwards.",
    "admin.camera_name": "Name",
    "admin.camera_name_hint": "The id when left empty.",
    "admin.camera_zone": "Time zone of the camera's clock",
    "admin.camera_zone_hint": "IANA name, e.g. Europe/Paris.",
    "admin.camera_zone_locked.one": "This camera has {n} recording: its time zone can no "
                                    "longer change.",
    "admin.camera_zone_locked.other": "This camera has {n} recordings: its time zone can no "
                                      "longer change.",
    "admin.latitude": "Latitude (WGS84 degrees)",
    "admin.longitude": "Longitude (WGS84 degrees)",
    "admin.position_hint": "Optional; both together, in decimal degrees.",
    "admin.address": "Address or description of the place",
    "admin.create_camera": "Register the camera",
    "admin.save_camera": "Save the changes",
    "admin.cases_note": "Assigning accounts to cases is a supervisor's act: it is done on "
                        "each case's page, and journalled. An admin does not assign "
                        "themselves.",
    "admin.cases_link": "See the cases",
    "admin.user_title": "Account {name}",
    "admin.facts": "The account",
    "admin.change_role": "Change the role",
    "admin.save_role": "Change the role",
    "admin.reset_password": "Reset the password",
    "admin.reset_hint": "The account's open sessions end and its API tokens are revoked.",
    "admin.save_password": "Reset",
    "admin.access": "Access",
    "admin.disable": "Disable the account",
    "admin.disable_hint": "No more logins: its open sessions end at once and its API tokens "
                          "are revoked.",
    "admin.enable": "Enable the account",
    "admin.enable_hint": "The account may log in again with its current password.",
    "admin.self_role_note": "This is your account: you cannot take away your own admin "
                            "role; another admin must.",
    "admin.self_access_note": "This is your account: you cannot disable it; another admin "
                              "must (so an enabled admin always remains).",
    "admin.self_reset_note": "Your own session too: you will log in again with the new "
                             "password.",
    "admin.camera_title": "Camera {id}",
    "admin.refused": "Refused:",
    "admin.refused_fields": "Refused: see the message under the field concerned.",
    "admin.msg.user_added": "Account created.",
    "admin.msg.role": "Role changed.",
    "admin.msg.password": "Password reset; the account's sessions are closed.",
    "admin.msg.disabled": "Account disabled; its sessions are closed.",
    "admin.msg.enabled": "Account enabled.",
    "admin.msg.camera_added": "Camera registered.",
    "admin.msg.camera_saved": "Camera saved.",
    "admin.msg.unchanged": "Nothing changed.",
}
