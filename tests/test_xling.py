"""Cross-language search (the bilingual thesaurus), its notices, and the SKOS vocabularies."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from importlib.resources import files
from pathlib import Path

import pytest
import rdflib
from bs4 import BeautifulSoup
from click.testing import CliRunner
from fastapi.testclient import TestClient
from rdflib.namespace import DCTERMS, SKOS

from rcm import taxonomy
from rcm.cli import cli
from rcm.export import skos
from rcm.search import SearchParams, SearchRequest, expand, parse_query, search
from rcm.taxonomy import thesaurus
from rcm.web import create_app

ROOT = Path(__file__).parent.parent


def _bench():
    spec = importlib.util.spec_from_file_location("bench_xling", ROOT / "bench" / "bench_xling.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the thesaurus ----------


def test_every_thesaurus_entry_cites_a_known_source():
    raw = files("rcm.taxonomy").joinpath("thesaurus.tsv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(raw), delimiter="\t", quoting=csv.QUOTE_NONE))
    known = thesaurus.sources()
    assert len(rows) >= 200
    for row in rows:
        cited = [p.strip().split(" ")[0] for p in (row["sources"] or "").split(";") if p.strip()]
        assert cited, f"{row['id']} cites no source"
        assert all(key in known for key in cited), row["id"]
        assert row["en"].strip() and row["es"].strip(), row["id"]
    assert len(thesaurus.concepts()) == len(rows)
    assert all(s.url.startswith("https://") for s in known.values())


def test_the_field_vocabulary_is_covered():
    spanish = {t.lower() for c in thesaurus.concepts() for t in c.es}
    for term in (
        "trata de personas",
        "tráfico ilícito de migrantes",
        "niños no acompañados",
        "retorno",
        "derechos humanos",
        "refugiados",
        "asilo",
        "fronteras",
        "remesas",
        "migración laboral",
        "integración",
        "reintegración",
        "protección consular",
        "documentación",
    ):
        assert term in spanish, term


# --- the expansion (no database) ----------


def _also(query: str) -> list[str]:
    return [t for e in expand(parse_query(query)).expansions for t in e.also]


def test_a_spanish_run_of_words_is_recognised_and_translated():
    assert "trafficking in persons" in _also("trata de personas")
    assert "unaccompanied children" in _also("niños no acompañados")
    assert "trata de personas" in _also("trafficking in persons")
    assert "derechos humanos" in _also('"human rights"')


def test_exclusions_expand_too_and_unknown_words_do_not():
    parsed = expand(parse_query("derechos humanos -trata"))
    (negative,) = parsed.negative
    assert any(t.lang == "en" and "traffick" in t.variants()[0] for t in negative.terms)
    assert any(e.excluded for e in parsed.expansions)
    assert _also("zzyzx") == []


# --- search on both backends ----------


def test_spanish_finds_english_and_english_finds_spanish(store):
    bench = _bench()
    compendium = bench.read_compilation()
    meeting = compendium.statements[-1].meeting
    extra = bench.spanish_statements(meeting)
    from dataclasses import replace

    store.ingest(replace(compendium, statements=[*compendium.statements, *extra]))
    spanish = {s.id for s in extra}

    def ids(q: str, expand_: bool = True) -> set[str]:
        return {h.id for h in search(store, SearchRequest(q, limit=500, expand=expand_)).hits}

    english = ids("trafficking in persons") - spanish
    assert english and english <= ids("trata de personas")
    assert ids("trata de personas", False) - spanish == set()  # without the thesaurus: nothing
    found = ids("consular protection") & spanish
    assert found and found == ids("protección consular") & spanish
    # the query language holds: a phrase, OR, an exclusion, a prefix, a facet
    assert ids('"human rights" -trafficking') <= ids("derechos humanos")
    assert ids("trata OR tráfico") >= ids("trafficking") - spanish
    assert ids("retorn*") >= ids("return*") - spanish
    result = search(store, SearchRequest("trata de personas", limit=5))
    assert any("trafficking in persons" in n for n in result.notes)
    assert sum(v.count for v in result.facets["category"]) == result.total


def test_natural_spanish_queries_need_neither_function_words_nor_the_terms_order(loaded_store):
    """A Spanish query as people type it: "sobre", "entre", "todos"… are common words, as their
    English counterparts are, and a term's words may come in another order."""

    def ids(q: str) -> set[str]:
        return {h.id for h in search(loaded_store, SearchRequest(q, limit=500)).hits}

    english = ids("exchange of information on smuggling of migrants")
    assert english and ids("intercambio de información sobre tráfico de migrantes") >= english
    assert ids("retorno digno y seguro") == ids("retorno seguro y digno") != set()
    # the operative verbs the Global Compact's titles pair in both languages
    for es, en in [
        ("fortalecer la cooperación regional", "strengthen regional cooperation"),
        ("prevenir la trata", "prevent trafficking"),
        ("promover el retorno", "promote return"),
    ]:
        assert ids(es) == ids(en) != set(), es
    # "sin" still counts: "migrantes sin documentos" is not "migrantes" and "documentos"
    assert ids("migrantes sin documentos") <= ids("undocumented migrants")


def test_each_hit_is_shown_in_the_readers_language_and_marked_with_its_own(store):
    """A Spanish statement's snippet is marked lang="es" (not "en"), and a statement with a
    Spanish wording shows it to a Spanish reader, the English one to an English reader."""
    from dataclasses import replace

    bench = _bench()
    compendium = bench.read_compilation()
    extra = bench.spanish_statements(compendium.statements[-1].meeting)
    english = next(s for s in compendium.statements if "trafficking" in s.text)
    parallel = replace(english, text_es="La trata de personas es un delito grave (texto paralelo).")
    statements = [parallel if s.id == english.id else s for s in compendium.statements]
    store.ingest(replace(compendium, statements=[*statements, *extra]))
    client = TestClient(create_app(store))

    def snippets(lang: str) -> dict[str, tuple[str, str]]:
        page = client.get("/search", params={"q": "trata de personas", "lang": lang, "limit": 100})
        soup = BeautifulSoup(page.text, "html.parser")
        return {
            li.select_one(".hit-title a").get_text(): (
                li.select_one(".snippet")["lang"],
                li.select_one(".snippet").get_text(),
            )
            for li in soup.select("li.hit")
        }

    es, en = snippets("es"), snippets("en")
    spanish = [s.id for s in extra if s.id in es]
    assert spanish and all(es[i][0] == "es" and en[i][0] == "es" for i in spanish)
    assert es[english.id] == ("es", "La trata de personas es un delito grave (texto paralelo).")
    assert en[english.id][0] == "en" and "trafficking" in en[english.id][1]
    api = client.get("/api/search", params={"q": "trata de personas", "limit": 100}).json()
    assert {h["id"]: h["lang"] for h in api["hits"]}[spanish[0]] == "es"
    # its history page marks its wordings Spanish too
    history = BeautifulSoup(client.get(f"/statements/{spanish[0]}/history").text, "html.parser")
    assert [p["lang"] for p in history.select(".versions p.text")] == ["es"]
    # the command line too: a Spanish reader gets the Spanish wording
    args = ["--db", store.url, "search", "trata de personas", "--limit", "100"]
    out = CliRunner().invoke(cli, ["--lang", "es", *args])
    assert out.exit_code == 0 and "delito grave (texto paralelo)" in out.output
    out = CliRunner().invoke(cli, ["--lang", "en", *args])
    assert out.exit_code == 0 and "texto paralelo" not in out.output


def test_the_paired_queries_meet_their_targets(store):
    """The quick version of bench/bench_xling.py (no timing): ≥ 0.9 recall and ≥ 0.8 precision
    in both directions, on this backend."""
    bench = _bench()
    target = bench.build(store.url)
    spanish = {
        s.id for s in bench.spanish_statements(bench.read_compilation().statements[-1].meeting)
    }
    figures = bench.measure(target, spanish, repeat=0)
    target.close()
    for direction in ("es->en", "en->es"):
        assert figures[direction]["pairs"] >= 100
        assert figures[direction]["recall"] >= 0.9, figures[direction]
        assert figures[direction]["precision"] >= 0.8, figures[direction]


# --- the adapters ----------


def test_the_notice_is_in_the_readers_language_and_expansion_can_be_turned_off(loaded_store):
    client = TestClient(create_app(loaded_store))
    page = client.get("/search", params={"q": "trata de personas", "lang": "es"}).text
    notes = " ".join(p.get_text() for p in BeautifulSoup(page, "html.parser").select(".note"))
    assert "también se buscó en inglés: trafficking in persons" in notes
    # the terms searched are marked with their language
    assert BeautifulSoup(page, "html.parser").select_one('.note span[lang="en"]')
    assert "se omitieron palabras comunes: de" in page
    english = client.get("/search", params={"q": "trata de personas", "lang": "en"}).text
    english = " ".join(p.get_text() for p in BeautifulSoup(english, "html.parser").select(".note"))
    assert "also searched in English: trafficking in persons" in english
    off = client.get("/api/search", params={"q": "trata de personas", "expand": "0"}).json()
    assert off["total"] == 0 and off["also_searched"] == []
    on = client.get("/api/search", params={"q": "trata de personas"}).json()
    assert on["total"] > 0 and on["also_searched"][0]["lang"] == "es"
    assert SearchParams.from_query([("expand", "0")]).to_query() == [("expand", "0")]
    out = CliRunner().invoke(
        cli, ["--db", loaded_store.url, "search", "--no-expand", "trata", "--json"]
    )
    assert out.exit_code == 0 and json.loads(out.output)["also_searched"] == []


# --- SKOS ----------


def test_skos_turtle_and_jsonld_parse_back_to_the_same_graph():
    ttl = rdflib.Graph().parse(data=skos.to_turtle(), format="turtle")
    jsonld = rdflib.Graph().parse(data=skos.to_jsonld(), format="json-ld")
    assert ttl.isomorphic(jsonld)
    concepts = set(ttl.subjects(rdflib.RDF.type, SKOS.Concept))
    assert len(concepts) == len(thesaurus.concepts()) + 6 + 18 + 3 + 23 + 10
    for concept in concepts:
        langs = {label.language for label in ttl.objects(concept, SKOS.prefLabel)}
        assert langs == {"en", "es"}, concept
    # a thematic session: its short title is the label, its full UN title (the official Spanish
    # of A/RES/71/280 among them) an alternative label, the resolution its source
    ts5 = rdflib.URIRef(skos.DEFAULT_BASE + "themes/TS5")
    alt = set(ttl.objects(ts5, SKOS.altLabel))
    assert {a.language for a in alt} == {"en", "es"}
    assert rdflib.Literal(taxonomy.themes()[4].un_title, lang="en") in alt
    assert rdflib.Literal(taxonomy.label_es("theme_un", "5"), lang="es") in alt
    assert any("A/RES/71/280" in s for s in ttl.objects(ts5, DCTERMS.source))
    # the ten guiding principles, a–j, both languages, cited to A/RES/73/195 para. 15
    principles = rdflib.URIRef(skos.DEFAULT_BASE + "principles")
    in_scheme = set(ttl.subjects(SKOS.inScheme, principles))
    assert {str(ttl.value(c, SKOS.notation)) for c in in_scheme} == set("abcdefghij")
    child = rdflib.URIRef(skos.DEFAULT_BASE + "principles/principle-h")
    assert set(ttl.objects(child, SKOS.prefLabel)) == {
        rdflib.Literal("Child-sensitive", lang="en"),
        rdflib.Literal("Perspectiva infantil", lang="es"),
    }
    assert all(
        any("A/RES/73/195, " in s and "para. 15" in s for s in ttl.objects(c, DCTERMS.source))
        for c in in_scheme
    )
    objective_10 = rdflib.URIRef(skos.DEFAULT_BASE + "gcm/objective-10")
    assert rdflib.Literal(
        "Prevenir, combatir y erradicar la trata de personas en el contexto de la migración "
        "internacional",
        lang="es",
    ) in set(ttl.objects(objective_10, SKOS.prefLabel))


def test_skos_escapes_what_turtle_needs():
    assert skos._turtle_string('a "b"\\\n', "es") == '"a \\"b\\"\\\\\\n"@es'
    with pytest.raises(ValueError):
        skos._turtle_iri("urn:x y")


def test_skos_downloads(loaded_store, tmp_path):
    client = TestClient(create_app(loaded_store))
    r = client.get("/vocab/thesaurus.ttl")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=r.text, format="turtle")
    assert len(set(graph.subjects(rdflib.RDF.type, SKOS.Concept))) == len(thesaurus.concepts())
    assert client.get("/vocab/gcm.jsonld").headers["content-type"] == "application/ld+json"
    assert client.get("/vocab/nothing.ttl").status_code == 404
    for fmt, parser in (("skos-ttl", "turtle"), ("skos-jsonld", "json-ld")):
        out = tmp_path / f"v.{fmt}"
        run = CliRunner().invoke(
            cli, ["--db", loaded_store.url, "export", "--format", fmt, "-o", str(out)]
        )
        assert run.exit_code == 0, run.output
        assert len(rdflib.Graph().parse(data=out.read_text(encoding="utf-8"), format=parser)) > 0
