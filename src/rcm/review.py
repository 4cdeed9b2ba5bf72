"""New declarations and their review queue.

``add_declaration`` files a split declaration (``rcm.parse.declaration``) with the machine's
suggestions for each draft statement; nothing reaches the compendium until a person decides:
``accept_proposal`` (as suggested, or with their own text, category, placements and objectives) or
``reject_proposal`` (with a reason). Each decision is one transaction, written to the audit trail,
and refuses a proposal someone else has already decided, so two reviewers never both accept one.

The queue can be corrected where the reader cut a declaration badly, each correction one
transaction, audited, for pending proposals of an active declaration only:
``promote_paragraph`` (a preamble or closing paragraph, numbered from 1 as kept apart, becomes a
proposal in document order; the paragraph stays in the declaration as read, marked promoted),
``split_proposal`` (at a sentence, or at an item of a list, whose chapeau both parts keep),
``merge_proposal`` (with the next proposal) and ``add_proposal`` (a statement added by hand).
Every new or changed text gets fresh suggestions.

A declaration is closed in two ways. ``withdraw_declaration`` rejects its pending proposals in one
step; statements already accepted from it stay in the compendium unchanged (a person accepted
each: retiring one is an edit of the compendium). ``replace_declaration`` files a corrected file
for the same meeting (same code and label) and marks the old one replaced: its pending proposals
are rejected, and a statement of the corrected file with the same normal form as a statement
accepted from the old one is linked to it (accepted, same id) rather than queued again. A meeting
has one active declaration: ``add_declaration`` of a second file for it points to replacement, and
withdrawn or replaced declarations do not hold a meeting's code.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from rcm import clock
from rcm.audit import record_audit
from rcm.consult import Actor, ConflictError, secretariat_name
from rcm.errors import NotFound, RcmError, StoreError
from rcm.ids import assign_ids
from rcm.model import (
    MAX_MEETING,
    Category,
    CategorySource,
    DeclarationText,
    DraftStatement,
    Meeting,
    MeetingRef,
    ReadLine,
    parse_meeting,
    to_roman,
)
from rcm.parse.text import collapse, normal_form
from rcm.store import Store, meeting_from_row, search_index, version_row
from rcm.store import schema as t

STATES = ("pending", "accepted", "rejected")
DECLARATION_STATES = ("active", "withdrawn", "replaced")
PARTS = ("preamble", "closing")
HAND = "hand"  # the origin of a statement a reviewer added by hand
MAX_TEXT = 20_000


class ReviewError(RcmError):
    """A review request that cannot be carried out as asked (bad meeting, bad placement…)."""


@dataclass(frozen=True)
class Declaration:
    id: int
    meeting: Meeting
    name: str
    sha256: str
    size: int
    lang: str
    title: str
    preamble: tuple[str, ...]
    closing: tuple[str, ...]
    added_at: datetime
    added_by: str
    counts: dict[str, int]
    state: str = "active"
    replaced_by: int | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawn_reason: str | None = None
    reference: str | None = None
    # "preamble 3" / "closing 1" -> the proposals made of that paragraph (by promote_paragraph)
    promoted: dict[str, list[int]] = field(default_factory=dict)
    # Every paragraph as the reader took it, with its line number; None for a declaration added
    # before the reading was kept (its file is not stored, so it cannot be read again).
    reading: tuple[ReadLine, ...] | None = None
    # statement number as read -> the proposal it was queued as
    read_as: dict[int, int] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.state == "active"

    def promoted_from(self, part: str, number: int) -> list[int]:
        return self.promoted.get(f"{part} {number}", [])

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "meeting": self.meeting.as_dict(),
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "lang": self.lang,
            "title": self.title,
            "preamble": list(self.preamble),
            "closing": list(self.closing),
            "added_at": self.added_at.isoformat(),
            "added_by": self.added_by,
            "counts": self.counts,
            "state": self.state,
            "replaced_by": self.replaced_by,
            "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None,
            "withdrawn_by": self.withdrawn_by,
            "withdrawn_reason": self.withdrawn_reason,
            "reference": self.reference,
            "promoted": self.promoted,
            "reading": None if self.reading is None else reading_json(self.reading, self.read_as),
        }


@dataclass(frozen=True)
class Proposal:
    id: int
    declaration_id: int
    meeting_code: str
    position: int
    text: str
    heading: str | None
    items: tuple[str, ...]
    lead: str | None
    line: int
    lang: str
    suggestions: dict[str, Any]
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision: dict[str, Any] | None
    statement_id: str | None
    origin: str | None = None

    @property
    def suggested_category(self) -> str:
        return str(self.suggestions["category"]["category"])

    @property
    def suggested_placements(self) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in self.suggestions["themes"]["placements"]]

    @property
    def suggested_objectives(self) -> list[int]:
        return [int(o["objective"]) for o in self.suggestions["objectives"]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "declaration": self.declaration_id,
            "meeting": self.meeting_code,
            "position": self.position,
            "text": self.text,
            "heading": self.heading,
            "items": list(self.items),
            "lead": self.lead,
            "line": self.line,
            "lang": self.lang,
            "suggestions": self.suggestions,
            "state": self.state,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decision": self.decision,
            "statement_id": self.statement_id,
            "origin": self.origin or "declaration",
        }


def reading_json(
    reading: Sequence[ReadLine], read_as: dict[int, int] | None = None
) -> list[dict[str, Any]]:
    """The reading as stored (``declarations.reading``): one object a paragraph; a statement's
    first paragraph names the proposal it was queued as."""
    out = []
    for r in reading:
        row: dict[str, Any] = {
            "line": r.line,
            "part": r.part,
            "text": r.text,
            "marker": r.marker,
            "statement": r.statement,
        }
        if read_as and r.statement in read_as and r.part in ("statement", "unrecognised"):
            row["proposal"] = read_as[r.statement]
        out.append(row)
    return out


def _reading_from_json(raw: str | None) -> tuple[tuple[ReadLine, ...] | None, dict[int, int]]:
    if raw is None:
        return None, {}
    rows = json.loads(raw)
    reading = tuple(
        ReadLine(
            line=int(r["line"]),
            part=str(r["part"]),
            text=str(r["text"]),
            marker=str(r.get("marker", "")),
            statement=int(r.get("statement", 0)),
        )
        for r in rows
    )
    read_as = {int(r["statement"]): int(r["proposal"]) for r in rows if r.get("proposal")}
    return reading, read_as


def _keep_reading(conn: Connection, declaration_id: int, declaration: DeclarationText) -> None:
    """Store the reading, each statement with the proposal it was queued as: just after the
    declaration's statements are queued, their positions are their numbers as read."""
    read_as = {
        int(position): int(pid)
        for pid, position in conn.execute(
            select(t.proposals.c.id, t.proposals.c.position).where(
                t.proposals.c.declaration_id == declaration_id
            )
        )
    }
    conn.execute(
        update(t.declarations)
        .where(t.declarations.c.id == declaration_id)
        .values(reading=json.dumps(reading_json(declaration.reading, read_as), ensure_ascii=False))
    )


def meeting_number(text: str | int) -> int:
    """ "XXII", "xxii", "XXII RCM" or 22 -> 22 (read by :func:`rcm.model.parse_meeting`); an
    extraordinary meeting's code is refused: it is added with ``extraordinary=True``."""
    try:
        ref = parse_meeting(text)
    except ValueError:
        if isinstance(text, int) or (text.strip().isascii() and text.strip().isdigit()):
            raise ReviewError(
                "meeting %(text)s is out of range (1–%(max)s)", text=text, max=MAX_MEETING
            ) from None
        raise ReviewError(
            "%(text)s is not a meeting number such as XXII or 22", text=repr(text)
        ) from None
    if ref.extraordinary:
        raise ReviewError(
            "%(text)s is an extraordinary meeting: give its cycle (%(cycle)s) and mark it "
            "extraordinary (--extraordinary)",
            text=repr(text),
            cycle=to_roman(ref.number),
        )
    return ref.number


MAX_REFERENCE = 500


def check_reference(reference: str | None) -> str | None:
    """A declaration's reference (a document symbol such as "CRM/XXV/2020/1", or an address),
    on one line and of a sensible length; blank is none."""
    if reference is None or not reference.strip():
        return None
    text = " ".join(reference.split())
    if len(text) > MAX_REFERENCE:
        raise ReviewError(
            "the reference is %(n)s characters long; at most %(max)s",
            n=len(text),
            max=MAX_REFERENCE,
        )
    return text


def meeting_ref(text: str | int, extraordinary: bool = False) -> MeetingRef:
    """The meeting a declaration is added for: "XXII" (ordinary), "XXII" with ``extraordinary``
    (the cycle's first extraordinary meeting, XXII-E1), or an extraordinary meeting's own code
    ("XXII-E2") for a later one of the same cycle."""
    try:
        ref = parse_meeting(text)
    except ValueError:
        if isinstance(text, int) or (text.strip().isascii() and text.strip().isdigit()):
            raise ReviewError(
                "meeting %(text)s is out of range (1–%(max)s)", text=text, max=MAX_MEETING
            ) from None
        raise ReviewError(
            "%(text)s is not a meeting number such as XXII or 22 (or XXII-E2 for a cycle's second "
            "extraordinary meeting)",
            text=repr(text),
        ) from None
    if ref.extraordinary:
        return ref
    return MeetingRef(ref.number, 1 if extraordinary else 0)


def _taken_codes(conn: Connection) -> dict[str, tuple[str, int | None]]:
    """Meeting codes in use -> what uses them (for the error message) and the active declaration
    holding it, if any. A withdrawn or replaced declaration does not hold its code: a replaced one
    passed it to its replacement, a withdrawn one gave it up (unless statements accepted from it
    made the meeting part of the compendium)."""
    out: dict[str, tuple[str, int | None]] = {
        code: ("the compendium", None) for code in conn.scalars(select(t.meetings.c.code))
    }
    d = t.declarations
    for code, did in conn.execute(
        select(d.c.meeting_code, d.c.id).where(d.c.state == "active").order_by(d.c.id)
    ):
        held = out.get(code)
        out[code] = (held[0] if held else f"declaration {did}", did)
    return out


def _check_meeting_free(ref: MeetingRef, taken: dict[str, tuple[str, int | None]]) -> None:
    if ref.code in taken:
        where, did = taken[ref.code]
        later = MeetingRef(ref.number, ref.extraordinary + 1) if ref.extraordinary else None
        # Where it exists: the compendium (its statements; an active declaration may hold it
        # too) or an active declaration, whose id is then ``did``.
        in_compendium = where == "the compendium"
        raise ConflictError(
            "the %(meeting)s already exists in declaration %(did)s: to correct its file, use "
            "`rcm declaration replace %(did)s FILE`; for another extraordinary meeting of that "
            "cycle give its code, --meeting %(code)s"
            if not in_compendium and later is not None
            else "the %(meeting)s already exists in declaration %(did)s: to correct its file, "
            "use `rcm declaration replace %(did)s FILE` (use --extraordinary for an "
            "extraordinary meeting)"
            if not in_compendium
            else "the %(meeting)s already exists in the compendium: to correct its file, use "
            "`rcm declaration replace %(did)s FILE`; for another extraordinary meeting of that "
            "cycle give its code, --meeting %(code)s"
            if did is not None and later is not None
            else "the %(meeting)s already exists in the compendium: to correct its file, use "
            "`rcm declaration replace %(did)s FILE` (use --extraordinary for an extraordinary "
            "meeting)"
            if did is not None
            else "the %(meeting)s already exists in the compendium: a declaration is added once "
            "per meeting; for another extraordinary meeting of that cycle give its code, "
            "--meeting %(code)s"
            if later is not None
            else "the %(meeting)s already exists in the compendium: a declaration is added once "
            "per meeting (use --extraordinary for an extraordinary meeting)",
            meeting=ref.label,
            did="" if did is None else did,
            code="" if later is None else later.code,
        )
    if ref.extraordinary and ref.extraordinary > 1:
        before = MeetingRef(ref.number, ref.extraordinary - 1)
        if before.code not in taken:
            raise ReviewError(
                "there is no %(meeting)s (%(code)s) yet: add it before the %(meeting2)s",
                meeting=before.label,
                code=before.code,
                meeting2=ref.label,
            )


# The last suggester trained per database, with the state of the compendium it learnt from (the
# search index's generation moves on each change of the statements): promoting, splitting and
# merging do not change the compendium, so a run of corrections trains once.
_TRAINED: dict[str, tuple[tuple[int, int], Any]] = {}
_TRAINED_LOCK = threading.Lock()


def _suggester(store: Store) -> Any:
    from rcm.suggest import Suggester

    with store.connection() as conn:
        state = (
            search_index.generation(conn),
            int(conn.scalar(select(func.count()).select_from(t.statements)) or 0),
        )
    with _TRAINED_LOCK:
        known = _TRAINED.get(store.url)
    if known is not None and known[0] == state:
        return known[1]
    suggester = Suggester.train(store.load())
    with _TRAINED_LOCK:
        _TRAINED[store.url] = (state, suggester)
    return suggester


def _suggest(store: Store, texts: Sequence[str], langs: Sequence[str]) -> list[dict[str, Any]]:
    """The machine's suggestions for each text, trained on the compendium as it is now."""
    if not texts:
        return []
    return [s.as_dict() for s in _suggester(store).suggest_many(list(texts), list(langs))]


def _check_year(year: int) -> None:
    if not 1990 <= year <= 2100:
        raise ReviewError(
            "year %(year)s is not plausible for an RCM meeting (1990–2100)", year=year
        )


def _same_file(conn: Connection, declaration: DeclarationText) -> None:
    same = conn.execute(
        select(t.declarations.c.id, t.declarations.c.meeting_label, t.declarations.c.state).where(
            t.declarations.c.sha256 == declaration.sha256
        )
    ).first()
    if same is not None:
        raise ConflictError(
            "%(file)s was already added as declaration %(id)s (%(meeting)s); see `rcm review "
            "list --declaration %(id)s`"
            if same.state == "active"
            else "%(file)s was already added as declaration %(id)s (%(meeting)s, since "
            "%(state)s); see `rcm review list --declaration %(id)s`",
            file=declaration.name,
            id=same.id,
            meeting=same.meeting_label,
            state=same.state,
        )


def _insert_declaration(
    conn: Connection,
    declaration: DeclarationText,
    ref: MeetingRef,
    label: str,
    *,
    year: int,
    place: str | None,
    date: str | None,
    reference: str | None,
    actor: str,
) -> int:
    return int(
        conn.execute(
            insert(t.declarations)
            .values(
                meeting_code=ref.code,
                meeting_number=ref.number,
                meeting_label=label,
                meeting_kind=ref.kind.value,
                year=year,
                place=place,
                date=date,
                name=declaration.name[:255],
                sha256=declaration.sha256,
                size=declaration.size,
                lang=declaration.lang,
                title=declaration.title,
                preamble=json.dumps(list(declaration.preamble), ensure_ascii=False),
                closing=json.dumps(list(declaration.closing), ensure_ascii=False),
                added_at=clock.now(),
                added_by=actor,
                reference=reference,
                state="active",
            )
            .returning(t.declarations.c.id)
        ).scalar_one()
    )


def _draft_row(
    declaration_id: int, s: DraftStatement, suggestions: dict[str, Any]
) -> dict[str, Any]:
    return {
        "declaration_id": declaration_id,
        "position": s.position,
        "text": s.text,
        "heading": s.heading,
        "items": json.dumps(list(s.items), ensure_ascii=False),
        "lead": s.lead,
        "line": s.line,
        "lang": s.lang,
        "suggestions": json.dumps(suggestions, ensure_ascii=False),
        "state": "pending",
    }


def add_declaration(
    store: Store,
    declaration: DeclarationText,
    *,
    meeting: str | int,
    year: int,
    extraordinary: bool = False,
    place: str | None = None,
    date: str | None = None,
    reference: str | None = None,
    actor: Actor,
) -> tuple[Declaration, list[Proposal]]:
    """File ``declaration`` for review, each statement with its suggestions. All or nothing.
    ``reference``: the document's symbol or address, which citations name.

    A meeting has one active declaration: a second file for it is refused with a pointer to
    :func:`replace_declaration`. ``extraordinary`` names the cycle's first extraordinary meeting;
    a later one is named by its code (``meeting="XXV-E2"``)."""
    actor = secretariat_name(actor, "add declarations")
    reference = check_reference(reference)
    ref = meeting_ref(meeting, extraordinary)
    _check_year(year)
    suggestions = _suggest(
        store, [s.text for s in declaration.statements], [s.lang for s in declaration.statements]
    )
    try:
        with store.transaction(immediate=True) as conn:
            _same_file(conn, declaration)
            _check_meeting_free(ref, _taken_codes(conn))
            declaration_id = _insert_declaration(
                conn,
                declaration,
                ref,
                ref.label,
                year=year,
                place=place,
                date=date,
                reference=reference,
                actor=actor,
            )
            if declaration.statements:
                conn.execute(
                    insert(t.proposals),
                    [
                        _draft_row(declaration_id, s, sug)
                        for s, sug in zip(declaration.statements, suggestions, strict=True)
                    ],
                )
            _keep_reading(conn, declaration_id, declaration)
            record_audit(
                conn,
                actor,
                "declaration.add",
                f"declaration {declaration_id}",
                None,
                {
                    "meeting": ref.code,
                    "name": declaration.name,
                    "sha256": declaration.sha256,
                    "statements": len(declaration.statements),
                    "reference": reference,
                },
            )
    except IntegrityError:
        # Another reviewer added the same file between our check and our insert.
        raise ConflictError(
            "the %(meeting)s or this file was added by someone else just now: nothing added",
            meeting=ref.label,
        ) from None
    except SQLAlchemyError as exc:
        raise StoreError(
            "adding the declaration failed and was rolled back: %(reason)s", reason=exc
        ) from None
    return declaration_record(store, declaration_id), proposals(
        store, declaration_id=declaration_id
    )


def _declaration(conn: Connection, r: Any) -> Declaration:
    counts = dict.fromkeys(STATES, 0)
    for state, n in conn.execute(
        select(t.proposals.c.state, func.count())
        .where(t.proposals.c.declaration_id == r.id)
        .group_by(t.proposals.c.state)
    ):
        counts[state] = n
    promoted: dict[str, list[int]] = {}
    for pid, origin in conn.execute(
        select(t.proposals.c.id, t.proposals.c.origin)
        .where(t.proposals.c.declaration_id == r.id, t.proposals.c.origin.is_not(None))
        .order_by(t.proposals.c.position)
    ):
        if origin != HAND:
            promoted.setdefault(origin, []).append(pid)
    reading, read_as = _reading_from_json(r.reading)
    return Declaration(
        id=r.id,
        meeting=meeting_from_row(r, "meeting_"),
        name=r.name,
        sha256=r.sha256,
        size=r.size,
        lang=r.lang,
        title=r.title,
        preamble=tuple(json.loads(r.preamble)),
        closing=tuple(json.loads(r.closing)),
        added_at=clock.aware(r.added_at) or clock.now(),
        added_by=r.added_by,
        counts=counts,
        state=r.state,
        replaced_by=r.replaced_by,
        withdrawn_at=clock.aware(r.withdrawn_at),
        withdrawn_by=r.withdrawn_by,
        withdrawn_reason=r.withdrawn_reason,
        reference=r.reference,
        promoted=promoted,
        reading=reading,
        read_as=read_as,
    )


def declaration_record(store: Store, declaration_id: int) -> Declaration:
    with store.connection() as conn:
        r = conn.execute(
            select(t.declarations).where(t.declarations.c.id == declaration_id)
        ).first()
        if r is None:
            raise NotFound("no declaration %(declaration)s", declaration=declaration_id)
        return _declaration(conn, r)


def declarations(store: Store) -> list[Declaration]:
    with store.connection() as conn:
        rows = conn.execute(select(t.declarations).order_by(t.declarations.c.id)).all()
        return [_declaration(conn, r) for r in rows]


def _proposal(r: Any, meeting_code: str) -> Proposal:
    return Proposal(
        id=r.id,
        declaration_id=r.declaration_id,
        meeting_code=meeting_code,
        position=r.position,
        text=r.text,
        heading=r.heading,
        items=tuple(json.loads(r.items)),
        lead=r.lead,
        line=r.line,
        lang=r.lang,
        suggestions=json.loads(r.suggestions),
        state=r.state,
        decided_by=r.decided_by,
        decided_at=clock.aware(r.decided_at),
        decision=json.loads(r.decision) if r.decision else None,
        statement_id=r.statement_id,
        origin=r.origin,
    )


def proposals(
    store: Store, *, declaration_id: int | None = None, state: str | None = None
) -> list[Proposal]:
    if state is not None and state not in STATES:
        raise ReviewError(
            "unknown state %(state)s: use one of %(valid)s",
            state=repr(state),
            valid=", ".join(STATES),
        )
    p, d = t.proposals, t.declarations
    query = select(p, d.c.meeting_code).join(d, d.c.id == p.c.declaration_id)
    if declaration_id is not None:
        query = query.where(p.c.declaration_id == declaration_id)
    if state is not None:
        query = query.where(p.c.state == state)
    with store.connection() as conn:
        if (
            declaration_id is not None
            and conn.scalar(select(func.count()).select_from(d).where(d.c.id == declaration_id))
            == 0
        ):
            raise NotFound("no declaration %(declaration)s", declaration=declaration_id)
        rows = conn.execute(query.order_by(p.c.declaration_id, p.c.position)).all()
    return [_proposal(r, r.meeting_code) for r in rows]


def proposal(store: Store, proposal_id: int) -> Proposal:
    with store.connection() as conn:
        return _read_proposal(conn, proposal_id)


def _read_proposal(conn: Connection, proposal_id: int) -> Proposal:
    p, d = t.proposals, t.declarations
    r = conn.execute(
        select(p, d.c.meeting_code)
        .join(d, d.c.id == p.c.declaration_id)
        .where(p.c.id == proposal_id)
    ).first()
    if r is None:
        raise NotFound("no proposal %(id)s", id=proposal_id)
    return _proposal(r, r.meeting_code)


def _decided(p: Proposal) -> ConflictError:
    when = p.decided_at.strftime("%Y-%m-%d %H:%M UTC") if p.decided_at else "earlier"
    return ConflictError(
        "proposal %(id)s was already %(state)s by %(who)s on %(when)s as %(statement)s: a "
        "decision is taken once"
        if p.statement_id
        else "proposal %(id)s was already %(state)s by %(who)s on %(when)s: a decision is taken "
        "once",
        id=p.id,
        state=p.state,
        who=p.decided_by,
        when=when,
        statement=p.statement_id or "",
    )


def parse_placement(text: str) -> tuple[int, int]:
    """ "5.2", "TS5.2", "ts5/2" -> (5, 2)."""
    m = re.fullmatch(r"\s*(?:TS)?\s*(\d)\s*[./:]\s*(\d{1,2})\s*", text, re.I)
    if not m:
        raise ReviewError(
            "%(text)s is not a placement: write theme.sub-theme, e.g. 5.2 for TS5's 2nd sub-theme",
            text=repr(text),
        )
    return int(m.group(1)), int(m.group(2))


def _note(themes: Sequence[int], own: int) -> tuple[str | None, tuple[int, ...]]:
    others = tuple(sorted(set(themes) - {own}))
    if not others:
        return None, ()
    names = [f"TS{n}" for n in others]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"*Statement also relevant for {joined}*", others


def accept_proposal(
    store: Store,
    proposal_id: int,
    *,
    actor: Actor,
    text: str | None = None,
    category: str | None = None,
    placements: Sequence[tuple[int, int]] | None = None,
    objectives: Sequence[int] | None = None,
) -> Proposal:
    """Add the proposal to the compendium, as suggested or with the reviewer's changes."""
    actor = secretariat_name(actor, "decide on the review queue")
    try:
        with store.transaction() as conn:
            p = _read_proposal(conn, proposal_id)
            if p.state != "pending":
                raise _decided(p)
            final_text = collapse(text) if text is not None else p.text
            if not final_text:
                raise ReviewError("the statement's text cannot be empty")
            if len(final_text) > MAX_TEXT:
                raise ReviewError(
                    "the statement's text is longer than %(n)s characters", n=MAX_TEXT
                )
            edited_text = final_text != p.text
            chosen = category if category is not None else p.suggested_category
            try:
                final_category = Category(chosen.strip().lower())
            except ValueError:
                raise ReviewError(
                    "unknown category %(bad)s: use one of %(valid)s",
                    bad=repr(chosen),
                    valid=", ".join(c.value for c in Category),
                ) from None
            final_places = list(dict.fromkeys(placements or p.suggested_placements))
            if not final_places:
                raise ReviewError("a statement needs at least one placement (theme.sub-theme)")
            known = {
                (r.theme, r.position)
                for r in conn.execute(select(t.subthemes.c.theme, t.subthemes.c.position))
            }
            for place in final_places:
                if place not in known:
                    raise ReviewError(
                        "there is no sub-theme %(theme)s.%(sub)s: see `rcm stats` for the themes "
                        "and their sub-themes",
                        theme=place[0],
                        sub=place[1],
                    )
            chosen_objectives = (
                list(dict.fromkeys(objectives))
                if objectives is not None
                else p.suggested_objectives
            )
            for n in chosen_objectives:
                if not 1 <= n <= 23:
                    raise ReviewError("%(n)s is not a GCM objective (1–23)", n=n)
            sid = _add_statement(
                conn,
                p,
                final_text,
                final_category,
                final_places,
                chosen_objectives,
                objectives_curated=objectives is not None,
                keep_structure=not edited_text,
                actor=actor,
            )
            decision = {
                "category": final_category.value,
                "category_as_suggested": final_category.value == p.suggested_category,
                "placements": [list(x) for x in final_places],
                "placements_as_suggested": sorted(final_places) == sorted(p.suggested_placements),
                "objectives": chosen_objectives,
                "objectives_as_suggested": objectives is None
                or chosen_objectives == p.suggested_objectives,
                "text_edited": edited_text,
            }
            _decide(conn, p, "accepted", actor, decision, sid)
    except SQLAlchemyError as exc:
        raise StoreError(
            "accepting proposal %(id)s failed and was rolled back: %(reason)s",
            id=proposal_id,
            reason=exc,
        ) from None
    return proposal(store, proposal_id)


def _decide(
    conn: Connection,
    p: Proposal,
    state: str,
    actor: str,
    decision: dict[str, Any],
    statement_id: str | None,
) -> None:
    done = conn.execute(
        update(t.proposals)
        .where(t.proposals.c.id == p.id, t.proposals.c.state == "pending")
        .values(
            state=state,
            decided_by=actor,
            decided_at=clock.now(),
            decision=json.dumps(decision, ensure_ascii=False),
            statement_id=statement_id,
        )
    ).rowcount
    if done != 1:  # someone decided it between our read and this write
        raise _decided(_read_proposal(conn, p.id))
    record_audit(
        conn,
        actor,
        f"proposal.{'accept' if state == 'accepted' else 'reject'}",
        f"proposal {p.id}",
        {"state": "pending", "text": p.text},
        {"state": state, "statement_id": statement_id, **decision},
    )


def reopen_proposal(store: Store, proposal_id: int, *, actor: Actor, reason: str) -> Proposal:
    """Put a rejected proposal back in the queue, saying why (the rejection was a mistake, or the
    meeting asked for it back). The rejection stays in the audit trail. An accepted proposal is a
    statement of the compendium now and is not reopened; a pending one is already in the queue."""
    actor = secretariat_name(actor, "decide on the review queue")
    reason = collapse(reason)
    if not reason:
        raise ReviewError("say why the proposal goes back in the queue (--reason)")
    try:
        with store.transaction() as conn:
            p = _read_proposal(conn, proposal_id)
            if p.state != "rejected":
                raise ConflictError(
                    "proposal %(id)s is %(state)s: only a rejected proposal goes back in the queue",
                    id=p.id,
                    state=p.state,
                )
            _active(conn, p.declaration_id)
            done = conn.execute(
                update(t.proposals)
                .where(t.proposals.c.id == p.id, t.proposals.c.state == "rejected")
                .values(
                    state="pending",
                    decided_by=None,
                    decided_at=None,
                    decision=None,
                    statement_id=None,
                )
            ).rowcount
            if done != 1:  # someone reopened it between our read and this write
                raise ConflictError(
                    "proposal %(id)s was reopened by someone else just now", id=p.id
                )
            record_audit(
                conn,
                actor,
                "proposal.reopen",
                f"proposal {p.id}",
                {"state": "rejected", "decided_by": p.decided_by, **(p.decision or {})},
                {"state": "pending", "reason": reason[:2000]},
            )
    except SQLAlchemyError as exc:
        raise StoreError(
            "reopening proposal %(id)s failed and was rolled back: %(reason)s",
            id=proposal_id,
            reason=exc,
        ) from None
    return proposal(store, proposal_id)


def _add_statement(
    conn: Connection,
    p: Proposal,
    text: str,
    category: Category,
    places: list[tuple[int, int]],
    objectives: list[int],
    *,
    objectives_curated: bool,
    keep_structure: bool,
    actor: str,
) -> str:
    d = conn.execute(select(t.declarations).where(t.declarations.c.id == p.declaration_id)).one()
    meeting = meeting_from_row(d, "meeting_")
    if conn.scalar(select(func.count()).where(t.meetings.c.code == meeting.code)) == 0:
        conn.execute(
            insert(t.meetings).values(**meeting.as_dict(), declaration_id=p.declaration_id)
        )
    form = normal_form(text)
    twin = conn.scalar(
        select(t.statements.c.id).where(
            t.statements.c.meeting == meeting.code, t.statements.c.normal_form == form
        )
    )
    if twin is not None:
        raise ConflictError(
            "the %(meeting)s already has this statement as %(twin)s: reject the proposal or edit "
            "its text",
            meeting=meeting.label,
            twin=twin,
        )
    taken = set(
        conn.scalars(select(t.statements.c.id).where(t.statements.c.meeting == meeting.code))
    )
    sid = assign_ids([(meeting.code, form)], taken)[(meeting.code, form)]
    conn.execute(
        insert(t.statements).values(
            id=sid,
            meeting=meeting.code,
            text=text,
            heading=p.heading if keep_structure else None,
            lang=p.lang,
            text_es=text if p.lang == "es" else None,  # indexed with Spanish stems too
            category=category.value,
            category_source=CategorySource.CURATED.value,
            category_confidence=None,
            normal_form=form,
            source_id=None,
        )
    )
    conn.execute(
        insert(t.statement_versions).values(
            **version_row(
                sid,
                1,
                text,
                p.heading if keep_structure else None,
                p.items if keep_structure else (),
                actor=actor,
                origin=f"declaration {p.declaration_id}",
            )
        )
    )
    if keep_structure and p.items:
        conn.execute(
            insert(t.statement_items),
            [{"statement_id": sid, "position": i, "text": x} for i, x in enumerate(p.items, 1)],
        )
    themes = [th for th, _ in places]
    pl = t.placements
    for theme, sub in places:
        last = conn.scalar(
            select(func.max(pl.c.position)).where(pl.c.theme == theme, pl.c.subtheme == sub)
        )
        note, others = _note(themes, theme)
        placement_id = conn.execute(
            insert(pl)
            .values(
                statement_id=sid,
                theme=theme,
                subtheme=sub,
                position=(last or 0) + 1,
                note=note,
                also_relevant_all=False,
                printed_text=text,
                line=p.line,
            )
            .returning(pl.c.id)
        ).scalar_one()
        if others:
            conn.execute(
                insert(t.placement_themes),
                [{"placement_id": placement_id, "theme": th} for th in others],
            )
    scores = {int(o["objective"]): float(o["score"]) for o in p.suggestions["objectives"]}
    if objectives:
        conn.execute(
            insert(t.statement_objectives),
            [
                {
                    "statement_id": sid,
                    "objective": n,
                    "source": (
                        CategorySource.CURATED if objectives_curated else CategorySource.SUGGESTED
                    ).value,
                    "rank": rank,
                    "score": None if objectives_curated else scores.get(n),
                }
                for rank, n in enumerate(objectives, 1)
            ],
        )
    search_index.refresh(conn, [sid])
    search_index.bump_generation(conn)
    return sid


def reject_proposal(store: Store, proposal_id: int, *, actor: Actor, reason: str) -> Proposal:
    actor = secretariat_name(actor, "decide on the review queue")
    reason = collapse(reason)
    if not reason:
        raise ReviewError("say why the proposal is rejected (--reason)")
    try:
        with store.transaction() as conn:
            p = _read_proposal(conn, proposal_id)
            if p.state != "pending":
                raise _decided(p)
            _decide(conn, p, "rejected", actor, {"reason": reason[:2000]}, None)
    except SQLAlchemyError as exc:
        raise StoreError(
            "rejecting proposal %(id)s failed and was rolled back: %(reason)s",
            id=proposal_id,
            reason=exc,
        ) from None
    return proposal(store, proposal_id)


# --- correcting the queue: promote, split, merge, add by hand ------------------------------------


def _active(conn: Connection, declaration_id: int, *, lock: bool = False) -> Any:
    """The declaration's row, refusing one that was withdrawn or replaced: its queue is closed."""
    query = select(t.declarations).where(t.declarations.c.id == declaration_id)
    r = conn.execute(query.with_for_update() if lock else query).first()
    if r is None:
        raise NotFound("no declaration %(declaration)s", declaration=declaration_id)
    if r.state == "replaced":
        raise ConflictError(
            "declaration %(id)s was replaced by declaration %(by)s: its review queue is closed "
            "(see `rcm review show --declaration %(by)s`)",
            id=r.id,
            by=r.replaced_by,
        )
    if r.state == "withdrawn":
        when = clock.aware(r.withdrawn_at)
        raise ConflictError(
            "declaration %(id)s was withdrawn by %(who)s on %(on)s (%(why)s): its review queue "
            "is closed"
            if when
            else "declaration %(id)s was withdrawn by %(who)s (%(why)s): its review queue is "
            "closed",
            id=r.id,
            who=r.withdrawn_by,
            on=f"{when:%Y-%m-%d}" if when else "",
            why=r.withdrawn_reason,
        )
    return r


def _pending(conn: Connection, proposal_id: int) -> Proposal:
    p = _read_proposal(conn, proposal_id)
    if p.state != "pending":
        raise ConflictError(
            "proposal %(id)s is %(state)s: only a pending proposal is split, merged or promoted "
            "(it is statement %(statement)s)"
            if p.statement_id
            else "proposal %(id)s is %(state)s: only a pending proposal is split, merged or "
            "promoted",
            id=p.id,
            state=p.state,
            statement=p.statement_id or "",
        )
    return p


def _rank(origin: str | None) -> tuple[int, int]:
    """Where a proposal of that origin belongs in document order: promoted preamble paragraphs
    first (in the preamble's order), then the operative part (and what was added by hand), then
    promoted closing paragraphs (in their order)."""
    if origin:
        part, _, number = origin.partition(" ")
        if part == "preamble":
            return (0, int(number))
        if part == "closing":
            return (2, int(number))
    return (1, 0)


def _insertion_point(conn: Connection, declaration_id: int, origin: str | None) -> int:
    """The position a new proposal of ``origin`` takes: before the first proposal that comes
    after it in document order, else at the end."""
    rank = _rank(origin)
    p = t.proposals
    rows = conn.execute(
        select(p.c.position, p.c.origin)
        .where(p.c.declaration_id == declaration_id)
        .order_by(p.c.position)
    ).all()
    for r in rows:
        if _rank(r.origin) > rank:
            return int(r.position)
    return (int(rows[-1].position) + 1) if rows else 1


def _shift(conn: Connection, declaration_id: int, start: int, delta: int) -> None:
    """Move the proposals at ``start`` and after by ``delta`` places, without two of them ever
    sharing a position (``uq_proposals_position`` is checked row by row): through negative
    positions first."""
    p = t.proposals
    mine = p.c.declaration_id == declaration_id
    conn.execute(
        update(p).where(mine, p.c.position >= start).values(position=-(p.c.position + delta))
    )
    conn.execute(update(p).where(mine, p.c.position < 0).values(position=-p.c.position))


def _insert_proposal(
    conn: Connection,
    declaration_id: int,
    position: int,
    draft: DraftStatement,
    suggestions: dict[str, Any],
    origin: str | None,
) -> int:
    _shift(conn, declaration_id, position, 1)
    row = _draft_row(declaration_id, replace(draft, position=position), suggestions)
    return int(
        conn.execute(
            insert(t.proposals).values(**row, origin=origin).returning(t.proposals.c.id)
        ).scalar_one()
    )


def _clean_text(text: str) -> str:
    text = collapse(text)
    if not text:
        raise ReviewError("the statement's text cannot be empty")
    if len(text) > MAX_TEXT:
        raise ReviewError("the statement's text is longer than %(n)s characters", n=MAX_TEXT)
    return text


def _check_not_queued(conn: Connection, declaration_id: int, text: str) -> None:
    """A statement is queued once per declaration: the same words (whatever their spacing,
    case or punctuation) pending or accepted already is a conflict."""
    form = normal_form(text)
    p = t.proposals
    for r in conn.execute(
        select(p.c.id, p.c.text, p.c.state).where(
            p.c.declaration_id == declaration_id, p.c.state != "rejected"
        )
    ):
        if normal_form(r.text) == form:
            raise ConflictError(
                "declaration %(declaration)s already has this statement as proposal %(id)s "
                "(%(state)s)",
                declaration=declaration_id,
                id=r.id,
                state=r.state,
            )


def _paragraph(r: Any, part: str, number: int) -> str:
    if part not in PARTS:
        raise ReviewError(
            "%(part)s is not a part of a declaration: use preamble or closing", part=repr(part)
        )
    paragraphs = json.loads(r.preamble if part == "preamble" else r.closing)
    if not paragraphs:
        raise ReviewError("declaration %(id)s has no %(part)s paragraphs", id=r.id, part=part)
    if not 1 <= number <= len(paragraphs):
        raise ReviewError(
            "declaration %(id)s's %(part)s has paragraphs 1 to %(n)s, not %(number)s",
            id=r.id,
            part=part,
            n=len(paragraphs),
            number=number,
        )
    return str(paragraphs[number - 1])


def promote_paragraph(
    store: Store, declaration_id: int, part: str, number: int, *, actor: Actor
) -> Proposal:
    """Make the ``number``-th (1-based) ``part`` ("preamble" or "closing") paragraph of a
    declaration a pending proposal, with its suggestions, where it belongs in document order.
    The paragraph stays in the declaration as read (so the numbering holds), marked promoted."""
    actor = secretariat_name(actor, "correct the review queue")
    origin = f"{part} {number}"
    with store.connection() as conn:
        r = _active(conn, declaration_id)
        text = _clean_text(_paragraph(r, part, number))
        lang = r.lang
    suggestions = _suggest(store, [text], [lang])[0]
    try:
        with store.transaction(immediate=True) as conn:
            r = _active(conn, declaration_id, lock=True)
            if (
                _paragraph(r, part, number) != text
                and collapse(_paragraph(r, part, number)) != text
            ):
                raise ConflictError(
                    "declaration %(declaration)s changed meanwhile: try again",
                    declaration=declaration_id,
                )
            done = conn.execute(
                select(t.proposals.c.id, t.proposals.c.state).where(
                    t.proposals.c.declaration_id == declaration_id,
                    t.proposals.c.origin == origin,
                )
            ).first()
            if done is not None:
                raise ConflictError(
                    "%(part)s paragraph %(number)s of declaration %(declaration)s was already "
                    "promoted as proposal %(id)s, %(state)s (reopen it to review it again)"
                    if done.state == "rejected"
                    else "%(part)s paragraph %(number)s of declaration %(declaration)s was "
                    "already promoted as proposal %(id)s, %(state)s",
                    part=part,
                    number=number,
                    declaration=declaration_id,
                    id=done.id,
                    state=done.state,
                )
            _check_not_queued(conn, declaration_id, text)
            position = _insertion_point(conn, declaration_id, origin)
            draft = DraftStatement(position=position, text=text, line=0, lang=lang)
            pid = _insert_proposal(conn, declaration_id, position, draft, suggestions, origin)
            record_audit(
                conn,
                actor,
                "proposal.promote",
                f"proposal {pid}",
                None,
                {"declaration": declaration_id, "from": origin, "position": position, "text": text},
            )
    except SQLAlchemyError as exc:
        raise StoreError(
            "promoting the paragraph failed and was rolled back: %(reason)s", reason=exc
        ) from None
    return proposal(store, pid)


def add_proposal(store: Store, declaration_id: int, text: str, *, actor: Actor) -> Proposal:
    """A statement a reviewer adds by hand to a declaration (one the reader missed or cut
    badly): a pending proposal with its suggestions, reviewed like the others, placed after the
    operative part (before any promoted closing paragraph)."""
    actor = secretariat_name(actor, "correct the review queue")
    text = _clean_text(text)
    with store.connection() as conn:
        lang = _active(conn, declaration_id).lang
    suggestions = _suggest(store, [text], [lang])[0]
    try:
        with store.transaction(immediate=True) as conn:
            _active(conn, declaration_id, lock=True)
            _check_not_queued(conn, declaration_id, text)
            position = _insertion_point(conn, declaration_id, HAND)
            draft = DraftStatement(position=position, text=text, line=0, lang=lang)
            pid = _insert_proposal(conn, declaration_id, position, draft, suggestions, HAND)
            record_audit(
                conn,
                actor,
                "proposal.add",
                f"proposal {pid}",
                None,
                {"declaration": declaration_id, "position": position, "text": text},
            )
    except SQLAlchemyError as exc:
        raise StoreError(
            "adding the statement failed and was rolled back: %(reason)s", reason=exc
        ) from None
    return proposal(store, pid)


# A sentence ends at . ! ? (closing quotes or brackets may follow) before a capital letter or an
# opening mark; a semicolon ends a clause of a list whatever follows. Not after an initial
# ("U.", "e.g.") nor a usual abbreviation.
_END = re.compile(r"([.!?;])[\"”’»)\]]*\s+(?=\S)")
_OPENERS = '¿¡"“‘«(['
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr no nos art arts sr sra sres srs dra lic ing st vs núm num pág p pp cf".split()
)


def _sentence_starts(text: str) -> list[int]:
    starts = [0]
    for m in _END.finditer(text):
        nxt = text[m.end()]
        if m.group(1) != ";":
            word = text[: m.start(1)].rsplit(None, 1)[-1] if text[: m.start(1)].strip() else ""
            if "." in word or len(word) <= 1 or word.lower().strip("(") in _ABBREVIATIONS:
                continue
            if not (nxt.isupper() or nxt in _OPENERS):
                continue
        starts.append(m.end())
    return starts


def _item_layout(p: Proposal) -> tuple[str, list[int]] | None:
    """For a proposal whose text is its chapeau (or heading) followed by its items: the chapeau
    and where each item starts in the text. None when the text is not laid out so (no items, or
    the wording was changed)."""
    if not p.items:
        return None
    joined = " ".join(p.items)
    if not p.text.endswith(joined):
        return None
    intro = p.text[: len(p.text) - len(joined)].rstrip()
    at = len(p.text) - len(joined)
    starts = []
    for item in p.items:
        starts.append(at)
        at += len(item) + 1
    return intro, starts


def split_points(p: Proposal) -> list[str]:
    """The proposal's parts a split may start at, numbered from 1 in the order they come: its
    items (for a chapeau with a list), else its sentences. A split starts the second part at
    part 2 or later."""
    layout = _item_layout(p)
    if layout is not None:
        return list(p.items)
    starts = [*_sentence_starts(p.text), len(p.text)]
    return [p.text[a:b].strip() for a, b in itertools.pairwise(starts)]


def _split_index(p: Proposal, at: str | None, sentence: int | None) -> int:
    """The 1-based part where the second half starts (≥ 2)."""
    parts = split_points(p)
    kind = "items" if _item_layout(p) is not None else "sentences"
    if (at is None) == (sentence is None):
        raise ReviewError("say where to split: the text the second part starts with, or its number")
    if len(parts) < 2:
        raise ReviewError(
            "proposal %(id)s is one %(kind)s: there is nothing to split", id=p.id, kind=kind[:-1]
        )
    listing = "; ".join(f"{k} «{_short(x)}»" for k, x in enumerate(parts[1:], 2))
    if sentence is not None:
        if not 2 <= sentence <= len(parts):
            raise ReviewError(
                "proposal %(id)s has %(n)s %(kind)s: the second part starts at one of 2 to %(n)s "
                "(%(listing)s)",
                id=p.id,
                n=len(parts),
                kind=kind,
                listing=listing,
            )
        return sentence
    assert at is not None
    wanted = collapse(at)
    if not wanted:
        raise ReviewError("say where to split: the text the second part starts with")
    layout = _item_layout(p)
    starts = layout[1] if layout is not None else _sentence_starts(p.text)
    found = [m.start() for m in re.finditer(re.escape(wanted), p.text, re.IGNORECASE)]
    if not found:
        raise ReviewError(
            "%(text)s is not in proposal %(id)s's text", text=repr(_short(wanted)), id=p.id
        )
    at_boundary = [starts.index(x) + 1 for x in found if x in starts and starts.index(x) > 0]
    if not at_boundary:
        raise ReviewError(
            "proposal %(id)s cannot be split at %(text)s: that is not where one of its %(kind)s "
            "starts. It can be split at: %(listing)s",
            id=p.id,
            text=repr(_short(wanted)),
            kind=kind,
            listing=listing,
        )
    if len(at_boundary) > 1:
        raise ReviewError(
            "%(text)s starts several of proposal %(id)s's %(kind)s (%(numbers)s): give its number "
            "instead",
            text=repr(_short(wanted)),
            id=p.id,
            kind=kind,
            numbers=", ".join(map(str, at_boundary)),
        )
    return at_boundary[0]


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _halves(p: Proposal, k: int) -> tuple[DraftStatement, DraftStatement]:
    """The two statements a split at part ``k`` makes. A chapeau (or heading) with a list keeps
    its chapeau in both halves, each with its items, so that each reads as a statement; a run of
    sentences is cut between sentence k-1 and sentence k."""
    base = DraftStatement(position=p.position, text=p.text, lead=p.lead, line=p.line, lang=p.lang)
    layout = _item_layout(p)
    if layout is not None:
        intro = layout[0]
        first, second = p.items[: k - 1], p.items[k - 1 :]
        return (
            replace(base, text=collapse(f"{intro} {' '.join(first)}"), heading=p.heading,
                    items=first),
            replace(base, text=collapse(f"{intro} {' '.join(second)}"), heading=p.heading,
                    items=second),
        )  # fmt: skip
    cut = _sentence_starts(p.text)[k - 1]
    return (
        replace(base, text=p.text[:cut].strip(), heading=p.heading),
        replace(base, text=p.text[cut:].strip()),
    )


def split_proposal(
    store: Store,
    proposal_id: int,
    *,
    at: str | None = None,
    sentence: int | None = None,
    actor: Actor,
) -> tuple[Proposal, Proposal]:
    """Cut a pending proposal in two at a sentence or item boundary: given by the text the second
    part starts with (``at``) or by that part's number (``sentence``, from 2; see
    :func:`split_points`). The proposal keeps its id and the first part; the second part is a new
    proposal just after it; both get fresh suggestions."""
    actor = secretariat_name(actor, "correct the review queue")
    with store.connection() as conn:
        p = _pending(conn, proposal_id)
        _active(conn, p.declaration_id)
    first, second = _halves(p, _split_index(p, at, sentence))
    sug = _suggest(store, [first.text, second.text], [p.lang, p.lang])
    try:
        with store.transaction(immediate=True) as conn:
            _active(conn, p.declaration_id, lock=True)
            now = _pending(conn, proposal_id)
            if (now.text, now.position, now.items) != (p.text, p.position, p.items):
                raise ConflictError(
                    "proposal %(id)s changed meanwhile: look again and retry", id=p.id
                )
            _rewrite(conn, p.id, first, sug[0])
            new_id = _insert_proposal(
                conn, p.declaration_id, p.position + 1, second, sug[1], p.origin
            )
            record_audit(
                conn,
                actor,
                "proposal.split",
                f"proposal {p.id}",
                {"text": p.text, "items": list(p.items), "position": p.position},
                {
                    "text": first.text,
                    "items": list(first.items),
                    "new_proposal": new_id,
                    "new_text": second.text,
                    "new_position": p.position + 1,
                },
            )
    except SQLAlchemyError as exc:
        raise StoreError(
            "splitting proposal %(id)s failed and was rolled back: %(reason)s",
            id=proposal_id,
            reason=exc,
        ) from None
    return proposal(store, p.id), proposal(store, new_id)


def _rewrite(conn: Connection, pid: int, draft: DraftStatement, sug: dict[str, Any]) -> None:
    done = conn.execute(
        update(t.proposals)
        .where(t.proposals.c.id == pid, t.proposals.c.state == "pending")
        .values(
            text=draft.text,
            heading=draft.heading,
            items=json.dumps(list(draft.items), ensure_ascii=False),
            suggestions=json.dumps(sug, ensure_ascii=False),
        )
    ).rowcount
    if done != 1:
        raise _decided(_read_proposal(conn, pid))


def _joined(p: Proposal, q: Proposal) -> DraftStatement:
    """One statement of two that follow each other. The list structure is kept where the merged
    text still reads as chapeau + items: two lists under the same chapeau become one list; a
    list followed by a plain sentence takes it as its last item; a plain sentence followed by a
    list becomes that list's chapeau. Otherwise the result is plain text."""
    text = collapse(f"{p.text} {q.text}")
    base = DraftStatement(
        position=p.position, text=text, heading=p.heading, lead=p.lead, line=p.line, lang=p.lang
    )
    lp, lq = _item_layout(p), _item_layout(q)
    if lp is not None and lq is not None and lp[0] == lq[0]:
        items = (*p.items, *q.items)
        return replace(base, text=collapse(f"{lp[0]} {' '.join(items)}"), items=items)
    if lp is not None and not q.items:
        return replace(base, items=(*p.items, q.text))
    if not p.items and lq is not None:
        return replace(base, heading=None, items=q.items)
    return replace(base, heading=p.heading if not p.items else None)


def merge_proposal(store: Store, proposal_id: int, *, actor: Actor) -> Proposal:
    """Join a pending proposal with the next one of its declaration (also pending) into one
    proposal, which keeps the first's id and gets fresh suggestions; the second is removed (its
    text stays in the audit trail) and the positions after it close up."""
    actor = secretariat_name(actor, "correct the review queue")
    with store.connection() as conn:
        p = _pending(conn, proposal_id)
        _active(conn, p.declaration_id)
        q = _next(conn, p)
    merged = _joined(p, q)
    sug = _suggest(store, [merged.text], [p.lang])[0]
    try:
        with store.transaction(immediate=True) as conn:
            _active(conn, p.declaration_id, lock=True)
            now, later = _pending(conn, p.id), _next(conn, p)
            if (now.text, now.position, later.id, later.text) != (p.text, p.position, q.id, q.text):
                raise ConflictError(
                    "proposal %(id)s or the next changed meanwhile: try again", id=p.id
                )
            conn.execute(
                t.proposals.delete().where(
                    t.proposals.c.id == q.id, t.proposals.c.state == "pending"
                )
            )
            _rewrite(conn, p.id, merged, sug)
            _shift(conn, p.declaration_id, q.position + 1, -1)
            record_audit(
                conn,
                actor,
                "proposal.merge",
                f"proposal {p.id}",
                {"text": p.text, "next_proposal": q.id, "next_text": q.text},
                {"text": merged.text, "items": list(merged.items)},
            )
    except SQLAlchemyError as exc:
        raise StoreError(
            "merging proposal %(id)s failed and was rolled back: %(reason)s",
            id=proposal_id,
            reason=exc,
        ) from None
    return proposal(store, p.id)


def _next(conn: Connection, p: Proposal) -> Proposal:
    pr = t.proposals
    nid = conn.scalar(
        select(pr.c.id)
        .where(pr.c.declaration_id == p.declaration_id, pr.c.position > p.position)
        .order_by(pr.c.position)
        .limit(1)
    )
    if nid is None:
        raise ReviewError(
            "proposal %(id)s is the last of declaration %(declaration)s: there is no next "
            "proposal to merge it with",
            id=p.id,
            declaration=p.declaration_id,
        )
    q = _read_proposal(conn, nid)
    if q.state != "pending":
        raise ConflictError(
            "the next proposal, %(id)s, is %(state)s: only two pending proposals are merged",
            id=q.id,
            state=q.state,
        )
    return q


# --- withdrawing and replacing a declaration ------------------------------------------------------


@dataclass(frozen=True)
class Closed:
    """What withdrawing or replacing a declaration did: the declaration as it is now, the pending
    proposals it rejected, the statements accepted from it (they stay in the compendium), and for
    a replacement the new declaration with the statements it carried over (old proposal -> new
    proposal, statement) and those the corrected file no longer has."""

    declaration: Declaration
    rejected: list[int]
    kept: list[str]
    replacement: Declaration | None = None
    carried: list[tuple[int, int, str]] = field(default_factory=list)
    not_in_new_file: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "declaration": self.declaration.as_dict(),
            "rejected_proposals": self.rejected,
            "statements_kept": self.kept,
            "replacement": self.replacement.as_dict() if self.replacement else None,
            "carried_over": [
                {"old_proposal": a, "new_proposal": b, "statement": c} for a, b, c in self.carried
            ],
            "not_in_new_file": self.not_in_new_file,
        }


def _close_queue(
    conn: Connection, declaration_id: int, actor: str, reason: str
) -> tuple[list[int], list[str]]:
    """Reject every pending proposal of the declaration (audited one by one); the ids rejected
    and the statements accepted from it."""
    rejected = []
    for p in [
        _proposal(r, r.meeting_code)
        for r in conn.execute(
            select(t.proposals, t.declarations.c.meeting_code)
            .join(t.declarations, t.declarations.c.id == t.proposals.c.declaration_id)
            .where(t.proposals.c.declaration_id == declaration_id, t.proposals.c.state == "pending")
            .order_by(t.proposals.c.position)
        )
    ]:
        _decide(conn, p, "rejected", actor, {"reason": reason[:2000]}, None)
        rejected.append(p.id)
    kept = list(
        conn.scalars(
            select(t.proposals.c.statement_id)
            .where(
                t.proposals.c.declaration_id == declaration_id,
                t.proposals.c.state == "accepted",
                t.proposals.c.statement_id.is_not(None),
            )
            .order_by(t.proposals.c.position)
        )
    )
    return rejected, kept


def _mark_closed(
    conn: Connection, r: Any, state: str, actor: str, reason: str, replaced_by: int | None = None
) -> None:
    done = conn.execute(
        update(t.declarations)
        .where(t.declarations.c.id == r.id, t.declarations.c.state == "active")
        .values(
            state=state,
            replaced_by=replaced_by,
            withdrawn_at=clock.now(),
            withdrawn_by=actor,
            withdrawn_reason=reason[:2000],
        )
    ).rowcount
    if done != 1:  # closed by someone else between our read and this write
        _active(conn, r.id)
        raise ConflictError("declaration %(id)s changed meanwhile: try again", id=r.id)


def withdraw_declaration(store: Store, declaration_id: int, *, reason: str, actor: Actor) -> Closed:
    """Take a declaration out of review (added by mistake, the wrong document): every pending
    proposal is rejected in the same transaction, the declaration marked withdrawn with who,
    when and why. Statements already accepted from it stay in the compendium as they are (a
    person accepted each; retiring one is an edit of the compendium, not of the queue); the
    result lists them. A withdrawn declaration cannot be reopened, replaced or withdrawn again."""
    actor = secretariat_name(actor, "withdraw declarations")
    reason = collapse(reason)
    if not reason:
        raise ReviewError("say why the declaration is withdrawn (--reason)")
    try:
        with store.transaction(immediate=True) as conn:
            r = _active(conn, declaration_id, lock=True)
            rejected, kept = _close_queue(
                conn, declaration_id, actor, f"declaration withdrawn: {reason}"
            )
            _mark_closed(conn, r, "withdrawn", actor, reason)
            record_audit(
                conn,
                actor,
                "declaration.withdraw",
                f"declaration {declaration_id}",
                {"state": "active"},
                {
                    "state": "withdrawn",
                    "reason": reason[:2000],
                    "rejected_proposals": rejected,
                    "statements_kept": kept,
                },
            )
    except SQLAlchemyError as exc:
        raise StoreError(
            "withdrawing declaration %(declaration)s failed and was rolled back: %(reason)s",
            declaration=declaration_id,
            reason=exc,
        ) from None
    return Closed(declaration_record(store, declaration_id), rejected, kept)


def _accepted_forms(conn: Connection, declaration_id: int) -> list[tuple[int, str, set[str]]]:
    """The statements accepted from a declaration and still in the compendium: (proposal,
    statement, the normal forms it is known by: its wording now and the draft accepted)."""
    p, s = t.proposals, t.statements
    return [
        (r.id, r.statement_id, {normal_form(r.text), r.normal_form})
        for r in conn.execute(
            select(p.c.id, p.c.text, p.c.statement_id, s.c.normal_form)
            .join(s, s.c.id == p.c.statement_id)
            .where(
                p.c.declaration_id == declaration_id,
                p.c.state == "accepted",
                s.c.retired_at.is_(None),
            )
            .order_by(p.c.position)
        )
    ]


def replace_declaration(
    store: Store,
    declaration_id: int,
    corrected: DeclarationText,
    *,
    actor: Actor,
    reason: str | None = None,
    year: int | None = None,
    place: str | None = None,
    date: str | None = None,
    reference: str | None = None,
) -> Closed:
    """File ``corrected`` as the declaration of the same meeting (same code and label, no second
    meeting) in place of ``declaration_id``, which is marked replaced (``replaced_by``) and its
    pending proposals rejected. Year, place, date and reference default to the old one's.

    The rule for what was accepted already: a statement of the corrected file whose normal form
    (its letters and digits, whatever the spacing, case, accents or punctuation) equals that of a
    statement accepted from the old file (its wording now, or the draft that was accepted) is not
    queued again: its proposal is recorded as accepted, linked to that statement (same id, no
    duplicate). Anything else is a pending proposal. Accepted statements the corrected file no
    longer has stay in the compendium and are listed, for a person to reword or retire."""
    actor = secretariat_name(actor, "replace declarations")
    reference = check_reference(reference)
    reason = collapse(reason or "") or "a corrected file"
    with store.connection() as conn:
        old = _active(conn, declaration_id)
    if corrected.sha256 == old.sha256:
        raise ConflictError(
            "%(file)s is the same file as declaration %(declaration)s: nothing to replace",
            file=corrected.name,
            declaration=declaration_id,
        )
    if year is not None:
        _check_year(year)
    suggestions = _suggest(
        store, [s.text for s in corrected.statements], [s.lang for s in corrected.statements]
    )
    ref = MeetingRef(old.meeting_number, parse_meeting(old.meeting_code).extraordinary)
    try:
        with store.transaction(immediate=True) as conn:
            old = _active(conn, declaration_id, lock=True)
            _same_file(conn, corrected)
            new_id = _insert_declaration(
                conn,
                corrected,
                ref,
                old.meeting_label,
                year=year if year is not None else old.year,
                place=place if place is not None else old.place,
                date=date if date is not None else old.date,
                reference=reference if reference is not None else old.reference,
                actor=actor,
            )
            rejected, kept = _close_queue(
                conn, declaration_id, actor, f"declaration replaced by declaration {new_id}"
            )
            _mark_closed(conn, old, "replaced", actor, reason, replaced_by=new_id)
            carried = _file_corrected(conn, declaration_id, new_id, corrected, suggestions, actor)
            _keep_reading(conn, new_id, corrected)
            _move_meeting(conn, old, new_id, year=year, place=place, date=date)
            linked = {sid for _, _, sid in carried}
            record_audit(
                conn,
                actor,
                "declaration.replace",
                f"declaration {declaration_id}",
                {"state": "active", "sha256": old.sha256, "name": old.name},
                {
                    "state": "replaced",
                    "replaced_by": new_id,
                    "reason": reason[:2000],
                    "name": corrected.name,
                    "sha256": corrected.sha256,
                    "rejected_proposals": rejected,
                    "carried_over": [list(x) for x in carried],
                },
            )
    except IntegrityError:
        raise ConflictError(
            "%(file)s was added by someone else just now: nothing replaced", file=corrected.name
        ) from None
    except SQLAlchemyError as exc:
        raise StoreError(
            "replacing declaration %(declaration)s failed and was rolled back: %(reason)s",
            declaration=declaration_id,
            reason=exc,
        ) from None
    return Closed(
        declaration_record(store, declaration_id),
        rejected,
        kept,
        replacement=declaration_record(store, new_id),
        carried=carried,
        not_in_new_file=[sid for sid in kept if sid not in linked],
    )


def _file_corrected(
    conn: Connection,
    old_id: int,
    new_id: int,
    corrected: DeclarationText,
    suggestions: list[dict[str, Any]],
    actor: str,
) -> list[tuple[int, int, str]]:
    """Queue the corrected file's statements, linking those already accepted (see
    :func:`replace_declaration`); (old proposal, new proposal, statement) for each link."""
    accepted = _accepted_forms(conn, old_id)
    carried: list[tuple[int, int, str]] = []
    for s, sug in zip(corrected.statements, suggestions, strict=True):
        form = normal_form(s.text)
        match = next(
            (a for a in accepted if form in a[2] and a[1] not in {c[2] for c in carried}), None
        )
        row = _draft_row(new_id, s, sug)
        if match is not None:
            row |= {
                "state": "accepted",
                "decided_by": actor,
                "decided_at": clock.now(),
                "statement_id": match[1],
                "decision": json.dumps(
                    {"carried_over_from": match[0], "declaration": old_id, "rule": "same text"}
                ),
            }
        pid = conn.execute(insert(t.proposals).values(**row).returning(t.proposals.c.id))
        new_pid = int(pid.scalar_one())
        if match is not None:
            carried.append((match[0], new_pid, match[1]))
            record_audit(
                conn,
                actor,
                "proposal.carry",
                f"proposal {new_pid}",
                {"proposal": match[0], "declaration": old_id},
                {"state": "accepted", "statement_id": match[1], "declaration": new_id},
            )
    return carried


def _move_meeting(
    conn: Connection,
    old: Any,
    new_id: int,
    *,
    year: int | None,
    place: str | None,
    date: str | None,
) -> None:
    """The meeting (if statements of it were accepted) now comes from the corrected file, and
    takes the year, place and date given with it."""
    changes: dict[str, Any] = {"declaration_id": new_id}
    changes |= {"year": year} if year is not None else {}
    changes |= {"place": place} if place is not None else {}
    changes |= {"date": date} if date is not None else {}
    conn.execute(
        update(t.meetings)
        .where(t.meetings.c.code == old.meeting_code, t.meetings.c.declaration_id == old.id)
        .values(**changes)
    )
