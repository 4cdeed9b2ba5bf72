"""Correcting the review queue on the web (the Secretariat's pages), on SQLite and PostgreSQL:
preamble and closing numbered apart, promote, split, merge, add by hand, withdraw, replace."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

import webclient
from rcm import review
from rcm.store import schema as t
from rcm.suggest import label_compendium
from webclient import add_people, csrf_of

DATA = Path(__file__).parent / "data" / "declarations"
XXII = DATA / "xxii_rcm_en.txt"


@pytest.fixture
def site(store, compendium):
    store.ingest(label_compendium(compendium))
    passwords = add_people(store, "sec", "cri", "obs")
    return store, passwords


def client_for(store, passwords=None, who=None):
    return webclient.client_for(store, passwords, who, next="/review")


def upload(c, token, data: bytes, name="xxii_rcm_en.txt", url="/review/declarations", **fields):
    return c.post(
        url,
        data={"csrf": token, "meeting": "XXII", "year": "2017", **fields},
        files={"file": (name, data, "text/plain")},
    )


def state_of(store):
    with store.connection() as conn:
        return (
            [tuple(r) for r in conn.execute(select(t.proposals).order_by(t.proposals.c.id))],
            [tuple(r) for r in conn.execute(select(t.declarations).order_by(t.declarations.c.id))],
            conn.scalar(select(func.count()).select_from(t.audit_events)),
        )


def page(c, url):
    r = c.get(url)
    assert r.status_code == 200, r.text
    return BeautifulSoup(r.text, "html.parser")


@pytest.fixture
def signed_in(site):
    store, passwords = site
    c = client_for(store, passwords, "sec")
    token = csrf_of(c, "/review")
    assert upload(c, token, XXII.read_bytes()).status_code == 303
    return store, c, token


def test_the_declaration_page_numbers_preamble_and_closing_and_promotes(signed_in):
    store, c, token = signed_in
    d = review.declaration_record(store, 1)
    soup = page(c, "/review?declaration=1")
    preamble = soup.select("ol.preamble > li")
    closing = soup.select("ol.closing > li")
    assert [li.span.text for li in preamble] == list(d.preamble)
    assert [li.span.text for li in closing] == list(d.closing)
    assert preamble[1]["id"] == "preamble-2"
    form = preamble[1].select_one("form.promote")
    assert form["action"] == "/review/declarations/1/promote"
    r = c.post(form["action"], data={"csrf": token, "part": "preamble", "number": "2"})
    assert r.status_code == 303
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    p = review.proposal(store, pid)
    assert (p.text, p.origin, p.position) == (d.preamble[1], "preamble 2", 1)
    soup = page(c, "/review?declaration=1")
    assert soup.select_one("#preamble-2 .promoted a")["href"] == f"/review/{pid}"
    assert "promoted from the preamble" in page(c, f"/review/{pid}").text
    # twice, or a paragraph that is not there: the message on the page, nothing written
    before = state_of(store)
    r = c.post(form["action"], data={"csrf": token, "part": "preamble", "number": "2"})
    assert r.status_code == 409 and "already promoted" in r.text
    assert BeautifulSoup(r.text, "html.parser").select_one(".error[role=alert]")
    r = c.post(form["action"], data={"csrf": token, "part": "closing", "number": "9"})
    assert r.status_code == 400 and "not 9" in r.text
    r = c.post(form["action"], data={"csrf": token, "part": "closing", "number": "x"})
    assert r.status_code == 400 and "Choose the paragraph" in r.text
    assert c.post(form["action"], data={"csrf": "forged", "part": "closing"}).status_code == 403
    assert state_of(store) == before
    es = c.get("/review?declaration=1&lang=es").text
    assert "Preámbulo (aparte)" in es and "Convertirlo en una disposición para revisar" in es


def test_split_and_merge_on_the_proposal_page(signed_in):
    store, c, token = signed_in
    listed = next(p for p in review.proposals(store, declaration_id=1) if len(p.items) == 3)
    soup = page(c, f"/review/{listed.id}")
    assert [li.text.strip() for li in soup.select("ol.split-points li")] == list(listed.items)
    r = c.post(f"/review/{listed.id}/split", data={"csrf": token, "sentence": "3"})
    assert r.status_code == 303 and r.headers["location"] == f"/review/{listed.id}"
    after = review.proposals(store, declaration_id=1)
    a = next(p for p in after if p.id == listed.id)
    b = next(p for p in after if p.position == a.position + 1)
    assert a.items == listed.items[:2] and b.items == listed.items[2:]
    r = c.post(f"/review/{a.id}/merge", data={"csrf": token})
    assert r.status_code == 303
    assert review.proposal(store, a.id).items == listed.items
    before = state_of(store)
    # not a boundary, the last proposal, a decided one: messages, nothing written
    r = c.post(f"/review/{a.id}/split", data={"csrf": token, "at": "compilation of the RCM"})
    assert r.status_code == 400 and "not where one of its items starts" in r.text
    last = review.proposals(store, declaration_id=1)[-1]
    r = c.post(f"/review/{last.id}/merge", data={"csrf": token})
    assert r.status_code == 400 and "is the last of declaration 1" in r.text
    assert state_of(store) == before
    review.reject_proposal(store, a.id, actor="sec", reason="no")
    before = state_of(store)
    r = c.post(f"/review/{a.id}/merge", data={"csrf": token})
    assert r.status_code == 409 and "only a pending proposal" in r.text
    assert state_of(store) == before
    assert c.post(f"/review/{a.id}/split", data={"csrf": "x"}).status_code == 403


def test_add_withdraw_and_replace(signed_in):
    store, c, token = signed_in
    r = c.post(
        "/review/declarations/1/add",
        data={"csrf": token, "text": "We agree to meet again in Tegucigalpa in 2018."},
    )
    assert r.status_code == 303
    added = review.proposal(store, int(r.headers["location"].rsplit("/", 1)[1]))
    assert added.origin == "hand" and added.state == "pending"
    assert "added by hand" in page(c, f"/review/{added.id}").text
    r = c.post("/review/declarations/1/add", data={"csrf": token, "text": "  "})
    assert r.status_code == 400 and "cannot be empty" in r.text
    first = review.proposals(store, declaration_id=1)[0]
    sid = review.accept_proposal(store, first.id, actor="sec").statement_id
    # replace by the same file: refused; by a corrected one: the same meeting, linked
    before = state_of(store)
    r = upload(c, token, XXII.read_bytes(), url="/review/declarations/1/replace")
    assert r.status_code == 409 and "same file as declaration 1" in r.text
    r = upload(c, token, b"", url="/review/declarations/1/replace")
    assert r.status_code == 422
    assert state_of(store) == before
    corrected = XXII.read_bytes().replace(b"excellent organization", b"organization")
    r = upload(c, token, corrected, name="corrected.txt", url="/review/declarations/1/replace")
    assert r.status_code == 303 and r.headers["location"] == "/review?declaration=2"
    new = review.declaration_record(store, 2)
    assert (new.meeting.code, new.meeting.label) == ("XXII", "XXII RCM")
    fresh = review.proposals(store, declaration_id=2)
    assert [p.statement_id for p in fresh if p.state == "accepted"] == [sid]
    soup = page(c, "/review?declaration=1")
    assert "Replaced by a corrected file" in soup.text
    assert not soup.select("form.withdraw-declaration, form.promote, form.add-statement")
    # withdraw the corrected one: pending rejected, the accepted statement stays
    r = c.post("/review/declarations/2/withdraw", data={"csrf": token, "reason": ""})
    assert r.status_code == 400 and "say why" in r.text
    r = c.post("/review/declarations/2/withdraw", data={"csrf": token, "reason": "wrong"})
    assert r.status_code == 303
    assert {p.state for p in review.proposals(store, declaration_id=2)} == {"accepted", "rejected"}
    assert store.statement(sid)[0].id == sid
    before = state_of(store)
    r = c.post("/review/declarations/2/withdraw", data={"csrf": token, "reason": "again"})
    assert r.status_code == 409 and "was withdrawn by sec" in r.text
    assert state_of(store) == before
    assert (
        c.post("/review/declarations/9/withdraw", data={"csrf": token, "reason": "x"}).status_code
        == 404
    )


def test_only_the_secretariat_corrects(site):
    store, passwords = site
    sec = client_for(store, passwords, "sec")
    assert upload(sec, csrf_of(sec, "/review"), XXII.read_bytes()).status_code == 303
    before = state_of(store)
    for who in ("cri", "obs"):
        c = client_for(store, passwords, who)
        token = csrf_of(c, "/rounds")
        for url, data in (
            ("/review/declarations/1/promote", {"part": "preamble", "number": "1"}),
            ("/review/declarations/1/add", {"text": "x"}),
            ("/review/declarations/1/withdraw", {"reason": "x"}),
            ("/review/1/split", {"sentence": "2"}),
            ("/review/1/merge", {}),
        ):
            assert c.post(url, data={"csrf": token, **data}).status_code == 403
        r = upload(c, token, b"x", url="/review/declarations/1/replace")
        assert r.status_code == 403
    assert state_of(store) == before
