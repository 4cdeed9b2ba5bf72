"""Search on the real compilation, on SQLite and on PostgreSQL. Expected sets are derived from the
compendium's own text (regular expressions over the statements), not from the index."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm.search import (
    SearchError,
    SearchRequest,
    category_filter,
    make_filters,
    meeting_filter,
    multi_theme_filter,
    parse_query,
    related,
    search,
    theme_filter,
    xref_filter,
    year_filter,
)
from rcm.suggest.curated import curated_categories


def ids(store, query="", filters=(), sort=None, limit=500):
    result = search(store, SearchRequest(query, tuple(filters), sort, limit))
    return [h.id for h in result.hits]


def having(compendium, pattern):
    rx = re.compile(pattern, re.I)
    return {s.id for s in compendium.statements if rx.search(s.text)}


def test_stemming_finds_other_forms(loaded_store, compendium):
    found = set(ids(loaded_store, "trafficking"))
    assert found == having(compendium, r"\btraffick(ing|ers?|ed)?\b")
    assert len(found) == 25
    # "Broaden regional cooperation … prosecution of migrant traffickers." has no "trafficking".
    broaden = next(s for s in compendium.statements if s.text.startswith("Broaden regional"))
    assert "trafficking" not in broaden.text and broaden.id in found


def test_case_and_accents_do_not_matter(loaded_store):
    assert ids(loaded_store, "TRAFFICKING") == ids(loaded_store, "trafficking")
    assert ids(loaded_store, "México") == ids(loaded_store, "mexico") != []


def test_exact_phrase(loaded_store, compendium):
    found = set(ids(loaded_store, '"comprehensive, objective and long-term approach"'))
    # I RCM (twice: "Enhance…" and "They agreed…"), IV RCM ("long term", no hyphen), XX RCM.
    assert found == having(compendium, r"comprehensive, objective and long[- ]term approach")
    assert sorted(compendium.statement(i).meeting for i in found) == ["I", "I", "IV", "XX"]
    # A phrase is not the same words anywhere.
    assert set(ids(loaded_store, '"approach comprehensive"')) == set()


def test_prefix(loaded_store, compendium):
    assert set(ids(loaded_store, "smuggl*")) == having(compendium, r"\bsmuggl")
    assert set(ids(loaded_store, "reintegr*")) == having(compendium, r"\breintegr")


def test_or_and_exclude(loaded_store, compendium):
    assert set(ids(loaded_store, "maras OR terrorist")) == having(
        compendium, r"\bmaras\b|\bterrorist"
    )
    smuggling = set(ids(loaded_store, "smuggl*"))
    without = set(ids(loaded_store, "smuggl* -trafficking"))
    assert without == smuggling - having(compendium, r"\btraffick")
    assert without and without < smuggling
    only_excluded = set(ids(loaded_store, "-migrants"))
    assert only_excluded == {s.id for s in compendium.statements} - having(
        compendium, r"\bmigrants?\b"
    )


def test_all_words_must_match(loaded_store, compendium):
    found = set(ids(loaded_store, "unaccompanied children protection"))
    expected = (
        having(compendium, r"unaccompanied")
        & having(compendium, r"\bchild")
        & having(compendium, r"\bprotect")
    )
    assert found == expected and found


def test_snippets_mark_the_matches(loaded_store):
    result = search(loaded_store, SearchRequest("traffickers"))
    top = result.hits[0]
    assert "<mark>" in top.snippet
    assert re.search(r"<mark>traffick\w*</mark>", top.snippet, re.I)
    assert "<ul" not in top.snippet


def test_empty_query_lists_everything_by_meeting(loaded_store):
    result = search(loaded_store, SearchRequest("", limit=500))
    assert result.total == 129 and result.sort == "oldest"
    meetings = [h.meeting for h in result.hits]
    assert meetings == sorted(meetings)
    assert result.sentence == "all statements"


def test_sorting_and_paging(loaded_store):
    newest = search(loaded_store, SearchRequest("migration", sort="newest", limit=500)).hits
    assert [h.meeting for h in newest] == sorted((h.meeting for h in newest), reverse=True)
    full = ids(loaded_store, "migration", limit=500)
    pages = []
    for offset in range(0, len(full), 7):
        pages += [
            h.id
            for h in search(loaded_store, SearchRequest("migration", limit=7, offset=offset)).hits
        ]
    assert pages == full and len(set(pages)) == len(pages)
    scores = [h.score for h in search(loaded_store, SearchRequest("migration", limit=500)).hits]
    assert scores == sorted(scores, reverse=True)


def test_facets_count_over_the_result_set(loaded_store, compendium):
    result = search(loaded_store, SearchRequest("trafficking", limit=500))
    hit_ids = {h.id for h in result.hits}
    expected = Counter()
    for sid in hit_ids:
        for t in {p.theme for p in compendium.placements_of(sid)}:
            expected[f"TS{t}"] += 1
    assert {v.value: v.count for v in result.facets["theme"]} == dict(expected)
    assert {v.value: v.count for v in result.facets["theme"]} == {
        "TS1": 4, "TS2": 1, "TS3": 7, "TS5": 20, "TS6": 2,
    }  # fmt: skip
    assert sum(v.count for v in result.facets["meeting"]) == result.total == 25
    curated = curated_categories()
    assert {v.value: v.count for v in result.facets["category"]} == dict(
        Counter(curated[sid].category.value for sid in hit_ids)
    )
    several = {v.value: v.count for v in result.facets["several_themes"]}
    assert several["several"] == sum(
        1 for sid in hit_ids if len({p.theme for p in compendium.placements_of(sid)}) > 1
    )


def test_a_statement_under_several_themes_is_one_hit(loaded_store):
    result = search(loaded_store, SearchRequest('"highly positive dimensions"'))
    assert result.total == 1
    [hit] = result.hits
    assert hit.themes == (1, 2, 3, 4, 5, 6)
    assert {v.value: v.count for v in result.facets["theme"]} == {f"TS{t}": 1 for t in range(1, 7)}


def test_filters_and_their_sentence(loaded_store, compendium):
    filters = (theme_filter([5]), meeting_filter(12, None))
    result = search(loaded_store, SearchRequest("trafficking", filters, limit=500))
    assert (
        result.sentence
        == "text matches 'trafficking' and theme is TS5 and meeting is XII RCM or later"
    )
    order = {m.code: m.number for m in compendium.meetings}
    expected = {
        sid
        for sid in having(compendium, r"\btraffick")
        if order[compendium.statement(sid).meeting] >= 12
        and 5 in {p.theme for p in compendium.placements_of(sid)}
    }
    assert {h.id for h in result.hits} == expected and result.total == len(expected) == 10


def test_each_filter(loaded_store, compendium):
    everything = {s.id for s in compendium.statements}
    by_year = {
        s.id for s in compendium.statements if 2005 <= compendium.meeting(s.meeting).year <= 2010
    }
    assert set(ids(loaded_store, filters=[year_filter(2005, 2010)])) == by_year
    several = {
        s.id
        for s in compendium.statements
        if len({p.theme for p in compendium.placements_of(s.id)}) > 1
    }
    assert set(ids(loaded_store, filters=[multi_theme_filter()])) == several and len(several) == 36
    assert set(ids(loaded_store, filters=[multi_theme_filter(False)])) == everything - several
    xref3 = {p.statement_id for p in compendium.placements if 3 in p.also_relevant}
    assert set(ids(loaded_store, filters=[xref_filter([3])])) == xref3
    # `rcm ingest` files every statement of the compilation under its curated category
    assert ids(loaded_store, filters=[category_filter(["unassigned"])]) == []
    commitments = {
        sid for sid, c in curated_categories().items() if c.category.value == "commitment"
    }
    assert set(ids(loaded_store, filters=[category_filter(["commitment"])])) == commitments
    return_sub = {p.statement_id for p in compendium.placements if (p.theme, p.subtheme) == (3, 2)}
    [sub] = make_filters(loaded_store, subthemes=["TS3.2"])
    assert set(ids(loaded_store, filters=[sub])) == return_sub and len(return_sub) == 11
    assert "Return and readmission" in sub.sentence
    [m] = make_filters(loaded_store, meetings="XIX")
    assert m.sentence == "meeting is XIX RCM"
    assert len(ids(loaded_store, filters=[m])) == 11


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"themes": ["TS9"]}, "no theme TS9"),
        ({"themes": ["human rights"]}, "is not a theme"),
        ({"subthemes": ["TS3.9"]}, "no sub-theme TS3.9"),
        ({"categories": ["principal"]}, "unknown category 'principal'"),
        ({"meetings": "XXI..XII"}, "is backwards"),
        ({"meetings": "twelve"}, "is not a meeting"),
        ({"years": "05..10"}, "is not a year"),
        # found by schemathesis: these were 500s (ValueError from to_roman / int)
        ({"meetings": "0"}, "numbered I"),
        ({"meetings": "4000"}, "numbered I"),
        ({"meetings": "XII..0"}, "numbered I"),
        ({"meetings": "²"}, "is not a meeting"),
        ({"years": "²⁰⁰⁵"}, "is not a year"),
    ],
)
def test_bad_filters_are_explained(loaded_store, kwargs, message):
    with pytest.raises(SearchError, match=message):
        make_filters(loaded_store, **kwargs)


# --- bad queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unbalanced phrase', "unbalanced quote"),
        ("the of and", "only common words"),
        ("x" * 10_240, "limit is 1,000"),
        ("-a OR b", "OR cannot join an -excluded term"),
        (" ".join(f"word{i}" for i in range(40)), "more than 32 terms"),
    ],
)
def test_malformed_queries_get_a_clear_message(loaded_store, query, message):
    with pytest.raises(SearchError, match=message):
        search(loaded_store, SearchRequest(query))


@pytest.mark.parametrize(
    "query",
    [
        "trafficking NEAR smuggling",  # FTS5 operator typed by mistake: a word
        "trafficking and smuggling",  # lower-case "and": a common word
        "*",
        "traffick* *",
        "tr*",
        "trafficking\x00\x07\x1b[31m",
        "'; DROP TABLE statements; --",
        "1=1 OR 'a'='a'",
        "body:traffick",
        "statement_fts MATCH '*'",
        '""',
        "OR",
        "- -",
        "NOT",
        "(migrants)",
        "{body}: x",
        "^migrant",
    ],
)
def test_odd_queries_give_results_or_nothing(loaded_store, query):
    result = search(loaded_store, SearchRequest(query))
    assert result.total >= 0
    assert search(loaded_store, SearchRequest("")).total == 129  # tables intact


def test_notes_explain_what_was_ignored():
    assert parse_query("tr*").notes == ("ignored 'tr*': a prefix needs at least 3 letters",)
    assert "ignored common words: and" in parse_query("trafficking and smuggling").notes
    assert parse_query("*").notes == ("ignored '*': a * must follow at least 3 letters",)


def test_sql_is_parameterised():
    from rcm.search import build_search_sql

    parsed = parse_query('\'; DROP TABLE statements; -- "x y" z*')
    for dialect in ("sqlite", "postgresql"):
        sql = build_search_sql(dialect, parsed, [], "relevance", 20, 0)
        for statement in (sql.page, sql.facets):
            assert "DROP" not in statement and "drop" not in statement
        assert any("drop" in str(v) for v in sql.params.values())


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.text(max_size=120)
    | st.lists(
        st.sampled_from(
            [
                '"',
                "-",
                "*",
                "OR",
                "AND",
                "NOT",
                "NEAR",
                "(",
                ")",
                ":",
                "^",
                "trafficking",
                "migra",
                "'",
                ";",
                " ",
            ]
        ),
        max_size=12,
    ).map(" ".join)
)
def test_random_queries_never_crash(loaded_store, query):
    try:
        result = search(loaded_store, SearchRequest(query, limit=5))
    except SearchError as exc:
        assert str(exc)
    else:
        assert 0 <= result.total <= 129
        assert len(result.hits) <= 5


# --- related statements ---------------------------------------------------------------------------


def test_related_follows_a_restated_commitment(loaded_store, compendium):
    enhance = next(s for s in compendium.statements if s.text.startswith("Enhance the development"))
    result = related(loaded_store, enhance.id, limit=3)
    meetings = sorted(compendium.statement(h.id).meeting for h in result.hits)
    # The "comprehensive, objective and long-term approach" of I, IV and XX RCM.
    assert meetings == ["I", "IV", "XX"]
    assert enhance.id not in {h.id for h in result.hits}


def test_related_unknown_statement(loaded_store):
    from rcm.errors import NotFound

    with pytest.raises(NotFound):
        related(loaded_store, "XIX-0000")


# --- the index stays in step with the statements ---------------------------------------------


def test_index_follows_every_write(store, compendium):
    from dataclasses import replace

    store.ingest(compendium)
    assert ids(store, "xylophone") == []
    first = compendium.statements[0]
    reworded = replace(first, text=first.text + " xylophone")
    store.ingest(replace(compendium, statements=[reworded, *compendium.statements[1:]]))
    assert ids(store, "xylophone") == [first.id]
    store.ingest(compendium)
    assert ids(store, "xylophone") == []
    # Placements moved: the theme facet follows.
    moved = [
        replace(p, theme=6, subtheme=3, position=90 + i) if p.statement_id == first.id else p
        for i, p in enumerate(compendium.placements)
    ]
    store.ingest(replace(compendium, placements=moved))
    [hit] = [h for h in search(store, SearchRequest("", limit=500)).hits if h.id == first.id]
    assert hit.themes == (6,)


def test_spanish_text_is_searched_with_spanish_stems(store, compendium):
    from dataclasses import replace

    from sqlalchemy import update

    store.ingest(compendium)
    first = compendium.statements[0]
    spanish = replace(
        first, text_es="Promover la tipificación de la trata de migrantes como delito."
    )
    # Re-ingesting the (English) compilation never overwrites a stored Spanish text, so a Spanish
    # text is written on its own, with its index row, as a later editing path will.

    from rcm.store import schema, search_index

    with store.engine.begin() as conn:
        conn.execute(
            update(schema.statements)
            .where(schema.statements.c.id == first.id)
            .values(text_es=spanish.text_es)
        )
        search_index.refresh(conn, [first.id])
    # "tipificaciones" and "tipificación" share the Spanish stem; accents do not matter.
    assert ids(store, "tipificaciones") == [first.id]
    assert ids(store, "TIPIFICACION") == [first.id]
    assert ids(store, '"trata de migrantes"') == [first.id]


def test_matching_ids_has_no_page_limit(loaded_store, compendium):
    from rcm.search import matching_ids

    assert len(matching_ids(loaded_store, [])) == 129
    ts5 = {p.statement_id for p in compendium.placements if p.theme == 5}
    assert set(matching_ids(loaded_store, [theme_filter([5])])) == ts5
