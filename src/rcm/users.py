"""People and what they may do: the Secretariat (everything), a country's focal point (that
country's opinions, while a round is open), observers (comment, never vote). Passwords are hashed
with argon2; repeated failed logins lock an account for a while; sessions expire; each session has
its own CSRF token for the web forms."""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rcm import settings, taxonomy
from rcm.audit import record_audit
from rcm.errors import NotFound, RcmError
from rcm.store import Store
from rcm.store import schema as t

__all__ = [
    "AuthError",
    "Forbidden",
    "Role",
    "User",
    "acting_user",
    "add_user",
    "authenticate",
    "change_password",
    "check_can_answer",
    "check_secretariat",
    "disable_user",
    "enable_user",
    "end_session",
    "get_user",
    "list_users",
    "reset_password",
    "session_user",
    "start_session",
]

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD = 12


def _password_hasher() -> PasswordHasher:
    # argon2's recommended defaults (RFC 9106 low-memory profile). The test suite, which creates
    # hundreds of users, may ask for the cheapest parameters with RCM_FAST_PASSWORD_HASHING=1; the
    # hashes stay argon2id and verify the same way.
    if os.environ.get("RCM_FAST_PASSWORD_HASHING") == "1":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


_hasher = _password_hasher()
# Verified when the username is unknown, so that a wrong name costs as long as a wrong password.
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


@dataclass(frozen=True)
class User:
    id: int
    username: str
    name: str
    role: Role
    country: str | None
    active: bool
    locked_until: datetime | None = None

    def locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or _now())


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives back naive datetimes: they were written in UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _user(r: Any) -> User:
    return User(r.id, r.username, r.name, Role(r.role), r.country, r.active, _aware(r.locked_until))


def _audited(user: User) -> dict[str, Any]:
    """What the audit trail keeps of an account (never a password or its hash)."""
    return {
        "username": user.username,
        "name": user.name,
        "role": user.role.value,
        "country": user.country,
        "active": user.active,
    }


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise RcmError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def add_user(
    store: Store,
    username: str,
    role: str,
    *,
    country: str | None = None,
    name: str = "",
    password: str | None = None,
    actor: str = "system",
) -> tuple[User, str]:
    """Create a user; returns the user and the password (generated when none is given)."""
    username = username.strip().lower()
    if (
        not username
        or len(username) > 100
        or not username.replace(".", "")
        .replace("-", "")
        .replace("_", "")
        .replace("@", "")
        .isalnum()
    ):
        raise RcmError(f"{username!r} is not a username (letters, digits, . - _ @)")
    try:
        r = Role(role)
    except ValueError:
        raise RcmError(
            f"unknown role {role!r}; valid: {', '.join(x.value for x in Role)}"
        ) from None
    members = {c.iso3 for c in taxonomy.countries()}
    code = country.strip().upper() if country else None
    if r is Role.FOCAL_POINT and code not in members:
        raise RcmError(f"a focal point needs --country, one of {', '.join(sorted(members))}")
    if r is not Role.FOCAL_POINT and code:
        raise RcmError("only a focal point has a country")
    name = " ".join(name.split())
    if len(name) > 200:
        raise RcmError("a name has at most 200 characters")
    secret = _check_password(password) if password else secrets.token_urlsafe(15)
    try:
        with store.engine.begin() as conn:
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
                    created_at=_now(),
                )
                .returning(t.users.c.id)
            ).scalar_one()
            user = User(uid, username, name or username, r, code, True)
            record_audit(conn, actor, "user.add", f"user {username}", None, _audited(user))
    except IntegrityError:
        raise RcmError(f"there is already a user {username!r}") from None
    return user, secret


def list_users(store: Store) -> list[User]:
    with store.connection() as conn:
        return [_user(r) for r in conn.execute(select(t.users).order_by(t.users.c.username))]


def _find(conn: Connection, username: str, *, for_update: bool = False) -> User:
    query = select(t.users).where(t.users.c.username == username.strip().lower())
    r = conn.execute(query.with_for_update() if for_update else query).first()
    if r is None:
        raise NotFound(f"no user {username!r}")
    return _user(r)


def get_user(store: Store, username: str) -> User:
    with store.connection() as conn:
        return _find(conn, username)


def _set_active(store: Store, username: str, active: bool, actor: str) -> User:
    with store.engine.begin() as conn:
        before = _find(conn, username, for_update=True)
        if before.active == active:
            return before  # nothing to change, nothing to audit
        last_one = RcmError(
            f"{before.username} is the only active Secretariat account: add or enable another "
            "one first, or nobody could manage the compendium"
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
        values: dict[str, Any] = {"active": active}
        if active:  # a fresh start: no lock left over from before
            values |= {"failed_logins": 0, "locked_until": None}
        if conn.execute(change.values(**values)).rowcount != 1:
            raise last_one
        conn.execute(delete(t.sessions).where(t.sessions.c.user_id == before.id))
        after = _find(conn, username)
        action = "user.enable" if active else "user.disable"
        record_audit(
            conn, actor, action, f"user {after.username}", _audited(before), _audited(after)
        )
    return after


def disable_user(store: Store, username: str, *, actor: str = "system") -> User:
    """Disable an account and end its sessions (it can be enabled again)."""
    return _set_active(store, username, False, actor)


def enable_user(store: Store, username: str, *, actor: str = "system") -> User:
    """Enable a disabled account again (and lift any lock)."""
    return _set_active(store, username, True, actor)


def reset_password(
    store: Store, username: str, password: str | None = None, *, actor: str = "system"
) -> str:
    """A new password (generated when none is given); ends the user's sessions and lifts a lock."""
    secret = _check_password(password) if password else secrets.token_urlsafe(15)
    with store.engine.begin() as conn:
        user = _find(conn, username, for_update=True)
        conn.execute(
            update(t.users)
            .where(t.users.c.id == user.id)
            .values(password_hash=_hasher.hash(secret), failed_logins=0, locked_until=None)
        )
        conn.execute(delete(t.sessions).where(t.sessions.c.user_id == user.id))
        record_audit(conn, actor, "user.reset_password", f"user {user.username}", None, None)
    return secret


def change_password(store: Store, username: str, current: str, new: str) -> User:
    """A person changes their own password: the current one must be right (a wrong one counts as
    a failed sign-in, so a borrowed session cannot guess it), the new one long enough and not the
    same. Ends every session of the account: sign in again (start_session) after."""
    if len(new) > 1000:
        raise RcmError("a password has at most 1000 characters")
    _check_password(new)
    try:
        user = authenticate(store, username, current)
    except AuthError:
        raise AuthError(
            "the current password is wrong, or the account is locked: try again later"
        ) from None
    if new == current:
        raise RcmError("the new password is the same as the current one")
    with store.engine.begin() as conn:
        conn.execute(
            update(t.users)
            .where(t.users.c.id == user.id)
            .values(password_hash=_hasher.hash(new), failed_logins=0, locked_until=None)
        )
        conn.execute(delete(t.sessions).where(t.sessions.c.user_id == user.id))
        record_audit(
            conn, user.username, "user.change_password", f"user {user.username}", None, None
        )
    return user


def authenticate(store: Store, username: str, password: str, now: datetime | None = None) -> User:
    """The user, or AuthError with the same message whatever was wrong (no hint for guessing)."""
    now = now or _now()
    refused = AuthError("wrong username or password, or the account is locked: try again later")
    user: User | None = None
    with store.engine.begin() as conn:
        r = conn.execute(
            select(t.users).where(t.users.c.username == username.strip().lower()).with_for_update()
        ).first()
        if r is None:
            with contextlib.suppress(VerificationError):
                _hasher.verify(_DUMMY_HASH, password)
        elif r.active and not ((locked := _aware(r.locked_until)) is not None and locked > now):
            try:
                _hasher.verify(r.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                # Count the failure (it is committed with this transaction); lock after too many.
                failures = r.failed_logins + 1
                lock = failures >= MAX_FAILURES
                conn.execute(
                    update(t.users)
                    .where(t.users.c.id == r.id)
                    .values(
                        failed_logins=0 if lock else failures,
                        locked_until=now + LOCK_FOR if lock else r.locked_until,
                    )
                )
            else:
                values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
                if _hasher.check_needs_rehash(r.password_hash):
                    values["password_hash"] = _hasher.hash(password)
                conn.execute(update(t.users).where(t.users.c.id == r.id).values(**values))
                user = _user(r)
    if user is None:
        raise refused
    return user


def _digest(token: str) -> str:
    # Keyed: the database alone (a stolen backup) cannot turn a stored hash into a session.
    return settings.keyed("session", token)


def start_session(store: Store, user: User, now: datetime | None = None) -> tuple[str, str]:
    """A new session (a fresh token at every login: no session fixation); returns (token, csrf)."""
    now = now or _now()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with store.engine.begin() as conn:
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
    now = now or _now()
    with store.connection() as conn:
        r = conn.execute(
            select(t.users, t.sessions.c.csrf, t.sessions.c.expires_at)
            .join(t.sessions, t.sessions.c.user_id == t.users.c.id)
            .where(t.sessions.c.token_hash == _digest(token))
        ).first()
    if r is None or not r.active:
        return None
    expires = _aware(r.expires_at)
    if expires is None or expires <= now:
        return None
    return _user(r), r.csrf


def end_session(store: Store, token: str) -> None:
    with store.engine.begin() as conn:
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
    raise Forbidden(f"{user.username} may not answer for {country.strip().upper()}")


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
                f"there is no account {username.strip()!r} to act as (see `rcm users list`)"
            ) from None
    if not user.active:
        raise AuthError(f"the account {user.username!r} is disabled: it cannot act")
    return user
