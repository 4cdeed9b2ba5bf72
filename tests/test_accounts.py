"""Accounts: changing one's own password, the Secretariat managing people on the web and the
command line, and the audit trail of it all (`/audit`, `rcm audit`), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from rcm import consult, users
from rcm.audit import audit_trail
from rcm.cli import cli
from rcm.errors import RcmError
from rcm.search import theme_filter
from rcm.store import schema as t
from rcm.users import AuthError
from rcm.web import create_app
from webclient import add_people, client_for, csrf_of


@pytest.fixture
def people(store, compendium):
    store.ingest(compendium)
    passwords = add_people(store, "sec", "cri", "obs", actor="setup")
    return store, passwords


def signed_in(store, who, password) -> TestClient:
    return client_for(store, {who: password}, who, next="/")


def events(store, **filters):
    return [(e.actor, e.action, e.object) for e in audit_trail(store, **filters).events]


# --- the library ---------------------------------------------------------------------------------


def test_every_account_change_is_audited_without_secrets(people):
    store, passwords = people
    users.disable_user(store, "cri", actor="sec")
    users.disable_user(store, "cri", actor="sec")  # already disabled: nothing changes, no event
    users.enable_user(store, "cri", actor="sec")
    new = users.reset_password(store, "cri", actor="sec")
    users.change_password(store, "cri", new, "a new password of cri")
    assert events(store, action="user") == [
        ("cri", "user.change_password", "user cri"),
        ("sec", "user.reset_password", "user cri"),
        ("sec", "user.enable", "user cri"),
        ("sec", "user.disable", "user cri"),
        ("setup", "user.add", "user obs"),
        ("setup", "user.add", "user cri"),
        ("setup", "user.add", "user sec"),
    ]
    disabled = audit_trail(store, action="user.disable").events[0]
    assert disabled.before["active"] is True and disabled.after["active"] is False
    assert disabled.after == {
        "username": "cri", "name": "cri", "role": "focal_point", "country": "CRI", "active": False,
        "email": None,
    }  # fmt: skip
    # Never a password or its hash in the trail.
    with store.connection() as conn:
        stored = " ".join(
            f"{r.before} {r.after}" for r in conn.execute(select(t.audit_events)).all()
        )
        hashes = [h for (h,) in conn.execute(select(t.users.c.password_hash))]
    for secret in [*passwords.values(), new, "a new password of cri", *hashes]:
        assert secret not in stored
    assert "argon2" not in stored


def test_change_password(people):
    store, passwords = people
    token, _ = users.start_session(store, users.get_user(store, "cri"))
    with pytest.raises(AuthError, match="current password is wrong"):
        users.change_password(store, "cri", "not the password", "a new password of cri")
    with pytest.raises(RcmError, match="at least 12"):
        users.change_password(store, "cri", passwords["cri"], "short")
    with pytest.raises(RcmError, match="same as the current"):
        users.change_password(store, "cri", passwords["cri"], passwords["cri"])
    assert users.session_user(store, token) is not None  # nothing changed so far
    users.change_password(store, "cri", passwords["cri"], "a new password of cri")
    assert users.session_user(store, token) is None  # every session ended
    with pytest.raises(AuthError):
        users.authenticate(store, "cri", passwords["cri"])
    assert users.authenticate(store, "cri", "a new password of cri").username == "cri"


def test_guessing_the_current_password_delays_that_address(people):
    store, passwords = people
    for _ in range(users.FREE_FAILURES):
        with pytest.raises(AuthError):
            users.change_password(
                store, "cri", "a wrong guess", "a new password of cri", client="203.0.113.9"
            )
    assert users.get_user(store, "cri").locked()
    with pytest.raises(AuthError):  # even the right one, for a while, from there
        users.change_password(
            store, "cri", passwords["cri"], "a new password of cri", client="203.0.113.9"
        )
    # Enabling an account that is already enabled lifts the delays (before: "enabled", and the
    # lock stayed), audited.
    users.enable_user(store, "cri", actor="sec")
    assert not users.get_user(store, "cri").locked()
    assert events(store, action="user.unlock") == [("sec", "user.unlock", "user cri")]
    users.change_password(
        store, "cri", passwords["cri"], "a new password of cri", client="203.0.113.9"
    )


def test_the_last_secretariat_account_cannot_be_disabled(people):
    store, _ = people
    with pytest.raises(RcmError, match="only active Secretariat account"):
        users.disable_user(store, "sec", actor="sec")
    assert users.get_user(store, "sec").active
    users.add_user(store, "sec2", "secretariat", actor="sec")
    users.disable_user(store, "sec", actor="sec2")
    assert not users.get_user(store, "sec").active
    with pytest.raises(RcmError, match="only active Secretariat account"):
        users.disable_user(store, "sec2", actor="sec2")
    users.disable_user(store, "obs", actor="sec2")  # others are fine


def test_two_secretariat_accounts_disabling_each_other_at_once(people):
    """One of them must stay: exactly one disable succeeds, even at the same moment, and the other
    is refused by the rule, not by the database (on PostgreSQL, locking each target's row first
    deadlocked in 34 of 40 rounds). Ten rounds."""
    store, _ = people
    users.add_user(store, "sec2", "secretariat", actor="sec")
    for _ in range(10):
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def disable(
            actor: str,
            target: str,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                users.disable_user(store, target, actor=actor)
                outcomes.append("disabled")
            except RcmError as exc:
                outcomes.append(exc.message)

        threads = [
            threading.Thread(target=disable, args=("sec", "sec2")),
            threading.Thread(target=disable, args=("sec2", "sec")),
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert outcomes.count("disabled") == 1, outcomes
        assert any("is the only active Secretariat account" in o for o in outcomes), outcomes
        active = [
            u.username
            for u in users.list_users(store)
            if u.role.value == "secretariat" and u.active
        ]
        assert len(active) == 1
        users.enable_user(store, "sec" if active == ["sec2"] else "sec2")


def test_audit_trail_filters_and_pages(people):
    store, _ = people
    rnd = consult.open_round(store, "TS5", filters=[theme_filter([5])], actor="sec")
    consult.set_opinion(store, rnd.id, "CRI", "XII-8133", "valid", author="cri")
    consult.close_round(store, rnd.id, "sec")
    assert events(store, action="round") == [
        ("sec", "round.close", f"round {rnd.id}"),
        ("sec", "round.open", f"round {rnd.id}"),
    ]
    assert [a for _, a, _ in events(store, actor="cri")] == ["opinion.set"]
    assert [a for _, a, _ in events(store, obj="XII-8133")] == ["opinion.set"]
    assert events(store, obj="100%_") == []  # LIKE wildcards are plain characters
    whole = audit_trail(store, limit=1000)
    assert whole.total == len(whole.events) == 6
    pages = [audit_trail(store, limit=4, offset=o).events for o in (0, 4)]
    assert [e.id for p in pages for e in p] == [e.id for e in whole.events]
    assert [e.id for e in whole.events] == sorted((e.id for e in whole.events), reverse=True)
    with pytest.raises(RcmError, match="limit"):
        audit_trail(store, limit=0)
    with pytest.raises(RcmError, match="offset"):
        audit_trail(store, offset=-1)


# --- the command line ----------------------------------------------------------------------------


def test_users_and_audit_cli(people, db_url):
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", db_url, "users", "disable", "cri", "--as", "sec"])
    assert r.exit_code == 0 and "disabled cri" in r.output
    listed = runner.invoke(cli, ["--db", db_url, "users", "list"]).output
    assert "disabled" in listed.splitlines()[0] and "cri" in listed.splitlines()[0]
    r = runner.invoke(cli, ["--db", db_url, "users", "enable", "cri", "--as", "sec"])
    assert r.exit_code == 0 and "enabled cri" in r.output
    r = runner.invoke(cli, ["--db", db_url, "users", "disable", "sec"])
    assert r.exit_code == 1 and "only active Secretariat account" in r.output
    r = runner.invoke(cli, ["--db", db_url, "audit", "--action", "user", "--actor", "sec"])
    assert r.exit_code == 0, r.output
    assert [line.split()[2] for line in r.stdout.splitlines()] == ["sec", "sec"]
    lines = r.stdout.splitlines()
    assert [line.split()[3] for line in lines] == ["user.enable", "user.disable"]
    assert "1–2 of 2 events" in r.stderr
    r = runner.invoke(cli, ["--db", db_url, "audit", "--json", "--limit", "2"])
    data = json.loads(r.stdout)
    assert data["total"] == 5 and len(data["events"]) == 2
    assert data["events"][0]["after"]["active"] is True
    r = runner.invoke(cli, ["--db", db_url, "audit", "--limit", "0"])
    assert r.exit_code == 1 and "limit must be between 1 and 1000" in r.output


# --- the web -------------------------------------------------------------------------------------


def test_change_your_own_password_on_the_web(people):
    store, passwords = people
    c = signed_in(store, "cri", passwords["cri"])
    other = signed_in(store, "cri", passwords["cri"])  # another browser of the same person
    page = c.get("/account")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    assert "Focal point (CRI)" in page.text
    token = csrf_of(c, "/account")
    form = {"csrf": token, "current": passwords["cri"], "new": "a new password of cri"}
    r = c.post("/account/password", data={**form, "again": "a new password of crj"})
    assert r.status_code == 400 and "The two new passwords differ" in r.text
    r = c.post("/account/password", data={**form, "current": "wrong", "again": form["new"]})
    assert r.status_code == 400 and "current password is wrong" in r.text
    r = c.post("/account/password", data={**form, "again": form["new"]})
    assert r.status_code == 303 and r.headers["location"] == "/account?changed=1"
    # This browser goes on with a new session; the other one is signed out.
    assert "has been changed" in c.get("/account?changed=1").text
    assert other.get("/account").status_code == 401
    assert users.authenticate(store, "cri", "a new password of cri").username == "cri"
    # In Spanish too.
    r = c.post(
        "/account/password?lang=es",
        data={"csrf": csrf_of(c, "/account"), "current": "x", "new": "y" * 12, "again": "z" * 12},
    )
    assert r.status_code == 400 and "no coinciden" in r.text


def test_the_secretariat_manages_people_on_the_web(people):
    store, passwords = people
    c = signed_in(store, "sec", passwords["sec"])
    page = c.get("/users")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    soup = BeautifulSoup(page.text, "html.parser")
    assert [tr["data-username"] for tr in soup.select("tr[data-username]")] == ["cri", "obs", "sec"]
    token = soup.select_one("input[name=csrf]")["value"]
    r = c.post(
        "/users",
        data={"csrf": token, "username": "Mex.Focal", "name": "Punto focal", "role": "focal_point",
              "country": "MEX"},
    )  # fmt: skip
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
    password = BeautifulSoup(r.text, "html.parser").select_one("code.password").text
    assert users.authenticate(store, "mex.focal", password).country == "MEX"
    assert "not shown again" in r.text
    # Mistakes are shown with what was typed, and nothing is added.
    r = c.post(
        "/users", data={"csrf": token, "username": "pedro", "role": "focal_point", "country": ""}
    )
    assert r.status_code == 400 and "needs --country" in r.text
    assert 'value="pedro"' in r.text
    r = c.post("/users", data={"csrf": token, "username": "cri", "role": "observer"})
    assert r.status_code == 400 and "already a user" in r.text
    assert [u.username for u in users.list_users(store)] == ["cri", "mex.focal", "obs", "sec"]
    # Disable signs the person out at once; enable lets them back; a new password is shown once.
    cri = signed_in(store, "cri", passwords["cri"])
    r = c.post("/users/cri/disable", data={"csrf": token})
    assert r.status_code == 200 and "cri is disabled and signed out" in r.text
    assert cri.get("/account").status_code == 401
    r = c.post("/users/cri/enable", data={"csrf": token})
    assert r.status_code == 200 and "cri may sign in again" in r.text
    r = c.post("/users/cri/password", data={"csrf": token})
    new = BeautifulSoup(r.text, "html.parser").select_one("code.password").text
    assert users.authenticate(store, "cri", new).username == "cri"
    assert c.post("/users/nobody/disable", data={"csrf": token}).status_code == 404
    r = c.post("/users/sec/disable", data={"csrf": token})
    assert r.status_code == 400 and "only active Secretariat account" in r.text
    # All of it in the audit trail, by the person signed in.
    assert [a for _, a, _ in events(store, actor="sec")] == [
        "user.reset_password", "user.enable", "user.disable", "user.add"
    ]  # fmt: skip


def test_only_the_secretariat_manages_people_and_reads_the_audit_trail(people):
    store, passwords = people
    anonymous = TestClient(create_app(store), follow_redirects=False)
    for path in ("/users", "/audit", "/account"):
        assert anonymous.get(path).status_code == 401, path
    for who in ("cri", "obs"):
        c = signed_in(store, who, passwords[who])
        assert c.get("/account").status_code == 200
        token = csrf_of(c, "/account")
        assert c.get("/users").status_code == 403
        assert c.get("/audit").status_code == 403
        for path in ("/users", "/users/sec/disable", "/users/sec/password", "/users/cri/enable"):
            assert c.post(path, data={"csrf": token, "username": "x", "role": "secretariat"}
                          ).status_code == 403, (who, path)  # fmt: skip
        assert "/users" not in c.get("/account").text  # no link to what they may not open
    assert users.get_user(store, "sec").active and len(users.list_users(store)) == 3
    assert [a for _, a, _ in events(store)] == ["user.add"] * 3


def test_the_audit_trail_page(people):
    store, passwords = people
    rnd = consult.open_round(
        store, "Ronda de revisión <b>en español</b>", filters=[theme_filter([5])], actor="sec"
    )
    consult.set_opinion(
        store, rnd.id, "CRI", "XII-8133", "valid with changes", author="cri",
        proposed_wording="Nueva redacción <b>en español</b>",
    )  # fmt: skip
    c = signed_in(store, "sec", passwords["sec"])
    page = c.get("/audit")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    soup = BeautifulSoup(page.text, "html.parser")
    rows = soup.select("table.audit tbody tr")
    assert [r.select("td")[2].text for r in rows] == ["opinion.set", "round.open"] + [
        "user.add"
    ] * 3
    assert "Ronda de revisión <b>en español</b>" in rows[1].text  # as written, and escaped
    assert "<b>en" not in page.text
    assert "5 changes" in page.text
    only = BeautifulSoup(c.get("/audit?action=round").text, "html.parser")
    assert [r.select("td")[2].text for r in only.select("table.audit tbody tr")] == ["round.open"]
    assert c.get("/audit?action=nonsense").status_code == 400
    assert c.get("/audit?offset=-3").status_code == 200  # read as the first page
    assert c.get("/audit?offset=٣").status_code == 200
    assert "cambios" in c.get("/audit?lang=es").text


def test_paging_through_the_audit_trail(people):
    store, passwords = people
    for i in range(60):
        users.add_user(store, f"person{i:02d}", "observer", actor="sec")
    c = signed_in(store, "sec", passwords["sec"])
    first = BeautifulSoup(c.get("/audit?action=user&actor=sec").text, "html.parser")
    assert len(first.select("table.audit tbody tr")) == 50
    older = first.select_one("a[rel=next]")["href"]
    assert older == "/audit?action=user&actor=sec&offset=50"
    second = BeautifulSoup(c.get(older).text, "html.parser")
    assert len(second.select("table.audit tbody tr")) == 10
    assert second.select_one("a[rel=next]") is None
    assert second.select_one("a[rel=prev]")["href"] == "/audit?action=user&actor=sec&offset=0"


def test_account_changes_are_logged(people, caplog):
    store, _ = people
    with caplog.at_level(logging.INFO, logger="rcm.audit"):
        users.disable_user(store, "obs", actor="sec")
    record = next(r for r in caplog.records if r.name == "rcm.audit")
    assert record.fields == {
        "event": "audit", "action": "user.disable", "object": "user obs", "actor": "sec"
    }  # fmt: skip


# --- passwords and usernames ---------------------------------------------------------------------


def test_one_password_limit_for_setting_and_signing_in(people):
    """Before, /account took passwords of 201-1,000 characters that /login cut at 200: that
    person could never sign in again."""
    store, passwords = people
    c = signed_in(store, "cri", passwords["cri"])
    limit = 200  # users.MAX_PASSWORD
    too_long, longest = "Long passphrase " * 13, "Long, very long passphrase " * 8
    too_long, longest = too_long[: limit + 1], longest[:limit]
    form = {"csrf": csrf_of(c, "/account"), "current": passwords["cri"]}
    r = c.post("/account/password", data={**form, "new": too_long, "again": too_long})
    assert r.status_code == 400 and f"at most {limit} characters" in r.text
    with pytest.raises(RcmError, match=f"at most {limit} characters"):
        users.reset_password(store, "cri", too_long, actor="sec")
    r = c.post("/account/password", data={**form, "new": longest, "again": longest})
    assert r.status_code == 303
    # The longest password there is signs in on the web, and both forms say the limit.
    web = client_for(store, {"cri": longest}, "cri")
    assert web.get("/account").status_code == 200
    page = BeautifulSoup(web.get("/account").text, "html.parser")
    assert page.select_one("input[name=new]")["maxlength"] == str(limit)
    assert f"from 12 to {limit} characters" in page.select_one("#password-rule").text
    login = BeautifulSoup(web.get("/login").text, "html.parser")
    assert login.select_one("input[name=password]")["maxlength"] == str(limit)
    spanish = BeautifulSoup(web.get("/account?lang=es").text, "html.parser")
    assert f"de 12 a {limit} caracteres" in spanish.select_one("#password-rule").text
    assert limit == users.MAX_PASSWORD


WEAK = {
    "aaaaaaaaaaaa": "too repetitive",
    " " * 12: "only spaces",
    "password1234": "too common",
    "Password1234!": "too common",
    "qwertyuiop12": "too common",
    "abcabcabcabc": "too repetitive",
    "ab12ab12ab12ab12": "too repetitive",
    "1111122222333": "too repetitive",
}


def test_blank_repetitive_and_common_passwords_are_refused(people):
    store, _ = people
    for password, message in WEAK.items():
        with pytest.raises(RcmError, match=message):
            users.add_user(store, "new.person", "observer", password=password)
        with pytest.raises(RcmError, match=message):
            users.reset_password(store, "cri", password, actor="sec")
    assert len(users.list_users(store)) == 3


def test_weak_passwords_are_refused_on_the_web_in_english_and_spanish(people):
    store, passwords = people
    c = signed_in(store, "cri", passwords["cri"])
    for lang, expected in [
        ("en", ["too repetitive", "only spaces", "too common"]),
        ("es", ["demasiado repetitiva", "solo espacios", "demasiado común"]),
    ]:
        for password, message in zip(
            ["aaaaaaaaaaaa", " " * 12, "password1234"], expected, strict=True
        ):
            r = c.post(
                f"/account/password?lang={lang}",
                data={"csrf": csrf_of(c, "/account"), "current": passwords["cri"],
                      "new": password, "again": password},
            )  # fmt: skip
            assert r.status_code == 400 and message in r.text, (lang, password)
    assert users.authenticate(store, "cri", passwords["cri"])  # unchanged
    users.add_user(store, "ok", "observer", password="tres tristes tigres")  # a good one


def test_usernames_are_normalised_and_look_alikes_refused(people, db_url):
    """Before, `сri` with a Cyrillic с was accepted beside `cri`."""
    store, passwords = people
    for name, message in [
        ("\u0441ri", "not a username"),  # Cyrillic с
        ("CRI", "already a user"),
        ("\uff23\uff32\uff29", "already a user"),  # fullwidth: NFKC makes it cri
        ("crí", "looks too much like the existing user “cri”"),
        ("оbs", "not a username"),  # Cyrillic о
        ("0bs", "looks too much like the existing user “obs”"),
    ]:
        with pytest.raises(RcmError, match=message):
            users.add_user(store, name, "observer")
    users.add_user(store, "modern", "observer")
    with pytest.raises(RcmError, match="looks too much like the existing user “modern”"):
        users.add_user(store, "rnodern", "observer")  # rn looks like m
    users.add_user(store, "ana.costa", "observer")
    with pytest.raises(RcmError, match=r"looks too much like the existing user “ana\.costa”"):
        users.add_user(store, "ana_costa", "observer")
    added, _ = users.add_user(store, "José.Núñez", "observer")
    assert added.username == "josé.núñez"
    assert users.get_user(store, "JOSÉ.NÚÑEZ").id == added.id
    # An account made before the rule, in another script, keeps working; a Latin look-alike
    # of it is refused.
    with store.engine.begin() as conn:
        hashed = conn.scalar(select(t.users.c.password_hash).where(t.users.c.username == "obs"))
        conn.execute(
            t.users.insert().values(
                username="\u0430na", name="old", role="observer", password_hash=hashed,
                active=True, failed_logins=0, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    assert users.authenticate(store, "\u0430na", passwords["obs"]).username == "\u0430na"
    with pytest.raises(RcmError, match="looks too much like the existing user “аna”"):
        users.add_user(store, "ana", "observer")
    # On the web, in Spanish too, and the CLI says it in one line.
    c = signed_in(store, "sec", passwords["sec"])
    token = csrf_of(c, "/users")
    r = c.post("/users?lang=es", data={"csrf": token, "username": "crí", "role": "observer"})
    assert r.status_code == 400 and "se parece demasiado al usuario existente «cri»" in r.text
    r = c.post("/users?lang=es", data={"csrf": token, "username": "\u0441ri", "role": "observer"})
    assert r.status_code == 400 and "no es un nombre de usuario" in r.text
    out = CliRunner().invoke(cli, ["--db", db_url, "users", "add", "Crí", "--role", "observer"])
    assert out.exit_code == 1 and "looks too much like the existing user “cri”" in out.output


def where(client: str) -> dict[str, str]:
    # (a keyword the library had not before the per-address delays)
    return {"client": client} if hasattr(users, "FREE_FAILURES") else {}


def test_enable_on_the_web_lifts_the_sign_in_delay_of_an_enabled_account(people):
    """Before, "Enable" on an active but locked account said it worked and left the lock."""
    store, passwords = people
    for _ in range(5):  # users.FREE_FAILURES (before: locked the account)
        with pytest.raises(AuthError):
            users.authenticate(store, "cri", "a wrong guess!", **where("203.0.113.9"))
    c = signed_in(store, "sec", passwords["sec"])
    page = BeautifulSoup(c.get("/users").text, "html.parser")
    row = page.select_one("tr[data-username=cri]")
    assert "sign-in delayed after failed attempts" in row.text
    assert row.select_one("form[action='/users/cri/unlock']")
    token = csrf_of(c, "/users")
    r = c.post("/users/cri/enable", data={"csrf": token})
    assert r.status_code == 200 and "The sign-in delays of cri are lifted." in r.text
    assert not users.get_user(store, "cri").locked()
    assert users.authenticate(store, "cri", passwords["cri"], **where("203.0.113.9"))
    r = c.post("/users/cri/unlock?lang=es", data={"csrf": token})
    assert "cri está activada y no tenía ninguna demora" in r.text
    assert events(store, action="user.unlock") == [("sec", "user.unlock", "user cri")]
