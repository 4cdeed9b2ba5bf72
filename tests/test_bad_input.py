"""Bad input gets a clear error with a line number, and the database is left as it was."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm.cli import cli
from rcm.errors import DocumentError
from rcm.parse import parse_compilation, shipped_compilation

REAL = shipped_compilation()
REAL_LINES = REAL.decode("utf-8").split("\n")


def _doc(lines: list[str]) -> bytes:
    return "\n".join(lines).encode("utf-8")


def _problems(data: bytes) -> list[str]:
    with pytest.raises(DocumentError) as info:
        parse_compilation(data, "bad.txt")
    return [str(p) for p in info.value.problems]


def test_empty_file():
    assert _problems(b"") == ["the file is empty"]
    assert _problems(b"  \n\n\t\n") == ["the file is empty"]


def test_binary_file():
    assert _problems(REAL[:500] + b"\x00\x89PNG") == [
        "line 18: binary data (NUL byte): not a text file"
    ]


def test_other_encodings():
    cp1252 = REAL.decode("utf-8").encode("cp1252", errors="replace")
    [problem] = _problems(cp1252)
    assert problem.startswith("line 7: byte 0xf3 at column 35 is not UTF-8")
    assert "Windows-1252" in problem
    [problem] = _problems(REAL.decode("utf-8").encode("utf-16"))
    assert "UTF-16" in problem


def test_office_files_are_named():
    assert "docx" in _problems(b"PK\x03\x04rest of a zip")[0]
    assert "PDF" in _problems(b"%PDF-1.7\n...")[0]


def test_not_the_compilation():
    [problem] = _problems(b"Dear colleagues,\nplease find attached\n")
    assert "no thematic section heading" in problem


@pytest.mark.parametrize("keep", [120, 250, 300, 366])
def test_truncated_between_sections(keep):
    problems = _problems(_doc(REAL_LINES[:keep]))
    assert any("table of contents lists" in p and "truncated" in p for p in problems)
    assert all(re.match(r"line \d+: ", p) for p in problems)


def test_truncated_inside_a_split_row():
    # Line 183 holds the meeting cell "I"; its "RCM" half is on line 185.
    problems = _problems(_doc(REAL_LINES[:183]))
    assert "line 183: meeting cell 'I' is incomplete and the table ends" in problems[0]


def test_tables_lost_their_meeting_column():
    damaged = [
        re.sub(r"\t[^\t]*\t?$", "", line) if line.startswith("<ul") else line for line in REAL_LINES
    ]
    problems = _problems(_doc(damaged))
    assert problems[0].startswith("line 103: table row has no RCM (meeting) column")
    assert len(problems) > 100


def test_meeting_cells_emptied():
    damaged = [
        re.sub(r"\t[^\t]*RCM[^\t]*\t", "\t\t", line) if line.startswith("<ul") else line
        for line in REAL_LINES
    ]
    problems = _problems(_doc(damaged))
    assert problems[0] == "line 103: row has no meeting (its RCM cell is empty)"


def test_unknown_and_malformed_meetings():
    lines = REAL_LINES[:]
    lines[102] = lines[102].replace("\tI RCM\t", "\tXXV RCM\t")
    lines[103] = lines[103].replace("\tI RCM\t", "\tIIII RCM\t")
    lines[104] = lines[104].replace("\tI RCM\t", "\tfirst\t")
    problems = _problems(_doc(lines))
    assert "line 104: meeting cell 'IIII RCM' is not a Roman numeral" in problems
    assert "line 105: meeting cell 'first' is not a meeting such as \"XIX RCM\"" in problems
    lines = REAL_LINES[:]
    lines[102] = lines[102].replace("\tI RCM\t", "\tXXV RCM\t")
    assert _problems(_doc(lines)) == [
        "line 103: meeting XXV RCM is not a known meeting (known: I–XXI RCM)"
    ]


def test_header_without_meeting_column():
    lines = [
        ("Statements\tStill valid?" if line.startswith("Statements\t") else line)
        for line in REAL_LINES
    ]
    assert _problems(_doc(lines))[0].startswith(
        "line 102: table header has no RCM (meeting) column"
    )


def test_row_outside_a_table():
    lines = REAL_LINES[:]
    del lines[101]  # the header of the first table
    assert any("line 102: table row outside any table" in p for p in _problems(_doc(lines)))


def test_a_theme_number_that_is_not_a_roman_numeral_in_the_front_matter(tmp_path):
    """Long-fuzzing finding 5: "IIII." in the table of contents or the introduction's list of UN
    titles raised ValueError (an internal error, exit 70). It is reported, the line is not read,
    and the entries under it are not filed under the previous theme."""
    lines = list(REAL_LINES)
    assert lines[72].startswith("I.\t") and lines[25].startswith("- I. ")
    lines[72] = "IIII" + lines[72][1:]
    lines[25] = "- IIII" + lines[25][3:]
    compendium = parse_compilation(_doc(lines), "iiii.txt")
    assert len(compendium.statements) == 129
    front = [(n.line, n.message) for n in compendium.notices if n.kind == "front-matter"]
    assert (26, "'IIII' is not a Roman numeral: the line is not read as a theme entry") in front
    assert (73, "'IIII' is not a Roman numeral: the line is not read as a theme entry") in front
    path = tmp_path / "iiii.txt"
    path.write_bytes(_doc(lines))
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "rcm.db"), "ingest", str(path)])
    assert result.exit_code == 0, result.output


def test_bad_input_leaves_the_database_unchanged(tmp_path):
    runner = CliRunner()
    db = tmp_path / "rcm.db"
    assert runner.invoke(cli, ["--db", str(db), "ingest"]).exit_code == 0
    before = db.read_bytes()
    bad = tmp_path / "bad.txt"
    for data in (
        b"",
        b"\x00\x00",
        _doc(REAL_LINES[:250]),
        REAL.decode().encode("cp1252", "replace"),
    ):
        bad.write_bytes(data)
        result = runner.invoke(cli, ["--db", str(db), "ingest", str(bad)])
        assert result.exit_code == 4
        assert result.output.startswith(f"rcm: error: {bad}: ")
        assert db.read_bytes() == before
    fresh = tmp_path / "fresh.db"
    result = runner.invoke(cli, ["--db", str(fresh), "ingest", str(bad)])
    assert result.exit_code == 4 and not fresh.exists()


# --- random corruptions of the real compilation ---------------------------------------------------


@st.composite
def corrupted(draw) -> bytes:
    lines = REAL_LINES[:]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ["delete", "truncate", "duplicate", "swap", "untab", "insert", "bytes", "cell"]
            )
        )
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i : i + draw(st.integers(1, 20))]
        elif kind == "truncate":
            lines = lines[:i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "untab":
            lines[i] = lines[i].replace("\t", " ")
        elif kind == "insert":
            lines.insert(
                i, draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
            )
        elif kind == "cell":
            lines[i] = (
                lines[i]
                + "\t"
                + draw(st.sampled_from(["RCM", "", "XX", "<p>RCM</p>", "*TS9*", "--"]))
            )
        if not lines:
            lines = [""]
    data = _doc(lines)
    if draw(st.booleans()):
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        data = data[:pos] + draw(st.binary(max_size=8)) + data[pos:]
    return data


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_random_corruptions_never_crash(data):
    n_lines = data.count(b"\n") + 1
    try:
        c = parse_compilation(data, "fuzz.txt")
    except DocumentError as exc:
        assert exc.problems
        assert all(0 <= p.line <= n_lines for p in exc.problems)
        return
    ids = [s.id for s in c.statements]
    assert len(ids) == len(set(ids))
    known = set(ids)
    assert all(p.statement_id in known for p in c.placements)
    positions: dict[tuple[int, int], list[int]] = {}
    for p in c.placements:
        positions.setdefault((p.theme, p.subtheme), []).append(p.position)
    assert all(v == list(range(1, len(v) + 1)) for v in positions.values())
