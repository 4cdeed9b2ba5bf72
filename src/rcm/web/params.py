"""Numbers read from an address (path or query), bounded to what the database can hold, so that an
id no row can have is "not found" rather than a database error: ``PathInt`` for every integer path
parameter, ``query_int`` for integer query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# PostgreSQL's INTEGER, the narrower of the two backends' id columns (SQLite's holds 64 bits): no
# round, proposal, theme or objective can have a number beyond it.
MAX_INT = 2**31 - 1

PathInt = Annotated[int, Path(ge=0, le=MAX_INT)]
"""An integer path parameter; out of range (or not a number) is a 404, see ``create_app``."""


def query_int(raw: str | None) -> int | None:
    """A query parameter as a whole number within the database's range, or None: ASCII digits
    only (``"²".isdigit()`` is true, ``int("²")`` fails)."""
    if not raw or len(raw) > 10 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_INT else None
