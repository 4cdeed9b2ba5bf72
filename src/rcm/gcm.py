"""The Global Compact for Migration view of the compendium: which objectives the RCM's statements
serve, and the coverage matrix (objectives × thematic sessions: how many statements)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from rcm.model import CategorySource, ObjectiveLink
from rcm.store import Store
from rcm.store import schema as t


@dataclass(frozen=True)
class CoverageRow:
    objective: int
    title: str
    by_theme: dict[int, int]  # theme -> distinct statements
    statements: int  # distinct statements linked to the objective, all themes
    statement_ids: tuple[str, ...]


@dataclass(frozen=True)
class Coverage:
    themes: dict[int, str]
    rows: tuple[CoverageRow, ...]
    source: str  # "all" or "curated"
    statements: int  # statements with at least one link counted

    @property
    def uncovered(self) -> tuple[int, ...]:
        return tuple(r.objective for r in self.rows if r.statements == 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "themes": {str(k): v for k, v in self.themes.items()},
            "statements_linked": self.statements,
            "uncovered": list(self.uncovered),
            "objectives": [
                {
                    "number": r.objective,
                    "title": r.title,
                    "by_theme": {str(k): v for k, v in r.by_theme.items()},
                    "statements": r.statements,
                    "statement_ids": list(r.statement_ids),
                }
                for r in self.rows
            ],
        }


SOURCES = ("all", "curated")


def coverage(store: Store, source: str = "all") -> Coverage:
    """Objectives × themes. ``source="curated"`` counts only links a person chose."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    so, pl = t.statement_objectives, t.placements
    query = select(so.c.objective, so.c.statement_id, pl.c.theme).join(
        pl, pl.c.statement_id == so.c.statement_id
    )
    if source == "curated":
        query = query.where(so.c.source == CategorySource.CURATED.value)
    with store.connection() as conn:
        themes = {
            r.number: r.title for r in conn.execute(select(t.themes).order_by(t.themes.c.number))
        }
        objectives = conn.execute(
            select(t.gcm_objectives).order_by(t.gcm_objectives.c.number)
        ).all()
        cells: dict[tuple[int, int], set[str]] = {}
        per_objective: dict[int, set[str]] = {}
        for objective, sid, theme in conn.execute(query):
            cells.setdefault((objective, theme), set()).add(sid)
            per_objective.setdefault(objective, set()).add(sid)
    rows = tuple(
        CoverageRow(
            objective=o.number,
            title=o.title,
            by_theme={th: len(cells.get((o.number, th), ())) for th in themes},
            statements=len(per_objective.get(o.number, ())),
            statement_ids=tuple(sorted(per_objective.get(o.number, ()))),
        )
        for o in objectives
    )
    linked = set().union(*per_objective.values()) if per_objective else set()
    return Coverage(themes=themes, rows=rows, source=source, statements=len(linked))


def objective_links(store: Store, statement_id: str) -> list[ObjectiveLink]:
    so = t.statement_objectives
    with store.connection() as conn:
        return [
            ObjectiveLink(r.statement_id, r.objective, CategorySource(r.source), r.rank, r.score)
            for r in conn.execute(
                select(so).where(so.c.statement_id == statement_id).order_by(so.c.rank)
            )
        ]


def objective_titles(store: Store) -> dict[int, str]:
    with store.connection() as conn:
        return {r.number: r.title for r in conn.execute(select(t.gcm_objectives))}
