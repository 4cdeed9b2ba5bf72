"""The PostgreSQL search benchmark's own parts at tiny scale (the benchmark itself is
`make bench-pg`): the COPY loader gives a PostgreSQL database whose search answers exactly as the
SQLite file it was copied from, and the benchmark and the tantivy anchor run end to end."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from rcm.search import SearchRequest, search
from rcm.store import Store

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"rcm_bench_{name}", BENCH / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "synthetic-300.db"
    _module("synthetic").build(300, path, chunk=100)
    return path


@pytest.mark.postgres
def test_copy_loader_answers_as_the_sqlite_file(synthetic, postgres_url):
    times = _module("pg_load").load(synthetic, postgres_url)
    assert times["total_s"] >= 0
    lite, pg = Store(f"sqlite:///{synthetic}"), Store(postgres_url)
    try:
        for query in ("migrants", "human rights", "smuggl*", "return -detention"):
            a, b = (search(s, SearchRequest(query, limit=500)) for s in (lite, pg))
            assert a.total == b.total > 0 or query == "return -detention"
            assert a.facets == b.facets
            assert {h.id for h in a.hits} == {h.id for h in b.hits}
        report = _module("bench_search_pg").measure(postgres_url, 1, ["migrants"])
        assert report["statements"] == lite_count(lite)
        assert report["queries"]["migrants"]["matches"] > 0
        assert report["max_rss_mib"] > 0
    finally:
        lite.close()
        pg.close()


def lite_count(store: Store) -> int:
    with store.connection() as conn:
        return int(conn.exec_driver_sql("SELECT COUNT(*) FROM statement_search").scalar() or 0)


def test_tantivy_anchor_runs(synthetic):
    pytest.importorskip("tantivy")
    report = _module("bench_tantivy").measure(synthetic, 1)
    assert set(report["all"]) == {"fts5_raw", "tantivy_topk", "tantivy_facets", "rcm"}
    assert report["max_rss_mib"] > 0
