"""Reader for the compilation as a Word document (the layout of ``docs/docx-layout.md``), as a
pipeline of small steps:

    open -> body blocks in order (paragraphs and tables, as plain data) -> colour legend
         -> title page -> themes and sub-themes from the headings, with their tables
         -> statement rows (text, note, meeting, category) -> compendium (shared with the text
            reader: deduplicated, with the same ids)

python-docx is touched only by the first two steps, which copy what the reader needs into plain
dataclasses; everything after them is pure. Every problem is a :class:`~rcm.errors.DocumentError`
(line 0: a Word document has no lines, so each message names the table and row), collected and
raised once; nothing partial is returned.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from rcm import taxonomy
from rcm.errors import DocumentError, Problem
from rcm.ids import canonical_id
from rcm.model import (
    Category,
    Compendium,
    Meeting,
    Notice,
    Subtheme,
    Theme,
    from_roman,
    meeting_order,
    parse_meeting,
)
from rcm.parse import text as tx
from rcm.parse.compilation import (
    OLE_MAGIC,
    WORD_MAGIC,
    StatementRow,
    build_compendium,
    group_copies,
    source_info,
)

__all__ = ["parse_compilation_docx"]

# A .docx is a zip: a small crafted file could unpack to gigabytes. The whole compilation is a few
# hundred kilobytes unpacked, so this leaves room for pictures and fonts embedded by Word.
MAX_UNPACKED_BYTES = 100_000_000

HEADER = ("Statements", "RCM", "Still valid?")
HEADER_TEXT = " | ".join(HEADER)

_LEGEND_TITLES = {"color code", "colour code", "código de colores"}
_LEGEND_NAMES = {
    name: category
    for category, names in {
        Category.PRINCIPLE: ("principle", "principles", "principio", "principios"),
        Category.UNDERSTANDING: (
            "understanding",
            "understandings",
            "entendimiento",
            "entendimientos",
        ),
        Category.COMMITMENT: ("commitment", "commitments", "compromiso", "compromisos"),
    }.items()
    for name in names
}
_ORGANISATION = {"regional conference on migration", "conferencia regional sobre migración"}

_THEME_HEADING = re.compile(r"^(?P<roman>[IVXLC]+)\.\s+(?P<title>\S.*?)\s*$")
_HEADING_STYLE = re.compile(r"^heading\s+(?P<level>[1-9])$", re.I)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|"
    "diciembre"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"^(?:(?:{_DAY}\s+(?:de\s+)?)?(?:{_MONTHS})(?:\s+{_DAY},?)?\s+(?:de\s+|del\s+)?\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})$",
    re.I,
)
_FILLER = {"", "-", "--", "—", "–"}


def parse_compilation_docx(
    data: bytes, source: str = "<compilation.docx>", meetings: Sequence[Meeting] = ()
) -> Compendium:
    """Read the compilation from the bytes of a Word document. Raises DocumentError.
    ``meetings``: those known besides the 2017 compilation's (the database's, added from
    declarations: XXII RCM, Extraordinary Meeting of the XXV RCM …)."""
    document = open_document(data, source)
    try:
        blocks = body_blocks(document)
    except Exception as exc:  # python-docx and lxml raise many kinds on content they reject
        raise DocumentError(
            source,
            [
                Problem(
                    0,
                    "the Word document has content that cannot be read "
                    f"({type(exc).__name__}): open it in Word and save it again as .docx",
                )
            ],
        ) from exc
    if is_spanish_edition(document, blocks):
        raise _refuse(
            source,
            "this is a Spanish edition of the compilation (“Compilación…”, columns "
            "“¿Sigue vigente?”), not the English compilation this reader takes: its rows would "
            "reword the English statements. Ingest the English compilation; a Spanish edition's "
            "wording is aligned to the English statements by the Spanish-edition reader",
        )
    problems: list[Problem] = []
    notices: list[Notice] = []
    legend = read_legend(blocks, problems)
    title, date, selection = read_title_page(blocks)
    sections = read_sections(blocks, problems)
    known = {m.code: m for m in (*taxonomy.meetings(), *meetings)}
    rows = read_rows(sections, legend, problems, notices, known)
    check_categories(rows, problems)
    if not sections and not problems:
        problems.append(
            Problem(
                0,
                "not a compilation: no table under a sub-theme heading with the columns "
                f"{HEADER_TEXT}",
            )
        )
    elif sections and not rows and not problems:
        problems.append(
            Problem(0, "not a compilation: the sub-theme tables hold no statement rows")
        )
    if problems:
        raise DocumentError(source, problems)
    info = replace(source_info(source, data, len(rows), title, date), selection=selection)
    return build_compendium(
        info,
        build_themes(sections, notices),
        list(taxonomy.categories()),
        [r.row for r in rows],
        notices,
        meetings=[known[code] for code in sorted({r.row.meeting for r in rows}, key=meeting_order)],
    )


def is_spanish_edition(document: Any, blocks: list[Block]) -> bool:
    """Whether a Word compilation is a Spanish edition (`rcm export --format docx --lang es`
    marks its language "es"; another one says "¿Sigue vigente?" over its tables)."""
    language = (document.core_properties.language or "").strip().lower()
    if language.startswith("es"):
        return True
    for block in blocks:
        if isinstance(block, TableBlock) and block.rows:
            heads = [tx.collapse(c.text).casefold().strip("¿?: ") for c in block.rows[0].cells]
            if "sigue vigente" in heads:
                return True
    return False


# --- step 1: open -------------------------------------------------------------------------------


def _refuse(source: str, message: str) -> DocumentError:
    return DocumentError(source, [Problem(0, message)])


def open_document(data: bytes, source: str) -> Any:
    if data.startswith(OLE_MAGIC):
        # Word saves a password-protected .docx as an OLE container, the same shape as a .doc.
        raise _refuse(
            source,
            "the file is password-protected (encrypted) or an old Word 97-2003 .doc, which "
            "cannot be read: in Word remove the password (File › Info › Protect Document) and "
            "save it as .docx",
        )
    if not data.startswith(WORD_MAGIC):
        raise _refuse(
            source,
            "the file is not a Word document (.docx): save the compilation from Word as .docx",
        )
    damaged = (
        "the file is a damaged .docx (truncated or corrupt): open it in Word and save it again "
        "as .docx"
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except Exception:  # BadZipFile, EOFError, ValueError …: all mean a damaged package
        raise _refuse(source, damaged) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise _refuse(
            source,
            f"the .docx unpacks to {unpacked // 1_000_000} MB, over the limit of "
            f"{MAX_UNPACKED_BYTES // 1_000_000} MB: this is not the compilation, or it embeds "
            "large files",
        )
    import docx  # deferred: only Word input needs python-docx and lxml loaded

    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:
        # A member cut short or failing its checksum, or XML that does not parse: damaged.
        if isinstance(exc, zipfile.BadZipFile | EOFError) or type(exc).__name__ == "XMLSyntaxError":
            raise _refuse(source, damaged) from None
        # Otherwise a zip that is not a Word package (a spreadsheet, a plain archive …).
        raise _refuse(
            source,
            "the file is a zip archive but not a Word document (.docx): save the compilation "
            "from Word as .docx",
        ) from None


# --- step 2: the body as plain data -------------------------------------------------------------


@dataclass(frozen=True)
class Para:
    """A paragraph: ``text`` as Word shows it, ``tail`` the trailing italic part of it."""

    text: str
    style: str = ""
    level: int | None = None  # outline level: 1 for Heading 1 …; None for body text
    is_list: bool = False
    bold: bool = False  # every character bold
    tail: str = ""

    @property
    def head(self) -> str:
        """The text before the italic tail."""
        return self.text[: len(self.text) - len(self.tail)]


@dataclass(frozen=True)
class Cell:
    paragraphs: tuple[Para, ...]
    shading: str | None  # upper-case RRGGBB, None when unshaded

    @property
    def text(self) -> str:
        return tx.collapse(" ".join(p.text for p in self.paragraphs))


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]  # one per physical cell: a cell spanning columns counts once
    continued: bool = False  # the first cell continues a vertical merge from the row above


@dataclass(frozen=True)
class TableBlock:
    number: int  # 1-based among the document's tables
    rows: tuple[Row, ...]


Block = Para | TableBlock


def body_blocks(document: Any) -> list[Block]:
    """The body's paragraphs and tables in order, also those inside content controls (Word wraps
    a table of contents, and sometimes whole sections, in one)."""
    from docx.oxml.ns import qn
    from docx.table import Table

    styles = StyleBook(document)
    blocks: list[Block] = []

    def walk(parent: Any) -> None:
        for element in parent.iterchildren():
            if element.tag == qn("w:p"):
                blocks.append(_para(element, styles))
            elif element.tag == qn("w:tbl"):
                number = sum(1 for b in blocks if isinstance(b, TableBlock)) + 1
                blocks.append(_table(Table(element, document), number, styles))
            elif element.tag == qn("w:sdt"):
                content = element.find(qn("w:sdtContent"))
                if content is not None:
                    walk(content)

    walk(document.element.body)
    return blocks


def row_cells(row: Any) -> tuple[Any, ...]:
    """A table row's cells as python-docx gives them (a merged cell once per grid column it spans,
    a vertically merged one as the cell it continues), or, where a merge is damaged (a cell that
    "continues" a merge in the table's first row, which python-docx refuses with ValueError), the
    row's own cells as they are."""
    from docx.table import _Cell

    try:
        return tuple(row.cells)
    except ValueError:
        return tuple(_Cell(tc, row.table) for tc in row._tr.tc_lst)


def _table(table: Any, number: int, styles: StyleBook) -> TableBlock:
    rows: list[Row] = []
    for row in table.rows:
        cells: list[Cell] = []
        previous: Any = None
        for cell in row_cells(row):
            if cell is previous:  # python-docx repeats a cell once per grid column it spans
                continue
            previous = cell
            paragraphs = tuple(_para(p._p, styles) for p in cell.paragraphs)
            cells.append(Cell(paragraphs, _shading(cell._tc)))
        tcs = row._tr.tc_lst
        rows.append(Row(tuple(cells), bool(tcs) and tcs[0].vMerge == "continue"))
    return TableBlock(number, tuple(rows))


@dataclass(frozen=True)
class StyleInfo:
    name: str
    base: str | None
    italic: bool | None
    bold: bool | None
    outline: int | None  # 1 for Word's outline level 0 (Heading 1) …; 10 for body text


class StyleBook:
    """The document's styles read once: python-docx looks a style up by a linear search, which
    made reading the whole compilation take seconds."""

    def __init__(self, document: Any) -> None:
        from docx.oxml.ns import qn

        self.by_id: dict[str, StyleInfo] = {}
        self.default: dict[str, str] = {}  # "paragraph" / "character" -> the default style's id
        for element in document.styles.element.style_lst:
            style_id = element.styleId
            if style_id is None:
                continue
            rpr = element.rPr
            self.by_id[style_id] = StyleInfo(
                name=_style_name(element.name_val or style_id),
                base=element.basedOn_val,
                italic=None if rpr is None else _toggle(rpr.i),
                bold=None if rpr is None else _toggle(rpr.b),
                outline=_outline(element),
            )
            if element.default:
                kind = element.get(qn("w:type")) or "paragraph"
                self.default.setdefault(kind, style_id)

    def chain(self, style_id: str | None, kind: str) -> list[StyleInfo]:
        """The style and those it is based on, nearest first."""
        if style_id not in self.by_id:
            style_id = self.default.get(kind)
        chain: list[StyleInfo] = []
        while style_id in self.by_id and len(chain) < 20:  # Word never loops; be safe
            info = self.by_id[style_id]
            chain.append(info)
            style_id = info.base
        return chain


def _style_name(name: str) -> str:
    """The name as Word shows it: styles.xml spells built-in ones in lower case ("heading 1")."""
    from docx.styles import BabelFish

    return str(BabelFish.internal2ui(name))


def _toggle(element: Any) -> bool | None:
    return None if element is None else bool(element.val)


def _outline(element: Any) -> int | None:
    from docx.oxml.ns import qn

    ppr = element.find(qn("w:pPr"))
    lvl = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
    if lvl is None:
        return None
    try:
        return int(lvl.get(qn("w:val"))) + 1
    except (TypeError, ValueError):
        return None


_RUN_PATH = (
    "./w:r | ./w:hyperlink/w:r | ./w:ins/w:r | ./w:smartTag/w:r | ./w:fldSimple/w:r"
    " | ./w:customXml/w:r | ./w:sdt/w:sdtContent/w:r"
)


_RUN_FLAGS = {"italic": "i", "bold": "b"}  # the w:rPr children


def _para(p: Any, styles: StyleBook) -> Para:
    paragraph_styles = styles.chain(p.style, "paragraph")
    runs = p.xpath(_RUN_PATH)
    texts: list[str] = [r.text for r in runs]
    text = "".join(texts)

    def flag(r: Any, name: str) -> bool:
        """Bold or italic as Word shows it: the run's own formatting, else its character
        style's, else its paragraph style's (each following the styles it is based on)."""
        direct = _toggle(getattr(r.rPr, _RUN_FLAGS[name])) if r.rPr is not None else None
        if direct is not None:
            return direct
        for info in [*styles.chain(r.style, "character"), *paragraph_styles]:
            value = getattr(info, name)
            if value is not None:
                return bool(value)
        return False

    tail_from = len(runs)
    for i in range(len(runs) - 1, -1, -1):
        if texts[i].strip() and not flag(runs[i], "italic"):
            break
        tail_from = i
    tail = "".join(texts[tail_from:])
    bold = bool(text.strip()) and all(
        flag(r, "bold") for r, t in zip(runs, texts, strict=True) if t.strip()
    )
    style_name = paragraph_styles[0].name if paragraph_styles else ""
    return Para(
        text=text,
        style=style_name,
        level=_outline_level(p, paragraph_styles),
        is_list=_is_list(p, style_name),
        bold=bold,
        tail=tail if tail.strip() else "",
    )


def _outline_level(p: Any, paragraph_styles: list[StyleInfo]) -> int | None:
    """1 for a Heading 1 (by its style, a style based on it, or an outline level set on the
    paragraph or its style), …; None for body text (Word's outline level 9)."""
    level = _outline(p)
    for info in paragraph_styles:
        if level is not None:
            break
        heading = _HEADING_STYLE.match(info.name)
        level = int(heading.group("level")) if heading else info.outline
    return level if level is not None and level <= 9 else None


def _is_list(p: Any, style_name: str) -> bool:
    ppr = p.pPr
    num_pr = ppr.numPr if ppr is not None else None
    if num_pr is not None and num_pr.numId is not None:
        return bool(num_pr.numId.val != 0)  # numId 0 switches a style's numbering off
    return "list" in style_name.lower()


def _shading(tc: Any) -> str | None:
    from docx.oxml.ns import qn

    tc_pr = tc.tcPr
    shd = tc_pr.find(qn("w:shd")) if tc_pr is not None else None
    if shd is None:
        return None
    pattern = shd.get(qn("w:val")) or "clear"
    if pattern == "nil":
        return None
    # A "solid" pattern paints the pattern colour over the fill.
    colour = shd.get(qn("w:color")) if pattern == "solid" else shd.get(qn("w:fill"))
    if not colour or colour.lower() == "auto":
        return None
    colour = colour.strip().upper()
    # Many templates shade every cell white: that is no colour, not an unknown category.
    return None if colour == "FFFFFF" else colour


# --- step 3: the colour legend ------------------------------------------------------------------


@dataclass(frozen=True)
class Legend:
    """Colour -> category: the default colours, overridden by the document's own legend."""

    colours: dict[str, Category]

    def describe(self) -> str:
        by_category: dict[Category, list[str]] = {c: [] for c in Category}
        for colour, category in self.colours.items():
            by_category[category].append(colour)
        return ", ".join(
            f"{category.value} {' or '.join(colours)}"
            for category, colours in by_category.items()
            if colours
        )


def _is_legend(table: TableBlock) -> bool:
    if not table.rows or not table.rows[0].cells:
        return False
    return table.rows[0].cells[0].text.casefold().rstrip(": ") in _LEGEND_TITLES


def read_legend(blocks: list[Block], problems: list[Problem]) -> Legend:
    own: dict[str, Category] = {}
    for table in (b for b in blocks if isinstance(b, TableBlock) and _is_legend(b)):
        for number, row in enumerate(table.rows[1:], 1):
            if not row.cells:
                continue
            name = row.cells[0].text
            if not name:
                continue
            category = _LEGEND_NAMES.get(name.casefold())
            if category is None:
                problems.append(
                    Problem(
                        0,
                        f"colour legend row {number}: {name!r} is not a category "
                        "(Principles, Understandings or Commitments)",
                    )
                )
                continue
            colour = next((c.shading for c in row.cells[1:] if c.shading), row.cells[0].shading)
            if colour is None:  # an unshaded legend row leaves that category's default colour
                continue
            if own.get(colour, category) != category:
                problems.append(
                    Problem(
                        0,
                        f"colour legend row {number}: colour {colour} is given to both "
                        f"{own[colour].value} and {category.value}",
                    )
                )
                continue
            own[colour] = category
    colours = {colour: category for category, colour in taxonomy.CATEGORY_COLOURS.items()}
    # The legend's colours come first so that the error message lists them first.
    return Legend({**own, **{c: k for c, k in colours.items() if c not in own}})


# --- step 4: the title page ---------------------------------------------------------------------


def read_title_page(blocks: list[Block]) -> tuple[str, str, str]:
    """The compilation's title (a Title or Subtitle paragraph that is not the Conference's name,
    a date or the selection), its date, and what a focused compilation selects ("Selection: …",
    as ``rcm export --format docx`` with a filter prints it; "" for the whole compilation), from
    the paragraphs before the first Heading 1."""
    titles: list[tuple[str, str]] = []
    date = ""
    selection = ""
    for block in blocks:
        if isinstance(block, TableBlock):
            continue
        if block.level == 1:
            break
        text = tx.collapse(block.text)
        if not text:
            continue
        if _DATE.match(text):
            date = date or text
            continue
        if text.casefold().startswith(("selection:", "selección:")):
            selection = selection or text.split(":", 1)[1].strip() or text
            continue
        if (
            block.style in ("Title", "Subtitle")
            and text.casefold() not in _ORGANISATION
            and not text.casefold().startswith(("selection:", "selección:"))
        ):
            titles.append((block.style, text))
    named = [t for _, t in titles if "compil" in t.casefold()]
    return (named or [t for _, t in titles] or [""])[0], date, selection


# --- step 5: themes, sub-themes and their tables ------------------------------------------------


@dataclass
class Section:
    """A sub-theme heading with the table(s) under it (a table Word split in two continues)."""

    theme: int
    theme_title: str
    order: int
    title: str
    tables: list[TableBlock] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"TS{self.theme} / {_short(self.title)}"


def _short(text: str, limit: int = 40) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:") + "…"


def _theme_heading(text: str) -> tuple[int, str] | None:
    m = _THEME_HEADING.match(tx.collapse(text))
    if not m:
        return None
    try:
        return from_roman(m.group("roman")), m.group("title")
    except ValueError:
        return None


def _header_key(cell: Cell) -> str:
    return cell.text.casefold().strip("¿?: ")


_HEADER_KEYS = tuple(h.casefold().strip("¿?: ") for h in HEADER)


def _is_header_row(row: Row) -> bool:
    return tuple(_header_key(c) for c in row.cells) == _HEADER_KEYS


def read_sections(blocks: list[Block], problems: list[Problem]) -> list[Section]:
    sections: list[Section] = []
    theme: tuple[int, str] | None = None
    heading: str | None = None  # the current Heading 2's text under a theme
    section: Section | None = None  # the section of that heading, once it has a table
    last_heading = ""  # for naming a table that has no sub-theme heading
    seen_themes: set[int] = set()
    for block in blocks:
        if isinstance(block, Para):
            if block.level == 1:
                last_heading = tx.collapse(block.text)
                theme = _theme_heading(block.text)
                heading, section = None, None
                if theme is not None:
                    if theme[0] in seen_themes:
                        problems.append(
                            Problem(
                                0,
                                f"theme heading {last_heading!r} appears a second time "
                                f"(thematic session {theme[0]} is already above)",
                            )
                        )
                    seen_themes.add(theme[0])
            elif block.level == 2 and tx.collapse(block.text):
                last_heading = tx.collapse(block.text)
                heading = last_heading if theme is not None else None
                section = None
            continue
        if _is_legend(block):
            continue
        statements_like = bool(
            block.rows
            and block.rows[0].cells
            and _header_key(block.rows[0].cells[0]) == "statements"
        )
        if theme is None or heading is None:
            if statements_like or theme is not None:
                where = f" (after {last_heading!r})" if last_heading else ""
                problems.append(
                    Problem(
                        0,
                        f"table {block.number}{where} is not under a sub-theme heading: a "
                        "Heading 2 under a theme's Heading 1 such as "
                        '"I. Human rights of all migrants"',
                    )
                )
            continue
        if section is None:
            order = sum(1 for s in sections if s.theme == theme[0]) + 1
            section = Section(theme[0], theme[1], order, heading)
            sections.append(section)
        if _check_header(block, section, problems):
            section.tables.append(block)
    return sections


def _check_header(table: TableBlock, section: Section, problems: list[Problem]) -> bool:
    if not table.rows:
        problems.append(Problem(0, f"table under {section.name!r} is empty"))
        return False
    header = table.rows[0]
    if len(header.cells) != 3:
        problems.append(
            Problem(
                0,
                f"table under {section.name!r} has {len(header.cells)} columns; "
                f"expected 3: {HEADER_TEXT}",
            )
        )
        return False
    if not _is_header_row(header):
        found = " | ".join(c.text for c in header.cells)
        problems.append(
            Problem(
                0,
                f"table under {section.name!r} has the header {found!r}; expected {HEADER_TEXT}",
            )
        )
        return False
    return True


def build_themes(sections: list[Section], notices: list[Notice]) -> list[Theme]:
    reference = {t.number: t for t in taxonomy.themes()}
    themes: list[Theme] = []
    for number in sorted({s.theme for s in sections}):
        mine = [s for s in sections if s.theme == number]
        known = reference.get(number)
        if known is None:
            notices.append(
                Notice(
                    "front-matter",
                    0,
                    f"thematic session {number} is not one of the UN consultations "
                    "(no UN title or date)",
                    mine[0].theme_title,
                )
            )
        themes.append(
            Theme(
                number=number,
                title=mine[0].theme_title,
                un_title=known.un_title if known else "",
                consultation=known.consultation if known else "",
                subthemes=tuple(Subtheme(number, s.order, s.title, None) for s in mine),
            )
        )
    return themes


# --- step 6: statement rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class DocxRow:
    row: StatementRow
    where: str  # "table 'TS1 / …' row 3"
    colour: str | None


def read_rows(
    sections: list[Section],
    legend: Legend,
    problems: list[Problem],
    notices: list[Notice],
    known: Mapping[str, Meeting],
) -> list[DocxRow]:
    rows: list[DocxRow] = []
    for section in sections:
        number = 0  # numbered on through a table Word split in two
        position = 0
        for table in section.tables:
            for row in table.rows[1:]:
                number += 1
                where = f"table {section.name!r} row {number}"
                if row.continued or not row.cells or _is_header_row(row):
                    continue  # a merged copy of the row above, or a repeated header
                if all(c.text in _FILLER for c in row.cells):
                    if any(c.text for c in row.cells):
                        notices.append(
                            Notice(
                                "filler-row",
                                0,
                                f"{where}: a row holding only dashes, not a statement (kept out)",
                                " | ".join(c.text for c in row.cells),
                            )
                        )
                    continue
                statement_cell = row.cells[0]
                meeting_cell = row.cells[1] if len(row.cells) > 1 else None
                if not statement_cell.text:
                    problems.append(Problem(0, f"{where}: the statement cell is empty"))
                    continue
                meeting_text, id_text = _meeting_lines(meeting_cell)
                if not meeting_text:
                    problems.append(Problem(0, f"{where}: the meeting (RCM) cell is empty"))
                    continue
                meeting = _meeting_code(meeting_text, known)
                if meeting is None:
                    problems.append(Problem(0, f"{where}: {meeting_text!r} is not a known meeting"))
                    continue
                sid = _printed_id(id_text, meeting, where, known, problems)
                if sid is False:
                    continue
                colour = statement_cell.shading or (meeting_cell.shading if meeting_cell else None)
                category = legend.colours.get(colour) if colour else None
                if colour and category is None:
                    problems.append(
                        Problem(
                            0,
                            f"{where}: shading colour {colour} is not in the colour legend "
                            f"({legend.describe()})",
                        )
                    )
                    continue
                statement = read_statement(
                    statement_cell, section, position + 1, number, meeting, category, where, notices
                )
                if not statement.text:
                    problems.append(Problem(0, f"{where}: the statement cell holds only a note"))
                    continue
                position += 1
                statement = replace(statement, sid=sid or None, where=where)
                rows.append(DocxRow(statement, where, colour))
    return rows


def _meeting_lines(cell: Cell | None) -> tuple[str, str]:
    """The meeting (the first line of text in the cell) and the statement's id (the next line,
    "" when the row prints none: a row added by hand)."""
    if cell is None:
        return "", ""
    lines = [
        tx.collapse(line) for p in cell.paragraphs for line in p.text.split("\n") if line.strip()
    ]
    return [*lines, ""][0], " ".join(lines[1:])


def _printed_id(
    text: str, meeting: str, where: str, known: Mapping[str, Meeting], problems: list[Problem]
) -> str | Literal[False]:
    """The id a row prints ("" for none), or False after reporting one that cannot be read or
    that belongs to another meeting than the row's (an id moved to another meeting)."""
    if not text:
        return ""
    try:
        sid = canonical_id(text)
    except ValueError:
        problems.append(
            Problem(
                0, f"{where}: {text!r} under the meeting is not a statement id such as XIX-0021"
            )
        )
        return False
    own = sid.rsplit("-", 1)[0]
    if own != meeting:
        label = known[own].label if own in known else own
        problems.append(
            Problem(
                0,
                f"{where}: statement {sid} is a statement of the {label}, but the row gives it to "
                f"the {known[meeting].label}: an id cannot move to another meeting (delete the "
                "row and add it again without an id to make a new statement)",
            )
        )
        return False
    return sid


def _meeting_code(text: str, known: Mapping[str, Meeting]) -> str | None:
    """The code of a known meeting from its cell ("XIX RCM", "Extraordinary Meeting of the XXV
    RCM"), read by :func:`rcm.model.parse_meeting`."""
    try:
        code = parse_meeting(text).code
    except ValueError:
        return None
    return code if code in known else None


def read_statement(
    cell: Cell,
    section: Section,
    position: int,
    number: int,
    meeting: str,
    category: Category | None,
    where: str,
    notices: list[Notice],
) -> StatementRow:
    paras = [p for p in cell.paragraphs if p.text.strip()]
    note_text: str | None = None
    last = paras[-1]
    if len(paras) > 1 and not last.head.strip():
        note_text, paras = last.text, paras[:-1]
    elif last.tail and last.head.strip():
        # Trailing italics count as the note only when they read like one: a statement may end
        # on an italicised title ("… the Vienna Convention on Consular Relations").
        _, candidate = tx.split_note(f"*{_unstar(last.tail)}*")
        if candidate is not None and candidate.recognised:
            note_text = last.tail
            paras[-1] = replace(last, text=last.head, tail="")
    note: tx.Note | None = None
    if note_text is not None and _unstar(note_text):
        _, note = tx.split_note(f"*{_unstar(note_text)}*")
    elif note_text is None:
        # The text export's spelling, kept by some copies of the document: "… *TS3*".
        body, note = tx.split_note(tx.collapse(paras[-1].text))
        if note is not None:
            paras = [*paras[:-1], replace(paras[-1], text=body, tail="")]
            paras = [p for p in paras if p.text.strip()]
    texts = [tx.collapse(p.text) for p in paras]
    printed = tx.collapse(" ".join([*texts, note.printed if note else ""]))
    heading: str | None = None
    items: tuple[str, ...] = ()
    if _is_list_statement(paras):
        heading = texts[0]
        items = tuple(item for t in texts[1:] for item in tx.split_items(t))
        text = f"{heading}: {' '.join(items)}"
    else:
        text = tx.strip_bullets(tx.collapse(" ".join(texts)))
        heading = tx.dash_heading(text)
    if note is not None and not note.recognised:
        notices.append(
            Notice(
                "note-unrecognised",
                0,
                f"{where}: cross-reference note names no thematic session",
                note.printed,
            )
        )
    if "*" in text:
        notices.append(
            Notice(
                "stray-asterisk",
                0,
                f"{where}: an asterisk inside the statement text, not a note at its end",
                text,
            )
        )
    return StatementRow(
        theme=section.theme,
        subtheme=section.order,
        position=position,
        line=number,
        meeting=meeting,
        printed=printed,
        text=text,
        heading=heading,
        items=items,
        note=note,
        category=category,
    )


def _unstar(note: str) -> str:
    return tx.collapse(note).strip("* ").replace("*", "")


def _is_list_statement(paras: list[Para]) -> bool:
    """A heading paragraph followed by list items: the heading bold (as the layout writes it),
    or, as the Secretariat's lists have it, a short paragraph that is not itself a list item."""
    if len(paras) < 2 or not paras[1].is_list:
        return False
    first = paras[0]
    return first.bold or (not first.is_list and len(tx.collapse(first.text)) <= 80)


# --- step 7: one category per statement ---------------------------------------------------------


def check_categories(rows: list[DocxRow], problems: list[Problem]) -> None:
    """Copies of one statement must carry one colour; an unshaded copy agrees with any."""
    where = {id(r.row): r for r in rows}
    for (meeting, _), copies in group_copies(r.row for r in rows).items():
        shaded = [where[id(c)] for c in copies if c.category is not None]
        if not shaded or len({tx.normal_form(c.text) for c in copies}) > 1:
            # rows printing one id with different texts: the ingest by id reports them
            continue
        first = shaded[0]
        for other in shaded[1:]:
            if other.row.category != first.row.category:
                problems.append(
                    Problem(
                        0,
                        f"{first.where} and {other.where}: copies of one "
                        f"{parse_meeting(meeting).label} "
                        f"statement are shaded differently ({first.colour} {_label(first)}, "
                        f"{other.colour} {_label(other)})",
                    )
                )
                break


def _label(row: DocxRow) -> str:
    return row.row.category.value if row.row.category else "none"
