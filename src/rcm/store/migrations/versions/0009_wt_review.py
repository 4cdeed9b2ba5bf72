"""where a proposal of the review queue comes from: the declaration's operative part (NULL), one
of its preamble or closing paragraphs promoted by a reviewer ("preamble 3", "closing 1"), or a
statement added by hand ("hand")

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("proposals", sa.Column("origin", sa.String(length=24), nullable=True))


def downgrade() -> None:
    op.drop_column("proposals", "origin")
