"""The data version: one counter (table ``data_version``) that every write bumps, in the writing
transaction, so that a reader can tell "nothing has changed since version v" with one tiny query
(the web's ETags, ``rcm.web.caching``).

How a write is noticed: SQLAlchemy's ``after_cursor_execute`` event, on the store's engine, sees
every statement the driver ran, whoever issued it (the core's ``insert``/``update``/``delete``
constructs, raw SQL, the search index's upkeep). A statement that may have changed a row of a
table some page shows marks its connection; ``Store.transaction`` then bumps the counter just
before it commits, in the same transaction. So the new version is visible exactly when the data
is (a reader never sees the new version with the old data), a rolled-back write bumps nothing,
and the counter's row lock is the last lock a writer takes (held only while it commits), so it
cannot close a deadlock cycle with the rows the transaction locked before.

What counts as a write is decided conservatively: a DML construct on any table but
``UNSHOWN_TABLES``, and any raw statement that is not recognisably a read (SELECT, PRAGMA, ...).
A statement that changed no row (``rowcount`` 0: an ``UPDATE ... WHERE version = :seen`` that lost
a race, a purge of expired sessions that found none) changes nothing. Counting too much costs a
cache miss; counting too little would serve a stale page, so every doubt counts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, update

from rcm.store import schema as t

__all__ = ["UNSHOWN_TABLES", "WROTE", "bump", "note_write", "read", "read_raw", "unshown"]

# Tables whose rows no page, API answer or download shows (sign-in bookkeeping): writing them
# leaves every public representation as it was, so that signing in or a failed password does not
# empty every cache. The counter's own table, of course. And a country's draft answers, which only
# its focal point's own form shows (private, never cached), saved as each answer is given.
UNSHOWN_TABLES = frozenset({"sessions", "login_failures", "data_version", "answer_drafts"})

READ = "SELECT version FROM data_version"
WROTE = "rcm_wrote_shown_data"  # the mark, in the connection's ``info``

_READS = frozenset(
    {"select", "pragma", "show", "explain", "begin", "commit", "rollback", "savepoint", "release"}
)
_DML = re.compile(r"\b(insert|update|delete|merge|truncate)\b", re.IGNORECASE)
_TARGET = re.compile(
    r"^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+\"?(\w+)", re.IGNORECASE
)


def _table_written(statement: str, context: Any) -> str | None:
    """The table a statement writes ('' when it may write but which is not known), or None for a
    read."""
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        table = getattr(getattr(context.compiled, "statement", None), "table", None)
        return str(getattr(table, "name", ""))
    words = statement.lstrip().split(None, 1)
    first = words[0].lower() if words else ""
    if first in _READS or (first == "with" and not _DML.search(statement)):
        return None
    match = _TARGET.match(statement)
    return match.group(1).lower() if match else ""


def note_write(
    conn: Connection,
    cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """``after_cursor_execute``: mark the connection when a statement may have changed shown
    data."""
    if cursor.rowcount == 0:
        return
    table = _table_written(statement, context)
    if table is not None and table not in UNSHOWN_TABLES:
        conn.info[WROTE] = True


@contextmanager
def unshown(conn: Connection) -> Iterator[None]:
    """Writes in this block change nothing any page shows (an account's sign-in bookkeeping: its
    failure count, its delay, a rehashed password), so that signing in, or an attacker's wrong
    passwords, do not empty every cache. Said where the write is made, so every other write
    counts by default."""
    before = bool(conn.info.get(WROTE, False))
    yield
    conn.info[WROTE] = before


def bump(conn: Connection) -> None:
    """One more version (inside the writing transaction)."""
    conn.execute(update(t.data_version).values(version=t.data_version.c.version + 1))


def read(conn: Connection) -> int:
    return int(conn.exec_driver_sql(READ).scalar() or 0)


def read_raw(dbapi_connection: Any) -> int:
    """The version on a pooled DBAPI connection in autocommit (given back to the pool here): the
    web reads it on every public request, and SQLAlchemy's Connection costs more than the query."""
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(READ)
            row = cursor.fetchone()
        finally:
            cursor.close()
    except Exception:
        dbapi_connection.invalidate()  # a connection the server dropped is not pooled again
        raise
    finally:
        dbapi_connection.close()
    return int(row[0]) if row else 0
