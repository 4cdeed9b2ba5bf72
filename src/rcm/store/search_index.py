"""Keeps the search index (``facet_combos``, ``statement_search``) in step with statements and
placements, in the same transaction as every write that changes a statement's text, category or
placements. See ``schema.py`` for the docid layout."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, insert, null, select, update
from sqlalchemy.exc import DBAPIError

from rcm.analyze import index_body
from rcm.errors import StoreError
from rcm.store import schema as t

MAX_SUBTHEMES = 10  # per theme, for the sub-theme bit mask
SEQ_BITS = 32
COMBO_BITS = 20
MEETING_SHIFT = SEQ_BITS + COMBO_BITS  # 52: meeting numbers up to 2047 fit in a signed 64-bit id
COMBO_MASK = (1 << COMBO_BITS) - 1
SEQ_MASK = (1 << SEQ_BITS) - 1


def theme_bit(theme: int) -> int:
    return 1 << (theme - 1)


def subtheme_bit(theme: int, order: int) -> int:
    if not 1 <= order <= MAX_SUBTHEMES:
        raise ValueError(f"sub-theme {order} of TS{theme}: at most {MAX_SUBTHEMES} per theme")
    return 1 << ((theme - 1) * MAX_SUBTHEMES + order - 1)


@cache
def bits(mask: int) -> tuple[int, ...]:
    """Theme numbers in a theme mask."""
    return tuple(i + 1 for i in range(mask.bit_length()) if mask >> i & 1)


@cache
def subtheme_pairs(mask: int) -> tuple[tuple[int, int], ...]:
    """(theme, order) pairs in a sub-theme mask."""
    return tuple(
        (i // MAX_SUBTHEMES + 1, i % MAX_SUBTHEMES + 1)
        for i in range(mask.bit_length())
        if mask >> i & 1
    )


def combo_of(docid: int) -> int:
    return (docid >> SEQ_BITS) & COMBO_MASK


class Combo(NamedTuple):
    """One combination of facet values shared by many statements (a row of facet_combos)."""

    id: int
    meeting: int
    meeting_code: str
    year: int | None
    category: str | None
    themes: int
    subthemes: int
    xrefs: int
    # A retired statement's combination (``n_themes`` -1): out of the default search.
    retired: bool = False

    @property
    def key(self) -> tuple[str, str | None, int, int, int, bool]:
        return (
            self.meeting_code,
            self.category,
            self.themes,
            self.subthemes,
            self.xrefs,
            self.retired,
        )


def load_combos(conn: Connection) -> dict[int, Combo]:
    # Read on every search: plain tuples rather than SQLAlchemy rows.
    rows = conn.exec_driver_sql(
        "SELECT id, meeting, meeting_code, year, category, themes, subthemes, xrefs, "
        "n_themes < 0 FROM facet_combos"
    )
    return {r[0]: Combo._make((*r[:8], bool(r[8]))) for r in rows}


class Indexer:
    """Buffers index rows, allocating combinations and docids; ``flush`` writes them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.combos = {c.key: c.id for c in load_combos(conn).values()}
        self.next_combo = max(self.combos.values(), default=0) + 1
        top = conn.scalar(select(func.max(t.statement_search.c.docid.op("&")(SEQ_MASK))))
        self.next_seq = (top or 0) + 1
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        statement_id: str,
        body: str,
        meeting: int,
        meeting_code: str,
        year: int | None,
        category: str | None,
        themes: int,
        subthemes: int,
        xrefs: int,
        retired: bool = False,
    ) -> None:
        key = (meeting_code, category, themes, subthemes, xrefs, retired)
        combo = self.combos.get(key)
        if combo is None:
            combo = self.next_combo
            if combo > COMBO_MASK:
                raise ValueError("more than 2^20 distinct facet combinations")
            self.conn.execute(
                insert(t.facet_combos).values(
                    id=combo,
                    meeting=meeting,
                    meeting_code=meeting_code,
                    year=year,
                    category=category,
                    themes=themes,
                    subthemes=subthemes,
                    xrefs=xrefs,
                    n_themes=-1 if retired else themes.bit_count(),
                )
            )
            self.combos[key] = combo
            self.next_combo += 1
        if not 0 <= meeting < 1 << (63 - MEETING_SHIFT) or self.next_seq > SEQ_MASK:
            raise ValueError(f"meeting {meeting} or statement count out of the docid's range")
        docid = meeting << MEETING_SHIFT | combo << SEQ_BITS | self.next_seq
        self.next_seq += 1
        self.rows.append({"docid": docid, "statement_id": statement_id, "body": body})

    def flush(self) -> int:
        n = len(self.rows)
        if self.rows:
            self.conn.execute(insert(t.statement_search), self.rows)
            self.rows = []
        bump_generation(self.conn)
        return n


def bump_generation(conn: Connection) -> None:
    """Tell readers that cached lookups are stale (call inside the writing transaction)."""
    conn.execute(update(t.index_state).values(generation=t.index_state.c.generation + 1))


def generation(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT generation FROM index_state").scalar() or 0)


# PostgreSQL's two ways of ranking (``index_state.ranking``): "gin", the GIN index finds the
# matches and ``ts_rank_cd`` ranks every one of them; "rum", a RUM index (the ``rum`` extension)
# also returns the matches ordered by its own rank (``tsv <=> q``), so that the top hits are read
# without ranking the rest. Both keep the GIN index, which counts the facets.
RANKINGS = ("gin", "rum")
RUM_INDEX = "ix_statement_search_rum"
RUM_DDL = (
    f"CREATE INDEX IF NOT EXISTS {RUM_INDEX} ON statement_search USING rum (tsv rum_tsvector_ops)"
)


def rum_available(conn: Connection) -> bool:
    """Whether the ``rum`` extension is (or can be) created in this PostgreSQL database: it is
    created here if installed on the server and we may (in a savepoint: a refusal changes
    nothing)."""
    if conn.dialect.name != "postgresql":
        return False
    installed = conn.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'"
    ).scalar()
    if not installed:
        return False
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS rum")
    except DBAPIError:  # e.g. not allowed to create extensions
        return False
    return True


# The ranking a migration records: GIN unless the deployment asks for RUM. RUM is opt-in because
# rum 1.3.13 (Debian 12's postgresql-15-rum) crashed the whole server (signal 11, every session
# lost) in its index scans at 1M statements under concurrent searches (bench/README.md, "RUM").
RANKING_ENV = "RCM_PG_RANKING"
DEFAULT_RANKING = "gin"


def wanted_ranking() -> str:
    """The ranking the deployment asks for (``RCM_PG_RANKING``: "gin", the default, or "rum")."""
    wanted = (os.environ.get(RANKING_ENV) or DEFAULT_RANKING).strip().lower()
    if wanted not in RANKINGS:
        raise StoreError(
            "%(env)s must be gin or rum, not %(value)s", env=RANKING_ENV, value=repr(wanted)
        )
    return wanted


def choose_ranking(conn: Connection, wanted: str | None = None) -> str:
    """Record the ranking asked for (``wanted``, else ``RCM_PG_RANKING``, else GIN) and build its
    index; RUM falls back to GIN where the extension cannot be created. Returns the choice. Called
    by migrations 0010 and 0017."""
    wanted = wanted or wanted_ranking()
    return use_ranking(conn, "rum" if wanted == "rum" and rum_available(conn) else "gin")


def use_ranking(conn: Connection, ranking: str) -> str:
    """Record ``ranking`` ("gin" or "rum") for PostgreSQL's searches, building the RUM index
    first when needed (the GIN index stays: it counts the facets). Raises ValueError for a ranking
    the database cannot do."""
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}")
    if conn.dialect.name != "postgresql":
        raise ValueError("the ranking is chosen on PostgreSQL only (SQLite ranks with bm25)")
    if ranking == "rum":
        if not rum_available(conn):
            raise ValueError("the rum extension is not available in this PostgreSQL")
        conn.exec_driver_sql(RUM_DDL)
    else:  # an unused RUM index would still be written to by every change
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {RUM_INDEX}")
    conn.execute(update(t.index_state).values(ranking=ranking))
    bump_generation(conn)
    return ranking


def state(conn: Connection) -> tuple[int, str | None]:
    """The index generation and PostgreSQL's ranking (None on SQLite), in one read."""
    row = conn.exec_driver_sql("SELECT generation, ranking FROM index_state").first()
    return (int(row[0] or 0), row[1]) if row else (0, None)


def refresh(
    conn: Connection, statement_ids: Iterable[str] | None = None, *, retirement: bool = True
) -> int:
    """Rewrite the index rows of ``statement_ids`` (all statements when None). Returns the count.
    ``retirement``: whether the schema has the statements' retirement (migration 0008), so that
    retired statements get their own combinations (False only for migrations before it, which
    also come before the statements' ``text_en``, migration 0010)."""
    st, pl, pt, mt = t.statements, t.placements, t.placement_themes, t.meetings
    query = select(
        st.c.id,
        st.c.text,
        st.c.text_es,
        st.c.lang,
        st.c.category,
        mt.c.number,
        mt.c.code,
        mt.c.year,
        st.c.retired_at if retirement else null().label("retired_at"),
        st.c.text_en if retirement else null().label("text_en"),
    ).join(mt, mt.c.code == st.c.meeting)
    ids = None if statement_ids is None else sorted(set(statement_ids))
    placement_query = select(pl.c.statement_id, pl.c.theme, pl.c.subtheme)
    xref_query = select(pl.c.statement_id, pt.c.theme).join(pt, pt.c.placement_id == pl.c.id)
    if ids is not None:
        if not ids:
            return 0
        query = query.where(st.c.id.in_(ids))
        placement_query = placement_query.where(pl.c.statement_id.in_(ids))
        xref_query = xref_query.where(pl.c.statement_id.in_(ids))
        conn.execute(delete(t.statement_search).where(t.statement_search.c.statement_id.in_(ids)))
    else:
        conn.execute(delete(t.statement_search))
        conn.execute(delete(t.facet_combos))
    facets: dict[str, list[int]] = {}
    for sid, theme, order in conn.execute(placement_query):
        f = facets.setdefault(sid, [0, 0, 0])
        f[0] |= theme_bit(theme)
        f[1] |= subtheme_bit(theme, order)
    for sid, theme in conn.execute(xref_query):
        facets.setdefault(sid, [0, 0, 0])[2] |= theme_bit(theme)
    indexer = Indexer(conn)
    for sid, text, text_es, lang, category, number, code, year, retired_at, text_en in conn.execute(
        query.order_by(st.c.id)
    ):
        themes, subthemes, xrefs = facets.get(sid, [0, 0, 0])
        indexer.add(
            sid,
            index_body(text, text_es, lang, text_en),
            number,
            code,
            year,
            category,
            themes,
            subthemes,
            xrefs,
            retired_at is not None,
        )
    return indexer.flush()
