"""One definition of the search's parameters (``rcm.search.SearchParams``): the CLI, the search
page, its downloads, the JSON API and its OpenAPI schema share the names; the old names that had
drifted in are still accepted. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from fastapi.testclient import TestClient

from rcm.cli import cli
from rcm.search import OLD_NAMES, SearchError, SearchParams
from rcm.web import create_app

# (old spelling, published spelling): each narrows the result.
SAME = [
    ("xrefs=TS3", "xref=TS3"),
    ("several_themes=yes", "several=yes"),
    ("meetings=XII..XV", "meeting=XII..XV"),
    ("themes=TS5&years=2005..2010", "theme=TS5&year=2005..2010"),
    ("subthemes=TS3.2&categories=commitment", "subtheme=TS3.2&category=commitment"),
]


@pytest.fixture(scope="module")
def client(loaded_store):
    with TestClient(create_app(loaded_store)) as c:
        yield c


def api(client, query: str) -> dict:
    r = client.get(f"/api/search?{query}")
    assert r.status_code == 200, r.text
    return r.json()


def test_old_names_are_still_accepted(client):
    everything = api(client, "")["total"]
    for old, new in SAME:
        a, b = api(client, old), api(client, new)
        assert a["total"] == b["total"] < everything, (old, new)
        assert a["filter"] == b["filter"]
    assert api(client, "limit=3")["size"] == 3 and len(api(client, "limit=3")["hits"]) == 3


def test_the_page_links_with_the_published_names(client):
    r = client.get("/search?xrefs=TS3&several_themes=yes&limit=5")
    assert r.status_code == 200
    soup = BeautifulSoup(r.text, "html.parser")
    kept = [a["href"] for a in soup.select(".pages a, .downloads a")]
    assert len(kept) == 5 and all("xref=TS3" in h and "several=yes" in h for h in kept)
    links = kept + [a["href"] for a in soup.select(".facets a")]
    assert all("size=5" in h for h in links)
    assert not any(f"{old}=" in h for h in links for old in OLD_NAMES)
    hidden = {i["name"]: i["value"] for i in soup.select("form.search input[type=hidden]")}
    assert hidden == {"xref": "TS3", "several": "yes"}
    download = client.get("/search.json?xrefs=TS3").json()
    assert download["total"] == api(client, "xref=TS3")["total"] == len(download["hits"])


def test_the_schema_is_made_from_the_parameters(client):
    schema = client.get("/openapi.json").json()
    declared = schema["paths"]["/api/search"]["get"]["parameters"]
    assert declared == SearchParams.openapi_parameters()
    names = [p["name"] for p in declared]
    assert names == [
        "q",
        "page",
        "size",
        "sort",
        "theme",
        "subtheme",
        "category",
        "meeting",
        "year",
        "year_from",
        "year_to",
        "several",
        "xref",
        "expand",
        "retired",
    ]
    xref = next(p for p in declared if p["name"] == "xref")
    assert "xrefs" in xref["description"]
    assert "several_themes" in schema["info"]["description"]


def test_from_query_and_to_query():
    params = SearchParams.from_query(
        [
            ("q", "trafficking"),
            ("themes", "TS5"),
            ("theme", "TS3"),
            ("several", "no"),
            ("page", "2"),
        ]
    )
    assert params == SearchParams(q="trafficking", page=2, theme=("TS5", "TS3"), several="no")
    assert SearchParams.from_query(params.to_query()) == params
    assert params.to_query() == [
        ("q", "trafficking"),
        ("theme", "TS5"),
        ("theme", "TS3"),
        ("several", "no"),
        ("page", "2"),
    ]
    for bad, message in [
        ([("page", "²")], "page must be a whole number"),
        ([("theme", "TS1")] * 21, "at most 20 values for theme"),
        ([("q", "x" * 10_001)], "the query is too long"),
    ]:
        with pytest.raises(SearchError, match=message):
            SearchParams.from_query(bad)
    with pytest.raises(SearchError, match="several must be yes or no"):
        SearchParams(several="maybe").check()


def test_the_cli_builds_the_same_search(client, loaded_store):
    out = CliRunner().invoke(
        cli,
        ["--db", loaded_store.url, "search", "--xref", "TS3", "--one-theme", "--json"],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["total"] == api(client, "xref=TS3&several=no")["total"]


def test_the_cli_options_are_the_published_names(loaded_store):
    """`rcm search --several no --size 3` as on the web; the old spellings (--one-theme,
    --limit) still work and give the same."""

    def run(*args: str) -> dict:
        out = CliRunner().invoke(
            cli, ["--db", loaded_store.url, "search", *args, "--json"], catch_exceptions=False
        )
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    new = run("--several", "no", "--size", "3", "--theme", "TS5")
    old = run("--one-theme", "--limit", "3", "--theme", "TS5")
    assert new == old and len(new["hits"]) == 3 and "one theme" in new["filter"]
