"""The store on real SQLite and real PostgreSQL: round trip, idempotence, atomicity, migrations."""

from __future__ import annotations

from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, func, inspect, select

from rcm.errors import NotFound, StoreError
from rcm.store import Store, database_url, migrate, schema


def _row_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            name: conn.scalar(select(func.count()).select_from(table)) or 0
            for name, table in schema.metadata.tables.items()
        }


def test_round_trip(store, compendium):
    result = store.ingest(compendium)
    assert (result.added, result.updated, result.unchanged, result.placements) == (129, 0, 0, 186)
    loaded = store.load()
    assert loaded.statements == compendium.statements
    assert loaded.placements == compendium.placements
    assert loaded.themes == compendium.themes
    assert loaded.meetings == compendium.meetings
    assert loaded.categories == compendium.categories
    assert loaded.notices == compendium.notices
    assert loaded.source == compendium.source


def test_ingest_is_idempotent(store, compendium):
    store.ingest(compendium)
    before = _row_counts(store)
    again = store.ingest(compendium)
    assert (again.added, again.updated, again.unchanged, again.placements_changed) == (
        0,
        0,
        129,
        False,
    )
    assert not again.changed
    assert _row_counts(store) == before
    assert before["statements"] == 129 and before["placements"] == 186
    assert before["countries"] == 11 and before["gcm_objectives"] == 23 and before["meetings"] == 21


def test_two_fresh_databases_give_the_same_ids(db_url, tmp_path, compendium):
    a = Store(db_url, create=True)
    b = Store(f"sqlite:///{tmp_path / 'other.db'}", create=True)
    a.ingest(compendium)
    b.ingest(compendium)
    assert [s.id for s in a.load().statements] == [s.id for s in b.load().statements]
    a.close()
    b.close()


def test_failed_ingest_leaves_the_database_as_it_was(store, compendium):
    store.ingest(compendium)
    before = store.load()
    counts = _row_counts(store)
    # A later edition: one statement reworded, one removed from a table, one new statement.
    edited = replace(compendium.statements[0], text=compendium.statements[0].text + " (amended)")
    new = replace(compendium.statements[1], id="I-0000", text="A new statement.")
    changed = replace(
        compendium,
        statements=[edited, new, *compendium.statements[1:]],
        placements=[
            *compendium.placements[1:],
            replace(compendium.placements[0], statement_id="I-0000", position=99),
        ],
    )
    seen: list[str] = []

    def lose_connection(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
        if statement.startswith("INSERT INTO placements"):
            raise RuntimeError("connection lost")  # as if the server went away mid-ingest

    event.listen(store.engine, "before_cursor_execute", lose_connection)
    try:
        with pytest.raises(RuntimeError, match="connection lost"):
            store.ingest(changed)
    finally:
        event.remove(store.engine, "before_cursor_execute", lose_connection)
    assert any(q.startswith("INSERT INTO statements") for q in seen)  # written before the failure
    after = store.load()
    assert after.statements == before.statements
    assert after.placements == before.placements
    assert _row_counts(store) == counts


def test_a_database_error_becomes_a_store_error(store, compendium):
    from sqlalchemy.exc import OperationalError

    def broken(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO statement_items"):
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    event.listen(store.engine, "before_cursor_execute", broken)
    with pytest.raises(StoreError, match="rolled back: disk I/O error"):
        store.ingest(compendium)
    event.remove(store.engine, "before_cursor_execute", broken)
    assert _row_counts(store)["statements"] == 0


def test_reingest_of_a_changed_document_updates_and_keeps(store, compendium):
    store.ingest(compendium)
    reworded = replace(compendium.statements[0], text=compendium.statements[0].text + " (amended)")
    smaller = replace(
        compendium,
        statements=[reworded, *compendium.statements[2:]],
        placements=[
            p for p in compendium.placements if p.statement_id != compendium.statements[1].id
        ],
    )
    result = store.ingest(smaller)
    assert (result.added, result.updated, result.absent) == (0, 1, 1)
    assert result.placements_changed
    assert store.statement(reworded.id)[0].text.endswith("(amended)")
    # The statement no longer in the document is kept (opinions may refer to it), unplaced.
    kept, placements = store.statement(compendium.statements[1].id)
    assert kept == compendium.statements[1] and placements == []


def _not_backend_specific(obj, name, type_, reflected, compare_to):
    # The FTS5 tables (SQLite) and the tsvector column and its GIN index (PostgreSQL) are created
    # by migration 0002 for one backend only and are not part of the shared metadata; so is the
    # RUM index (migration 0010, where PostgreSQL has the extension).
    return not (
        (name or "").startswith("statement_fts")
        or name in ("tsv", "ix_statement_search_tsv", "ix_statement_search_rum")
    )


def test_migrations_build_exactly_the_schema(store):
    store.migrate()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _not_backend_specific}
        )
        diff = compare_metadata(context, schema.metadata)
    assert diff == []
    assert store.revision() == migrate.head_revision()


def test_migrations_go_down_and_up(store, compendium):
    store.ingest(compendium)
    migrate.downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.ingest(compendium)
    assert _row_counts(store)["statements"] == 129


def test_lookup(store, compendium):
    store.ingest(compendium)
    sid = compendium.statements[-1].id
    statement, placements = store.statement(sid.lower())
    assert statement.id == sid
    assert placements == compendium.placements_of(sid)
    with pytest.raises(NotFound, match="no statement XIX-0000"):
        store.statement("XIX-0000")
    with pytest.raises(NotFound, match="not a statement id"):
        store.statement("'; drop table statements; --")
    assert store.meeting("XIX").year == 2014


def test_counts(store, compendium):
    store.ingest(compendium)
    counts = store.counts()
    assert counts["statements"] == 129
    assert counts["placements"] == 186
    assert counts["multi_theme_statements"] == 36
    assert counts["placements_with_note"] == 90
    assert [sum(s["placements"] for s in t["subthemes"]) for t in counts["themes"]] == [
        39,
        30,
        56,
        14,
        31,
        16,
    ]
    assert {m["meeting"]: m["statements"] for m in counts["meetings"]}["III"] == 0
    assert counts["categories"] == {"unassigned": 129}


def test_reading_an_empty_or_missing_database(tmp_path):
    missing = tmp_path / "none.db"
    with pytest.raises(StoreError, match="no database at"):
        Store(str(missing))
    assert not missing.exists()
    empty = Store(str(tmp_path / "empty.db"), create=True)
    with pytest.raises(StoreError, match="holds no compendium"):
        empty.load()


def test_database_urls(monkeypatch):
    monkeypatch.delenv("RCM_DATABASE_URL", raising=False)
    assert database_url() == "sqlite:///rcm.db"
    assert database_url("my.db") == "sqlite:///my.db"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("RCM_DATABASE_URL", "sqlite:///env.db")
    assert database_url() == "sqlite:///env.db"
    with pytest.raises(StoreError, match="unsupported database"):
        Store("mysql://root@localhost/test")


@pytest.mark.postgres
def test_unreachable_postgres_is_a_clear_error():
    s = Store("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="cannot open database"):
        s.load()


def test_extraordinary_meetings_fit(store, compendium):
    from rcm.export import compendium_document
    from rcm.ids import canonical_id
    from rcm.model import Meeting, MeetingKind

    managua = Meeting(
        "XIX-E1",
        19,
        "Extraordinary Meeting (Managua)",
        2014,
        MeetingKind.EXTRAORDINARY,
        place="Managua, Nicaragua",
    )
    template = compendium.statements[0]
    statement = replace(
        template, id=canonical_id("xix-e1-0042"), meeting="XIX-E1", text="A new one."
    )
    placement = replace(compendium.placements[0], statement_id=statement.id, position=99)
    extended = replace(
        compendium,
        meetings=[*compendium.meetings, managua],
        statements=[*compendium.statements, statement],
        placements=[*compendium.placements, placement],
    )
    store.ingest(extended)
    loaded = store.load()
    assert loaded.meeting("XIX-E1") == managua
    assert store.statement("XIX-E1-0042")[0].meeting == "XIX-E1"
    doc = compendium_document(loaded)
    exported = next(s for s in doc["statements"] if s["id"] == "XIX-E1-0042")
    assert (exported["meeting"], exported["meeting_kind"], exported["year"]) == (
        19,
        "extraordinary",
        2014,
    )
