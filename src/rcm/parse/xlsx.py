"""A bounded, streaming reader of .xlsx workbooks (the consultation's questionnaires).

An .xlsx is a zip of XML parts, and both layers can be made to explode: a 19 KB file whose one cell
sits at XFD1048576, a cell holding 300 MB of text, a part of highly compressed whitespace, a
million rows. openpyxl builds the whole sheet (and every row up to the farthest cell) in memory, so
this reader does not use it. It checks the zip's directory before reading anything (members, their
declared sizes and compression ratios), then streams each part it needs through expat in small
chunks, counting the bytes really decompressed (declared sizes can lie) and checking, as each
element arrives, the sheet's declared dimensions, every row's and cell's position and the length of
every cell's text. The first limit crossed stops the reading with :class:`XlsxLimit`; nothing is
ever held beyond the limits.

Only what a questionnaire needs is read: the sheets' names and states, and the cells' values as
text (a number as Python would print it: ``1``, ``2.5``; a boolean as ``TRUE``/``FALSE``; a
formula as its cached value, never evaluated). Document type declarations are refused.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

__all__ = ["Sheet", "XlsxLimit", "XlsxLimits", "XlsxUnreadable", "read_xlsx", "xlsx_text"]

# Characters an .xlsx cannot hold (openpyxl refuses them, XML 1.0 forbids them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_text(value: str) -> str:
    """The text as an .xlsx cell holds it: without the control characters XML cannot carry. The
    questionnaire is written (``rcm.export.cells``) and read back (``rcm.consult``) through it."""
    return _ILLEGAL.sub("", value)


CHUNK = 64 * 1024
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")
_SHEET_TYPE = "/worksheet"
_STRINGS_TYPE = "/sharedStrings"
_OFFICE_TYPE = "/officeDocument"


class XlsxLimit(Exception):
    """The workbook crosses one of the limits; ``str()`` says which, for a person."""


class XlsxUnreadable(Exception):
    """The bytes are not an .xlsx workbook, or one of its parts is damaged."""


@dataclass(frozen=True)
class XlsxLimits:
    """What a workbook may hold. ``max_rows`` and ``max_columns`` bound every sheet; the byte
    limits count decompressed XML; ``max_cell_chars`` bounds the text of any one cell."""

    max_unpacked: int
    max_member: int
    max_ratio: int
    max_rows: int
    max_columns: int
    max_cell_chars: int
    max_sheets: int = 16
    max_members: int = 200
    # A small part may compress very well (an empty sheet is mostly repeated markup); the ratio
    # is only checked for parts larger than this.
    ratio_floor: int = 1024 * 1024


@dataclass
class Sheet:
    """One worksheet: its name, its state (visible, hidden, veryHidden) and its rows, each a list
    of the first ``columns`` cells' text (None for an empty cell), indexed from row 1."""

    title: str
    state: str
    rows: dict[int, list[str | None]] = field(default_factory=dict)

    def cell(self, row: int, column: int) -> str | None:
        values = self.rows.get(row)
        if values is None or column > len(values):
            return None
        return values[column - 1]


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _cell_ref(ref: str) -> tuple[int, int] | None:
    m = _REF.match(ref.strip().upper())
    if m is None:
        return None
    return int(m.group(2)), _column_number(m.group(1))


def _number_text(raw: str) -> str:
    """A number cell's text as openpyxl's value would print: ``7``, ``2.5``, ``1000.0``."""
    s = raw.strip()
    try:
        return str(int(s))
    except ValueError:
        pass
    try:
        return str(float(s))
    except ValueError:
        return s


class _Budget:
    """The decompressed bytes read so far, across every part (a part may be read twice when two
    sheets point at it)."""

    def __init__(self, limits: XlsxLimits) -> None:
        self.limits = limits
        self.total = 0

    def read(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, sink: Callable[[bytes], None]
    ) -> None:
        got = 0
        with archive.open(info) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                self.total += len(chunk)
                if got > self.limits.max_member:
                    raise XlsxLimit(
                        f"the part {info.filename} unpacks to more than "
                        f"{self.limits.max_member:,} bytes"
                    )
                if self.total > self.limits.max_unpacked:
                    raise XlsxLimit(
                        f"the workbook unpacks to more than {self.limits.max_unpacked:,} bytes"
                    )
                if got > self.limits.ratio_floor and got > self.limits.max_ratio * max(
                    1, info.compress_size
                ):
                    raise XlsxLimit(
                        f"the part {info.filename} is compressed more than "
                        f"{self.limits.max_ratio}:1 (a zip bomb?)"
                    )
                sink(chunk)


def _parser(
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    text: Callable[[str], None] | None = None,
) -> Any:
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = False

    def no_dtd(*_: object) -> None:
        raise XlsxUnreadable("a part declares a document type (DTD), which .xlsx never does")

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd

    def on_start(name: str, attrs: dict[str, str]) -> None:
        start(name.rpartition("}")[2], {k.rpartition("}")[2]: v for k, v in attrs.items()})

    parser.StartElementHandler = on_start
    parser.EndElementHandler = lambda name: end(name.rpartition("}")[2])
    if text is not None:
        parser.CharacterDataHandler = text
    return parser


def _parse(
    budget: _Budget,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] = lambda name: None,
    text: Callable[[str], None] | None = None,
) -> None:
    parser = _parser(start, end, text)
    try:
        budget.read(archive, info, lambda chunk: parser.Parse(chunk, False))
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise XlsxUnreadable(f"the part {info.filename} is not well-formed XML ({exc})") from None


def _rels(budget: _Budget, archive: zipfile.ZipFile, path: str) -> dict[str, tuple[str, str]]:
    """A relationships part: id → (type, target path inside the zip)."""
    rels_path = posixpath.join(posixpath.dirname(path), "_rels", posixpath.basename(path) + ".rels")
    info = _member(archive, rels_path)
    if info is None:
        return {}
    found: dict[str, tuple[str, str]] = {}
    base = posixpath.dirname(path)

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "Relationship" and len(found) < 1000:
            target = attrs.get("Target", "")
            if attrs.get("TargetMode") == "External":
                return
            full = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(full))

    _parse(budget, archive, info, start)
    return found


def _member(archive: zipfile.ZipFile, path: str) -> zipfile.ZipInfo | None:
    try:
        return archive.getinfo(path)
    except KeyError:
        return None


def _check_directory(archive: zipfile.ZipFile, limits: XlsxLimits) -> None:
    """Before decompressing anything: what the zip's directory declares."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise XlsxLimit(f"the workbook has {len(infos):,} parts; at most {limits.max_members}")
    total = 0
    for info in infos:
        if info.file_size > limits.max_member:
            raise XlsxLimit(
                f"the part {info.filename} unpacks to {info.file_size:,} bytes; at most "
                f"{limits.max_member:,}"
            )
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
            1, info.compress_size
        ):
            raise XlsxLimit(
                f"the part {info.filename} is compressed more than {limits.max_ratio}:1 "
                "(a zip bomb?)"
            )
        total += info.file_size
    if total > limits.max_unpacked:
        raise XlsxLimit(f"the workbook unpacks to {total:,} bytes; at most {limits.max_unpacked:,}")


def _shared_strings(
    budget: _Budget, archive: zipfile.ZipFile, path: str | None, limits: XlsxLimits
) -> list[str]:
    strings: list[str] = []
    info = _member(archive, path) if path else None
    if info is None:
        return strings
    parts: list[str] = []
    size = 0
    depth = {"t": 0, "rPh": 0, "si": 0}

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal size
        if name in depth:
            depth[name] += 1
        if name == "si":
            parts.clear()
            size = 0

    # No sheet can show more strings than it has cells.
    most = limits.max_sheets * limits.max_rows * limits.max_columns

    def end(name: str) -> None:
        if name in depth:
            depth[name] -= 1
        if name == "si":
            if len(strings) >= most:
                raise XlsxLimit(
                    f"the workbook has more than {most:,} shared strings, more than its sheets "
                    "may have cells"
                )
            strings.append("".join(parts))

    def text(data: str) -> None:
        nonlocal size
        if depth["si"] and depth["t"] and not depth["rPh"]:
            size += len(data)
            if size > limits.max_cell_chars:
                raise XlsxLimit(
                    f"shared string {len(strings) + 1:,} is longer than "
                    f"{limits.max_cell_chars:,} characters"
                )
            parts.append(data)

    _parse(budget, archive, info, start, end, text)
    return strings


def _sheet(
    budget: _Budget,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    sheet: Sheet,
    strings: list[str],
    limits: XlsxLimits,
    columns: int,
) -> None:
    where = f"sheet {sheet.title}"
    declared: list[tuple[int, int]] = []  # (rows, columns) from <dimension>, when given
    row_no = 0
    col_no = 0
    cell: dict[str, Any] = {}
    value: list[str] = []
    size = 0
    in_value = False

    def beyond(row: int, column: int) -> None:
        if row > limits.max_rows:
            raise XlsxLimit(
                f"{where} has a row {row:,}; this questionnaire has at most {limits.max_rows:,} "
                "rows per sheet"
            )
        if column > limits.max_columns:
            raise XlsxLimit(
                f"{where} has a cell in column {column:,}; at most {limits.max_columns} columns"
            )
        if declared and (row > declared[0][0] or column > declared[0][1]):
            raise XlsxLimit(f"{where} has a cell outside the dimensions it declares")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal row_no, col_no, size, in_value
        if name == "dimension" and not declared:
            ref = attrs.get("ref", "")
            last = _cell_ref(ref.rpartition(":")[2]) if ref else None
            if last is None:
                raise XlsxUnreadable(f"{where} declares dimensions {ref[:40]!r}")
            if last[0] > limits.max_rows or last[1] > limits.max_columns:
                raise XlsxLimit(
                    f"{where} declares {last[0]:,} rows and {last[1]:,} columns; at most "
                    f"{limits.max_rows:,} rows and {limits.max_columns} columns"
                )
            declared.append(last)
        elif name == "row":
            r = attrs.get("r")
            if r and not (r.isdigit() and len(r) < 9):
                raise XlsxUnreadable(f"{where} has a row numbered {r[:20]!r}")
            row_no = int(r) if r else row_no + 1
            col_no = 0
            beyond(row_no, 1)
        elif name == "c":
            cell_ref = attrs.get("r")
            if cell_ref:
                at = _cell_ref(cell_ref)
                if at is None:
                    raise XlsxUnreadable(f"{where} has a cell at {cell_ref[:20]!r}")
                if at[0] != row_no and row_no:
                    raise XlsxUnreadable(f"{where} has the cell {cell_ref[:20]} in row {row_no}")
                col_no = at[1]
            else:
                col_no += 1
            beyond(max(row_no, 1), col_no)
            cell.clear()
            cell["t"] = attrs.get("t", "n")
            value.clear()
            size = 0
        elif name in ("v", "t") and cell:
            in_value = True

    def end(name: str) -> None:
        nonlocal in_value
        if name in ("v", "t"):
            in_value = False
        elif name == "c" and cell:
            if col_no <= columns:
                sheet.rows.setdefault(row_no, [None] * columns)[col_no - 1] = _value(
                    cell["t"], "".join(value), strings
                )
            cell.clear()

    def text(data: str) -> None:
        nonlocal size
        if in_value:
            size += len(data)
            if size > limits.max_cell_chars:
                raise XlsxLimit(
                    f"{where}, row {row_no}: a cell is longer than {limits.max_cell_chars:,} "
                    "characters"
                )
            value.append(data)

    _parse(budget, archive, info, start, end, text)


def _value(kind: str, raw: str, strings: list[str]) -> str | None:
    if kind == "s":
        try:
            return strings[int(raw)]
        except (ValueError, IndexError):
            raise XlsxUnreadable(f"a cell points at shared string {raw[:20]!r}") from None
    if raw == "":
        return None
    if kind == "b":
        return "TRUE" if raw.strip() in ("1", "true") else "FALSE"
    if kind == "n":
        return _number_text(raw)
    return raw  # inlineStr, str (a formula's text result), e (an error such as #N/A), d (a date)


def read_xlsx(data: bytes, limits: XlsxLimits, columns: int) -> list[Sheet]:
    """The workbook's worksheets in order, each with the first ``columns`` cells of its rows.
    Raises :class:`XlsxLimit` or :class:`XlsxUnreadable`."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise XlsxUnreadable(f"not a zip archive ({type(exc).__name__})") from None
    with archive:
        _check_directory(archive, limits)
        budget = _Budget(limits)
        try:
            return _read(budget, archive, limits, columns)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            raise XlsxUnreadable(f"the zip archive is damaged ({type(exc).__name__})") from None
        except Exception as exc:
            if isinstance(exc, (XlsxLimit, XlsxUnreadable)):
                raise
            import zlib

            if isinstance(exc, zlib.error):
                raise XlsxUnreadable(f"the zip archive is damaged ({type(exc).__name__})") from None
            raise


def _read(
    budget: _Budget, archive: zipfile.ZipFile, limits: XlsxLimits, columns: int
) -> list[Sheet]:
    office = [
        target
        for kind, target in _rels(budget, archive, "").values()
        if kind.endswith(_OFFICE_TYPE)
    ]
    book = office[0] if office else "xl/workbook.xml"
    info = _member(archive, book)
    if info is None:
        raise XlsxUnreadable("the workbook part is missing")
    listed: list[tuple[str, str, str]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "sheet":
            if len(listed) >= limits.max_sheets:
                raise XlsxLimit(f"the workbook has more than {limits.max_sheets} sheets")
            listed.append(
                (attrs.get("name", ""), attrs.get("state", "visible"), attrs.get("id", ""))
            )

    _parse(budget, archive, info, start)
    rels = _rels(budget, archive, book)
    strings_path = next((t for k, t in rels.values() if k.endswith(_STRINGS_TYPE)), None)
    strings = _shared_strings(budget, archive, strings_path, limits)
    sheets: list[Sheet] = []
    for title, state, rid in listed:
        kind, target = rels.get(rid, ("", ""))
        if not kind.endswith(_SHEET_TYPE):
            continue  # a chart sheet, or a dangling reference: no cells to read
        part = _member(archive, target)
        if part is None:
            raise XlsxUnreadable(f"the part of sheet {title} is missing")
        sheet = Sheet(title, state)
        _sheet(budget, archive, part, sheet, strings, limits, columns)
        sheets.append(sheet)
    return sheets
