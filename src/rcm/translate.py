"""Parallel texts: a statement's wording in its other language, aligned and reviewed.

Two sources give a statement its other-language wording:

- a **Spanish edition of the compilation** (``rcm.parse.spanish_edition``): :func:`align_edition`
  pairs each of its rows with an English statement by section (thematic session and sub-theme),
  row order, meeting and likeness (``rcm.parse.align``); :func:`queue_edition` files the pairs;
- a declaration's **other-language version** (``rcm declaration add-version``):
  :func:`add_version` pairs its statements, in order, with the declaration's proposals.

Nothing is set by the machine. Each pair becomes a pending **translation** (table
``translations``), decided like a new statement in the review queue: :func:`accept_translation`
sets the statement's ``text_es`` (or ``text_en`` for a statement whose text is Spanish), audited
as ``statement.translate`` on the statement (so its history page shows it) and re-indexed for
search; :func:`reject_translation` changes nothing but the translation's state. The Spanish text
is a parallel wording, not a new version: a statement's ``version`` counts its rewordings, which
opinions answer; the accepted translations are the history of its parallel wordings.

Alignment is all or nothing: a row that aligns to no statement, a statement of a section the
source covers left without a row, two rows of one statement with different wordings — each is
reported with where it is (a :class:`~rcm.errors.DocumentError`) and nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from rcm import clock
from rcm.audit import record_audit
from rcm.consult import Actor, ConflictError, secretariat_name
from rcm.errors import BadInput, DocumentError, NotFound, Problem, StoreError
from rcm.model import LANGUAGES, DeclarationText, Placement, Statement, meeting_order, wording
from rcm.parse.align import Likeness, align, similarity
from rcm.parse.spanish_edition import EditionRow, EditionSection, SpanishEdition, fold
from rcm.parse.text import collapse, normal_form
from rcm.review import MAX_TEXT, Proposal, declaration_record, proposals
from rcm.store import Store, search_index
from rcm.store import schema as t

STATES = ("pending", "accepted", "rejected")
ORIGINS = ("edition", "declaration")
AUDIT_ACTION = "statement.translate"  # on the statement: its history shows it
TRANSLATION_KINDS = {AUDIT_ACTION: "translated"}  # the history's name for that event


@dataclass(frozen=True)
class Translation:
    """A wording of a statement (or of a declaration's proposal) in ``lang``, with where it was
    read (``rows``) and the alignment's evidence (``likeness``)."""

    id: int
    statement_id: str | None
    proposal_id: int | None
    lang: str
    text: str
    origin: str
    source_name: str
    source_sha256: str
    declaration_id: int | None
    rows: tuple[str, ...]
    likeness: dict[str, Any]
    state: str
    added_at: datetime
    added_by: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "statement_id": self.statement_id,
            "proposal_id": self.proposal_id,
            "lang": self.lang,
            "text": self.text,
            "origin": self.origin,
            "source": self.source_name,
            "sha256": self.source_sha256,
            "declaration": self.declaration_id,
            "rows": list(self.rows),
            "likeness": self.likeness,
            "state": self.state,
            "added_at": self.added_at.isoformat(),
            "added_by": self.added_by,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decision": self.decision,
        }


@dataclass(frozen=True)
class Pair:
    """One aligned wording: the statement (or proposal) it translates, its text, the rows it was
    read from, and the likeness of the first row."""

    target: str  # a statement id, or "proposal N"
    text: str
    rows: tuple[str, ...]
    likeness: Likeness
    english: str  # the wording it was compared with, for the report

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "text": self.text,
            "rows": list(self.rows),
            "likeness": self.likeness.as_dict(),
        }


@dataclass
class Report:
    """What an alignment found and did: the pairs, those queued for review, those whose wording
    is already the statement's (unchanged) or already waits in the queue, and notices (sections
    of the compendium the source leaves out, proposals without a counterpart)."""

    source: str
    lang: str
    pairs: list[Pair] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)  # translation ids
    unchanged: list[str] = field(default_factory=list)
    already_queued: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "lang": self.lang,
            "dry_run": self.dry_run,
            "aligned": len(self.pairs),
            "queued": self.queued,
            "unchanged": self.unchanged,
            "already_queued": self.already_queued,
            "notices": self.notices,
            "pairs": [p.as_dict() for p in self.pairs],
        }


# --- aligning a Spanish edition of the compilation -----------------------------------------------


def _short(text: str, n: int = 60) -> str:
    text = collapse(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _english(s: Statement) -> str:
    return wording(s, "en") or s.text


def _row_problem(row: EditionRow, message: str) -> Problem:
    return Problem(row.line, f"{row.where} ({row.meeting} CRM, {_short(row.text)!r}): {message}")


_Table = list[tuple[Statement, Placement]]


def _english_tables(
    store: Store,
) -> tuple[dict[tuple[int, int], _Table], dict[tuple[int, int], str]]:
    compendium = store.load()
    by_id = {s.id: s for s in compendium.statements}
    tables: dict[tuple[int, int], _Table] = {}
    for p in sorted(compendium.placements, key=lambda p: (p.theme, p.subtheme, p.position)):
        if p.statement_id in by_id:
            tables.setdefault((p.theme, p.subtheme), []).append((by_id[p.statement_id], p))
    titles = {(s.theme, s.order): s.title for th in compendium.themes for s in th.subthemes}
    return tables, titles


def _likeness(english: tuple[Statement, Placement], row: EditionRow) -> Likeness:
    return similarity(_english(english[0]), row.text)


def _same_meeting(english: tuple[Statement, Placement], row: EditionRow) -> bool:
    return english[0].meeting == row.meeting


def _pick_subtheme(
    section: EditionSection,
    tables: dict[tuple[int, int], _Table],
    labels: dict[tuple[int, int], str],
    taken: set[tuple[int, int]],
) -> tuple[tuple[int, int] | None, list[tuple[int, int, Likeness]]]:
    """The English sub-theme table of ``section``'s theme that its rows align to best (a heading
    printing the sub-theme's Spanish label settles it), and the pairs."""
    best: tuple[tuple[int, int] | None, list[tuple[int, int, Likeness]]] = (None, [])
    best_key: tuple[int, int, float] = (-1, -1, -1.0)
    heading = fold(section.title)
    for key, table in tables.items():
        if key[0] != section.theme or key in taken:
            continue
        pairs = align(table, section.rows, _likeness, _same_meeting)
        named = int(bool(labels.get(key)) and fold(labels[key]) == heading)
        score = (named, len(pairs), sum(x[2].score for x in pairs))
        if score > best_key:
            best, best_key = (key, pairs), score
    return best


def _spanish_labels() -> dict[tuple[int, int], str]:
    """The sub-themes' Spanish labels shipped in ``rcm/taxonomy/labels_es.tsv``."""
    import csv
    import io
    from importlib.resources import files

    try:
        text = files("rcm.taxonomy").joinpath("labels_es.tsv").read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    out: dict[tuple[int, int], str] = {}
    for r in csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        if r.get("scheme") == "subtheme" and "." in (r.get("notation") or ""):
            theme, _, order = r["notation"].partition(".")
            if theme.isdigit() and order.isdigit():
                out[(int(theme), int(order))] = r["label_es"]
    return out


def align_edition(store: Store, edition: SpanishEdition) -> Report:
    """Pair every row of ``edition`` with an English statement of the compendium. Raises
    DocumentError with one problem per row (or statement) that does not align; reads only."""
    tables, titles = _english_tables(store)
    labels = _spanish_labels()
    problems: list[Problem] = []
    found: dict[str, list[tuple[EditionRow, Likeness]]] = {}
    english_of: dict[str, str] = {}
    taken: set[tuple[int, int]] = set()
    # Statements of meetings after the edition's last (added from declarations since) are not
    # expected in it.
    last = max((meeting_order(r.meeting) for r in edition.rows), default=(0, 0))
    later: list[str] = []
    for section in edition.sections:
        if not any(k[0] == section.theme for k in tables):
            problems.append(
                Problem(
                    section.line,
                    f"section {section.name!r}: the compendium has no thematic session "
                    f"{section.theme}",
                )
            )
            problems += [_row_problem(r, "no statement to align with") for r in section.rows]
            continue
        by_id = _by_printed_id(section, tables, problems)
        if by_id is not None:
            key, pairs = by_id
        else:
            key, pairs = _pick_subtheme(section, tables, labels, taken)
        if key is None:
            problems.append(
                Problem(
                    section.line,
                    f"section {section.name!r}: every sub-theme of TS{section.theme} is already "
                    "aligned to another section of this edition",
                )
            )
            continue
        taken.add(key)
        table = tables[key]
        paired_rows = {j for _, j, _ in pairs}
        paired_english = {i for i, _, _ in pairs}
        place = f"TS{key[0]}.{key[1]}"
        for j, row in enumerate(section.rows):
            if j not in paired_rows:
                problems.append(
                    _row_problem(
                        row,
                        f"aligns with no statement of {place} ({titles.get(key, '')!r}): no "
                        "English row of that table has its meeting and a close enough wording",
                    )
                )
        for i, (s, p) in enumerate(table):
            if i in paired_english:
                continue
            if meeting_order(s.meeting) > last:
                later.append(f"{s.id} ({place}, {s.meeting} RCM)")
            else:
                problems.append(
                    Problem(
                        section.line,
                        f"section {section.name!r}: the English row {p.position} of {place} "
                        f"({s.id}, {s.meeting} RCM, {_short(s.text)!r}) has no Spanish row",
                    )
                )
        for i, j, like in pairs:
            s = table[i][0]
            found.setdefault(s.id, []).append((section.rows[j], like))
            english_of[s.id] = _english(s)
    pairs_out = _agree(found, english_of, problems, lambda r: r.where)
    if problems:
        raise DocumentError(edition.source.name, problems)
    report = Report(edition.source.name, "es", pairs_out)
    if later:
        report.notices.append(
            "statements of meetings after this edition's last, without a Spanish row: "
            + ", ".join(later)
        )
    covered = set(taken)
    for key in sorted(tables):
        if key not in covered:
            report.notices.append(
                f"TS{key[0]}.{key[1]} ({titles.get(key, '')}) is not in this edition: its "
                f"{len(tables[key])} rows get no Spanish wording from it"
            )
    return report


def _by_printed_id(
    section: EditionSection,
    tables: dict[tuple[int, int], _Table],
    problems: list[Problem],
) -> tuple[tuple[int, int] | None, list[tuple[int, int, Likeness]]] | None:
    """A section whose rows print statement ids (a Word compilation `rcm` exported in Spanish)
    aligns by them: the sub-theme holding those statements, each row paired with its id."""
    if not all(r.printed_id for r in section.rows):
        return None
    ids = [r.printed_id for r in section.rows]
    for key, table in tables.items():
        if key[0] != section.theme:
            continue
        position = {s.id: i for i, (s, _) in enumerate(table)}
        if not all(i in position for i in ids):
            continue
        pairs = []
        for j, row in enumerate(section.rows):
            i = position[str(row.printed_id)]
            s = table[i][0]
            if s.meeting != row.meeting:
                problems.append(
                    _row_problem(row, f"prints the id {s.id}, a statement of the {s.meeting} RCM")
                )
                continue
            pairs.append((i, j, similarity(_english(s), row.text)))
        pairs.sort()
        return key, pairs
    return None


def _agree(
    found: dict[str, list[tuple[Any, Likeness]]],
    english_of: dict[str, str],
    problems: list[Problem],
    where: Any,
) -> list[Pair]:
    """One pair per statement: its rows (copies filed under several sub-themes) must give the
    same wording."""
    out: list[Pair] = []
    for sid, rows in found.items():
        forms = {normal_form(r.text) for r, _ in rows}
        if len(forms) > 1:
            first = rows[0][0]
            for r, _ in rows[1:]:
                if normal_form(r.text) != normal_form(first.text):
                    problems.append(
                        Problem(
                            getattr(r, "line", 0),
                            f"{where(r)}: statement {sid} is filed here and at "
                            f"{where(first)} with a different Spanish wording",
                        )
                    )
            continue
        out.append(
            Pair(
                sid, rows[0][0].text, tuple(where(r) for r, _ in rows), rows[0][1], english_of[sid]
            )
        )
    return out


# --- queueing -------------------------------------------------------------------------------------


def _pending_forms(conn: Connection, lang: str) -> set[tuple[str, str]]:
    tr = t.translations
    out = set()
    for r in conn.execute(
        select(tr.c.statement_id, tr.c.proposal_id, tr.c.text).where(
            tr.c.state == "pending", tr.c.lang == lang
        )
    ):
        target = r.statement_id or f"proposal {r.proposal_id}"
        out.add((target, normal_form(r.text)))
    return out


def _current(conn: Connection, sid: str, lang: str) -> str | None:
    row = conn.execute(
        select(
            t.statements.c.text, t.statements.c.lang, t.statements.c.text_es, t.statements.c.text_en
        ).where(t.statements.c.id == sid)
    ).first()
    if row is None:
        return None
    if row.lang == lang:
        return str(row.text)
    value = row.text_es if lang == "es" else row.text_en
    return None if value is None else str(value)


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that it rolls back."""


def _queue(
    store: Store,
    report: Report,
    *,
    origin: str,
    sha256: str,
    actor: str,
    declaration_id: int | None = None,
    dry_run: bool = False,
) -> Report:
    report.dry_run = dry_run
    now = clock.now()
    try:
        with store.transaction(immediate=True) as conn:
            pending = _pending_forms(conn, report.lang)
            for pair in report.pairs:
                form = normal_form(pair.text)
                proposal_id = (
                    int(pair.target.removeprefix("proposal "))
                    if pair.target.startswith("proposal ")
                    else None
                )
                sid = None if proposal_id is not None else pair.target
                current = _current(conn, sid, report.lang) if sid else None
                if current is not None and normal_form(current) == form:
                    report.unchanged.append(pair.target)
                    continue
                if (pair.target, form) in pending:
                    report.already_queued.append(pair.target)
                    continue
                new_id = conn.execute(
                    insert(t.translations)
                    .values(
                        statement_id=sid,
                        proposal_id=proposal_id,
                        lang=report.lang,
                        text=pair.text,
                        origin=origin,
                        source_name=report.source[:255],
                        source_sha256=sha256,
                        declaration_id=declaration_id,
                        rows=json.dumps(list(pair.rows), ensure_ascii=False),
                        likeness=json.dumps(pair.likeness.as_dict()),
                        state="pending",
                        added_at=now,
                        added_by=actor,
                    )
                    .returning(t.translations.c.id)
                ).scalar_one()
                report.queued.append(int(new_id))
                pending.add((pair.target, form))
            record_audit(
                conn,
                actor,
                "translation.queue",
                f"{origin} {report.source}"[:200],
                None,
                {
                    "lang": report.lang,
                    "sha256": sha256,
                    "aligned": len(report.pairs),
                    "queued": report.queued,
                    "unchanged": len(report.unchanged),
                    "already_queued": len(report.already_queued),
                },
            )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass  # everything was done and checked; the transaction rolled back
    except SQLAlchemyError as exc:
        raise StoreError(
            "queueing the translations failed and was rolled back: %(reason)s", reason=exc
        ) from None
    return report


def queue_edition(
    store: Store, edition: SpanishEdition, *, actor: Actor, dry_run: bool = False
) -> Report:
    """Align ``edition`` (:func:`align_edition`) and queue each new wording for review, in one
    transaction; a wording the statement already has, or one already waiting, is not queued
    again (ingesting an edition twice queues nothing the second time)."""
    who = secretariat_name(actor, "queue translations for review")
    report = align_edition(store, edition)
    return _queue(
        store, report, origin="edition", sha256=edition.source.sha256, actor=who, dry_run=dry_run
    )


# --- a declaration's other-language version ------------------------------------------------------


def align_version(
    store: Store, version: DeclarationText, *, declaration_id: int, lang: str
) -> Report:
    """Pair the statements of ``version`` (the declaration's text in ``lang``), in order, with the
    declaration's proposals. Every statement of the version must pair, and so must every
    proposal of the operative part as read that is not rejected; proposals a reviewer made by
    hand, promoted, split or merged, and rejected ones, may stay without (listed as notices)."""
    if lang not in LANGUAGES:
        raise BadInput(
            "unknown language %(lang)s: use one of %(valid)s",
            lang=repr(lang),
            valid=", ".join(LANGUAGES),
        )
    declaration = declaration_record(store, declaration_id)
    if declaration.lang == lang:
        raise BadInput(
            "declaration %(declaration)s is already in %(lang)s: its other-language version is in "
            "%(other)s",
            declaration=declaration_id,
            lang=repr(lang),
            other="en" if lang == "es" else "es",
        )
    if version.lang != lang:
        raise BadInput(
            "%(file)s reads as %(found)s, not %(lang)s: is it the right file?",
            file=version.name,
            found=repr(version.lang),
            lang=repr(lang),
        )
    queue = proposals(store, declaration_id=declaration_id)

    def likeness(p: Proposal, d: Any) -> Likeness:
        english, spanish = (d.text, p.text) if lang == "en" else (p.text, d.text)
        return similarity(english, spanish)

    pairs = align(queue, version.statements, likeness)
    problems: list[Problem] = []
    paired_p = {i for i, _, _ in pairs}
    paired_d = {j for _, j, _ in pairs}
    for j, d in enumerate(version.statements):
        if j not in paired_d:
            problems.append(
                Problem(
                    d.line,
                    f"statement {d.position} ({_short(d.text)!r}) aligns with no proposal of "
                    f"declaration {declaration_id}",
                )
            )
    report = Report(version.name, lang)
    for i, p in enumerate(queue):
        if i in paired_p:
            continue
        message = (
            f"proposal {p.id} (position {p.position}, {p.state}, {_short(p.text)!r}) has no "
            f"statement in {version.name}"
        )
        if p.origin is None and p.state != "rejected":
            problems.append(Problem(0, message))
        else:
            report.notices.append(message)
    if problems:
        raise DocumentError(version.name, problems)
    for i, j, like in pairs:
        p, d = queue[i], version.statements[j]
        target = p.statement_id if p.state == "accepted" and p.statement_id else f"proposal {p.id}"
        if p.state == "rejected":
            report.notices.append(f"proposal {p.id} was rejected: its {lang} wording is not queued")
            continue
        report.pairs.append(Pair(target, d.text, (f"statement {d.position}",), like, p.text))
    return report


def add_version(
    store: Store,
    version: DeclarationText,
    *,
    declaration_id: int,
    lang: str,
    actor: Actor,
    dry_run: bool = False,
) -> Report:
    """Align a declaration's other-language version (:func:`align_version`) and queue each
    wording for review, in one transaction."""
    who = secretariat_name(actor, "queue translations for review")
    report = align_version(store, version, declaration_id=declaration_id, lang=lang)
    return _queue(
        store,
        report,
        origin="declaration",
        sha256=version.sha256,
        actor=who,
        declaration_id=declaration_id,
        dry_run=dry_run,
    )


# --- the queue and its decisions -----------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _translation(r: Any) -> Translation:
    return Translation(
        id=r.id,
        statement_id=r.statement_id,
        proposal_id=r.proposal_id,
        lang=r.lang,
        text=r.text,
        origin=r.origin,
        source_name=r.source_name,
        source_sha256=r.source_sha256,
        declaration_id=r.declaration_id,
        rows=tuple(json.loads(r.rows)),
        likeness=json.loads(r.likeness),
        state=r.state,
        added_at=_utc(r.added_at),
        added_by=r.added_by,
        decided_by=r.decided_by,
        decided_at=clock.aware(r.decided_at) if r.decided_at else None,
        decision=json.loads(r.decision) if r.decision else None,
    )


def translations(
    store: Store,
    *,
    state: str | None = None,
    statement_id: str | None = None,
    declaration_id: int | None = None,
) -> list[Translation]:
    """The translations in the queue (oldest first), by state, statement or declaration."""
    if state is not None and state not in STATES:
        raise BadInput(
            "unknown state %(state)s: use one of %(valid)s",
            state=repr(state),
            valid=", ".join(STATES),
        )
    tr = t.translations
    query = select(tr).order_by(tr.c.id)
    if state is not None:
        query = query.where(tr.c.state == state)
    if statement_id is not None:
        query = query.where(tr.c.statement_id == statement_id)
    if declaration_id is not None:
        query = query.where(tr.c.declaration_id == declaration_id)
    with store.connection() as conn:
        return [_translation(r) for r in conn.execute(query)]


def translation(store: Store, translation_id: int) -> Translation:
    with store.connection() as conn:
        return _read(conn, translation_id)


def _read(conn: Connection, translation_id: int) -> Translation:
    r = conn.execute(select(t.translations).where(t.translations.c.id == translation_id)).first()
    if r is None:
        raise NotFound("no translation %(id)s", id=translation_id)
    return _translation(r)


def _decided(x: Translation) -> ConflictError:
    when = x.decided_at.strftime("%Y-%m-%d %H:%M UTC") if x.decided_at else "earlier"
    return ConflictError(
        "translation %(id)s was already %(state)s by %(who)s on %(when)s: a decision is taken once",
        id=x.id,
        state=x.state,
        who=x.decided_by,
        when=when,
    )


def _target(conn: Connection, x: Translation) -> str:
    """The statement a translation is for: its own, or its proposal's once that is accepted."""
    if x.statement_id is not None:
        return x.statement_id
    p = conn.execute(
        select(t.proposals.c.state, t.proposals.c.statement_id).where(
            t.proposals.c.id == x.proposal_id
        )
    ).first()
    if p is None:
        raise NotFound(
            "translation %(id)s: its proposal %(proposal)s no longer exists",
            id=x.id,
            proposal=x.proposal_id,
        )
    if p.state == "pending":
        raise ConflictError(
            "translation %(id)s is the wording of proposal %(proposal)s, not decided yet: accept "
            "or reject the proposal first",
            id=x.id,
            proposal=x.proposal_id,
        )
    if p.state != "accepted" or p.statement_id is None:
        raise ConflictError(
            "translation %(id)s: proposal %(proposal)s was rejected, so there is no statement to "
            "give this wording; reject the translation",
            id=x.id,
            proposal=x.proposal_id,
        )
    return str(p.statement_id)


def _settle(
    conn: Connection,
    x: Translation,
    state: str,
    actor: str,
    decision: dict[str, Any],
    sid: str | None,
) -> None:
    values: dict[str, Any] = {
        "state": state,
        "decided_by": actor,
        "decided_at": clock.now(),
        "decision": json.dumps(decision, ensure_ascii=False),
    }
    if sid is not None:
        values["statement_id"] = sid
    done = conn.execute(
        update(t.translations)
        .where(t.translations.c.id == x.id, t.translations.c.state == "pending")
        .values(**values)
    ).rowcount
    if done != 1:
        raise _decided(_read(conn, x.id))
    record_audit(
        conn,
        actor,
        f"translation.{'accept' if state == 'accepted' else 'reject'}",
        f"translation {x.id}",
        {"state": "pending", "text": x.text},
        {"state": state, "statement_id": sid, **decision},
    )


def accept_translation(
    store: Store, translation_id: int, *, actor: Actor, text: str | None = None
) -> Translation:
    """Give the statement this wording in the translation's language (as aligned, or as the
    reviewer corrects it): ``text_es`` for Spanish, ``text_en`` for the English wording of a
    Spanish statement. Audited on the statement, which is re-indexed for search."""
    who = secretariat_name(actor, "decide on the review queue")
    try:
        with store.transaction() as conn:
            x = _read(conn, translation_id)
            if x.state != "pending":
                raise _decided(x)
            final = collapse(text) if text is not None else x.text
            if not final:
                raise BadInput("the translation's text cannot be empty")
            if len(final) > MAX_TEXT:
                raise BadInput("the translation's text is longer than %(n)s characters", n=MAX_TEXT)
            sid = _target(conn, x)
            row = conn.execute(select(t.statements).where(t.statements.c.id == sid)).first()
            if row is None:
                raise NotFound(
                    "translation %(id)s: no statement %(statement)s", id=x.id, statement=sid
                )
            if row.lang == x.lang:
                raise ConflictError(
                    "statement %(id)s is itself in %(lang)s: a translation cannot replace its "
                    "wording (reword it instead)",
                    id=sid,
                    lang=repr(x.lang),
                )
            column = "text_es" if x.lang == "es" else "text_en"
            before = row._mapping.get(column)
            conn.execute(
                update(t.statements).where(t.statements.c.id == sid).values({column: final})
            )
            decision = {
                "text_edited": final != x.text,
                "replaced": before,
                "statement_version": row.version,
            }
            _settle(conn, x, "accepted", who, decision, sid)
            record_audit(
                conn,
                who,
                AUDIT_ACTION,
                f"statement {sid}",
                {column: before},
                {column: final, "translation": x.id, "source": x.source_name},
            )
            search_index.refresh(conn, [sid])
            search_index.bump_generation(conn)
    except SQLAlchemyError as exc:
        raise StoreError(
            "accepting translation %(id)s failed and was rolled back: %(reason)s",
            id=translation_id,
            reason=exc,
        ) from None
    return translation(store, translation_id)


def reject_translation(
    store: Store, translation_id: int, *, actor: Actor, reason: str
) -> Translation:
    who = secretariat_name(actor, "decide on the review queue")
    reason = collapse(reason)
    if not reason:
        raise BadInput("say why the translation is rejected (--reason)")
    try:
        with store.transaction() as conn:
            x = _read(conn, translation_id)
            if x.state != "pending":
                raise _decided(x)
            _settle(conn, x, "rejected", who, {"reason": reason[:2000]}, None)
    except SQLAlchemyError as exc:
        raise StoreError(
            "rejecting translation %(id)s failed and was rolled back: %(reason)s",
            id=translation_id,
            reason=exc,
        ) from None
    return translation(store, translation_id)


def accepted_versions(store: Store, statement_id: str) -> dict[str, int]:
    """For each language, the version of the statement's own wording its parallel wording was
    last accepted for: a smaller number than the statement's ``version`` means the statement was
    reworded since, and the parallel wording may no longer match."""
    out: dict[str, int] = {}
    for x in translations(store, state="accepted", statement_id=statement_id):
        version = (x.decision or {}).get("statement_version")
        if isinstance(version, int):
            out[x.lang] = version  # oldest first: the last accepted wins
    return out
