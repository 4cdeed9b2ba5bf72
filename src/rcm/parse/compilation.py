"""Reader for the text export of the RCM compilation, as a pipeline of small steps:

    decode -> lines -> front matter | body -> sections and raw rows -> joined rows
           -> statement rows (text, note, meeting, items) -> compendium (deduplicated, with ids)

Structural damage (unreadable bytes, a table row without its meeting, a truncated document) is a
:class:`~rcm.errors.DocumentError` listing every problem with its line. Oddities that do not stop a
faithful reading (a filler row, the credits, a table of contents that disagrees with the body) are
kept as :class:`~rcm.model.Notice` records: reported, never dropped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from rcm import taxonomy
from rcm.errors import DocumentError, Problem
from rcm.ids import assign_ids
from rcm.model import (
    Category,
    CategoryInfo,
    CategorySource,
    Compendium,
    Meeting,
    Notice,
    Placement,
    PrintedRow,
    SourceInfo,
    Statement,
    Subtheme,
    Theme,
    from_roman,
    meeting_order,
)
from rcm.parse import text as tx

SHIPPED_NAME = "rcm_compilation_1996_2016.txt"
WORD_MAGIC = b"PK\x03\x04"  # a .docx is a zip
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # a password-protected .docx, or a Word 97-2003 .doc


def source_info(name: str, data: bytes, lines: int, title: str, date: str) -> SourceInfo:
    """What a compendium records of the file it was read from (both compilation readers)."""
    return SourceInfo(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        lines=lines,
        title=title,
        date=date,
    )


def shipped_compilation() -> bytes:
    """The compilation shipped inside the package (see ``rcm/data/SOURCE.md``)."""
    return files("rcm").joinpath("data").joinpath(SHIPPED_NAME).read_bytes()


def read_compilation(
    path: str | Path | None = None, meetings: Sequence[Meeting] = ()
) -> Compendium:
    """Read a compilation file (default: the shipped one), text export or Word document, into a
    :class:`Compendium`. ``meetings``: those known besides the 2017 compilation's (the
    database's), which a Word compilation exported from the database may name."""
    if path is None:
        return parse_compilation(shipped_compilation(), SHIPPED_NAME)
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise DocumentError(str(p), [Problem(0, "is a folder, not a file")]) from None
    except FileNotFoundError:
        raise DocumentError(str(p), [Problem(0, "no such file")]) from None
    except OSError as exc:
        raise DocumentError(str(p), [Problem(0, f"cannot be read ({exc.strerror})")]) from None
    return parse_compilation(data, str(p), meetings)


def parse_compilation(
    data: bytes | str, source: str = "<compilation>", meetings: Sequence[Meeting] = ()
) -> Compendium:
    """Parse the compilation, from its text export or as a Word document (told apart by the first
    bytes, not the name). Raises DocumentError (nothing partial is returned)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if raw.startswith((WORD_MAGIC, OLE_MAGIC)):
        # Deferred: the Word reader builds on this module, and only Word input needs python-docx.
        from rcm.parse.docx_compilation import parse_compilation_docx

        return parse_compilation_docx(raw, source, meetings)
    text = decode(raw, source)
    lines = split_lines(text)
    front, body = split_front_matter(lines, source)
    problems: list[Problem] = []
    notices: list[Notice] = []
    fm = read_front_matter(front, notices)
    sections, back = read_body(body, problems, notices)
    rows = [join_rows(section, problems) for section in sections]
    check_against_contents(fm, sections, lines, problems, notices)
    if problems:
        raise DocumentError(source, problems)
    info = source_info(source, raw, len(lines), fm.title, fm.date)
    if back:
        notices.append(
            Notice(
                "back-matter",
                back[0].number,
                "text after the last table (kept, not a statement)",
                " / ".join(line.text.strip() for line in back if line.text.strip()),
            )
        )
    return assemble(info, fm, sections, rows, notices, source)


# --- step 1: bytes to text -------------------------------------------------------------------


def decode(raw: bytes, source: str) -> str:
    if not raw.strip():
        raise DocumentError(source, [Problem(0, "the file is empty")])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(
            source, [Problem(1, "the file is UTF-16; export the compilation as UTF-8 text")]
        )
    if raw.startswith(WORD_MAGIC):  # parse_compilation reads these; decode alone does not
        raise DocumentError(
            source, [Problem(1, "this is a .docx/.zip file, not the compilation's text export")]
        )
    if raw.startswith(b"%PDF"):
        raise DocumentError(
            source, [Problem(1, "this is a PDF, not the compilation's text export")]
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise DocumentError(source, [Problem(line, "binary data (NUL byte): not a text file")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise DocumentError(
            source,
            [
                Problem(
                    line,
                    f"byte 0x{byte} at column {col} is not UTF-8: the file is in another "
                    "encoding (e.g. Windows-1252); save it as UTF-8 text",
                )
            ],
        ) from None
    text = text.removeprefix("\ufeff")
    controls = [i for i, ch in enumerate(text) if ord(ch) < 32 and ch not in "\t\n\r\f"]
    if controls:
        line = text.count("\n", 0, controls[0]) + 1
        raise DocumentError(
            source,
            [Problem(line, f"control character U+{ord(text[controls[0]]):04X}: not a text export")],
        )
    return text


@dataclass(frozen=True)
class Line:
    number: int
    text: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def split_lines(text: str) -> list[Line]:
    """Lines split at LF (a CR before it dropped): numbers match what editors and sed show."""
    return [Line(i, t.removesuffix("\r")) for i, t in enumerate(text.split("\n"), 1)]


# --- step 2: front matter ----------------------------------------------------------------------

_THEME_HEADING = re.compile(r"^(?P<roman>[IVXLC]+)\.\s+(?P<title>\S.*?)\s*$")


def _theme_heading(line: Line) -> tuple[int, str] | None:
    if "\t" in line.text:
        return None
    m = _THEME_HEADING.match(line.text)
    if not m:
        return None
    try:
        return from_roman(m.group("roman")), m.group("title")
    except ValueError:
        return None


def split_front_matter(lines: list[Line], source: str) -> tuple[list[Line], list[Line]]:
    for i, line in enumerate(lines):
        if _theme_heading(line):
            return lines[:i], lines[i:]
    raise DocumentError(
        source,
        [
            Problem(
                0,
                'no thematic section heading ("I. Human rights of all migrants") found: '
                "this is not the RCM compilation's text export, or its body is missing",
            )
        ],
    )


@dataclass
class FrontMatter:
    title: str = ""
    date: str = ""
    un_titles: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    short_titles: dict[int, tuple[str, int]] = field(default_factory=dict)
    categories: list[CategoryInfo] = field(default_factory=list)
    toc_themes: dict[int, tuple[str, int]] = field(default_factory=dict)
    toc_subthemes: dict[int, list[tuple[str, int | None, int]]] = field(default_factory=dict)


_UN_TITLE = re.compile(
    r"^-\s+(?P<roman>[IVX]+)\.\s+(?P<title>.+?)\s*\((?P<when>[^()]*\d{4})\)\s*;?\s*¹?\s*$"
)
_NOMENCLATURE = re.compile(r"^TS(?P<n>\d+):\s*(?P<title>\S.*?)\s*$")
_DEFINITION = re.compile(
    r"^(?P<label>Principle|Understanding|Commitment)\s+-\s+(?P<definition>\S.*?)\s*$"
)
_DATE = re.compile(
    r"^(January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{4}$"
)
_TOC_THEME = re.compile(r"^(?P<roman>[IVX]+)\.\t(?P<title>[^\t]+)\t\s*(?P<page>\d+)\s*$")
_TOC_SUB = re.compile(r"^\t(?P<title>[^\t]+)\t\s*(?P<page>\d+)\s*$")


def _undot(title: str) -> str:
    return title.rstrip(". ").strip()


def _front_roman(roman: str, line: Line, notices: list[Notice]) -> int | None:
    """A theme number in the introduction or the table of contents; one that is not a Roman
    numeral ("IIII") is reported, and the line is not read."""
    try:
        return from_roman(roman)
    except ValueError:
        notices.append(
            Notice(
                "front-matter",
                line.number,
                f"{roman!r} is not a Roman numeral: the line is not read as a theme entry",
                line.text.strip(),
            )
        )
        return None


def read_front_matter(front: list[Line], notices: list[Notice]) -> FrontMatter:
    fm = FrontMatter()
    current_toc_theme: int | None = None
    for line in front:
        t = line.text.strip()
        if not fm.title and t.startswith("Compilation of"):
            fm.title = t
        elif not fm.date and _DATE.match(t):
            fm.date = t
        if m := _UN_TITLE.match(t):
            if (number := _front_roman(m.group("roman"), line, notices)) is not None:
                fm.un_titles[number] = (m.group("title"), m.group("when"), line.number)
        elif m := _NOMENCLATURE.match(t):
            fm.short_titles[int(m.group("n"))] = (m.group("title"), line.number)
        elif m := _DEFINITION.match(t):
            label = m.group("label")
            fm.categories.append(
                CategoryInfo(Category(label.lower()), label, m.group("definition"))
            )
        elif m := _TOC_THEME.match(line.text):
            # An entry whose number cannot be read is reported, and the entries under it are not
            # filed under the previous theme.
            current_toc_theme = _front_roman(m.group("roman"), line, notices)
            if current_toc_theme is not None:
                fm.toc_themes[current_toc_theme] = (_undot(m.group("title")), line.number)
                fm.toc_subthemes[current_toc_theme] = []
        elif (m := _TOC_SUB.match(line.text)) and current_toc_theme is not None:
            fm.toc_subthemes[current_toc_theme].append(
                (_undot(m.group("title")), int(m.group("page")), line.number)
            )
    if len(fm.categories) != 3:
        notices.append(
            Notice(
                "front-matter",
                0,
                "the category definitions (Principle - …) were not all found "
                "in the introduction; the shipped definitions are used",
            )
        )
        fm.categories = list(taxonomy.categories())
    return fm


# --- step 3: body: sections, tables, raw rows ---------------------------------------------------


@dataclass
class RawRow:
    line: int
    cells: list[str]
    after_break: bool


@dataclass
class Section:
    theme: int
    theme_title: str
    theme_line: int
    order: int
    title: str
    line: int
    rows: list[RawRow] = field(default_factory=list)


def _is_header(line: Line) -> bool:
    cells = [c.strip() for c in line.text.split("\t")]
    return cells[0] == "Statements"


_ROW_CONTENT = re.compile(r"^\s*(?:<ul|<p>|<li|[•·▪-]\s)", re.I)


def read_body(
    body: list[Line], problems: list[Problem], notices: list[Notice]
) -> tuple[list[Section], list[Line]]:
    sections: list[Section] = []
    theme: tuple[int, str, int] | None = None
    heading: Section | None = None  # a sub-theme heading waiting for its table header
    table: Section | None = None  # the table rows go to; None in a table without a heading
    in_table = False
    pending_break = False
    last_structural = _last_structural_index(body)
    for i, line in enumerate(body):
        if line.blank:
            pending_break = in_table
            continue
        theme_heading = _theme_heading(line)
        if theme_heading:
            number, title = theme_heading
            if theme and number <= theme[0]:
                problems.append(
                    Problem(
                        line.number,
                        f"thematic section {title!r} is numbered "
                        f"{line.text.split('.')[0]}, out of order",
                    )
                )
            theme = (number, title, line.number)
            in_table, table, heading = False, None, None
            continue
        if _is_header(line):
            cells = [c.strip() for c in line.text.split("\t")]
            if len(cells) < 2 or cells[1] != "RCM":
                problems.append(
                    Problem(
                        line.number,
                        f"table header has no RCM (meeting) column: {line.text.strip()!r}",
                    )
                )
            if heading is None:
                problems.append(Problem(line.number, "table without a sub-theme heading above it"))
            in_table, table, heading = True, heading, None
            pending_break = False
            continue
        if "\t" in line.text:
            cells = line.text.split("\t")
            if all(c.strip() in ("", "--", "—") for c in cells):
                notices.append(
                    Notice(
                        "filler-row",
                        line.number,
                        "table row holding only dashes, not a statement (kept out)",
                        line.text.strip(),
                    )
                )
                continue
            if not in_table:
                problems.append(
                    Problem(
                        line.number,
                        'table row outside any table (no "Statements '
                        'RCM Still valid?" header above it)',
                    )
                )
                continue
            if table is not None:  # rows of a table without a heading were reported with it
                table.rows.append(RawRow(line.number, cells, pending_break))
            pending_break = False
            continue
        # A line of plain text: a sub-theme heading, the credits, or something out of place.
        nxt = _next_non_blank(body, i)
        if nxt is not None and _is_header(nxt) and theme is not None:
            order = sum(1 for s in sections if s.theme == theme[0]) + 1
            heading = Section(theme[0], theme[1], theme[2], order, line.text.strip(), line.number)
            sections.append(heading)
            in_table, table = False, None
            continue
        if i > last_structural:
            return sections, body[i:]
        if in_table and _ROW_CONTENT.match(line.text):
            problems.append(
                Problem(
                    line.number,
                    f"table row has no RCM (meeting) column: {tx.strip_markup(line.text)[:60]!r}…",
                )
            )
            continue
        notices.append(
            Notice(
                "stray-text",
                line.number,
                "text outside any table (kept, not a statement)",
                line.text.strip(),
            )
        )
    return sections, []


def _next_non_blank(body: list[Line], i: int) -> Line | None:
    for line in body[i + 1 :]:
        if not line.blank:
            return line
    return None


def _last_structural_index(body: list[Line]) -> int:
    """Index of the last line that belongs to a table or a heading: what follows is back matter."""
    last = -1
    for i, line in enumerate(body):
        if "\t" in line.text or _theme_heading(line) or _is_header(line):
            last = i
    return last


# --- step 4: re-join rows split by page breaks ---------------------------------------------------

_MEETING_FULL = re.compile(r"^(?P<roman>[IVXLC]+)\s*RCM$")
_MEETING_PART = re.compile(r"^(?P<roman>[IVXLC]+)$")


@dataclass
class JoinedRow:
    line: int
    lines: list[int]
    cells: list[str]  # text cells of each physical row, in order
    meeting: str  # e.g. "XIX"
    still_valid: str


def _meeting_cell(cells: list[str]) -> str:
    return tx.strip_markup(cells[1]) if len(cells) > 1 else ""


def join_rows(section: Section, problems: list[Problem]) -> list[JoinedRow]:
    """A page break splits a row: its text continues in the next row, whose meeting cell is empty
    or holds the rest of a split meeting ("I" / "RCM")."""
    joined: list[JoinedRow] = []
    pending_roman: str | None = None
    for raw in section.rows:
        meeting = _meeting_cell(raw.cells)
        still_valid = tx.strip_markup(raw.cells[2]) if len(raw.cells) > 2 else ""
        if not tx.strip_markup(raw.cells[0]):
            problems.append(Problem(raw.line, "table row with an empty statement cell"))
            continue
        continues = (pending_roman is not None and meeting.upper() == "RCM") or (
            raw.after_break and meeting == "" and pending_roman is None
        )
        if pending_roman is not None and not continues:
            problems.append(
                Problem(
                    joined[-1].line,
                    f"meeting cell {pending_roman!r} is incomplete "
                    '(expected "RCM" in the next row)',
                )
            )
            pending_roman = None
        if continues and joined:
            row = joined[-1]
            row.lines.append(raw.line)
            row.cells.append(raw.cells[0])
            if pending_roman is not None:
                row.meeting = pending_roman
                pending_roman = None
            continue
        if continues:
            problems.append(
                Problem(raw.line, "row continues a statement but no row comes before it")
            )
            continue
        if meeting == "":
            problems.append(Problem(raw.line, "row has no meeting (its RCM cell is empty)"))
            continue
        if m := _MEETING_FULL.match(meeting):
            roman, complete = m.group("roman"), True
        elif m := _MEETING_PART.match(meeting):
            roman, complete = m.group("roman"), False
        else:
            problems.append(
                Problem(raw.line, f'meeting cell {meeting!r} is not a meeting such as "XIX RCM"')
            )
            continue
        try:
            from_roman(roman)
        except ValueError:
            problems.append(Problem(raw.line, f"meeting cell {meeting!r} is not a Roman numeral"))
            continue
        joined.append(JoinedRow(raw.line, [raw.line], [raw.cells[0]], roman, still_valid))
        if not complete:
            pending_roman = roman
    if pending_roman is not None:
        problems.append(
            Problem(
                joined[-1].line,
                f"meeting cell {pending_roman!r} is incomplete and "
                "the table ends: the document may be truncated",
            )
        )
    return joined


# --- step 5: table of contents against the body --------------------------------------------------


def check_against_contents(
    fm: FrontMatter,
    sections: list[Section],
    lines: list[Line],
    problems: list[Problem],
    notices: list[Notice],
) -> None:
    body_themes: dict[int, tuple[str, int]] = {}
    for s in sections:
        body_themes.setdefault(s.theme, (s.theme_title, s.theme_line))
    if not sections:
        problems.append(Problem(0, 'no sub-theme table ("Statements RCM Still valid?") found'))
        return
    missing = [
        f"{n}. {title}" for n, (title, _) in sorted(fm.toc_themes.items()) if n not in body_themes
    ]
    body_subs = {(s.theme, s.order) for s in sections}
    missing_subs = [
        f"{title} (TS{n})"
        for n, subs in sorted(fm.toc_subthemes.items())
        for order, (title, _, _) in enumerate(subs, 1)
        if n in body_themes and (n, order) not in body_subs
    ]
    if missing or missing_subs:
        names = "; ".join(missing + missing_subs)
        problems.append(
            Problem(
                len(lines),
                "the document ends before sections its table of contents "
                f"lists: {names} (truncated?)",
            )
        )
    for s in sections:
        if not s.rows:
            problems.append(
                Problem(s.line, f"sub-theme {s.title!r} has no statements (truncated?)")
            )
        toc = fm.toc_subthemes.get(s.theme, [])
        if s.order <= len(toc) and toc[s.order - 1][0] != s.title:
            notices.append(
                Notice(
                    "toc-mismatch",
                    s.line,
                    f"sub-theme heading differs from the table of contents (line "
                    f"{toc[s.order - 1][2]}: {toc[s.order - 1][0]!r})",
                    s.title,
                )
            )
    for n, (title, line) in body_themes.items():
        if n in fm.toc_themes and fm.toc_themes[n][0] != title:
            notices.append(
                Notice(
                    "toc-mismatch",
                    line,
                    f"theme heading differs from the table of contents ({fm.toc_themes[n][0]!r})",
                    title,
                )
            )
        if n in fm.short_titles and fm.short_titles[n][0] != title:
            notices.append(
                Notice(
                    "toc-mismatch",
                    line,
                    f"theme heading differs from its nomenclature "
                    f"line TS{n}: {fm.short_titles[n][0]!r}",
                    title,
                )
            )
        if n not in fm.un_titles:
            notices.append(
                Notice(
                    "front-matter",
                    line,
                    f"the introduction does not give the UN title of thematic session {n}",
                    title,
                )
            )


# --- step 6: rows to statements and placements ----------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    theme: int
    subtheme: int
    position: int
    line: int
    meeting: str
    printed: str
    text: str
    heading: str | None
    items: tuple[str, ...]
    note: tx.Note | None
    category: Category | None = None
    sid: str | None = None  # the id the row prints (Word compilations exported by `rcm`)
    where: str = ""  # where the row is, for messages ("table 'TS1 / …' row 3")


def read_row(
    section: Section, position: int, row: JoinedRow, notices: list[Notice]
) -> StatementRow:
    heading = tx.list_heading(row.cells[0])
    printed = tx.collapse(" ".join(tx.strip_markup(c) for c in row.cells))
    content = tx.collapse(printed.removeprefix(heading)) if heading is not None else printed
    body, note = tx.split_note(content)
    if note is not None and not note.recognised:
        notices.append(
            Notice(
                "note-unrecognised",
                row.line,
                "cross-reference note names no thematic session",
                note.printed,
            )
        )
    if "*" in body:
        notices.append(
            Notice(
                "stray-asterisk",
                row.line,
                "an asterisk inside the statement text, not a note at its end",
                body,
            )
        )
    items: tuple[str, ...] = ()
    if heading is not None:
        items = tx.split_items(body)
        text = f"{heading}: {' '.join(items)}"
    else:
        text = tx.strip_bullets(body)
        heading = tx.dash_heading(text)
    if row.still_valid:
        notices.append(
            Notice(
                "still-valid-filled",
                row.line,
                'the "Still valid?" cell is not empty (kept out of the corpus)',
                row.still_valid,
            )
        )
    return StatementRow(
        section.theme,
        section.order,
        position,
        row.line,
        row.meeting,
        printed,
        text,
        heading,
        items,
        note,
    )


def assemble(
    info: SourceInfo,
    fm: FrontMatter,
    sections: list[Section],
    joined: list[list[JoinedRow]],
    notices: list[Notice],
    source: str,
) -> Compendium:
    problems: list[Problem] = []
    known = {m.code: m for m in taxonomy.meetings()}
    statement_rows: list[StatementRow] = []
    for section, rows in zip(sections, joined, strict=True):
        for position, row in enumerate(rows, 1):
            if row.meeting not in known:
                problems.append(
                    Problem(
                        row.line,
                        f"meeting {row.meeting} RCM is not a known meeting "
                        f"(known: I–{list(known)[-1]} RCM)",
                    )
                )
                continue
            statement_rows.append(read_row(section, position, row, notices))
    if problems:
        raise DocumentError(source, problems)
    return build_compendium(
        info, build_themes(fm, sections), fm.categories, statement_rows, notices
    )


ID_KEY = "\x00id:"  # a group key's second part for rows printing an id: never a normal form


def group_copies(rows: Iterable[StatementRow]) -> dict[tuple[str, str], list[StatementRow]]:
    """One statement per (meeting, normal form): copies filed under several sections become one;
    rows printing an id are one statement per id (whatever their wording: the ingest by id
    decides what a copy reworded alone means). Keys come in the order of each statement's first
    copy, copies in the order given."""
    by_key: dict[tuple[str, str], list[StatementRow]] = {}
    for r in rows:
        second = ID_KEY + r.sid if r.sid else tx.normal_form(r.text)
        by_key.setdefault((r.meeting, second), []).append(r)
    return by_key


def build_compendium(
    info: SourceInfo,
    themes: list[Theme],
    categories: list[CategoryInfo],
    rows: list[StatementRow],
    notices: list[Notice],
    meetings: Sequence[Meeting] = (),
) -> Compendium:
    """The compendium of statement ``rows`` given in document order (what every reader of the
    compilation shares: deduplication, ids, placements, statement order). ``meetings``: those
    of the rows beyond the 2017 compilation's (meetings added from declarations)."""
    by_key = group_copies(rows)
    printed = {key: key[1].removeprefix(ID_KEY) for key in by_key if key[1].startswith(ID_KEY)}
    ids = {**assign_ids((k for k in by_key if k not in printed), printed.values()), **printed}
    theme_numbers = [t.number for t in themes]
    statements: list[Statement] = []
    placements: list[Placement] = []
    printed_rows: list[PrintedRow] = []
    for (meeting, key), copies in by_key.items():
        first = copies[0]
        sid = ids[(meeting, key)]
        # A row's category is a person's label (the Word compilation's shading); copies were
        # checked to agree by the reader, and an unlabelled copy does not unlabel the others.
        category = next((c.category for c in copies if c.category is not None), None)
        statements.append(
            Statement(
                id=sid,
                meeting=meeting,
                text=first.text,
                heading=first.heading,
                items=first.items,
                category=category,
                category_source=CategorySource.CURATED if category is not None else None,
            )
        )
        for c in copies:
            if any(r.sid for r in rows):
                printed_rows.append(
                    PrintedRow(
                        where=c.where or f"line {c.line}",
                        printed_id=c.sid,
                        statement_id=sid,
                        meeting=meeting,
                        theme=c.theme,
                        subtheme=c.subtheme,
                        position=c.position,
                        text=c.text,
                        heading=c.heading,
                        items=c.items,
                        category=c.category,
                    )
                )
            placements.append(
                Placement(
                    statement_id=sid,
                    theme=c.theme,
                    subtheme=c.subtheme,
                    position=c.position,
                    note=c.note.printed if c.note else None,
                    also_relevant=_named_themes(c, theme_numbers),
                    also_relevant_all=bool(c.note and c.note.all_others),
                    printed_text=c.printed,
                    line=c.line,
                )
            )
    placements.sort(key=lambda p: (p.theme, p.subtheme, p.position))
    shipped = list(taxonomy.meetings())
    codes = {m.code for m in shipped}
    all_meetings = shipped + [m for m in meetings if m.code not in codes]
    # Within a meeting, statements keep the order of their first copy in the document (the
    # stable sort keeps by_key's first-seen order).
    statements.sort(key=lambda s: meeting_order(s.meeting))
    return Compendium(
        source=info,
        themes=themes,
        meetings=all_meetings,
        statements=statements,
        placements=placements,
        categories=categories,
        notices=sorted(notices, key=lambda n: n.line),
        rows=sorted(printed_rows, key=lambda r: (r.theme, r.subtheme, r.position)),
    )


def fm_theme_numbers(sections: list[Section]) -> list[int]:
    return sorted({s.theme for s in sections})


def _named_themes(row: StatementRow, all_themes: list[int]) -> tuple[int, ...]:
    if row.note is None:
        return ()
    named = set(row.note.themes)
    if row.note.all_others:
        named |= {t for t in all_themes if t != row.theme}
    return tuple(sorted(named))


def build_themes(fm: FrontMatter, sections: list[Section]) -> list[Theme]:
    themes: list[Theme] = []
    for number in fm_theme_numbers(sections):
        subs = tuple(
            Subtheme(s.theme, s.order, s.title, _toc_page(fm, s))
            for s in sections
            if s.theme == number
        )
        title = next(s.theme_title for s in sections if s.theme == number)
        un_title, when, _ = fm.un_titles.get(number, ("", "", 0))
        themes.append(
            Theme(number=number, title=title, un_title=un_title, consultation=when, subthemes=subs)
        )
    return themes


def _toc_page(fm: FrontMatter, s: Section) -> int | None:
    toc = fm.toc_subthemes.get(s.theme, [])
    if s.order <= len(toc) and toc[s.order - 1][0] == s.title:
        return toc[s.order - 1][1]
    return None
