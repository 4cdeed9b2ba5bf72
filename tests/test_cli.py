"""The `rcm` command through click's runner, and once as a real process."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from rcm.cli import cli

COMMANDS = [
    "ingest", "migrate", "stats", "show", "check", "export", "search", "related", "serve", "round",
    "opinion", "users", "suggest", "gcm", "declaration", "review", "audit", "backup", "restore",
    "mail",
]  # fmt: skip


@pytest.fixture
def run(db_url):
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        return runner.invoke(cli, ["--db", db_url, *args], env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def ingested(run):
    result = run("ingest")
    assert result.exit_code == 0, result.output
    return run


def test_ingest_then_again(run):
    first = run("ingest")
    assert first.exit_code == 0
    assert "129 statements (129 added, 0 updated, 0 unchanged), 186 placements" in first.output
    second = run("ingest")
    assert "(0 added, 0 updated, 129 unchanged), 186 placements (unchanged)" in second.output


def test_stats(ingested):
    out = ingested("stats").output
    assert "statements            129" in out
    assert "placements            186" in out
    assert "      31  Borders, transit, entry" in out
    data = json.loads(ingested("stats", "--json").output)
    assert data["statements"] == 129


def test_show(ingested, compendium):
    sid = next(s.id for s in compendium.statements if s.heading == "Return")
    out = ingested("show", sid.lower()).output
    assert out.startswith(f"{sid}  XX RCM (2015)")
    assert "  - To develop contingency plans" in out
    assert "cite as: Regional Conference on Migration, XX RCM (2015), statement " + sid in out
    data = json.loads(ingested("show", sid, "--json").output)
    assert data["id"] == sid and len(data["items"]) == 9
    assert (
        data["placements"][0]["subtheme"]
        == "Ensuring social inclusion and cohesion in the context of migration"
    )


def test_show_unknown(ingested):
    result = ingested("show", "XIX-0000")
    assert result.exit_code == 2
    assert result.output.strip() == "rcm: error: no statement XIX-0000"


def test_check(ingested):
    out = ingested("check").output
    assert "26 findings" not in out and "28 findings" in out
    assert "note-names-unplaced-theme (5)" in out
    data = json.loads(ingested("check", "--json").output)
    assert data["total"] == 28
    assert {f["kind"] for f in data["findings"]} >= {"notes-disagree", "meeting-order"}
    assert all(f["statement_ids"] for f in data["findings"] if f["kind"] != "source-notice")


def test_check_a_file_without_a_database(tmp_path):
    from rcm.parse import shipped_compilation

    path = tmp_path / "c.txt"
    path.write_bytes(shipped_compilation())
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "none.db"), "check", str(path), "--json"]
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["total"] == 28
    assert not (tmp_path / "none.db").exists()


def test_export_json_contract(ingested, tmp_path):
    target = tmp_path / "out.json"
    result = ingested("export", "--format", "json", "-o", str(target))
    assert result.exit_code == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["schema"] == "rcm-compendium/1"
    assert set(doc) >= {"meetings", "themes", "statements"}
    assert len(doc["statements"]) == 129 and len(doc["meetings"]) == 21 and len(doc["themes"]) == 6
    for s in doc["statements"]:
        assert set(s) >= {
            "id",
            "meeting",
            "year",
            "text",
            "category",
            "category_source",
            "placements",
        }
        assert isinstance(s["meeting"], int) and 1996 <= s["year"] <= 2016
        for p in s["placements"]:
            assert set(p) >= {"theme", "subtheme", "position", "also_relevant", "note"}
            assert isinstance(p["theme"], int) and all(
                isinstance(t, int) for t in p["also_relevant"]
            )
    assert sum(len(s["placements"]) for s in doc["statements"]) == 186


def test_export_csv_reads_back(ingested):
    out = ingested("export", "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 129
    every_theme = [r for r in rows if r["themes"].count("TS") == 6]
    assert len(every_theme) == 4
    ret = next(r for r in rows if r["heading"] == "Return")
    assert ret["text"].splitlines()[1].startswith("- To implement return policies")


def test_export_to_a_folder_is_refused(ingested, tmp_path):
    result = ingested("export", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert "is a folder" in result.output


def test_commands_on_an_empty_database(tmp_path):
    runner = CliRunner()
    for args in (["stats"], ["show", "I-0000"], ["check"], ["export"]):
        result = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), *args])
        assert result.exit_code == 3, args
        assert result.output.startswith("rcm: error: no database at")
        assert len(result.output.strip().splitlines()) == 1


def test_environment_variable_selects_the_database(tmp_path):
    runner = CliRunner()
    db = tmp_path / "env.db"
    result = runner.invoke(cli, ["ingest"], env={"RCM_DATABASE_URL": f"sqlite:///{db}"})
    assert result.exit_code == 0 and db.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output


def test_commands_are_the_documented_ones():
    assert sorted(cli.commands) == sorted(COMMANDS)


def test_no_traceback_from_a_real_process(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    proc = subprocess.run(
        [sys.executable, "-m", "rcm.cli", "--db", str(tmp_path / "x.db"), "ingest", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 4
    assert proc.stderr.strip().startswith("rcm: error: ")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.db").exists()


def test_search_command(ingested):
    out = ingested("search", "trafficking", "--theme", "TS5", "--meeting", "XII..").output
    assert out.startswith(
        "10 statements: text matches 'trafficking' and theme is TS5 and meeting is XII RCM or later"
    )
    assert "[trafficking]" in out and "theme: " in out
    data = json.loads(ingested("search", "smuggl*", "--json", "--limit", "2").output)
    assert set(data) >= {"query", "total", "hits", "facets"}
    assert len(data["hits"]) == 2 and set(data["hits"][0]) >= {"id", "score", "snippet"}
    assert data["total"] == sum(v["count"] for v in data["facets"]["meeting"])
    page2 = json.loads(
        ingested("search", "smuggl*", "--json", "--limit", "2", "--page", "2").output
    )
    assert not {h["id"] for h in page2["hits"]} & {h["id"] for h in data["hits"]}


def test_search_command_errors(ingested):
    result = ingested("search", '"open phrase')
    assert result.exit_code == 1
    assert result.output.startswith("rcm: error: unbalanced quote")
    result = ingested("search", "x", "--theme", "TS8")
    assert result.exit_code == 1 and "no theme TS8" in result.output


def test_related_command(ingested, compendium):
    enhance = next(s for s in compendium.statements if s.text.startswith("Enhance the development"))
    data = json.loads(ingested("related", enhance.id, "--json", "--limit", "3").output)
    assert sorted(h["meeting_label"] for h in data["hits"]) == ["I RCM", "IV RCM", "XX RCM"]
