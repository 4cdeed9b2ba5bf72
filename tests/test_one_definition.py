"""One definition per concept (issue 14): the category colours come from the taxonomy alone (Word,
Excel and the web pages' row shading); one statement serialiser for `rcm show --json` and the JSON
export; one CSV writer for `rcm export --format csv` and /search.csv."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from rcm import taxonomy
from rcm.cli import cli
from rcm.parse import read_compilation
from rcm.store import Store
from rcm.suggest import label_compendium
from webclient import client_for


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'rcm.db'}", create=True)
    s.ingest(label_compendium(read_compilation()))
    yield s
    s.close()


def test_web_category_colours_come_from_the_taxonomy(store):
    c = client_for(store)
    page = c.get("/themes/1").text
    assert '<link rel="stylesheet" href="/categories.css">' in page
    r = c.get("/categories.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    for category, rgb in taxonomy.CATEGORY_COLOURS.items():
        assert f"--cat-{category.value}: #{rgb};" in r.text
        edge = taxonomy.edge_colour(rgb)
        assert f"--cat-{category.value}-edge: #{edge};" in r.text
        assert f".cat-{category.value}, tr.cat-{category.value} > td" in r.text
    site = c.get("/static/site.css").text
    # No colour of a category written anywhere else.
    assert not re.search(r"tr\.cat-\w+[^{]*\{[^}]*#[0-9a-fA-F]{3,6}", site)


def test_edge_colours_keep_the_hue_and_stand_out_on_white():
    assert taxonomy.edge_colour("C6D9F1") == "23538F"
    for rgb in taxonomy.CATEGORY_COLOURS.values():
        edge = taxonomy.edge_colour(rgb)
        channels = [int(edge[i : i + 2], 16) for i in (0, 2, 4)]
        assert max(channels) < 180  # dark enough for a 6 px edge on white


def test_show_json_and_the_json_export_serialise_a_statement_alike(store):
    run = CliRunner()
    sid = store.load().statements[0].id
    shown = json.loads(run.invoke(cli, ["--db", store.url, "show", sid, "--json"]).output)
    document = json.loads(run.invoke(cli, ["--db", store.url, "export"]).output)
    exported = next(s for s in document["statements"] if s["id"] == sid)
    # `rcm show` adds what only one statement's page carries: its citation, the document it names
    # (the export lists it in "sources") and its earlier wordings
    extras = {"citation", "document", "versions"}
    assert {k: v for k, v in shown.items() if k not in extras} == exported
    assert shown["citation"].startswith("Regional Conference on Migration")
    assert shown["versions"] == [] and shown["version"] == exported["version"] == 1
    sources = {d["key"]: d for d in document["sources"]}
    assert shown["document"] == sources[exported["source"]]


def test_search_csv_is_the_export_csv(store):
    c = client_for(store)
    web = list(csv.DictReader(io.StringIO(c.get("/search.csv?q=trafficking").text)))
    out = CliRunner().invoke(cli, ["--db", store.url, "export", "--format", "csv"]).output
    cli_rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert web and all(cli_rows[r["id"]] == r for r in web)
