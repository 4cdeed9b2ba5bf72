"""A ready citation for a statement, naming the document it comes from: the compilation it was
read from, or the declaration of its meeting (title, place, date, reference).

Two formats: :func:`citation` (one line of text: ``rcm show``, the statement page, the JSON) and
:func:`citation_data` (the same parts as fields, for the API and other citation tools)."""

from __future__ import annotations

from typing import Any

from rcm.model import (
    DocumentKind,
    Meeting,
    SourceDocument,
    SourceInfo,
    Statement,
    compilation_document,
    span_text,
)
from rcm.store import Store

__all__ = [
    "citation",
    "citation_data",
    "document_line",
    "document_said",
    "meeting_line",
    "sources_report",
]


def _document(document: SourceDocument | SourceInfo | None) -> SourceDocument | None:
    if isinstance(document, SourceInfo):
        return compilation_document(document)
    return document


def _in(document: SourceDocument) -> str:
    """What follows "In: " — who issued the document, its title, where and when, its symbol."""
    if document.kind is DocumentKind.COMPILATION:
        if not document.title:
            return ""
        date = f", {document.date}" if document.date else ""
        return f"{document.author}, {document.title}{date}"
    parts = [document.title or f"Declaration of the {document.meeting_label or 'meeting'}"]
    if document.place:
        parts.append(document.place)
    when = document.date or (str(document.year) if document.year else "")
    if when:
        parts.append(when)
    if document.reference:
        parts.append(document.reference)
    return ", ".join(parts)


def citation(
    statement: Statement, meeting: Meeting, document: SourceDocument | SourceInfo | None = None
) -> str:
    """ "Regional Conference on Migration, XIX RCM (2014), statement XIX-0021. In: RCM Technical
    Secretariat, Compilation …, April 2017." — or, for a statement accepted from a declaration,
    "… In: Declaration of …, San Salvador, El Salvador, 2017-06-15, <reference>." """
    year = f" ({meeting.year})" if meeting.year else ""
    line = f"Regional Conference on Migration, {meeting.label}{year}, statement {statement.id}"
    doc = _document(document)
    source = _in(doc) if doc else ""
    if source:
        line += f". In: {source}"
    return line + "."


def citation_data(
    statement: Statement, meeting: Meeting, document: SourceDocument | SourceInfo | None = None
) -> dict[str, Any]:
    """The citation's parts as fields: the statement, its meeting and the document it comes from
    (None when not known), with the text line as ``text``."""
    doc = _document(document)
    return {
        "text": citation(statement, meeting, doc),
        "statement": statement.id,
        "meeting": meeting.label,
        "year": meeting.year,
        "place": meeting.place,
        "date": meeting.date,
        "document": doc.as_dict() if doc else None,
    }


def meeting_line(meeting: Meeting) -> str:
    """ "XIX RCM (2014)"; "Extraordinary Meeting of the XXV RCM (Virtual, 2020-05-12)"."""
    when = meeting.date or (str(meeting.year) if meeting.year else "")
    detail = ", ".join(x for x in (meeting.place, when) if x)
    return f"{meeting.label} ({detail})" if detail else meeting.label


def document_said(document: SourceDocument) -> str:
    """What a citation says of the document (who issued it, its title, where and when), else its
    title or its file's name."""
    return _in(document) or document.title or document.name


def document_line(document: SourceDocument) -> str:
    """The document for a person: its kind, what a citation says of it, its file."""
    kind = "compilation" if document.kind is DocumentKind.COMPILATION else "declaration"
    what = document_said(document)
    meeting = f" ({document.meeting_label})" if document.meeting_label else ""
    return f"{kind}{meeting}: {what} [file {document.name}, sha256 {document.sha256[:12]}…]"


def sources_report(store: Store) -> dict[str, Any]:
    """What the compendium in ``store`` comes from, for ``rcm stats``: the span it covers, each
    document with how many statements it gave, and each meeting's place, date and document."""
    provenance = store.provenance()
    meetings = store.meetings()
    years = {m.code: m.year for m in meetings}
    counts: dict[str, int] = {}
    for key in provenance.statements.values():
        counts[key] = counts.get(key, 0) + 1
    with_statements = {m["meeting"] for m in store.counts()["meetings"] if m["statements"]}
    found = [y for code, y in years.items() if code in with_statements and y is not None]
    documents = sorted(
        (d for d in provenance.documents.values() if counts.get(d.key)),
        key=lambda d: (d.kind is not DocumentKind.COMPILATION, d.key),
    )
    return {
        "covers": span_text((min(found), max(found)) if found else None),
        "sources": [d.as_dict() | {"statements": counts[d.key]} for d in documents],
        "meetings": {
            m.code: {"place": m.place, "date": m.date, "source": provenance.meetings.get(m.code)}
            for m in meetings
        },
    }
