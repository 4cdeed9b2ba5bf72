"""Faults, each repeatable, on SQLite and PostgreSQL where it applies:

(a) the database connection dropping in the middle of a write (PostgreSQL: the writing
    connection's backend terminated with pg_terminate_backend; SQLite: the driver failing with
    sqlite3.OperationalError, as a failing disk does) during an ingest, a questionnaire import and
    the acceptance of a proposal: a one-line StoreError that says the work was rolled back (exit
    code 3 from the command), and the database exactly as before;
(b) the disk filling up while exporting (ENOSPC, simulated, and on a real 64 KB tmpfs when this
    process may mount one): one line "cannot write FILE: No space left on device", a non-zero
    exit, no partial or temporary file, an existing FILE untouched;
(c) `rcm ingest` killed with SIGKILL in the middle (of the migration, of the ingest transaction,
    and at random moments): the database holds nothing or the whole compilation, never part of
    it, and `rcm ingest`, `rcm check` and `rcm stats` work afterwards.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import Engine, create_engine, event, func, inspect, select, text

from rcm import consult, review
from rcm.cli import cli
from rcm.errors import StoreError
from rcm.export.questionnaire import write_questionnaire
from rcm.model import DeclarationText, DraftStatement
from rcm.parse import read_compilation
from rcm.search import theme_filter
from rcm.store import Store, database_url
from rcm.store import schema as t
from rcm.suggest import label_compendium

STATEMENTS, PLACEMENTS = 129, 186


@pytest.fixture(scope="module")
def labelled():
    return label_compendium(read_compilation())


def snapshot(store: Store) -> dict[str, Any]:
    """Every row of every table (and the SQLite full-text index), to compare before and after."""
    out: dict[str, Any] = {}
    with store.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for table in t.metadata.sorted_tables:
            if table.name in present:
                rows = conn.execute(select(table)).all()
                out[table.name] = sorted(repr(tuple(r)) for r in rows)
        if store.dialect == "sqlite" and "statement_fts" in present:
            out["statement_fts"] = conn.execute(text("SELECT count(*) FROM statement_fts")).scalar()
    return out


def one_clear_line(message: str) -> None:
    assert "\n" not in message.strip(), message
    for noise in ("Traceback", "[SQL", "Background on this error", "sqlalche.me"):
        assert noise not in message, message


# --- (a) the connection drops in the middle of a write -------------------------------------------


@contextmanager
def connection_drops(
    store: Store, statement: str, after: int = 1, *, every_engine: bool = False
) -> Iterator[list[str]]:
    """Once ``after`` statements starting with ``statement`` have run, the connection fails: on
    PostgreSQL its server process is terminated (pg_terminate_backend, from a second connection);
    on SQLite the next statement fails in the driver (sqlite3.OperationalError, as when the disk
    fails). On ``store``'s engine, or on every engine (``every_engine``: for a command that opens
    its own). Yields the faults injected."""
    fired: list[str] = []
    seen = 0
    target: Any = Engine if every_engine else store.engine
    admin = (
        create_engine(store.url, isolation_level="AUTOCOMMIT")
        if store.dialect == "postgresql"
        else None
    )

    def after_execute(conn, cursor, sql, parameters, context, executemany) -> None:
        nonlocal seen
        if fired or not sql.lstrip().upper().startswith(statement.upper()):
            return
        seen += 1
        if seen < after:
            return
        if admin is not None:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as other:
                done = other.execute(
                    text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
                ).scalar()
            assert done, "the backend was not terminated"
            fired.append("pg_terminate_backend")
        else:
            fired.append("armed")

    def do_execute(cursor, sql, parameters, context) -> None:
        if fired == ["armed"]:
            fired.append("disk I/O error")
            raise sqlite3.OperationalError("disk I/O error")

    event.listen(target, "after_cursor_execute", after_execute)
    if store.dialect == "sqlite":
        event.listen(target, "do_execute", do_execute)
        event.listen(target, "do_executemany", do_execute)
    try:
        yield fired
    finally:
        event.remove(target, "after_cursor_execute", after_execute)
        if store.dialect == "sqlite":
            event.remove(target, "do_execute", do_execute)
            event.remove(target, "do_executemany", do_execute)
        if admin is not None:
            admin.dispose()


def test_connection_lost_during_a_first_ingest(store, labelled):
    store.migrate()
    before = snapshot(store)
    with (
        connection_drops(store, "INSERT INTO statement_items") as fired,
        pytest.raises(StoreError) as caught,
    ):
        store.ingest(labelled)
    assert fired[-1:] in (["pg_terminate_backend"], ["disk I/O error"]), caught.value
    message = caught.value.message
    one_clear_line(message)
    assert message.startswith(f"ingest into {store.display_url} failed and was rolled back")
    assert snapshot(store) == before
    assert before["statements"] == []
    with connection_drops(store, "INSERT INTO statement_items", every_engine=True) as fired:
        result = CliRunner().invoke(cli, ["--db", store.url, "ingest"])
    assert fired[-1:] in (["pg_terminate_backend"], ["disk I/O error"])
    assert result.exit_code == 3 and result.stdout == "", result.output
    assert result.stderr.startswith(f"rcm: error: ingest into {store.display_url} failed and")
    assert result.stderr.count("\n") == 1
    assert snapshot(store) == before
    result = store.ingest(labelled)  # and the database works afterwards
    assert (result.added, result.placements) == (STATEMENTS, PLACEMENTS)


def test_connection_lost_during_a_reingest_keeps_the_previous_version(store, labelled):
    from dataclasses import replace

    store.ingest(labelled)
    first = labelled.statements[0]
    changed = replace(
        labelled,
        statements=[replace(first, text=first.text + " (amended)"), *labelled.statements[1:]],
        placements=labelled.placements[:-3],
    )
    before = snapshot(store)
    # Late in the transaction: statements updated, placements rewritten, index refreshing.
    with (
        connection_drops(store, "INSERT INTO statement_search") as fired,
        pytest.raises(StoreError, match="failed and was rolled back") as caught,
    ):
        store.ingest(changed)
    assert fired[-1:] in (["pg_terminate_backend"], ["disk I/O error"]), caught.value
    one_clear_line(caught.value.message)
    assert snapshot(store) == before
    assert store.statement(first.id)[0].text == first.text
    assert store.ingest(changed).updated == 1


def filled_questionnaire(store: Store, round_id: int, country: str) -> bytes:
    wb = load_workbook(io.BytesIO(write_questionnaire(store, round_id, country)))
    answers = {"XII-8133": "Yes", "XII-8033": "Abstain", "I-0593": "Yes"}
    for ws in wb.worksheets:
        if ws.title == consult.SIGNATURE_SHEET:
            continue
        for row in ws.iter_rows(min_row=2):
            if row[0].value in answers:
                row[3].value = answers[row[0].value]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_connection_lost_during_a_questionnaire_import(store, labelled, tmp_path):
    store.ingest(labelled)
    rnd = consult.open_round(store, "TS5", filters=[theme_filter([5])])
    data = filled_questionnaire(store, rnd.id, "CRI")
    before = snapshot(store)
    # After the first answer is written, before the second.
    with (
        connection_drops(store, "INSERT INTO audit_events") as fired,
        pytest.raises(StoreError) as caught,
    ):
        consult.import_questionnaire(store, rnd.id, data, "cri.xlsx", "focal:CRI")
    assert fired[-1:] in (["pg_terminate_backend"], ["disk I/O error"]), caught.value
    one_clear_line(caught.value.message)
    assert "rolled back" in caught.value.message
    assert snapshot(store) == before
    # The command says the same in one line, with the exit code of a database problem.
    path = tmp_path / "cri.xlsx"
    path.write_bytes(data)
    with connection_drops(store, "INSERT INTO audit_events", every_engine=True) as fired:
        result = CliRunner().invoke(
            cli, ["--db", store.url, "round", "import", str(rnd.id), str(path)]
        )
    assert fired[-1:] in (["pg_terminate_backend"], ["disk I/O error"])
    assert result.exit_code == 3, result.output
    assert result.stdout == "" and result.stderr.startswith("rcm: error: database ")
    assert result.stderr.count("\n") == 1 and "rolled back" in result.stderr
    assert snapshot(store) == before
    done = consult.import_questionnaire(store, rnd.id, data, "cri.xlsx", "focal:CRI")
    assert done.written == 3


def test_connection_lost_while_accepting_a_proposal(store, labelled):
    store.ingest(labelled)
    text_ = (
        "We commit to strengthen consular protection and assistance for migrants in transit "
        "through the region, regardless of their migratory status."
    )
    declaration = DeclarationText(
        name="xxii.txt",
        sha256=hashlib.sha256(text_.encode()).hexdigest(),
        size=len(text_.encode()),
        lang="en",
        title="Declaration of the XXII Regional Conference on Migration",
        preamble=(),
        statements=(DraftStatement(position=1, text=text_, line=1),),
        closing=(),
    )
    _, queued = review.add_declaration(store, declaration, meeting="XXII", year=2017, actor="sec")
    before = snapshot(store)
    with (
        connection_drops(store, "INSERT INTO placements") as fired,
        pytest.raises(StoreError) as caught,
    ):
        review.accept_proposal(store, queued[0].id, actor="ana")
    assert fired[-1:] in (["pg_terminate_backend"], ["disk I/O error"]), caught.value
    one_clear_line(caught.value.message)
    assert "rolled back" in caught.value.message
    assert snapshot(store) == before
    with connection_drops(store, "INSERT INTO placements", every_engine=True) as fired:
        result = CliRunner().invoke(cli, ["--db", store.url, "review", "accept", str(queued[0].id)])
    assert fired[-1:] in (["pg_terminate_backend"], ["disk I/O error"])
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("rcm: error: database ") and result.stderr.count("\n") == 1
    assert snapshot(store) == before
    assert review.accept_proposal(store, queued[0].id, actor="ana").state == "accepted"


# --- (b) the disk fills up while exporting --------------------------------------------------------

OUTPUTS = [["export", "--format", f] for f in ("json", "csv", "docx", "xlsx")] + [
    ["backup"],
    ["round", "questionnaire", "1", "--country", "CRI"],
    ["round", "report", "1"],
]
OUTPUT_IDS = [
    "export json",
    "export csv",
    "export docx",
    "export xlsx",
    "backup",
    "round questionnaire",
    "round report",
]


@pytest.fixture(scope="module")
def exportable(tmp_path_factory) -> str:
    db = tmp_path_factory.mktemp("export") / "rcm.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "ingest"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["--db", str(db), "round", "open", "Still valid? 2026"])
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "1", result.output
    return str(db)


def command(args: list[str]) -> list[str]:
    if args[0] not in cli.commands:
        pytest.skip(f"there is no `rcm {args[0]}` yet")
    return args


class FullDisk:
    """A file on a disk with room for 1 KB more: what fits is written, then ENOSPC."""

    def __init__(self, fh: Any) -> None:
        self.fh, self.room = fh, 1024

    def write(self, data: Any) -> int:
        part = data[: self.room]
        self.fh.write(part)
        self.fh.flush()
        self.room -= len(part)
        if len(part) < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return len(data)

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fh, name)


def assert_refused_cleanly(result: Any, target: Path, before: bytes | None) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr == f"rcm: error: cannot write {target}: No space left on device\n"
    if before is None:
        assert not target.exists()
    else:
        assert target.read_bytes() == before  # the previous export is untouched
    leftovers = sorted(p.name for p in target.parent.iterdir() if p.name.startswith("."))
    assert leftovers == [], leftovers  # no temporary file left behind


@pytest.mark.parametrize("args", OUTPUTS, ids=OUTPUT_IDS)
def test_disk_full_while_writing_an_export(exportable, args, tmp_path, monkeypatch):
    args = command(args)
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: FullDisk(real_fdopen(*a, **k)))
    target = tmp_path / "out.file"
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", exportable, *args, "-o", str(target)])
    assert_refused_cleanly(result, target, None)
    target.write_bytes(b"the export of yesterday\n")
    result = runner.invoke(cli, ["--db", exportable, *args, "-o", str(target)])
    assert_refused_cleanly(result, target, b"the export of yesterday\n")
    monkeypatch.undo()
    result = runner.invoke(cli, ["--db", exportable, *args, "-o", str(target)])
    assert result.exit_code == 0 and target.stat().st_size > 1024


@pytest.mark.parametrize("args", OUTPUTS, ids=OUTPUT_IDS)
def test_a_written_file_reaches_the_disk_before_it_replaces_the_old_one(
    exportable, args, tmp_path, monkeypatch
):
    """Power cut: the new file's bytes are flushed (fsync) before the rename, and the folder after
    it, so the old file or the whole new one survives, never an empty or half file."""
    args = command(args)
    target = tmp_path / "out.file"
    target.write_bytes(b"the export of yesterday\n")
    calls: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        kind = "folder" if stat.S_ISDIR(st.st_mode) else f"file of {st.st_size} bytes"
        calls.append(("fsync", kind))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        calls.append(("replace", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    result = CliRunner().invoke(cli, ["--db", exportable, *args, "-o", str(target)])
    assert result.exit_code == 0, result.output
    size = target.stat().st_size
    assert calls == [
        ("fsync", f"file of {size} bytes"),
        ("replace", "out.file"),
        ("fsync", "folder"),
    ]


def test_written_files_get_the_usual_permissions_and_backups_owner_only(exportable, tmp_path):
    runner = CliRunner()
    mask = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.json"
        assert runner.invoke(cli, ["--db", exportable, "export", "-o", str(fresh)]).exit_code == 0
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o640  # 0o666 under the umask, as open()
        kept = tmp_path / "kept.csv"
        kept.write_text("old\n")
        kept.chmod(0o604)
        args = ["--db", exportable, "export", "--format", "csv", "-o", str(kept)]
        assert runner.invoke(cli, args).exit_code == 0
        assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text() != "old\n"
        # A backup holds password hashes: owner-only, even over a file others could read.
        backup = tmp_path / "rcm.backup.gz"
        backup.write_bytes(b"old")
        backup.chmod(0o644)
        args = ["--db", exportable, "backup", "-o", str(backup)]
        assert runner.invoke(cli, args).exit_code == 0
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    finally:
        os.umask(mask)


@pytest.fixture
def tiny_disk(tmp_path) -> Iterator[Path]:
    """A 64 KB tmpfs, when this process may mount one (root, and a kernel that lets it)."""
    where = tmp_path / "tiny"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs root to mount a tmpfs; the simulated one is tested")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.parametrize("args", OUTPUTS, ids=OUTPUT_IDS)
def test_a_really_full_disk(exportable, args, tiny_disk):
    args = command(args)
    target = tiny_disk / "compendium.out"
    target.write_bytes(b"the export of yesterday\n")
    filler = tiny_disk / "filler"
    with filler.open("wb", buffering=0) as fh, pytest.raises(OSError) as full:
        while True:  # take every byte that is left
            fh.write(b"\0" * 4096)
    assert full.value.errno == errno.ENOSPC
    result = CliRunner().invoke(cli, ["--db", exportable, *args, "-o", str(target)])
    assert_refused_cleanly(result, target, b"the export of yesterday\n")
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["compendium.out", "filler"]


# --- (c) the process is killed in the middle of an ingest -----------------------------------------


def counts(url: str) -> tuple[int, int]:
    engine = create_engine(database_url(url))
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if "statements" not in tables:
                return 0, 0
            return (
                conn.scalar(select(func.count()).select_from(t.statements)) or 0,
                conn.scalar(select(func.count()).select_from(t.placements)) or 0,
            )
    finally:
        engine.dispose()


def start_ingest(url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "rcm.cli", "--db", url, "ingest"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], settle: float = 0.0
) -> bool:
    """SIGKILL ``proc`` ``settle`` seconds after ``ready()`` first holds; False if it ended
    first."""
    deadline = time.monotonic() + 30
    first: float | None = None
    while proc.poll() is None and time.monotonic() < deadline:
        if first is None and ready():
            first = time.monotonic()
        if first is not None and time.monotonic() - first >= settle:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return proc.returncode == -signal.SIGKILL
        time.sleep(0.0002)
    proc.wait()
    return False


class Target:
    """A database to kill ingests on: fresh again on demand, and a way to see that a write
    transaction is open in it (SQLite: the rollback journal exists; PostgreSQL: a session of the
    database is in a transaction whose last statement matches)."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = database_url(url)
        self.dialect = "sqlite" if self.url.startswith("sqlite") else "postgresql"
        self.tmp_path = tmp_path
        self.n = 0
        self.watch = (
            create_engine(self.url, isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql"
            else None
        )

    def fresh(self) -> str:
        if self.watch is None:
            self.n += 1
            self.url = f"sqlite:///{self.tmp_path / f'killed-{self.n}.db'}"
        else:
            self.wait_for_others()
            with self.watch.connect() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        return self.url

    def in_transaction(self, statement: str) -> Callable[[], bool]:
        if self.watch is None:
            journal = Path(self.url.removeprefix("sqlite:///") + "-journal")
            return journal.exists
        watch = self.watch

        def ready() -> bool:
            with watch.connect() as conn:
                return bool(
                    conn.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND pid <> pg_backend_pid() AND xact_start IS "
                            "NOT NULL AND query ILIKE :q"
                        ),
                        {"q": f"%{statement}%"},  # DDL starts with a line break
                    )
                )

        return ready

    def wait_for_others(self) -> None:
        """The killed client's server process ends (and rolls back) when it sees the socket
        closed; wait for it."""
        if self.watch is None:
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with self.watch.connect() as conn:
                others = conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()"
                    )
                )
            if not others:
                return
            time.sleep(0.05)
        raise AssertionError("the killed ingest's session did not end")

    def close(self) -> None:
        if self.watch is not None:
            self.watch.dispose()


@pytest.fixture
def target(db_url, tmp_path) -> Iterator[Target]:
    victim = Target(db_url, tmp_path)
    yield victim
    victim.close()


def assert_whole_or_nothing_then_usable(target: Target, labelled) -> tuple[int, int]:
    target.wait_for_others()
    found = counts(target.url)
    assert found in ((0, 0), (STATEMENTS, PLACEMENTS)), f"partial ingest: {found}"
    with Store(target.url, create=True) as store:  # and a new ingest completes
        result = store.ingest(labelled)
    assert result.added == STATEMENTS - found[0] and result.placements == PLACEMENTS
    assert counts(target.url) == (STATEMENTS, PLACEMENTS)
    return found


@pytest.mark.parametrize(
    ("moment", "statement", "settle"),
    [("migration", "CREATE TABLE", 0.025), ("ingest", "INSERT INTO statement", 0.0)],
)
def test_ingest_killed_in_the_middle_of_a_transaction(target, labelled, moment, statement, settle):
    # Deterministic: killed while the migration's or the ingest's transaction is open (25 ms into
    # the migration's, which takes about 50: a dozen tables created). A commit racing the kill
    # would leave everything, which is allowed too: then it is tried again.
    for _attempt in range(3):
        url = target.fresh()
        if moment == "ingest":
            with Store(url, create=True) as store:
                store.migrate()
        proc = start_ingest(url)
        assert kill_when(proc, target.in_transaction(statement), settle), "it ended first"
        if assert_whole_or_nothing_then_usable(target, labelled) == (0, 0):
            break
    else:
        pytest.fail(f"no kill landed inside the {moment}'s transaction in 3 attempts")
    runner = CliRunner()
    stats = runner.invoke(cli, ["--db", target.url, "stats", "--json"])
    assert stats.exit_code == 0 and '"statements": 129' in stats.output, stats.output
    check = runner.invoke(cli, ["--db", target.url, "check"])
    assert check.exit_code == 0, check.output


def test_ingest_killed_at_random_moments(target, labelled):
    rng = random.Random(1996)
    outcomes = []
    for _ in range(3):
        url = target.fresh()
        proc = start_ingest(url)
        time.sleep(rng.uniform(0.3, 1.0))  # start-up, parsing, migration, ingest, or done
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes.append(assert_whole_or_nothing_then_usable(target, labelled))
    assert set(outcomes) <= {(0, 0), (STATEMENTS, PLACEMENTS)}
