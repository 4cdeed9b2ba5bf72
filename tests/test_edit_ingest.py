"""The Word compilation edited as the Secretariat does (reword, reshade, move, add, delete rows),
ingested by id: exactly those edits, the same ids, each audited, a change report; --dry-run writes
nothing; unknown, duplicated, moved and partly reworded ids are errors naming table and row, with
the database unchanged. With an ordinary (XXII) and an extraordinary (XXV-E1) meeting added from
declarations; on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from rcm.cli import cli
from rcm.export.docx import shade
from rcm.model import Category
from rcm.taxonomy import CATEGORY_COLOURS
from sample_declarations import covid_declaration

DATA = Path(__file__).parent / "data" / "declarations"


@pytest.fixture
def run(db_url):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)

    assert invoke("ingest").exit_code == 0
    return invoke


@pytest.fixture
def later(run, tmp_path):
    assert run("users", "add", "ana", "--role", "secretariat").exit_code == 0
    out = run(
        "declaration", "add", str(DATA / "xxii_rcm_en.txt"), "--meeting", "XXII", "--year", "2017"
    )
    assert out.exit_code == 0, out.output
    out = run(
        "review", "accept", "1", "--category", "principle", "--place", "1.1", "--place", "5.2",
        "--as", "ana",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    out = run(
        "declaration", "add", str(covid_declaration(tmp_path / "covid.docx")), "--meeting", "XXV",
        "--year", "2020", "--extraordinary", "--place", "Virtual",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    pending = json.loads(run("review", "list", "--state", "pending", "--json").output)
    first = min(p["id"] for p in pending if p["meeting"] == "XXV-E1")
    out = run("review", "accept", str(first), "--category", "commitment", "--place", "3.1")
    assert out.exit_code == 0, out.output
    return run


# --- reading and editing the Word file ------------------------------------------------------------


class Compilation:
    """The exported .docx, its statement rows by id, and helpers to edit it."""

    def __init__(self, path: Path) -> None:
        self.doc = docx.Document(str(path))
        self.tables = [t for t in self.doc.tables if t.rows[0].cells[0].text == "Statements"]

    def rows(self):
        for table in self.tables:
            for row in table.rows[1:]:
                yield table, row

    @staticmethod
    def sid(row) -> str:
        paragraphs = [p.text for p in row.cells[1].paragraphs if p.text.strip()]
        return paragraphs[1] if len(paragraphs) > 1 else ""

    def by_id(self) -> dict[str, list]:
        out: dict[str, list] = {}
        for table, row in self.rows():
            out.setdefault(self.sid(row), []).append((table, row))
        return out

    def single(self, prefix: str, skip: set[str]) -> tuple[str, object, object]:
        """A statement of meeting ``prefix`` printed in one row, a plain paragraph, no note."""
        for sid, places in self.by_id().items():
            table, row = places[0]
            paragraphs = [p for p in row.cells[0].paragraphs if p.text.strip()]
            if (
                sid.startswith(prefix + "-")
                and sid not in skip
                and len(places) == 1
                and len(paragraphs) == 1
            ):
                return sid, table, row
        raise AssertionError(f"no single-row statement of {prefix}")

    @staticmethod
    def reword(row, text: str) -> None:
        paragraph = next(p for p in row.cells[0].paragraphs if p.text.strip())
        for run in paragraph.runs[1:]:
            run._r.getparent().remove(run._r)
        paragraph.runs[0].text = text

    @staticmethod
    def reshade(row, category: Category) -> None:
        for cell in row.cells:
            shade(cell, CATEGORY_COLOURS[category])

    @staticmethod
    def set_id(row, text: str) -> None:
        paragraph = [p for p in row.cells[1].paragraphs if p.text.strip()][1]
        paragraph.runs[0].text = text

    def save(self, path: Path) -> Path:
        self.doc.save(str(path))
        return path


def _export(run, path: Path) -> Path:
    out = run("export", "--format", "docx", "-o", str(path))
    assert out.exit_code == 0, out.output
    return path


def _state(run) -> tuple[str, int]:
    """The whole compendium as JSON and the audit trail's length: what "nothing written" keeps."""
    exported = run("export").output
    audit = json.loads(run("audit", "--json", "--limit", "1000").output)
    return exported, len(audit["events"])


def _show(run, sid):
    out = run("show", sid, "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def _category(data) -> Category:
    return Category(data["category"])


def test_word_edits_by_id(later, tmp_path):
    original = _export(later, tmp_path / "compilation.docx")
    w = Compilation(original)
    ids = w.by_id()
    xxii = next(sid for sid in ids if sid.startswith("XXII-"))
    covid = next(sid for sid in ids if sid.startswith("XXV-E1-"))
    assert len(ids[xxii]) == 2  # placed under 1.1 and 5.2

    # reword a compilation statement, and the extraordinary meeting's (a declaration statement)
    reworded, _, row = w.single("XIX", set())
    w.reword(row, "Strengthen the consular protection of migrants in every transit country.")
    w.reword(ids[covid][0][1], "Guarantee migrants access to health services and vaccines.")
    # reshade one
    reshaded, _, row = w.single("XX", {reworded})
    before_category = _category(_show(later, reshaded))
    new_category = next(c for c in Category if c != before_category)
    w.reshade(row, new_category)
    # move one to another sub-theme table
    moved, table, row = w.single("XVIII", {reworded, reshaded})
    target = next(t for t in w.tables if t is not table)
    target._tbl.append(row._tr)
    # add a row without an id (a copy of a row, its text changed and its id line removed)
    template = w.tables[0].rows[1]
    added_tr = copy.deepcopy(template._tr)
    w.tables[0]._tbl.append(added_tr)
    added_row = w.tables[0].rows[-1]
    w.reword(added_row, "Promote the exchange of good practices on labour migration statistics.")
    for cell in added_row.cells[:1]:
        for extra in [p for p in cell.paragraphs if p.text.strip()][1:]:
            extra._p.getparent().remove(extra._p)
    id_paragraph = [p for p in added_row.cells[1].paragraphs if p.text.strip()][1]
    id_paragraph._p.getparent().remove(id_paragraph._p)
    added_meeting = next(p.text for p in added_row.cells[1].paragraphs if p.text.strip())
    # delete every row of the XXII RCM statement (a declaration statement)
    for _, row in ids[xxii]:
        row._tr.getparent().remove(row._tr)
    edited = w.save(tmp_path / "edited.docx")

    before_versions = {sid: _show(later, sid)["version"] for sid in (reworded, covid)}
    moved_before = sorted((p["theme"], p["subtheme"]) for p in _show(later, moved)["placements"])

    # a dry run reports the same changes and writes nothing
    state = _state(later)
    dry = later("ingest", str(edited), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    dry_report = json.loads(dry.output)
    assert dry_report["dry_run"] is True
    assert _state(later) == state

    out = later("ingest", str(edited), "--json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    kinds = Counter((c["kind"], c["statement_id"]) for c in report["changes"])
    added_ids = [c["statement_id"] for c in report["changes"] if c["kind"] == "added"]
    assert len(added_ids) == 1
    added = added_ids[0]
    assert kinds == Counter(
        {
            ("reworded", reworded): 1,
            ("reworded", covid): 1,
            ("recategorised", reshaded): 1,
            ("re-placed", moved): 1,
            ("retired", xxii): 1,
            ("added", added): 1,
        }
    ), report["changes"]
    assert report["counts"] == {
        "added": 1,
        "reworded": 2,
        "recategorised": 1,
        "re-placed": 1,
        "retired": 1,
        "unretired": 0,
        "objectives": 0,
    }
    assert [(c["kind"], c["statement_id"]) for c in dry_report["changes"]] == [
        (c["kind"], c["statement_id"]) for c in report["changes"]
    ]

    # the same ids, the earlier wordings kept as versions
    for sid in (reworded, covid):
        data = _show(later, sid)
        assert data["id"] == sid and data["version"] == before_versions[sid] + 1
        assert [v["version"] for v in data["versions"]] == [before_versions[sid]]
    assert _show(later, reworded)["text"].startswith("Strengthen the consular protection")
    assert "vaccines" in _show(later, covid)["text"]
    assert _show(later, covid)["meeting_code"] == "XXV-E1"
    assert _show(later, reshaded)["category"] == new_category.value
    assert _show(later, reshaded)["category_source"] == "curated"
    target_title = target.rows[0].cells[0].text  # header; the sub-theme is checked by count
    assert target_title == "Statements"
    moved_after = sorted((p["theme"], p["subtheme"]) for p in _show(later, moved)["placements"])
    assert moved_after != moved_before and len(moved_after) == 1
    new = _show(later, added)
    assert new["text"].startswith("Promote the exchange of good practices")
    assert new["meeting_label"] == added_meeting and added.startswith(new["meeting_code"] + "-")
    retired = _show(later, xxii)
    assert "retired" in retired and retired["placements"] == []

    # each change audited, about its statement
    trail = json.loads(later("audit", "--json", "--action", "statement", "--limit", "100").output)
    audited = Counter((e["action"], e["object"]) for e in trail["events"])
    assert audited == Counter(
        {
            ("statement.reword", f"statement {reworded}"): 1,
            ("statement.reword", f"statement {covid}"): 1,
            ("statement.recategorise", f"statement {reshaded}"): 1,
            ("statement.place", f"statement {moved}"): 1,
            ("statement.retire", f"statement {xxii}"): 1,
            ("statement.add", f"statement {added}"): 1,
        }
    )

    # the retired statement: out of the compilation and the default search, listed by stats/check
    def hits(*args):
        data = json.loads(later("search", "--json", "--size", "100", *args).output)
        return [h["id"] for h in data["hits"]]

    assert xxii not in hits("--meeting", "XXII")
    assert xxii in hits("--meeting", "XXII", "--retired")
    assert hits("--retired", "only") == [xxii]
    stats = json.loads(later("stats", "--json").output)
    assert [r["id"] for r in stats["retired"]] == [xxii]
    assert xxii in later("check").output
    assert xxii not in later("export").output
    again = _export(later, tmp_path / "again.docx")
    assert xxii not in Compilation(again).by_id()

    # a second ingest of the edited file changes nothing
    twice = later("ingest", str(edited))
    assert twice.exit_code == 0, twice.output
    assert "0 added, 0 reworded, 0 recategorised, 0 re-placed, 0 retired" in twice.output
    text_report = later("ingest", str(again), "--dry-run")
    assert "dry run, nothing written" in text_report.output


def _refused(run, path: Path, *needles: str) -> str:
    state = _state(run)
    out = run("ingest", str(path))
    assert out.exit_code != 0, out.output
    for needle in needles:
        assert needle in out.output, out.output
    assert "table '" in out.output and " row " in out.output, out.output
    assert _state(run) == state
    return out.output


def test_bad_ids_are_refused_naming_table_and_row(later, tmp_path):
    original = _export(later, tmp_path / "compilation.docx")

    w = Compilation(original)
    sid, _, row = w.single("XIX", set())
    w.set_id(row, "XIX-9999")
    _refused(later, w.save(tmp_path / "unknown.docx"), "unknown id XIX-9999")

    w = Compilation(original)
    a, _, _ = w.single("XIX", set())
    _, _, row_b = w.single("XIX", {a})
    w.set_id(row_b, a)
    _refused(later, w.save(tmp_path / "duplicated.docx"), f"the id {a} is printed on rows")

    w = Compilation(original)
    sid, _, row = w.single("XIX", set())
    meeting = next(p for p in row.cells[1].paragraphs if p.text.strip())
    meeting.runs[0].text = "XX RCM"
    _refused(later, w.save(tmp_path / "moved.docx"), f"statement {sid} is a statement of the XIX")

    # a statement printed in several rows, reworded in one only
    w = Compilation(original)
    several = next(
        (sid, places)
        for sid, places in w.by_id().items()
        if len(places) > 1
        and all(len([p for p in r.cells[0].paragraphs if p.text.strip()]) == 1 for _, r in places)
    )
    sid, places = several
    w.reword(places[0][1], "A wording given to one copy of the statement only.")
    partial = w.save(tmp_path / "partial.docx")
    message = _refused(later, partial, f"statement {sid} is reworded in one row")
    assert message.count("table '") >= 2  # both rows named
    out = later("ingest", str(partial), "--apply-everywhere", "--json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert [(c["kind"], c["statement_id"]) for c in report["changes"]] == [("reworded", sid)]
    data = _show(later, sid)
    assert data["text"] == "A wording given to one copy of the statement only."
    assert len(data["placements"]) == len(places)


def test_a_focused_compilation_is_not_ingested(run, tmp_path):
    """A Word compilation exported for one theme holds part of the compendium: ingesting it by id
    would retire every statement outside it. It is refused, saying why; nothing is written. The
    whole compilation still goes through."""
    focused = tmp_path / "ts5.docx"
    out = run("export", "--format", "docx", "--theme", "5", "-o", str(focused))
    assert out.exit_code == 0, out.output
    state = _state(run)
    refused = run("ingest", str(focused))
    assert refused.exit_code != 0
    assert "focused compilation" in refused.output and "Selection" in refused.output
    assert "Traceback" not in refused.output
    assert _state(run) == state
    assert run("check", str(focused)).exit_code in (0, 1)  # can still be checked
    whole = _export(run, tmp_path / "whole.docx")
    again = run("ingest", str(whole))
    assert again.exit_code == 0, again.output

    def statements(document: str) -> dict[str, object]:
        # a placement's ``line`` is where its row was read: a Word row number now
        out = {}
        for s in json.loads(document)["statements"]:
            places = [{k: v for k, v in p.items() if k != "line"} for p in s["placements"]]
            out[s["id"]] = s | {"placements": places}
        return out

    assert statements(run("export").output) == statements(state[0])
