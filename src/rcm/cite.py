"""A ready citation line for a statement."""

from __future__ import annotations

from rcm.model import Meeting, SourceInfo, Statement


def citation(statement: Statement, meeting: Meeting, source: SourceInfo | None = None) -> str:
    year = f" ({meeting.year})" if meeting.year else ""
    line = f"Regional Conference on Migration, {meeting.label}{year}, statement {statement.id}"
    if source and source.title:
        date = f", {source.date}" if source.date else ""
        line += f". In: RCM Technical Secretariat, {source.title}{date}"
    return line + "."
