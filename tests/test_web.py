"""The web app in-process, on SQLite and PostgreSQL: every page and API route, languages, errors,
escaping, downloads."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from rcm.web import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))


@pytest.fixture(scope="module")
def client(loaded_store):
    with TestClient(create_app(loaded_store), raise_server_exceptions=True) as c:
        yield c


def page(client, url, status=200, **kwargs):
    r = client.get(url, **kwargs)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return BeautifulSoup(r.text, "html.parser")


def test_home(client):
    soup = page(client, "/")
    assert soup.html["lang"] == "en"
    assert soup.find("form", role="search").find("input", attrs={"name": "q"})
    themes = soup.select("ol.themes li")
    assert len(themes) == 6
    assert "TS1" in themes[0].text and "39 statements" in themes[0].text


def test_search_page(client):
    soup = page(client, "/search?q=trafficking&theme=TS5&meeting=XII..")
    summary = soup.select_one(".summary").text
    assert "10 statements" in summary
    assert "theme is TS5 and meeting is XII RCM or later" in summary
    hits = soup.select("li.hit")
    assert len(hits) == 10
    assert hits[0].select_one("mark")
    facet_titles = [h.text for h in soup.select(".facets h3")]
    assert "Theme" in facet_titles and "Meeting" in facet_titles
    # Facet links add a filter; the chosen one removes it.
    chosen = soup.select_one(".facets li.chosen a")["href"]
    assert "theme=TS5" not in chosen


def test_facet_link_narrows_the_result(client):
    soup = page(client, "/search?q=trafficking")
    link = next(a for a in soup.select(".facets a") if a.text.strip().startswith("TS3"))
    narrowed = page(client, link["href"])
    assert "theme is TS3" in narrowed.select_one(".summary").text
    assert len(narrowed.select("li.hit")) == 7


def test_paging(client):
    soup = page(client, "/search?q=migration&size=5")
    assert soup.select_one("nav.pages a[rel=next]")
    nxt = page(client, soup.select_one("nav.pages a[rel=next]")["href"])
    first = {a.text for a in soup.select(".hit-title > a")}
    second = {a.text for a in nxt.select(".hit-title > a")}
    assert len(first) == len(second) == 5 and not first & second
    assert nxt.select_one("ol.hits")["start"] == "6"


def test_statement_page(client, compendium):
    sid = next(s.id for s in compendium.statements if s.heading == "Return")
    soup = page(client, f"/statements/{sid}")
    assert soup.h1.text.strip() == f"Statement {sid}"
    assert len(soup.select("blockquote li")) == 9
    assert "XX RCM" in soup.select_one(".meta").text and "2015" in soup.select_one(".meta").text
    assert soup.select_one("#citation").text.startswith(
        "Regional Conference on Migration, XX RCM (2015)"
    )
    assert soup.select("ul.related li")
    noted = page(
        client,
        f"/statements/{next(p.statement_id for p in compendium.placements if p.line == 106)}",
    )
    # The note as plain text, once: what it says, and how the compilation printed it (without the
    # source's asterisks, which the stored note keeps).
    notes = [" ".join(n.text.split()) for n in noted.select("ul.notes li")]
    assert any("“Statement also relevant for TS3 y TS5”" in n for n in notes)
    assert not any("*" in n for n in notes)


def test_theme_page_reads_like_the_compilation(client, compendium):
    soup = page(client, "/themes/3")
    sections = soup.select("section[id^=sub-]")
    sub = page(client, "/themes/3/2")
    assert [h.text for h in sub.select("section[id^=sub-] h2")] == ["Return and readmission"]
    assert len(sub.select("tbody tr")) == 11
    page(client, "/themes/3/9", status=404)
    assert client.get("/api/themes/5/2").json()["subtheme"].startswith("Appropriate identification")
    assert [s.h2.text for s in sections] == [
        "Borders, transit, entry",
        "Return and readmission",
        "Integration and reintegration",
    ]
    rows = sections[0].select("tbody tr")
    assert len(rows) == 31
    first = rows[0].select_one(".id a").text
    expected = next(
        p for p in compendium.placements if (p.theme, p.subtheme, p.position) == (3, 1, 1)
    )
    assert first == expected.statement_id


def test_meeting_pages(client):
    soup = page(client, "/meetings")
    rows = soup.select("tbody tr")
    assert len(rows) == 21
    assert page(client, "/meetings/19").select("ol.statements > li").__len__() == 11
    assert page(client, "/meetings/xix").h1.text.startswith("XIX RCM (2014)")
    page(client, "/meetings/banana", status=404)


def test_about_page(client):
    soup = page(client, "/about")
    assert soup.select_one("svg.chart[role=img]")
    assert "28 findings" in soup.text
    # the consistency report headed by what a finding means, not by the checker's code
    assert soup.select_one("section.findings h3").text.startswith("A note says the statement")
    assert not soup.select("section.findings h3 code")
    assert len(soup.select("svg.chart[role=img]")) == 3
    assert len(soup.select("details table")[0].select("tbody tr")) == 21


def test_api(client, compendium):
    r = client.get("/api/search", params={"q": "smuggl*", "size": 3})
    data = r.json()
    assert r.status_code == 200 and data["total"] == 10 and len(data["hits"]) == 3
    assert set(data["facets"]) >= {"theme", "meeting", "category"}
    sid = compendium.statements[0].id
    assert client.get(f"/api/statements/{sid}").json()["id"] == sid
    assert len(client.get("/api/themes").json()["themes"]) == 6
    assert len(client.get("/api/themes/5").json()["subthemes"]) == 2
    assert len(client.get("/api/meetings").json()["meetings"]) == 21
    assert len(client.get("/api/meetings/XX").json()["statements"]) == 7
    schema = client.get("/openapi.json").json()
    assert {"/api/search", "/api/statements/{statement_id}", "/api/themes", "/api/meetings"} <= set(
        schema["paths"]
    )
    documented = {p["name"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert documented == {
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
    }


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/statements/XIX-0000", 404, "no statement XIX-0000"),
        ("/api/themes/9", 404, "no theme 9"),
        ("/api/search?q=%22open", 400, "unbalanced quote"),
        ("/api/search?page=abc", 400, "page must be a whole number"),
        ("/api/search?size=100000", 400, "size must be between 1 and 100"),
        ("/api/search?sort=random", 400, "unknown sort 'random'"),
        ("/api/search?several=maybe", 400, "several must be yes or no"),
        ("/api/themes/abc", 400, "Bad parameters"),
        ("/api/search?theme=TS9", 400, "no theme TS9"),
        ("/api/search?q=" + "x" * 3000, 400, "the limit is 1,000"),
        ("/api/nothing", 404, "no page"),
    ],
)
def test_api_errors_have_one_shape(client, url, status, message):
    r = client.get(url)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    assert message in body["error"]["message"]


def test_html_errors(client):
    soup = page(
        client, "/statements/XIX-0000", status=404, headers={"Accept-Language": "es-MX,es;q=0.9"}
    )
    assert soup.html["lang"] == "es"
    assert soup.h1.text == "No encontrado"
    soup = page(client, "/search?q=%22open", status=400)
    assert "unbalanced quote" in soup.select_one(".error").text
    page(client, "/search?page=99999999", status=400)
    page(client, "/search?" + "&".join(f"theme=TS{i % 6 + 1}" for i in range(50)), status=400)
    page(client, "/search?q=" + "x" * 20000, status=400)


def test_language_switch_is_remembered(loaded_store):
    with TestClient(create_app(loaded_store)) as c:
        assert page(c, "/").html["lang"] == "en"
        soup = page(c, "/?lang=es")
        assert soup.html["lang"] == "es" and soup.h1.text.startswith("Las disposiciones")
        assert page(c, "/themes").html["lang"] == "es"  # remembered by a cookie
        assert page(c, "/?lang=en").html["lang"] == "en"
        c.cookies.set("rcm_lang", "en")
        r = c.get("/", headers={"Accept-Language": "es"})
        assert r.headers["content-language"] == "en"


def test_accept_language(loaded_store):
    with TestClient(create_app(loaded_store)) as c:
        r = c.get("/about", headers={"Accept-Language": "fr;q=0.9, es;q=0.8, en;q=0.1"})
        assert r.headers["content-language"] == "es"
        soup = BeautifulSoup(r.text, "html.parser")
        # Statements and sub-theme titles stay in English, marked as such.
        assert soup.select_one("ul[lang=en]")


def test_xss_in_the_query_is_escaped(client):
    attack = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
    r = client.get("/search", params={"q": attack})
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    r = client.get("/search", params={"q": "trafficking", "meeting": attack})
    assert r.status_code == 400 and "<script>alert" not in r.text


def test_xss_in_statement_text_is_escaped(store, compendium):
    from dataclasses import replace

    first = compendium.statements[0]
    evil = replace(first, text=first.text + ' <script>alert("x")</script>')
    store.ingest(replace(compendium, statements=[evil, *compendium.statements[1:]]))
    with TestClient(create_app(store)) as c:
        for url in (f"/statements/{first.id}", "/search?q=alert", "/themes/1", "/meetings/I"):
            r = c.get(url)
            assert r.status_code == 200
            assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text


def test_downloads(client):
    r = client.get("/search.csv?q=trafficking&theme=TS5")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 20 and all("TS5" in row["themes"] for row in rows)
    data = client.get("/search.json?q=trafficking").json()
    assert data["total"] == len(data["hits"]) == 25


def test_security_headers(client):
    r = client.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


def test_every_message_has_a_spanish_translation():
    from messages import messages

    from rcm.web import i18n

    es = i18n.translations("es")
    for m in messages():
        if isinstance(m, tuple):
            assert es.ungettext(m[0], m[1], 2) != m[1] or m[1] == "", m
        else:
            assert es.ugettext(m) != m or m in {"Error", "Error:"}, m


def test_app_from_the_environment(tmp_path, monkeypatch, compendium):
    """What `rcm serve --workers N` gives each worker process."""
    from rcm.store import Store
    from rcm.web import app_from_env

    url = f"sqlite:///{tmp_path / 'env.db'}"
    Store(url, create=True).ingest(compendium)
    monkeypatch.setenv("RCM_DATABASE_URL", url)
    with TestClient(app_from_env()) as c:
        assert c.get("/api/search?q=maras").json()["total"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/search?q=maras",
        "/statements/IX-7780",
        "/themes",
        "/themes/2",
        "/themes/2/1",
        "/meetings",
        "/meetings/IX",
        "/about",
        "/nothing-here",
    ],
)
def test_page_titles_are_plain_text(client, url):
    page = client.get(url).text
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and len(title) < 200


def test_the_search_result_as_word_and_excel(client):
    import io

    import docx
    from openpyxl import load_workbook

    total = client.get("/api/search?q=trafficking&theme=TS5").json()["total"]
    r = client.get("/search.docx?q=trafficking&theme=TS5")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    document = docx.Document(io.BytesIO(r.content))
    ids = {row.cells[1].paragraphs[1].text for t in document.tables[1:] for row in t.rows[1:]}
    assert len(ids) == total
    assert any("trafficking" in p.text and "TS5" in p.text for p in document.paragraphs)
    r = client.get("/search.xlsx?q=trafficking&theme=TS5")
    workbook = load_workbook(io.BytesIO(r.content))
    assert workbook["All statements"].max_row == total + 1
    assert client.get("/search.docx?q=%22unbalanced").status_code == 400
