"""`rcm suggest`, `rcm gcm`, `rcm declaration` and `rcm review` through the real command line
parser, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from rcm.cli import cli
from rcm.store import Store
from rcm.store import schema as t
from rcm.suggest.curated import curated_categories
from sample_declarations import odd_spanish_declaration

DATA = Path(__file__).parent / "data" / "declarations"


@pytest.fixture
def run(db_url):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)

    assert invoke("ingest").exit_code == 0
    invoke.url = db_url  # type: ignore[attr-defined]
    return invoke


def count(url, table):
    store = Store(url)
    try:
        with store.connection() as conn:
            return conn.scalar(select(func.count()).select_from(table))
    finally:
        store.close()


def test_ingest_labels_every_statement_from_the_curated_file(run):
    stats = json.loads(run("stats", "--json").output)
    assert stats["categories"] == {"commitment": 66, "principle": 8, "understanding": 55}
    sid = next(iter(curated_categories()))
    shown = run("show", sid).output
    assert "(curated)" in shown and "GCM objectives:" in shown
    data = json.loads(run("show", sid, "--json").output)
    assert data["category_source"] == "curated" and data["objectives"]
    exported = json.loads(run("export").output)
    assert {s["category_source"] for s in exported["statements"]} == {"curated"}


def test_suggest_text(run):
    out = run("suggest", "text", "They agreed to strengthen the fight against human trafficking")
    assert out.exit_code == 0
    assert "category: commitment" in out.output and "governing phrase" in out.output
    data = json.loads(
        run("suggest", "text", "We recognize the role of civil society", "--json").output
    )
    assert data["category"]["category"] == "understanding"
    assert run("suggest", "text", "  ").exit_code == 1


def test_gcm_coverage(run):
    out = run("gcm", "coverage")
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0].startswith("objective") and "TS6" in lines[0]
    assert len(lines) == 25  # header, 23 objectives, summary
    assert "objectives without any statement: 8, 15, 20, 22" in lines[-1]
    data = json.loads(run("gcm", "coverage", "--json", "--source", "curated").output)
    assert len(data["objectives"]) == 23 and data["source"] == "curated"


def test_the_review_workflow(run):
    assert run("users", "add", "ana", "--role", "secretariat").exit_code == 0
    out = run(
        "declaration", "add", str(DATA / "xxii_rcm_en.txt"), "--meeting", "XXII", "--year", "2017"
    )
    assert out.exit_code == 0, out.output
    assert "declaration 1: XXII RCM (2017)" in out.output and "queued for review" in out.output
    listed = run("review", "list").output.splitlines()
    assert all("pending" in line for line in listed) and len(listed) > 5
    assert "XXII RCM" in run("declaration", "list").output
    shown = run("review", "show", "1")
    assert shown.exit_code == 0 and "suggestions:" in shown.output and "category:" in shown.output
    out = run(
        "review", "accept", "1", "--category", "principle", "--place", "1.1", "--place", "TS5.2",
        "--objective", "23", "--as", "ana",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "accepted as XXII-" in out.output and "TS1.1, TS5.2" in out.output
    sid = out.output.split("accepted as ")[1].split(":")[0]
    shown = json.loads(run("show", sid, "--json").output)
    assert shown["category"] == "principle" and shown["year"] == 2017
    assert [p["theme"] for p in shown["placements"]] == [1, 5]
    assert shown["objectives"] == [{"objective": 23, "source": "curated", "score": None}]
    assert run("review", "reject", "2", "--reason", "a thanks, not a statement").exit_code == 0
    again = run("review", "accept", "2")
    assert again.exit_code == 5 and "already rejected" in again.output
    pending = json.loads(run("review", "list", "--state", "pending", "--json").output)
    assert {p["state"] for p in pending} == {"pending"}
    assert run("review", "accept", "999").exit_code == 2
    bad = run("review", "accept", "3", "--place", "TS5")
    assert bad.exit_code == 1 and "theme.sub-theme" in bad.output
    # the same file, or the same meeting, again: refused, nothing added
    again = run(
        "declaration", "add", str(DATA / "xxii_rcm_en.txt"), "--meeting", "XXIII", "--year", "2018"
    )
    assert again.exit_code == 5 and "already added as declaration 1" in again.output
    again = run(
        "declaration", "add", str(DATA / "joint_communique_en.txt"), "--meeting", "XXI",
        "--year", "2016",
    )  # fmt: skip
    assert again.exit_code == 5 and "XXI RCM already exists" in again.output
    assert count(run.url, t.declarations) == 1


def test_a_docx_declaration_for_an_extraordinary_meeting(run, tmp_path):
    document = docx.Document()
    document.add_paragraph("EXTRAORDINARY DECLARATION OF THE REGIONAL CONFERENCE ON MIGRATION")
    document.add_paragraph("Managua, Nicaragua, 2017")
    document.add_paragraph("Considering the humanitarian situation of migrants in the region,")
    document.add_paragraph("HEREBY DECLARE:")
    document.add_paragraph(
        "Strengthen coordination among consular networks to protect migrants in transit.",
        style="List Number",
    )
    document.add_paragraph(
        "Promote the exchange of information on smuggling of migrants among Member Countries.",
        style="List Number",
    )
    path = tmp_path / "managua.docx"
    document.save(path)
    out = run(
        "declaration", "add", str(path), "--meeting", "XXII", "--year", "2017", "--extraordinary",
        "--place", "Managua",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "Extraordinary Meeting of the XXII RCM" in out.output
    assert "2 statements queued" in out.output and "1 preamble paragraphs" in out.output
    accepted = run("review", "accept", "1")
    assert accepted.exit_code == 0 and "accepted as XXII-E1-" in accepted.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (DATA.joinpath("not_a_declaration.txt").read_bytes(), "not_a_declaration.txt"),
        (b"x" * (5 * 1024 * 1024), "MB"),
        ("Declaración\n\n1. Acordamos".encode("latin-1"), "UTF-8"),
    ],
)
def test_bad_declarations_add_nothing(run, tmp_path, content, message):
    path = tmp_path / "not_a_declaration.txt"
    path.write_bytes(content)
    out = run("declaration", "add", str(path), "--meeting", "XXII", "--year", "2017")
    assert out.exit_code == 4, out.output
    assert message in out.output and "Traceback" not in out.output
    assert count(run.url, t.declarations) == 0 and count(run.url, t.proposals) == 0


def test_correcting_the_queue_from_the_command_line(run, tmp_path):
    xxii = DATA / "xxii_rcm_en.txt"
    assert (
        run("declaration", "add", str(xxii), "--meeting", "XXII", "--year", "2017").exit_code == 0
    )
    shown = run("review", "show", "--declaration", "1")
    assert shown.exit_code == 0, shown.output
    assert "preamble (kept apart; rcm review promote --preamble K):" in shown.output
    assert "\n  2. Recognizing that migration is a multidimensional" in shown.output
    assert "closing (kept apart" in shown.output and "statements:" in shown.output
    assert run("review", "show").exit_code == 2  # a proposal or a declaration
    out = run("review", "promote", "--declaration", "1", "--closing", "1")
    assert out.exit_code == 0 and "closing paragraph 1 is proposal" in out.output
    assert "[promoted: proposal" in run("review", "show", "--declaration", "1").output
    again = run("review", "promote", "--declaration", "1", "--closing", "1")
    assert again.exit_code == 5 and "already promoted" in again.output
    assert run("review", "promote", "--declaration", "1").exit_code == 2
    # the list of instructions: its items are the split points
    queue = json.loads(run("review", "list", "--declaration", "1", "--json").output)
    listed = next(p for p in queue if len(p["items"]) == 3)
    shown = run("review", "show", str(listed["id"])).output
    assert "it can be split before" in shown and "  3. report on the results" in shown
    bad = run("review", "split", str(listed["id"]), "--at", "the compilation among")
    assert bad.exit_code == 1 and "not where one of its items starts" in bad.output
    out = run("review", "split", str(listed["id"]), "--at", "report on the results")
    assert out.exit_code == 0 and out.output.count("proposal ") == 2
    out = run("review", "merge", str(listed["id"]))
    assert out.exit_code == 0 and "report on the results" in out.output
    last = json.loads(run("review", "list", "--declaration", "1", "--json").output)[-1]
    out = run("review", "merge", str(last["id"]))
    assert out.exit_code == 1 and "is the last of declaration 1" in out.output
    out = run("review", "add", "--declaration", "1", "--text", "We agree to meet in 2018.")
    assert out.exit_code == 0 and "added, pending" in out.output
    accepted = run("review", "accept", "1").output.split("accepted as ")[1].split(":")[0]
    # a corrected file: the same meeting, the accepted statement linked, not duplicated
    again = run("declaration", "add", str(xxii.with_name("joint_communique_en.txt")),
                "--meeting", "XXII", "--year", "2017")  # fmt: skip
    assert again.exit_code == 5 and "rcm declaration replace 1 FILE" in again.output
    corrected = tmp_path / "xxii_corrected.txt"
    corrected.write_text(xxii.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    same = run("declaration", "replace", "1", str(xxii))
    assert same.exit_code == 5 and "same file as declaration 1" in same.output
    out = run("declaration", "replace", "1", str(corrected), "--reason", "typo")
    assert out.exit_code == 0, out.output
    assert "declaration 1 replaced by declaration 2: XXII RCM (2017)" in out.output
    assert "1 linked to statements already accepted" in out.output and accepted in out.output
    listed = run("declaration", "list").output
    assert "replaced by declaration 2" in listed
    # the corrected file's reading is kept too, each statement naming its proposal
    kept = json.loads(run("review", "show", "--declaration", "2", "--json").output)
    read = {r["proposal"]: r["line"] for r in kept["reading"] if "proposal" in r}
    assert read == {p["id"]: p["line"] for p in kept["proposals"]} and len(read) > 5
    assert count(run.url, t.meetings) == 22  # XXII once
    out = run("declaration", "withdraw", "2", "--reason", "withdrawn by the meeting")
    assert out.exit_code == 0 and "pending proposals rejected" in out.output
    assert f"1 statements accepted from it stay in the compendium: {accepted}" in out.output
    twice = run("declaration", "withdraw", "2", "--reason", "again")
    assert twice.exit_code == 5 and "was withdrawn by" in twice.output
    assert json.loads(run("show", accepted, "--json").output)["id"] == accepted


def glance(output: str) -> list[tuple[int, str, str]]:
    """(line, read as, text) of each line of a reading at a glance in ``output``."""
    return [
        (int(m["line"]), m["what"].strip(), m["text"])
        for m in re.finditer(r"^ {0,4}(?P<line>\d+)  (?P<what>.{26}) (?P<text>.+)$", output, re.M)
    ]


def test_the_reading_at_a_glance_names_each_line_of_the_file(run, tmp_path):
    path = odd_spanish_declaration(tmp_path / "xxii_es.txt")
    text = path.read_text(encoding="utf-8")
    out = run("declaration", "add", str(path), "--meeting", "XXII", "--year", "2017")
    assert out.exit_code == 0, out.output
    read = glance(out.output)
    lines = text.splitlines()
    # every paragraph of the file, in its order, each at the line of the file it starts on
    assert [n for n, _, _ in read] == sorted(n for n, _, _ in read)
    # (one paragraph a line in this file; the title's second and third lines are the title's)
    assert [n for n, _, _ in read] == [n for n, x in enumerate(lines, 1) if x.strip()][:1] + [
        n for n, x in enumerate(lines, 1) if x.strip() and n > 3
    ]
    for n, _, shown in read:
        assert shown.rstrip("…").startswith(lines[n - 1].strip()[:40]), (n, shown)
    kinds = {what for _, what, _ in read}
    assert {"title", "preamble", "UNRECOGNISED", "heading (not a statement)", "chapeau"} <= kinds
    assert {"closing", "statement 1", "item of 4"} <= kinds
    odd = next(n for n, what, _ in read if what == "UNRECOGNISED")
    assert lines[odd - 1].startswith("Texto sujeto a revisión")
    # the same reading is kept with the declaration and shown again
    shown = run("review", "show", "--declaration", "1")
    assert shown.exit_code == 0 and glance(shown.output) == read
    kept = json.loads(run("review", "show", "--declaration", "1", "--json").output)
    statements = [r for r in kept["reading"] if r["part"] == "statement"]
    assert [r["proposal"] for r in statements] == [p["id"] for p in kept["proposals"]]
    assert [r["line"] for r in statements] == [p["line"] for p in kept["proposals"]]
