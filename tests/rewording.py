"""Rewording a statement in tests, until ``rcm.edit.reword`` (branch wt-edit) is merged: in one
transaction, the statement's text, normal form and version, and a new ``statement_versions`` row
(``rcm.store.version_row``). The lead switches the tests to ``rcm.edit.reword`` after merging."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from rcm.parse.text import normal_form
from rcm.store import Store, version_row
from rcm.store import schema as t


def reword(store: Store, statement_id: str, text: str, actor: str = "test") -> int:
    """Give ``statement_id`` the wording ``text``; returns the new version."""
    with store.transaction() as conn:
        row = conn.execute(
            select(t.statements.c.version, t.statements.c.heading).where(
                t.statements.c.id == statement_id
            )
        ).one()
        items = conn.scalar(
            select(t.statement_versions.c["items"]).where(
                t.statement_versions.c.statement_id == statement_id,
                t.statement_versions.c.version == row.version,
            )
        )
        version = row.version + 1
        conn.execute(
            update(t.statements)
            .where(t.statements.c.id == statement_id)
            .values(text=text, normal_form=normal_form(text), version=version)
        )
        conn.execute(
            t.statement_versions.insert().values(
                **version_row(
                    statement_id,
                    version,
                    text,
                    row.heading,
                    json.loads(items) if items else (),
                    actor=actor,
                    origin="test rewording",
                )
            )
        )
    return version
