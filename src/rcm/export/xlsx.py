"""The compendium as an Excel workbook for analysts: one row per statement on "All statements", one
row per placement on a sheet per theme, rows coloured by category, and an "About" sheet.

The bytes depend only on the compendium, the selection and the ``generated`` date: the zip entries
and the document properties carry that date instead of the clock, so the same export made twice on
one day is byte-identical (caches and checksums can rely on it).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from rcm.export.cells import append_row, set_text
from rcm.i18n import Words, words
from rcm.model import Compendium, Statement, span_text
from rcm.taxonomy import CATEGORY_COLOURS

__all__ = ["ALL_COLUMNS", "THEME_COLUMNS", "compendium_xlsx"]

ALL_SHEET = "All statements"
ABOUT_SHEET = "About"

# (header, width in characters). The widths fit the compilation's longest values except Text,
# which wraps.
THEME_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Sub-theme", 34),
    ("Position", 9),
    ("Id", 11),
    ("Meeting", 12),
    ("Year", 7),
    ("Category", 14),
    ("Category source", 10),
    ("Text", 90),
    ("Note", 30),
    ("Also relevant for", 16),
    ("GCM objectives", 11),
)
ALL_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Id", 11),
    ("Meeting", 12),
    ("Year", 7),
    ("Category", 14),
    ("Category source", 10),
    ("Themes", 14),
    ("GCM objectives", 11),
    ("Text", 100),
)


def statement_cell_text(s: Statement, w: Words | None = None) -> str:
    """The statement as one cell: a list statement as its heading and one item per line. In
    Spanish (``w``): its Spanish wording where it has one, else the English one marked."""
    if w is not None and w.spanish:
        if s.text_es:
            return s.text_es
        if s.lang != "es":
            return f"{w.english_mark()} {statement_cell_text(s)}"
    if not s.items:
        return s.text
    return "\n".join([f"{s.heading}:" if s.heading else "", *(f"- {i}" for i in s.items)]).strip()


def objectives_by_statement(c: Compendium) -> dict[str, str]:
    """Each statement's GCM objectives in rank order, "10 7"; a suggested one is marked "?"."""
    out: dict[str, list[str]] = {}
    for x in sorted(c.objective_links, key=lambda x: (x.statement_id, x.rank, x.objective)):
        mark = "" if x.source.value == "curated" else "?"
        out.setdefault(x.statement_id, []).append(f"{x.objective}{mark}")
    return {k: " ".join(v) for k, v in out.items()}


def compendium_xlsx(
    compendium: Compendium,
    *,
    statement_ids: set[str] | None = None,
    generated: date | None = None,
    lang: str = "en",
) -> bytes:
    """The compendium (or only ``statement_ids``) as .xlsx bytes: "All statements", then "TS1" …
    "TS6" for the themes that have rows, then "About". ``generated`` defaults to today (UTC).
    ``lang="es"``: sheet names, headers, meetings, categories, sub-themes and the About sheet in
    Spanish, each statement's Spanish wording where it has one (else the English, marked)."""
    from openpyxl import Workbook

    w = words(lang)
    cat_label = {
        ci.category.value: w.category(ci.category.value, ci.label) for ci in compendium.categories
    }

    def category(s: Statement) -> str | None:
        if s.category is None:
            return None
        return cat_label.get(s.category.value, s.category.value) if w.spanish else s.category.value

    def source(s: Statement) -> str | None:
        if s.category_source is None:
            return None
        return w.status(s.category_source.value) if w.spanish else s.category_source.value

    day = generated or datetime.now(UTC).date()
    c = compendium
    chosen = [s for s in c.statements if statement_ids is None or s.id in statement_ids]
    ids = {s.id for s in chosen}
    meetings = {m.code: m for m in c.meetings}
    objectives = objectives_by_statement(c)
    placements = [p for p in c.placements if p.statement_id in ids]
    themes_of: dict[str, list[str]] = {}
    for p in placements:
        themes_of.setdefault(p.statement_id, []).append(f"TS{p.theme}")
    by_id = {s.id: s for s in chosen}

    wb = Workbook()
    wb.remove(wb.active)

    rows: list[tuple[list[Any], Statement]] = []
    for s in chosen:
        m = meetings.get(s.meeting)
        themes = list(dict.fromkeys(themes_of.get(s.id, ())))
        rows.append(
            (
                [
                    s.id,
                    w.meeting(m.label) if m else s.meeting,
                    m.year if m else None,
                    category(s),
                    source(s),
                    " ".join(themes) or None,
                    objectives.get(s.id),
                    statement_cell_text(s, w),
                ],
                s,
            )
        )
    _data_sheet(wb.create_sheet(w(ALL_SHEET)), ALL_COLUMNS, rows, w)

    for theme in sorted(c.themes, key=lambda th: th.number):
        mine = sorted(
            (p for p in placements if p.theme == theme.number),
            key=lambda p: (p.subtheme, p.position, p.line),
        )
        if not mine:
            continue
        titles = {st.order: w.subtheme(theme.number, st.order, st.title) for st in theme.subthemes}
        theme_rows = []
        for p in mine:
            s = by_id[p.statement_id]
            m = meetings.get(s.meeting)
            theme_rows.append(
                (
                    [
                        titles.get(p.subtheme, str(p.subtheme)),
                        p.position,
                        s.id,
                        w.meeting(m.label) if m else s.meeting,
                        m.year if m else None,
                        category(s),
                        source(s),
                        statement_cell_text(s, w),
                        _note(p, w),
                        " ".join(f"TS{t}" for t in p.also_relevant) or None,
                        objectives.get(s.id),
                    ],
                    s,
                )
            )
        _data_sheet(wb.create_sheet(theme.code), THEME_COLUMNS, theme_rows, w)

    _about_sheet(wb.create_sheet(w(ABOUT_SHEET)), c, len(chosen), day, w)

    stamp = datetime(day.year, day.month, day.day)
    wb.properties.creator = "rcm"
    wb.properties.title = c.source.title or "RCM Compendium"
    if w.spanish:
        wb.properties.title = w("RCM Compendium")
        wb.properties.language = "es"
    wb.properties.created = stamp
    out = io.BytesIO()
    wb.save(out)
    wb.properties.modified = stamp
    return _restamp(out.getvalue(), _core_xml(wb), stamp)


def _data_sheet(
    ws: Any,
    columns: Sequence[tuple[str, int]],
    rows: Iterable[tuple[list[Any], Statement]],
    w: Words,
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    headers = [h for h, _ in columns]
    text_col = headers.index("Text") + 1
    headers = [w(h) if w.spanish else h for h in headers]
    bold = Font(bold=True)
    top = Alignment(vertical="top")
    wrapped = Alignment(vertical="top", wrap_text=True)
    fills = {
        cat: PatternFill(fill_type="solid", start_color=f"FF{rgb}", end_color=f"FF{rgb}")
        for cat, rgb in CATEGORY_COLOURS.items()
    }
    for col, header in enumerate(headers, 1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font = bold
        cell.alignment = top
    r = 1
    for r, (values, s) in enumerate(rows, 2):
        fill = fills.get(s.category) if s.category else None
        for col, value in enumerate(values, 1):
            cell = ws.cell(row=r, column=col)
            set_text(cell, value)
            cell.alignment = wrapped if col == text_col else top
            if fill is not None:
                cell.fill = fill
    for col, (_, width) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{r}"


def _note(p: Any, w: Words) -> str | None:
    from rcm.export.docx import note_text

    return note_text(p.note.strip("*").strip(), p, w) if (w.spanish and p.note) else p.note


def _about_sheet(ws: Any, c: Compendium, selected: int, day: date, w: Words) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    wrapped = Alignment(vertical="top", wrap_text=True)
    append_row(ws, [w("RCM Compendium: statements of the Regional Conference on Migration")])
    ws["A1"].font = Font(bold=True, size=14)
    append_row(ws, [])
    facts = [
        (w("Source"), c.source.title),
        (w("Source date"), c.source.date),
        (w("Source file"), c.source.name),
        (w("Source SHA-256"), c.source.sha256),
        (w("Generated"), day.isoformat()),
        (w("Statements"), w("{selected} of {total}", selected=selected, total=len(c.statements))),
        (w("Covers"), span_text(c.span())),
        (w("GCM objectives"), w('In rank order; a number followed by "?" is a suggestion.')),
        (w("Category source"), w("curated: a person's choice; suggested: the suggester's.")),
    ]
    if w.spanish:
        facts.append(
            (
                w("Language"),
                w(
                    "Spanish. Statements without a Spanish wording are given in English and "
                    "marked {mark}.",
                    mark=w.english_mark(),
                ),
            )
        )
    for label, value in facts:
        append_row(ws, [label, value])
        ws.cell(row=ws.max_row, column=1).font = bold
        ws.cell(row=ws.max_row, column=2).alignment = wrapped
    append_row(ws, [])
    append_row(ws, [w("Category"), w("Label"), w("Definition"), w("Row colour")])
    for cell in ws[ws.max_row]:
        cell.font = bold
    infos = {ci.category: ci for ci in c.categories}
    for cat, rgb in CATEGORY_COLOURS.items():
        ci = infos.get(cat)
        label = ci.label if ci else cat.value.title()
        append_row(
            ws,
            [
                cat.value,
                w.category(cat.value, label),
                w.definition(ci.definition) if ci else "",
                rgb,
            ],
        )
        ws.cell(row=ws.max_row, column=4).fill = PatternFill(
            fill_type="solid", start_color=f"FF{rgb}", end_color=f"FF{rgb}"
        )
        ws.cell(row=ws.max_row, column=3).alignment = wrapped
    append_row(
        ws,
        [
            w("(empty)"),
            w("Unassigned"),
            w("No category has been assigned yet."),
            w("no colour"),
        ],
    )
    _sources_table(ws, c)
    for col, width in zip("ABCD", (18, 60, 50, 12), strict=True):
        ws.column_dimensions[col].width = width


SOURCE_COLUMNS = ("Document", "Kind", "Title", "Meeting", "Place", "Date", "Reference", "File")


def _sources_table(ws: Any, c: Compendium) -> None:
    """The documents the statements come from: the compilation and each declaration."""
    from openpyxl.styles import Font

    append_row(ws, [])
    append_row(ws, list(SOURCE_COLUMNS))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for d in c.documents():
        append_row(
            ws,
            [
                d.key,
                d.kind.value,
                d.title,
                d.meeting_label or "",
                d.place or "",
                d.date or (str(d.year) if d.year else ""),
                d.reference or "",
                f"{d.name} (SHA-256 {d.sha256})",
            ],
        )


def _core_xml(wb: Any) -> bytes:
    from openpyxl.xml.functions import tostring

    data: bytes = tostring(wb.properties.to_tree())
    return data


def _restamp(data: bytes, core: bytes, stamp: datetime) -> bytes:
    """Rewrite the archive with every entry dated ``stamp`` and the document properties as given:
    openpyxl dates both with the clock, which would make every export differ."""
    out = io.BytesIO()
    when = (stamp.year, stamp.month, stamp.day, 0, 0, 0)
    with ZipFile(io.BytesIO(data)) as src, ZipFile(out, "w", ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = core if info.filename == "docProps/core.xml" else src.read(info)
            entry = ZipInfo(info.filename, date_time=when)
            entry.compress_type = ZIP_DEFLATED
            dst.writestr(entry, body)
    return out.getvalue()
