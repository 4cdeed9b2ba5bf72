"""HTTP caching of the public site (rcm.web.caching, rcm.store.versioning), on SQLite and
PostgreSQL: every kind of write changes the ETag of every public answer, so that no cache can
serve a stale page after it (its revalidation gets the new page); what does not change shown data
(signing in, a failed password, a write rolled back, reading) keeps the ETags; 304 answers carry no
body; nothing signed-in or holding a form's token is ever public."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import insert, select, update

from rcm import clock, consult, edit, review, users
from rcm.store import schema as t
from rcm.store.versioning import UNSHOWN_TABLES
from rcm.suggest import label_compendium
from rcm.web import create_app
from rcm.web.caching import etag_matches
from test_review import declaration
from test_web_edit import edit_form, plain_statement
from webclient import add_people, client_for, csrf_of


@pytest.fixture
def site(store, compendium):
    store.ingest(label_compendium(compendium))
    return store, add_people(store, "sec", "cri")


def public_urls(sid: str) -> list[str]:
    return [
        "/",
        f"/statements/{sid}",
        f"/api/statements/{sid}",
        f"/statements/{sid}/history",
        f"/api/statements/{sid}/history",
        "/search?q=migrants",
        "/api/search?q=migrants&theme=TS5",
        "/search.csv?q=return",
        "/themes",
        "/api/themes/5",
        "/meetings/XIX",
        "/api/about",
        "/gcm",
    ]


def etags(client, urls: list[str]) -> dict[str, str]:
    """Each answer's ETag, checking on the way that it is public, that the ETag revalidates as a
    304 with no body and that a changed If-None-Match gets the page."""
    found = {}
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:200])
        assert r.headers["cache-control"].startswith("public, max-age="), url
        assert "stale-while-revalidate=" in r.headers["cache-control"]
        assert "Cookie" in r.headers["vary"] and "Accept-Language" in r.headers["vary"]
        etag = found[url] = r.headers["etag"]
        assert etag.startswith('W/"')
        again = client.get(url, headers={"If-None-Match": f'"x", {etag}'})
        assert again.status_code == 304 and again.content == b"", url
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == r.headers["cache-control"]
        other = client.get(url, headers={"If-None-Match": 'W/"0-stale"'})
        assert other.status_code == 200 and other.content == r.content, url
    return found


def test_every_kind_of_write_changes_every_etag(site):
    store, passwords = site
    anonymous = client_for(store)
    secretariat = client_for(store, passwords, "sec")
    sid = plain_statement(store)
    urls = public_urls(sid)
    rounds: list[int] = []
    proposals: list[int] = []

    def reword_in_core():
        edit.reword(store, sid, "Cached pages follow this wording.", expected_version=None,
                    actor="sec", origin="test")  # fmt: skip

    def reword_on_the_web():
        form = edit_form(secretariat, sid)
        form["text"] = "A wording saved on the web."
        r = secretariat.post(f"/statements/{sid}/edit", data=form)
        assert r.status_code == 303, r.text

    def open_a_round():
        rounds.append(consult.open_round(store, "Still valid?", actor="sec").id)

    def save_an_opinion():
        consult.set_opinion(store, rounds[0], "CRI", sid, "valid", author="focal:CRI")

    def close_the_round():
        consult.close_round(store, rounds[0], actor="sec")

    def add_a_declaration():
        _, queued = review.add_declaration(
            store, declaration(), meeting="XXII", year=2017, actor="sec"
        )
        proposals.extend(p.id for p in queued)

    def decide_a_proposal():
        review.reject_proposal(store, proposals[0], actor="sec", reason="a duplicate")

    def add_a_person():
        users.add_user(store, "mex", "focal_point", country="MEX")

    def retire():
        edit.retire(
            store, sid, reason="superseded", expected_version=None, actor="sec", origin="test"
        )

    steps = [
        reword_in_core,
        reword_on_the_web,
        open_a_round,
        save_an_opinion,
        close_the_round,
        add_a_declaration,
        decide_a_proposal,
        add_a_person,
        retire,
    ]
    before = etags(anonymous, urls)
    for write in steps:
        version = store.data_version()
        write()
        assert store.data_version() > version, write.__name__
        after = etags(anonymous, urls)
        for url in urls:
            assert after[url] != before[url], (write.__name__, url)
            # A cache revalidating what it holds gets the new answer, not a 304.
            r = anonymous.get(url, headers={"If-None-Match": before[url]})
            assert r.status_code == 200 and r.content, (write.__name__, url)
        before = after
    # The page a cache gets after the edits is the edited one.
    assert "A wording saved on the web." in anonymous.get(f"/api/statements/{sid}").text


def test_what_changes_no_shown_data_keeps_the_etags(site):
    store, passwords = site
    anonymous = client_for(store)
    urls = public_urls(plain_statement(store))
    before = etags(anonymous, urls)
    version = store.data_version()
    # Signing in (a session), a wrong password (a failure counted), signing out.
    signed = client_for(store, passwords, "cri")
    assert signed.post("/logout", data={"csrf": csrf_of(signed, "/rounds")}).status_code == 303
    for name in ("nobody", "cri"):  # a wrong password for an account counts its failures
        with pytest.raises(users.AuthError):
            users.authenticate(store, name, "wrong password", client="10.0.0.9")
    # Reading, and a write rolled back.
    store.load()
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute(update(t.statements).values(text="never saved"))
        raise RuntimeError("changed my mind")
    # An update that matches no row changes nothing.
    with store.transaction() as conn:
        conn.execute(update(t.statements).where(t.statements.c.id == "none").values(text="x"))
    assert store.data_version() == version
    assert etags(anonymous, urls) == before
    assert {"sessions", "login_failures"} <= UNSHOWN_TABLES
    # Raw SQL is seen too, whoever runs it through the store.
    with store.transaction() as conn:
        conn.exec_driver_sql("UPDATE statements SET heading = heading")
    assert store.data_version() == version + 1


def test_unshown_tables_are_the_only_writes_left_out(store, compendium):
    store.ingest(label_compendium(compendium))
    version = store.data_version()
    with store.transaction() as conn:
        conn.execute(
            insert(t.login_failures).values(
                client="1.2.3.4", username="x", failures=1, last_at=clock.now()
            )
        )
    assert store.data_version() == version  # unshown
    with store.transaction() as conn:
        row = conn.execute(select(t.meetings.c.code, t.meetings.c.label).limit(1)).first()
        conn.execute(
            update(t.meetings).where(t.meetings.c.code == row.code).values(label=row.label + "!")
        )
    assert store.data_version() == version + 1


def test_signed_in_answers_are_never_public(site):
    store, passwords = site
    sid = plain_statement(store)
    sec = client_for(store, passwords, "sec")
    rnd = consult.open_round(store, "Still valid?", actor="sec")
    app = create_app(store)
    values = {"statement_id": sid, "round_id": str(rnd.id), "number": "5", "order": "1",
              "code": "XIX", "filename": "all.ttl", "username": "cri", "name": "swagger-ui.css",
              "proposal_id": "1", "declaration_id": "1", "key": "ts1-1"}  # fmt: skip
    seen = 0
    for route in app.routes:
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], route.path)
        if url.startswith("/api/docs/"):
            continue  # Swagger UI's own files: the same for everyone
        r = sec.get(url)
        assert r.headers.get("cache-control") == "private, no-store", (url, r.status_code)
        assert "etag" not in r.headers, url
        # An If-None-Match never gets a signed-in person someone else's page.
        assert sec.get(url, headers={"If-None-Match": "*"}).status_code != 304, url
        seen += 1
    assert seen > 20
    # A cookie that is no (longer a) session still keeps the answer out of shared caches.
    stale = client_for(store)
    stale.cookies.set("rcm_session", "expired-or-forged")
    assert stale.get("/").headers["cache-control"] == "private, no-store"


def test_forms_cookies_and_errors_are_not_cached_as_pages(site):
    store, _ = site
    anonymous = client_for(store)
    # The sign-in form holds a token; ?lang= answers set a cookie.
    assert anonymous.get("/login").headers["cache-control"] == "private, no-store"
    r = anonymous.get("/?lang=es")
    assert r.headers["cache-control"] == "private, no-store" and "etag" not in r.headers
    # The language chosen is part of the ETag (here from the cookie the last answer set).
    es = anonymous.get("/").headers["etag"]
    anonymous.cookies.set("rcm_lang", "en")
    assert anonymous.get("/").headers["etag"] != es
    assert client_for(store).get("/", headers={"Accept-Language": "es"}).headers["etag"] == es
    missing = anonymous.get("/statements/NO-SUCH")
    assert missing.status_code == 404 and missing.headers["cache-control"] == "public, max-age=10"
    bad = anonymous.get("/api/search?page=x")
    assert bad.status_code in (400, 422) and bad.headers["cache-control"] == "no-store"
    assert anonymous.post("/statements/x/edit").headers["cache-control"] == "no-store"


def test_etag_comparison():
    assert etag_matches('W/"1-a"', 'W/"1-a"') and etag_matches('"1-a"', 'W/"1-a"')
    assert etag_matches('"b", W/"1-a"', 'W/"1-a"') and not etag_matches("*", 'W/"1-a"')
    assert not etag_matches('W/"1-ab"', 'W/"1-a"') and not etag_matches("", 'W/"1-a"')


def test_about_is_computed_once_per_data_version_and_follows_every_edit(site):
    """/about's findings and figures come from the whole compendium, kept until the data version
    changes: a second request reuses them, an edit (here a recategorisation, then a rewording
    that makes a near copy) shows on the very next request, on the page and its JSON twin."""
    from rcm.web import pages

    store, _ = site
    anonymous = client_for(store)
    before = anonymous.get("/api/about").json()
    page_before = anonymous.get("/about").text
    assert pages.about_page(store) is pages.about_page(store)  # kept, not recomputed
    sid = plain_statement(store)
    [other] = [s for s in store.load().statements if s.meeting == "XIX" and s.id != sid][:1]
    current = store.statement(sid)[0].category
    new = next(c for c in ("principle", "commitment") if c != (current and current.value))
    edit.recategorise(store, sid, new, expected_version=None, actor="sec", origin="test")
    after = anonymous.get("/api/about").json()
    assert after["category_totals"][new] == before["category_totals"].get(new, 0) + 1
    assert anonymous.get("/about").text != page_before
    copies = [f for f in after["findings"] if f["kind"] == "possible-copy"]
    edit.reword(store, sid, other.text.replace("the", "a", 1), expected_version=None,
                actor="sec", origin="test")  # fmt: skip
    again = anonymous.get("/api/about").json()
    found = [f for f in again["findings"] if f["kind"] == "possible-copy"]
    assert len(found) == len(copies) + 1 and set(found[-1]["statement_ids"]) == {sid, other.id}
    assert len(again["findings"]) == len(after["findings"]) + 1
    assert f"{len(again['findings'])} findings" in anonymous.get("/about").text


def test_public_answers_are_compressed_and_private_ones_never(site):
    """gzip for a public answer in a text format when asked: the same bytes once decoded, the same
    (weak) ETag, which revalidates either encoding; never for a signed-in page or a form (a
    secret beside the reader's own text: BREACH), nor for a Word or Excel file, nor when gzip is
    refused."""
    store, passwords = site
    anonymous = client_for(store)
    secretariat = client_for(store, passwords, "sec")
    for url in ("/api/themes/1", "/themes/1", "/search?q=migrants", "/search.csv?q=return"):
        packed = anonymous.get(url, headers={"Accept-Encoding": "gzip"})
        plain = anonymous.get(url, headers={"Accept-Encoding": "identity"})
        assert packed.headers["content-encoding"] == "gzip", url
        assert "content-encoding" not in plain.headers
        assert packed.content == plain.content  # decoded by the client
        if url.startswith("/search.csv"):  # streamed, compressed as it goes: no length ahead
            assert "content-length" not in packed.headers
        else:
            assert int(packed.headers["content-length"]) == packed.num_bytes_downloaded
        assert packed.num_bytes_downloaded < len(plain.content) / 2
        assert packed.headers["etag"] == plain.headers["etag"]
        for r in (packed, plain):
            assert "Accept-Encoding" in r.headers["vary"]
        again = anonymous.get(
            url, headers={"If-None-Match": plain.headers["etag"], "Accept-Encoding": "gzip"}
        )
        assert again.status_code == 304 and again.content == b""
    refused = anonymous.get("/api/themes/1", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    for client, url in (
        (secretariat, "/themes/1"),
        (secretariat, "/review"),
        (anonymous, "/login"),
        (anonymous, "/search.xlsx?q=migrants"),
    ):
        r = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and "content-encoding" not in r.headers, url
