"""The one vocabulary of the project: plain dataclasses shared by every layer.

Parsers return these objects, the store saves and loads them, and the CLI, exports and checks read
them. Nothing here knows about files or databases.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum


class Category(StrEnum):
    """The compilation's three kinds of statement (colour-coded in the original document)."""

    PRINCIPLE = "principle"
    UNDERSTANDING = "understanding"
    COMMITMENT = "commitment"


class CategorySource(StrEnum):
    CURATED = "curated"
    SUGGESTED = "suggested"


class MeetingKind(StrEnum):
    REGULAR = "regular"
    EXTRAORDINARY = "extraordinary"


@dataclass(frozen=True)
class Meeting:
    """A Vice-Ministerial meeting. ``code`` is the key: "XIX" for XIX RCM; "XIX-E1" for the first
    extraordinary meeting held in the XIX cycle."""

    code: str
    number: int
    label: str
    year: int | None
    kind: MeetingKind = MeetingKind.REGULAR
    place: str | None = None
    date: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain values: the store's row and the JSON export's object."""
        return {**asdict(self), "kind": self.kind.value}


@dataclass(frozen=True)
class Subtheme:
    theme: int
    order: int
    title: str
    page: int | None = None


@dataclass(frozen=True)
class Theme:
    """A UN thematic session. ``title`` is the short title the compilation uses as its heading
    ("Human rights of all migrants"); ``un_title`` is the full title from the modalities document as
    the compilation quotes it; ``consultation`` is when it was held ("April/May 2017")."""

    number: int
    title: str
    un_title: str = ""
    consultation: str = ""
    subthemes: tuple[Subtheme, ...] = ()

    @property
    def code(self) -> str:
        return f"TS{self.number}"

    @property
    def roman(self) -> str:
        return to_roman(self.number)


@dataclass(frozen=True)
class CategoryInfo:
    category: Category
    label: str
    definition: str


@dataclass(frozen=True)
class Country:
    iso3: str
    iso2: str
    name_en: str
    name_es: str
    member: bool = True


@dataclass(frozen=True)
class GcmObjective:
    number: int
    title: str


@dataclass(frozen=True)
class GcmPrinciple:
    letter: str
    name: str


@dataclass(frozen=True)
class Statement:
    """One statement, stored once however many sections it is filed under.

    ``text`` is the statement as the document prints it (markup and bullet glyphs removed, spacing
    normalised). For a list statement, ``heading`` is the list's title ("Integration") and ``items``
    are its entries; ``text`` then reads "Integration: item item …". ``heading`` is also set for the
    XIX RCM paragraphs that open with a title and a dash ("International protection—Recognize …").
    """

    id: str
    meeting: str
    text: str
    heading: str | None = None
    items: tuple[str, ...] = ()
    lang: str = "en"  # the language of ``text``
    text_es: str | None = None  # the Spanish wording (``text`` itself for a Spanish statement)
    category: Category | None = None
    category_source: CategorySource | None = None
    category_confidence: float | None = None
    version: int = 1  # the wording's version (1 as first stored, + 1 on each rewording)
    retired_at: datetime | None = None  # when all its rows left the compilation, if they did
    # The English wording of a statement whose ``text`` is Spanish, where one was accepted.
    text_en: str | None = None


LANGUAGES = ("en", "es")  # the languages a statement's wording may be in


def wording(statement: Statement, lang: str) -> str | None:
    """The statement's wording in ``lang`` ("en" or "es") if it has one, else None."""
    if lang == statement.lang:
        return statement.text
    if lang == "es":
        return statement.text_es
    if lang == "en":
        return statement.text_en
    return None


def text_in(statement: Statement, lang: str) -> tuple[str, str]:
    """The statement's text in ``lang`` where it has one, else in its own language: (text, the
    language it is in). What pages, documents and questionnaires print for a reader of ``lang``;
    mark the text with the language returned (it may not be the one asked for)."""
    found = wording(statement, lang)
    if found:
        return found, lang
    return statement.text, statement.lang


@dataclass(frozen=True)
class Placement:
    """A statement filed under a sub-theme: its row ``position`` (1-based) in that table, the
    cross-reference note exactly as printed (``note``), the themes the note names, and the line of
    the source document where the row starts."""

    statement_id: str
    theme: int
    subtheme: int
    position: int
    note: str | None = None
    also_relevant: tuple[int, ...] = ()
    also_relevant_all: bool = False
    printed_text: str = ""
    line: int = 0


@dataclass(frozen=True)
class ObjectiveLink:
    """A statement serves a GCM objective. ``rank`` 1 is the most central; ``score`` is the
    linker's where the link was suggested (None for a person's choice)."""

    statement_id: str
    objective: int
    source: CategorySource
    rank: int = 1
    score: float | None = None


@dataclass(frozen=True)
class DraftStatement:
    """A statement read from a new declaration, before a person accepts it into the compendium.

    ``position`` is its 1-based order among the declaration's statements; ``lead`` is the chapeau it
    hangs from where there is one ("The Vice-Ministers agreed to:"); ``heading`` and ``items`` as in
    :class:`Statement`; ``line`` is where it starts in the source (paragraph number for .docx)."""

    position: int
    text: str
    heading: str | None = None
    items: tuple[str, ...] = ()
    lead: str | None = None
    line: int = 0
    lang: str = "en"


@dataclass(frozen=True)
class ReadLine:
    """One paragraph of a declaration as the reader took it, to check against the paper.

    ``part``: title, preamble, chapeau, statement, item (of the statement before it), heading (a
    section heading, not a statement), closing, or unrecognised (kept, but no opener the reader
    knows: read it). ``marker`` is the list marker as printed or as Word numbers it ("4.", "b)");
    ``statement`` the position of the statement it belongs to (0: none)."""

    line: int
    part: str
    text: str
    marker: str = ""
    statement: int = 0


@dataclass(frozen=True)
class DeclarationText:
    """A declaration as a reader splits it: title lines, the preamble (kept apart, never a
    statement), the operative statements, and closing lines (thanks, signature, place and date)."""

    name: str
    sha256: str
    size: int
    lang: str
    title: str
    preamble: tuple[str, ...]
    statements: tuple[DraftStatement, ...]
    closing: tuple[str, ...] = ()
    # Every paragraph with its line number and the part it was read as (``ReadLine``).
    reading: tuple[ReadLine, ...] = ()


@dataclass(frozen=True)
class Notice:
    """Something in the source that is not a statement and not structure, kept and reported."""

    kind: str
    line: int
    message: str
    text: str = ""


@dataclass(frozen=True)
class SourceInfo:
    name: str
    sha256: str
    size: int
    lines: int
    title: str = ""
    date: str = ""
    # A focused Word compilation's selection ("Selection: TS5 …" on its title page): it holds part
    # of the compendium, so it can be checked but not ingested. Not stored.
    selection: str = ""


@dataclass(frozen=True)
class PrintedRow:
    """A statement row of a compilation that prints each row's id (the Word compilation `rcm
    export` writes), for an ingest by id: where the row is ("table 'TS1 / …' row 3"), the id
    printed in it (None for a row added without one), the statement the reader made of it, and
    what the row says."""

    where: str
    printed_id: str | None
    statement_id: str
    meeting: str
    theme: int
    subtheme: int
    position: int
    text: str
    heading: str | None
    items: tuple[str, ...]
    category: Category | None


class DocumentKind(StrEnum):
    COMPILATION = "compilation"
    DECLARATION = "declaration"


@dataclass(frozen=True)
class SourceDocument:
    """The document a statement comes from: a compilation file (the 2017 compilation, or a later
    one read into the compendium) or a meeting's declaration. ``key`` names it in exports
    ("compilation-1", "declaration-3"); ``date`` is as the document gives it ("April 2017",
    "2020-05-12"); ``meeting`` is a declaration's meeting code; ``reference`` its document symbol
    or address, for citations."""

    key: str
    kind: DocumentKind
    title: str
    name: str
    sha256: str
    date: str | None = None
    year: int | None = None
    lang: str | None = None
    place: str | None = None
    meeting: str | None = None
    meeting_label: str | None = None
    reference: str | None = None

    @property
    def author(self) -> str:
        """Who issued it: the Technical Secretariat compiled; the Conference declared."""
        if self.kind is DocumentKind.COMPILATION:
            return "RCM Technical Secretariat"
        return "Regional Conference on Migration"

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "kind": self.kind.value, "author": self.author}


def compilation_document(source: SourceInfo, key: str = "compilation") -> SourceDocument:
    """A compilation file as a :class:`SourceDocument` (its year read from its date: "April
    2017")."""
    year = re.search(r"\b(1[89][0-9]{2}|2[0-9]{3})\b", source.date or "")
    return SourceDocument(
        key=key,
        kind=DocumentKind.COMPILATION,
        title=source.title,
        name=source.name,
        sha256=source.sha256,
        date=source.date or None,
        year=int(year.group(1)) if year else None,
    )


@dataclass(frozen=True)
class Provenance:
    """Which document each statement and each meeting comes from (by its
    :attr:`SourceDocument.key`)."""

    documents: dict[str, SourceDocument] = field(default_factory=dict)
    statements: dict[str, str] = field(default_factory=dict)
    meetings: dict[str, str] = field(default_factory=dict)

    def of_statement(self, statement_id: str) -> SourceDocument | None:
        key = self.statements.get(statement_id)
        return None if key is None else self.documents.get(key)

    def of_meeting(self, code: str) -> SourceDocument | None:
        key = self.meetings.get(code)
        return None if key is None else self.documents.get(key)


@dataclass
class Compendium:
    """Everything read from one compilation, ready to store, check or export."""

    source: SourceInfo
    themes: list[Theme]
    meetings: list[Meeting]
    statements: list[Statement]
    placements: list[Placement]
    categories: list[CategoryInfo] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    objective_links: list[ObjectiveLink] = field(default_factory=list)
    # Filled when the document prints the rows' ids (a Word compilation exported by `rcm`): its
    # ingest then matches rows to statements by id (``rcm.edit.ingest``).
    rows: list[PrintedRow] = field(default_factory=list)
    # Which document each statement comes from (the store fills it); None: all from ``source``.
    provenance: Provenance | None = None

    def document_of(self, statement_id: str) -> SourceDocument:
        """The document statement ``statement_id`` comes from (its compilation by default)."""
        found = self.provenance.of_statement(statement_id) if self.provenance else None
        return found or compilation_document(self.source)

    def documents(self) -> list[SourceDocument]:
        """The documents this compendium's statements come from: compilations first (oldest
        first), then declarations in their meetings' order."""
        used = {d.key: d for d in (self.document_of(s.id) for s in self.statements)}
        return sorted(
            used.values(),
            key=lambda d: (
                d.kind is not DocumentKind.COMPILATION,
                meeting_order(d.meeting) if d.meeting else (0, 0),
                d.year or 0,
                d.key,
            ),
        )

    def span(self) -> tuple[int, int] | None:
        """The first and last year of the meetings whose statements it holds."""
        years = {m.code: m.year for m in self.meetings}
        found = [y for y in (years.get(s.meeting) for s in self.statements) if y is not None]
        return (min(found), max(found)) if found else None

    def statement(self, statement_id: str) -> Statement:
        for s in self.statements:
            if s.id == statement_id:
                return s
        raise KeyError(statement_id)

    def placements_of(self, statement_id: str) -> list[Placement]:
        return [p for p in self.placements if p.statement_id == statement_id]

    def theme(self, number: int) -> Theme:
        for t in self.themes:
            if t.number == number:
                return t
        raise KeyError(number)

    def subtheme(self, theme: int, order: int) -> Subtheme:
        for s in self.theme(theme).subthemes:
            if s.order == order:
                return s
        raise KeyError((theme, order))

    def meeting(self, code: str) -> Meeting:
        for m in self.meetings:
            if m.code == code:
                return m
        raise KeyError(code)


_ROMAN = [
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
]  # fmt: skip


def to_roman(number: int) -> str:
    if not 0 < number < 4000:
        raise ValueError(f"cannot write {number} in Roman numerals (1–3999)")
    out = []
    for value, letters in _ROMAN:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


def from_roman(text: str) -> int:
    """Strict Roman numeral reader: "XIX" -> 19; raises ValueError on anything not canonical."""
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    upper = text.strip().upper()
    if not upper or any(ch not in values for ch in upper):
        raise ValueError(f"not a Roman numeral: {text!r}")
    total = 0
    for i, ch in enumerate(upper):
        v = values[ch]
        if i + 1 < len(upper) and values[upper[i + 1]] > v:
            total -= v
        else:
            total += v
    if to_roman(total) != upper:
        raise ValueError(f"not a canonical Roman numeral: {text!r}")
    return total


# --- meeting references: the one parser and the one printer -----------------------------------

MAX_MEETING = 2047  # what a search docid's meeting bits hold (store/search_index.py)

_MEETING_REF = re.compile(
    r"""^\s*(?:
        (?:extraordinary\s+meeting\s+of\s+the|reuni[oó]n\s+extraordinaria\s+de\s+la)\s+
            (?P<xn>[ivxlcdm]+|[0-9]{1,4})\s*(?:rcm|crm)?
            \s*(?:\(\s*(?P<xk>[0-9]{1,3})\s*\))?
      | (?P<n>[ivxlcdm]+|[0-9]{1,4})(?:\s*-\s*e\s*(?P<k>[0-9]{1,3}))?\s*(?:rcm|crm)?
    )\s*$""",
    re.I | re.X,
)


@dataclass(frozen=True, order=True)
class MeetingRef:
    """Which meeting: ``number`` (1 = I RCM; the yearly cycle) and ``extraordinary`` (0 for the
    ordinary meeting, k for the k-th extraordinary meeting of that cycle). Refs sort in the
    compendium's meeting order: by number, the ordinary meeting before the extraordinary ones of
    its cycle, those in their order (numbers follow the years, so this is date order)."""

    number: int
    extraordinary: int = 0

    @property
    def code(self) -> str:
        """The key: "XXV", "XXV-E1"."""
        roman = to_roman(self.number)
        return f"{roman}-E{self.extraordinary}" if self.extraordinary else roman

    @property
    def label(self) -> str:
        """What documents print: "XXV RCM", "Extraordinary Meeting of the XXV RCM" (a second
        extraordinary meeting of the cycle: "… RCM (2)")."""
        roman = to_roman(self.number)
        if not self.extraordinary:
            return f"{roman} RCM"
        k = self.extraordinary
        return f"Extraordinary Meeting of the {roman} RCM" + (f" ({k})" if k > 1 else "")

    def label_in(self, lang: str) -> str:
        """The label in a language: English as :attr:`label`; Spanish as the Conference writes
        in Spanish, with its Spanish initials ("XXV CRM", "Reunión Extraordinaria de la XXV
        CRM", "… (2)"). Other languages: English."""
        if lang != "es":
            return self.label
        roman = to_roman(self.number)
        if not self.extraordinary:
            return f"{roman} CRM"
        k = self.extraordinary
        return f"Reunión Extraordinaria de la {roman} CRM" + (f" ({k})" if k > 1 else "")

    @property
    def kind(self) -> MeetingKind:
        return MeetingKind.EXTRAORDINARY if self.extraordinary else MeetingKind.REGULAR


def parse_meeting(text: str | int) -> MeetingRef:
    """The one reader of a meeting reference, for the CLI, the web, the readers and the writers:
    "XXV", "xxv", "XXV RCM", "XXV CRM", "25", "XXV-E1", "XXV-E1 RCM", "Extraordinary Meeting of
    the XXV RCM", "Extraordinary Meeting of the XXV RCM (2)" (what :attr:`MeetingRef.label`
    prints), and the Spanish "XXV CRM", "Reunión Extraordinaria de la XXV CRM"
    (``label_in("es")``). Raises ValueError with a message fit for the user."""
    if isinstance(text, int):
        number, k = text, 0
    else:
        m = _MEETING_REF.match(text)
        if not m:
            raise ValueError(
                f"{text!r} is not a meeting; write it as XII, XII RCM or XXV-E1 "
                "(the first extraordinary meeting of the XXV cycle)"
            )
        raw = m.group("n") or m.group("xn")
        if m.group("xn"):
            k = int(m.group("xk") or 1)
            if k == 0:
                raise ValueError(f"{text!r} is not a meeting: extraordinary meetings are E1, E2 …")
        elif m.group("k") is not None:
            k = int(m.group("k"))
            if k == 0:
                raise ValueError(f"{text!r} is not a meeting: extraordinary meetings are E1, E2 …")
        else:
            k = 0
        try:
            number = int(raw) if raw.isdigit() else from_roman(raw)
        except ValueError:
            raise ValueError(f"{text!r} is not a meeting: {raw!r} is not a Roman numeral") from None
    if not 1 <= number <= MAX_MEETING:
        raise ValueError(f"{text!r} is not a meeting: meetings are numbered I (1) to {MAX_MEETING}")
    return MeetingRef(number, k)


def meeting_order(code: str) -> tuple[int, int]:
    """A sort key putting meeting codes in the compendium's order ("XXV" before "XXV-E1")."""
    try:
        ref = parse_meeting(code)
    except ValueError:
        return (MAX_MEETING + 1, 0)
    return (ref.number, ref.extraordinary)


def span_text(span: tuple[int, int] | None) -> str:
    """(1996, 2020) -> "1996–2020"; one year alone -> "2020"; none -> ""."""
    if span is None:
        return ""
    first, last = span
    return str(first) if first == last else f"{first}–{last}"
