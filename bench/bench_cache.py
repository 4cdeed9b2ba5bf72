"""HTTP caching: requests per second of a real `rcm serve` answering 200 (a full page) and 304
(a conditional request whose ETag still holds: what a reverse proxy or a CDN sends when its copy
expires), with one worker and with `--workers N`, on PostgreSQL (and SQLite), under `wrk`.

    apt-get install wrk
    .venv/bin/python bench/bench_cache.py [--db postgresql://postgres@127.0.0.1:5432/test]
        [--db sqlite] [--workers 1 2] [--seconds 8] [--connections 8]
        [--json bench/results/cache.json]

Each `--db` gets a fresh database (a new PostgreSQL database on that server, dropped afterwards,
or a SQLite file in a temporary folder) with the shipped compilation. For each worker count, each
URL is loaded for `--seconds` twice in turn: plain GETs (200, rendered), then GETs with
`If-None-Match` set to the ETag the first answer carried (304, no body: the data version is read,
nothing is rendered). Reported: requests/s, p50 and p95, the ratio 304/200 and the ratio of N
workers to one, and the peak RSS of each server process. The machine has 2 cores shared with wrk
(one thread) and whatever else runs: quote the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import fresh_database, server
from rcm.parse import read_compilation
from rcm.store import Store
from rcm.suggest import label_compendium

LUA = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %f %f %f\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def urls(statement: str) -> list[str]:
    return [
        "/",
        f"/statements/{statement}",
        "/search?q=migrants",
        "/api/search?q=migrants",
        "/api/themes/5",
    ]


def wrk(url: str, seconds: int, connections: int, script: Path, etag: str | None) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script)]
    if etag:
        command += ["-H", f"If-None-Match: {etag}"]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, status_errors, socket_errors, duration, p50, p95 = line.split()[1:]
    return {
        "requests": int(requests),
        "errors": int(status_errors) + int(socket_errors),
        "rps": round(int(requests) / float(duration), 1),
        "p50_ms": round(float(p50), 2),
        "p95_ms": round(float(p95), 2),
    }


def tree_peak_rss_mb(root: int) -> dict[str, float]:
    """VmHWM (peak resident memory) of the server process and its children, in MB."""
    peaks = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        pid = int(status.parent.name)
        ppid = int(re.search(r"^PPid:\s+(\d+)", text, re.M).group(1))  # type: ignore[union-attr]
        hwm = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
        if hwm and (pid == root or ppid == root):
            peaks[str(pid)] = round(int(hwm.group(1)) / 1024, 1)
    return peaks


def server_pid(base: str) -> int:
    port = base.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True)
    found = re.findall(r"pid=(\d+)", out.stdout)
    return min(int(p) for p in found) if found else 0


def measure(db: str, workers: int, args: argparse.Namespace, script: Path, log: Path) -> dict:
    rows: dict[str, Any] = {}
    with server(db, workers, log) as base:
        with Store(db) as store:
            statement = store.load().statements[40].id
        for path in urls(statement):
            first = httpx.get(base + path, timeout=30)
            etag = first.headers.get("etag")
            check = httpx.get(base + path, headers={"If-None-Match": etag or ""}, timeout=30)
            assert first.status_code == 200 and etag and check.status_code == 304, path
            full = wrk(base + path, args.seconds, args.connections, script, None)
            cached = wrk(base + path, args.seconds, args.connections, script, etag)
            rows[path] = {
                "bytes_200": len(first.content),
                "200": full,
                "304": cached,
                "ratio_304_to_200": round(cached["rps"] / full["rps"], 2),
            }
            print(f"  {workers}w {path}: 200 {full['rps']}/s, 304 {cached['rps']}/s", flush=True)
        pid = server_pid(base)
        peaks = tree_peak_rss_mb(pid) if pid else {}
    return {"urls": rows, "peak_rss_mb": peaks}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", action="append", help="postgresql://… (a server) or sqlite")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    dbs = args.db or ["postgresql://postgres@127.0.0.1:5432/test"]
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg()[0],  # the machine is shared: say how busy
        },
        "wrk": {"threads": 1, "connections": args.connections, "seconds": args.seconds},
        "backends": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(LUA)
        for db in dbs:
            with fresh_database(db) as url:
                with Store(url, create=True) as store:
                    store.ingest(label_compendium(read_compilation()))
                backend = "postgresql" if url.startswith("postgres") else "sqlite"
                print(backend, flush=True)
                runs = {}
                for n in args.workers:
                    started = time.monotonic()
                    runs[str(n)] = measure(url, n, args, script, Path(tmp) / f"serve-{n}.log")
                    runs[str(n)]["seconds"] = round(time.monotonic() - started, 1)
                if "1" in runs:
                    for run in runs.values():
                        for path, row in run["urls"].items():
                            one = runs["1"]["urls"][path]
                            row["ratio_to_1_worker"] = {
                                k: round(row[k]["rps"] / one[k]["rps"], 2) for k in ("200", "304")
                            }
                results["backends"][backend] = runs
    results["machine"]["load_average_at_end"] = os.getloadavg()[0]
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
