"""The public reading pages (issue 18, items 7 and 8): statement, theme and meeting pages with the
compilation's category colours and a legend, notes as plain text said once, theme names beside
their codes, meetings with their place and date, breadcrumbs, previous/next meeting, a consultation
sentence true for whoever reads it; /about in plain words, with charts that make one point each.
Every point on the rendered pages, in English and in Spanish."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from browserkit import CHROMIUM, chromium, served
from rcm import consult, taxonomy
from rcm.model import Category
from rcm.parse import read_compilation
from rcm.search import theme_filter
from rcm.store import Store
from rcm.suggest import label_compendium
from rcm.web.charts import nice_ticks
from webclient import add_people, client_for

SITE_CSS = Path(__file__).parents[1] / "src" / "rcm" / "web" / "static" / "site.css"
PLACE, DATE = "Managua, Nicaragua", "2015-06-25"  # given to XX RCM here: the compilation has none
LANGS = ["en", "es"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The compilation (XX RCM with a place and date), three people, a TS5 round that is not
    public (open) and a TS6 round that is published (public and closed)."""
    compendium = label_compendium(read_compilation())
    meetings = [
        replace(m, place=PLACE, date=DATE) if m.code == "XX" else m for m in compendium.meetings
    ]
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('pages') / 'rcm.db'}", create=True)
    store.ingest(replace(compendium, meetings=meetings))
    passwords = add_people(store, "sec", "cri", "obs")
    secret = consult.open_round(
        store, "Inputs TS5", filters=[theme_filter([5])], deadline="2030-01-01"
    )
    published = consult.open_round(store, "Inputs TS6", filters=[theme_filter([6])], public=True)
    consult.close_round(store, published.id)
    yield {
        "store": store,
        "compendium": compendium,
        "passwords": passwords,
        "secret": secret,
        "published": published,
        "anonymous": client_for(store),
    }
    store.close()


def soup_of(client, url: str, lang: str = "en") -> BeautifulSoup:
    r = client.get(url, params={"lang": lang})
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return BeautifulSoup(r.text, "html.parser")


def text_of(node) -> str:
    return " ".join(node.get_text(" ").split())


def themes_of(compendium, sid: str) -> set[int]:
    return {p.theme for p in compendium.placements if p.statement_id == sid}


def only_in(compendium, theme: int) -> str:
    """A statement filed under ``theme`` alone."""
    return next(s.id for s in compendium.statements if themes_of(compendium, s.id) == {theme})


# --- the category colours ---------------------------------------------------------------------


def luminance(rgb: str) -> float:
    def channel(c: int) -> float:
        x = c / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    rgb = rgb.lstrip("#")
    if len(rgb) == 3:
        rgb = "".join(c * 2 for c in rgb)
    r, g, b = (int(rgb[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_category_shades_keep_text_and_links_readable():
    """WCAG AA (4.5:1) for the page's text, muted text and links on every category's shade."""
    root = re.search(r":root \{([^}]*)\}", SITE_CSS.read_text()).group(1)
    ink = {
        k: v
        for k, v in re.findall(r"--(ink|muted|accent): #([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", root)
    }
    assert set(ink) == {"ink", "muted", "accent"}
    for category, rgb in taxonomy.CATEGORY_COLOURS.items():
        for name, colour in ink.items():
            assert contrast(colour, rgb) >= 4.5, (category, name, contrast(colour, rgb))


def test_categories_css_shades_rows_with_the_compilations_colours(world):
    css = world["anonymous"].get("/categories.css").text
    for category in taxonomy.CATEGORY_COLOURS:
        rule = re.search(
            rf"\.cat-{category.value}, tr\.cat-{category.value} > td \{{([^}}]*)\}}", css
        )
        assert rule and f"var(--cat-{category.value})" in rule.group(1)
    assert "border-left" not in css  # the old dark edges are gone


@pytest.mark.parametrize("lang", LANGS)
def test_a_legend_beside_the_colours_on_theme_meeting_and_statement_pages(world, lang):
    c, compendium = world["anonymous"], world["compendium"]
    sid = only_in(compendium, 3)
    words = [taxonomy.label("category", x.value, lang) for x in Category]
    for url, rows in (
        ("/themes/3", "table.compilation tbody tr"),
        ("/meetings/XIX", "ol.statements > li"),
        (f"/statements/{sid}", "blockquote"),
    ):
        soup = soup_of(c, url, lang)
        legend = soup.select_one(".category-legend")
        assert legend, url
        swatches = [s["class"][1] for s in legend.select(".swatch")]
        assert swatches[:3] == ["cat-principle", "cat-understanding", "cat-commitment"]
        legend_text = text_of(legend).lower()
        assert all(w.lower() in legend_text for w in words), (url, legend_text)
        shaded = soup.select(rows)
        assert shaded and all(
            any(k.startswith("cat-") for k in row.get("class", [])) for row in shaded
        ), url
    # each row's colour is its category's, and the category is also written in words
    soup = soup_of(c, "/themes/3", lang)
    for row in soup.select("table.compilation tbody tr"):
        sid = row.select_one(".id a").text
        category = next(s.category for s in compendium.statements if s.id == sid)
        assert row["class"] == [f"cat-{category.value}"]
        assert (
            text_of(row.select_one("td.category"))
            == taxonomy.label("category", category.value, lang).lower()
        )


# --- notes, theme names, meetings ----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_notes_are_plain_text_and_said_once_per_table(world, lang):
    c, compendium = world["anonymous"], world["compendium"]
    everywhere = (
        "Also relevant for all the other themes."
        if lang == "en"
        else ("También pertinente para todos los demás temas.")
    )
    seen_everywhere = 0
    for theme in range(1, 7):
        soup = soup_of(c, f"/themes/{theme}", lang)
        main = soup.select_one("main")
        assert "*" not in text_of(main), theme
        for section in main.select("section[id^=sub-]"):
            notes = [text_of(li) for li in section.select("ol.notes li")]
            assert len(notes) == len(set(notes)), notes  # each note once
            seen_everywhere += sum(everywhere in n for n in notes)
            ids = {li["id"] for li in section.select("ol.notes li")}
            refs = [a["href"][1:] for a in section.select("a.note-ref")]
            assert set(refs) == ids  # every row's marker leads to its note, every note is used
            noted = sum(
                1
                for p in compendium.placements
                if p.theme == theme and p.note and f"sub-{p.subtheme}" == section["id"]
            )
            assert len(refs) == noted
    assert seen_everywhere  # "*Statement also relevant for all the other TSs*", in plain words
    # display only: the stored and exported notes keep the source's text
    api = c.get("/api/themes/1").json()
    assert any(
        st["note"] == "*Statement also relevant for all the other TSs*"
        for sub in api["subthemes"]
        for st in sub["statements"]
    )


@pytest.mark.parametrize("lang", LANGS)
def test_a_statement_page_says_each_note_once(world, lang):
    c, compendium = world["anonymous"], world["compendium"]
    notes = {}
    for p in compendium.placements:
        if p.note and "all the other" in p.note:
            notes[p.statement_id] = notes.get(p.statement_id, 0) + 1
    sid = max(notes, key=notes.get)
    assert notes[sid] >= 2  # printed under several themes in the compilation
    soup = soup_of(c, f"/statements/{sid}", lang)
    items = [" ".join(li.get_text().split()) for li in soup.select("ul.notes li")]
    assert len(items) == 1
    assert "*" not in items[0] and "“Statement also relevant for all the other TSs”" in items[0]
    assert "*" not in text_of(soup.select_one("main"))


@pytest.mark.parametrize("lang", LANGS)
def test_theme_names_beside_their_codes(world, lang):
    c, compendium = world["anonymous"], world["compendium"]
    sid = next(s.id for s in compendium.statements if len(themes_of(compendium, s.id)) >= 2)
    for url in (f"/statements/{sid}", "/meetings/XIX", "/themes", "/themes/5", "/themes/5/2"):
        main = soup_of(c, url, lang).select_one("main")
        codes = re.findall(r"TS(\d)", text_of(main))
        assert codes, url
        for n in set(codes):
            assert f"TS{n} — {taxonomy.label('theme', n, lang)}" in text_of(main), (url, n)
        # no link reads a bare code
        assert not [a for a in main.select("a") if re.fullmatch(r"TS\d", a.text.strip())], url
    soup = soup_of(c, f"/statements/{sid}", lang)
    placed = [text_of(li) for li in soup.select("ul.placements li")]
    for theme in themes_of(compendium, sid):
        name = taxonomy.label("theme", theme, lang)
        assert any(x.startswith(f"TS{theme} — {name}") for x in placed)


@pytest.mark.parametrize("lang", LANGS)
def test_meetings_with_their_place_and_date(world, lang):
    c, compendium = world["anonymous"], world["compendium"]
    soup = soup_of(c, "/meetings/XX", lang)
    facts = text_of(soup.select_one("dl.meeting-facts"))
    assert PLACE in facts and DATE in facts
    # beside every reference to the meeting: the statement page and the theme tables
    sid = next(s.id for s in compendium.statements if s.meeting == "XX")
    meta = text_of(soup_of(c, f"/statements/{sid}", lang).select_one(".meta"))
    assert f"({PLACE}, {DATE})" in meta
    theme = min(themes_of(compendium, sid))
    cells = [
        text_of(td)
        for td in soup_of(c, f"/themes/{theme}", lang).select("td.meeting")
        if "XX " in td.text and "XXI" not in td.text
    ]
    assert cells and all(f"({PLACE}, {DATE})" in x for x in cells)
    # what is not known is said so, and the year that is known is shown
    facts = text_of(soup_of(c, "/meetings/I", lang).select_one("dl.meeting-facts"))
    unknown = "not recorded in the sources" if lang == "en" else "no consta en las fuentes"
    assert unknown in facts and "1996" in facts


@pytest.mark.parametrize("lang", LANGS)
def test_previous_and_next_meeting(world, lang):
    c = world["anonymous"]
    soup = soup_of(c, "/meetings/XIX", lang)
    pager = soup.select_one("nav.meeting-pager")
    assert pager["aria-label"] == ("Other meetings" if lang == "en" else "Otras reuniones")
    assert pager.select_one("a[rel=prev]")["href"] == "/meetings/XVIII"
    assert pager.select_one("a[rel=next]")["href"] == "/meetings/XX"
    assert f"({PLACE}, {DATE})" in text_of(pager.select_one("a[rel=next]"))
    assert "(2013)" in text_of(pager.select_one("a[rel=prev]"))
    first = soup_of(c, "/meetings/I", lang).select_one("nav.meeting-pager")
    assert not first.select_one("a[rel=prev]") and first.select_one("a[rel=next]")
    last = soup_of(c, "/meetings/XXI", lang).select_one("nav.meeting-pager")
    assert last.select_one("a[rel=prev]") and not last.select_one("a[rel=next]")


@pytest.mark.parametrize("lang", LANGS)
def test_breadcrumbs_lead_from_the_theme_to_the_statement(world, lang):
    c, compendium = world["anonymous"], world["compendium"]
    sid = only_in(compendium, 5)
    p = min(
        (p for p in compendium.placements if p.statement_id == sid),
        key=lambda p: (p.theme, p.subtheme),
    )
    nav = soup_of(c, f"/statements/{sid}", lang).select_one("nav.breadcrumbs")
    assert nav["aria-label"] == ("Breadcrumb" if lang == "en" else "Ruta de navegación")
    items = nav.select("ol > li")
    assert [li.a["href"] if li.a else None for li in items] == [
        "/themes",
        "/themes/5",
        f"/themes/5/{p.subtheme}",
        None,
    ]
    assert text_of(items[1]) == f"TS5 — {taxonomy.label('theme', 5, lang)}"
    assert text_of(items[2]) == taxonomy.label("subtheme", f"5.{p.subtheme}", lang)
    assert items[3].select_one("[aria-current=page]") and sid in text_of(items[3])
    # the sub-theme's page continues the trail
    sub = soup_of(c, f"/themes/5/{p.subtheme}", lang).select("nav.breadcrumbs li")
    assert [li.a["href"] if li.a else None for li in sub] == ["/themes", "/themes/5", None]


# --- the consultation sentence -----------------------------------------------------------------


def still_valid(soup: BeautifulSoup) -> str:
    """The "Still valid?" part of a statement page."""
    heading = soup.select_one("h2 + p.consultation").find_previous_sibling("h2")
    out = []
    for node in heading.find_next_siblings():
        if node.name == "h2":
            break
        out.append(text_of(node))
    return " ".join(out)


@pytest.mark.parametrize("lang", LANGS)
def test_the_consultation_sentence_is_true_for_whoever_reads_it(world, lang):
    from rcm.web import i18n

    es = i18n.translations("es")

    def say(en: str) -> str:
        return en if lang == "en" else es.ugettext(en)

    never = say("No consultation round has asked the Member Countries about this statement yet.")
    unpublished = say(
        "No published consultation round has asked the Member Countries about this statement. "
        "The answers of a round are shown here once the Secretariat publishes them."
    )
    compendium, store = world["compendium"], world["store"]
    asked = only_in(compendium, 5)  # in the non-public TS5 round only
    alone = only_in(compendium, 1)  # in no round
    public = only_in(compendium, 6)  # in the published TS6 round
    secret, published = world["secret"], world["published"]

    # Anonymous: never told that nothing asks while a round does; nothing about the round either,
    # and the same words whether or not a non-public round asks.
    anonymous = world["anonymous"]
    for sid in (asked, alone):
        part = still_valid(soup_of(anonymous, f"/statements/{sid}", lang))
        assert never not in part and unpublished in part
        assert secret.title not in part
    part = still_valid(soup_of(anonymous, f"/statements/{public}", lang))
    assert published.title in part and unpublished not in part and never not in part

    # The Secretariat and a focal point: the rounds that ask about it.
    for who in ("sec", "cri"):
        c = client_for(store, world["passwords"], who)
        soup = soup_of(c, f"/statements/{asked}", lang)
        part = still_valid(soup)
        assert secret.title in part and never not in part and unpublished not in part
        assert soup.select_one(f'ul.rounds-asking a[href="/rounds/{secret.id}"]')
        assert say("open") in part and "2030-01-01" in part
        part = still_valid(soup_of(c, f"/statements/{alone}", lang))
        assert never in part and secret.title not in part


# --- the theme table's width -------------------------------------------------------------------


def test_the_theme_table_gives_the_statement_the_width(world):
    soup = soup_of(world["anonymous"], "/themes/5")
    for row in soup.select("table.compilation tbody tr"):
        cells = row.find_all("td", recursive=False)
        assert [c["class"] for c in cells] == [["text"], ["meeting"], ["category"]]
    css = SITE_CSS.read_text().split("/* --- pages --- */")[1]
    assert re.search(
        r"td\.meeting, table\.compilation td\.category \{ width: 1%; white-space: nowrap", css
    )


# --- /about -----------------------------------------------------------------------------------


def test_nice_ticks_reach_above_the_tallest_bar():
    for peak in range(0, 2000):
        ticks = nice_ticks(peak)
        assert ticks[0] == 0 and ticks[-1] >= peak and len(ticks) <= 6
        step = ticks[1] - ticks[0]
        assert ticks[-1] - step < max(peak, 1)  # no empty band above the tallest
    assert nice_ticks(27) == [0, 10, 20, 30]


@pytest.mark.parametrize("lang", LANGS)
def test_about_in_plain_words(world, lang):
    c = world["anonymous"]
    soup = soup_of(c, "/about", lang)
    headings = [text_of(h) for h in soup.select("section.findings h3")]
    assert headings
    from rcm.check import KINDS

    for h in headings:
        assert not any(code in h for code in KINDS), h  # no internal code
        assert re.fullmatch(r"[A-ZÁÉÍÓÚÑ][a-záéíóúñ ].+ \(\d+\)", h), h  # a sentence, a count
    first = "A note says the statement" if lang == "en" else "Una nota dice que la disposición"
    assert headings[0].startswith(first)


@pytest.mark.parametrize("lang", LANGS)
def test_about_charts_make_one_point_each(world, lang):
    c = world["anonymous"]
    data = c.get("/api/about").json()
    soup = soup_of(c, "/about", lang)
    charts = soup.select("section[class^=chart-]")
    assert [s["class"][0] for s in charts] == ["chart-meetings", "chart-themes", "chart-categories"]
    for s in charts:
        svg = s.select_one("svg.chart")
        # the heading says the point, and it is the chart's own title
        assert text_of(s.h2) == svg.title.text == svg["aria-label"]
    # 1. the meeting with the most statements, named in the title, and its bar under the top tick
    totals = {m["code"]: m["statements"] for m in data["chart_meetings"]}
    top = max(totals, key=totals.get)
    from rcm import taxonomy as tx

    title = text_of(charts[0].h2)
    assert tx.meeting_label(top, lang) in title and str(totals[top]) in title
    svg = charts[0].select_one("svg")
    ticks = [int(t.text) for t in svg.select("text.tick") if t.text.isdigit()]
    assert max(ticks) >= max(totals.values())
    grid = [float(line["y1"]) for line in svg.select("line.grid")]
    bars = [float(r["y"]) for r in svg.select("rect.bar")]
    assert min(bars) >= min(grid) - 0.01  # no bar rises above the top tick
    # 2. themes: labelled directly with their names, all one colour (nothing to tell apart)
    themes = charts[1].select_one("svg")
    labels = [t.text for t in themes.select("text.label")]
    assert labels == [f"TS{n} — {tx.label('theme', n, lang)}" for n in range(1, 7)]
    assert len({r["fill"] for r in themes.select("rect.bar")}) == 1
    per_theme = {r["theme"]: r["statements"] for r in data["chart_categories"]}
    best = max(per_theme, key=per_theme.get)
    assert f"TS{best} — {tx.label('theme', best, lang)}" in text_of(charts[1].h2)
    # 3. categories: no "not yet assigned" when every statement has a category
    assert "unassigned" not in data["category_totals"]
    unassigned = "not yet assigned" if lang == "en" else "sin asignar"
    assert unassigned not in text_of(charts[2])
    best = max(data["category_totals"], key=data["category_totals"].get)
    assert tx.label("category", best, lang).lower() in text_of(charts[2].h2)


def test_about_shows_not_yet_assigned_only_when_some_are(tmp_path, compendium):
    compendium = label_compendium(compendium)
    first = compendium.statements[0]
    loose = replace(first, category=None, category_source=None, category_confidence=None)
    store = Store(f"sqlite:///{tmp_path / 'rcm.db'}", create=True)
    try:
        store.ingest(replace(compendium, statements=[loose, *compendium.statements[1:]]))
        soup = soup_of(client_for(store), "/about")
        section = soup.select_one("section.chart-categories")
        assert "not yet assigned" in [t.text for t in section.select("svg text.label")]
        head = [text_of(th) for th in section.select("table thead th")]
        assert head[-1] == "not yet assigned"
    finally:
        store.close()


# --- in Chromium: the theme table at desktop and phone widths -------------------------------------


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("RCM_REQUIRE_BROWSER"),
    reason="chromium is not installed",
)
def test_the_theme_table_reads_in_a_browser(world, tmp_path):
    with served(world["store"]) as url, chromium(tmp_path) as browser:
        for width in (1366, 390):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{url}/themes/1")
            sizes = page.evaluate(
                """() => {
                  const width = (s) => document.querySelector(s).getBoundingClientRect().width;
                  return {
                    page: document.documentElement.scrollWidth,
                    table: width('table.compilation'),
                    text: width('table.compilation td.text'),
                  };
                }"""
            )
            assert sizes["page"] <= width, (width, sizes)  # no sideways scrolling
            # the statement gets the table's width (three words a line was about 90 px)
            assert sizes["text"] >= 0.7 * sizes["table"], (width, sizes)
            page.close()
