"""The one way a statement becomes JSON-ready data: the JSON export (``rcm export``), ``rcm show
--json``, the API and the web pages' data functions all call :func:`statement_dict`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rcm.model import Meeting, ObjectiveLink, Placement, SourceDocument, Statement

__all__ = ["objective_dict", "placement_dict", "statement_dict"]


def placement_dict(p: Placement, subtheme_title: str) -> dict[str, Any]:
    """A placement as the JSON export and the API show it."""
    return {
        "theme": p.theme,
        "subtheme": subtheme_title,
        "subtheme_order": p.subtheme,
        "position": p.position,
        "also_relevant": list(p.also_relevant),
        "also_relevant_all": p.also_relevant_all,
        "note": p.note,
        "line": p.line,
    }


def objective_dict(x: ObjectiveLink) -> dict[str, Any]:
    """A link to a GCM objective."""
    return {"objective": x.objective, "source": x.source.value, "score": x.score}


def statement_dict(
    s: Statement,
    meeting: Meeting,
    placements: list[Placement],
    titles: dict[tuple[int, int], str],
    objectives: Iterable[ObjectiveLink] | None = None,
    versions: Sequence[Mapping[str, Any]] | None = None,
    document: SourceDocument | None = None,
) -> dict[str, Any]:
    """A statement with its placements (and, given them, its GCM objectives, its earlier wordings
    (``Store.earlier_versions``) and the key of the document it comes from as ``source``) as
    JSON-ready data. ``version`` is the wording's version; ``retired`` (a date) is there only for a
    retired statement. ``text`` is in ``text_lang``; ``text_es`` and ``text_en`` are the Spanish and
    English wordings where known (one of them is ``text`` itself)."""
    data = {
        "id": s.id,
        "meeting": meeting.number,
        "meeting_code": s.meeting,
        "meeting_label": meeting.label,
        "meeting_kind": meeting.kind.value,
        "year": meeting.year,
        "text": s.text,
        "heading": s.heading,
        "items": list(s.items),
        "lang": s.lang,
        "text_lang": s.lang,  # the language of "text" (en, or es for a Spanish declaration's)
        "text_es": s.text_es,
        "text_en": s.text_en,
        "category": s.category.value if s.category else None,
        "category_source": s.category_source.value if s.category_source else None,
        "category_confidence": s.category_confidence,
        "placements": [
            placement_dict(p, titles.get((p.theme, p.subtheme), "")) for p in placements
        ],
    }
    data["version"] = s.version
    if s.retired_at is not None:
        data["retired"] = s.retired_at.date().isoformat()
    if objectives is not None:
        data["objectives"] = [objective_dict(x) for x in objectives]
    if versions is not None:
        data["versions"] = [dict(v) for v in versions]
    if document is not None:
        data["source"] = document.key
    return data
