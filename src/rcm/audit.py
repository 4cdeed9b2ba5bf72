"""The audit trail: every change to a consultation, the review queue or an account, who made it
and when, with what it was before and after. Written in the same transaction as the change (so a
change and its record land together or not at all) and logged; read back newest first."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from rcm.errors import RcmError
from rcm.store import Store
from rcm.store import schema as t

__all__ = ["AUDIT_LOG", "AuditEvent", "AuditPage", "audit_trail", "record_audit"]

AUDIT_LOG = logging.getLogger("rcm.audit")
MAX_LIMIT = 1000


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str
    object: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "object": self.object,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int  # events matching the filters
    offset: int
    limit: int


def record_audit(
    conn: Connection, actor: str, action: str, obj: str, before: Any, after: Any
) -> None:
    """One change in the audit trail (in the writing transaction) and in the log."""
    AUDIT_LOG.info(
        "%s %s by %s",
        action,
        obj,
        actor,
        extra={"fields": {"event": "audit", "action": action, "object": obj, "actor": actor}},
    )
    conn.execute(
        insert(t.audit_events).values(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            object=obj,
            before=None if before is None else json.dumps(before, default=str, ensure_ascii=False),
            after=None if after is None else json.dumps(after, default=str, ensure_ascii=False),
        )
    )


def _json(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:  # written by hand or by an older version: show it as it is
        return value


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def audit_trail(
    store: Store,
    *,
    action: str | None = None,
    actor: str | None = None,
    obj: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AuditPage:
    """Events newest first. `action` is an action ("user.add") or its kind ("user"), `actor` a
    name (exactly), `obj` words the object contains ("round 3", "XIX-0021")."""
    if not 1 <= limit <= MAX_LIMIT:
        raise RcmError("limit must be between 1 and %(max)s", max=MAX_LIMIT)
    if offset < 0:
        raise RcmError("offset must not be negative")
    conditions = []
    if action:
        if "." in action:
            conditions.append(t.audit_events.c.action == action)
        else:
            conditions.append(t.audit_events.c.action.like(f"{action}.%"))
    if actor:
        conditions.append(t.audit_events.c.actor == actor)
    if obj:
        conditions.append(t.audit_events.c.object.like(_like(obj), escape="\\"))
    with store.connection() as conn:
        total = conn.scalar(select(func.count()).select_from(t.audit_events).where(*conditions))
        rows = conn.execute(
            select(t.audit_events)
            .where(*conditions)
            .order_by(t.audit_events.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    events = [
        AuditEvent(
            r.id,
            r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC),
            r.actor,
            r.action,
            r.object,
            _json(r.before),
            _json(r.after),
        )
        for r in rows
    ]
    return AuditPage(events, int(total or 0), offset, limit)
