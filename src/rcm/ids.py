"""Stable, citable statement ids: ``<meeting>-<4 digits>``, e.g. ``XIX-0427``.

The digits come from a hash of the statement's normal form (see ``rcm.parse.text.normal_form``), so
ingesting the same document twice, in any order, into any database gives the same ids, and an id
does not move when rows are added or reordered. The meeting prefix makes a citation readable
("RCM statement XIX-0427"). Two statements of one meeting whose digits collide both take a longer
id (8 then 12 digits), decided by the hash alone, so the outcome does not depend on document order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_ID = re.compile(r"^(?P<meeting>[IVXLC]+(?:-E\d+)?)-(?P<digits>\d{4}(?:\d{4}){0,2})$")
_LENGTHS = (4, 8, 12)


def _digits(normal_form: str, length: int) -> str:
    value = int.from_bytes(hashlib.sha256(normal_form.encode("utf-8")).digest()[:16], "big")
    return f"{value % 10**length:0{length}d}"


def assign_ids(
    keys: Iterable[tuple[str, str]], taken: Iterable[str] = ()
) -> dict[tuple[str, str], str]:
    """Ids for (meeting code, normal form) keys; ``taken`` are ids already in use elsewhere."""
    result: dict[tuple[str, str], str] = {}
    pending = list(dict.fromkeys(keys))
    used = set(taken)
    for length in _LENGTHS:
        candidates: dict[str, list[tuple[str, str]]] = {}
        for key in pending:
            candidates.setdefault(f"{key[0]}-{_digits(key[1], length)}", []).append(key)
        pending = []
        for sid, owners in candidates.items():
            if len(owners) == 1 and sid not in used:
                result[owners[0]] = sid
                used.add(sid)
            else:
                pending.extend(owners)
        if not pending:
            return result
    raise ValueError(f"cannot give distinct ids to identical statements: {pending}")


def canonical_id(text: str) -> str:
    """An id as users type it ("xix-0427", " XIX-0427 ") in its canonical form, or ValueError."""
    candidate = text.strip().upper()
    if not _ID.match(candidate):
        raise ValueError(f"{text!r} is not a statement id such as XIX-0427")
    return candidate
