"""Issue 13's web and store findings, on SQLite and PostgreSQL: ids beyond the integer range (404,
not 500), NUL characters in any field (400, nothing written), numbers in non-ASCII digits, no
caching of signed-in pages, declaration uploads (the file's own name in errors, a capped body)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rcm import consult, review
from rcm.cli import cli
from rcm.export.questionnaire import write_questionnaire
from rcm.search import theme_filter
from rcm.store import schema as t
from rcm.suggest import label_compendium
from rcm.web import create_app
from webclient import add_people, csrf_of, sign_in

DECLARATION = Path(__file__).parent / "data" / "declarations" / "xxii_rcm_en.txt"
# Just past PostgreSQL's INTEGER, past 64 bits, far past both.
BIG = (2**31, 2**63, 2**64, 10**40)
NUL_MESSAGE = "must not contain the NUL character"


@pytest.fixture
def site(store, compendium):
    store.ingest(label_compendium(compendium))
    passwords = add_people(store, "sec", "cri", "obs")
    rnd = consult.open_round(store, "TS5", filters=[theme_filter([5])], deadline="2030-01-01")
    return store, passwords, rnd


def clients(store, passwords):
    app = create_app(store)
    anonymous = TestClient(app, follow_redirects=False)
    signed = {}
    for who in ("sec", "cri", "obs"):
        signed[who] = TestClient(app, follow_redirects=False)
        sign_in(signed[who], who, passwords[who])
    return app, anonymous, signed


def counts(store) -> dict[str, int]:
    tables = (t.rounds, t.opinions, t.observer_comments, t.declarations, t.proposals, t.users)
    with store.connection() as conn:
        return {x.name: conn.scalar(select(func.count()).select_from(x)) for x in tables}


def int_path_routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, path, names of its integer path parameters) for every route of the app."""
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        names = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        for method in sorted(route.methods):
            if names:
                found.append((method, route.path, names))
    return found


def test_ids_beyond_the_integer_range_are_not_found(site):
    store, passwords, rnd = site
    app, anonymous, signed = clients(store, passwords)
    routes = int_path_routes(app)
    paths = {path for _, path, _ in routes}
    assert {"/rounds/{round_id}", "/review/{proposal_id}", "/gcm/{number}"} <= paths
    assert len(routes) >= 18
    for method, path, names in routes:
        for name in names:
            for value in (*BIG, -1):
                url = re.sub(r"\{(\w+)\}", "1", path.replace("{" + name + "}", str(value)))
                for c in (anonymous, signed["sec"], signed["cri"]):
                    r = c.request(method, url, data={"csrf": "x"})
                    assert r.status_code == 404, (method, url, r.status_code, r.text[:300])
    # The id a real round has still answers; its neighbours just past the range do not.
    assert signed["sec"].get(f"/rounds/{rnd.id}").status_code == 200
    assert anonymous.get("/api/themes/2147483647").status_code == 404
    r = anonymous.get("/api/gcm/2147483648")
    assert r.status_code == 404 and r.json()["error"]["status"] == 404
    # A query parameter holding an id: ignored when out of range, like any other non-number.
    for raw in ("2147483648", "99999999999999999999999", "²", "-1"):
        assert signed["sec"].get(f"/review?declaration={raw}").status_code == 200


def test_a_number_too_large_for_the_database_is_a_clear_error_in_the_core(site):
    store, _, _ = site
    for value in (2**31, 2**63):
        with pytest.raises(Exception) as caught:
            consult.get_round(store, value)
        assert type(caught.value).__name__ in ("BadInput", "NotFound"), caught.value


def nul_posts(store, rnd, signed):
    """(client, method, url, form) sending a NUL in each field of the issue, and more."""
    sid = consult.round_status(store, rnd.id)["statements"][0]["id"]
    sec, cri, obs = signed["sec"], signed["cri"], signed["obs"]
    tok = {who: csrf_of(c, "/rounds") for who, c in signed.items()}
    return [
        # proposed wording, and a comment on an answer
        (
            cri,
            f"/rounds/{rnd.id}/answers",
            {"csrf": tok["cri"], f"v:{sid}": "valid with changes", f"w:{sid}": "new\x00wording"},
        ),
        (
            cri,
            f"/rounds/{rnd.id}/answers",
            {"csrf": tok["cri"], f"v:{sid}": "valid", f"c:{sid}": "a\x00comment"},
        ),
        # an observer's comment
        (
            obs,
            f"/rounds/{rnd.id}/comments",
            {"csrf": tok["obs"], "statement": sid, "text": "observed\x00"},
        ),
        # a round's title and purpose
        (sec, "/rounds", {"csrf": tok["sec"], "title": "Round\x00 two", "theme": "TS5"}),
        (sec, "/rounds", {"csrf": tok["sec"], "title": "Round two", "purpose": "\x00"}),
    ]


def test_a_nul_in_any_field_is_a_clear_400_and_nothing_is_written(site):
    store, passwords, rnd = site
    app, anonymous, signed = clients(store, passwords)
    before = counts(store)
    for c, url, form in nul_posts(store, rnd, signed):
        r = c.post(url, data=form)
        assert r.status_code == 400, (url, form, r.status_code, r.text[:300])
        assert NUL_MESSAGE in r.text, (url, form)
    # sign-in: the username (a fresh client, with the form's own token)
    fresh = TestClient(app, follow_redirects=False)
    token = csrf_of(fresh, "/login")
    r = fresh.post("/login", data={"username": "sec\x00", "password": "x" * 12, "csrf": token})
    assert r.status_code == 400 and NUL_MESSAGE in r.text
    # the audit trail's filters, search, a statement's id, the API
    sec = signed["sec"]
    for url in ("/audit?actor=a%00b", "/audit?object=%00", "/audit?action=round.open%00"):
        r = sec.get(url)
        assert r.status_code == 400, (url, r.status_code, r.text[:300])
    # Search reads words (a NUL separates them); a statement's id never holds one: neither
    # reaches the database with it, on either backend.
    for url in ("/search?q=return%00", "/api/search?q=%00&meeting=XII", "/search?q=%00-x"):
        assert anonymous.get(url).status_code == 200, url
    for url in ("/statements/I-0593%00", "/api/statements/a%00", "/meetings/XII%00"):
        assert anonymous.get(url).status_code == 404, url
    # a declaration's fields on the review page
    token = csrf_of(sec, "/review")
    r = sec.post(
        "/review/declarations",
        data={"csrf": token, "meeting": "XXII", "year": "2017", "place": "San\x00 José"},
        files={"file": (DECLARATION.name, DECLARATION.read_bytes(), "text/plain")},
    )
    assert r.status_code == 400 and NUL_MESSAGE in r.text
    assert counts(store) == before
    # In Spanish too.
    r = sec.get("/audit?actor=%00&lang=es")
    assert r.status_code == 400 and "carácter NUL" in r.text


def test_a_nul_in_a_declaration_a_questionnaire_or_an_argument_of_the_cli(site, tmp_path):
    store, _, rnd = site
    before = counts(store)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--db", store.url, *args])

    declaration = tmp_path / "declaration.txt"
    declaration.write_bytes(DECLARATION.read_bytes().replace(b"migra", b"mi\x00gra", 1))
    r = run("declaration", "add", str(declaration), "--meeting", "XXII", "--year", "2017")
    assert r.exit_code == 4 and "declaration.txt: line " in r.output and "NUL" in r.output
    compilation = tmp_path / "compilation.txt"
    shipped = Path(__file__).parents[1] / "src" / "rcm" / "data" / "rcm_compilation_1996_2016.txt"
    compilation.write_bytes(shipped.read_bytes().replace(b"migrants", b"migr\x00ants", 1))
    r = run("ingest", str(compilation))
    assert r.exit_code == 4 and "compilation.txt: line " in r.output and "NUL" in r.output
    # an argument (a real shell cannot pass a NUL; click's runner can)
    r = run("declaration", "add", str(DECLARATION), "--meeting", "XXII", "--year", "2017")
    assert r.exit_code == 0, r.output
    after_one = counts(store)
    r = run("round", "open", "Title\x00")
    assert r.exit_code == 1 and NUL_MESSAGE in r.output, r.output
    # a questionnaire with a NUL in a comment (openpyxl refuses to write one: put it in the XML)
    import io
    import zipfile

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(write_questionnaire(store, rnd.id, "CRI")))
    sheet = book.worksheets[0]
    sheet.cell(2, 4, "Yes")
    sheet.cell(2, 6, "see NULHERE this")
    saved = io.BytesIO()
    book.save(saved)
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item).replace(b"NULHERE", b"\x00"))
    path = tmp_path / "cri.xlsx"
    path.write_bytes(out.getvalue())
    r = run("round", "import", str(rnd.id), str(path), "--as", "cri")
    assert r.exit_code not in (0, 70) and "cri.xlsx" in r.output, r.output
    assert "Traceback" not in r.output, r.output
    assert counts(store) == dict(after_one, declarations=after_one["declarations"])
    assert after_one["declarations"] == before["declarations"] + 1


@pytest.mark.parametrize("year", ["²", "٢٠١٧", "2017²", "99999999999999999999"])
def test_a_year_in_other_digits_is_refused_clearly(site, year):
    store, passwords, _ = site
    _, _, signed = clients(store, passwords)
    sec = signed["sec"]
    r = sec.post(
        "/review/declarations",
        data={"csrf": csrf_of(sec, "/review"), "meeting": "XXII", "year": year},
        files={"file": (DECLARATION.name, DECLARATION.read_bytes(), "text/plain")},
    )
    assert r.status_code == 400 and "Give the year of the meeting" in r.text


def test_other_numbers_in_other_digits(site):
    store, passwords, rnd = site
    _, anonymous, signed = clients(store, passwords)
    sec = signed["sec"]
    assert anonymous.get("/search?page=²").status_code == 400
    assert anonymous.get("/api/search?size=²").status_code == 400
    assert anonymous.get("/meetings/²").status_code == 404
    assert anonymous.get("/api/meetings/١٩").status_code == 404
    assert sec.get("/audit?offset=²").status_code == 200
    # a GCM objective in superscript digits, on the review page
    token = csrf_of(sec, "/review")
    r = sec.post(
        "/review/declarations",
        data={"csrf": token, "meeting": "XXII", "year": "2017"},
        files={"file": (DECLARATION.name, DECLARATION.read_bytes(), "text/plain")},
    )
    assert r.status_code == 303
    first = review.proposals(store, state="pending")[0]
    r = sec.post(
        f"/review/{first.id}/accept",
        data={"csrf": token, "text": first.text, "place": "5.1", "objective": "²³"},
    )
    assert r.status_code == 400 and "is not a GCM objective" in r.text
    # an answer's version in superscript digits is no version (the form is otherwise saved)
    sid = consult.round_status(store, rnd.id)["statements"][0]["id"]
    cri = signed["cri"]
    r = cri.post(
        f"/rounds/{rnd.id}/answers",
        data={"csrf": csrf_of(cri, "/rounds"), f"v:{sid}": "valid", f"ver:{sid}": "²"},
    )
    assert r.status_code == 200, r.text[:300]


def private_urls(rnd_id: int, proposal_id: int) -> list[str]:
    return [
        "/rounds",
        f"/rounds/{rnd_id}",
        f"/rounds/{rnd_id}/position",
        f"/rounds/{rnd_id}/answers?country=CRI",
        f"/rounds/{rnd_id}/questionnaire.xlsx?country=CRI",
        "/review",
        f"/review/{proposal_id}",
        "/users",
        "/account",
        "/audit",
        "/login",
    ]


def test_signed_in_pages_are_never_cached(site):
    store, passwords, _ = site
    _, anonymous, signed = clients(store, passwords)
    sec = signed["sec"]
    token = csrf_of(sec, "/review")
    r = sec.post(
        "/review/declarations",
        data={"csrf": token, "meeting": "XXII", "year": "2017"},
        files={"file": (DECLARATION.name, DECLARATION.read_bytes(), "text/plain")},
    )
    assert r.status_code == 303
    proposal = review.proposals(store, state="pending")[0]
    rnd = consult.list_rounds(store)[0]
    for url in private_urls(rnd.id, proposal.id):
        for c in (sec, anonymous):
            r = c.get(url)
            assert r.headers.get("cache-control") == "private, no-store", (url, r.status_code)
        assert sec.get(url).status_code in (200, 303), url
    # Public pages read by someone signed in are theirs too (a name in the header); the same
    # pages signed out, and the static files, may be cached.
    for url in ("/", "/search?q=return", "/statements/" + rnd_statement(store, rnd.id)):
        assert sec.get(url).headers.get("cache-control") == "private, no-store", url
        assert "no-store" not in anonymous.get(url).headers.get("cache-control", ""), url
    assert "no-store" not in sec.get("/static/site.css").headers.get("cache-control", "")
    # Every GET page of the app is in one group or the other: none is forgotten.
    app = create_app(store)
    private_paths = ("/rounds", "/review", "/users", "/account", "/audit", "/login")
    for route in app.routes:
        if (
            isinstance(route, APIRoute)
            and "GET" in route.methods
            and route.path.startswith(private_paths)
        ):
            url = re.sub(r"\{\w+\}", "1", route.path)
            assert anonymous.get(url).headers.get("cache-control") == "private, no-store", url


def rnd_statement(store, round_id: int) -> str:
    return str(consult.round_status(store, round_id)["statements"][0]["id"])


def test_declaration_errors_name_the_uploaded_file_not_a_temporary_path(site):
    store, passwords, _ = site
    _, _, signed = clients(store, passwords)
    sec = signed["sec"]
    token = csrf_of(sec, "/review")
    for name, data in [
        ("C:\\Users\\sec\\Desktop\\Declaración XXII.txt", b"\xff\xfe not utf-8 \xff"),
        ("declaration.docx", b"PK\x03\x04 not really a docx"),
        ("empty.txt", b""),
    ]:
        r = sec.post(
            "/review/declarations",
            data={"csrf": token, "meeting": "XXII", "year": "2017"},
            files={"file": (name, data, "application/octet-stream")},
        )
        assert r.status_code in (400, 422), r.text[:300]
        shown = Path(name.replace("\\", "/")).name
        assert shown in r.text, (name, r.text[:2000])
        assert "/tmp" not in r.text and "Users" not in r.text, r.text[:2000]


def test_a_declaration_upload_beyond_the_cap_is_refused_while_reading(site):
    from rcm.parse.declaration import MAX_BYTES

    store, passwords, _ = site
    _, _, signed = clients(store, passwords)
    sec = signed["sec"]
    token = csrf_of(sec, "/review")
    before = counts(store)
    big = b"x" * (MAX_BYTES + 200_000)
    r = sec.post(
        "/review/declarations",
        data={"csrf": token, "meeting": "XXII", "year": "2017"},
        files={"file": ("big.txt", big, "text/plain")},
    )
    assert r.status_code == 413 and "too large" in r.text
    # Without a Content-Length (chunked), the body is counted as it arrives.
    boundary = "rcmboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="year"\r\n\r\n2017\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    sent = []

    def chunks():
        yield head
        for _ in range(100):  # up to 10 MB, if nothing stopped reading
            sent.append(1)
            yield b"y" * 100_000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = sec.post(
        "/review/declarations",
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413
    assert counts(store) == before


def test_a_declaration_is_read_and_queued_off_the_event_loop(site, monkeypatch):
    """Reading a Word file and suggesting themes for each statement takes a while: the handler
    runs it in a worker thread, so the server's event loop keeps answering other requests."""
    import asyncio

    import rcm.web.review as web_review

    store, passwords, _ = site
    _, _, signed = clients(store, passwords)
    sec = signed["sec"]
    on_loop: list[bool] = []

    def watched(real):
        def run(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return real(*args, **kwargs)

        return run

    monkeypatch.setattr(
        web_review, "declaration_from_bytes", watched(web_review.declaration_from_bytes)
    )
    monkeypatch.setattr(web_review.review, "add_declaration", watched(review.add_declaration))
    r = sec.post(
        "/review/declarations",
        data={"csrf": csrf_of(sec, "/review"), "meeting": "XXII", "year": "2017"},
        files={"file": (DECLARATION.name, DECLARATION.read_bytes(), "text/plain")},
    )
    assert r.status_code == 303
    assert on_loop == [False, False]
