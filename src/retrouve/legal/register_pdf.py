"""The register of recordings and destruction dates (CSI R252-11) as a PDF: the same
destruction rows as the CSV (:data:`retrouve.legal.purge.REGISTER_COLUMNS`), one block per
purge certificate, oldest first; then the recordings kept now with the date each is due to be
destroyed. Times are ISO-8601 UTC as in the certificates.

fpdf2 with its core fonts, as the coverage report: the text is Latin-1 (French accents pass,
other signs are replaced by ``?``; camera names outside Latin-1 read best in the CSV).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

# The coverage report's Latin-1 folding: one rule for every PDF of legal/.
from retrouve.legal.coverage import _latin1 as latin1
from retrouve.legal.journal import iso

#: Labels of the register's columns in the PDF (French: the register is shown to the CNIL).
LABELS: dict[str, str] = {
    "destroyed_at_utc": "Détruit le (UTC)", "recording": "Enregistrement",
    "camera": "Caméra", "start_utc": "Début (UTC)", "end_utc": "Fin (UTC)",
    "sha256": "SHA-256", "rule": "Règle", "case": "Affaire", "scope": "Étendue",
    "file": "Fichier", "rows": "Lignes supprimées", "key_id": "Clé de signature",
}


def register_pdf(rows: Sequence[Mapping[str, str]], produced_at: datetime,
                 kept: Sequence[Mapping[str, str]] = ()) -> bytes:
    """The register as PDF bytes (A4, Helvetica). ``rows``: ``Retention.register_rows()``;
    ``kept``: ``Retention.kept_rows()`` (recordings kept, with their due destruction date);
    ``produced_at``: aware UTC, printed in the header."""
    from fpdf import FPDF  # the PDF library is only needed for this output

    pdf = FPDF(format="A4")
    pdf.set_title(latin1("Registre des destructions (CSI R252-11)"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()

    def line(text: str, size: float, style: str = "") -> None:
        pdf.set_font("helvetica", style, size)
        pdf.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")

    line("Registre des enregistrements détruits (CSI, art. R252-11)", 15, "B")
    line(f"Produit le {iso(produced_at)} - {len(rows)} destruction(s), chacune attestée par "
         "un certificat signé (Ed25519) vérifiable avec `retrouve journal public-key`.", 9.5)
    if not rows:
        pdf.ln(3)
        line("Aucune destruction enregistrée.", 10)
    for row in rows:
        pdf.ln(3)
        line(f"Certificat {row['certificate']}", 11, "B")
        for key, label in LABELS.items():
            value = row.get(key, "") or "-"
            line(f"{label} : {value}", 9)
    pdf.ln(5)
    line("Enregistrements conservés et date de destruction prévue", 13, "B")
    line("La date prévue est la fin de l'enregistrement plus la durée de conservation de sa "
         "caméra, ou la fin de la réquisition qui le retient si elle est plus tardive.", 9.5)
    if not kept:
        line("Aucun enregistrement conservé.", 10)
    for k in kept:
        pdf.ln(2)
        line(f"{k['recording']} - {LABELS['camera']} {k['camera']}", 10, "B")
        line(f"{k['start_utc']} -> {k['end_utc']} ; destruction prévue le "
             f"{k['destruction_due_utc']}", 9)
        line(f"SHA-256 : {k['sha256']}", 9)
    return bytes(pdf.output())
