"""Small text steps used by the compilation reader: markup removal, the cross-reference note,
list items, headings, and the normal form used to recognise copies of one statement."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_LIST_HEADING = re.compile(r"^\s*<p>\s*(?P<heading>[^<>]{1,80}?)\s*</p>\s*<ul\b[^>]*>", re.I)
_LEADING_BULLETS = re.compile(r"^(?:[•·▪◦]\s*|-\s+)+")
# The note is the last thing in a statement's cell: "*Statement also relevant for TS3 y TS5*".
_NOTE = re.compile(r"\*(?P<body>[^*]*)\*\s*$")
_THEME_REF = re.compile(r"\b(?:TS|ST)\s*(?P<n>\d{1,2})\b", re.I)
_ALL_OTHERS = re.compile(r"\ball\s+(?:the\s+)?other\s+(?:TS|ST)s?\b", re.I)
_ITEM_MARKER = re.compile(r"(?:^|(?<=\s))[•·▪◦-]\s+")
# Where a list lost its bullets, items are operative infinitives: "...risks; To incorporate ...".
_INFINITIVE_BOUNDARY = re.compile(r"(?<=[;.])\s+(?=To\s)")
# XIX RCM paragraphs open with a title and a dash: "International protection—Recognize that ...".
_DASH_HEADING = re.compile(r"^(?P<heading>[A-Z][^—–.;:,]{2,200}?)\s*[—–]\s*(?P<rest>\S.*)$")


def strip_markup(cell: str) -> str:
    """HTML fragments of the export removed, entities decoded, whitespace collapsed."""
    return collapse(html.unescape(_TAG.sub(" ", cell)))


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def list_heading(cell: str) -> str | None:
    """The title of a list statement ("<p>Integration</p> <ul …> - To promote …")."""
    m = _LIST_HEADING.match(cell)
    return collapse(html.unescape(m.group("heading"))) if m else None


def strip_bullets(text: str) -> str:
    return _LEADING_BULLETS.sub("", text).strip()


@dataclass(frozen=True)
class Note:
    printed: str
    themes: tuple[int, ...]
    all_others: bool

    @property
    def recognised(self) -> bool:
        return self.all_others or bool(self.themes)


def split_note(text: str) -> tuple[str, Note | None]:
    """Split a statement's text from its trailing cross-reference note, in any of the spellings
    the compilation uses ("TS3 y TS5", "TS 1 and TS5", "ST3", "*TS3*", "all the other TSs")."""
    m = _NOTE.search(text)
    if not m:
        return text, None
    body = m.group("body")
    themes = tuple(sorted({int(r.group("n")) for r in _THEME_REF.finditer(body)}))
    note = Note(
        printed=collapse(m.group(0)), themes=themes, all_others=bool(_ALL_OTHERS.search(body))
    )
    return text[: m.start()].rstrip(), note


def split_items(body: str) -> tuple[str, ...]:
    """Items of a list statement: split at bullets ("•", "- "), then, where bullets were lost, at
    a ";" or "." followed by an infinitive "To …"."""
    items: list[str] = []
    for chunk in _ITEM_MARKER.split(body):
        for piece in _INFINITIVE_BOUNDARY.split(chunk):
            piece = collapse(piece)
            if piece:
                items.append(piece)
    return tuple(items)


def dash_heading(text: str) -> str | None:
    m = _DASH_HEADING.match(text)
    if not m or len(m.group("heading").split()) > 25:
        return None
    return m.group("heading").strip()


def normal_form(text: str) -> str:
    """What two copies of one statement share whatever their spacing, hyphenation, bullets,
    quotes or ellipses: lower-case letters and digits only, accents removed."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum())
