"""PostgreSQL ranking inside the index: where the ``rum`` extension can be created (Debian's
``postgresql-15-rum``), a RUM index on the search tsvector, so that the top hits come ordered out
of the index (``tsv <=> q``) instead of ranking every match; ``index_state.ranking`` records the
choice ("rum" or "gin"; NULL on SQLite, which ranks with FTS5's bm25).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("index_state", sa.Column("ranking", sa.String(length=8), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from rcm.store.search_index import choose_ranking

        choose_ranking(bind)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_statement_search_rum")
    op.drop_column("index_state", "ranking")
