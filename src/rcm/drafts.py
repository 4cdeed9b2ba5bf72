"""A country's answers while its focal point gives them: drafts, kept row by row on the server
until the country submits them.

The web form saves each answer as it is given (one row at a time with JavaScript, a theme's rows
at a time without). What was typed is kept whole, even when it is not yet a valid answer ("valid
with changes" without the proposed wording), so that nothing is lost; each row's problems are
listed against its field (``FieldProblem``). A draft is not an answer: the consensus, the
dashboard and the position count only the submitted answers (``rcm.consult.opinions``).
Submitting (``submit``) checks every draft, writes the changed ones as the country's opinions
(``rcm.consult.set_opinions``: the permission check, optimistic concurrency, history and audit)
and deletes the drafts, all in one transaction. Saving a draft is not audited (it is nobody's
position yet); the submission is, answer by answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as default
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from rcm import clock, consult
from rcm.errors import ConflictError, NotFound, RcmError
from rcm.model import Placement
from rcm.store import Store
from rcm.store import schema as t

if TYPE_CHECKING:
    from rcm.users import User

__all__ = [
    "CountryForm",
    "Draft",
    "FieldProblem",
    "FormProblems",
    "FormRow",
    "Submissions",
    "country_form",
    "days_left",
    "discard",
    "drafts",
    "form_problems",
    "row_problems",
    "save",
    "sections",
    "submissions",
    "submit",
]

# The fields of one row of the form, by their prefix: ``v:ID`` the answer, ``w:ID`` the proposed
# wording, ``c:ID`` the reason or comment (see ``rcm.consult.changed_answers`` for the others).
VALUE, WORDING, NOTE = "v", "w", "c"


@dataclass(frozen=True)
class Draft:
    """One row of a country's form as last saved: what was typed, and what the form showed (the
    version of the country's opinion, 0 for none, and of the statement's wording)."""

    statement_id: str
    value: str | None
    proposed_wording: str | None
    note: str | None
    confirmed: bool
    opinion_version: int
    statement_version: int | None
    author: str
    at: datetime


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field of one row: ``template`` (English, the key of its
    translations) filled with ``values``."""

    statement_id: str
    field: str  # VALUE, WORDING or NOTE
    template: str
    values: dict[str, str] = default(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template % self.values


class FormProblems(RcmError):
    """Answers that cannot be submitted as they are, each problem against its field."""

    status = 400

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        if not problems:
            raise ValueError("FormProblems needs at least one problem")
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _length(text: str | None) -> int:
    # A line end counts once, as in the form's maxlength (browsers send it as CR LF).
    return len(text.replace("\r\n", "\n")) if text else 0


def row_problems(
    statement_id: str, value: str | None, wording: str | None, note: str | None
) -> list[FieldProblem]:
    """The problems of one row before it can be submitted: the rules of
    ``rcm.consult._validate`` (an answer among the four; the wording for "valid with changes", a
    reason for "no longer valid"; ``MAX_WORDING`` and ``MAX_COMMENT``), each against its field. A
    row with nothing typed has none: it is simply not answered."""
    value, wording, note = _clean(value), _clean(wording), _clean(note)
    sid = {"id": statement_id}
    problems = []
    if value is None:
        if wording or note:
            problems.append(FieldProblem(statement_id, VALUE, "%(id)s: choose an answer", sid))
    elif value not in {v.value for v in consult.OpinionValue}:
        problems.append(
            FieldProblem(statement_id, VALUE, "%(id)s: choose one of the four answers", sid)
        )
    elif value == consult.OpinionValue.VALID_WITH_CHANGES and not wording:
        problems.append(
            FieldProblem(
                statement_id,
                WORDING,
                "%(id)s: “valid with changes” needs the proposed wording",
                sid,
            )
        )
    elif value == consult.OpinionValue.NO_LONGER_VALID and not note:
        problems.append(
            FieldProblem(statement_id, NOTE, "%(id)s: “no longer valid” needs a reason", sid)
        )
    for name, text, limit, template in (
        (
            WORDING,
            wording,
            consult.MAX_WORDING,
            "%(id)s: the proposed wording has %(n)s characters; at most %(max)s",
        ),
        (
            NOTE,
            note,
            consult.MAX_COMMENT,
            "%(id)s: the comment or reason has %(n)s characters; at most %(max)s",
        ),
    ):
        if _length(text) > limit:
            values = {**sid, "n": f"{_length(text):,}", "max": f"{limit:,}"}
            problems.append(FieldProblem(statement_id, name, template, values))
    return problems


@dataclass(frozen=True)
class _Row:
    statement_id: str
    value: str | None
    wording: str | None
    note: str | None
    confirmed: bool
    opinion_version: int
    statement_version: int | None


def _rows(fields: Mapping[str, str]) -> list[_Row]:
    """The rows of a form: one per ``v:ID`` field."""
    rows = []
    for key in fields:
        if not key.startswith(f"{VALUE}:"):
            continue
        sid = key[2:].strip().upper()
        shown = fields.get(f"sv:{sid}")
        rows.append(
            _Row(
                sid,
                _clean(fields.get(key)),
                _clean(fields.get(f"{WORDING}:{sid}")),
                _clean(fields.get(f"{NOTE}:{sid}")),
                bool(fields.get(f"confirm:{sid}")),
                consult._form_number(fields.get(f"ver:{sid}") or "0"),
                None if shown is None else consult._form_number(shown) or None,
            )
        )
    return rows


def form_problems(fields: Mapping[str, str]) -> list[FieldProblem]:
    """The problems of every row of a form (see ``row_problems``)."""
    return [
        p for r in _rows(fields) for p in row_problems(r.statement_id, r.value, r.wording, r.note)
    ]


def _read(conn: Connection, round_id: int, country: str) -> dict[str, Draft]:
    d = t.answer_drafts
    rows = conn.execute(
        select(d).where(d.c.round_id == round_id, d.c.country == country).order_by(d.c.statement_id)
    )
    return {
        r.statement_id: Draft(
            r.statement_id,
            r.value,
            r.proposed_wording,
            r.note,
            bool(r.confirmed),
            r.opinion_version,
            r.statement_version,
            r.author,
            clock.aware(r.at) or r.at,
        )
        for r in rows
    }


def drafts(store: Store, round_id: int, country: str) -> dict[str, Draft]:
    """``country``'s drafts in a round, by statement id."""
    with store.connection() as conn:
        return _read(conn, round_id, country.upper())


def _check_writer(user: User, rnd: consult.Round, country: str) -> None:
    from rcm.users import check_can_answer

    check_can_answer(user, country, rnd.state)


def _same_as_submitted(row: _Row, given: consult.Opinion | None) -> bool:
    if given is None or row.confirmed:
        return False
    note = given.reason or given.comment
    return (row.value, row.wording, row.note) == (given.value.value, given.proposed_wording, note)


def save(
    store: Store, user: User, rnd: consult.Round, country: str, fields: Mapping[str, str]
) -> list[FieldProblem]:
    """Keep the rows of a form (``v:ID``, ``w:ID``, ``c:ID``, ``ver:ID``, ``sv:ID``,
    ``confirm:ID``) as ``country``'s drafts, if ``user`` may answer for it: each row as typed,
    problems and all. A row with nothing typed, or as the country already submitted it, leaves no
    draft. Returns the problems of the rows saved, for the form to show beside their fields."""
    _check_writer(user, rnd, country)
    rows = _rows(fields)
    if not rows:
        return []
    given = {o.statement_id: o for o in consult.opinions(store, rnd.id) if o.country == country}
    d, rs = t.answer_drafts, t.round_statements
    ids = [r.statement_id for r in rows]
    now = clock.now()
    try:
        with store.transaction() as conn:
            in_scope = set(
                conn.scalars(
                    select(rs.c.statement_id).where(
                        rs.c.round_id == rnd.id, rs.c.statement_id.in_(ids)
                    )
                )
            )
            outside = [sid for sid in ids if sid not in in_scope]
            if outside:
                raise NotFound(
                    "statement %(sid)s is not in round %(id)s", sid=outside[0], id=rnd.id
                )
            conn.execute(
                delete(d).where(
                    d.c.round_id == rnd.id, d.c.country == country, d.c.statement_id.in_(ids)
                )
            )
            kept = [
                {
                    "round_id": rnd.id,
                    "country": country,
                    "statement_id": r.statement_id,
                    "value": r.value,
                    "proposed_wording": r.wording,
                    "note": r.note,
                    "confirmed": r.confirmed,
                    "opinion_version": r.opinion_version,
                    "statement_version": r.statement_version,
                    "author": user.username,
                    "at": now,
                }
                for r in rows
                if (r.value or r.wording or r.note or r.confirmed)
                and not _same_as_submitted(r, given.get(r.statement_id))
            ]
            if kept:
                conn.execute(insert(d), kept)
    except IntegrityError:
        raise ConflictError(
            "These answers were saved from another window at the same moment: reload the page."
        ) from None
    return [p for r in rows for p in row_problems(r.statement_id, r.value, r.wording, r.note)]


def _as_fields(mine: Mapping[str, Draft]) -> dict[str, str]:
    """Drafts as the form's fields, for ``rcm.consult.changed_answers``."""
    fields: dict[str, str] = {}
    for sid, dr in mine.items():
        fields[f"v:{sid}"] = dr.value or ""
        fields[f"w:{sid}"] = dr.proposed_wording or ""
        fields[f"c:{sid}"] = dr.note or ""
        fields[f"ver:{sid}"] = str(dr.opinion_version)
        if dr.statement_version is not None:
            fields[f"sv:{sid}"] = str(dr.statement_version)
        if dr.confirmed:
            fields[f"confirm:{sid}"] = "1"
    return fields


def submit(store: Store, user: User, rnd: consult.Round, country: str) -> list[consult.Opinion]:
    """Submit ``country``'s drafts: every draft is checked first (``FormProblems`` lists them all,
    nothing written), then the changed ones are written as its opinions and the drafts deleted,
    in one transaction (a conflict on any answer undoes it all and keeps the drafts)."""
    _check_writer(user, rnd, country)
    mine = drafts(store, rnd.id, country)
    problems = [
        p
        for dr in mine.values()
        for p in row_problems(dr.statement_id, dr.value, dr.proposed_wording, dr.note)
    ]
    if problems:
        raise FormProblems(problems)
    answers = consult.changed_answers(store, rnd.id, country, _as_fields(mine))
    d = t.answer_drafts

    def delete_drafts(conn: Connection) -> None:
        # Only the drafts read above: a row saved again meanwhile stays a draft.
        if mine:
            conn.execute(
                delete(d).where(
                    d.c.round_id == rnd.id,
                    d.c.country == country,
                    or_(
                        *(
                            and_(d.c.statement_id == sid, d.c.at == dr.at)
                            for sid, dr in mine.items()
                        )
                    ),
                )
            )

    return consult.set_opinions(
        store, rnd.id, country, answers, author=user, source="web", then=delete_drafts
    )


def discard(store: Store, round_id: int, country: str, ids: Iterable[str]) -> int:
    """Delete ``country``'s drafts of these statements (answers submitted another way: a
    questionnaire, the form sent whole); how many there were."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    d = t.answer_drafts
    with store.transaction() as conn:
        return int(
            conn.execute(
                delete(d).where(
                    d.c.round_id == round_id,
                    d.c.country == country.upper(),
                    d.c.statement_id.in_(wanted),
                )
            ).rowcount
            or 0
        )


def count(store: Store, round_id: int, country: str) -> int:
    d = t.answer_drafts
    with store.connection() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(d)
                .where(d.c.round_id == round_id, d.c.country == country.upper())
            )
            or 0
        )


@dataclass(frozen=True)
class Submissions:
    """Where one country stands in a round: how many answers it has submitted, the day of its
    latest submitted answer (UTC; None before the first) and how many drafts it has not
    submitted. Counts only: nothing of what a draft says."""

    submitted: int
    last_submitted: date | None
    unsubmitted: int


def submissions(store: Store, round_id: int, countries: Iterable[str]) -> dict[str, Submissions]:
    """:class:`Submissions` of each of ``countries`` in a round, answers to statements the round
    no longer asks about left out (as the round's progress leaves them out)."""
    o, d, rs = t.opinions, t.answer_drafts, t.round_statements
    in_round = (rs.c.round_id == round_id) & (rs.c.statement_id == o.c.statement_id)
    with store.connection() as conn:
        given = {
            r.country: (int(r.n), clock.aware(r.last))
            for r in conn.execute(
                select(o.c.country, func.count().label("n"), func.max(o.c.at).label("last"))
                .where(o.c.round_id == round_id, select(rs.c.statement_id).where(in_round).exists())
                .group_by(o.c.country)
            )
        }
        pending = {
            r.country: int(r.n)
            for r in conn.execute(
                select(d.c.country, func.count().label("n"))
                .where(d.c.round_id == round_id)
                .group_by(d.c.country)
            )
        }
    out = {}
    for c in countries:
        n, last = given.get(c, (0, None))
        day = last.astimezone(UTC).date() if last else None
        out[c] = Submissions(n, day, pending.get(c, 0))
    return out


def sections(
    placements: Mapping[str, Sequence[Placement]],
) -> list[tuple[tuple[int, int], list[str]]]:
    """The round's statements filed under one sub-theme each, for a form that shows each once:
    under the theme holding most of the round's statements among those it is filed under (a TS5
    round's statements all under TS5), ties to the lower theme; there, its first sub-theme. Each
    section ((theme, sub-theme), ids in the table's order), in the compilation's order; a statement
    filed nowhere comes last, under (0, 0)."""
    per_theme = Counter(th for ps in placements.values() for th in {p.theme for p in ps})
    filed: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for sid, ps in placements.items():
        if not ps:
            filed.setdefault((0, 0), []).append((0, sid))
            continue
        best = min(ps, key=lambda p: (-per_theme[p.theme], p.theme, p.subtheme, p.position))
        filed.setdefault((best.theme, best.subtheme), []).append((best.position, sid))
    return [
        (key, [sid for _, sid in sorted(rows)])
        for key, rows in sorted(filed.items(), key=lambda kv: (kv[0] == (0, 0), kv[0]))
    ]


@dataclass(frozen=True)
class FormRow:
    """One row of a country's form, without its text: the wording's version (and the day it
    last changed), the country's submitted answer (and the version it was to), its draft."""

    statement_id: str
    version: int
    changed_on: str | None
    opinion: consult.Opinion | None
    answered_version: int | None
    draft: Draft | None

    @property
    def value(self) -> str | None:
        """The answer the row holds: the draft's, else the one submitted."""
        if self.draft is not None:
            return self.draft.value
        return self.opinion.value.value if self.opinion else None


@dataclass(frozen=True)
class CountryForm:
    """What a country's form is made of, read in one go and without the statements' texts (a
    page shows the texts of its own rows only): its rows by id and its sections (``sections``)."""

    rows: dict[str, FormRow]
    sections: list[tuple[tuple[int, int], list[str]]]

    @property
    def answered(self) -> int:
        return sum(1 for r in self.rows.values() if r.value)

    @property
    def unsent(self) -> int:
        return sum(1 for r in self.rows.values() if r.draft is not None)

    def section_of(self, statement_id: str) -> tuple[int, int] | None:
        return next((key for key, ids in self.sections if statement_id in ids), None)


def country_form(store: Store, round_id: int, country: str) -> CountryForm:
    """``country``'s form in a round: a few small queries, whatever the round's size."""
    country = country.upper()
    p, rs, sv, st, op = (
        t.placements,
        t.round_statements,
        t.statement_versions,
        t.statements,
        t.opinions,
    )
    # The round's statements as a subquery, not a list of ids: the same few statements whatever
    # the round's size.
    scope = select(rs.c.statement_id).where(rs.c.round_id == round_id).scalar_subquery()
    with store.connection() as conn:
        consult._round(conn, round_id)
        ids = sorted(conn.scalars(select(rs.c.statement_id).where(rs.c.round_id == round_id)))
        current = dict(conn.execute(select(st.c.id, st.c.version).where(st.c.id.in_(scope))).all())
        made: dict[str, dict[int, datetime]] = {}
        for sid, version, at in conn.execute(
            select(sv.c.statement_id, sv.c.version, sv.c.at).where(sv.c.statement_id.in_(scope))
        ):
            made.setdefault(sid, {})[version] = clock.aware(at) or at
        filed: dict[str, list[Placement]] = {sid: [] for sid in ids}
        for sid, theme, sub, position in conn.execute(
            select(p.c.statement_id, p.c.theme, p.c.subtheme, p.c.position).where(
                p.c.statement_id.in_(scope)
            )
        ):
            filed[sid].append(Placement(sid, theme, sub, position))
        given = {
            r.statement_id: consult.opinion_from_row(r)
            for r in conn.execute(
                select(op).where(op.c.round_id == round_id, op.c.country == country)
            )
        }
        kept = _read(conn, round_id, country)
    wordings = {sid: consult.Wordings(int(v), made.get(sid, {})) for sid, v in current.items()}
    rows = {}
    for sid in ids:
        wording = wordings.get(sid, consult.Wordings(1, {}))
        o = given.get(sid)
        rows[sid] = FormRow(
            sid,
            wording.current,
            wording.changed_on(),
            o,
            wording.answered(o.statement_version, o.at) if o else None,
            kept.get(sid),
        )
    return CountryForm(rows, sections(filed))


def days_left(deadline: str | None, today: date | None = None) -> int | None:
    """Days from ``today`` (UTC) to a round's deadline, its last day: 0 on the day itself,
    negative once it has passed; None without a deadline."""
    if not deadline:
        return None
    return (date.fromisoformat(deadline) - (today or clock.now().date())).days
