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

**Signature** (an additive header field, so older readers still read the file): when
``RCM_SECRET_KEY`` is set, the header carries ``"signature": {"algorithm": "HMAC-SHA256", "value":
"…"}``, an HMAC-SHA256 under a key derived from ``RCM_SECRET_KEY`` (as ``rcm.settings.keyed``
derives its keys, for the purpose ``rcm-backup``) of the header without its signature, as
canonical JSON. The header holds every table's row count and digest, so the signature covers every
row. Under the public development key a backup is not signed (a signature anyone can make proves
nothing). A restore checks the signature with its own ``RCM_SECRET_KEY``: in production it refuses
an unsigned or wrongly signed backup unless told to (``allow_unsigned``, ``rcm restore
--allow-unsigned``); in development it refuses a wrongly signed one the same way and restores an
unsigned one with a warning.

**Every row is checked** before anything is written, from the schema itself (``rcm.store.schema``:
types, NOT NULL, text lengths, integer ranges, primary keys and unique constraints, foreign keys to
rows of the same backup) and from the model's enumerations (roles, categories, opinion values,
round and proposal states, meeting kinds, sources of a category), so a column added later is
checked too; the refusal names the line, table, row and column.

A backup reads the whole database in one read transaction (REPEATABLE READ on PostgreSQL), so it is
consistent while people write. A restore checks the whole file first (header, format version,
schema revision, row counts, digests, signature, every row), then, in one transaction, refuses a
database that holds anything, inserts every row, moves PostgreSQL's id sequences past the restored
ids and rebuilds the search index: all or nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import json
import math
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from rcm import settings
from rcm.errors import DocumentError, Problem, RcmError, StoreError
from rcm.store import Store, migrate, search_index
from rcm.store import schema as t

__all__ = [
    "BACKED_UP",
    "FORMAT",
    "BackupError",
    "NotEmptyError",
    "RestoreResult",
    "SignatureError",
    "backup",
    "read_header",
    "restore",
]

FORMAT_NAME = "rcm-backup"
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"
GZIP_MAGIC = b"\x1f\x8b"

# Derived from the other tables (the index generation and the data version just restart): storing
# them would only let a backup disagree with itself.
DERIVED = frozenset({"facet_combos", "statement_search", "index_state", "data_version"})
# The counters: one row each from the migration, whatever the data.
COUNTERS = frozenset({"index_state", "data_version"})
# Short-lived credentials: restoring them would resurrect sign-ins on another server. Failed
# sign-ins are short-lived too (the delays they cause last minutes).
SKIPPED = frozenset({"sessions", "login_failures"})
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


class SignatureError(BackupError):
    """The backup is unsigned or its signature does not match this server's ``RCM_SECRET_KEY``,
    and the restore was not told to accept that. Nothing has been written."""


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
    # "valid"; "unsigned" (restored all the same: development, or allowed); "wrong" (allowed)
    signature: str = "valid"

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
    """The database value of a JSON value, or ValueError saying what is wrong with it (the
    column's type from the schema: NOT NULL, type, text length, integer range)."""
    if value is None:
        if not column.nullable:
            raise ValueError("is null but may not be")
        return None
    kind = column.type
    if isinstance(kind, DateTime):
        if not isinstance(value, str):
            raise ValueError("is not a date and time")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"is not an ISO 8601 date and time: {value[:40]!r}") from None
        if parsed.tzinfo is None:
            raise ValueError(f"has no time zone: {value[:40]!r}")
        return parsed.astimezone(UTC)
    if isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise ValueError("is not true or false")
        return value
    if isinstance(kind, Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("is not a number")
        if not math.isfinite(value):
            raise ValueError("is not a finite number")
        return float(value)
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("is not an integer")
        # PostgreSQL's integer is 32 bits, bigint 64: the same limits on both backends.
        bits = 63 if isinstance(kind, BigInteger) else 31
        if not -(2**bits) <= value < 2**bits:
            raise ValueError(f"{value} is out of range for a {bits + 1}-bit integer")
        return value
    if not isinstance(value, str):
        raise ValueError("is not text")
    if "\x00" in value:
        raise ValueError("holds a NUL character")
    if isinstance(kind, String) and kind.length is not None and len(value) > kind.length:
        raise ValueError(f"has {len(value):,} characters, at most {kind.length:,}")
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


def backup(store: Store, *, key: str | None = None) -> bytes:
    """The whole database as an ``rcm-backup/1`` file (gzip-compressed JSON Lines), signed with
    ``key`` (default: RCM_SECRET_KEY; unsigned under the development key)."""
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
                raise StoreError("database %(db)s holds nothing to back up", db=store.display_url)
            if revision != head:
                raise StoreError(
                    "database %(db)s has schema %(revision)s, this rcm needs %(head)s: run `rcm "
                    "migrate` first",
                    db=store.display_url,
                    revision=revision,
                    head=head,
                )
            tables = {table.name: _read_table(conn, table) for table in BACKED_UP}
            conn.rollback()
    except SQLAlchemyError as exc:
        raise StoreError(
            "cannot back up %(db)s: %(reason)s", db=store.display_url, reason=_reason(exc)
        ) from None
    header = {
        "format": FORMAT,
        "schema_revision": head,
        "rcm_version": _rcm_version(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": store.dialect,
        "tables": {name: len(rows) for name, rows in tables.items()},
        "sha256": {name: _digest(rows) for name, rows in tables.items()},
    }
    signing_key = _signing_key(key)
    if signing_key is not None:
        header["signature"] = {
            "algorithm": SIGNATURE_ALGORITHM,
            "value": _signature(signing_key, header),
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


# --- signing ----------------------------------------------------------------------------------

SIGNATURE_ALGORITHM = "HMAC-SHA256"
_PURPOSE = "rcm-backup"


def _signing_key(key: str | None) -> str | None:
    """The key backups are signed and checked with: RCM_SECRET_KEY, or None under the public
    development key (a signature anyone can make would prove nothing)."""
    key = settings.current().secret_key if key is None else key
    return None if key == settings.DEVELOPMENT_KEY else key


def _signature(key: str, header: Mapping[str, Any]) -> str:
    """HMAC-SHA256 of the header without its signature, as canonical JSON, under a key derived
    from ``key`` for this purpose alone (the derivation of ``rcm.settings.keyed``)."""
    derived = hmac.new(key.encode(), _PURPOSE.encode(), hashlib.sha256).digest()
    unsigned = {k: v for k, v in header.items() if k != "signature"}
    return hmac.new(derived, _canonical(unsigned), hashlib.sha256).hexdigest()


def _check_signature(
    header: Mapping[str, Any], name: str, key: str | None, production: bool, allow_unsigned: bool
) -> str:
    """ "valid", "unsigned" or "wrong" (these two only when allowed), or SignatureError."""
    signing_key = _signing_key(key)
    signed = header.get("signature")
    if signed is None:
        if production and not allow_unsigned:
            raise SignatureError(
                name,
                [
                    Problem(
                        0,
                        "is not signed, and production restores only backups signed with its "
                        "RCM_SECRET_KEY; nothing was written (restore it all the same with "
                        "--allow-unsigned, if you know where it comes from)",
                    )
                ],
            )
        return "unsigned"
    valid = (
        signing_key is not None
        and isinstance(signed, dict)
        and signed.get("algorithm") == SIGNATURE_ALGORITHM
        and isinstance(signed.get("value"), str)
        and hmac.compare_digest(signed["value"], _signature(signing_key, header))
    )
    if valid:
        return "valid"
    if allow_unsigned:
        return "wrong"
    raise SignatureError(
        name,
        [
            Problem(
                0,
                "its signature does not match this server's RCM_SECRET_KEY: it was changed after "
                "it was made, or made with another key; nothing was written (restore it all the "
                "same with --allow-unsigned, if you know where it comes from)",
            )
        ],
    )


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
    where: dict[str, list[int]]  # each row's line in the file


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
    where: dict[str, list[int]] = {n: [] for n in _BY_NAME}  # each row's line in the file
    hashes = {n: hashlib.sha256() for n in _BY_NAME}
    header: dict[str, Any] | None = None
    try:
        for number, raw in enumerate(_lines(data), 1):
            if header is None:
                header = _header(name, raw)
                if header_only:
                    return _Parsed(header, {}, {})
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
            decoded = {}
            for c in table.columns:
                try:
                    decoded[c.name] = _decode(c, row[c.name])
                except ValueError as exc:
                    at = f"{table.name} row {len(rows[table.name]) + 1}, column {c.name}"
                    raise bad(number, f"is not a valid backup: {at} {exc}") from None
            rows[table.name].append(decoded)
            where[table.name].append(number)
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
    return _Parsed(header, rows, where)


# --- what every row must be -------------------------------------------------------------------


def _domain() -> dict[tuple[str, str], tuple[str, ...]]:
    """The columns whose values come from one of the model's enumerations (the schema stores
    them as text). Imported here: the model's modules are not needed to write a backup."""
    from rcm.consult import OpinionValue
    from rcm.i18n import LANGUAGES
    from rcm.model import Category, CategorySource, MeetingKind
    from rcm.review import STATES as PROPOSAL_STATES
    from rcm.users import Role

    def values(kind: Iterable[Any]) -> tuple[str, ...]:
        return tuple(str(v.value if hasattr(v, "value") else v) for v in kind)

    return {
        ("users", "role"): values(Role),
        ("users", "lang"): LANGUAGES,
        ("rounds", "state"): ("open", "closed"),
        ("opinions", "value"): values(OpinionValue),
        ("opinion_history", "value"): values(OpinionValue),
        ("categories", "name"): values(Category),
        ("statements", "category_source"): values(CategorySource),
        ("statement_objectives", "source"): values(CategorySource),
        ("meetings", "kind"): values(MeetingKind),
        ("declarations", "meeting_kind"): values(MeetingKind),
        ("proposals", "state"): values(PROPOSAL_STATES),
    }


# Text columns that hold JSON (the schema says so in comments only), and the kind of value the
# code that reads them expects (None: any).
_JSON_TEXT: dict[tuple[str, str], type | None] = {
    ("audit_events", "before"): None,
    ("audit_events", "after"): None,
    ("declarations", "preamble"): list,
    ("declarations", "closing"): list,
    ("proposals", "items"): list,
    ("proposals", "suggestions"): dict,
    ("proposals", "decision"): dict,
}
# Text columns that hold an ISO date (YYYY-MM-DD), read back with date.fromisoformat.
_ISO_DATES = {("rounds", "deadline")}
_MAX_PROBLEMS = 20


def _check_rows(
    rows: Mapping[str, list[dict[str, Any]]], where: Mapping[str, list[int]]
) -> list[Problem]:
    """Every row against the schema's constraints beyond a column's own type (the domain's
    enumerations, JSON text, primary keys and unique constraints, foreign keys to rows of this
    backup) and the rules the application relies on: each a Problem naming the line, the table,
    the row (1-based, within its table) and the column."""
    problems: list[Problem] = []
    domain = _domain()
    members = {r["iso3"] for r in rows["countries"] if r["member"]}

    def problem(table: Table, i: int, column: str, message: str) -> None:
        problems.append(
            Problem(
                where[table.name][i],
                f"is not a valid backup: {table.name} row {i + 1}, column {column} {message}",
            )
        )

    for table in BACKED_UP:
        table_rows = rows[table.name]
        for (owner, column), allowed in domain.items():
            if owner != table.name:
                continue
            for i, row in enumerate(table_rows):
                if row[column] is not None and row[column] not in allowed:
                    problem(
                        table, i, column, f"is {row[column]!r}, not one of {', '.join(allowed)}"
                    )
        for (owner, column), kind in _JSON_TEXT.items():
            if owner != table.name:
                continue
            for i, row in enumerate(table_rows):
                if row[column] is None:
                    continue
                try:
                    value = json.loads(row[column])
                except ValueError:
                    problem(table, i, column, "is not JSON")
                    continue
                if kind is not None and not isinstance(value, kind):
                    problem(
                        table, i, column, f"is not a JSON {'list' if kind is list else 'object'}"
                    )
        for owner, column in _ISO_DATES:
            if owner != table.name:
                continue
            for i, row in enumerate(table_rows):
                if row[column] is None:
                    continue
                try:
                    date.fromisoformat(row[column])
                except ValueError:
                    problem(table, i, column, f"is {row[column]!r}, not a date such as 2017-06-30")
        keys = [
            c
            for c in table.constraints
            if isinstance(c, UniqueConstraint) or c is table.primary_key
        ]
        for constraint in keys:
            names = [c.name for c in constraint.columns]
            seen: dict[tuple[Any, ...], int] = {}
            for i, row in enumerate(table_rows):
                value = tuple(row[n] for n in names)
                if None in value:  # NULLs never clash in a unique constraint
                    continue
                if value in seen:
                    problem(
                        table,
                        i,
                        ", ".join(names),
                        f"repeats row {seen[value] + 1}'s {value if len(value) > 1 else value[0]!r}"
                        " (it must be unique)",
                    )
                else:
                    seen[value] = i
        for fk in table.foreign_key_constraints:
            referred = fk.referred_table
            local = [c.name for c in fk.columns]
            remote = [e.column.name for e in fk.elements]
            present = {tuple(r[n] for n in remote) for r in rows.get(referred.name, [])}
            for i, row in enumerate(table_rows):
                value = tuple(row[n] for n in local)
                if None not in value and value not in present:
                    shown = value if len(value) > 1 else value[0]
                    problem(
                        table,
                        i,
                        ", ".join(local),
                        f"refers to {referred.name} {shown!r}, which is not in the backup",
                    )
        if table.name == "users":  # what rcm.users.add_user allows
            for i, row in enumerate(table_rows):
                if row["role"] == "focal_point" and row["country"] not in members:
                    problem(table, i, "country", "must be a Member Country for a focal point")
                elif row["role"] != "focal_point" and row["country"] is not None:
                    problem(table, i, "country", "must be empty: only a focal point has one")
        if len(problems) >= _MAX_PROBLEMS:
            break
    return problems[:_MAX_PROBLEMS]


# --- restore ----------------------------------------------------------------------------------


def _check_empty(conn: Connection, store: Store) -> None:
    held = {}
    for table in t.metadata.sorted_tables:
        if table.name in COUNTERS:
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
    raise NotEmptyError(
        "database %(db)s is not empty (it holds rows in %(shown)s and %(more)s more tables): "
        "restore only into a new database; nothing was written"
        if len(names) > 4
        else "database %(db)s is not empty (it holds rows in %(shown)s): restore only into a new "
        "database; nothing was written",
        db=store.display_url,
        shown=shown,
        more=len(names) - 4,
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


def restore(
    store: Store,
    data: bytes,
    *,
    name: str = "backup",
    key: str | None = None,
    production: bool | None = None,
    allow_unsigned: bool = False,
) -> RestoreResult:
    """Write the backup ``data`` into ``store``, which must hold nothing (a database without a
    schema is migrated first). ``name`` is how errors refer to the file. All or nothing: a bad
    file raises BackupError, a database that holds anything NotEmptyError, before any write.

    The signature is checked with ``key`` (default: RCM_SECRET_KEY): a wrong one is refused
    (SignatureError), and so is an unsigned backup in ``production`` (default: RCM_ENV), unless
    ``allow_unsigned``; ``RestoreResult.signature`` says which it was."""
    # The whole file is checked before the database is touched.
    parsed = _read(data, name)
    if production is None:
        production = settings.current().production
    signature = _check_signature(parsed.header, name, key, production, allow_unsigned)
    problems = _check_rows(parsed.rows, parsed.where)
    if problems:
        raise BackupError(name, problems)
    revision, head = store.revision(), migrate.head_revision()
    if revision is None:
        store.migrate()
    elif revision != head:
        raise StoreError(
            "database %(db)s has schema %(revision)s, the backup %(head)s: run `rcm migrate` on "
            "it first",
            db=store.display_url,
            revision=revision,
            head=head,
        )
    try:
        # Take the write lock before looking (SQLite: BEGIN IMMEDIATE): nobody can write between
        # "it is empty" and the restore.
        with store.transaction(immediate=True) as conn:
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
            "restore into %(db)s failed and was rolled back: %(reason)s",
            db=store.display_url,
            reason=_reason(exc),
        ) from None
    header = parsed.header
    return RestoreResult(
        format=header["format"],
        schema_revision=header["schema_revision"],
        rcm_version=str(header.get("rcm_version", "unknown")),
        created_at=str(header.get("created_at", "")),
        tables={table.name: len(parsed.rows[table.name]) for table in BACKED_UP},
        indexed=indexed,
        signature=signature,
    )
