"""The search downloads read their matches a batch at a time (memory bounded whatever the number of
matches) and write the same files as building them whole did; Word and Excel are capped."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from rcm import search as core
from rcm.export.registry import export_selection
from rcm.search import SearchParams, stream_hits
from rcm.web import create_app, pages
from rcm.web import search as web_search

BATCH = 7  # small, so that every download below crosses many batches
SEARCHES = [
    "q=trafficking",
    "q=migrants&sort=newest",
    "theme=TS5&sort=oldest",
    "q=children&category=commitment",
    "",  # every statement
]


@pytest.fixture(scope="module")
def client(loaded_store):
    with TestClient(create_app(loaded_store), raise_server_exceptions=True) as c:
        yield c


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(core, "DOWNLOAD_BATCH", BATCH)


def paged(store, query: str) -> tuple[list[dict], dict]:
    """Every hit, a page of the search at a time, as the downloads read them before streaming."""
    params = SearchParams.from_query(
        [tuple(p.split("=", 1)) for p in query.split("&") if p]  # type: ignore[misc]
    )
    params = replace(params, page=1, size=100)
    first = pages.search_page(store, params)
    hits = list(first["hits"])
    while len(hits) < first["total"]:
        params = replace(params, page=params.page + 1)
        hits += pages.search_page(store, params)["hits"]
    return hits, first


@pytest.mark.parametrize("query", SEARCHES)
def test_the_streamed_downloads_are_the_files_built_whole(
    client, loaded_store, small_batches, query
):
    hits, first = paged(loaded_store, query)
    assert first["total"] > BATCH  # several batches
    body, _, _ = export_selection(loaded_store, "csv", [h["id"] for h in hits])
    r = client.get(f"/search.csv?{query}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines() == body.decode().splitlines()
    whole = dict(first, hits=hits, offset=0, limit=len(hits), page=1, pages=1)
    r = client.get(f"/search.json?{query}")
    assert r.text == json.dumps(whole, ensure_ascii=False, indent=2)
    assert r.json()["total"] == len(r.json()["hits"]) == first["total"]


def test_a_search_without_matches_downloads_an_empty_file(client):
    r = client.get("/search.json?q=zzzyxnotaword")
    assert r.status_code == 200 and r.json()["hits"] == [] and r.json()["total"] == 0
    rows = list(csv.reader(io.StringIO(client.get("/search.csv?q=zzzyxnotaword").text)))
    assert len(rows) == 1 and rows[0][0] == "id"


def test_a_bad_search_is_an_error_before_anything_is_sent(client):
    for url in ("/search.csv?q=%22unbalanced", "/search.json?q=%22unbalanced"):
        assert client.get(url).status_code == 400, url


def test_the_stream_holds_one_batch_at_a_time(loaded_store, small_batches, monkeypatch):
    """Every read of the matches returns at most a batch, the statements' details are read a batch
    at a time, and nothing is read ahead of what the consumer has taken."""
    fetched: list[int] = []
    detailed: list[int] = []
    read_batches, hit_details = loaded_store.read_batches, loaded_store.hit_details

    def spy_batches(*args, **kwargs):
        for rows in read_batches(*args, **kwargs):
            fetched.append(len(rows))
            yield rows

    def spy_details(conn, docids):
        detailed.append(len(docids))
        return hit_details(conn, docids)

    params = SearchParams.from_query([])
    total = pages.search_page(loaded_store, params)["total"]
    monkeypatch.setattr(loaded_store, "read_batches", spy_batches)
    monkeypatch.setattr(loaded_store, "hit_details", spy_details)
    with loaded_store.snapshot() as conn:
        stream = stream_hits(loaded_store, params.to_request(loaded_store), conn)
        first = next(stream)
        assert len(first) == BATCH and fetched == [BATCH] and detailed == [BATCH]
        seen = len(first) + sum(len(batch) for batch in stream)
    assert seen == total == sum(fetched) == sum(detailed)
    assert max(fetched) <= BATCH and max(detailed) <= BATCH
    assert len(fetched) == -(-total // BATCH)


def test_the_backends_download_the_same_rows(loaded_store, client, small_batches):
    """The same rows on SQLite and PostgreSQL (in the order of the meetings: relevance scores
    differ between the backends' rankers)."""
    rows = list(csv.DictReader(io.StringIO(client.get("/search.csv?q=trafficking").text)))
    ids = sorted(r["id"] for r in rows)
    hits, _ = paged(loaded_store, "q=trafficking")
    assert ids == sorted(h["id"] for h in hits) and len(ids) == len(set(ids))
    seen = _BY_BACKEND.setdefault("trafficking", rows)
    assert sorted(rows, key=lambda r: r["id"]) == sorted(seen, key=lambda r: r["id"])


_BY_BACKEND: dict[str, list[dict[str, str]]] = {}


def test_word_and_excel_are_capped(client, monkeypatch):
    monkeypatch.setattr(web_search, "DOCUMENT_CAP", 5)
    total = client.get("/api/search?q=trafficking").json()["total"]
    assert total > 5
    for fmt in ("docx", "xlsx"):
        r = client.get(f"/search.{fmt}?q=trafficking")
        assert r.status_code == 400 and "content-disposition" not in r.headers
        text = BeautifulSoup(r.text, "html.parser").get_text()
        assert f"This search finds {total} statements" in text and "CSV or JSON" in text
        es = client.get(f"/search.{fmt}?q=trafficking", headers={"Accept-Language": "es"})
        assert es.status_code == 400
        text = BeautifulSoup(es.text, "html.parser").get_text()
        assert f"Esta búsqueda encuentra {total} disposiciones" in text
    narrow = client.get("/api/search?q=maras").json()["total"]
    assert 0 < narrow <= 5
    assert client.get("/search.docx?q=maras").status_code == 200
    rows = list(csv.DictReader(io.StringIO(client.get("/search.csv?q=trafficking").text)))
    assert len(rows) == total  # CSV has no cap
