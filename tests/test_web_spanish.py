"""Every page of the web app, and every error page, in Spanish, on SQLite and PostgreSQL: no English
interface text may remain. Statement texts are English (marked ``lang="en"``) and are set aside,
with everything else an element marks ``lang="en"``; but no interface label (a theme's title, a
GCM objective's, a category's definition, a message of the catalog) may hide under such a mark.

How English is recognised (``english_words``): the words of the catalog's English messages, of the
core's messages (search errors, filter sentences) and of the taxonomy's English labels, less every
word that is also Spanish (it occurs in a Spanish message or label) and a few names that are the
same in both languages. A page's visible text (and its ``title``, ``aria-label`` and
``placeholder`` attributes) may hold none of them."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from fastapi.routing import APIRoute

from rcm import consult, edit, taxonomy
from rcm.model import MeetingRef
from rcm.search import (
    category_filter,
    describe_in,
    meeting_filter,
    multi_theme_filter,
    scope_in,
    subtheme_filter,
    theme_filter,
    xref_filter,
    year_filter,
)
from rcm.suggest import label_compendium
from rcm.web import create_app
from webclient import add_people, client_for, csrf_of

DATA = Path(__file__).parent / "data" / "declarations"
SEARCH_SOURCE = Path(__file__).parents[1] / "src" / "rcm" / "search.py"

# Words the same in both languages, or names: never evidence of English.
NEUTRAL = {
    "csv", "json", "word", "excel", "openapi", "api", "sha", "pdf", "docx", "xlsx", "txt",
    "ts1", "ts2", "ts3", "ts4", "ts5", "ts6", "id", "ok", "email", "web", "url", "error",
}  # fmt: skip


@cache
def catalog() -> list[tuple[str, str]]:
    po = files("rcm.web").joinpath("locales", "es", "LC_MESSAGES", "messages.po")
    with po.open("rb") as fh:
        cat = read_po(fh, locale="es")
    out = []
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strs = m.string if isinstance(m.string, tuple) else (m.string,)
        out += [(i, s) for i in ids for s in strs]
    return out


# Codes, not words: Roman numerals (meetings, statement ids) and the countries' ISO codes in
# capitals. "RCM" is not among them: in Spanish the Conference is the CRM.
ROMAN = re.compile(r"^[IVXLC]+$")
CODES = {c.iso3 for c in taxonomy.countries()} | {"PMM", "CRM", "UTC", "ISO", "JSON", "CSV"}


def _words(text: str) -> set[str]:
    text = re.sub(r"%\(\w+\)[sd]", " ", text)
    return {
        w.lower()
        for w in re.findall(r"[^\W\d_]+", text)
        if len(w) >= 3 and not ROMAN.match(w) and w not in CODES
    }


@cache
def english_words() -> frozenset[str]:
    english: set[str] = set()
    spanish: set[str] = set()
    for msgid, msgstr in catalog():
        english |= _words(msgid)
        if msgstr != msgid:  # an untranslated message is no evidence that its words are Spanish
            spanish |= _words(msgstr)
    # the core's messages shown on pages: search errors and filter sentences
    for literal in re.findall(r'"([^"\n]{8,})"', SEARCH_SOURCE.read_text(encoding="utf-8")):
        if " " in literal and not literal.startswith(("SELECT", "(c.", "c.")):
            english |= _words(literal)
    for (scheme, notation), lab in taxonomy.labels("es").items():
        spanish |= _words(lab.text)
        english |= _words(taxonomy.label(scheme, notation, "en"))
    return frozenset(english - spanish - NEUTRAL)


@cache
def interface_labels() -> frozenset[str]:
    """English interface texts long enough to be recognised whole where they hide."""
    found = {msgid for msgid, _ in catalog() if len(msgid) > 12 and "%(" not in msgid}
    found |= {
        taxonomy.label(scheme, notation, "en")
        for scheme, notation in taxonomy.labels("es")
        if scheme != "category"
    }
    return frozenset(t for t in found if len(t) > 12)


def english_in(html: str) -> list[str]:
    """The English of a Spanish page: its interface words, and labels hidden under lang="en"."""
    soup = BeautifulSoup(html, "html.parser")
    # code: identifiers and machine text (the audit trail's actions and JSON values)
    for tag in soup(["script", "style", "template", "code"]):
        tag.decompose()
    problems = []
    for tag in soup.select('[lang="en"]'):
        text = " ".join(tag.get_text(" ").split())
        hidden = [label for label in interface_labels() if label == text or f"— {label}" == text]
        problems += [f'interface text marked lang="en": {h!r}' for h in hidden]
    for tag in soup.select('[lang="en"]'):
        tag.decompose()
    for tag in soup.select("[data-lang]"):  # the language switcher names each language in itself
        tag.decompose()
    texts = [soup.get_text(" ")]
    for attr in ("title", "aria-label", "placeholder"):
        texts += [str(t[attr]) for t in soup.select(f"[{attr}]")]
    words = english_words()
    for text in texts:
        for w in sorted(_words(text) & words):
            at = re.search(rf"(?i).{{0,40}}\b{re.escape(w)}\b.{{0,40}}", " ".join(text.split()))
            problems.append(f"English word {w!r}: …{at.group(0) if at else ''}…")
    return problems


@pytest.fixture
def site(store, compendium):
    store.ingest(label_compendium(compendium))
    passwords = add_people(store, "sec", "cri", "mex", "obs")
    rnd = consult.open_round(store, "TS5", filters=[theme_filter([5])], deadline="2030-01-01")
    with store.connection() as conn:
        scope = sorted(consult._scope(conn, rnd.id))
    consult.set_opinion(store, rnd.id, "CRI", scope[0], "valid", author="cri")
    consult.set_opinion(
        store, rnd.id, "MEX", scope[0], "no longer valid", reason="Ya no aplica.", author="mex"
    )
    sid = scope[0]
    s, _ = store.statement(sid)
    seen = edit.last_event(store, sid)
    edit.edit_statement(
        store,
        sid,
        expected_version=s.version,
        seen_event=seen,
        category="understanding"
        if s.category and s.category.value != "understanding"
        else "principle",
        actor="sec",
        origin="web",
    )
    sec = client_for(store, passwords, "sec")
    token = csrf_of(sec, "/review")
    r = sec.post(
        "/review/declarations",
        data={"csrf": token, "meeting": "XXII", "year": "2017"},
        files={"file": ("xxii_rcm_en.txt", (DATA / "xxii_rcm_en.txt").read_bytes(), "text/plain")},
    )
    assert r.status_code == 303, r.text
    return store, passwords, rnd, sid


def visit(c, url, status=200, **kwargs):
    sep = "&" if "?" in url else "?"
    r = c.get(url + sep + "lang=es", **kwargs)
    assert r.status_code == status, (url, r.status_code, r.text[:400])
    assert r.headers["content-type"].startswith("text/html"), url
    return r.text


def html_routes(app) -> set[str]:
    """Every GET route that answers with a page (not the API, downloads or files)."""
    out = set()
    for route in app.routes:
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        path = route.path
        if path.startswith(("/api", "/vocab", "/static", "/openapi", "/docs")):
            continue
        if path in ("/categories.css", "/healthz") or re.search(
            r"\.(csv|json|docx|xlsx|pdf)$", path
        ):
            continue
        out.add(path)
    return out


def pages_to_visit(store, rnd, sid):
    from rcm import review

    proposal = review.proposals(store, declaration_id=1)[0].id
    sub = next(th for th in store.themes() if th.subthemes)
    # (who, url, status, route it covers)
    return [
        (None, "/", 200, "/"),
        (None, f"/statements/{sid}", 200, "/statements/{statement_id}"),
        (None, f"/statements/{sid}/history", 200, "/statements/{statement_id}/history"),
        ("sec", f"/statements/{sid}/history", 200, "/statements/{statement_id}/history"),
        ("sec", f"/statements/{sid}", 200, "/statements/{statement_id}"),
        ("sec", f"/statements/{sid}/edit", 200, "/statements/{statement_id}/edit"),
        (None, "/themes", 200, "/themes"),
        (None, "/themes/5", 200, "/themes/{number}"),
        (None, f"/themes/{sub.number}/1", 200, "/themes/{number}/{order}"),
        (None, "/meetings", 200, "/meetings"),
        (None, "/meetings/XIX", 200, "/meetings/{code}"),
        (None, "/about", 200, "/about"),
        (None, "/gcm", 200, "/gcm"),
        (None, "/gcm/10", 200, "/gcm/{number}"),
        (None, "/search", 200, "/search"),
        (None, "/search?q=trafficking", 200, "/search"),
        (None, "/search?q=trata+de+personas&theme=TS5&theme=TS3&meeting=XII..XXI", 200, "/search"),
        (
            None,
            "/search?subtheme=TS3.2&category=commitment&category=unassigned&year=2005..&several=yes"
            "&xref=TS1",
            200,
            "/search",
        ),
        (None, "/search?meeting=XIX&year=..2010&several=no", 200, "/search"),
        (None, "/search?q=zzzzqqq+xxyyzz", 200, "/search"),
        (None, '/search?q="desequilibrada', 400, "/search"),
        (None, "/search?q=de+la", 400, "/search"),
        (None, "/search?theme=TS9", 400, "/search"),
        (None, "/search?meeting=XXI..XII", 400, "/search"),
        (None, "/search?page=x", 400, "/search"),
        (None, "/login", 200, "/login"),
        (None, "/rounds", 200, "/rounds"),
        ("sec", "/rounds", 200, "/rounds"),
        ("sec", f"/rounds/{rnd.id}", 200, "/rounds/{round_id}"),
        ("obs", f"/rounds/{rnd.id}", 200, "/rounds/{round_id}"),
        ("sec", f"/rounds/{rnd.id}/position", 200, "/rounds/{round_id}/position"),
        ("cri", f"/rounds/{rnd.id}/answers", 200, "/rounds/{round_id}/answers"),
        ("sec", f"/rounds/{rnd.id}/answers?country=MEX", 200, "/rounds/{round_id}/answers"),
        ("cri", f"/rounds/{rnd.id}/answers/check", 200, "/rounds/{round_id}/answers/check"),
        (
            "cri",
            f"/rounds/{rnd.id}/answers/check?section=ts5-1",
            200,
            "/rounds/{round_id}/answers/check",
        ),
        ("cri", f"/rounds/{rnd.id}/answers?show=unanswered", 200, "/rounds/{round_id}/answers"),
        ("cri", f"/rounds/{rnd.id}/answers/ts5-1", 200, "/rounds/{round_id}/answers/{key}"),
        ("cri", f"/rounds/{rnd.id}/answers/ts5-2?part=3", 200, "/rounds/{round_id}/answers/{key}"),
        (
            "sec",
            f"/rounds/{rnd.id}/answers/ts5-2?country=MEX&part=2",
            200,
            "/rounds/{round_id}/answers/{key}",
        ),
        ("cri", f"/rounds/{rnd.id}/answers/ts9-9", 404, None),
        (
            "sec",
            f"/rounds/{rnd.id}/answers/check?country=MEX",
            200,
            "/rounds/{round_id}/answers/check",
        ),
        ("sec", "/review", 200, "/review"),
        ("sec", "/review?declaration=1", 200, "/review"),
        ("sec", f"/review/{proposal}", 200, "/review/{proposal_id}"),
        ("sec", "/review/translations", 200, "/review/translations"),
        ("sec", "/users", 200, "/users"),
        ("sec", "/audit", 200, "/audit"),
        ("sec", "/account", 200, "/account"),
        ("cri", "/account", 200, "/account"),
        # errors
        (None, "/no/such/page", 404, None),
        (None, "/statements/NOPE-1", 404, None),
        (None, "/themes/9", 404, None),
        (None, "/meetings/nonsense", 404, None),
        (None, "/gcm/99", 404, None),
        (None, f"/rounds/{rnd.id}/position", 401, None),
        ("cri", f"/rounds/{rnd.id}/position", 403, None),
        ("cri", "/review", 403, None),
        ("obs", f"/statements/{sid}/edit", 403, None),
    ]


def test_every_page_and_error_in_spanish_has_no_english(site):
    store, passwords, rnd, sid = site
    clients = {None: client_for(store)} | {
        who: client_for(store, passwords, who) for who in ("sec", "cri", "obs")
    }
    covered, problems = set(), []
    for who, url, status, route in pages_to_visit(store, rnd, sid):
        html = visit(clients[who], url, status)
        problems += [f"{url} ({who or 'anonymous'}): {p}" for p in english_in(html)]
        covered.add(route)
    missing = html_routes(create_app(store)) - covered - {"/rounds/{round_id}/questionnaire.xlsx"}
    assert not missing, f"pages not visited in Spanish: {sorted(missing)}"
    assert not problems, "\n".join(problems)


def test_a_conflicting_edit_in_spanish_has_no_english(site):
    store, passwords, _, sid = site
    one, two = client_for(store, passwords, "sec"), client_for(store, passwords, "sec")
    forms = []
    for c in (one, two):
        soup = BeautifulSoup(c.get(f"/statements/{sid}/edit").text, "html.parser")
        form = soup.select_one("form.edit-statement")
        data: dict = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        for area in form.select("textarea"):
            data[area["name"]] = area.text
        data["place"] = [i["value"] for i in form.select("input[name=place][checked]")]
        data["objective"] = [i["value"] for i in form.select("input[name=objective][checked]")]
        chosen = form.select_one("input[name=category][checked]")
        data["category"] = chosen["value"] if chosen else ""
        forms.append(data)
    other = next(x for x in ("principle", "commitment") if x != forms[0]["category"])
    assert (
        one.post(f"/statements/{sid}/edit", data=forms[0] | {"category": other}).status_code == 303
    )
    r = two.post(f"/statements/{sid}/edit?lang=es", data=forms[1] | {"text": "Otra redacción."})
    assert r.status_code == 409
    assert not english_in(r.text), "\n".join(english_in(r.text))


def test_the_check_finds_english():
    """The check can fail: an untranslated message, a hidden label, a raw ISO code is not English
    but an English theme title in a Spanish page is."""
    page = '<html lang="es"><body><p>Buscar</p><p>{}</p></body></html>'
    assert english_in(page.format("No statement matches."))
    assert english_in(page.format(taxonomy.label("theme", 5, "en")))
    assert english_in(page.format(f'<span lang="en">{taxonomy.label("gcm", 10, "en")}</span>'))
    assert not english_in(page.format('<span lang="en">We commit to protect migrants.</span>'))
    assert not english_in(page.format(taxonomy.label("theme", 5, "es")))


def test_labels_in_both_languages():
    for th in taxonomy.themes():
        assert taxonomy.label("theme", th.number, "en") == th.title
        assert taxonomy.label("theme", th.number, "es") != th.title
        assert taxonomy.label("theme_un", th.number, "es") != th.un_title
        for sub in th.subthemes:
            assert taxonomy.label("subtheme", f"{th.number}.{sub.order}", "es")
    for o in taxonomy.gcm_objectives():
        assert taxonomy.label("gcm", o.number, "es") != o.title
    for p in taxonomy.gcm_principles():
        assert taxonomy.label("principle", p.letter, "es") != p.name
    for c in taxonomy.categories():
        es = taxonomy.label("category_definition", c.category.value, "es")
        assert es != c.definition and es.endswith(".")
    every = taxonomy.labels("es").values()
    assert all(lab.source for lab in every)  # each label says where it comes from
    assert taxonomy.country_name("MEX", "es") == "México"
    assert taxonomy.meeting_label("XIX", "es") == "XIX CRM"
    assert taxonomy.meeting_label("XXV-E1", "es") == "Reunión Extraordinaria de la XXV CRM"
    with pytest.raises(ValueError):
        taxonomy.label("nonsense", 1, "es")


# --- a round's scope in the reader's language ----------------------------------------------------


def test_a_rounds_scope_is_said_in_spanish(site):
    store, passwords, rnd, _ = site
    assert rnd.scope == "theme is TS5"  # recorded in English
    assert english_in(f"<p>{rnd.scope}</p>")  # and the check would see it unmarked
    clients = {who: client_for(store, passwords, who) for who in ("sec", "cri")}
    for who, url in (
        ("sec", "/rounds"),
        ("sec", f"/rounds/{rnd.id}"),
        ("cri", f"/rounds/{rnd.id}/answers"),
        ("cri", f"/rounds/{rnd.id}/answers/check"),
    ):
        soup = BeautifulSoup(visit(clients[who], url), "html.parser")
        text = " ".join(soup.get_text(" ").split())
        assert "el tema es TS5" in text, url
        assert "theme is" not in text, url
        marked = " ".join(t.get_text(" ") for t in soup.select('[lang="en"]'))
        assert "TS5" not in marked, url
    # In English, as recorded.
    soup = BeautifulSoup(clients["sec"].get(f"/rounds/{rnd.id}?lang=en").text, "html.parser")
    assert "theme is TS5" in soup.get_text(" ")


SCOPES = [
    [theme_filter([1, 3, 5])],
    [xref_filter([3]), year_filter(None, 2001)],
    [category_filter(["commitment", "unassigned"]), year_filter(2005, 2010)],
    [meeting_filter(19, None), multi_theme_filter(True)],
    [meeting_filter(12, 21), year_filter(2010, None)],
    [meeting_filter(MeetingRef(25, 1), MeetingRef(25, 1)), multi_theme_filter(False)],
    [year_filter(2008, 2008), meeting_filter(None, 7)],
]


@pytest.mark.parametrize("filters", SCOPES, ids=lambda fs: " and ".join(f.sentence for f in fs))
def test_a_scope_read_back_says_what_the_search_page_says(filters):
    from rcm.web import i18n

    sentence = " and ".join(f.sentence for f in filters)
    said = scope_in(sentence, "es", i18n.translations("es").gettext)
    assert said == describe_in(None, filters, "es", i18n.translations("es").gettext)
    assert scope_in(sentence, "en", str) == sentence


def test_a_subtheme_scope_and_an_unreadable_one():
    from rcm.web import i18n

    gettext = i18n.translations("es").gettext
    titles = {(3, 2): "Protection and assistance, and return", (5, 1): "Trafficking"}
    f = subtheme_filter([(3, 2), (5, 1)], titles)
    assert scope_in(f.sentence, "es", gettext) == describe_in(None, [f], "es", gettext)
    assert scope_in("all statements", "es", gettext) == "todas las disposiciones"
    for odd in ("theme is TS9", "statements like 10.1", "year is soon", "theme is TS5 and"):
        assert scope_in(odd, "es", gettext) is None, odd
    # Such a sentence is shown as it is, marked English.
    token = i18n.current.set("es")
    try:
        assert str(i18n.round_scope("statements like <b>")) == (
            '<span lang="en">statements like &lt;b&gt;</span>'
        )
        assert str(i18n.round_scope("theme is TS2")) == "el tema es TS2"
    finally:
        i18n.current.reset(token)
