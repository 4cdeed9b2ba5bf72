"""Which document each statement and each meeting comes from, read from the database.

A statement accepted from a declaration comes from that declaration (the corrected file, when the
declaration was replaced); a statement read from a compilation file from that file (``sources``
row); otherwise its meeting's document. A meeting's document is its declaration, else the
compilation file its statements were first read from, else its statements' most common document.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, select

from rcm.model import DocumentKind, Provenance, SourceDocument, SourceInfo, compilation_document
from rcm.store import schema as t

__all__ = ["read_provenance"]


def _compilation(r: Any) -> SourceDocument:
    info = SourceInfo(
        name=r.name, sha256=r.sha256, size=r.size, lines=r.lines, title=r.title, date=r.date
    )
    return compilation_document(info, key=f"compilation-{r.id}")


def _declaration(r: Any) -> SourceDocument:
    return SourceDocument(
        key=f"declaration-{r.id}",
        kind=DocumentKind.DECLARATION,
        title=r.title,
        name=r.name,
        sha256=r.sha256,
        date=r.date or None,
        year=r.year,
        lang=r.lang,
        place=r.place or None,
        meeting=r.meeting_code,
        meeting_label=r.meeting_label,
        reference=r.reference or None,
    )


def read_provenance(conn: Connection) -> Provenance:
    """Every statement's and every meeting's document, on an open connection."""
    sources = {r.id: r for r in conn.execute(select(t.sources))}
    declarations = {r.id: r for r in conn.execute(select(t.declarations))}

    def latest(declaration_id: int) -> int:
        """The declaration that corrected this one, and so on (a cycle stops where it closes)."""
        seen = {declaration_id}
        current = declaration_id
        while True:
            nxt = declarations[current].replaced_by
            if nxt is None or nxt not in declarations or nxt in seen:
                return current
            seen.add(nxt)
            current = nxt

    documents: dict[str, SourceDocument] = {}

    def of_source(source_id: int | None) -> str | None:
        if source_id is None or source_id not in sources:
            return None
        doc = _compilation(sources[source_id])
        documents.setdefault(doc.key, doc)
        return doc.key

    def of_declaration(declaration_id: int | None) -> str | None:
        if declaration_id is None or declaration_id not in declarations:
            return None
        doc = _declaration(declarations[latest(declaration_id)])
        documents.setdefault(doc.key, doc)
        return doc.key

    accepted = {
        r.statement_id: r.declaration_id
        for r in conn.execute(
            select(t.proposals.c.statement_id, t.proposals.c.declaration_id)
            .where(t.proposals.c.statement_id.is_not(None))
            .order_by(t.proposals.c.id)
        )
    }
    meeting_rows = {
        r.code: r
        for r in conn.execute(
            select(t.meetings.c.code, t.meetings.c.source_id, t.meetings.c.declaration_id)
        )
    }
    meetings: dict[str, str] = {}
    for code, r in meeting_rows.items():
        key = of_declaration(r.declaration_id) or of_source(r.source_id)
        if key is not None:
            meetings[code] = key
    statements: dict[str, str] = {}
    by_meeting: dict[str, Counter[str]] = {}
    for r in conn.execute(
        select(t.statements.c.id, t.statements.c.meeting, t.statements.c.source_id)
    ):
        key = (
            of_declaration(accepted.get(r.id)) or of_source(r.source_id) or meetings.get(r.meeting)
        )
        if key is not None:
            statements[r.id] = key
            by_meeting.setdefault(r.meeting, Counter())[key] += 1
    for code, counter in by_meeting.items():
        if code in meeting_rows and code not in meetings:
            meetings[code] = counter.most_common(1)[0][0]
    return Provenance(documents=documents, statements=statements, meetings=meetings)
