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
from rcm.i18n import Words, words
from rcm.model import Category, Statement
from rcm.taxonomy import CATEGORY_COLOURS

__all__ = ["SECTIONS", "position_docx", "wording_changed"]

SECTIONS = ("Method", "Reaffirmed", "To be updated", "Contested", "Pending")
COMMENTS_SECTION = "Observers' comments"

_CATEGORY_ORDER = [c.value for c in CATEGORY_COLOURS] + ["unassigned"]
# The schema's order of a cell's properties (CT_TcPr): Word rejects a w:shd placed after these.
# Statement | RCM | third column, in centimetres: fits a portrait Letter or A4 page.
_WIDTHS_CM = (9.6, 2.4, 4.5)


def position_docx(data: PositionDocument, lang: str = "en") -> bytes:
    """The regional position of a round as .docx bytes, from its data
    (``rcm.consult.position_document``); ``lang="es"``: in Spanish (the statements in their
    Spanish wording where they have one, else in English, marked)."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    w = words(lang)

    day, position, status = data.day, data.position, data.status
    rnd = position["round"]
    answers = {s["id"]: s["answers"] for s in status["statements"]}
    comments = data.comments
    view = _View(
        data.statements,
        data.meeting_labels,
        answers,
        bool(status["silence_counts_as_no_objection"]),
        w,
    )

    doc = Document()
    props = doc.core_properties
    props.title = w("Regional position: {title}", title=rnd["title"])
    props.subject = w("RCM consultation round {id}", id=rnd["id"])
    props.author = "RCM Compendium"
    props.created = datetime(day.year, day.month, day.day)
    if w.spanish:
        props.language = "es"

    doc.add_paragraph(rnd["title"], style="Title")
    doc.add_paragraph(
        w(
            "Regional position of the Regional Conference on Migration, consultation round {id}",
            id=rnd["id"],
        ),
        style="Subtitle",
    )
    deadline = rnd["deadline"] or w("none")
    state = w.status(rnd["state"])
    if rnd["state"] == "open":
        state += w(" (answers may still change this position)")
    totals = position["totals"]
    for label, value in (
        (w("Purpose"), rnd["purpose"] or w("not stated")),
        (w("Scope"), rnd["scope"]),
        (w("Deadline"), deadline),
        (w("State"), state),
        (w("Statements"), str(rnd["statements"])),
        (
            w("Status"),
            ", ".join(f"{totals.get(s.value, 0)} {w.status(s.value)}" for s in _STATUS_ORDER),
        ),
        (w("Answers to an earlier wording"), _earlier_total(position["earlier_wording"], w)),
        (w("Date generated"), day.isoformat()),
    ):
        p = doc.add_paragraph()
        p.add_run(f"{label}: ").bold = True
        p.add_run(value)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    doc.add_heading(w("Method"), level=1)
    doc.add_paragraph(_method(rnd, view.silence, w))

    doc.add_heading(w("Reaffirmed"), level=1)
    doc.add_paragraph(
        w(
            "Statements no Member Country objects to or proposes to change (an abstention does "
            "not block, nor silence where the round counts it as consent), by theme and category."
        )
    )
    categories = data.category_labels
    any_reaffirmed = False
    for section in position["themes"]:
        groups = section["reaffirmed"]
        if not groups:
            continue
        any_reaffirmed = True
        doc.add_heading(_theme_heading(section, w), level=2)
        for cat in sorted(groups, key=_category_rank):
            entries = groups[cat]
            name = w.category(cat, categories.get(cat, cat.title()))
            doc.add_heading(f"{_plural(name, w)} ({len(entries)})", level=3)
            _table(doc, view, _headers(w, "Countries"), entries, view.countries_cell)
    if not any_reaffirmed:
        doc.add_paragraph(w("None."))

    doc.add_heading(w("To be updated"), level=1)
    doc.add_paragraph(
        w(
            "No country objects, and at least one proposed new wording. Every proposal is given, "
            "by country."
        )
    )
    any_update = False
    for section in position["themes"]:
        if not section["to_be_updated"]:
            continue
        any_update = True
        doc.add_heading(_theme_heading(section, w), level=2)
        _table(
            doc,
            view,
            _headers(w, "Proposed wording"),
            section["to_be_updated"],
            lambda cell, e: _by_country(cell, e["proposed_wording"], w.lang),
        )
    if not any_update:
        doc.add_paragraph(w("None."))

    doc.add_heading(w("Contested"), level=1)
    doc.add_paragraph(
        w(
            "At least one Member Country answered that the statement is no longer valid; its "
            "reason is given. These statements are not part of the regional position."
        )
    )
    if position["contested"]:
        _table(
            doc,
            view,
            _headers(w, "Objections"),
            position["contested"],
            lambda cell, e: _by_country(cell, e["reasons"], w.lang),
        )
    else:
        doc.add_paragraph(w("None."))

    doc.add_heading(w("Pending"), level=1)
    doc.add_paragraph(
        w("Not every Member Country has answered yet; no position can be stated for these.")
    )
    if position["pending"]:
        _table(
            doc,
            view,
            _headers(w, "Not answered"),
            position["pending"],
            lambda cell, e: _set_text(cell, country_list(e["not_answered"], w.lang)),
        )
    else:
        doc.add_paragraph(w("None."))

    if comments:
        doc.add_heading(w(COMMENTS_SECTION), level=1)
        doc.add_paragraph(
            w(
                "Comments by observers and the Secretariat. They are not answers and do not "
                "count in the consensus."
            )
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
        w: Words,
    ) -> None:
        self.statements = statements
        self.labels = labels
        self.answers = answers
        self.silence = silence
        self.w = w

    def meeting(self, code: str) -> str:
        return self.w.meeting(self.labels.get(code, code))

    def countries_cell(self, cell: Any, entry: dict[str, Any]) -> None:
        given = self.answers.get(entry["id"], {})
        groups: dict[str, list[str]] = {}
        for country, value in given.items():
            groups.setdefault(value or "", []).append(country)
        w = self.w
        if set(groups) == {consult.OpinionValue.VALID.value}:
            _set_text(cell, w("All {n} Member Countries: valid", n=len(given)))
            return
        lines = []
        for value, heading in (
            (consult.OpinionValue.VALID.value, "Valid"),
            (consult.OpinionValue.ABSTAIN.value, "Abstained"),
            ("", "No answer (silence counts as consent)"),
        ):
            if groups.get(value):
                lines.append((w(heading), country_list(groups[value], w.lang)))
        _labelled(cell, lines)


def _method(rnd: dict[str, Any], silence_now: bool, w: Words) -> str:
    members = ", ".join(
        f"{c.name_es if w.spanish else c.name_en} ({c.iso3})"
        for c in taxonomy.countries()
        if c.member
    )
    text = w(
        "The RCM decides by consensus. Each statement's status is decided over the "
        "{n} Member Countries ({members}), in this order: "
        "contested if any country answered that it is no longer valid; otherwise pending if any "
        "country has not answered; otherwise to be updated if any country proposed a change; "
        "otherwise reaffirmed. An abstention does not block consensus. An answer given before "
        "the statement was reworded still counts, and is marked with the version of the wording "
        "it answered. ",
        n=len(consult.member_countries()),
        members=members,
    )
    if not rnd["silence_is_consent"]:
        return text + w(
            "In this round silence does not count as consent: a statement stays pending until "
            "every Member Country has answered."
        )
    deadline = rnd["deadline"]
    if silence_now:
        return text + w(
            "In this round silence counts as consent after the deadline ({deadline}), which has "
            "passed: a country that has not answered does not keep a statement pending.",
            deadline=deadline,
        )
    return text + w(
        "In this round silence counts as consent once the deadline ({deadline}) "
        "has passed; until then a statement stays pending while a country has not answered.",
        deadline=deadline or w("none set"),
    )


def wording_changed(entry: dict[str, Any], w: Words | None = None, *, named: bool = False) -> str:
    """The note of a statement reworded after some countries answered it; ``named``: the
    countries by name in ``w``'s language with their code in brackets, else by code."""
    w = w or words()
    answered = "; ".join(
        w(
            "{country} answered version {version}",
            country=country_label(c, w.lang) if named else c,
            version=v,
        )
        for c, v in sorted(entry["earlier_wording"].items())
    )
    changed = entry.get("wording_changed_on") or w("a date not recorded")
    return w(
        "The wording changed on {changed} (now version {version}): {answered}.",
        changed=changed,
        version=entry["version"],
        answered=answered,
    )


def country_label(iso3: str, lang: str) -> str:
    """A country named in ``lang`` with its code in brackets ("México (MEX)"); an unknown code
    as it is."""
    name = taxonomy.country_name(iso3, lang)
    return name if name == iso3 else f"{name} ({iso3})"


# A list of countries longer than this names them without their codes: it must fit the
# position's narrow third column.
_CODES_UP_TO = 3


def country_list(isos: Sequence[str], lang: str) -> str:
    """Countries named in ``lang``, in the order given: with their codes in brackets when the
    list is short, by name alone when it is long."""
    if len(isos) <= _CODES_UP_TO:
        return ", ".join(country_label(c, lang) for c in isos)
    return ", ".join(taxonomy.country_name(c, lang) for c in isos)


def _earlier_total(totals: dict[str, int], w: Words) -> str:
    if not totals["answers"]:
        return w("none")
    answers = w.n("1 answer is", "{n} answers are", totals["answers"])
    statements = w.n("1 statement", "{n} statements", totals["statements"])
    return w(
        "{answers} to an earlier wording than the statement's current one ({statements}); "
        "they still count, and are marked in the tables",
        answers=answers,
        statements=statements,
    )


def _theme_heading(section: dict[str, Any], w: Words) -> str:
    if not section["theme"]:
        return w("Statements not filed under a theme")
    return f"TS{section['theme']} {w.theme(section['theme'], section['title'])}".strip()


def _headers(w: Words, third: str) -> tuple[str, str, str]:
    return (w.one_statement, w("RCM"), w(third))


def _category_rank(category: str) -> tuple[int, str]:
    rank = _CATEGORY_ORDER.index(category) if category in _CATEGORY_ORDER else len(_CATEGORY_ORDER)
    return rank, category


def _plural(label: str, w: Words) -> str:
    if w.spanish:
        return w.ctx("category plural", label)
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
        _statement_cell(cells[0], view.statements.get(e["id"]), e["text"], view.w)
        _set_text(cells[1], view.meeting(e["meeting"]))
        cells[1].add_paragraph(e["id"])
        third(cells[2], e)
        if e.get("earlier_wording"):
            cells[2].add_paragraph().add_run(wording_changed(e, view.w, named=True)).italic = True
        _finish_row(cells, _colour(e.get("category")))


def _comments_table(doc: Any, view: _View, comments: list[dict[str, Any]]) -> None:
    w = view.w
    table = _new_table(doc, (w("Comment"), w.one_statement, w("By")))
    for c in comments:
        s = view.statements.get(c["statement_id"])
        cells = table.add_row().cells
        _set_text(cells[0], c["text"])
        _set_text(cells[1], c["statement_id"])
        if s is not None:
            cells[1].add_paragraph(view.meeting(s.meeting))
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


def _statement_cell(cell: Any, s: Statement | None, fallback: str, w: Words) -> None:
    if w.spanish and s is not None and (s.text_es or s.lang != "es"):
        text, lang = w.statement_text(s)
        _set_text(cell, text)
        if lang != "es":
            mark = cell.add_paragraph().add_run(w.english_mark())
            mark.italic = True
        return
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


def _by_country(cell: Any, texts: dict[str, str], lang: str) -> None:
    _labelled(cell, [(country_label(c, lang), text) for c, text in sorted(texts.items())])


def _labelled(cell: Any, lines: Sequence[tuple[str, str]]) -> None:
    for i, (label, text) in enumerate(lines):
        p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        p.add_run(f"{label}: ").bold = True
        p.add_run(text)
