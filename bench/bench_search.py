"""Search benchmark: `rcm` search *including facet counts* beside the raw backend query alone
(SQLite FTS5 ``MATCH … ORDER BY bm25 LIMIT 20``), run in the same process, interleaved, on the
same synthetic database (``bench/synthetic.py``).

    .venv/bin/python bench/synthetic.py 1000000 bench/data/synthetic-1m.db     # once
    .venv/bin/python bench/bench_search.py bench/data/synthetic-10k.db bench/data/synthetic-1m.db \
        [--repeat 15] [--json bench/results/search.json]

Each database is measured in a fresh subprocess, so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

QUERIES = [
    "trafficking",
    "human rights",
    "migrants",
    '"unaccompanied migrant children"',
    "return reintegration",
    "smuggl*",
    "consular protection -detention",
    "refugees OR asylum",
    "natural disasters",
    "labor",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(db: Path, repeat: int) -> dict[str, object]:
    from rcm.search import SearchRequest, fts5_match, parse_query, search
    from rcm.store import Store

    store = Store(f"sqlite:///{db}")
    raw_conn = store.engine.raw_connection()
    raw_sql = (
        "SELECT rowid, bm25(statement_fts) FROM statement_fts WHERE statement_fts MATCH ? "
        "ORDER BY bm25(statement_fts) LIMIT 20"
    )
    rows: dict[str, dict[str, object]] = {}
    all_raw: list[float] = []
    all_rcm: list[float] = []
    for query in QUERIES:
        match, _ = fts5_match(parse_query(query))
        raw_times: list[float] = []
        rcm_times: list[float] = []
        total = 0
        for i in range(repeat + 1):
            t0 = time.perf_counter()
            cur = raw_conn.cursor()
            cur.execute(raw_sql, (match,))
            cur.fetchall()
            t1 = time.perf_counter()
            result = search(store, SearchRequest(query, limit=20))
            t2 = time.perf_counter()
            total = result.total
            if i:  # the first round warms the page cache
                raw_times.append((t1 - t0) * 1000)
                rcm_times.append((t2 - t1) * 1000)
        all_raw += raw_times
        all_rcm += rcm_times
        rows[query] = {
            "matches": total,
            "raw_p50": round(percentile(raw_times, 0.5), 2),
            "raw_p95": round(percentile(raw_times, 0.95), 2),
            "rcm_p50": round(percentile(rcm_times, 0.5), 2),
            "rcm_p95": round(percentile(rcm_times, 0.95), 2),
            "ratio_p50": round(percentile(rcm_times, 0.5) / percentile(raw_times, 0.5), 2),
        }
    with store.connection() as conn:
        n = conn.exec_driver_sql("SELECT COUNT(*) FROM statement_search").scalar()
    store.close()
    return {
        "database": str(db),
        "statements": n,
        "queries": rows,
        "all": {
            "raw_p50": round(percentile(all_raw, 0.5), 2),
            "raw_p95": round(percentile(all_raw, 0.95), 2),
            "rcm_p50": round(percentile(all_rcm, 0.5), 2),
            "rcm_p95": round(percentile(all_rcm, 0.95), 2),
            "raw_worst": round(max(all_raw), 2),
            "rcm_worst": round(max(all_rcm), 2),
            "ratio_p50": round(percentile(all_rcm, 0.5) / percentile(all_raw, 0.5), 2),
            "ratio_p95": round(percentile(all_rcm, 0.95) / percentile(all_raw, 0.95), 2),
            "ratio_of_sums": round(sum(all_rcm) / sum(all_raw), 2),
        },
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],  # the machine is shared
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("databases", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.databases[0], args.repeat)))
        return
    reports = []
    for db in args.databases:
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--repeat", str(args.repeat), str(db)],
            check=False,
            capture_output=True,
            text=True,
        )
        if child.returncode:
            raise SystemExit(
                f"{db}: {child.stderr.strip().splitlines()[-1]} "
                "(rebuild it with bench/synthetic.py)"
            )
        out = child.stdout
        report = json.loads(out)
        reports.append(report)
        print(
            f"\n{db} ({report['statements']:,} statements), ms over {args.repeat} runs, "
            f"max RSS {report['max_rss_mib']} MiB"
        )
        print(
            f"{'query':<36} {'matches':>9} {'raw p50':>8} {'raw p95':>8} {'rcm p50':>8} "
            f"{'rcm p95':>8} {'x raw':>6}"
        )
        for q, r in report["queries"].items():
            print(
                f"{q:<36} {r['matches']:>9,} {r['raw_p50']:>8} {r['raw_p95']:>8} {r['rcm_p50']:>8} "
                f"{r['rcm_p95']:>8} {r['ratio_p50']:>6}"
            )
        a = report["all"]
        print(
            f"{'all queries':<36} {'':>9} {a['raw_p50']:>8} {a['raw_p95']:>8} {a['rcm_p50']:>8} "
            f"{a['rcm_p95']:>8} {a['ratio_p50']:>6}  (p95 ratio {a['ratio_p95']}, "
            f"sum ratio {a['ratio_of_sums']})"
        )
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
