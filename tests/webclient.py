"""Signing in to the real web app from tests: the login form's double-submit token, a page's CSRF
token, and a TestClient signed in as someone. Shared by the web tests."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from rcm import users
from rcm.store import Store
from rcm.web import create_app

# The people most web tests need: name -> (role, country).
PEOPLE = {
    "sec": ("secretariat", None),
    "cri": ("focal_point", "CRI"),
    "mex": ("focal_point", "MEX"),
    "obs": ("observer", None),
}


def add_people(store: Store, *names: str, **options: str) -> dict[str, str]:
    """Accounts for the named people of PEOPLE (default sec, cri, obs): name -> password."""
    passwords = {}
    for name in names or ("sec", "cri", "obs"):
        role, country = PEOPLE[name]
        _, passwords[name] = users.add_user(store, name, role, country=country, **options)
    return passwords


def csrf_of(c: TestClient, url: str) -> str:
    """The CSRF token in the first form of the page at url."""
    soup = BeautifulSoup(c.get(url).text, "html.parser")
    return str(soup.select_one("input[name=csrf]")["value"])


def login_token(c: TestClient) -> str:
    """The sign-in form's token (its cookie is set on the client as the page is read)."""
    return csrf_of(c, "/login")


def sign_in(c: TestClient, who: str, password: str, next: str | None = None) -> None:
    data = {"username": who, "password": password, "csrf": login_token(c)}
    if next is not None:
        data["next"] = next
    r = c.post("/login", data=data)
    assert r.status_code == 303, r.text
    if next is not None:
        assert r.headers["location"] == next


def client_for(
    store: Store,
    passwords: dict[str, str] | None = None,
    who: str | None = None,
    next: str = "/rounds",
) -> TestClient:
    """A client of a new app on store, signed in as `who` (with passwords[who]) if given."""
    c = TestClient(create_app(store), follow_redirects=False)
    if who:
        assert passwords is not None
        sign_in(c, who, passwords[who], next)
    return c
