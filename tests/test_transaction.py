"""Store.transaction, the one write transaction of the core: committed at the end of the block,
rolled back when it raises, a database out of reach one clear DatabaseFailure."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from rcm.store import DatabaseFailure, Store
from rcm.store import schema as t


def _countries(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(t.countries)) or 0


def test_commit_and_rollback(store):
    store.migrate()
    row = {"iso3": "ZZZ", "iso2": "ZZ", "name_en": "Z", "name_es": "Z", "member": False}
    with pytest.raises(RuntimeError), store.transaction(immediate=True) as conn:
        conn.execute(insert(t.countries).values(**row))
        raise RuntimeError("half-way")
    assert _countries(store) == 0
    with store.transaction() as conn:
        conn.execute(insert(t.countries).values(**row))
    assert _countries(store) == 1


def test_a_database_out_of_reach_is_a_database_failure(tmp_path):
    store = Store("postgresql://nobody@127.0.0.1:9/none")
    with pytest.raises(DatabaseFailure, match="nothing was written"), store.transaction():
        pass
    store.close()
