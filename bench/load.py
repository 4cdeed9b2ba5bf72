"""Load: the consultation under concurrent use, against a real `rcm serve` on loopback, then the
proof that nothing acknowledged was lost or duplicated.

    .venv/bin/python bench/load.py [--db postgresql://postgres@127.0.0.1:5432/test | --db sqlite]
        [--requests 300] [--workers 2] [--clients-per-country 1] [--json bench/results/load.json]

A fresh database (a new PostgreSQL database on the server `--db` names, created and dropped here,
or a SQLite file in a temporary folder) gets the shipped compilation, a focal point for each of the
11 Member Countries and the Secretariat (`--clients-per-country` of each), and an open round on
TS5. `rcm serve --workers N` runs in a subprocess. Every client signs in (GET /login for the
token, POST /login), then makes a fixed number of requests, in turn:

- write: answers for one or two of a few "hot" statements of the round for a country (a focal
  point its own, the Secretariat any), each with a comment nobody else writes, sending the version
  it last saw (`ver:<id>`); a 409 (someone wrote in between) is expected and counted, and the
  client takes the current versions from the page the 409 returns;
- search: /api/search with varied queries and filters;
- read: the home page, statements, themes, meetings, the answer form, the round's dashboard.

Then: requests per second, p50/p95/p99 per kind, statuses, and the proof, from the database with
the server stopped. Every acknowledged write (200, "N answers saved") was sent with version v, so
it is version v+1. For every (country, statement): the acknowledged versions are exactly 1..n, the
stored opinion is version n and equals the write acknowledged as n, ``opinion_history`` holds
exactly one row per acknowledged write and equal to it, and ``audit_events`` holds n
``opinion.set`` events. Nothing stored that was not acknowledged. Exit code 1 unless there were
no 5xx, no other unexpected status, no lost and no duplicated write.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text

from rcm import consult, users
from rcm.parse import read_compilation
from rcm.search import theme_filter
from rcm.store import Store, database_url
from rcm.store import schema as t
from rcm.suggest import label_compendium

RCM = [sys.executable, "-m", "rcm.cli"]
KINDS = ("write", "search", "read")
HOT = 4  # statements of the round every client keeps editing
QUERIES = [
    "children",
    "trafficking",
    "human rights",
    '"migrant workers"',
    "smuggl*",
    "asylum OR refugee",
    "return -voluntary",
    "women",
    "labor",
    "border",
    "consular protection",
    "health",
    "",
]
FILTERS: list[dict[str, str]] = [
    {},
    {"theme": "TS5"},
    {"theme": "TS1"},
    {"sort": "newest"},
    {"meeting": "XII.."},
    {"year": "2005..2010"},
    {"page": "2"},
    {"category": "commitment"},
    {"several": "yes"},
]
VALUES = [v.value for v in consult.OpinionValue]
VER = re.compile(r'name="ver:([A-Za-z0-9-]+)" value="(\d+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SAVED = re.compile(r'class="saved" role="status">(\d+) answers? saved')


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    country: str | None


@dataclass(frozen=True)
class Ack:
    """A write the server acknowledged: it is this version of this opinion."""

    country: str
    statement_id: str
    version: int
    value: str
    proposed_wording: str | None
    reason: str | None
    comment: str | None
    author: str


@dataclass
class Record:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    unexpected: Counter[str] = field(default_factory=Counter)
    acks: list[Ack] = field(default_factory=list)
    sent_writes: int = 0
    conflicts: int = 0
    anomalies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(url: str, workers: int, log: Path) -> Iterator[str]:
    """`rcm serve --workers N` in a subprocess; yields its base URL once /healthz answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*RCM, "--db", url, "serve", "--port", str(port), "--workers", str(workers)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"rcm serve exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"rcm serve did not answer /healthz:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)  # uvicorn stops its workers, then itself
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- set-up ---------------------------------------------------------------------------------------


def prepare(url: str, clients_per_country: int) -> tuple[int, list[str], list[Account]]:
    """The compilation, the people and an open round on TS5; returns the round, its statements
    and the accounts (passwords generated, as `rcm users add` does)."""
    with Store(url, create=True) as store:
        store.ingest(label_compendium(read_compilation()))
        accounts = []
        for country in consult.member_countries():
            for i in range(1, clients_per_country + 1):
                name = f"fp-{country.lower()}-{i}"
                _, password = users.add_user(store, name, "focal_point", country=country)
                accounts.append(Account(name, password, "focal_point", country))
        for i in range(1, clients_per_country + 1):
            name = f"secretariat-{i}"
            _, password = users.add_user(store, name, "secretariat")
            accounts.append(Account(name, password, "secretariat", None))
        rnd = consult.open_round(
            store, "Load test", filters=[theme_filter([5])], deadline="2030-12-31"
        )
        ids = sorted(s["id"] for s in consult.round_status(store, rnd.id)["statements"])
    return rnd.id, ids, accounts


# --- the clients ----------------------------------------------------------------------------------


class Client:
    def __init__(
        self,
        base: str,
        account: Account,
        round_id: int,
        statements: list[str],
        record: Record,
        seed: int,
    ) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
        self.account = account
        self.round_id = round_id
        self.statements = statements
        self.hot = statements[:HOT]
        self.record = record
        self.rng = random.Random(seed)
        self.csrf = ""
        self.versions: dict[str, dict[str, int]] = {}  # country -> statement -> version seen
        self.writes = 0

    def close(self) -> None:
        self.http.close()

    def _request(
        self, kind: str, method: str, url: str, ok: tuple[int, ...] = (200,), **kw: Any
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            r = self.http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            with self.record.lock:
                self.record.statuses[kind][type(exc).__name__] += 1
                self.record.unexpected[f"{type(exc).__name__}"] += 1
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.record.lock:
            self.record.latencies[kind].append(elapsed)
            self.record.statuses[kind][str(r.status_code)] += 1
            if r.status_code not in ok:
                self.record.unexpected[str(r.status_code)] += 1
        return r

    def sign_in(self) -> None:
        page = self.http.get("/login")
        token = CSRF.search(page.text)
        r = self.http.post(
            "/login",
            data={
                "username": self.account.username,
                "password": self.account.password,
                "next": "/rounds",
                "csrf": token.group(1) if token else "",
            },
        )
        if r.status_code != 303:
            raise SystemExit(f"{self.account.username} could not sign in: {r.status_code}")
        country = self.account.country or consult.member_countries()[0]
        form = self.http.get(f"/rounds/{self.round_id}/answers", params={"country": country})
        found = CSRF.search(form.text)
        if form.status_code != 200 or found is None:
            raise SystemExit(f"{self.account.username}: no answer form ({form.status_code})")
        self.csrf = found.group(1)
        self._learn(country, form.text)

    def _learn(self, country: str, page: str) -> None:
        self.versions[country] = {sid: int(v) for sid, v in VER.findall(page)}

    def write(self) -> None:
        me = self.account
        country = me.country or self.rng.choice(consult.member_countries())
        seen = self.versions.setdefault(country, {})
        chosen = self.rng.sample(self.hot, self.rng.choice((1, 1, 2)))
        form: dict[str, str] = {"csrf": self.csrf, "country": country}
        sent: list[Ack] = []
        for sid in chosen:
            self.writes += 1
            value = self.rng.choice(VALUES)
            note = f"{me.username} write {self.writes} on {sid}"  # nobody else writes this
            wording = f"Proposed by {note}." if value == "valid with changes" else None
            reason = note if value == "no longer valid" else None
            comment = None if reason else note
            version = seen.get(sid, 0)
            form |= {f"v:{sid}": value, f"c:{sid}": note, f"ver:{sid}": str(version)}
            if wording:
                form[f"w:{sid}"] = wording
            sent.append(
                Ack(country, sid, version + 1, value, wording, reason, comment, me.username)
            )
        with self.record.lock:
            self.record.sent_writes += 1
        r = self._request(
            "write", "POST", f"/rounds/{self.round_id}/answers", (200, 409), data=form
        )
        if r is None:
            return
        if r.status_code == 200:
            saved = SAVED.search(r.text)
            with self.record.lock:
                if saved is None or int(saved.group(1)) != len(sent):
                    self.record.anomalies.append(
                        f"{me.username}: 200 without '{len(sent)} saved' for {chosen}"
                    )
                self.record.acks.extend(sent)
        elif r.status_code == 409:
            with self.record.lock:
                self.record.conflicts += 1
        if r.status_code in (200, 409):
            self._learn(country, r.text)

    def search(self) -> None:
        params = {"q": self.rng.choice(QUERIES), **self.rng.choice(FILTERS)}
        r = self._request("search", "GET", "/api/search", params=params)
        if r is not None and r.status_code == 200 and "hits" not in r.json():
            with self.record.lock:
                self.record.anomalies.append(f"/api/search {params}: no hits in the answer")

    def read(self) -> None:
        rid, me = self.round_id, self.account
        sid = self.rng.choice(self.statements)
        choices: list[tuple[str, tuple[int, ...]]] = [
            ("/", (200,)),
            (f"/statements/{sid}", (200,)),
            (f"/api/statements/{sid}", (200,)),
            (f"/themes/{self.rng.randint(1, 6)}", (200,)),
            ("/meetings/XII", (200,)),
            ("/gcm", (200,)),
        ]
        if me.country:
            choices += [
                (f"/rounds/{rid}/answers", (200,)),
                (f"/rounds/{rid}", (303,)),  # a focal point is sent to their own answers
            ]
        else:
            country = self.rng.choice(consult.member_countries())
            choices += [
                (f"/rounds/{rid}/answers?country={country}", (200,)),
                (f"/rounds/{rid}", (200,)),
            ]
        url, ok = self.rng.choice(choices)
        r = self._request("read", "GET", url, ok)
        if r is not None and r.status_code == 200 and url.startswith(f"/rounds/{rid}/answers"):
            self._learn(me.country or url.rsplit("=", 1)[1], r.text)

    def run(self, requests: int, start: threading.Barrier) -> None:
        start.wait()
        steps = {"write": self.write, "search": self.search, "read": self.read}
        offset = self.rng.randrange(3)
        for i in range(requests):
            steps[KINDS[(i + offset) % 3]]()


# --- the proof ------------------------------------------------------------------------------------


def prove(url: str, round_id: int, acks: list[Ack]) -> dict[str, Any]:
    """Compare what was acknowledged with what is stored (see the module's docstring)."""
    store = Store(url)
    o, h, a = t.opinions, t.opinion_history, t.audit_events
    fields = ("value", "proposed_wording", "reason", "comment", "author")
    with store.connection() as conn:
        stored = {
            (r.country, r.statement_id): r
            for r in conn.execute(select(o).where(o.c.round_id == round_id))
        }
        history: dict[tuple[str, str], list[Any]] = {}
        for r in conn.execute(select(h).where(h.c.round_id == round_id).order_by(h.c.version)):
            history.setdefault((r.country, r.statement_id), []).append(r)
        audits = Counter(
            conn.scalars(
                select(a.c.object).where(
                    a.c.action == "opinion.set", a.c.object.like(f"round {round_id} %")
                )
            )
        )
        audit_total = conn.scalar(select(func.count()).select_from(a)) or 0
    store.close()
    by_key: dict[tuple[str, str], dict[int, list[Ack]]] = {}
    for ack in acks:
        by_key.setdefault((ack.country, ack.statement_id), {}).setdefault(ack.version, []).append(
            ack
        )
    problems: list[str] = []
    lost = duplicated = mismatched = 0
    for key in sorted(set(by_key) | set(stored) | set(history)):
        where = f"{key[0]} {key[1]}"
        versions = by_key.get(key, {})
        n = len(versions)
        for v, same in versions.items():
            if len(same) > 1:  # two writes acknowledged as the same version: one was lost
                lost += len(same) - 1
                problems.append(f"{where}: {len(same)} writes acknowledged as version {v}")
        if sorted(versions) != list(range(1, n + 1)):
            problems.append(f"{where}: acknowledged versions {sorted(versions)} are not 1..{n}")
        rows = history.get(key, [])
        row_versions = Counter(r.version for r in rows)
        for r in rows:
            expected = versions.get(r.version)
            if expected is None:
                duplicated += 1
                problems.append(f"{where}: history version {r.version} was never acknowledged")
            elif tuple(getattr(r, f) for f in fields) != tuple(
                getattr(expected[0], f) for f in fields
            ) or (r.source != "web"):
                mismatched += 1
                problems.append(f"{where}: history version {r.version} differs from what was sent")
        duplicated += sum(c - 1 for c in row_versions.values() if c > 1)
        lost += sum(1 for v in versions if v not in row_versions)
        current = stored.get(key)
        if n == 0 and current is None:
            continue
        if current is None or current.version != n:
            mismatched += 1
            problems.append(
                f"{where}: stored version {current.version if current else None}, "
                f"{n} writes acknowledged"
            )
        elif n and tuple(getattr(current, f) for f in fields) != tuple(
            getattr(versions[n][0], f) for f in fields
        ):
            mismatched += 1
            problems.append(f"{where}: the stored opinion is not the last acknowledged write")
        if audits.get(f"round {round_id} {key[0]} {key[1]}", 0) != n:
            mismatched += 1
            problems.append(
                f"{where}: {audits.get(f'round {round_id} {key[0]} {key[1]}', 0)} audit events, "
                f"{n} writes acknowledged"
            )
    return {
        "keys": len(by_key),
        "acknowledged_writes": len(acks),
        "stored_opinions": len(stored),
        "history_rows": sum(len(v) for v in history.values()),
        "opinion_audit_events": sum(audits.values()),
        "audit_events_total": audit_total,
        "lost": lost,
        "duplicated": duplicated,
        "mismatched": mismatched,
        "problems": problems[:20],
    }


# --- the run --------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 1)


def run(
    url: str,
    *,
    requests: int = 300,
    workers: int = 2,
    clients_per_country: int = 1,
    seed: int = 2017,
    record: Record | None = None,
) -> dict[str, Any]:
    """The whole run on an empty database at ``url``; returns the results (``record``, when
    given, receives every request's outcome and the acknowledged writes)."""
    url = database_url(url)
    round_id, statements, accounts = prepare(url, clients_per_country)
    record = record if record is not None else Record()
    with tempfile.TemporaryDirectory() as tmp:
        log_file = Path(tmp) / "serve.log"
        with server(url, workers, log_file) as base:
            clients = [
                Client(base, acc, round_id, statements, record, seed * 1000 + i)
                for i, acc in enumerate(accounts)
            ]
            try:
                for c in clients:
                    c.sign_in()
                start = threading.Barrier(len(clients) + 1)
                threads = [
                    threading.Thread(target=c.run, args=(requests, start), daemon=True)
                    for c in clients
                ]
                for th in threads:
                    th.start()
                start.wait()
                began = time.perf_counter()
                for th in threads:
                    th.join()
                duration = time.perf_counter() - began
            finally:
                for c in clients:
                    c.close()
        server_log = log_file.read_text(errors="replace")
    proof = prove(url, round_id, record.acks)
    total = sum(len(v) for v in record.latencies.values()) + sum(
        n for k, n in record.unexpected.items() if not k.isdigit()
    )
    five = sum(n for s, n in record.unexpected.items() if s.startswith("5"))
    others = {s: n for s, n in record.unexpected.items() if not s.startswith("5")}
    result = {
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "round_id": round_id,
        "server_workers": workers,
        "clients": len(accounts),
        "clients_per_country": clients_per_country,
        "requests_per_client": requests,
        "requests": total,
        "duration_s": round(duration, 2),
        "rps": round(total / duration, 1) if duration else 0.0,
        "latency_ms": {
            k: {
                "n": len(v),
                "p50": _percentile(v, 50),
                "p95": _percentile(v, 95),
                "p99": _percentile(v, 99),
                "max": round(max(v), 1) if v else 0.0,
            }
            for k, v in record.latencies.items()
        },
        "statuses": {k: dict(sorted(v.items())) for k, v in record.statuses.items()},
        "writes": {
            "sent": record.sent_writes,
            "acknowledged_requests": record.statuses["write"].get("200", 0),
            "acknowledged_answers": len(record.acks),
            "conflicts_409": record.conflicts,
        },
        "errors_5xx": five,
        "errors_other": others,
        "server_tracebacks": server_log.count("Traceback"),
        "anomalies": record.anomalies[:20],
        "proof": proof,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    result["ok"] = bool(
        five == 0
        and not others
        and not record.anomalies
        and result["server_tracebacks"] == 0
        and proof["lost"] == 0
        and proof["duplicated"] == 0
        and proof["mismatched"] == 0
        and not proof["problems"]
    )
    return result


@contextmanager
def fresh_database(db: str) -> Iterator[str]:
    """A new PostgreSQL database on the server ``db`` names (dropped afterwards), or a SQLite file
    in a temporary folder (``sqlite``), or the SQLite file ``db`` (which must not exist)."""
    if db.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        admin = database_url(db)
        name = f"rcm_load_{uuid.uuid4().hex[:10]}"
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield f"{admin.rsplit('/', 1)[0]}/{name}"
        finally:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()
        return
    if db == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'load.db'}"
        return
    path = Path(db.removeprefix("sqlite:///"))
    if path.exists():
        raise SystemExit(f"{path} exists: the load run needs a new database")
    yield f"sqlite:///{path}"


def summary(r: dict[str, Any]) -> str:
    lines = [
        f"{r['database']}, {r['server_workers']} server workers, {r['clients']} clients "
        f"({r['clients_per_country']} per country and the Secretariat) x "
        f"{r['requests_per_client']} requests",
        f"{r['requests']} requests in {r['duration_s']} s: {r['rps']} requests per second",
    ]
    for kind, lat in r["latency_ms"].items():
        lines.append(
            f"  {kind:<6} n={lat['n']:<5} p50 {lat['p50']:>7} ms  p95 {lat['p95']:>7} ms  "
            f"p99 {lat['p99']:>7} ms  max {lat['max']:>7} ms  statuses {r['statuses'][kind]}"
        )
    w, p = r["writes"], r["proof"]
    lines += [
        f"writes: {w['sent']} sent, {w['acknowledged_requests']} acknowledged "
        f"({w['acknowledged_answers']} answers), {w['conflicts_409']} conflicts (409)",
        f"errors: 5xx {r['errors_5xx']}, other {r['errors_other'] or 0}, "
        f"server tracebacks {r['server_tracebacks']}",
        f"proof: {p['keys']} opinions, {p['acknowledged_writes']} acknowledged writes, "
        f"{p['history_rows']} history rows, {p['opinion_audit_events']} audit events; "
        f"lost {p['lost']}, duplicated {p['duplicated']}, mismatched {p['mismatched']}",
    ]
    lines += [f"  problem: {x}" for x in p["problems"] + r["anomalies"]]
    lines.append("OK" if r["ok"] else "FAILED")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--db",
        default=os.environ.get("RCM_LOAD_DB", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL server URL (a database is created and dropped on it), or sqlite",
    )
    ap.add_argument("--requests", type=int, default=300, help="requests per client")
    ap.add_argument("--workers", type=int, default=2, help="rcm serve --workers")
    ap.add_argument("--clients-per-country", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2017)
    ap.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "load.json")
    args = ap.parse_args()
    with fresh_database(args.db) as url:
        result = run(
            url,
            requests=args.requests,
            workers=args.workers,
            clients_per_country=args.clients_per_country,
            seed=args.seed,
        )
    print(summary(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
