"""Server memory: the peak resident memory (VmHWM) of each `rcm serve` process while it answers
searches over a large compendium, on SQLite and on PostgreSQL (target: under 300 MB per worker at
1M statements).

    .venv/bin/python bench/bench_rss.py bench/data/synthetic-1m.db \
        postgresql+psycopg://postgres@127.0.0.1:5432/rcm_bench_1m [--workers 1] [--rounds 2] \
        [--clients 4] [--json bench/results/rss.json]

Each database is served by its own `rcm serve --workers N` (a SQLite file as it is; a PostgreSQL
database as ``bench/pg_load.py`` loaded it). The server's memory is read once it answers
/healthz (idle), then ``--clients`` threads send every request below ``--rounds`` times: the
search benchmark's queries through /api/search and the /search page, the broadest (no query:
every statement, every facet), filtered, sorted and deep pages; then, one at a time, a CSV
download of a whole filtered search (every match). Reported per server process: VmHWM idle,
after the searches and after the downloads, and the slowest answers. The machine is shared: the
load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cache import server_pid, tree_peak_rss_mb
from bench_search import QUERIES
from load import server


def requests_for() -> list[str]:
    paths: list[str] = []
    for q in QUERIES:
        paths.append("/api/search?" + urlencode({"q": q}))
        paths.append("/search?" + urlencode({"q": q}))
    paths += [
        "/api/search",  # every statement, every facet
        "/search",
        "/api/search?" + urlencode({"q": "migrants", "theme": "TS5", "sort": "newest"}),
        "/api/search?" + urlencode({"q": "children", "category": "commitment", "page": 40}),
        "/api/search?" + urlencode({"q": "migrants", "size": 100, "page": 10}),
        "/api/search?" + urlencode({"theme": "TS3", "several": "yes", "sort": "oldest"}),
        "/search?" + urlencode({"q": "human rights", "year": "2005..2015"}),
    ]
    return paths


# Downloads of a whole search (every match, not a page), measured after the searches.
EXPORTS = ["/search.csv?" + urlencode({"q": "trafficking", "theme": "TS1"})]


def run(
    url: str, workers: int, rounds: int, clients: int, log: Path, timeout: float
) -> dict[str, Any]:
    paths = requests_for()
    slowest: dict[str, float] = {}
    statuses: dict[str, int] = {}
    with server(url, workers, log) as base:
        pid = server_pid(base)
        idle = tree_peak_rss_mb(pid) if pid else {}

        def get(path: str) -> None:
            with httpx.Client(base_url=base, timeout=timeout) as client:
                t0 = time.perf_counter()
                try:
                    status = client.get(path).status_code
                except httpx.TimeoutException:
                    status = 0  # reported below, with the peaks measured so far
                ms = (time.perf_counter() - t0) * 1000
            statuses[path] = status
            slowest[path] = max(slowest.get(path, 0.0), round(ms, 1))

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(get, paths * rounds))
        seconds = round(time.perf_counter() - started, 1)
        peak = tree_peak_rss_mb(pid) if pid else {}
        for path in EXPORTS:
            get(path)
        after_exports = tree_peak_rss_mb(pid) if pid else {}
    bad = {p: s for p, s in statuses.items() if s != 200 and p not in EXPORTS}
    if bad:
        raise SystemExit(f"{url}: answers other than 200: {bad}")
    return {
        "workers": workers,
        "requests": len(paths) * rounds,
        "clients": clients,
        "seconds": seconds,
        "idle_rss_mb": idle,
        "peak_rss_mb": peak,
        "max_peak_rss_mb": max(peak.values(), default=None),
        "exports": EXPORTS,
        "peak_rss_mb_after_exports": after_exports,
        "export_status": {p: statuses[p] or f"no answer in {timeout:g} s" for p in EXPORTS},
        "slowest_ms": dict(sorted(slowest.items(), key=lambda kv: -kv[1])[:5]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dbs", nargs="+", help="a SQLite file or a postgresql:// URL")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=300, help="seconds per request")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, db in enumerate(args.dbs):
            url = db if "://" in db else f"sqlite:///{Path(db).resolve()}"
            load_before = list(os.getloadavg())
            log = Path(tmp) / f"serve-{i}.log"
            row = run(url, args.workers, args.rounds, args.clients, log, args.timeout)
            row = {
                "database": db.rsplit("/", 1)[-1],
                "backend": "postgresql" if url.startswith("postgres") else "sqlite",
                **row,
                "loadavg_before": load_before,
                "loadavg_after": list(os.getloadavg()),
            }
            print(json.dumps(row, indent=2), flush=True)
            results.append(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
