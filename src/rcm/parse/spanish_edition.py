"""Reader for a Spanish edition of the compilation ("Compilación de las declaraciones de la
CRM …"), as a text export or a Word document (layout: ``docs/spanish-edition.md``).

A Spanish edition does not make statements: its rows are Spanish wordings of statements already in
the compendium, aligned to them by :mod:`rcm.translate`. This reader only splits the document into
thematic sections, sub-theme tables and rows (meeting, Spanish text, the cross-reference note),
each row with where it is, so that what cannot be aligned can be reported row by row. Structural
damage is a :class:`~rcm.errors.DocumentError` listing every problem with its place.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rcm.errors import DocumentError, Problem
from rcm.ids import canonical_id
from rcm.model import MeetingRef, Notice, SourceInfo, from_roman, parse_meeting
from rcm.parse import text as tx
from rcm.parse.compilation import WORD_MAGIC, decode, source_info, split_lines

# What the first column's header may read (the Spanish word for the rows), the meeting column's,
# and the third column's.
STATEMENT_HEADERS = ("declaraciones", "enunciados", "acuerdos", "disposiciones", "compromisos")
MEETING_HEADERS = ("crm", "reunion", "reunion de la crm")
VALID_HEADERS = ("sigue vigente", "aun vigente", "vigente")
HEADER_TEXT = "Declaraciones | CRM | ¿Sigue vigente?"

_TITLE = re.compile(r"^\s*compilacion\b", re.I)
_THEME_HEADING = re.compile(r"^(?P<roman>[IVXLC]+)\.\s+(?P<title>\S.*?)\s*$")
_EXTRAORDINARY = re.compile(
    r"^\s*(?:la\s+)?reuni[oó]n\s+extraordinaria\s+de\s+la\s+(?P<n>[IVXLC]+|\d{1,4})\s*(?:crm|rcm)?"
    r"\s*(?:\(\s*(?P<k>\d{1,3})\s*\))?\s*$",
    re.I,
)
_ALL_OTHERS_ES = re.compile(r"\btod[oa]s\s+(?:l[oa]s\s+)?(?:dem[aá]s|otr[oa]s)\b", re.I)
_FILLER = ("", "--", "—", "-")


def fold(text: str) -> str:
    """Lower case without accents: how headers and titles are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _header_key(text: str) -> str:
    return fold(tx.strip_markup(text)).strip("¿?¡!:. ")


@dataclass(frozen=True)
class EditionRow:
    """One row of a sub-theme table: ``where`` it is ("line 88", "table 3 row 2"), its meeting
    code, the Spanish text (markup, bullets and the note removed), the note as printed and the
    themes it names, and the statement id the row prints, if it prints one (a Word compilation
    `rcm` exported in Spanish does)."""

    line: int
    where: str
    position: int
    meeting: str
    text: str
    note: str | None = None
    note_themes: tuple[int, ...] = ()
    note_all_others: bool = False
    printed_id: str | None = None


@dataclass(frozen=True)
class EditionSection:
    """A sub-theme table under its thematic section: ``order`` is its place under the theme in
    this edition (an edition may leave sub-themes out), ``title`` its heading as printed."""

    theme: int
    theme_title: str
    order: int
    title: str
    line: int
    rows: tuple[EditionRow, ...]

    @property
    def name(self) -> str:
        short = self.title if len(self.title) <= 50 else self.title[:49].rstrip() + "…"
        return f"TS{self.theme} / {short}"


@dataclass(frozen=True)
class SpanishEdition:
    source: SourceInfo
    title: str
    sections: tuple[EditionSection, ...]
    notices: tuple[Notice, ...] = ()

    @property
    def rows(self) -> list[EditionRow]:
        return [r for s in self.sections for r in s.rows]


# --- telling a Spanish edition apart -------------------------------------------------------------


def _title_lines(lines: list[str]) -> str | None:
    """The edition's title: a line starting "Compilación" before the first theme heading."""
    for text in lines:
        t = tx.collapse(text)
        if "\t" not in text and _THEME_HEADING.match(t) and _roman(t.split(".")[0]) is not None:
            return None
        if _TITLE.match(fold(t)):
            return t
    return None


def is_spanish_edition(data: bytes) -> bool:
    """Whether ``data`` (a text export or a .docx) is titled "Compilación …" before its first
    thematic section: what `rcm ingest` reads as a Spanish edition rather than the English
    compilation. Unreadable data is not an edition (the compilation reader then says why)."""
    if data.startswith(WORD_MAGIC):
        try:
            blocks = _docx_blocks(data, "<sniff>")
        except DocumentError:
            return False
        return _docx_title(blocks) is not None
    text = data[:200_000].decode("utf-8", errors="replace").removeprefix("\ufeff")
    return _title_lines(text.split("\n")) is not None


def _roman(text: str) -> int | None:
    try:
        return from_roman(text)
    except ValueError:
        return None


def meeting_code(cell: str) -> str | None:
    """A meeting cell ("XIX CRM", "XIX", "Reunión Extraordinaria de la XXV CRM") as a meeting
    code, or None."""
    text = tx.collapse(cell)
    if m := _EXTRAORDINARY.match(text):
        number = int(m.group("n")) if m.group("n").isdigit() else _roman(m.group("n"))
        if number is None or number < 1:
            return None
        return MeetingRef(number, int(m.group("k") or 1)).code
    try:
        return parse_meeting(text).code
    except ValueError:
        return None


def _split_note(text: str) -> tuple[str, str | None, tuple[int, ...], bool]:
    body, note = tx.split_note(text)
    if note is None:
        return text, None, (), False
    return (
        body,
        note.printed,
        note.themes,
        note.all_others or bool(_ALL_OTHERS_ES.search(note.printed)),
    )


def _printed_id(text: str) -> str | None:
    try:
        return canonical_id(text)
    except ValueError:
        return None


# --- the text export -----------------------------------------------------------------------------


def parse_spanish_edition(data: bytes, source: str = "<edición>") -> SpanishEdition:
    """Read a Spanish edition (text export or .docx, told apart by the first bytes). Raises
    DocumentError listing every problem; nothing partial is returned."""
    if data.startswith(WORD_MAGIC):
        return _parse_docx(data, source)
    text = decode(data, source)
    lines = split_lines(text)
    title = _title_lines([line.text for line in lines])
    if title is None:
        raise DocumentError(
            source,
            [
                Problem(
                    0,
                    'no title "Compilación …" before the first thematic section: this is not a '
                    "Spanish edition of the compilation",
                )
            ],
        )
    problems: list[Problem] = []
    notices: list[Notice] = []
    builder = _Builder(problems)
    pending_heading: tuple[str, int] | None = None
    in_table = False
    for i, line in enumerate(lines):
        raw = line.text
        t = tx.collapse(raw)
        if not t:
            continue
        if "\t" not in raw and (m := _THEME_HEADING.match(t)) and _roman(m.group("roman")):
            builder.theme(_roman(m.group("roman")) or 0, m.group("title"), line.number)
            in_table, pending_heading = False, None
            continue
        cells = raw.split("\t")
        if "\t" in raw and _header_key(cells[0]) in STATEMENT_HEADERS:
            in_table = _check_header(cells, f"line {line.number}", line.number, problems)
            if pending_heading is None:
                problems.append(Problem(line.number, "table without a sub-theme heading above it"))
                in_table = False
            else:
                builder.section(*pending_heading)
                pending_heading = None
            continue
        if "\t" in raw:
            if all(tx.strip_markup(c) in _FILLER for c in cells):
                notices.append(Notice("filler-row", line.number, "row of dashes (kept out)", t))
                continue
            if not in_table:
                if builder.started:
                    problems.append(
                        Problem(line.number, f"table row outside any table ({HEADER_TEXT})")
                    )
                continue
            builder.row(
                line.number, f"line {line.number}", tx.strip_markup(cells[0]), _cell(cells, 1)
            )
            continue
        # Plain text: a sub-theme heading when a table header follows it, else text between
        # tables (the introduction, credits), which is not read.
        nxt = next((x for x in lines[i + 1 :] if x.text.strip()), None)
        if nxt is not None and _header_key(nxt.text.split("\t")[0]) in STATEMENT_HEADERS:
            if builder.current_theme is None:
                problems.append(
                    Problem(line.number, f"sub-theme heading {t!r} before any thematic section")
                )
            pending_heading = (t, line.number)
        in_table = False
    if not builder.started:
        problems.append(
            Problem(0, f"no thematic section with a sub-theme table ({HEADER_TEXT}) found")
        )
    if problems:
        raise DocumentError(source, problems)
    return SpanishEdition(
        source_info(source, data, len(lines), title, ""),
        title,
        builder.finish(problems, source),
        tuple(notices),
    )


def _cell(cells: list[str], k: int) -> str:
    return tx.strip_markup(cells[k]) if len(cells) > k else ""


def _check_header(cells: list[str], where: str, line: int, problems: list[Problem]) -> bool:
    keys = [_header_key(c) for c in cells]
    if len(keys) < 2 or keys[1] not in MEETING_HEADERS:
        problems.append(
            Problem(
                line,
                f"{where}: the table header has no CRM (meeting) column; expected {HEADER_TEXT}",
            )
        )
        return False
    if len(keys) > 2 and keys[2] and keys[2] not in VALID_HEADERS:
        problems.append(
            Problem(line, f"{where}: third column {cells[2].strip()!r}; expected ¿Sigue vigente?")
        )
        return False
    return True


class _Builder:
    """Collects sections and rows in document order; a row whose meeting cell is empty continues
    the row above (a page break split it)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.current_theme: tuple[int, str] | None = None
        self.seen_themes: set[int] = set()
        self.sections: list[tuple[int, str, int, str, int, list[list[object]]]] = []

    @property
    def started(self) -> bool:
        return bool(self.sections)

    def theme(self, number: int, title: str, line: int) -> None:
        if number in self.seen_themes:
            self.problems.append(
                Problem(line, f"thematic section {number} ({title!r}) appears a second time")
            )
        self.seen_themes.add(number)
        self.current_theme = (number, title)

    def section(self, title: str, line: int) -> None:
        if self.current_theme is None:
            return
        number, theme_title = self.current_theme
        order = sum(1 for s in self.sections if s[0] == number) + 1
        self.sections.append((number, theme_title, order, title, line, []))

    def row(self, line: int, where: str, text: str, meeting_cell: str, pid: str = "") -> None:
        if not self.sections:
            return
        rows = self.sections[-1][5]
        if not meeting_cell:
            if not rows:
                self.problems.append(
                    Problem(line, f"{where}: row has no meeting (its CRM cell is empty)")
                )
                return
            rows[-1][2] = f"{rows[-1][2]} {text}"
            return
        code = meeting_code(meeting_cell)
        if code is None:
            self.problems.append(
                Problem(
                    line,
                    f'{where}: meeting cell {meeting_cell!r} is not a meeting such as "XIX CRM"',
                )
            )
            return
        if not text:
            self.problems.append(Problem(line, f"{where}: the statement cell is empty"))
            return
        rows.append([line, where, text, code, pid])

    def finish(self, problems: list[Problem], source: str) -> tuple[EditionSection, ...]:
        out: list[EditionSection] = []
        for number, theme_title, order, title, line, rows in self.sections:
            if not rows:
                problems.append(Problem(line, f"sub-theme {title!r} has no rows (truncated?)"))
                continue
            read: list[EditionRow] = []
            for position, (rline, where, text, code, pid) in enumerate(rows, 1):
                body, note, themes, all_others = _split_note(tx.collapse(str(text)))
                read.append(
                    EditionRow(
                        line=int(str(rline)),
                        where=str(where),
                        position=position,
                        meeting=str(code),
                        text=tx.strip_bullets(body),
                        note=note,
                        note_themes=themes,
                        note_all_others=all_others,
                        printed_id=_printed_id(str(pid)) if pid else None,
                    )
                )
            out.append(EditionSection(number, theme_title, order, title, line, tuple(read)))
        if problems:
            raise DocumentError(source, problems)
        return tuple(out)


# --- the Word document --------------------------------------------------------------------------


def _docx_blocks(data: bytes, source: str) -> list[object]:
    from rcm.parse.docx_compilation import body_blocks, open_document

    return list(body_blocks(open_document(data, source)))


def _docx_title(blocks: list[object]) -> str | None:
    from rcm.parse.docx_compilation import Para

    for block in blocks:
        if not isinstance(block, Para):
            continue
        if block.level == 1:
            return None
        if _TITLE.match(fold(tx.collapse(block.text))):
            return tx.collapse(block.text)
    return None


def _parse_docx(data: bytes, source: str) -> SpanishEdition:
    from rcm.parse.docx_compilation import Para, TableBlock

    blocks = _docx_blocks(data, source)
    title = _docx_title(blocks)
    if title is None:
        raise DocumentError(
            source,
            [
                Problem(
                    0,
                    'no title "Compilación …" before the first Heading 1: this is not a Spanish '
                    "edition of the compilation",
                )
            ],
        )
    problems: list[Problem] = []
    builder = _Builder(problems)
    heading: str | None = None
    for block in blocks:
        if isinstance(block, Para):
            t = tx.collapse(block.text)
            if block.level == 1:
                m = _THEME_HEADING.match(t)
                number = _roman(m.group("roman")) if m else None
                if m and number:
                    builder.theme(number, m.group("title"), 0)
                else:
                    builder.current_theme = None
                heading = None
            elif block.level == 2 and t:
                heading = t
            continue
        assert isinstance(block, TableBlock)
        if not block.rows or not block.rows[0].cells:
            continue
        header = [c.text for c in block.rows[0].cells]
        if _header_key(header[0]) not in STATEMENT_HEADERS:
            continue  # a legend or another table: not a sub-theme table
        where = f"table {block.number}"
        if builder.current_theme is None or heading is None:
            problems.append(
                Problem(
                    0,
                    f"{where} is not under a sub-theme heading (a Heading 2 under a "
                    'theme\'s Heading 1 such as "I. Derechos humanos de todos los migrantes")',
                )
            )
            continue
        if not _check_header(header, where, 0, problems):
            continue
        if not builder.sections or builder.sections[-1][3] != heading:
            builder.section(heading, 0)
        for k, row in enumerate(block.rows[1:], 1):
            cells = row.cells
            if _header_key(cells[0].text) in STATEMENT_HEADERS:
                continue  # a header row repeated inside the table
            texts = [c.text for c in cells]
            if all(tx.collapse(x) in _FILLER for x in texts):
                continue
            paras = cells[1].paragraphs if len(cells) > 1 else ()
            meeting = tx.collapse(paras[0].text) if paras else ""
            pid = tx.collapse(paras[1].text) if len(paras) > 1 else ""
            builder.row(
                0, f"{where} ({_short(heading)}) row {k}", _statement_text(cells[0]), meeting, pid
            )
    if not builder.started:
        problems.append(
            Problem(0, f"no sub-theme table ({HEADER_TEXT}) under a thematic section found")
        )
    if problems:
        raise DocumentError(source, problems)
    paragraphs = sum(1 for b in blocks if isinstance(b, Para))
    return SpanishEdition(
        source_info(source, data, paragraphs, title, ""),
        title,
        builder.finish(problems, source),
    )


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _statement_text(cell: object) -> str:
    """A statement cell's paragraphs as one text; a last paragraph entirely in italics is the
    note, given back between asterisks as the text export prints it."""
    from rcm.parse.docx_compilation import Cell

    assert isinstance(cell, Cell)
    paras = [p for p in cell.paragraphs if tx.collapse(p.text)]
    parts: list[str] = []
    for i, p in enumerate(paras):
        text = tx.collapse(p.text)
        last = i == len(paras) - 1
        if last and i > 0 and p.tail and tx.collapse(p.tail) == text and "*" not in text:
            parts.append(f"*{text}*")
        else:
            parts.append(text)
    return " ".join(parts)
