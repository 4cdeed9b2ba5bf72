"""Backups: the whole database as one portable file, restorable on SQLite or PostgreSQL.

``backup(store)`` returns the file; ``restore(store, data)`` writes it into a new, empty database.

**Format** (``rcm-backup/1``): gzip-compressed JSON Lines, UTF-8. The first line is the header::

    {"format": "rcm-backup/1", "schema_revision": "0006", "rcm_version": "0.1.0",
     "created_at": "2017-06-30T12:00:00+00:00", "database": "sqlite",
     "tables": {"audit_events": 12, ...}, "sha256": {"audit_events": "9f2c…", ...}}

then one line per row, ``{"table":"meetings","row":{column: value}}``, table after table in an
order where every row comes after the rows it refers to (foreign keys), and within a table in
primary-key order. Values are JSON: strings, integers, floats, ``true``/``false``, ``null``;
datetimes are ISO 8601 in UTC with the offset written out (``2017-06-30T12:00:00.000000+00:00``).
A table's ``sha256`` is the digest of its rows in file order, each row as canonical JSON (keys
sorted, no spaces, non-ASCII characters as themselves, UTF-8) followed by a newline; the same data
gives the same digests whichever database it was read from.

Why one gzip stream of JSON Lines rather than a zip of one JSON file per table: it is written and
read in one pass, a line at a time, never a table as one JSON document; it is a single stream that
can be piped (``rcm backup -o - | ssh …``); ``zcat | head -1`` shows the header and ``zcat | grep``
finds a row; and gzip's CRC-32 and length check the whole file on top of the per-table digests. A
zip's random access to one table is of no use here, since a restore always reads everything.
``restore`` also takes the stream uncompressed (someone ran ``gunzip`` to look inside).

**What a backup holds**: every row of every table of the compendium, the consultation, the review
queue and the people: statements and their items, placements and their cross-references,
categories, meetings, themes, sub-themes, countries, GCM objectives and links, sources and their
notices, declarations and proposals, rounds and their statements, opinions with every version
(``opinion_history``), observer comments, the audit trail, and the users **with their password
hashes and their secretariat/focal-point roles**, and each round's questionnaire-signing secret. A
backup must be kept as safe as the database itself.

**What it does not hold**: sign-in sessions (everyone signs in again after a restore); the search
index (``facet_combos``, ``statement_search`` and SQLite's FTS5 tables), which is derived data that
``restore`` rebuilds; the index generation counter (it restarts); ``alembic_version`` (the header's
``schema_revision`` says it).

A backup reads the whole database in one read transaction (REPEATABLE READ on PostgreSQL), so it is
consistent while people write. A restore checks the whole file first (header, format version,
schema revision, row counts, digests), then, in one transaction, refuses a database that holds
anything, inserts every row, moves PostgreSQL's id sequences past the restored ids and rebuilds the
search index: all or nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from rcm.errors import DocumentError, Problem, RcmError, StoreError
from rcm.store import Store, migrate, search_index
from rcm.store import schema as t

__all__ = [
    "BACKED_UP",
    "FORMAT",
    "BackupError",
    "NotEmptyError",
    "RestoreResult",
    "backup",
    "read_header",
    "restore",
]

FORMAT_NAME = "rcm-backup"
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"
GZIP_MAGIC = b"\x1f\x8b"

# Derived from the other tables (the index generation just restarts): storing them would only let a
# backup disagree with itself.
DERIVED = frozenset({"facet_combos", "statement_search", "index_state"})
# Short-lived credentials: restoring them would resurrect sign-ins on another server.
SKIPPED = frozenset({"sessions"})
# Every other table, so that a table added later is backed up unless someone decides otherwise.
BACKED_UP: tuple[Table, ...] = tuple(
    table for table in t.metadata.sorted_tables if table.name not in DERIVED | SKIPPED
)
_BY_NAME = {table.name: table for table in BACKED_UP}

# How a non-empty database is described: what people care about first.
_NOTEWORTHY = ("statements", "rounds", "opinions", "users", "declarations", "audit_events")


class BackupError(DocumentError):
    """The file is not a backup this rcm can restore (not a backup, damaged, too new or too old).
    Nothing has been written."""


class NotEmptyError(RcmError):
    """A restore into a database that already holds something. Nothing has been written."""

    status = 409
    exit_code = 5


@dataclass(frozen=True)
class RestoreResult:
    format: str
    schema_revision: str
    rcm_version: str
    created_at: str
    tables: dict[str, int]  # rows restored, per table, in restore order
    indexed: int  # statements in the rebuilt search index

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _rcm_version() -> str:
    try:
        return version("rcm-compendium")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


def _known_revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate._config())
    return [r.revision for r in script.walk_revisions()]


# --- values -----------------------------------------------------------------------------------


def _encode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        # SQLite gives back naive datetimes (they were written in UTC); PostgreSQL aware ones in
        # the session's time zone. UTC with a fixed precision makes both read the same.
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(column.type, Boolean):
        return bool(value)
    if isinstance(column.type, Float):
        return float(value)
    if isinstance(column.type, Integer):
        return int(value)
    return str(value)


def _decode(column: Column[Any], value: Any) -> Any:
    """The database value of a JSON value, or ValueError saying what is wrong with it."""
    if value is None:
        if not column.nullable:
            raise ValueError(f"{column.name} is null but may not be")
        return None
    kind = column.type
    if isinstance(kind, DateTime):
        if not isinstance(value, str):
            raise ValueError(f"{column.name} is not a date and time")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{column.name} is not an ISO 8601 date and time: {value!r}") from None
        if parsed.tzinfo is None:
            raise ValueError(f"{column.name} has no time zone: {value!r}")
        return parsed.astimezone(UTC)
    if isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise ValueError(f"{column.name} is not true or false")
        return value
    if isinstance(kind, Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{column.name} is not a number")
        return float(value)
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{column.name} is not an integer")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{column.name} is not text")
    return value


def _canonical(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- backup -----------------------------------------------------------------------------------


def _read_table(conn: Connection, table: Table) -> list[bytes]:
    """A table's rows as canonical JSON, in primary-key order. Sorted here rather than by the
    database so that string keys sort the same on SQLite (bytes) and PostgreSQL (the locale's
    collation); kept as bytes because a whole database is held until its digests are known."""
    columns = list(table.columns)
    key = [i for i, c in enumerate(columns) if c.primary_key]
    rows = []
    for r in conn.execute(select(table)):
        encoded = [_encode(c, v) for c, v in zip(columns, r, strict=True)]
        row = _canonical({c.name: v for c, v in zip(columns, encoded, strict=True)})
        rows.append((tuple(encoded[i] for i in key), row))
    rows.sort(key=lambda pair: pair[0])
    return [row for _, row in rows]


def backup(store: Store) -> bytes:
    """The whole database as an ``rcm-backup/1`` file (gzip-compressed JSON Lines)."""
    head = migrate.head_revision()
    try:
        with store.engine.connect() as conn:
            if store.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            else:
                # pysqlite opens a transaction only before a write, so each SELECT would see the
                # database as of its own moment; an explicit BEGIN makes them share one snapshot.
                conn.exec_driver_sql("BEGIN")
            revision = MigrationContext.configure(conn).get_current_revision()
            if revision is None:
                raise StoreError(f"database {store.display_url} holds nothing to back up")
            if revision != head:
                raise StoreError(
                    f"database {store.display_url} has schema {revision}, this rcm needs {head}: "
                    "run `rcm migrate` first"
                )
            tables = {table.name: _read_table(conn, table) for table in BACKED_UP}
            conn.rollback()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot back up {store.display_url}: {_reason(exc)}") from None
    header = {
        "format": FORMAT,
        "schema_revision": head,
        "rcm_version": _rcm_version(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": store.dialect,
        "tables": {name: len(rows) for name, rows in tables.items()},
        "sha256": {name: _digest(rows) for name, rows in tables.items()},
    }
    out = io.BytesIO()
    # mtime=0: the same data backed up twice in the same second gives the same bytes.
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as gz:
        gz.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
        for name, rows in tables.items():
            prefix = b'{"table":' + json.dumps(name).encode() + b',"row":'
            for row in rows:
                gz.write(prefix + row + b"}\n")
    return out.getvalue()


def _digest(rows: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(row)
        h.update(b"\n")
    return h.hexdigest()


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]


# --- reading a backup -------------------------------------------------------------------------


def _lines(data: bytes) -> Iterator[bytes]:
    if data[:2] == GZIP_MAGIC:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as gz:
            yield from gz
    else:
        yield from io.BytesIO(data)


def _header(name: str, first: bytes) -> dict[str, Any]:
    def bad(message: str) -> BackupError:
        return BackupError(name, [Problem(0, message)])

    try:
        header = json.loads(first)
    except ValueError:
        header = None
    fmt = header.get("format") if isinstance(header, dict) else None
    if not isinstance(header, dict) or not isinstance(fmt, str) or "/" not in fmt:
        raise bad(f"is not an rcm backup (no {FORMAT} header): make one with `rcm backup -o FILE`")
    kind, _, number = fmt.partition("/")
    if kind != FORMAT_NAME or not (number.isascii() and number.isdigit()):
        raise bad(f"is not an rcm backup (its format is {fmt!r}, not {FORMAT})")
    made_by = f"rcm {header.get('rcm_version', '(version unknown)')}"
    if int(number) > FORMAT_VERSION:
        raise bad(
            f"is in format {fmt}, written by a newer rcm ({made_by}); this rcm reads {FORMAT} "
            "only: upgrade rcm to restore it"
        )
    if int(number) != FORMAT_VERSION:
        raise bad(f"is in format {fmt}, which no rcm wrote; this rcm reads {FORMAT}")
    revision, head = header.get("schema_revision"), migrate.head_revision()
    if revision != head:
        if isinstance(revision, str) and revision in _known_revisions():
            raise bad(
                f"was made by {made_by} at schema revision {revision}; this rcm restores schema "
                f"{head} only: restore it with {made_by} into a new database, run `rcm migrate` "
                "there with this rcm, and back that up"
            )
        raise bad(
            f"was made at schema revision {revision!r}, which this rcm does not know ({made_by} "
            f"made it; this rcm is at {head}): upgrade rcm to restore it"
        )
    counts, digests = header.get("tables"), header.get("sha256")
    if (
        not isinstance(counts, dict)
        or not isinstance(digests, dict)
        or set(counts) != set(_BY_NAME)
        or set(digests) != set(_BY_NAME)
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in counts.values())
        or not all(isinstance(d, str) for d in digests.values())
    ):
        raise bad(
            "is damaged: its header does not list the tables of schema "
            f"{head} with their row counts and sha256 digests"
        )
    return header


def read_header(data: bytes, name: str = "backup") -> dict[str, Any]:
    """The header of a backup (format, schema revision, rcm version, when, row counts, digests),
    checked as ``restore`` checks it, without reading the rows."""
    return _read(data, name, header_only=True).header


@dataclass
class _Parsed:
    header: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]


def _gzip_intact(data: bytes) -> bool:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as gz:
            while gz.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error):
        return False
    return True


def _read(data: bytes, name: str, header_only: bool = False) -> _Parsed:
    """Read and check a whole backup: BackupError, naming the line, for anything wrong."""
    try:
        return _parse(data, name, header_only)
    except BackupError:
        # gzip checks its CRC only at the end of the stream: damage that garbles a line first
        # would otherwise be reported as whatever that line then looks like ("not a backup").
        if data[:2] == GZIP_MAGIC and not _gzip_intact(data):
            raise BackupError(
                name,
                [Problem(0, "is damaged or incomplete: the compressed data fails its checks")],
            ) from None
        raise


def _parse(data: bytes, name: str, header_only: bool) -> _Parsed:
    """One pass over the lines: decode and hash each row, then compare counts and digests."""

    def bad(line: int, message: str) -> BackupError:
        return BackupError(name, [Problem(line, message)])

    if not data:
        raise bad(0, "is empty, not an rcm backup")
    rows: dict[str, list[dict[str, Any]]] = {n: [] for n in _BY_NAME}
    hashes = {n: hashlib.sha256() for n in _BY_NAME}
    header: dict[str, Any] | None = None
    try:
        for number, raw in enumerate(_lines(data), 1):
            if header is None:
                header = _header(name, raw)
                if header_only:
                    return _Parsed(header, {})
                continue
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                raise bad(number, "is damaged: this line is not JSON") from None
            if not isinstance(line, dict):
                line = {}
            table = _BY_NAME.get(str(line.get("table")))
            row = line.get("row")
            if table is None or not isinstance(row, dict):
                raise bad(number, "is damaged: not a row of a table this backup lists")
            if set(row) != set(table.columns.keys()):
                raise bad(
                    number,
                    f"is damaged: a row of {table.name} with the columns {sorted(row)}, "
                    f"not {sorted(table.columns.keys())}",
                )
            try:
                decoded = {c.name: _decode(c, row[c.name]) for c in table.columns}
            except ValueError as exc:
                raise bad(number, f"is damaged: in a row of {table.name}, {exc}") from None
            rows[table.name].append(decoded)
            h = hashes[table.name]
            h.update(_canonical(row))
            h.update(b"\n")
    except (OSError, EOFError, zlib.error) as exc:
        # gzip's own checks: a truncated stream (EOFError), a CRC or length mismatch (OSError),
        # damaged compressed data (zlib.error).
        raise bad(
            0, f"is damaged or incomplete: the compressed data cannot be read ({exc})"
        ) from None
    if header is None:
        raise bad(0, "is empty, not an rcm backup")
    problems = []
    for table_name, expected in header["tables"].items():
        if len(rows[table_name]) != expected:
            problems.append(
                Problem(
                    0,
                    f"is damaged or incomplete: {table_name} has {len(rows[table_name])} rows, "
                    f"its header says {expected}",
                )
            )
        elif hashes[table_name].hexdigest() != header["sha256"][table_name]:
            problems.append(
                Problem(0, f"is damaged: the rows of {table_name} do not match their checksum")
            )
    if problems:
        raise BackupError(name, problems)
    return _Parsed(header, rows)


# --- restore ----------------------------------------------------------------------------------


def _check_empty(conn: Connection, store: Store) -> None:
    held = {}
    for table in t.metadata.sorted_tables:
        if table.name == "index_state":  # one row from the migration, whatever the data
            continue
        n = conn.scalar(select(func.count()).select_from(table)) or 0
        if n:
            held[table.name] = n
    if not held:
        return
    # The search index only ever accompanies other rows: name those.
    names = [n for n in _NOTEWORTHY if n in held]
    names += [n for n in held if n not in _NOTEWORTHY and n not in DERIVED]
    names += [n for n in held if n in DERIVED]
    shown = ", ".join(f"{n} ({held[n]:,})" for n in names[:4])
    more = f" and {len(names) - 4} more tables" if len(names) > 4 else ""
    raise NotEmptyError(
        f"database {store.display_url} is not empty (it holds rows in {shown}{more}): restore "
        "only into a new database; nothing was written"
    )


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL's serial columns would hand out 1, 2, … again after rows were inserted with
    their ids: move each sequence past the largest restored id."""
    for table in BACKED_UP:
        column = table.autoincrement_column
        if column is None:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE(MAX("{column.name}"), 0) + 1, false) FROM "{table.name}"'
            ),
            {"table": table.name, "column": column.name},
        )


def restore(store: Store, data: bytes, *, name: str = "backup") -> RestoreResult:
    """Write the backup ``data`` into ``store``, which must hold nothing (a database without a
    schema is migrated first). ``name`` is how errors refer to the file. All or nothing: a bad
    file raises BackupError, a database that holds anything NotEmptyError, before any write."""
    parsed = _read(data, name)  # the whole file is checked before the database is touched
    revision, head = store.revision(), migrate.head_revision()
    if revision is None:
        store.migrate()
    elif revision != head:
        raise StoreError(
            f"database {store.display_url} has schema {revision}, the backup {head}: "
            "run `rcm migrate` on it first"
        )
    try:
        with store.engine.begin() as conn:
            if store.dialect == "sqlite":
                # Take the write lock before looking: nobody can write between "it is empty" and
                # the restore (pysqlite would otherwise begin only at the first INSERT).
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            _check_empty(conn, store)
            for table in BACKED_UP:
                if parsed.rows[table.name]:
                    conn.execute(insert(table), parsed.rows[table.name])
            if store.dialect == "postgresql":
                _reset_sequences(conn)
            indexed = search_index.refresh(conn)
            search_index.bump_generation(conn)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"restore into {store.display_url} failed and was rolled back: {_reason(exc)}"
        ) from None
    header = parsed.header
    return RestoreResult(
        format=header["format"],
        schema_revision=header["schema_revision"],
        rcm_version=str(header.get("rcm_version", "unknown")),
        created_at=str(header.get("created_at", "")),
        tables={table.name: len(parsed.rows[table.name]) for table in BACKED_UP},
        indexed=indexed,
    )
