"""PostgreSQL's two ways of ranking (``index_state.ranking``): "gin" (ts_rank_cd over every match)
always, "rum" (the RUM index orders the top hits) where the extension is installed. Both must find
the same statements with the same facet counts; only the relevance order may differ. Also the
search's caches: the parsed query by its text, the lookups by the index generation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rcm.parse import read_compilation
from rcm.search import (
    SearchRequest,
    build_search_sql,
    parse_query,
    parsed_query,
    search,
    theme_filter,
)
from rcm.store import Store, _pyformat, search_index
from rcm.suggest import label_compendium

QUERIES = [
    ("migration", ()),
    ("human rights", ()),
    ("trata de personas", ()),
    ("smuggl*", ()),
    ("return -detention", ()),
    ("children OR women", (theme_filter([3]),)),
    ('"unaccompanied migrant children"', ()),
]


@pytest.fixture(scope="module")
def pg_store() -> Iterator[Store]:
    from conftest import _fresh_postgres_database

    with _fresh_postgres_database() as url:
        store = Store(url, create=True)
        store.ingest(label_compendium(read_compilation()))
        yield store
        store.close()


def _use(store: Store, ranking: str) -> None:
    with store.transaction() as conn:
        search_index.use_ranking(conn, ranking)


def _run(store: Store, query: str, filters, **kw):
    return search(store, SearchRequest(query, tuple(filters), limit=500, **kw))


def _migrated(url: str) -> None:
    store = Store(url, create=True)
    try:
        store.migrate()
    finally:
        store.close()


def _ranking_and_rum_index(url: str) -> tuple[str, bool]:
    store = Store(url, create=True)
    try:
        with store.engine.connect() as conn:
            index = conn.exec_driver_sql(
                "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_statement_search_rum'"
            ).scalar()
        return str(store.ranking()), bool(index)
    finally:
        store.close()


@pytest.mark.postgres
def test_the_migration_ranks_with_gin_unless_rum_is_asked_for(pg_store, monkeypatch):
    """RUM is opt-in (rum 1.3.13 crashed the server at 1M statements under concurrent load):
    a new database ranks with GIN and has no RUM index; RCM_PG_RANKING=rum, or `rcm migrate
    --ranking rum`, builds it where the extension is installed; a wrong value is refused."""
    from click.testing import CliRunner

    from conftest import _fresh_postgres_database
    from rcm.cli import cli
    from rcm.errors import StoreError

    assert _ranking_and_rum_index(pg_store.url) == ("gin", False)
    with pg_store.engine.connect() as conn:
        rum = search_index.rum_available(conn)
    monkeypatch.setenv("RCM_PG_RANKING", "rum")
    with _fresh_postgres_database() as url:
        _migrated(url)
        assert _ranking_and_rum_index(url) == (("rum", True) if rum else ("gin", False))
        out = CliRunner().invoke(cli, ["--db", url, "migrate", "--ranking", "gin"])
        assert out.exit_code == 0 and "PostgreSQL ranking: gin" in out.output
        assert _ranking_and_rum_index(url) == ("gin", False)
        out = CliRunner().invoke(cli, ["--db", url, "migrate", "--ranking", "rum"])
        if rum:
            assert out.exit_code == 0 and "PostgreSQL ranking: rum" in out.output
            assert _ranking_and_rum_index(url) == ("rum", True)
        else:
            assert out.exit_code != 0 and "rum" in out.output
    monkeypatch.setenv("RCM_PG_RANKING", "fastest")
    with _fresh_postgres_database() as url:
        with pytest.raises(StoreError, match="RCM_PG_RANKING must be gin or rum"):
            _migrated(url)
        assert Store(url, create=True).revision() is None  # nothing half-migrated


@pytest.mark.postgres
def test_gin_and_rum_find_the_same_statements_and_facets(pg_store):
    _use(pg_store, "gin")
    gin = {q: _run(pg_store, q, f) for q, f in QUERIES}
    assert all(0 < r.total <= 500 for r in gin.values())  # every hit on one page
    with pg_store.engine.connect() as conn:
        if not search_index.rum_available(conn):
            pytest.skip("the rum extension is not installed: only the GIN path ran")
    _use(pg_store, "rum")
    for q, f in QUERIES:
        rum = _run(pg_store, q, f)
        assert rum.total == gin[q].total
        assert rum.facets == gin[q].facets
        assert {h.id for h in rum.hits} == {h.id for h in gin[q].hits}
        scores = [h.score for h in rum.hits]
        assert scores == sorted(scores, reverse=True)  # RUM's own rank, best first


@pytest.mark.postgres
@pytest.mark.parametrize("ranking", ["gin", "rum"])
def test_paging_is_consistent_on_each_path(pg_store, ranking):
    """Ties (equal rank) in docid order, and pages that fit together exactly: the RUM index
    returns equal distances in no set order, so ``page_rows`` completes the ties."""
    with pg_store.engine.connect() as conn:
        if ranking == "rum" and not search_index.rum_available(conn):
            pytest.skip("the rum extension is not installed")
    _use(pg_store, ranking)
    full = _run(pg_store, "migration", ()).hits
    assert len(full) > 50
    pages = []
    for offset in range(0, len(full), 7):
        pages += search(pg_store, SearchRequest("migration", limit=7, offset=offset)).hits
    assert [h.id for h in pages] == [h.id for h in full]
    assert [(-h.score) for h in full] == sorted(-h.score for h in full)


def test_the_sql_of_each_ranking():
    parsed = parse_query("migrants")
    gin = build_search_sql("postgresql", parsed, [], "relevance", 20, 0, ranking="gin")
    rum = build_search_sql("postgresql", parsed, [], "relevance", 20, 0, ranking="rum")
    assert "ts_rank_cd" in gin.page and not gin.nearest
    assert "ORDER BY s.tsv <=> query.q LIMIT :top" in rum.page and rum.nearest
    assert gin.facets == rum.facets and "ts_rank" not in rum.facets  # facets: docids only
    oldest = build_search_sql("postgresql", parsed, [], "oldest", 20, 0, ranking="rum")
    assert not oldest.nearest and "rum_ts_score" in oldest.page
    prefix = build_search_sql("postgresql", parse_query("smuggl*"), [], "relevance", 20, 0, "rum")
    assert not prefix.nearest and "<=>" not in prefix.page and "ts_rank_cd" in prefix.page


def test_the_parsed_query_is_cached_by_its_text():
    assert parsed_query("trata de personas") is parsed_query("trata de personas")
    assert parsed_query("trata de personas").expansions
    assert not parsed_query("trata de personas", False).expansions


def test_a_write_refreshes_the_cached_lookups(store):
    store.ingest(label_compendium(read_compilation()))
    before = search(store, SearchRequest("migration", limit=1)).total
    with store.connection() as conn:
        cached = store.lookups(conn)
    with store.transaction() as conn:
        search_index.refresh(conn, ["I-0001"])  # any index write bumps the generation
    with store.connection() as conn:
        assert store.lookups(conn).generation == cached.generation + 1
        assert store.lookups(conn) is not cached
    assert search(store, SearchRequest("migration", limit=1)).total == before


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_an_ordered_read_stops_where_the_reader_stops(backend, request, tmp_path):
    """``Store.read_while`` (the RUM page's read): the first rows, then eight times as many only
    while asked, so a long run of ties is completed without reading everything."""
    if backend == "postgresql":
        store = request.getfixturevalue("pg_store")
    else:
        store = Store(f"sqlite:///{tmp_path / 'r.db'}", create=True)
    numbers = "SELECT 1 AS g UNION ALL SELECT g + 1 FROM numbers WHERE g < 100000"
    sql = f"WITH RECURSIVE numbers(g) AS ({numbers}) SELECT g, g / 1000 FROM numbers LIMIT :top"
    with store.engine.connect() as conn:
        rows = store.read_while(conn, sql, {}, 21, lambda r: r[-1][1] == 0)
        assert [r[0] for r in rows] == list(range(1, 21 * 64 + 1))  # 21, 168, then 1,344 rows
        assert len(store.read_while(conn, sql, {}, 21, lambda r: False)) == 21
        short = sql.replace("100000", "10")
        assert len(store.read_while(conn, short, {}, 21, lambda r: True)) == 10


@pytest.mark.postgres
def test_only_the_relevance_page_reads_the_rum_index(pg_store):
    """The RUM index is read in its own order for the top hits and nowhere else: the facet counts,
    the other sorts and the GIN ranking match with ``@@@``, which RUM's operator class does not
    serve (the server crashed once in its bitmap scan at 1M statements). Shown with the GIN index
    gone and sequential scans priced out, where the planner would otherwise take RUM."""
    with pg_store.engine.connect() as conn:
        if not search_index.rum_available(conn):
            pytest.skip("the rum extension is not installed")
    parsed = parsed_query("children OR migrants")
    rum = build_search_sql("postgresql", parsed, [], "relevance", 20, 0, ranking="rum")
    oldest = build_search_sql("postgresql", parsed, [], "oldest", 20, 0, ranking="rum")
    gin = build_search_sql("postgresql", parsed, [], "relevance", 20, 0, ranking="gin")
    with pg_store.engine.connect() as conn, conn.begin() as tx:
        conn.exec_driver_sql("DROP INDEX ix_statement_search_tsv")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")

        def plan(sql: str, params: dict) -> str:
            rows = conn.exec_driver_sql("EXPLAIN " + _pyformat(sql), params).all()
            return "\n".join(r[0] for r in rows)

        assert "ix_statement_search_rum" in plan(rum.page, {**rum.params, "top": 21})
        for sql in (rum.facets, oldest.page, gin.page):
            assert "ix_statement_search_rum" not in plan(sql, rum.params)
        tx.rollback()


@pytest.mark.postgres
def test_the_search_settings_last_for_the_search_only(pg_store, monkeypatch):
    """``Store.tune_search``: PostgreSQL's settings for a search's reads (``SEARCH_SETTINGS``)
    hold on the search's connection while it reads, and the next reader of that pooled connection
    has the server's own again (``SET LOCAL``: the transaction ends when the connection goes
    back to the pool)."""
    import rcm.store as store_module

    seen: list[tuple[str, ...]] = []
    names = list(store_module.SEARCH_SETTINGS)
    show = "SELECT " + ", ".join(f"current_setting('{n}')" for n in names)
    hit_details = Store.hit_details

    def spying(self, conn, docids):  # the search's last read, on the search's connection
        seen.append(tuple(self.read_rows(conn, show, {})[0]))
        return hit_details(self, conn, docids)

    monkeypatch.setattr(Store, "hit_details", spying)
    with pg_store.connection() as conn:
        default = tuple(pg_store.read_rows(conn, show, {})[0])
    assert default != tuple(store_module.SEARCH_SETTINGS.values())
    assert search(pg_store, SearchRequest("migrants")).total > 0
    assert seen == [tuple(store_module.SEARCH_SETTINGS.values())]
    with pg_store.connection() as conn:
        assert tuple(pg_store.read_rows(conn, show, {})[0]) == default
