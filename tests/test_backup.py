"""Backups (rcm.backup, `rcm backup` / `rcm restore`): a database holding everything rcm stores
round-trips identically between SQLite and PostgreSQL, either way; bad files and non-empty
databases are refused with nothing written."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select

import spanish_edition
from conftest import _fresh_postgres_database
from rcm import consult, drafts, mail, review, settings, translate, users
from rcm.backup import (
    BACKED_UP,
    DERIVED,
    FORMAT,
    SKIPPED,
    BackupError,
    NotEmptyError,
    SignatureError,
    backup,
    read_header,
    restore,
)
from rcm.cli import cli
from rcm.errors import StoreError
from rcm.model import DeclarationText, DraftStatement
from rcm.parse import read_compilation
from rcm.parse.spanish_edition import parse_spanish_edition
from rcm.search import SearchRequest, search, theme_filter
from rcm.store import Store, migrate
from rcm.store import schema as t
from rcm.suggest import label_compendium
from rcm.users import AuthError
from test_faults import connection_drops

PG = pytest.param("postgresql", marks=pytest.mark.postgres)
# PostgreSQL hands back datetimes in the session's time zone: not UTC here, so that the backup
# has to normalise them.
PG_ELSEWHERE = "?options=-c%20timezone%3DAmerica%2FMexico_City"

DECLARATION = [
    "We commit to strengthen consular protection and assistance for migrants in transit "
    "through the region, regardless of their migratory status.",
    "We recognize that the smuggling of migrants and trafficking in persons are serious crimes "
    "that require coordinated action by countries of origin, transit and destination.",
    "Promote the sustainable reintegration of returned migrants, with special attention to "
    "unaccompanied children and adolescents.",
    "The Vice-Ministers thanked the Government of El Salvador for its hospitality.",
]
QUERIES = [
    "trafficking",
    '"comprehensive, objective and long-term approach"',
    "smuggl* -trafficking",
    "consular protection",  # the statement accepted from the new declaration
    "",
]


def declaration() -> DeclarationText:
    raw = "\n\n".join(DECLARATION).encode()
    return DeclarationText(
        name="xxii.txt",
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        lang="en",
        title="Declaration of the XXII Regional Conference on Migration",
        preamble=("Recognizing the importance of regional dialogue,",),
        statements=tuple(
            DraftStatement(position=i, text=x, line=2 * i + 1) for i, x in enumerate(DECLARATION, 1)
        ),
        closing=("Adopted in San Salvador, El Salvador, June 2017.",),
    )


@dataclass(frozen=True)
class Rich:
    store: Store
    data: bytes  # its backup
    round_id: int
    statement: str  # a statement of that (open) round
    pending: int  # a proposal still waiting for review


def fill(store: Store) -> Rich:
    """Something in every table a backup holds, and a session, which it does not."""
    store.ingest(label_compendium(read_compilation()))
    sec, _ = users.add_user(store, "sec", "secretariat", name="Secretaría Técnica")
    users.add_user(
        store, "ana", "focal_point", country="CRI", name="Ana Pérez", email="ana@example.org"
    )
    observer, _ = users.add_user(store, "iom", "observer", name="IOM")
    users.add_user(store, "gone", "observer")
    users.disable_user(store, "gone")
    for _ in range(5):  # locks the account: locked_until is set
        with pytest.raises(AuthError):
            users.authenticate(store, "ana", "not the password")
    users.start_session(store, sec)

    rnd = consult.open_round(
        store,
        "Inputs to the Global Compact, 2017",
        filters=[theme_filter([5])],
        purpose="¿Siguen vigentes?",
        deadline="2017-06-30",
        public=True,
        actor="sec",
    )
    mail.invite(store, rnd.id, actor="sec", config=None)  # mail_log: not sent (no SMTP)
    with store.connection() as conn:
        ids = sorted(
            conn.scalars(
                select(t.round_statements.c.statement_id).where(
                    t.round_statements.c.round_id == rnd.id
                )
            )
        )
    a, b = ids[0], ids[1]
    consult.set_opinion(store, rnd.id, "MEX", a, "valid", author="sec")
    consult.set_opinion(
        store,
        rnd.id,
        "MEX",
        a,
        "valid with changes",
        proposed_wording="To prevent and combat trafficking in persons, with a gender focus.",
        author="sec",
        expected_version=1,
    )
    consult.set_opinion(
        store, rnd.id, "CRI", a, "no longer valid", reason="Superseded", author="ana"
    )
    consult.set_opinion(
        store, rnd.id, "CRI", a, "abstain", comment="Consultando", author="ana", expected_version=1
    )
    consult.set_opinion(store, rnd.id, "CRI", a, "valid", author="ana", expected_version=2)
    consult.set_opinion(
        store, rnd.id, "USA", b, "no longer valid", reason="See 2016.", author="sec"
    )
    consult.add_comment(store, observer, rnd.id, b, "Cite the 1951 Convention instead.")
    # A draft answer kept on the web form, not yet submitted (answer_drafts).
    problems = drafts.save(
        store,
        sec,
        rnd,
        "GTM",
        {f"v:{b}": "no longer valid", f"c:{b}": "Superseded by the 2016 law."},
    )
    assert problems == [] and drafts.count(store, rnd.id, "GTM") == 1
    closed = consult.open_round(store, "TS1 check", filters=[theme_filter([1])], actor="sec")
    with store.connection() as conn:
        first = conn.scalar(
            select(func.min(t.round_statements.c.statement_id)).where(
                t.round_statements.c.round_id == closed.id
            )
        )
    consult.set_opinion(store, closed.id, "GTM", first, "valid", author="sec")
    consult.close_round(store, closed.id, actor="sec")

    _, queued = review.add_declaration(
        store, declaration(), meeting="XXII", year=2017, place="San Salvador", actor="sec"
    )
    review.accept_proposal(store, queued[0].id, actor="sec")
    review.accept_proposal(
        store, queued[1].id, actor="sec", category="understanding", placements=[(5, 1), (1, 1)]
    )
    review.reject_proposal(store, queued[3].id, actor="sec", reason="Thanks to the host")
    # A Spanish edition's wordings queued for review, one accepted (statements.text_es).
    edition = spanish_edition.as_text(spanish_edition.sections(read_compilation()))
    translate.queue_edition(store, parse_spanish_edition(edition, "edicion.txt"), actor="sec")
    translate.accept_translation(store, translate.translations(store)[0].id, actor="sec")
    return Rich(store, backup(store), rnd.id, a, queued[2].id)


@pytest.fixture(scope="module", params=["sqlite", PG])
def rich(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rich]:
    """The source database, on each backend. Tests must not write to it."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path_factory.mktemp('src') / 'rcm.db'}", create=True)
        yield fill(store)
        store.close()
        return
    with _fresh_postgres_database() as url:
        store = Store(url + PG_ELSEWHERE, create=True)
        yield fill(store)
        store.close()


@pytest.fixture(params=["sqlite", PG])
def target(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A new database to restore into, on each backend (nothing in it, not even a schema)."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    s = Store(url, create=True)
    yield s
    s.close()


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, float):
        return round(value, 12)
    return value


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, comparable across backends."""
    with store.engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(_normal(v) for v in r) for r in conn.execute(select(table))), key=repr
            )
            for table in t.metadata.sorted_tables
        }


def is_empty(store: Store) -> bool:
    if store.revision() is None:
        return True
    with store.engine.connect() as conn:
        return not any(
            conn.scalar(select(func.count()).select_from(table))
            for table in t.metadata.sorted_tables
            if table.name not in ("index_state", "data_version")
        )


def lines(data: bytes) -> list[str]:
    return gzip.decompress(data).decode().splitlines()


def pack(rows: list[str], header: Callable[[dict[str, Any]], None] | None = None) -> bytes:
    """A backup from its lines, its header's counts and digests made to match them (as the
    module docstring specifies them) and then changed by ``header``."""
    head = json.loads(rows[0])
    digests = {name: hashlib.sha256() for name in head["tables"]}
    counts = dict.fromkeys(head["tables"], 0)
    for line in rows[1:]:
        x = json.loads(line)
        canonical = json.dumps(x["row"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digests[x["table"]].update(canonical.encode() + b"\n")
        counts[x["table"]] += 1
    head["tables"], head["sha256"] = counts, {n: d.hexdigest() for n, d in digests.items()}
    if header is not None:
        header(head)
    return gzip.compress("\n".join([json.dumps(head), *rows[1:]]).encode() + b"\n")


# --- what a backup is -----------------------------------------------------------------------------


def test_every_table_is_backed_up_derived_or_skipped_on_purpose():
    names = {table.name for table in BACKED_UP}
    assert names | DERIVED | SKIPPED == set(t.metadata.tables)
    assert not names & (DERIVED | SKIPPED)
    assert {"sessions", "login_failures"} == SKIPPED
    assert {"facet_combos", "statement_search", "index_state", "data_version"} == DERIVED
    # Every row comes after the rows it refers to.
    seen: set[str] = set()
    for table in BACKED_UP:
        for fk in table.foreign_keys:
            assert fk.column.table.name in seen or fk.column.table is table
        seen.add(table.name)


def test_the_header_says_what_is_inside(rich):
    header = read_header(rich.data)
    assert header["format"] == FORMAT == "rcm-backup/1"
    assert header["schema_revision"] == migrate.head_revision()
    assert datetime.fromisoformat(header["created_at"]).tzinfo is not None
    assert list(header["tables"]) == [table.name for table in BACKED_UP]
    source = dump(rich.store)
    assert header["tables"] == {name: len(source[name]) for name in header["tables"]}
    assert all(header["tables"].values()), "the source should fill every table"
    body = lines(rich.data)
    assert len(body) == 1 + sum(header["tables"].values())
    assert "alembic_version" not in header["tables"]
    assert not any('"table":"sessions"' in x or '"table":"statement_search"' in x for x in body)
    # Datetimes are UTC with the offset written out, whatever the session's time zone.
    user = next(json.loads(x)["row"] for x in body if '"table":"users"' in x)
    assert user["created_at"].endswith("+00:00") and isinstance(user["active"], bool)
    assert user["password_hash"].startswith("$argon2")


def test_the_same_data_gives_the_same_rows_and_digests(rich):
    again = backup(rich.store)
    assert read_header(again)["sha256"] == read_header(rich.data)["sha256"]
    assert lines(again)[1:] == lines(rich.data)[1:]


# --- round trips ----------------------------------------------------------------------------------


def test_restore_round_trips_every_row(rich, target):
    result = restore(target, rich.data)
    assert result.tables == read_header(rich.data)["tables"]
    assert result.indexed == len(dump(rich.store)["statements"]) == 131
    source, restored = dump(rich.store), dump(target)
    for table in BACKED_UP:
        assert restored[table.name] == source[table.name], table.name
    assert restored["sessions"] == [] and source["sessions"]
    # The backup of the copy is the backup of the original.
    assert read_header(backup(target))["sha256"] == read_header(rich.data)["sha256"]


def test_search_finds_the_same_after_restore(rich, target):
    restore(target, rich.data)
    for query in QUERIES:
        for filters in [(), (theme_filter([5]),)]:
            request = SearchRequest(query, filters=filters, limit=500)
            a, b = search(rich.store, request), search(target, request)
            assert a.total == b.total, query
            assert a.total or filters, query
            assert {h.id for h in a.hits} == {h.id for h in b.hits}, query
            assert a.as_dict()["facets"] == b.as_dict()["facets"], query
    hits = search(target, SearchRequest("consular protection", limit=500)).hits
    assert any(h.id.startswith("XXII-") for h in hits)  # accepted from the new declaration


def test_new_writes_after_restore_get_fresh_ids(rich, target):
    restore(target, rich.data)
    before = dump(target)
    user, password = users.add_user(target, "new", "focal_point", country="GTM")
    assert user.id == max(r[0] for r in before["users"]) + 1
    assert users.authenticate(target, "new", password).id == user.id
    op = consult.set_opinion(target, rich.round_id, "MEX", rich.statement, "valid", author="new")
    assert op.version == 3  # the history came along
    iom = next(u for u in users.list_users(target) if u.username == "iom")
    consult.add_comment(target, iom, rich.round_id, rich.statement, "After the restore.")
    rnd = consult.open_round(target, "After the restore", filters=[theme_filter([2])])
    assert rnd.id == max(r[0] for r in before["rounds"]) + 1
    accepted = review.accept_proposal(target, rich.pending, actor="sec")
    assert accepted.statement_id
    after = dump(target)
    for name in ("audit_events", "observer_comments", "placements"):
        assert len({r[0] for r in after[name]}) == len(after[name]) > len(before[name]), name
    assert search(target, SearchRequest("reintegration returned migrants unaccompanied")).total


def test_users_sign_in_again_after_restore(rich, target):
    restore(target, rich.data)
    with target.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.sessions)) == 0
        locked = conn.execute(select(t.users).where(t.users.c.username == "ana")).one()
    assert locked.locked_until is not None and locked.active
    with pytest.raises(AuthError):  # still locked, and the disabled user still disabled
        users.authenticate(target, "ana", "anything at all")
    assert [u.active for u in users.list_users(target) if u.username == "gone"] == [False]


# --- a backup is consistent while people write ----------------------------------------------------


def test_a_backup_reads_one_snapshot(store, monkeypatch):
    import rcm.backup as module

    store.migrate()
    if store.dialect == "sqlite":
        # WAL lets the writer below commit while the backup reads (in the default journal mode it
        # would wait for the backup's read transaction, which is the same guarantee).
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    read = module._read_table
    written: list[str] = []

    def read_then_someone_writes(conn, table):
        rows = read(conn, table)
        if not written:
            written.append(table.name)
            now = datetime.now(UTC)
            with store.engine.begin() as other:
                other.execute(
                    insert(t.audit_events).values(at=now, actor="x", action="a", object="o")
                )
                other.execute(
                    insert(t.users).values(
                        username="late",
                        name="Late",
                        role="observer",
                        password_hash="x",
                        active=True,
                        failed_logins=0,
                        created_at=now,
                    )
                )
        return rows

    monkeypatch.setattr(module, "_read_table", read_then_someone_writes)
    first = read_header(backup(store))["tables"]
    assert written == [BACKED_UP[0].name]
    assert first["users"] == 0 and first["audit_events"] == 0
    monkeypatch.setattr(module, "_read_table", read)
    second = read_header(backup(store))["tables"]
    assert second["users"] == 1 and second["audit_events"] == 1


def test_backup_refuses_a_database_without_a_compendium_schema(tmp_path):
    with (
        Store(f"sqlite:///{tmp_path / 'new.db'}", create=True) as s,
        pytest.raises(StoreError, match="nothing to back up"),
    ):
        backup(s)


# --- refused, and nothing written -----------------------------------------------------------------


def test_restore_into_a_database_that_holds_anything_is_refused(rich):
    before = dump(rich.store)
    with pytest.raises(
        NotEmptyError, match=r"not empty \(it holds rows in statements \(131\), rounds \(2\)"
    ):
        restore(rich.store, rich.data)
    assert dump(rich.store) == before


def test_restore_into_a_database_with_only_a_user_is_refused(rich, target):
    target.migrate()
    with target.engine.begin() as conn:
        conn.execute(
            insert(t.users).values(
                username="early",
                name="Early",
                role="observer",
                password_hash="x",
                active=True,
                failed_logins=0,
                created_at=datetime.now(UTC),
            )
        )
    with pytest.raises(NotEmptyError, match=r"it holds rows in users \(1\)\)"):
        restore(target, rich.data)
    assert dump(target)["statements"] == [] and len(dump(target)["users"]) == 1


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]


def _changes_content(data: bytes, flipped: bytes) -> bool:
    """A flipped bit in the deflate stream's final padding changes nothing that is read: not a
    damaged file (this made the byte-flip cases fail now and then)."""
    try:
        return gzip.decompress(flipped) != gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return True


def damaged(data: bytes) -> dict[str, tuple[bytes, str]]:
    """Each way a file can be wrong, and what the refusal says."""
    body = lines(data)
    header = json.loads(body[0])
    placements = [i for i, x in enumerate(body) if '"table":"placements"' in x]
    edited = list(body)
    edited[placements[0]] = edited[placements[0]].replace('"line":', '"line":1', 1)
    n = len(data)

    def header_with(**changes: Any) -> bytes:
        return pack(body, lambda h: h.update(changes))

    return {
        "empty": (b"", "empty"),
        "plain text": (b"Compilation of the RCM statements\n", "not an rcm backup"),
        "a zip": (b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 40, "not an rcm backup"),
        "another JSON": (
            gzip.compress(b'{"schema": "rcm-compendium/1", "statements": []}\n'),
            "not an rcm backup",
        ),
        "another format": (header_with(format="pg_dump/1"), "not an rcm backup"),
        "future format": (header_with(format="rcm-backup/2"), "newer rcm"),
        "unknown revision": (header_with(schema_revision="0099"), "does not know"),
        "older revision": (
            header_with(schema_revision="0005", rcm_version="0.0.9"),
            r"made by rcm 0\.0\.9 at schema revision 0005",
        ),
        "header without counts": (
            gzip.compress((json.dumps({**header, "tables": {}}) + "\n").encode()),
            "header does not list the tables",
        ),
        "truncated in half": (data[: n // 2], "damaged or incomplete"),
        "truncated by a byte": (data[:-1], "damaged or incomplete"),
        "a row missing": (
            gzip.compress(("\n".join(body[:-1]) + "\n").encode()),
            f"{BACKED_UP[-1].name} has .* rows, its header says",  # the last table's row
        ),
        "a row edited": (
            gzip.compress(("\n".join(edited) + "\n").encode()),
            "rows of placements do not match their checksum",
        ),
        "a line that is not JSON": (
            gzip.compress(("\n".join([*body[:5], "{oops", *body[5:]]) + "\n").encode()),
            "line 6: is damaged",
        ),
        **{
            f"byte {at} flipped": (_flip(data, at), "damaged")
            for at in range(10, n, max(1, n // 25))
            if _changes_content(data, _flip(data, at))
        },
        "last byte flipped": (_flip(data, n - 1), "damaged"),
    }


def test_bad_files_are_refused_and_nothing_is_written(rich, target):
    for case, (data, message) in damaged(rich.data).items():
        with pytest.raises(BackupError, match=message):
            restore(target, data, name="x.rcm.gz")
        assert target.revision() is None, case  # not even the schema
    restore(target, rich.data)  # and the database is still usable


def test_older_versions_are_named(rich, target):
    body = lines(rich.data)
    data = pack(body, lambda h: h.update(schema_revision="0004", rcm_version="0.0.5"))
    with pytest.raises(BackupError) as info:
        restore(target, data, name="old.rcm.gz")
    assert str(info.value) == (
        "old.rcm.gz: was made by rcm 0.0.5 at schema revision 0004; this rcm restores schema "
        f"{migrate.head_revision()} only: restore it with rcm 0.0.5 into a new database, run "
        "`rcm migrate` there with this rcm, and back that up"
    )


def test_a_failed_restore_writes_nothing(rich, target):
    """A file that passes every check, and the database fails in the middle of the restore: it is
    rolled back whole."""
    target.migrate()
    with (
        connection_drops(target, "INSERT INTO placements") as fired,
        pytest.raises(StoreError, match="rolled back"),
    ):
        restore(target, rich.data)
    assert fired
    assert is_empty(target)
    assert restore(target, rich.data).rows == sum(read_header(rich.data)["tables"].values())


def test_an_uncompressed_backup_is_accepted(rich, tmp_path):
    with Store(f"sqlite:///{tmp_path / 'plain.db'}", create=True) as s:
        restore(s, gzip.decompress(rich.data))
        assert dump(s)["opinion_history"] == dump(rich.store)["opinion_history"]


# --- the commands ---------------------------------------------------------------------------------


def test_backup_and_restore_commands(tmp_path, target):
    runner = CliRunner()
    src, out = str(tmp_path / "src.db"), tmp_path / "compendium.rcm.gz"
    assert runner.invoke(cli, ["--db", src, "ingest"]).exit_code == 0
    result = runner.invoke(cli, ["--db", src, "backup", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr
    assert "rcm-backup/1, schema" in result.stdout and "statements" in result.stdout
    assert re.search(r"^ +statements +129$", result.stdout, re.MULTILINE)
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert not list(tmp_path.glob(".compendium*"))  # written atomically: no temporary left

    result = runner.invoke(cli, ["--db", target.url, "restore", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"restored {out} (rcm-backup/1, schema ")
    assert "129 statements indexed" in result.stdout

    again = runner.invoke(cli, ["--db", target.url, "restore", str(out)])
    assert again.exit_code == 5 and "is not empty" in again.stderr
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.output

    piped = runner.invoke(cli, ["--db", src, "backup", "-o", "-"])
    assert piped.exit_code == 0 and piped.stdout_bytes[:2] == b"\x1f\x8b"
    assert "statements" in piped.stderr


def test_restore_command_refuses_bad_files(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "new.db")
    bad = tmp_path / "notes.txt"
    bad.write_text("not a backup\n")
    for args, message in [
        ([str(bad)], "notes.txt: is not an rcm backup"),
        ([str(tmp_path / "missing.gz")], "missing.gz: cannot be read"),
        ([str(tmp_path)], "cannot be read"),
    ]:
        result = runner.invoke(cli, ["--db", db, "restore", *args])
        assert result.exit_code == 4, result.output
        assert message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "new.db").exists()
    assert runner.invoke(cli, ["--db", db, "backup", "-o", str(tmp_path / "x")]).exit_code == 3


# --- every row is checked before anything is written (issue 13, item 12) --------------------------

KEY = "a-test-key-for-signing-rcm-backups-0123456789"
OTHER_KEY = "another-test-key-for-signing-rcm-backups-9876"


def edit_row(
    data: bytes, table: str, column: str, value: Any, which: Callable[[dict[str, Any]], bool]
) -> tuple[bytes, int]:
    """The backup with one row's column changed and the digests recomputed (the signature, if
    any, left as it was), and the changed row's number within its table."""
    body = lines(data)
    n = 0
    for i, line in enumerate(body[1:], 1):
        x = json.loads(line)
        if x["table"] != table:
            continue
        n += 1
        if which(x["row"]):
            x["row"][column] = value
            body[i] = json.dumps(x, ensure_ascii=False)
            return pack(body), n
    raise AssertionError(f"no such row in {table}")


def username(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda row: row["username"] == name


def test_a_role_edited_to_god_is_refused_naming_row_and_column(rich, target):
    data, n = edit_row(rich.data, "users", "role", "god", username("iom"))
    with pytest.raises(BackupError) as info:
        restore(target, data, name="x.rcm.gz")
    assert re.fullmatch(
        rf"x\.rcm\.gz: line \d+: is not a valid backup: users row {n}, column role is 'god', "
        "not one of secretariat, focal_point, observer",
        str(info.value),
    ), str(info.value)
    assert target.revision() is None  # nothing written, not even the schema


def test_a_bad_foreign_key_is_refused_naming_row_and_column(rich, target):
    data, n = edit_row(rich.data, "placements", "statement_id", "NOPE-0000", lambda r: True)
    with pytest.raises(BackupError, match=rf"placements row {n}, column statement_id refers to "):
        restore(target, data)
    assert target.revision() is None


# (table, which row, column, new value, what the refusal says)
INVALID_ROWS = [
    ("opinions", lambda r: True, "value", "maybe", "column value is 'maybe', not one of valid"),
    ("rounds", lambda r: True, "state", "paused", "column state is 'paused', not one of open"),
    ("proposals", lambda r: True, "state", "lost", "column state is 'lost', not one of pending"),
    ("statements", lambda r: True, "category_source", "x", "column category_source is 'x'"),
    ("meetings", lambda r: True, "kind", "secret", "column kind is 'secret'"),
    ("users", username("iom"), "username", "sec", "column username repeats row"),
    ("users", username("iom"), "username", "x" * 101, "has 101 characters, at most 100"),
    ("users", username("iom"), "name", None, "column name is null but may not be"),
    ("users", username("iom"), "active", "yes", "column active is not true or false"),
    ("users", username("iom"), "country", "MEX", "column country must be empty"),
    ("users", username("ana"), "country", None, "must be a Member Country for a focal point"),
    ("users", username("ana"), "country", "XYZ", "refers to countries 'XYZ'"),
    ("users", username("iom"), "failed_logins", 2**40, "out of range for a 32-bit integer"),
    ("users", username("iom"), "created_at", "yesterday", "is not an ISO 8601 date and time"),
    ("users", username("iom"), "name", "a\x00b", "holds a NUL character"),
    ("audit_events", lambda r: True, "after", "{oops", "column after is not JSON"),
    ("proposals", lambda r: True, "items", "7", "column items is not a JSON list"),
    ("rounds", lambda r: True, "deadline", "30/06/2017", "not a date such as 2017-06-30"),
    ("opinion_history", lambda r: True, "round_id", 99, "refers to rounds 99"),
    ("placement_themes", lambda r: True, "theme", 42, "refers to themes 42"),
    ("round_statements", lambda r: True, "statement_id", "NOPE-1", "round_statements row 1,"),
    ("statement_objectives", lambda r: True, "score", 1e400, "is not a finite number"),
]


@pytest.mark.parametrize("case", INVALID_ROWS, ids=lambda c: f"{c[0]}.{c[2]}")
def test_every_kind_of_invalid_row_is_refused(rich, case, tmp_path):
    table, which, column, value, message = case
    data, n = edit_row(rich.data, table, column, value, which)
    with Store(f"sqlite:///{tmp_path / 'x.db'}", create=True) as s:
        with pytest.raises(BackupError, match=re.escape(message)) as info:
            restore(s, data)
        assert f"{table} row {n}, column {column}" in str(info.value)
        assert s.revision() is None


def test_a_signed_backup_restores_in_production(rich, target):
    signed = backup(rich.store, key=KEY)
    header = read_header(signed)
    assert header["signature"]["algorithm"] == "HMAC-SHA256"
    assert set(header) - {"signature"} == set(read_header(rich.data))  # a field added, no other
    result = restore(target, signed, key=KEY, production=True)
    assert result.signature == "valid"
    source, restored = dump(rich.store), dump(target)
    for table in BACKED_UP:
        assert restored[table.name] == source[table.name], table.name


def test_a_role_edited_to_secretariat_breaks_the_signature(rich, target):
    signed = backup(rich.store, key=KEY)
    data, _ = edit_row(signed, "users", "role", "secretariat", username("iom"))
    for production in (True, False):
        with pytest.raises(SignatureError, match="signature does not match this server's"):
            restore(target, data, key=KEY, production=production)
        assert target.revision() is None
    # Told to, it restores: the operator takes the responsibility.
    assert restore(target, data, key=KEY, production=True, allow_unsigned=True).signature == "wrong"
    assert [u.role for u in users.list_users(target) if u.username == "iom"] == ["secretariat"]


def test_a_signature_never_lets_an_invalid_row_through(rich, target):
    signed = backup(rich.store, key=KEY)
    data, n = edit_row(signed, "users", "role", "god", username("iom"))
    with pytest.raises(SignatureError):
        restore(target, data, key=KEY, production=True)
    with pytest.raises(BackupError, match=f"users row {n}, column role is 'god'"):
        restore(target, data, key=KEY, production=True, allow_unsigned=True)
    assert target.revision() is None


def test_a_backup_signed_with_another_key_is_refused(rich, target):
    signed = backup(rich.store, key=OTHER_KEY)
    for production in (True, False):
        with pytest.raises(SignatureError):
            restore(target, signed, key=KEY, production=production)
    assert target.revision() is None
    # A forged signature field (a digest of the header alone, without the key) fares no better.
    forged = pack(
        lines(rich.data),
        lambda h: h.update(
            signature={
                "algorithm": "HMAC-SHA256",
                "value": hashlib.sha256(json.dumps(h, sort_keys=True).encode()).hexdigest(),
            }
        ),
    )
    with pytest.raises(SignatureError):
        restore(target, forged, key=KEY, production=True)
    assert target.revision() is None


def test_an_unsigned_backup_in_production(rich, target):
    assert "signature" not in read_header(rich.data)  # made under the development key
    with pytest.raises(SignatureError, match=r"is not signed.*--allow-unsigned"):
        restore(target, rich.data, key=KEY, production=True)
    assert target.revision() is None
    result = restore(target, rich.data, key=KEY, production=True, allow_unsigned=True)
    assert result.signature == "unsigned" and result.rows


def test_signed_backup_and_restore_commands(tmp_path, monkeypatch):
    """RCM_ENV and RCM_SECRET_KEY as a production server has them, through the real commands."""
    runner = CliRunner()
    src, out = str(tmp_path / "src.db"), tmp_path / "b.rcm.gz"
    assert runner.invoke(cli, ["--db", src, "ingest"]).exit_code == 0
    unsigned = tmp_path / "unsigned.rcm.gz"
    made = runner.invoke(cli, ["--db", src, "backup", "-o", str(unsigned)])
    assert "unsigned (development key)" in made.stdout
    dev = runner.invoke(cli, ["--db", str(tmp_path / "dev.db"), "restore", str(unsigned)])
    assert dev.exit_code == 0 and "warning: " in dev.stderr and "is unsigned" in dev.stderr
    runner.invoke(cli, ["--db", src, "users", "add", "iom", "--role", "observer"])
    made = runner.invoke(cli, ["--db", src, "backup", "-o", str(unsigned)])
    god = tmp_path / "god.rcm.gz"
    god.write_bytes(edit_row(unsigned.read_bytes(), "users", "role", "god", username("iom"))[0])
    refused = runner.invoke(cli, ["--db", str(tmp_path / "god.db"), "restore", str(god)])
    assert refused.exit_code == 4 and refused.stderr.count("\n") == 1, refused.output
    assert "users row 1, column role is 'god'" in refused.stderr
    listed = runner.invoke(cli, ["--db", str(tmp_path / "god.db"), "users", "list"])
    assert listed.exit_code == 3 and "no database at" in listed.stderr  # nothing was written

    monkeypatch.setenv("RCM_ENV", "production")
    monkeypatch.setenv("RCM_SECRET_KEY", KEY)
    monkeypatch.setenv("RCM_ALLOWED_HOSTS", "rcm.example.org")
    settings.current.cache_clear()
    try:
        made = runner.invoke(cli, ["--db", src, "backup", "-o", str(out)])
        assert made.exit_code == 0 and ", signed: " in made.stdout, made.output
        good = runner.invoke(cli, ["--db", str(tmp_path / "a.db"), "restore", str(out)])
        assert good.exit_code == 0 and "warning" not in good.stderr, good.output
        refused = runner.invoke(cli, ["--db", str(tmp_path / "b.db"), "restore", str(unsigned)])
        assert refused.exit_code == 4 and "is not signed" in refused.stderr
        assert "--allow-unsigned" in refused.stderr and refused.stderr.count("\n") == 1
        assert (
            not (tmp_path / "b.db").exists()
            or Store(f"sqlite:///{tmp_path / 'b.db'}").revision() is None
        )
        allowed = runner.invoke(
            cli, ["--db", str(tmp_path / "c.db"), "restore", str(unsigned), "--allow-unsigned"]
        )
        assert allowed.exit_code == 0 and "is unsigned" in allowed.stderr, allowed.output
        assert "--allow-unsigned" in runner.invoke(cli, ["restore", "--help"]).output
    finally:
        monkeypatch.undo()
        settings.current.cache_clear()
