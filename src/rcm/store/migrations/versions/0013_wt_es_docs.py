"""the language a person reads the compendium's documents in: their questionnaire's by default
("en" or "es")

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("lang", sa.String(length=5), nullable=False, server_default="en")
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("lang")
