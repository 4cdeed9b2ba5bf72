"""Answer form benchmark (issue 18: "every page under 50 KB and 100 ms of server time on the
compilation's data; the answer form with 186 rows usable on a phone profile").

On the shipped compilation, two rounds as a focal point (CRI) sees them: one over all statements
(the compilation's 186 placement rows, 129 statements, each asked once) and the TS5 round (31).
For every page of the form (the first page, each section's pages when there are any, "check your
answers"), nothing answered and then every row answered (a draft on each, one in four with a
proposed wording, every one with a comment):
- its size in bytes (and gzipped), and its server time: the median (and the minimum) of ``--runs``
  in-process requests through Starlette's TestClient (the client's own overhead, about 2 ms,
  included);
- a row's save (``row.json``, what the form's JavaScript sends as each answer is given).
In Chromium (``/usr/bin/chromium`` headless, as tests/test_browser.py launches it) with a phone
profile (viewport 390x844, touch, CPU slowed 4x through CDP ``Emulation.setCPUThrottlingRate``),
for the form's first page and its heaviest page with rows: DOMContentLoaded and load, the Total
Blocking Time (long tasks seen by a PerformanceObserver from the first byte to one second after
load; the part of each over 50 ms), and the time from the start of navigation until the page
responds to input: an answer chosen in the first row as soon as the document is parsed (the
form's script listens from DOMContentLoaded; Playwright then waits until the select can take it)
shows "Saving…" (the script handled it), then "Saved as a draft" (the server answered).
Medians of ``--browser-runs``.

    PYTHONPATH=src .venv/bin/python bench/bench_answer_form.py --label after
    git archive main src | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before/src .venv/bin/python bench/bench_answer_form.py --label before

Each label is kept in the results file (``--json``, default bench/results/answer_form.json), so a
run of one code leaves the other's figures beside it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RCM_FAST_PASSWORD_HASHING", "1")

# The browser tests' kit: Chromium and its flags, the app served on loopback (tests/browserkit.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browserkit import CHROMIUM, chromium, served

PASSWORD = "costa rica focal point"
BUDGET_BYTES, BUDGET_MS = 50_000, 100.0

# Before the page's scripts: every long task from the first byte, and when the first row's state
# first changes (the form's script handling an answer).
OBSERVE = """
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
}).observe({type: "longtask", buffered: true});
window.__stateChanges = [];
document.addEventListener("DOMContentLoaded", () => {
  const state = document.querySelector("form.answers tr[data-row] [data-state]");
  if (!state) return;
  new MutationObserver(() => {
    window.__stateChanges.push([performance.now(), state.textContent]);
  }).observe(state, {childList: true, characterData: true, subtree: true});
});
"""


def sign_in(client: Any) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token, "no sign-in form"
    r = client.post("/login", data={"username": "cri", "password": PASSWORD, "csrf": token[1]})
    assert r.status_code == 303, r.text


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found[1]


def timed(client: Any, url: str, runs: int) -> dict[str, Any]:
    times, body = [], b""
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code)
        body = r.content
    return {
        "url": url,
        "bytes": len(body),
        "gzip_bytes": len(gzip.compress(body)),
        "ms_median": round(statistics.median(times), 1),
        "ms_min": round(min(times), 1),
        "rows": body.count(b'<tr id="row-'),
    }


def form_pages(client: Any, round_id: int) -> list[str]:
    """The form's pages: its first page, then each section's parts (none on the one-page form)."""
    first = f"/rounds/{round_id}/answers"
    html = client.get(first).text
    keys = dict.fromkeys(re.findall(rf'href="/rounds/{round_id}/answers/(ts\d+-\d+)"', html))
    pages = [first]
    for key in keys:
        part = 1
        while client.get(f"/rounds/{round_id}/answers/{key}?part={part}").status_code == 200:
            query = f"?part={part}" if part > 1 else ""
            pages.append(f"/rounds/{round_id}/answers/{key}{query}")
            part += 1
    return pages


def answer_everything(client: Any, store: Any, round_id: int) -> None:
    """A draft on every row (through the form's own save), one in four "valid with changes"."""
    from rcm import consult

    status = consult.round_status(store, round_id)
    ids = [s["id"] for s in status["statements"]]
    texts = {s.id: s.text for s, _ in store.statements_by_ids(ids)}
    token = csrf_of(client.get(f"/rounds/{round_id}/answers").text)
    fields = {"csrf": token, "country": "CRI"}
    for i, sid in enumerate(ids):
        changed = i % 4 == 0
        fields[f"v:{sid}"] = "valid with changes" if changed else "valid"
        if changed:
            fields[f"w:{sid}"] = texts[sid].replace(" the ", " all the ", 3)
        fields[f"c:{sid}"] = f"Comment from Costa Rica on {sid}, kept as a draft until it is sent."
    r = client.post(f"/rounds/{round_id}/answers/draft", data=fields)
    assert r.status_code in (200, 303), r.status_code


def row_save(client: Any, round_id: int, sid: str, runs: int) -> dict[str, Any]:
    token = csrf_of(client.get(f"/rounds/{round_id}/answers/check").text)
    times = []
    for i in range(runs):
        data = {"csrf": token, "country": "CRI", f"v:{sid}": ("valid", "abstain")[i % 2]}
        t = time.perf_counter()
        r = client.post(f"/rounds/{round_id}/answers/row.json", data=data)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    return {
        "ms_median": round(statistics.median(times), 1),
        "ms_min": round(min(times), 1),
        "response_bytes": len(r.content),
    }


def in_chromium(url: str, pages: list[str], runs: int, home: str) -> list[dict[str, Any]]:

    results = []
    with chromium(Path(home)) as browser:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        context.add_init_script(OBSERVE)
        page = context.new_page()
        page.goto(url + "/login")
        page.fill("#username", "cri")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        for address in pages:
            samples: list[dict[str, float | None]] = []
            for _ in range(runs):
                page.goto(url + address, wait_until="commit")
                first = page.locator("form.answers tr[data-row] select").first
                has_rows = page.locator("form.answers tr[data-row]").count() > 0
                handled = saved = None
                if has_rows:
                    # The form's script listens from DOMContentLoaded: an answer chosen before
                    # then is not saved (nor marked) until the row changes again.
                    page.wait_for_load_state("domcontentloaded")
                    first.select_option("abstain")
                    saving = page.locator("form.answers").get_attribute("data-saved")
                    page.wait_for_function(
                        "(t) => window.__stateChanges.some(([_, text]) => text === t)",
                        arg=saving,
                        timeout=60_000,
                    )
                    changes = page.evaluate("window.__stateChanges")
                    handled = changes[0][0]
                    saved = next(at for at, text in changes if text == saving)
                page.wait_for_load_state("load")
                page.wait_for_timeout(1000)
                timing = page.evaluate(
                    """() => {
                      const n = performance.getEntriesByType("navigation")[0];
                      const tbt = window.__longtasks.reduce(
                        (s, [, d]) => s + Math.max(0, d - 50), 0);
                      return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, tbt,
                              longest: Math.max(0, ...window.__longtasks.map(([, d]) => d)),
                              bytes: n.decodedBodySize};
                    }"""
                )
                samples.append({**timing, "input_handled": handled, "input_saved": saved})
                if has_rows:  # the row back to nothing, for the next run
                    page.goto(url + address, wait_until="load")
                    page.locator("form.answers tr[data-row] select").first.select_option("")
                    page.wait_for_timeout(300)

            def median(key: str, got: list[dict[str, float | None]] = samples) -> float | None:
                values = [s[key] for s in got if s[key] is not None]
                return round(statistics.median(values), 1) if values else None  # type: ignore[type-var]

            results.append(
                {
                    "url": address,
                    "bytes": samples[-1]["bytes"],
                    **{
                        f"{k}_ms": median(k)
                        for k in ("dcl", "load", "tbt", "longest", "input_handled", "input_saved")
                    },
                }
            )
        context.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="before or after (the code measured)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--browser-runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--json", default="bench/results/answer_form.json")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    import rcm
    from rcm import consult, users
    from rcm.parse import read_compilation
    from rcm.search import theme_filter
    from rcm.store import Store
    from rcm.web import create_app

    tmp = tempfile.mkdtemp(prefix="bench-answer-form-")
    store = Store(f"sqlite:///{tmp}/rcm.db", create=True)
    compendium = read_compilation()
    store.ingest(compendium)
    users.add_user(store, "cri", "focal_point", country="CRI", password=PASSWORD)
    rounds = {
        "all statements": consult.open_round(store, "All statements"),
        "TS5": consult.open_round(store, "TS5", filters=[theme_filter([5])]),
    }
    client = TestClient(create_app(store), follow_redirects=False)
    sign_in(client)
    report: dict[str, Any] = {
        "code": str(Path(rcm.__file__).parent),
        "placement_rows": len(compendium.placements),
        "runs": args.runs,
        "rounds": {},
    }
    for name, rnd in rounds.items():
        pages = form_pages(client, rnd.id)
        entry: dict[str, Any] = {"statements": rnd.statements}
        for state in ("nothing answered", "every row answered"):
            if state == "every row answered":
                answer_everything(client, store, rnd.id)
            measured = [timed(client, u, args.runs) for u in pages]
            measured.append(timed(client, f"/rounds/{rnd.id}/answers/check", args.runs))
            entry[state] = {
                "pages": measured,
                "largest_bytes": max(m["bytes"] for m in measured),
                "slowest_ms_median": max(m["ms_median"] for m in measured),
                "within_budget": all(
                    m["bytes"] < BUDGET_BYTES and m["ms_median"] < BUDGET_MS for m in measured
                ),
            }
            largest, slowest = entry[state]["largest_bytes"], entry[state]["slowest_ms_median"]
            print(
                f"{args.label} {name} ({state}): {len(measured)} pages, largest "
                f"{largest:,} B, slowest {slowest} ms",
                file=sys.stderr,
            )
        first_row = re.search(
            r'data-row="([^"]+)"',
            "".join(client.get(u).text for u in pages[:2]),
        )
        assert first_row
        entry["row_save"] = row_save(client, rnd.id, first_row[1], args.runs)
        print(f"{args.label} {name}: row save {entry['row_save']}", file=sys.stderr)
        entry["pages_in_order"] = pages
        report["rounds"][name] = entry
    if not args.no_browser and Path(CHROMIUM).exists():
        # Back to nothing answered on the first page's rows: a fresh round over all statements.
        rnd = consult.open_round(store, "All statements, in Chromium")
        pages = form_pages(client, rnd.id)
        sizes = {u: len(client.get(u).content) for u in pages}
        with_rows = [u for u in pages if b'<tr id="row-' in client.get(u).content]
        chosen = list(dict.fromkeys([pages[0], *sorted(with_rows, key=sizes.__getitem__)[-1:]]))
        with served(store) as url:
            report["chromium"] = {
                "profile": "390x844, touch, CPU throttled 4x (CDP), headless",
                "runs": args.browser_runs,
                "round": "all statements",
                "pages": in_chromium(url, chosen, args.browser_runs, tmp),
            }
        for r in report["chromium"]["pages"]:
            print(f"{args.label} chromium {r}", file=sys.stderr)
    store.close()
    out = Path(args.json)
    results = json.loads(out.read_text()) if out.exists() else {}
    results[args.label] = report
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
