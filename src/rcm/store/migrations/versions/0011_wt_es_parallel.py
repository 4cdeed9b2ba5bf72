"""parallel texts: a statement's wording in its other language waits for review in
``translations``; ``statements.text_en`` holds the English wording of a statement added from a
Spanish declaration

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("statements", sa.Column("text_en", sa.Text(), nullable=True))
    op.create_table(
        "translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(length=32), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.Column("likeness", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_translations_declaration_id_declarations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_translations_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_translations_statement_id_statements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translations")),
    )
    with op.batch_alter_table("translations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_translations_statement_id"), ["statement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_translations_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("translations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translations_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_translations_statement_id"))
    op.drop_table("translations")
    op.drop_column("statements", "text_en")
