"""Exports of a compendium. JSON follows the "rcm-compendium/1" contract (README: "JSON export")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rcm.export.cells import csv_text
from rcm.model import Compendium, Meeting, ObjectiveLink, Placement, Statement, span_text
from rcm.serialize import placement_dict, statement_dict

__all__ = [
    "SCHEMA",
    "compendium_document",
    "csv_row",
    "placement_dict",
    "statement_dict",
    "to_csv",
    "to_json",
]

SCHEMA = "rcm-compendium/1"


def compendium_document(c: Compendium) -> dict[str, Any]:
    """The whole compendium as one JSON-ready document."""
    meetings = {m.code: m for m in c.meetings}
    titles = {(s.theme, s.order): s.title for th in c.themes for s in th.subthemes}
    by_statement: dict[str, list[Placement]] = {}
    for p in c.placements:
        by_statement.setdefault(p.statement_id, []).append(p)
    objectives: dict[str, list[ObjectiveLink]] = {}
    for x in sorted(c.objective_links, key=lambda x: (x.statement_id, x.rank)):
        objectives.setdefault(x.statement_id, []).append(x)
    documents = c.documents()
    meeting_sources = _meeting_sources(c)
    return {
        "schema": SCHEMA,
        "source": {
            "name": c.source.name,
            "sha256": c.source.sha256,
            "title": c.source.title,
            "date": c.source.date,
            "lines": c.source.lines,
        },
        "categories": [
            {"name": ci.category.value, "label": ci.label, "definition": ci.definition}
            for ci in c.categories
        ],
        # Additive (still "rcm-compendium/1"): the documents the statements come from, each
        # statement's and each meeting's ``source`` naming one by its key (docs/json-export.md).
        "sources": [d.as_dict() for d in documents],
        "covers": span_text(c.span()),
        "meetings": [{**m.as_dict(), "source": meeting_sources.get(m.code)} for m in c.meetings],
        "themes": [
            {
                "number": th.number,
                "code": th.code,
                "title": th.title,
                "un_title": th.un_title,
                "consultation": th.consultation,
                "subthemes": [
                    {"order": s.order, "title": s.title, "page": s.page} for s in th.subthemes
                ],
            }
            for th in c.themes
        ],
        "statements": [
            statement_dict(
                s,
                meetings[s.meeting],
                by_statement.get(s.id, []),
                titles,
                objectives.get(s.id, []),
                document=c.document_of(s.id),
            )
            for s in c.statements
        ],
    }


def _meeting_sources(c: Compendium) -> dict[str, str]:
    """Each meeting's document (of those listed): as the store knows it, else its first
    statement's; a meeting none of whose statements is here has none."""
    known = c.provenance.meetings if c.provenance else {}
    listed = {d.key for d in c.documents()}
    out: dict[str, str] = {}
    for s in c.statements:
        key = known.get(s.meeting)
        out.setdefault(s.meeting, key if key in listed else c.document_of(s.id).key)
    return out


def to_json(c: Compendium) -> str:
    return json.dumps(compendium_document(c), ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = [
    "id",
    "meeting",
    "meeting_label",
    "year",
    "category",
    "category_source",
    "gcm_objectives",
    "themes",
    "subthemes",
    "also_relevant",
    "notes",
    "heading",
    "text",
]


def to_csv(c: Compendium) -> str:
    """One row per statement (as a spreadsheet user expects); its placements joined with " | ".
    Text that a spreadsheet would run as a formula is written with a quote in front
    (``rcm.export.cells.csv_cell``)."""
    meetings = {m.code: m for m in c.meetings}
    objectives: dict[str, list[ObjectiveLink]] = {}
    for x in sorted(c.objective_links, key=lambda x: (x.statement_id, x.rank)):
        objectives.setdefault(x.statement_id, []).append(x)
    titles = {(s.theme, s.order): s.title for th in c.themes for s in th.subthemes}
    rows = [
        csv_row(s, c.placements_of(s.id), meetings[s.meeting], titles, objectives.get(s.id, []))
        for s in c.statements
    ]
    return csv_text(CSV_COLUMNS, rows)


def csv_row(
    s: Statement,
    placements: Sequence[Placement],
    meeting: Meeting,
    titles: Mapping[tuple[int, int], str],
    objectives: Sequence[ObjectiveLink],
) -> list[object]:
    """A statement's CSV row (``CSV_COLUMNS``): the one definition for ``rcm export --format
    csv`` and /search.csv. ``titles``: the subthemes' titles by (theme, order); ``objectives``:
    the statement's GCM objective links, by rank."""
    also = sorted({t for p in placements for t in p.also_relevant})
    return [
        s.id,
        meeting.number,
        meeting.label,
        meeting.year,
        s.category.value if s.category else "",
        s.category_source.value if s.category_source else "",
        " ".join(f"{x.objective}{'' if x.source.value == 'curated' else '?'}" for x in objectives),
        " | ".join(f"TS{p.theme}" for p in placements),
        " | ".join(titles[(p.theme, p.subtheme)] for p in placements),
        " ".join(f"TS{t}" for t in also),
        " | ".join(p.note or "" for p in placements),
        s.heading or "",
        s.text if not s.items else "\n".join([f"{s.heading}:", *(f"- {i}" for i in s.items)]),
    ]
