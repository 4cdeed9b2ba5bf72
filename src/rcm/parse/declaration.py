"""Reader for a new RCM declaration, splitting it into draft statements as a reader would:

    load (type, size) -> decode -> paragraphs -> title | units (sub-items attached to their parent)
         -> preamble | operative part -> statements (with their chapeau) | closing lines -> checks

The conventions are the reader's: blank lines and list markers separate paragraphs; the short
lines at the top are the title; participial paragraphs ("Recognizing …", "Considerando …") and the
sentence that introduces the meeting are the preamble, as are reports on the meeting itself ("La
reunión se celebró en …", "Delegations from … attended") wherever they stand; a paragraph ending
with ":" such as "HEREBY DECLARE:" is the chapeau (``lead``) of the statements under it; a short
heading over bullets is one list statement; the thanks to the host, "Adopted in …" and the
signatures after the last statement are closing lines. Anything that stops a faithful reading is a
:class:`~rcm.errors.DocumentError` with one message saying what to do; no other exception leaves
this module, whatever the input.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from rcm.errors import DocumentError, Problem
from rcm.model import DeclarationText, DraftStatement, ReadLine, from_roman
from rcm.parse import declaration_words as vocab
from rcm.parse.declaration_words import fold
from rcm.parse.docx_compilation import row_cells
from rcm.parse.text import collapse, dash_heading

__all__ = [
    "MAX_BYTES",
    "at_a_glance",
    "declaration_from_bytes",
    "read_declaration",
    "split_declaration",
]

MAX_BYTES = 1_000_000
MAX_STATEMENTS = 400
SUPPORTED_SUFFIXES = (".txt", ".docx")
# A .docx is a zip: a small crafted file could unpack to gigabytes, so the unpacked size is capped.
MAX_UNPACKED_BYTES = 50_000_000
# Nobody hard-wraps wider than this: a block with a longer line has one paragraph per line (the
# shape of Word's "Save as plain text"), not paragraphs wrapped over several lines.
WRAP_LIMIT = 120
HEADING_MAX_WORDS = 12
TITLE_LINE_MAX_WORDS = 16
HEADLINE_MAX_WORDS = 30

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_SUFFIX_HINTS = {
    ".doc": "save it from Word as .docx",
    ".rtf": "save it from Word as .docx",
    ".odt": "save it as .docx",
    ".pdf": "copy its text into a .txt file, or use the Word document it was made from",
}


class _Mark(Enum):
    """The kind of list marker a paragraph opens with."""

    NUMBER = "number"  # 1.  1)  (1)  1.-   and the section markers A.  I.  II.
    LETTER = "letter"  # a)  (a)  a.
    ROMAN = "roman"  # i.  ii)  (iv)
    BULLET = "bullet"  # •  -  *  ·


# Nesting of the ordered kinds: a lettered item belongs under a numbered paragraph, not beside it.
_RANK = {_Mark.NUMBER: 0, _Mark.LETTER: 1, _Mark.ROMAN: 2, _Mark.BULLET: 3}


@dataclass(frozen=True)
class _Para:
    """One paragraph as a reader sees it. ``line`` is its first line (paragraph number in a
    .docx); ``lines`` are its physical lines, whitespace-collapsed, the marker removed."""

    line: int
    lines: tuple[str, ...]
    text: str
    mark: _Mark | None = None
    indent: int = 0
    marker: str = ""  # the marker as printed, or as Word numbers the paragraph


def _para(
    line: int,
    lines: Sequence[str],
    mark: _Mark | None = None,
    indent: int = 0,
    marker: str = "",
) -> _Para:
    kept = tuple(s for s in (collapse(x) for x in lines) if s)
    return _Para(line, kept, _join(kept), mark, indent, marker)


_HYPHEN_END = re.compile(r"[^\W\d_]-$")


def _join(lines: Sequence[str]) -> str:
    """Lines of one paragraph as one text; a line ending in a word's hyphen ("Vice-" then
    "Ministers") continues that word, since nobody hyphenates syllables in a typed text."""
    out = ""
    for line in lines:
        glue = "" if _HYPHEN_END.search(out) and line[:1].isalpha() else " "
        out = f"{out}{glue}{line}" if out else line
    return collapse(out)


@dataclass
class _Unit:
    """A paragraph with the sub-items that belong to it (lettered items, a list's bullets)."""

    para: _Para
    items: list[_Para] = field(default_factory=list)
    chapeau: bool = False

    @property
    def full_text(self) -> str:
        return " ".join([self.para.text, *(i.text for i in self.items)])


# --- public API ----------------------------------------------------------------------------------


def read_declaration(path: Path) -> DeclarationText:
    """Read a declaration from a .txt (UTF-8, BOM tolerated) or .docx file."""
    path = Path(path)
    name = str(path)
    _check_suffix(path.suffix, name)
    return declaration_from_bytes(_load(path, name), name)


def declaration_from_bytes(raw: bytes, name: str) -> DeclarationText:
    """Read a declaration from the bytes of a .txt or .docx file, such as an upload: ``name`` is
    the file's name as the person knows it, which says the kind (by its suffix) and names the file
    in every problem reported (never a temporary copy's path)."""
    suffix = Path(name).suffix.lower()
    _check_suffix(Path(name).suffix, name)
    _check_size(name, len(raw), "the file")
    if suffix == ".docx":
        return _read(_docx_paragraphs(raw, name), raw, name)
    return _read(_text_paragraphs(_decode(raw, name)), raw, name)


def _check_suffix(suffix: str, name: str) -> None:
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        hint = _SUFFIX_HINTS.get(suffix.lower())
        if not suffix:
            raise _error(
                name,
                "unsupported file type without an extension: a declaration can be read from .txt "
                "(UTF-8 text) or .docx (Word)",
            )
        if hint:
            raise _error(
                name,
                "unsupported file type “%(suffix)s”: a declaration can be read from .txt (UTF-8 "
                "text) or .docx (Word) — %(hint)s",
                suffix=suffix,
                hint=hint,
            )
        raise _error(
            name,
            "unsupported file type “%(suffix)s”: a declaration can be read from .txt (UTF-8 text) "
            "or .docx (Word)",
            suffix=suffix,
        )


def split_declaration(text: str, name: str = "<text>") -> DeclarationText:
    """Split the text of a declaration (as pasted or already decoded) into its parts."""
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise DocumentError(
            name, [Problem(line, "contains characters that are not valid Unicode text")]
        ) from None
    _check_size(name, len(raw), "the text")
    return _read(_text_paragraphs(_clean(text.removeprefix("\ufeff"), name)), raw, name)


_GLANCE_PART = {
    "title": "title",
    "preamble": "preamble",
    "chapeau": "chapeau",
    "heading": "heading (not a statement)",
    "closing": "closing",
    "unrecognised": "UNRECOGNISED",
}


def _english(message: str, /, **values: object) -> str:
    return message.format(**values) if values else message


def at_a_glance(
    reading: Sequence[ReadLine], width: int = 72, say: Callable[..., str] = _english
) -> list[str]:
    """The reading (``DeclarationText.reading``), one line per paragraph, to check against the
    paper: its line number, what it was read as (statement n, its items, preamble, closing,
    unrecognised) and its opening, in the order of the file. ``say`` words the parts in the
    reader's language (``rcm.i18n.Words``; English by default)."""
    out = []
    for r in sorted(reading, key=lambda r: r.line):  # stable: one line's parts keep their order
        if r.part == "statement" or (r.part == "unrecognised" and r.statement):
            what = say("statement {n}", n=r.statement) + (" ?" if r.part == "unrecognised" else "")
        elif r.part == "item":
            what = "  " + say("item of {n}", n=r.statement)
        else:
            what = say(_GLANCE_PART[r.part]) if r.part in _GLANCE_PART else r.part
        shown = f"{r.marker} {r.text}" if r.marker else r.text
        if len(shown) > width:
            shown = shown[: width - 1].rstrip() + "…"
        out.append(f"{r.line:>5}  {what:<26} {shown}")
    return out


# --- load and decode -----------------------------------------------------------------------------


def _error(name: str, message: str, line: int = 0, **values: object) -> DocumentError:
    """A refusal: ``message`` is English with %(name)s placeholders filled from ``values`` (the
    catalogues' key, so the command line and the web say it in the reader's language)."""
    return DocumentError(name, [Problem.of(line, message, **values)])


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


_TOO_BIG_FILE = (
    "the file is %(size)s (%(bytes)s bytes), over the limit of %(limit)s (%(limit_bytes)s bytes): "
    "a declaration is a few pages — check that this is the right file"
)
_TOO_BIG_TEXT = (
    "the text is %(size)s (%(bytes)s bytes), over the limit of %(limit)s (%(limit_bytes)s bytes): "
    "a declaration is a few pages — check that this is the right file"
)


def _check_size(name: str, size: int, what: str) -> None:
    if size > MAX_BYTES:
        raise _error(
            name,
            _TOO_BIG_FILE if what == "the file" else _TOO_BIG_TEXT,
            size=_megabytes(size),
            bytes=f"{size:,}",
            limit=_megabytes(MAX_BYTES),
            limit_bytes=f"{MAX_BYTES:,}",
        )


def _load(path: Path, name: str) -> bytes:
    # The size is checked before reading, and the read is bounded anyway: a file that grows, or a
    # device such as /dev/zero that reports size 0, cannot make us read more than the limit.
    try:
        if path.is_dir():
            raise _error(name, "is a folder, not a file")
        _check_size(name, path.stat().st_size, "the file")
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _error(name, "no such file") from None
    except PermissionError:
        raise _error(name, "cannot be read: permission denied") from None
    except (OSError, ValueError) as exc:  # ValueError: a path the system refuses (a NUL in it)
        why = getattr(exc, "strerror", None) or exc
        raise _error(name, "cannot be read (%(why)s)", why=why) from None
    _check_size(name, len(raw), "the file")
    return raw


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _error(
            name,
            "the file is UTF-16 text, not UTF-8: save the declaration as UTF-8 text (.txt) or as "
            "a Word document (.docx)",
            1,
        )
    if raw.startswith(_ZIP_MAGIC):
        raise _error(name, "this is a Word (.docx) or zip file with a .txt name: rename it", 1)
    if raw.startswith(_OLE_MAGIC):
        raise _error(
            name,
            "this is an old Word (.doc) or encrypted file: save the declaration as UTF-8 text "
            "(.txt) or as a Word document (.docx)",
            1,
        )
    if raw.startswith(b"%PDF"):
        raise _error(
            name,
            "this is a PDF file with a .txt name: save the declaration as UTF-8 text (.txt) or as "
            "a Word document (.docx)",
            1,
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise _error(
            name,
            "binary data (a NUL byte), not text: save the declaration as UTF-8 text (.txt) or as "
            "a Word document (.docx)",
            line,
        )
    try:
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)
        line = raw.count(b"\n", 0, offset) + 1
        column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        byte = raw[offset : offset + 1].hex()
        raise _error(
            name,
            "byte 0x%(byte)s at column %(column)s is not UTF-8 (the file is probably Latin-1 or "
            "Windows-1252 text): save the declaration as UTF-8 text (.txt) or as a Word document "
            "(.docx)",
            line,
            byte=byte,
            column=column,
        ) from None
    return _clean(text, name)


_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")


def _clean(text: str, name: str) -> str:
    nul = text.find("\x00")
    if nul >= 0:
        raise _error(
            name,
            "binary data (a NUL character), not text: save the declaration as UTF-8 text (.txt) "
            "or as a Word document (.docx)",
            text.count("\n", 0, nul) + 1,
        )
    # Stray control characters carry no wording: they read as spaces.
    return _CONTROL.sub(" ", text)


# --- paragraphs: plain text ----------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NUMBERED = re.compile(
    r"\(?(?:(?P<num>\d{1,3})(?:\.\d{1,3})*|(?P<alpha>[A-Za-z]{1,5}))(?:\.-|[.)]|-(?=\s))(?=\s|$)"
)
_GLYPH = re.compile(r"[•·▪◦‣○●►➢➤■□✓]")
_DASH = re.compile(r"[-–*](?=\s|$)")
_ROMAN_LETTERS = re.compile(r"[ivx]+|[IVX]+")


class _MarkerReader:
    """Recognises the list marker opening a line. Remembers the last letter and roman numeral
    seen, because "i)" after "h)" is a letter while "i)" opening a list is a roman numeral."""

    def __init__(self) -> None:
        self.last_letter = ""
        self.last_roman = ""

    def read(self, line: str) -> tuple[_Mark | None, str, int]:
        stripped = line.lstrip()
        indent = len(line[: len(line) - len(stripped)].expandtabs(4))
        m = _NUMBERED.match(stripped)
        if m:
            mark = _Mark.NUMBER if m.group("num") else self._alpha(m.group("alpha"))
            if mark is not None:
                return mark, stripped[m.end() :], indent
        m = _GLYPH.match(stripped) or _DASH.match(stripped)
        if m:
            return _Mark.BULLET, stripped[m.end() :], indent
        return None, stripped, indent

    def _alpha(self, token: str) -> _Mark | None:
        roman = bool(_ROMAN_LETTERS.fullmatch(token)) and _roman_value(token) <= 39
        if token.isupper():
            # "A." and "I." number sections: they rank with numbers, not under them.
            if len(token) == 1 or roman:
                self.last_letter = self.last_roman = ""
                return _Mark.NUMBER
            return None
        if not token.islower():
            return None
        if len(token) > 1 and not roman:
            # "aa)" follows "z)"; other words ("etc.", "ie.") are not markers
            if len(set(token)) == 1 and self.last_letter in ("z", _previous_double(token)):
                self.last_letter = token
                return _Mark.LETTER
            return None
        is_roman = roman and (
            len(token) > 1
            or (token == "i" and self.last_letter != "h")
            or (token == "v" and self.last_roman == "iv")
            or (token == "x" and self.last_roman == "ix")
        )
        if is_roman:
            self.last_roman = token
            return _Mark.ROMAN
        self.last_letter = token
        return _Mark.LETTER


def _previous_double(token: str) -> str:
    return token[0] if token[0] == "a" else chr(ord(token[0]) - 1) * len(token)


def _roman_value(token: str) -> int:
    try:
        return from_roman(token)
    except ValueError:
        return 10_000


# Numbering run into one line when line breaks were lost in copying ("… ACORDARON: 1. Reconocer
# … 2. Adoptar …"): a number or letter after the end of a clause, followed by a capital.
_INLINE_MARK = re.compile(
    r"(?:^|(?<=\s)|(?<=[:;.]))\s*(?:\(?(?P<n>\d{1,2})(?:\.-|[.)])\s+"
    r"(?=[\"“«(]?[A-ZÁÉÍÓÚÑ])|\(?(?P<l>[a-z])\)\s+(?=\S))"
)
# A heading in capitals, with or without a colon, right before the chain ("… solidaridad.
# APROBARON PUNTOS SUSTANTIVOS 1. Reconocer …").
_CAPS_END = re.compile(r"\b[A-ZÁÉÍÓÚÑ]{4,}\s*:?\s*$")
# A chapeau in capitals run into the line before it ("…; ACORDARON: 1. …"), or a heading in
# capitals ending the text before a chain ("…. APROBARON PUNTOS SUSTANTIVOS").
_INLINE_CHAPEAU = re.compile(
    r"(?<=[;,.])\s+(?=[A-ZÁÉÍÓÚÑ]{4,}(?:\s+[A-ZÁÉÍÓÚÑ]{2,}){0,2}:)"
    r"|(?<=[;,.])\s+(?=(?:[A-ZÁÉÍÓÚÑ]{2,}\s+){0,5}[A-ZÁÉÍÓÚÑ]{4,}\s*:?\s*$)"
)
# A title in capitals run into the first sentence ("VII CONFERENCIA REGIONAL SOBRE MIGRACION
# COMUNICADO CONJUNTO La VII Conferencia …", "DECISIONES ANEXAS Los Viceministros …"): two or
# more words in capitals, one of at least four letters, then a capitalised word in lower case.
_LEADING_CAPS = re.compile(
    r"^(?=(?:\S+\s+){0,8}[A-ZÁÉÍÓÚÑ]{4,})(?:[A-ZÁÉÍÓÚÑ0-9()'’.,-]+\s+){1,11}[A-ZÁÉÍÓÚÑ0-9()’]+"
    r"(?=\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ])"
)


def _inline_chain(line: str) -> list[int]:
    """Where a run-together line should break: the offsets of a chain of consecutive markers
    (1. 2. 3. or a) b) c)), at least two long; none if there is no such chain."""
    # (offset, marker, whether it follows the end of a clause): a chain opens after a clause's
    # end; its next links may follow any word (a paragraph without its final stop).
    found = [
        (m.start(), m.group("n") or m.group("l"), _opens_chain(line, m.start()))
        for m in _INLINE_MARK.finditer(line)
    ]
    # One pass: a chain of numbers and one of letters at a time (a letter list may run inside a
    # numbered item); a new "1." or "a)" after the end of a clause starts the next chain.
    best: set[int] = set()
    active: dict[bool, tuple[list[int], str]] = {}
    for offset, token, opens in found:
        kind = token.isdigit()
        current = active.get(kind)
        if current is not None and token == current[1]:
            current[0].append(offset)
            active[kind] = (current[0], _next_marker(token))
        elif opens and token in ("1", "a"):
            if current is not None and len(current[0]) >= 2:
                best.update(current[0])
            active[kind] = ([offset], _next_marker(token))
    for chain, _ in active.values():
        if len(chain) >= 2:
            best.update(chain)
    return sorted(best)


def _opens_chain(line: str, start: int) -> bool:
    """Whether a marker at ``start`` follows the end of a clause or a heading in capitals (read
    back from the marker past blanks, a few characters only, so that a long line stays linear)."""
    i = start - 1
    while i >= 0 and line[i].isspace():
        i -= 1
    if i < 0 or line[i] in ":;.":
        return True
    return bool(_CAPS_END.search(line[max(0, i - 80) : i + 1]))


def _next_marker(token: str) -> str:
    return str(int(token) + 1) if token.isdigit() else chr(ord(token) + 1)


# Where a sentence of a run-together line ends and the next opens.
_SENTENCE_BREAK = re.compile(r"(?<=[.;])\s+(?=[\"“«(¿]?[A-ZÁÉÍÓÚÑ])")
# A list run into its chapeau's line: a colon, then an item opening with an action.
_COLON_ITEM = re.compile(r":\s+(?=[\"“«]?[A-ZÁÉÍÓÚÑ])")
# A Spanish infinitive ("Profundizar", "Reforzarse"); nouns ending like one are left out.
_ES_ACTION = re.compile(
    r"^(?!(?:lugar|mujer|hogar|bienestar|poder|deber|ser|haber|par|mar|militar|familiar|popular"
    r"|regular|particular|similar|titular|nivel|exterior|anterior|posterior|interior|mayor"
    r"|menor|sector|valor|favor|por|alrededor)\b)[a-zñ]{2,}(?:ar|er|ir)(?:se|nos)?\b"
)


def _opens_action(text: str) -> bool:
    """Whether a sentence opens with an action, as a plan of action's items do ("Promote …",
    "To strengthen …", "Profundizar …")."""
    t = _opening(text[:_WINDOW])
    return bool(_en_action().match(t) or _ES_ACTION.match(fold(t)))


# How much of a run-together line's rest an opener is read in: the opening words are enough, and
# reading no more keeps a long line linear.
_WINDOW = 400


@cache
def _en_action() -> re.Pattern[str]:
    return re.compile(rf"^(?:to\s+)?(?:{_forms(_EN_IMPERATIVES)})\b(?!\s+of\b)", re.I)


def _inline_list(line: str) -> list[int]:
    """Where a run-together line should break when a list of actions was run into its chapeau
    ("… los siguientes lineamientos y acciones: Profundizar …. Intensificar …. Reforzar …."):
    after the colon, before each item, and, once a sentence no longer opens with an action, before
    every sentence that follows (the line lost its breaks; each sentence was a paragraph). None
    unless at least two items open with an action."""
    if len(line) <= WRAP_LIMIT:
        return []
    for colon in _COLON_ITEM.finditer(line):
        start = colon.end()
        if not _opens_action(line[start : start + _WINDOW]):
            continue
        cuts = [start]
        listing = True
        for m in _SENTENCE_BREAK.finditer(line, start):
            at = m.end()
            if listing and not _opens_action(line[at : at + _WINDOW]):
                listing = False
                if len(cuts) < 2:
                    break
            cuts.append(at)
        if len(cuts) >= 2 and _opens_action(line[cuts[1] : cuts[1] + _WINDOW]):
            return cuts
    return []


def _split_leading_caps(piece: str) -> list[str]:
    m = _LEADING_CAPS.match(piece)
    if m is None or re.match(r"\(?(?:\d{1,2}|[a-z])(?:\.-|[.)])\s", piece):
        return [piece]  # a numbered item's words in capitals are its own ("1. UNHCR Invite …")
    return [m.group(0), piece[m.end() :]]


def _unrun(lines: Sequence[str]) -> list[tuple[int, str]]:
    """(line number, text) of each line, a run-together line broken where its numbering was, or
    where a list of actions was run into its chapeau."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        cuts = _inline_chain(line)
        listed = not cuts
        if listed:
            cuts = _inline_list(line)
        if not cuts:
            out.append((number, line))
            continue
        head = line[: cuts[0]]
        if listed:
            pieces = [head] if head.strip() else []
        else:
            pieces = [p for p in _INLINE_CHAPEAU.split(head)] if head.strip() else []
        for a, b in zip(cuts, [*cuts[1:], len(line)], strict=True):
            pieces.append(line[a:b])
        if not listed and pieces:
            pieces[-1:] = _split_tail(pieces[-1])
        # a blank line between the pieces: each is a paragraph of its own
        for piece in pieces:
            for part in _split_leading_caps(piece.strip()):
                if part.strip():
                    out += [(number, part.strip()), (number, "")]
    return out


def _split_tail(piece: str) -> list[str]:
    """The last item of a run-together chain, without what followed the list on the lost lines:
    thanks, courtesies, "Adopted in …", a heading in capitals ("4. Aceptar … 2025. Agradecieron
    al Gobierno …")."""
    for m in _SENTENCE_BREAK.finditer(piece):
        rest = piece[m.end() : m.end() + _WINDOW]
        if _thanks_or_courtesy(rest) or _ADOPTED.match(rest) or _LEADING_CAPS.match(rest):
            return [piece[: m.start()], *_SENTENCE_BREAK.split(piece[m.end() :])]
    return [piece]


def _text_paragraphs(text: str) -> list[_Para]:
    """Paragraphs of a plain text: a blank line or a line opening with a marker starts one; in a
    block of one paragraph per line every line does, unless it continues a sentence."""
    return _paragraphs(_unrun(_LINE_BREAK.split(text)))


def _paragraphs(numbered: list[tuple[int, str]]) -> list[_Para]:
    """:func:`_text_paragraphs` of lines already numbered and broken where they had run together."""
    lines = [line for _, line in numbered]
    markers = _MarkerReader()
    paras: list[_Para] = []
    current: list[str] = []
    start, mark, indent, marker = 0, None, 0, ""
    unwrapped = False

    def close() -> None:
        if current:
            paras.append(_para(start, current, mark, indent, marker))
            current.clear()

    for index, (number, line) in enumerate(numbered):
        if not line.strip():
            close()
            continue
        if not current:
            unwrapped = _one_paragraph_per_line(lines, index)
        line_mark, rest, line_indent = markers.read(line)
        new_sentence = unwrapped and not rest[:1].islower() and bool(collapse(" ".join(current)))
        if not current or line_mark is not None or new_sentence:
            close()
            start, mark, indent = number, line_mark, line_indent
            marker = line.strip()[: len(line.strip()) - len(rest)].strip() if line_mark else ""
            if line_mark is _Mark.NUMBER:
                markers.last_letter = markers.last_roman = ""
            current.append(rest)
        else:
            current.append(line)
    close()
    return _merge_bare_markers(paras)


def _one_paragraph_per_line(lines: Sequence[str], first: int) -> bool:
    """Whether the block of lines starting at ``first`` holds one paragraph per line: it has a
    line too long to be hard-wrapped, or it is a column of short paragraphs — at least three
    lines, none continuing a sentence in lower case, each after the first ending a clause
    (a heading may stand first). Wrapped prose practically never has that shape."""
    block: list[str] = []
    for line in lines[first:]:
        stripped = line.strip()
        if not stripped:
            break
        if len(stripped) > WRAP_LIMIT:
            return True
        block.append(stripped)
    return (
        len(block) >= 3
        and not any(line[:1].islower() for line in block)
        and all(_ENDS_CLAUSE.search(line) for line in block[1:])
    )


def _merge_bare_markers(paras: list[_Para]) -> list[_Para]:
    # A marker alone on its line ("1." then a blank line then the text) numbers the next paragraph.
    out: list[_Para] = []
    for p in paras:
        if out and not out[-1].text and out[-1].mark is not None and p.mark is None and p.text:
            bare = out.pop()
            p = _Para(bare.line, p.lines, p.text, bare.mark, bare.indent, bare.marker)
        out.append(p)
    return [p for p in out if p.text]


# --- paragraphs: Word ----------------------------------------------------------------------------

_FORMAT_KIND = {
    "bullet": _Mark.BULLET,
    "lowerLetter": _Mark.LETTER,
    "lowerRoman": _Mark.ROMAN,
}


def _docx_paragraphs(raw: bytes, name: str) -> list[_Para]:
    _check_docx_container(raw, name)
    import docx  # deferred: only .docx input needs python-docx and lxml loaded

    try:
        document = docx.Document(io.BytesIO(raw))
        # A number typed alone in its paragraph ("1." then the wording) numbers the next one, as
        # in a text file.
        paras = _merge_bare_markers(list(_walk_docx(document)))
    except Exception as exc:  # python-docx and lxml raise many kinds on a damaged package
        raise _error(
            name,
            "cannot be opened as a Word document (it is damaged or not a .docx): open it in Word "
            "and save it again as .docx, or save it as UTF-8 text (.txt)",
        ) from exc
    return _unrun_paragraphs(paras)


def _unrun_paragraphs(paras: list[_Para]) -> list[_Para]:
    """A Word paragraph that holds what were several (text pasted from a PDF: "… APROBARON PUNTOS
    SUSTANTIVOS 1. Reconocer … 2. Adoptar …") read as a text line is: each piece a paragraph,
    numbered by its Word paragraph."""
    out: list[_Para] = []
    for p in paras:
        pieces = _unrun([p.text]) if p.mark is None and len(p.text) > WRAP_LIMIT else []
        if len(pieces) <= 1:
            out.append(p)
            continue
        out += [replace(q, line=p.line, indent=p.indent) for q in _paragraphs(pieces)]
    return out


def _check_docx_container(raw: bytes, name: str) -> None:
    if raw.startswith(_OLE_MAGIC):
        raise _error(
            name,
            "is password-protected (encrypted) or an old Word 97-2003 document, which cannot be "
            "read: in Word remove the password (File › Info › Protect Document) and save it as "
            ".docx, or save it as UTF-8 text (.txt)",
        )
    if not raw.startswith(_ZIP_MAGIC):
        raise _error(
            name,
            "is not a Word .docx file (it does not start like one): save the declaration from "
            "Word as .docx, or as UTF-8 text with a .txt name",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except Exception:  # BadZipFile, EOFError, ValueError …: all mean a damaged package
        raise _error(
            name,
            "is a damaged .docx (the file is truncated or corrupt): open it in Word and save it "
            "again, or save it as UTF-8 text (.txt)",
        ) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise _error(
            name,
            "unpacks to %(size)s, over the limit of %(limit)s: this is not a declaration, or it "
            "embeds large files — save its text as .txt",
            size=_megabytes(unpacked),
            limit=_megabytes(MAX_UNPACKED_BYTES),
        )


@dataclass(frozen=True)
class _Level:
    """One level of a Word list: its number format, first value and text ("%1.", "%2)")."""

    fmt: str
    start: int = 1
    text: str = ""


class _WordNumbers:
    """The numbers Word shows beside its automatically numbered paragraphs, reconstructed: a
    counter per list and level, deeper levels restarting under a new item."""

    def __init__(self, levels: dict[tuple[str, str], _Level]) -> None:
        self.levels = levels
        self.counts: dict[str, dict[int, int]] = {}

    def next(self, num_id: str, level: int) -> str:
        counts = self.counts.setdefault(num_id, {})
        spec = self.levels.get((num_id, str(level)), _Level("decimal"))
        counts[level] = counts.get(level, spec.start - 1) + 1
        for deeper in [k for k in counts if k > level]:
            del counts[deeper]
        if spec.fmt == "bullet":
            return "•"
        text = spec.text or f"%{level + 1}."

        def value(m: re.Match[str]) -> str:
            lvl = int(m.group(1)) - 1
            fmt = self.levels.get((num_id, str(lvl)), _Level("decimal")).fmt
            return _format_number(counts.get(lvl, 1), fmt)

        return re.sub(r"%(\d)", value, text).strip()


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        while n > 0:
            n, r = divmod(n - 1, 26)
            letters = chr(ord("a") + r) + letters
        return letters if fmt == "lowerLetter" else letters.upper()
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _to_roman(n)
        return roman.lower() if fmt == "lowerRoman" else roman
    return str(n)


def _to_roman(n: int) -> str:
    out = ""
    for value, letters in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):  # fmt: skip
        while n >= value:
            out, n = out + letters, n - value
    return out


def _walk_docx(document: Any) -> Iterator[_Para]:
    levels = _numbering_levels(document)
    formats = {key: level.fmt for key, level in levels.items()}
    numbers = _WordNumbers(levels)
    markers = _MarkerReader()
    for number, paragraph in enumerate(_docx_in_order(document), start=1):
        text: str = paragraph.text or ""
        lines = text.split("\n")  # a soft line break (Shift+Enter) stays inside the paragraph
        if not text.strip():
            continue  # an empty paragraph or one holding only a picture: counted, not read
        kind, depth = _docx_list_kind(paragraph, formats)
        if kind is not None:
            first = lines[0].lstrip()
            if _GLYPH.match(first):  # a bullet typed into a Word list item is not wording
                first = first[1:]
            # Word levels are scaled like indentation in a text, where 2 columns make a level.
            shown = _word_number(paragraph, numbers)
            yield _para(number, [first, *lines[1:]], kind, 4 * depth, shown)
            continue
        mark, first, _ = markers.read(lines[0])
        if mark is _Mark.NUMBER:
            markers.last_letter = markers.last_roman = ""
        typed = lines[0].strip()[: len(lines[0].strip()) - len(first.lstrip())].strip()
        yield _para(number, [first, *lines[1:]], mark, 0, typed if mark else "")


def _docx_in_order(container: Any) -> Iterator[Any]:
    """Every paragraph in reading order: body paragraphs, table cells row by row (a merged cell
    once), nested tables in place."""
    from docx.text.paragraph import Paragraph

    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block
            continue
        for row in block.rows:
            seen: set[int] = set()
            for cell in row_cells(row):
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                yield from _docx_in_order(cell)


def _word_number(paragraph: Any, numbers: _WordNumbers) -> str:
    ppr = paragraph._p.pPr
    num_pr = ppr.numPr if ppr is not None else None
    if num_pr is None or num_pr.numId is None:
        return ""
    level = int(num_pr.ilvl.val) if num_pr.ilvl is not None else 0
    return numbers.next(str(num_pr.numId.val), level)


def _numbering_levels(document: Any) -> dict[tuple[str, str], _Level]:
    """(numId, ilvl) -> the level's format ("bullet", "decimal", "lowerLetter" …), start value
    and number text, with a list's own start overrides."""
    from docx.oxml.ns import qn

    try:
        root = document.part.numbering_part.element
    except Exception:  # no numbering part: no Word lists to look up
        return {}

    def val(element: Any, tag: str, default: str) -> str:
        found = element.find(qn(tag))
        return str(found.get(qn("w:val"))) if found is not None else default

    levels: dict[tuple[str, str], _Level] = {}
    for abstract in root.findall(qn("w:abstractNum")):
        for lvl in abstract.findall(qn("w:lvl")):
            start = val(lvl, "w:start", "1")
            levels[(str(abstract.get(qn("w:abstractNumId"))), str(lvl.get(qn("w:ilvl"))))] = _Level(
                val(lvl, "w:numFmt", "decimal"),
                int(start) if start.isdigit() else 1,
                val(lvl, "w:lvlText", ""),
            )
    out: dict[tuple[str, str], _Level] = {}
    for num in root.findall(qn("w:num")):
        ref = num.find(qn("w:abstractNumId"))
        if ref is None:
            continue
        num_id = str(num.get(qn("w:numId")))
        for (abstract_id, ilvl), level in levels.items():
            if abstract_id == str(ref.get(qn("w:val"))):
                out[(num_id, ilvl)] = level
        for override in num.findall(qn("w:lvlOverride")):
            ilvl = str(override.get(qn("w:ilvl")))
            start = val(override, "w:startOverride", "")
            if start.isdigit() and (num_id, ilvl) in out:
                out[(num_id, ilvl)] = replace(out[(num_id, ilvl)], start=int(start))
    return out


def _docx_list_kind(
    paragraph: Any, formats: dict[tuple[str, str], str]
) -> tuple[_Mark | None, int]:
    style = paragraph.style
    style_name: str = (style.name or "") if style is not None else ""
    ppr = paragraph._p.pPr
    num_pr = ppr.numPr if ppr is not None else None
    if num_pr is not None and num_pr.numId is not None and num_pr.numId.val != 0:
        level = int(num_pr.ilvl.val) if num_pr.ilvl is not None else 0
        fmt = formats.get((str(num_pr.numId.val), str(level)))
        if fmt == "none":
            return None, 0
        if fmt is not None:
            return _FORMAT_KIND.get(fmt, _Mark.NUMBER), level
        return _style_kind(style_name) or _Mark.BULLET, level
    if "list" in style_name.lower():
        depth = re.search(r"(\d+)\s*$", style_name)
        return _style_kind(style_name) or _Mark.BULLET, int(depth.group(1)) - 1 if depth else 0
    return None, 0


def _style_kind(style_name: str) -> _Mark | None:
    lowered = style_name.lower()
    if "bullet" in lowered:
        return _Mark.BULLET
    if "number" in lowered:
        return _Mark.NUMBER
    return None


# --- the vocabulary of a declaration -------------------------------------------------------------


def _forms(words: str) -> str:
    """A regex alternation of English verbs with their -s/-d/-ed forms."""
    alternatives = []
    for w in words.split():
        if w.endswith("e"):
            alternatives.append(f"{w}[sd]?")
        elif w.endswith("y"):
            alternatives.append(f"{w[:-1]}(?:y|ies|ied)")
        elif w.endswith(("s", "sh", "ch", "x")):
            alternatives.append(f"{w}(?:es|ed)?")
        elif w in {"commit", "submit"}:
            alternatives.append(f"{w}(?:s|ted)?")
        else:
            alternatives.append(f"{w}(?:s|ed)?")
    return "|".join(alternatives)


# What the Vice-Ministers do in an operative paragraph ("The Vice-Ministers reaffirmed …").
_EN_VERBS = (
    "acknowledge adopt advance affirm agree approve call commend commit condemn congratulate "
    "consider continue decide declare discuss emphasize emphasise encourage endorse entrust "
    "establish exchange express highlight instruct intend invite mandate note pledge point "
    "propose reaffirm recall recognize recognise recommend reiterate reject renew request resolve "
    "review share stress support thank underline underscore urge welcome"
)
# What a plan of action asks for ("Promote …", "To strengthen …").
_EN_IMPERATIVES = (
    _EN_VERBS
    + " accept address allocate analyze analyse apply assess assist broaden build collaborate "
    "combat compile complete conduct consolidate contribute convene cooperate coordinate create "
    "deepen define design develop disseminate elaborate engage enhance ensure evaluate expand "
    "explore extend facilitate formulate foster guarantee harmonize harmonise identify implement "
    "improve include incorporate increase inform integrate intensify involve launch maintain "
    "mobilize mobilise monitor organize organise participate prevent prioritize prioritise promote "
    "protect provide publish pursue raise reduce reinforce respect review secure sensitize "
    "sensitise strengthen study submit sustain train update work"
)
_EN_IRREGULAR = (
    "take|took|hold|held|make|made|give|gave|seek|sought|undertake|undertook|set|see|sees|saw"
    "|bring|brought|concur|concurs|concurred"
)
_EN_SUBJECT = (
    r"we|they|(?:the\s+)?vice[\s-]?ministers|the\s+(?:rcm|conference)"
    r"|the\s+regional\s+conference(?:\s+on\s+migration)?"
    r"|(?:the\s+)?(?:rcm\s+)?member\s+(?:countries|states)|(?:the\s+)?governments"
    r"|the\s+(?:participating\s+)?(?:countries|delegations|states|participants)"
    r"|(?:the\s+)?heads\s+of\s+delegation"
)
_EN_ADVERBS = (
    r"also|further|furthermore|hereby|therefore|jointly|again|once\s+again|unanimously|fully"
    r"|strongly|firmly|collectively|duly|formally"
)
_EN_AUX = r"will|shall|must|should|are|were|have|has|had"
# After a subject any past tense reads as a statement ("The Vice Ministers reviewed …"), except the
# verbs of the sentence introducing the meeting ("The Vice-Ministers gathered in …").
_EN_PAST = r"(?!(?:gathered|assembled|convened|headed|based)\b)[a-z]{3,}ed"
# "Additionally, welcomed …", "In that respect the governments emphasized …", "Asimismo, …".
_CONNECTIVE = (
    r"(?:(?:additionally|also|further(?:more)?|moreover|in\s+addition|likewise|finally|lastly"
    r"|in\s+(?:that|this)\s+(?:respect|regard)|asimismo|además|igualmente|finalmente"
    r"|por\s+último|en\s+este\s+sentido)\s*,?\s+)?"
)
_ES_SUBJECT = (
    r"(?:las\s+y\s+)?los\s+vice\s*-?ministros(?:\s+y\s+(?:las\s+)?vice\s*-?ministras)?"
    r"|las\s+y\s+los\s+vice\s*-?ministr[oa]s|(?:los\s+)?países\s+miembros(?:\s+de\s+la\s+crm)?"
    r"|la\s+crm|la\s+conferencia(?:\s+regional\s+sobre\s+migración)?|(?:los\s+)?gobiernos"
    r"|las\s+delegaciones|los\s+jefes\s+de\s+delegación|nosotr[oa]s"
)
_ES_WORDS = (
    "reconocemos reafirmamos reiteramos acordamos decidimos declaramos expresamos instamos "
    "instruimos exhortamos solicitamos encomendamos aprobamos adoptamos destacamos subrayamos "
    "saludamos alentamos agradecemos promover fortalecer instruir impulsar fomentar reconocer "
    "reafirmar reiterar acordar alentar apoyar continuar desarrollar establecer solicitar instar "
    "exhortar encomendar coordinar facilitar garantizar asegurar mejorar incrementar intercambiar "
    "compartir crear diseñar implementar elaborar identificar combatir prevenir proteger "
    "proporcionar difundir avanzar incluir incorporar integrar mantener buscar explorar realizar "
    "sensibilizar considerar acoger expresar destacar subrayar resaltar saludar aprobar adoptar "
    "recomendar acordaron reconocieron reafirmaron reiteraron expresaron destacaron subrayaron "
    "instaron"
)

_OPERATIVE_EN = re.compile(
    rf"^{_CONNECTIVE}(?:{_EN_SUBJECT})(?:\s*,)?\s+(?:(?:{_EN_ADVERBS})\s+)*"
    rf"(?:{_forms(_EN_VERBS)}|{_EN_IRREGULAR}|{_EN_AUX}|{_EN_PAST})\b"
    # A verb followed by "of" is a noun in an agenda ("Review of …", "Exchange of …").
    rf"|^{_CONNECTIVE}(?:to\s+)?(?:{_forms(_EN_IMPERATIVES)}|{_EN_IRREGULAR})\b"
    r"(?!\s+(?:of|plan|remarks|session)\b|\s*:)",
    re.I,
)
_OPERATIVE_ES = re.compile(
    rf"^{_CONNECTIVE}(?:{_ES_SUBJECT})(?:\s*,)?\s+(?:(?:también|además|asimismo|igualmente|nuevamente)\s+)*"
    r"(?:se\s+|nos\s+)?\w+(?:aron|ieron|yeron|an|en|amos|emos|imos)\b"
    rf"|^{_CONNECTIVE}(?:nos\s+comprometemos|{'|'.join(_ES_WORDS.split())})\b",
    re.I,
)
# Spanish verb morphology, trusted only in a Spanish text: English "Their" ends like an infinitive.
_OPERATIVE_ES_FORMS = re.compile(
    rf"^{_CONNECTIVE}(?:(?:nos|se)\s+)?\w+(?:amos|emos|imos|aron|ieron|yeron)\b"
    rf"|^{_CONNECTIVE}\w{{2,}}(?:ar|er|ir)(?:se)?\b",
    re.I,
)
# The same built from the tables of ``declaration_words``, read on folded text (accents removed):
# any subject ("La CRM", "Los Viceministros y Jefes de Delegación", "The Regional Conference on
# Migration (RCM)", "We"), an aside between commas, then a declaring verb in any person, number
# and tense ("reconoce", "reafirmaron", "acordó", "recognizes", "recognized", "would like to
# reiterate"). The verb must be one of the tables', so the subject can be anything short.
_ES_FORMS = "|".join(sorted(set(vocab.ES_CONJUGATED), key=len, reverse=True))
_ES_INFINITIVES = "|".join(
    sorted(
        {*vocab.ES_DECLARING_INFINITIVES, *vocab.ES_IMPERATIVE_INFINITIVES}, key=len, reverse=True
    )
)
_ES_ADVERBS_F = r"(?:tambien|ademas|asimismo|igualmente|nuevamente|una\s+vez\s+mas|hoy)"
_FOLDED_CONNECTIVE = fold(_CONNECTIVE)
_SUBJECT_VERB_ES = re.compile(
    rf"^{_FOLDED_CONNECTIVE}(?:(?:la|las|los|el|nosotr[oa]s)\b[^,;:.]{{0,140}}?)"
    rf"(?:\s*,[^;:]{{1,200}}?,)?\s+(?:{_ES_ADVERBS_F}\s+)*(?:(?:se|nos)\s+)?"
    rf"(?:{vocab.ES_PHRASES}|{_ES_FORMS})\b"
)
_OPENING_ES = re.compile(
    rf"^{_FOLDED_CONNECTIVE}(?:(?:nos|se)\s+)?(?:{vocab.ES_PHRASES}|{_ES_FORMS}|{_ES_INFINITIVES})\b"
)
_SUBJECT_VERB_EN = re.compile(
    rf"^{_FOLDED_CONNECTIVE}(?:we|they|the\s[^,;:.]{{0,140}}?)(?:\s*,[^;:]{{1,200}}?,)?\s+"
    rf"(?:(?:{_EN_ADVERBS})\s+)*(?:{vocab.EN_MODAL}\s+(?:(?:{_EN_ADVERBS})\s+)*)?"
    rf"(?:{_forms(vocab.EN_DECLARING)}|{_EN_IRREGULAR})\b"
)

# The XIX RCM style: a title, a dash, then the operative text ("Consular Protection—Strengthen …").
_DASH_TITLE = re.compile(r"^[^—–]{2,200}?\s*[—–]\s*(?=\S)")
_PREAMBLE_EN = re.compile(
    r"^(?:recogni[sz]ing|considering|reaffirming|bearing\s+in\s+mind"
    r"|taking\s+(?:into\s+(?:account|consideration)|note)|noting|aware|convinced|concerned|whereas"
    r"|acknowledging|having|guided|mindful|emphasi[sz]ing|welcoming|recalling|reiterating"
    r"|stressing|underlining|underscoring|highlighting|expressing|affirming|determined|committed"
    r"|deeply|alarmed|encouraged|inspired|desiring|seeking|observing|appreciating|cogni[sz]ant"
    r"|conscious|deploring|(?:further|also)\s+\w+ing|in\s+(?:the\s+)?(?:view|light)\s+of"
    r"|given\s+(?:that|the))\b",
    re.I,
)
_PREAMBLE_ES = re.compile(
    r"^(?:considerando|reconociendo|reafirmando|reiterando|teniendo\s+(?:presente|en\s+cuenta)"
    r"|tomando\s+(?:en\s+(?:cuenta|consideración)|nota)|conscientes|convencid[oa]s"
    r"|preocupad[oa]s|destacando|acogiendo|subrayando|recordando|observando|resaltando"
    r"|enfatizando|satisfech[oa]s|comprometid[oa]s|decidid[oa]s|alarmad[oa]s|animad[oa]s"
    r"|guiad[oa]s|inspirad[oa]s|deseos[oa]s|persuadid[oa]s|vistos?|habida\s+cuenta"
    r"|en\s+vista\s+de)\b",
    re.I,
)
_GERUND_ES = re.compile(r"^(?!cuando\b)\w+(?:ando|iendo|yendo)\b", re.I)
_OWN_SUBJECT = re.compile(
    rf"^(?:{_EN_SUBJECT}|{_ES_SUBJECT})(?=[\s,])|^(?:nos\s+)?\w+(?:amos|emos|imos)\b", re.I
)
# The verb of a chapeau ("HEREBY DECLARE:", "We agree to:", "ACUERDAN:"); a colon alone is not
# enough, or an agenda's "The programme is as follows:" would pass for a declaration.
_CHAPEAU_VERB = re.compile(
    r"\b(?:hereby|declare[sd]?|agree[sd]?|resolve[sd]?|decide[sd]?|commit(?:s|ted)?|undertake[sn]?"
    r"|approve[sd]?|adopt(?:s|ed)?"
    r"|conclude[sd]?|recommend(?:s|ed)?|instruct(?:s|ed)?|urge[sd]?|reaffirm(?:s|ed)?"
    r"|recogni[sz]e[sd]?|declar(?:a|an|amos|aron)|acuerd(?:a|an)|acord(?:amos|aron|ar)"
    r"|resuelv(?:e|en)|resolv(?:emos|ieron)|decid(?:e|en|imos|ieron)|comprometen|comprometemos"
    r"|recomiend(?:a|an)|recomend(?:amos|aron)|instruy(?:e|en|eron)|instruimos"
    r"|inst(?:a|an|amos|aron)|reafirm(?:a|an|amos|aron)|reconoc(?:e|en|emos|ieron))\b",
    re.I,
)
_THANKS_EN = re.compile(
    rf"^(?:(?:{_EN_SUBJECT})(?:\s*,)?\s+(?:(?:also|further|once\s+again|again)\s+)*)?"
    r"(?:thank(?:s|ed)?|(?:express|extend|convey|reiterate)(?:s|d|ed|es)?\s+(?:their|our|its)\s+"
    r"(?:\w+\s+){0,2}(?:gratitude|thanks|appreciation))\b",
    re.I,
)
_THANKS_ES = re.compile(
    rf"^(?:(?:{_ES_SUBJECT})(?:\s*,)?\s+(?:(?:también|además|asimismo)\s+)*)?"
    r"(?:agradec\w*|(?:expres|manifest|reiter)\w*\s+(?:su|nuestro|nuestra)\s+(?:\w+\s+){0,2}"
    r"(?:agradecimiento|gratitud))\b",
    re.I,
)
_HOST = re.compile(
    r"\b(?:government|people|host|hospitality|presidency\s+pro\s+tempore|authorities|gobierno"
    r"|pueblo|hospitalidad|anfitri\w+|presidencia\s+pro\s+tempore|autoridades)\b",
    re.I,
)
_ADOPTED = re.compile(
    r"^(?:adopted|signed|done|approved|issued|given)\s+(?:in|at|on)\b"
    r"|^(?:dad[oa]|firmad[oa]|suscrit[oa]|aprobad[oa]|adoptad[oa]|hech[oa]|emitid[oa])\s+en\b",
    re.I,
)
_SIGNATURE = re.compile(
    r"^\(?(?:signed|firmado|sgd|fdo)\b|^(?:for|on\s+behalf\s+of|por)\s+(?:the\s+(?:government"
    r"|republic)|el\s+gobierno|la\s+república)\b",
    re.I,
)
_SALUTATION = re.compile(
    r"^(?:dear|estimad[oa]s?|distinguid[oa]s?|excelentísim[oa]s?|to\s+whom\s+it\s+may\s+concern)"
    r"\b.*[,:]$",
    re.I,
)
_END_PUNCT = re.compile(r"[.;!?,…][\"'”’»)\]]*$")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’»)\]]*$")
_ENDS_CLAUSE = re.compile(r"[.;:!?…][\"'”’»)\]]*$")
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
# Words a broken title line cannot end with: "… CONFERENCE ON" / "MIGRATION".
_DANGLING = frozenset(
    "of the on and for in to a an at with de del la el los las sobre y e en para por con al".split()
)
_WORD = re.compile(r"[^\W\d_]+")
_EN_STOP = frozenset(
    "the of and to in for on with that is are by as their its this be we they which from at our "
    "will have has".split()
)
_ES_STOP = frozenset(
    "de la el los las y en del que por con para una un se su sus al lo como más nuestro nuestra "
    "sobre entre es son".split()
)


def _opening(text: str) -> str:
    # Openers are read past an opening quote or bracket: "“We recognize …”".
    return text.lstrip("\"'“‘«([")


def _operative(text: str, lang: str) -> bool:
    t, f = _operative_text(text)
    end = _operative_end(t, f, lang)
    return end is not None and not _reports_first(f, end)


def _operative_text(text: str) -> tuple[str, str]:
    """The text read for an opener (past a quote and a dash title) and its folded form, which
    has the same length."""
    t = _opening(text)
    if dash_heading(t):
        t = _DASH_TITLE.sub("", t, count=1)
    return t, fold(t)


def _operative_end(t: str, f: str, lang: str) -> int | None:
    """Where the earliest operative opener found ends, or None when the paragraph has none."""
    found = [
        m.end()
        for m in (
            _OPERATIVE_EN.match(t),
            _OPERATIVE_ES.match(t),
            _SUBJECT_VERB_EN.match(f),
            _SUBJECT_VERB_ES.match(f),
            _OPENING_ES.match(f),
            _OPERATIVE_ES_FORMS.match(t) if lang == "es" else None,
        )
        if m is not None
    ]
    if not found:
        # A short phrase setting the scene before the subject: "Faced with this situation, the
        # RCM reaffirms …", "En este contexto, la CRM reitera …".
        lead = _LEAD_IN.match(f)
        if lead is not None and not _PREAMBLE_EN.match(t) and not _PREAMBLE_ES.match(t):
            at = lead.end()
            found = [
                at + m.end()
                for m in (_SUBJECT_VERB_EN.match(f[at:]), _SUBJECT_VERB_ES.match(f[at:]))
                if m is not None
            ]
        # Spanish leaves the subject out: "Por otra parte, reconocieron la necesidad …"
        lead = _LEAD_IN_ES.match(f) if lang == "es" else None
        if not found and lead is not None and not _PREAMBLE_ES.match(t):
            verb = _OPENING_ES.match(f[lead.end() :])
            found = [lead.end() + verb.end()] if verb is not None else []
    return min(found, default=None)


# A short phrase before a Spanish verb with no subject ("por otra parte, reconocieron …").
_LEAD_IN_ES = re.compile(r"^[^,;:.\"“]{3,40},\s+(?=[a-zñ])")
# A scene-setting phrase before a subject (folded text): a few words, a comma, then "the", "we",
# "la", "los" …
_LEAD_IN = re.compile(
    r"^(?!(?:la|el|los|las|the|we|they)\b)[^,;:.\"“]{3,60},\s+"
    r"(?=(?:the|we|they|la|el|los|las|nosotr[oa]s)\b)"
)


def _reports_first(f: str, operative_end: int | None) -> bool:
    """Whether a folded paragraph reports on the meeting itself ("La reunión se celebró …",
    "Delegations from … attended", "The meeting was chaired by …") before any operative verb:
    such a report is context, never a statement. An operative verb after the report's clause
    ("The Vice-Ministers, who attended …, agreed …", "… participated in … and agreed …") makes
    the paragraph a statement after all."""
    verb = vocab.meeting_report(f)
    if verb is None or (operative_end is not None and operative_end <= verb):
        return False
    sentence = _SENTENCE_END.split(f[verb:], maxsplit=1)[0]
    return not _THEN_DECLARES.search(sentence)


def _meeting_report(text: str, lang: str) -> bool:
    """A paragraph that reports on the meeting (its venue, dates, participants, chair)."""
    t, f = _operative_text(text)
    return _reports_first(f, _operative_end(t, f, lang))


# A sentence that only points to decisions set out elsewhere ("To achieve these objectives, the
# Vice-Ministers adopted the decisions contained in the annex", "… tomaron las decisiones contenidas
# en el documento anexo"): the decisions are the statements, the pointer is context.
_TO_ANNEX = re.compile(
    r"\b(?:adopted|took|approved|made|tomaron|adoptaron|aprobaron)\s+(?:the|las|los)\s+"
    r"(?:decisions|agreements|decisiones|acuerdos)\s+(?:contained|set\s+out|included|contenid[oa]s"
    r"|incluid[oa]s|que\s+figuran)\s+(?:in|en)\s+(?:the|el|la)\s+(?:\w+\s+)?"
    r"(?:annex|annexed|attached|anexo|adjunto|documento)\b"
)


def _points_to_annex(text: str) -> bool:
    sentences = [x for x in _SENTENCE_END.split(fold(text)) if x.strip()]
    return len(sentences) == 1 and bool(_TO_ANNEX.search(sentences[0]))


def _preambular(text: str, lang: str) -> bool:
    t = _opening(text)
    return bool(
        _PREAMBLE_EN.match(t) or _PREAMBLE_ES.match(t) or (lang == "es" and _GERUND_ES.match(t))
    )


def _heading_like(text: str) -> bool:
    return 0 < len(text.split()) <= HEADING_MAX_WORDS and not _END_PUNCT.search(text)


_CHAPEAU_ES = re.compile(rf"\b(?:{_ES_FORMS})\b")
_SENTENCE_END = re.compile(r"[.;!?](?:\s|$)")
# A declaring verb right after a comma or "and" ("…, agreed to …", "… y acordaron …"). Spanish
# forms in -o are left out: "y apoyo de la OIM" is a noun.
_ES_LATER_FORMS = "|".join(f for f in _ES_FORMS.split("|") if not f.endswith("o"))
_THEN_DECLARES = re.compile(
    rf"(?:,|\b(?:and|y|e)\b)\s+(?:(?:{_EN_ADVERBS}|{_ES_ADVERBS_F})\s+)*"
    rf"(?:{_forms(vocab.EN_DECLARING)}|{vocab.EN_MODAL}|{_ES_LATER_FORMS})\b"
)


def _is_chapeau(p: _Para) -> bool:
    """A paragraph ending with ":" that declares ("The Vice-Ministers agreed to:", "ACUERDAN:"),
    or a short heading in capitals that does, colon or not ("APROBARON PUNTOS SUSTANTIVOS")."""
    capitals = p.text.isupper() and len(p.text.split()) <= 6
    return (
        p.mark is None
        and (p.text.endswith(":") or capitals)
        and bool(
            _CHAPEAU_VERB.search(p.text)
            or _CHAPEAU_ES.search(fold(p.text))
            or (p.text.endswith(":") and _chapeau_en().search(fold(p.text)))
        )
    )


@cache
def _chapeau_en() -> re.Pattern[str]:
    """A declaring verb in the past after a subject, anywhere in a paragraph that ends with ":"
    ("The Vice-Ministers … underscored …, and pointed to the need to move forward through the
    following guidelines and actions:")."""
    return re.compile(
        rf"\b(?:{_EN_SUBJECT}|they|we)\s+(?:[a-z]+ed\s+[^.;:]{{0,200}}?\s+and\s+)?"
        rf"(?:{_forms(vocab.EN_DECLARING)}|[a-z]{{3,}}ed)\b"
    )


def _structural_chapeau(text: str) -> bool:
    """ "HEREBY DECLARE:", "ACUERDAN:" divide the document: all that follows hangs from them. A
    sentence chapeau ("The Vice-Ministers agreed to:") leads only the items completing it."""
    words = text.removesuffix(":").split()
    return len(words) <= 2 or (bool(words) and words[-1].isupper())


def _thanks_to_host(text: str) -> bool:
    t = _opening(text)
    thanks = _THANKS_EN.match(t) or _THANKS_ES.match(t) or _thanks(text)
    return bool(thanks and _HOST.search(text))


# Thanks from any subject, in any tense, to anyone ("Agradecieron a la OIM …", "The RCM thanks
# …", "We express our deep gratitude …"): closing lines when no statement follows them.
# Any subject, or none, before the verb of thanks or of a courtesy (folded text).
_ANY_SUBJECT_F = (
    rf"^{_FOLDED_CONNECTIVE}(?:(?:we|they|the\s[^,;:.]{{0,140}}?|(?:la|las|los|el|nosotr[oa]s)\b"
    r"[^,;:.]{0,140}?)\s+)?"
)
_THANKS_ANY = re.compile(
    _ANY_SUBJECT_F + r"(?:(?:also|further|once\s+again|again|tambien|ademas|asimismo"
    r"|nuevamente|desean|deseamos|wish\s+to|would\s+like\s+to)\s+)*(?:thank(?:s|ed)?\b|agradec\w*"
    r"|(?:express|extend|convey|reiterate|expres|manifest|reiter|dej)\w*\s+(?:constancia\s+de\s+)?"
    r"(?:their|our|its|su|sus|nuestro|nuestra|nuestros)\s+(?:\w+\s+){0,3}"
    r"(?:gratitude|thanks|agradecimiento|gratitud)\b)"
)


def _thanks(text: str) -> bool:
    return bool(_THANKS_ANY.match(fold(_opening(text))))


def _thanks_or_courtesy(text: str) -> bool:
    opening = fold(_opening(text))
    return bool(_THANKS_ANY.match(opening) or _COURTESY.match(opening))


def _mid_thanks(unit: _Unit) -> bool:
    """Thanks or another courtesy in the body (solidarity, condolences): an unnumbered paragraph,
    or an item of thanks to the host."""
    if unit.chapeau or unit.items:
        return False
    text = unit.para.text
    if unit.para.mark is None:
        return _thanks_or_courtesy(text)
    return _thanks_to_host(text)


# Solidarity and condolences ("The Vice-Ministers expressed their solidarity with the people …",
# "Los Viceministros expresaron sus condolencias …"): courtesies, not statements.
_COURTESY = re.compile(
    _ANY_SUBJECT_F + r"(?:(?:also|further|once\s+again|tambien|ademas|asimismo)\s+)*"
    r"(?:express|extend|convey|reiterat|expres|manifest|reiter|transmit)\w*\s+"
    r"(?:their|our|its|su|sus|nuestro|nuestra|nuestros|nuestras)\s+(?:\w+\s+){0,2}"
    r"(?:solidarity|condolences|sympathy|solidaridad|condolencias|pesame)\b"
)


# --- reading -------------------------------------------------------------------------------------


def _read(paras: list[_Para], raw: bytes, name: str) -> DeclarationText:
    if not paras:
        raise _error(
            name,
            "no text found (the document is empty or blank; images are ignored): there is no "
            "declaration to read",
        )
    lang = _language(paras)
    _reject_letter(paras, name)
    _reject_news(paras, name)
    title, rest = _take_title(paras, lang)
    titles = paras[: len(paras) - len(rest)]
    rest = _split_voices(rest, lang)
    _reject_other_body(title, rest, paras, name)
    units = _group(rest)
    preamble, operative = _split_preamble(units, lang)
    body, closing = _split_closing(operative, lang)
    # A report on the meeting among the operative paragraphs ("The meeting was chaired by …") is
    # context, as in the preamble: never a statement.
    reports = [
        u
        for u in body
        if not (u.chapeau or u.items)
        and (_meeting_report(u.para.text, lang) or _points_to_annex(u.para.text))
    ]
    if reports:
        preamble = sorted([*preamble, *reports], key=lambda u: u.para.line)
        body = [u for u in body if all(u is not r for r in reports)]
    # Thanks among the operative paragraphs ("Agradecieron al Gobierno de México …" before the
    # annexed decisions) are closing lines where they stand: the compilation has no thanks.
    # Courtesies before the first statement (solidarity with a member country's people) are part
    # of the preamble.
    thanks = [u for u in body if _mid_thanks(u)]
    if thanks:
        kept = [u for u in body if all(u is not t for t in thanks)]
        first = kept[0].para.line if kept else None
        early = [u for u in thanks if first is not None and u.para.line < first]
        preamble = [*preamble, *early]
        closing = sorted(
            [*closing, *(u for u in thanks if all(u is not e for e in early))],
            key=lambda u: u.para.line,
        )
        body = kept
    roles: list[ReadLine] = []
    statements = _statements(body, lang, roles)
    _reject_template(paras, statements, name)
    _check_is_declaration(operative, statements, name, lang)
    reading = [
        *(ReadLine(p.line, "title", p.text, p.marker) for p in titles),
        *(_preamble_line(i, u, lang) for i, u in enumerate(preamble)),
        *roles,
        *(ReadLine(u.para.line, "closing", u.full_text, u.para.marker) for u in closing),
    ]
    # In the order of the file, also within one line whose breaks were lost ("… anexo.
    # Agradecieron … DECISIONES …" read as three paragraphs of line 1).
    order: dict[tuple[int, str], int] = {}
    for i, p in enumerate([*titles, *rest]):
        order.setdefault((p.line, p.text), i)
    reading.sort(key=lambda r: (r.line, order.get((r.line, r.text), len(order))))
    return DeclarationText(
        name=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        lang=lang,
        title=" — ".join(title),
        preamble=tuple(u.full_text for u in preamble),
        statements=tuple(statements),
        closing=tuple(line for u in closing for line in _closing_lines(u.para)),
        reading=tuple(reading),
    )


def _preamble_line(index: int, unit: _Unit, lang: str) -> ReadLine:
    # The first paragraph introduces the meeting; later ones open "Considering …" or the like, or
    # report on the meeting ("La reunión se celebró …"). A paragraph that does none of these is
    # kept with the preamble but shown as unrecognised.
    text = unit.full_text
    known = (
        index == 0
        or _preambular(text, lang)
        or _heading_like(text)
        or _meeting_report(text, lang)
        or _mid_thanks(unit)
        or _points_to_annex(text)
    )
    return ReadLine(unit.para.line, "preamble" if known else "unrecognised", text, unit.para.marker)


def _reject_news(paras: Sequence[_Para], name: str) -> None:
    text = "\n".join(line for p in paras for line in p.lines)
    marks = vocab.NEWS_MARKS.findall(text)
    reported = vocab.REPORTED_SPEECH.findall(text)
    if len(reported) >= 3 or (marks and reported):
        shown = (marks or reported)[0]
        raise _error(
            name,
            "this reads as a news article (“%(shown)s”, reported speech), not a declaration: "
            "expected the declaration's own text — title, preamble, a chapeau such as “HEREBY "
            "DECLARE:” or “ACUERDAN:” and its operative paragraphs",
            shown=collapse(shown),
        )


def _reject_other_body(
    title: Sequence[str], rest: Sequence[_Para], paras: Sequence[_Para], name: str
) -> None:
    """A declaration of another body (the South American Conference, the OAS, …): its title or
    opening names that body and the RCM is named nowhere near it."""
    head = " ".join([*title, *(p.text for p in rest[:1])])
    whole = " ".join(p.text for p in paras)
    other = vocab.OTHER_BODIES.search(head)
    if other is None and not vocab.RCM_NAMES.search(whole):
        other = vocab.OTHER_BODIES.search(" ".join(p.text for p in paras[:4]))
    if other is not None and not vocab.RCM_NAMES.search(head):
        raise _error(
            name,
            "this is a declaration of another body (“%(body)s”), not of the Regional Conference "
            "on Migration: expected an RCM (CRM) declaration — add the other body's texts "
            "elsewhere",
            body=other.group(0),
        )


def _reject_template(
    paras: Sequence[_Para], statements: Sequence[DraftStatement], name: str
) -> None:
    blanks = [s for s in statements if vocab.PLACEHOLDER.search(s.text)]
    words = [w for s in statements for w in _WORD.findall(vocab.PLACEHOLDER.sub(" ", s.text))]
    empty = not statements and any(vocab.PLACEHOLDER.search(p.text) for p in paras)
    if empty or (statements and (2 * len(blanks) >= len(statements) or len(words) < 3)):
        shown = vocab.PLACEHOLDER.search(" ".join(p.text for p in paras))
        if shown is None:
            raise _error(
                name,
                "this is an empty template (blanks to fill), not a declaration: expected a "
                "declaration with its operative paragraphs written out",
            )
        raise _error(
            name,
            "this is an empty template (blanks to fill such as “%(shown)s”), not a declaration: "
            "expected a declaration with its operative paragraphs written out",
            shown=shown.group(0),
        )


def _language(paras: Sequence[_Para]) -> str:
    words = [w for p in paras for w in _WORD.findall(p.text.lower())]
    spanish = sum(w in _ES_STOP for w in words)
    english = sum(w in _EN_STOP for w in words)
    return "es" if spanish > english else "en"


def _reject_letter(paras: Sequence[_Para], name: str) -> None:
    for p in paras[:6]:
        if len(p.text.split()) <= HEADING_MAX_WORDS and _SALUTATION.match(p.text):
            raise _error(
                name,
                "this looks like a letter (“%(text)s”), not a declaration: expected the text of a "
                "declaration — title, preamble, a chapeau such as “HEREBY DECLARE:” and its "
                "operative paragraphs",
                p.line,
                text=p.text,
            )


# A paragraph in the first person ("We agree to … We are certain that …") in which a sentence
# turns to the Member Countries or the Vice-Ministers by name ("The Member Countries see with
# concern … and agree to …") holds two statements: the compilation files them apart (XXI RCM).
_FIRST_PERSON = re.compile(
    rf"^{_CONNECTIVE}(?:we|nosotr[oa]s)\b|^{_CONNECTIVE}(?:nos\s+)?\w+(?:amos|emos|imos)\b", re.I
)
_NAMED_SUBJECT = re.compile(r"^(?:the|la|las|los|el)\s", re.I)
_SENTENCE_END_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"“«]?[A-ZÁÉÍÓÚÑ])")


def _split_voices(paras: list[_Para], lang: str) -> list[_Para]:
    out: list[_Para] = []
    for p in paras:
        if p.mark is not None or p.text.endswith(":") or not _FIRST_PERSON.match(_opening(p.text)):
            out.append(p)
            continue
        cut = next(
            (
                m.end()
                for m in _SENTENCE_END_BREAK.finditer(p.text)
                if _NAMED_SUBJECT.match(_opening(p.text[m.end() : m.end() + _WINDOW]))
                and _operative(p.text[m.end() : m.end() + _WINDOW], lang)
            ),
            None,
        )
        if cut is None:
            out.append(p)
            continue
        head, tail = p.text[:cut].rstrip(), p.text[cut:]
        # the physical line the second statement opens on
        seen, line = 0, p.line
        for k, physical in enumerate(p.lines):
            seen += len(physical) + 1
            if seen > cut:
                line = p.line + k
                break
        out.append(_Para(p.line, (head,), head, None, p.indent, p.marker))
        out.extend(_split_voices([_Para(line, (tail,), tail, None, p.indent, "")], lang))
    return out


def _take_title(paras: list[_Para], lang: str) -> tuple[list[str], list[_Para]]:
    """The leading short lines, up to the first paragraph that is a sentence, a chapeau, a list
    item, or the heading of a list."""
    end = 0
    while end < len(paras):
        following = paras[end + 1] if end + 1 < len(paras) else None
        if not _is_title(paras[end], following, lang):
            break
        end += 1
    lines = [line for p in paras[:end] for line in _logical_lines(p.lines)]
    return lines, paras[end:]


def _is_title(p: _Para, following: _Para | None, lang: str) -> bool:
    if p.mark is not None or p.text.endswith(":"):
        return False
    if following is not None and following.mark not in (None, _Mark.NUMBER):
        return False  # a short line over bullets is a list's heading
    if any(len(line.split()) > TITLE_LINE_MAX_WORDS for line in p.lines) and not _headline(
        p, following
    ):
        return False
    words = len(p.text.split())
    opener = _operative(p.text, lang) or _preambular(p.text, lang) or _meeting_report(p.text, lang)
    return not (_END_PUNCT.search(p.text) and (words >= 8 or opener))


def _headline(p: _Para, following: _Para | None) -> bool:
    """A long title printed as a headline ("The Regional Conference on Migration (RCM) calls for
    shared regional responsibility …"): one line with no final stop, at most HEADLINE_MAX_WORDS
    words, over a paragraph that is a sentence."""
    return (
        len(p.lines) == 1
        and len(p.text.split()) <= HEADLINE_MAX_WORDS
        and not _END_PUNCT.search(p.text)
        and following is not None
        and following.mark is None
        and bool(_ENDS_SENTENCE.search(following.text))
    )


def _logical_lines(lines: Sequence[str]) -> list[str]:
    """Short lines as printed, rejoined where one was broken ("… CONFERENCE ON" / "MIGRATION")."""
    out: list[str] = []
    for line in lines:
        if out and (
            out[-1].split()[-1].lower() in _DANGLING or out[-1].endswith(",") or line[:1].islower()
        ):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _group(paras: Sequence[_Para]) -> list[_Unit]:
    """Attach sub-items to the paragraph they belong to: lettered items to their numbered
    paragraph, bullets to a list's heading or to a paragraph ending with ":"."""
    units: list[_Unit] = []
    parent: _Unit | None = None
    for p in paras:
        if parent is not None and _is_sub_item(parent.para, p, parent.items):
            parent.items.append(p)
            continue
        unit = _Unit(p, chapeau=_is_chapeau(p))
        units.append(unit)
        parent = None if unit.chapeau else unit
    return units


def _is_sub_item(parent: _Para, q: _Para, items: Sequence[_Para] = ()) -> bool:
    if q.mark is None:
        return False
    if items and q.indent < items[-1].indent and q.indent <= parent.indent:
        return False  # back out of the list's indentation: the list has ended
    if q.indent >= parent.indent + 2 or (q.indent > parent.indent and q.mark is not _Mark.NUMBER):
        if parent.mark is None and q.mark is _Mark.NUMBER and not parent.text.endswith(":"):
            return False  # numbered paragraphs under a section heading ("SUBSTANTIVE MATTERS")
        return parent.mark is not None or _opens_list(parent)
    if parent.mark is None:
        return _opens_list(parent) and q.mark is not _Mark.NUMBER
    if q.mark is _Mark.BULLET:
        return parent.mark is not _Mark.BULLET and _opens_list(parent)
    if parent.mark is _Mark.BULLET:
        return False
    return _RANK[q.mark] > _RANK[parent.mark]


def _opens_list(p: _Para) -> bool:
    return p.text.endswith(":") or _heading_like(p.text)


def _split_preamble(units: list[_Unit], lang: str) -> tuple[list[_Unit], list[_Unit]]:
    """The preamble runs to the chapeau, or to the first operative paragraph where there is none."""
    for i, unit in enumerate(units):
        if _starts_operative(unit, lang):
            return units[:i], units[i:]
    return units, []


def _starts_operative(unit: _Unit, lang: str) -> bool:
    if unit.chapeau:
        return True
    text = unit.para.text
    if _preambular(text, lang):
        return False
    return _operative(text, lang) or unit.para.mark is not None or bool(unit.items)


def _split_closing(units: list[_Unit], lang: str) -> tuple[list[_Unit], list[_Unit]]:
    """Closing lines: from "Adopted in …" to the end, and, walking back from there, the thanks
    to the host, signatures and place/date lines that no statement follows."""
    end = len(units)
    for i, unit in enumerate(units):
        if i > 0 and not unit.items and unit.para.mark is None and _ADOPTED.match(unit.para.text):
            end = i
            break
    while end > 1 and _closing_candidate(units[end - 1], lang):
        end -= 1
    return units[:end], units[end:]


def _closing_candidate(unit: _Unit, lang: str) -> bool:
    if unit.chapeau or unit.items:
        return False
    p = unit.para
    if _thanks_to_host(p.text) or _thanks(p.text):
        return True
    if p.mark is not None:
        return False
    if _meeting_report(p.text, lang):
        return True  # "The meeting was held in …" after the last statement
    if _ADOPTED.match(p.text) or _SIGNATURE.match(p.text):
        return True
    short = all(len(line.split()) <= HEADING_MAX_WORDS for line in p.lines)
    return (
        short
        and not _operative(p.text, lang)
        and (not _END_PUNCT.search(p.text) or bool(_YEAR.search(p.text)))
    )


def _closing_lines(p: _Para) -> list[str]:
    # A thanks or "Adopted in" sentence is one line however it wraps; the short lines typed
    # under it without a blank line (a signature block) stay lines.
    if _thanks_to_host(p.text) or _thanks(p.text) or _ADOPTED.match(p.text):
        for i, line in enumerate(p.lines):
            if _ENDS_SENTENCE.search(line):
                head = collapse(" ".join(p.lines[: i + 1]))
                return [head, *_logical_lines(p.lines[i + 1 :])]
        return [p.text]
    return _logical_lines(p.lines)


def _statements(
    units: list[_Unit], lang: str, roles: list[ReadLine] | None = None
) -> list[DraftStatement]:
    """Statements in order, each with the chapeau it hangs from; ``roles`` collects how each
    paragraph was read."""
    statements: list[DraftStatement] = []
    structural: str | None = None
    sentence: str | None = None
    seen: list[ReadLine] = []
    for unit in units:
        p = unit.para
        if unit.chapeau:
            if _structural_chapeau(p.text):
                structural, sentence = p.text, None
            else:
                sentence = p.text
            seen.append(ReadLine(p.line, "chapeau", p.text, p.marker))
            continue
        if (
            p.mark is None
            and not unit.items
            and _heading_like(p.text)
            and not _operative(p.text, lang)
        ):
            sentence = None  # a section heading: not a statement, and it ends a chapeau's reach
            seen.append(ReadLine(p.line, "heading", p.text, p.marker))
            continue
        if sentence and p.mark is None and _OWN_SUBJECT.match(_opening(p.text)):
            sentence = None  # "They also recognized …" is a sentence of its own, not an item
        lead = sentence or structural
        statement = _statement(unit, len(statements) + 1, lead, lang)
        statements.append(statement)
        known = p.mark is not None or lead is not None or unit.items or _operative(p.text, lang)
        part = "statement" if known else "unrecognised"
        seen.append(ReadLine(p.line, part, p.text, p.marker, statement.position))
        seen += [ReadLine(i.line, "item", i.text, i.marker, statement.position) for i in unit.items]
    if roles is not None:
        roles += seen
    return statements


def _statement(unit: _Unit, position: int, lead: str | None, lang: str) -> DraftStatement:
    p = unit.para
    items = tuple(i.text for i in unit.items if i.text)
    title = p.text.removesuffix(":").rstrip()
    heading: str | None
    if not items:
        heading, text = dash_heading(p.text), p.text
    elif title and _heading_like(p.text) and not (p.text.endswith(":") and _operative(title, lang)):
        heading, text = title, f"{title}: {' '.join(items)}"
    else:
        heading, text = None, f"{p.text} {' '.join(items)}"
    return DraftStatement(
        position=position,
        text=text,
        heading=heading,
        items=items,
        lead=lead,
        line=p.line,
        lang=lang,
    )


def _check_is_declaration(
    operative: list[_Unit], statements: list[DraftStatement], name: str, lang: str
) -> None:
    evidence = any(
        u.chapeau or _operative(u.para.text, lang) or any(_operative(i.text, lang) for i in u.items)
        for u in operative
    )
    if not evidence or not statements:
        raise _error(
            name,
            "no operative paragraph found, so this does not look like a declaration: expected a "
            "chapeau ending with “:” (“HEREBY DECLARE:”, “ACUERDAN:”) or operative paragraphs "
            "opening like “We agree …”, “The Vice-Ministers agreed …”, “Promote …”, "
            "“Acordamos …”, “Promover …”",
        )
    if len(statements) > MAX_STATEMENTS:
        raise _error(
            name,
            "%(n)s statements found, more than the %(max)s a declaration can have (RCM "
            "declarations have a few dozen): this is probably not a declaration — check that this "
            "is the right file",
            n=len(statements),
            max=MAX_STATEMENTS,
        )
