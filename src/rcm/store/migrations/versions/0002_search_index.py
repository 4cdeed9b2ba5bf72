"""search index: facet_combos, statement_search (+ FTS5 on SQLite, tsvector + GIN on PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE statement_fts USING fts5(
        body, content='statement_search', content_rowid='docid',
        tokenize='unicode61 remove_diacritics 0', prefix='3')""",
    "CREATE VIRTUAL TABLE statement_fts_vocab USING fts5vocab(statement_fts, 'row')",
    """CREATE TRIGGER statement_search_ai AFTER INSERT ON statement_search BEGIN
        INSERT INTO statement_fts(rowid, body) VALUES (new.docid, new.body);
    END""",
    """CREATE TRIGGER statement_search_ad AFTER DELETE ON statement_search BEGIN
        INSERT INTO statement_fts(statement_fts, rowid, body)
            VALUES ('delete', old.docid, old.body);
    END""",
    """CREATE TRIGGER statement_search_au AFTER UPDATE ON statement_search BEGIN
        INSERT INTO statement_fts(statement_fts, rowid, body)
            VALUES ('delete', old.docid, old.body);
        INSERT INTO statement_fts(rowid, body) VALUES (new.docid, new.body);
    END""",
]

POSTGRES_TSV = [
    """ALTER TABLE statement_search ADD COLUMN tsv tsvector
        GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, body)) STORED""",
    "CREATE INDEX ix_statement_search_tsv ON statement_search USING GIN (tsv)",
]


def upgrade() -> None:
    op.create_table(
        "facet_combos",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("meeting", sa.Integer(), nullable=False),
        sa.Column("meeting_code", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("themes", sa.BigInteger(), nullable=False),
        sa.Column("subthemes", sa.BigInteger(), nullable=False),
        sa.Column("xrefs", sa.BigInteger(), nullable=False),
        sa.Column("n_themes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facet_combos")),
    )
    op.create_table(
        "statement_search",
        sa.Column(
            "docid",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("statement_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_statement_search_statement_id_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("docid", name=op.f("pk_statement_search")),
        sa.UniqueConstraint("statement_id", name=op.f("uq_statement_search_statement_id")),
    )
    op.create_table(
        "index_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_state")),
    )
    op.execute("INSERT INTO index_state (id, generation) VALUES (1, 0)")
    dialect = op.get_bind().dialect.name
    for ddl in SQLITE_FTS if dialect == "sqlite" else POSTGRES_TSV:
        op.execute(ddl)
    # Index what earlier versions stored.
    from rcm.store.search_index import refresh

    # The statements' retirement columns come with migration 0008.
    refresh(op.get_bind(), retirement=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("statement_search_ai", "statement_search_ad", "statement_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS statement_fts_vocab")
        op.execute("DROP TABLE IF EXISTS statement_fts")
    op.drop_table("statement_search")
    op.drop_table("facet_combos")
    op.drop_table("index_state")
