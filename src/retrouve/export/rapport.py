"""The *rapport d'exploitation* of an export (PDF, French, fpdf2 core fonts): the case, its
legal basis and requesting authority, who asked for the export and who approved it, the
search criteria used in the case, each exhibit with its thumbnail, times and attributes, the
AI provenance (models, packs and settings of each analysis run), and the statement that the
tool suggests and a person verified.

It is written from the bundle's own metadata (the dict that becomes ``manifest.json``), so
the report and the manifest cannot disagree; it is sealed with the other files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

STATEMENT_FR: Final = (
    "Les pièces de ce dossier ont été proposées par un outil automatique d'aide à la "
    "recherche (Retrouve) et vérifiées une à une par une personne, l'opérateur nommé "
    "ci-dessus, qui les a retenues : l'outil suggère, une personne vérifie. Aucune "
    "reconnaissance faciale ni catégorisation biométrique n'a été employée. L'absence d'un "
    "résultat ne prouve pas l'absence de l'objet recherché.")
MASTER_FR: Final = (
    "La copie maîtresse de chaque pièce est une copie sans réencodage des paquets vidéo de "
    "l'enregistrement d'origine (à partir de l'image clé précédant la fenêtre demandée) ; la "
    "copie de travail est réencodée (H.264) et porte le nom de la caméra et l'heure locale et "
    "UTC incrustées ; elle ne remplace pas la copie maîtresse.")
INTEGRITY_FR: Final = (
    "L'empreinte SHA-256 de chaque fichier figure dans manifest.json, signé par la clé "
    "Ed25519 de l'installation (manifest.json.sig, public-key.pem). Vérification : "
    "« retrouve export verify », ou « sha256sum -c SHA256SUMS » et « openssl pkeyutl "
    "-verify » (voir la documentation).")


def latin1(text: str) -> str:
    """``text`` in the PDF core fonts' Latin-1: French accents pass, other signs are
    replaced (the same rule as the coverage report's PDF)."""
    text = (text.replace("—", "-").replace("→", "->").replace("’", "'")
            .replace("«", '"').replace("»", '"'))
    return text.encode("latin-1", "replace").decode("latin-1")


def _when(pair: dict[str, Any]) -> str:
    return f"{pair['local']} (UTC {pair['utc']})"


def _attributes(track: dict[str, Any]) -> str:
    attrs = ", ".join(f"{k} : {v[0]} ({v[1]:.2f})" for k, v in
                      sorted(track.get("attributes", {}).items()))
    plate = track.get("plate")
    return (f"{track['object']} (confiance {track['object_confidence']:.2f})"
            + (f" ; {attrs}" if attrs else "") + (f" ; plaque lue : {plate}" if plate else ""))


Line = tuple[str, str]  # (kind, text): h1 h2 h3 p li img (text: a file in the bundle)


def rapport_lines(meta: dict[str, Any]) -> list[Line]:
    """The report as lines, from the bundle's metadata (see :mod:`retrouve.export.bundle`)."""
    c, a, ex = meta["case"], meta["requesting_authority"], meta["export"]
    out: list[Line] = [
        ("h1", f"Rapport d'exploitation - dossier {c['ref']}"),
        ("p", f"Réquisition art. {c['basis']} CPP, procédure {c['procedure_number']}"
              + (f", autorisation du procureur : {c['prosecutor_authorisation']}"
                 if c.get("prosecutor_authorisation") else "") + "."),
        ("p", f"Autorité requérante : {a['name']}"
              + "".join(f", {v}" for v in (a.get("service"), a.get("contact")) if v) + "."),
        ("p", f"Objet : {c['purpose']}."),
        ("h2", "Export"),
        ("li", f"Export n° {ex['id']} demandé par {ex['requested_by']} (opérateur) le "
               f"{ex['requested_at']}"),
        ("li", f"Approuvé par {ex['approved_by']} le {ex['approved_at']}"
         if ex.get("approved_by") else
         "Approbation par une seconde personne non requise par la politique du site"),
        ("li", f"Produit le {meta['produced_at']} par Retrouve {meta['software_version']}"),
        ("h2", "Critères de recherche"),
    ]
    for s in meta.get("searches", []):
        out.append(("li", f"{s['at']}, {s['user']} : {s['hits']} résultat(s) - critères "
                          + json.dumps(s["query"], ensure_ascii=False, sort_keys=True)))
    if not meta.get("searches"):
        out.append(("p", "Aucune recherche enregistrée dans le dossier (pièces choisies par "
                         "fenêtre ou par piste)."))
    out.append(("h2", "Pièces"))
    for e in meta["exhibits"]:
        cam, win = e["camera"], e["window"]
        out.append(("h3", f"Pièce {e['label']} - caméra {cam['name']} ({cam['id']}), "
                          f"fuseau {cam['timezone']}"))
        out.append(("li", f"Fenêtre : {_when(win['from'])} -> {_when(win['to'])}"))
        m = e["master"]
        out.append(("li", f"Copie maîtresse {m['file']} : coupée de {m['actual_from']['local']}"
                          f" à {m['actual_to']['local']} (demandé {win['from']['local']})"))
        out.append(("li", f"Enregistrement {e['recording']['id']}, SHA-256 vérifié à "
                          f"l'export : {e['recording']['sha256_now']}"))
        t = e.get("track")
        if t is not None:
            out.append(("li", f"Piste {t['id']} : {_attributes(t)} ; vue de "
                              f"{t['first_seen']['local']} à {t['last_seen']['local']}"))
            if t.get("note"):
                out.append(("li", f"Note de l'opérateur : {t['note']}"))
            if e.get("still"):
                out.append(("img", e["still"]["file"]))
        out.append(("li", e["clock_note"]))
    out.append(("h2", "Provenance de l'analyse automatique"))
    for run_id, run in sorted(meta.get("analysis_runs", {}).items()):
        models = ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False, sort_keys=True)}"
                           for k, v in sorted(run["models"].items()))
        out += [("h3", f"Analyse n° {run_id} du {run['started_at']} (Retrouve "
                       f"{run['software_version']})"),
                ("li", f"Modèles et packs : {models or '-'}"),
                ("li", "Réglages : " + json.dumps(run["settings"], ensure_ascii=False,
                                                  sort_keys=True))]
    if not meta.get("analysis_runs"):
        out.append(("p", "Aucune piste issue d'une analyse automatique dans cet export."))
    out += [("h2", "Déclaration"), ("p", STATEMENT_FR), ("p", MASTER_FR),
            ("p", INTEGRITY_FR)]
    return out


def rapport_pdf(meta: dict[str, Any], folder: Path) -> bytes:
    """The report as a PDF (A4, Helvetica); ``img`` lines are files under ``folder``."""
    from fpdf import FPDF  # the PDF library is only needed here and in the coverage report

    pdf = FPDF(format="A4")
    pdf.set_title(latin1(f"Rapport d'exploitation - {meta['case']['ref']}"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    sizes = {"h1": 15, "h2": 12.5, "h3": 11, "p": 10, "li": 9}
    for kind, text in rapport_lines(meta):
        if kind == "img":
            pdf.image(str(folder / text), w=70)
            pdf.ln(2)
            continue
        pdf.set_font("helvetica", "B" if kind.startswith("h") else "", sizes[kind])
        if kind in ("h2", "h3"):
            pdf.ln(2)
        pdf.multi_cell(0, sizes[kind] * 0.5, latin1(("- " if kind == "li" else "") + text),
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
