"""The review queue and the GCM pages in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import webclient
from rcm import review
from rcm.store import schema as t
from rcm.suggest import label_compendium
from rcm.suggest.curated import curated_objectives
from webclient import add_people, csrf_of

DATA = Path(__file__).parent / "data" / "declarations"


@pytest.fixture
def site(store, compendium):
    store.ingest(label_compendium(compendium))
    passwords = add_people(store, "sec", "cri", "obs")
    return store, passwords


def client_for(store, passwords=None, who=None) -> TestClient:
    return webclient.client_for(store, passwords, who, next="/review")


def upload(c, token, path=DATA / "xxii_rcm_en.txt", **fields):
    data = {"csrf": token, "meeting": "XXII", "year": "2017", **fields}
    return c.post(
        "/review/declarations",
        data=data,
        files={"file": (path.name, path.read_bytes(), "text/plain")},
    )


def count(store, table):
    with store.connection() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_only_the_secretariat_reviews(site):
    store, passwords = site
    assert client_for(store).get("/review").status_code == 401
    for who in ("cri", "obs"):
        c = client_for(store, passwords, who)
        assert c.get("/review").status_code == 403
        assert c.get("/review/1").status_code == 403
        token = csrf_of(c, "/rounds")
        assert upload(c, token).status_code == 403
        assert c.post("/review/1/accept", data={"csrf": token}).status_code == 403
        assert c.post("/review/1/reject", data={"csrf": token, "reason": "x"}).status_code == 403
        assert c.post("/review/1/reopen", data={"csrf": token, "reason": "x"}).status_code == 403
    assert count(store, t.declarations) == 0


def test_upload_review_accept_and_reject(site):
    store, passwords = site
    c = client_for(store, passwords, "sec")
    token = csrf_of(c, "/review")
    assert upload(c, "forged").status_code == 403  # CSRF
    r = upload(c, token, place="San Salvador")
    assert r.status_code == 303 and r.headers["location"] == "/review?declaration=1"
    page = BeautifulSoup(c.get("/review?declaration=1").text, "html.parser")
    rows = page.select("table.proposals tbody tr")
    queued = review.proposals(store, declaration_id=1)
    assert len(rows) == len(queued) > 5
    assert "XXII RCM" in page.select_one("table.declarations").text

    first = queued[0]
    detail = BeautifulSoup(c.get(f"/review/{first.id}").text, "html.parser")
    assert detail.select_one("textarea[name=text]").text == first.text
    assert detail.select_one("select[name=category] option[selected]")["value"] == (
        first.suggested_category
    )
    checked = {x["value"] for x in detail.select("input[name=place][checked]")}
    assert checked == {f"{a}.{b}" for a, b in first.suggested_placements}
    assert detail.select_one(".suggested-category").text.strip()
    # accept with one change of category and the suggested places
    r = c.post(
        f"/review/{first.id}/accept",
        data={
            "csrf": token,
            "text": first.text,
            "category": "principle",
            "place": sorted(checked),
            "objective": ["23"],
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/review/{queued[1].id}"
    done = review.proposal(store, first.id)
    assert done.state == "accepted" and done.decided_by == "sec"
    statement, _ = store.statement(done.statement_id)
    assert statement.category.value == "principle"
    page = c.get(f"/statements/{done.statement_id}").text
    assert "XXII RCM" in page and "/gcm/23" in page
    # a bad placement comes back as a message on the same page; nothing written
    r = c.post(
        f"/review/{queued[1].id}/accept",
        data={"csrf": token, "text": queued[1].text, "category": "commitment", "place": "9.9"},
    )
    assert r.status_code == 400 and "no sub-theme 9.9" in r.text
    assert review.proposal(store, queued[1].id).state == "pending"
    r = c.post(f"/review/{queued[1].id}/accept", data={"csrf": token, "text": queued[1].text})
    assert r.status_code == 400 and "at least one sub-theme" in r.text
    # reject
    r = c.post(f"/review/{queued[1].id}/reject", data={"csrf": token, "reason": ""})
    assert r.status_code == 400
    r = c.post(f"/review/{queued[1].id}/reject", data={"csrf": token, "reason": "not operative"})
    assert r.status_code == 303
    assert review.proposal(store, queued[1].id).state == "rejected"
    # deciding twice is a conflict
    r = c.post(f"/review/{queued[1].id}/reject", data={"csrf": token, "reason": "again"})
    assert r.status_code == 409 and "already rejected" in r.text
    # a rejection can be undone, saying why: the proposal is pending again
    page = c.get(f"/review/{queued[1].id}").text
    assert f'action="/review/{queued[1].id}/reopen"' in page
    r = c.post(f"/review/{queued[1].id}/reopen", data={"csrf": token, "reason": ""})
    assert r.status_code == 400 and "say why" in r.text
    r = c.post(f"/review/{queued[1].id}/reopen", data={"csrf": token, "reason": "operative"})
    assert r.status_code == 303 and r.headers["location"] == f"/review/{queued[1].id}"
    assert review.proposal(store, queued[1].id).state == "pending"
    assert f'action="/review/{queued[1].id}/reopen"' not in c.get(f"/review/{queued[1].id}").text
    r = c.post(f"/review/{queued[1].id}/reopen", data={"csrf": token, "reason": "twice"})
    assert r.status_code == 409 and "only a rejected proposal" in r.text


@pytest.mark.parametrize(
    ("fields", "path", "status", "message"),
    [
        ({"meeting": "XXI", "year": "2016"}, None, 409, "already exists in the compendium"),
        ({"year": "soon"}, None, 400, "year of the meeting"),
        ({}, DATA / "not_a_declaration.txt", 422, "not_a_declaration.txt"),
        ({}, DATA / "README.md", 400, "must be a .txt or .docx"),
    ],
)
def test_bad_uploads_add_nothing(site, fields, path, status, message):
    store, passwords = site
    c = client_for(store, passwords, "sec")
    token = csrf_of(c, "/review")
    r = upload(c, token, **({"path": path} if path else {}), **fields)
    assert r.status_code == status and message in r.text
    assert BeautifulSoup(r.text, "html.parser").select_one(".error[role=alert]")
    assert count(store, t.declarations) == 0 and count(store, t.proposals) == 0


def test_the_coverage_matrix_page(site):
    store, _ = site
    c = client_for(store)
    soup = BeautifulSoup(c.get("/gcm").text, "html.parser")
    rows = soup.select("table.coverage tbody tr")
    assert len(rows) == 23
    links = curated_objectives()
    serving_10 = {sid for sid, objs in links.items() if 10 in objs}
    row10 = rows[9]
    assert row10.select("td")[-1].text.strip() == str(len(serving_10))
    data = c.get("/api/gcm").json()
    assert data["statements_linked"] == sum(1 for v in links.values() if v)
    assert set(data["uncovered"]) == {8, 15, 20, 22}
    assert c.get("/api/gcm?source=curated").json() == data | {"source": "curated"}
    assert c.get("/api/gcm?source=nonsense").status_code == 400
    one = c.get("/api/gcm/10").json()
    assert {s["id"] for s in one["statements"]} == serving_10
    assert one["curated"] == len(serving_10)
    page = BeautifulSoup(c.get("/gcm/10").text, "html.parser")
    assert len(page.select("ol.statements > li")) == len(serving_10)
    assert c.get("/gcm/24").status_code == 404
    assert c.get("/api/gcm/0").status_code == 404
    es = c.get("/gcm?lang=es").text
    assert "Objetivos del Pacto Mundial" in es
