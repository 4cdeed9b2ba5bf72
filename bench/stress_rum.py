"""RUM under concurrent searches: ``--clients`` sessions send the search benchmark's queries
(``bench_search_pg.QUERIES``, the very tsqueries ``rcm`` builds) on RUM's own paths for
``--seconds``, each statement chosen at random: the ordered scan
``tsv @@ q ORDER BY tsv <=> q LIMIT 160`` and the count ``SELECT count(*) … WHERE tsv @@ q``. No
writes. Reports the statements answered, the errors, and the backends the server log says died by
a signal in the meantime (``--log``: the server's log file, read from its end at the start).

    .venv/bin/python bench/stress_rum.py postgresql://postgres@127.0.0.1:5432/rcm_bench_1m \\
        [--seconds 240] [--clients 4] [--only QUERY | --skip QUERY] \\
        [--log /var/log/postgresql/postgresql-15-main.log]

For a database loaded by ``pg_load.py --rum``. It may crash the server (bench/README.md, "RUM
crashed the server"): run it on a server of its own.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search_pg import QUERIES
from rcm.search import parsed_query, pg_tsquery
from rcm.store import _pyformat


def statements(queries: list[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    out = []
    for query in queries:
        params: dict[str, Any] = {}
        pos, neg = pg_tsquery(parsed_query(query), params)
        rest = f" AND NOT (tsv @@ ({neg}))" if neg else ""
        source = f"statement_search, (SELECT {pos} AS q) AS query WHERE tsv @@ q{rest}"
        top = f"SELECT docid, tsv <=> q FROM {source} ORDER BY tsv <=> q LIMIT 160"
        count = f"SELECT count(*) FROM {source}"
        out.append((query, _pyformat(top), _pyformat(count), params))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="postgresql://… (psycopg's form)")
    ap.add_argument("--seconds", type=float, default=240)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--only", help="this query only")
    ap.add_argument("--skip", help="every query but this one")
    ap.add_argument("--log", type=Path, help="the server's log file, to count crashed backends")
    args = ap.parse_args()
    chosen = [q for q in QUERIES if (not args.only or q == args.only) and q != args.skip]
    work = statements(chosen)
    log_start = args.log.stat().st_size if args.log else 0
    counts = {"answered": 0, "errors": 0}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn: psycopg.Connection[Any] | None = None
        while time.monotonic() < stop:
            query, top, count, params = rng.choice(work)
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(args.url, autocommit=True)
                conn.execute(rng.choice([top, count]), params).fetchall()
                with lock:
                    counts["answered"] += 1
            except psycopg.Error as exc:
                with lock:
                    counts["errors"] += 1
                    errors.append(f"{time.strftime('%H:%M:%S')} {query}: {str(exc).strip()[:160]}")
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(1)  # the server may be in crash recovery
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    crashed = None
    if args.log:
        with args.log.open("rb") as f:
            f.seek(log_start)
            crashed = f.read().decode("utf-8", "replace").count("was terminated by signal")
    print(
        f"{len(chosen)} queries, {args.clients} clients, {args.seconds:g} s: "
        f"{counts['answered']} statements answered, {counts['errors']} errors, "
        f"backends killed by a signal: {'-' if crashed is None else crashed}; "
        f"load average {os.getloadavg()}"
    )
    for line in errors[:20]:
        print(" ", line)


if __name__ == "__main__":
    main()
