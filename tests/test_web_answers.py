"""The focal point's "Still valid?" form in the real web app, after GOV.UK's task list pattern: a
task list of the round's sections (theme and sub-theme) with their status, each section its own
question page (in parts of at most ``ONE_PAGE`` rows), drafts kept row by row (with JavaScript)
and page by page (without), input kept on every error with a summary linking to each field,
"save and go to the next section", "check your answers", the submission, a small round on one
page, and where signing in leads.

One compendium per backend for the module; each test opens its own round (drafts and answers are
per round), so the tests do not see each other's."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup

from rcm import consult, drafts, taxonomy
from rcm.search import subtheme_filter, theme_filter
from rcm.store import Store
from rcm.web.rounds import ONE_PAGE
from webclient import add_people, client_for, csrf_of, login_token

BUDGET = 50_000  # bytes of HTML per page (issue 18)


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
    """A TS5 round: 31 statements in two sub-themes (6 and 25: the second in three parts)."""
    return consult.open_round(store, "TS5", filters=[theme_filter([5])], deadline=deadline)


def small_round(store: Store) -> consult.Round:
    """A round of one sub-theme (TS5.1, 6 statements): one page, no task list."""
    only = subtheme_filter([(5, 1)], store.subtheme_titles())
    return consult.open_round(store, "TS5.1", filters=[only], deadline="2030-01-01")


def soup_of(c, url: str) -> BeautifulSoup:
    r = c.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return BeautifulSoup(r.text, "html.parser")


def hidden_of(soup: BeautifulSoup) -> dict[str, str]:
    """A page's form's hidden fields (CSRF, country, section and part, each row's versions)."""
    return {i["name"]: i.get("value", "") for i in soup.select("form.answers input[type=hidden]")}


def ids_of(soup: BeautifulSoup) -> list[str]:
    return [tr["data-row"] for tr in soup.select("form.answers tr[data-row]")]


def sections_of(c, rnd, query: str = "") -> dict[str, BeautifulSoup]:
    """The task list's sections: key -> its list item."""
    tasks = soup_of(c, f"/rounds/{rnd.id}/answers{query}")
    return {
        li.a["href"].split("?")[0].rsplit("/", 1)[1]: li for li in tasks.select(".task-list li")
    }


def pages_of(c, rnd) -> list[tuple[str, int, BeautifulSoup]]:
    """Every page of the form, in order, as "save and go to the next" walks them."""
    pages = []
    for key in sections_of(c, rnd):
        part = 1
        while (r := c.get(f"/rounds/{rnd.id}/answers/{key}?part={part}")).status_code == 200:
            assert len(r.content) < BUDGET, (key, part, len(r.content))
            pages.append((key, part, BeautifulSoup(r.text, "html.parser")))
            part += 1
        assert r.status_code == 404
    return pages


def test_the_task_list_shows_each_section_with_its_status(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    r = c.get(f"/rounds/{rnd.id}/answers?lang=es")
    assert len(r.content) < BUDGET
    tasks = BeautifulSoup(r.text, "html.parser")
    assert tasks.select("form.answers tr[data-row]") == []  # no row: a list of sections
    theme = tasks.select_one("h2.answer-theme").text
    assert theme.startswith("TS5") and taxonomy.label("theme", 5, "es") in theme
    sections = sections_of(c, rnd)
    assert list(sections) == ["ts5-1", "ts5-2"]
    assert taxonomy.label("subtheme", "5.1", "es") in sections["ts5-1"].a.text
    assert sections["ts5-1"].a["href"] == f"/rounds/{rnd.id}/answers/ts5-1"
    status = sections["ts5-1"].select_one(".task-status")
    assert status.text == "Sin empezar: 6 disposiciones"
    assert sections["ts5-1"].a["aria-describedby"] == status["id"]
    assert tasks.select_one("#progress").text == f"0 de {rnd.statements} respondidas"
    days = drafts.days_left("2030-01-01")
    assert (
        f"Quedan {days} días: el plazo vence el 2030-01-01." in tasks.select_one(".deadline").text
    )
    # Two rows of the first section answered: in progress; all six: completed.
    first = soup_of(c, f"/rounds/{rnd.id}/answers/ts5-1")
    hidden, ids = hidden_of(first), ids_of(first)
    assert len(ids) == 6
    c.post(
        f"/rounds/{rnd.id}/answers/draft", data={**hidden, **{f"v:{s}": "valid" for s in ids[:2]}}
    )
    status = sections_of(c, rnd)["ts5-1"].select_one(".task-status")
    assert status.text == "En curso: 2 de 6 respondidas" and "task-in-progress" in status["class"]
    c.post(f"/rounds/{rnd.id}/answers/draft", data={**hidden, **{f"v:{s}": "valid" for s in ids}})
    sections = sections_of(c, rnd)
    assert sections["ts5-1"].select_one(".task-status").text == "Completada"
    assert sections["ts5-2"].select_one(".task-status").text == "Sin empezar: 25 disposiciones"
    assert "6 de 31 respondidas" in c.get(f"/rounds/{rnd.id}/answers").text
    # Only what is not completed.
    assert list(sections_of(c, rnd, "?show=unanswered")) == ["ts5-2"]
    # A round without a deadline says so.
    open_ended = new_round(store, deadline=None)
    page = c.get(f"/rounds/{open_ended.id}/answers").text
    assert "Esta ronda no tiene plazo." in page  # the language chosen above stays


def test_each_section_page_shows_its_full_statements_in_parts(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    c.get("/?lang=es")
    pages = pages_of(c, rnd)
    # 6 rows on one page; 25 in three parts of 8, 8 and 9.
    assert [(k, n, len(ids_of(p))) for k, n, p in pages] == [
        ("ts5-1", 1, 6), ("ts5-2", 1, 8), ("ts5-2", 2, 8), ("ts5-2", 3, 9)
    ]  # fmt: skip
    rows = [sid for _, _, p in pages for sid in ids_of(p)]
    assert len(rows) == rnd.statements == len(set(rows))  # every statement once
    assert all(len(ids_of(p)) <= ONE_PAGE for _, _, p in pages)
    page = pages[2][2]
    assert taxonomy.label("subtheme", "5.2", "es") in page.select_one("h1").text
    assert "parte 2 de 3" in page.select_one("h1").text
    assert hidden_of(page)["group"] == "ts5-2" and hidden_of(page)["part"] == "2"
    assert page.select_one("#progress").text == f"0 de {rnd.statements} respondidas"
    assert page.select_one("[data-group-progress=ts5-2]").text == "0 de 25 respondidas"
    assert page.select_one(".back-link a")["href"] == f"/rounds/{rnd.id}/answers"
    buttons = {b["value"]: b.text for b in page.select("form.answers button[name=next]")}
    assert buttons == {"next": "Guardar e ir a la parte 3", "stay": "Guardar como borrador"}
    assert "sección siguiente" in pages[0][2].select_one("button[value=next]").text
    assert "revisar" in pages[-1][2].select_one("button[value=next]").text
    # The full text, never cut off: the longest statement of the round as stored.
    (longest, _), *_ = sorted(
        store.statements_by_ids(rows), key=lambda sp: len(sp[0].text_es or sp[0].text), reverse=True
    )
    (shown,) = [
        p.select_one(f"tr#row-{longest.id} td.answer-statement p")
        for _, _, p in pages
        if p.select_one(f"tr#row-{longest.id}")
    ]
    assert shown.text == (longest.text_es or longest.text) and len(shown.text) > 300
    # Text areas for real text, every field labelled.
    assert int(page.select_one("form.answers textarea")["rows"]) >= 5
    for field in page.select("form.answers select, form.answers textarea"):
        assert page.select_one(f"label[for='{field['id']}']") is not None
    # Addresses that are no page of this form.
    for bad in ("ts5-3", "ts5-2?part=4", "ts9-1", "nothing"):
        assert c.get(f"/rounds/{rnd.id}/answers/{bad}").status_code == 404
    # The Secretariat answering for a country: its code in every link.
    sec = client_for(store, passwords, "sec")
    tasks = soup_of(sec, f"/rounds/{rnd.id}/answers?country=MEX")
    assert tasks.select_one(".task-list a")["href"] == f"/rounds/{rnd.id}/answers/ts5-1?country=MEX"
    section = soup_of(sec, f"/rounds/{rnd.id}/answers/ts5-2?country=MEX&part=2")
    assert hidden_of(section)["country"] == "MEX"
    assert section.select_one(".back-link a")["href"] == f"/rounds/{rnd.id}/answers?country=MEX"


def test_an_error_keeps_every_input_and_links_the_summary_to_the_field(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    soup = soup_of(c, f"/rounds/{rnd.id}/answers/ts5-2?part=2")
    hidden = hidden_of(soup)
    a, b, d = ids_of(soup)[:3]
    typed = {
        f"v:{a}": "valid",
        f"v:{b}": "no longer valid",
        f"c:{b}": "Superseded by the 2016 declaration.",
        f"v:{d}": "valid with changes",  # the proposed wording left empty
        f"c:{d}": "A comment, kept.",
    }
    r = c.post(f"/rounds/{rnd.id}/answers/draft?lang=es", data={**hidden, **typed, "next": "next"})
    assert r.status_code == 200
    assert len(r.content) < BUDGET
    page = BeautifulSoup(r.text, "html.parser")
    # The same page, the same part: not the next one.
    assert ids_of(page) == ids_of(soup) and hidden_of(page)["part"] == "2"
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
    reloaded = soup_of(c, f"/rounds/{rnd.id}/answers/ts5-2?part=2")
    assert reloaded.select_one(f"textarea#c-{d}").text == "A comment, kept."
    status = sections_of(c, rnd)["ts5-2"].select_one(".task-status").text
    assert status == "En curso: 3 de 25 respondidas"
    # The whole form sent at once (the older way, and scripts) keeps the input the same way,
    # refusing all, and shows the rows sent.
    r = c.post(f"/rounds/{rnd.id}/answers", data={**hidden, **typed})
    assert r.status_code == 400 and consult.opinions(store, rnd.id) == []
    page = BeautifulSoup(r.text, "html.parser")
    assert page.select_one(".error-summary a")["href"] == f"#w-{d}"
    assert page.select_one(f"textarea#c-{b}").text == "Superseded by the 2016 declaration."
    assert set(ids_of(page)) == {a, b, d}
    # …and, put right, saves them as answers and leaves no draft of them.
    typed[f"w:{d}"] = "Better words."
    r = c.post(f"/rounds/{rnd.id}/answers?lang=en", data={**hidden, **typed})
    assert r.status_code == 200 and "3 answers saved." in r.text
    assert {o.statement_id for o in consult.opinions(store, rnd.id)} == {a, b, d}
    assert drafts.drafts(store, rnd.id, "CRI") == {}


def test_each_row_is_kept_as_a_draft_without_building_a_page(site, monkeypatch):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    soup = soup_of(c, f"/rounds/{rnd.id}/answers/ts5-2")
    hidden = hidden_of(soup)
    sid, other = ids_of(soup)[:2]
    row = {
        "csrf": hidden["csrf"],
        "country": "CRI",
        f"v:{sid}": "valid with changes",
        f"w:{sid}": "New words, typed on a phone.",
        f"ver:{sid}": hidden[f"ver:{sid}"],
        f"sv:{sid}": hidden[f"sv:{sid}"],
    }
    # A row's save reads no statement's text: it answers the row's state and the counts only.
    with monkeypatch.context() as m:
        m.setattr(Store, "statements_by_ids", lambda *a: pytest.fail("a page was built"))
        r = c.post(f"/rounds/{rnd.id}/answers/row.json", data=row)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer == {
        "saved": True,
        "statement": sid,
        "problems": [],
        "progress": f"1 of {rnd.statements} answered",
        "group": {"key": "ts5-2", "progress": "1 of 25 answered"},
        "unsent": 1,
        "unsent_text": "1 answer saved as a draft, not yet submitted.",
    }
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
    page = soup_of(c, f"/rounds/{rnd.id}/answers/ts5-2?lang=en")
    assert page.select_one(f"select#v-{sid} option[selected]")["value"] == "valid with changes"
    assert page.select_one(f"textarea#w-{sid}").text == "New words, typed on a phone."
    assert "Draft, not yet submitted" in page.select_one(f"tr#row-{sid} [data-state]").text
    assert page.select_one(f"select#v-{other} option[selected]")["value"] == "no longer valid"
    assert page.select_one("#progress").text == f"2 of {rnd.statements} answered"
    assert consult.opinions(store, rnd.id) == []
    assert set(drafts.drafts(store, rnd.id, "CRI")) == {sid, other}
    # Drafts are per country: Mexico's form shows none of them, and Costa Rica cannot write them.
    mex = client_for(store, passwords, "mex")
    assert ids_of(soup_of(mex, f"/rounds/{rnd.id}/answers/ts5-2")) and not drafts.drafts(
        store, rnd.id, "MEX"
    )
    assert "New words" not in mex.get(f"/rounds/{rnd.id}/answers/ts5-2").text
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


def test_save_and_go_to_the_next_section_without_javascript(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    base = f"/rounds/{rnd.id}/answers"
    walked = []
    url = f"{base}/ts5-1"
    while url.startswith(f"{base}/ts"):
        page = soup_of(c, url)
        sid = ids_of(page)[0]
        r = c.post(f"{base}/draft", data={**hidden_of(page), f"v:{sid}": "abstain", "next": "next"})
        assert r.status_code == 303
        walked.append(url.removeprefix(base))
        url = r.headers["location"]
    assert walked == ["/ts5-1", "/ts5-2", "/ts5-2?part=2", "/ts5-2?part=3"]
    assert url == f"{base}/check"  # after the last page, "check your answers"
    assert len(drafts.drafts(store, rnd.id, "CRI")) == 4 and consult.opinions(store, rnd.id) == []
    # "Save as a draft" stays on the page, saying so.
    page = soup_of(c, f"{base}/ts5-2?part=2")
    sid = ids_of(page)[1]
    r = c.post(f"{base}/draft", data={**hidden_of(page), f"v:{sid}": "valid", "next": "stay"})
    assert r.status_code == 303 and r.headers["location"] == f"{base}/ts5-2?part=2&drafted=1"
    assert "Saved as a draft" in c.get(r.headers["location"]).text
    assert drafts.drafts(store, rnd.id, "CRI")[sid].value == "valid"


def test_check_your_answers_then_submit(site):
    store, passwords = site
    rnd = new_round(store)
    c = client_for(store, passwords, "cri")
    soup = soup_of(c, f"/rounds/{rnd.id}/answers/ts5-2?part=3")
    hidden = hidden_of(soup)
    a, b = ids_of(soup)[:2]
    c.post(
        f"/rounds/{rnd.id}/answers/draft",
        data={**hidden, f"v:{a}": "valid", f"v:{b}": "valid with changes"},
    )
    # "Check your answers" first shows each page of the form with its counts, and the summary of
    # problems linked to each field on its page; the submission is there.
    r = c.get(f"/rounds/{rnd.id}/answers/check")
    assert len(r.content) < BUDGET
    check = BeautifulSoup(r.text, "html.parser")
    pages = {r["id"].removeprefix("check-"): r for r in check.select(".summary-list .summary-row")}
    assert list(pages) == ["ts5-1", "ts5-2", "ts5-2-2", "ts5-2-3"]
    counts = " ".join(pages["ts5-2-3"].select_one("dd").get_text(" ").split())
    assert counts == (
        "2 of 9 answered : valid 1, valid with changes 1 "
        "2 answers saved as drafts, not yet submitted. 1 problem to put right"
    )
    assert pages["ts5-1"].select_one(".summary-actions a").text == "Change (" + (
        pages["ts5-1"].select_one("dt").text + ")"
    )
    where = f"/rounds/{rnd.id}/answers/ts5-2?part=3"
    assert check.select_one(".error-summary a")["href"] == f"{where}#w-{b}"
    unanswered = check.find("a", string=re.compile("statements not answered"))
    assert unanswered["href"] == f"/rounds/{rnd.id}/answers?show=unanswered"
    # Each page's answers in full, each with a link back to its row on its page.
    detail_url = pages["ts5-2-3"].select_one(".summary-actions a")["href"]
    assert detail_url == f"/rounds/{rnd.id}/answers/check?section=ts5-2&part=3"
    detail = soup_of(c, detail_url)
    rows = {r["id"].removeprefix("check-"): r for r in detail.select(".summary-list .summary-row")}
    assert set(rows) == {a, b}
    assert "valid" in rows[a].select_one("dd").text
    assert rows[a].select_one(".summary-actions a")["href"] == f"{where}#row-{a}"
    assert detail.select_one("form.submit-answers") is None
    assert detail.select_one(".back-link a")["href"] == f"/rounds/{rnd.id}/answers/check"
    assert c.get(f"/rounds/{rnd.id}/answers/check?section=ts5-2&part=4").status_code == 404
    assert c.get(f"/rounds/{rnd.id}/answers/check?section=x").status_code == 404
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
    check = soup_of(c, r.headers["location"])
    assert check.select_one(".error-summary") is None
    assert "Better words." in soup_of(c, detail_url).select_one(f"#check-{b}").text
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
    page = soup_of(c, where)
    assert "Submitted" in page.select_one(f"tr#row-{a} [data-state]").text
    assert "2 of 25 answered" in sections_of(c, rnd)["ts5-2"].text
    # Someone else submits meanwhile: a draft begun before is a conflict, nothing overwritten.
    c.post(f"/rounds/{rnd.id}/answers/draft", data={**hidden_of(page), f"v:{a}": "abstain"})
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


def test_a_small_round_is_one_page(site):
    store, passwords = site
    rnd = small_round(store)
    assert rnd.statements <= ONE_PAGE
    c = client_for(store, passwords, "cri")
    soup = soup_of(c, f"/rounds/{rnd.id}/answers")
    assert soup.select(".task-list") == [] and len(ids_of(soup)) == rnd.statements
    assert c.get(f"/rounds/{rnd.id}/answers/ts5-1").status_code == 200  # its one section
    # Saved section by section, coming back to it; the check page's links lead to this page.
    section = soup.select_one("section.answer-group")
    key = section["id"].removeprefix("group-")
    sid = section.select_one("tr[data-row]")["data-row"]
    r = c.post(
        f"/rounds/{rnd.id}/answers/draft",
        data={**hidden_of(soup), f"v:{sid}": "abstain", "group": key},
    )
    assert r.status_code == 303 and r.headers["location"].endswith(f"?drafted=1#group-{key}")
    assert "Saved as a draft" in c.get(r.headers["location"]).text
    assert drafts.drafts(store, rnd.id, "CRI")[sid].value == "abstain"
    check = soup_of(c, f"/rounds/{rnd.id}/answers/check")
    assert check.select_one("form.submit-answers") is not None
    assert check.select_one(f"#check-{sid} .summary-actions a")["href"] == (
        f"/rounds/{rnd.id}/answers#row-{sid}"
    )
    # Only the statements not answered.
    rest = soup_of(c, f"/rounds/{rnd.id}/answers?show=unanswered")
    assert sid not in ids_of(rest) and len(ids_of(rest)) == rnd.statements - 1
    # A problem: the whole page again, as typed.
    r = c.post(
        f"/rounds/{rnd.id}/answers/draft",
        data={**hidden_of(soup), f"v:{sid}": "no longer valid", "group": key},
    )
    page = BeautifulSoup(r.text, "html.parser")
    assert r.status_code == 200 and len(ids_of(page)) == rnd.statements
    assert page.select_one(".error-summary a")["href"] == f"#c-{sid}"


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
