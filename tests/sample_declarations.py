"""Declarations the tests add, written as the Secretariat would receive them."""

from __future__ import annotations

from pathlib import Path

import docx


def covid_declaration(path: Path) -> Path:
    """A short extraordinary declaration in Word (a title, a place line, a preamble, a chapeau and
    two operative paragraphs in Word's automatic numbering), saved at ``path``."""
    document = docx.Document()
    document.add_paragraph("EXTRAORDINARY DECLARATION OF THE REGIONAL CONFERENCE ON MIGRATION")
    document.add_paragraph("Virtual meeting, 2020")
    document.add_paragraph("Considering the COVID-19 pandemic and its effects on migrants,")
    document.add_paragraph("HEREBY DECLARE:")
    document.add_paragraph(
        "Guarantee migrants access to health services during the COVID-19 pandemic.",
        style="List Number",
    )
    document.add_paragraph(
        "Coordinate the safe return of nationals stranded by border closures.",
        style="List Number",
    )
    document.save(path)
    return path
