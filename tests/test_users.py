"""People, passwords, sessions and who may answer for whom, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from rcm import consult, users
from rcm.cli import cli
from rcm.errors import RcmError
from rcm.search import theme_filter
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


def test_login_throttling(ready):
    _, password = users.add_user(ready, "sec", "secretariat")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(AuthError):
            users.authenticate(ready, "sec", "wrong password!", now=now)
    # Locked: even the right password is refused, with the same message.
    with pytest.raises(AuthError, match="wrong username or password"):
        users.authenticate(ready, "sec", password, now=now + timedelta(minutes=1))
    assert users.authenticate(
        ready, "sec", password, now=now + users.LOCK_FOR + timedelta(seconds=1)
    )
    with pytest.raises(AuthError, match="wrong username or password"):
        users.authenticate(ready, "nobody", "whatever", now=now)


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
