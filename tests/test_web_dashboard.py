"""A round's dashboard and its regional position on the web: countries by name in the reader's
language, the round's own themes as columns with totals and each country's progress, numbers
readable on every shade (WCAG AA, computed here from the page and its stylesheet), statement texts
beside their ids, and the position as Word and PDF downloads. The round is a TS5 round of 31
statements, answered in part; on PostgreSQL too where the answers are counted (``counted``)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC
from pathlib import Path

import docx
import pytest
from bs4 import BeautifulSoup

from rcm import clock, consult, drafts, users
from rcm.export.pdf import pdf_available
from rcm.search import category_filter, subtheme_filter, theme_filter, xref_filter
from rcm.store import Store
from rcm.suggest import label_compendium
from rcm.web import charts
from webclient import add_people, client_for

NAMES = {
    "en": {"MEX": "Mexico", "USA": "United States", "DOM": "Dominican Republic"},
    "es": {"MEX": "México", "USA": "Estados Unidos", "DOM": "República Dominicana"},
}


def build(url: str):
    """The compilation, the people, a TS5 round answered in part and a TS1-or-TS5 round."""
    from rcm.parse import read_compilation

    store = Store(url, create=True)
    store.ingest(label_compendium(read_compilation()))
    passwords = add_people(store, "sec", "cri", "mex", "obs")
    rnd = consult.open_round(store, "TS5", filters=[theme_filter([5])])
    ids = [s["id"] for s in consult.round_status(store, rnd.id)["statements"]]
    for sid in ids[:23]:
        consult.set_opinion(store, rnd.id, "CRI", sid, "valid", author="cri")
    for sid in ids:
        consult.set_opinion(store, rnd.id, "MEX", sid, "valid", author="mex")
    consult.set_opinion(store, rnd.id, "GTM", ids[2], "abstain", author="sec")
    consult.set_opinion(
        store, rnd.id, "MEX", ids[0], "no longer valid", reason="Superseded.", author="mex"
    )
    consult.set_opinion(
        store, rnd.id, "CRI", ids[1], "valid with changes",
        proposed_wording="Una redacción nueva.", author="cri",
    )  # fmt: skip
    both = consult.open_round(store, "TS1 and TS5", filters=[theme_filter([1, 5])])
    return store, passwords, rnd, both


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    store, *rest = build(f"sqlite:///{tmp_path_factory.mktemp('dash') / 'rcm.db'}")
    yield (store, *rest)
    store.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def counted(request, site):
    """The same site on SQLite and on PostgreSQL, for the tests that count answers: (site, a
    client signed in as the Secretariat)."""
    from conftest import _fresh_postgres_database

    if request.param == "sqlite":
        yield site, client_for(site[0], site[1], "sec")
        return
    with _fresh_postgres_database() as url:
        store, *rest = build(url)
        yield (store, *rest), client_for(store, rest[0], "sec")
        store.close()


@pytest.fixture(scope="module")
def sec(site):
    store, passwords, *_ = site
    return client_for(store, passwords, "sec")


def page(client, url: str, lang: str = "en") -> BeautifulSoup:
    r = client.get(f"{url}?lang={lang}")
    assert r.status_code == 200, r.text[:300]
    return BeautifulSoup(r.text, "html.parser")


def statement_themes(store: Store, ids: list[str]) -> dict[str, set[int]]:
    return {s.id: {p.theme for p in places} for s, places in store.statements_by_ids(ids)}


# --- the round's themes --------------------------------------------------------------------------


def test_the_round_themes_are_those_its_scope_names():
    titles = {(3, 2): "Protection and assistance, and return", (5, 1): "Trafficking"}
    placed = [[1, 5], [5], [2, 5, 6]]
    assert consult.round_themes(theme_filter([5]).sentence, placed) == [5]
    assert consult.round_themes(theme_filter([1, 3, 5]).sentence, placed) == [1, 3, 5]
    sub = subtheme_filter([(3, 2), (5, 1)], titles).sentence
    assert consult.round_themes(sub, placed) == [3, 5]
    both = f"{category_filter(['commitment']).sentence} and {theme_filter([2]).sentence}"
    assert consult.round_themes(both, placed) == [2]
    # No theme named (every statement, a category, a cross-reference): the themes filed under.
    for scope in ("all statements", category_filter(["principle"]).sentence):
        assert consult.round_themes(scope, placed) == [1, 2, 5, 6]
    assert consult.round_themes(xref_filter([3]).sentence, placed) == [1, 2, 5, 6]


def test_only_the_rounds_own_themes_are_columns(counted):
    (store, _, rnd, both), sec = counted
    status = consult.round_status(store, rnd.id)
    themes = statement_themes(store, [s["id"] for s in status["statements"]])
    # The TS5 round's statements are also filed under other themes; those are no columns.
    assert set().union(*themes.values()) - {5}
    for r, want in ((rnd, ["TS5"]), (both, ["TS1", "TS5"])):
        soup = page(sec, f"/rounds/{r.id}")
        heads = [th.get_text(" ", strip=True) for th in soup.select("table.heat thead th")]
        assert [h.split()[0] for h in heads[1:-3]] == want, heads
        # Each column names its theme and how many statements it holds.
        titles = {th.number: th.title for th in store.themes()}
        for head, code in zip(heads[1:-3], want, strict=True):
            assert titles[int(code[2:])] in head and re.search(r"\d+ statements$", head), head


# --- country names -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_countries_by_name_in_the_readers_language(site, sec, lang):
    _, _, rnd, _ = site
    soup = page(sec, f"/rounds/{rnd.id}", lang)
    rows = {
        tr.select_one("abbr.iso").get_text(): tr.select_one("th").get_text(" ", strip=True)
        for tr in soup.select("table.heat tbody tr")
    }
    assert len(rows) == len(consult.member_countries())
    for iso, name in NAMES[lang].items():
        assert rows[iso].startswith(name), rows[iso]
    # The statements' table heads its country columns with the name too, the code beside it.
    heads = soup.select("table.status th.dash-country")
    assert {h.abbr.get_text() for h in heads} == set(consult.member_countries())
    assert NAMES[lang]["MEX"] in {h.select_one(".dash-name").get_text() for h in heads}
    position = page(sec, f"/rounds/{rnd.id}/position", lang)
    objections = [dt.get_text(" ", strip=True) for dt in position.select("dl.by-country dt")]
    assert f"{NAMES[lang]['MEX']} MEX" in objections
    assert NAMES[lang]["USA"] in position.get_text()  # among those not answered yet


# --- totals and progress -------------------------------------------------------------------------


def test_totals_and_progress_are_those_of_the_answers(counted):
    (store, _, rnd, _), sec = counted
    ids = [s["id"] for s in consult.round_status(store, rnd.id)["statements"]]
    in_ts5 = [sid for sid, ts in statement_themes(store, ids).items() if 5 in ts]
    given_ = consult.opinions(store, rnd.id)
    answered = Counter(o.country for o in given_)
    latest = {o.country: max(p.at for p in given_ if p.country == o.country) for o in given_}
    soup = page(sec, f"/rounds/{rnd.id}")
    members = consult.member_countries()
    grid = {}
    for tr in soup.select("table.heat tbody tr"):
        iso = tr.select_one("abbr.iso").get_text()
        grid[iso] = [td.get_text(" ", strip=True) for td in tr.select("td")]
    assert len(ids) == len(in_ts5) == 31
    for iso in members:
        n = answered.get(iso, 0)
        cell, total, _state, sent = grid[iso]
        assert (cell, total) == (str(n), f"{n} of 31"), (iso, grid[iso])
        # The answers submitted, and the day of the latest (no drafts in this round).
        day = clock.aware(latest[iso]).astimezone(UTC).date().isoformat() if n else ""
        want = f"{n} answer{'s' if n > 1 else ''} latest on {day}" if n else "nothing yet"
        assert sent == want, (iso, sent)
    assert grid["CRI"][2] == "in progress" and grid["BLZ"][2] == "not started"
    assert grid["MEX"][2] == "every statement answered"
    foot = [td.get_text(" ", strip=True) for td in soup.select("table.heat tfoot td")]
    given, possible = sum(answered.values()), 31 * len(members)
    assert given == 23 + 31 + 1
    assert foot == [
        f"{given} of {possible}",
        f"{given} of {possible}",
        f"1 of {len(members)} finished",
        "",  # no draft left unsubmitted
    ]
    assert f"{given} of {possible} answers given" in soup.get_text(" ", strip=True)


def test_a_statement_in_two_of_the_rounds_themes_counts_in_both_columns(counted):
    (store, _, _, both), sec = counted
    ids = [s["id"] for s in consult.round_status(store, both.id)["statements"]]
    themes = statement_themes(store, ids)
    assert any({1, 5} <= ts for ts in themes.values())
    soup = page(sec, f"/rounds/{both.id}")
    heads = [th.get_text(" ", strip=True) for th in soup.select("table.heat thead th")[1:3]]
    for head, theme in zip(heads, (1, 5), strict=True):
        n = sum(1 for ts in themes.values() if theme in ts)
        assert f"{n} statements" in head, head
    assert "counts in each of their columns" in soup.get_text()


# --- contrast ------------------------------------------------------------------------------------


def wcag_luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    channels = []
    for i in (0, 2, 4):
        v = int(h[i : i + 2], 16) / 255
        channels.append(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def wcag_contrast(a: str, b: str) -> float:
    hi, lo = sorted((wcag_luminance(a), wcag_luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def css_rules(css: str) -> dict[str, dict[str, str]]:
    rules: dict[str, dict[str, str]] = {}
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        decls = dict(
            (k.strip(), v.strip())
            for k, v in (d.split(":", 1) for d in body.split(";") if ":" in d)
        )
        for sel in selector.split(","):
            rules.setdefault(" ".join(sel.split()), {}).update(decls)
    return rules


def test_every_cell_reads_at_wcag_aa_and_the_shades_have_a_legend(site, sec):
    _, _, rnd, _ = site
    rules = css_rules(sec.get("/static/site.css").text)
    soup = page(sec, f"/rounds/{rnd.id}")
    cells = soup.select("table.heat tbody td[class^=heat-]")
    assert len(cells) == len(consult.member_countries())
    levels = set()
    for td in cells:
        (level,) = [c for c in td["class"] if re.fullmatch(r"heat-\d", c)]
        rule = rules[f".{level}"]
        ratio = wcag_contrast(rule["color"], rule["background"])
        assert ratio >= 4.5, (level, rule, ratio)
        levels.add(level)
    # The darkest shade is among them (Mexico answered every statement), the lightest, and Costa
    # Rica's 23 of 31, a middle one.
    assert {"heat-0", "heat-3", "heat-5"} <= levels
    # Every shade the page may use reads, and the stylesheet holds the shades charts.py defines.
    for i, background in enumerate(charts.HEAT_LEVELS):
        rule = rules[f".heat-{i}"]
        assert rule == {"background": background, "color": charts.ink_for(background)}
        assert wcag_contrast(rule["color"], rule["background"]) >= 4.5
    legend = soup.select(".heat-legend li")
    assert len(legend) == len(charts.HEAT_LEVELS)
    assert all(li.select_one(".heat-swatch") for li in legend)
    assert "none answered" in legend[0].get_text() and "all answered" in legend[-1].get_text()


def test_ink_is_chosen_from_the_background():
    assert charts.ink_for("#ffffff") == "#1b1b1b" and charts.ink_for("#08306b") == "#ffffff"
    for step in range(101):
        shade = charts.blend("#0b5394", step / 100)
        assert wcag_contrast(charts.ink_for(shade), shade) >= 4.5, shade
    assert [charts.heat_level(n, 31) for n in (0, 1, 8, 16, 24, 30, 31)] == [0, 1, 2, 3, 4, 4, 5]


# --- statement texts -----------------------------------------------------------------------------


def test_statement_texts_beside_their_ids(site, sec):
    store, _, rnd, _ = site
    ids = [s["id"] for s in consult.round_status(store, rnd.id)["statements"]]
    texts = {s.id: s.text for s, _ in store.statements_by_ids(ids)}
    soup = page(sec, f"/rounds/{rnd.id}")
    rows = soup.select("table.status tbody tr")
    assert len(rows) == len(ids)
    for tr in rows:
        sid = tr.select_one("a").get_text()
        shown = tr.select_one(".dash-text")
        assert shown["lang"] == "en"  # the whole text is a link away, on the statement's page
        visible = shown.get_text()
        assert len(visible) <= 160 and texts[sid].startswith(visible.rstrip("…").rstrip())
    # The position gives every statement in full, whatever its status.
    position = page(sec, f"/rounds/{rnd.id}/position")
    entries = position.select("ol.position-entries > li")
    listed = {li.select_one("p.id a").get_text() for li in entries}
    assert listed == set(ids)
    for li in entries:
        sid = li.select_one("p.id a").get_text()
        assert " ".join(texts[sid].split()) in li.select_one(".statement-text").get_text(" ")
    pending = position.find("h2", string="Pending").find_next("ol")
    assert len(pending.select(":scope > li")) == len(ids) - 1  # all but the contested one


# --- drafts not yet submitted ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_secretariat_sees_how_many_drafts_a_country_has_not_submitted(site, sec, lang):
    store, passwords, rnd, _ = site
    ids = [s["id"] for s in consult.round_status(store, rnd.id)["statements"]]
    secret = "Una redacción que nadie debe ver todavía."
    fields = {f"v:{sid}": "valid" for sid in ids[25:27]}
    fields |= {f"v:{ids[27]}": "valid with changes", f"w:{ids[27]}": secret}
    cri = users.get_user(store, "cri")
    drafts.save(store, cri, consult.get_round(store, rnd.id), "CRI", fields)
    try:
        words = {
            "en": ("3 drafts not submitted", "nothing yet"),
            "es": ("3 borradores sin enviar", "ninguna todavía"),
        }[lang]
        soup = page(sec, f"/rounds/{rnd.id}", lang)
        rows = {
            tr.select_one("abbr.iso").get_text(): tr.select_one("td.dash-submitted")
            for tr in soup.select("table.heat tbody tr")
        }
        assert rows["CRI"].select_one(".dash-drafts").get_text() == words[0]
        assert words[1] in rows["BLZ"].get_text()
        assert not rows["MEX"].select(".dash-drafts")  # MEX has no draft
        foot = soup.select("table.heat tfoot td")[-1].get_text(strip=True)
        assert foot == words[0]
        # Still 23 submitted: a draft is no answer, and what it says is not shown.
        assert (
            rows["CRI"]
            .get_text(" ", strip=True)
            .startswith({"en": "23 answers", "es": "23 respuestas"}[lang])
        )
        assert secret not in soup.get_text()
        # An observer sees the submitted answers but not the drafts.
        obs = client_for(store, passwords, "obs")
        seen = page(obs, f"/rounds/{rnd.id}", lang)
        assert seen.select("td.dash-submitted")
        assert not seen.select(".dash-drafts") and words[0] not in seen.get_text()
    finally:
        drafts.discard(store, rnd.id, "CRI", ids)
    assert drafts.submissions(store, rnd.id, ["CRI"])["CRI"].unsubmitted == 0


# --- the position as Word and PDF ----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_position_as_word(site, sec, lang):
    store, _, rnd, _ = site
    soup = page(sec, f"/rounds/{rnd.id}/position", lang)
    link = soup.select_one(".position-downloads a[href*='position.docx']")
    assert link["href"] == f"/rounds/{rnd.id}/position.docx?lang={lang}"
    r = sec.get(link["href"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    want = f'attachment; filename="rcm-round-{rnd.id}-position-{lang}.docx"'
    assert r.headers["content-disposition"] == want
    document = docx.Document(io.BytesIO(r.content))
    paragraphs = [p.text for p in document.paragraphs]
    cells = " ".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    headings = {p.text for p in document.paragraphs if p.style.name.startswith("Heading")}
    ids = [s["id"] for s in consult.round_status(store, rnd.id)["statements"]]
    for s, _ in store.statements_by_ids(ids):
        assert " ".join(s.text.split())[:80] in " ".join(cells.split()), s.id
    name = {"en": "Mexico (MEX)", "es": "México (MEX)"}[lang]
    assert f"{name}: Superseded." in cells  # the objection, by country name, with its reason
    if lang == "es":
        assert {"Método", "Reafirmados", "Objetados", "Pendientes"} <= headings
        assert document.core_properties.language == "es"
        assert any(p.startswith("Posición regional") for p in paragraphs) or any(
            "Posición regional" in p for p in [document.core_properties.title]
        )
    else:
        assert {"Method", "Reaffirmed", "Contested", "Pending"} <= headings


def need_office() -> None:
    missing = [] if pdf_available() else ["LibreOffice (soffice)"]
    missing += [] if shutil.which("pdftotext") else ["pdftotext"]
    if not missing:
        return
    why = f"{', '.join(missing)} not installed"
    why += " (apt-get install libreoffice-writer-nogui poppler-utils)"
    if os.environ.get("RCM_REQUIRE_OFFICE"):
        pytest.fail(f"RCM_REQUIRE_OFFICE is set but {why}")
    pytest.skip(f"PDF tests skipped: {why}")


def test_the_position_as_pdf_in_spanish(site, sec, tmp_path):
    _, _, rnd, _ = site
    need_office()
    soup = page(sec, f"/rounds/{rnd.id}/position", "es")
    link = soup.select_one(".position-downloads a[href*='position.pdf']")
    r = sec.get(link["href"])
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].endswith(f'"rcm-round-{rnd.id}-position-es.pdf"')
    path = Path(tmp_path / "position.pdf")
    path.write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "Método" in flat and "Reafirmados" in flat and "Pendientes" in flat
    assert "México (MEX): Superseded." in flat  # the country by its Spanish name


def test_without_libreoffice_the_pdf_is_refused_plainly(site, sec, monkeypatch):
    _, _, rnd, _ = site
    monkeypatch.setattr("rcm.web.rounds.pdf_available", lambda: False)
    soup = page(sec, f"/rounds/{rnd.id}/position", "es")
    assert not soup.select(".position-downloads a[href*='position.pdf']")
    assert "LibreOffice no está instalado" in soup.select_one(".position-downloads").get_text()
    r = sec.get(f"/rounds/{rnd.id}/position.pdf?lang=es")
    assert r.status_code == 503
    assert "No se puede generar el PDF en este servidor" in r.text
    assert sec.get(f"/rounds/{rnd.id}/position.docx").status_code == 200


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("cri", 403), ("obs", 200), ("sec", 200)])
def test_who_may_download_the_position(site, who, status):
    store, passwords, rnd, _ = site
    c = client_for(store, passwords, who)
    r = c.get(f"/rounds/{rnd.id}/position.docx")
    assert r.status_code == status
    if status == 200:
        assert r.content.startswith(b"PK")
    if who is None:  # nor the PDF, before anything is converted
        assert c.get(f"/rounds/{rnd.id}/position.pdf").status_code == 401


# --- a round over every statement: one theme at a time -----------------------------------------


@pytest.fixture(scope="module")
def everything(site):
    """A round over all the statements, answered in part: Mexico reaffirms all, Costa Rica objects
    to one in five and proposes a change to another; the rest have not answered."""
    store = site[0]
    rnd = consult.open_round(store, "Still valid? Everything", actor="sec")
    ids = [s["id"] for s in consult.round_status(store, rnd.id)["statements"]]
    consult.set_opinions(store, rnd.id, "MEX", [consult.Answer(sid, "valid") for sid in ids],
                         author="mex", source="test")  # fmt: skip
    answers = [
        consult.Answer(sid, "no longer valid", reason="Superseded.")
        if i % 5 == 0
        else consult.Answer(sid, "valid with changes", proposed_wording="Una redacción nueva.")
        if i % 5 == 1
        else consult.Answer(sid, "valid")
        for i, sid in enumerate(ids)
    ]
    consult.set_opinions(store, rnd.id, "CRI", answers, author="cri", source="test")
    return rnd, ids


def theme_choices(soup: BeautifulSoup) -> list[tuple[int, bool, str]]:
    """The themes a one-theme page offers: (number, shown now, the counts' text)."""
    return [
        (
            int(re.search(r"theme=(\d+)", li.a["href"]).group(1)),
            li.a.has_attr("aria-current"),
            li.select_one(".theme-view-counts").text,
        )
        for li in soup.select(".theme-views li")
    ]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_large_round_shows_its_statements_one_theme_at_a_time(site, sec, everything, lang):
    """Every statement is under the theme(s) it is filed under, each page under 50 KB, nothing
    lost: the themes' tables together hold every statement of the round, each with the counts
    the nav says; the comment form offers the statements shown."""
    from rcm.web.rounds import ONE_THEME_AT_A_TIME

    store = site[0]
    rnd, ids = everything
    assert len(ids) > ONE_THEME_AT_A_TIME
    filed = statement_themes(store, ids)
    first = BeautifulSoup(sec.get(f"/rounds/{rnd.id}", params={"lang": lang}).text, "html.parser")
    choices = theme_choices(first)
    assert [t for t, _, _ in choices] == sorted({t for ts in filed.values() for t in ts})
    assert [current for _, current, _ in choices] == [True] + [False] * (len(choices) - 1)
    seen: set[str] = set()
    for theme, _, counts in choices:
        r = sec.get(f"/rounds/{rnd.id}", params={"theme": theme, "lang": lang})
        assert r.status_code == 200 and len(r.content) < 50_000, (theme, len(r.content))
        soup = BeautifulSoup(r.text, "html.parser")
        rows = [a.text for a in soup.select("table.status tbody td.dash-statement > a")]
        assert rows and all(theme in filed[sid] for sid in rows)
        assert rows == sorted(sid for sid in ids if theme in filed[sid])
        assert f" {len(rows)} " in f" {counts} "
        assert [o["value"] for o in soup.select("form.comment option")] == rows
        current = [t for t, now, _ in theme_choices(soup) if now]
        assert current == [theme]
        assert soup.select_one("#statements-theme").text.startswith(f"TS{theme} ")
        seen.update(rows)
    assert seen == set(ids)
    for bad in ("9", "x", "-1"):
        assert sec.get(f"/rounds/{rnd.id}", params={"theme": bad}).status_code == 404


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_large_rounds_position_one_theme_at_a_time_and_whole_in_word(site, sec, everything, lang):
    store = site[0]
    rnd, ids = everything
    position = consult.regional_position(store, rnd.id)
    first = BeautifulSoup(
        sec.get(f"/rounds/{rnd.id}/position", params={"lang": lang}).text, "html.parser"
    )
    choices = theme_choices(first)
    assert len(choices) > 1 and choices[0][1]
    seen: set[str] = set()
    for theme, _, _ in choices:
        r = sec.get(f"/rounds/{rnd.id}/position", params={"theme": theme, "lang": lang})
        assert r.status_code == 200 and len(r.content) < 50_000, (theme, len(r.content))
        soup = BeautifulSoup(r.text, "html.parser")
        assert soup.select_one("h2#position-theme").text.startswith(f"TS{theme} ")
        seen.update(a.text for a in soup.select(".position-entries p.id a"))
        # The objections stay with their reasons.
        assert "Superseded." in soup.text or not [
            e for e in position["contested"] if theme in e["themes"]
        ]
    assert seen == set(ids)
    assert sec.get(f"/rounds/{rnd.id}/position", params={"theme": "7"}).status_code == 404
    # The Word document holds every statement, not one theme.
    r = sec.get(f"/rounds/{rnd.id}/position.docx", params={"lang": lang})
    document = docx.Document(io.BytesIO(r.content))
    cells = " ".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert all(sid in cells for sid in ids)


def test_a_small_round_shows_every_statement_on_one_page(site, sec):
    _, _, rnd, _ = site
    soup = BeautifulSoup(sec.get(f"/rounds/{rnd.id}").text, "html.parser")
    assert not soup.select(".theme-views")
    assert len(soup.select("table.status tbody tr")) == 31
