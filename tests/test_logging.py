"""Logs cannot be forged or made binary by what a request sends: control, separator and format
characters are escaped in both formats (text and JSON), in the message, its arguments and the
extra fields, whoever logs them. Checked with real requests through the app."""

from __future__ import annotations

import json
import logging
import re
import sys
import unicodedata

import pytest
from fastapi.testclient import TestClient

from rcm import settings
from rcm.store import Store
from rcm.web import create_app

FORGED = "2026-11-30 00:00:00,000 INFO rcm.audit: round.close by sec FAKE"
PATHS = [
    "/x%0A" + FORGED.replace(" ", "%20"),  # a newline, then what looks like another log line
    "/nul%00byte",
    "/rtl%E2%80%AEtxt.exe",  # RIGHT-TO-LEFT OVERRIDE: shows as "/rtlexe.txt"
    "/sep%E2%80%A8line%0D%1B[31mred",  # LINE SEPARATOR, carriage return, an ANSI colour
    "/back%5Cx0a",  # a backslash typed as such stays distinguishable from an escape
]
DECODED = [
    "/x\n" + FORGED,
    "/nul\x00byte",
    "/rtl\u202etxt.exe",
    "/sep\u2028line\r\x1b[31mred",
    "/back\\x0a",
]
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ rcm[.\w]*: ")


@pytest.fixture
def logs(capsys, tmp_path):
    """Configure rcm's logging as `rcm serve` does, in the given format; return a function that
    makes the requests and gives back what was written to standard error."""
    store = Store(f"sqlite:///{tmp_path / 'rcm.db'}", create=True)
    logger = logging.getLogger("rcm")
    saved = (logger.level, list(logger.handlers), logger.propagate)

    def run(fmt: str) -> str:
        settings.configure_logging(settings.load({"RCM_LOG_FORMAT": fmt}))
        client = TestClient(create_app(store))
        for path in PATHS:
            assert client.get(path).status_code == 404
        other = logging.getLogger("rcm.test")
        other.warning("user said %s", "hi\nthere\u202e", extra={"fields": {"who": "a\x00\u2029b"}})
        try:
            raise ValueError("bad\n" + FORGED)
        except ValueError:
            other.exception("failed on %r", "x\x1by")
        sys.stderr.flush()
        return capsys.readouterr().err

    yield run
    level, handlers, propagate = saved
    for h in list(logger.handlers):
        logger.removeHandler(h)
    for h in handlers:
        logger.addHandler(h)
    logger.setLevel(level)
    logger.propagate = propagate
    store.close()


def test_text_logs_escape_what_requests_send(logs):
    out = logs("text")
    assert "\x00" not in out and "\r" not in out and "\u202e" not in out and "\u2028" not in out
    lines = out.splitlines()
    records = [line for line in lines if not line.startswith("  ")]
    # One line per record: 5 requests, the warning, the error; each starts as the formatter does.
    assert len(records) == len(PATHS) + 2, out
    assert all(TIME.match(line) for line in records), out
    assert not any(line.startswith(FORGED) for line in lines)
    requests = [line for line in records if " rcm.request: " in line]
    assert len(requests) == len(PATHS)
    assert requests[0].endswith("GET /x\\x0a" + FORGED + " 404")
    assert requests[1].endswith("GET /nul\\x00byte 404")
    assert requests[2].endswith("GET /rtl\\u202etxt.exe 404")
    assert requests[3].endswith("GET /sep\\u2028line\\x0d\\x1b[31mred 404")
    assert requests[4].endswith("GET /back\\\\x0a 404")
    assert any(line.endswith("rcm.test: user said hi\\x0athere\\u202e") for line in records)
    # A traceback follows its record on indented lines; its message is escaped too.
    failed = next(i for i, line in enumerate(lines) if "rcm.test: failed on 'x\\\\x1by'" in line)
    assert lines[failed + 1] == "  Traceback (most recent call last):"
    # (A traceback keeps its lines, each indented: a message's newline cannot start a record.)
    assert lines[-2:] == ["  ValueError: bad", "  " + FORGED]


def test_json_logs_escape_what_requests_send_and_read_back_unchanged(logs):
    out = logs("json")
    assert "\x00" not in out and "\u202e" not in out and "\u2028" not in out
    assert "\u2029" not in out
    lines = out.splitlines()
    assert len(lines) == len(PATHS) + 2, out
    records = [json.loads(line) for line in lines]
    requests = [r for r in records if r.get("event") == "request"]
    assert [r["path"] for r in requests] == DECODED  # escaped on the line, exact once parsed
    assert [r["message"] for r in requests] == [f"GET {p} 404" for p in DECODED]
    warning = next(r for r in records if r["logger"] == "rcm.test" and r["level"] == "warning")
    assert warning["message"] == "user said hi\nthere\u202e" and warning["who"] == "a\x00\u2029b"
    error = records[-1]
    assert error["message"] == "failed on 'x\\x1by'" and "ValueError: bad\n" in error["error"]
    assert '"path": "/rtl\\u202etxt.exe"' in out


def test_every_control_separator_and_format_character_is_escaped():
    """The escaped set is written out as ranges in rcm.settings: it must hold every character of
    Unicode's categories Cc, Cf, Zl, Zp and Cs known to this Python, and nothing printable."""
    printable = "plain text, ñ, 中文, emoji 🙂, a tab-free line"
    assert settings.escape_for_log(printable) == printable
    for n in range(sys.maxunicode + 1):
        c = chr(n)
        category = unicodedata.category(c)
        unsafe = category in ("Cc", "Cf", "Zl", "Zp", "Cs")
        escaped = settings.escape_for_log(c) != c
        # (Format characters of later Unicode versions are escaped already: unassigned here.)
        assert escaped == (unsafe or c == "\\") or category == "Cn", (hex(n), category)
        if unsafe:
            record = logging.LogRecord("rcm", logging.INFO, "", 0, "%s", (c,), None)
            line = settings.JsonFormatter().format(record)
            assert c not in line and json.loads(line)["message"] == c, hex(n)
