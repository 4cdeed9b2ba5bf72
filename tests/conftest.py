"""Fixtures: the real compilation as the canonical corpus, and real databases (SQLite files and,
when RCM_TEST_POSTGRES_URL is set, a fresh PostgreSQL database per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from rcm.model import Compendium
from rcm.parse import read_compilation, shipped_compilation
from rcm.store import Store, database_url
from rcm.suggest import label_compendium

PG_ENV = "RCM_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _detect_default_postgres() -> None:
    """A new user's `make test` tests PostgreSQL too when a server answers at the default address
    (PG_DEFAULT): RCM_TEST_POSTGRES_URL is set to it for this run. Set RCM_TEST_POSTGRES_URL=off
    to skip the PostgreSQL tests on purpose."""
    if os.environ.get(PG_ENV) is not None:
        return
    import psycopg

    try:
        psycopg.connect(PG_DEFAULT, connect_timeout=2).close()
    except psycopg.Error:
        return
    os.environ[PG_ENV] = PG_DEFAULT


_detect_default_postgres()

# Cheap argon2 parameters for the many users the tests create (tests/test_users.py checks the
# production defaults separately).
os.environ.setdefault("RCM_FAST_PASSWORD_HASHING", "1")


@pytest.fixture(scope="session")
def compendium() -> Compendium:
    return read_compilation()


@pytest.fixture(scope="session")
def compilation_text() -> str:
    return shipped_compilation().decode("utf-8")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'rcm.db'}"


def _pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url or url.lower() == "off":
        if os.environ.get("RCM_REQUIRE_POSTGRES"):
            pytest.fail(f"{PG_ENV} is not set but RCM_REQUIRE_POSTGRES is: CI must test PostgreSQL")
        pytest.skip(
            f"PostgreSQL tests skipped: set {PG_ENV} (e.g. "
            "postgresql://postgres@127.0.0.1:5432/test) to run them"
        )
    return database_url(url)


@contextmanager
def _fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    admin = _pg_admin_url()
    name = f"rcm_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is down or refuses: say so plainly
        engine.dispose()
        if os.environ.get("RCM_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL at {admin} unusable: {exc}")
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with _fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(db_url) -> Iterator[Store]:
    s = Store(db_url, create=True)
    yield s
    s.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def loaded_store(request, tmp_path_factory) -> Iterator[Store]:
    """The real compilation ingested once per test module, on SQLite and on PostgreSQL. Tests
    using it must not write. Labelled as `rcm ingest` labels it (curated categories, GCM links)."""
    compendium = label_compendium(read_compilation())
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'rcm.db'}", create=True)
        store.ingest(compendium)
        yield store
        store.close()
        return
    with _fresh_postgres_database() as url:
        store = Store(url, create=True)
        store.ingest(compendium)
        yield store
        store.close()


# Hypothesis: a quick profile for `make test`, a long one for `HYPOTHESIS_PROFILE=fuzz`.
from hypothesis import settings  # noqa: E402

settings.register_profile("default", max_examples=300, deadline=None, print_blob=True)
settings.register_profile("fuzz", max_examples=10000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
