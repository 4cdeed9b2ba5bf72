"""the living compendium: statement versions and retirement, provenance of meetings, opinions tied
to the wording they answered, declarations that can be withdrawn and replaced

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_declarations_meeting_code", type_="unique")
        batch_op.create_index(
            batch_op.f("ix_declarations_meeting_code"), ["meeting_code"], unique=False
        )
        batch_op.add_column(sa.Column("reference", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("state", sa.String(length=12), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("replaced_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    # Plain columns, no foreign keys: rebuilding ``meetings`` on SQLite would have to drop a table
    # that every statement refers to. The store writes them; ``rcm check`` does not need them.
    op.add_column("meetings", sa.Column("source_id", sa.Integer(), nullable=True))
    op.add_column("meetings", sa.Column("declaration_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retired_by", sa.String(length=100), nullable=True))
    with op.batch_alter_table("opinions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statement_version", sa.Integer(), nullable=True))
    with op.batch_alter_table("opinion_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statement_version", sa.Integer(), nullable=True))
    versions = op.create_table(
        "statement_versions",
        sa.Column("statement_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_statement_versions_statement_id_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("statement_id", "version", name=op.f("pk_statement_versions")),
    )
    # Every stored statement's wording becomes its version 1; the meetings of the compilation name
    # the file they came from, the meetings added from declarations their declaration.
    bind = op.get_bind()
    items: dict[str, list[str]] = {}
    for sid, text in bind.execute(
        sa.text("SELECT statement_id, text FROM statement_items ORDER BY statement_id, position")
    ):
        items.setdefault(sid, []).append(text)
    now = datetime.now(UTC)
    rows = [
        {
            "statement_id": r.id,
            "version": 1,
            "text": r.text,
            "heading": r.heading,
            "items": json.dumps(items.get(r.id, []), ensure_ascii=False),
            "at": now,
            "actor": "migration 0008",
            "origin": "as stored before versions were kept",
        }
        for r in bind.execute(sa.text("SELECT id, text, heading FROM statements"))
    ]
    if rows:
        op.bulk_insert(versions, rows)
    op.execute(
        "UPDATE meetings SET source_id = (SELECT MIN(s.source_id) FROM statements s "
        "WHERE s.meeting = meetings.code)"
    )
    op.execute(
        "UPDATE meetings SET declaration_id = (SELECT MIN(d.id) FROM declarations d "
        "WHERE d.meeting_code = meetings.code)"
    )


def downgrade() -> None:
    op.drop_table("statement_versions")
    with op.batch_alter_table("opinion_history", schema=None) as batch_op:
        batch_op.drop_column("statement_version")
    with op.batch_alter_table("opinions", schema=None) as batch_op:
        batch_op.drop_column("statement_version")
    # Not in batch: rebuilding ``statements`` on SQLite trips over the search index's triggers; both
    # backends drop a plain column in place.
    for column in ("retired_by", "retired_at", "version"):
        op.drop_column("statements", column)
    for column in ("declaration_id", "source_id"):
        op.drop_column("meetings", column)
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("replaced_by")
        batch_op.drop_column("state")
        batch_op.drop_column("reference")
        batch_op.drop_index(batch_op.f("ix_declarations_meeting_code"))
        batch_op.create_unique_constraint("uq_declarations_meeting_code", ["meeting_code"])
