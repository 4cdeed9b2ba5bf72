"""The review queue and the GCM pages in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

import webclient
from rcm import review
from rcm.store import schema as t
from rcm.suggest import label_compendium
from rcm.suggest.curated import curated_objectives
from sample_declarations import odd_spanish_declaration
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


def test_a_refused_upload_is_explained_in_the_readers_language(site):
    store, passwords = site
    c = client_for(store, passwords, "sec")
    token = csrf_of(c, "/review")
    other = DATA / "own" / "otro_organismo_es.txt"
    data = {"csrf": token, "meeting": "XXX", "year": "2030"}
    files = {"file": (other.name, other.read_bytes(), "text/plain")}
    r = c.post("/review/declarations?lang=es", data=data, files=files)
    assert r.status_code == 422
    alert = BeautifulSoup(r.text, "html.parser").select_one(".error[role=alert]")
    assert alert is not None
    said = alert.get_text(" ", strip=True)
    assert "otro_organismo_es.txt" in said and "declaración de otro organismo" in said
    assert "se esperaba una declaración de la CRM" in said and "another body" not in said
    r = c.post("/review/declarations?lang=en", data=data, files=files)
    assert "declaration of another body" in r.text
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


def test_the_declaration_as_read_line_by_line(site, tmp_path):
    store, passwords = site
    c = client_for(store, passwords, "sec")
    token = csrf_of(c, "/review")
    path = odd_spanish_declaration(tmp_path / "xxii_es.txt")
    assert upload(c, token, path=path).status_code == 303
    lines = path.read_text(encoding="utf-8").splitlines()
    d = review.declaration_record(store, 1)
    queued = {p.id: p for p in review.proposals(store, declaration_id=1)}
    page = BeautifulSoup(c.get("/review?declaration=1").text, "html.parser")
    rows = page.select("section.reading ol.reading > li")
    assert d.reading is not None and len(rows) == len(d.reading) == 23
    seen = []
    for row in rows:
        first = int(row.select_one(".read-line").text.split()[1].split("–")[0])
        shown = row.select_one(".read-text").text
        # each paragraph at the line of the file where it starts, in the file's order
        assert shown.startswith(lines[first - 1].strip()[:40]), (first, shown)
        assert row.select_one(".read-text")["lang"] == "es"
        seen.append((first, row.select_one(".read-kind").text.strip()))
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)
    kinds = dict(seen)
    assert kinds[1] == "Title" and kinds[5] == "Preamble" and kinds[19] == "Chapeau"
    assert kinds[9] == "Unrecognised" and kinds[31] == "Heading (not a statement)"
    assert kinds[23] == "Statement 2" and kinds[28] == "Item of statement 4"
    assert kinds[43] == "Closing"
    unread = next(r for r in rows if "Texto sujeto a revisión" in r.text)
    assert "read-unrecognised" in unread["class"]
    # a statement: its lines (a list's to its last item), the proposal it is and its suggestion
    statements = [r for r in rows if "read-statement" in r["class"]]
    assert len(statements) == len(d.read_as) == 7
    instruct = next(r for r in statements if "Instruir" in r.text)
    assert instruct.select_one(".read-line").text == "line 27–29"
    for number, row in enumerate(statements, 1):
        pid = d.read_as[number]
        assert row.select_one(f'a[href="/review/{pid}"]')
        category = queued[pid].suggested_category
        assert row.select_one(".suggested-category").text == category
    # in Spanish
    es = BeautifulSoup(c.get("/review?declaration=1&lang=es").text, "html.parser")
    kinds_es = [k.text.strip() for k in es.select("ol.reading .read-kind")]
    assert kinds_es[0] == "Título" and "Disposición 2" in kinds_es and "No reconocido" in kinds_es
    assert "Inciso de la disposición 4" in kinds_es and "Cierre" in kinds_es
    assert es.select_one("ol.reading .read-line").text == "línea 1"
    assert es.select_one("section.reading h3").text == "Tal como se leyó, línea por línea"


def test_a_declaration_added_before_the_reading_was_kept(site):
    store, passwords = site
    c = client_for(store, passwords, "sec")
    assert upload(c, csrf_of(c, "/review")).status_code == 303
    with store.transaction() as conn:
        conn.execute(update(t.declarations).values(reading=None))
    assert review.declaration_record(store, 1).reading is None
    page = BeautifulSoup(c.get("/review?declaration=1").text, "html.parser")
    assert not page.select("ol.reading")
    assert "its reading cannot be shown" in page.select_one("section.declaration").text
    assert page.select("ol.preamble > li")  # the rest of the page as before


@pytest.mark.parametrize("name", ["xxii_rcm_en.txt", "xxii_rcm_es.txt"])
def test_the_evidence_is_words_of_the_text_and_reject_stands_apart(site, name):
    """The words that weighed most are shown as the statement has them ("smuggling migrants"),
    not as the models' stems ("smuggl migrant"): each is a run of words of the text the models
    read (a Spanish text's English gloss). Reject does not look like Accept."""
    from rcm.suggest.lang import prepare

    store, passwords = site
    c = client_for(store, passwords, "sec")
    assert upload(c, csrf_of(c, "/review"), path=DATA / name).status_code == 303
    shown = 0
    for p in review.proposals(store, declaration_id=1):
        read = " ".join(prepare(p.text, p.lang).split())
        page = BeautifulSoup(c.get(f"/review/{p.id}").text, "html.parser")
        category = page.select_one(".suggested-category").get_text(" ")
        if "weighed most" in category:
            words = category.split("weighed most:")[1].split(",")
            for w in (w.strip() for w in words):
                assert w and w in read, (w, read)  # the text's own words, not stems
                shown += 1
        reject = page.select_one("form.reject button")
        accept = page.select_one("form.accept button")
        assert "warning" in reject.get("class", []) and "warning" not in accept.get("class", [])
    assert shown > 5
