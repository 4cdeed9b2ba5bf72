"""Storage: one SQLAlchemy code path for SQLite (default) and PostgreSQL.

``Store(url)`` opens a database; ``ingest`` writes a parsed :class:`~rcm.model.Compendium` in one
transaction (all or nothing, idempotent); ``load`` reads it back as model objects.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import ExceptionContext, RowMapping, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from rcm import taxonomy
from rcm.errors import BadInput, DocumentError, NotFound, Problem, StoreError
from rcm.ids import canonical_id
from rcm.model import (
    Category,
    CategoryInfo,
    CategorySource,
    Compendium,
    Meeting,
    MeetingKind,
    Notice,
    ObjectiveLink,
    Placement,
    Provenance,
    SourceDocument,
    SourceInfo,
    Statement,
    Subtheme,
    Theme,
    compilation_document,
    meeting_order,
)
from rcm.parse.text import normal_form
from rcm.store import migrate, search_index, versioning
from rcm.store import schema as t
from rcm.store.provenance import read_provenance

__all__ = [
    "DEFAULT_URL",
    "IngestResult",
    "Lookups",
    "Store",
    "database_url",
    "ingest_into",
    "meeting_from_row",
    "version_row",
    "write_document_frame",
]

DEFAULT_URL = "sqlite:///rcm.db"


def database_url(value: str | None = None) -> str:
    """The database to use: ``value`` (``--db``), else ``RCM_DATABASE_URL``, else ./rcm.db.
    A bare path means a SQLite file; ``postgresql://`` uses the psycopg 3 driver."""
    raw = value or os.environ.get("RCM_DATABASE_URL") or DEFAULT_URL
    if "://" not in raw:
        raw = f"sqlite:///{raw}"
    if raw.startswith(("postgresql://", "postgres://")):
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    try:
        make_url(raw)
    except ArgumentError:
        raise StoreError(
            "not a database URL: %(value)s (try sqlite:///rcm.db or postgresql://user@host/dbname)",
            value=repr(raw),
        ) from None
    return raw


@dataclass(frozen=True)
class Lookups:
    generation: int
    meetings: dict[str, tuple[str, int | None]]
    subtheme_titles: dict[tuple[int, int], str]
    theme_titles: dict[int, str]
    combos: dict[int, search_index.Combo]
    # PostgreSQL's ranking, "gin" or "rum" (``search_index.RANKINGS``); None on SQLite
    ranking: str | None = None

    @cached_property
    def has_retired(self) -> bool:
        """Whether any statement is retired (has a combination of its own)."""
        return any(c.retired for c in self.combos.values())


# ``:name`` placeholders (not ``::`` casts) -> psycopg's ``%(name)s``.
_NAMED = re.compile(r"(?<![:\w]):(\w+)")


# PostgreSQL's settings for a search's reads (``Store.tune_search``), measured at 1M statements
# (bench/README.md, "At 1,000,000 statements"):
# - work_mem: the GIN bitmap of a broad query's matches stays exact (64 bytes a heap page: the
#   default 4 MB holds 65,000 pages, and the table of 1M statements has 92,000; past it the
#   bitmap goes lossy and every row of a lossy page is tested again), and the ranking's sort and
#   the facet counts' hash stay in memory;
# - random_page_cost 1.1 (the default 4 is for spinning disks): the index's and the table's pages
#   are read from memory, so the planner reads the matches through the GIN bitmap instead of
#   testing the query on every row (the facet counts of "smuggl*": a sequential scan of 650 ms
#   against a bitmap scan of 280 ms);
# - jit off: compiling the statements cost 5 ms each, for nothing in return at these sizes.
SEARCH_SETTINGS = {"work_mem": "32MB", "random_page_cost": "1.1", "jit": "off"}


@lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


@dataclass(frozen=True)
class IngestResult:
    source: str
    sha256: str
    added: int
    updated: int
    unchanged: int
    absent: int
    placements: int
    placements_changed: bool
    recategorised: int = 0
    objective_links_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.added
            or self.updated
            or self.placements_changed
            or self.recategorised
            or self.objective_links_changed
        )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE: each CREATE TABLE of a
# migration would be committed at once, and a migration interrupted halfway (the process killed)
# would leave half a schema that no later migration can complete ("table ... already exists").
# Migrations therefore run on a connection where SQLAlchemy itself emits the BEGIN (IMMEDIATE: a
# second migrator waits for the first rather than failing), so that the whole upgrade is one
# transaction, as on PostgreSQL.


def _sqlite_manual_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# What no column can hold, refused in one place (every statement, both backends, before the
# driver sees it) so that the same input is the same clear error on SQLite and PostgreSQL: a NUL
# character (PostgreSQL's text cannot hold it; SQLite would store it silently), and an integer
# beyond 64 bits (SQLite's and the drivers' limit). PostgreSQL's own 32-bit INTEGER columns are
# checked by the server ("out of range") and reported the same way by ``_database_failure``.
NUL_MESSAGE = "text must not contain the NUL character (\\x00)"
INT_MESSAGE = "a number is beyond the database's range"
INT64 = 2**63


def _refuse_unstorable(
    _conn: Connection,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    _check_values(parameters)


def _check_values(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise BadInput(NUL_MESSAGE)
    elif isinstance(value, int):
        if not -INT64 <= value < INT64:
            raise BadInput(INT_MESSAGE)
    elif isinstance(value, Mapping):
        for v in value.values():
            _check_values(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _check_values(v)


class DatabaseFailure(StoreError):
    """The database failed under a statement: the connection was lost, the server shut down, the
    disk failed. The transaction the statement was part of is rolled back (by the server, or as
    the error leaves the ``with store.transaction()`` block), whoever was writing."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            "database %(db)s: %(reason)s (the transaction was rolled back: nothing was written)",
            db=url,
            reason=reason,
        )
        self.reason = reason


class Store:
    def __init__(self, url: str | None = None, *, create: bool = False) -> None:
        self.url = database_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            db = parsed.database
            if db and db != ":memory:" and not create and not Path(db).exists():
                raise StoreError(
                    "no database at %(db)s: run `rcm ingest` first (or pass --db)", db=db
                )
        elif self.dialect != "postgresql":
            raise StoreError(
                "unsupported database %(dialect)s: use SQLite or PostgreSQL",
                dialect=repr(self.dialect),
            )
        try:
            self.engine: Engine = create_engine(self.url, future=True)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(
                "cannot use database %(db)s: %(reason)s", db=self.display_url, reason=exc
            ) from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "handle_error", self._database_failure)
        event.listen(self.engine, "before_cursor_execute", _refuse_unstorable)
        event.listen(self.engine, "after_cursor_execute", versioning.note_write)
        self._checked = False
        self._versioned = False  # the schema has the data version (migration 0010)
        self._version_engine: Engine | None = None
        self._lookups: Lookups | None = None

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
        if self._version_engine is not None:
            self._version_engine.dispose()

    def _database_failure(self, ctx: ExceptionContext) -> None:
        # One clear line for every caller (the consultation, the review queue, the web app), in
        # place of SQLAlchemy's message with the statement and its parameters. Only failures of
        # the database itself under a statement; a failed COMMIT (no statement) is left alone, as
        # whether it was saved is not known.
        if getattr(ctx.original_exception, "sqlstate", None) == "22003":
            raise BadInput(INT_MESSAGE)  # PostgreSQL: numeric value out of range
        if (
            isinstance(ctx.sqlalchemy_exception, OperationalError)
            and ctx.connection is not None
            and ctx.statement is not None
        ):
            raise DatabaseFailure(self.display_url, _reason(ctx.sqlalchemy_exception))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------------

    def revision(self) -> str | None:
        try:
            return migrate.current_revision(self.engine)
        except (OperationalError, DatabaseFailure) as exc:
            raise StoreError(
                "cannot open database %(db)s: %(reason)s", db=self.display_url, reason=_reason(exc)
            ) from None

    def migrate(self) -> tuple[str | None, str]:
        """Bring the schema to the newest revision; returns (before, after)."""
        before = self.revision()
        engine = self.engine
        if self.dialect == "sqlite":
            engine = create_engine(self.url)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "connect", _sqlite_manual_begin)
            event.listen(engine, "begin", _sqlite_begin_immediate)
        try:
            migrate.upgrade(engine)
        except SQLAlchemyError as exc:
            raise StoreError(
                "migration failed on %(db)s: %(reason)s", db=self.display_url, reason=_reason(exc)
            ) from None
        finally:
            if engine is not self.engine:
                engine.dispose()
        after = migrate.head_revision()
        if before is not None and before != after:
            # A migration may rewrite data (outside ``transaction``): whatever was cached is old.
            with self.transaction() as conn:
                versioning.bump(conn)
        return before, after

    def use_ranking(self, ranking: str) -> str:
        """PostgreSQL's ranking for searches: "gin" (``ts_rank_cd`` over every match) or "rum"
        (the RUM index orders the top hits; needs the ``rum`` extension). Recorded in the
        database; returns it. Raises StoreError on SQLite or where RUM cannot be built."""
        try:
            with self.transaction() as conn:
                return search_index.use_ranking(conn, ranking)
        except ValueError as exc:
            raise StoreError(
                "cannot rank with %(ranking)s: %(reason)s", ranking=ranking, reason=exc
            ) from None

    def ranking(self) -> str | None:
        """PostgreSQL's recorded ranking ("gin" or "rum"); None on SQLite (or before migrating).
        Read without the compendium's checks: an empty, migrated database has a ranking too."""
        if self.dialect != "postgresql" or self.revision() is None:
            return None
        with self.engine.connect() as conn:
            return search_index.state(conn)[1]

    def require_current(self) -> None:
        current, head = self.revision(), migrate.head_revision()
        if current is None:
            raise StoreError(
                "database %(db)s holds no compendium: run `rcm ingest` first", db=self.display_url
            )
        if current != head:
            raise StoreError(
                "database %(db)s has schema %(current)s, this rcm needs %(head)s: run "
                "`rcm migrate`",
                db=self.display_url,
                current=current,
                head=head,
            )

    # --- writing ------------------------------------------------------------------------------

    def ingest(self, compendium: Compendium) -> IngestResult:
        """Write a compendium in one transaction. Statements already stored keep their rows (and
        whatever later layers attach to them); statements no longer in the document are kept and
        counted as ``absent``. Re-ingesting the same document changes nothing."""
        self.migrate()
        try:
            with self.transaction() as conn:
                return _ingest(conn, compendium)
        except (SQLAlchemyError, DatabaseFailure) as exc:
            raise StoreError(
                "ingest into %(db)s failed and was rolled back: %(reason)s",
                db=self.display_url,
                reason=_reason(exc),
            ) from None

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Connection]:
        """The one way the core writes: a transaction, committed when the block ends and rolled
        back if it raises. A failure of the database under a statement is one clear
        :class:`DatabaseFailure` (``_database_failure``), and so is a database that cannot be
        reached at all. ``immediate``: on SQLite, take the write lock first (``BEGIN
        IMMEDIATE``), for a block that reads and then writes what it read: nobody can write in
        between (pysqlite would otherwise begin only at the first write). PostgreSQL's blocks
        lock the rows they read (``FOR UPDATE``) where it matters."""
        try:
            conn = self.engine.connect()
        except OperationalError as exc:
            raise DatabaseFailure(self.display_url, _reason(exc)) from None
        with conn, conn.begin():
            if immediate and self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.info[versioning.WROTE] = False
            yield conn
            # Last, so that the counter's row lock is the last one taken (rcm.store.versioning).
            if conn.info.pop(versioning.WROTE, False) and self._has_data_version(conn):
                versioning.bump(conn)

    def _has_data_version(self, conn: Connection) -> bool:
        # Only a database not yet migrated to 0010 lacks it (a migration's own tests, `rcm
        # restore` into an old schema refuses before writing): asked until it is there.
        if not self._versioned:
            self._versioned = inspect(conn).has_table(t.data_version.name)
        return self._versioned

    def data_version(self) -> int:
        """The version of the data (``rcm.store.versioning``): it changes with every committed
        write of anything a page shows. Read on every public web request, so on its own small
        pool in autocommit: one round trip (no BEGIN, no ROLLBACK when the connection goes back)."""
        if self._version_engine is None:
            self.require_current()
            self._version_engine = create_engine(
                self.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None
            )
        engine = self._version_engine
        try:
            return versioning.read_raw(engine.raw_connection())
        except (SQLAlchemyError, engine.dialect.loaded_dbapi.Error) as exc:
            raise StoreError(
                "database %(db)s: %(reason)s", db=self.display_url, reason=str(exc).strip()
            ) from None

    # --- reading ------------------------------------------------------------------------------

    def _read(self) -> Connection:
        if not self._checked:
            self.require_current()
            self._checked = True
        return self.engine.connect()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A read connection to a database that holds a compendium at the current schema."""
        try:
            with self._read() as conn:
                yield conn
        except (OperationalError, DatabaseFailure) as exc:
            raise StoreError(
                "database %(db)s: %(reason)s", db=self.display_url, reason=_reason(exc)
            ) from None

    # Small lookups for search results, on an open connection, cached until the index generation
    # changes (every ingest and index refresh bumps it in its own transaction).

    def lookups(self, conn: Connection) -> Lookups:
        """One small read (the generation) when nothing changed since the last call."""
        rows = self.read_rows(conn, "SELECT generation, ranking FROM index_state", {})
        current, ranking = (int(rows[0][0] or 0), rows[0][1]) if rows else (0, None)
        cached = self._lookups
        if cached is None or cached.generation != current or cached.ranking != ranking:
            cached = Lookups(
                generation=current,
                meetings=self.meeting_labels(conn),
                subtheme_titles=self.subtheme_titles_in(conn),
                theme_titles=self.theme_titles(conn),
                combos=search_index.load_combos(conn),
                ranking=ranking if self.dialect == "postgresql" else None,
            )
            self._lookups = cached
        return cached

    def tune_search(self, conn: Connection) -> None:
        """PostgreSQL's settings for the reads of one search (``SEARCH_SETTINGS``), for the
        connection's current transaction only (``set_config(..., true)``: ``SET LOCAL``); nothing
        on SQLite."""
        if self.dialect != "postgresql":
            return
        calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(SEARCH_SETTINGS)))
        params: dict[str, str] = {}
        for i, (name, value) in enumerate(SEARCH_SETTINGS.items()):
            params[f"n{i}"], params[f"v{i}"] = name, value
        self.read_rows(conn, f"SELECT {calls}", params)

    def read_rows(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> list[Any]:
        """The rows of a read-only statement written with ``:name`` parameters, run on the
        driver's own cursor: the search's hot path, where SQLAlchemy's statement machinery cost
        more than the database's own work. A failure is one :class:`DatabaseFailure`."""
        if self.dialect == "postgresql":
            sql = _pyformat(sql)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        except self.engine.dialect.loaded_dbapi.Error as exc:
            raise DatabaseFailure(self.display_url, _first_line(exc)) from None
        finally:
            cursor.close()

    def read_while(
        self,
        conn: Connection,
        sql: str,
        params: Mapping[str, Any],
        first: int,
        more: Callable[[list[Any]], bool],
    ) -> list[Any]:
        """The first ``first`` rows of an ordered read whose ``LIMIT :top`` is left to this
        method, then, for as long as ``more(rows so far)`` says so, the read again with eight
        times the limit: a long run of ties costs a few bounded reads, never the whole result
        (an index scan in order stops at its limit). Plain statements rather than a server-side
        cursor: RUM's index scan crashed the server once when read through a cursor under load
        (bench/README.md)."""
        top = first
        rows = self.read_rows(conn, sql, {**params, "top": top})
        while len(rows) == top and more(rows):
            top *= 8
            rows = self.read_rows(conn, sql, {**params, "top": top})
        return rows

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read connection whose every read sees the same committed state, for a download read
        in many statements (``rcm.search.stream_hits``): PostgreSQL's REPEATABLE READ (read
        only), SQLite's read transaction (``BEGIN``: the reads share the database file's state
        until it ends; on a database not in WAL mode a writer waits for it, as for any read)."""
        with self.connection() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    yield conn
                return
            driver = conn.connection.driver_connection
            if not driver.in_transaction:  # type: ignore[union-attr]
                conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.rollback()

    def read_batches(
        self, conn: Connection, sql: str, params: Mapping[str, Any], size: int
    ) -> Iterator[list[Any]]:
        """The rows of a read-only statement, ``size`` at a time: the database keeps the rest
        (SQLite steps its statement; PostgreSQL reads through a server-side cursor, inside the
        connection's transaction), so a result of any length costs one batch of memory."""
        if self.dialect == "postgresql":
            sql = _pyformat(sql)
            cursor = conn.connection.driver_connection.cursor(name="rcm_batches")  # type: ignore[union-attr]
        else:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            try:
                cursor.execute(sql, params)
                rows = list(cursor.fetchmany(size))
            except self.engine.dialect.loaded_dbapi.Error as exc:
                raise DatabaseFailure(self.display_url, _first_line(exc)) from None
            while rows:
                yield rows
                if len(rows) < size:
                    return
                rows = list(cursor.fetchmany(size))
        finally:
            cursor.close()

    def export_rows(
        self, conn: Connection, ids: Sequence[str]
    ) -> list[tuple[Statement, list[Placement], list[ObjectiveLink]]]:
        """These statements (in the order given), each with its placements and GCM objective
        links, on an open connection: what a CSV row of a download needs. Retired statements and
        those filed nowhere are left out, as the whole compendium's export leaves them out."""
        if not ids:
            return []
        wanted = list(ids)
        rows = {
            r["id"]: r
            for r in conn.execute(
                select(t.statements).where(
                    t.statements.c.id.in_(wanted), t.statements.c.retired_at.is_(None)
                )
            ).mappings()
        }
        items, placements = _items_and_placements(conn, wanted)
        so = t.statement_objectives
        links: dict[str, list[ObjectiveLink]] = {}
        for r in conn.execute(
            select(so)
            .where(so.c.statement_id.in_(wanted))
            .order_by(so.c.statement_id, so.c.rank, so.c.objective)
        ):
            links.setdefault(r.statement_id, []).append(
                ObjectiveLink(
                    r.statement_id, r.objective, CategorySource(r.source), r.rank, r.score
                )
            )
        return [
            (_statement(rows[i], tuple(items.get(i, ()))), placements[i], links.get(i, []))
            for i in wanted
            if i in rows and i in placements
        ]

    def hit_details(self, conn: Connection, docids: list[int]) -> dict[int, dict[str, Any]]:
        """Statement id, text, heading, the text's language and the other wordings of search
        hits, by docid."""
        if not docids:
            return {}
        params = {f"d{i}": d for i, d in enumerate(docids)}
        rows = self.read_rows(conn, _hit_details_sql(len(docids)), params)
        return {
            int(r[0]): {
                "id": r[1], "text": r[2], "heading": r[3], "lang": r[4], "text_es": r[5],
                "text_en": r[6],
            }
            for r in rows
        }  # fmt: skip

    @staticmethod
    def docid(conn: Connection, statement_id: str) -> int | None:
        return conn.scalar(
            select(t.statement_search.c.docid).where(
                t.statement_search.c.statement_id == statement_id
            )
        )

    @staticmethod
    def meeting_labels(conn: Connection) -> dict[str, tuple[str, int | None]]:
        return {r.code: (r.label, r.year) for r in conn.execute(select(t.meetings))}

    @staticmethod
    def meetings_in(conn: Connection) -> dict[str, Meeting]:
        """Every meeting, by code, on an open connection."""
        return {m.code: m for m in (meeting_from_row(r) for r in conn.execute(select(t.meetings)))}

    @staticmethod
    def subtheme_titles_in(conn: Connection) -> dict[tuple[int, int], str]:
        return {(r.theme, r.position): r.title for r in conn.execute(select(t.subthemes))}

    @staticmethod
    def theme_titles(conn: Connection) -> dict[int, str]:
        return {r.number: r.title for r in conn.execute(select(t.themes))}

    def document_frequencies(
        self, conn: Connection, stems: list[str]
    ) -> tuple[int, dict[str, int]]:
        """How many statements there are, and how many contain each stem."""
        total = conn.scalar(select(func.count()).select_from(t.statement_search)) or 0
        if not stems:
            return total, {}
        params = {f"s{i}": s for i, s in enumerate(stems)}
        if self.dialect == "sqlite":
            names = ", ".join(f":{k}" for k in params)
            sql = f"SELECT term, doc FROM statement_fts_vocab WHERE term IN ({names})"
        else:
            sql = " UNION ALL ".join(
                f"SELECT CAST(:{k} AS text) AS term, COUNT(*) AS doc FROM statement_search "
                f"WHERE tsv @@@ plainto_tsquery('simple', :{k})"  # GIN, never RUM (rcm.search)
                for k in params
            )
        return total, {r.term: int(r.doc) for r in conn.execute(text(sql), params)}

    def load(self) -> Compendium:
        with self._read() as conn:
            return _load(conn)

    def statement(self, statement_id: str) -> tuple[Statement, list[Placement]]:
        try:
            sid = canonical_id(statement_id)
        except ValueError:
            raise NotFound(
                "%(value)s is not a statement id such as XIX-0427", value=repr(statement_id)
            ) from None
        with self._read() as conn:
            row = (
                conn.execute(select(t.statements).where(t.statements.c.id == sid))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound("no statement %(id)s", id=sid)
            items = _items(conn, [sid]).get(sid, ())
            placements = _placements(
                conn, select(t.placements).where(t.placements.c.statement_id == sid)
            )
            return _statement(row, items), placements

    def earlier_versions(self, statement_id: str) -> list[dict[str, Any]]:
        """The statement's earlier wordings, oldest first: version, text, heading, items, at,
        actor, origin (JSON-ready)."""
        sid = canonical_id(statement_id)
        sv = t.statement_versions
        with self._read() as conn:
            current = conn.scalar(select(t.statements.c.version).where(t.statements.c.id == sid))
            rows = conn.execute(
                select(sv)
                .where(sv.c.statement_id == sid, sv.c.version < (current or 0))
                .order_by(sv.c.version)
            ).all()
        return [
            {
                "version": r.version,
                "text": r.text,
                "heading": r.heading,
                "items": json.loads(r.items),
                "at": (_aware(r.at) or r.at).isoformat(timespec="seconds"),
                "actor": r.actor,
                "origin": r.origin,
            }
            for r in rows
        ]

    def retired(self) -> list[dict[str, Any]]:
        """The retired statements: id, meeting, when and by whom, oldest retirement first."""
        st = t.statements
        with self._read() as conn:
            rows = conn.execute(
                select(st.c.id, st.c.meeting, st.c.text, st.c.retired_at, st.c.retired_by)
                .where(st.c.retired_at.is_not(None))
                .order_by(st.c.retired_at, st.c.id)
            ).all()
        return [
            {
                "id": r.id,
                "meeting": r.meeting,
                "text": r.text,
                "retired_at": (_aware(r.retired_at) or r.retired_at).isoformat(timespec="seconds"),
                "retired_by": r.retired_by,
            }
            for r in rows
        ]

    def meeting(self, code: str) -> Meeting:
        with self._read() as conn:
            r = conn.execute(select(t.meetings).where(t.meetings.c.code == code)).first()
            if r is None:
                raise NotFound("no meeting %(code)s", code=code)
            return meeting_from_row(r)

    def provenance(self) -> Provenance:
        """Which document each statement and each meeting comes from (``rcm.store.provenance``)."""
        with self._read() as conn:
            return read_provenance(conn)

    def document_of(self, statement_id: str) -> SourceDocument | None:
        """The document a statement comes from; for one the database cannot place (none
        should be), the compilation file read last."""
        found = self.provenance().of_statement(canonical_id(statement_id))
        if found is not None:
            return found
        source = self.source()
        return None if source is None else compilation_document(source)

    def source(self) -> SourceInfo | None:
        with self._read() as conn:
            r = conn.execute(select(t.sources).order_by(t.sources.c.id.desc()).limit(1)).first()
            return None if r is None else _source(r)

    def subtheme_titles(self) -> dict[tuple[int, int], str]:
        with self._read() as conn:
            return {(r.theme, r.position): r.title for r in conn.execute(select(t.subthemes))}

    def themes(self) -> list[Theme]:
        with self._read() as conn:
            subs: dict[int, list[Subtheme]] = {}
            for r in conn.execute(
                select(t.subthemes).order_by(t.subthemes.c.theme, t.subthemes.c.position)
            ):
                subs.setdefault(r.theme, []).append(Subtheme(r.theme, r.position, r.title, r.page))
            return [
                Theme(r.number, r.title, r.un_title, r.consultation, tuple(subs.get(r.number, ())))
                for r in conn.execute(select(t.themes).order_by(t.themes.c.number))
            ]

    def known_meetings(self) -> list[Meeting]:
        """The meetings stored, for a reader of a compilation exported from this database; none
        while the database holds no compendium at the current schema."""
        if self.revision() != migrate.head_revision():
            return []
        return self.meetings()

    def meetings(self) -> list[Meeting]:
        """Every meeting in the compendium's order (:func:`rcm.model.meeting_order`)."""
        with self._read() as conn:
            rows = [meeting_from_row(r) for r in conn.execute(select(t.meetings))]
        return sorted(rows, key=lambda m: meeting_order(m.code))

    def categories(self) -> list[CategoryInfo]:
        with self._read() as conn:
            return [
                CategoryInfo(Category(r.name), r.label, r.definition)
                for r in conn.execute(select(t.categories).order_by(t.categories.c.position))
            ]

    def statements_where(self, *conditions: Any) -> list[tuple[Statement, list[Placement]]]:
        """Statements with their placements, for those having a placement (or being a statement)
        matching ``conditions`` (on ``placements`` or ``statements``), in document order.
        Retired statements are left out."""
        with self._read() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    select(t.statements.c.id)
                    .join(
                        t.placements, t.placements.c.statement_id == t.statements.c.id, isouter=True
                    )
                    .where(t.statements.c.retired_at.is_(None), *conditions)
                    .group_by(t.statements.c.id)
                    .order_by(func.min(t.placements.c.line), t.statements.c.id)
                )
            ]
            if not ids:
                return []
            rows = {
                r["id"]: r
                for r in conn.execute(
                    select(t.statements).where(t.statements.c.id.in_(ids))
                ).mappings()
            }
            items, placements = _items_and_placements(conn, ids)
            return [
                (_statement(rows[i], tuple(items.get(i, ()))), placements.get(i, [])) for i in ids
            ]

    def counts(self) -> dict[str, Any]:
        """Aggregates for ``rcm stats``, computed by the database."""
        with self._read() as conn:
            st, pl = t.statements, t.placements
            live = st.c.retired_at.is_(None)
            total = conn.scalar(select(func.count()).select_from(st).where(live)) or 0
            per_sub = conn.execute(
                select(pl.c.theme, pl.c.subtheme, func.count())
                .group_by(pl.c.theme, pl.c.subtheme)
                .order_by(pl.c.theme, pl.c.subtheme)
            ).all()
            per_theme_statements = conn.execute(
                select(pl.c.theme, func.count(func.distinct(pl.c.statement_id)))
                .group_by(pl.c.theme)
                .order_by(pl.c.theme)
            ).all()
            per_meeting = conn.execute(
                select(
                    t.meetings.c.code, t.meetings.c.label, t.meetings.c.year, func.count(st.c.id)
                )
                .select_from(t.meetings.outerjoin(st, (st.c.meeting == t.meetings.c.code) & live))
                .group_by(
                    t.meetings.c.code, t.meetings.c.label, t.meetings.c.year, t.meetings.c.number
                )
                .order_by(t.meetings.c.number, t.meetings.c.code)
            ).all()
            per_category = conn.execute(
                select(st.c.category, func.count())
                .where(live)
                .group_by(st.c.category)
                .order_by(st.c.category)
            ).all()
            per_statement = (
                select(pl.c.statement_id, func.count(func.distinct(pl.c.theme)).label("n"))
                .group_by(pl.c.statement_id)
                .subquery()
            )
            multi = conn.scalar(
                select(func.count()).select_from(per_statement).where(per_statement.c.n > 1)
            )
            noted = conn.scalar(select(func.count()).select_from(pl).where(pl.c.note.is_not(None)))
            subs = {(r.theme, r.position): r.title for r in conn.execute(select(t.subthemes))}
            theme_titles = {r.number: r.title for r in conn.execute(select(t.themes))}
            return {
                "statements": total,
                "placements": sum(n for *_, n in per_sub),
                "multi_theme_statements": multi or 0,
                "placements_with_note": noted or 0,
                "themes": [
                    {
                        "theme": th,
                        "title": theme_titles[th],
                        "statements": n,
                        "subthemes": [
                            {"subtheme": s, "title": subs[(th, s)], "placements": c}
                            for th2, s, c in per_sub
                            if th2 == th
                        ],
                    }
                    for th, n in per_theme_statements
                ],
                "meetings": [
                    {"meeting": code, "label": label, "year": year, "statements": n}
                    for code, label, year, n in per_meeting
                ],
                "categories": {(c or "unassigned"): n for c, n in per_category},
                "retired": self.retired(),
            }

    # --- reads for the web pages and the exports (no SQL outside the store) ----------------------

    def statements_in_theme(self, number: int) -> list[tuple[Statement, list[Placement]]]:
        """The statements filed under theme ``number``, with all their placements."""
        return self.statements_where(t.placements.c.theme == number)

    def statements_of_meeting(self, code: str) -> list[tuple[Statement, list[Placement]]]:
        """What meeting ``code`` adopted, in document order."""
        return self.statements_where(t.statements.c.meeting == code)

    def statements_by_ids(self, ids: Sequence[str]) -> list[tuple[Statement, list[Placement]]]:
        """These statements (those that exist), in document order."""
        return self.statements_where(t.statements.c.id.in_(list(ids))) if ids else []

    def objective_links_to(self, objective: int) -> list[ObjectiveLink]:
        """How each statement serving GCM objective ``objective`` was linked to it."""
        so = t.statement_objectives
        with self._read() as conn:
            return [
                ObjectiveLink(
                    r.statement_id, r.objective, CategorySource(r.source), r.rank, r.score
                )
                for r in conn.execute(
                    select(so).where(so.c.objective == objective).order_by(so.c.statement_id)
                )
            ]


def _items_and_placements(
    conn: Connection, ids: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, list[Placement]]]:
    """The list items (in order) and the placements of these statements, by statement id."""
    items: dict[str, list[str]] = {}
    for r in conn.execute(
        select(t.statement_items)
        .where(t.statement_items.c.statement_id.in_(ids))
        .order_by(t.statement_items.c.statement_id, t.statement_items.c.position)
    ):
        items.setdefault(r.statement_id, []).append(r.text)
    placements: dict[str, list[Placement]] = {}
    for p in _placements(conn, select(t.placements).where(t.placements.c.statement_id.in_(ids))):
        placements.setdefault(p.statement_id, []).append(p)
    return items, placements


@lru_cache(maxsize=128)
def _hit_details_sql(n: int) -> str:
    names = ", ".join(f":d{i}" for i in range(n))
    return (
        "SELECT s.docid, st.id, st.text, st.heading, st.lang, st.text_es, st.text_en "
        "FROM statement_search AS s "
        f"JOIN statements AS st ON st.id = s.statement_id WHERE s.docid IN ({names})"
    )


def _reason(exc: SQLAlchemyError | DatabaseFailure) -> str:
    if isinstance(exc, DatabaseFailure):
        return exc.reason
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig).strip().splitlines()[0]
    return str(exc).strip().splitlines()[0]


# --- ingest internals ---------------------------------------------------------------------------


def _upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    keys = [c.name for c in table.primary_key.columns]
    existing = {tuple(r[k] for k in keys): dict(r) for r in conn.execute(select(table)).mappings()}
    for row in rows:
        key = tuple(row[k] for k in keys)
        old = existing.get(key)
        if old is None:
            conn.execute(insert(table).values(**row))
        elif any(old.get(k) != v for k, v in row.items()):
            cond = [table.c[k] == row[k] for k in keys]
            conn.execute(update(table).where(*cond).values(**row))


@dataclass
class _StatementsWritten:
    existing: set[str]  # the statements stored before
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    recategorised: int = 0
    changed_ids: list[str] = field(default_factory=list)  # for the search index


def write_document_frame(conn: Connection, c: Compendium) -> int:
    """What an ingest by id writes besides the statements (``rcm.edit.ingest``): the reference
    data, the themes' sub-themes (none removed), the source document; its id."""
    _write_reference_data(conn, c)
    _write_subthemes(conn, c, placements_changed=False)
    source_id = _write_source(conn, c)
    _write_meeting_sources(conn, c, source_id)
    return source_id


def ingest_into(conn: Connection, c: Compendium) -> IngestResult:
    """:meth:`Store.ingest` inside the caller's transaction (a compilation that prints no ids:
    statements matched by their wording)."""
    return _ingest(conn, c)


def _ingest(conn: Connection, c: Compendium) -> IngestResult:
    """The steps of an ingest, in one transaction (``Store.ingest``)."""
    c = _without_reviewed(conn, c)
    _write_reference_data(conn, c)
    reviewed, placements_changed = _clear_changed_placements(conn, c)
    _write_subthemes(conn, c, placements_changed)
    source_id = _write_source(conn, c)
    done = _write_statements(conn, c, source_id)
    _write_meeting_sources(conn, c, source_id)
    if placements_changed and c.placements:
        _write_placements(conn, c)
    if placements_changed and reviewed:
        _renumber_reviewed(conn, reviewed)
    links_changed = _write_objective_links(conn, c)
    if placements_changed:
        search_index.refresh(conn)
    elif done.changed_ids:
        search_index.refresh(conn, done.changed_ids)
    search_index.bump_generation(conn)  # meetings, themes or titles may have changed too
    ids = {s.id for s in c.statements}
    return IngestResult(
        source=c.source.name,
        sha256=c.source.sha256,
        added=done.added,
        updated=done.updated,
        unchanged=done.unchanged,
        absent=sum(1 for sid in done.existing if sid not in ids and sid not in reviewed),
        placements=len(c.placements),
        placements_changed=placements_changed,
        recategorised=done.recategorised,
        objective_links_changed=links_changed,
    )


def _without_reviewed(conn: Connection, c: Compendium) -> Compendium:
    """The compilation without the statements accepted from declarations that a Word compilation
    exported from this database prints too (XXII RCM, Extraordinary Meeting of the XXV RCM …):
    they belong to their declaration, so the round trip leaves them as they are, and the
    compilation's rows keep their positions (numbered as if those rows were not there). A
    document that prints no ids cannot say which statement a changed row is: a row of such a
    statement whose wording or category was changed is refused, pointing to the Word
    compilation, whose rows print their ids (``rcm.edit.ingest`` edits them by id)."""
    present = {s.id for s in c.statements}
    reviewed = set(
        conn.scalars(
            select(t.proposals.c.statement_id).where(t.proposals.c.statement_id.in_(present))
        )
    )
    if not reviewed:
        return c
    stored = {
        r.id: (r.text, r.category)
        for r in conn.execute(
            select(t.statements.c.id, t.statements.c.text, t.statements.c.category).where(
                t.statements.c.id.in_(reviewed)
            )
        )
    }
    problems = [
        Problem(
            0,
            f"statement {s.id} (accepted from a declaration) was changed in a document that "
            "prints no statement ids: edit the Word compilation `rcm export --format docx` "
            "writes, whose rows carry their ids",
        )
        for s in c.statements
        if s.id in reviewed
        and stored.get(s.id) != (s.text, s.category.value if s.category else None)
    ]
    if problems:
        raise DocumentError(c.source.name, problems)
    kept = [p for p in c.placements if p.statement_id not in reviewed]
    numbered: list[Placement] = []
    counter: dict[tuple[int, int], int] = {}
    for p in sorted(kept, key=lambda p: (p.theme, p.subtheme, p.position)):
        key = (p.theme, p.subtheme)
        counter[key] = counter.get(key, 0) + 1
        numbered.append(replace(p, position=counter[key]))
    return replace(
        c,
        statements=[s for s in c.statements if s.id not in reviewed],
        placements=numbered,
        objective_links=[o for o in c.objective_links if o.statement_id not in reviewed],
    )


def _write_reference_data(conn: Connection, c: Compendium) -> None:
    """Categories, countries, the GCM's objectives and principles, meetings and themes."""
    _upsert(
        conn,
        t.categories,
        [
            {
                "name": ci.category.value,
                "label": ci.label,
                "definition": ci.definition,
                "position": i,
            }
            for i, ci in enumerate(c.categories, 1)
        ],
    )
    _upsert(
        conn,
        t.countries,
        [
            {
                "iso3": k.iso3,
                "iso2": k.iso2,
                "name_en": k.name_en,
                "name_es": k.name_es,
                "member": k.member,
            }
            for k in taxonomy.countries()
        ],
    )
    _upsert(
        conn,
        t.gcm_objectives,
        [{"number": o.number, "title": o.title} for o in taxonomy.gcm_objectives()],
    )
    _upsert(
        conn,
        t.gcm_principles,
        [{"letter": p.letter, "name": p.name} for p in taxonomy.gcm_principles()],
    )
    _upsert(conn, t.meetings, [m.as_dict() for m in c.meetings])
    _upsert(
        conn,
        t.themes,
        [
            {
                "number": th.number,
                "title": th.title,
                "un_title": th.un_title,
                "consultation": th.consultation,
            }
            for th in c.themes
        ],
    )


def _clear_changed_placements(conn: Connection, c: Compendium) -> tuple[set[str], bool]:
    """The statements that came from reviewed declarations, and whether the compilation's
    placements changed (then its old rows are removed, to be written again)."""
    # Statements accepted from new declarations are not in the compilation: ingesting it neither
    # compares, rewrites nor counts as absent their rows.
    reviewed = set(
        conn.scalars(
            select(t.proposals.c.statement_id).where(t.proposals.c.statement_id.is_not(None))
        )
    )
    compiled = select(t.placements)
    if reviewed:
        compiled = compiled.where(t.placements.c.statement_id.not_in(reviewed))
    # Placements are values: compare the whole set, rewrite only when the document changed them.
    placements_changed = set(c.placements) != set(_placements(conn, compiled))
    if placements_changed:
        old_ids = select(t.placements.c.id).where(t.placements.c.statement_id.not_in(reviewed))
        conn.execute(
            delete(t.placement_themes).where(t.placement_themes.c.placement_id.in_(old_ids))
        )
        conn.execute(delete(t.placements).where(t.placements.c.statement_id.not_in(reviewed)))
        # Out of the way of the compilation's rows; numbered after them below.
        conn.execute(
            update(t.placements)
            .where(t.placements.c.statement_id.in_(reviewed))
            .values(position=-t.placements.c.id)
        )
    return reviewed, placements_changed


def _write_subthemes(conn: Connection, c: Compendium, placements_changed: bool) -> None:
    subtheme_rows = [
        {"theme": s.theme, "position": s.order, "title": s.title, "page": s.page}
        for th in c.themes
        for s in th.subthemes
    ]
    _upsert(conn, t.subthemes, subtheme_rows)
    wanted = {(r["theme"], r["position"]) for r in subtheme_rows}
    for r in conn.execute(select(t.subthemes.c.theme, t.subthemes.c.position)).all():
        if (r.theme, r.position) not in wanted and placements_changed:
            conn.execute(
                delete(t.subthemes).where(
                    t.subthemes.c.theme == r.theme, t.subthemes.c.position == r.position
                )
            )


def _write_source(conn: Connection, c: Compendium) -> int:
    """The source document's row (and its notices), once per distinct file."""
    src = c.source
    source_id = conn.scalar(select(t.sources.c.id).where(t.sources.c.sha256 == src.sha256))
    if source_id is None:
        source_id = conn.execute(
            insert(t.sources)
            .values(
                name=src.name,
                sha256=src.sha256,
                size=src.size,
                lines=src.lines,
                title=src.title,
                date=src.date,
                ingested_at=datetime.now(UTC),
            )
            .returning(t.sources.c.id)
        ).scalar_one()
        if c.notices:
            conn.execute(
                insert(t.source_notices),
                [
                    {
                        "source_id": source_id,
                        "position": i,
                        "kind": n.kind,
                        "line": n.line,
                        "message": n.message,
                        "text": n.text,
                    }
                    for i, n in enumerate(c.notices, 1)
                ],
            )
    return int(source_id)


def _write_meeting_sources(conn: Connection, c: Compendium, source_id: int) -> None:
    """The compilation's meetings name the first compilation file their statements came from."""
    codes = {s.meeting for s in c.statements}
    if codes:
        conn.execute(
            update(t.meetings)
            .where(t.meetings.c.code.in_(codes), t.meetings.c.source_id.is_(None))
            .values(source_id=source_id)
        )


def _write_statements(conn: Connection, c: Compendium, source_id: int) -> _StatementsWritten:
    """New statements added, changed ones rewritten, categories updated where they should be."""
    existing = {r.id: r for r in conn.execute(select(t.statements)).mappings()}
    existing_items = _items(conn, list(existing))
    added = updated = unchanged = recategorised = 0
    changed_ids: list[str] = []
    new_rows: list[dict[str, Any]] = []
    new_items: list[dict[str, Any]] = []
    for s in c.statements:
        values = {
            "meeting": s.meeting,
            "text": s.text,
            "heading": s.heading,
            "lang": s.lang,
            "normal_form": normal_form(s.text),
        }
        old = existing.get(s.id)
        if old is None:
            new_rows.append(
                {
                    "id": s.id,
                    "text_es": s.text_es,
                    "source_id": source_id,
                    "category": s.category.value if s.category else None,
                    "category_source": s.category_source.value if s.category_source else None,
                    "category_confidence": s.category_confidence,
                    **values,
                }
            )
            new_items.extend(_item_rows(s.id, s.items))
            changed_ids.append(s.id)
            added += 1
        elif any(old[k] != v for k, v in values.items()) or existing_items.get(s.id, ()) != s.items:
            if (old["text"], old["heading"], existing_items.get(s.id, ())) != (
                s.text,
                s.heading,
                s.items,
            ):  # a new wording: kept as a version, the earlier one stays
                values["version"] = old["version"] + 1
                conn.execute(
                    insert(t.statement_versions).values(
                        **version_row(
                            s.id,
                            old["version"] + 1,
                            s.text,
                            s.heading,
                            s.items,
                            actor="ingest",
                            origin=f"compilation: {c.source.name}",
                        )
                    )
                )
            conn.execute(update(t.statements).where(t.statements.c.id == s.id).values(**values))
            conn.execute(delete(t.statement_items).where(t.statement_items.c.statement_id == s.id))
            _write_items(conn, s.id, s.items)
            changed_ids.append(s.id)
            updated += 1
        else:
            unchanged += 1
        if old is not None and _category_changes(old, s):
            conn.execute(
                update(t.statements)
                .where(t.statements.c.id == s.id)
                .values(
                    category=s.category.value if s.category else None,
                    category_source=s.category_source.value if s.category_source else None,
                    category_confidence=s.category_confidence,
                )
            )
            if s.id not in changed_ids:
                changed_ids.append(s.id)
                recategorised += 1
    if new_rows:
        conn.execute(insert(t.statements), new_rows)
        items_of = {s.id: s.items for s in c.statements}
        conn.execute(
            insert(t.statement_versions),
            [
                version_row(
                    r["id"],
                    1,
                    r["text"],
                    r["heading"],
                    items_of[r["id"]],
                    actor="ingest",
                    origin=f"compilation: {c.source.name}",
                )
                for r in new_rows
            ],
        )
    if new_items:
        _write_item_rows(conn, new_items)
    return _StatementsWritten(set(existing), added, updated, unchanged, recategorised, changed_ids)


def _write_placements(conn: Connection, c: Compendium) -> None:
    """The compilation's placements and their "also relevant" themes."""
    conn.execute(
        insert(t.placements),
        [
            {
                "statement_id": p.statement_id,
                "theme": p.theme,
                "subtheme": p.subtheme,
                "position": p.position,
                "note": p.note,
                "also_relevant_all": p.also_relevant_all,
                "printed_text": p.printed_text,
                "line": p.line,
            }
            for p in c.placements
        ],
    )
    row_ids = {
        (r.theme, r.subtheme, r.position): r.id
        for r in conn.execute(
            select(
                t.placements.c.id,
                t.placements.c.theme,
                t.placements.c.subtheme,
                t.placements.c.position,
            )
        )
    }
    refs = [
        {"placement_id": row_ids[(p.theme, p.subtheme, p.position)], "theme": th}
        for p in c.placements
        for th in p.also_relevant
    ]
    if refs:
        conn.execute(insert(t.placement_themes), refs)


def _category_changes(old: RowMapping, s: Statement) -> bool:
    """Whether the document's category should replace the stored one: a curated category always
    does (the curated file is the authority for the compilation's statements); a suggestion only
    replaces another suggestion or nothing, never a person's choice."""
    if s.category is None:
        return False
    new = (s.category.value, s.category_source.value if s.category_source else None)
    if (old["category"], old["category_source"]) == new and (
        old["category_confidence"] == s.category_confidence
    ):
        return False
    return s.category_source == CategorySource.CURATED or old["category_source"] != "curated"


def _renumber_reviewed(conn: Connection, reviewed: set[str]) -> None:
    """Reviewed statements' rows follow the compilation's in each table, in the order accepted."""
    pl = t.placements
    rows = conn.execute(
        select(pl.c.id, pl.c.theme, pl.c.subtheme)
        .where(pl.c.statement_id.in_(reviewed))
        .order_by(pl.c.theme, pl.c.subtheme, pl.c.id)
    ).all()
    last: dict[tuple[int, int], int] = {}
    for r in rows:
        key = (r.theme, r.subtheme)
        if key not in last:
            last[key] = (
                conn.scalar(
                    select(func.max(pl.c.position)).where(
                        pl.c.theme == r.theme,
                        pl.c.subtheme == r.subtheme,
                        pl.c.statement_id.not_in(reviewed),
                    )
                )
                or 0
            )
        last[key] += 1
        conn.execute(update(pl).where(pl.c.id == r.id).values(position=last[key]))


def _write_objective_links(conn: Connection, c: Compendium) -> bool:
    """Replace the GCM links of the document's statements with the ones the pipeline gave them."""
    so = t.statement_objectives
    ids = [s.id for s in c.statements]
    wanted = {
        (x.statement_id, x.objective, x.source.value, x.rank, x.score) for x in c.objective_links
    }
    stored = {
        (r.statement_id, r.objective, r.source, r.rank, r.score)
        for r in conn.execute(select(so).where(so.c.statement_id.in_(ids)))
    }
    if wanted == stored:
        return False
    conn.execute(delete(so).where(so.c.statement_id.in_(ids)))
    if wanted:
        conn.execute(
            insert(so),
            [
                {"statement_id": a, "objective": b, "source": c_, "rank": d, "score": e}
                for a, b, c_, d, e in sorted(wanted)
            ],
        )
    return True


def version_row(
    sid: str,
    version: int,
    text: str,
    heading: str | None,
    items: Sequence[str],
    *,
    actor: str,
    origin: str,
) -> dict[str, Any]:
    """A row of ``statement_versions``: one wording of a statement, as it was stored."""
    return {
        "statement_id": sid,
        "version": version,
        "text": text,
        "heading": heading,
        "items": json.dumps(list(items), ensure_ascii=False),
        "at": datetime.now(UTC),
        "actor": actor[:100],
        "origin": origin[:200],
    }


def _item_rows(sid: str, items: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"statement_id": sid, "position": i, "text": x} for i, x in enumerate(items, 1)]


def _write_item_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(t.statement_items), rows)


def _write_items(conn: Connection, sid: str, items: tuple[str, ...]) -> None:
    if items:
        _write_item_rows(conn, _item_rows(sid, items))


# --- load internals -----------------------------------------------------------------------------


def _items(conn: Connection, ids: list[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    query = select(t.statement_items).order_by(
        t.statement_items.c.statement_id, t.statement_items.c.position
    )
    if len(ids) == 1:
        query = query.where(t.statement_items.c.statement_id == ids[0])
    for r in conn.execute(query):
        out.setdefault(r.statement_id, []).append(r.text)
    return {k: tuple(v) for k, v in out.items()}


def _placements(conn: Connection, query: Any) -> list[Placement]:
    rows = (
        conn.execute(
            query.order_by(t.placements.c.theme, t.placements.c.subtheme, t.placements.c.position)
        )
        .mappings()
        .all()
    )
    refs: dict[int, list[int]] = {}
    ids = [r["id"] for r in rows]
    if ids:
        for r in conn.execute(
            select(t.placement_themes)
            .where(t.placement_themes.c.placement_id.in_(ids))
            .order_by(t.placement_themes.c.theme)
        ):
            refs.setdefault(r.placement_id, []).append(r.theme)
    return [
        Placement(
            statement_id=r["statement_id"],
            theme=r["theme"],
            subtheme=r["subtheme"],
            position=r["position"],
            note=r["note"],
            also_relevant=tuple(refs.get(r["id"], ())),
            also_relevant_all=r["also_relevant_all"],
            printed_text=r["printed_text"],
            line=r["line"],
        )
        for r in rows
    ]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _statement(row: RowMapping, items: tuple[str, ...]) -> Statement:
    return Statement(
        id=row["id"],
        meeting=row["meeting"],
        text=row["text"],
        heading=row["heading"],
        items=items,
        lang=row["lang"],
        text_es=row["text_es"],
        category=Category(row["category"]) if row["category"] else None,
        category_source=CategorySource(row["category_source"]) if row["category_source"] else None,
        category_confidence=row["category_confidence"],
        version=row["version"],
        retired_at=_aware(row["retired_at"]),
        text_en=row.get("text_en"),
    )


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def meeting_from_row(r: Any, prefix: str = "") -> Meeting:
    """A meeting from a database row: the ``meetings`` table's, or another table's copy of it
    whose code, number, label and kind columns carry ``prefix`` (a declaration's: "meeting_")."""
    m = r._mapping
    return Meeting(
        code=m[f"{prefix}code"],
        number=m[f"{prefix}number"],
        label=m[f"{prefix}label"],
        year=m["year"],
        kind=MeetingKind(m[f"{prefix}kind"]),
        place=m["place"],
        date=m["date"],
    )


def _source(r: Any) -> SourceInfo:
    return SourceInfo(
        name=r.name, sha256=r.sha256, size=r.size, lines=r.lines, title=r.title, date=r.date
    )


def _load(conn: Connection) -> Compendium:
    src = conn.execute(select(t.sources).order_by(t.sources.c.id.desc()).limit(1)).first()
    if src is None:
        raise StoreError("the database holds no compendium yet: run `rcm ingest`")
    meetings = sorted(
        (meeting_from_row(r) for r in conn.execute(select(t.meetings))),
        key=lambda m: meeting_order(m.code),
    )
    subs: dict[int, list[Subtheme]] = {}
    for r in conn.execute(
        select(t.subthemes).order_by(t.subthemes.c.theme, t.subthemes.c.position)
    ):
        subs.setdefault(r.theme, []).append(Subtheme(r.theme, r.position, r.title, r.page))
    themes = [
        Theme(
            number=r.number,
            title=r.title,
            un_title=r.un_title,
            consultation=r.consultation,
            subthemes=tuple(subs.get(r.number, ())),
        )
        for r in conn.execute(select(t.themes).order_by(t.themes.c.number))
    ]
    categories = [
        CategoryInfo(Category(r.name), r.label, r.definition)
        for r in conn.execute(select(t.categories).order_by(t.categories.c.position))
    ]
    items = _items(conn, [])
    placements = _placements(conn, select(t.placements))
    first_line: dict[str, int] = {}
    for p in placements:
        first_line[p.statement_id] = min(p.line, first_line.get(p.statement_id, p.line))
    order = {m.code: m.number for m in meetings}
    # A retired statement is no longer part of the compilation (read it by id: ``statement``).
    statements = [
        _statement(r, items.get(r["id"], ()))
        for r in conn.execute(
            select(t.statements).where(t.statements.c.retired_at.is_(None))
        ).mappings()
    ]
    statements.sort(key=lambda s: (order[s.meeting], first_line.get(s.id, 1 << 30), s.id))
    notices = [
        Notice(r.kind, r.line, r.message, r.text)
        for r in conn.execute(
            select(t.source_notices)
            .where(t.source_notices.c.source_id == src.id)
            .order_by(t.source_notices.c.position)
        )
    ]
    return Compendium(
        source=_source(src),
        themes=themes,
        meetings=meetings,
        statements=statements,
        placements=placements,
        categories=categories,
        notices=notices,
        objective_links=_objective_links(conn),
        provenance=read_provenance(conn),
    )


def _objective_links(conn: Connection, statement_id: str | None = None) -> list[ObjectiveLink]:
    so = t.statement_objectives
    query = select(so).order_by(so.c.statement_id, so.c.rank, so.c.objective)
    if statement_id is not None:
        query = query.where(so.c.statement_id == statement_id)
    return [
        ObjectiveLink(r.statement_id, r.objective, CategorySource(r.source), r.rank, r.score)
        for r in conn.execute(query)
    ]
