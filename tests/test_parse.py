"""The real compilation, read faithfully. Every expected figure here was counted by reading the
document (shared/corpus/rcm_compilation_1996_2016.txt), not by running the parser."""

from __future__ import annotations

from collections import Counter

import pytest

from rcm import taxonomy
from rcm.model import Category
from rcm.parse.text import normal_form, split_items, split_note

# Rows per sub-theme table, page-split rows counted once, the "--" filler row not counted.
PLACEMENTS_PER_SUBTHEME = {
    (1, 1): 11, (1, 2): 14, (1, 3): 7, (1, 4): 7,
    (2, 1): 6, (2, 2): 7, (2, 3): 7, (2, 4): 10,
    (3, 1): 31, (3, 2): 11, (3, 3): 14,
    (4, 1): 10, (4, 2): 4,
    (5, 1): 6, (5, 2): 25,
    (6, 1): 7, (6, 2): 3, (6, 3): 6,
}  # fmt: skip

# Distinct statements adopted at each meeting (III RCM has none in the compilation).
STATEMENTS_PER_MEETING = {
    "I": 27, "II": 2, "III": 0, "IV": 5, "V": 2, "VI": 2, "VII": 6, "VIII": 5, "IX": 7, "X": 4,
    "XI": 2, "XII": 8, "XIII": 4, "XIV": 5, "XV": 11, "XVI": 5, "XVII": 4, "XVIII": 5, "XIX": 11,
    "XX": 7, "XXI": 7,
}  # fmt: skip


def test_placements_per_subtheme(compendium):
    counted = Counter((p.theme, p.subtheme) for p in compendium.placements)
    assert dict(counted) == PLACEMENTS_PER_SUBTHEME
    assert len(compendium.placements) == 186


def test_unique_statements_and_meetings(compendium):
    assert len(compendium.statements) == 129
    per_meeting = Counter(s.meeting for s in compendium.statements)
    assert {
        code: per_meeting.get(code, 0) for code in STATEMENTS_PER_MEETING
    } == STATEMENTS_PER_MEETING


def test_copies_per_statement(compendium):
    # 93 statements appear once, 27 twice, 5 three times, and 4 ("all the other TSs") six times.
    copies = Counter(Counter(p.statement_id for p in compendium.placements).values())
    assert copies == {1: 93, 2: 27, 3: 5, 6: 4}


def test_the_four_statements_in_every_theme(compendium):
    everywhere = {
        sid for sid, n in Counter(p.statement_id for p in compendium.placements).items() if n == 6
    }
    starts = sorted(compendium.statement(s).text[:29] for s in everywhere)
    assert starts == [
        "Enhance the development and a",
        "Promote a better understandin",
        "Reiterated that migration is ",
        "Their support for the meaning",
    ]
    for sid in everywhere:
        assert {p.theme for p in compendium.placements_of(sid)} == {1, 2, 3, 4, 5, 6}


def test_cross_reference_notes(compendium):
    notes = [p.note for p in compendium.placements if p.note]
    assert len(notes) == 90
    spellings = Counter(notes)
    assert spellings["*Statement also relevant for all the other TSs*"] == 23
    assert spellings["*TS3*"] == 1
    assert spellings["*Statement also relevant for ST3*"] == 1
    assert spellings["*Statement also relevant for TS 1 and TS5*"] == 1
    assert spellings["*Statement also relevant for TS3 y TS5*"] == 4
    # Every note names at least one theme: no spelling went unrecognised.
    assert all(p.also_relevant for p in compendium.placements if p.note)
    assert not [n for n in compendium.notices if n.kind == "note-unrecognised"]


@pytest.mark.parametrize(
    ("printed", "themes", "all_others"),
    [
        ("x. *Statement also relevant for TS5*", (5,), False),
        ("x. *Statement also relevant for TS3 y TS5*", (3, 5), False),
        ("x. *Statement also relevant for TS1 and TS5*", (1, 5), False),
        ("x. *Statement also relevant for TS 1 and TS5*", (1, 5), False),
        ("x. *Statement also relevant for ST3*", (3,), False),
        ("x. *TS3*", (3,), False),
        ("x.*Statement also relevant for all the other TSs*", (), True),
    ],
)
def test_note_spellings(printed, themes, all_others):
    text, note = split_note(printed)
    assert text == "x."
    assert note is not None
    assert (note.themes, note.all_others) == (themes, all_others)


def test_note_split_by_page_break(compendium):
    # Line 244 ends "*Statement also" and line 246 continues "relevant for TS2*".
    maras = [p for p in compendium.placements if p.line == 244]
    assert maras[0].note == "*Statement also relevant for TS2*"
    assert maras[0].also_relevant == (2,)
    # Line 158 ends "*Statement also relevant for" and line 160 holds "TS3*".
    security = next(p for p in compendium.placements if p.line == 158)
    assert security.note == "*Statement also relevant for TS3*"


def test_rows_split_by_page_break(compendium):
    by_line = {p.line: compendium.statement(p.statement_id) for p in compendium.placements}
    # Meeting cell split "I" / "RCM" (lines 183/185), text continuing in the next row.
    s = by_line[183]
    assert s.meeting == "I"
    assert "migration-related issues. In this regard" in s.text
    assert s.text.endswith("other regional coordination mechanisms.")
    # "VII" / "<p>RCM</p>" (lines 213/215) with the rest of the text wrapped in <p>.
    s = by_line[213]
    assert s.meeting == "VII"
    assert "as contained in the Vienna Convention" in s.text
    assert "<" not in s.text
    # "XVII" / "<p>RCM</p>" (359/361); "XIV" / "RCM" (309/311); "I" / "RCM" (232/234).
    assert by_line[359].meeting == "XVII" and by_line[359].text.endswith("April 16-18, 2012.")
    assert (
        by_line[309].meeting == "XIV"
        and "migration in the building of lasting" in by_line[309].text
    )
    assert by_line[232].text.endswith("to control extra-regional flows of undocumented migrants.")
    # Meeting cell whole, text continuing with an empty meeting cell (113/115).
    s = by_line[113]
    assert s.meeting == "XIX"
    assert "must guide our regional, bilateral and national responses" in s.text
    # The same statement split differently in two sections is one statement.
    assert by_line[128].id == by_line[289].id == by_line[356].id


def test_xx_rcm_lists_keep_their_items(compendium):
    lists = {s.heading: s for s in compendium.statements if s.items}
    assert set(lists) == {"Integration", "Return", "Social and Productive Reintegration"}
    assert all(s.meeting == "XX" for s in lists.values())
    assert len(lists["Integration"].items) == 10
    assert lists["Integration"].items[0] == (
        "To promote migration management frameworks and public policies that allow for the "
        "socioeconomic integration of migrants as partners in development;"
    )
    # "Return" continues over a page break (lines 135 and 137): 2 items before it, 7 after.
    ret = lists["Return"].items
    assert len(ret) == 9
    assert ret[0].startswith("To implement return policies with a humane focus")
    assert ret[1].startswith("To incorporate psychological care")
    assert (
        ret[2] == "To develop contingency plans for responding to emergency situations affecting "
        "standard return processes."
    )
    assert ret[-1].startswith("To strengthen regional coordination mechanisms")
    social = lists["Social and Productive Reintegration"].items
    assert len(social) == 12
    assert social[-1].startswith("To explore the possibility of establishing employment bureaus")
    assert all(item.startswith("To ") for s in lists.values() for item in s.items)
    assert lists["Return"].text.startswith("Return: To implement return policies")


def test_split_items_rules():
    assert split_items("- To a; - To b.") == ("To a;", "To b.")
    assert split_items("To a; To b. • To c. • To d;") == ("To a;", "To b.", "To c.", "To d;")
    # A hyphen inside a word is not a bullet.
    assert split_items("- To build capacity-building programmes") == (
        "To build capacity-building programmes",
    )


def test_subtheme_headings_exactly_as_printed(compendium):
    titles = [(s.theme, s.order, s.title) for t in compendium.themes for s in t.subthemes]
    expected = [(s.theme, s.order, s.title) for t in taxonomy.themes() for s in t.subthemes]
    assert titles == expected
    assert titles[0][2] == (
        "Protecting the human rights of all migrants: access to justice; detention; "
        "the wellbeing of children"
    )


def test_themes_and_categories_match_the_shipped_taxonomy(compendium):
    assert compendium.themes == list(taxonomy.themes())
    assert compendium.categories == list(taxonomy.categories())
    assert [c.category for c in compendium.categories] == [
        Category.PRINCIPLE,
        Category.UNDERSTANDING,
        Category.COMMITMENT,
    ]
    assert compendium.categories[2].definition == "agreed obligation."
    assert compendium.theme(5).consultation == "September 2017"


def test_taxonomy_reference_data():
    meetings = taxonomy.meetings()
    assert [(m.code, m.year) for m in meetings][:2] == [("I", 1996), ("II", 1997)]
    assert (meetings[-1].code, meetings[-1].year, meetings[-1].label) == ("XXI", 2016, "XXI RCM")
    assert len(meetings) == 21
    countries = taxonomy.countries()
    assert len(countries) == 11
    assert {c.iso3 for c in countries} == {
        "BLZ",
        "CAN",
        "CRI",
        "DOM",
        "SLV",
        "GTM",
        "HND",
        "MEX",
        "NIC",
        "PAN",
        "USA",
    }
    assert next(c for c in countries if c.iso3 == "MEX").name_es == "México"
    assert len(taxonomy.gcm_objectives()) == 23
    assert taxonomy.gcm_objectives()[9].title.startswith(
        "Prevent, combat and eradicate trafficking"
    )
    assert [p.letter for p in taxonomy.gcm_principles()] == list("abcdefghij")


def test_nothing_is_dropped(compendium, compilation_text):
    # Every statement row of the document is a placement; what is not a statement is a notice.
    kinds = {(n.kind, n.line) for n in compendium.notices}
    assert kinds == {("filler-row", 116), ("back-matter", 398)}
    credits = next(n for n in compendium.notices if n.kind == "back-matter")
    assert "Salvador Gutiérrez" in credits.text and "Andrea Jiménez" in credits.text
    # Every word of every statement cell reaches some placement's printed text.
    printed = " ".join(p.printed_text for p in compendium.placements)
    for line in compilation_text.splitlines():
        if line.startswith("<ul"):
            first_cell = line.split("\t")[0]
            words = normal_form(first_cell.replace('<ul style="list-style-type: none">', ""))
            assert words[:40] in normal_form(printed)


def test_source_info(compendium):
    src = compendium.source
    assert src.lines == 414  # 413 newlines; the last line ("Andrea Jiménez") has none
    assert src.sha256 == "aa6357ef9b341fb738d61804b2fe6c6b8ca5cc372c571e720d43d8cdcf1e0683"
    assert src.date == "April 2017"
    assert src.title.startswith("Compilation of the RCM statements made between 1996 and 2016")


def test_copies_differing_in_spelling_are_one_statement(compendium):
    # "non-governmental" (line 105) and "non governmental" (line 181) are the same I RCM statement.
    ngo = [p for p in compendium.placements if p.line in (105, 181)]
    assert len({p.statement_id for p in ngo}) == 1
    assert {p.printed_text.count("non-governmental") for p in ngo} == {0, 1}
    # Bulleted ("• Consider…", line 210) and plain (line 227) copies too.
    consider = [p for p in compendium.placements if p.line in (210, 227)]
    assert len({p.statement_id for p in consider}) == 1


def test_different_statements_are_never_merged(compendium):
    # Same meeting, similar wording, different statements.
    by_line = {p.line: p.statement_id for p in compendium.placements}
    assert by_line[207] != by_line[216]  # I RCM vs XV RCM: "structural factors"
    assert by_line[242] != by_line[349]  # VIII vs IX: "Intensify / Strengthen … cooperation"
    assert by_line[290] != by_line[353]  # XIII vs XII: 1951 Convention
    texts = Counter((s.meeting, normal_form(s.text)) for s in compendium.statements)
    assert max(texts.values()) == 1


def test_dash_headings_of_xix_rcm(compendium):
    headings = sorted(s.heading for s in compendium.statements if s.heading and not s.items)
    assert len(headings) == 9
    assert "International protection" in headings
    assert "Development" in headings  # "Development – Recognizing …" (en dash)
    for s in compendium.statements:
        if s.heading and not s.items:
            assert s.meeting == "XIX"
            assert s.text.startswith(s.heading)
