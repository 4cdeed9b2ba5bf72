"""The declaration splitter (rcm.parse.declaration): the sample declarations of
tests/data/declarations/ read as a reader would, Word documents built here with python-docx, every
refusal, and fuzzing. Expected figures and line numbers were counted by reading the samples (with
`grep -n`), not by running the splitter."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from hypothesis import given
from hypothesis import strategies as st

from rcm.errors import DocumentError
from rcm.model import DeclarationText
from rcm.parse import MAX_BYTES, read_declaration, split_declaration

DATA = Path(__file__).parent / "data" / "declarations"
SAMPLES = ["xxii_rcm_en.txt", "xxii_rcm_es.txt", "joint_communique_en.txt", "not_a_declaration.txt"]
DECLARE = "HEREBY DECLARE:"


def refusal(call, *args) -> str:
    """The one message of the DocumentError a call raises."""
    with pytest.raises(DocumentError) as info:
        call(*args)
    assert len(info.value.problems) == 1
    return str(info.value)


# --- the English declaration (hard-wrapped at 80 columns) ----------------------------------------


@pytest.fixture(scope="module")
def en() -> DeclarationText:
    return read_declaration(DATA / "xxii_rcm_en.txt")


def test_en_title_language_and_source(en):
    assert en.title == (
        "DECLARATION OF THE XXII REGIONAL CONFERENCE ON MIGRATION — "
        '"Migration and Development: Towards Safe, Orderly and Regular Mobility" — '
        "San Salvador, El Salvador, 15 June 2017"
    )
    assert en.lang == "en"
    assert {s.lang for s in en.statements} == {"en"}
    raw = (DATA / "xxii_rcm_en.txt").read_bytes()
    assert (en.size, en.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert en.name == str(DATA / "xxii_rcm_en.txt")


def test_en_preamble_is_the_introduction_and_six_preambular_paragraphs(en):
    assert len(en.preamble) == 7
    assert en.preamble[0] == (
        "The Vice-Ministers and Heads of Delegation of the Member Countries of the Regional "
        "Conference on Migration (RCM), gathered in San Salvador, El Salvador, on 14 and 15 June "
        "2017, on the occasion of the XXII Vice-Ministerial Meeting,"
    )
    assert [p.split()[0] for p in en.preamble[1:]] == [
        "Recognizing", "Reaffirming", "Bearing", "Considering", "Concerned", "Taking",
    ]  # fmt: skip
    assert en.preamble[6] == (
        "Taking into account the progress achieved under the Regional Guidelines for the "
        "Preliminary Identification and Referral of migrants in vulnerable situations;"
    )
    assert not any(DECLARE in p for p in en.preamble)


def test_en_numbered_statements_hang_from_the_chapeau(en):
    assert len(en.statements) == 13
    assert [s.position for s in en.statements] == list(range(1, 14))
    assert [s.line for s in en.statements] == [31, 34, 37, 40, 43, 46, 49, 56, 59, 62, 65, 68, 70]
    assert {s.lead for s in en.statements} == {DECLARE}
    first = en.statements[0]
    assert first.text == (
        "We reaffirm the importance of the RCM as a forum for dialogue and cooperation on "
        "migration among its Member Countries."
    )
    assert (first.heading, first.items) == (None, ())
    assert en.statements[2].text.startswith("Strengthen coordination among consular networks")
    assert en.statements[9].text == (
        "We welcome the offer of the Government of Honduras to hold the Presidency Pro Tempore "
        "of the RCM in 2018."
    )
    # Thanks to an international organisation, inside the operative part, is a statement.
    assert en.statements[10].text.startswith("The Vice-Ministers expressed their appreciation")


def test_en_lettered_sub_items_belong_to_their_paragraph(en):
    seventh = en.statements[6]
    assert seventh.items == (
        "prepare a compilation of the RCM statements related to each thematic session of the "
        "Global Compact;",
        "circulate the compilation among the Member Countries before 30 August 2017;",
        "report on the results at the next Vice-Ministerial Meeting.",
    )
    assert seventh.text == "Instruct the Technical Secretariat to: " + " ".join(seventh.items)
    assert (seventh.heading, seventh.line, seventh.lead) == (None, 49, DECLARE)


def test_en_heading_and_bullets_are_one_list_statement(en):
    last = en.statements[-1]
    assert last.heading == "Return and Reintegration"
    assert last.items == (
        "To promote the safe, orderly and dignified return of migrants to their countries of "
        "origin;",
        "To strengthen programmes for the social and productive reintegration of returned "
        "migrants and their families;",
        "To share information on returned migrants with special protection needs.",
    )
    assert last.text == "Return and Reintegration: " + " ".join(last.items)
    assert (last.line, last.lead) == (70, DECLARE)


def test_en_closing_lines(en):
    assert en.closing == (
        "The Vice-Ministers thank the Government and people of El Salvador for their warm "
        "hospitality and for the excellent organization of this meeting.",
        "Adopted in San Salvador, El Salvador, on 15 June 2017.",
    )


def test_unwrapped_text_reads_like_the_wrapped_one(en):
    # Word's "Save as plain text": one line per paragraph, no blank lines between them.
    wrapped = (DATA / "xxii_rcm_en.txt").read_text(encoding="utf-8")
    lines: list[str] = []
    for block in wrapped.split("\n\n"):
        for i, raw in enumerate(block.split("\n")):
            item = re.match(r"\s*(?:\d+\.|[abc]\)|•) ", raw)
            if i == 0 or item or block.startswith("DECLARATION"):
                lines.append(raw.strip())
            else:
                lines[-1] += " " + raw.strip()
    flat = split_declaration("\n".join(lines), "flat.txt")
    assert flat.title == en.title
    assert flat.preamble == en.preamble
    assert [(s.text, s.lead, s.heading, s.items) for s in flat.statements] == [
        (s.text, s.lead, s.heading, s.items) for s in en.statements
    ]
    assert flat.closing == en.closing
    assert flat.statements[0].line == 12  # 3 title lines, 7 preamble lines, the chapeau


def test_crlf_and_byte_order_mark(en, tmp_path):
    raw = (DATA / "xxii_rcm_en.txt").read_bytes()
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
    windows = read_declaration(path)
    assert windows.title == en.title
    assert windows.statements == en.statements
    assert windows.size == len(raw) + raw.count(b"\n") + 3


# --- the Spanish declaration (one line per paragraph) --------------------------------------------


@pytest.fixture(scope="module")
def es() -> DeclarationText:
    return read_declaration(DATA / "xxii_rcm_es.txt")


def test_es_reading(es):
    assert es.lang == "es"
    assert {s.lang for s in es.statements} == {"es"}
    assert es.title == (
        "DECLARACIÓN DE LA XXII CONFERENCIA REGIONAL SOBRE MIGRACIÓN — "
        '"Migración y Desarrollo: hacia una movilidad segura, ordenada y regular" — '
        "San Salvador, El Salvador, 15 de junio de 2017"
    )
    assert len(es.preamble) == 6
    assert es.preamble[0].startswith("Los Viceministros y Jefes de Delegación")
    assert [p.split()[0] for p in es.preamble[1:]] == [
        "Considerando", "Reconociendo", "Teniendo", "Conscientes", "Convencidos",
    ]  # fmt: skip
    assert len(es.statements) == 7
    assert [s.line for s in es.statements] == [19, 21, 23, 25, 29, 31, 33]
    assert {s.lead for s in es.statements} == {"ACUERDAN:"}
    assert es.statements[0].text == (
        "Reafirmar la importancia de la CRM como foro de diálogo y cooperación en materia "
        "migratoria entre sus Países Miembros."
    )


def test_es_sub_items_list_and_closing(es):
    fourth = es.statements[3]
    assert fourth.items == (
        "elabore una compilación de las declaraciones de la CRM relacionadas con cada sesión "
        "temática del Pacto Mundial;",
        "circule la compilación entre los Países Miembros antes del 30 de agosto de 2017.",
    )
    assert fourth.text == "Instruir a la Secretaría Técnica para que: " + " ".join(fourth.items)
    assert fourth.heading is None
    last = es.statements[6]
    assert last.heading == "Retorno y reintegración"
    assert last.items == (
        "Promover el retorno seguro, ordenado y digno de las personas migrantes a sus países de "
        "origen;",
        "Fortalecer los programas de reintegración social y productiva de las personas migrantes "
        "retornadas y sus familias.",
    )
    assert last.text == "Retorno y reintegración: " + " ".join(last.items)
    assert es.closing == (
        "Los Viceministros agradecen al Gobierno y al pueblo de El Salvador por su cálida "
        "hospitalidad y por la excelente organización de esta reunión.",
        "Dado en la ciudad de San Salvador, El Salvador, el 15 de junio de 2017.",
    )


# --- the joint communiqué (third person, unnumbered) ---------------------------------------------


@pytest.fixture(scope="module")
def communique() -> DeclarationText:
    return read_declaration(DATA / "joint_communique_en.txt")


def test_communique_reading(communique):
    c = communique
    assert c.title == (
        "JOINT COMMUNIQUÉ — FOURTH REGIONAL CONFERENCE ON MIGRATION — "
        "San Salvador, El Salvador, January 26-29, 1999"
    )
    assert c.lang == "en"
    assert len(c.preamble) == 3
    assert c.preamble[0].startswith("The Vice-Ministers of the Member Countries")
    assert c.preamble[0].endswith("in the implementation of the Plan of Action.")
    assert c.preamble[2] == (
        "Mindful of the consequences of Hurricane Mitch for the populations of the region,"
    )
    assert len(c.statements) == 7
    assert [s.line for s in c.statements] == [15, 19, 22, 26, 27, 28, 31]
    assert c.statements[1].text == (
        "They expressed the commitment of their governments to continue organizing activities "
        "which promote full respect for the human rights of migrants."
    )


def test_communique_sentence_chapeau_leads_only_its_items(communique):
    agreed = "The Vice-Ministers agreed to:"
    leads = [s.lead for s in communique.statements]
    assert leads == [None, None, None, agreed, agreed, agreed, None]
    assert [s.text for s in communique.statements[3:6]] == [
        "Promote the exchange of information on migrant smuggling networks;",
        "Hold a seminar on the human rights of migrant women in Guatemala;",
        "Request the Technical Secretariat to prepare a directory of civil society organizations "
        "working with migrants.",
    ]
    assert communique.statements[6].text.startswith("They also recognized the efforts")


def test_communique_closing_lines(communique):
    assert communique.closing == (
        "The Vice-Ministers thanked the Government and people of El Salvador for their "
        "hospitality and for the excellent organization of the Conference.",
        "San Salvador, El Salvador, January 29, 1999",
    )


# --- smaller readings ----------------------------------------------------------------------------


def test_lettered_items_under_a_chapeau_are_statements():
    d = split_declaration(
        "The Vice-Ministers agreed:\n\na) To promote regional cooperation;\n"
        "b) To strengthen consular networks.\n"
    )
    assert [(s.text, s.lead, s.line) for s in d.statements] == [
        ("To promote regional cooperation;", "The Vice-Ministers agreed:", 3),
        ("To strengthen consular networks.", "The Vice-Ministers agreed:", 4),
    ]
    assert (d.title, d.preamble, d.closing) == ("", (), ())


def test_i_after_h_is_a_letter_and_opens_a_statement():
    items = "abcdefghi"
    text = "DECLARE:\n" + "\n".join(f"{x}) Promote action {x}." for x in items)
    d = split_declaration(text)
    assert [s.text for s in d.statements] == [f"Promote action {x}." for x in items]


def test_bare_marker_numbers_the_next_paragraph():
    d = split_declaration("HEREBY DECLARE:\n\n1.\n\nWe recognize the value of dialogue.\n")
    assert [(s.text, s.line) for s in d.statements] == [("We recognize the value of dialogue.", 3)]


def test_thanks_among_statements_is_a_closing_line_and_headings_are_dropped():
    # The compilation files no thanks as a statement: thanks stay closing lines where they stand,
    # also before other statements (a declaration's decisions annexed after its thanks).
    d = split_declaration(
        "We agree to:\n\n"
        "- Promote dialogue.\n\n"
        "We thank the Government of Panama for hosting the workshop.\n\n"
        "Integration\n\n"
        "We recognize the contribution of migrants.\n\n"
        "Panama City, 2 May 2019\n"
    )
    assert [s.text for s in d.statements] == [
        "Promote dialogue.",
        "We recognize the contribution of migrants.",
    ]
    assert [s.lead for s in d.statements] == ["We agree to:", None]
    assert d.closing == (
        "We thank the Government of Panama for hosting the workshop.",
        "Panama City, 2 May 2019",
    )


def test_a_column_of_one_line_paragraphs():
    # No blank lines and no markers, but every line ends a clause: one paragraph per line.
    d = split_declaration(
        "HEREBY DECLARE:\nPromote regional cooperation;\nStrengthen consular networks;\n"
        "Encourage dialogue with civil society.\n"
    )
    assert [(s.text, s.line) for s in d.statements] == [
        ("Promote regional cooperation;", 2),
        ("Strengthen consular networks;", 3),
        ("Encourage dialogue with civil society.", 4),
    ]
    # Hard-wrapped prose stays one paragraph even where a line ends a sentence.
    wrapped = split_declaration(
        "We recognize that migration has positive effects. It\n"
        "requires cooperation among countries of origin,\ntransit and destination.\n"
    )
    assert len(wrapped.statements) == 1


@pytest.mark.parametrize(
    "opening",
    [
        "Additionally, welcomed the arrangements signed by some Member Countries.",
        "In that respect the governments emphasized the need for reciprocal cooperation.",
        "Consular Protection—Strengthen the institutional capacities of consular protection.",
        "The Vice Ministers reviewed the various aspects of the migratory phenomenon.",
        "Asimismo, los Viceministros acordaron fortalecer la cooperación regional.",
    ],
)
def test_operative_openers_from_the_compilation(opening):
    # Phrasings of real RCM statements: each alone is recognised as an operative paragraph.
    d = split_declaration(opening)
    assert [s.text for s in d.statements] == [opening]


def test_whitespace_is_normalised_and_wording_kept():
    d = split_declaration("DECLARE:\n\n1.   We  reaffirm\tthe “Puebla   Process”  ;\n   its RCM.")
    assert d.statements[0].text == "We reaffirm the “Puebla Process” ; its RCM."


def test_dash_heading_as_in_the_compilation():
    d = split_declaration(
        "DECLARE:\n\n• International protection—Recognize that children need care."
    )
    assert d.statements[0].heading == "International protection"


# --- Word documents ------------------------------------------------------------------------------


def _png() -> bytes:
    """A 1×1 PNG, to show that images are ignored."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _word_declaration(path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("DECLARATION OF THE XXIII REGIONAL CONFERENCE ON MIGRATION")  # 1
    d.add_paragraph("Tegucigalpa, Honduras,\n28 June 2018")  # 2: a soft line break inside
    d.add_picture(io.BytesIO(_png()))  # 3: a picture alone in its paragraph
    d.add_paragraph(  # 4
        "The Vice-Ministers of the Member Countries of the RCM, gathered in Tegucigalpa, Honduras, "
        "on 27 and 28 June 2018,"
    )
    d.add_paragraph("Recognizing the importance of regional cooperation on migration;")  # 5
    d.add_paragraph("HEREBY DECLARE:")  # 6
    d.add_paragraph(
        "We reaffirm our commitment to the human rights of all migrants.", "List Number"
    )
    d.add_paragraph("Instruct the Technical Secretariat to:", "List Number")  # 8
    d.add_paragraph("prepare a report on returned migrants;", "List Number 2")  # 9
    d.add_paragraph("circulate it before the next meeting.", "List Number 2")  # 10
    d.add_paragraph("Return and Reintegration")  # 11
    d.add_paragraph("To promote the dignified return of migrants;", "List Bullet")  # 12
    d.add_paragraph("To strengthen reintegration programmes.", "List Bullet")  # 13
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Promote safe, orderly and regular migration."  # 14
    table.cell(0, 1).text = "Strengthen consular protection."  # 15
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "Support the work of civil society organizations."  # 16, read once
    d.add_paragraph(  # 17
        "The Vice-Ministers thank the Government and people of Honduras for their hospitality."
    )
    d.add_paragraph("Adopted in Tegucigalpa, Honduras, on 28 June 2018.")  # 18
    signatures = d.add_table(rows=1, cols=2)
    signatures.cell(0, 0).text = "For the Government of Belize"  # 19
    signatures.cell(0, 1).text = "For the Government of Canada"  # 20
    d.save(str(path))
    return path


def test_docx_declaration(tmp_path):
    path = _word_declaration(tmp_path / "xxiii.docx")
    d = read_declaration(path)
    raw = path.read_bytes()
    assert (d.size, d.sha256, d.lang) == (len(raw), hashlib.sha256(raw).hexdigest(), "en")
    assert d.title == (
        "DECLARATION OF THE XXIII REGIONAL CONFERENCE ON MIGRATION — "
        "Tegucigalpa, Honduras, 28 June 2018"
    )
    assert d.preamble == (
        "The Vice-Ministers of the Member Countries of the RCM, gathered in Tegucigalpa, "
        "Honduras, on 27 and 28 June 2018,",
        "Recognizing the importance of regional cooperation on migration;",
    )
    got = [(s.position, s.line, s.text, s.heading, s.items, s.lead) for s in d.statements]
    assert got == [
        (
            1,
            7,
            "We reaffirm our commitment to the human rights of all migrants.",
            None,
            (),
            DECLARE,
        ),
        (
            2,
            8,
            "Instruct the Technical Secretariat to: prepare a report on returned migrants; "
            "circulate it before the next meeting.",
            None,
            ("prepare a report on returned migrants;", "circulate it before the next meeting."),
            DECLARE,
        ),
        (
            3,
            11,
            "Return and Reintegration: To promote the dignified return of migrants; "
            "To strengthen reintegration programmes.",
            "Return and Reintegration",
            (
                "To promote the dignified return of migrants;",
                "To strengthen reintegration programmes.",
            ),
            DECLARE,
        ),
        (4, 14, "Promote safe, orderly and regular migration.", None, (), DECLARE),
        (5, 15, "Strengthen consular protection.", None, (), DECLARE),
        (6, 16, "Support the work of civil society organizations.", None, (), DECLARE),
    ]
    assert d.closing == (
        "The Vice-Ministers thank the Government and people of Honduras for their hospitality.",
        "Adopted in Tegucigalpa, Honduras, on 28 June 2018.",
        "For the Government of Belize",
        "For the Government of Canada",
    )


def _decimal_num_id(document) -> str:
    """A numbering definition of the default template whose first level is "1., 2., 3."."""
    root = document.part.numbering_part.element
    decimal = {
        a.get(qn("w:abstractNumId"))
        for a in root.findall(qn("w:abstractNum"))
        if a.find(qn("w:lvl")).find(qn("w:numFmt")).get(qn("w:val")) == "decimal"
    }
    for num in root.findall(qn("w:num")):
        if num.find(qn("w:abstractNumId")).get(qn("w:val")) in decimal:
            return str(num.get(qn("w:numId")))
    raise AssertionError("the default template has no decimal list")


def test_docx_word_numbering_on_a_list_paragraph(tmp_path):
    # Word itself numbers a "List Paragraph" through <w:numPr>, not through a "List Number" style.
    d = docx.Document()
    d.add_paragraph("ACUERDAN:")
    num_id = _decimal_num_id(d)
    texts = ["Promover el diálogo regional.", "Fortalecer la protección consular."]
    for text in texts:
        p = d.add_paragraph(text, style="List Paragraph")
        num_pr = OxmlElement("w:numPr")
        for tag, value in (("w:ilvl", "0"), ("w:numId", num_id)):
            child = OxmlElement(tag)
            child.set(qn("w:val"), value)
            num_pr.append(child)
        p._p.get_or_add_pPr().append(num_pr)
    d.save(str(tmp_path / "acuerdan.docx"))
    read = read_declaration(tmp_path / "acuerdan.docx")
    assert read.lang == "es"
    assert [(s.text, s.line, s.lead) for s in read.statements] == [
        (texts[0], 2, "ACUERDAN:"),
        (texts[1], 3, "ACUERDAN:"),
    ]


# --- refusals ------------------------------------------------------------------------------------


def test_not_a_declaration():
    message = refusal(read_declaration, DATA / "not_a_declaration.txt")
    assert "no operative paragraph found" in message
    assert "HEREBY DECLARE:" in message and "The Vice-Ministers agreed" in message


def test_a_letter_is_not_a_declaration():
    letter = "Dear Vice-Minister,\n\nWe agree to meet in Panama on 3 May.\n\nSincerely,\nThe TS"
    message = refusal(split_declaration, letter, "letter.txt")
    assert message.startswith("letter.txt: line 1: this looks like a letter")


@pytest.mark.parametrize("text", ["", "   \n\n\t  \n", "\ufeff"])
def test_empty_text(text, tmp_path):
    assert "no text found" in refusal(split_declaration, text)
    path = tmp_path / "empty.txt"
    path.write_text(text, encoding="utf-8")
    assert "no text found" in refusal(read_declaration, path)


def test_empty_word_document(tmp_path):
    document = docx.Document()
    document.add_picture(io.BytesIO(_png()))
    document.save(str(tmp_path / "blank.docx"))
    assert "no text found" in refusal(read_declaration, tmp_path / "blank.docx")


def test_file_too_large(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"Promote cooperation.\n" * 71_429)  # 1.5 MB
    message = refusal(read_declaration, path)
    assert "1.5 MB (1,500,009 bytes)" in message
    assert f"limit of 1.0 MB ({MAX_BYTES:,} bytes)" in message


def test_size_is_checked_before_reading(tmp_path):
    # A sparse 5 GB file: reading it would take seconds and gigabytes; stat() answers at once.
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(5_000_000_000)
    assert "5,000.0 MB" in refusal(read_declaration, path)


def test_text_too_large():
    assert "over the limit" in refusal(split_declaration, "Promote cooperation.\n" * 60_000)


def test_latin1_text(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("ACUERDAN:\n\n1. Promover la cooperación.\n".encode("latin-1"))
    with pytest.raises(DocumentError) as info:
        read_declaration(path)
    assert info.value.problems[0].line == 3
    message = str(info.value)
    assert "byte 0xf3 at column 25 is not UTF-8" in message
    assert "save the declaration as UTF-8 text (.txt) or as a Word document (.docx)" in message


def test_binary_and_utf16_text(tmp_path):
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"DECLARE:\n\n\x00\x01\x02\x03")
    with pytest.raises(DocumentError) as info:
        read_declaration(binary)
    assert info.value.problems[0].line == 3
    assert "binary data" in str(info.value) and "UTF-8 text" in str(info.value)
    utf16 = tmp_path / "utf16.txt"
    utf16.write_text("DECLARE:\n1. Promote dialogue.", encoding="utf-16")
    assert "UTF-16" in refusal(read_declaration, utf16)


def test_password_protected_docx(tmp_path):
    path = tmp_path / "locked.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)
    message = refusal(read_declaration, path)
    assert "password-protected" in message and "remove the password" in message


def test_truncated_docx(tmp_path):
    whole = _word_declaration(tmp_path / "whole.docx").read_bytes()
    path = tmp_path / "truncated.docx"
    path.write_bytes(whole[: len(whole) // 2])
    assert "damaged .docx (the file is truncated or corrupt)" in refusal(read_declaration, path)


def test_docx_that_is_not_word(tmp_path):
    text = tmp_path / "renamed.docx"
    text.write_text("HEREBY DECLARE:\n1. Promote dialogue.", encoding="utf-8")
    assert "is not a Word .docx file" in refusal(read_declaration, text)
    other_zip = tmp_path / "sheet.docx"
    with zipfile.ZipFile(other_zip, "w") as package:
        package.writestr("data.csv", "a,b\n1,2\n")
    assert "cannot be opened as a Word document" in refusal(read_declaration, other_zip)


@pytest.mark.parametrize("name", ["declaration.pdf", "declaration.doc", "declaration"])
def test_unsupported_extensions(name, tmp_path):
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.7")
    message = refusal(read_declaration, path)
    assert "unsupported file type" in message
    assert ".txt (UTF-8 text) or .docx (Word)" in message


def test_missing_file_and_folder(tmp_path):
    assert "no such file" in refusal(read_declaration, tmp_path / "absent.txt")
    (tmp_path / "folder.txt").mkdir()
    assert "is a folder" in refusal(read_declaration, tmp_path / "folder.txt")


def test_more_than_400_statements():
    def numbered(n: int) -> str:
        items = (f"{i}. Promote cooperation {i}." for i in range(1, n + 1))
        return "HEREBY DECLARE:\n\n" + "\n".join(items)

    assert len(split_declaration(numbered(400)).statements) == 400
    message = refusal(split_declaration, numbered(401))
    assert "401 statements found" in message and "probably not a declaration" in message


# --- fuzzing -------------------------------------------------------------------------------------

SAMPLE_LINES = sorted(
    {line for name in SAMPLES for line in (DATA / name).read_text(encoding="utf-8").splitlines()}
)


def _check_reading(text: str) -> None:
    try:
        d = split_declaration(text, "fuzz.txt")
    except DocumentError as exc:  # the one refusal allowed; anything else fails the test
        assert exc.problems and str(exc).startswith("fuzz.txt: ")
        return
    assert isinstance(d, DeclarationText)
    assert 1 <= len(d.statements) <= 400
    assert [s.position for s in d.statements] == list(range(1, len(d.statements) + 1))
    lines = text.count("\n") + text.count("\r") + 1
    for s in d.statements:
        assert s.text and s.text == s.text.strip() and "  " not in s.text and "\n" not in s.text
        assert 1 <= s.line <= lines
        assert s.lang == d.lang in {"en", "es"}
        assert all(item for item in s.items)


@given(st.text())
def test_any_text_reads_or_is_refused(text):
    _check_reading(text)


@given(
    st.lists(
        st.tuples(st.sampled_from(SAMPLE_LINES), st.sampled_from(["\n", "\n\n", "\r\n", "\n   "])),
        max_size=80,
    )
)
def test_line_mixtures_read_or_are_refused(pieces):
    _check_reading("".join(line + sep for line, sep in pieces))


# --- issue 16: the compilation written back, the declarations written in both languages ----------

OWN = DATA / "own"


@pytest.fixture(scope="module")
def split_bench():
    import importlib.util
    import sys

    path = Path(__file__).resolve().parent.parent / "bench" / "bench_split.py"
    spec = importlib.util.spec_from_file_location("rcm_bench_split", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_meeting_written_back_reads_as_the_compilation(split_bench):
    from rcm.parse import read_compilation

    report = split_bench.compilation_split(read_compilation())
    assert set(report) == set(split_bench.STYLES)
    for style, figures in report.items():
        assert figures["expected"] == 129, style
        assert figures["precision"] == figures["recall"] == 1.0, (style, figures)


def test_own_declarations_per_style(split_bench):
    report = split_bench.own_split()
    assert report["failures"] == []
    for style, figures in report["styles"].items():
        assert figures["precision"] >= 0.95 and figures["recall"] >= 0.95, (style, figures)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("otro_organismo_es.txt", "declaration of another body"),
        ("news_en.txt", "news article"),
        ("plantilla_es.txt", "empty template"),
    ],
)
def test_refusals_say_what_was_expected(name, expected):
    message = refusal(read_declaration, OWN / name)
    assert expected in message and "expected" in message


@pytest.mark.parametrize(
    "head",
    [
        "VI CONFERENCIA SUDAMERICANA SOBRE MIGRACIONES\n\nAsunción, 4 de mayo de 2030\n\n"
        "DECLARACIÓN FINAL\n\nLos representantes de los gobiernos, reunidos en Asunción:",
        "DECLARACIÓN DE LA ANTIGUA\n\nNosotros, las Ministras y los Ministros Iberoamericanos de "
        "Relaciones Exteriores, reunidos en La Antigua:",
        "Ministerial Meeting on the Los Angeles Declaration on Migration and Protection\n\n"
        "The Ministers, gathered in Guatemala City:",
        "Declaración sobre los Progresos del Foro de Examen de la Migración Internacional\n\n"
        "Nosotros, los Jefes de Estado y de Gobierno, reunidos en Nueva York:",
    ],
)
def test_declarations_of_other_migration_processes_are_refused(head):
    text = head + "\n\nACUERDAN:\n\n1. Promover la cooperación.\n\n2. Fortalecer el diálogo.\n"
    message = refusal(split_declaration, text)
    assert "declaration of another body" in message


@pytest.mark.parametrize(
    "text",
    [
        # a Spanish report with the day of the week and a named official quoted
        "Concluye la XXX Reunión Viceministerial de la CRM\n\n"
        "Este jueves concluyeron los trabajos de la XXX Reunión Viceministerial de la Conferencia "
        "Regional sobre Migración.\n\n"
        "Los viceministros acordaron fortalecer la cooperación consular, y la Presidencia Pro "
        "Tempore impulsó un plan de trabajo, señaló Rodríguez.\n",
        # an English report under a dateline with an agency's code, naming an official
        "Belmopan, 4 June 2030 (BNA): Belize hosted the XXX meeting of the Regional Conference "
        "on Migration.\n\n"
        "The Minister of Foreign Affairs of Belize, John Alan Smith, welcomed the delegations.\n\n"
        "The Vice-Ministers agreed to strengthen cooperation on return.\n",
        # a place alone as the dateline, an official named and quoted
        "* La secretaria participa en la XXX Reunión Viceministerial de la CRM\n\n"
        "Ciudad de Panamá.- Al participar en la XXX Reunión Viceministerial de la Conferencia "
        "Regional sobre Migración, la secretaria de Gobierno, Ana María Pérez, agradeció la "
        "confianza de los países miembros.\n\n"
        "Los Viceministros acordaron fortalecer la cooperación regional.\n",
        # a reporter's handle, a minister quoted as the source
        "María Gómez\n@mgomez_noticias\n\n"
        "Esta mañana fue inaugurada la XXX Reunión Viceministerial de la Conferencia Regional "
        "sobre Migración. De acuerdo con el ministro de Relaciones Exteriores, los países "
        "acordaron fortalecer la cooperación.\n",
        # a report on the declaration, speaking of it from outside
        "The RCM's new plan\n\n"
        "The XXX Regional Conference on Migration was held in June in Belmopan.\n\n"
        "In the meeting's Declaration, the Vice-Ministers stated that the plan will guide the "
        "work of the Conference.\n\n"
        "The declaration of the Vice-Ministers likewise recognizes the role of civil society.\n",
    ],
)
def test_news_reports_of_a_meeting_are_refused(text):
    message = refusal(split_declaration, text)
    assert "news article" in message and "expected" in message


def test_a_declaration_naming_officials_is_no_news_report():
    read = split_declaration(
        "DECLARACIÓN DE LA XXX REUNIÓN VICEMINISTERIAL DE LA CRM\n\n"
        "La Conferencia, reunida en Panamá el 5 de junio de 2030, afirmó su compromiso con la "
        "región.\n\n"
        "ACUERDAN:\n\n"
        "1. Reconocer la labor de la Ministra de Relaciones Exteriores de Panamá, Ana María "
        "Pérez, al frente de la Presidencia Pro Tempore.\n\n"
        "2. Invitar al Secretario General de la Organización de los Estados Americanos a la "
        "próxima reunión, según lo acordado.\n\n"
        "3. Agradecer al Subsecretario de Migración, Juan Carlos Díaz Soto, su informe.\n"
    )
    assert len(read.statements) == 2  # the thanks closes it, as thanks do
    assert read.closing == (
        "Agradecer al Subsecretario de Migración, Juan Carlos Díaz Soto, su informe.",
    )


def test_spanish_third_person_and_thanks_to_the_presidency():
    read = read_declaration(OWN / "extraordinaria_es.txt")
    assert read.lang == "es"
    assert [s.line for s in read.statements] == [10, 12, 14, 16, 18]
    assert read.closing == (
        "La CRM agradece a la Presidencia Pro Tempore de Guatemala por la organización de esta "
        "reunión.",
    )
    assert len(read.preamble) == 3


def test_line_breaks_lost_give_the_numbered_paragraphs():
    text = (
        "Los Viceministros, reunidos en San José; ACORDARON: 1. Reconocer el papel de las "
        "comunidades de acogida. 2. Adoptar el plan de trabajo 3. Promover campañas de "
        "información: a) en radio; b) en redes sociales."
    )
    read = split_declaration(text)
    assert [s.text for s in read.statements] == [
        "Reconocer el papel de las comunidades de acogida.",
        "Adoptar el plan de trabajo",
        "Promover campañas de información: en radio; en redes sociales.",
    ]
    assert read.statements[2].items == ("en radio;", "en redes sociales.")
    assert read.statements[0].lead == "ACORDARON:"


def test_line_breaks_lost_under_a_heading_in_capitals_without_a_colon():
    # A communiqué copied from a PDF: its title, preamble, a heading in capitals with no colon
    # and its numbered decisions all on one line.
    text = (
        "XXX CONFERENCIA REGIONAL SOBRE MIGRACION COMUNICADO CONJUNTO La XXX Conferencia "
        "Regional sobre Migración se celebró en Tegucigalpa, Honduras, los días 3 y 4 de junio "
        "de 2030. Los Viceministros expresaron su condolencia al pueblo de Honduras por las "
        "inundaciones recientes. APROBARON LOS SIGUIENTES ACUERDOS 1. Reconocer la labor de las "
        "redes de protección consular, y acogieron su informe anual. 2. Adoptar el tema "
        "“Migración y clima” para el año 2031. 3. Encomendar a la Presidencia Pro Tempore la "
        "preparación de un taller sobre reintegración."
    )
    read = split_declaration(text)
    assert read.title == "XXX CONFERENCIA REGIONAL SOBRE MIGRACION COMUNICADO CONJUNTO"
    assert [s.text[:22] for s in read.statements] == [
        "Reconocer la labor de ",
        "Adoptar el tema “Migra",
        "Encomendar a la Presid",
    ]
    assert {s.lead for s in read.statements} == {"APROBARON LOS SIGUIENTES ACUERDOS"}
    assert len(read.preamble) == 1


def test_a_list_of_actions_run_into_its_chapeau_and_thanks_before_annexed_decisions():
    text = (
        "La Trigésima Reunión de la Conferencia, celebrada en Belmopán, subrayó el valor del "
        "diálogo regional. Los Viceministros propusieron avanzar mediante las siguientes "
        "acciones: Ampliar la cooperación técnica entre las autoridades migratorias. Mejorar el "
        "registro de las personas retornadas, con especial atención a la niñez. Consolidar las "
        "redes de enlace contra la trata de personas. Agradecieron al Gobierno de Belice por su "
        "hospitalidad. DECISIONES ANEXAS Los Viceministros decidieron crear un grupo ad hoc "
        "sobre movilidad laboral."
    )
    read = split_declaration(text)
    assert [s.text for s in read.statements] == [
        "Ampliar la cooperación técnica entre las autoridades migratorias.",
        "Mejorar el registro de las personas retornadas, con especial atención a la niñez.",
        "Consolidar las redes de enlace contra la trata de personas.",
        "Los Viceministros decidieron crear un grupo ad hoc sobre movilidad laboral.",
    ]
    assert read.closing == ("Agradecieron al Gobierno de Belice por su hospitalidad.",)
    parts = [r.part for r in read.reading]
    assert "heading" in parts and parts.count("closing") == 1


def test_a_sentence_pointing_to_the_annexed_decisions_is_context():
    for text in (
        "HEREBY DECLARE:\n\n1. Strengthen the consular networks.\n\n"
        "To achieve these objectives, the Vice-Ministers adopted the decisions contained in the "
        "annex.\n\nDECISIONS\n\nThe Vice-Ministers decided to create a working group.\n",
        "ACUERDAN:\n\n1. Fortalecer las redes consulares.\n\n"
        "Para la consecución de estos objetivos, los Viceministros tomaron las decisiones "
        "contenidas en el documento anexo.\n\nDECISIONES\n\n"
        "Los Viceministros decidieron crear un grupo de trabajo.\n",
    ):
        read = split_declaration(text)
        assert len(read.statements) == 2
        assert len(read.preamble) == 1 and "decisi" in read.preamble[0]
        assert "unrecognised" not in {r.part for r in read.reading}


def test_numbered_decisions_under_section_headings_and_a_courtesy_before_them():
    # A joint communiqué: a courtesy to a member country before the decisions, a one-word
    # chapeau in capitals, a section heading with no colon, indented numbered decisions.
    text = (
        "XXX REGIONAL CONFERENCE ON MIGRATION\nJOINT COMMUNIQUÉ\n\n"
        "The XXX Regional Conference on Migration took place in Belmopan, Belize, on 3-4 June "
        "2030, with the participation of its Member Countries.\n\n"
        "The Vice-Ministers expressed their solidarity with the people of Honduras for the loss "
        "of life caused by the recent floods.\n\n"
        "APPROVED\n\n"
        "SUBSTANTIVE MATTERS\n\n"
        "  1. To recognize the work of the consular protection networks.\n"
        "  2. To adopt “Migration and climate” as the theme of the RCM in 2031.\n\n"
        "ADMINISTRATIVE MATTERS\n\n"
        "  1. To request the Technical Secretariat to prepare a report on the budget.\n"
    )
    read = split_declaration(text)
    assert [s.text[:16] for s in read.statements] == [
        "To recognize the",
        "To adopt “Migrat",
        "To request the T",
    ]
    assert {s.lead for s in read.statements} == {"APPROVED"}
    assert read.preamble[1].startswith("The Vice-Ministers expressed their solidarity")
    parts = {r.text: r.part for r in read.reading}
    assert parts["SUBSTANTIVE MATTERS"] == parts["ADMINISTRATIVE MATTERS"] == "heading"
    assert "unrecognised" not in parts.values()


def test_a_phrase_setting_the_scene_before_the_subject():
    for text, lang in (
        (
            "The RCM recognizes the value of dialogue.\n\n"
            "Faced with this situation, the RCM reaffirms its commitment to regional "
            "cooperation.\n\n"
            "In this context, the Member Countries agree to share information.\n",
            "en",
        ),
        (
            "La CRM reconoce el valor del diálogo.\n\n"
            "Ante esta situación, la CRM reafirma su compromiso con la cooperación regional.\n\n"
            "En este contexto, los Países Miembros acuerdan compartir información.\n",
            "es",
        ),
    ):
        read = split_declaration(text)
        assert read.lang == lang
        assert len(read.statements) == 3
        assert [r.part for r in read.reading] == ["statement"] * 3


def test_spanish_with_the_subject_left_out():
    read = split_declaration(
        "La reunión se celebró en Puebla los días 13 y 14 de marzo.\n\n"
        "Los gobiernos reconocieron la existencia de diferencias entre los países.\n\n"
        "Estuvieron de acuerdo en que un enfoque integral contribuiría al entendimiento.\n\n"
        "Por otra parte, reconocieron la necesidad de promover la cooperación regional.\n"
    )
    assert [s.text[:22] for s in read.statements] == [
        "Los gobiernos reconoci",
        "Estuvieron de acuerdo ",
        "Por otra parte, recono",
    ]
    assert [r.part for r in read.reading] == ["preamble", "statement", "statement", "statement"]


def test_a_long_headline_is_the_title():
    read = split_declaration(
        "La Conferencia Regional sobre Migración (CRM) hace un llamado a la responsabilidad "
        "compartida regional para gestionar la migración y el desplazamiento en la región\n\n"
        "La CRM reconoce que los flujos de migración son cada vez más complejos.\n\n"
        "La CRM reafirma la importancia de la responsabilidad compartida.\n"
    )
    assert read.title.startswith("La Conferencia Regional sobre Migración (CRM) hace un llamado")
    assert len(read.statements) == 2


def test_a_first_person_paragraph_turning_to_the_member_countries_holds_two_statements():
    # As the compilation files XXI RCM: "We agree … We are certain …" is one statement, "The
    # Member Countries see with concern … and agree …" another.
    read = split_declaration(
        "We reaffirm the value of regional dialogue. We are certain that it brings results. The "
        "Member Countries note with concern the rise of smuggling, and agree to share "
        "information on it.\n\n"
        "We agree to meet again in 2031. We trust that the Member Countries will attend.\n"
    )
    assert [s.text[:30] for s in read.statements] == [
        "We reaffirm the value of regio",
        "The Member Countries note with",
        "We agree to meet again in 2031",
    ]
    # a sentence continuing in the first person, or not naming its subject, stays with its own
    assert read.statements[2].text.endswith("will attend.")


def test_a_paragraph_split_in_two_keeps_the_title_in_the_reading():
    read = split_declaration(
        "DECLARATION OF THE XXX RCM\n\n"
        "We agree to act. The Member Countries note with concern the rise of smuggling.\n"
    )
    assert [(r.line, r.part) for r in read.reading] == [
        (1, "title"),
        (3, "statement"),
        (3, "statement"),
    ]


def test_a_long_paragraph_with_a_colon_is_not_cut_into_a_list():
    # One statement per line, a colon in it and sentences that do not open with an action.
    text = (
        "HEREBY DECLARE:\n\n"
        "1. We recognize two priorities for the region: Migration governance is a shared "
        "responsibility. The protection of migrants in transit requires the cooperation of every "
        "Member Country, in particular of the countries of transit.\n"
    )
    read = split_declaration(text)
    assert len(read.statements) == 1


def test_heading_with_a_list_is_one_statement_and_the_reading_has_line_numbers():
    read = read_declaration(OWN / "declaracion_en.txt")
    first = read.statements[0]
    assert first.heading == "Principles" and len(first.items) == 4
    parts = [(r.line, r.part, r.marker, r.statement) for r in read.reading]
    assert parts[:2] == [(1, "title", "", 0), (4, "preamble", "", 0)]
    assert (8, "chapeau", "", 0) in parts
    assert (10, "statement", "", 1) in parts
    assert (11, "item", "-", 1) in parts
    assert (23, "item", "a)", 5) in parts
    assert parts[-2:] == [(28, "closing", "", 0), (30, "closing", "", 0)]


def test_english_subjects_modals_and_tenses():
    for opening in (
        "The Regional Conference on Migration (RCM) recognizes the role of host communities.",
        "The CRM recognized the role of host communities.",
        "We would like to reiterate our commitment to regional cooperation.",
        "Los Viceministros y Jefes de Delegación acordaron fortalecer la cooperación.",
        "La CRM, en su reunión extraordinaria, reafirma su compromiso con la región.",
    ):
        text = f"Considering the situation of the region;\n\n{opening}\n"
        read = split_declaration(text)
        assert [s.text for s in read.statements] == [opening]
        assert read.preamble == ("Considering the situation of the region;",)


def test_docx_reading_shows_the_numbers_word_draws(split_bench):
    from rcm.parse import read_compilation
    from rcm.parse.declaration import declaration_from_bytes

    c = read_compilation()
    statements = [s for s in c.statements if s.meeting == "XX"]
    read = declaration_from_bytes(split_bench.word(c, "XX", statements), "xx.docx")
    for drafted in read.statements:
        position = drafted.position
        items = [r.marker for r in read.reading if r.part == "item" and r.statement == position]
        assert items == [f"{chr(97 + k)})" for k in range(len(drafted.items))]
    numbers = [r.marker for r in read.reading if r.part == "statement"]
    assert numbers == [f"{n}." for n in range(1, len(statements) + 1)]


# --- reports on the meeting itself: context, never statements ------------------------------------


@pytest.mark.parametrize("name", ["reunion_es.txt", "reunion_en.txt"])
def test_reports_on_the_meeting_are_context_in_the_preamble_and_among_the_statements(name):
    # Where and when the meeting was held, who attended and who chaired, in the preamble (lines
    # 6-10, before "Convencidos" / "Convinced"), between two statements (line 22) and last (28).
    read = read_declaration(OWN / name)
    parts = {r.line: r.part for r in read.reading}
    assert [parts[n] for n in (4, 6, 8, 10, 12, 14)] == ["preamble"] * 6
    assert parts[16] == "chapeau" and parts[22] == "preamble"
    assert [s.line for s in read.statements] == [18, 20, 24]
    assert [parts[n] for n in (26, 28)] == ["closing", "closing"]
    assert len(read.preamble) == 7 and read.preamble[1].startswith(("La reunión", "The meeting"))
    assert read.preamble[-1].startswith(("La sesión de trabajo", "The afternoon working session"))
    assert read.closing[-1].startswith(("La reunión tuvo lugar", "The meeting took place"))


MEETING_REPORTS = [
    "La reunión se celebró en el Hotel Las Américas, los días 5 y 6 de junio de 2025.",
    "Se celebró la XXX Reunión Viceministerial en la Ciudad de Panamá.",
    "La reunión se realiza en la sede de la Cancillería.",
    "La XXX Reunión Viceministerial fue presidida por la Presidencia Pro Tempore de Panamá.",
    "Participaron las delegaciones de Belice, Canadá, Costa Rica, México y Panamá.",
    "Asisten representantes de la OIM y del ACNUR como organismos observadores.",
    "Con la participación de Belice, Canadá y los organismos observadores.",
    "La reunión contó con la participación de la Red Regional de Organizaciones Civiles.",
    "The meeting was held at the Las Americas Hotel on 5 and 6 June 2025.",
    "The meeting was chaired by the Pro Tempore Presidency of Panama.",
    "The meeting is held in the Ministry of Foreign Affairs.",
    "Delegations from Belize, Canada, Costa Rica, Mexico and Panama attended.",
    "Representatives of IOM and UNHCR participate as observers.",
    "Also present were representatives of civil society organizations.",
]


@pytest.mark.parametrize("report", MEETING_REPORTS)
def test_a_report_on_the_meeting_neither_ends_the_preamble_nor_is_a_statement(report):
    spanish = report.startswith(("La", "Se", "Part", "Asis", "Con"))
    if spanish:
        intro = "Los Viceministros y Jefes de Delegación de la CRM, reunidos en Panamá;"
        convinced, chapeau = "Convencidos de la importancia del diálogo;", "ACUERDAN:"
        first = "1. Fortalecer la cooperación consular."
    else:
        intro = "The Vice-Ministers and Heads of Delegation of the RCM, meeting in Panama;"
        convinced, chapeau = "Convinced of the value of dialogue;", DECLARE
        first = "1. Strengthen consular cooperation."
    title = "DECLARACIÓN DE LA CRM" if spanish else "DECLARATION OF THE RCM"
    read = split_declaration("\n\n".join([title, intro, report, convinced, chapeau, first]))
    assert read.preamble == (intro, report, convinced)
    assert [s.text for s in read.statements] == [first.removeprefix("1. ")]
    assert {r.part for r in read.reading if r.text in (report, convinced)} == {"preamble"}


@pytest.mark.parametrize(
    "operative",
    [
        "La CRM celebra los avances del Plan de Trabajo.",
        "Se celebra la adopción del Pacto Mundial.",
        "Los Viceministros participaron en el diálogo con la sociedad civil y acordaron "
        "continuarlo.",
        "Asistir a las personas migrantes en situación de vulnerabilidad.",
        "Participar activamente en el Foro Global.",
        "The Vice-Ministers welcomed the delegations that attended the meeting.",
        "The Vice-Ministers, who attended the dialogue, agreed to continue it.",
        "The Vice-Ministers held a dialogue with civil society organizations.",
        "Participate actively in the Global Forum.",
        "Encourage States that participate in the Global Forum to share practices.",
    ],
)
def test_operative_paragraphs_with_words_of_a_meeting_stay_statements(operative):
    english = operative.startswith(("The", "Participate", "Encourage"))
    context = (
        "Considering the situation of the region;"
        if english
        else "Considerando la situación de la región;"
    )
    text = f"{context}\n\n{operative}\n"
    assert [s.text for s in split_declaration(text).statements] == [operative]


def test_a_word_paragraph_holding_a_whole_communique_is_read_as_its_lines_were(tmp_path):
    # Text pasted into Word from a PDF: the whole communiqué in one paragraph, after a title.
    d = docx.Document()
    d.add_paragraph("COMUNICADO CONJUNTO")  # 1
    d.add_paragraph((OWN / "comunicado_conjunto_es.txt").read_text(encoding="utf-8").strip())
    path = tmp_path / "comunicado.docx"
    d.save(str(path))
    read = read_declaration(path)
    assert [s.text[:20] for s in read.statements] == [
        "Reconocer el aporte ",
        "Adoptar como tema de",
        "Solicitar a la Secre",
        "Aceptar el ofrecimie",
    ]
    assert {s.line for s in read.statements} == {2}  # the Word paragraph they came from
    assert read.closing == (
        "Agradecieron al Gobierno de la República Dominicana por su hospitalidad.",
    )
