"""Every page type's size and server time on the compilation's data (issue 18's budget: every page
under 50 KB and 100 ms of server time).

    .venv/bin/python bench/bench_pages.py [--db sqlite|postgresql://...] [-n 20]
        [--json bench/results/pages.json]

The site: a fresh database (a SQLite file in a temporary folder, or a new PostgreSQL database on
the server ``--db`` names, dropped afterwards) with the shipped compilation ingested as
``rcm ingest`` does (categories, themes and objectives suggested); a consultation round over TS5
and one over all the statements, each answered by several countries (a deterministic mix of
mostly valid, some valid with changes, few no longer valid or abstain, with comments; two
countries half-way through, so that the position has statements reaffirmed, to be updated,
contested and pending); a focal point (Costa Rica) and the Secretariat signed in; a
declaration (XXII RCM) in review; the Spanish edition queued for review, one wording accepted.

Each page is requested in English and in Spanish (the language cookie), by the person who would
read it (nobody, the Secretariat, the focal point), in-process through the ASGI app (no network):
two warm-up requests, then ``-n`` timed ones. Reported per page and language: the status, the
size of the body (``raw``), what was sent (``sent``: the body as it went over the wire, compressed
when the app compresses, with ``Accept-Encoding: gzip``) and what gzip -6 would make of it
(``gzip``), and the server time, median and p95: the time the app itself logs for the request
(``rcm.request``'s ``ms``, from the first middleware to the last byte: wall-clock time, which on a
machine shared with other work counts the waits for a core too) and the CPU time of the process
for the request (the server's own work, with the in-process client's small share: what the
request costs whatever else runs), with the time seen by the in-process client in the JSON. A
page whose sent size is over 50,000 bytes, or whose median CPU time is over 100 ms, is flagged
(``over_time_wall``: the median wall time is over 100 ms; the load average is recorded). The
answer form pages (/rounds/N/answers...) are left out: they have their own benchmark.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from fastapi.testclient import TestClient  # noqa: E402

BUDGET_BYTES = 50_000
BUDGET_MS = 100.0
STATEMENT = "XII-8133"  # in the TS5 round, with a Spanish wording accepted
PASSWORDS = {"sec": "secretariat password", "cri": "costa rica focal point"}
# How the Member Countries answer: most countries nearly every statement, two about half (still
# in progress); mostly "valid", some changes proposed, few objections: so that the position has
# statements reaffirmed, to be updated, contested and pending.
BUSY = ("BLZ", "NIC")  # the two in progress
ANSWERED = {"busy": 0.5, "other": 0.97}
VALUES = {"valid": 0.86, "valid with changes": 0.06, "no longer valid": 0.015, "abstain": 0.065}

# name -> (who reads it, address); {proposal} is the first statement of the declaration in review.
PAGES: dict[str, tuple[str, str]] = {
    "home": ("anon", "/"),
    "search": ("anon", "/search?q=trafficking"),
    "search-none": ("anon", "/search?q=zzzqqxx"),
    "search-all": ("anon", "/search"),
    "themes": ("anon", "/themes"),
    "theme-1": ("anon", "/themes/1"),
    "theme-5": ("anon", "/themes/5"),
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
    "round-ts5": ("sec", "/rounds/1"),
    "round-all": ("sec", "/rounds/2"),
    "position-ts5": ("sec", "/rounds/1/position"),
    "position-all": ("sec", "/rounds/2/position"),
    "review": ("sec", "/review"),
    "review-item": ("sec", "/review/{proposal}"),
    "translations": ("sec", "/review/translations"),
    "users": ("sec", "/users"),
    "account": ("cri", "/account"),
    "audit": ("sec", "/audit"),
    "edit": ("sec", f"/statements/{STATEMENT}/edit"),
    "api-search": ("anon", "/api/search?q=trafficking"),
    "api-search-all": ("anon", "/api/search"),
    "api-statement": ("anon", f"/api/statements/{STATEMENT}"),
    "api-history": ("anon", f"/api/statements/{STATEMENT}/history"),
    "api-themes": ("anon", "/api/themes"),
    "api-theme-1": ("anon", "/api/themes/1"),
    "api-theme-5": ("anon", "/api/themes/5"),
    "api-subtheme": ("anon", "/api/themes/5/1"),
    "api-meetings": ("anon", "/api/meetings"),
    "api-meeting": ("anon", "/api/meetings/XII"),
    "api-about": ("anon", "/api/about"),
    "api-gcm": ("anon", "/api/gcm"),
    "api-objective": ("anon", "/api/gcm/1"),
}


def build(url: str) -> tuple[Any, dict[str, str]]:
    """The store with the site's data; the values the addresses need."""
    import random

    import spanish_edition as se
    from rcm import consult, review, translate, users
    from rcm.parse import read_compilation, read_declaration
    from rcm.parse.spanish_edition import parse_spanish_edition
    from rcm.search import theme_filter
    from rcm.store import Store
    from rcm.suggest import label_compendium

    compendium = read_compilation()
    store = Store(url, create=True)
    store.ingest(label_compendium(compendium))
    users.add_user(store, "cri", "focal_point", country="CRI", password=PASSWORDS["cri"])
    users.add_user(store, "sec", "secretariat", password=PASSWORDS["sec"])
    rounds = [
        consult.open_round(store, "Inputs 2017 (TS5)", filters=[theme_filter([5])]),
        consult.open_round(store, "Still valid? All statements", deadline="2030-12-31"),
    ]
    draw = random.Random(18)
    for rnd in rounds:
        with store.transaction() as conn:
            scope = sorted(consult._scope(conn, rnd.id))
        for country in consult.member_countries():
            answers = []
            share = ANSWERED["busy" if country in BUSY else "other"]
            for sid in scope:
                if draw.random() >= share:
                    continue  # left unanswered
                [value] = draw.choices(list(VALUES), weights=list(VALUES.values()))
                answers.append(
                    consult.Answer(
                        sid,
                        value,
                        proposed_wording="Wording as proposed by the country, slightly changed."
                        if value == "valid with changes"
                        else None,
                        reason="Overtaken by later commitments."
                        if value == "no longer valid"
                        else None,
                        comment="A comment from the focal point." if draw.random() < 0.1 else None,
                    )
                )
            consult.set_opinions(store, rnd.id, country, answers, author="bench", source="web")
    sample = ROOT / "tests" / "data" / "declarations" / "xxii_rcm_en.txt"
    _, queued = review.add_declaration(
        store, read_declaration(sample), meeting="XXII", year=2017, actor="sec"
    )
    edition = parse_spanish_edition(se.as_text(se.sections(compendium)), "e.txt")
    translate.queue_edition(store, edition, actor="sec")
    first = next(x for x in translate.translations(store) if x.statement_id == STATEMENT)
    translate.accept_translation(store, first.id, actor="sec")
    return store, {"proposal": queued[0].id}


class Timings(logging.Handler):
    """Keeps the ``ms`` the app logs for each request (``rcm.request``)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and "ms" in fields:
            self.last = float(fields["ms"])


@contextmanager
def clients(store: Any) -> Iterator[dict[str, TestClient]]:
    from rcm.web import create_app
    from webclient import sign_in

    made = {}
    for who in ("anon", "sec", "cri"):
        c = TestClient(create_app(store), follow_redirects=False)
        if who != "anon":
            sign_in(c, who, PASSWORDS[who])
        made[who] = c
    try:
        yield made
    finally:
        for c in made.values():
            c.close()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(c: TestClient, path: str, lang: str, n: int, timings: Timings) -> dict[str, Any]:
    from rcm.web.i18n import COOKIE

    c.cookies.set(COOKIE, lang)
    headers = {"Accept-Encoding": "gzip"}
    for _ in range(2):
        c.get(path, headers=headers)
    server, client, cpu = [], [], []
    r = None
    for _ in range(n):
        timings.last = None
        started, started_cpu = time.perf_counter(), time.process_time()
        r = c.get(path, headers=headers)
        client.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if timings.last is not None:
            server.append(timings.last)
    assert r is not None
    raw = len(r.content)
    return {
        "status": r.status_code,
        "raw": raw,
        "sent": r.num_bytes_downloaded,
        "encoding": r.headers.get("content-encoding", "identity"),
        "gzip": len(gzip.compress(r.content, 6)),
        "server_ms_median": round(statistics.median(server), 1),
        "server_ms_p95": round(p95(server), 1),
        "cpu_ms_median": round(statistics.median(cpu), 1),
        "cpu_ms_p95": round(p95(cpu), 1),
        "client_ms_median": round(statistics.median(client), 1),
        "client_ms_p95": round(p95(client), 1),
    }


@contextmanager
def database(db: str) -> Iterator[str]:
    from load import fresh_database

    with fresh_database(db) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("-n", type=int, default=20, help="timed requests per page and language")
    parser.add_argument("--only", nargs="*", default=None, help="page names (default: all)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "pages.json")
    args = parser.parse_args()

    timings = Timings()
    log = logging.getLogger("rcm.request")
    log.addHandler(timings)
    log.setLevel(logging.INFO)
    log.propagate = False
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    with database(args.db) as url:
        started = time.perf_counter()
        store, values = build(url)
        print(f"site built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        with clients(store) as made:
            for name, (who, template) in PAGES.items():
                if args.only and name not in args.only:
                    continue
                path = template.format(**values)
                for lang in ("en", "es"):
                    row = {"page": name, "who": who, "path": path, "lang": lang}
                    row |= measure(made[who], path, lang, args.n, timings)
                    row["over_size"] = row["sent"] > BUDGET_BYTES
                    row["over_time"] = row["cpu_ms_median"] > BUDGET_MS
                    row["over_time_wall"] = row["server_ms_median"] > BUDGET_MS
                    rows.append(row)
                    print(line(row), flush=True)
        store.close()
    over = [r for r in rows if r["over_size"] or r["over_time"]]
    report = {
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "budget": {"bytes": BUDGET_BYTES, "server_ms": BUDGET_MS},
        "db": "postgresql" if args.db.startswith("postgres") else "sqlite",
        "n": args.n,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "pages": rows,
        "over_budget": [f"{r['page']} ({r['lang']})" for r in over],
    }
    if args.only is None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{len(over)} of {len(rows)} over budget: {', '.join(report['over_budget']) or '-'}")


def line(r: dict[str, Any]) -> str:
    flags = ("SIZE " if r["over_size"] else "") + ("TIME" if r["over_time"] else "")
    flags += " (wall)" if r["over_time_wall"] and not r["over_time"] else ""
    return (
        f"{r['page']:<15} {r['lang']} {r['status']} raw {r['raw']:>7} sent {r['sent']:>7} "
        f"gzip {r['gzip']:>6}  server {r['server_ms_median']:>6.1f} / {r['server_ms_p95']:>6.1f} ms"
        f"  cpu {r['cpu_ms_median']:>6.1f} / {r['cpu_ms_p95']:>6.1f} ms  {flags}"
    )


if __name__ == "__main__":
    main()
