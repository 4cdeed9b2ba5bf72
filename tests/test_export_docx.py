"""The compilation as a Word document (rcm.export.docx), opened again with python-docx: structure,
tables per sub-theme, shading per category, notes in italics, the TOC field; focused compilations
and the Still valid? column from a round, through the CLI."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections import Counter

import docx
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn

from rcm import consult
from rcm.cli import cli
from rcm.export.docx import HEADER, compilation_docx
from rcm.model import Category, to_roman
from rcm.parse import read_compilation
from rcm.suggest import label_compendium
from rcm.taxonomy import CATEGORY_COLOURS


@pytest.fixture(scope="module")
def labelled():
    return label_compendium(read_compilation())


@pytest.fixture(scope="module")
def document(labelled):
    return docx.Document(io.BytesIO(compilation_docx(labelled)))


def fill(cell) -> str | None:
    shd = cell._tc.get_or_add_tcPr().find(qn("w:shd"))
    return None if shd is None else shd.get(qn("w:fill"))


def headings(document, level: int) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def test_headings_follow_the_document_order(document, labelled):
    assert [p.text for p in document.paragraphs if p.style.name == "Title"] == [
        "Regional Conference on Migration"
    ]
    assert headings(document, 1) == [
        "Introduction",
        "Sources",
        "Contents",
        *(f"{to_roman(th.number)}. {th.title}" for th in labelled.themes),
    ]
    assert headings(document, 2) == [s.title for th in labelled.themes for s in th.subthemes]


def test_one_table_per_subtheme_with_a_row_per_placement(document, labelled):
    legend, *tables = document.tables
    assert legend.cell(0, 0).text == "Color code"
    assert [fill(r.cells[1]) for r in legend.rows[1:]] == list(CATEGORY_COLOURS.values())
    per_subtheme = Counter((p.theme, p.subtheme) for p in labelled.placements)
    expected = [per_subtheme[(th.number, s.order)] for th in labelled.themes for s in th.subthemes]
    assert [len(t.rows) - 1 for t in tables] == expected
    assert sum(expected) == 186
    for t in tables:
        assert tuple(c.text for c in t.rows[0].cells) == HEADER
        assert t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeats on each page


def test_rows_are_shaded_with_their_category_and_carry_meeting_and_note(document, labelled):
    tables = document.tables[1:]
    rows = [row for t in tables for row in t.rows[1:]]
    by_id = {s.id: s for s in labelled.statements}
    meetings = {m.code: m.label for m in labelled.meetings}
    placements = sorted(labelled.placements, key=lambda p: (p.theme, p.subtheme, p.position))
    notes = 0
    for row, p in zip(rows, placements, strict=True):
        s = by_id[p.statement_id]
        meeting_cell = row.cells[1].paragraphs
        assert meeting_cell[0].text == meetings[s.meeting]  # "XIX RCM"
        assert meeting_cell[1].text == s.id
        assert {fill(c) for c in row.cells} == {CATEGORY_COLOURS[s.category]}
        paragraphs = row.cells[0].paragraphs
        if p.note:
            last = paragraphs[-1]
            assert last.text == p.note.strip("*").strip()
            assert all(r.italic for r in last.runs)
            notes += 1
            paragraphs = paragraphs[:-1]
        if s.items:
            assert paragraphs[0].text == s.heading and paragraphs[0].runs[0].bold
            assert [x.text for x in paragraphs[1:]] == list(s.items)
            assert {x.style.name for x in paragraphs[1:]} == {"List Bullet"}
        else:
            assert [x.text for x in paragraphs] == [s.text]
    assert notes == 90


def test_a_real_table_of_contents(document):
    body = document.element.body
    instructions = [x.text for x in body.iter(qn("w:instrText"))]
    assert any(x.strip().startswith("TOC ") for x in instructions)
    kinds = [x.get(qn("w:fldCharType")) for x in body.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    assert document.settings.element.find(qn("w:updateFields")) is not None


def test_export_is_fast_enough_to_run_on_every_change(labelled):
    # not a timed test: the benchmark is bench/bench_export.py; this only guards a pathology
    import time

    start = time.perf_counter()
    compilation_docx(labelled)
    assert time.perf_counter() - start < 10


@pytest.fixture
def run(db_url):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)

    assert invoke("ingest").exit_code == 0
    invoke.url = db_url  # type: ignore[attr-defined]
    return invoke


def test_a_focused_compilation(run, tmp_path, labelled):
    out = tmp_path / "ts5-commitments.docx"
    result = run(
        "export", "--format", "docx", "-o", str(out), "--theme", "TS5", "--category", "commitment"
    )
    assert result.exit_code == 0, result.output
    document = docx.Document(str(out))
    assert headings(document, 1)[3:] == ["V. Smuggling of migrants and trafficking in persons"]
    commitments = {s.id for s in labelled.statements if s.category.value == "commitment"}
    expected = [p for p in labelled.placements if p.theme == 5 and p.statement_id in commitments]
    rows = [row for t in document.tables[1:] for row in t.rows[1:]]
    assert len(rows) == len(expected) > 0
    assert {fill(c) for row in rows for c in row.cells} == {CATEGORY_COLOURS[Category.COMMITMENT]}
    assert any("Selection: " in p.text and "commitment" in p.text for p in document.paragraphs)


def test_still_valid_filled_from_a_round(run, tmp_path):
    from rcm.search import theme_filter
    from rcm.store import Store

    store = Store(run.url)
    rnd = consult.open_round(store, "Inputs 2017", filters=[theme_filter([6])], actor="sec")
    status = consult.round_status(store, rnd.id)
    store.close()
    first, second = status["statements"][0]["id"], status["statements"][1]["id"]
    out = tmp_path / "round.docx"
    result = run("opinion", "set", str(rnd.id), "CRI", first, "valid")
    assert result.exit_code == 0, result.output
    result = run(
        "opinion", "set", str(rnd.id), "MEX", second, "valid with changes", "--wording", "Better."
    )
    assert result.exit_code == 0, result.output
    assert run("export", "--format", "docx", "--round", str(rnd.id), "-o", str(out)).exit_code == 0
    document = docx.Document(str(out))
    cells = {
        row.cells[1].paragraphs[1].text: row.cells[2].text
        for t in document.tables[1:]
        for row in t.rows[1:]
    }
    assert set(cells) == {s["id"] for s in status["statements"]}  # only the round's statements
    assert "CRI: Yes" in cells[first] and "Status:" in cells[first]
    assert "MEX: Yes, with changes — Better." in cells[second]
    assert "Not yet answered:" in cells[second]
    out_cri = tmp_path / "cri.docx"
    result = run(
        "export", "--format", "docx", "--round", str(rnd.id), "--country", "CRI", "-o", str(out_cri)
    )
    assert result.exit_code == 0
    cri = docx.Document(str(out_cri))
    texts = {
        row.cells[1].paragraphs[1].text: row.cells[2].text
        for t in cri.tables[1:]
        for row in t.rows[1:]
    }
    assert texts[first] == "CRI: Yes" and texts[second] == "CRI: not yet answered"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "CRI"], "--country needs --round"),
        (["--round", "1", "--format", "json"], "fills the Still valid? column"),
        (["--format", "docx", "--round", "1", "--country", "XYZ", "-o", "x.docx"], "not a Member"),
        (["--format", "docx", "--theme", "TS9", "-o", "x.docx"], "no theme TS9"),
    ],
)
def test_bad_export_requests(run, args, message, tmp_path, monkeypatch):
    from rcm.search import theme_filter
    from rcm.store import Store

    store = Store(run.url)
    consult.open_round(store, "A round", filters=[theme_filter([6])], actor="sec")
    store.close()
    monkeypatch.chdir(tmp_path)
    result = run("export", *args)
    assert result.exit_code != 0 and message in result.output
    assert not (tmp_path / "x.docx").exists()


needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None and not os.environ.get("RCM_REQUIRE_OFFICE"),
    reason="PDF tests skipped: LibreOffice (soffice) not installed; `make test` installs it",
)


@needs_office
def test_the_compilation_as_pdf(run, tmp_path):
    out = tmp_path / "compilation.pdf"
    result = run("export", "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
    pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    assert 15 <= pages <= 60
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "I. Human rights of all migrants" in text and "Still valid?" in text
    assert "Statement also relevant for TS5" in text


def test_xlsx_and_the_position_report_from_the_command_line(run, tmp_path):
    from openpyxl import load_workbook

    from rcm.search import theme_filter
    from rcm.store import Store

    out = tmp_path / "compendium.xlsx"
    assert run("export", "--format", "xlsx", "-o", str(out), "--theme", "TS6").exit_code == 0
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["All statements", "TS6", "About"]
    store = Store(run.url)
    rnd = consult.open_round(store, "Inputs 2017", filters=[theme_filter([6])], actor="sec")
    first = consult.round_status(store, rnd.id)["statements"][0]["id"]
    store.close()
    result = run(
        "opinion", "set", str(rnd.id), "CRI", first, "no longer valid", "--reason", "Superseded."
    )
    assert result.exit_code == 0, result.output
    report = tmp_path / "position.docx"
    result = run("round", "report", str(rnd.id), "-o", str(report))
    assert result.exit_code == 0, result.output
    document = docx.Document(str(report))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "Inputs 2017" in text and "Superseded." in text + cells
    missing = run("round", "report", "99", "-o", str(tmp_path / "none.docx"))
    assert missing.exit_code == 2 and not (tmp_path / "none.docx").exists()


@needs_office
def test_the_position_report_as_pdf(run, tmp_path):
    from rcm.search import theme_filter
    from rcm.store import Store

    store = Store(run.url)
    rnd = consult.open_round(store, "Inputs 2017", filters=[theme_filter([4])], actor="sec")
    store.close()
    out = tmp_path / "position.pdf"
    result = run("round", "report", str(rnd.id), "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Inputs 2017" in text
