"""The consultation's web pages in-process, on SQLite and PostgreSQL: sign-in, who sees what, CSRF
on every form, answers by form and by questionnaire, conflicts and closed rounds."""

from __future__ import annotations

import io
import re

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from rcm import consult
from rcm.export.questionnaire import write_questionnaire
from rcm.search import theme_filter
from webclient import add_people, client_for, csrf_of, login_token


@pytest.fixture
def site(store, compendium):
    store.ingest(compendium)
    passwords = add_people(store, "sec", "cri", "mex", "obs")
    rnd = consult.open_round(store, "TS5", filters=[theme_filter([5])], deadline="2030-01-01")
    return store, passwords, rnd


def test_sign_in_and_out(site):
    store, passwords, _ = site
    c = client_for(store)
    r = c.post("/login", data={"username": "cri", "password": passwords["cri"]})
    assert r.status_code == 403  # no login token: refused even with the right password
    r = c.post("/login", data={"username": "cri", "password": passwords["cri"], "csrf": "forged"})
    assert r.status_code == 403
    r = c.post(
        "/login", data={"username": "cri", "password": "wrong password", "csrf": login_token(c)}
    )
    assert r.status_code == 401 and "Wrong username or password" in r.text
    c = client_for(store, passwords, "cri")
    assert "Signed in as" in c.get("/rounds").text
    assert c.post("/logout", data={"csrf": "forged"}).status_code == 403
    token = csrf_of(c, "/rounds")
    assert c.post("/logout", data={"csrf": token}).status_code == 303
    assert c.get("/rounds/1/answers").status_code == 401
    # An open redirect is refused.
    fresh = client_for(store)
    r = fresh.post(
        "/login",
        data={
            "username": "cri",
            "password": passwords["cri"],
            "next": "//evil.example",
            "csrf": login_token(fresh),
        },
    )
    assert r.headers["location"] == "/rounds"


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        (None, "/rounds/{id}", 401),
        ("cri", "/rounds/{id}", 303),  # a focal point goes to their own answers
        ("sec", "/rounds/{id}", 200),
        ("obs", "/rounds/{id}", 200),
        (None, "/rounds/{id}/position", 401),
        ("cri", "/rounds/{id}/position", 403),
        ("sec", "/rounds/{id}/position", 200),
        (None, "/rounds/{id}/answers", 401),
        ("cri", "/rounds/{id}/answers", 200),
        ("cri", "/rounds/{id}/answers?country=MEX", 403),
        ("obs", "/rounds/{id}/answers", 403),
        ("sec", "/rounds/{id}/answers?country=MEX", 200),
        ("sec", "/rounds/{id}/answers", 400),  # the Secretariat must choose a country
        ("cri", "/rounds/{id}/questionnaire.xlsx", 200),
        ("cri", "/rounds/{id}/questionnaire.xlsx?country=MEX", 403),
        ("obs", "/rounds/{id}/questionnaire.xlsx?country=MEX", 403),
    ],
)
def test_who_sees_what(site, who, url, status):
    store, passwords, rnd = site
    c = client_for(store, passwords, who)
    assert c.get(url.format(id=rnd.id)).status_code == status


def answers_form(c: TestClient, rnd, country=None) -> dict[str, str]:
    url = f"/rounds/{rnd.id}/answers?show=all" + (f"&country={country}" if country else "")
    soup = BeautifulSoup(c.get(url).text, "html.parser")
    form = soup.select_one("form.answers")
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    return data


def test_answer_by_form(site):
    store, passwords, rnd = site
    c = client_for(store, passwords, "cri")
    data = answers_form(c, rnd)
    assert data["country"] == "CRI"
    r = c.post(f"/rounds/{rnd.id}/answers", data={**data, "csrf": "forged", "v:XII-8133": "valid"})
    assert r.status_code == 403 and consult.opinions(store, rnd.id) == []
    r = c.post(
        f"/rounds/{rnd.id}/answers",
        data={**data, "v:XII-8133": "valid", "v:XII-8033": "valid with changes"},
    )
    assert r.status_code == 400 and "needs the proposed wording" in r.text
    assert consult.opinions(store, rnd.id) == []  # all or nothing
    r = c.post(
        f"/rounds/{rnd.id}/answers",
        data={
            **data,
            "v:XII-8133": "valid",
            "v:XII-8033": "valid with changes",
            "w:XII-8033": "New words.",
        },
    )
    assert r.status_code == 200 and "2 answers saved" in r.text
    assert {o.statement_id: o.value.value for o in consult.opinions(store, rnd.id)} == {
        "XII-8133": "valid",
        "XII-8033": "valid with changes",
    }
    # Another writer changed it meanwhile: a conflict, not a silent overwrite.
    stale = answers_form(c, rnd)
    consult.set_opinion(store, rnd.id, "CRI", "XII-8133", "abstain", author="sec")
    r = c.post(
        f"/rounds/{rnd.id}/answers",
        data={**stale, "v:XII-8133": "no longer valid", "c:XII-8133": "Outdated."},
    )
    assert r.status_code == 409 and "reload" in r.text
    # The country field is checked against who is signed in.
    r = c.post(f"/rounds/{rnd.id}/answers", data={**data, "country": "MEX", "v:XII-8133": "valid"})
    assert r.status_code == 403


def test_closed_round_refuses_answers(site):
    store, passwords, rnd = site
    c = client_for(store, passwords, "sec")
    data = answers_form(c, rnd, "MEX")
    consult.close_round(store, rnd.id)
    r = c.post(f"/rounds/{rnd.id}/answers", data={**data, "v:XII-8133": "valid"})
    assert r.status_code == 403 and consult.opinions(store, rnd.id) == []


def test_answer_by_questionnaire(site):
    store, passwords, rnd = site
    c = client_for(store, passwords, "cri")
    wb = load_workbook(io.BytesIO(c.get(f"/rounds/{rnd.id}/questionnaire.xlsx").content))
    for row in wb["TS5"].iter_rows(min_row=2):
        if row[0].value == "XII-8133":
            row[3].value = "Yes"
    out = io.BytesIO()
    wb.save(out)
    token = answers_form(c, rnd)["csrf"]
    files = {"file": ("cri.xlsx", out.getvalue(), "application/octet-stream")}
    r = c.post(
        f"/rounds/{rnd.id}/questionnaire", data={"csrf": token, "country": "CRI"}, files=files
    )
    assert r.status_code == 200 and "1 answer saved" in r.text
    # Mexico's questionnaire sent by Costa Rica's focal point is refused.
    mexico = write_questionnaire(store, rnd.id, "MEX")
    files = {"file": ("mex.xlsx", mexico, "application/octet-stream")}
    r = c.post(
        f"/rounds/{rnd.id}/questionnaire", data={"csrf": token, "country": "CRI"}, files=files
    )
    assert r.status_code == 400 and "for MEX, not CRI" in r.text
    files = {"file": ("junk.xlsx", b"junk", "application/octet-stream")}
    r = c.post(f"/rounds/{rnd.id}/questionnaire", data={"csrf": token}, files=files)
    assert r.status_code == 400 and "not an .xlsx questionnaire" in r.text
    assert len(consult.opinions(store, rnd.id)) == 1


def test_dashboard_and_position(site):
    store, passwords, rnd = site
    consult.set_opinion(
        store, rnd.id, "CRI", "XII-8133", "no longer valid", reason="<i>Old</i>", author="cri"
    )
    c = client_for(store, passwords, "sec")
    page = c.get(f"/rounds/{rnd.id}").text
    assert "Answers by country and theme" in page and "table" in page
    assert BeautifulSoup(page, "html.parser").select("table.heat td.heat-0")
    soup = BeautifulSoup(page, "html.parser")
    row = next(tr for tr in soup.select("table.status tbody tr") if "XII-8133" in tr.text)
    assert "contested" in row.text and "✗" in row.text
    position = c.get(f"/rounds/{rnd.id}/position").text
    assert "Contested" in position and "&lt;i&gt;Old&lt;/i&gt;" in position


def test_published_rounds_are_public(site):
    store, _, rnd = site
    anonymous = client_for(store)
    assert f"/rounds/{rnd.id}" not in anonymous.get("/rounds").text
    public = consult.open_round(store, "Public", filters=[theme_filter([4])], public=True)
    consult.close_round(store, public.id)
    assert anonymous.get(f"/rounds/{public.id}").status_code == 200
    assert anonymous.get(f"/rounds/{public.id}/position").status_code == 200
    assert re.search(rf'href="/rounds/{public.id}"', anonymous.get("/rounds").text)


def test_the_secretariat_opens_and_closes_rounds(site):
    store, passwords, _ = site
    focal = client_for(store, passwords, "cri")
    token = csrf_of(focal, "/rounds")
    assert focal.post("/rounds", data={"csrf": token, "title": "Sneaky"}).status_code == 403
    sec = client_for(store, passwords, "sec")
    token = csrf_of(sec, "/rounds")
    assert sec.post("/rounds", data={"csrf": "forged", "title": "x"}).status_code == 403
    r = sec.post(
        "/rounds",
        data={
            "csrf": token,
            "title": "TS6 commitments",
            "theme": ["TS6"],
            "deadline": "2030-06-30",
            "public": "1",
        },
    )
    assert r.status_code == 303
    new_id = int(r.headers["location"].split("?")[0].rsplit("/", 1)[1])
    created = consult.get_round(store, new_id)
    assert (created.statements, created.scope, created.public) == (16, "theme is TS6", True)
    r = sec.post(f"/rounds/{new_id}/state", data={"csrf": token, "state": "closed"})
    assert r.status_code == 303 and consult.get_round(store, new_id).state == "closed"
    r = sec.post(f"/rounds/{new_id}/state", data={"csrf": token, "state": "open"})
    assert consult.get_round(store, new_id).state == "open"
    assert (
        focal.post(
            f"/rounds/{new_id}/state", data={"csrf": csrf_of(focal, "/rounds"), "state": "closed"}
        ).status_code
        == 403
    )


def test_observers_comment_but_never_answer(site):
    store, passwords, rnd = site
    obs = client_for(store, passwords, "obs")
    token = csrf_of(obs, f"/rounds/{rnd.id}")
    r = obs.post(
        f"/rounds/{rnd.id}/comments",
        data={"csrf": token, "statement": "XII-8133", "text": "IOM: <b>still</b> relevant."},
    )
    assert r.status_code == 303
    page = obs.get(f"/rounds/{rnd.id}").text
    assert "IOM: &lt;b&gt;still&lt;/b&gt; relevant." in page
    assert consult.opinions(store, rnd.id) == []  # a comment is not an answer
    assert consult.round_status(store, rnd.id)["countries"]["CRI"]["answered"] == 0
    cri = client_for(store, passwords, "cri")
    token = csrf_of(cri, f"/rounds/{rnd.id}/answers")
    r = cri.post(
        f"/rounds/{rnd.id}/comments", data={"csrf": token, "statement": "XII-8133", "text": "x"}
    )
    assert r.status_code == 403
    r = obs.post(
        f"/rounds/{rnd.id}/comments",
        data={"csrf": csrf_of(obs, f"/rounds/{rnd.id}"), "statement": "XIX-0021", "text": "x"},
    )
    assert r.status_code == 404  # not in this round
    assert len(consult.comments(store, rnd.id)) == 1


# --- the full matrix: role × route × round state -----------------------------------------

ROLES = [None, "sec", "cri", "mex", "obs"]


def expected(route: str, who: str | None, state: str) -> int:
    """What the rules say (README, "The consultation"): 401 signed out, 403 not allowed."""
    signed_in = who is not None
    staff = who in ("sec", "obs")
    if route in ("dashboard", "position"):
        if staff:
            return 200
        if who in ("cri", "mex"):
            return 303 if route == "dashboard" else 403
        return 401
    if not signed_in:
        return 401
    own = {"cri": "CRI", "mex": "MEX"}.get(who)
    if route in ("answers:CRI", "questionnaire:CRI"):
        return 200 if who == "sec" or own == "CRI" else 403
    if route == "post-answers:CRI":
        if who == "sec" or own == "CRI":
            return 200 if state == "open" else 403
        return 403
    if route == "post-comment":
        if who in ("sec", "obs"):
            return 303 if state == "open" else 409
        return 403
    if route == "post-state":
        return 303 if who == "sec" else 403
    raise AssertionError(route)


ROUTES = ["dashboard", "position", "answers:CRI", "questionnaire:CRI", "post-answers:CRI",
          "post-comment", "post-state"]  # fmt: skip


@pytest.mark.parametrize("state", ["open", "closed"])
def test_the_full_permission_matrix(site, state):
    store, passwords, rnd = site
    if state == "closed":
        consult.close_round(store, rnd.id)
    failures = []
    for who in ROLES:
        c = client_for(store, passwords, who)
        token = csrf_of(c, "/rounds") if who else "none"
        for route in ROUTES:
            if route == "dashboard":
                r = c.get(f"/rounds/{rnd.id}")
            elif route == "position":
                r = c.get(f"/rounds/{rnd.id}/position")
            elif route == "answers:CRI":
                r = c.get(f"/rounds/{rnd.id}/answers?country=CRI")
            elif route == "questionnaire:CRI":
                r = c.get(f"/rounds/{rnd.id}/questionnaire.xlsx?country=CRI")
            elif route == "post-answers:CRI":
                r = c.post(
                    f"/rounds/{rnd.id}/answers",
                    data={"csrf": token, "country": "CRI", "v:XII-8133": "abstain"},
                )
            elif route == "post-comment":
                r = c.post(
                    f"/rounds/{rnd.id}/comments",
                    data={"csrf": token, "statement": "XII-8133", "text": "note"},
                )
            else:  # post-state: a state change that is always possible from the current state
                target = "closed" if consult.get_round(store, rnd.id).state == "open" else "open"
                r = c.post(f"/rounds/{rnd.id}/state", data={"csrf": token, "state": target})
                if r.status_code == 303:  # put it back for the next role
                    consult._set_state(store, rnd.id, state, "test")
            want = expected(route, who, state)
            if r.status_code != want:
                failures.append(f"{who} {route} ({state}): {r.status_code}, expected {want}")
    assert not failures, "\n".join(failures)
    # Nobody wrote for Mexico, and only allowed writers wrote at all.
    written = {(o.country, o.author) for o in consult.opinions(store, rnd.id)}
    assert written <= ({("CRI", "sec"), ("CRI", "cri")} if state == "open" else set())


@pytest.mark.parametrize(
    "url",
    [
        "/rounds",
        "/rounds/{id}",
        "/rounds/{id}/position",
        "/rounds/{id}/answers?country=CRI",
        "/login",
    ],
)
def test_page_titles_are_plain_text(site, url):
    store, passwords, rnd = site
    page = client_for(store, passwords, "sec").get(url.format(id=rnd.id)).text
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and len(title) < 200
