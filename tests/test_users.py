"""People, passwords, sessions and who may answer for whom, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from rcm import consult, users
from rcm.audit import audit_trail
from rcm.cli import cli
from rcm.errors import RcmError
from rcm.parse import read_compilation
from rcm.search import theme_filter
from rcm.store import Store
from rcm.store import schema as t
from rcm.users import AuthError, Forbidden, Role


@pytest.fixture
def ready(store, compendium):
    store.ingest(compendium)
    return store


def test_add_list_disable_reset(ready):
    user, password = users.add_user(
        ready, "Ana.Costa", "focal_point", country="cri", name="Ana Costa"
    )
    assert (user.username, user.role, user.country) == ("ana.costa", Role.FOCAL_POINT, "CRI")
    assert len(password) >= 12
    assert users.authenticate(ready, "ana.costa", password).id == user.id
    with pytest.raises(RcmError, match="already a user"):
        users.add_user(ready, "ana.costa", "observer")
    with pytest.raises(RcmError, match="needs --country"):
        users.add_user(ready, "pedro", "focal_point")
    with pytest.raises(RcmError, match="only a focal point has a country"):
        users.add_user(ready, "sec", "secretariat", country="MEX")
    with pytest.raises(RcmError, match="unknown role"):
        users.add_user(ready, "x", "minister")
    new = users.reset_password(ready, "ana.costa")
    with pytest.raises(AuthError):
        users.authenticate(ready, "ana.costa", password)
    assert users.authenticate(ready, "ana.costa", new).username == "ana.costa"
    users.disable_user(ready, "ana.costa")
    with pytest.raises(AuthError):
        users.authenticate(ready, "ana.costa", new)
    assert [u.active for u in users.list_users(ready)] == [False]


def test_passwords_are_hashed_with_argon2(ready):
    from sqlalchemy import select

    from rcm.store import schema

    _, password = users.add_user(ready, "sec", "secretariat", password="a long enough password")
    with ready.engine.connect() as conn:
        stored = conn.scalar(select(schema.users.c.password_hash))
    assert stored.startswith("$argon2") and password not in stored
    with pytest.raises(RcmError, match="at least 12"):
        users.add_user(ready, "short", "observer", password="short")


ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


def at(client: str) -> dict[str, str]:
    """The client keyword, which authenticate had not before the per-address delays (so that
    the timing tests below can be run against the code from before, and fail there)."""
    return {"client": client} if hasattr(users, "FREE_FAILURES") else {}


def test_failed_sign_ins_slow_down_that_address_and_never_lock_the_owner_out(ready, db_url):
    _, password = users.add_user(ready, "sec", "secretariat")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(users.FREE_FAILURES):
        with pytest.raises(AuthError):
            users.authenticate(ready, "sec", "wrong password!", now=now, client=ATTACKER)
    # That address now waits, even with the right password, and with the same message...
    with pytest.raises(AuthError, match="wrong username or password"):
        users.authenticate(ready, "sec", password, now=now, client=ATTACKER)
    # ...but the owner, from elsewhere, signs in at once: the only Secretariat account included.
    assert users.authenticate(ready, "sec", password, now=now, client=OWNER).username == "sec"
    # The delay doubles with each failure (the refused try above counted: 6 failures, 2 s).
    assert users.get_user(ready, "sec").locked(now + timedelta(seconds=1.9))
    assert not users.get_user(ready, "sec").locked(now + timedelta(seconds=2.1))
    with pytest.raises(AuthError):  # 7 failures: 4 s from now + 1.5 s
        users.authenticate(
            ready, "sec", password, now=now + timedelta(seconds=1.5), client=ATTACKER
        )
    # The state is in the database: another worker (another Store) sees the delay too.
    other_worker = Store(db_url)
    with pytest.raises(AuthError):  # 8 failures: 8 s from now + 5 s
        users.authenticate(
            other_worker, "sec", password, now=now + timedelta(seconds=5), client=ATTACKER
        )
    other_worker.close()
    later = now + timedelta(seconds=5 + 8.5)
    assert users.authenticate(ready, "sec", password, now=later, client=ATTACKER)
    # A success forgets that address's failures.
    for _ in range(users.FREE_FAILURES - 1):
        with pytest.raises(AuthError):
            users.authenticate(ready, "sec", "wrong again!!", now=later, client=ATTACKER)
    assert users.authenticate(ready, "sec", password, now=later, client=ATTACKER)


def test_one_address_failing_across_accounts_is_capped(ready):
    _, password = users.add_user(ready, "sec", "secretariat")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(users.CLIENT_FREE_FAILURES):  # never FREE_FAILURES on one name
        with pytest.raises(AuthError):
            users.authenticate(ready, f"guess{i % 5}", "whatever!!", now=now, client=ATTACKER)
    with pytest.raises(AuthError):  # a new name, the right password: that address waits
        users.authenticate(ready, "sec", password, now=now, client=ATTACKER)
    assert users.authenticate(ready, "sec", password, now=now, client=OWNER)
    assert users.authenticate(
        ready, "sec", password, now=now + users.MAX_DELAY + timedelta(seconds=1), client=ATTACKER
    )
    with ready.connection() as conn:  # failures a day old are forgotten
        assert conn.scalar(select(func.count()).select_from(t.login_failures)) > 0
    with pytest.raises(AuthError):
        users.authenticate(ready, "x", "y", now=now + users.FORGET_AFTER * 2, client=OWNER)
    with ready.connection() as conn:
        assert conn.scalars(select(t.login_failures.c.client)).all() == [OWNER]


def test_unlock_lifts_every_delay_and_is_audited(ready, db_url):
    users.add_user(ready, "sec", "secretariat")
    users.add_user(ready, "ana", "focal_point", country="CRI")
    for client in (ATTACKER, OWNER):
        for _ in range(users.FREE_FAILURES):
            with pytest.raises(AuthError):
                users.authenticate(ready, "ana", "wrong password!", client=client)
    assert users.get_user(ready, "ana").locked()
    runner = CliRunner()
    listed = runner.invoke(cli, ["--db", db_url, "users", "list"]).output
    assert "sign-in delayed until" in listed
    # `rcm users enable` on an enabled account says what it did, and does it.
    out = runner.invoke(cli, ["--db", db_url, "users", "enable", "ana", "--as", "sec"])
    assert out.exit_code == 0, out.output
    assert "ana was already enabled; sign-in delays lifted (from 2 addresses)" in out.output
    assert not users.get_user(ready, "ana").locked()
    out = runner.invoke(cli, ["--db", db_url, "users", "unlock", "ana", "--as", "sec"])
    assert out.exit_code == 0 and "ana: no sign-in delay to lift" in out.output
    for _ in range(users.FREE_FAILURES):
        with pytest.raises(AuthError):
            users.authenticate(ready, "ana", "wrong password!", client=ATTACKER)
    out = runner.invoke(cli, ["--db", db_url, "users", "unlock", "ANA", "--as", "sec"])
    assert out.exit_code == 0 and "ana: sign-in delays lifted (from 1 address)" in out.output
    trail = audit_trail(ready, action="user.unlock").events
    assert [(e.actor, e.object, e.before["delays_lifted"]) for e in trail] == [
        ("sec", "user ana", 1), ("sec", "user ana", 2)
    ]  # fmt: skip
    assert runner.invoke(cli, ["--db", db_url, "users", "unlock", "nobody"]).exit_code == 2


def test_every_outcome_costs_one_argon2_verification(ready, monkeypatch):
    """Unknown name, disabled account, delayed address, too long, wrong and right password: one
    verification each, so that how long a refusal takes tells nothing."""
    from argon2 import PasswordHasher

    _, password = users.add_user(ready, "ana", "focal_point", country="CRI")
    users.add_user(ready, "gone", "observer")
    users.disable_user(ready, "gone")
    for _ in range(5):  # users.FREE_FAILURES
        with pytest.raises(AuthError):
            users.authenticate(ready, "ana", "wrong password!", **at(ATTACKER))
    calls = []
    verify = PasswordHasher.verify

    def counted(self, hash, secret):
        calls.append(hash)
        return verify(self, hash, secret)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    outcomes = [
        ("nobody", password, None),
        ("gone", password, None),
        ("ana", password, ATTACKER),  # delayed
        ("ana", "x" * 201, None),  # longer than users.MAX_PASSWORD
        ("ana", "wrong password!", None),
        ("ana", password, None),
    ]
    for name, secret, client in outcomes:
        calls.clear()
        with contextlib.suppress(AuthError):
            users.authenticate(ready, name, secret, **at(client or "local"))
        assert len(calls) == 1, (name, client)
        assert calls[0].startswith("$argon2id$"), name


def test_sign_in_takes_as_long_whatever_the_outcome(sqlite_url, monkeypatch):
    """With the production argon2 parameters: before, a disabled or locked account answered in
    7-9 ms and an unknown one in 700 ms."""
    import time

    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    hasher = PasswordHasher()
    monkeypatch.setattr(users, "_hasher", hasher)
    monkeypatch.setattr(users, "_DUMMY_HASH", hasher.hash("not anyone's password"))
    store = Store(sqlite_url, create=True)
    store.ingest(read_compilation())
    _, password = users.add_user(store, "ana", "observer")
    _, other = users.add_user(store, "bea", "observer")
    users.add_user(store, "gone", "observer", password="a disabled account")
    users.disable_user(store, "gone")
    for _ in range(5):  # users.FREE_FAILURES
        with pytest.raises(AuthError):
            users.authenticate(store, "ana", "wrong password!", **at(ATTACKER))
    outcomes = {
        "unknown": ("nobody", password, "local"),
        "disabled": ("gone", "a disabled account", "local"),
        "delayed": ("ana", password, ATTACKER),  # before: locked
        "wrong": ("bea", "wrong password!", OWNER),
        "right": ("bea", other, "local"),
    }
    took = {}
    for outcome, (name, secret, client) in outcomes.items():
        times = []
        for _ in range(2):
            start = time.perf_counter()
            try:
                users.authenticate(store, name, secret, **at(client))
            except AuthError:
                assert outcome != "right"
            times.append(time.perf_counter() - start)
        took[outcome] = min(times)
    store.close()
    hashed = hasher.hash("x")
    start = time.perf_counter()
    with pytest.raises(VerifyMismatchError):
        hasher.verify(hashed, "y")
    one = time.perf_counter() - start
    assert min(took.values()) > 0.3 * one, took
    assert max(took.values()) < 3 * min(took.values()), took


def test_sessions_expire_and_end(ready):
    user, _ = users.add_user(ready, "sec", "secretariat")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token, csrf = users.start_session(ready, user, now=now)
    again, _ = users.start_session(ready, user, now=now)
    assert token != again  # a new token at every login
    found = users.session_user(ready, token, now=now + timedelta(hours=1))
    assert found is not None and found[0].id == user.id and found[1] == csrf
    assert users.session_user(ready, token, now=now + users.SESSION_LIFETIME) is None
    assert users.session_user(ready, "forged", now=now) is None
    users.end_session(ready, again)
    assert users.session_user(ready, again, now=now) is None


ROLES = ["secretariat", "focal_point:CRI", "focal_point:MEX", "observer"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("country", ["CRI", "MEX"])
@pytest.mark.parametrize("state", ["open", "closed"])
def test_who_may_answer(ready, role, country, state):
    name, _, own = role.partition(":")
    user, _ = users.add_user(ready, f"u-{name}-{own or 'x'}".lower(), name, country=own or None)
    rnd = consult.open_round(ready, "TS5", filters=[theme_filter([5])])
    if state == "closed":
        consult.close_round(ready, rnd.id)
    allowed = state == "open" and (name == "secretariat" or own == country)
    if allowed:
        op = consult.set_opinion_as(ready, user, rnd.id, country, "XII-8133", "valid")
        assert op.author == user.username
    else:
        with pytest.raises(Forbidden):
            consult.set_opinion_as(ready, user, rnd.id, country, "XII-8133", "valid")
        assert consult.opinions(ready, rnd.id) == []


def test_users_cli(db_url):
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db_url, "ingest"]).exit_code == 0
    added = runner.invoke(
        cli, ["--db", db_url, "users", "add", "ana", "--role", "focal_point", "--country", "CRI"]
    )
    assert added.exit_code == 0 and "password: " in added.output
    listed = runner.invoke(cli, ["--db", db_url, "users", "list"]).output
    assert "ana" in listed and "CRI" in listed and "active" in listed
    reset = runner.invoke(cli, ["--db", db_url, "users", "reset-password", "ana"])
    assert reset.exit_code == 0 and reset.output.startswith("password: ")
    assert runner.invoke(cli, ["--db", db_url, "users", "disable", "ana"]).exit_code == 0
    assert "disabled" in runner.invoke(cli, ["--db", db_url, "users", "list"]).output
    missing = runner.invoke(cli, ["--db", db_url, "users", "disable", "nobody"])
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output


def test_production_hashing_uses_argon2_defaults(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.delenv("RCM_FAST_PASSWORD_HASHING", raising=False)
    hasher = users._password_hasher()
    default = PasswordHasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        default.time_cost,
        default.memory_cost,
        default.parallelism,
    )
    assert default.memory_cost >= 64 * 1024
