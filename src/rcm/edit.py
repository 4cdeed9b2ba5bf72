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

from rcm.audit import AuditEvent, record_audit
from rcm.consult import Actor, secretariat_name
from rcm.errors import BadInput, ConflictError, NotFound
from rcm.ids import canonical_id
from rcm.model import Category, CategorySource
from rcm.parse.text import collapse, normal_form
from rcm.store import Store, search_index, version_row
from rcm.store import schema as t

__all__ = [
    "Change",
    "History",
    "Version",
    "also_relevant_note",
    "history",
    "printed_text",
    "recategorise",
    "replace_placements",
    "retire",
    "reword",
    "set_objectives",
    "unretire",
]

MAX_TEXT = 20_000
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

    def describe(self) -> str:
        """One line of the change report."""

        def places(value: Any) -> str:
            return ", ".join(f"{p['theme']}.{p['subtheme']}" for p in value or []) or "none"

        sid = self.statement_id
        if self.kind == "added":
            return f"added        {sid}: {_short(self.after['text'])}"
        if self.kind == "reworded":
            return (
                f"reworded     {sid} (version {self.before['version']} -> "
                f"{self.after['version']}): {_short(self.after['text'])}"
            )
        if self.kind == "recategorised":
            return f"recategorised {sid}: {self.before or 'none'} -> {self.after or 'none'}"
        if self.kind == "re-placed":
            return f"re-placed    {sid}: {places(self.before)} -> {places(self.after)}"
        if self.kind == "retired":
            return f"retired      {sid} (was in {places(self.before.get('placements'))})"
        if self.kind == "unretired":
            return f"unretired    {sid} (now in {places(self.after.get('placements'))})"
        return f"objectives   {sid}: {self.before or []} -> {self.after or []}"


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
        raise NotFound(f"no statement {sid}")
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
            f"statement {row.id} is at version {row.version}, not {expected}: "
            f"{_last_change(conn, row.id)}; reload it and edit again"
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
        raise BadInput(f"a statement's text is longer than {MAX_TEXT} characters")
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
            f"statement {sid}: its meeting already has this wording as statement {twin}"
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
            f"unknown category {value!r}: use one of " + ", ".join(c.value for c in Category)
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
            raise BadInput(f"there is no sub-theme {theme}.{sub}: see `rcm stats`")
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
        raise ConflictError(f"statement {sid} is retired: unretire it to place it again")
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
            raise BadInput(f"{n} is not a GCM objective (1–23)")
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
) -> Change:
    sid = _sid(statement_id)
    row = _locked(conn, sid)
    _check_version(conn, row, expected_version)
    if row.retired_at is not None:
        raise ConflictError(f"statement {sid} is already retired (since {_iso(row.retired_at)})")
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
    return _record(
        conn, actor, Change("retired", sid, before, {"retired_at": at.isoformat()}), origin
    )


def retire(
    target: Target, statement_id: str, *, expected_version: int | None, actor: Actor, origin: str
) -> Change:
    """Take the statement out of the compilation: its rows leave every table (they are kept in
    the audit trail, for :func:`unretire`); the statement keeps its id, versions, opinions and
    links, stays readable by id and leaves the default search."""
    name = secretariat_name(actor, "edit statements")
    return _run(
        target,
        lambda conn: retire_in(
            conn, statement_id, expected_version=expected_version, actor=name, origin=origin
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
) -> Change:
    sid = _sid(statement_id)
    row = _locked(conn, sid)
    _check_version(conn, row, expected_version)
    if row.retired_at is None:
        raise ConflictError(f"statement {sid} is not retired")
    places = list(placements) if placements is not None else _retired_placements(conn, sid)
    if not places:
        raise BadInput(f"statement {sid}: say where it goes back (theme.sub-theme)")
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
        {"placements": placements_of(conn, sid)},
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
            raise NotFound(f"no statement {sid}")
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
