"""The answer form on a phone, in a real browser (Debian's Chromium driven by Playwright, as in
tests/test_browser.py): 390 px wide, in Spanish, a focal point signs in, lands on the form's task
list, opens a section, answers a row (kept by JavaScript as it is given), reloads, finds the answer
there and the section in progress on the task list, and nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from browserkit import chromium, require_chromium, served

require_chromium()

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory, compendium) -> Iterator[tuple[str, object]]:
    from rcm import consult, users
    from rcm.search import theme_filter
    from rcm.store import Store

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('phone') / 'rcm.db'}", create=True)
    store.ingest(compendium)
    users.add_user(store, "cri", "focal_point", country="CRI", password="costa rica focal point")
    users.add_user(
        store, "gtm", "focal_point", country="GTM", password="guatemala focal point", lang="es"
    )
    rnd = consult.open_round(store, "TS5", filters=[theme_filter([5])], deadline="2030-01-01")
    with served(store) as url:
        yield url, (store, rnd)
    store.close()


def lands_on_the_form(page, url: str, rnd, name: str, password: str) -> None:
    """Sign in on the sign-in page shown; the focal point lands on the round's task list, in
    Spanish, nothing answered yet."""
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(f"{url}/rounds/{rnd.id}/answers")
    expect(page.locator("#progress")).to_have_text(f"0 de {rnd.statements} respondidas")


def test_answering_on_a_phone_keeps_the_answer_and_never_scrolls_sideways(server, tmp_path):
    from rcm import consult, drafts

    url, (store, rnd) = server
    with chromium(tmp_path) as browser:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="es-ES", is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.goto(url + "/login?lang=es")
        # Signed in, the focal point lands on the round's form: its task list.
        lands_on_the_form(page, url, rnd, "cri", "costa rica focal point")
        expect(page.locator("#status-ts5-2")).to_have_text("Sin empezar: 25 disposiciones")
        page.click("ul.task-list a[href$='/answers/ts5-2']")
        section = f"{url}/rounds/{rnd.id}/answers/ts5-2"
        expect(page).to_have_url(section)
        row = page.locator("form.answers tr[data-row]").nth(2)
        sid = row.get_attribute("data-row")
        assert sid
        row.locator("select").select_option("no longer valid")
        # A reason is needed: said beside the field as soon as the answer is given.
        expect(page.locator(f"#c-{sid}-error")).to_contain_text("requiere un motivo")
        page.fill(f"#c-{sid}", "Sustituida por la declaración de 2016.")
        page.locator(f"#c-{sid}").blur()
        expect(row.locator("[data-state]")).to_have_text("Guardada como borrador")
        expect(page.locator(f"#c-{sid}-error")).to_have_count(0)
        expect(page.locator("#progress")).to_have_text(f"1 de {rnd.statements} respondidas")
        expect(page.locator("[data-group-progress=ts5-2]")).to_have_text("1 de 25 respondidas")
        assert drafts.drafts(store, rnd.id, "CRI")[sid].note == (
            "Sustituida por la declaración de 2016."
        )
        assert consult.opinions(store, rnd.id) == []  # a draft is not an answer
        # Reloaded: still there; and on the task list, the section is in progress.
        page.reload()
        expect(page.locator(f"#v-{sid}")).to_have_value("no longer valid")
        expect(page.locator(f"#c-{sid}")).to_have_value("Sustituida por la declaración de 2016.")
        expect(page.locator("#progress")).to_have_text(f"1 de {rnd.statements} respondidas")
        page.click(".back-link a")
        expect(page.locator("#status-ts5-2")).to_have_text("En curso: 1 de 25 respondidas")
        # No sideways scrolling on the task list, a section, nor "check your answers"; the rows
        # are cards whose fields fit the screen.
        for address in (
            f"/rounds/{rnd.id}/answers",
            f"/rounds/{rnd.id}/answers/ts5-2",
            f"/rounds/{rnd.id}/answers/check",
            f"/rounds/{rnd.id}/answers/check?section=ts5-2",
        ):
            page.goto(url + address)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{address} is {width} px wide at 390 px"
        page.goto(section)
        box = page.locator(f"#c-{sid}").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["height"] >= 100  # room for real text, not two lines
        # Tap targets: the task list's links and the section's buttons at least 24 px high.
        for target in (f"{url}/rounds/{rnd.id}/answers", section):
            page.goto(target)
            for el in page.locator("ul.task-list a, form.answers button").all():
                tap = el.bounding_box()
                assert tap is not None and tap["height"] >= 24, (target, tap)
        context.close()


def test_a_spanish_speaking_focal_point_searches_reads_answers_and_downloads_in_spanish(
    server, tmp_path
):
    """Issue 17's end to end, on a phone: a Spanish query finds the English statements and says
    what else was searched; the statement page, the answer form and every download are in
    Spanish; the answer given in Spanish is the country's once submitted."""
    import io
    from pathlib import Path

    import docx
    from openpyxl import load_workbook

    from rcm import consult

    url, (store, rnd) = server
    with chromium(tmp_path) as browser:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="es-ES", is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.goto(url + "/")  # the browser asks for Spanish: the site answers in Spanish
        expect(page.locator("html")).to_have_attribute("lang", "es")
        page.fill("#q", "trata de personas")
        page.locator("form.search button[type=submit]").first.click()
        expect(page.locator(".summary strong")).to_contain_text("disposiciones")
        expect(page.locator(".note", has_text="también se buscó en inglés")).to_have_count(1)
        assert page.locator("li.hit").count() > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The Word download of this search: Spanish, and it says what was searched.
        with page.expect_download() as download:
            page.locator(".downloads a", has_text="Word").click()
        text = [p.text for p in docx.Document(download.value.path()).paragraphs]
        assert text[0] == "Conferencia Regional sobre Migración"
        assert "Selección: el texto coincide con 'trata de personas'" in text
        # A statement: Spanish around the English text, which is marked as English.
        page.locator("li.hit .hit-title a").first.click()
        expect(page.locator("h1")).to_contain_text("Disposición")
        assert "CRM" in page.locator("main").inner_text()
        assert page.locator('main [lang="en"]').count() > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # Signed in, the focal point answers a section in Spanish and submits.
        page.goto(url + "/login")
        lands_on_the_form(page, url, rnd, "gtm", "guatemala focal point")
        page.click("ul.task-list a[href$='/answers/ts5-1']")
        row = page.locator("form.answers tr[data-row]").first
        sid = row.get_attribute("data-row")
        assert sid
        row.locator("select").select_option("valid")
        expect(row.locator("[data-state]")).to_have_text("Guardada como borrador")
        page.goto(f"{url}/rounds/{rnd.id}/answers/check")
        page.click("form.submit-answers button[type=submit]")
        expect(page.locator("p.saved")).to_have_text("1 respuesta enviada.")
        assert [(o.statement_id, o.value) for o in consult.opinions(store, rnd.id)
                if o.country == "GTM"] == [(sid, "valid")]  # fmt: skip
        # The questionnaire, from the form's link, in the account's language.
        page.goto(f"{url}/rounds/{rnd.id}/answers")
        with page.expect_download() as download:
            page.locator("a[href*='questionnaire.xlsx']").click()
        book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
        assert book["TS5"].cell(1, 4).value == "¿Sigue vigente?"
        context.close()
