"""Alembic environment: always run through rcm.store.migrate, which passes the connection in."""

from alembic import context

from rcm.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit(
        "run migrations with `rcm migrate` (rcm.store.migrate), not the alembic command"
    )
context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
