"""Questionnaire size bombs, made cheaply: a real questionnaire with one of its parts replaced by
XML written straight into the zip, streamed (``ZipFile.open(name, "w")``), so that a bomb of 300 MB
unpacked costs a few hundred KB of memory to make. Used by tests/test_questionnaire_limits.py, the
fuzzing in tests/test_fuzz_importers.py and bench/bench_questionnaire_bombs.py.

Each bomb keeps the questionnaire's signature sheet: without its limits the import would accept it
(the issue's 300 MB cell was "1 answer saved").
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
RELS = "xl/_rels/workbook.xml.rels"
TYPES = "[Content_Types].xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CHUNK = 1 << 20
HEADER = ["Statement ID", "Meeting", "Statement", "Still valid?", "Proposed wording", "Comment"]


def _col(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def inline(ref: str, text: str | bytes) -> bytes:
    body = text.encode() if isinstance(text, str) else text
    return b'<c r="' + ref.encode() + b'" t="inlineStr"><is><t>' + body + b"</t></is></c>"


def header_row() -> bytes:
    return (
        b'<row r="1">'
        + b"".join(inline(f"{_col(i)}1", h) for i, h in enumerate(HEADER, 1))
        + b"</row>"
    )


def sheet(
    rows: Iterable[bytes], dimension: str | None = None, before: bytes = b""
) -> Iterator[bytes]:
    """A worksheet part: its header row, then ``rows`` (bytes, streamed)."""
    yield b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="' + MAIN.encode() + b'">'
    if dimension:
        yield b'<dimension ref="' + dimension.encode() + b'"/>'
    yield before
    yield b"<sheetData>" + header_row()
    yield from rows
    yield b"</sheetData></worksheet>"


def repeated(piece: bytes, size: int) -> Iterator[bytes]:
    """``size`` bytes of ``piece`` repeated, a megabyte at a time."""
    block = piece * max(1, CHUNK // len(piece))
    left = size
    while left > 0:
        yield block[:left]
        left -= len(block)


def answer_row(
    row: int, statement_id: str, answer: bytes, comment: Iterable[bytes]
) -> Iterator[bytes]:
    """One answered row whose comment is streamed."""
    yield (
        f'<row r="{row}">'.encode()
        + inline(f"A{row}", statement_id)
        + inline(f"D{row}", answer)
        + f'<c r="F{row}" t="inlineStr"><is><t>'.encode()
    )
    yield from comment
    yield b"</t></is></c></row>"


def first_statement(questionnaire: bytes) -> str:
    """The statement id in the first theme sheet's row 2 (inline or shared string)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(questionnaire), read_only=True)
    ws = wb.worksheets[0]
    value = next(ws.iter_rows(min_row=2, max_row=2, max_col=1, values_only=True))[0]
    wb.close()
    return str(value)


def rebuild(
    questionnaire: bytes,
    parts: dict[str, Callable[[], Iterable[bytes]]],
    level: int = 6,
    extra_sheets: int = 0,
) -> bytes:
    """The questionnaire with ``parts`` (name → chunks) in place of, or beside, its own."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(questionnaire)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst,
    ):
        for info in src.infolist():
            if info.filename in parts:
                continue
            dst.writestr(info.filename, src.read(info))
        for name, chunks in parts.items():
            with dst.open(name, "w", force_zip64=True) as fh:
                for chunk in chunks():
                    fh.write(chunk)
    return out.getvalue()


def with_rows(questionnaire: bytes, rows: Callable[[], Iterable[bytes]], **kw: str | None) -> bytes:
    return rebuild(questionnaire, {SHEET: lambda: sheet(rows(), **kw)})


# --- the bombs of issue 13 ----------------------------------------------------------------------


def huge_cell(q: bytes, size: int = 300_000_000, sid: str | None = None) -> bytes:
    """One answer whose comment is ``size`` bytes of text (the issue's 300 MB cell, 325 KB
    packed)."""
    sid = sid or first_statement(q)
    return with_rows(q, lambda: answer_row(2, sid, b"Yes", repeated(b"abcdefgh", size)))


def long_cell(q: bytes, size: int = 1_000_000, sid: str | None = None) -> bytes:
    """A comment longer than any field may be but small enough packed and unpacked: only the
    limit on a cell's text refuses it."""
    import random

    rng = random.Random(size)
    words = [
        bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(4000)
    ]
    text = b" ".join(rng.choices(words, k=size // 5))[:size]
    sid = sid or first_statement(q)
    return with_rows(q, lambda: answer_row(2, sid, b"Yes", [text]))


def whitespace(q: bytes, size: int = 1_500_000_000) -> bytes:
    """``size`` bytes of whitespace inside the sheet's XML (1.5 GB packs to about 1.5 MB)."""
    return with_rows(q, lambda: repeated(b" \n\t", size))


def far_cell(q: bytes, ref: str = "XFD1048576", dimension: bool = True) -> bytes:
    """One cell at ``ref`` (a 19 KB file that cost 21 s and 1.5 GB), with the dimensions it implies
    declared, or without any."""
    row = int("".join(ch for ch in ref if ch.isdigit()))
    cell = f'<row r="{row}">'.encode() + inline(ref, "x") + b"</row>"
    return with_rows(q, lambda: [cell], dimension=f"A1:{ref}" if dimension else None)


def outside_dimension(q: bytes) -> bytes:
    """A cell (G3) outside the dimensions the sheet declares (A1:F3)."""
    sid = first_statement(q)
    row = b'<row r="3">' + inline("A3", sid) + inline("G3", "x") + b"</row>"
    return with_rows(q, lambda: [row], dimension="A1:F3")


def many_rows(
    q: bytes, rows: int = 1_000_000, sid: str | None = None, answered: bool = False
) -> bytes:
    """``rows`` rows after the header: empty (``<row r="N"/>``, the issue's million rows packed
    in a few MB) or each answering the first statement."""
    sid_cell = (sid or first_statement(q)).encode()

    def gen() -> Iterator[bytes]:
        batch: list[bytes] = []
        for r in range(2, rows + 2):
            rb = str(r).encode()
            if answered:
                batch.append(
                    b'<row r="'
                    + rb
                    + b'"><c r="A'
                    + rb
                    + b'" t="inlineStr"><is><t>'
                    + sid_cell
                    + b'</t></is></c><c r="D'
                    + rb
                    + b'" t="inlineStr"><is><t>Yes</t></is></c></row>'
                )
            else:
                batch.append(b'<row r="' + rb + b'"/>')
            if len(batch) == 10_000:
                yield b"".join(batch)
                batch.clear()
        yield b"".join(batch)

    return with_rows(q, gen)


def shared_strings(q: bytes, count: int = 1, size: int = 100, sid: str | None = None) -> bytes:
    """A shared-strings part of ``count`` strings of ``size`` characters (random letters), and
    a row whose comment is the first of them."""
    import random

    rng = random.Random(count * 7 + size)
    sid = sid or first_statement(q)
    alphabet = b"abcdefghijklmnopqrstuvwxyz "

    def strings() -> Iterator[bytes]:
        yield (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="'
            + MAIN.encode()
            + f'" count="{count}" uniqueCount="{count}">'.encode()
        )
        word = bytes(rng.choices(alphabet, k=min(size, 4096)))
        if size > len(word):  # long strings, streamed
            for i in range(count):
                yield b"<si><t>" + str(i).encode()
                yield from repeated(word, size)
                yield b"</t></si>"
            yield b"</sst>"
            return
        batch: list[bytes] = []
        for i in range(count):
            batch.append(b"<si><t>" + str(i).encode() + word[:size] + b"</t></si>")
            if len(batch) >= 1000:
                yield b"".join(batch)
                batch.clear()
        yield b"".join(batch) + b"</sst>"

    row = (
        b'<row r="2">'
        + inline("A2", sid)
        + inline("D2", "Yes")
        + b'<c r="F2" t="s"><v>0</v></c></row>'
    )
    return rebuild(
        q,
        {
            STRINGS: strings,
            SHEET: lambda: sheet([row]),
            RELS: lambda: [_with_strings_rel(q)],
            TYPES: lambda: [_with_strings_type(q)],
        },
    )


def _with_strings_type(q: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(q)) as z:
        types = z.read(TYPES)
    if b"/xl/sharedStrings.xml" in types:
        return types
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    return types.replace(b"</Types>", override + b"</Types>")


def _with_strings_rel(q: bytes) -> bytes:
    """The workbook's relationships with the shared strings' added (openpyxl writes inline
    strings and no shared-strings part)."""
    with zipfile.ZipFile(io.BytesIO(q)) as z:
        rels = z.read(RELS)
    if b"/sharedStrings" in rels:
        return rels
    rel = (
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships'
        b'/sharedStrings" Target="sharedStrings.xml" Id="rIdStrings"/>'
    )
    return rels.replace(b"</Relationships>", rel + b"</Relationships>")


def high_ratio(q: bytes, size: int = 20_000_000) -> bytes:
    """An extra part of ``size`` zero bytes (about 1000:1), under the per-part limit."""
    return rebuild(q, {"xl/media/zeros.bin": lambda: repeated(b"\0", size)})


def lying_sizes(q: bytes, size: int = 200_000_000) -> bytes:
    """The huge cell, its sizes in the zip's directory rewritten to say 1 KB."""
    data = bytearray(huge_cell(q, size))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo(SHEET)
    # The central directory entry of the sheet: its zip64 extra field holds the real sizes.
    name = SHEET.encode()
    at = data.rfind(b"PK\x01\x02", 0, len(data))
    while at != -1:
        if data[at + 46 : at + 46 + len(name)] == name:
            break
        at = data.rfind(b"PK\x01\x02", 0, at)
    extra_len = int.from_bytes(data[at + 30 : at + 32], "little")
    extra_at = at + 46 + len(name)
    extra = data[extra_at : extra_at + extra_len]
    i = 0
    while i + 4 <= len(extra):
        tag = int.from_bytes(extra[i : i + 2], "little")
        length = int.from_bytes(extra[i + 2 : i + 4], "little")
        if tag == 1:  # zip64: uncompressed size first
            data[extra_at + i + 4 : extra_at + i + 12] = (1024).to_bytes(8, "little")
        i += 4 + length
    if info.file_size < 0xFFFFFFFF:
        data[at + 24 : at + 28] = (1024).to_bytes(4, "little")
    return bytes(data)


KINDS: dict[str, Callable[[bytes], bytes]] = {
    "huge cell (300 MB)": huge_cell,
    "long cell (1 MB, packs 3:1)": long_cell,
    "whitespace (1.5 GB)": whitespace,
    "far cell XFD1048576, declared": far_cell,
    "far cell XFD1048576, undeclared": lambda q: far_cell(q, dimension=False),
    "cell outside the declared dimensions": outside_dimension,
    "a million rows": many_rows,
    "a million answered rows": lambda q: many_rows(q, answered=True),
    "shared strings: one of 100 MB": lambda q: shared_strings(q, 1, 100_000_000),
    "shared strings: a million": lambda q: shared_strings(q, 1_000_000, 8),
    "shared strings: 500,000 (under the size limits)": lambda q: shared_strings(q, 500_000, 8),
    "shared strings: one of 1 MB": lambda q: shared_strings(q, 1, 1_000_000),
    "high-ratio part (20 MB of zeros)": high_ratio,
    "sizes in the zip directory lie": lying_sizes,
}


def sparse_whitespace(size: int, seed: int = 1) -> Iterator[bytes]:
    """``size`` bytes of spaces with a tab here and there: it packs about 50:1, under the ratio
    limit, unlike plain whitespace."""
    import random

    rng = random.Random(seed)
    left = size
    while left > 0:
        block = bytearray(b" " * CHUNK)
        for i in rng.sample(range(CHUNK), CHUNK // 100):
            block[i] = 9
        yield bytes(block[:left])
        left -= CHUNK


def one_part_many_sheets(q: bytes, size: int = 20_000_000, sheets: int = 3) -> bytes:
    """``sheets`` sheets that all point at one part of ``size`` bytes: every part is under the
    limits in the zip's directory, but reading the workbook unpacks ``sheets`` × ``size``."""
    with zipfile.ZipFile(io.BytesIO(q)) as z:
        book = z.read("xl/workbook.xml")
        rels = z.read(RELS)
    extra_sheets = b"".join(
        f'<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        f'name="Copy {i}" sheetId="{100 + i}" r:id="rIdCopy{i}"/>'.encode()
        for i in range(sheets)
    )
    extra_rels = b"".join(
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships'
        + f'/worksheet" Target="/xl/worksheets/big.xml" Id="rIdCopy{i}"/>'.encode()
        for i in range(sheets)
    )
    return rebuild(
        q,
        {
            "xl/workbook.xml": lambda: [book.replace(b"</sheets>", extra_sheets + b"</sheets>")],
            RELS: lambda: [rels.replace(b"</Relationships>", extra_rels + b"</Relationships>")],
            "xl/worksheets/big.xml": lambda: sheet(sparse_whitespace(size)),
        },
    )


KINDS["one part read by three sheets (3 × 20 MB)"] = one_part_many_sheets


# --- a random mix of the above, for the fuzzing (tests/test_fuzz_importers.py) ------------------


def mixed(q: bytes, spec: dict[str, object], ids: list[str]) -> bytes:
    """The questionnaire with its first sheet replaced by ``spec``'s mix of bombs: ``items``, each
    ("cell", row, column, size, shared index or None, id index), ("whitespace", size),
    ("empty-rows", first row, count); ``dimension`` (None or a ref); ``strings`` (count, size) for
    a shared-strings part; ``zeros`` (size of an extra part); ``copies`` (more sheets pointing at
    the first sheet's part)."""
    items = spec["items"]
    assert isinstance(items, list)

    def rows() -> Iterator[bytes]:
        for item in items:
            kind = item[0]
            if kind == "cell":
                _, row, column, size, shared, which = item
                sid = ids[which % len(ids)]
                rb = str(row).encode()
                head = b'<row r="' + rb + b'">' + inline(f"A{row}", sid) + inline(f"D{row}", "Yes")
                ref = f"{_col(column)}{row}".encode()
                if shared is not None:
                    yield (
                        head
                        + b'<c r="'
                        + ref
                        + b'" t="s"><v>'
                        + str(shared).encode()
                        + b"</v></c></row>"
                    )
                    continue
                yield head + b'<c r="' + ref + b'" t="inlineStr"><is><t>'
                yield from repeated(b"lorem ipsum ", size)
                yield b"</t></is></c></row>"
            elif kind == "whitespace":
                yield from repeated(b" \n", item[1])
            elif kind == "empty-rows":
                _, first, count = item
                batch: list[bytes] = []
                for r in range(first, first + count):
                    batch.append(b'<row r="' + str(r).encode() + b'"/>')
                    if len(batch) == 10_000:
                        yield b"".join(batch)
                        batch.clear()
                yield b"".join(batch)

    dimension = spec.get("dimension")
    parts: dict[str, Callable[[], Iterable[bytes]]] = {
        SHEET: lambda: sheet(rows(), dimension=dimension if isinstance(dimension, str) else None)
    }
    strings = spec.get("strings")
    if isinstance(strings, tuple):
        count, size = strings

        def strings_part() -> Iterator[bytes]:
            yield b'<?xml version="1.0"?><sst xmlns="' + MAIN.encode() + b'">'
            # Each string different (its number first), so that the part packs like real text
            # and its other limits, not only the ratio, are met.
            text = (b"dolor sit " * (size // 10 + 1))[:size]
            batch: list[bytes] = []
            for i in range(count):
                batch.append(b"<si><t>" + str(i).encode() + text + b"</t></si>")
                if len(batch) >= 2000:
                    yield b"".join(batch)
                    batch.clear()
            yield b"".join(batch) + b"</sst>"

        parts[STRINGS] = strings_part
        parts[TYPES] = lambda: [_with_strings_type(q)]
    zeros = spec.get("zeros")
    if isinstance(zeros, int) and zeros:
        parts["xl/media/zeros.bin"] = lambda: repeated(b"\0", zeros)
    copies = spec.get("copies")
    with zipfile.ZipFile(io.BytesIO(q)) as z:
        book, rels = z.read("xl/workbook.xml"), z.read(RELS)
    if isinstance(strings, tuple):
        rels = _with_strings_rel(q)
    if isinstance(copies, int) and copies:
        book = book.replace(
            b"</sheets>",
            b"".join(
                f'<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                f'relationships" name="Copy {i}" sheetId="{100 + i}" r:id="rIdCopy{i}"/>'.encode()
                for i in range(copies)
            )
            + b"</sheets>",
        )
        rels = rels.replace(
            b"</Relationships>",
            b"".join(
                b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/worksheet" Target="/'
                + SHEET.encode()
                + b'" Id="rIdCopy'
                + str(i).encode()
                + b'"/>'
                for i in range(copies)
            )
            + b"</Relationships>",
        )
        parts["xl/workbook.xml"] = lambda: [book]
    parts[RELS] = lambda: [rels]
    return rebuild(q, parts)
