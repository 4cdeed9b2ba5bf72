"""End to end in a real browser: Debian's Chromium driven by Playwright against the app served by
uvicorn on loopback. `.ci/run` installs Chromium when it is missing; elsewhere these tests skip
(saying why) unless RCM_REQUIRE_BROWSER is set."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from browserkit import chromium, require_chromium, served

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    from rcm.parse import read_compilation
    from rcm.store import Store
    from rcm.suggest import label_compendium

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('web') / 'rcm.db'}", create=True)
    store.ingest(label_compendium(read_compilation()))
    from rcm import consult, users
    from rcm.search import theme_filter

    users.add_user(store, "cri", "focal_point", country="CRI", password="costa rica focal point")
    users.add_user(store, "sec", "secretariat", password="secretariat password")
    consult.open_round(store, "Inputs 2017", filters=[theme_filter([5])])
    with served(store) as url:
        yield url
    store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("home")) as b:
        yield b


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    pg = context.new_page()
    yield pg
    context.close()


def test_search_then_open_a_statement(server, page):
    page.goto(server + "/")
    page.fill("#q", "trafficking")
    page.press("#q", "Enter")
    expect(page).to_have_url(f"{server}/search?q=trafficking")
    expect(page.locator(".summary")).to_contain_text("25 statements")
    first = page.locator(".hit-title > a").first
    sid = first.inner_text()
    first.click()
    expect(page.locator("h1")).to_have_text(f"Statement {sid}")
    expect(page.locator("#citation")).to_contain_text(sid)


def test_refine_with_a_facet_and_sort(server, page):
    page.goto(server + "/search?q=trafficking")
    page.locator(".facets a", has_text="TS3").first.click()
    expect(page.locator(".summary")).to_contain_text("theme is TS3")
    page.select_option("#sort", "newest")  # site.js submits on change
    expect(page).to_have_url(re.compile(r"sort=newest"))
    expect(page.locator("#sort")).to_have_value("newest")


def test_switch_language_and_it_is_remembered(server, page):
    page.goto(server + "/")
    page.click("a[data-lang=es]")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text(
        "Las disposiciones de la Conferencia Regional sobre Migración"
    )
    page.click("text=Temas")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Temas")


def test_download_csv(server, page, tmp_path):
    page.goto(server + "/search?q=maras+OR+terrorist")
    with page.expect_download() as info:
        page.click("text=CSV")
    target = tmp_path / "result.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    # The columns of `rcm export --format csv` (one CSV writer): the label beside the number.
    assert {r["meeting_label"] for r in rows} == {"IX RCM", "VII RCM"}
    assert {r["meeting"] for r in rows} == {"7", "9"}


def test_keyboard_reaches_the_search_box(server, page):
    page.goto(server + "/")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(server + "/#main")


def test_works_without_javascript(server, browser):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(server + "/")
    pg.fill("#q", '"unaccompanied migrant children"')
    pg.press("#q", "Enter")
    expect(pg.locator(".summary")).to_contain_text("statements")
    assert pg.locator("li.hit").count() >= 1
    context.close()


def test_unknown_statement_shows_a_404_page(server, page):
    response = page.goto(server + "/statements/XIX-0000")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")


def sign_in(page: Page, server: str, username: str, password: str) -> None:
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.login button[type=submit]")


def test_a_round_end_to_end(server, page, tmp_path):
    from openpyxl import load_workbook

    # The focal point answers in the browser…
    sign_in(page, server, "cri", "costa rica focal point")
    page.goto(server + "/rounds/1/answers")
    expect(page.locator("h1")).to_contain_text("CRI")
    # The task list: a section, its first statement answered; then on, section by section.
    expect(page.locator("#status-ts5-1")).to_have_text("Not started: 6 statements")
    page.click("ul.task-list a[href$='/answers/ts5-1']")
    page.select_option("#v-XII-8133", "valid")
    expect(page.locator("#row-XII-8133 [data-state]")).to_have_text("Saved as a draft")
    for _ in range(3):  # the next section, in three parts: to its third
        page.click("form.answers button[value=next]")
    expect(page.locator("h1")).to_contain_text("part 3 of 3")
    page.select_option("#v-XII-8033", "valid with changes")
    page.fill("#w-XII-8033", "Victims shall not be prosecuted.")
    # Kept as drafts as they are given; checked, then submitted.
    page.click("form.answers button[value=next]")  # the last page: "Save and check"
    expect(page.locator("#check-ts5-1")).to_contain_text("1 of 6 answered")
    page.click("#check-ts5-2-3 >> text=Check these answers")
    expect(page.locator("#check-XII-8033")).to_contain_text("Victims shall not be prosecuted.")
    page.click("text=All your answers >> nth=0")
    page.click("form.submit-answers button[type=submit]")
    expect(page.locator(".saved")).to_contain_text("2 answers submitted")
    # …and through the questionnaire: download, fill in, send back.
    with page.expect_download() as info:
        page.click("text=Download the questionnaire (.xlsx)")
    path = tmp_path / "cri.xlsx"
    info.value.save_as(path)
    wb = load_workbook(path)
    for row in wb["TS5"].iter_rows(min_row=2):
        if row[0].value == "XIX-9805":
            row[3].value = "No"
            row[5].value = "Superseded."
    wb.save(path)
    page.set_input_files("#file", str(path))
    page.click("form.upload button[type=submit]")
    expect(page.locator(".saved")).to_contain_text("1 answer saved")
    page.click("form.account button[type=submit]")
    # The Secretariat sees the dashboard and the regional position.
    sign_in(page, server, "sec", "secretariat password")
    page.goto(server + "/rounds/1")
    expect(page.locator("table.heat")).to_be_visible()
    expect(page.locator("table.heat tbody tr", has_text="Costa Rica")).to_contain_text("3 of 31")
    row = page.locator("table.status tbody tr", has_text="XIX-9805")
    expect(row).to_contain_text("contested")
    page.click("text=Regional position")
    expect(page.locator("h1")).to_have_text("Regional position")
    # contested, with its reason
    expect(page.locator("dl.by-country")).to_contain_text("Costa Rica CRI")
    expect(page.locator("dl.by-country")).to_contain_text("Superseded.")
    with page.expect_download() as info:
        page.click("text=Download as Word (.docx)")
    assert info.value.suggested_filename == "rcm-round-1-position-en.docx"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_dashboard_and_position_on_a_phone(server, browser, lang):
    """At 390 px the page itself never scrolls sideways: the wide tables scroll in their box."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    sign_in(page, server, "sec", "secretariat password")
    for url in ("/rounds/1", "/rounds/1/position"):
        page.goto(f"{server}{url}?lang={lang}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, lang, width)
    page.goto(f"{server}/rounds/1?lang={lang}")
    boxes = page.locator(".dash-scroll")
    assert boxes.count() == 3
    # The statements' table is wider than the phone: its box scrolls, and takes the keyboard.
    scrolls = boxes.nth(2).evaluate("b => b.scrollWidth > b.clientWidth")
    assert scrolls and boxes.nth(2).get_attribute("tabindex") == "0"
    context.close()


def test_review_a_new_declaration(server, page):
    """The Secretariat adds a declaration, accepts one statement with a change, rejects another,
    and finds the accepted one in the compendium and in the GCM matrix."""
    sign_in(page, server, "sec", "secretariat password")
    page.goto(server + "/review")
    sample = Path(__file__).parent / "data" / "declarations" / "xxii_rcm_en.txt"
    page.set_input_files("#file", str(sample))
    page.fill("#meeting", "XXII")
    page.fill("#year", "2017")
    page.click("form.add-declaration button[type=submit]")
    expect(page.locator("table.declarations")).to_contain_text("XXII RCM")
    page.locator("table.proposals a", has_text="Review").first.click()
    expect(page.locator(".suggested-category")).to_contain_text("confidence")
    page.select_option("#category", "principle")
    page.check("input[name=place][value='1.1']")
    page.click("form.accept button[type=submit]")
    # on to the next statement of the declaration, which we reject
    expect(page.locator("h1")).to_contain_text("Review")
    page.fill("#reason", "Not an operative paragraph.")
    page.click("form.reject button[type=submit]")
    page.goto(server + "/review?state=accepted")
    page.locator("table.proposals a", has_text="XXII-").first.click()
    expect(page.locator("h1")).to_contain_text("XXII-")
    expect(page.locator(".meta")).to_contain_text("XXII RCM")
    expect(page.locator(".meta")).to_contain_text("principle")
    page.goto(server + "/gcm")
    expect(page.locator("table.coverage tbody tr")).to_have_count(23)


def test_correct_the_review_queue(server, page, tmp_path):
    """The Secretariat promotes a preamble paragraph to a statement and splits a list of
    instructions in two on the review pages."""
    sign_in(page, server, "sec", "secretariat password")
    sample = Path(__file__).parent / "data" / "declarations" / "xxii_rcm_en.txt"
    corrected = tmp_path / "xxiii_rcm_en.txt"  # another file: a declaration is added once
    corrected.write_text(sample.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    page.goto(server + "/review")
    page.set_input_files("#file", str(corrected))
    page.fill("#meeting", "XXIII")
    page.fill("#year", "2018")
    page.click("form.add-declaration button[type=submit]")
    expect(page.locator("section.declaration h2")).to_contain_text("XXIII RCM")
    rows = page.locator("table.proposals tbody tr").count()
    expect(page.locator("ol.preamble > li")).to_have_count(7)
    page.click("#preamble-2 form.promote button")
    expect(page.locator(".meta")).to_contain_text("promoted from the preamble, paragraph 2")
    expect(page.locator("blockquote.draft")).to_contain_text("Recognizing that migration")
    page.click("text=XXIII RCM (2018)")
    expect(page.locator("#preamble-2 .promoted")).to_contain_text("Review")
    expect(page.locator("table.proposals tbody tr")).to_have_count(rows + 1)
    listed = page.locator("table.proposals tr", has_text="Instruct the Technical Secretariat")
    listed.locator("a").first.click()
    expect(page.locator("ol.split-points li")).to_have_count(3)
    page.check("ol.split-points input[value='3']")
    page.click("form.split button[type=submit]")
    expect(page.locator("blockquote.draft li")).to_have_count(2)
    page.click("text=XXIII RCM (2018)")
    expect(page.locator("table.proposals tbody tr")).to_have_count(rows + 2)
    expect(page.locator("table.proposals")).to_contain_text(
        "Instruct the Technical Secretariat to: report on the results"
    )


def test_people_and_passwords(server, browser):
    """The Secretariat adds a focal point on the web and hands over the generated password; the
    focal point signs in with it and changes it; the change is in the audit trail."""
    sec = browser.new_page()
    sign_in(sec, server, "sec", "secretariat password")
    sec.goto(server + "/rounds")
    sec.click("form.account a:has-text('People')")
    expect(sec.locator("h1")).to_have_text("People")
    sec.fill("#username", "hnd")
    sec.fill("#name", "Honduras focal point")
    sec.select_option("#role", "focal_point")
    sec.select_option("#country", "HND")
    sec.click("form.add-user button[type=submit]")
    generated = sec.locator(".issued code.password").inner_text()
    expect(sec.locator("tr[data-username=hnd]")).to_contain_text("Honduras focal point")

    fp = browser.new_page()
    sign_in(fp, server, "hnd", generated)
    fp.goto(server + "/rounds")
    fp.click("form.account a:has-text('hnd')")
    expect(fp.locator("h1")).to_have_text("Your account")
    fp.fill("#current", generated)
    fp.fill("#new", "honduras focal point 2026")
    fp.fill("#again", "honduras focal point 2026")
    fp.click("form.password button[type=submit]")
    expect(fp.locator(".saved")).to_contain_text("has been changed")
    fp.goto(server + "/rounds/1/answers")  # still signed in, with the new session
    expect(fp.locator("h1")).to_contain_text("HND")
    fp.close()

    sec.click("form.account a:has-text('Audit trail')")
    rows = sec.locator("table.audit tbody tr")
    expect(rows.first).to_contain_text("user.change_password")
    expect(rows.nth(1)).to_contain_text("user.add")
    expect(rows.nth(1)).to_contain_text("Honduras focal point")
    sec.close()


def test_the_api_documentation_renders_offline_under_the_csp(server, browser):
    """/api/docs was a blank page: Swagger UI from a CDN, started by an inline script that the
    app's own CSP blocks. Now its files come from the app; nothing outside the app is asked for,
    and no CSP violation or console error occurs."""
    context = browser.new_context(locale="en-GB")
    outside: list[str] = []
    problems: list[str] = []

    def only_the_app(route):
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    context.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(server + "/api/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/search" in paths and "/api/statements/{statement_id}" in paths
        assert len(paths) >= 10
        # Open one operation: its parameters are rendered from the schema.
        page.locator(".opblock-summary-path", has_text="/api/search").first.click()
        expect(page.locator(".parameters-container").first).to_contain_text("theme")
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()
    assert outside == [] and problems == []
