"""Copy a synthetic SQLite compendium (``bench/synthetic.py``) into a fresh PostgreSQL database with
PostgreSQL's bulk path: the schema by ``rcm``'s own migrations, every table by ``COPY … FROM STDIN``
(psycopg), the full-text index dropped during the copy and rebuilt once afterwards (the usual
bulk-load recipe), then ``ANALYZE``. For benchmarks only: the supported way to move a database is
``rcm backup`` / ``rcm restore``.

    .venv/bin/python bench/pg_load.py bench/data/synthetic-100k.db \
        postgresql://postgres@127.0.0.1:5432/rcm_bench_100k [--rum]

The target database is dropped and created anew. ``--rum`` also builds the RUM index (Debian's
``postgresql-15-rum``) that ``rcm.search`` uses for ranking inside the index where it exists, and
records the choice (``index_state.ranking``, as migration 0010 does); without it, GIN is recorded.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from rcm.store import Store, schema


def recreate(url: str) -> None:
    parsed = make_url(url)
    name = parsed.database
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def load(sqlite_path: Path, url: str, *, rum: bool = False) -> dict[str, float]:
    started = time.perf_counter()
    recreate(url)
    store = Store(url, create=True)
    store.migrate()
    store.close()
    migrated = time.perf_counter()
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as pg:
        tables = [tb for tb in schema.metadata.sorted_tables if tb.name != "alembic_version"]
        pg.execute(
            "TRUNCATE " + ", ".join(f'"{tb.name}"' for tb in tables) + " RESTART IDENTITY CASCADE"
        )
        pg.execute("DROP INDEX IF EXISTS ix_statement_search_tsv")
        pg.execute("DROP INDEX IF EXISTS ix_statement_search_rum")
        for tb in tables:
            cols = [c.name for c in tb.columns]
            have = {r[1] for r in src.execute(f'PRAGMA table_info("{tb.name}")')}
            cols = [c for c in cols if c in have]
            bools = {i for i, c in enumerate(cols) if str(tb.c[c].type) == "BOOLEAN"}
            names = ", ".join(f'"{c}"' for c in cols)
            with pg.cursor().copy(f'COPY "{tb.name}" ({names}) FROM STDIN') as copy:
                for row in src.execute(f'SELECT {names} FROM "{tb.name}"'):
                    if bools:
                        row = tuple(
                            (bool(v) if v is not None else None) if i in bools else v
                            for i, v in enumerate(row)
                        )
                    copy.write_row(row)
        copied = time.perf_counter()
        pg.execute("SET maintenance_work_mem = '512MB'")
        pg.execute("CREATE INDEX ix_statement_search_tsv ON statement_search USING GIN (tsv)")
        if rum:
            pg.execute("CREATE EXTENSION IF NOT EXISTS rum")
            pg.execute(
                "CREATE INDEX ix_statement_search_rum ON statement_search "
                "USING rum (tsv rum_tsvector_ops)"
            )
        pg.execute(
            "UPDATE index_state SET ranking = %s, generation = generation + 1",
            ("rum" if rum else "gin",),
        )
        pg.commit()
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE")
    done = time.perf_counter()
    return {
        "migrate_s": round(migrated - started, 1),
        "copy_s": round(copied - migrated, 1),
        "index_s": round(done - copied, 1),
        "total_s": round(done - started, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sqlite", type=Path)
    ap.add_argument("url")
    ap.add_argument("--rum", action="store_true")
    args = ap.parse_args()
    times = load(args.sqlite, args.url, rum=args.rum)
    print(f"loaded {args.sqlite} into {make_url(args.url).database}: {times}", file=sys.stderr)


if __name__ == "__main__":
    main()
