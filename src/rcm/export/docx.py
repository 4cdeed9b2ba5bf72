"""The compilation as a Word document, in the layout of docs/docx-layout.md (which
``rcm.parse.docx_compilation`` reads back): title page, introduction with the method and the colour
legend, a real table of contents, one section per theme and sub-theme in document order, and a
three-column table per sub-theme whose rows are shaded with their category's colour.

python-docx has no shading or field API; both are written as WordprocessingML elements here.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from importlib.metadata import version
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from rcm import clock
from rcm.i18n import Words, words
from rcm.model import (
    Category,
    Compendium,
    DocumentKind,
    Placement,
    SourceDocument,
    Statement,
    span_text,
    to_roman,
)
from rcm.taxonomy import CATEGORY_COLOURS

HEADER = ("Statements", "RCM", "Still valid?")


def header(w: Words) -> tuple[str, str, str]:
    """The statement tables' header in a language (English: :data:`HEADER`, which the Word
    compilation's reader expects)."""
    return (w.statements_column, w("RCM"), w("Still valid?"))


LEGEND_LABELS = {
    Category.PRINCIPLE: "Principles",
    Category.UNDERSTANDING: "Understandings",
    Category.COMMITMENT: "Commitments",
}
WIDTHS = (Cm(12.5), Cm(2.2), Cm(2.8))


# Elements CT_TcPr puts after w:shd: the shading goes before any of them, as Word expects.
_TCPR_AFTER_SHD = (
    "w:noWrap",
    "w:tcMar",
    "w:textDirection",
    "w:tcFitText",
    "w:vAlign",
    "w:hideMark",
    "w:headers",
    "w:cellIns",
    "w:cellDel",
    "w:cellMerge",
    "w:tcPrChange",
)


def shade(cell: Any, colour: str) -> None:
    """Fill a table cell with ``colour`` ("RRGGBB"): python-docx has no shading API, so this sets
    ``w:shd`` on the cell's properties, where the Word compilation's reader looks for it."""
    tc_pr = cell._tc.get_or_add_tcPr()
    for old in tc_pr.findall(qn("w:shd")):
        tc_pr.remove(old)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), colour.upper())
    after = [tc_pr.find(qn(tag)) for tag in _TCPR_AFTER_SHD]
    successor = next((el for el in after if el is not None), None)
    if successor is None:
        tc_pr.append(shd)
    else:
        successor.addprevious(shd)


def _repeat_header(row: object) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _field_run(paragraph: object, kind: str, instruction: str | None = None) -> None:
    run = paragraph.add_run()  # type: ignore[attr-defined]
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    run._r.append(char)
    if instruction is not None:
        instr_run = paragraph.add_run()  # type: ignore[attr-defined]
        instr = OxmlElement("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = instruction
        instr_run._r.append(instr)


@dataclass(frozen=True)
class Selection:
    """What a focused compilation holds: statement ids, and optionally only some themes or
    sub-themes' sections; ``sentence`` says it on the title page."""

    statement_ids: frozenset[str] | None = None
    themes: frozenset[int] | None = None
    subthemes: frozenset[tuple[int, int]] | None = None
    sentence: str = ""


def narrow(c: Compendium, selection: Selection) -> Compendium:
    """The compendium reduced to a selection (placements keep their positions in the full table,
    so "row 13 of TS1.2" still means what it meant)."""

    def keep(p: Placement) -> bool:
        return (
            (selection.statement_ids is None or p.statement_id in selection.statement_ids)
            and (selection.themes is None or p.theme in selection.themes)
            and (selection.subthemes is None or (p.theme, p.subtheme) in selection.subthemes)
        )

    placements = [p for p in c.placements if keep(p)]
    kept = {p.statement_id for p in placements}
    return replace(
        c,
        placements=placements,
        statements=[s for s in c.statements if s.id in kept],
        objective_links=[x for x in c.objective_links if x.statement_id in kept],
    )


def _statement_cell(cell: object, s: Statement, p: Placement, w: Words) -> None:
    note = p.note
    first = cell.paragraphs[0]  # type: ignore[attr-defined]
    if w.spanish and s.text_es:
        first.add_run(s.text_es)
    elif s.items:
        first.add_run(s.heading or "").bold = True
        for item in s.items:
            cell.add_paragraph(item, style="List Bullet")  # type: ignore[attr-defined]
    else:
        first.add_run(s.text)
    if w.spanish and not s.text_es and s.lang != "es":
        # No Spanish wording yet: the English one, marked as such (and as English for Word's
        # spelling and for screen readers).
        mark = cell.add_paragraph().add_run(w.english_mark())  # type: ignore[attr-defined]
        mark.italic = True
        mark.font.size = Pt(7)
        for paragraph in cell.paragraphs:  # type: ignore[attr-defined]
            for run in paragraph.runs:
                _run_language(run, "en-US")
    if note:
        # The text export shows italics as asterisks; in Word the note is italic again.
        text = note.strip("*").strip()
        cell.add_paragraph().add_run(note_text(text, p, w)).italic = True  # type: ignore[attr-defined]


def _run_language(run: Any, tag: str) -> None:
    r_pr = run._r.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), tag)
    r_pr.append(lang)


def note_text(text: str, p: Placement | None, w: Words) -> str:
    """A cross-reference note in the document's language, from the themes it names: in Spanish
    "También relevante para TS3 y TS5"; the English document keeps the note as printed."""
    if not w.spanish or p is None or not (p.also_relevant or p.also_relevant_all):
        return text
    if p.also_relevant_all:
        return w("Also relevant for all the other thematic sessions")
    codes = [f"TS{t}" for t in p.also_relevant]
    listed = (
        codes[0]
        if len(codes) == 1
        else w("{first} and {last}", first=", ".join(codes[:-1]), last=codes[-1])
    )
    return w("Also relevant for {themes}", themes=listed)


def compilation_docx(
    c: Compendium,
    *,
    title: str | None = None,
    selection: str | None = None,
    still_valid: Mapping[str, Sequence[str]] | None = None,
    still_valid_heading: str | None = None,
    lang: str = "en",
) -> bytes:
    """The compilation (or a selection of it: pass a ``select``-ed compendium and its sentence)
    as .docx bytes. ``still_valid`` fills the third column: statement id -> lines (a round's
    result). ``lang="es"``: the Spanish edition (headings, labels and meetings in Spanish, each
    statement's Spanish wording where it has one, else its English one marked as English)."""
    w = words(lang)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10)
    props = doc.core_properties
    own_title = compilation_title(c)[0]
    props.title = title or (_source_title(c, w) if w.spanish else own_title)
    props.subject = w("Regional Conference on Migration: statements by theme and sub-theme")
    props.author = w("RCM Technical Secretariat (generated by rcm)")
    props.keywords = w("RCM; Puebla Process; migration; compendium")
    if w.spanish:
        # What tells a reader this is the Spanish edition (``rcm.parse.docx_compilation``).
        props.language = "es"
        _document_language(doc, "es-ES")

    _title_page(doc, c, title, selection, still_valid_heading, w)
    _introduction(doc, c, w)
    _sources(doc, c, w)
    _contents(doc, c, w)
    by_statement = {s.id: s for s in c.statements}
    meetings = {m.code: m for m in c.meetings}
    rows: dict[tuple[int, int], list[Placement]] = {}
    for p in c.placements:
        rows.setdefault((p.theme, p.subtheme), []).append(p)
    for theme in c.themes:
        subs = [s for s in theme.subthemes if rows.get((theme.number, s.order))]
        if not subs:
            continue
        heading = doc.add_heading(
            f"{to_roman(theme.number)}. {w.theme(theme.number, theme.title)}", level=1
        )
        heading.paragraph_format.page_break_before = True
        if theme.un_title:
            when = f" ({w(theme.consultation)})" if theme.consultation else ""
            doc.add_paragraph().add_run(
                w(
                    "UN thematic session {n}: {title}{when}",
                    n=theme.number,
                    title=_un_title(theme.number, theme.un_title, w),
                    when=when,
                )
            ).italic = True
        for sub in subs:
            doc.add_heading(w.subtheme(theme.number, sub.order, sub.title), level=2)
            _table(doc, rows[(theme.number, sub.order)], by_statement, meetings, still_valid, w)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def compilation_title(c: Compendium) -> tuple[str, str]:
    """The title and date a compilation of ``c`` carries: a compendium whose statements all come
    from one compilation file keeps that document's own title and date (the 2017 compilation
    reproduced); one with statements from other documents is a new compilation, titled by the
    span of its meetings ("… made between 1996 and 2020") and dated the day it is generated."""
    documents = c.documents()
    if len(documents) == 1 and documents[0].kind is DocumentKind.COMPILATION:
        only = documents[0]
        if only.title:
            return only.title, only.date or ""
    span = c.span()
    if span is None:
        what = "Compilation of the RCM statements"
    elif span[0] == span[1]:
        what = f"Compilation of the RCM statements made in {span[0]}"
    else:
        what = f"Compilation of the RCM statements made between {span[0]} and {span[1]}"
    return what, _day_en(clock.now())


def _day_en(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _source_title(c: Compendium, w: Words) -> str:
    if w.spanish:
        return w("Compilation of the RCM statements")
    return c.source.title or "Compilation of the RCM statements"


def _un_title(number: int, un_title: str, w: Words) -> str:
    """A session's full UN title; in Spanish its Spanish title from the catalogue, else the short
    Spanish name of the session."""
    if not w.spanish:
        return un_title
    translated = w(un_title)
    return translated if translated != un_title else w.theme(number, un_title)


def _document_language(doc: Any, tag: str) -> None:
    """The default proofing language of the document's text (``w:lang`` in the defaults)."""
    r_pr = doc.styles.element.find(qn("w:docDefaults"))
    if r_pr is None:
        return
    rpr_default = r_pr.find(qn("w:rPrDefault"))
    target = rpr_default.find(qn("w:rPr")) if rpr_default is not None else None
    if target is None:
        return
    for old in target.findall(qn("w:lang")):
        target.remove(old)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), tag)
    target.append(lang)


def _title_page(
    doc: object,
    c: Compendium,
    title: str | None,
    selection: str | None,
    round_note: str | None,
    w: Words,
) -> None:
    own_title, own_date = compilation_title(c)
    doc.add_paragraph(w("Regional Conference on Migration"), style="Title")  # type: ignore[attr-defined]
    if w.spanish:
        doc.add_paragraph(title or _source_title(c, w), style="Subtitle")  # type: ignore[attr-defined]
        if own_title and not title:
            doc.add_paragraph(w("Edition of: {title}", title=own_title))  # type: ignore[attr-defined]
        if own_date:
            doc.add_paragraph(_source_date(own_date, w))  # type: ignore[attr-defined]
    else:
        doc.add_paragraph(title or own_title, style="Subtitle")  # type: ignore[attr-defined]
        if own_date:
            doc.add_paragraph(own_date)  # type: ignore[attr-defined]
    if selection:
        doc.add_paragraph(w("Selection: {sentence}", sentence=selection))  # type: ignore[attr-defined]
    if round_note:
        doc.add_paragraph(round_note)  # type: ignore[attr-defined]
    n = len(c.statements)
    meetings = len({s.meeting for s in c.statements})
    span = span_text(c.span())
    if w.spanish:
        covers = f"Abarca {span}: " if span else ""
        counts = (
            f"{n} {'disposición' if n == 1 else 'disposiciones'} en {len(c.placements)} filas, "
            f"adoptadas en {meetings} {'reunión' if meetings == 1 else 'reuniones'}."
        )
    else:
        covers = f"Covers {span}: " if span else ""
        counts = (
            f"{n} statement{'s' if n != 1 else ''} in {len(c.placements)} rows, adopted at "
            f"{meetings} meeting{'s' if meetings != 1 else ''}."
        )
    doc.add_paragraph(covers + counts)  # type: ignore[attr-defined]
    documents = c.documents()
    names = "; ".join(_document_name(d, w) for d in documents)
    doc.add_paragraph(  # type: ignore[attr-defined]
        w(
            "Sources ({n}, listed under Sources): {names}.",
            n=len(documents),
            names=names,
        )
    )
    doc.add_paragraph(  # type: ignore[attr-defined]
        w(
            "Generated on {day} by RCM Compendium {version}.",
            day=_day(clock.now(), w),
            version=version("rcm-compendium"),
        )
    )
    if w.spanish:
        doc.add_paragraph(  # type: ignore[attr-defined]
            w(
                "Statements without a Spanish wording are given in English and marked {mark}.",
                mark=w.english_mark(),
            )
        )


_MONTHS_ES = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
).split()


_MONTHS_EN = (
    "january february march april may june july august september october november december"
).split()


def _source_date(text: str, w: Words) -> str:
    """The source's date as printed ("April 2017"); in Spanish its month in Spanish."""
    if not w.spanish:
        return text
    words_ = text.split()
    return " ".join(
        f"{_MONTHS_ES[_MONTHS_EN.index(x.casefold())]} de" if x.casefold() in _MONTHS_EN else x
        for x in words_
    )


def _document_name(d: SourceDocument, w: Words) -> str:
    """A source document named in the document's language (its title as the document has it)."""
    if d.kind is DocumentKind.COMPILATION:
        name = f"{w(d.author) if d.author else ''}, {d.title or d.name}"
        return name + (f", {_source_date(d.date, w)}" if d.date else "")
    meeting = w.meeting(d.meeting_label) if d.meeting_label else d.meeting
    return f"{d.title or d.name} ({meeting or w('meeting not known')})"


def _sources(doc: object, c: Compendium, w: Words) -> None:
    """A section naming each document the statements come from: a compilation with its date,
    file and checksum; a declaration with its meeting, place, date, language and reference."""
    heading = doc.add_heading(w("Sources"), level=1)  # type: ignore[attr-defined]
    heading.paragraph_format.page_break_before = True
    counts: dict[str, int] = {}
    for s in c.statements:
        key = c.document_of(s.id).key
        counts[key] = counts.get(key, 0) + 1
    say = doc.add_paragraph  # type: ignore[attr-defined]
    say(
        w(
            "The statements of this compilation come from these documents (a statement reworded "
            "since keeps the document it was adopted in):"
        )
    )
    for d in c.documents():
        p = say(style="List Bullet")
        n = counts.get(d.key, 0)
        if d.kind is DocumentKind.COMPILATION:
            p.add_run(w("Compilation:") + " ").bold = True
            p.add_run(f"{w(d.author) if d.author else ''}, ")
            p.add_run(d.title or d.name).italic = True
            details = [_source_date(d.date, w) if d.date else ""]
        else:
            p.add_run(w("Declaration:") + " ").bold = True
            p.add_run(d.title or d.name).italic = True
            details = [
                w.meeting(d.meeting_label) if d.meeting_label else (d.meeting or ""),
                d.place or "",
                d.date or (str(d.year) if d.year else ""),
                w("language {lang}", lang=d.lang) if d.lang else "",
                w("reference {reference}", reference=d.reference) if d.reference else "",
            ]
        details.append(w("file {name}, SHA-256 {digest}…", name=d.name, digest=d.sha256[:12]))
        details.append(w.n("1 statement", "{n} statements", n))
        p.add_run("".join(f", {x}" for x in details if x) + ".")


def _day(when: datetime, w: Words) -> str:
    if w.spanish:
        return f"{when.day} de {_MONTHS_ES[when.month - 1]} de {when.year}"
    return f"{when.day} {when:%B %Y}"


def _introduction(doc: object, c: Compendium, w: Words) -> None:
    heading = doc.add_heading(w("Introduction"), level=1)  # type: ignore[attr-defined]
    heading.paragraph_format.page_break_before = True
    say = doc.add_paragraph  # type: ignore[attr-defined]
    say(
        w(
            "This document gathers the statements adopted by the Vice-Ministerial meetings of the "
            "Regional Conference on Migration (RCM, the Puebla Process), as compiled by its "
            "Technical Secretariat, and arranges them by the six thematic sessions the United "
            "Nations defined for the consultations towards the Global Compact for Safe, Orderly "
            "and Regular Migration."
        )
    )
    for theme in c.themes:
        when = f" ({w(theme.consultation)})" if theme.consultation else ""
        name = _un_title(theme.number, theme.un_title, w) if theme.un_title else ""
        item = say(f"{to_roman(theme.number)}. {name or w.theme(theme.number, theme.title)}{when}")
        item.paragraph_format.left_indent = Cm(0.8)
    say(
        w(
            "Within each thematic session the Technical Secretariat defined sub-themes, a "
            "proposal to make particular topics easier to find, not an official division. A "
            "statement relevant to several sessions is repeated in each of them, with a note at "
            "its end naming the others. Each statement gives the meeting that approved it; the "
            'last column, "{still_valid}", gathers the Member Countries\' opinion on whether '
            "the statement still holds.",
            still_valid=w("Still valid?"),
        )
    )
    say(
        w(
            "Each statement is also classified as a principle, an understanding or a "
            "commitment, the three kinds of product the New York Declaration expects of the "
            "Global Compact, using these definitions:"
        )
    )
    for info in c.categories:
        p = say(style="List Bullet")
        p.add_run(f"{w.category(info.category.value, info.label)}: ").bold = True
        p.add_run(w.definition(info.definition))
    say(w("Rows are shaded with the colour of their category:"))
    legend = doc.add_table(rows=1, cols=2)  # type: ignore[attr-defined]
    legend.style = "Table Grid"
    legend.cell(0, 0).paragraphs[0].add_run(w("Color code")).bold = True
    for category, label in LEGEND_LABELS.items():
        row = legend.add_row()
        row.cells[0].text = w(label)
        shade(row.cells[1], CATEGORY_COLOURS[category])
    say(w("Rows without shading have no category assigned yet."))


def _contents(doc: object, c: Compendium, w: Words) -> None:
    heading = doc.add_heading(w("Contents"), level=1)  # type: ignore[attr-defined]
    heading.paragraph_format.page_break_before = True
    subs_in_use = {(p.theme, p.subtheme) for p in c.placements}
    entries: list[tuple[int, str]] = []
    for theme in c.themes:
        subs = [s for s in theme.subthemes if (theme.number, s.order) in subs_in_use]
        if subs:
            entries.append((1, f"{to_roman(theme.number)}. {w.theme(theme.number, theme.title)}"))
            entries.extend((2, w.subtheme(theme.number, s.order, s.title)) for s in subs)
    # A real TOC field; its cached result lists the headings (Word adds page numbers when it
    # updates the field, which it is asked to do on opening).
    first = doc.add_paragraph()  # type: ignore[attr-defined]
    _field_run(first, "begin", ' TOC \\o "1-2" \\h \\z \\u ')
    _field_run(first, "separate")
    paragraphs = [first]
    for i, (level, text) in enumerate(entries):
        p = first if i == 0 else doc.add_paragraph()  # type: ignore[attr-defined]
        p.paragraph_format.left_indent = Cm(0 if level == 1 else 0.8)
        p.add_run(text).bold = level == 1
        paragraphs.append(p)
    _field_run(paragraphs[-1], "end")
    settings = doc.settings.element  # type: ignore[attr-defined]
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def _table(
    doc: object,
    placements: Iterable[Placement],
    statements: Mapping[str, Statement],
    meetings: Mapping[str, object],
    still_valid: Mapping[str, Sequence[str]] | None,
    w: Words,
) -> None:
    table = doc.add_table(rows=1, cols=3)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # LibreOffice and Word then keep the grid's widths
    for column, width in zip(table.columns, WIDTHS, strict=True):
        column.width = width
    first = table.rows[0]
    for cell, text, width in zip(first.cells, header(w), WIDTHS, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
        cell.width = width
    _repeat_header(first)
    for p in placements:
        s = statements[p.statement_id]
        cells = table.add_row().cells
        _statement_cell(cells[0], s, p, w)
        meeting = meetings[s.meeting]
        cells[1].paragraphs[0].add_run(w.meeting(meeting.label))  # type: ignore[attr-defined]
        ident = cells[1].add_paragraph().add_run(s.id)
        ident.font.size = Pt(7)
        ident.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
        lines = (still_valid or {}).get(s.id, ())
        for i, line in enumerate(lines):
            target = cells[2].paragraphs[0] if i == 0 else cells[2].add_paragraph()
            target.add_run(line).font.size = Pt(8)
        for cell, width in zip(cells, WIDTHS, strict=True):
            cell.width = width
            if s.category is not None:
                shade(cell, CATEGORY_COLOURS[s.category])
