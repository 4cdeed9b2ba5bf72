"""The compilation as a Word document (docs/docx-layout.md), built here with python-docx as the
layout describes it: read into the same compendium as the text export gives, every refusal named."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace

import docx
import pytest
from click.testing import CliRunner
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm import taxonomy
from rcm.cli import cli
from rcm.errors import DocumentError
from rcm.ids import assign_ids
from rcm.model import Category, CategorySource, Compendium, Statement, to_roman
from rcm.parse import parse_compilation, parse_compilation_docx, read_compilation
from rcm.parse.text import normal_form
from rcm.store import Store
from rcm.suggest.curated import curated_categories

PRINCIPLE, UNDERSTANDING, COMMITMENT = (
    taxonomy.CATEGORY_COLOURS[c]
    for c in (Category.PRINCIPLE, Category.UNDERSTANDING, Category.COMMITMENT)
)
TITLE = (
    "Compilation of the RCM statements made between 1996 and 2016, which are related to the "
    "themes of the thematic consultations"
)
PROTECTION = (
    "International protection—Recognize that some of the unaccompanied children may be granted "
    "refugee status or related protection."
)
COMPREHENSIVE = (
    "Enhance the development and adoption of a comprehensive, objective and long-term approach "
    "to the regional migration phenomenon in order to address both its causes and its "
    "manifestations in an effective manner."
)
REITERATED = "Vice-Ministers reiterated the importance of protecting the human rights of migrants."
TS1_1 = (
    "Protecting the human rights of all migrants: access to justice; detention; the wellbeing of "
    "children"
)
TS1_2 = "Ensuring social inclusion and cohesion in the context of migration"
TS5_2 = "Appropriate identification, protection and assistance to migrants and trafficking victims"


# --- a small builder of the layout ----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One statement row. ``items`` make a list statement whose ``text`` is the heading."""

    text: str
    meeting: str = "XIX RCM"
    note: str | None = None
    colour: str | None = None
    items: tuple[str, ...] = ()
    sid: str | None = None
    inline_note: bool = False  # the note as italic runs ending the text paragraph


Sub = tuple[str, list[Row]]
ThemeSpec = tuple[str, list[Sub]]  # ("I. Human rights of all migrants", [...])

DEFAULT_LEGEND = {
    "Principles": PRINCIPLE,
    "Understandings": UNDERSTANDING,
    "Commitments": COMMITMENT,
}


def shade(cell, colour: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shd)


def toc_field(document) -> None:
    paragraph = document.add_paragraph()
    for kind, text in (("begin", None), (None, ' TOC \\o "1-2" \\h \\z \\u '), ("separate", None)):
        run = paragraph.add_run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        else:
            instr = OxmlElement("w:instrText")
            instr.text = text
            run._r.append(instr)
    paragraph.add_run("I. Human rights of all migrants\t6")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


def fill_statement(cell, row: Row) -> None:
    first = cell.paragraphs[0]
    if row.items:
        first.add_run(row.text).bold = True
        for item in row.items:
            cell.add_paragraph(item, style="List Bullet")
    else:
        first.add_run(row.text)
    if row.note and row.inline_note:
        paragraph = cell.paragraphs[-1]
        paragraph.add_run(" ")
        paragraph.add_run(row.note).italic = True
    elif row.note:
        cell.add_paragraph().add_run(row.note).italic = True


def statements_table(document, rows: list[Row], header=("Statements", "RCM", "Still valid?")):
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = table.add_row().cells
        fill_statement(cells[0], row)
        if len(cells) > 1:
            cells[1].paragraphs[0].add_run(row.meeting)
            if row.sid:
                cells[1].add_paragraph(row.sid)
        if row.colour:
            for cell in cells:
                shade(cell, row.colour)
    return table


def build(
    themes: list[ThemeSpec],
    *,
    legend: dict[str, str] | None = DEFAULT_LEGEND,
    title: str | None = TITLE,
    date: str | None = "April 2017",
) -> bytes:
    document = docx.Document()
    document.add_paragraph("Regional Conference on Migration", style="Title")
    if title:
        document.add_paragraph(title, style="Title")
    if date:
        document.add_paragraph(date, style="Subtitle")
    document.add_paragraph("Selection: theme is TS1", style="Subtitle")
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_heading("Introduction", level=1)
    document.add_paragraph("The statements are sorted by theme, sub-theme and category.")
    if legend is not None:
        table = document.add_table(rows=1, cols=2)
        table.rows[0].cells[0].text = "Color code"
        for name, colour in legend.items():
            cells = table.add_row().cells
            cells[0].text = name
            shade(cells[1], colour)
    document.add_heading("Contents", level=1)
    toc_field(document)
    for heading, subs in themes:
        document.add_heading(heading, level=1)
        document.add_paragraph("UN thematic session, consulted in 2017.")
        for sub_title, rows in subs:
            document.add_heading(sub_title, level=2)
            statements_table(document, rows)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def read(data: bytes, source: str = "test.docx") -> Compendium:
    return parse_compilation_docx(data, source)


def problems(data: bytes) -> list[str]:
    with pytest.raises(DocumentError) as info:
        read(data)
    assert all(p.line == 0 for p in info.value.problems)
    return [p.message for p in info.value.problems]


def expected_id(meeting: str, text: str) -> str:
    return assign_ids([(meeting, normal_form(text))])[(meeting, normal_form(text))]


@pytest.fixture(scope="module")
def shipped() -> Compendium:
    return read_compilation()


@pytest.fixture(scope="module")
def shipped_docx(shipped) -> bytes:
    return small(shipped)


def shipped_statement(c: Compendium, start: str) -> Statement:
    [s] = [s for s in c.statements if s.text.startswith(start)]
    return s


# --- a small compilation --------------------------------------------------------------------------


def small(shipped: Compendium) -> bytes:
    integration = shipped_statement(shipped, "Integration:")
    return build(
        [
            (
                "I. Human rights of all migrants",
                [
                    (
                        TS1_1,
                        [
                            Row(
                                PROTECTION,
                                note="Statement also relevant for TS5",
                                colour=PRINCIPLE,
                            ),
                            Row(
                                "Integration",
                                meeting="XX RCM",
                                items=integration.items,
                                colour=COMMITMENT,
                            ),
                        ],
                    ),
                    (
                        TS1_2,
                        [
                            Row(
                                COMPREHENSIVE,
                                meeting="I RCM",
                                note="Statement also relevant for all the other TSs",
                                colour=UNDERSTANDING,
                            )
                        ],
                    ),
                ],
            ),
            (
                "V. Smuggling of migrants and trafficking in persons",
                [
                    (
                        TS5_2,
                        [
                            Row(
                                PROTECTION,
                                note="Statement also relevant for TS1",
                                colour=PRINCIPLE,
                                inline_note=True,
                            ),
                            Row(REITERATED, meeting="XIII RCM"),
                        ],
                    )
                ],
            ),
        ]
    )


def test_a_small_compilation(shipped):
    data = small(shipped)
    c = read(data, "small.docx")
    by_start = {s.text[:20]: s for s in c.statements}
    assert len(c.statements) == 4 and len(c.placements) == 5
    # Ids, texts, headings and items are the text reader's for the same statements.
    for s in c.statements:
        twin = shipped_statement(shipped, s.text[:60])
        assert (s.id, s.meeting, s.text, s.heading, s.items) == (
            twin.id,
            twin.meeting,
            twin.text,
            twin.heading,
            twin.items,
        )
    protection = by_start[PROTECTION[:20]]
    assert protection.id == expected_id("XIX", PROTECTION)
    assert protection.heading == "International protection"
    integration = by_start["Integration: To prom"]
    assert integration.heading == "Integration" and len(integration.items) == 10
    # Categories from the default colours, as a person's labels; the unshaded row has none.
    assert protection.category is Category.PRINCIPLE
    assert integration.category is Category.COMMITMENT
    assert by_start[COMPREHENSIVE[:20]].category is Category.UNDERSTANDING
    reiterated = by_start[REITERATED[:20]]
    assert reiterated.category is None and reiterated.category_source is None
    assert all(
        s.category_source is CategorySource.CURATED and s.category_confidence is None
        for s in c.statements
        if s.category
    )
    # Statements in meeting order, as the text reader sorts them.
    assert [s.meeting for s in c.statements] == ["I", "XIII", "XIX", "XX"]


def test_a_row_printing_an_id_is_that_statement(shipped):
    """The id under the meeting names the statement, whatever the row's text; the rows are kept
    for the ingest by id, with where they are."""
    rows = [
        (
            "I. Human rights of all migrants",
            [
                (
                    TS1_1,
                    [
                        Row(PROTECTION + " Reworded.", sid="XIX-0021"),
                        Row(REITERATED, meeting="XIII RCM"),
                    ],
                )
            ],
        )
    ]
    c = read(build(rows))
    assert [s.id for s in c.statements][1] == "XIX-0021"
    assert c.statement("XIX-0021").text == PROTECTION + " Reworded."
    assert [r.printed_id for r in c.rows] == ["XIX-0021", None]
    assert [r.where.split("' ")[-1] for r in c.rows] == ["row 1", "row 2"]
    assert all(r.where.startswith("table 'TS1 / ") for r in c.rows)
    for bad, message in [
        ("XIX-21", "is not a statement id"),
        ("XX-0021", "statement XX-0021 is a statement of the XX RCM, but the row gives it"),
    ]:
        moved = [("I. Human rights of all migrants", [(TS1_1, [Row(PROTECTION, sid=bad)])])]
        with pytest.raises(DocumentError, match=message) as caught:
            read(build(moved))
        assert "row 1" in str(caught.value)


def test_placements_and_notes(shipped):
    c = read(small(shipped))
    rows = [
        (p.theme, p.subtheme, p.position, p.line, p.note, p.also_relevant, p.also_relevant_all)
        for p in c.placements
    ]
    assert rows == [
        (1, 1, 1, 1, "*Statement also relevant for TS5*", (5,), False),
        (1, 1, 2, 2, None, (), False),
        # "all the other TSs" names every other theme of this document.
        (1, 2, 1, 1, "*Statement also relevant for all the other TSs*", (5,), True),
        # The note as italic runs at the end of the text paragraph is read too.
        (5, 1, 1, 1, "*Statement also relevant for TS1*", (1,), False),
        (5, 1, 2, 2, None, (), False),
    ]
    # The statement filed under TS1 and TS5 is one statement with two placements.
    protection = c.placements[0].statement_id
    assert c.placements[3].statement_id == protection
    assert len(c.placements_of(protection)) == 2
    assert c.placements[0].printed_text == f"{PROTECTION} *Statement also relevant for TS5*"
    assert c.placements[1].printed_text.startswith("Integration To promote migration management")


def test_themes_source_and_reference_data(shipped):
    data = small(shipped)
    c = read(data, "small.docx")
    reference = {t.number: t for t in taxonomy.themes()}
    assert [(t.number, t.title) for t in c.themes] == [
        (1, "Human rights of all migrants"),
        (5, "Smuggling of migrants and trafficking in persons"),
    ]
    for t in c.themes:
        assert (t.un_title, t.consultation) == (
            reference[t.number].un_title,
            reference[t.number].consultation,
        )
    assert [(s.order, s.title, s.page) for s in c.theme(1).subthemes] == [
        (1, TS1_1, None),
        (2, TS1_2, None),
    ]
    assert [(s.order, s.title) for s in c.theme(5).subthemes] == [(1, TS5_2)]
    assert c.meetings == list(taxonomy.meetings())
    assert c.categories == list(taxonomy.categories())
    assert c.notices == []
    src = c.source
    assert (src.name, src.size, src.lines, src.title, src.date) == (
        "small.docx",
        len(data),
        5,
        TITLE,
        "April 2017",
    )
    assert len(src.sha256) == 64


def test_title_page():
    rows = [("I. Human rights of all migrants", [(TS1_1, [Row(PROTECTION)])])]
    src = read(build(rows, title=None, date=None)).source
    assert (src.title, src.date) == ("", "")
    src = read(build(rows, title="Commitments on trafficking", date="12 de abril de 2017")).source
    assert (src.title, src.date) == ("Commitments on trafficking", "12 de abril de 2017")


def test_parse_and_read_compilation_take_word_documents(shipped, tmp_path):
    data = small(shipped)
    path = tmp_path / "compilation.docx"
    path.write_bytes(data)
    direct = read(data, str(path))
    assert parse_compilation(data, str(path)) == direct
    assert read_compilation(path) == direct
    # The name does not matter: the first bytes do.
    renamed = tmp_path / "compilation.txt"
    renamed.write_bytes(data)
    assert read_compilation(renamed).statements == direct.statements


# --- the whole compilation, written as the layout says --------------------------------------------


def whole_compilation(c: Compendium) -> bytes:
    """The shipped compilation in the layout, each row shaded with the curated category."""
    curated = curated_categories()
    themes: list[ThemeSpec] = []
    for theme in c.themes:
        subs: list[Sub] = []
        for sub in theme.subthemes:
            rows = []
            for p in c.placements:
                if (p.theme, p.subtheme) != (theme.number, sub.order):
                    continue
                s = c.statement(p.statement_id)
                category = curated[s.id].category if s.id in curated else None
                rows.append(
                    Row(
                        s.heading if s.items and s.heading else s.text,
                        meeting=c.meeting(s.meeting).label,
                        note=p.note.strip("*") if p.note else None,
                        colour=taxonomy.CATEGORY_COLOURS[category] if category else None,
                        items=s.items,
                        sid=s.id,
                    )
                )
            subs.append((sub.title, rows))
        themes.append((f"{to_roman(theme.number)}. {theme.title}", subs))
    return build(themes, title=c.source.title, date=c.source.date)


def placement_keys(c: Compendium) -> list[tuple[object, ...]]:
    return [
        (
            p.statement_id,
            p.theme,
            p.subtheme,
            p.position,
            p.note,
            p.also_relevant,
            p.also_relevant_all,
        )
        for p in c.placements
    ]


def test_the_whole_compilation_reads_as_the_text_export(shipped):
    c = read(whole_compilation(shipped))
    assert [(s.id, s.meeting, s.text, s.heading, s.items) for s in c.statements] == [
        (s.id, s.meeting, s.text, s.heading, s.items) for s in shipped.statements
    ]
    assert placement_keys(c) == placement_keys(shipped)
    assert c.themes == [
        replace(t, subthemes=tuple(replace(s, page=None) for s in t.subthemes))
        for t in shipped.themes
    ]
    curated = curated_categories()
    assert {s.id: s.category for s in c.statements} == {
        s.id: curated[s.id].category if s.id in curated else None for s in shipped.statements
    }
    assert (c.source.title, c.source.date, c.source.lines) == (
        shipped.source.title,
        shipped.source.date,
        186,
    )


def test_what_the_reader_accepts_beyond_the_layout():
    document = docx.Document()
    document.add_heading("I. Human rights of all migrants", level=1)
    document.add_heading(TS1_1, level=2)
    table = statements_table(
        document,
        [
            # The note as the text export spells it, in plain text.
            Row(f"{PROTECTION} *Statement also relevant for TS5*"),
            # A list whose heading is not bold and whose items lost their bullets.
            Row("Integration", meeting="XX RCM", items=("To promote a; To provide b.",)),
            Row("--", meeting="--"),
            Row("Statements", meeting="RCM"),  # a header repeated inside the table
            # Lower-case meeting, and a trailing italic title that is not a note.
            Row(REITERATED, meeting="xiii rcm", note="Vienna Convention", inline_note=True),
        ],
    )
    table.rows[2].cells[0].paragraphs[0].runs[0].bold = False
    table.rows[4].cells[2].paragraphs[0].add_run("Still valid?")
    for cell in table.rows[5].cells:
        shade(cell, "FFFFFF")  # white is no colour
    out = io.BytesIO()
    document.save(out)
    c = read(out.getvalue())
    protection, integration, reiterated = (c.statement(p.statement_id) for p in c.placements)
    assert protection.text == PROTECTION
    assert c.placements[0].note == "*Statement also relevant for TS5*"
    assert (integration.heading, integration.items) == (
        "Integration",
        ("To promote a;", "To provide b."),
    )
    assert integration.text == "Integration: To promote a; To provide b."
    assert reiterated.text == f"{REITERATED} Vienna Convention" and reiterated.category is None
    assert [(p.position, p.line) for p in c.placements] == [(1, 1), (2, 2), (3, 5)]
    [filler] = c.notices
    assert filler.kind == "filler-row" and "row 3" in filler.message


# --- colours --------------------------------------------------------------------------------------


def one_table(rows: list[Row], **kwargs) -> bytes:
    return build([("I. Human rights of all migrants", [(TS1_1, rows)])], **kwargs)


def test_a_custom_colour_legend():
    legend = {"principio": "4F81BD", "Understanding": "9BBB59", "COMPROMISOS": "f79646"}
    data = one_table(
        [
            Row(PROTECTION, colour="4F81BD"),
            Row(COMPREHENSIVE, meeting="I RCM", colour="9bbb59"),
            Row(REITERATED, meeting="XIII RCM", colour="F79646"),
            # A default colour is still understood next to the legend's.
            Row("Promote dialogue among the member countries.", colour=UNDERSTANDING),
        ],
        legend=legend,
    )
    assert [s.category for s in read(data).statements] == [
        Category.UNDERSTANDING,
        Category.COMMITMENT,
        Category.PRINCIPLE,
        Category.UNDERSTANDING,
    ]


def test_a_legend_giving_a_default_colour_to_another_category():
    data = one_table([Row(PROTECTION, colour=PRINCIPLE)], legend={"Commitments": PRINCIPLE})
    assert read(data).statements[0].category is Category.COMMITMENT


def test_without_a_legend_the_default_colours_apply():
    data = one_table([Row(PROTECTION, colour=COMMITMENT.lower())], legend=None)
    assert read(data).statements[0].category is Category.COMMITMENT


def test_an_unknown_colour_names_the_legend():
    data = build(
        [
            (
                "V. Smuggling of migrants and trafficking in persons",
                [
                    (
                        TS5_2,
                        [
                            Row(PROTECTION),
                            Row(COMPREHENSIVE, meeting="I RCM"),
                            Row(REITERATED, meeting="XIII RCM"),
                            Row("Promote dialogue.", colour="ABCDEF"),
                        ],
                    )
                ],
            )
        ]
    )
    assert problems(data) == [
        "table 'TS5 / Appropriate identification, protection…' row 4: shading colour ABCDEF "
        "is not in the colour legend (principle C6D9F1, understanding D7E4BC, "
        "commitment FBD4B4)"
    ]
    custom = one_table([Row(PROTECTION, colour="ABCDEF")], legend={"Principles": "4F81BD"})
    [message] = problems(custom)
    assert message.endswith("(principle 4F81BD or C6D9F1, understanding D7E4BC, commitment FBD4B4)")


def test_copies_shaded_differently():
    data = build(
        [
            ("I. Human rights of all migrants", [(TS1_1, [Row(PROTECTION, colour=PRINCIPLE)])]),
            (
                "V. Smuggling of migrants and trafficking in persons",
                [
                    (
                        TS5_2,
                        [Row(REITERATED, meeting="XIII RCM"), Row(PROTECTION, colour=COMMITMENT)],
                    )
                ],
            ),
        ]
    )
    assert problems(data) == [
        "table 'TS1 / Protecting the human rights of all…' row 1 and "
        "table 'TS5 / Appropriate identification, protection…' row 2: copies of one XIX RCM "
        "statement are shaded differently (C6D9F1 principle, FBD4B4 commitment)"
    ]


def test_an_unshaded_copy_takes_the_shaded_copys_category():
    data = build(
        [
            ("I. Human rights of all migrants", [(TS1_1, [Row(PROTECTION)])]),
            (
                "V. Smuggling of migrants and trafficking in persons",
                [(TS5_2, [Row(PROTECTION, colour=COMMITMENT)])],
            ),
        ]
    )
    [s] = read(data).statements
    assert (s.category, s.category_source) == (Category.COMMITMENT, CategorySource.CURATED)


# --- refusals -------------------------------------------------------------------------------------


def test_a_table_with_two_columns():
    document = docx.Document()
    document.add_heading("I. Human rights of all migrants", level=1)
    document.add_heading(TS1_1, level=2)
    statements_table(document, [Row(PROTECTION)], header=("Statements", "RCM"))
    out = io.BytesIO()
    document.save(out)
    assert problems(out.getvalue()) == [
        "table under 'TS1 / Protecting the human rights of all…' has 2 columns; "
        "expected 3: Statements | RCM | Still valid?"
    ]


def test_a_table_with_another_header():
    document = docx.Document()
    document.add_heading("I. Human rights of all migrants", level=1)
    document.add_heading(TS1_1, level=2)
    statements_table(document, [Row(PROTECTION)], header=("Text", "Meeting", "Notes"))
    out = io.BytesIO()
    document.save(out)
    assert problems(out.getvalue()) == [
        "table under 'TS1 / Protecting the human rights of all…' has the header "
        "'Text | Meeting | Notes'; expected Statements | RCM | Still valid?"
    ]


def test_rows_with_an_empty_cell_or_an_unknown_meeting():
    data = one_table(
        [
            Row(PROTECTION),
            Row("", meeting="I RCM"),
            Row(COMPREHENSIVE, meeting=""),
            Row(REITERATED, meeting="XXV RCM"),
            Row("Promote dialogue.", meeting="first"),
            Row("*Statement also relevant for TS3*"),
        ]
    )
    # Every problem is reported at once.
    assert problems(data) == [
        "table 'TS1 / Protecting the human rights of all…' row 2: the statement cell is empty",
        "table 'TS1 / Protecting the human rights of all…' row 3: the meeting (RCM) cell is empty",
        "table 'TS1 / Protecting the human rights of all…' row 4: 'XXV RCM' is not a known meeting",
        "table 'TS1 / Protecting the human rights of all…' row 5: 'first' is not a known meeting",
        "table 'TS1 / Protecting the human rights of all…' row 6: "
        "the statement cell holds only a note",
    ]


def test_tables_not_under_a_sub_theme_heading():
    document = docx.Document()
    document.add_heading("Introduction", level=1)
    statements_table(document, [Row(PROTECTION)])  # a statements table outside any theme
    document.add_heading("I. Human rights of all migrants", level=1)
    statements_table(document, [Row(COMPREHENSIVE, meeting="I RCM")])  # no Heading 2 above
    document.add_heading(TS1_1, level=2)
    statements_table(document, [Row(REITERATED, meeting="XIII RCM")])
    out = io.BytesIO()
    document.save(out)
    assert problems(out.getvalue()) == [
        "table 1 (after 'Introduction') is not under a sub-theme heading: a Heading 2 under a "
        'theme\'s Heading 1 such as "I. Human rights of all migrants"',
        "table 2 (after 'I. Human rights of all migrants') is not under a sub-theme heading: a "
        'Heading 2 under a theme\'s Heading 1 such as "I. Human rights of all migrants"',
    ]


def test_a_word_letter_is_not_a_compilation():
    document = docx.Document()
    document.add_paragraph("Dear colleagues,")
    document.add_paragraph("please find attached the compilation.")
    table = document.add_table(rows=2, cols=3)
    table.rows[0].cells[0].text = "Name"
    out = io.BytesIO()
    document.save(out)
    assert problems(out.getvalue()) == [
        "not a compilation: no table under a sub-theme heading with the columns "
        "Statements | RCM | Still valid?"
    ]


def test_damaged_encrypted_and_foreign_files(shipped, tmp_path):
    whole = small(shipped)
    assert problems(whole[: len(whole) // 2]) == [
        "the file is a damaged .docx (truncated or corrupt): open it in Word and save it again "
        "as .docx"
    ]
    [encrypted] = problems(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)
    assert encrypted.startswith("the file is password-protected (encrypted) or an old Word")
    assert "save it as .docx" in encrypted
    sheet = io.BytesIO()
    with zipfile.ZipFile(sheet, "w") as package:
        package.writestr("data.csv", "a,b\n1,2\n")
    assert problems(sheet.getvalue()) == [
        "the file is a zip archive but not a Word document (.docx): save the compilation from "
        "Word as .docx"
    ]
    assert problems(b"I. Human rights\n") == [
        "the file is not a Word document (.docx): save the compilation from Word as .docx"
    ]
    # Through the dispatching readers too, whatever the file's name.
    locked = tmp_path / "locked.txt"
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)
    with pytest.raises(DocumentError, match="password-protected"):
        read_compilation(locked)
    with pytest.raises(DocumentError, match=r"damaged \.docx"):
        parse_compilation(whole[:1000], "cut.docx")


def test_damaged_xml_inside_the_package(shipped):
    source = io.BytesIO(small(shipped))
    damaged = io.BytesIO()
    with zipfile.ZipFile(source) as package, zipfile.ZipFile(damaged, "w") as out:
        for info in package.infolist():
            content = package.read(info)
            if info.filename == "word/document.xml":
                content = content[: len(content) // 2]
            out.writestr(info, content)
    assert problems(damaged.getvalue())[0].startswith("the file is a damaged .docx")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_damage_is_refused_cleanly(shipped_docx, data):
    whole = bytearray(shipped_docx)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(whole) - 1))
        whole[at : at + 4] = data.draw(st.binary(min_size=0, max_size=6))
    try:
        c = read(bytes(whole))
    except DocumentError as exc:
        assert exc.problems and all(p.line == 0 for p in exc.problems)
        return
    assert len({s.id for s in c.statements}) == len(c.statements)


# --- the command line -----------------------------------------------------------------------------


def test_ingest_a_word_compilation(shipped, tmp_path):
    integration = shipped_statement(shipped, "Integration:")
    curated = curated_categories()
    # Shaded against the curated file's category, to see that the document's shading is stored.
    other = next(c for c in Category if c != curated[integration.id].category)
    path = tmp_path / "compilation.docx"
    path.write_bytes(
        one_table(
            [
                Row(PROTECTION, colour=PRINCIPLE),
                Row(
                    "Integration",
                    meeting="XX RCM",
                    items=integration.items,
                    colour=taxonomy.CATEGORY_COLOURS[other],
                ),
            ]
        )
    )
    url = f"sqlite:///{tmp_path / 'rcm.db'}"
    result = CliRunner().invoke(cli, ["--db", url, "ingest", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{path}: 2 statements (2 added")
    store = Store(url)
    try:
        stored = {s.id: s for s in store.load().statements}
    finally:
        store.close()
    assert {sid: (s.category, s.category_source) for sid, s in stored.items()} == {
        expected_id("XIX", PROTECTION): (Category.PRINCIPLE, CategorySource.CURATED),
        integration.id: (other, CategorySource.CURATED),
    }
    assert stored[integration.id].items == integration.items


def test_a_failing_ingest_leaves_the_database_untouched(tmp_path):
    db = tmp_path / "rcm.db"
    good = tmp_path / "good.docx"
    good.write_bytes(one_table([Row(PROTECTION, colour=PRINCIPLE)]))
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "ingest", str(good)]).exit_code == 0
    before = db.read_bytes()
    bad = tmp_path / "bad.docx"
    bad.write_bytes(one_table([Row(PROTECTION, colour=PRINCIPLE), Row(REITERATED, "XXV RCM")]))
    result = runner.invoke(cli, ["--db", str(db), "ingest", str(bad)])
    assert result.exit_code == 4
    assert result.output.startswith(f"rcm: error: {bad}: table 'TS1 / Protecting")
    assert "'XXV RCM' is not a known meeting" in result.output
    assert db.read_bytes() == before
    fresh = tmp_path / "fresh.db"
    result = runner.invoke(cli, ["--db", str(fresh), "ingest", str(bad)])
    assert result.exit_code == 4 and not fresh.exists()


# --- round trip through the Word export -----------------------------------------------------------


def test_round_trip_through_the_word_export():
    exporter = pytest.importorskip("rcm.export.docx")
    from rcm.suggest import label_compendium

    c = label_compendium(read_compilation())
    back = parse_compilation_docx(exporter.compilation_docx(c), "export.docx")
    assert [(s.id, s.text, s.heading, s.items) for s in back.statements] == [
        (s.id, s.text, s.heading, s.items) for s in c.statements
    ]
    curated = {
        s.id: s.category for s in c.statements if s.category_source is CategorySource.CURATED
    }
    assert {s.id: s.category for s in back.statements} == {s.id: s.category for s in c.statements}
    assert all(s.category_source is CategorySource.CURATED for s in back.statements)
    assert curated  # the labelled compilation has curated categories to carry
    assert placement_keys(back) == placement_keys(c)
    assert [t.title for t in back.themes] == [t.title for t in c.themes]
    assert (back.source.title, back.source.date) == (c.source.title, c.source.date)


def test_a_merge_continued_in_a_tables_first_row_is_read_not_a_traceback(tmp_path):
    """A damaged vertical merge (a first-row cell that "continues" a merge: python-docx raises
    ValueError walking up from it) is read as the row's own cells, by both Word readers."""
    from rcm.parse.declaration import read_declaration
    from rcm.parse.docx_compilation import body_blocks, row_cells

    d = docx.Document()
    d.add_paragraph("HEREBY DECLARE:")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "We recognize the value of dialogue."
    table.cell(1, 0).text = "We agree to meet again."
    tc_pr = table.rows[0]._tr.tc_lst[1].get_or_add_tcPr()
    merge = OxmlElement("w:vMerge")
    merge.set(qn("w:val"), "continue")
    tc_pr.append(merge)
    with pytest.raises(ValueError):
        table.rows[0].cells  # noqa: B018 - python-docx's own refusal, which we read past
    assert len(row_cells(table.rows[0])) == 2
    assert body_blocks(d)[1].rows[0].cells[0].paragraphs[0].text.startswith("We recognize")
    path = tmp_path / "merged.docx"
    d.save(str(path))
    texts = [s.text for s in read_declaration(path).statements]
    assert texts == ["We recognize the value of dialogue.", "We agree to meet again."]
    db = f"sqlite:///{tmp_path / 'r.db'}"
    result = CliRunner().invoke(cli, ["--db", db, "ingest", str(path)])
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)  # refused, in words
