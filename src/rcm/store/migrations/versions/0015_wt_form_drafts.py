"""answer_drafts: a country's answers on the web form, kept row by row until it submits them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_drafts",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("statement_id", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=20), nullable=True),
        sa.Column("proposed_wording", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("opinion_version", sa.Integer(), nullable=False),
        sa.Column("statement_version", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["country"], ["countries.iso3"], name=op.f("fk_answer_drafts_country_countries")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_answer_drafts_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_answer_drafts_statement_id_statements"),
        ),
        sa.PrimaryKeyConstraint(
            "round_id", "country", "statement_id", name=op.f("pk_answer_drafts")
        ),
    )


def downgrade() -> None:
    op.drop_table("answer_drafts")
