"""Editing statements on the web (the Secretariat) and their history pages, in-process, on SQLite
and PostgreSQL: each kind of edit, who may, the CSRF token, concurrent edits, validation."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from rcm import edit
from rcm.audit import audit_trail
from rcm.store import schema as t
from rcm.suggest import label_compendium
from webclient import add_people, client_for, csrf_of


@pytest.fixture
def site(store, compendium):
    store.ingest(label_compendium(compendium))
    return store, add_people(store, "sec", "cri", "obs")


def plain_statement(store, meeting="XIX"):
    with store.connection() as conn:
        ids = conn.scalars(
            select(t.statements.c.id).where(t.statements.c.meeting == meeting).order_by("id")
        ).all()
    return next(sid for sid in ids if not store.statement(sid)[0].items)


def list_statement(store):
    return next(s.id for s in store.load().statements if s.items)


def edit_form(c, sid, selector="form.edit-statement"):
    """The edit page's form as a browser would send it, unchanged."""
    r = c.get(f"/statements/{sid}/edit")
    assert r.status_code == 200, r.text
    return form_fields(BeautifulSoup(r.text, "html.parser").select_one(selector))


def form_fields(form):
    data: dict = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    for area in form.select("textarea"):
        data[area["name"]] = area.text
    for name in ("heading",):
        field = form.select_one(f"input[name={name}]")
        if field is not None:
            data[name] = field.get("value", "")
    data["place"] = [i["value"] for i in form.select("input[name=place][checked]")]
    data["objective"] = [i["value"] for i in form.select("input[name=objective][checked]")]
    chosen = form.select_one("input[name=category][checked]")
    if chosen is not None:
        data["category"] = chosen["value"]
    return data


def events(store, sid):
    return [e.action for e in edit.history(store, sid).events]


def test_others_never_get_the_form(site):
    store, passwords = site
    sid = plain_statement(store)
    anonymous = client_for(store)
    r = anonymous.get(f"/statements/{sid}/edit")
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/statements/{sid}/edit"
    assert anonymous.post(f"/statements/{sid}/edit", data={"text": "x"}).status_code == 401
    assert "/edit" not in anonymous.get(f"/statements/{sid}").text
    for who in ("cri", "obs"):
        c = client_for(store, passwords, who)
        token = csrf_of(c, "/rounds")
        r = c.get(f"/statements/{sid}/edit")
        assert r.status_code == 403 and "edit-statement" not in r.text
        for action in ("edit", "retire", "unretire"):
            r = c.post(
                f"/statements/{sid}/{action}",
                data={"csrf": token, "text": "Taken over.", "version": "1", "seen": "0"},
            )
            assert r.status_code == 403
        assert f'href="/statements/{sid}/edit"' not in c.get(f"/statements/{sid}").text
    assert events(store, sid) == [] and store.statement(sid)[0].version == 1


def test_a_forged_form_changes_nothing(site):
    store, passwords = site
    sid = plain_statement(store)
    c = client_for(store, passwords, "sec")
    data = edit_form(c, sid) | {"text": "A forged wording.", "csrf": "forged"}
    assert c.post(f"/statements/{sid}/edit", data=data).status_code == 403
    assert c.post(f"/statements/{sid}/retire", data=data | {"reason": "x"}).status_code == 403
    assert events(store, sid) == [] and store.statement(sid)[0].text != "A forged wording."


def test_an_unedited_form_writes_nothing(site):
    store, passwords = site
    sid = plain_statement(store)
    c = client_for(store, passwords, "sec")
    assert f'href="/statements/{sid}/edit"' in c.get(f"/statements/{sid}").text
    before = store.statement(sid)
    r = c.post(f"/statements/{sid}/edit", data=edit_form(c, sid))
    assert r.status_code == 303 and r.headers["location"] == f"/statements/{sid}?saved=0"
    assert "Nothing was changed." in c.get(r.headers["location"]).text
    assert events(store, sid) == [] and [v.version for v in edit.history(store, sid).versions] == [
        1
    ]
    assert store.statement(sid) == before


def test_each_part_is_one_audited_change(site):
    store, passwords = site
    sid = plain_statement(store)
    c = client_for(store, passwords, "sec")
    before = store.statement(sid)[0]
    data = edit_form(c, sid)
    other = next(x for x in ("principle", "understanding", "commitment") if x != data["category"])
    data |= {
        "text": before.text + " As reworded on the web.",
        "category": other,
        "place": ["1.2", "5.1"],
        "objective": ["23", "2"],
    }
    r = c.post(f"/statements/{sid}/edit", data=data)
    assert r.status_code == 303 and r.headers["location"] == f"/statements/{sid}?saved=4"
    assert events(store, sid) == [
        "statement.reword",
        "statement.recategorise",
        "statement.place",
        "statement.objectives",
    ]
    after, placements = store.statement(sid)
    assert after.version == 2 and after.text.endswith("As reworded on the web.")
    assert after.category.value == other and after.category_source.value == "curated"
    assert sorted((p.theme, p.subtheme) for p in placements) == [(1, 2), (5, 1)]
    trail = audit_trail(store, obj=sid)
    assert {e.actor for e in trail.events} == {"sec"}
    assert all(e.after["origin"] == "web" for e in trail.events)
    page = c.get(f"/statements/{sid}?saved=4").text
    assert "4 changes saved." in page and "Version 2, reworded on" in page


def test_a_list_statement_is_edited_by_heading_and_items(site):
    store, passwords = site
    sid = list_statement(store)
    c = client_for(store, passwords, "sec")
    data = edit_form(c, sid)
    assert "text" not in data and data["heading"]
    items = data["items"].splitlines()
    data["items"] = "\n".join([*items[:-1], "", "To add a new item by hand."])
    assert c.post(f"/statements/{sid}/edit", data=data).status_code == 303
    s = store.statement(sid)[0]
    assert s.items == (*items[:-1], "To add a new item by hand.") and s.version == 2
    assert s.text == f"{s.heading}: " + " ".join(s.items)
    assert events(store, sid) == ["statement.reword"]


def test_validation_errors_beside_their_fields_keep_the_input(site):
    store, passwords = site
    sid = plain_statement(store)
    c = client_for(store, passwords, "sec")
    data = edit_form(c, sid) | {"text": "   ", "place": [], "objective": ["99"]}
    data["category"] = "principle"
    r = c.post(f"/statements/{sid}/edit", data=data)
    assert r.status_code == 400
    page = BeautifulSoup(r.text, "html.parser")
    summary = page.select_one(".error-summary")
    assert {a["href"] for a in summary.select("a")} == {"#text", "#places", "#objectives"}
    assert page.select_one("#text-error").text == "The wording cannot be empty."
    assert page.select_one("#text")["aria-invalid"] == "true"
    assert page.select_one("#places-error") is not None
    assert page.select_one("input[name=category][checked]")["value"] == "principle"
    assert page.select_one("input[name=version]")["value"] == "1"
    assert events(store, sid) == []
    # a typed wording is kept when another field is wrong
    data = edit_form(c, sid) | {"text": "Typed, and kept.", "place": ["9.9"]}
    r = c.post(f"/statements/{sid}/edit", data=data)
    assert r.status_code == 400 and "Typed, and kept." in r.text
    assert events(store, sid) == []
    # a form without the version it was made from is refused
    data = edit_form(c, sid) | {"text": "No version.", "version": ""}
    assert c.post(f"/statements/{sid}/edit", data=data).status_code == 400


def test_a_twin_wording_is_an_error_beside_the_text(site):
    store, passwords = site
    sid = plain_statement(store)
    with store.connection() as conn:
        twin = conn.execute(
            select(t.statements.c.id, t.statements.c.text).where(
                t.statements.c.meeting == "XIX", t.statements.c.id != sid
            )
        ).first()
    c = client_for(store, passwords, "sec")
    r = c.post(f"/statements/{sid}/edit", data=edit_form(c, sid) | {"text": twin.text})
    assert r.status_code == 409
    page = BeautifulSoup(r.text, "html.parser")
    assert twin.id in page.select_one("#text-error").text and page.select_one(".conflict") is None
    assert page.select_one("#text").text == twin.text


def test_concurrent_edits_conflict_and_keep_what_was_typed(site):
    store, passwords = site
    sid = plain_statement(store)
    one, two = client_for(store, passwords, "sec"), client_for(store, passwords, "sec")
    first, second = edit_form(one, sid), edit_form(two, sid)
    original = first["text"]
    other = next(x for x in ("principle", "understanding", "commitment") if x != first["category"])
    r = one.post(f"/statements/{sid}/edit", data=first | {"category": other})
    assert r.status_code == 303
    mine = original + " Typed in the second tab."
    r = two.post(f"/statements/{sid}/edit", data=second | {"text": mine})
    assert r.status_code == 409
    page = BeautifulSoup(r.text, "html.parser")
    assert page.select_one("#text").text == mine  # never lose input
    theirs = page.select_one(".their-changes").text
    assert "Category" in theirs and other in theirs
    # the form is rebuilt on the statement as it is now, with the other tab's category kept
    again = form_fields(page.select_one("form.edit-statement"))
    assert again["seen"] != second["seen"] and again["category"] == other
    assert "Typed in the second tab." in page.select_one(".conflict .diff ins").text
    assert events(store, sid) == ["statement.recategorise"]
    r = two.post(f"/statements/{sid}/edit", data=again)
    assert r.status_code == 303
    s = store.statement(sid)[0]
    assert s.text == mine and s.category.value == other and s.version == 2
    assert events(store, sid) == ["statement.recategorise", "statement.reword"]


def test_both_reword_the_same_statement(site):
    store, passwords = site
    sid = plain_statement(store)
    c = client_for(store, passwords, "sec")
    first, second = edit_form(c, sid), edit_form(c, sid)
    assert c.post(f"/statements/{sid}/edit", data=first | {"text": "Theirs."}).status_code == 303
    r = c.post(f"/statements/{sid}/edit", data=second | {"text": "Mine."})
    assert r.status_code == 409
    page = BeautifulSoup(r.text, "html.parser")
    assert page.select_one("#text").text == "Mine."
    assert "Reworded: version 1 to 2" in page.select_one(".their-changes").text
    assert "wording" in page.select_one(".both").text
    assert page.select_one("input[name=version]")["value"] == "2"
    assert store.statement(sid)[0].text == "Theirs."


def test_retire_and_bring_back(site):
    store, passwords = site
    sid = plain_statement(store)
    c = client_for(store, passwords, "sec")
    places = sorted((p.theme, p.subtheme) for p in store.statement(sid)[1])
    data = edit_form(c, sid, "form.retire")
    r = c.post(f"/statements/{sid}/retire", data=data | {"reason": " "})
    assert r.status_code == 400 and "#reason" in r.text
    r = c.post(f"/statements/{sid}/retire", data=data | {"reason": "Duplicated by XX-1."})
    assert r.status_code == 303
    s, now = store.statement(sid)
    assert s.retired_at is not None and now == []
    page = c.get(f"/statements/{sid}").text
    assert "Retired on" in page
    history = client_for(store).get(f"/statements/{sid}/history").text
    assert "Retired on" in history and "Duplicated by XX-1." in history
    # the way back: the form offers where it was
    data = edit_form(c, sid, "form.unretire")
    assert sorted(tuple(int(n) for n in p.split(".")) for p in data["place"]) == places
    r = c.post(f"/statements/{sid}/unretire", data=data | {"reason": "Not a duplicate."})
    assert r.status_code == 303
    s, now = store.statement(sid)
    assert s.retired_at is None and sorted((p.theme, p.subtheme) for p in now) == places
    assert events(store, sid) == ["statement.retire", "statement.unretire"]
    assert audit_trail(store, obj=sid).events[0].after["reason"] == "Not a duplicate."


def test_the_history_page_and_its_json(site):
    store, passwords = site
    sid = plain_statement(store)
    old = store.statement(sid)[0].text
    c = client_for(store, passwords, "sec")
    new = old.replace(old.split()[1], "<script>alert(1)</script>", 1)
    assert c.post(f"/statements/{sid}/edit", data=edit_form(c, sid) | {"text": new}).status_code
    anonymous = client_for(store)
    statement_page = anonymous.get(f"/statements/{sid}").text
    assert f'href="/statements/{sid}/history"' in statement_page
    r = anonymous.get(f"/statements/{sid}/history")
    assert r.status_code == 200 and "<script>alert" not in r.text
    page = BeautifulSoup(r.text, "html.parser")
    versions = page.select("li.version")
    assert [v["id"] for v in versions] == ["version-2", "version-1"]
    assert versions[0].select_one("ins").text == "<script>alert(1)</script>"
    assert versions[0].select_one("del").text == old.split()[1]
    assert "web" in versions[0].text and "sec" not in versions[0].select_one(".meta").text
    assert page.select(".actor") == []
    staff = BeautifulSoup(c.get(f"/statements/{sid}/history").text, "html.parser")
    assert {a.text for a in staff.select(".actor")} == {"ingest", "sec"}
    data = anonymous.get(f"/api/statements/{sid}/history").json()
    assert [v["version"] for v in data["versions"]] == [1, 2]
    assert data["versions"][1]["text"] == new and data["versions"][1]["actor"] is None
    assert [e["kind"] for e in data["events"]] == ["reworded"]
    assert all(e["actor"] is None for e in data["events"])
    assert c.get(f"/api/statements/{sid}/history").json()["events"][0]["actor"] == "sec"
    assert anonymous.get("/api/statements/XIX-9999/history").status_code == 404
    assert anonymous.get("/statements/XIX-9999/history").status_code == 404
    assert (
        "/api/statements/{statement_id}/history" in anonymous.get("/openapi.json").json()["paths"]
    )


def test_the_pages_in_spanish(site):
    store, passwords = site
    sid = plain_statement(store)
    c = client_for(store, passwords, "sec")
    page = c.get(f"/statements/{sid}/edit?lang=es").text
    assert "Editar la disposición" in page and "Retirar esta disposición" in page
    assert "Historial" in c.get(f"/statements/{sid}/history?lang=es").text
