"""Provenance: every statement and meeting knows the document it comes from (the 2017 compilation
or a declaration with its title, meeting, place, date, language and reference), and citations,
`rcm show`, the pages, `rcm stats`, the JSON, Word and Excel exports name it; meetings after XXI
in the charts, the Excel workbook, `rcm check FILE.docx` and round scopes. A compendium with the
compilation plus an ordinary (XXII) and an extraordinary (XXV-E1) meeting accepted from
declarations, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from rcm import clock
from rcm.cite import citation
from rcm.cli import cli
from rcm.export.xlsx import SOURCE_COLUMNS
from rcm.model import Meeting, SourceInfo, Statement
from rcm.store import Store
from rcm.web import create_app
from sample_declarations import covid_declaration

DATA = Path(__file__).parent / "data" / "declarations"
XXII_REFERENCE = "CRM/XXII/2017/DEC.1"
COVID_REFERENCE = "https://example.org/rcm/extraordinary-declaration-2020.pdf"
WHEN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def later(db_url, tmp_path, monkeypatch):
    """The compilation, the XXII RCM (2017, San Salvador) and the Extraordinary Meeting of the
    XXV RCM (2020, virtual) added from declarations with their references, one statement of each
    accepted. The clock reads 30 November 2026."""
    monkeypatch.setattr(clock, "now", lambda: WHEN)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)

    run.url = db_url  # type: ignore[attr-defined]
    assert run("ingest").exit_code == 0
    assert run("users", "add", "ana", "--role", "secretariat").exit_code == 0
    out = run(
        "declaration", "add", str(DATA / "xxii_rcm_en.txt"), "--meeting", "XXII",
        "--year", "2017", "--place", "San Salvador, El Salvador", "--date", "2017-06-15",
        "--reference", XXII_REFERENCE,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    out = run("review", "accept", "1", "--category", "principle", "--place", "1.1", "--as", "ana")
    assert out.exit_code == 0, out.output
    run.xxii = re.search(r"accepted as (XXII-\d+)", out.output).group(1)  # type: ignore[attr-defined]
    covid = covid_declaration(tmp_path / "covid.docx")
    out = run(
        "declaration", "add", str(covid), "--meeting", "XXV", "--year", "2020", "--extraordinary",
        "--place", "Virtual", "--date", "2020-05-12", "--reference", f"  {COVID_REFERENCE} ",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    pending = json.loads(run("review", "list", "--state", "pending", "--json").output)
    first = min(p["id"] for p in pending if p["meeting"] == "XXV-E1")
    out = run(
        "review", "accept", str(first), "--category", "commitment", "--place", "3.1", "--as", "ana"
    )
    assert out.exit_code == 0, out.output
    run.covid = re.search(r"accepted as (XXV-E1-\d+)", out.output).group(1)  # type: ignore[attr-defined]
    return run


def test_the_citation_names_the_document_a_statement_comes_from(later):
    data = json.loads(later("show", later.covid, "--json").output)
    cite = data["citation"]
    assert cite.startswith(
        f"Regional Conference on Migration, Extraordinary Meeting of the XXV RCM (2020), "
        f"statement {later.covid}. In: EXTRAORDINARY DECLARATION OF THE REGIONAL CONFERENCE"
    )
    assert cite.endswith(f", Virtual, 2020-05-12, {COVID_REFERENCE}.")
    assert "Compilation" not in cite and "1996 and 2016" not in cite and "April 2017" not in cite
    document = data["document"]
    assert document["kind"] == "declaration" and data["source"] == document["key"]
    assert (document["meeting"], document["place"], document["date"], document["lang"]) == (
        "XXV-E1", "Virtual", "2020-05-12", "en",
    )  # fmt: skip
    assert document["reference"] == COVID_REFERENCE  # kept on one line, trimmed
    text = later("show", later.xxii).output
    assert f"{later.xxii}  XXII RCM (San Salvador, El Salvador, 2017-06-15)" in text
    assert "from: declaration (XXII RCM): DECLARATION OF THE XXII REGIONAL CONFERENCE" in text
    assert f"2017-06-15, {XXII_REFERENCE}." in text.split("cite as:")[1]
    # a statement of the compilation is cited as before
    old = json.loads(later("show", "XIX-0021", "--json").output)
    assert old["citation"].endswith(
        "In: RCM Technical Secretariat, Compilation of the RCM statements made between 1996 "
        "and 2016, which are related to the themes of the thematic consultations organized for "
        "the construction of the Global Compact for safe, orderly and regular migration, "
        "April 2017."
    )
    assert old["document"]["kind"] == "compilation" and old["document"]["year"] == 2017


def test_citation_without_a_known_document_and_from_source_info():
    statement = Statement(id="XXII-0001", meeting="XXII", text="A statement.")
    meeting = Meeting("XXII", 22, "XXII RCM", 2017)
    assert citation(statement, meeting) == (
        "Regional Conference on Migration, XXII RCM (2017), statement XXII-0001."
    )
    source = SourceInfo("c.txt", "0" * 64, 1, 1, "Compilation X", "May 2018")
    assert citation(statement, meeting, source).endswith(
        "In: RCM Technical Secretariat, Compilation X, May 2018."
    )


def test_a_reference_too_long_is_refused_and_nothing_is_added(later):
    out = later(
        "declaration", "add", str(DATA / "xxii_rcm_es.txt"), "--meeting", "XXIII",
        "--year", "2018", "--reference", "x" * 501,
    )  # fmt: skip
    assert out.exit_code != 0 and "at most 500" in out.output
    listed = json.loads(later("declaration", "list", "--json").output)
    assert [d["reference"] for d in listed] == [XXII_REFERENCE, COVID_REFERENCE]


def test_pages_and_the_api_name_documents_places_and_dates(later):
    store = Store(later.url)
    try:
        with TestClient(create_app(store)) as client:
            page = client.get(f"/statements/{later.covid}")
            assert page.status_code == 200
            assert "EXTRAORDINARY DECLARATION OF THE REGIONAL CONFERENCE ON MIGRATION" in page.text
            assert f'href="{COVID_REFERENCE}"' in page.text and "Virtual, 2020-05-12" in page.text
            assert "1996 and 2016" not in page.text.split('id="citation"')[1].split("</span>")[0]
            api = client.get(f"/api/statements/{later.covid}").json()
            assert api["document"]["reference"] == COVID_REFERENCE
            assert api["cite"]["document"]["key"] == api["source"]
            spanish = client.get(f"/statements/{later.xxii}", params={"lang": "es"}).text
            assert "Fuente" in spanish and "Declaración" in spanish and XXII_REFERENCE in spanish
            meeting = client.get("/meetings/XXV-E1").text
            assert "Virtual, 2020-05-12" in meeting and COVID_REFERENCE in meeting
            listed = {m["code"]: m for m in client.get("/api/meetings").json()["meetings"]}
            assert listed["XXII"]["place"] == "San Salvador, El Salvador"
            assert listed["XXII"]["date"] == "2017-06-15"
            assert listed["XXII"]["document"]["reference"] == XXII_REFERENCE
            assert listed["XXV-E1"]["source"] == api["source"]
            assert listed["XIX"]["document"]["kind"] == "compilation"
            assert listed["XIX"]["place"] is None
            one = client.get("/api/meetings/xxv-e1").json()
            assert one["document"]["title"].startswith("EXTRAORDINARY DECLARATION")
            assert "San Salvador, El Salvador, 2017-06-15" in client.get("/meetings").text
            about = client.get("/api/about").json()
            assert about["covers"] == "1996–2020"
            assert [d["kind"] for d in about["documents"]] == [
                "compilation", "declaration", "declaration",
            ]  # fmt: skip
            # the chart: every meeting, in the compendium's order, XXII and XXV-E1 last
            codes = [m["code"] for m in about["chart_meetings"]]
            assert codes[-2:] == ["XXII", "XXV-E1"] and len(codes) == 23
            html = client.get("/about?lang=en").text
            svg = html.split('<svg class="chart"')[1].split("</svg>")[0]
            ticks = re.findall(r'class="tick">([IVXLC]+(?:-E\d+)?)</text>', svg)
            assert ticks == codes
            assert "Extraordinary Meeting of the XXV RCM: 1" in svg
    finally:
        store.close()


def test_stats_lists_places_dates_and_sources(later):
    data = json.loads(later("stats", "--json").output)
    assert data["covers"] == "1996–2020"
    meetings = {m["meeting"]: m for m in data["meetings"]}
    assert meetings["XXV-E1"]["place"] == "Virtual"
    assert meetings["XXV-E1"]["source"].startswith("declaration-")
    assert meetings["XIX"]["source"].startswith("compilation-")
    sources = {d["kind"]: d for d in data["sources"]}
    assert sources["compilation"]["statements"] == 129
    assert sum(d["statements"] for d in data["sources"]) == data["statements"] == 131
    text = later("stats").output
    assert "covers                1996–2020" in text and "held Virtual, 2020-05-12" in text


def test_the_json_export_carries_its_sources(later):
    doc = json.loads(later("export").output)
    assert doc["schema"] == "rcm-compendium/1"
    # the fields of before are all still there
    assert {"name", "sha256", "title", "date", "lines"} <= set(doc["source"])
    assert doc["covers"] == "1996–2020"
    sources = {d["key"]: d for d in doc["sources"]}
    assert len(sources) == 3
    by_meeting = {d["meeting"]: d for d in sources.values() if d["kind"] == "declaration"}
    assert by_meeting["XXII"]["reference"] == XXII_REFERENCE
    assert by_meeting["XXII"]["place"] == "San Salvador, El Salvador"
    assert by_meeting["XXV-E1"]["date"] == "2020-05-12"
    assert by_meeting["XXV-E1"]["year"] == 2020 and by_meeting["XXV-E1"]["lang"] == "en"
    for d in sources.values():
        assert set(d) >= {"key", "kind", "title", "name", "sha256", "date", "year", "author"}
    assert all(s["source"] in sources for s in doc["statements"])
    of = {s["id"]: s["source"] for s in doc["statements"]}
    assert of[later.covid] == by_meeting["XXV-E1"]["key"]
    assert sources[of["XIX-0021"]]["kind"] == "compilation"
    assert {m["code"]: m["source"] for m in doc["meetings"]}["XXII"] == by_meeting["XXII"]["key"]


def test_the_word_compilation_states_its_span_date_and_sources(later, tmp_path):
    out = tmp_path / "compilation.docx"
    assert later("export", "--format", "docx", "-o", str(out)).exit_code == 0
    document = docx.Document(str(out))
    paragraphs = [p.text for p in document.paragraphs]
    title_page = paragraphs[: paragraphs.index("Introduction")]
    subtitle = [p.text for p in document.paragraphs if p.style.name == "Subtitle"]
    assert subtitle == ["Compilation of the RCM statements made between 1996 and 2020"]
    assert "30 November 2026" in title_page and "April 2017" not in title_page
    assert any(p.startswith("Covers 1996–2020: 131 statements in 188 rows") for p in title_page)
    assert any("Generated on 30 November 2026" in p for p in title_page)
    assert not any("1996 and 2016" in p for p in title_page[:3])
    start = paragraphs.index("Sources")
    listed = [p for p in paragraphs[start + 1 : paragraphs.index("Contents")] if p]
    assert listed[1].startswith("Compilation: RCM Technical Secretariat, Compilation of the RCM")
    assert "129 statements" in listed[1]
    assert listed[2].startswith("Declaration: DECLARATION OF THE XXII REGIONAL CONFERENCE")
    assert "XXII RCM, San Salvador, El Salvador, 2017-06-15, language en" in listed[2]
    assert f"reference {XXII_REFERENCE}" in listed[2]
    assert "Extraordinary Meeting of the XXV RCM, Virtual, 2020-05-12" in listed[3]
    assert document.core_properties.title == subtitle[0]
    # `rcm check` reads it (with the database's meetings), and it is read back unchanged
    checked = later("check", str(out), "--json")
    assert checked.exit_code == 0, checked.output
    again = later("ingest", str(out))
    assert again.exit_code == 0, again.output
    assert "(0 added, 0 updated, 131 unchanged)" in again.output
    # the statements keep their documents after the round trip
    after = json.loads(later("show", later.covid, "--json").output)
    assert after["document"]["reference"] == COVID_REFERENCE
    assert json.loads(later("show", "XIX-0021", "--json").output)["citation"].endswith(
        "April 2017."
    )


def test_a_selection_of_one_declaration_is_titled_by_its_year(later, tmp_path):
    out = tmp_path / "covid.docx"
    result = later("export", "--format", "docx", "-o", str(out), "--meeting", "XXV-E1")
    assert result.exit_code == 0, result.output
    document = docx.Document(str(out))
    subtitle = [p.text for p in document.paragraphs if p.style.name == "Subtitle"]
    assert subtitle == ["Compilation of the RCM statements made in 2020"]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Covers 2020: 1 statement in 1 row" in text
    assert "Compilation: RCM Technical Secretariat" not in text  # not one of its sources


def test_the_excel_workbook_prints_meetings_after_xxi_and_its_sources(later, tmp_path):
    out = tmp_path / "compendium.xlsx"
    assert later("export", "--format", "xlsx", "-o", str(out)).exit_code == 0
    workbook = load_workbook(io.BytesIO(out.read_bytes()))
    rows = {r[0]: r for r in workbook["All statements"].iter_rows(min_row=2, values_only=True)}
    assert rows[later.covid][1:3] == ("Extraordinary Meeting of the XXV RCM", 2020)
    assert rows[later.xxii][1:3] == ("XXII RCM", 2017)
    ts3 = [r for r in workbook["TS3"].iter_rows(min_row=2, values_only=True)]
    assert any(r[2] == later.covid and r[3] == "Extraordinary Meeting of the XXV RCM" for r in ts3)
    about = [list(r) for r in workbook["About"].iter_rows(values_only=True)]
    facts = {r[0]: r[1] for r in about if r and r[0]}
    assert facts["Covers"] == "1996–2020"
    header = about.index(list(SOURCE_COLUMNS))
    sources = about[header + 1 :]
    assert [r[1] for r in sources] == ["compilation", "declaration", "declaration"]
    assert sources[2][3:7] == [
        "Extraordinary Meeting of the XXV RCM", "Virtual", "2020-05-12", COVID_REFERENCE,
    ]  # fmt: skip


def test_round_scopes_take_meetings_after_xxi(later):
    later_ids = {later.xxii, later.covid}
    for scope, expected in [
        ("XXV-E1", {later.covid}),
        ("xxv-e1 RCM", {later.covid}),
        ("XXII..", later_ids),
        ("XXII..XXV-E1", later_ids),
        ("XXV-E1..", {later.covid}),
        ("..XXII", None),
    ]:
        out = later("round", "open", f"Scope {scope}", "--meeting", scope, "--as", "ana")
        assert out.exit_code == 0, out.output
        round_id = out.output.strip().splitlines()[-1]
        status = json.loads(later("round", "status", round_id, "--json", "--as", "ana").output)
        ids = {s["id"] for s in status["statements"]}
        if expected is None:
            assert len(ids) == 130 and later.xxii in ids and later.covid not in ids
        else:
            assert ids == expected, scope
    out = later("round", "open", "Nothing", "--meeting", "XXV", "--as", "ana")
    assert out.exit_code != 0 and "no statement matches" in out.output


def test_the_web_form_takes_a_declarations_reference(store, compendium):
    from rcm import review
    from rcm.suggest import label_compendium
    from webclient import add_people, client_for, csrf_of

    store.ingest(label_compendium(compendium))
    passwords = add_people(store, "sec")
    c = client_for(store, passwords, "sec", next="/review")
    token = csrf_of(c, "/review")
    path = DATA / "xxii_rcm_en.txt"
    sent = {"csrf": token, "meeting": "XXII", "year": "2017", "place": "San Salvador"}
    files = {"file": (path.name, path.read_bytes(), "text/plain")}
    refused = c.post("/review/declarations", data=sent | {"reference": "x" * 501}, files=files)
    assert refused.status_code == 400 and "at most 500" in refused.text
    assert 'value="' + "x" * 501 in refused.text  # the form keeps what was typed
    assert review.declarations(store) == []
    files = {"file": (path.name, path.read_bytes(), "text/plain")}
    done = c.post("/review/declarations", data=sent | {"reference": XXII_REFERENCE}, files=files)
    assert done.status_code == 303
    assert [d.reference for d in review.declarations(store)] == [XXII_REFERENCE]
