"""Invitations and reminders by e-mail (rcm.mail), against a real SMTP server on 127.0.0.1
(aiosmtpd), whose messages are read back: recipients, language, subject, link, the attached
questionnaire; on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import io
import json
import socket
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from rcm import clock, consult, mail, users
from rcm.errors import ConflictError
from rcm.search import theme_filter
from rcm.settings import MailSettings
from rcm.store import Store
from rcm.store import schema as t
from rcm.suggest import label_compendium
from rcm.users import Forbidden

PUBLIC = "https://rcm.example.org"


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """aiosmtpd's Controller on one port, which can be stopped and started again."""

    def __init__(self, inbox: Inbox, port: int) -> None:
        self.inbox, self.port = inbox, port
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    """A real SMTP server on a free port of 127.0.0.1, and the settings that reach it."""
    inbox = Inbox()
    port = free_port()
    controller = Server(inbox, port)
    controller.start()
    config = MailSettings(
        host="127.0.0.1",
        port=port,
        user="",
        password="",
        starttls=False,
        ssl=False,
        sender="RCM Technical Secretariat <rcm@example.org>",
        public_url=PUBLIC,
        timeout=5,
    )
    try:
        yield inbox, config, controller
    finally:
        controller.stop()


def down(config: MailSettings) -> MailSettings:
    """Settings for a port where nothing listens."""
    return MailSettings(**{**config.__dict__, "port": free_port()})


# The focal points: two Spanish-speaking countries, one English-speaking, one without an address,
# one disabled.
PEOPLE = [
    ("ana", "CRI", "ana@cr.example.org", "Ana Solís"),
    ("beto", "CRI", "beto@cr.example.org", "Beto Mora"),
    ("carl", "CAN", "carl@ca.example.org", "Carl Smith"),
    ("maria", "MEX", None, "María López"),
    ("gone", "GTM", "gone@gt.example.org", "Gone"),
]


@pytest.fixture
def site(store: Store, compendium):
    store.ingest(label_compendium(compendium))
    users.add_user(store, "sec", "secretariat", email="sec@example.org")
    for name, country, address, full in PEOPLE:
        users.add_user(store, name, "focal_point", country=country, email=address, name=full)
    users.disable_user(store, "gone")
    rnd = consult.open_round(
        store, "Still valid? TS6", filters=[theme_filter([6])], deadline="2099-06-30", actor="sec"
    )
    return store, rnd


def log_rows(store: Store, kind: str | None = None) -> list[dict]:
    rows = mail.mail_log(store)
    return [r for r in rows if kind is None or r["kind"] == kind]


def audit_actions(store: Store) -> list[str]:
    with store.connection() as conn:
        return list(conn.scalars(select(t.audit_events.c.action).order_by(t.audit_events.c.id)))


def test_invitations_in_each_language_with_link_and_questionnaire(site, smtp):
    store, rnd = site
    inbox, config, _ = smtp
    report = mail.invite(store, rnd.id, actor="sec", config=config)
    assert (report.sent, report.failed, report.not_sent) == (3, 0, 1)
    assert report.reasons == ["the account has no e-mail address"]
    # one message per active focal point with an address, to that address only
    assert sorted(r[0] for rcpt, _ in inbox.received for r in [rcpt]) == [
        "ana@cr.example.org",
        "beto@cr.example.org",
        "carl@ca.example.org",
    ]
    assert not inbox.to("gone@gt.example.org")
    spanish = inbox.to("ana@cr.example.org")[0]
    english = inbox.to("carl@ca.example.org")[0]
    assert spanish["Content-Language"] == "es" and english["Content-Language"] == "en"
    assert spanish["Subject"].startswith("Consulta de la CRM «Still valid? TS6»")
    assert "Costa Rica" in spanish["Subject"]
    assert english["Subject"] == (
        "RCM consultation “Still valid? TS6”: Canada's answers are requested"
    )
    assert spanish["To"].addresses[0].display_name == "Ana Solís"
    assert spanish["From"].addresses[0].addr_spec == "rcm@example.org"
    body_es = spanish.get_body(("plain",)).get_content()
    body_en = english.get_body(("plain",)).get_content()
    link = f"{PUBLIC}/rounds/{rnd.id}/answers"
    assert link in body_es and link in body_en
    assert "Estimado/a Ana Solís:" in body_es and "sigue vigente para Costa Rica" in body_es
    assert f"{rnd.statements} statements" in body_en and "2099-06-30" in body_en
    assert "days left" in body_en and "quedan" in body_es
    # the attachment is the country's own, valid questionnaire: it reads back, signed for CRI
    (part,) = list(spanish.iter_attachments())
    assert part.get_filename() == f"rcm-round-{rnd.id}-CRI.xlsx"
    data = part.get_content()
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    assert "TS6" in wb.sheetnames
    rows = [
        row
        for ws in wb.worksheets
        if ws.title != "signature"
        for row in ws.iter_rows(min_row=2, values_only=True)
    ]
    in_round = {s["id"] for s in consult.round_status(store, rnd.id)["statements"]}
    assert {r[0] for r in rows} == in_round
    assert wb["signature"]["B2"].value == "CRI"
    # and the import takes it back (nothing answered yet: all blank)
    result = consult.import_questionnaire(store, rnd.id, data, "back.xlsx", author="sec")
    assert (result.country, result.written, result.blank) == ("CRI", 0, len(rows))
    # logged and audited
    states = {r["username"]: r["state"] for r in log_rows(store)}
    assert states == {"ana": "sent", "beto": "sent", "carl": "sent", "maria": "not sent"}
    actions = audit_actions(store)
    assert actions.count("mail.sent") == 3 and "mail.invitation" in actions


def test_a_second_invite_sends_only_to_those_not_yet_invited(site, smtp):
    store, rnd = site
    inbox, config, _ = smtp
    mail.invite(store, rnd.id, actor="sec", config=config)
    users.set_email(store, "maria", "maria@mx.example.org", actor="sec")
    report = mail.invite(store, rnd.id, actor="sec", config=config)
    assert report.sent == 1 and sorted(report.skipped) == ["ana", "beto", "carl"]
    assert inbox.to("maria@mx.example.org")[0]["Content-Language"] == "es"
    assert len(inbox.received) == 4
    forced = mail.invite(store, rnd.id, actor="sec", config=config, force=True)
    assert forced.sent == 4 and len(inbox.received) == 8


def test_reminders_only_to_unfinished_countries_with_their_progress(site, smtp):
    store, rnd = site
    inbox, config, _ = smtp
    ids = [s["id"] for s in consult.round_status(store, rnd.id)["statements"]]
    for sid in ids:  # Canada answers everything
        consult.set_opinion(store, rnd.id, "CAN", sid, "valid", author="sec")
    consult.set_opinion(store, rnd.id, "CRI", ids[0], "valid", author="sec")
    report = mail.remind(store, rnd.id, actor="sec", config=config)
    assert report.sent == 2 and report.not_sent == 1  # ana, beto; maria has no address
    assert not inbox.to("carl@ca.example.org")
    message = inbox.to("beto@cr.example.org")[0]
    assert message["Subject"] == (
        f"Recordatorio: consulta de la CRM «Still valid? TS6», 1 de {len(ids)} respondidas"
    )
    body = message.get_body(("plain",)).get_content()
    assert f"Costa Rica ha respondido 1 de las {len(ids)} declaraciones" in body
    assert "quedan" in body and f"{PUBLIC}/rounds/{rnd.id}/answers" in body
    assert not list(message.iter_attachments())
    # no second reminder to the same people within the hours…
    again = mail.remind(store, rnd.id, actor="sec", config=config)
    assert again.sent == 0 and sorted(again.skipped) == ["ana", "beto"]
    # …unless forced, or once they have passed
    assert mail.remind(store, rnd.id, actor="sec", config=config, force=True).sent == 2
    later = mail.remind(store, rnd.id, actor="sec", config=config, again_after=timedelta(0))
    assert later.sent == 2
    assert len(inbox.received) == 6
    assert "mail.reminder" in audit_actions(store)


def test_server_down_the_round_stays_open_and_a_retry_sends_later(site, smtp):
    store, rnd = site
    inbox, config, _ = smtp
    report = mail.invite(store, rnd.id, actor="sec", config=down(config))
    assert (report.sent, report.failed) == (0, 3)
    assert consult.get_round(store, rnd.id).state == "open"
    failed = [r for r in log_rows(store) if r["state"] == "failed"]
    assert len(failed) == 3 and all(r["attempts"] == 1 for r in failed)
    assert all("ConnectionRefusedError" in r["error"] for r in failed)
    assert "mail.failed" in audit_actions(store)
    # not due yet: the retry waits for the backoff
    early = mail.deliver_due(store, actor="sec", config=config)
    assert early.sent == 0 and not inbox.received
    # once due, the retry sends them
    later = clock.now() + mail.BACKOFF[0] + timedelta(seconds=1)
    retried = mail.deliver_due(store, actor="sec", config=config, now=later)
    assert retried.sent == 3 and len(inbox.received) == 3
    assert {r["state"] for r in log_rows(store) if r["recipient"]} == {"sent"}
    assert all(r["attempts"] == 2 for r in log_rows(store) if r["recipient"])


def test_retries_are_bounded(site, smtp):
    store, rnd = site
    _, config, _ = smtp
    broken = down(config)
    mail.invite(store, rnd.id, actor="sec", config=broken)
    when = clock.now()
    for wait in mail.BACKOFF:
        when += wait + timedelta(seconds=1)
        mail.deliver_due(store, actor="sec", config=broken, now=when)
    rows = [r for r in log_rows(store) if r["recipient"]]
    assert {(r["state"], r["attempts"]) for r in rows} == {("gave up", mail.MAX_ATTEMPTS)}
    final = mail.deliver_due(store, actor="sec", config=config, now=when + timedelta(days=1))
    assert final.sent == 0  # given up for good; `rcm round invite` may invite them anew
    assert mail.invite(store, rnd.id, actor="sec", config=config).sent == 3


def test_at_most_limit_messages_a_run(site, smtp):
    store, rnd = site
    inbox, config, _ = smtp
    report = mail.invite(store, rnd.id, actor="sec", config=config, limit=2)
    assert (report.sent, report.left) == (2, 1)
    assert mail.deliver_due(store, actor="sec", config=config).sent == 1
    assert len(inbox.received) == 3


def test_without_smtp_settings_or_with_no_mail_nothing_is_sent_and_that_is_recorded(site, smtp):
    store, rnd = site
    inbox, config, _ = smtp
    report = mail.invite(store, rnd.id, actor="sec", config=None)
    assert report.sent == 0 and report.not_sent == 4
    assert mail.NOT_CONFIGURED in report.reasons
    assert {r["state"] for r in log_rows(store)} == {"not sent"}
    other = consult.open_round(store, "TS1", filters=[theme_filter([1])], actor="sec")
    quiet = mail.invite(store, other.id, actor="sec", config=config, send=False)
    assert quiet.sent == 0 and any("--no-mail" in r for r in quiet.reasons)
    assert not inbox.received
    # sent later, once asked
    assert mail.invite(store, other.id, actor="sec", config=config).sent == 3


def test_only_the_secretariat_sends_and_only_for_open_rounds(site, smtp):
    store, rnd = site
    _, config, _ = smtp
    with pytest.raises(Forbidden):
        mail.remind(store, rnd.id, actor=users.get_user(store, "ana"), config=config)
    consult.close_round(store, rnd.id, "sec")
    with pytest.raises(ConflictError):
        mail.invite(store, rnd.id, actor="sec", config=config)


def test_titles_and_names_cannot_inject_headers(store, compendium, smtp):
    store.ingest(label_compendium(compendium))
    inbox, config, _ = smtp
    users.add_user(
        store,
        "eve",
        "focal_point",
        country="CAN",
        email="eve@ca.example.org",
        name="Eve\r\nBcc: spy@evil.example",
    )
    rnd = consult.open_round(
        store,
        "Round\r\nBcc: spy@evil.example\r\nX-Evil: 1",
        filters=[theme_filter([6])],
        actor="sec",
    )
    assert mail.invite(store, rnd.id, actor="sec", config=config).sent == 1
    ((rcpt, message),) = inbox.received
    assert rcpt == ["eve@ca.example.org"]
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in message["Subject"] and "Bcc: spy@evil.example" in message["Subject"]
    assert message["To"].addresses[0].addr_spec == "eve@ca.example.org"
    with pytest.raises(consult.RcmError):
        users.set_email(store, "eve", "eve@ca.example.org\r\nBcc: spy@evil.example")


def test_language_is_one_function():
    def person(country: str | None) -> users.User:
        role = users.Role.FOCAL_POINT if country else users.Role.SECRETARIAT
        return users.User(1, "x", "x", role, country, True)

    assert [mail.language_for(person(c)) for c in ("BLZ", "CAN", "USA")] == ["en"] * 3
    spanish = [c.iso3 for c in consult.taxonomy.countries() if c.iso3 not in mail.ENGLISH_SPEAKING]
    assert {mail.language_for(person(c)) for c in spanish} == {"es"}
    assert mail.language_for(person(None)) == "en"


def test_the_log_never_holds_the_password(site, smtp, caplog):
    store, rnd = site
    _, config, _ = smtp
    secret = "Sup3r-Secret-Pw!"
    broken = MailSettings(**{**down(config).__dict__, "user": "rcm", "password": secret})
    assert secret not in repr(broken)
    mail.invite(store, rnd.id, actor="sec", config=broken)
    assert secret not in caplog.text
    with store.connection() as conn:
        trail = json.dumps([list(r) for r in conn.execute(select(t.audit_events))], default=str)
        logged = json.dumps(mail.mail_log(store), default=str)
    assert secret not in trail and secret not in logged


# --- the adapters: the CLI and the web -----------------------------------------------------------


def test_cli_opens_invites_reminds_retries_and_logs(site, smtp, monkeypatch, db_url):
    from click.testing import CliRunner

    from rcm import settings
    from rcm.cli import cli

    store, _ = site
    inbox, config, controller = smtp
    monkeypatch.setenv("RCM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RCM_SMTP_PORT", str(config.port))
    monkeypatch.setenv("RCM_SMTP_STARTTLS", "off")
    monkeypatch.setenv("RCM_MAIL_FROM", "RCM <rcm@example.org>")
    monkeypatch.setenv("RCM_PUBLIC_URL", PUBLIC)
    settings.current.cache_clear()
    try:
        runner = CliRunner()

        def rcm(*args: str):
            result = runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)
            return result

        opened = rcm("round", "open", "TS1 by mail", "--theme", "TS1", "--deadline", "2099-01-31")
        assert opened.exit_code == 0, opened.output
        round_id = int(opened.output.strip().splitlines()[-1])
        assert "invitations: 3 sent; 1 not sent" in opened.output
        assert "no e-mail address" in opened.output
        assert len(inbox.received) == 3
        quiet = rcm("round", "open", "No mail", "--theme", "TS2", "--no-mail")
        assert quiet.exit_code == 0 and "--no-mail" in quiet.output and len(inbox.received) == 3
        # reminders, then not again within the hours
        reminded = rcm("round", "remind", str(round_id))
        assert "reminders: 3 sent" in reminded.output and len(inbox.received) == 6
        assert "already reminded recently" in rcm("round", "remind", str(round_id)).output
        # the server goes down: the round opens all the same; `rcm mail retry --now` sends later
        controller.stop()
        down_open = rcm("round", "open", "Down", "--theme", "TS3")
        assert down_open.exit_code == 0 and "3 failed" in down_open.output
        down_id = int(down_open.output.strip().splitlines()[-1])
        assert consult.get_round(store, down_id).state == "open"
        controller.start()
        assert "3 sent" in rcm("mail", "retry", "--now").output
        log = json.loads(rcm("mail", "log", "--round", str(down_id), "--json").output)
        assert {(r["state"], r["attempts"]) for r in log if r["recipient"]} == {("sent", 2)}
        assert "not sent" in rcm("mail", "log").output
        # addresses
        assert (
            "maria@mx.example.org" in rcm("users", "email", "maria", "maria@mx.example.org").output
        )
        assert "1 sent" in rcm("round", "invite", str(round_id)).output
        bad = runner.invoke(cli, ["--db", db_url, "users", "email", "maria", "not an address"])
        assert bad.exit_code != 0 and "not an e-mail address" in bad.output
    finally:
        settings.current.cache_clear()


def test_cli_says_clearly_when_mail_is_not_configured(site, monkeypatch, db_url):
    from click.testing import CliRunner

    from rcm import settings
    from rcm.cli import cli

    monkeypatch.delenv("RCM_SMTP_HOST", raising=False)
    settings.current.cache_clear()
    result = CliRunner().invoke(cli, ["--db", db_url, "round", "open", "T", "--theme", "TS4"])
    settings.current.cache_clear()
    assert result.exit_code == 0, result.output
    assert "0 sent; 4 not sent" in result.output and mail.NOT_CONFIGURED in result.output


def test_web_opening_invites_and_the_secretariat_reminds(site, smtp):
    import dataclasses

    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from rcm import settings
    from rcm.web import create_app
    from webclient import csrf_of, sign_in

    store, rnd = site
    inbox, config, _ = smtp
    _, password = users.add_user(store, "sec2", "secretariat")
    users.reset_password(store, "ana", actor="sec")
    app = create_app(store, dataclasses.replace(settings.load({}), mail=config))
    c = TestClient(app, follow_redirects=False)
    sign_in(c, "sec2", password)
    token = csrf_of(c, "/rounds")
    r = c.post("/rounds", data={"csrf": token, "title": "Web round", "theme": "6"})
    assert r.status_code == 303 and "mail=invitation&sent=3" in r.headers["location"]
    assert len(inbox.received) == 3
    page = BeautifulSoup(c.get(r.headers["location"] + "&lang=es").text, "html.parser")
    notice = page.select_one("p.notice").get_text()
    assert "Invitaciones: 3 enviados" in notice
    form = page.select_one("form.remind")
    assert form is not None
    r = c.post(form["action"], data={"csrf": form.select_one("input[name=csrf]")["value"]})
    assert r.status_code == 303 and "mail=reminder&sent=3" in r.headers["location"]
    assert len(inbox.received) == 6
    # without the CSRF token: refused, nothing sent
    assert c.post(form["action"], data={}).status_code in (400, 403)
    # a focal point sees no button and may not remind
    c2 = TestClient(app, follow_redirects=False)
    sign_in(c2, "cri_fp", users.add_user(store, "cri_fp", "focal_point", country="CRI")[1])
    assert c2.post(f"/rounds/{rnd.id}/remind", data={"csrf": "x"}).status_code in (400, 403)
    assert len(inbox.received) == 6
    # without SMTP settings the page says nothing was sent
    c3 = TestClient(create_app(store, settings.load({})), follow_redirects=False)
    sign_in(c3, "sec2", password)
    r = c3.post(
        form["action"],
        data={
            "csrf": csrf_of(c3, "/rounds"),
        },
    )
    assert "off=1" in r.headers["location"]
    text = c3.get(r.headers["location"]).text
    assert "E-mail is not configured on this server: nothing was sent." in text


def test_a_message_is_taken_by_one_run_only(site):
    """Two runs that read the same due message: the first takes it, the second leaves it."""
    store, rnd = site
    users.set_email(store, "maria", "maria@mx.example.org", actor="sec")
    mail.invite(store, rnd.id, actor="sec", config=None, send=False)
    with store.connection() as conn:
        conn.execute(t.mail_log.update().values(state="pending", error=None))
        conn.commit()
        row = conn.execute(select(t.mail_log).limit(1)).one()
    now = clock.now()
    assert mail._claim(store, row, now) is True
    assert mail._claim(store, row, now) is False
