"""A consultation round's regional position as a Word document, for the Secretariat to circulate.

Built only from :func:`rcm.consult.regional_position` and :func:`rcm.consult.round_status`, so the
document says exactly what ``rcm round position`` says. Contested and pending statements get their
own sections so that nobody reads them as consensus. Rows are shaded with the category colours of
the Word compilation (docs/docx-layout.md), which readers already know.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rcm import consult, taxonomy
from rcm.consult import PositionDocument
from rcm.export.docx import shade
from rcm.model import Category, Statement
from rcm.taxonomy import CATEGORY_COLOURS

__all__ = ["SECTIONS", "position_docx", "wording_changed"]

SECTIONS = ("Method", "Reaffirmed", "To be updated", "Contested", "Pending")
COMMENTS_SECTION = "Observers' comments"

_CATEGORY_ORDER = [c.value for c in CATEGORY_COLOURS] + ["unassigned"]
# The schema's order of a cell's properties (CT_TcPr): Word rejects a w:shd placed after these.
# Statement | RCM | third column, in centimetres: fits a portrait Letter or A4 page.
_WIDTHS_CM = (9.6, 2.4, 4.5)


def position_docx(data: PositionDocument) -> bytes:
    """The regional position of a round as .docx bytes, from its data
    (``rcm.consult.position_document``)."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    day, position, status = data.day, data.position, data.status
    rnd = position["round"]
    answers = {s["id"]: s["answers"] for s in status["statements"]}
    comments = data.comments
    view = _View(
        data.statements,
        data.meeting_labels,
        answers,
        bool(status["silence_counts_as_no_objection"]),
    )

    doc = Document()
    props = doc.core_properties
    props.title = f"Regional position: {rnd['title']}"
    props.subject = f"RCM consultation round {rnd['id']}"
    props.author = "RCM Compendium"
    props.created = datetime(day.year, day.month, day.day)

    doc.add_paragraph(rnd["title"], style="Title")
    doc.add_paragraph(
        f"Regional position of the Regional Conference on Migration, consultation round "
        f"{rnd['id']}",
        style="Subtitle",
    )
    deadline = rnd["deadline"] or "none"
    state = rnd["state"]
    if state == "open":
        state += " (answers may still change this position)"
    totals = position["totals"]
    for label, value in (
        ("Purpose", rnd["purpose"] or "not stated"),
        ("Scope", rnd["scope"]),
        ("Deadline", deadline),
        ("State", state),
        ("Statements", str(rnd["statements"])),
        (
            "Status",
            ", ".join(f"{totals.get(s.value, 0)} {s.value}" for s in _STATUS_ORDER),
        ),
        ("Answers to an earlier wording", _earlier_total(position["earlier_wording"])),
        ("Date generated", day.isoformat()),
    ):
        p = doc.add_paragraph()
        p.add_run(f"{label}: ").bold = True
        p.add_run(value)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    doc.add_heading("Method", level=1)
    doc.add_paragraph(_method(rnd, view.silence))

    doc.add_heading("Reaffirmed", level=1)
    doc.add_paragraph(
        "Statements no Member Country objects to or proposes to change (an abstention does not "
        "block, nor silence where the round counts it as consent), by theme and category."
    )
    categories = data.category_labels
    any_reaffirmed = False
    for section in position["themes"]:
        groups = section["reaffirmed"]
        if not groups:
            continue
        any_reaffirmed = True
        doc.add_heading(_theme_heading(section), level=2)
        for cat in sorted(groups, key=_category_rank):
            entries = groups[cat]
            name = categories.get(cat, cat.title())
            doc.add_heading(f"{_plural(name)} ({len(entries)})", level=3)
            _table(doc, view, ("Statement", "RCM", "Countries"), entries, view.countries_cell)
    if not any_reaffirmed:
        doc.add_paragraph("None.")

    doc.add_heading("To be updated", level=1)
    doc.add_paragraph(
        "No country objects, and at least one proposed new wording. Every proposal is given, by "
        "country."
    )
    any_update = False
    for section in position["themes"]:
        if not section["to_be_updated"]:
            continue
        any_update = True
        doc.add_heading(_theme_heading(section), level=2)
        _table(
            doc,
            view,
            ("Statement", "RCM", "Proposed wording"),
            section["to_be_updated"],
            lambda cell, e: _by_country(cell, e["proposed_wording"]),
        )
    if not any_update:
        doc.add_paragraph("None.")

    doc.add_heading("Contested", level=1)
    doc.add_paragraph(
        "At least one Member Country answered that the statement is no longer valid; its reason "
        "is given. These statements are not part of the regional position."
    )
    if position["contested"]:
        _table(
            doc,
            view,
            ("Statement", "RCM", "Objections"),
            position["contested"],
            lambda cell, e: _by_country(cell, e["reasons"]),
        )
    else:
        doc.add_paragraph("None.")

    doc.add_heading("Pending", level=1)
    doc.add_paragraph(
        "Not every Member Country has answered yet; no position can be stated for these."
    )
    if position["pending"]:
        _table(
            doc,
            view,
            ("Statement", "RCM", "Not answered"),
            position["pending"],
            lambda cell, e: _set_text(cell, ", ".join(e["not_answered"])),
        )
    else:
        doc.add_paragraph("None.")

    if comments:
        doc.add_heading(COMMENTS_SECTION, level=1)
        doc.add_paragraph(
            "Comments by observers and the Secretariat. They are not answers and do not count "
            "in the consensus."
        )
        _comments_table(doc, view, comments)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


_STATUS_ORDER = (
    consult.Status.REAFFIRMED,
    consult.Status.TO_BE_UPDATED,
    consult.Status.CONTESTED,
    consult.Status.PENDING,
)


class _View:
    """What every table needs to print a statement row."""

    def __init__(
        self,
        statements: dict[str, Statement],
        labels: dict[str, str],
        answers: dict[str, dict[str, str | None]],
        silence: bool,
    ) -> None:
        self.statements = statements
        self.labels = labels
        self.answers = answers
        self.silence = silence

    def countries_cell(self, cell: Any, entry: dict[str, Any]) -> None:
        given = self.answers.get(entry["id"], {})
        groups: dict[str, list[str]] = {}
        for country, value in given.items():
            groups.setdefault(value or "", []).append(country)
        if set(groups) == {consult.OpinionValue.VALID.value}:
            _set_text(cell, f"All {len(given)} Member Countries: valid")
            return
        lines = []
        for value, heading in (
            (consult.OpinionValue.VALID.value, "Valid"),
            (consult.OpinionValue.ABSTAIN.value, "Abstained"),
            ("", "No answer (silence counts as consent)"),
        ):
            if groups.get(value):
                lines.append((heading, ", ".join(groups[value])))
        _labelled(cell, lines)


def _method(rnd: dict[str, Any], silence_now: bool) -> str:
    members = ", ".join(f"{c.name_en} ({c.iso3})" for c in taxonomy.countries() if c.member)
    text = (
        f"The RCM decides by consensus. Each statement's status is decided over the "
        f"{len(consult.member_countries())} Member Countries ({members}), in this order: "
        "contested if any country answered that it is no longer valid; otherwise pending if any "
        "country has not answered; otherwise to be updated if any country proposed a change; "
        "otherwise reaffirmed. An abstention does not block consensus. An answer given before "
        "the statement was reworded still counts, and is marked with the version of the wording "
        "it answered. "
    )
    if not rnd["silence_is_consent"]:
        return text + (
            "In this round silence does not count as consent: a statement stays pending until "
            "every Member Country has answered."
        )
    deadline = rnd["deadline"]
    if silence_now:
        return text + (
            f"In this round silence counts as consent after the deadline ({deadline}), which has "
            "passed: a country that has not answered does not keep a statement pending."
        )
    return text + (
        f"In this round silence counts as consent once the deadline ({deadline or 'none set'}) "
        "has passed; until then a statement stays pending while a country has not answered."
    )


def wording_changed(entry: dict[str, Any]) -> str:
    """The note of a statement reworded after some countries answered it."""
    answered = "; ".join(
        f"{c} answered version {v}" for c, v in sorted(entry["earlier_wording"].items())
    )
    changed = entry.get("wording_changed_on") or "a date not recorded"
    return f"The wording changed on {changed} (now version {entry['version']}): {answered}."


def _earlier_total(totals: dict[str, int]) -> str:
    if not totals["answers"]:
        return "none"
    answers = "1 answer is" if totals["answers"] == 1 else f"{totals['answers']} answers are"
    statements = (
        "1 statement" if totals["statements"] == 1 else f"{totals['statements']} statements"
    )
    return (
        f"{answers} to an earlier wording than the statement's current one ({statements}); "
        "they still count, and are marked in the tables"
    )


def _theme_heading(section: dict[str, Any]) -> str:
    if not section["theme"]:
        return "Statements not filed under a theme"
    return f"TS{section['theme']} {section['title']}".strip()


def _category_rank(category: str) -> tuple[int, str]:
    rank = _CATEGORY_ORDER.index(category) if category in _CATEGORY_ORDER else len(_CATEGORY_ORDER)
    return rank, category


def _plural(label: str) -> str:
    return label if label.endswith("s") or label == "Unassigned" else label + "s"


def _colour(category: str | None) -> str | None:
    try:
        return CATEGORY_COLOURS[Category(category)] if category else None
    except ValueError:  # "unassigned", or a name the taxonomy no longer has
        return None


def _table(
    doc: Any,
    view: _View,
    headers: Sequence[str],
    entries: Iterable[dict[str, Any]],
    third: Any,
) -> None:
    table = _new_table(doc, headers)
    for e in entries:
        cells = table.add_row().cells
        _statement_cell(cells[0], view.statements.get(e["id"]), e["text"])
        _set_text(cells[1], view.labels.get(e["meeting"], e["meeting"]))
        cells[1].add_paragraph(e["id"])
        third(cells[2], e)
        if e.get("earlier_wording"):
            cells[2].add_paragraph().add_run(wording_changed(e)).italic = True
        _finish_row(cells, _colour(e.get("category")))


def _comments_table(doc: Any, view: _View, comments: list[dict[str, Any]]) -> None:
    table = _new_table(doc, ("Comment", "Statement", "By"))
    for c in comments:
        s = view.statements.get(c["statement_id"])
        cells = table.add_row().cells
        _set_text(cells[0], c["text"])
        _set_text(cells[1], c["statement_id"])
        if s is not None:
            cells[1].add_paragraph(view.labels.get(s.meeting, s.meeting))
        _set_text(cells[2], c["author"])
        cells[2].add_paragraph(str(c["at"])[:10])
        _finish_row(cells, _colour(s.category.value if s and s.category else None))


def _new_table(doc: Any, headers: Sequence[str]) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    # LibreOffice lays a table out from its grid, Word from the cells' widths: set both.
    for column, width in zip(table.columns, _WIDTHS_CM, strict=False):
        column.width = Cm(width)
    row = table.rows[0]
    for cell, header in zip(row.cells, headers, strict=True):
        cell.paragraphs[0].add_run(header).bold = True
    # Repeat the header on every page the table runs over.
    tr_pr = row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    _finish_row(row.cells, None)
    return table


def _finish_row(cells: Sequence[Any], colour: str | None) -> None:
    from docx.oxml import OxmlElement
    from docx.shared import Cm

    # A statement's row stays on one page, its text beside its meeting and answers.
    tr_pr = cells[0]._tc.getparent().get_or_add_trPr()
    if not tr_pr.xpath("w:cantSplit"):
        tr_pr.insert(0, OxmlElement("w:cantSplit"))
    for cell, width in zip(cells, _WIDTHS_CM, strict=False):
        cell.width = Cm(width)
        if colour:
            shade(cell, colour)


def _set_text(cell: Any, text: str) -> None:
    cell.paragraphs[0].add_run(text)


def _statement_cell(cell: Any, s: Statement | None, fallback: str) -> None:
    if s is None or not s.items:
        _set_text(cell, s.text if s is not None else fallback)
        return
    if s.heading:
        cell.paragraphs[0].add_run(s.heading).bold = True
    for i, item in enumerate(s.items):
        if i == 0 and not s.heading:
            cell.paragraphs[0].style = "List Bullet"
            _set_text(cell, item)
        else:
            cell.add_paragraph(item, style="List Bullet")


def _by_country(cell: Any, texts: dict[str, str]) -> None:
    _labelled(cell, sorted(texts.items()))


def _labelled(cell: Any, lines: Sequence[tuple[str, str]]) -> None:
    for i, (label, text) in enumerate(lines):
        p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        p.add_run(f"{label}: ").bold = True
        p.add_run(text)
