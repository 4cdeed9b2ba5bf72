"""Keeps the search index (``statement_search``) in step with statements and placements. Called in
the same transaction as every write that changes a statement's text, category or placements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from rcm.analyze import index_body
from rcm.store import schema as t

MAX_SUBTHEMES = 10  # per theme, for the sub-theme bit mask


def theme_bit(theme: int) -> int:
    return 1 << (theme - 1)


def subtheme_bit(theme: int, order: int) -> int:
    if not 1 <= order <= MAX_SUBTHEMES:
        raise ValueError(f"sub-theme {order} of TS{theme}: at most {MAX_SUBTHEMES} per theme")
    return 1 << ((theme - 1) * MAX_SUBTHEMES + order - 1)


def bits(mask: int) -> list[int]:
    """Theme numbers in a theme mask."""
    return [i + 1 for i in range(mask.bit_length()) if mask >> i & 1]


def subtheme_pairs(mask: int) -> list[tuple[int, int]]:
    return [divmod(i, MAX_SUBTHEMES) for i in range(mask.bit_length()) if mask >> i & 1]


def refresh(conn: Connection, statement_ids: Iterable[str] | None = None) -> int:
    """Rewrite the index rows of ``statement_ids`` (all statements when None). Returns the count."""
    st, pl, pt, mt = t.statements, t.placements, t.placement_themes, t.meetings
    query = select(
        st.c.id, st.c.text, st.c.text_es, st.c.category, mt.c.number, mt.c.code, mt.c.year
    ).join(mt, mt.c.code == st.c.meeting)
    ids = None if statement_ids is None else sorted(set(statement_ids))
    if ids is not None:
        if not ids:
            return 0
        query = query.where(st.c.id.in_(ids))
        conn.execute(delete(t.statement_search).where(t.statement_search.c.statement_id.in_(ids)))
    else:
        conn.execute(delete(t.statement_search))
    facets: dict[str, list[int]] = {}
    placement_query = select(pl.c.statement_id, pl.c.theme, pl.c.subtheme)
    xref_query = select(pl.c.statement_id, pt.c.theme).join(pt, pt.c.placement_id == pl.c.id)
    if ids is not None:
        placement_query = placement_query.where(pl.c.statement_id.in_(ids))
        xref_query = xref_query.where(pl.c.statement_id.in_(ids))
    for sid, theme, order in conn.execute(placement_query):
        f = facets.setdefault(sid, [0, 0, 0])
        f[0] |= theme_bit(theme)
        f[1] |= subtheme_bit(theme, order)
    for sid, theme in conn.execute(xref_query):
        facets.setdefault(sid, [0, 0, 0])[2] |= theme_bit(theme)
    rows: list[dict[str, Any]] = []
    for sid, text, text_es, category, number, code, year in conn.execute(query):
        themes, subthemes, xrefs = facets.get(sid, [0, 0, 0])
        rows.append(
            {
                "statement_id": sid,
                "body": index_body(text, text_es),
                "meeting": number,
                "meeting_code": code,
                "year": year,
                "category": category,
                "themes": themes,
                "subthemes": subthemes,
                "xrefs": xrefs,
                "n_themes": themes.bit_count(),
            }
        )
    if rows:
        conn.execute(insert(t.statement_search), rows)
    return len(rows)
