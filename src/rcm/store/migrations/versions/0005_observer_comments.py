"""observer comments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observer_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_observer_comments_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_observer_comments_statement_id_statements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observer_comments")),
    )
    with op.batch_alter_table("observer_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observer_comments_round_id"), ["round_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("observer_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observer_comments_round_id"))
    op.drop_table("observer_comments")
