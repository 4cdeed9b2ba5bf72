"""declarations.reading: the declaration as the reader took it, every paragraph with its line
number and the part it was read as (JSON), to check against the paper on the review page

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for a declaration added before the reading was kept: its file is not stored, so the
    # reading cannot be made again; the page says so.
    op.add_column("declarations", sa.Column("reading", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.drop_column("reading")
