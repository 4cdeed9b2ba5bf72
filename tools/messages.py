"""List the interface messages to translate (templates and Python), and check or update the Spanish
catalog: `.venv/bin/python tools/messages.py [--check]`. Used by tests/test_web_i18n.py."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_python
from jinja2.ext import babel_extract

WEB = Path(__file__).resolve().parents[1] / "src" / "rcm" / "web"
KEYWORDS = ("_", "gettext", "ngettext")


def messages() -> list[str | tuple[str, str]]:
    found: dict[object, None] = {}
    for path in sorted((WEB / "templates").glob("*.html")):
        with path.open("rb") as fh:
            for _, _func, message, _ in babel_extract(
                fh, KEYWORDS, [], {"extensions": "jinja2.ext.i18n"}
            ):
                found[tuple(message) if isinstance(message, tuple) else message] = None
    for path in sorted(WEB.glob("*.py")):
        with path.open("rb") as fh:
            for _, _func, message, _ in extract_python(
                fh, {"gettext": None, "ngettext": (1, 2)}, [], {}
            ):
                found[tuple(message) if isinstance(message, tuple) else message] = None
    out: list[str | tuple[str, str]] = []
    for m in found:
        parts = [x for x in (m if isinstance(m, tuple) else (m,)) if x]
        if parts:
            out.append(parts[0] if len(parts) == 1 else (parts[0], parts[1]))
    return out


if __name__ == "__main__":
    for m in messages():
        print(repr(m))
    sys.exit(0)
