"""Accessibility in a real browser (issue 18): axe-core over every page type, in English and
Spanish, at desktop (1366 px) and phone (390 px) widths; no sideways scrolling on a phone; a focus
indicator that stands out from both the element and what is behind it; the current page marked
in the menu; a tab order that follows what is seen; a skip link to the search's results.

One server, one Chromium, one browser context per person (nobody, the Secretariat, a focal
point), all at module scope. axe-core comes from the axe-playwright-python package; no rule is
disabled."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browserkit import chromium, require_chromium, served

require_chromium()

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORDS = {"sec": "secretariat password", "cri": "costa rica focal point"}
STATEMENT = "XII-8133"  # in the TS5 round, with a Spanish wording below

# name -> (who looks, address); "{proposal}" is the first statement of the declaration in review.
PAGES: dict[str, tuple[str, str]] = {
    "home": ("anon", "/"),
    "search": ("anon", "/search?q=trafficking"),
    "search-none": ("anon", "/search?q=zzzqqxx"),
    "themes": ("anon", "/themes"),
    "theme": ("anon", "/themes/5"),
    "subtheme": ("anon", "/themes/5/1"),
    "statement": ("anon", f"/statements/{STATEMENT}"),
    "statement-sec": ("sec", f"/statements/{STATEMENT}"),
    "history": ("anon", f"/statements/{STATEMENT}/history"),
    "meetings": ("anon", "/meetings"),
    "meeting": ("anon", "/meetings/XII"),
    "gcm": ("anon", "/gcm"),
    "objective": ("anon", "/gcm/1"),
    "about": ("anon", "/about"),
    "not-found": ("anon", "/statements/XIX-0000"),
    "login": ("anon", "/login"),
    "rounds": ("sec", "/rounds"),
    "round": ("sec", "/rounds/1"),
    "position": ("sec", "/rounds/1/position"),
    "round-all": ("sec", "/rounds/2?theme=3"),  # one theme at a time (bench18)
    "position-all": ("sec", "/rounds/2/position"),
    "answers": ("cri", "/rounds/1/answers"),
    "answers-section": ("cri", "/rounds/1/answers/ts5-2"),
    "answers-check": ("cri", "/rounds/1/answers/check"),
    "review": ("sec", "/review"),
    "review-item": ("sec", "/review/{proposal}"),
    "translations": ("sec", "/review/translations"),
    "users": ("sec", "/users"),
    "account": ("cri", "/account"),
    "audit": ("sec", "/audit"),
    "edit": ("sec", f"/statements/{STATEMENT}/edit"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, compendium) -> Iterator[dict[str, Any]]:
    import spanish_edition as se
    from rcm import consult, review, translate, users
    from rcm.parse import read_declaration
    from rcm.parse.spanish_edition import parse_spanish_edition
    from rcm.search import theme_filter
    from rcm.store import Store
    from rcm.suggest import label_compendium

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'rcm.db'}", create=True)
    store.ingest(label_compendium(compendium))
    users.add_user(store, "cri", "focal_point", country="CRI", password=PASSWORDS["cri"])
    users.add_user(store, "sec", "secretariat", password=PASSWORDS["sec"])
    consult.open_round(store, "Inputs 2017", filters=[theme_filter([5])])
    consult.set_opinion(store, 1, "CRI", STATEMENT, "valid", author="cri")
    consult.set_opinion(
        store, 1, "CRI", "XII-8033", "valid with changes",
        proposed_wording="Victims shall not be prosecuted.", author="cri",
    )  # fmt: skip
    everything = consult.open_round(store, "Still valid? Everything")
    consult.set_opinion(store, everything.id, "CRI", STATEMENT, "no longer valid",
                        reason="Superseded.", author="cri")  # fmt: skip
    sample = Path(__file__).parent / "data" / "declarations" / "xxii_rcm_en.txt"
    _, queued = review.add_declaration(
        store, read_declaration(sample), meeting="XXII", year=2017, actor="sec"
    )
    edition = parse_spanish_edition(se.as_text(se.sections(compendium)), "e.txt")
    translate.queue_edition(store, edition, actor="sec")
    first = next(x for x in translate.translations(store) if x.statement_id == STATEMENT)
    translate.accept_translation(store, first.id, actor="sec")

    with served(store) as url:
        yield {"url": url, "proposal": queued[0].id}
    store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("home")) as b:
        yield b


@pytest.fixture(scope="module")
def pages(site, browser) -> Iterator[dict[str, Page]]:
    """One tab per person, signed in where it is someone."""
    made = {}
    for who in ("anon", "sec", "cri"):
        context = browser.new_context(locale="en-GB", viewport=DESKTOP)
        page = context.new_page()
        if who != "anon":
            page.goto(site["url"] + "/login?lang=en")
            page.fill("#username", who)
            page.fill("#password", PASSWORDS[who])
            page.click("form.login button[type=submit]")
            page.wait_for_load_state()
        made[who] = page
    yield made
    for page in made.values():
        page.context.close()


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def address(site: dict[str, Any], name: str, lang: str) -> str:
    path = PAGES[name][1].format(proposal=site["proposal"])
    return f"{site['url']}{path}{'&' if '?' in path else '?'}lang={lang}"


def violations(axe: Axe, page: Page) -> list[str]:
    """axe-core's violations on the page, one line each with the nodes' selectors."""
    found = axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(
            f"{' '.join(map(str, n['target']))} [{n.get('failureSummary', '').splitlines()[-1:]}]"
            for n in v["nodes"][:4]
        )
        for v in found
    ]


# Every focusable thing a reader can see, in document order, with where it is drawn.
FOCUSABLES = """() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  return [...document.querySelectorAll(sel)].filter(e => {
    if (e.tabIndex < 0 || e.disabled) return false;
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && r.right > 0 && r.left >= -1
      && !e.closest('details:not([open]) > :not(summary)');
  }).map(e => {
    const r = e.getBoundingClientRect();
    return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, width: r.width,
            height: r.height, text: (e.innerText || e.value || e.name || e.id || '').slice(0, 40),
            tag: e.tagName.toLowerCase(), type: e.type || ''};
  });
}"""


# The outermost elements drawn beyond the right edge of a phone's screen.
WIDE = """() => [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect(), p = e.parentElement.getBoundingClientRect();
    return r.right > innerWidth + 1 && p.right <= innerWidth + 1;
  }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                          + ' ' + Math.round(e.getBoundingClientRect().right))"""


def out_of_order(items: list[dict[str, Any]]) -> list[str]:
    """Pairs where the next stop in tab order is drawn above the line of the one before it."""
    bad = []
    for a, b in itertools.pairwise(items):
        if b["bottom"] <= a["top"] + 1:  # wholly above: the reader's eye would go back up
            bad.append(f"{a['text']!r} (y={a['top']:.0f}) → {b['text']!r} (y={b['top']:.0f})")
    return bad


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_passes_axe_on_desktop_and_phone(site, pages, axe, name, lang):
    page = pages[PAGES[name][0]]
    page.set_viewport_size(DESKTOP)
    response = page.goto(address(site, name, lang))
    assert response is not None
    assert response.status == (404 if name == "not-found" else 200), page.url
    assert page.locator("html").get_attribute("lang") == lang
    problems = [f"desktop: {v}" for v in violations(axe, page)]
    page.set_viewport_size(PHONE)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => done()))")
    problems += [f"phone: {v}" for v in violations(axe, page)]
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{width} px wide at {PHONE['width']} px: {page.evaluate(WIDE)}")
    # On a phone the tab order follows the page from top to bottom.
    problems += [f"tab order: {p}" for p in out_of_order(page.evaluate(FOCUSABLES))]
    assert problems == [], "\n".join(problems)
    page.set_viewport_size(DESKTOP)


# WCAG 2.5.8: a target is at least 24 by 24 CSS px, or a 24 px circle on its centre touches no
# other target (nor another small one's circle). Links in a sentence (inside a <p>) are exempt.
SMALL_TARGETS = """() => {
  const all = [...document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .map(e => [e, e.getBoundingClientRect()])
    .filter(([e, r]) => r.width > 0 && r.height > 0 && !e.closest('p'));
  const small = ([e, r]) => r.width < 23.5 || r.height < 23.5;
  const centre = r => [r.left + r.width / 2, r.top + r.height / 2];
  const touches = ([x, y], r) => Math.hypot(Math.max(r.left - x, 0, x - r.right),
                                            Math.max(r.top - y, 0, y - r.bottom)) < 12;
  return all.filter(small).filter(([e, r]) => all.some(([f, q]) => f !== e && (
      small([f, q]) ? Math.hypot(...centre(r).map((v, i) => v - centre(q)[i])) < 24
                    : touches(centre(r), q))))
    .map(([e, r]) => e.outerHTML.slice(0, 70) + ` ${Math.round(r.width)}x${Math.round(r.height)}`);
}"""


@pytest.mark.parametrize(
    "name", ["home", "search", "statement-sec", "answers", "answers-section", "review-item"]
)
def test_tap_targets_are_big_enough_on_a_phone(site, pages, name):
    page = pages[PAGES[name][0]]
    page.set_viewport_size(PHONE)
    page.goto(address(site, name, "en"))
    small = page.evaluate(SMALL_TARGETS)
    page.set_viewport_size(DESKTOP)
    assert small == [], "\n".join(small)


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    def luminance(c: tuple[float, ...]) -> float:
        lin = [
            (v / 255) / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4
            for v in c[:3]
        ]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# The focused element's indicator colours (outline, then any box-shadow rings), the element's own
# background and the background behind it (the nearest ancestors with one).
FOCUS_COLOURS = r"""() => {
  const e = document.activeElement;
  const rgb = t => (t.match(/rgba?\([^)]*\)/g) || []).map(c => c.match(/[\d.]+/g).map(Number));
  const solid = c => c.length < 4 || c[3] > 0.5;
  const behind = el => { for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor)[0];
      if (c && solid(c)) return c; } return [255, 255, 255]; };
  const s = getComputedStyle(e);
  const rings = [];
  if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
    rings.push(...rgb(s.outlineColor));
  rings.push(...rgb(s.boxShadow));
  return {tag: e.tagName, text: (e.innerText || e.id || '').slice(0, 30),
          rings: rings.filter(solid), element: behind(e), around: behind(e.parentElement)};
}"""


@pytest.mark.parametrize(
    "name", ["home", "search", "statement-sec", "answers", "answers-section", "review-item"]
)
def test_the_focus_indicator_stands_out(site, pages, name):
    """WCAG 2.4.11/1.4.11: a ring of at least 3:1 against the element and against what is behind
    it (one colour of a two-colour ring may do each), for the first stops of the tab order."""
    page = pages[PAGES[name][0]]
    page.goto(address(site, name, "en"))
    page.locator("body").focus()
    weak = []
    for _ in range(25):
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUS_COLOURS)
        if f["tag"] == "BODY":
            break
        assert f["rings"], f"no focus indicator on {f}"
        on_element = max(contrast(r, tuple(f["element"])) for r in f["rings"])
        on_background = max(contrast(r, tuple(f["around"])) for r in f["rings"])
        if min(on_element, on_background) < 3:
            weak.append(f"{f['tag']} {f['text']!r}: {on_element:.2f} / {on_background:.2f}")
    assert weak == []


@pytest.mark.parametrize(
    ("name", "current"),
    [("home", "/"), ("search", "/search"), ("themes", "/themes"), ("theme", "/themes"),
     ("statement", None), ("gcm", "/gcm"), ("objective", "/gcm"), ("rounds", "/rounds"),
     ("round", "/rounds"), ("about", "/about"), ("meeting", "/meetings")],
)  # fmt: skip
def test_the_menu_marks_the_current_page(site, pages, name, current):
    page = pages[PAGES[name][0]]
    page.goto(address(site, name, "en"))
    marked = page.locator("header.site [aria-current]:not([lang])")
    if current is None:
        expect(marked).to_have_count(0)
        return
    expect(marked).to_have_count(1)
    assert marked.get_attribute("href") == current
    # …and it is seen: drawn unlike the other links of the menu.
    style = (
        "e => { const s = getComputedStyle(e); return [s.fontWeight, s.textDecorationLine,"
        " s.borderBottomWidth, s.borderBottomStyle, s.backgroundColor].join(' '); }"
    )
    others = page.locator("header.site nav[aria-label] a:not([aria-current]):not([lang])")
    assert marked.evaluate(style) != others.first.evaluate(style)
    assert marked.get_attribute("aria-current") == (
        "page" if name in ("home", "search", "themes", "gcm", "rounds", "about") else "true"
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_skip_link_takes_the_keyboard_to_the_results(site, pages, viewport):
    page = pages["anon"]
    page.set_viewport_size(viewport)
    page.goto(address(site, "search", "en"))
    page.locator("body").focus()
    skip = page.locator("a.skip[href='#results']")
    for _ in range(3):
        page.keyboard.press("Tab")
        if skip.evaluate("e => e === document.activeElement"):
            break
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # seen when focused
    page.keyboard.press("Enter")
    expect(page.locator("#results")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".hit-title > a").first).to_be_focused()
    page.set_viewport_size(DESKTOP)


def test_the_filters_are_reachable_above_the_results_on_a_phone(site, pages):
    page = pages["anon"]
    page.set_viewport_size(PHONE)
    page.goto(address(site, "search", "en"))
    toggle = page.locator(".facets summary, a[href='#facets']").first
    first_hit = page.locator(".hit-title > a").first
    assert toggle.bounding_box()["y"] < first_hit.bounding_box()["y"]
    toggle.click()
    theme = page.locator(".facets a", has_text="TS3").first
    expect(theme).to_be_visible()
    theme.click()
    expect(page.locator(".summary")).to_contain_text("theme is TS3")
    page.set_viewport_size(DESKTOP)


def test_the_numbers_on_heat_cells_are_readable(site, pages):
    """The round dashboard's heat cells: each number, in the colour the browser paints it, on
    the cell's background, reaches 4.5:1 (checked here too, beside axe-core, because a shade
    that fails would hide the very figures the dashboard is for)."""
    page = pages[PAGES["round"][0]]
    page.goto(address(site, "round", "en"))
    cells = page.evaluate(
        """() => [...document.querySelectorAll('table.heat td[class^="heat-"]')].map(td => {
             const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number), s = getComputedStyle(td);
             return {ink: rgb(s.color), fill: rgb(s.backgroundColor), n: td.textContent,
                     level: td.className};
           })"""
    )
    assert cells
    weak = [
        f"{c['n']} ({c['level']}): {contrast(tuple(c['ink']), tuple(c['fill'])):.2f}"
        for c in cells
        if contrast(tuple(c["ink"]), tuple(c["fill"])) < 4.5
    ]
    assert weak == []
