"""Questionnaire size bombs (issue 13): for each kind, `rcm round import` of the bomb in its own
process (wall time and the process's peak memory, from os.wait4), beside the baseline: an honest
questionnaire of the same round, every row answered, imported the same way; and /healthz latency
(p50, p95) of a real `rcm serve` (one worker, 127.0.0.1) while bombs are uploaded one after
another, beside the same server idle and while honest questionnaires are uploaded.

    .venv/bin/python bench/bench_questionnaire_bombs.py [--repeat 3] [--seconds 8] [--src DIR]
        [--json bench/results/questionnaire_bombs.json] [--kinds KIND …] [--timeout S]

The bombs are those of tests/xlsx_bombs.py at the issue's sizes (a 300 MB cell, 1.5 GB of
whitespace, a cell at XFD1048576, a million rows, …). --src runs the imports and the server on
another checkout's src/ (say, the code before the limits) to compare; every run is bounded (a
timeout per import, a fixed number of seconds per latency phase).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"  # GNU time (Debian package "time")
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

import xlsx_bombs  # noqa: E402


def rcm_env(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "RCM_ENV": "development"}


def rcm(env: dict[str, str], db: str, *args: str, timeout: float = 120) -> dict[str, Any]:
    """One `rcm` command in its own process: exit code, wall seconds, peak RSS (MB), last line.

    The peak comes from GNU time (/usr/bin/time -f %M), a small process that starts `rcm`: Linux
    keeps a process's peak RSS across exec, so a child spawned straight from this script (which
    holds the bombs it made) would report this script's size instead of its own."""
    with tempfile.NamedTemporaryFile() as figures, tempfile.TemporaryFile() as output:
        started = time.monotonic()
        command = [sys.executable, "-m", "rcm.cli", "--db", db, *args]
        proc = subprocess.Popen(
            [TIME, "-f", "%M", "-o", figures.name, *command],
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,  # its own process group: a timeout ends `rcm` too
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        seconds = time.monotonic() - started
        output.seek(0)
        lines = output.read().decode("utf-8", "replace").strip().splitlines()
        kb = [ln for ln in Path(figures.name).read_text().splitlines() if ln.strip().isdigit()]
    return {
        "exit_code": proc.returncode,
        "seconds": round(seconds, 3),
        "max_rss_mb": round(int(kb[-1]) / 1024, 1) if kb else None,
        "output": (lines[-1] if lines else "")[:300],
        "timed_out": seconds >= timeout,
    }


def honest(questionnaire: bytes) -> bytes:
    """Every row answered; one in five with a proposed wording, one in seven "No" with a reason."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(questionnaire))
    for ws in wb.worksheets[:-1]:
        for row in ws.iter_rows(min_row=2):
            # By statement, not by row: a statement on two sheets gets the same answer on both.
            i = sum(str(row[0].value).encode())
            if i % 7 == 0:
                row[3].value, row[5].value = "No", "Superseded by a later declaration."
            elif i % 5 == 0:
                row[3].value, row[4].value = "Yes, with changes", "A better wording. " * 10
            else:
                row[3].value = "Yes"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def import_figures(
    env: dict[str, str], golden: Path, folder: Path, name: str, data: bytes, repeat: int
) -> dict[str, Any]:
    path = folder / f"{name}.xlsx"
    path.write_bytes(data)
    runs = []
    for _ in range(repeat):
        db = folder / "run.db"
        shutil.copyfile(golden, db)
        runs.append(rcm(env, f"sqlite:///{db}", "round", "import", "1", str(path), "--as", "cri"))
    path.unlink()
    return {
        "file_bytes": len(data),
        "exit_code": runs[0]["exit_code"],
        "seconds_median": round(statistics.median(r["seconds"] for r in runs), 3),
        "seconds_max": max(r["seconds"] for r in runs),
        "max_rss_mb": max(r["max_rss_mb"] for r in runs),
        "timed_out": any(r["timed_out"] for r in runs),
        "output": runs[0]["output"],
    }


# --- /healthz while bombs are uploaded ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Site:
    """A signed-in focal point of Costa Rica on a real server."""

    def __init__(self, base: str, password: str) -> None:
        import httpx

        self.base = base
        self.client = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
        page = self.client.get("/login").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = self.client.post(
            "/login", data={"username": "cri", "password": password, "csrf": token}
        )
        assert r.status_code == 303, r.text[:300]
        page = self.client.get("/rounds/1/answers").text
        self.csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]

    def upload(self, data: bytes) -> int:
        files = {"file": ("cri.xlsx", data, "application/octet-stream")}
        r = self.client.post(
            "/rounds/1/questionnaire", data={"csrf": self.csrf, "country": "CRI"}, files=files
        )
        return r.status_code


def healthz(base: str, seconds: float, stop: threading.Event | None = None) -> dict[str, Any]:
    """GET /healthz one after another for ``seconds`` (at most 2,000 requests)."""
    times: list[float] = []
    failed = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(times) < 2000:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=120) as r:
                r.read()
        except OSError:
            failed += 1  # counted at the time it took to fail
        times.append((time.monotonic() - started) * 1000)
        time.sleep(0.01)
    times.sort()
    return {
        "requests": len(times),
        "p50_ms": round(times[len(times) // 2], 2),
        "p95_ms": round(times[int(len(times) * 0.95)], 2),
        "max_ms": round(times[-1], 2),
        "failed": failed,
    }


def latency(
    env: dict[str, str], db: Path, password: str, loads: dict[str, list[bytes]], seconds: float
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "rcm.cli", "--db", f"sqlite:///{db}", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("rcm serve did not start") from None
                time.sleep(0.2)
        out: dict[str, Any] = {"idle": healthz(base, seconds)}
        for name, files in loads.items():
            site = Site(base, password)
            stop = threading.Event()
            uploads: list[tuple[int, float]] = []

            def send(site: Site = site, files: list[bytes] = files, stop=stop, uploads=uploads):
                i = 0
                while not stop.is_set() and len(uploads) < 500:
                    started = time.monotonic()
                    try:
                        status = site.upload(files[i % len(files)])
                    except Exception:  # a timeout, a dropped connection: counted as status 0
                        status = 0
                    uploads.append((status, time.monotonic() - started))
                    i += 1

            worker = threading.Thread(target=send)
            worker.start()
            time.sleep(0.5)
            figures = healthz(base, seconds)
            stop.set()
            worker.join()
            figures["uploads"] = len(uploads)
            figures["upload_statuses"] = sorted({s for s, _ in uploads})
            figures["upload_seconds_median"] = round(statistics.median(t for _, t in uploads), 3)
            out[name] = figures
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "questionnaire_bombs.json"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--src", type=Path, default=ROOT / "src")
    ap.add_argument("--kinds", nargs="*", help="only these bomb kinds (default: all)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per import")
    ap.add_argument("--note", default="", help="a sentence kept in the report")
    args = ap.parse_args()
    env = rcm_env(args.src.resolve())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        golden = folder / "golden.db"
        db = f"sqlite:///{golden}"
        for command in (
            ["ingest"],
            ["round", "open", "Every statement"],
            ["users", "add", "cri", "--role", "focal_point", "--country", "CRI"],
        ):
            result = subprocess.run(
                [sys.executable, "-m", "rcm.cli", "--db", db, *command],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        password = result.stdout.split("password: ", 1)[1].strip()
        q_path = folder / "CRI.xlsx"
        write = ["round", "questionnaire", "1", "--country", "CRI", "-o", str(q_path)]
        subprocess.run(
            [sys.executable, "-m", "rcm.cli", "--db", db, *write],
            env=env,
            capture_output=True,
            check=True,
        )
        questionnaire = q_path.read_bytes()
        baseline_file = honest(questionnaire)
        print("baseline: an honest questionnaire, every row answered", flush=True)
        baseline = import_figures(env, golden, folder, "honest", baseline_file, args.repeat)
        print(f"  {baseline}", flush=True)
        kinds = {k: v for k, v in xlsx_bombs.KINDS.items() if not args.kinds or k in args.kinds}
        bombs: dict[str, Any] = {}
        made: dict[str, bytes] = {}
        for name, make in kinds.items():
            data = make(questionnaire)
            made[name] = data
            figures = import_figures(env, golden, folder, "bomb", data, args.repeat)
            figures["time_ratio"] = round(figures["seconds_median"] / baseline["seconds_median"], 2)
            if figures["max_rss_mb"] is not None:
                figures["memory_ratio"] = round(figures["max_rss_mb"] / baseline["max_rss_mb"], 2)
            bombs[name] = figures
            print(f"{name}: {figures}", flush=True)
        # The bombs that take longest to refuse, uploaded one after another, small enough to pass
        # the upload limit.
        small = {k: v for k, v in made.items() if len(v) <= 5 * 1024 * 1024}
        slowest = sorted(small, key=lambda k: bombs[k]["seconds_median"], reverse=True)[:3]
        print(f"/healthz while uploading: {slowest}", flush=True)
        web = latency(
            env,
            golden,
            password,
            {
                "while honest questionnaires are uploaded": [baseline_file],
                "while bombs are uploaded": [made[k] for k in slowest],
            },
            args.seconds,
        )
        web["bombs_uploaded"] = slowest
        print(json.dumps(web, indent=2), flush=True)
    report = {
        "command": "python bench/bench_questionnaire_bombs.py " + " ".join(sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "database": "SQLite (a fresh copy per import)",
        # Which code was measured, without this machine's paths: the project's own src, or another
        # checkout's (the code before a fix) named by its folder.
        "src": "src" if args.src.resolve() == (ROOT / "src").resolve() else args.src.name,
        "note": args.note,
        "round": {"statements": "every statement of the shipped compilation", "country": "CRI"},
        "repeat": args.repeat,
        "baseline": {"what": "an honest questionnaire, every row answered", **baseline},
        "bombs": bombs,
        "healthz": web,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
