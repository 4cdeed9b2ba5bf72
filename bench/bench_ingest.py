"""Ingest benchmark: the shipped compilation parsed and stored in a fresh database, beside a naive
baseline run in the same process (read the file, split rows on tabs, insert them raw with sqlite3).

    .venv/bin/python bench/bench_ingest.py [--repeat 15] [--postgres URL] \
        [--json bench/results/ingest.json]

Reports medians in milliseconds, the ratio to the baseline, and peak memory (tracemalloc peak of
Python allocations during one parse+ingest, and the process's maximum resident set size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from rcm.parse import parse_compilation, shipped_compilation
from rcm.store import Store

DATA = shipped_compilation()


def baseline(db: Path) -> None:
    """What the simplest possible loader costs: no cleaning, joining, dedup, ids or checks."""
    rows = [
        line.split("\t") for line in DATA.decode("utf-8").splitlines() if line.startswith("<ul")
    ]
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE rows (text TEXT, meeting TEXT)")
    conn.executemany(
        "INSERT INTO rows VALUES (?, ?)", [(r[0], r[1] if len(r) > 1 else "") for r in rows]
    )
    conn.commit()
    conn.close()


def ours_parse() -> None:
    parse_compilation(DATA, "bench.txt")


def ours_ingest(url: str) -> None:
    store = Store(url, create=True)
    store.ingest(parse_compilation(DATA, "bench.txt"))
    store.close()


def timed(fn: Callable[[], None], repeat: int) -> list[float]:
    fn()  # warm-up: imports, regex compilation
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--postgres", default=os.environ.get("RCM_TEST_POSTGRES_URL"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10**6))

        def fresh(prefix: str) -> Path:
            return Path(tmp) / f"{prefix}{next(counter)}.db"

        results: dict[str, list[float]] = {
            "baseline: split + sqlite3 insert": timed(lambda: baseline(fresh("b")), args.repeat),
            "rcm: parse": timed(ours_parse, args.repeat),
            "rcm: parse + migrate + ingest (fresh SQLite file)": timed(
                lambda: ours_ingest(f"sqlite:///{fresh('r')}"), args.repeat
            ),
        }
        reused = f"sqlite:///{fresh('x')}"
        ours_ingest(reused)
        results["rcm: re-ingest, nothing changed (SQLite)"] = timed(
            lambda: ours_ingest(reused), args.repeat
        )

        if args.postgres:
            from sqlalchemy import create_engine, text

            from rcm.store import database_url

            admin = create_engine(database_url(args.postgres), isolation_level="AUTOCOMMIT")
            base = database_url(args.postgres).rsplit("/", 1)[0]

            def pg_fresh() -> None:
                name = f"rcm_bench_{next(counter)}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                try:
                    start = time.perf_counter()
                    ours_ingest(f"{base}/{name}")
                    pg_times.append((time.perf_counter() - start) * 1000)
                finally:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

            pg_times: list[float] = []
            for _ in range(min(args.repeat, 5) + 1):
                pg_fresh()
            results["rcm: parse + migrate + ingest (fresh PostgreSQL db)"] = pg_times[1:]

        tracemalloc.start()
        ours_ingest(f"sqlite:///{fresh('m')}")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    base_ms = statistics.median(results["baseline: split + sqlite3 insert"])
    report = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "repeat": args.repeat,
        "median_ms": {k: round(statistics.median(v), 2) for k, v in results.items()},
        "ratio_to_baseline": {
            k: round(statistics.median(v) / base_ms, 1) for k, v in results.items()
        },
        "peak_python_alloc_mib": round(peak / 2**20, 2),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    width = max(len(k) for k in results)
    print(f"{'':<{width}}  median ms  x baseline")
    for k in results:
        print(
            f"{k:<{width}}  {report['median_ms'][k]:>9.2f}  {report['ratio_to_baseline'][k]:>10.1f}"
        )
    print(
        f"peak Python allocations during one parse+ingest: {report['peak_python_alloc_mib']} MiB; "
        f"process max RSS: {report['max_rss_mib']} MiB"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
