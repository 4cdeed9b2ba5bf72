"""Editing a statement on the web in a real browser (Debian's Chromium driven by Playwright, the
app served by uvicorn on loopback, as in tests/test_browser.py): the Secretariat signs in,
rewords a statement and recategorises it, and its history page shows both, with the diff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from browserkit import chromium, require_chromium, served

require_chromium()

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, object]]:
    from rcm import users
    from rcm.parse import read_compilation
    from rcm.store import Store
    from rcm.suggest import label_compendium

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('web') / 'rcm.db'}", create=True)
    store.ingest(label_compendium(read_compilation()))
    users.add_user(store, "sec", "secretariat", password="secretariat password")
    with served(store) as url:
        yield url, store
    store.close()


def test_reword_and_recategorise_then_read_the_history(site, tmp_path):
    server, store = site
    statement = next(s for s in store.load().statements if not s.items and s.category)
    sid = statement.id
    other = next(x for x in ("principle", "understanding", "commitment") if x != statement.category)
    with chromium(tmp_path) as browser:
        page = browser.new_context(locale="en-GB").new_page()
        page.goto(f"{server}/statements/{sid}/edit")
        expect(page).to_have_url(f"{server}/login?next=/statements/{sid}/edit")
        page.fill("#username", "sec")
        page.fill("#password", "secretariat password")
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text(f"Edit statement {sid}")
        page.fill("#text", statement.text + " Reworded in the browser.")
        page.check(f"input[name=category][value={other}]")
        page.click("form.edit-statement button[type=submit]")
        expect(page).to_have_url(f"{server}/statements/{sid}?saved=2")
        expect(page.locator(".notice")).to_have_text("2 changes saved.")
        expect(page.locator(".version")).to_contain_text("Version 2, reworded on")
        page.click("text=History")
        expect(page.locator("h1")).to_have_text(f"History of statement {sid}")
        expect(page.locator("#version-2 .diff ins")).to_have_text("Reworded in the browser.")
        expect(page.locator(".events .event-reworded")).to_have_count(1)
        expect(page.locator(".events .event-recategorised")).to_contain_text(other)
