"""New declarations and their review queue.

``add_declaration`` files a split declaration (``rcm.parse.declaration``) with the machine's
suggestions for each draft statement; nothing reaches the compendium until a person decides:
``accept_proposal`` (as suggested, or with their own text, category, placements and objectives) or
``reject_proposal`` (with a reason). Each decision is one transaction, written to the audit trail,
and refuses a proposal someone else has already decided, so two reviewers never both accept one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
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
    Meeting,
    MeetingRef,
    parse_meeting,
    to_roman,
)
from rcm.parse.text import collapse, normal_form
from rcm.store import Store, meeting_from_row, search_index, version_row
from rcm.store import schema as t

STATES = ("pending", "accepted", "rejected")
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
    reference: str | None = None

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
            "reference": self.reference,
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
        }


def meeting_number(text: str | int) -> int:
    """ "XXII", "xxii", "XXII RCM" or 22 -> 22 (read by :func:`rcm.model.parse_meeting`); an
    extraordinary meeting's code is refused: it is added with ``extraordinary=True``."""
    try:
        ref = parse_meeting(text)
    except ValueError:
        if isinstance(text, int) or (text.strip().isascii() and text.strip().isdigit()):
            raise ReviewError(f"meeting {text} is out of range (1–{MAX_MEETING})") from None
        raise ReviewError(f"{text!r} is not a meeting number such as XXII or 22") from None
    if ref.extraordinary:
        raise ReviewError(
            f"{text!r} is an extraordinary meeting: give its cycle ({to_roman(ref.number)}) and "
            "mark it extraordinary (--extraordinary)"
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
        raise ReviewError(f"the reference is {len(text)} characters long; at most {MAX_REFERENCE}")
    return text


def _taken_codes(conn: Connection) -> dict[str, str]:
    """Meeting codes in use -> what uses them, for the error message."""
    out = {code: "the compendium" for code in conn.scalars(select(t.meetings.c.code))}
    for code, did in conn.execute(select(t.declarations.c.meeting_code, t.declarations.c.id)):
        out.setdefault(code, f"declaration {did}")
    return out


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
    ``reference``: the document's symbol or address, which citations name."""
    actor = secretariat_name(actor, "add declarations")
    reference = check_reference(reference)
    from rcm.suggest import Suggester

    number = meeting_number(meeting)
    if not 1990 <= year <= 2100:
        raise ReviewError(f"year {year} is not plausible for an RCM meeting (1990–2100)")
    roman = to_roman(number)
    compendium = store.load()
    suggester = Suggester.train(compendium)
    suggestions = suggester.suggest_many(
        [s.text for s in declaration.statements], [s.lang for s in declaration.statements]
    )
    try:
        with store.transaction() as conn:
            taken = _taken_codes(conn)
            same_file = conn.execute(
                select(t.declarations.c.id, t.declarations.c.meeting_label).where(
                    t.declarations.c.sha256 == declaration.sha256
                )
            ).first()
            if same_file is not None:
                raise ConflictError(
                    f"{declaration.name} was already added as declaration {same_file.id} "
                    f"({same_file.meeting_label}); see `rcm review list --declaration "
                    f"{same_file.id}`"
                )
            if extraordinary:
                k = 1
                while MeetingRef(number, k).code in taken:
                    k += 1
                ref = MeetingRef(number, k)
            else:
                ref = MeetingRef(number)
                if ref.code in taken:
                    raise ConflictError(
                        f"the {ref.label} already exists in {taken[ref.code]}: a declaration is "
                        "added once per meeting (use --extraordinary for an extraordinary meeting)"
                    )
            code, label = ref.code, ref.label
            declaration_id = conn.execute(
                insert(t.declarations)
                .values(
                    meeting_code=code,
                    meeting_number=number,
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
                )
                .returning(t.declarations.c.id)
            ).scalar_one()
            conn.execute(
                insert(t.proposals),
                [
                    {
                        "declaration_id": declaration_id,
                        "position": s.position,
                        "text": s.text,
                        "heading": s.heading,
                        "items": json.dumps(list(s.items), ensure_ascii=False),
                        "lead": s.lead,
                        "line": s.line,
                        "lang": s.lang,
                        "suggestions": json.dumps(sug.as_dict(), ensure_ascii=False),
                        "state": "pending",
                    }
                    for s, sug in zip(declaration.statements, suggestions, strict=True)
                ],
            )
            record_audit(
                conn,
                actor,
                "declaration.add",
                f"declaration {declaration_id}",
                None,
                {
                    "meeting": code,
                    "name": declaration.name,
                    "sha256": declaration.sha256,
                    "statements": len(declaration.statements),
                    "reference": reference,
                },
            )
    except IntegrityError:
        # Another reviewer added the same meeting or file between our check and our insert.
        raise ConflictError(
            f"the meeting {roman} or this file was added by someone else just now: nothing added"
        ) from None
    except SQLAlchemyError as exc:
        raise StoreError(f"adding the declaration failed and was rolled back: {exc}") from None
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
        reference=r.reference,
    )


def declaration_record(store: Store, declaration_id: int) -> Declaration:
    with store.connection() as conn:
        r = conn.execute(
            select(t.declarations).where(t.declarations.c.id == declaration_id)
        ).first()
        if r is None:
            raise NotFound(f"no declaration {declaration_id}")
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
    )


def proposals(
    store: Store, *, declaration_id: int | None = None, state: str | None = None
) -> list[Proposal]:
    if state is not None and state not in STATES:
        raise ReviewError(f"unknown state {state!r}: use one of {', '.join(STATES)}")
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
            raise NotFound(f"no declaration {declaration_id}")
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
        raise NotFound(f"no proposal {proposal_id}")
    return _proposal(r, r.meeting_code)


def _decided(p: Proposal) -> ConflictError:
    when = p.decided_at.strftime("%Y-%m-%d %H:%M UTC") if p.decided_at else "earlier"
    what = f" as {p.statement_id}" if p.statement_id else ""
    return ConflictError(
        f"proposal {p.id} was already {p.state} by {p.decided_by} on {when}{what}: "
        "a decision is taken once"
    )


def parse_placement(text: str) -> tuple[int, int]:
    """ "5.2", "TS5.2", "ts5/2" -> (5, 2)."""
    m = re.fullmatch(r"\s*(?:TS)?\s*(\d)\s*[./:]\s*(\d{1,2})\s*", text, re.I)
    if not m:
        raise ReviewError(
            f"{text!r} is not a placement: write theme.sub-theme, e.g. 5.2 for TS5's 2nd sub-theme"
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
                raise ReviewError(f"the statement's text is longer than {MAX_TEXT} characters")
            edited_text = final_text != p.text
            chosen = category if category is not None else p.suggested_category
            try:
                final_category = Category(chosen.strip().lower())
            except ValueError:
                raise ReviewError(
                    f"unknown category {chosen!r}: use one of "
                    + ", ".join(c.value for c in Category)
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
                        f"there is no sub-theme {place[0]}.{place[1]}: "
                        f"see `rcm stats` for the themes and their sub-themes"
                    )
            chosen_objectives = (
                list(dict.fromkeys(objectives))
                if objectives is not None
                else p.suggested_objectives
            )
            for n in chosen_objectives:
                if not 1 <= n <= 23:
                    raise ReviewError(f"{n} is not a GCM objective (1–23)")
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
            f"accepting proposal {proposal_id} failed and was rolled back: {exc}"
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
                    f"proposal {p.id} is {p.state}: only a rejected proposal goes back in the queue"
                )
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
                raise ConflictError(f"proposal {p.id} was reopened by someone else just now")
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
            f"reopening proposal {proposal_id} failed and was rolled back: {exc}"
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
            f"the {meeting.label} already has this statement as {twin}: reject the proposal or "
            "edit its text"
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
            f"rejecting proposal {proposal_id} failed and was rolled back: {exc}"
        ) from None
    return proposal(store, proposal_id)
