"""Edits of a statement by id: its wording (kept as versions), category, placements, GCM
objectives, and retirement. The one core every adapter uses: `rcm ingest` of a Word compilation
(all of a file's edits in ONE outer transaction: :func:`ingest` calls the ``*_in``
functions on its connection), the web's editing pages and the CLI (one transaction per edit:
the functions taking a ``Store`` or a ``Connection``).

Each edit:
- is audited (``rcm.audit.record_audit``, object ``"statement <id>"``) in its transaction;
- refreshes the search index for the statement and bumps the index generation;
- checks ``expected_version`` (optimistic concurrency: the wording version the editor saw) and
  raises :class:`~rcm.errors.ConflictError` naming the current version and who last changed the
  statement when it differs;
- returns a :class:`Change` (or None when nothing changed: no version, no audit event).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from rcm.audit import AuditEvent, record_audit
from rcm.consult import Actor, secretariat_name
from rcm.errors import BadInput, ConflictError, DocumentError, NotFound, Problem, StoreError
from rcm.ids import assign_ids, canonical_id
from rcm.model import Category, CategorySource, Compendium, PrintedRow
from rcm.parse.text import collapse, normal_form
from rcm.store import (
    DatabaseFailure,
    IngestResult,
    Store,
    ingest_into,
    search_index,
    version_row,
    write_document_frame,
)
from rcm.store import schema as t

__all__ = [
    "ACTION_KINDS",
    "Change",
    "History",
    "IngestReport",
    "Version",
    "also_relevant_note",
    "edit_statement",
    "history",
    "ingest",
    "last_event",
    "list_text",
    "printed_text",
    "recategorise",
    "replace_placements",
    "retire",
    "reword",
    "set_objectives",
    "unretire",
]

MAX_TEXT = 20_000
MAX_REASON = 1_000
KINDS = ("added", "reworded", "recategorised", "re-placed", "retired", "unretired", "objectives")
_ACTIONS = {
    "added": "statement.add",
    "reworded": "statement.reword",
    "recategorised": "statement.recategorise",
    "re-placed": "statement.place",
    "retired": "statement.retire",
    "unretired": "statement.unretire",
    "objectives": "statement.objectives",
}

Target = Store | Connection
T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    """One change to one statement, as the change report prints it and the audit trail keeps
    it. ``before`` and ``after`` are JSON-ready values (a wording, a category, placements …)."""

    kind: str  # added | reworded | recategorised | re-placed | retired | unretired | objectives
    statement_id: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "statement_id": self.statement_id,
            "before": self.before,
            "after": self.after,
        }

    def describe(self, lang: str = "en") -> str:
        """One line of the change report, in its language (``rcm.i18n``)."""
        from rcm.i18n import words

        w = words(lang)

        def places(value: Any) -> str:
            return ", ".join(f"{p['theme']}.{p['subtheme']}" for p in value or []) or w.ctx(
                "placements", "none"
            )

        sid = self.statement_id
        if self.kind == "added":
            return w("added        {sid}: {text}", sid=sid, text=_short(self.after["text"]))
        if self.kind == "reworded":
            return w(
                "reworded     {sid} (version {old} -> {new}): {text}",
                sid=sid,
                old=self.before["version"],
                new=self.after["version"],
                text=_short(self.after["text"]),
            )
        if self.kind == "recategorised":
            none = w.ctx("category", "none")
            before = w.category(self.before, self.before) if self.before else none
            after = w.category(self.after, self.after) if self.after else none
            return w("recategorised {sid}: {old} -> {new}", sid=sid, old=before, new=after)
        if self.kind == "re-placed":
            return w(
                "re-placed    {sid}: {old} -> {new}",
                sid=sid,
                old=places(self.before),
                new=places(self.after),
            )
        if self.kind == "retired":
            where = places(self.before.get("placements"))
            return w("retired      {sid} (was in {where})", sid=sid, where=where)
        if self.kind == "unretired":
            where = places(self.after.get("placements"))
            return w("unretired    {sid} (now in {where})", sid=sid, where=where)
        return w(
            "objectives   {sid}: {old} -> {new}",
            sid=sid,
            old=self.before or [],
            new=self.after or [],
        )


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- running an edit: in the caller's transaction, or in one of its own -------------------------


def _run(target: Target, work: Callable[[Connection], T]) -> T:
    if isinstance(target, Store):
        with target.transaction(immediate=True) as conn:
            return work(conn)
    return work(target)


def _sid(statement_id: str) -> str:
    try:
        return canonical_id(statement_id)
    except ValueError as exc:
        raise NotFound(str(exc)) from None


def _locked(conn: Connection, sid: str) -> Any:
    """The statement's row, locked for the transaction (PostgreSQL; SQLite's BEGIN IMMEDIATE
    already holds the write lock)."""
    row = conn.execute(
        select(t.statements).where(t.statements.c.id == sid).with_for_update()
    ).first()
    if row is None:
        raise NotFound("no statement %(id)s", id=sid)
    return row


def _last_change(conn: Connection, sid: str) -> str:
    e = conn.execute(
        select(t.audit_events.c.actor, t.audit_events.c.at, t.audit_events.c.action)
        .where(t.audit_events.c.object == f"statement {sid}")
        .order_by(t.audit_events.c.id.desc())
        .limit(1)
    ).first()
    if e is not None:
        return f"{e.action} by {e.actor} at {_iso(e.at)}"
    v = conn.execute(
        select(t.statement_versions.c.actor, t.statement_versions.c.at)
        .where(t.statement_versions.c.statement_id == sid)
        .order_by(t.statement_versions.c.version.desc())
        .limit(1)
    ).first()
    return f"written by {v.actor} at {_iso(v.at)}" if v is not None else "changed by someone else"


def _iso(at: datetime) -> str:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat(timespec="seconds")


def _check_version(conn: Connection, row: Any, expected: int | None) -> None:
    if expected is not None and expected != row.version:
        raise ConflictError(
            "statement %(id)s is at version %(version)s, not %(expected)s: %(last)s; reload it "
            "and edit again",
            id=row.id,
            version=row.version,
            expected=expected,
            last=_last_change(conn, row.id),
        )


def _record(conn: Connection, actor: str, change: Change, origin: str) -> Change:
    after = change.after if isinstance(change.after, dict) else {"value": change.after}
    before = change.before if isinstance(change.before, dict | None) else {"value": change.before}
    record_audit(
        conn,
        actor,
        _ACTIONS[change.kind],
        f"statement {change.statement_id}",
        before,
        {**after, "origin": origin},
    )
    return change


def _reindex(conn: Connection, sids: Sequence[str]) -> None:
    search_index.refresh(conn, list(sids))
    search_index.bump_generation(conn)


def _items_of(conn: Connection, sid: str) -> tuple[str, ...]:
    return tuple(
        conn.scalars(
            select(t.statement_items.c.text)
            .where(t.statement_items.c.statement_id == sid)
            .order_by(t.statement_items.c.position)
        )
    )


# --- the wording --------------------------------------------------------------------------------


def also_relevant_note(themes: Sequence[int], own: int) -> tuple[str | None, tuple[int, ...]]:
    """The cross-reference note of a row filed under theme ``own`` of a statement filed under
    ``themes``, as the compilation prints it ("*Statement also relevant for TS3 and TS5*")."""
    others = tuple(sorted(set(themes) - {own}))
    if not others:
        return None, ()
    names = [f"TS{n}" for n in others]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"*Statement also relevant for {joined}*", others


def printed_text(text: str, heading: str | None, items: Sequence[str], note: str | None) -> str:
    """A row as printed: the statement (a list statement's heading and items) and its note."""
    body = " ".join([heading or "", *items]) if items else text
    return collapse(f"{body} {note or ''}")


def _wording(
    text: str, heading: str | None, items: Sequence[str]
) -> tuple[str, str | None, tuple[str, ...]]:
    final = collapse(text)
    if not final:
        raise BadInput("a statement's text cannot be empty")
    if len(final) > MAX_TEXT:
        raise BadInput("a statement's text is longer than %(n)s characters", n=MAX_TEXT)
    clean_items = tuple(collapse(x) for x in items if collapse(x))
    clean_heading = collapse(heading) if heading and collapse(heading) else None
    return final, clean_heading, clean_items


def reword_in(
    conn: Connection,
    statement_id: str,
    text: str,
    *,
    heading: str | None = None,
    items: Sequence[str] = (),
    expected_version: int | None,
    actor: str,
    origin: str,
    reindex: bool = True,
) -> Change | None:
    """:func:`reword` inside the caller's transaction (``actor`` already allowed)."""
    sid = _sid(statement_id)
    row = _locked(conn, sid)
    _check_version(conn, row, expected_version)
    new_text, new_heading, new_items = _wording(text, heading, items)
    old_items = _items_of(conn, sid)
    if (row.text, row.heading, old_items) == (new_text, new_heading, new_items):
        return None
    form = normal_form(new_text)
    twin = conn.scalar(
        select(t.statements.c.id).where(
            t.statements.c.meeting == row.meeting,
            t.statements.c.normal_form == form,
            t.statements.c.id != sid,
        )
    )
    if twin is not None:
        raise ConflictError(
            "statement %(id)s: its meeting already has this wording as statement %(twin)s",
            id=sid,
            twin=twin,
        )
    version = row.version + 1
    values: dict[str, Any] = {
        "text": new_text,
        "heading": new_heading,
        "normal_form": form,
        "version": version,
    }
    if row.lang == "es":
        values["text_es"] = new_text
    conn.execute(update(t.statements).where(t.statements.c.id == sid).values(**values))
    conn.execute(
        insert(t.statement_versions).values(
            **version_row(
                sid, version, new_text, new_heading, new_items, actor=actor, origin=origin
            )
        )
    )
    conn.execute(delete(t.statement_items).where(t.statement_items.c.statement_id == sid))
    if new_items:
        conn.execute(
            insert(t.statement_items),
            [{"statement_id": sid, "position": i, "text": x} for i, x in enumerate(new_items, 1)],
        )
    pl = t.placements
    for p in conn.execute(select(pl.c.id, pl.c.note).where(pl.c.statement_id == sid)).all():
        conn.execute(
            update(pl)
            .where(pl.c.id == p.id)
            .values(printed_text=printed_text(new_text, new_heading, new_items, p.note))
        )
    if reindex:
        _reindex(conn, [sid])
    before = {
        "version": row.version,
        "text": row.text,
        "heading": row.heading,
        "items": list(old_items),
    }
    after = {"version": version, "text": new_text, "heading": new_heading, "items": list(new_items)}
    return _record(conn, actor, Change("reworded", sid, before, after), origin)


def reword(
    target: Target,
    statement_id: str,
    text: str,
    *,
    heading: str | None = None,
    items: Sequence[str] = (),
    expected_version: int | None,
    actor: Actor,
    origin: str,
) -> Change | None:
    """A new wording for the statement: the same id, ``version`` + 1, the earlier wording kept
    in ``statement_versions``; its items, normal form and every row's printed text follow.
    None when the wording is the same."""
    name = secretariat_name(actor, "edit statements")
    return _run(
        target,
        lambda conn: reword_in(
            conn,
            statement_id,
            text,
            heading=heading,
            items=items,
            expected_version=expected_version,
            actor=name,
            origin=origin,
        ),
    )


# --- the category -------------------------------------------------------------------------------


def _category(value: Category | str | None) -> Category | None:
    if value is None or isinstance(value, Category):
        return value
    try:
        return Category(value.strip().lower())
    except ValueError:
        raise BadInput(
            "unknown category %(bad)s: use one of %(valid)s",
            bad=repr(value),
            valid=", ".join(c.value for c in Category),
        ) from None


def recategorise_in(
    conn: Connection,
    statement_id: str,
    category: Category | str | None,
    *,
    expected_version: int | None,
    actor: str,
    origin: str,
    reindex: bool = True,
) -> Change | None:
    sid = _sid(statement_id)
    row = _locked(conn, sid)
    _check_version(conn, row, expected_version)
    new = _category(category)
    new_value = new.value if new else None
    source = CategorySource.CURATED.value if new else None
    if row.category == new_value and row.category_source == source:
        return None
    conn.execute(
        update(t.statements)
        .where(t.statements.c.id == sid)
        .values(category=new_value, category_source=source, category_confidence=None)
    )
    if reindex:
        _reindex(conn, [sid])
    change = Change("recategorised", sid, row.category, new_value)
    return _record(conn, actor, change, origin)


def recategorise(
    target: Target,
    statement_id: str,
    category: Category | str | None,
    *,
    expected_version: int | None,
    actor: Actor,
    origin: str,
) -> Change | None:
    """A person's category (curated) for the statement; None to leave it without one."""
    name = secretariat_name(actor, "edit statements")
    return _run(
        target,
        lambda conn: recategorise_in(
            conn,
            statement_id,
            category,
            expected_version=expected_version,
            actor=name,
            origin=origin,
        ),
    )


# --- placements ---------------------------------------------------------------------------------


def placements_of(conn: Connection, sid: str) -> list[dict[str, Any]]:
    """A statement's placements as JSON-ready values, in table order."""
    pl = t.placements
    return [
        {"theme": r.theme, "subtheme": r.subtheme, "position": r.position, "note": r.note}
        for r in conn.execute(
            select(pl.c.theme, pl.c.subtheme, pl.c.position, pl.c.note)
            .where(pl.c.statement_id == sid)
            .order_by(pl.c.theme, pl.c.subtheme, pl.c.position)
        )
    ]


def _check_places(conn: Connection, places: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    wanted = list(dict.fromkeys((int(a), int(b)) for a, b in places))
    if not wanted:
        raise BadInput("a statement needs at least one placement (theme.sub-theme)")
    known = {(r.theme, r.position) for r in conn.execute(select(t.subthemes))}
    for theme, sub in wanted:
        if (theme, sub) not in known:
            raise BadInput(
                "there is no sub-theme %(theme)s.%(sub)s: see `rcm stats`", theme=theme, sub=sub
            )
    return wanted


def _write_places(
    conn: Connection, sid: str, row: Any, wanted: list[tuple[int, int]], line: int = 0
) -> None:
    """The statement's placements become ``wanted``: rows kept where they were, new rows at the
    end of their sub-theme's table, every row's note naming the statement's other themes."""
    pl, pt = t.placements, t.placement_themes
    current = {
        (r.theme, r.subtheme): r for r in conn.execute(select(pl).where(pl.c.statement_id == sid))
    }
    gone = [r.id for key, r in current.items() if key not in wanted]
    if gone:
        conn.execute(delete(pt).where(pt.c.placement_id.in_(gone)))
        conn.execute(delete(pl).where(pl.c.id.in_(gone)))
    themes = [th for th, _ in wanted]
    items = _items_of(conn, sid)
    for theme, sub in wanted:
        note, others = also_relevant_note(themes, theme)
        printed = printed_text(row.text, row.heading, items, note)
        old = current.get((theme, sub))
        if old is not None:
            placement_id = old.id
            conn.execute(
                update(pl)
                .where(pl.c.id == old.id)
                .values(note=note, also_relevant_all=False, printed_text=printed)
            )
            conn.execute(delete(pt).where(pt.c.placement_id == old.id))
        else:
            last = conn.scalar(
                select(func.max(pl.c.position)).where(pl.c.theme == theme, pl.c.subtheme == sub)
            )
            placement_id = conn.execute(
                insert(pl)
                .values(
                    statement_id=sid,
                    theme=theme,
                    subtheme=sub,
                    position=(last or 0) + 1,
                    note=note,
                    also_relevant_all=False,
                    printed_text=printed,
                    line=line,
                )
                .returning(pl.c.id)
            ).scalar_one()
        if others:
            conn.execute(insert(pt), [{"placement_id": placement_id, "theme": th} for th in others])


def _place_keys(value: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return sorted((p["theme"], p["subtheme"]) for p in value)


def replace_placements_in(
    conn: Connection,
    statement_id: str,
    places: Sequence[tuple[int, int]],
    *,
    expected_version: int | None,
    actor: str,
    origin: str,
    reindex: bool = True,
) -> Change | None:
    sid = _sid(statement_id)
    row = _locked(conn, sid)
    _check_version(conn, row, expected_version)
    if row.retired_at is not None:
        raise ConflictError("statement %(id)s is retired: unretire it to place it again", id=sid)
    wanted = _check_places(conn, places)
    before = placements_of(conn, sid)
    if _place_keys(before) == sorted(wanted):
        return None
    _write_places(conn, sid, row, wanted)
    if reindex:
        _reindex(conn, [sid])
    change = Change("re-placed", sid, before, placements_of(conn, sid))
    return _record(conn, actor, change, origin)


def replace_placements(
    target: Target,
    statement_id: str,
    places: Sequence[tuple[int, int]],
    *,
    expected_version: int | None,
    actor: Actor,
    origin: str,
) -> Change | None:
    """File the statement under these (theme, sub-theme) pairs and no others."""
    name = secretariat_name(actor, "edit statements")
    return _run(
        target,
        lambda conn: replace_placements_in(
            conn, statement_id, places, expected_version=expected_version, actor=name, origin=origin
        ),
    )


# --- GCM objectives -----------------------------------------------------------------------------


def objectives_of(conn: Connection, sid: str) -> list[int]:
    so = t.statement_objectives
    return list(
        conn.scalars(
            select(so.c.objective)
            .where(so.c.statement_id == sid)
            .order_by(so.c.rank, so.c.objective)
        )
    )


def set_objectives_in(
    conn: Connection,
    statement_id: str,
    objectives: Sequence[int],
    *,
    expected_version: int | None,
    actor: str,
    origin: str,
) -> Change | None:
    sid = _sid(statement_id)
    row = _locked(conn, sid)
    _check_version(conn, row, expected_version)
    wanted = list(dict.fromkeys(int(n) for n in objectives))
    known = set(conn.scalars(select(t.gcm_objectives.c.number)))
    for n in wanted:
        if n not in known:
            raise BadInput("%(n)s is not a GCM objective (1–23)", n=n)
    so = t.statement_objectives
    stored = conn.execute(select(so.c.source).where(so.c.statement_id == sid)).scalars().all()
    before = objectives_of(conn, sid)
    if before == wanted and all(s == CategorySource.CURATED.value for s in stored):
        return None
    conn.execute(delete(so).where(so.c.statement_id == sid))
    if wanted:
        conn.execute(
            insert(so),
            [
                {
                    "statement_id": sid,
                    "objective": n,
                    "source": CategorySource.CURATED.value,
                    "rank": rank,
                    "score": None,
                }
                for rank, n in enumerate(wanted, 1)
            ],
        )
    search_index.bump_generation(conn)
    return _record(conn, actor, Change("objectives", sid, before, wanted), origin)


def set_objectives(
    target: Target,
    statement_id: str,
    objectives: Sequence[int],
    *,
    expected_version: int | None,
    actor: Actor,
    origin: str,
) -> Change | None:
    """The GCM objectives the statement serves, chosen by a person (curated), most central
    first; an empty list removes every link."""
    name = secretariat_name(actor, "edit statements")
    return _run(
        target,
        lambda conn: set_objectives_in(
            conn,
            statement_id,
            objectives,
            expected_version=expected_version,
            actor=name,
            origin=origin,
        ),
    )


# --- retirement ---------------------------------------------------------------------------------


def retire_in(
    conn: Connection,
    statement_id: str,
    *,
    expected_version: int | None,
    actor: str,
    origin: str,
    reindex: bool = True,
    reason: str = "",
) -> Change:
    sid = _sid(statement_id)
    row = _locked(conn, sid)
    _check_version(conn, row, expected_version)
    if row.retired_at is not None:
        raise ConflictError(
            "statement %(id)s is already retired (since %(since)s)",
            id=sid,
            since=_iso(row.retired_at),
        )
    before = {"placements": placements_of(conn, sid)}
    pl, pt = t.placements, t.placement_themes
    ids = select(pl.c.id).where(pl.c.statement_id == sid)
    conn.execute(delete(pt).where(pt.c.placement_id.in_(ids)))
    conn.execute(delete(pl).where(pl.c.statement_id == sid))
    at = datetime.now(UTC)
    conn.execute(
        update(t.statements)
        .where(t.statements.c.id == sid)
        .values(retired_at=at, retired_by=actor[:100])
    )
    if reindex:
        _reindex(conn, [sid])
    after = {"retired_at": at.isoformat(), **_reason(reason)}
    return _record(conn, actor, Change("retired", sid, before, after), origin)


def _reason(reason: str) -> dict[str, str]:
    """Why a statement was retired or brought back, as the audit trail keeps it (if given)."""
    text = collapse(reason)[:MAX_REASON]
    return {"reason": text} if text else {}


def retire(
    target: Target,
    statement_id: str,
    *,
    expected_version: int | None,
    actor: Actor,
    origin: str,
    reason: str = "",
) -> Change:
    """Take the statement out of the compilation: its rows leave every table (they are kept in
    the audit trail, for :func:`unretire`); the statement keeps its id, versions, opinions and
    links, stays readable by id and leaves the default search."""
    name = secretariat_name(actor, "edit statements")
    return _run(
        target,
        lambda conn: retire_in(
            conn,
            statement_id,
            expected_version=expected_version,
            actor=name,
            origin=origin,
            reason=reason,
        ),
    )


def _retired_placements(conn: Connection, sid: str) -> list[tuple[int, int]]:
    before = conn.scalar(
        select(t.audit_events.c.before)
        .where(
            t.audit_events.c.object == f"statement {sid}",
            t.audit_events.c.action == _ACTIONS["retired"],
        )
        .order_by(t.audit_events.c.id.desc())
        .limit(1)
    )
    if not before:
        return []
    return [(p["theme"], p["subtheme"]) for p in json.loads(before).get("placements", [])]


def unretire_in(
    conn: Connection,
    statement_id: str,
    *,
    placements: Sequence[tuple[int, int]] | None = None,
    expected_version: int | None,
    actor: str,
    origin: str,
    reason: str = "",
) -> Change:
    sid = _sid(statement_id)
    row = _locked(conn, sid)
    _check_version(conn, row, expected_version)
    if row.retired_at is None:
        raise ConflictError("statement %(id)s is not retired", id=sid)
    places = list(placements) if placements is not None else _retired_placements(conn, sid)
    if not places:
        raise BadInput("statement %(id)s: say where it goes back (theme.sub-theme)", id=sid)
    wanted = _check_places(conn, places)
    conn.execute(
        update(t.statements)
        .where(t.statements.c.id == sid)
        .values(retired_at=None, retired_by=None)
    )
    _write_places(conn, sid, row, wanted)
    _reindex(conn, [sid])
    change = Change(
        "unretired",
        sid,
        {"retired_at": _iso(row.retired_at), "retired_by": row.retired_by},
        {"placements": placements_of(conn, sid), **_reason(reason)},
    )
    return _record(conn, actor, change, origin)


def unretire(
    target: Target,
    statement_id: str,
    *,
    placements: Sequence[tuple[int, int]] | None = None,
    expected_version: int | None,
    actor: Actor,
    origin: str,
    reason: str = "",
) -> Change:
    """Bring a retired statement back, under ``placements`` (default: where it was when
    retired; its rows go at the end of their tables)."""
    name = secretariat_name(actor, "edit statements")
    return _run(
        target,
        lambda conn: unretire_in(
            conn,
            statement_id,
            placements=placements,
            expected_version=expected_version,
            actor=name,
            origin=origin,
            reason=reason,
        ),
    )


# --- history ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    version: int
    text: str
    heading: str | None
    items: tuple[str, ...]
    at: datetime
    actor: str
    origin: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "text": self.text,
            "heading": self.heading,
            "items": list(self.items),
            "at": _iso(self.at),
            "actor": self.actor,
            "origin": self.origin,
        }


@dataclass(frozen=True)
class History:
    """A statement's wordings (oldest first) and the audit events about it, and both merged in
    time order (``entries``: ("version", Version) and ("event", AuditEvent) pairs)."""

    statement_id: str
    version: int
    retired_at: datetime | None
    versions: list[Version]
    events: list[AuditEvent]

    @property
    def entries(self) -> list[tuple[str, Version | AuditEvent]]:
        merged: list[tuple[datetime, int, str, Version | AuditEvent]] = [
            (v.at, 0, "version", v) for v in self.versions
        ]
        merged += [(e.at, 1, "event", e) for e in self.events]
        merged.sort(key=lambda x: (x[0], x[1]))
        return [(kind, item) for _, _, kind, item in merged]

    def as_dict(self) -> dict[str, Any]:
        return {
            "statement_id": self.statement_id,
            "version": self.version,
            "retired_at": _iso(self.retired_at) if self.retired_at else None,
            "versions": [v.as_dict() for v in self.versions],
            "events": [e.as_dict() for e in self.events],
        }


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def versions_in(conn: Connection, sid: str) -> list[Version]:
    sv = t.statement_versions
    return [
        Version(
            r.version,
            r.text,
            r.heading,
            tuple(json.loads(r.items)),
            _aware(r.at),
            r.actor,
            r.origin,
        )
        for r in conn.execute(select(sv).where(sv.c.statement_id == sid).order_by(sv.c.version))
    ]


def history(store: Store, statement_id: str) -> History:
    """Every wording the statement has had and every audited change to it, in time order."""
    sid = _sid(statement_id)
    with store.connection() as conn:
        row = conn.execute(select(t.statements).where(t.statements.c.id == sid)).first()
        if row is None:
            raise NotFound("no statement %(id)s", id=sid)
        ae = t.audit_events
        events = [
            AuditEvent(
                r.id,
                _aware(r.at),
                r.actor,
                r.action,
                r.object,
                json.loads(r.before) if r.before else None,
                json.loads(r.after) if r.after else None,
            )
            for r in conn.execute(
                select(ae).where(ae.c.object == f"statement {sid}").order_by(ae.c.id)
            )
        ]
        return History(
            sid,
            row.version,
            _aware(row.retired_at) if row.retired_at else None,
            versions_in(conn, sid),
            events,
        )


# --- several parts from one form (the web's editing page) ---------------------------------------


ACTION_KINDS = {action: kind for kind, action in _ACTIONS.items()}


def list_text(heading: str | None, items: Sequence[str]) -> str:
    """A list statement's text, as the compilation's readers make it: "Heading: item item"."""
    joined = " ".join(items)
    return f"{heading}: {joined}" if heading else joined


def last_event(store: Store, statement_id: str) -> int:
    """The id of the latest audit event about the statement (0 if none). With the statement's
    ``version``, what an editing form was built from (see :func:`edit_statement`)."""
    sid = _sid(statement_id)
    with store.connection() as conn:
        return _last_event_in(conn, sid)


def _last_event_in(conn: Connection, sid: str) -> int:
    ae = t.audit_events
    return conn.scalar(select(func.max(ae.c.id)).where(ae.c.object == f"statement {sid}")) or 0


def edit_statement(
    store: Store,
    statement_id: str,
    *,
    expected_version: int,
    seen_event: int,
    wording: Wording | None = None,
    category: Category | str | None = "",
    places: Sequence[tuple[int, int]] | None = None,
    objectives: Sequence[int] | None = None,
    actor: Actor,
    origin: str,
) -> list[Change]:
    """Several parts of a statement edited at once (as from one form), in ONE transaction: each
    part that changed is its own audited change (the wording a new version); a part left as the
    statement has it changes nothing (a suggested category or GCM link stays suggested), so an
    unedited form writes nothing. ``category=""`` (or ``wording``, ``places``, ``objectives``
    None) leaves that part out. A :class:`ConflictError` when the statement moved on since the
    form was built: another version than ``expected_version``, or any audited change after the
    event ``seen_event`` (:func:`last_event`)."""
    name = secretariat_name(actor, "edit statements")

    def work(conn: Connection) -> list[Change]:
        sid = _sid(statement_id)
        row = _locked(conn, sid)
        _check_version(conn, row, expected_version)
        if _last_event_in(conn, sid) > seen_event:
            raise ConflictError(
                "statement %(id)s was changed after this form was made: %(last)s",
                id=sid,
                last=_last_change(conn, sid),
            )
        done: list[Change | None] = []
        common: dict[str, Any] = {"expected_version": None, "actor": name, "origin": origin}
        if wording is not None:
            text, heading, items = wording
            done.append(reword_in(conn, sid, text, heading=heading, items=items, **common))
        if category != "" and _category(category) != _category(row.category):
            done.append(recategorise_in(conn, sid, category, **common))
        if places is not None:
            done.append(replace_placements_in(conn, sid, places, **common))
        if objectives is not None and set(objectives) != set(objectives_of(conn, sid)):
            done.append(set_objectives_in(conn, sid, objectives, **common))
        return [c for c in done if c is not None]

    return _run(store, work)


# --- the Word compilation's ingest, by id ---------------------------------------------------------


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did (or, for a dry run, would do): the counts, and one :class:`Change`
    per statement changed (ingest by id; a document printing no ids reports counts only)."""

    result: IngestResult
    changes: tuple[Change, ...]
    by_id: bool
    dry_run: bool

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "source": r.source,
            "sha256": r.sha256,
            "by_id": self.by_id,
            "dry_run": self.dry_run,
            "added": r.added,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "absent": r.absent,
            "placements": r.placements,
            "placements_changed": r.placements_changed,
            "recategorised": r.recategorised,
            "counts": {kind: self.count(kind) for kind in KINDS},
            "changes": [c.as_dict() for c in self.changes],
        }


class _DryRun(Exception):
    def __init__(self, report: IngestReport) -> None:
        super().__init__("dry run")
        self.report = report


def ingest(
    store: Store,
    c: Compendium,
    *,
    actor: Actor = "ingest",
    apply_everywhere: bool = False,
    dry_run: bool = False,
) -> IngestReport:
    """Ingest a compilation in ONE transaction. A document printing its rows' ids (the Word
    compilation ``rcm export --format docx`` writes) is matched to the statements by id: a
    reworded row rewords its statement (same id, new version), a reshaded one recategorises it
    (curated), a moved one re-places it, a row without an id adds a statement, a statement none
    of whose rows is left is retired; every change audited. A row reworded in one of a
    statement's copies and not in the others is an error naming both rows, unless
    ``apply_everywhere``. Unknown and duplicated ids are errors naming table and row; nothing is
    written then. A document printing no ids is ingested as before (``Store.ingest``).
    ``dry_run``: everything is done and checked, the report made, and the transaction rolled
    back."""
    name = secretariat_name(actor, "ingest a compilation")
    store.migrate()
    try:
        with store.transaction(immediate=True) as conn:
            _refuse_a_part(conn, c)
            if c.rows:
                report = _ingest_by_id(conn, c, name, apply_everywhere, dry_run)
            else:
                report = IngestReport(ingest_into(conn, c), (), False, dry_run)
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        return done.report
    except (SQLAlchemyError, DatabaseFailure) as exc:
        raise StoreError(
            "ingest into %(db)s failed and was rolled back: %(reason)s",
            db=store.display_url,
            reason=exc,
        ) from None
    return report


def _refuse_a_part(conn: Connection, c: Compendium) -> None:
    """A focused Word compilation ("Selection: …" on its title page) holds part of the compendium:
    ingested into a database holding statements it leaves out, those would be taken as deleted
    (retired). Refused then; into an empty database (or one it covers whole) it is a compilation
    like another."""
    if not c.source.selection:
        return
    present = {s.id for s in c.statements}
    stored = conn.scalars(select(t.statements.c.id).where(t.statements.c.retired_at.is_(None)))
    if all(sid in present for sid in stored):
        return
    raise DocumentError(
        c.source.name,
        [
            Problem(
                0,
                f"this is a focused compilation (Selection: {c.source.selection}): it holds "
                "part of the compendium, so it cannot be ingested into it (the statements "
                "outside the selection would be retired). Edit the whole compilation (`rcm "
                "export --format docx`), or edit single statements on the web",
            )
        ],
    )


Wording = tuple[str, str | None, tuple[str, ...]]


@dataclass
class _Plan:
    """What the document asks of each statement, decided before anything is written."""

    final: dict[str, str]  # the reader's statement id -> the statement's id in the database
    wording: dict[str, Wording]  # stored id -> the document's wording
    category: dict[str, Category | None]  # stored id -> the document's shading (None: unshaded)
    new: dict[str, str]  # reader's id of an added statement -> its new id


def _ingest_by_id(
    conn: Connection, c: Compendium, actor: str, apply_everywhere: bool, dry_run: bool
) -> IngestReport:
    origin = f"compilation: {c.source.name}"
    st = t.statements
    stored = {r.id: r for r in conn.execute(select(st))}
    items: dict[str, tuple[str, ...]] = {}
    for r in conn.execute(
        select(t.statement_items).order_by(
            t.statement_items.c.statement_id, t.statement_items.c.position
        )
    ):
        items[r.statement_id] = (*items.get(r.statement_id, ()), r.text)
    plan = _plan(c, stored, items, apply_everywhere)
    old_places = {
        sid: sorted({(p["theme"], p["subtheme"]) for p in placements_of(conn, sid)})
        for sid in stored
    }
    old_rows = set(
        conn.execute(
            select(
                t.placements.c.statement_id,
                t.placements.c.theme,
                t.placements.c.subtheme,
                t.placements.c.position,
            )
        ).all()
    )
    write_document_frame(conn, c)
    changes: list[Change] = []
    in_doc = set(plan.final.values())
    for sid in sorted(stored):
        if sid not in in_doc and stored[sid].retired_at is None:
            changes.append(
                retire_in(
                    conn, sid, expected_version=None, actor=actor, origin=origin, reindex=False
                )
            )
    for sid, (text, heading, its) in sorted(plan.wording.items()):
        try:
            change = reword_in(
                conn,
                sid,
                text,
                heading=heading,
                items=its,
                expected_version=None,
                actor=actor,
                origin=origin,
                reindex=False,
            )
        except ConflictError as exc:
            where = next(r.where for r in c.rows if plan.final[r.statement_id] == sid)
            raise DocumentError(c.source.name, [Problem(0, f"{where}: {exc}")]) from None
        if change is not None:
            changes.append(change)
    for sid, category in sorted(plan.category.items()):
        if category is not None:
            change = recategorise_in(
                conn,
                sid,
                category,
                expected_version=None,
                actor=actor,
                origin=origin,
                reindex=False,
            )
            if change is not None:
                changes.append(change)
    unretired = [sid for sid in sorted(in_doc) if stored.get(sid) is not None]
    unretired = [sid for sid in unretired if stored[sid].retired_at is not None]
    for sid in unretired:
        conn.execute(update(st).where(st.c.id == sid).values(retired_at=None, retired_by=None))
    added = _add_statements(conn, c, plan, origin, actor)
    _write_document_placements(conn, c, plan)
    placements_now = {sid: sorted(set(k)) for sid, k in _places_by_statement(c, plan).items()}
    for sid in unretired:
        changes.append(
            _record(
                conn,
                actor,
                Change(
                    "unretired",
                    sid,
                    {"retired_at": _iso(stored[sid].retired_at)},
                    {"placements": placements_of(conn, sid)},
                ),
                origin,
            )
        )
    for sid in sorted(in_doc - set(plan.new.values()) - set(unretired)):
        if placements_now.get(sid, []) != old_places.get(sid, []):
            before = [{"theme": a, "subtheme": b} for a, b in old_places.get(sid, [])]
            after = [{"theme": a, "subtheme": b} for a, b in placements_now.get(sid, [])]
            changes.append(_record(conn, actor, Change("re-placed", sid, before, after), origin))
    changes.extend(added)
    search_index.refresh(conn)
    search_index.bump_generation(conn)
    new_rows = set(
        conn.execute(
            select(
                t.placements.c.statement_id,
                t.placements.c.theme,
                t.placements.c.subtheme,
                t.placements.c.position,
            )
        ).all()
    )
    reworded = sum(1 for x in changes if x.kind == "reworded")
    order = {kind: i for i, kind in enumerate(KINDS)}
    changes.sort(key=lambda x: (order[x.kind], x.statement_id))
    result = IngestResult(
        source=c.source.name,
        sha256=c.source.sha256,
        added=len(added),
        updated=reworded,
        unchanged=len(in_doc) - len(added) - reworded,
        absent=0,
        placements=len(c.placements),
        placements_changed=new_rows != old_rows,
        recategorised=sum(1 for x in changes if x.kind == "recategorised"),
        objective_links_changed=bool(added),
    )
    return IngestReport(result, tuple(changes), True, dry_run)


def _plan(
    c: Compendium,
    stored: dict[str, Any],
    items: dict[str, tuple[str, ...]],
    apply_everywhere: bool,
) -> _Plan:
    """Check the document's ids against the database and decide each statement's wording and
    category; every problem names its table and row (a DocumentError: nothing is written)."""
    problems: list[Problem] = []
    final: dict[str, str] = {}
    wording: dict[str, Wording] = {}
    category: dict[str, Category | None] = {}
    by_id: dict[str, list[PrintedRow]] = {}
    unmarked: dict[str, list[PrintedRow]] = {}
    for r in c.rows:
        if r.printed_id:
            by_id.setdefault(r.printed_id, []).append(r)
        else:
            unmarked.setdefault(r.statement_id, []).append(r)
    labels = {m.code: m.label for m in c.meetings}
    forms = {(r.meeting, r.normal_form): r.id for r in stored.values()}
    for sid, rows in by_id.items():
        first = rows[0]
        old = stored.get(sid)
        if old is None:
            problems.append(
                Problem(
                    0,
                    f"{first.where}: unknown id {sid}: no statement of the database has it (a "
                    "new row takes no id: leave its id line empty)",
                )
            )
            continue
        if old.meeting != first.meeting:
            problems.append(
                Problem(
                    0,
                    f"{first.where}: statement {sid} is a statement of the "
                    f"{labels.get(old.meeting, old.meeting)}, not of the "
                    f"{labels.get(first.meeting, first.meeting)}: an id cannot move to another "
                    "meeting",
                )
            )
            continue
        final[sid] = sid
        now: Wording = (old.text, old.heading, items.get(sid, ()))
        seen: dict[Wording, PrintedRow] = {}
        for r in rows:
            seen.setdefault((r.text, r.heading, r.items), r)
        changed = [w for w in seen if w != now]
        others = {
            w: forms[(old.meeting, normal_form(w[0]))]
            for w in changed
            if forms.get((old.meeting, normal_form(w[0])), sid) != sid
        }
        if others and len(seen) > 1:  # a row copied with its id over another statement's text
            w, other = next(iter(others.items()))
            a, b = seen[w], next(r for x, r in seen.items() if x != w)
            problems.append(
                Problem(
                    0,
                    f"{a.where} and {b.where}: the id {sid} is printed on rows with different "
                    f"texts (a duplicated id): {a.where} has the text of statement {other}",
                )
            )
        elif len(seen) == 1:
            if changed:
                wording[sid] = changed[0]
        elif len(changed) == 1 and now in seen:
            a, b = seen[changed[0]], seen[now]
            if apply_everywhere:
                wording[sid] = changed[0]
            else:
                problems.append(
                    Problem(
                        0,
                        f"{a.where} and {b.where}: statement {sid} is reworded in one row and "
                        "not in the other: reword every row of it alike, or ingest with "
                        "--apply-everywhere to reword the statement everywhere",
                    )
                )
        else:
            a, b = list(seen.values())[:2]
            problems.append(
                Problem(
                    0,
                    f"{a.where} and {b.where}: the id {sid} is printed on rows with different "
                    "texts (a duplicated id): one statement has one wording; give a new row no id",
                )
            )
        shades = {r.category for r in rows if r.category is not None}
        category[sid] = next(iter(shades)) if shades else None
    # Rows without an id: a new statement each (copies of one new statement share one), unless
    # the row repeats a stored statement of its meeting word for word: then it is that statement
    # (ingesting the same file twice adds nothing).
    taken = set(stored) | set(by_id)
    new: dict[str, str] = {}
    for reader_id, rows in unmarked.items():
        first = rows[0]
        form = normal_form(first.text)
        twin = forms.get((first.meeting, form))
        if twin is not None:  # the same file ingested again, or a row retyped: that statement
            final[reader_id] = twin
            continue
        sid = assign_ids([(first.meeting, form)], taken)[(first.meeting, form)]
        taken.add(sid)
        final[reader_id] = new[reader_id] = sid
    if problems:
        raise DocumentError(c.source.name, problems)
    return _Plan(final, wording, category, new)


def _add_statements(
    conn: Connection, c: Compendium, plan: _Plan, origin: str, actor: str
) -> list[Change]:
    changes: list[Change] = []
    by_reader = {s.id: s for s in c.statements}
    for reader_id, sid in plan.new.items():
        s = by_reader[reader_id]
        conn.execute(
            insert(t.statements).values(
                id=sid,
                meeting=s.meeting,
                text=s.text,
                heading=s.heading,
                lang=s.lang,
                text_es=s.text_es,
                category=s.category.value if s.category else None,
                category_source=s.category_source.value if s.category_source else None,
                category_confidence=s.category_confidence,
                normal_form=normal_form(s.text),
                source_id=None,
            )
        )
        conn.execute(
            insert(t.statement_versions).values(
                **version_row(sid, 1, s.text, s.heading, s.items, actor=actor, origin=origin)
            )
        )
        if s.items:
            conn.execute(
                insert(t.statement_items),
                [{"statement_id": sid, "position": i, "text": x} for i, x in enumerate(s.items, 1)],
            )
        links = [x for x in c.objective_links if x.statement_id == reader_id]
        if links:
            conn.execute(
                insert(t.statement_objectives),
                [
                    {
                        "statement_id": sid,
                        "objective": x.objective,
                        "source": x.source.value,
                        "rank": x.rank,
                        "score": x.score,
                    }
                    for x in links
                ],
            )
        after = {
            "meeting": s.meeting,
            "text": s.text,
            "heading": s.heading,
            "items": list(s.items),
            "category": s.category.value if s.category else None,
            "category_source": s.category_source.value if s.category_source else None,
            "placements": [
                {"theme": p.theme, "subtheme": p.subtheme}
                for p in c.placements
                if p.statement_id == reader_id
            ],
        }
        changes.append(_record(conn, actor, Change("added", sid, None, after), origin))
    return changes


def _places_by_statement(c: Compendium, plan: _Plan) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for p in c.placements:
        out.setdefault(plan.final[p.statement_id], []).append((p.theme, p.subtheme))
    return out


def _write_document_placements(conn: Connection, c: Compendium, plan: _Plan) -> None:
    """Every table as the document has it: its rows, in its order (nothing written when the
    tables are already so: the same document ingested again writes nothing)."""
    pl, pt = t.placements, t.placement_themes
    also: dict[int, set[int]] = {}
    for pid, theme in conn.execute(select(pt.c.placement_id, pt.c.theme)):
        also.setdefault(pid, set()).add(theme)
    stored = {
        (
            r.statement_id,
            r.theme,
            r.subtheme,
            r.position,
            r.note,
            r.also_relevant_all,
            r.printed_text,
            r.line,
            frozenset(also.get(r.id, ())),
        )
        for r in conn.execute(select(pl))
    }
    wanted = {
        (
            plan.final[p.statement_id],
            p.theme,
            p.subtheme,
            p.position,
            p.note,
            p.also_relevant_all,
            p.printed_text,
            p.line,
            frozenset(p.also_relevant),
        )
        for p in c.placements
    }
    if stored == wanted and len(wanted) == len(c.placements):
        return
    conn.execute(delete(pt))
    conn.execute(delete(pl))
    rows = [
        {
            "statement_id": plan.final[p.statement_id],
            "theme": p.theme,
            "subtheme": p.subtheme,
            "position": p.position,
            "note": p.note,
            "also_relevant_all": p.also_relevant_all,
            "printed_text": p.printed_text,
            "line": p.line,
        }
        for p in c.placements
    ]
    if rows:
        conn.execute(insert(pl), rows)
    ids = {
        (r.theme, r.subtheme, r.position): r.id
        for r in conn.execute(select(pl.c.id, pl.c.theme, pl.c.subtheme, pl.c.position))
    }
    refs = [
        {"placement_id": ids[(p.theme, p.subtheme, p.position)], "theme": th}
        for p in c.placements
        for th in p.also_relevant
    ]
    if refs:
        conn.execute(insert(pt), refs)
