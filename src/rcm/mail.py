"""Invitations and reminders by e-mail, to the Member Countries' focal points.

When a round opens, each active focal point of each Member Country is invited (``invite``): a
message in their language with the link to their country's form and the country's questionnaire
(.xlsx) attached. ``remind`` writes to the focal points of the countries that have not answered
every statement yet, with their progress and the days left.

Every message is first written to ``mail_log`` (in one transaction with its audit event), then
sent, one SMTP connection per run; what happens is written back row by row and audited. Sending
never undoes what asked for it: a round opens whether or not the SMTP server answers. A failed
message is tried again (``MAX_ATTEMPTS`` in all, waiting ``BACKOFF`` between them) by the next
run that sends anything (``invite``, ``remind``) or by ``deliver_due`` (``rcm mail retry``, for
cron); a run sends at most ``MAX_PER_RUN`` messages and leaves the rest for the next one. Without
SMTP settings (``rcm.settings.MailSettings``, from the environment), every message is recorded
as not sent, with the reason.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from rcm import clock, consult, taxonomy
from rcm.audit import record_audit
from rcm.consult import Actor
from rcm.errors import ConflictError
from rcm.export.questionnaire import write_questionnaire
from rcm.i18n import words
from rcm.settings import MailSettings
from rcm.store import Store
from rcm.store import schema as t
from rcm.users import Role, User

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_PER_RUN",
    "MailReport",
    "deliver_due",
    "invite",
    "language_for",
    "mail_log",
    "remind",
]

log = logging.getLogger("rcm.mail")

INVITATION = "invitation"
REMINDER = "reminder"
# The states of a message in ``mail_log``.
PENDING = "pending"  # written, not tried yet (or left for the next run by MAX_PER_RUN)
SENT = "sent"
FAILED = "failed"  # tried, failed: tried again from ``next_attempt_at``
GAVE_UP = "gave up"  # failed MAX_ATTEMPTS times
NOT_SENT = "not sent"  # never to be sent: ``error`` says why (no address, no SMTP, --no-mail…)
WAITING = (PENDING, FAILED)

MAX_ATTEMPTS = 3
BACKOFF = (timedelta(minutes=5), timedelta(minutes=30))  # after the first and second failures
CLAIM = timedelta(minutes=10)  # a run that takes a message keeps others off it this long
MAX_PER_RUN = 100  # messages one run sends at most; the rest wait for the next run
# The questionnaire is attached up to the size the import accepts back; a larger one is not
# attached (the message says where to download it).
MAX_ATTACHMENT = consult.MAX_XLSX_BYTES
REMIND_AGAIN_AFTER = timedelta(hours=24)  # no second reminder to a person sooner (but --force)
MAX_SUBJECT = 200
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

NOT_CONFIGURED = "e-mail is not configured (RCM_SMTP_HOST is not set)"

# --- the language of a message ---------------------------------------------------------------

LANGUAGES = ("en", "es")
# Member Countries whose focal points are written to in English; the others in Spanish.
ENGLISH_SPEAKING = frozenset({"BLZ", "CAN", "USA"})


def language_for(user: User) -> str:
    """The language of the messages to ``user``, "en" or "es": the account's own preference when
    accounts have one (a ``language`` attribute), else its country's (English for Belize, Canada
    and the United States, Spanish for the other Member Countries; English without a country).
    The one place that decides it."""
    chosen = getattr(user, "language", None)
    if chosen in LANGUAGES:
        return str(chosen)
    if user.country is None:
        return "en"
    return "en" if user.country in ENGLISH_SPEAKING else "es"


TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "invitation_subject": "RCM consultation “{title}”: {country}'s answers are requested",
        "reminder_subject": "Reminder: RCM consultation “{title}”, {answered} of {total} answered",
        "greeting": "Dear {name},",
        "invitation": (
            "The Technical Secretariat of the Regional Conference on Migration has opened the "
            "consultation round “{title}”. It asks whether each of its {total} statements is "
            "still valid for {country}."
        ),
        "reminder": (
            "{country} has answered {answered} of the {total} statements of the consultation "
            "round “{title}”: {left} still wait for an answer."
        ),
        "purpose": "Purpose: {purpose}",
        "deadline": "The deadline is {deadline}: {days}.",
        "no_deadline": "The round has no deadline.",
        "link": "Answer on the website, on {country}'s form:\n{link}",
        "attached": (
            "The questionnaire is attached ({file}): you may fill it in in Excel and upload it on "
            "the same page instead."
        ),
        "not_attached": (
            "The questionnaire is too large to attach: download it from the same page if you "
            "prefer to answer in Excel."
        ),
        "closing": "Technical Secretariat of the Regional Conference on Migration",
        "automatic": "This message was sent automatically by the RCM Compendium.",
        "days": "{n} days left",
        "day": "1 day left",
        "today": "today is the last day",
        "passed": "it passed {n} days ago",
        "passed_one": "it passed yesterday",
    },
    "es": {
        "invitation_subject": (
            "Consulta de la CRM «{title}»: se solicitan las respuestas de {country}"
        ),
        "reminder_subject": (
            "Recordatorio: consulta de la CRM «{title}», {answered} de {total} respondidas"
        ),
        "greeting": "Estimado/a {name}:",
        "invitation": (
            "La Secretaría Técnica de la Conferencia Regional sobre Migración ha abierto la ronda "
            "de consulta «{title}». Pregunta si cada una de sus {total} declaraciones sigue "
            "vigente para {country}."
        ),
        "reminder": (
            "{country} ha respondido {answered} de las {total} declaraciones de la ronda de "
            "consulta «{title}»: {left} esperan todavía una respuesta."
        ),
        "purpose": "Propósito: {purpose}",
        "deadline": "La fecha límite es el {deadline}: {days}.",
        "no_deadline": "La ronda no tiene fecha límite.",
        "link": "Responda en el sitio web, en el formulario de {country}:\n{link}",
        "attached": (
            "Se adjunta el cuestionario ({file}): puede llenarlo en Excel y subirlo en la misma "
            "página."
        ),
        "not_attached": (
            "El cuestionario es demasiado grande para adjuntarlo: descárguelo de la misma página "
            "si prefiere responder en Excel."
        ),
        "closing": "Secretaría Técnica de la Conferencia Regional sobre Migración",
        "automatic": "Este mensaje fue enviado automáticamente por el Compendio de la CRM.",
        "days": "quedan {n} días",
        "day": "queda 1 día",
        "today": "hoy es el último día",
        "passed": "venció hace {n} días",
        "passed_one": "venció ayer",
    },
}


def days_left(deadline: str | None, today: date, language: str) -> str | None:
    """How long until the deadline, in ``language``; None without a deadline."""
    if deadline is None:
        return None
    words = TEXTS[language]
    n = (date.fromisoformat(deadline) - today).days
    if n > 1:
        return words["days"].format(n=n)
    if n == 1:
        return words["day"]
    if n == 0:
        return words["today"]
    return words["passed_one"] if n == -1 else words["passed"].format(n=-n)


def _country_name(iso3: str, language: str) -> str:
    for c in taxonomy.countries():
        if c.iso3 == iso3:
            return c.name_es if language == "es" else c.name_en
    return iso3


def _one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """``text`` for a header: every run of whitespace and control characters (CR and LF among
    them) as one space, at most ``limit`` characters. A title or a name cannot add a header."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    words = " ".join(cleaned.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


# --- who is written to -------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    user_id: int
    username: str
    name: str
    address: str | None
    country: str
    language: str


def _focal_points(conn: Connection, countries: Iterable[str]) -> list[Recipient]:
    """The active focal points of ``countries``, by country and username."""
    u = t.users
    rows = conn.execute(
        select(u)
        .where(
            u.c.role == Role.FOCAL_POINT.value,
            u.c.active.is_(True),
            u.c.country.in_(sorted(set(countries))),
        )
        .order_by(u.c.country, u.c.username)
    )
    out = []
    for r in rows:
        user = User(r.id, r.username, r.name, Role(r.role), r.country, r.active, None, r.email)
        out.append(Recipient(r.id, r.username, r.name, r.email, str(r.country), language_for(user)))
    return out


# --- what a run did ----------------------------------------------------------------------------


@dataclass
class MailReport:
    """What one run wrote down and sent. ``queued``: new messages written to ``mail_log`` (those
    with nothing to send them to are counted in ``not_sent``); ``skipped``: people left out
    because they already have one (an invitation of this round, a reminder within the last
    hours); then what the delivery did, retries of earlier messages included."""

    kind: str
    round_id: int | None
    queued: int = 0
    not_sent: int = 0
    skipped: list[str] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    left: int = 0  # due but beyond this run's MAX_PER_RUN: the next run sends them
    reasons: list[str] = field(default_factory=list)  # why some were not sent, each once

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "round": self.round_id,
            "queued": self.queued,
            "not_sent": self.not_sent,
            "skipped": self.skipped,
            "sent": self.sent,
            "failed": self.failed,
            "gave_up": self.gave_up,
            "left": self.left,
            "reasons": self.reasons,
        }

    def sentence(self, lang: str = "en") -> str:
        """What was done, for the command line, in its language (``rcm.i18n``)."""
        w = words(lang)
        parts = [w("{n} sent", n=self.sent)]
        if self.failed:
            parts.append(w("{n} failed (tried again later: `rcm mail retry`)", n=self.failed))
        if self.gave_up:
            parts.append(
                w("{n} failed for the last time ({k} attempts)", n=self.gave_up, k=MAX_ATTEMPTS)
            )
        if self.not_sent:
            parts.append(w("{n} not sent", n=self.not_sent))
        if self.left:
            parts.append(
                w("{n} left for the next run (at most {k} a run)", n=self.left, k=MAX_PER_RUN)
            )
        if self.skipped:
            already = (
                w("{n} already invited: {who}")
                if self.kind == INVITATION
                else w("{n} already reminded recently: {who}")
            )
            parts.append(already.format(n=len(self.skipped), who=", ".join(self.skipped)))
        kind = {INVITATION: w("invitations"), REMINDER: w("reminders")}.get(
            self.kind, w("messages")
        )
        text = f"{kind}: " + "; ".join(parts)
        return text + "".join("\n  " + w("not sent: {reason}", reason=w(r)) for r in self.reasons)


# --- writing messages down ---------------------------------------------------------------------


def _queue(
    conn: Connection,
    kind: str,
    round_id: int,
    people: list[Recipient],
    who: str,
    reason: str | None,
    report: MailReport,
) -> None:
    """One ``mail_log`` row per person: pending, or not sent with ``reason`` (or without an
    address); audited together."""
    now = clock.now()
    for p in people:
        why = reason or (None if p.address else "the account has no e-mail address")
        conn.execute(
            insert(t.mail_log).values(
                kind=kind,
                round_id=round_id,
                user_id=p.user_id,
                recipient=p.address,
                country=p.country,
                language=p.language,
                state=NOT_SENT if why else PENDING,
                attempts=0,
                error=why,
                created_at=now,
                next_attempt_at=None if why else now,
                sent_at=None,
                created_by=who,
            )
        )
        if why:
            report.not_sent += 1
            if why not in report.reasons:
                report.reasons.append(why)
        else:
            report.queued += 1
    record_audit(
        conn,
        who,
        f"mail.{kind}",
        f"round {round_id}",
        None,
        {
            "to": [p.username for p in people],
            "queued": report.queued,
            "not_sent": report.not_sent,
            "reasons": report.reasons,
            "skipped": report.skipped,
        },
    )


def _open_round(store: Store, round_id: int, what: str) -> consult.Round:
    rnd = consult.get_round(store, round_id)
    if rnd.state != "open":
        closed = {
            "invitation": "round %(id)s is closed: no invitation is sent for it",
            "reminder": "round %(id)s is closed: no reminder is sent for it",
        }
        raise ConflictError(closed.get(what, closed["invitation"]), id=round_id)
    return rnd


def invite(
    store: Store,
    round_id: int,
    *,
    actor: Actor,
    config: MailSettings | None,
    send: bool = True,
    force: bool = False,
    limit: int = MAX_PER_RUN,
) -> MailReport:
    """Invite every active focal point of every Member Country to answer round ``round_id``,
    except those already invited to it (a message pending, sent or being retried) unless
    ``force``. ``send`` False (``--no-mail``) or no ``config``: the invitations are recorded as
    not sent, with the reason; ``rcm round invite`` sends them later."""
    who = consult.secretariat_name(actor, "send invitations and reminders")
    _open_round(store, round_id, "invitation")
    report = MailReport(INVITATION, round_id)
    reason = None if send else "--no-mail: the round was opened without e-mail"
    if send and config is None:
        reason = NOT_CONFIGURED
    with store.transaction(immediate=True) as conn:
        people = _focal_points(conn, consult.member_countries())
        done = set() if force else _having(conn, INVITATION, round_id, None)
        report.skipped = [p.username for p in people if p.user_id in done]
        _queue(conn, INVITATION, round_id, [p for p in people if p.user_id not in done], who,
               reason, report)  # fmt: skip
    if config is not None and send:
        _deliver(store, config, who, report, limit, clock.now(), False)
    return report


def remind(
    store: Store,
    round_id: int,
    *,
    actor: Actor,
    config: MailSettings | None,
    force: bool = False,
    again_after: timedelta = REMIND_AGAIN_AFTER,
    limit: int = MAX_PER_RUN,
) -> MailReport:
    """Remind the focal points of every Member Country that has not answered every statement of
    round ``round_id`` yet, except those reminded of it within ``again_after`` (unless
    ``force``)."""
    who = consult.secretariat_name(actor, "send invitations and reminders")
    _open_round(store, round_id, "reminder")
    progress = consult.round_status(store, round_id)["countries"]
    unfinished = [c for c, v in progress.items() if v["answered"] < v["total"]]
    report = MailReport(REMINDER, round_id)
    with store.transaction(immediate=True) as conn:
        people = _focal_points(conn, unfinished)
        since = clock.now() - again_after
        done = set() if force else _having(conn, REMINDER, round_id, since)
        report.skipped = [p.username for p in people if p.user_id in done]
        _queue(conn, REMINDER, round_id, [p for p in people if p.user_id not in done], who,
               None if config else NOT_CONFIGURED, report)  # fmt: skip
    if config is not None:
        _deliver(store, config, who, report, limit, clock.now(), False)
    return report


def _having(conn: Connection, kind: str, round_id: int, since: datetime | None) -> set[int]:
    """The accounts with a message of ``kind`` for the round that is sent or on its way (written
    after ``since``, when given)."""
    m = t.mail_log
    query = select(m.c.user_id).where(
        m.c.kind == kind, m.c.round_id == round_id, m.c.state.in_((SENT, *WAITING))
    )
    if since is not None:
        query = query.where(m.c.created_at > since)
    return set(conn.scalars(query).all())


# --- sending -----------------------------------------------------------------------------------


def deliver_due(
    store: Store,
    *,
    actor: Actor,
    config: MailSettings | None,
    limit: int = MAX_PER_RUN,
    now: datetime | None = None,
    everything: bool = False,
) -> MailReport:
    """Send the messages that are due (pending, or failed and past their wait; ``everything``:
    failed ones without waiting), oldest first, at most ``limit`` (``rcm mail retry``)."""
    who = consult.secretariat_name(actor, "send invitations and reminders")
    report = MailReport("message", None)
    if config is None:
        report.reasons.append(NOT_CONFIGURED)
        with store.connection() as conn:
            report.left = _due_count(conn, now or clock.now(), everything)
        return report
    _deliver(store, config, who, report, limit, now or clock.now(), everything)
    return report


def _due(now: datetime, everything: bool) -> Any:
    m = t.mail_log
    if everything:
        return m.c.state.in_(WAITING)
    return and_(
        m.c.state.in_(WAITING), or_(m.c.next_attempt_at.is_(None), m.c.next_attempt_at <= now)
    )


def _due_count(conn: Connection, now: datetime, everything: bool) -> int:
    m = t.mail_log
    return int(conn.scalar(select(func.count()).select_from(m).where(_due(now, everything))) or 0)


class _Smtp:
    """One SMTP connection for a run, opened at the first message. A connection that cannot be
    opened fails every message of the run with the same error, without trying again."""

    def __init__(self, config: MailSettings) -> None:
        self.config = config
        self.client: smtplib.SMTP | None = None
        self.broken: Exception | None = None

    def send(self, message: EmailMessage, to: str) -> None:
        if self.broken is not None:
            raise self.broken
        if self.client is None:
            try:
                self.client = self._connect()
            except (OSError, smtplib.SMTPException) as exc:
                self.broken = exc
                raise
        try:
            self.client.send_message(message, from_addr=None, to_addrs=[to])
        except smtplib.SMTPServerDisconnected:
            self.client = None  # the next message connects again
            raise

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if c.ssl:
            client = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=context)
        else:
            client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.starttls:
                client.starttls(context=context)
        if c.user:
            client.login(c.user, c.password)
        return client

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                self.client.close()
            self.client = None


def _deliver(
    store: Store,
    config: MailSettings,
    who: str,
    report: MailReport,
    limit: int,
    now: datetime,
    everything: bool,
) -> None:
    m = t.mail_log
    with store.connection() as conn:
        due = conn.execute(
            select(m).where(_due(now, everything)).order_by(m.c.created_at, m.c.id).limit(limit)
        ).all()
        report.left = max(0, _due_count(conn, now, everything) - len(due))
    smtp = _Smtp(config)
    made: dict[tuple[Any, ...], Any] = {}  # a round's progress, a country's questionnaire
    try:
        for row in due:
            _deliver_one(store, config, smtp, who, row, now, report, made)
    finally:
        smtp.close()


def _claim(store: Store, row: Any, now: datetime) -> bool:
    """Take ``row`` for this run (no other run sends it meanwhile); False if another took it."""
    m = t.mail_log
    # Unchanged since it was read, down to its time: a run that took it moved that time.
    same_time = (
        m.c.next_attempt_at.is_(None)
        if row.next_attempt_at is None
        else m.c.next_attempt_at == row.next_attempt_at
    )
    with store.transaction() as conn:
        taken = conn.execute(
            update(m)
            .where(
                m.c.id == row.id, m.c.state == row.state, m.c.attempts == row.attempts, same_time
            )
            .values(next_attempt_at=max(now, clock.now()) + CLAIM)
        ).rowcount
    return bool(taken == 1)


def _deliver_one(
    store: Store,
    config: MailSettings,
    smtp: _Smtp,
    who: str,
    row: Any,
    now: datetime,
    report: MailReport,
    made: dict[tuple[Any, ...], Any],
) -> None:
    if not _claim(store, row, now):
        return
    try:
        message = _compose(store, config, row, made)
    except _NotToSend as why:
        _record(store, who, row, NOT_SENT, str(why), None)
        report.not_sent += 1
        if str(why) not in report.reasons:
            report.reasons.append(str(why))
        return
    try:
        smtp.send(message, str(row.recipient))
    except (OSError, smtplib.SMTPException) as exc:
        error = _error_text(exc, config)
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            _record(store, who, row, GAVE_UP, error, None)
            report.gave_up += 1
        else:
            _record(store, who, row, FAILED, error, now + BACKOFF[attempts - 1])
            report.failed += 1
        log.warning(
            "%s of round %s to %s failed (attempt %s of %s): %s",
            row.kind, row.round_id, row.country, attempts, MAX_ATTEMPTS, error,
        )  # fmt: skip
        return
    _record(store, who, row, SENT, None, None)
    report.sent += 1
    log.info("%s of round %s sent to a focal point of %s", row.kind, row.round_id, row.country)


def _error_text(exc: BaseException, config: MailSettings) -> str:
    """What the log and ``mail_log`` keep of a failure: its kind and message, one line, short,
    and never the password even if a server echoed it."""
    text = _one_line(f"{type(exc).__name__}: {exc}", 400)
    if config.password:
        text = text.replace(config.password, "***")
    return text


def _record(
    store: Store, who: str, row: Any, state: str, error: str | None, retry_at: datetime | None
) -> None:
    m = t.mail_log
    tried = state in (SENT, FAILED, GAVE_UP)
    attempts = row.attempts + (1 if tried else 0)
    with store.transaction() as conn:
        username = conn.scalar(select(t.users.c.username).where(t.users.c.id == row.user_id))
        conn.execute(
            update(m)
            .where(m.c.id == row.id)
            .values(
                state=state,
                attempts=attempts,
                error=error,
                next_attempt_at=retry_at,
                sent_at=clock.now() if state == SENT else None,
            )
        )
        record_audit(
            conn,
            who,
            f"mail.{state.replace(' ', '_')}",
            f"round {row.round_id} {row.kind} {username}",
            {"state": row.state, "attempts": row.attempts},
            {"state": state, "attempts": attempts, "to": row.recipient, "error": error},
        )


class _NotToSend(Exception):
    """A message that must not be sent any more: its round closed, its account disabled…"""


def _once(made: dict[tuple[Any, ...], Any], key: tuple[Any, ...], make: Any) -> Any:
    if key not in made:
        made[key] = make()
    return made[key]


def _compose(
    store: Store, config: MailSettings, row: Any, made: dict[tuple[Any, ...], Any]
) -> EmailMessage:
    """The message of a ``mail_log`` row, as things are now (the questionnaire with the answers
    given so far, the progress of today); what several messages of a run share is made once
    (``made``)."""
    rnd = consult.get_round(store, row.round_id)
    if rnd.state != "open":
        raise _NotToSend("the round was closed before the message could be sent")
    with store.connection() as conn:
        u = conn.execute(select(t.users).where(t.users.c.id == row.user_id)).one()
    if not u.active or u.role != Role.FOCAL_POINT.value or u.country != row.country:
        raise _NotToSend("the account was disabled or changed before the message could be sent")
    if not u.email:
        raise _NotToSend("the account has no e-mail address")
    lang = row.language if row.language in LANGUAGES else "en"
    words = TEXTS[lang]
    country = _country_name(row.country, lang)
    status = _once(made, ("status", rnd.id), lambda: consult.round_status(store, rnd.id))
    progress = status["countries"].get(row.country, {})
    answered, total = int(progress.get("answered", 0)), rnd.statements
    if row.kind == REMINDER and answered >= total:
        raise _NotToSend("the country answered every statement before the reminder was sent")
    name = _one_line(u.name or u.username, 100)
    values = {
        "title": _one_line(rnd.title, 120),
        "country": country,
        "answered": answered,
        "total": total,
        "left": total - answered,
        "name": name,
    }
    lines = [words["greeting"].format(**values), ""]
    lines.append(words["invitation" if row.kind == INVITATION else "reminder"].format(**values))
    if rnd.purpose.strip() and row.kind == INVITATION:
        lines += ["", words["purpose"].format(purpose=rnd.purpose.strip())]
    days = days_left(rnd.deadline, clock.now().date(), lang)
    lines += ["", words["deadline"].format(deadline=rnd.deadline, days=days) if days
              else words["no_deadline"]]  # fmt: skip
    link = f"{config.public_url}/rounds/{rnd.id}/answers"
    lines += ["", words["link"].format(country=country, link=link)]
    attachment = None
    if row.kind == INVITATION:
        data = _once(
            made,
            ("questionnaire", rnd.id, row.country),
            lambda: write_questionnaire(store, rnd.id, row.country),
        )
        filename = f"rcm-round-{rnd.id}-{row.country}.xlsx"
        attachment = (filename, data) if len(data) <= MAX_ATTACHMENT else None
        lines += ["", words["attached"].format(file=filename) if attachment
                  else words["not_attached"]]  # fmt: skip
    lines += ["", "--", words["closing"], words["automatic"]]
    subject = words[f"{row.kind}_subject"].format(**values)
    return _message(config, u.email, name, subject, "\n".join(lines), lang, attachment)


def _message(
    config: MailSettings,
    address: str,
    name: str,
    subject: str,
    body: str,
    language: str,
    attachment: tuple[str, bytes] | None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = Address(display_name=_one_line(name, 100), addr_spec=address)
    msg["Subject"] = _one_line(subject)
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = make_msgid(domain=config.sender.rsplit("@", 1)[-1].strip(" >"))
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    msg.set_content(body)
    if attachment is not None:
        filename, data = attachment
        msg.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=filename)
    msg["Content-Language"] = language  # last: add_attachment moves Content-* into the text part
    return msg


# --- reading the log ---------------------------------------------------------------------------


def mail_log(store: Store, round_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """The latest messages (of one round), newest first, with the account's username."""
    m, u = t.mail_log, t.users
    query = (
        select(m, u.c.username).join(u, u.c.id == m.c.user_id).order_by(m.c.id.desc()).limit(limit)
    )
    if round_id is not None:
        query = query.where(m.c.round_id == round_id)
    with store.connection() as conn:
        rows = conn.execute(query).mappings().all()
    out = []
    for r in rows:
        item = dict(r)
        for key in ("created_at", "next_attempt_at", "sent_at"):
            when = clock.aware(item[key])
            item[key] = None if when is None else when.isoformat()
        out.append(item)
    return out
