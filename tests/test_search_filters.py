"""The search's one rule for filters, on SQLite and PostgreSQL: within a facet any of the chosen
values, across facets all of them; each facet counted with every filter but its own, so a count is
what choosing that value alone gives, and ``adds`` what one more value adds. Expected sets are
made from the compendium itself (its placements, meetings and curated categories), not from the
index; the search page shows the filters as removable "selected filters" with "clear all"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from rcm.parse import read_compilation
from rcm.search import FACET_KINDS, MULTIPLE, SearchParams, search
from rcm.store import Store
from rcm.suggest import label_compendium
from rcm.suggest.curated import curated_categories
from rcm.web import create_app


@dataclass(frozen=True)
class Row:
    """What the facets know of one statement, read from the compendium."""

    id: str
    themes: frozenset[str]
    subthemes: frozenset[str]
    category: str
    meeting: str
    year: str
    several: str
    xrefs: frozenset[str]


@pytest.fixture(scope="module")
def rows(compendium) -> list[Row]:
    curated = curated_categories()
    out = []
    for s in compendium.statements:
        places = compendium.placements_of(s.id)
        themes = {p.theme for p in places}
        out.append(
            Row(
                s.id,
                frozenset(f"TS{t}" for t in themes),
                frozenset(f"TS{p.theme}.{p.subtheme}" for p in places),
                curated[s.id].category.value if s.id in curated else "unassigned",
                s.meeting,
                str(compendium.meeting(s.meeting).year),
                "several" if len(themes) > 1 else "one",
                frozenset(f"TS{t}" for p in places for t in p.also_relevant),
            )
        )
    return out


def values_of(row: Row, facet: str) -> frozenset[str]:
    return {
        "theme": row.themes,
        "subtheme": row.subthemes,
        "category": frozenset({row.category}),
        "meeting": frozenset({row.meeting}),
        "year": frozenset({row.year}),
        "several_themes": frozenset({row.several}),
        "cross_reference": row.xrefs,
    }[facet]


# The searches below as what they choose in each facet (FacetValue.value), and as parameters.
# Year ranges are checked separately (a range chooses no single value).
COMBINATIONS = [
    {"theme": {"TS5"}},  # the issue's case: TS5 chosen, then "TS1 … 3" clicked
    {"theme": {"TS5", "TS1"}},
    {"theme": {"TS3"}, "subtheme": {"TS3.2", "TS5.1"}},
    {"category": {"commitment", "principle"}, "several_themes": {"several"}},
    {"cross_reference": {"TS3"}, "meeting": {"XIX"}},
    {"subtheme": {"TS3.2"}, "year": {"2015"}, "theme": {"TS1", "TS3"}},
]
PARAM = {
    "theme": "theme",
    "subtheme": "subtheme",
    "category": "category",
    "meeting": "meeting",
    "year": "year",
    "several_themes": "several",
    "cross_reference": "xref",
}


def params_for(chosen: dict[str, set[str]], q: str = "") -> SearchParams:
    values: dict[str, object] = {}
    for facet, vals in chosen.items():
        name = PARAM[facet]
        if facet in MULTIPLE:
            values[name] = tuple(sorted(vals))
        elif facet == "several_themes":
            [v] = vals
            values[name] = "yes" if v == "several" else "no"
        else:
            [values[name]] = vals
    return SearchParams(q=q, size=100, **values)  # type: ignore[arg-type]


def run(store, params: SearchParams):
    return search(store, params.to_request(store))


def passes(row: Row, chosen: dict[str, set[str]], skip: str | None = None) -> bool:
    return all(values_of(row, f) & vals for f, vals in chosen.items() if f != skip)


def all_ids(store, params: SearchParams) -> set[str]:
    result = run(store, replace(params, size=100, page=1))
    ids = {h.id for h in result.hits}
    page = 1
    while len(ids) < result.total:
        page += 1
        ids |= {h.id for h in run(store, replace(params, size=100, page=page)).hits}
    return ids


@pytest.mark.parametrize("chosen", COMBINATIONS, ids=lambda c: "&".join(sorted(c)))
def test_the_rule_chooses_what_the_compendium_says(loaded_store, rows, chosen):
    """Any of a facet's chosen values, all of the facets: the statements, the total and every
    facet's counts, chosen marks and ``adds`` as the compendium gives them."""
    result = run(loaded_store, params_for(chosen))
    expected = {r.id for r in rows if passes(r, chosen)}
    assert all_ids(loaded_store, params_for(chosen)) == expected
    assert result.total == len(expected)
    for facet in FACET_KINDS:
        own = chosen.get(facet, set())
        others = [r for r in rows if passes(r, chosen, skip=facet)]
        counts = Counter(v for r in others for v in values_of(r, facet))
        for v in own:
            counts[v] += 0  # a chosen value is listed even when nothing is left for it
        got = {v.value: v.count for v in result.facets[facet]}
        assert got == dict(counts), facet
        assert {v.value for v in result.facets[facet] if v.chosen} == own, facet
        if facet in MULTIPLE and own:
            outside = [r for r in others if not values_of(r, facet) & own]
            adds = Counter(v for r in outside for v in values_of(r, facet))
            assert {v.value: v.adds for v in result.facets[facet] if not v.chosen} == {
                v: adds[v] for v in counts if v not in own
            }, facet
        else:
            assert all(v.adds is None for v in result.facets[facet]), facet


@pytest.mark.parametrize("q", ["", "trafficking"])
@pytest.mark.parametrize("chosen", COMBINATIONS[:4], ids=lambda c: "&".join(sorted(c)))
def test_each_count_is_what_clicking_gives(loaded_store, chosen, q):
    """For every value of every facet, the search the page's link makes: a value chosen alone
    gives its count; one more value in a facet with chosen values gives total + adds."""
    base = run(loaded_store, params_for(chosen, q))
    checked = 0
    for facet, values in base.facets.items():
        own = chosen.get(facet, set())
        for v in values:
            alone = run(loaded_store, replace(params_for({**chosen, facet: {v.value}}, q), size=1))
            assert alone.total == v.count, (facet, v.value)
            if facet in MULTIPLE and own and not v.chosen:
                more = run(
                    loaded_store, replace(params_for({**chosen, facet: own | {v.value}}, q), size=1)
                )
                assert more.total == base.total + v.adds, (facet, v.value)
            checked += 1
    assert checked > 10


def test_the_issue_case(loaded_store, rows):
    """TS5 chosen: the TS1 link's number is now what choosing TS1 as well adds, and clicking it
    gives TS5's statements and TS1's (any of the chosen themes)."""
    ts5 = run(loaded_store, SearchParams(theme=("TS5",)))
    ts1 = next(v for v in ts5.facets["theme"] if v.value == "TS1")
    both = run(loaded_store, SearchParams(theme=("TS5", "TS1")))
    union = {r.id for r in rows if r.themes & {"TS5", "TS1"}}
    assert both.total == len(union) == ts5.total + ts1.adds
    assert ts1.count == sum(1 for r in rows if "TS1" in r.themes)
    # a sub-theme of another facet narrows (all facets), as its count says
    sub = next(v for v in ts5.facets["subtheme"] if v.value.startswith("TS5."))
    narrowed = run(loaded_store, SearchParams(theme=("TS5",), subtheme=(sub.value,)))
    assert narrowed.total == sub.count < ts5.total


def test_years(loaded_store, rows, compendium):
    """A year range (one end or both), the page's two fields, and the meetings after XXI: the
    years come from the data, so a range open at the top takes any later meeting."""
    last = max(int(r.year) for r in rows)
    for year, expect in [
        ("2005..2010", lambda y: 2005 <= y <= 2010),
        ("2012..", lambda y: y >= 2012),
        ("..2003", lambda y: y <= 2003),
        (str(last), lambda y: y == last),
    ]:
        params = SearchParams(year=year)
        assert all_ids(loaded_store, params) == {r.id for r in rows if expect(int(r.year))}
    fields = SearchParams.from_query([("year_from", "2005"), ("year_to", "2010")])
    assert fields.year == "2005..2010"
    assert SearchParams.from_query([("year_from", "2012"), ("year_to", "")]).year == "2012.."
    assert SearchParams.from_query([("year", "2001"), ("year_from", ""), ("year_to", "")]).year == (
        "2001"
    )
    # the year facet leaves its own filter out: every year stays offered in the fields
    chosen = run(loaded_store, SearchParams(year="2005..2010"))
    assert {v.value for v in chosen.facets["year"]} == {r.year for r in rows}


def test_old_sort_values(loaded_store):
    """The page's old "best first" option sent sort= (empty): still the default (relevance with
    words), as sort=relevance, the one relevance option now; case and spaces do not matter."""
    for raw in ["", " ", "relevance", "Relevance"]:
        params = SearchParams.from_query([("q", "trafficking"), ("sort", raw)])
        result = run(loaded_store, params)
        assert result.sort == "relevance", raw
    words = [h.id for h in run(loaded_store, SearchParams(q="trafficking", sort=None)).hits]
    assert words == [h.id for h in run(loaded_store, SearchParams(q="trafficking")).hits]
    # without words relevance is the meetings' order, the default's
    plain = [h.id for h in run(loaded_store, SearchParams(sort="relevance")).hits]
    assert plain == [h.id for h in run(loaded_store, SearchParams()).hits]


def test_postgresql_gives_what_sqlite_gives(loaded_store, tmp_path_factory):
    """The same searches on PostgreSQL and on a SQLite copy of the same compilation: the same
    statements in the same order, the same totals, and the same facets (counts, adds, chosen)."""
    if loaded_store.dialect != "postgresql":
        pytest.skip("compares PostgreSQL with SQLite (the SQLite run is the reference)")
    twin = Store(f"sqlite:///{tmp_path_factory.mktemp('twin') / 'rcm.db'}", create=True)
    try:
        twin.ingest(label_compendium(read_compilation()))
        for chosen in [*COMBINATIONS, {}]:
            for q in ("", "trafficking", "migra* -smuggling"):
                params = replace(params_for(chosen, q), sort="oldest", size=100)
                pg, lite = run(loaded_store, params).as_dict(), run(twin, params).as_dict()
                for data in (pg, lite):
                    # scores (and so the order within a meeting) are each backend's own
                    data["hits"] = sorted(h["id"] for h in data["hits"])
                assert pg == lite, (chosen, q)
    finally:
        twin.close()


@pytest.fixture(scope="module")
def client(loaded_store):
    with TestClient(create_app(loaded_store)) as c:
        yield c


def test_selected_filters_and_clear_all(client, rows):
    r = client.get("/search?q=migrants&theme=5&theme=TS1&subtheme=ts3.2&year=2005..2015&sort=")
    assert r.status_code == 200, r.text
    soup = BeautifulSoup(r.text, "html.parser")
    box = soup.select_one(".results .selected-filters")
    chips = box.select("a.chip")
    labels = [c.get_text(" ", strip=True) for c in chips]
    assert labels[0].startswith("Remove filter: TS1 — Human rights") and labels[0].endswith("×")
    assert any(text.startswith("Remove filter: TS5 — Smuggling of migrants") for text in labels), (
        labels
    )
    assert any("TS3 · 3.2 Return and readmission" in text for text in labels), labels
    assert any("year is between 2005 and 2015" in text for text in labels), labels
    # each chip's link is the same search without that one value
    hrefs = {c.get_text(" ", strip=True).split(": ", 1)[1][:3]: c["href"] for c in chips}
    without_ts5 = client.get(hrefs["TS5"])
    assert "theme=TS5" not in hrefs["TS5"] and "theme=TS1" in hrefs["TS5"]
    assert "q=migrants" in hrefs["TS5"] and "subtheme=TS3.2" in hrefs["TS5"]
    after = BeautifulSoup(without_ts5.text, "html.parser").select(".selected-filters a.chip")
    assert len(after) == len(chips) - 1
    clear = box.select_one("a.clear-filters")["href"]
    assert "q=migrants" in clear and not any(
        f"{p}=" in clear for p in ("theme", "subtheme", "year", "category")
    )
    cleared = BeautifulSoup(client.get(clear).text, "html.parser")
    assert cleared.select_one(".selected-filters") is None
    # sub-themes in the facet are labelled with their theme
    [section] = [s for s in soup.select(".facets section") if s.h3.get_text() == "Sub-theme"]
    subs = [a.get_text(" ", strip=True).lstrip("✕ ") for a in section.select("a")]
    assert "TS3 · 3.2 Return and readmission" in subs
    assert subs and all(s.startswith(f"TS{s[2]} · {s[2]}.") for s in subs), subs
    # one relevance option, chosen for sort= (the old "best first")
    options = [o["value"] for o in soup.select("select#sort option")]
    assert options == ["relevance", "oldest", "newest"]
    assert soup.select_one("select#sort option[selected]")["value"] == "relevance"


def test_the_page_shows_truthful_numbers(client):
    """With TS5 chosen, each other theme's link shows +N, and the page it leads to has total + N
    statements; the fields of the year form keep the rest of the search."""
    r = client.get("/api/search?theme=TS5&size=1")
    data = r.json()
    soup = BeautifulSoup(client.get("/search?theme=TS5").text, "html.parser")
    theme_section = next(
        s for s in soup.select(".facets section") if s.select_one("a[href*='theme=TS1']")
    )
    link = theme_section.select_one("a[href*='theme=TS1']")
    shown = link.find_next_sibling("span", class_="count")
    ts1 = next(v for v in data["facets"]["theme"] if v["value"] == "TS1")
    assert shown.select_one("[aria-hidden]").get_text() == f"+{ts1['adds']}"
    assert "adds" in shown.get_text()
    target = client.get("/api/search?" + link["href"].split("?", 1)[1]).json()
    assert target["total"] == data["total"] + ts1["adds"]
    form = soup.select_one("form.year-range")
    hidden = {(i["name"], i["value"]) for i in form.select("input[type=hidden]")}
    assert hidden == {("theme", "TS5")}
    years = [o["value"] for o in form.select("select#year_from option")]
    assert years[0] == "" and years[1:] == sorted(years[1:]) and len(years) > 10
    chosen = client.get(f"/search?theme=TS5&year_from={years[3]}&year_to={years[5]}")
    assert chosen.status_code == 200
    page = BeautifulSoup(chosen.text, "html.parser")
    assert page.select_one("select#year_from option[selected]")["value"] == years[3]
    assert page.select_one("select#year_to option[selected]")["value"] == years[5]


def test_spanish_chips(client):
    r = client.get("/search?theme=TS5&category=commitment&several=yes&lang=es")
    soup = BeautifulSoup(r.text, "html.parser")
    box = soup.select_one(".selected-filters")
    assert box.select_one("h2").get_text() == "Filtros seleccionados"
    text = box.get_text(" ", strip=True)
    assert "Quitar filtro" in text and "clasificada en varios temas" in text
    assert "la categoría es compromiso" in text
    assert box.select_one("a.clear-filters").get_text() == "Quitar todos los filtros"


def test_the_cli_follows_the_same_rule(loaded_store):
    """`rcm search --theme TS5`: the chosen theme starred, the others with what they add."""
    from click.testing import CliRunner

    from rcm.cli import cli

    out = CliRunner().invoke(
        cli, ["--db", loaded_store.url, "search", "--theme", "TS5"], catch_exceptions=False
    )
    assert out.exit_code == 0, out.output
    adds = next(
        v.adds
        for v in run(loaded_store, SearchParams(theme=("TS5",))).facets["theme"]
        if v.value == "TS1"
    )
    [line] = [x for x in out.output.splitlines() if "*TS5" in x]
    assert f"TS1 +{adds}" in line
