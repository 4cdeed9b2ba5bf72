"""The focal point's "Still valid?" form in the real web app: grouped by theme, drafts kept row by
row (with JavaScript) and section by section (without), input kept on every error with a summary
linking to each field, "check your answers", the submission, and where signing in leads.

One compendium per backend for the module; each test opens its own round (drafts and answers are
per round), so the tests do not see each other's."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup

from rcm import consult, drafts, taxonomy
from rcm.search import theme_filter
from rcm.store import Store
from webclient import add_people, client_for, csrf_of, login_token


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(request, tmp_path_factory, compendium) -> Iterator[tuple[Store, dict[str, str]]]:
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path_factory.mktemp('answers') / 'rcm.db'}", create=True)
        store.ingest(compendium)
        yield store, add_people(store, "sec", "cri", "mex")
        store.close()
        return
    from conftest import _fresh_postgres_database

    with _fresh_postgres_database() as url:
        store = Store(url, create=True)
        store.ingest(compendium)
        yield store, add_people(store, "sec", "cri", "mex")
        store.close()


def new_round(store: Store, deadline: str | None = "2030-01-01") -> consult.Round:
    return consult.open_round(store, "TS5", filters=[theme_filter([5])], deadline=deadline)


def form_of(c, rnd, query: str = "") -> tuple[BeautifulSoup, dict[str, str]]:
    """The page and its form's hidden fields (CSRF, country, each row's versions)."""
    soup = BeautifulSoup(c.get(f"/rounds/{rnd.id}/answers{query}").text, "html.parser")
    hidden = {i["name"]: i.get("value", "") for i in soup.select("form.answers input[type=hidden]")}
    return soup, hidden


def ids_of(soup: BeautifulSoup) -> list[str]:
    return [tr["data-row"] for tr in soup.select("form.answers tr[data-row]")]


def test_the_form_groups_full_statements_by_theme_with_progress_and_deadline(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    soup, _ = form_of(c, rnd, "?lang=es")
    rows = ids_of(soup)
    assert len(rows) == rnd.statements == len(set(rows))  # every statement once
    # The theme and its sub-themes in the reader's language.
    theme = soup.select_one("h2.answer-theme").text
    assert theme.startswith("TS5") and taxonomy.label("theme", 5, "es") in theme
    subthemes = [h.text for h in soup.select("section.answer-group h3")]
    assert any(taxonomy.label("subtheme", "5.1", "es") in h for h in subthemes)
    assert soup.select_one("#progress").text == f"0 de {rnd.statements} respondidas"
    days = drafts.days_left("2030-01-01")
    assert f"Quedan {days} días: el plazo vence el 2030-01-01." in soup.select_one(".deadline").text
    # The full text, never cut off: the longest statement of the round as stored.
    (longest, _), *_ = sorted(
        store.statements_by_ids(rows), key=lambda sp: len(sp[0].text_es or sp[0].text), reverse=True
    )
    shown = soup.select_one(f"tr#row-{longest.id} td.answer-statement p").text
    assert shown == (longest.text_es or longest.text) and len(shown) > 300
    # Text areas for real text, every field labelled.
    assert int(soup.select_one(f"textarea#w-{rows[0]}")["rows"]) >= 5
    for field in soup.select("form.answers select, form.answers textarea"):
        assert soup.select_one(f"label[for='{field['id']}']") is not None
    # A round without a deadline says so.
    open_ended = new_round(store, deadline=None)
    page = c.get(f"/rounds/{open_ended.id}/answers").text
    assert "Esta ronda no tiene plazo." in page  # the language chosen above stays


def test_an_error_keeps_every_input_and_links_the_summary_to_the_field(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    soup, hidden = form_of(c, rnd)
    a, b, d = ids_of(soup)[:3]
    typed = {
        f"v:{a}": "valid",
        f"v:{b}": "no longer valid",
        f"c:{b}": "Superseded by the 2016 declaration.",
        f"v:{d}": "valid with changes",  # the proposed wording left empty
        f"c:{d}": "A comment, kept.",
    }
    r = c.post(
        f"/rounds/{rnd.id}/answers/draft?lang=es", data={**hidden, **typed, "group": "ts5-1"}
    )
    assert r.status_code == 200
    page = BeautifulSoup(r.text, "html.parser")
    summary = page.select_one(".error-summary[role=alert]")
    assert summary.select_one("h2").text == "Hay un problema"
    (link,) = summary.select("a")
    assert link["href"] == f"#w-{d}" and page.select_one(f"#w-{d}") is not None
    assert "requiere la redacción propuesta" in link.text and "needs" not in link.text
    # The message beside its field, the field pointing at it.
    beside = page.select_one(f"#w-{d}-error")
    assert "requiere la redacción propuesta" in beside.text
    assert page.select_one(f"#w-{d}")["aria-describedby"] == f"w-{d}-error"
    # Everything typed is still there.
    for sid, value in ((a, "valid"), (b, "no longer valid"), (d, "valid with changes")):
        assert page.select_one(f"select#v-{sid} option[selected]")["value"] == value
    assert page.select_one(f"textarea#c-{b}").text == "Superseded by the 2016 declaration."
    assert page.select_one(f"textarea#c-{d}").text == "A comment, kept."
    # Kept as drafts, not answers: the dashboard counts none.
    assert consult.opinions(store, rnd.id) == []
    assert consult.round_status(store, rnd.id)["countries"]["CRI"]["answered"] == 0
    reloaded, _ = form_of(c, rnd)
    assert reloaded.select_one(f"textarea#c-{d}").text == "A comment, kept."
    # The whole form sent at once (the older way) keeps the input the same way, refusing all.
    r = c.post(f"/rounds/{rnd.id}/answers", data={**hidden, **typed})
    assert r.status_code == 400 and consult.opinions(store, rnd.id) == []
    page = BeautifulSoup(r.text, "html.parser")
    assert page.select_one(".error-summary a")["href"] == f"#w-{d}"
    assert page.select_one(f"textarea#c-{b}").text == "Superseded by the 2016 declaration."


def test_each_row_is_kept_as_a_draft_and_survives_a_reload(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    soup, hidden = form_of(c, rnd)
    sid, other = ids_of(soup)[:2]
    row = {
        "csrf": hidden["csrf"],
        "country": "CRI",
        f"v:{sid}": "valid with changes",
        f"w:{sid}": "New words, typed on a phone.",
        f"ver:{sid}": hidden[f"ver:{sid}"],
        f"sv:{sid}": hidden[f"sv:{sid}"],
    }
    r = c.post(f"/rounds/{rnd.id}/answers/row.json", data=row)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["saved"] and answer["problems"] == []
    assert answer["progress"] == f"1 of {rnd.statements} answered"
    assert answer["group"]["key"].startswith("ts5-") and "1 of" in answer["group"]["progress"]
    assert answer["unsent"] == 1
    # A problem comes back against its field, in the reader's language; the row is kept anyway.
    r = c.post(
        f"/rounds/{rnd.id}/answers/row.json?lang=es",
        data={**row, f"v:{other}": "no longer valid", f"v:{sid}": None, f"w:{sid}": None},
    )
    assert r.status_code == 400  # two rows: one at a time
    problem = c.post(
        f"/rounds/{rnd.id}/answers/row.json?lang=es",
        data={"csrf": hidden["csrf"], "country": "CRI", f"v:{other}": "no longer valid"},
    ).json()["problems"]
    assert problem == [
        {"field": f"c-{other}", "message": f"{other}: «ya no vigente» requiere un motivo"}
    ]
    # Reloaded: both rows as given, marked as drafts; nothing counts yet.
    page, _ = form_of(c, rnd, "?lang=en")
    assert page.select_one(f"select#v-{sid} option[selected]")["value"] == "valid with changes"
    assert page.select_one(f"textarea#w-{sid}").text == "New words, typed on a phone."
    assert "Draft, not yet submitted" in page.select_one(f"tr#row-{sid} [data-state]").text
    assert page.select_one(f"select#v-{other} option[selected]")["value"] == "no longer valid"
    assert page.select_one("#progress").text == f"2 of {rnd.statements} answered"
    assert consult.opinions(store, rnd.id) == []
    assert set(drafts.drafts(store, rnd.id, "CRI")) == {sid, other}
    # Only unanswered: the two rows are not listed.
    unanswered, _ = form_of(c, rnd, "?show=unanswered")
    assert not {sid, other} & set(ids_of(unanswered))
    assert len(ids_of(unanswered)) == rnd.statements - 2
    # Drafts are per country: Mexico's form shows none of them, and Costa Rica cannot write them.
    mex = client_for(store, passwords, "mex")
    assert ids_of(form_of(mex, rnd)[0]) and not drafts.drafts(store, rnd.id, "MEX")
    assert "New words" not in mex.get(f"/rounds/{rnd.id}/answers").text
    r = c.post(f"/rounds/{rnd.id}/answers/row.json", data={**row, "country": "MEX"})
    assert r.status_code == 403 and r.json()["error"]["status"] == 403
    r = c.post(f"/rounds/{rnd.id}/answers/row.json", data={**row, "csrf": "forged"})
    assert r.status_code == 403 and not drafts.drafts(store, rnd.id, "MEX")
    # A row set back to nothing leaves no draft.
    c.post(
        f"/rounds/{rnd.id}/answers/row.json",
        data={"csrf": hidden["csrf"], "country": "CRI", f"v:{other}": ""},
    )
    assert set(drafts.drafts(store, rnd.id, "CRI")) == {sid}


def test_a_section_saved_without_javascript_comes_back_to_it(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    soup, hidden = form_of(c, rnd)
    section = soup.select_one("section.answer-group")
    sid = section.select_one("tr[data-row]")["data-row"]
    key = section["id"].removeprefix("group-")
    assert section.select_one(f"button[name=group][value='{key}']") is not None
    r = c.post(
        f"/rounds/{rnd.id}/answers/draft", data={**hidden, f"v:{sid}": "abstain", "group": key}
    )
    assert r.status_code == 303 and r.headers["location"].endswith(f"#group-{key}")
    page = c.get(r.headers["location"]).text
    assert "Saved as a draft" in page
    assert drafts.drafts(store, rnd.id, "CRI")[sid].value == "abstain"
    assert consult.opinions(store, rnd.id) == []


def test_check_your_answers_then_submit(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    soup, hidden = form_of(c, rnd)
    a, b = ids_of(soup)[:2]
    c.post(
        f"/rounds/{rnd.id}/answers/draft",
        data={**hidden, f"v:{a}": "valid", f"v:{b}": "valid with changes"},
    )
    # The check page lists the answers by theme, each with a link back to its row; the draft
    # that cannot be submitted is in the summary, linked to its field on the form.
    check = BeautifulSoup(c.get(f"/rounds/{rnd.id}/answers/check").text, "html.parser")
    rows = {r["id"].removeprefix("check-"): r for r in check.select(".summary-list .summary-row")}
    assert set(rows) == {a, b}
    assert "valid" in rows[a].select_one("dd").text
    assert rows[a].select_one(".summary-actions a")["href"] == f"/rounds/{rnd.id}/answers#row-{a}"
    link = check.select_one(".error-summary a")
    assert link["href"] == f"/rounds/{rnd.id}/answers#w-{b}"
    token = check.select_one("form.submit-answers input[name=csrf]")["value"]
    r = c.post(f"/rounds/{rnd.id}/answers/submit", data={"csrf": token, "country": "CRI"})
    assert r.status_code == 400 and consult.opinions(store, rnd.id) == []
    assert set(drafts.drafts(store, rnd.id, "CRI")) == {a, b}
    # Put right ("Save and check" goes to the check page), then submitted.
    r = c.post(
        f"/rounds/{rnd.id}/answers/draft",
        data={**hidden, f"v:{b}": "valid with changes", f"w:{b}": "Better words.", "next": "check"},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/rounds/{rnd.id}/answers/check"
    check = BeautifulSoup(c.get(r.headers["location"]).text, "html.parser")
    assert check.select_one(".error-summary") is None
    assert "Better words." in check.select_one(f"#check-{b}").text
    r = c.post(f"/rounds/{rnd.id}/answers/submit", data={"csrf": token, "country": "CRI"})
    assert r.status_code == 303 and r.headers["location"] == f"/rounds/{rnd.id}/answers?submitted=2"
    assert "2 answers submitted." in c.get(r.headers["location"]).text
    given = {
        o.statement_id: (o.value.value, o.proposed_wording, o.author)
        for o in consult.opinions(store, rnd.id)
    }
    assert given == {a: ("valid", None, "cri"), b: ("valid with changes", "Better words.", "cri")}
    assert drafts.drafts(store, rnd.id, "CRI") == {}
    assert consult.round_status(store, rnd.id)["countries"]["CRI"]["answered"] == 2
    page, _ = form_of(c, rnd)
    assert "Submitted" in page.select_one(f"tr#row-{a} [data-state]").text
    # Someone else submits meanwhile: a draft begun before is a conflict, nothing overwritten.
    c.post(f"/rounds/{rnd.id}/answers/draft", data={**form_of(c, rnd)[1], f"v:{a}": "abstain"})
    consult.set_opinion(store, rnd.id, "CRI", a, "no longer valid", reason="Old.", author="sec")
    r = c.post(f"/rounds/{rnd.id}/answers/submit", data={"csrf": token, "country": "CRI"})
    assert r.status_code == 409 and "reload" in r.text
    assert [o.value.value for o in consult.opinions(store, rnd.id) if o.statement_id == a] == [
        "no longer valid"
    ]
    # The Secretariat answers for a country with its code in every link.
    sec = client_for(store, passwords, "sec")
    page = sec.get(f"/rounds/{rnd.id}/answers/check?country=MEX").text
    assert f'href="/rounds/{rnd.id}/answers?country=MEX"' in page


def test_a_focal_point_lands_on_their_form(site):
    store, passwords = site
    for r in consult.list_rounds(store):
        if r.state == "open":
            consult.close_round(store, r.id)
    rnd = new_round(store)

    def landing(who: str) -> str:
        c = client_for(store)
        data = {"username": who, "password": passwords[who], "csrf": login_token(c)}
        r = c.post("/login", data=data)
        assert r.status_code == 303
        return r.headers["location"]

    assert landing("cri") == f"/rounds/{rnd.id}/answers"
    assert landing("sec") == "/rounds"
    # The sign-in form sends no "next" unless a page asked for one.
    fresh = client_for(store)
    assert (
        BeautifulSoup(fresh.get("/login").text, "html.parser").select_one("input[name=next]")
        is None
    )
    second = new_round(store)
    assert landing("cri") == "/rounds"
    consult.close_round(store, second.id)
    consult.close_round(store, rnd.id)
    assert landing("cri") == "/rounds"
    # A page that asked for sign-in is where it leads.
    c = client_for(store)
    r = c.post(
        "/login",
        data={
            "username": "cri",
            "password": passwords["cri"],
            "csrf": login_token(c),
            "next": "/themes",
        },
    )
    assert r.headers["location"] == "/themes"
    assert csrf_of(c, "/rounds")  # signed in
    assert re.search(r"Signed in as", c.get("/rounds").text)
