"""A Spanish edition of the compilation for tests, laid out as docs/spanish-edition.md describes.

We do not have the Secretariat's Spanish edition. The Spanish wordings in
``tests/data/spanish_edition/translations.tsv`` are the project's own translations (written for
these tests, not official texts) of the statements of six complete sub-theme tables of the shipped
compilation (TS1.4, TS2.1, TS4.2, TS5.1, TS6.2, TS6.3: 32 rows, 31 statements; I-6681 is filed
twice). This module lays them out as an edition, as text or as Word, in the English document's
row order, with the headings below (also our own translations); tests then change it (drop a row,
swap two, another meeting) to check that alignment refuses what does not align.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from rcm.model import Compendium, parse_meeting

DATA = Path(__file__).parent / "data" / "spanish_edition"
SECTIONS = ((1, 4), (2, 1), (4, 2), (5, 1), (6, 2), (6, 3))
TITLE = (
    "Compilación de las declaraciones de la CRM adoptadas entre 1996 y 2016 relacionadas con los "
    "temas de las consultas temáticas para la construcción del Pacto Mundial para una migración "
    "segura, ordenada y regular"
)
THEMES = {
    1: "Derechos humanos de todos los migrantes",
    2: "Factores que impulsan la migración",
    4: "Contribuciones de los migrantes y las diásporas al desarrollo sostenible",
    5: "Tráfico ilícito de migrantes y trata de personas",
    6: "Migración irregular y vías regulares",
}
SUBTHEMES = {
    (1, 4): "Atender las necesidades específicas de los migrantes en situación de vulnerabilidad",
    (2, 1): "Efectos adversos del cambio climático, los desastres naturales y las crisis",
    (4, 2): "Remesas y portabilidad de los beneficios adquiridos",
    (5, 1): "Formas contemporáneas de esclavitud",
    (6, 2): "Reconocimiento de aptitudes y cualificaciones",
    (6, 3): "Otras medidas pertinentes",
}


def translations() -> dict[str, str]:
    text = (DATA / "translations.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    return {r["id"]: r["es"] for r in rows}


@dataclass
class Row:
    statement_id: str  # what the row translates (never printed: the aligner must find it)
    text: str
    meeting: str  # "VI CRM"
    note: str | None


@dataclass
class Section:
    theme: int
    subtheme: int
    title: str
    rows: list[Row]


def _note(themes: tuple[int, ...], all_others: bool) -> str | None:
    if all_others:
        return "Declaración también relevante para todos los demás TS"
    if not themes:
        return None
    named = " y el ".join(f"TS{n}" for n in themes)
    return f"Declaración también relevante para el {named}"


def sections(
    compendium: Compendium, which: tuple[tuple[int, int], ...] = SECTIONS
) -> list[Section]:
    """The edition's sections, one row per English row of each sub-theme, in its order."""
    spanish = translations()
    out: list[Section] = []
    for theme, sub in which:
        rows = [
            Row(
                p.statement_id,
                spanish[p.statement_id],
                f"{parse_meeting(compendium.statement(p.statement_id).meeting).code} CRM",
                _note(p.also_relevant if not p.also_relevant_all else (), p.also_relevant_all),
            )
            for p in compendium.placements
            if (p.theme, p.subtheme) == (theme, sub)
        ]
        out.append(Section(theme, sub, SUBTHEMES[(theme, sub)], rows))
    return out


def as_text(secs: list[Section]) -> bytes:
    lines = [
        "Conferencia Regional sobre Migración",
        "",
        TITLE,
        "",
        "Abril de 2017",
        "",
        "Introducción",
        "",
        "Este documento reúne las declaraciones de las reuniones viceministeriales de la CRM.",
        "",
    ]
    theme = None
    for s in secs:
        if s.theme != theme:
            theme = s.theme
            roman = ["", "I", "II", "III", "IV", "V", "VI"][theme]
            lines += [f"{roman}. {THEMES[theme]}", ""]
        lines += [s.title, "", "Declaraciones\tCRM\t¿Sigue vigente?"]
        for r in s.rows:
            note = f" *{r.note}*" if r.note else ""
            lines.append(f'<ul style="list-style-type: none"> {r.text}{note} \t{r.meeting}\t')
        lines.append("")
    return "\n".join(lines).encode("utf-8")


def as_docx(secs: list[Section], print_ids: bool = False) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Conferencia Regional sobre Migración", style="Title")
    document.add_paragraph(TITLE, style="Subtitle")
    document.add_paragraph("Abril de 2017")
    theme = None
    for s in secs:
        if s.theme != theme:
            theme = s.theme
            roman = ["", "I", "II", "III", "IV", "V", "VI"][theme]
            document.add_heading(f"{roman}. {THEMES[theme]}", level=1)
        document.add_heading(s.title, level=2)
        table = document.add_table(rows=1, cols=3)
        for cell, text in zip(
            table.rows[0].cells, ("Declaraciones", "CRM", "¿Sigue vigente?"), strict=True
        ):
            cell.text = text
        for r in s.rows:
            cells = table.add_row().cells
            cells[0].text = r.text
            if r.note:
                cells[0].add_paragraph().add_run(r.note).italic = True
            cells[1].text = r.meeting
            if print_ids:
                cells[1].add_paragraph(r.statement_id)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
