"""Web benchmark: requests per second and latency of `rcm serve` (search page and /api/search, with
facet counts) beside Datasette serving the same SQLite file with its FTS index, on loopback, in the
same run, under a bounded load from `wrk` (Debian package) in a second process.

    apt-get install wrk; python3 -m venv /tmp/dsenv && /tmp/dsenv/bin/pip install datasette
    .venv/bin/python bench/bench_web.py --db rcm.db --datasette /tmp/dsenv/bin/datasette \
        [--seconds 10] [--connections 8] [--json bench/results/web.json]

Datasette is not a dependency of the project: it is installed beside it only for this comparison.
Queries are words whose stem is the word itself, so Datasette's FTS match (on the stemmed index
column) and rcm's find the same statements.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

QUERIES = ["children", "women", "labor", "asylum"]

# Datasette facets on columns: a view of the search table with the docid's facets unpacked
# (meeting, combination's category and themes as a JSON array), created in a copy of the database
# so the benchmarked file is not changed.
FACET_VIEW = "statement_facets"
FACET_PARAMS = "_facet=meeting&_facet=category&_facet_array=themes&_nosuggest=1"
_THEME_LIST = " ||\n  ".join(
    f"CASE WHEN c.themes & {1 << i} THEN '{i + 1},' ELSE '' END" for i in range(16)
)
FACET_VIEW_SQL = f"""CREATE VIEW {FACET_VIEW} AS
SELECT s.docid, s.statement_id, s.body, c.meeting_code AS meeting, c.category,
  (SELECT json_group_array(value) FROM json_each('[' || rtrim({_THEME_LIST}, ',') || ']'))
  AS themes
FROM statement_search AS s JOIN facet_combos AS c ON c.id = (s.docid >> 32) & 1048575"""

LUA = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %f %f %f\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def peak_rss_mib(pid: int) -> float | None:
    """A process's peak resident memory (VmHWM, Linux), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def run_wrk(url: str, seconds: int, connections: int, script: str) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, status_errors, socket_errors, duration, p50, p95 = line.split()[1:]
    return {
        "requests": int(requests),
        "non_2xx": int(status_errors),
        "socket_errors": int(socket_errors),
        "rps": round(int(requests) / float(duration), 1),
        "p50_ms": round(float(p50), 2),
        "p95_ms": round(float(p95), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("rcm.db"))
    ap.add_argument("--datasette", default=os.environ.get("DATASETTE") or shutil.which("datasette"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    if not args.datasette:
        raise SystemExit(
            "Datasette is missing: python3 -m venv /tmp/dsenv && /tmp/dsenv/bin/pip "
            "install datasette, then pass --datasette /tmp/dsenv/bin/datasette"
        )
    rcm_port, ds_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / args.db.name  # a copy, with the facet view; both servers serve it
        shutil.copyfile(args.db, db)
        with sqlite3.connect(db) as conn:
            conn.execute(FACET_VIEW_SQL)
        name = db.stem
        meta = Path(tmp) / "metadata.json"
        meta.write_text(
            json.dumps(
                {
                    "databases": {
                        name: {
                            "tables": {
                                table: {"fts_table": "statement_fts", "fts_pk": "docid"}
                                for table in ("statement_search", FACET_VIEW)
                            }
                        }
                    }
                }
            )
        )
        script = Path(tmp) / "report.lua"
        script.write_text(LUA)
        rcm_bin = Path(sys.executable).with_name("rcm")
        servers = [
            subprocess.Popen(
                [str(rcm_bin), "--db", str(db), "serve", "--port", str(rcm_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [
                    args.datasette,
                    "serve",
                    str(db),
                    "--port",
                    str(ds_port),
                    "-m",
                    str(meta),
                    "--setting",
                    "num_sql_threads",
                    "3",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        try:
            wait(f"http://127.0.0.1:{rcm_port}/healthz")
            wait(f"http://127.0.0.1:{ds_port}/{name}.json")
            rows = []
            for q in QUERIES:
                targets = {
                    "rcm /api/search (facets)": f"http://127.0.0.1:{rcm_port}/api/search?q={q}",
                    "rcm /search page (facets)": f"http://127.0.0.1:{rcm_port}/search?q={q}",
                    "datasette JSON _search": (
                        f"http://127.0.0.1:{ds_port}/{name}/statement_search.json?_search={q}"
                    ),
                    "datasette JSON _search, no count/suggest": (
                        f"http://127.0.0.1:{ds_port}/{name}/statement_search.json?_search={q}"
                        "&_nocount=1&_nosuggest=1"
                    ),
                    # The fair race: Datasette asked for facets too (a count per value, as
                    # /api/search counts its facets), and nothing it was not asked for.
                    "datasette JSON _search + facets": (
                        f"http://127.0.0.1:{ds_port}/{name}/{FACET_VIEW}.json?_search={q}"
                        f"&{FACET_PARAMS}"
                    ),
                }
                for label, url in targets.items():
                    urllib.request.urlopen(url, timeout=30).read()  # warm up
                    result = run_wrk(url, args.seconds, args.connections, str(script))
                    rows.append({"query": q, "target": label, **result})
                    errors = result["non_2xx"] + result["socket_errors"]
                    print(
                        f"{q:<10} {label:<42} {result['rps']:>8} rps  "
                        f"p50 {result['p50_ms']:>7} ms  p95 {result['p95_ms']:>7} ms  "
                        f"errors {errors}",
                        flush=True,
                    )
            peaks = {"rcm": peak_rss_mib(servers[0].pid), "datasette": peak_rss_mib(servers[1].pid)}
        finally:
            for s in servers:
                s.terminate()
                s.wait(timeout=10)
    by_target: dict[str, list[float]] = {}
    for r in rows:
        by_target.setdefault(r["target"], []).append(r["rps"])
    summary = {t: round(sum(v) / len(v), 1) for t, v in by_target.items()}
    base = summary["datasette JSON _search + facets"]
    print(f"\npeak RSS (MiB) of each server, one worker: {peaks}; load average {os.getloadavg()}")
    print("mean requests per second over the queries, and ratio to Datasette asked for facets:")
    for t, v in summary.items():
        print(f"  {t:<42} {v:>8}  {v / base:.2f}x")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "database": str(args.db),
                    "seconds": args.seconds,
                    "connections": args.connections,
                    "rows": rows,
                    "mean_rps": summary,
                    "ratio_api_search_vs_datasette_facets": round(
                        summary["rcm /api/search (facets)"] / base, 2
                    ),
                    "peak_rss_mib": peaks,
                    "loadavg_after": list(os.getloadavg()),
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
