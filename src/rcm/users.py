"""People and what they may do: the Secretariat (everything), a country's focal point (that
country's opinions, while a round is open), observers (comment, never vote). Passwords are hashed
with argon2 and must not be blank, repetitive or common; usernames are normalised (NFKC,
case-folded) and may not look like another one. Failed sign-ins slow down the address they come
from, for that account, with growing delays (and across accounts past a cap), so a guesser
elsewhere cannot lock the owner out; every outcome of a sign-in costs the same argon2 work.
Sessions expire; each session has its own CSRF token for the web forms."""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from rcm import clock, settings, taxonomy
from rcm.audit import record_audit
from rcm.errors import BadInput, NotFound, RcmError
from rcm.i18n import check_lang
from rcm.store import NUL_MESSAGE, Store, versioning
from rcm.store import schema as t

__all__ = [
    "AccountError",
    "AuthError",
    "Forbidden",
    "Role",
    "User",
    "acting_user",
    "add_user",
    "authenticate",
    "change_password",
    "check_can_answer",
    "check_email",
    "check_secretariat",
    "disable_user",
    "enable_user",
    "end_session",
    "get_user",
    "list_users",
    "normalise_username",
    "reset_password",
    "session_user",
    "set_email",
    "start_session",
    "unlock_user",
]

SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD = 12
# The one upper limit, the same wherever a password is set (CLI, /account, /users) or typed
# (/login): a password that could be set but not typed in full would lock its owner out.
MAX_PASSWORD = 200
MIN_DISTINCT = 5  # different characters in a password

# Failed sign-ins: free tries per (client address, account), then a delay that doubles with each
# failure, up to MAX_DELAY; the same per client address across all accounts past CLIENT_FREE.
# Counted per address, so a guesser slows down only themself: the owner signs in from elsewhere.
FREE_FAILURES = 5
CLIENT_FREE_FAILURES = 20
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)  # failures older than this no longer count
LOCAL = "local"  # the client address of the CLI and of the library's own callers


def _password_hasher() -> PasswordHasher:
    # argon2's recommended defaults (RFC 9106 low-memory profile). The test suite, which creates
    # hundreds of users, may ask for the cheapest parameters with RCM_FAST_PASSWORD_HASHING=1; the
    # hashes stay argon2id and verify the same way.
    if os.environ.get("RCM_FAST_PASSWORD_HASHING") == "1":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


_hasher = _password_hasher()
# Verified whenever the account's own hash is not (unknown name, disabled account, delayed
# client, impossible password), with the same parameters: every outcome costs one verification.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    FOCAL_POINT = "focal_point"
    OBSERVER = "observer"


class AuthError(RcmError):
    status = 401
    exit_code = 6


class Forbidden(RcmError):
    status = 403
    exit_code = 6


class AccountError(RcmError):
    """A refused account change whose message is a template (translated by the web) and its
    values."""

    def __init__(self, template: str, **values: str) -> None:
        super().__init__(template, **values)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    name: str
    role: Role
    country: str | None
    active: bool
    locked_until: datetime | None = None
    email: str | None = None  # where invitations and reminders go (``rcm.mail``)
    lang: str = "en"  # the language of their documents (their questionnaire's by default)

    def locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or clock.now())


def _user(r: Any) -> User:
    return User(
        r.id,
        r.username,
        r.name,
        Role(r.role),
        r.country,
        r.active,
        clock.aware(r.locked_until),
        r.email,
        r.lang,
    )


def _audited(user: User) -> dict[str, Any]:
    """What the audit trail keeps of an account (never a password or its hash)."""
    return {
        "username": user.username,
        "name": user.name,
        "role": user.role.value,
        "country": user.country,
        "active": user.active,
        "email": user.email,
    }


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn's list of the 30,000 most frequent passwords from real leaks.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(str(p) for p in FREQUENCY_LISTS["passwords"])


def _repeats_a_pattern(text: str) -> bool:
    """A short piece repeated: "abcabcabcabc", "abababab"."""
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size)
        for size in range(1, len(text) // 2 + 1)
    )


def _check_password(password: str) -> str:
    """The password, or RcmError saying why it is refused (the same rule for the CLI and web)."""
    if len(password) < MIN_PASSWORD:
        raise RcmError("a password needs at least %(n)s characters", n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise RcmError("a password has at most %(n)s characters", n=MAX_PASSWORD)
    if not password.strip():
        raise RcmError("a password cannot be only spaces")
    folded = password.casefold()
    if len(set(folded)) < MIN_DISTINCT or _repeats_a_pattern(folded):
        raise RcmError(
            "this password is too repetitive: use at least 5 different characters, not a "
            "short piece repeated"
        )
    common = _common_passwords()
    # "password1234", "dragon!!": a common password with digits or symbols around it.
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", folded)
    squeezed = re.sub(r"\s+", "", folded)
    if folded in common or squeezed in common or (len(core) >= 4 and core in common):
        raise RcmError("this password is too common: it is among the first guesses of an attacker")
    return password


# Usernames: letters of the Latin script (with their accents), digits and . - _ @, after NFKC and
# case folding. A new one may not look like an existing one: their skeletons (accents removed,
# look-alike letters and digits mapped to one, as Unicode TR39 does) must differ. Names in other
# scripts made before this rule keep working.
USERNAME_PUNCTUATION = ".-_@"
_LOOK_ALIKES = str.maketrans(
    {
        "0": "o", "1": "l", "5": "s", "_": "-", ".": "-",
        # Cyrillic and Greek letters that look Latin (for accounts made before the rule)
        "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ӏ": "l",
        "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s",
        "т": "t", "у": "y", "ԝ": "w", "х": "x", "α": "a", "β": "b", "ε": "e", "η": "n",
        "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    }
)  # fmt: skip


def normalise_username(raw: str) -> str:
    """How a username is stored and compared: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", raw).strip().casefold()


def _skeleton(username: str) -> str:
    bare = "".join(
        ch for ch in unicodedata.normalize("NFKD", username) if not unicodedata.combining(ch)
    )
    return bare.casefold().translate(_LOOK_ALIKES).replace("rn", "m").replace("vv", "w")


def _username_allowed(username: str) -> bool:
    return all(
        ch in USERNAME_PUNCTUATION
        or ("0" <= ch <= "9")
        or (ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN "))
        for ch in username
    )


def _lookup_names(raw: str) -> list[str]:
    # Stored usernames are normalised; older ones were only lower-cased: try both.
    return list(dict.fromkeys((normalise_username(raw), raw.strip().lower())))


def add_user(
    store: Store,
    username: str,
    role: str,
    *,
    country: str | None = None,
    name: str = "",
    password: str | None = None,
    email: str | None = None,
    actor: str = "system",
    lang: str = "en",
) -> tuple[User, str]:
    """Create a user; returns the user and the password (generated when none is given).
    ``lang``: the language of their documents ("en", "es")."""
    address = check_email(email) if email else None
    lang = check_lang(lang)
    username = normalise_username(username)
    if not username or len(username) > 100 or not _username_allowed(username):
        raise AccountError(
            "“%(name)s” is not a username: use at most 100 Latin letters, digits and . - _ @",
            name=username,
        )
    try:
        r = Role(role)
    except ValueError:
        raise RcmError(
            "unknown role %(value)s; valid: %(valid)s",
            value=repr(role),
            valid=", ".join(x.value for x in Role),
        ) from None
    members = {c.iso3 for c in taxonomy.countries()}
    code = country.strip().upper() if country else None
    if r is Role.FOCAL_POINT and code not in members:
        raise RcmError(
            "a focal point needs --country, one of %(valid)s", valid=", ".join(sorted(members))
        )
    if r is not Role.FOCAL_POINT and code:
        raise RcmError("only a focal point has a country")
    name = " ".join(name.split())
    if len(name) > 200:
        raise RcmError("a name has at most 200 characters")
    secret = _check_password(password) if password else secrets.token_urlsafe(15)
    try:
        with store.transaction() as conn:
            skeleton = _skeleton(username)
            for other in conn.scalars(select(t.users.c.username)):
                if other != username and _skeleton(other) == skeleton:
                    raise AccountError(
                        "“%(name)s” looks too much like the existing user “%(other)s”: "
                        "choose another username",
                        name=username,
                        other=other,
                    )
            uid = conn.execute(
                insert(t.users)
                .values(
                    username=username,
                    name=name or username,
                    role=r.value,
                    country=code,
                    password_hash=_hasher.hash(secret),
                    active=True,
                    failed_logins=0,
                    locked_until=None,
                    created_at=clock.now(),
                    email=address,
                    lang=lang,
                )
                .returning(t.users.c.id)
            ).scalar_one()
            user = User(uid, username, name or username, r, code, True, None, address, lang)
            # The language only where it is not the default (older records have none).
            added = _audited(user) | ({"lang": lang} if lang != "en" else {})
            record_audit(conn, actor, "user.add", f"user {username}", None, added)
    except IntegrityError:
        raise RcmError("there is already a user %(name)s", name=repr(username)) from None
    return user, secret


# An e-mail address as the accounts keep it: one @, a dotted domain, nothing that could end a
# header or a list of addresses (spaces, controls, < > , ; " and the like), at most 254
# characters (RFC 5321's path limit). It is what the SMTP server is given, never a display name.
MAX_EMAIL = 254
_ADDRESS_CHAR = r"[^@\s<>()\[\],;:\\\"]"
_EMAIL = re.compile(rf"{_ADDRESS_CHAR}{{1,64}}@{_ADDRESS_CHAR}+\.[^@\s<>()\[\],;:\\\".]{{2,}}")


def check_email(raw: str) -> str:
    """``raw`` as an account's e-mail address (stripped), or ``RcmError`` saying why not."""
    address = raw.strip()
    if (
        len(address) > MAX_EMAIL
        or not address.isascii()
        or not address.isprintable()
        or not _EMAIL.fullmatch(address)
    ):
        shown = address[:80] + ("…" if len(address) > 80 else "")
        raise RcmError(
            "%(value)s is not an e-mail address such as name@example.org", value=repr(shown)
        )
    return address


def set_email(store: Store, username: str, email: str | None, *, actor: str = "system") -> User:
    """Set (or, with None or "", remove) the address an account's invitations and reminders go
    to. Audited."""
    address = check_email(email) if email and email.strip() else None
    with store.transaction() as conn:
        before = _find(conn, username, for_update=True)
        if before.email == address:
            return before
        conn.execute(update(t.users).where(t.users.c.id == before.id).values(email=address))
        after = _find(conn, username)
        record_audit(
            conn,
            actor,
            "user.email",
            f"user {after.username}",
            {"email": before.email},
            {"email": after.email},
        )
    return after


def set_language(store: Store, username: str, lang: str, *, actor: str = "system") -> User:
    """Set the language of a person's documents (their questionnaire's by default); audited.
    Anyone may set their own (the web's /account); the CLI sets anyone's for the Secretariat."""
    lang = check_lang(lang)
    with store.transaction() as conn:
        before = _find(conn, username, for_update=True)
        if before.lang == lang:
            return before
        conn.execute(update(t.users).where(t.users.c.id == before.id).values(lang=lang))
        after = _find(conn, username)
        record_audit(
            conn,
            actor,
            "user.lang",
            f"user {after.username}",
            {"username": before.username, "lang": before.lang},
            {"username": after.username, "lang": after.lang},
        )
    return after


def list_users(store: Store) -> list[User]:
    with store.connection() as conn:
        return [_user(r) for r in conn.execute(select(t.users).order_by(t.users.c.username))]


def _find(conn: Connection, username: str, *, for_update: bool = False) -> User:
    query = select(t.users).where(t.users.c.username.in_(_lookup_names(username)))
    r = conn.execute(query.with_for_update() if for_update else query).first()
    if r is None:
        raise NotFound("no user %(name)s", name=repr(username))
    return _user(r)


def get_user(store: Store, username: str) -> User:
    with store.connection() as conn:
        return _find(conn, username)


def _lift_locks(conn: Connection, user: User) -> int:
    """Lift the account's sign-in delays (from every client address); how many were in force."""
    lf = t.login_failures
    delayed = conn.scalar(
        select(func.count()).select_from(lf).where(lf.c.username == user.username)
    )
    conn.execute(delete(lf).where(lf.c.username == user.username))
    conn.execute(
        update(t.users).where(t.users.c.id == user.id).values(failed_logins=0, locked_until=None)
    )
    return int(delayed or 0)


def _audited_lock(user: User, lifted: int | None = None) -> dict[str, Any]:
    locked = None if user.locked_until is None else user.locked_until.isoformat()
    return {"username": user.username, "locked_until": locked} | (
        {} if lifted is None else {"delays_lifted": lifted}
    )


def _set_active(store: Store, username: str, active: bool, actor: str) -> User:
    with store.transaction() as conn:
        if not active:
            # PostgreSQL: lock the active Secretariat rows first, in id order, so that two
            # Secretariat accounts disabling each other at once queue one behind the other instead
            # of each holding its target's row and waiting for the other's (a deadlock, one of
            # them refused with "deadlock detected" rather than the rule below).
            conn.scalars(
                select(t.users.c.id)
                .where(t.users.c.role == Role.SECRETARIAT.value, t.users.c.active.is_(True))
                .order_by(t.users.c.id)
                .with_for_update()
            ).all()
        before = _find(conn, username, for_update=True)
        if before.active == active:
            if active:  # already enabled: what is left to do is lifting a sign-in lock
                _unlock(conn, before, actor)
                return _find(conn, username)
            return before  # nothing to change, nothing to audit
        last_one = RcmError(
            "%(name)s is the only active Secretariat account: add or enable another one first, "
            "or nobody could manage the compendium",
            name=before.username,
        )
        change = update(t.users).where(t.users.c.id == before.id)
        if not active and before.role is Role.SECRETARIAT:
            other = select(t.users.c.id).where(
                t.users.c.role == Role.SECRETARIAT.value,
                t.users.c.active.is_(True),
                t.users.c.id != before.id,
            )
            # Two Secretariat accounts disabling each other at the same moment must not both
            # succeed. PostgreSQL: the other accounts' rows are locked, and re-read once the other
            # transaction commits. SQLite (no row locks; a transaction starts at its first write):
            # the condition is part of the UPDATE itself, which runs under the write lock.
            if not conn.scalars(other.with_for_update()).all():
                raise last_one
            change = change.where(other.exists())
        if conn.execute(change.values(active=active)).rowcount != 1:
            raise last_one
        if active:  # a fresh start: no lock or delay left over from before
            _lift_locks(conn, before)
        conn.execute(delete(t.sessions).where(t.sessions.c.user_id == before.id))
        after = _find(conn, username)
        action = "user.enable" if active else "user.disable"
        record_audit(
            conn, actor, action, f"user {after.username}", _audited(before), _audited(after)
        )
    return after


def _unlock(conn: Connection, user: User, actor: str) -> int:
    lifted = _lift_locks(conn, user)
    if lifted:
        after = _find(conn, user.username)
        record_audit(
            conn,
            actor,
            "user.unlock",
            f"user {user.username}",
            _audited_lock(user, lifted),
            _audited_lock(after),
        )
    return lifted


def disable_user(store: Store, username: str, *, actor: str = "system") -> User:
    """Disable an account and end its sessions (it can be enabled again)."""
    return _set_active(store, username, False, actor)


def enable_user(store: Store, username: str, *, actor: str = "system") -> User:
    """Enable a disabled account again; on an enabled one, lift its sign-in lock and delays
    (`unlock_user`). Either way, nothing holds the person back afterwards."""
    return _set_active(store, username, True, actor)


def unlock_user(store: Store, username: str, *, actor: str = "system") -> int:
    """Lift the account's sign-in delays, from every client address; audited when there was
    one. Returns how many were lifted."""
    with store.transaction() as conn:
        return _unlock(conn, _find(conn, username, for_update=True), actor)


def reset_password(
    store: Store, username: str, password: str | None = None, *, actor: str = "system"
) -> str:
    """A new password (generated when none is given); ends the user's sessions and lifts a lock."""
    secret = _check_password(password) if password else secrets.token_urlsafe(15)
    hashed = _hasher.hash(secret)
    with store.transaction() as conn:
        user = _find(conn, username, for_update=True)
        conn.execute(update(t.users).where(t.users.c.id == user.id).values(password_hash=hashed))
        _lift_locks(conn, user)
        conn.execute(delete(t.sessions).where(t.sessions.c.user_id == user.id))
        record_audit(conn, actor, "user.reset_password", f"user {user.username}", None, None)
    return secret


def change_password(
    store: Store, username: str, current: str, new: str, *, client: str = LOCAL
) -> User:
    """A person changes their own password: the current one must be right (a wrong one counts as
    a failed sign-in from that client, so a borrowed session cannot guess it), the new one
    acceptable (`_check_password`) and not the same. Ends every session of the account: sign in
    again (start_session) after."""
    _check_password(new)
    try:
        user = authenticate(store, username, current, client=client)
    except AuthError:
        raise AuthError(
            "the current password is wrong, or the account is locked: try again later"
        ) from None
    if new == current:
        raise RcmError("the new password is the same as the current one")
    hashed = _hasher.hash(new)
    with store.transaction() as conn:
        conn.execute(update(t.users).where(t.users.c.id == user.id).values(password_hash=hashed))
        _lift_locks(conn, user)
        conn.execute(delete(t.sessions).where(t.sessions.c.user_id == user.id))
        record_audit(
            conn, user.username, "user.change_password", f"user {user.username}", None, None
        )
    return user


def _delay(failures: int, free: int) -> timedelta:
    """How long to wait after the last failure, having failed `failures` times."""
    if failures < free:
        return timedelta(0)
    return min(MAX_DELAY, FIRST_DELAY * (1 << min(failures - free, 20)))


def _delayed_until(conn: Connection, client: str, name: str, now: datetime) -> datetime | None:
    """Until when this client must wait before trying this account again (None: it may now)."""
    lf = t.login_failures
    recent = lf.c.last_at > now - FORGET_AFTER
    mine = conn.execute(
        select(lf.c.failures, lf.c.last_at).where(
            lf.c.client == client, lf.c.username == name, recent
        )
    ).first()
    total, latest = conn.execute(
        select(func.coalesce(func.sum(lf.c.failures), 0), func.max(lf.c.last_at)).where(
            lf.c.client == client, recent
        )
    ).one()
    until = [
        when + _delay(n, free)
        for n, when, free in (
            (
                mine.failures if mine else 0,
                clock.aware(mine.last_at) if mine else None,
                FREE_FAILURES,
            ),
            (int(total), clock.aware(latest), CLIENT_FREE_FAILURES),
        )
        if when is not None and n >= free
    ]
    latest_until = max(until, default=None)
    return latest_until if latest_until is not None and latest_until > now else None


def _count_failure(
    conn: Connection, client: str, name: str, user_id: int | None, now: datetime
) -> None:
    lf = t.login_failures
    upsert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(lf).values(
        client=client, username=name, failures=1, last_at=now
    )
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[lf.c.client, lf.c.username],
            set_={"failures": lf.c.failures + 1, "last_at": now},
        )
    )
    conn.execute(delete(lf).where(lf.c.last_at < now - FORGET_AFTER))
    if user_id is not None:
        with versioning.unshown(conn):
            conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(
                    failed_logins=t.users.c.failed_logins + 1,
                    locked_until=_account_delayed_until(conn, name, now),
                )
            )


def _account_delayed_until(conn: Connection, name: str, now: datetime) -> datetime | None:
    """What the Secretariat sees in the list of people: until when some address must wait
    before trying this account again (the owner elsewhere need not)."""
    lf = t.login_failures
    rows = conn.execute(
        select(lf.c.failures, lf.c.last_at).where(
            lf.c.username == name, lf.c.failures >= FREE_FAILURES
        )
    ).all()
    ends = [
        when + _delay(r.failures, FREE_FAILURES)
        for r in rows
        if (when := clock.aware(r.last_at)) is not None
    ]
    until = max(ends, default=None)
    return until if until is not None and until > now else None


def _printable(text: str, limit: int) -> str:
    # NUL and other control characters can be neither looked up nor stored (PostgreSQL).
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:limit]


def authenticate(
    store: Store,
    username: str,
    password: str,
    now: datetime | None = None,
    *,
    client: str = LOCAL,
) -> User:
    """The user, or AuthError with the same message whatever was wrong (no hint for guessing).

    Every outcome (unknown name, disabled account, delayed client, wrong or right password) costs
    one argon2 verification with the same parameters, so timing tells nothing either. A failure
    is counted for (client, typed username): after FREE_FAILURES that client waits, longer after
    each further failure (a try while waiting counts too); after CLIENT_FREE_FAILURES across
    accounts, the client waits for any. Slow by design (argon2): call it off an event loop."""
    if "\x00" in username or "\x00" in password:
        # The same clear refusal as every other field with a NUL (rcm.store), before any work.
        raise BadInput(NUL_MESSAGE)
    now = now or clock.now()
    refused = AuthError("wrong username or password, or the account is locked: try again later")
    client = _printable(client or "?", 64)
    name = _printable(normalise_username(username), 100)
    row: Any = None
    with store.connection() as conn:
        if name.isprintable() and username.isprintable():
            row = conn.execute(
                select(t.users).where(t.users.c.username.in_(_lookup_names(username)))
            ).first()
        if row is not None:
            name = row.username
        delayed = _delayed_until(conn, client, name, now) is not None
    usable = row is not None and row.active and not delayed and len(password) <= MAX_PASSWORD
    try:
        _hasher.verify(row.password_hash if usable else _DUMMY_HASH, password)
        right = usable
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        right = False
    with store.transaction() as conn:
        if not right:
            _count_failure(conn, client, name, row.id if row is not None else None, now)
        else:
            lf = t.login_failures
            conn.execute(delete(lf).where(lf.c.client == client, lf.c.username == name))
            values: dict[str, object] = {
                "failed_logins": 0,
                "locked_until": _account_delayed_until(conn, name, now),
            }
            if _hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = _hasher.hash(password)
            with versioning.unshown(conn):
                conn.execute(update(t.users).where(t.users.c.id == row.id).values(**values))
    if not right:
        raise refused
    return _user(row)


def _digest(token: str) -> str:
    # Keyed: the database alone (a stolen backup) cannot turn a stored hash into a session.
    return settings.keyed("session", token)


def start_session(store: Store, user: User, now: datetime | None = None) -> tuple[str, str]:
    """A new session (a fresh token at every login: no session fixation); returns (token, csrf)."""
    now = now or clock.now()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with store.transaction() as conn:
        conn.execute(delete(t.sessions).where(t.sessions.c.expires_at < now))
        conn.execute(
            insert(t.sessions).values(
                token_hash=_digest(token),
                user_id=user.id,
                csrf=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return token, csrf


def session_user(
    store: Store, token: str | None, now: datetime | None = None
) -> tuple[User, str] | None:
    """The signed-in user and the session's CSRF token, or None (unknown, expired or disabled)."""
    if not token or len(token) > 200:
        return None
    now = now or clock.now()
    with store.connection() as conn:
        r = conn.execute(
            select(t.users, t.sessions.c.csrf, t.sessions.c.expires_at)
            .join(t.sessions, t.sessions.c.user_id == t.users.c.id)
            .where(t.sessions.c.token_hash == _digest(token))
        ).first()
    if r is None or not r.active:
        return None
    expires = clock.aware(r.expires_at)
    if expires is None or expires <= now:
        return None
    return _user(r), r.csrf


def end_session(store: Store, token: str) -> None:
    with store.transaction() as conn:
        conn.execute(delete(t.sessions).where(t.sessions.c.token_hash == _digest(token)))


def check_can_answer(user: User, country: str, round_state: str) -> None:
    """Who may write an opinion: the Secretariat for any country, a focal point for their own
    country only; nobody in a closed round; observers never."""
    if not user.active:
        raise Forbidden("this account is disabled")
    if round_state != "open":
        raise Forbidden("the round is closed: it is read-only")
    if user.role is Role.SECRETARIAT:
        return
    if user.role is Role.FOCAL_POINT and user.country == country.strip().upper():
        return
    if user.role is Role.OBSERVER:
        raise Forbidden("observers may comment but never answer for a country")
    raise Forbidden(
        "%(name)s may not answer for %(country)s",
        name=user.username,
        country=country.strip().upper(),
    )


def check_secretariat(user: User, what: str) -> None:
    """Who may manage the consultation, the compendium and the accounts (open and close rounds,
    add declarations, decide on the review queue, add and disable people): an active Secretariat
    account only. ``what`` completes "only the Secretariat may …"."""
    if not user.active:
        raise Forbidden("this account is disabled")
    if user.role is not Role.SECRETARIAT:
        raise Forbidden(
            f"only the Secretariat may {what}; {user.username} is "
            f"{'an observer' if user.role is Role.OBSERVER else 'a focal point'}"
        )


def acting_user(store: Store, username: str) -> User:
    """The account an operator acts as (the CLI's ``--as NAME``): it must exist and be active.
    What it may then do is decided by the action itself (``check_can_answer``,
    ``check_secretariat``), the same rules as on the web."""
    with store.connection() as conn:
        try:
            user = _find(conn, username)
        except NotFound:
            raise AuthError(
                "there is no account %(name)s to act as (see `rcm users list`)",
                name=repr(username.strip()),
            ) from None
    if not user.active:
        raise AuthError("the account %(name)s is disabled: it cannot act", name=repr(user.username))
    return user
