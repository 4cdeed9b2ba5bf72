"""PostgreSQL ranks with GIN unless the deployment asks for RUM (``RCM_PG_RANKING=rum``): rum
1.3.13 crashed the server in its index scans at 1M statements under concurrent searches. A database
that migration 0010 put on RUM goes back to GIN (its RUM index dropped) unless RUM is asked for.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from rcm.store.search_index import choose_ranking

        choose_ranking(bind)


def downgrade() -> None:
    pass  # the ranking stays as it is: both are valid at 0016
