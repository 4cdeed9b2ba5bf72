""" "Still valid?": consultation rounds, the Member Countries' opinions, and the consensus rule.

A round fixes its statements when it opens. An opinion is one Member Country's answer on one
statement in one round; every change is a new version, kept in ``opinion_history`` and in the audit
trail, and a writer that read an older version gets a conflict instead of overwriting (optimistic
concurrency). The consensus rule (``consensus``) is a pure function, so it can be tested alone.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Union

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from rcm import clock, settings, taxonomy
from rcm.audit import record_audit
from rcm.errors import ConflictError, DocumentError, NotFound, Problem, RcmError
from rcm.i18n import Words, words
from rcm.model import Statement
from rcm.parse.xlsx import Sheet, XlsxLimit, XlsxLimits, XlsxUnreadable, read_xlsx, xlsx_text
from rcm.search import Filter, matching_ids
from rcm.store import Store
from rcm.store import schema as t

if TYPE_CHECKING:
    from rcm.users import User

__all__ = [
    "Actor",
    "ConflictError",
    "OpinionValue",
    "Status",
    "add_comment",
    "answering_name",
    "close_round",
    "consensus",
    "import_questionnaire",
    "list_rounds",
    "open_round",
    "regional_position",
    "reopen_round",
    "round_status",
    "round_themes",
    "secretariat_name",
    "set_opinion",
    "set_opinions",
]


class OpinionValue(StrEnum):
    VALID = "valid"
    VALID_WITH_CHANGES = "valid with changes"
    NO_LONGER_VALID = "no longer valid"
    ABSTAIN = "abstain"


class Status(StrEnum):
    REAFFIRMED = "reaffirmed"
    TO_BE_UPDATED = "to be updated"
    CONTESTED = "contested"
    PENDING = "pending"


# The questionnaire's drop-down, in the words ministries use, and what each means.
ANSWERS = {
    "Yes": OpinionValue.VALID,
    "Yes, with changes": OpinionValue.VALID_WITH_CHANGES,
    "No": OpinionValue.NO_LONGER_VALID,
    "Abstain": OpinionValue.ABSTAIN,
}
# The same in Spanish, for a questionnaire in Spanish; the import reads either language's words
# (and both in one file), in any case and with or without the accents (``answer_value``).
ANSWERS_ES = {
    "Sí": OpinionValue.VALID,
    "Sí, con cambios": OpinionValue.VALID_WITH_CHANGES,
    "No": OpinionValue.NO_LONGER_VALID,
    "Abstención": OpinionValue.ABSTAIN,
}


def _answer_key(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(plain.replace(",", ", ").split())


_ANSWER_KEYS = {_answer_key(k): v for k, v in (*ANSWERS.items(), *ANSWERS_ES.items())}


def answer_value(text: str) -> OpinionValue | None:
    """The answer a questionnaire's "Still valid?" / "¿Sigue vigente?" cell gives, in English or
    Spanish ("Yes, with changes", "Sí, con cambios", "si, con cambios"), or None."""
    return _ANSWER_KEYS.get(_answer_key(text))


def answer_words(lang: str) -> dict[str, OpinionValue]:
    """The questionnaire's drop-down in a language."""
    return ANSWERS_ES if words(lang).spanish else ANSWERS


# What one answer may hold: one definition for the web form (its fields' maxlength and its
# validation), `rcm opinion set` and the questionnaire import, all checked in ``_validate``.
MAX_WORDING = 20_000  # a proposed wording is a statement's text: as long as review.MAX_TEXT
MAX_COMMENT = 5000  # a reason or comment (an observer's comment too)


def member_countries() -> list[str]:
    return [c.iso3 for c in taxonomy.countries() if c.member]


def consensus(
    answers: Mapping[str, OpinionValue | None], silence_is_no_objection: bool = False
) -> Status:
    """The RCM works by consensus. Per statement, over every Member Country:

    - *contested*: at least one country answered "no longer valid";
    - *pending*: otherwise, some country has not answered (unless the round counts silence after
      its deadline as no objection);
    - *to be updated*: otherwise, at least one country proposed a change;
    - *reaffirmed*: otherwise. An abstention does not block consensus (it is not an objection).
    """
    values = [answers.get(c) for c in member_countries()]
    if OpinionValue.NO_LONGER_VALID in values:
        return Status.CONTESTED
    if None in values and not silence_is_no_objection:
        return Status.PENDING
    if OpinionValue.VALID_WITH_CHANGES in values:
        return Status.TO_BE_UPDATED
    return Status.REAFFIRMED


@dataclass(frozen=True)
class Round:
    id: int
    title: str
    purpose: str
    deadline: str | None
    scope: str
    state: str
    silence_is_consent: bool
    public: bool
    created_at: datetime
    created_by: str
    statements: int

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class Opinion:
    round_id: int
    country: str
    statement_id: str
    value: OpinionValue
    proposed_wording: str | None
    reason: str | None
    comment: str | None
    author: str
    at: datetime
    version: int
    # The statement's wording (``statements.version``) this answer was given to; None for the
    # answers written before wordings were versioned (``answered_version`` infers it).
    statement_version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "value": self.value.value, "at": self.at.isoformat()}


#: Who does something. An account (``rcm.users.User``: a signed-in person, or the CLI's ``--as
#: NAME``) may do what its role allows, checked here in the core for every adapter; a plain name is
#: an operator with direct access to the database (the CLI without ``--as``, scripts), who may do
#: anything and is named in the audit trail as given.
Actor = Union["User", str]


def answering_name(actor: Actor, country: str, round_state: str) -> str:
    """The name the audit trail keeps for whoever writes ``country``'s opinion, once
    ``rcm.users.check_can_answer`` allows it (raises ``Forbidden`` otherwise)."""
    if isinstance(actor, str):
        return actor
    from rcm.users import check_can_answer

    check_can_answer(actor, country, round_state)
    return actor.username


def secretariat_name(actor: Actor, what: str) -> str:
    """The name the audit trail keeps for a Secretariat-only action, once
    ``rcm.users.check_secretariat`` allows it (raises ``Forbidden`` otherwise)."""
    if isinstance(actor, str):
        return actor
    from rcm.users import check_secretariat

    check_secretariat(actor, what)
    return actor.username


def _round(conn: Connection, round_id: int) -> Round:
    r = conn.execute(select(t.rounds).where(t.rounds.c.id == round_id)).first()
    if r is None:
        raise NotFound("no round %(id)s", id=round_id)
    n = conn.scalar(
        select(func.count())
        .select_from(t.round_statements)
        .where(t.round_statements.c.round_id == round_id)
    )
    return Round(
        r.id,
        r.title,
        r.purpose,
        r.deadline,
        r.scope,
        r.state,
        r.silence_is_consent,
        r.public,
        r.created_at,
        r.created_by,
        int(n or 0),
    )


def _scope(conn: Connection, round_id: int) -> set[str]:
    """The ids of the statements a round asks about."""
    rs = t.round_statements
    return set(conn.scalars(select(rs.c.statement_id).where(rs.c.round_id == round_id)).all())


def _check_deadline(deadline: str | None) -> str | None:
    if deadline is None:
        return None
    try:
        return date.fromisoformat(deadline).isoformat()
    except ValueError:
        raise RcmError(
            "deadline %(value)s is not a date such as 2017-06-30", value=repr(deadline)
        ) from None


def open_round(
    store: Store,
    title: str,
    *,
    filters: Sequence[Filter] = (),
    purpose: str = "",
    deadline: str | None = None,
    silence_is_consent: bool = False,
    public: bool = False,
    actor: Actor = "secretariat",
) -> Round:
    """Open a round on the statements the filters choose (all when none), fixed from now on."""
    actor = secretariat_name(actor, "open rounds")
    if not title.strip():
        raise RcmError("a round needs a title")
    deadline = _check_deadline(deadline)
    ids = matching_ids(store, filters)
    if not ids:
        raise RcmError("no statement matches this scope: the round would be empty")
    scope = " and ".join(f.sentence for f in filters) or "all statements"
    with store.transaction() as conn:
        round_id = conn.execute(
            insert(t.rounds)
            .values(
                title=title.strip(),
                purpose=purpose,
                deadline=deadline,
                scope=scope,
                state="open",
                silence_is_consent=silence_is_consent,
                public=public,
                secret=secrets.token_hex(32),
                created_at=clock.now(),
                created_by=actor,
            )
            .returning(t.rounds.c.id)
        ).scalar_one()
        conn.execute(
            insert(t.round_statements), [{"round_id": round_id, "statement_id": i} for i in ids]
        )
        record_audit(
            conn,
            actor,
            "round.open",
            f"round {round_id}",
            None,
            {"title": title, "scope": scope, "statements": len(ids), "deadline": deadline},
        )
        return _round(conn, round_id)


def _set_state(store: Store, round_id: int, state: str, actor: Actor) -> Round:
    actor = secretariat_name(actor, "close and reopen rounds")
    with store.transaction() as conn:
        before = _round(conn, round_id)
        if before.state == state:
            raise ConflictError("round %(id)s is already %(state)s", id=round_id, state=state)
        conn.execute(update(t.rounds).where(t.rounds.c.id == round_id).values(state=state))
        record_audit(
            conn,
            actor,
            f"round.{'close' if state == 'closed' else 'reopen'}",
            f"round {round_id}",
            {"state": before.state},
            {"state": state},
        )
        return _round(conn, round_id)


def close_round(store: Store, round_id: int, actor: Actor = "secretariat") -> Round:
    return _set_state(store, round_id, "closed", actor)


def reopen_round(store: Store, round_id: int, actor: Actor = "secretariat") -> Round:
    return _set_state(store, round_id, "open", actor)


def list_rounds(store: Store) -> list[Round]:
    with store.connection() as conn:
        ids = conn.scalars(select(t.rounds.c.id).order_by(t.rounds.c.id)).all()
        return [_round(conn, i) for i in ids]


def get_round(store: Store, round_id: int) -> Round:
    with store.connection() as conn:
        return _round(conn, round_id)


# --- who may see what: decided here, once, for the CLI and the web alike ------------------------


def is_published(rnd: Round) -> bool:
    """A round's answers and results are everyone's once it is public and closed."""
    return rnd.public and rnd.state == "closed"


def can_see_results(user: User | None, rnd: Round) -> bool:
    """The Secretariat and observers see every round's results; everyone a published round's."""
    from rcm.users import Role

    if user is not None and user.role in (Role.SECRETARIAT, Role.OBSERVER):
        return True
    return is_published(rnd)


def answers_instead_of_results(user: User | None, rnd: Round) -> bool:
    """Whether a round's page should take ``user`` to their country's answers instead: a focal
    point, before the results are theirs to see."""
    from rcm.users import Role

    return user is not None and user.role is Role.FOCAL_POINT and not can_see_results(user, rnd)


def check_can_see_results(user: User | None, rnd: Round) -> None:
    """Raises ``AuthError`` (nobody signed in) or ``Forbidden`` unless ``user`` may see the
    results of ``rnd``."""
    from rcm.users import AuthError, Forbidden

    if not can_see_results(user, rnd):
        raise (Forbidden if user else AuthError)(
            "Only the Secretariat and observers see the results before they are published."
        )


def visible_rounds(store: Store, user: User | None) -> list[Round]:
    """The rounds ``user`` may see listed: every round for a signed-in person, else the
    published ones."""
    rounds = list_rounds(store)
    return rounds if user is not None else [r for r in rounds if is_published(r)]


def rounds_about(store: Store, statement_id: str, user: User | None) -> list[Round]:
    """The rounds asking about a statement that ``user`` may see listed (:func:`visible_rounds`):
    all of them for a signed-in person, the published ones for everyone else."""
    rs = t.round_statements
    with store.connection() as conn:
        ids = set(conn.scalars(select(rs.c.round_id).where(rs.c.statement_id == statement_id)))
    return [r for r in visible_rounds(store, user) if r.id in ids]


def answering_country(user: User, requested: str | None) -> str:
    """The Member Country whose answers ``user`` sees and writes: a focal point's own (asking for
    another is ``Forbidden``), the one the Secretariat chose; observers answer for none."""
    from rcm.users import Forbidden, Role

    if user.role is Role.FOCAL_POINT:
        if requested and requested.upper() != user.country:
            raise Forbidden("You may only see and answer for your own country.")
        return str(user.country)
    if user.role is Role.SECRETARIAT:
        code = (requested or "").upper()
        if code not in member_countries():
            raise RcmError("Choose a Member Country.")
        return code
    raise Forbidden("Observers may comment but never answer for a country.")


def visible_history(store: Store, statement_id: str, viewer: User | None) -> list[dict[str, Any]]:
    """Every version of the answers on a statement that ``viewer`` may read: the Secretariat and
    observers all; a focal point their own country's, and everyone the answers of published
    rounds. Drafts of another country are never shown."""
    from rcm.users import Role

    published = {r.id for r in list_rounds(store) if is_published(r)}
    role = getattr(viewer, "role", None)
    own = getattr(viewer, "country", None)
    return [
        h
        for h in history(store, statement_id)
        if role in (Role.SECRETARIAT, Role.OBSERVER)
        or h["round_id"] in published
        or (role is Role.FOCAL_POINT and h["country"] == own)
    ]


def changed_answers(
    store: Store, round_id: int, country: str, fields: Mapping[str, str]
) -> list[Answer]:
    """The answers of a form (``v:ID`` the answer, ``w:ID`` the proposed wording, ``c:ID`` the
    reason or comment, ``ver:ID`` the version of the opinion the writer saw, ``sv:ID`` the version
    of the statement's wording the form showed, ``confirm:ID`` set to give an unchanged answer
    again for the wording shown) that differ from ``country``'s current ones: an unchanged row is
    not written again, unless confirmed. A form without ``sv:ID`` answers the current wording."""
    current = {o.statement_id: o for o in opinions(store, round_id) if o.country == country}
    answers = []
    for key in fields:
        if not key.startswith("v:"):
            continue
        sid = key[2:]
        value = (fields.get(key) or "").strip()
        if not value:
            continue
        wording = (fields.get(f"w:{sid}") or "").strip() or None
        note = (fields.get(f"c:{sid}") or "").strip() or None
        before = current.get(sid)
        reason = note if value == OpinionValue.NO_LONGER_VALID.value else None
        comment = None if reason else note
        if (
            before
            and (before.value.value, before.proposed_wording, before.reason, before.comment)
            == (value, wording, reason, comment)
            and not fields.get(f"confirm:{sid}")
        ):
            continue
        shown = fields.get(f"sv:{sid}")
        answers.append(
            Answer(
                sid,
                value,
                wording,
                reason,
                comment,
                _form_number(fields.get(f"ver:{sid}") or "0"),
                None if shown is None else _form_number(shown),
            )
        )
    return answers


def _form_number(text: str) -> int:
    """A version number from a form's hidden field; 0 (never a version) when it is not one."""
    ok = text.isascii() and text.isdigit() and len(text) <= 10 and int(text) < 2**31
    return int(text) if ok else 0


def save_form(
    store: Store, user: User, rnd: Round, country: str, fields: Mapping[str, str]
) -> list[Opinion]:
    """``country``'s answers from the web form, if ``user`` may write them (checked first, even
    when nothing changed): the changed rows only, all or none."""
    from rcm.users import check_can_answer

    check_can_answer(user, country, rnd.state)
    answers = changed_answers(store, rnd.id, country, fields)
    return set_opinions(store, rnd.id, country, answers, author=user, source="web")


def _validate(
    country: str,
    value: str,
    wording: str | None,
    reason: str | None,
    comment: str | None = None,
) -> tuple[str, OpinionValue, str | None, str | None]:
    code = country.strip().upper()
    if code not in member_countries():
        raise RcmError(
            "%(value)s is not a Member Country; valid: %(valid)s",
            value=repr(country),
            valid=", ".join(member_countries()),
        )
    try:
        v = OpinionValue(value.strip().lower())
    except ValueError:
        # stays a plain message: the command line says each answer with its meaning (``_ERRORS``)
        raise RcmError(
            f"{value!r} is not an answer; valid: {', '.join(o.value for o in OpinionValue)}"
        ) from None
    wording = (wording or "").strip() or None
    reason = (reason or "").strip() or None
    if v is OpinionValue.VALID_WITH_CHANGES and not wording:
        raise RcmError("“valid with changes” needs the proposed wording")
    if v is OpinionValue.NO_LONGER_VALID and not reason:
        raise RcmError("“no longer valid” needs a reason")
    check_lengths(wording, reason, (comment or "").strip() or None)
    return code, v, wording, reason


def check_lengths(wording: str | None, reason: str | None, comment: str | None) -> None:
    """The limits of one answer's texts (``MAX_WORDING``, ``MAX_COMMENT``)."""
    for message, text, limit in (
        ("the proposed wording has %(n)s characters; at most %(limit)s", wording, MAX_WORDING),
        ("the reason has %(n)s characters; at most %(limit)s", reason, MAX_COMMENT),
        ("the comment has %(n)s characters; at most %(limit)s", comment, MAX_COMMENT),
    ):
        # A line end counts once, as in the form's maxlength (browsers send it as CR LF).
        n = len(text.replace("\r\n", "\n")) if text is not None else 0
        if n > limit:
            raise RcmError(message, n=f"{n:,}", limit=f"{limit:,}")


def _write_opinion(
    conn: Connection,
    rnd: Round,
    country: str,
    statement_id: str,
    value: OpinionValue,
    wording: str | None,
    reason: str | None,
    comment: str | None,
    actor: Actor,
    expected_version: int | None,
    source: str,
    statement_version: int | None = None,
) -> Opinion:
    # Every opinion is written here, whatever the adapter: the permission check cannot be skipped.
    # ``statement_version`` is the wording the writer saw (None: the current one, e.g. the CLI).
    author = answering_name(actor, country, rnd.state)
    if rnd.state != "open":
        raise ConflictError("round %(id)s is closed: it is read-only", id=rnd.id)
    in_scope = conn.scalar(
        select(func.count())
        .select_from(t.round_statements)
        .where(
            t.round_statements.c.round_id == rnd.id,
            t.round_statements.c.statement_id == statement_id,
        )
    )
    if not in_scope:
        raise NotFound("statement %(sid)s is not in round %(id)s", sid=statement_id, id=rnd.id)
    seen = _seen_wording(conn, statement_id, statement_version)
    o = t.opinions
    key = (o.c.round_id == rnd.id, o.c.country == country, o.c.statement_id == statement_id)
    current = conn.execute(select(o).where(*key)).first()
    have = current.version if current else 0
    if expected_version is not None and expected_version != have:
        values = {"country": country, "sid": statement_id, "have": have, "read": expected_version}
        if current:
            raise ConflictError(
                "%(country)s's opinion on %(sid)s changed by %(person)s at %(at)s (version "
                "%(have)s, you read %(read)s): reload it and try again",
                person=current.author,
                at=f"{current.at:%Y-%m-%d %H:%M}",
                **values,
            )
        raise ConflictError(
            "%(country)s's opinion on %(sid)s changed (version %(have)s, you read %(read)s): "
            "reload it and try again",
            **values,
        )
    at = clock.now()
    row = {
        "value": value.value,
        "proposed_wording": wording,
        "reason": reason,
        "comment": comment,
        "author": author,
        "at": at,
        "version": have + 1,
        "statement_version": seen,
    }
    try:
        if current is None:
            conn.execute(
                insert(o).values(round_id=rnd.id, country=country, statement_id=statement_id, **row)
            )
        else:
            done = conn.execute(update(o).where(*key, o.c.version == have).values(**row)).rowcount
            if done != 1:
                raise ConflictError(
                    "%(country)s's opinion on %(sid)s changed meanwhile: try again",
                    country=country,
                    sid=statement_id,
                )
        conn.execute(
            insert(t.opinion_history).values(
                round_id=rnd.id, country=country, statement_id=statement_id, source=source, **row
            )
        )
    except IntegrityError:
        raise ConflictError(
            "%(country)s's opinion on %(sid)s changed meanwhile: try again",
            country=country,
            sid=statement_id,
        ) from None
    record_audit(
        conn,
        author,
        "opinion.set",
        f"round {rnd.id} {country} {statement_id}",
        None if current is None else {"value": current.value, "version": current.version},
        {"value": value.value, "version": have + 1, "source": source, "statement_version": seen},
    )
    return Opinion(
        rnd.id, country, statement_id, value, wording, reason, comment, author, at, have + 1, seen
    )


def _seen_wording(conn: Connection, statement_id: str, seen: int | None) -> int:
    """The wording's version an answer is recorded against: the one the writer saw, which must be
    one the statement has had; the current one when the adapter shows only that (the CLI)."""
    current = conn.scalar(select(t.statements.c.version).where(t.statements.c.id == statement_id))
    if current is None:
        raise NotFound("no statement %(id)s", id=statement_id)
    if seen is None:
        return int(current)
    if not 1 <= seen <= current:
        raise RcmError(
            "statement %(sid)s has no wording version %(seen)s: its wording is at version "
            "%(current)s",
            sid=statement_id,
            seen=seen,
            current=current,
        )
    return seen


def set_opinion(
    store: Store,
    round_id: int,
    country: str,
    statement_id: str,
    value: str,
    *,
    proposed_wording: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    author: Actor,
    expected_version: int | None = None,
    source: str = "cli",
    statement_version: int | None = None,
) -> Opinion:
    """Write one Member Country's answer, if ``author`` may (``answering_name``), recorded against
    ``statement_version``, the wording the writer saw (default: the current wording)."""
    code, v, wording, why = _validate(country, value, proposed_wording, reason, comment)
    sid = statement_id.strip().upper()
    with store.transaction() as conn:
        rnd = _round(conn, round_id)
        return _write_opinion(
            conn,
            rnd,
            code,
            sid,
            v,
            wording,
            why,
            (comment or "").strip() or None,
            author,
            expected_version,
            source,
            statement_version,
        )


@dataclass(frozen=True)
class Answer:
    """One row of a form or questionnaire: the answer, the version of the opinion the writer last
    saw (``expected_version``) and the version of the statement's wording they answered
    (``statement_version``; None: the current one)."""

    statement_id: str
    value: str
    proposed_wording: str | None = None
    reason: str | None = None
    comment: str | None = None
    expected_version: int | None = None
    statement_version: int | None = None


def set_opinions(
    store: Store,
    round_id: int,
    country: str,
    answers: Sequence[Answer],
    *,
    author: Actor,
    source: str,
    then: Callable[[Connection], None] | None = None,
) -> list[Opinion]:
    """Several answers of one country, all or none: every row is checked first (errors name the
    statement), then all are written in one transaction (a conflict on any undoes them all). The
    permission check (``answering_name``) comes first, even when there is nothing to write.
    ``then`` runs in the same transaction after the writes (``rcm.drafts.submit`` deletes the
    drafts it submitted there)."""
    problems: list[str] = []
    checked = []
    for a in answers:
        try:
            code, v, wording, reason = _validate(
                country, a.value, a.proposed_wording, a.reason, a.comment
            )
        except RcmError as exc:
            problems.append(f"{a.statement_id}: {exc.message}")
            continue
        checked.append((a, code, v, wording, reason))
    if problems:
        raise RcmError("; ".join(problems))
    with store.transaction() as conn:
        rnd = _round(conn, round_id)
        answering_name(author, country.strip().upper(), rnd.state)
        written = [
            _write_opinion(
                conn,
                rnd,
                code,
                a.statement_id.strip().upper(),
                v,
                wording,
                reason,
                (a.comment or "").strip() or None,
                author,
                a.expected_version,
                source,
                a.statement_version,
            )
            for a, code, v, wording, reason in checked
        ]
        if then is not None:
            then(conn)
        return written


def set_opinion_as(
    store: Store,
    user: User,
    round_id: int,
    country: str,
    statement_id: str,
    value: str,
    **fields: Any,
) -> Opinion:
    """``set_opinion`` for a signed-in user (the permission check is ``set_opinion``'s own)."""
    return set_opinion(store, round_id, country, statement_id, value, author=user, **fields)


def add_comment(
    store: Store, user: Any, round_id: int, statement_id: str, text: str
) -> dict[str, Any]:
    """An observer's (or the Secretariat's) comment on a statement of an open round. It is not an
    answer and never counts in the consensus: comments are kept apart."""
    from rcm.users import Forbidden, Role

    if user.role not in (Role.OBSERVER, Role.SECRETARIAT) or not user.active:
        raise Forbidden("only observers and the Secretariat comment here; focal points answer")
    body = text.strip()
    if not body or len(body) > MAX_COMMENT:
        raise RcmError("a comment needs between 1 and %(max)s characters", max=f"{MAX_COMMENT:,}")
    sid = statement_id.strip().upper()
    with store.transaction() as conn:
        rnd = _round(conn, round_id)
        if rnd.state != "open":
            raise ConflictError("round %(id)s is closed: it is read-only", id=round_id)
        in_scope = conn.scalar(
            select(func.count())
            .select_from(t.round_statements)
            .where(
                t.round_statements.c.round_id == round_id, t.round_statements.c.statement_id == sid
            )
        )
        if not in_scope:
            raise NotFound("statement %(sid)s is not in round %(id)s", sid=sid, id=round_id)
        row = {
            "round_id": round_id,
            "statement_id": sid,
            "author": user.username,
            "text": body,
            "at": clock.now(),
        }
        conn.execute(insert(t.observer_comments).values(**row))
        record_audit(
            conn, user.username, "comment.add", f"round {round_id} {sid}", None, {"text": body}
        )
    return {**row, "at": row["at"].isoformat()}


def comments(store: Store, round_id: int) -> list[dict[str, Any]]:
    c = t.observer_comments
    with store.connection() as conn:
        rows = conn.execute(
            select(c).where(c.c.round_id == round_id).order_by(c.c.statement_id, c.c.at, c.c.id)
        ).mappings()
        return [{**dict(r), "at": r["at"].isoformat()} for r in rows]


def opinions(store: Store, round_id: int) -> list[Opinion]:
    with store.connection() as conn:
        _round(conn, round_id)
        rows = conn.execute(select(t.opinions).where(t.opinions.c.round_id == round_id))
        return [opinion_from_row(r) for r in rows]


def opinion_from_row(r: Any) -> Opinion:
    """An opinion from a row of ``opinions``."""
    return Opinion(
        r.round_id,
        r.country,
        r.statement_id,
        OpinionValue(r.value),
        r.proposed_wording,
        r.reason,
        r.comment,
        r.author,
        r.at,
        r.version,
        r.statement_version,
    )


@dataclass(frozen=True)
class Wordings:
    """A statement's wordings, as far as answers need them: the current version, and when each
    version was stored (``statement_versions``)."""

    current: int
    made: dict[int, datetime]

    def answered(self, stored: int | None, at: datetime) -> int:
        """The version an answer given at ``at`` was to: the one recorded with it, or, for an
        answer written before wordings were versioned (``stored`` None), the latest version
        stored by then (version 1 when none was: the wording versions began after it)."""
        if stored is not None:
            return stored
        when = clock.aware(at)
        assert when is not None
        return max((v for v, made in self.made.items() if made <= when), default=1)

    def changed_on(self) -> str | None:
        """The day the current wording was stored, if it is not the first."""
        made = self.made.get(self.current)
        return made.date().isoformat() if self.current > 1 and made is not None else None


def _wordings(conn: Connection, ids: Sequence[str]) -> dict[str, Wordings]:
    sv = t.statement_versions
    made: dict[str, dict[int, datetime]] = {}
    for sid, version, at in conn.execute(
        select(sv.c.statement_id, sv.c.version, sv.c.at).where(sv.c.statement_id.in_(ids))
    ):
        when = clock.aware(at)
        assert when is not None
        made.setdefault(sid, {})[version] = when
    return {
        sid: Wordings(int(version), made.get(sid, {}))
        for sid, version in conn.execute(
            select(t.statements.c.id, t.statements.c.version).where(t.statements.c.id.in_(ids))
        )
    }


def reworded_since(store: Store, answers: Sequence[Opinion]) -> list[dict[str, Any]]:
    """The answers among ``answers`` given to an earlier wording than the statement's current
    one, each with the current wording: what the web form tells the person who just saved them."""
    return _reworded(store, [(a.statement_id, a.statement_version, a.at) for a in answers])


def reworded_in_form(store: Store, fields: Mapping[str, str]) -> list[dict[str, Any]]:
    """The statements of a form (``sv:ID``, the version of the wording it showed) whose wording
    changed since the form was shown, each with the current wording."""
    shown = [(key[3:], _form_number(v)) for key, v in fields.items() if key.startswith("sv:")]
    return _reworded(store, [(sid, v, clock.now()) for sid, v in shown if v > 0])


def _reworded(
    store: Store, answers: Sequence[tuple[str, int | None, datetime]]
) -> list[dict[str, Any]]:
    ids = sorted({sid for sid, _, _ in answers})
    with store.connection() as conn:
        wordings = _wordings(conn, ids)
        texts = {
            r.id: (r.text, r.lang)
            for r in conn.execute(
                select(t.statements.c.id, t.statements.c.text, t.statements.c.lang).where(
                    t.statements.c.id.in_(ids)
                )
            )
        }
    out = []
    for sid, stored, at in answers:
        w = wordings.get(sid)
        if w is None:
            continue
        answered = w.answered(stored, at)
        if answered < w.current:
            out.append(
                {
                    "id": sid,
                    "answered_version": answered,
                    "version": w.current,
                    "changed_on": w.changed_on(),
                    "text": texts.get(sid, ("", "en"))[0],
                    "lang": texts.get(sid, ("", "en"))[1],  # the language of ``text``
                }
            )
    return out


def history(store: Store, statement_id: str) -> list[dict[str, Any]]:
    """Every version of every opinion on a statement, oldest first (for the statement page), each
    with the version of the wording it answered (``answered_version``: recorded, or inferred for
    answers from before wordings were versioned) and the statement's ``current_version``."""
    h = t.opinion_history
    sid = statement_id.upper()
    with store.connection() as conn:
        rows = conn.execute(
            select(h)
            .where(h.c.statement_id == sid)
            .order_by(h.c.round_id, h.c.country, h.c.version)
        ).mappings()
        found = [dict(r) for r in rows]
        wordings = _wordings(conn, [sid]).get(sid, Wordings(1, {}))
    return [
        {
            **r,
            "at": r["at"].isoformat(),
            "answered_version": wordings.answered(r["statement_version"], r["at"]),
            "current_version": wordings.current,
        }
        for r in found
    ]


def round_status(store: Store, round_id: int, today: date | None = None) -> dict[str, Any]:
    """Per statement: its status and each country's answer; per country: answered of total; per
    theme: how many statements are in each status."""
    with store.connection() as conn:
        rnd = _round(conn, round_id)
        ids = sorted(_scope(conn, round_id))
        wordings = _wordings(conn, ids)
        themes: dict[str, set[int]] = {}
        for sid, theme in conn.execute(
            select(t.placements.c.statement_id, t.placements.c.theme).where(
                t.placements.c.statement_id.in_(ids)
            )
        ):
            themes.setdefault(sid, set()).add(theme)
    answers: dict[str, dict[str, Opinion]] = {}
    for op in opinions(store, round_id):
        answers.setdefault(op.statement_id, {})[op.country] = op
    today = today or datetime.now(UTC).date()
    silence = (
        rnd.silence_is_consent
        and rnd.deadline is not None
        and today > date.fromisoformat(rnd.deadline)
    )
    countries = member_countries()
    statements: list[dict[str, Any]] = []
    per_theme: dict[int, Counter[str]] = {}
    for sid in sorted(ids):
        given = answers.get(sid, {})
        status = consensus({c: given[c].value if c in given else None for c in countries}, silence)
        wording = wordings.get(sid, Wordings(1, {}))
        answered = {
            c: wording.answered(o.statement_version, o.at) for c, o in sorted(given.items())
        }
        statements.append(
            {
                "id": sid,
                "status": status.value,
                "themes": sorted(themes.get(sid, ())),
                "answers": {c: (given[c].value.value if c in given else None) for c in countries},
                "proposed_wording": {
                    c: o.proposed_wording for c, o in given.items() if o.proposed_wording
                },
                "reasons": {c: o.reason for c, o in given.items() if o.reason},
                # The wording: its current version, the day it last changed, the version each
                # country answered, and those answers given to an earlier wording. They still
                # count in the consensus; every view flags them.
                "version": wording.current,
                "wording_changed_on": wording.changed_on(),
                "answered_versions": answered,
                "earlier_wording": {c: v for c, v in answered.items() if v < wording.current},
            }
        )
        for theme in themes.get(sid, ()):
            per_theme.setdefault(theme, Counter())[status.value] += 1
    return {
        "round": rnd.as_dict(),
        "silence_counts_as_no_objection": silence,
        "totals": dict(Counter(s["status"] for s in statements)),
        # How many answers were given to an earlier wording than the statement's current one,
        # and on how many statements.
        "earlier_wording": {
            "answers": sum(len(s["earlier_wording"]) for s in statements),
            "statements": sum(1 for s in statements if s["earlier_wording"]),
        },
        # Progress, and divergence: how often each country departs from plain reaffirmation.
        "countries": {
            c: {
                "answered": sum(1 for s in statements if s["answers"][c]),
                "total": len(statements),
                "changes": sum(1 for s in statements if s["answers"][c] == "valid with changes"),
                "objections": sum(1 for s in statements if s["answers"][c] == "no longer valid"),
                "earlier_wording": sum(1 for s in statements if c in s["earlier_wording"]),
            }
            for c in countries
        },
        "themes": {str(k): dict(v) for k, v in sorted(per_theme.items())},
        # The themes the round asks about (its dashboard's columns), not every theme its
        # statements are also filed under.
        "round_themes": round_themes(rnd.scope, [s["themes"] for s in statements]),
        "statements": statements,
    }


# The scope's sentences as ``rcm.search`` writes them ("theme is TS1 or TS5", "sub-theme is TS3.2
# «…»"), joined by " and " (``open_round``); tests/test_web_dashboard.py checks both forms against
# ``theme_filter`` and ``subtheme_filter``.
_SCOPE_THEMES = re.compile(r"(?:^| and )theme is ((?:TS\d(?:, | or )?)+)")
_SCOPE_SUBTHEMES = re.compile(r"(?:^| and )sub-theme is (.*)")
_SCOPE_SUBTHEME = re.compile(r"TS(\d)\.\d+ \u00ab")


def round_themes(scope: str, placed: Sequence[Sequence[int]]) -> list[int]:
    """The themes a round asks about: those its scope names ("theme is TS5"; a sub-theme's
    theme), else every theme its statements (``placed``: each one's themes) are filed under. A
    TS5 round's statements are also filed under other themes; those are not the round's."""
    named: set[int] = set()
    found = _SCOPE_THEMES.search(scope)
    if found:
        named.update(int(n) for n in re.findall(r"TS(\d)", found.group(1)))
    found = _SCOPE_SUBTHEMES.search(scope)
    if found:
        named.update(int(n) for n in _SCOPE_SUBTHEME.findall(found.group(1)))
    if named:
        return sorted(named)
    return sorted({t for themes in placed for t in themes})


def regional_position(store: Store, round_id: int, today: date | None = None) -> dict[str, Any]:
    """What the region can say: the statements reaffirmed, by theme and category, and beside them
    those to be updated with every proposed wording; the contested and pending ones are listed
    apart so that nobody mistakes them for consensus."""
    status = round_status(store, round_id, today)
    ids = [s["id"] for s in status["statements"]]
    with store.connection() as conn:
        rows = conn.execute(
            select(
                t.statements.c.id,
                t.statements.c.text,
                t.statements.c.category,
                t.statements.c.meeting,
            ).where(t.statements.c.id.in_(ids))
        ).all()
    info = {r.id: r for r in rows}
    themes = {th.number: th.title for th in store.themes()}
    by_theme: dict[int, dict[str, Any]] = {}
    apart: dict[str, list[dict[str, Any]]] = {"contested": [], "pending": []}
    for s in status["statements"]:
        r = info[s["id"]]
        entry = {
            "id": s["id"],
            "meeting": r.meeting,
            "category": r.category or "unassigned",
            "text": r.text,
            "version": s["version"],
            "wording_changed_on": s["wording_changed_on"],
            "earlier_wording": s["earlier_wording"],
            "themes": s["themes"],
        }
        if s["status"] == Status.CONTESTED.value:
            apart["contested"].append({**entry, "reasons": s["reasons"]})
            continue
        if s["status"] == Status.PENDING.value:
            missing = [c for c, a in s["answers"].items() if a is None]
            apart["pending"].append({**entry, "not_answered": missing})
            continue
        for theme in s["themes"] or [0]:
            section = by_theme.setdefault(
                theme,
                {
                    "theme": theme,
                    "title": themes.get(theme, ""),
                    "reaffirmed": {},
                    "to_be_updated": [],
                },
            )
            if s["status"] == Status.REAFFIRMED.value:
                section["reaffirmed"].setdefault(entry["category"], []).append(entry)
            else:
                section["to_be_updated"].append(
                    {**entry, "proposed_wording": s["proposed_wording"]}
                )
    return {
        "round": status["round"],
        "totals": status["totals"],
        "earlier_wording": status["earlier_wording"],
        "themes": [by_theme[k] for k in sorted(by_theme)],
        "round_themes": status["round_themes"],
        "contested": apart["contested"],
        "pending": apart["pending"],
    }


@dataclass(frozen=True)
class PositionDocument:
    """What the regional position document of a round holds (``rcm.export.position``)."""

    day: date
    position: dict[str, Any]  # regional_position
    status: dict[str, Any]  # round_status
    statements: dict[str, Statement]  # the round's statements by id
    meeting_labels: dict[str, str]  # meeting code -> label
    comments: list[dict[str, Any]]  # observers' comments
    category_labels: dict[str, str]  # category name -> label


def position_document(store: Store, round_id: int, today: date | None = None) -> PositionDocument:
    """The data of round ``round_id``'s position document. ``today`` decides whether silence
    already counts as consent (after the deadline) and is the date generated."""
    day = today or clock.now().date()
    position = regional_position(store, round_id, day)
    status = round_status(store, round_id, day)
    ids = [s["id"] for s in status["statements"]]
    return PositionDocument(
        day,
        position,
        status,
        {s.id: s for s, _ in store.statements_where(t.statements.c.id.in_(ids))},
        {m.code: m.label for m in store.meetings()},
        comments(store, round_id),
        {ci.category.value: ci.label for ci in store.categories()},
    )


# --- the Excel questionnaire ----------------------------------------------------------------------

HEADER = ["Statement ID", "Meeting", "Statement", "Still valid?", "Proposed wording", "Comment"]


def questionnaire_header(lang: str) -> list[str]:
    """The questionnaire's columns in a language (English: :data:`HEADER`)."""
    w = words(lang)
    if not w.spanish:
        return HEADER
    return [w(h) if h != "Statement" else w.one_statement for h in HEADER]


SIGNATURE_SHEET = "signature"
# The questionnaire's limits, checked before and while it is read (``rcm.parse.xlsx``). A real
# questionnaire of every statement is about 35 KB packed and 140 KB unpacked; one where every
# answer has the longest wording and comment allowed stays under a few MB.
MAX_XLSX_BYTES = 5 * 1024 * 1024  # the file (the web's upload limit too)
MAX_XLSX_UNPACKED = 50 * 1024 * 1024  # all its parts unpacked
MAX_XLSX_PART = 25 * 1024 * 1024  # any one part unpacked
MAX_XLSX_RATIO = 100  # unpacked:packed, for a part over 1 MB (XML packs about 5:1)
MAX_XLSX_SHEETS = 16  # six themes and the signature, and room for a person's own sheets
MAX_XLSX_COLUMNS = 26  # A to Z: six columns, and room for a person's notes
SPARE_ROWS = 20  # rows per sheet beyond the header and the round's statements
MAX_CELL = max(MAX_WORDING, MAX_COMMENT)  # characters in any cell


def questionnaire_limits(statements: int) -> XlsxLimits:
    """The limits of a questionnaire for a round of ``statements`` statements: no sheet has more
    rows than the header, every statement once, and ``SPARE_ROWS``."""
    return XlsxLimits(
        max_unpacked=MAX_XLSX_UNPACKED,
        max_member=MAX_XLSX_PART,
        max_ratio=MAX_XLSX_RATIO,
        max_rows=1 + statements + SPARE_ROWS,
        max_columns=MAX_XLSX_COLUMNS,
        max_cell_chars=MAX_CELL,
        max_sheets=MAX_XLSX_SHEETS,
    )


def _shown(text: str | None) -> str | None:
    """A text as the questionnaire shows it and reads it back: without the control characters an
    .xlsx cannot hold, with one kind of line end, stripped."""
    if text is None:
        return None
    return xlsx_text(text).replace("\r\n", "\n").replace("\r", "\n").strip() or None


def _signature(secret: object, round_id: int, country: str) -> str:
    # The round's secret (in the database) and the deployment's key (in the environment): a
    # copy of the database alone cannot sign a questionnaire for another country.
    return settings.keyed("questionnaire", f"{secret}:{round_id}:{country}")


# Since the wordings are versioned, the signature sheet also lists the version of each statement's
# wording the questionnaire shows (from row ``WORDINGS_ROW``: id, version), signed apart in cell D2
# so that a questionnaire from before keeps its signature and still imports.
WORDINGS_ROW = 4


def _wordings_signature(
    secret: object, round_id: int, country: str, versions: Mapping[str, int]
) -> str:
    listed = ";".join(f"{sid}={v}" for sid, v in sorted(versions.items()))
    return settings.keyed("questionnaire-wordings", f"{secret}:{round_id}:{country}:{listed}")


@dataclass(frozen=True)
class QuestionnaireRow:
    statement_id: str
    meeting: str  # its label, e.g. "XIX RCM"
    text: str
    answer: str | None  # the questionnaire's word for it (a key of ANSWERS, or of ANSWERS_ES)
    proposed_wording: str | None
    comment: str | None  # the reason, or else the comment
    version: int  # the version of the wording ``text`` is


@dataclass(frozen=True)
class Questionnaire:
    """What a country's questionnaire holds; written as .xlsx by ``rcm.export.questionnaire``."""

    round_id: int
    country: str
    signature: str
    sheets: list[tuple[str, list[QuestionnaireRow]]]  # theme code -> its rows, document order
    wordings_signature: str  # of ``versions``
    lang: str = "en"  # the language it is written in

    @property
    def versions(self) -> dict[str, int]:
        """The version of each statement's wording the questionnaire shows."""
        return {r.statement_id: r.version for _, rows in self.sheets for r in rows}


def questionnaire(
    store: Store, round_id: int, country: str, lang: str | None = None
) -> Questionnaire:
    """A country's questionnaire: the round's statements filed under each theme, in document
    order, with what the country has answered so far, and the signature of round and country.
    ``lang``: its language; by default the one of the country's focal point accounts (Spanish
    where they all chose Spanish, else English). In Spanish, each statement's Spanish wording
    where it has one, else its English one marked as English."""
    code, _, _, _ = _validate(country, "valid", None, None)
    w = words(lang if lang is not None else _focal_point_language(store, code))
    with store.connection() as conn:
        rnd = _round(conn, round_id)
        secret = conn.scalar(select(t.rounds.c.secret).where(t.rounds.c.id == round_id))
        ids = _scope(conn, round_id)
        wordings = _wordings(conn, sorted(ids))
    given = {o.statement_id: o for o in opinions(store, round_id) if o.country == code}
    reverse = {v: k for k, v in answer_words(w.lang).items()}
    meetings = {m.code: w.meeting(m.label) for m in store.meetings()}
    sheets: list[tuple[str, list[QuestionnaireRow]]] = []
    for theme in store.themes():
        found = store.statements_where(t.placements.c.theme == theme.number)
        rows = []
        for s, _ in found:
            if s.id not in ids:
                continue
            o = given.get(s.id)
            rows.append(
                QuestionnaireRow(
                    s.id,
                    meetings.get(s.meeting, s.meeting),
                    _questionnaire_text(s, w),
                    reverse[o.value] if o else None,
                    o.proposed_wording if o else None,
                    (o.reason or o.comment) if o else None,
                    wordings[s.id].current if s.id in wordings else 1,
                )
            )
        if rows:
            sheets.append((theme.code, rows))
    versions = {r.statement_id: r.version for _, rows in sheets for r in rows}
    return Questionnaire(
        rnd.id,
        code,
        _signature(secret, rnd.id, code),
        sheets,
        _wordings_signature(secret, rnd.id, code, versions),
        w.lang,
    )


def _questionnaire_text(s: Statement, w: Words) -> str:
    if not w.spanish or (s.lang == "es" and not s.text_es):
        return s.text
    text, lang = w.statement_text(s)
    return text if lang == "es" else f"{w.english_mark()} {text}"


def _focal_point_language(store: Store, country: str) -> str:
    """The language of a country's focal points (``users.lang``): Spanish when every active one
    chose it, else English."""
    with store.connection() as conn:
        chosen = set(
            conn.scalars(
                select(t.users.c.lang).where(
                    t.users.c.country == country,
                    t.users.c.role == "focal_point",
                    t.users.c.active.is_(True),
                )
            )
        )
    return "es" if chosen == {"es"} else "en"


@dataclass(frozen=True)
class ImportResult:
    round_id: int
    country: str
    written: int
    unchanged: int
    blank: int
    # The answers written to an earlier wording than the statement's current one: (id, the
    # version the questionnaire showed, the current version).
    earlier_wording: tuple[tuple[str, int, int], ...] = ()


def import_questionnaire(
    store: Store,
    round_id: int,
    data: bytes,
    name: str,
    author: Actor,
    expected_country: str | None = None,
) -> ImportResult:
    """Read a questionnaire back: every problem is reported with its sheet and row, and nothing is
    written unless the whole file is right. The file is checked against the questionnaire's limits
    (``questionnaire_limits``) before and while it is read, streaming: a file that crosses one is
    refused as soon as it does, whatever it holds further on."""

    def refuse(message: str) -> DocumentError:
        return DocumentError(name, [Problem(0, message)])

    if len(data) > MAX_XLSX_BYTES:
        # The adapters read one byte more than allowed, not the whole file: no size to quote.
        raise refuse(
            f"the file is larger than {MAX_XLSX_BYTES // (1024 * 1024)} MB: a questionnaire is "
            f"at most {MAX_XLSX_BYTES:,} bytes"
        )
    with store.connection() as conn:
        rnd = _round(conn, round_id)
        secret = conn.scalar(select(t.rounds.c.secret).where(t.rounds.c.id == round_id))
        in_scope = _scope(conn, round_id)
    try:
        sheets = read_xlsx(data, questionnaire_limits(len(in_scope)), len(HEADER))
    except XlsxLimit as exc:
        raise refuse(
            f"{exc}: this is not a questionnaire of round {round_id} ({len(in_scope)} statements)"
        ) from None
    except XlsxUnreadable as exc:
        raise refuse(
            f"not an .xlsx questionnaire, or a damaged one ({exc}): download a new one "
            "or save it again in Excel"
        ) from None
    sig = next((ws for ws in sheets if ws.title == SIGNATURE_SHEET), None)
    if sig is None:
        raise refuse(
            "the questionnaire's signature is missing: download a new questionnaire with "
            "`rcm round questionnaire`"
        )
    sig_round, sig_country, sig_value = sig.cell(2, 1), sig.cell(2, 2), sig.cell(2, 3)
    if str(sig_round) != str(round_id):
        raise refuse(f"this questionnaire is for round {sig_round}, not round {round_id}")
    if expected_country is not None and str(sig_country or "") != expected_country:
        raise refuse(f"this questionnaire is for {sig_country}, not {expected_country}")
    country = str(sig_country or "")
    answering_name(author, country, rnd.state)  # before reading a row, and again for each write
    if not hmac.compare_digest(
        str(sig_value or "").encode(), _signature(secret, round_id, country).encode()
    ):
        raise refuse(
            "the questionnaire's signature does not match this round and country: it was "
            "altered or belongs elsewhere"
        )
    shown_version = _versions_shown(store, sig, secret, rnd, country, in_scope, refuse)
    problems: list[str] = []
    wanted: dict[str, tuple[OpinionValue, str | None, str | None, str | None, str, int]] = {}
    blank = 0
    for ws in sheets:
        if ws.title == SIGNATURE_SHEET:
            continue
        header = [ws.cell(1, c) for c in range(1, len(HEADER) + 1)]
        if header not in (HEADER, questionnaire_header("es")):
            problems.append(f"sheet {ws.title}, row 1: the columns must be {', '.join(HEADER)}")
            continue
        for i in sorted(r for r in ws.rows if r >= 2):
            sid, _, text, answer, wording, comment = ws.rows[i]
            where = f"sheet {ws.title}, row {i}"
            if sid is None and answer is None:
                continue
            sid = sid.strip().upper() if sid else ""
            if sid not in in_scope:
                shown = sid[:40] + ("…" if len(sid) > 40 else "") if sid else "(empty)"
                problems.append(f"{where}: statement {shown} is not in round {round_id}")
                continue
            if answer is None or answer.strip() == "":
                blank += 1
                continue
            value = answer_value(answer)
            if value is None:
                problems.append(
                    f"{where}: “{answer[:100]}” is not one of {', '.join(ANSWERS)} "
                    f"(or {' / '.join(ANSWERS_ES)})"
                )
                continue
            wording_s, comment_s = _shown(wording), _shown(comment)
            reason = comment_s if value is OpinionValue.NO_LONGER_VALID else None
            if value is OpinionValue.VALID_WITH_CHANGES and not wording_s:
                problems.append(f"{where}: “Yes, with changes” needs the proposed wording")
                continue
            if value is OpinionValue.NO_LONGER_VALID and not reason:
                problems.append(f"{where}: “No” needs the reason in the Comment column")
                continue
            try:
                check_lengths(wording_s, reason, None if reason else comment_s)
            except RcmError as exc:
                problems.append(f"{where}: {exc.message}")
                continue
            entry = (
                value,
                wording_s,
                reason,
                None if reason else comment_s,
                where,
                shown_version(sid, text),
            )
            if sid in wanted and wanted[sid][:4] != entry[:4]:
                problems.append(f"{where}: {sid} is answered differently in {wanted[sid][4]}")
                continue
            wanted[sid] = entry
    if problems:
        raise DocumentError(name, [Problem(0, p) for p in problems])
    written = unchanged = 0
    earlier: list[tuple[str, int, int]] = []
    current = {o.statement_id: o for o in opinions(store, round_id) if o.country == country}
    with store.transaction() as conn:
        rnd = _round(conn, round_id)
        wordings = _wordings(conn, sorted(wanted))
        for sid, (value, wording_s, reason, comment_s, _, version) in sorted(wanted.items()):
            before = current.get(sid)
            # Unchanged: the row reads as the questionnaire wrote it (its Comment column shows the
            # reason, or else the comment), so a questionnaire sent back untouched writes nothing.
            if (
                before is not None
                and before.value is value
                and _shown(before.proposed_wording) == wording_s
                and _shown(before.reason or before.comment) == (reason or comment_s)
            ):
                unchanged += 1
                continue
            _write_opinion(
                conn,
                rnd,
                country,
                sid,
                value,
                wording_s,
                reason,
                comment_s,
                author,
                before.version if before else 0,
                f"xlsx:{name[-30:]}",
                version,
            )
            written += 1
            if version < wordings[sid].current:
                earlier.append((sid, version, wordings[sid].current))
    return ImportResult(round_id, country, written, unchanged, blank, tuple(earlier))


def _versions_shown(
    store: Store,
    sig: Sheet,
    secret: object,
    rnd: Round,
    country: str,
    in_scope: set[str],
    refuse: Callable[[str], DocumentError],
) -> Callable[[str, str | None], int]:
    """How to tell the version of a statement's wording a questionnaire showed. A questionnaire
    lists them, signed, on its signature sheet. One written before wordings were versioned does
    not: the version whose wording its Statement column shows, or, when that text was edited,
    the version that was current when the round opened."""
    with store.connection() as conn:
        wordings = _wordings(conn, sorted(in_scope))
        sv = t.statement_versions
        texts: dict[str, list[tuple[int, str | None]]] = {}
        for sid, version, text in conn.execute(
            select(sv.c.statement_id, sv.c.version, sv.c.text).where(
                sv.c.statement_id.in_(in_scope)
            )
        ):
            texts.setdefault(sid, []).append((version, _shown(text)))
    opened = rnd.created_at

    def by_text(sid: str, text: str | None) -> int:
        shown = _shown(text)
        matching = [v for v, wording in texts.get(sid, []) if wording == shown]
        if matching:
            return max(matching)
        w = wordings.get(sid)
        return w.answered(None, opened) if w else 1

    signed = sig.cell(2, 4)
    if not signed:
        return by_text
    listed: dict[str, int] = {}
    for i in sorted(r for r in sig.rows if r > WORDINGS_ROW):
        sid, version = sig.cell(i, 1), sig.cell(i, 2)
        if sid:
            listed[sid] = _form_number(str(version or ""))
    expected = _wordings_signature(secret, rnd.id, country, listed)
    if not hmac.compare_digest(signed.encode(), expected.encode()):
        raise refuse(
            "the questionnaire's list of wording versions was altered: download a new questionnaire"
        )
    return lambda sid, text: listed[sid] if sid in listed else by_text(sid, text)
