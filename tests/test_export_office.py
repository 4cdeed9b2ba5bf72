"""Office exports: the analysts' workbook (rcm.export.xlsx) read back with openpyxl, Word to PDF
with LibreOffice (rcm.export.pdf) checked with poppler's pdfinfo and pdftotext, and a round's
regional position document (rcm.export.position) opened with python-docx.

The PDF tests need LibreOffice and poppler-utils (`make test` installs them when it may); without
them they skip, saying why, unless RCM_REQUIRE_OFFICE is set."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from openpyxl import load_workbook

from rcm import consult, taxonomy, users
from rcm.errors import NotFound
from rcm.export.pdf import INSTALL_HINT, ConversionError, docx_to_pdf, pdf_available
from rcm.export.position import position_docx
from rcm.export.xlsx import ALL_COLUMNS, THEME_COLUMNS, compendium_xlsx
from rcm.model import Category, CategorySource, Compendium
from rcm.parse import read_compilation
from rcm.search import theme_filter
from rcm.suggest import label_compendium
from rcm.taxonomy import CATEGORY_COLOURS

THEME_SHEETS = ["TS1", "TS2", "TS3", "TS4", "TS5", "TS6"]
DAY = date(2017, 4, 30)


@pytest.fixture(scope="module")
def labelled() -> Compendium:
    return label_compendium(read_compilation())


@pytest.fixture(scope="module")
def workbook(labelled):
    return load_workbook(io.BytesIO(compendium_xlsx(labelled, generated=DAY)))


def header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def fill(cell) -> str | None:
    """The cell's solid fill as RRGGBB, or None."""
    if cell.fill.fill_type != "solid":
        return None
    return str(cell.fill.fgColor.rgb)[-6:].upper()


def column(ws, name: str) -> int:
    return header(ws).index(name) + 1


# --- the workbook -------------------------------------------------------------------------------


def test_xlsx_sheets_headers_and_rows_per_theme(workbook, labelled):
    assert workbook.sheetnames == ["All statements", *THEME_SHEETS, "About"]
    placements = Counter(p.theme for p in labelled.placements)
    assert workbook["All statements"].max_row - 1 == len(labelled.statements) == 129
    assert header(workbook["All statements"]) == [h for h, _ in ALL_COLUMNS]
    for n, name in enumerate(THEME_SHEETS, 1):
        ws = workbook[name]
        assert header(ws) == [h for h, _ in THEME_COLUMNS]
        assert ws.max_row - 1 == placements[n], name
    assert sum(workbook[n].max_row - 1 for n in THEME_SHEETS) == len(labelled.placements) == 186


def test_xlsx_header_frozen_filtered_and_sized(workbook):
    for name in ["All statements", *THEME_SHEETS]:
        ws = workbook[name]
        assert all(c.font.bold for c in ws[1]), name
        assert ws.freeze_panes == "A2"
        assert (
            ws.auto_filter.ref
            == ws.dimensions
            == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        )
        text = column(ws, "Text")
        assert ws.column_dimensions[ws.cell(1, text).column_letter].width >= 80
        assert all(ws.cell(r, text).alignment.wrap_text for r in range(2, ws.max_row + 1))
        assert ws.column_dimensions["A"].width > 5


def test_xlsx_rows_are_filled_with_their_category_colour(workbook, labelled):
    categories = {s.id: s.category for s in labelled.statements}
    seen: Counter[Category] = Counter()
    for name in ["All statements", *THEME_SHEETS]:
        ws = workbook[name]
        id_col = column(ws, "Id")
        for row in ws.iter_rows(min_row=2):
            category = categories[row[id_col - 1].value]
            assert category is not None  # the curated labels cover the compilation
            assert {fill(c) for c in row} == {CATEGORY_COLOURS[category]}, row[id_col - 1].value
            seen[category] += 1
    assert set(seen) == set(Category)
    assert all(fill(c) is None for c in workbook["All statements"][1])  # header stays plain


def test_xlsx_cell_contents(workbook):
    ws = workbook["TS1"]
    first = dict(zip(header(ws), (c.value for c in ws[2]), strict=True))
    assert first == {
        "Sub-theme": first["Sub-theme"],
        "Position": 1,
        "Id": "I-3529",
        "Meeting": "I RCM",
        "Year": 1996,
        "Category": "commitment",
        "Category source": "curated",
        "Text": first["Text"],
        "Note": "*Statement also relevant for TS5*",
        "Also relevant for": "TS5",
        "GCM objectives": "9 10",
    }
    assert first["Sub-theme"].startswith("Protecting the human rights of all migrants")
    assert first["Text"].startswith("Promote the establishment in national legislation")
    everything = {
        r[0]: r for r in workbook["All statements"].iter_rows(min_row=2, values_only=True)
    }
    integration = everything["XX-6292"]
    assert integration[-1].startswith("Integration:\n- To promote migration management")
    assert integration[-1].count("\n- ") == 10
    assert everything["I-7798"][5] == "TS1 TS2 TS3 TS4 TS5 TS6"  # Themes
    i7798 = next(
        r for r in workbook["TS1"].iter_rows(min_row=2, values_only=True) if r[2] == "I-7798"
    )
    assert i7798[9] == "TS2 TS3 TS4 TS5 TS6"  # "all the other TSs", spelt out
    assert i7798[8] == "*Statement also relevant for all the other TSs*"


def test_xlsx_about_sheet(workbook, labelled):
    ws = workbook["About"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    flat = [v for r in rows for v in r if v is not None]
    facts = {r[0]: r[1] for r in rows if r and r[0]}
    assert facts["Source SHA-256"] == labelled.source.sha256
    assert facts["Source"] == labelled.source.title
    assert facts["Generated"] == "2017-04-30"
    for ci in labelled.categories:
        assert ci.definition in flat
    names = {c.value for c in Category}
    legend = {r[0].value: fill(r[3]) for r in ws.iter_rows() if r[0].value in names}
    assert legend == {c.value: rgb for c, rgb in CATEGORY_COLOURS.items()}
    assert ws.auto_filter.ref is None  # a note for readers, not a table to filter


def test_xlsx_subset_and_unassigned_and_suggested(labelled):
    c = replace(
        labelled,
        statements=[
            replace(s, category=None, category_source=None) if s.id == "XII-8133" else s
            for s in labelled.statements
        ],
        objective_links=[
            replace(x, source=CategorySource.SUGGESTED, score=0.4)
            if (x.statement_id, x.rank) == ("I-3529", 1)
            else x
            for x in labelled.objective_links
        ],
    )
    chosen = {"I-3529", "XII-8133", "XX-6292"}
    wb = load_workbook(io.BytesIO(compendium_xlsx(c, statement_ids=chosen)))
    themes = Counter(p.theme for p in c.placements if p.statement_id in chosen)
    assert wb.sheetnames == ["All statements", *(f"TS{n}" for n in sorted(themes)), "About"]
    rows = {r[0].value: r for r in wb["All statements"].iter_rows(min_row=2)}
    assert set(rows) == chosen
    for n in themes:
        assert wb[f"TS{n}"].max_row - 1 == themes[n]
    assert all(fill(cell) is None for cell in rows["XII-8133"])  # no category: no colour
    assert rows["XII-8133"][3].value is None
    assert rows["I-3529"][6].value == "9? 10"
    facts = {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True) if r and r[0]}
    assert facts["Statements"] == "3 of 129"


def test_xlsx_is_deterministic_and_keeps_formulas_out(labelled):
    assert compendium_xlsx(labelled, generated=DAY) == compendium_xlsx(labelled, generated=DAY)
    c = replace(
        labelled,
        statements=[
            replace(s, text='=HYPERLINK("http://x")') if s.id == "I-3529" else s
            for s in labelled.statements
        ],
    )
    ws = load_workbook(io.BytesIO(compendium_xlsx(c, statement_ids={"I-3529"})))["All statements"]
    assert ws["H2"].value == '=HYPERLINK("http://x")' and ws["H2"].data_type == "s"


# --- Word to PDF --------------------------------------------------------------------------------


def need_office() -> None:
    missing = [] if pdf_available() else ["LibreOffice (soffice)"]
    missing += [tool for tool in ("pdfinfo", "pdftotext") if shutil.which(tool) is None]
    if not missing:
        return
    why = (
        f"{', '.join(missing)} not installed "
        "(apt-get install libreoffice-writer-nogui poppler-utils; `make test` does it as root)"
    )
    if os.environ.get("RCM_REQUIRE_OFFICE"):
        pytest.fail(f"RCM_REQUIRE_OFFICE is set but {why}")
    pytest.skip(f"PDF tests skipped: {why}")


def small_docx(words: str) -> bytes:
    d = docx.Document()
    d.add_heading("Regional position", level=1)
    d.add_paragraph(f"The region reaffirms {words}.")
    d.add_page_break()
    d.add_paragraph("Contested: none.")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def pdf_pages_and_text(pdf: bytes, tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(next(li for li in info.stdout.splitlines() if li.startswith("Pages:")).split()[1])
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return pages, text


def test_docx_to_pdf(tmp_path):
    need_office()
    assert pdf_available()
    pdf = docx_to_pdf(small_docx("smuggling commitments"))
    assert pdf.startswith(b"%PDF")
    pages, text = pdf_pages_and_text(pdf, tmp_path)
    assert pages == 2
    assert "Regional position" in text and "reaffirms smuggling commitments" in text
    assert "Contested: none." in text


def test_parallel_conversions_without_home(tmp_path, monkeypatch):
    """Each conversion has its own LibreOffice profile: two at once both succeed, with no HOME."""
    need_office()
    monkeypatch.delenv("HOME", raising=False)
    results: dict[int, bytes | BaseException] = {}

    def convert(i: int) -> None:
        try:
            results[i] = docx_to_pdf(small_docx(f"document number {i}"))
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=convert, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(2):
        pdf = results[i]
        assert isinstance(pdf, bytes), pdf
        assert f"document number {i}" in pdf_pages_and_text(pdf, tmp_path)[1]


def test_libreoffice_refuses_a_broken_document():
    need_office()
    with pytest.raises(ConversionError, match=r"made no PDF.*could not be loaded"):
        docx_to_pdf(b"PK\x03\x04 not really a zip")


def test_conversion_error_without_libreoffice(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not pdf_available()
    with pytest.raises(ConversionError) as err:
        docx_to_pdf(small_docx("nothing"))
    assert str(err.value) == INSTALL_HINT
    assert "apt-get install libreoffice-writer-nogui" in INSTALL_HINT
    assert (err.value.status, err.value.exit_code) == (503, 3)


def fake_soffice(tmp_path: Path, monkeypatch, body: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "soffice"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_conversion_error_names_libreoffices_complaint(tmp_path, monkeypatch):
    fake_soffice(tmp_path, monkeypatch, 'echo "Error: the filter refused it" >&2\nexit 1')
    with pytest.raises(ConversionError, match=r"exit status 1.*the filter refused it"):
        docx_to_pdf(small_docx("x"))
    with pytest.raises(ConversionError, match=r"not a \.docx"):
        docx_to_pdf(b"plain text")


def test_conversion_timeout_kills_libreoffice(tmp_path, monkeypatch):
    # The "soffice" wrapper starts a child, as the real one starts soffice.bin: both must go.
    pid_file = tmp_path / "child.pid"
    fake_soffice(tmp_path, monkeypatch, f'/bin/sleep 60 &\necho $! > "{pid_file}"\nwait')
    started = time.monotonic()
    with pytest.raises(ConversionError, match=r"within 0\.5 s"):
        docx_to_pdf(small_docx("x"), timeout=0.5)
    assert time.monotonic() - started < 10
    child = int(pid_file.read_text())
    for _ in range(50):
        status = Path(f"/proc/{child}/status")
        if not status.exists() or "\nState:\tZ" in status.read_text():
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the converter's child {child} survived the timeout")


# --- the regional position document --------------------------------------------------------------


@pytest.fixture
def ts5_round(store, labelled):
    """A TS5 round: one statement reaffirmed by all, one with an abstention, one with two proposed
    wordings, one contested; the rest pending; one observer's comment."""
    store.ingest(labelled)
    rnd = consult.open_round(
        store,
        "Inputs to the Global Compact, 2017",
        filters=[theme_filter([5])],
        purpose="What the region still stands by on smuggling and trafficking.",
        deadline="2017-06-30",
    )
    ids = [s["id"] for s in consult.round_status(store, rnd.id)["statements"]]
    reaffirmed, abstained, updated, contested = ids[:4]
    for c in consult.member_countries():
        for sid in (reaffirmed, abstained, updated):
            consult.set_opinion(store, rnd.id, c, sid, "valid", author=c)
    consult.set_opinion(store, rnd.id, "USA", abstained, "abstain", author="USA")
    for country, wording in (
        ("MEX", "Prevent, prosecute and punish trafficking in persons."),
        ("GTM", "Combat trafficking through regional cooperation."),
    ):
        consult.set_opinion(
            store,
            rnd.id,
            country,
            updated,
            "valid with changes",
            proposed_wording=wording,
            author=country,
        )
    consult.set_opinion(
        store,
        rnd.id,
        "CAN",
        contested,
        "no longer valid",
        reason="Superseded by the New York Declaration of 2016.",
        author="CAN",
    )
    consult.set_opinion(store, rnd.id, "CRI", ids[4], "valid", author="CRI")
    observer, _ = users.add_user(store, "unhcr", "observer")
    consult.add_comment(store, observer, rnd.id, contested, "Cite the 1951 Convention instead.")
    return rnd, {
        "reaffirmed": {reaffirmed, abstained},
        "updated": {updated},
        "contested": {contested},
        "pending": set(ids[4:]),
        "answered_by_cri": ids[4],
    }


def document_text(d) -> str:
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def cell_fill(cell) -> str | None:
    shd = cell._tc.get_or_add_tcPr().find(qn("w:shd"))
    return None if shd is None else shd.get(qn("w:fill"))


def tables_by_kind(d) -> dict[str, list]:
    """Tables keyed by their third header ("Countries" = reaffirmed, "Objections" = contested …)."""
    out: dict[str, list] = {}
    for table in d.tables:
        out.setdefault(table.rows[0].cells[-1].text, []).append(table)
    return out


def row_id(row) -> str:
    return row.cells[1].paragraphs[-1].text


def test_position_document(ts5_round, store, labelled):
    rnd, expect = ts5_round
    d = docx.Document(
        io.BytesIO(position_docx(consult.position_document(store, rnd.id, date(2017, 5, 15))))
    )
    headings = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]
    level1 = [text for style, text in headings if style == "Heading 1"]
    assert level1 == [
        "Method", "Reaffirmed", "To be updated", "Contested", "Pending", "Observers' comments"
    ]  # fmt: skip
    assert ("Heading 2", "TS5 Smuggling of migrants and trafficking in persons") in headings
    assert any(style == "Heading 3" and text.startswith("Commitments") for style, text in headings)
    assert d.paragraphs[0].style.name == "Title"
    assert d.paragraphs[0].text == "Inputs to the Global Compact, 2017"

    text = document_text(d)
    for needle in (
        "What the region still stands by on smuggling and trafficking.",  # purpose
        "Deadline: 2017-06-30",
        "State: open",
        "Date generated: 2017-05-15",
        "An abstention does not block consensus",
        "silence does not count as consent",
        "Canada (CAN): Superseded by the New York Declaration of 2016.",
        "Mexico (MEX): Prevent, prosecute and punish trafficking in persons.",
        "Guatemala (GTM): Combat trafficking through regional cooperation.",
        "Abstained: United States (USA)",
        "Cite the 1951 Convention instead.",
    ):
        assert needle in text, needle

    kinds = tables_by_kind(d)
    ids = {kind: {row_id(r) for t in tables for r in t.rows[1:]} for kind, tables in kinds.items()}
    assert ids["Countries"] == expect["reaffirmed"]
    assert ids["Proposed wording"] == expect["updated"]
    assert ids["Objections"] == expect["contested"]
    assert ids["Not answered"] == expect["pending"]
    pending = {row_id(r): r.cells[2].text for r in kinds["Not answered"][0].rows[1:]}
    # Ten countries: by name alone, to fit the column.
    assert pending[expect["answered_by_cri"]] == ", ".join(
        taxonomy.country_name(c, "en") for c in consult.member_countries() if c != "CRI"
    )
    # No country is named by its bare code anywhere in the tables.
    codes = "|".join(consult.member_countries())
    bare = re.compile(rf"(?<![(A-Z])(?:{codes})(?![A-Z)])")
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    assert not [c for c in cells if bare.search(c)]

    labels = {m.code: m.label for m in labelled.meetings}
    categories = {s.id: s.category for s in labelled.statements}
    shaded = Counter()
    for kind, tables in kinds.items():
        if kind == "By":  # the comments table: the id is in the middle cell's first paragraph
            continue
        for table in tables:
            assert {cell_fill(c) for c in table.rows[0].cells} == {None}
            for row in table.rows[1:]:
                sid = row_id(row)
                statement = labelled.statement(sid)
                assert row.cells[1].paragraphs[0].text == labels[statement.meeting]
                colour = CATEGORY_COLOURS[categories[sid]]
                assert [cell_fill(c) for c in row.cells] == [colour] * 3, sid
                shaded[categories[sid]] += 1
    assert shaded


def test_position_silence_after_the_deadline(store, labelled):
    store.ingest(labelled)
    rnd = consult.open_round(
        store,
        "Silent round",
        filters=[theme_filter([4])],
        deadline="2017-06-30",
        silence_is_consent=True,
    )
    sid = consult.round_status(store, rnd.id)["statements"][0]["id"]
    consult.set_opinion(store, rnd.id, "MEX", sid, "valid", author="MEX")
    before = docx.Document(
        io.BytesIO(position_docx(consult.position_document(store, rnd.id, date(2017, 6, 1))))
    )
    assert "Not answered" in tables_by_kind(before)
    assert "until then a statement stays pending" in document_text(before)
    after = docx.Document(
        io.BytesIO(position_docx(consult.position_document(store, rnd.id, date(2017, 7, 1))))
    )
    kinds = tables_by_kind(after)
    assert "Not answered" not in kinds
    assert "Purpose: not stated" in document_text(after)
    assert "which has passed" in document_text(after)
    row = next(r for t in kinds["Countries"] for r in t.rows[1:] if row_id(r) == sid)
    assert "Valid: Mexico (MEX)" in row.cells[2].text
    assert "No answer (silence counts as consent)" in row.cells[2].text


def test_position_of_an_unknown_round(store, labelled):
    store.ingest(labelled)
    with pytest.raises(NotFound, match="no round 42"):
        position_docx(consult.position_document(store, 42))
