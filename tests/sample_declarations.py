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


def odd_spanish_declaration(path: Path) -> Path:
    """The Spanish XXII RCM declaration of tests/data with a paragraph no reader knows in its
    preamble (line 9) and a section heading among its statements (line 31), saved at ``path``."""
    text = (Path(__file__).parent / "data" / "declarations" / "xxii_rcm_es.txt").read_text(
        encoding="utf-8"
    )
    text = text.replace(
        "Reconociendo los aportes",
        "Texto sujeto a revisión de estilo por la Secretaría Técnica.\n\nReconociendo los aportes",
    ).replace("5. Reiterar", "Cooperación consular\n\n5. Reiterar")
    path.write_text(text, encoding="utf-8")
    return path
