"""The command line in Spanish: every command of the groups a focal point or the Secretariat uses
day to day (round, opinion, declaration, review), and their errors, with ``rcm --lang es`` and with
``LANG=es_ES.UTF-8``, on a small database, may print no English interface text.

How English is recognised (``english_words``), as tests/test_web_spanish.py does for the pages:
the words of the CLI catalog's English messages and of every string literal of ``rcm.cli``, less
every word that is also Spanish (it occurs in a Spanish message of either catalog or in a Spanish
label of the taxonomy) and a few names. Data aside: the declaration is the Spanish one
(tests/data/declarations/xxii_rcm_es.txt), the round's title and the proposed wording are Spanish;
what the output quotes of the commands themselves (``rcm review list --declaration 1``), file
paths, account names and the suggester's evidence (the stems of its model) are removed first."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from rcm import taxonomy
from rcm.cli import cli

DATA = Path(__file__).parent / "data" / "declarations"
CLI_SOURCE = Path(__file__).parents[1] / "src" / "rcm" / "cli.py"

# The same in both languages, or names and codes: never evidence of English.
NEUTRAL = {
    "csv", "json", "pdf", "docx", "xlsx", "txt", "utc", "id", "ok", "email", "url", "rcm", "crm",
    "pmm", "gcm", "error", "cli", "unknown", "sqlite", "postgresql", "macro", "micro",
}  # fmt: skip
ROMAN = re.compile(r"^[ivxlc]+$")
_CODE = re.compile(r"`[^`]*`|--[\w-]+|\b[A-Z]+(?:_[A-Z]+)+\b")  # `rcm migrate`, --round, RCM_ENV


def _words(text: str) -> set[str]:
    text = re.sub(r"\{\w*\}|%\(\w+\)[sd]", " ", text)
    return {
        w.lower()
        for w in re.findall(r"[^\W\d_]+", text)
        if len(w) >= 3 and not ROMAN.match(w.lower())
    }


def _catalog(resource: str) -> list[tuple[str, str]]:
    with files("rcm").joinpath(resource).open("rb") as fh:
        cat = read_po(fh, locale="es")
    out = []
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strs = m.string if isinstance(m.string, tuple) else (m.string,)
        out += [(i, s) for i in ids for s in strs]
    return out


@cache
def english_words() -> frozenset[str]:
    english: set[str] = set()
    spanish: set[str] = set()
    for resource in ("locales/es/LC_MESSAGES/rcm.po", "web/locales/es/LC_MESSAGES/messages.po"):
        for msgid, msgstr in _catalog(resource):
            if resource.startswith("locales"):
                english |= _words(msgid)
            if msgstr and msgstr != msgid:  # its options and commands are no Spanish words
                spanish |= _words(_CODE.sub(" ", msgstr))
    # every literal of the command line: a message left out of the catalog shows up here
    for literal in re.findall(r'"([^"\n]{4,})"', CLI_SOURCE.read_text(encoding="utf-8")):
        if " " in literal:
            english |= _words(literal)
    spanish |= _words((DATA / "xxii_rcm_es.txt").read_text(encoding="utf-8"))  # the data's
    for iso3 in (c.iso3 for c in taxonomy.countries()):
        spanish |= _words(taxonomy.country_name(iso3, "es"))
    spanish |= {w for label in taxonomy.labels("es").values() for w in _words(label.text)}
    codes = {c.iso3.lower() for c in taxonomy.countries()}
    return frozenset(english - spanish - NEUTRAL - codes)


@cache
def spanish_words() -> frozenset[str]:
    """Words only Spanish messages use: an output with none of them was not translated."""
    spanish = {w for _, msgstr in _catalog("locales/es/LC_MESSAGES/rcm.po") for w in _words(msgstr)}
    return frozenset(spanish - english_words() - NEUTRAL)


_DATA_ASIDE = [
    re.compile(r"`?\brcm(?: [a-z][\w-]*)+(?: --?[\w-]+(?: [A-Z0-9.]+)?)*`?"),  # a command quoted
    re.compile(r"--[\w-]+(?: [A-Z]\b)?"),  # an option
    re.compile(r"\S+\.(?:txt|docx|xlsx)\b"),  # a file
    re.compile(r"\bcli:\S+"),  # the operator's account
    re.compile(r"'[^'\n]*'"),  # a document's own words, quoted
    re.compile(r"(palabras que más pesaron:).*"),  # the suggester's stems
    re.compile(r"(PMM +\d+ [\d.]+ .*?) +\[[^\]]*\]$", re.M),  # an objective's evidence
]


def english_in(output: str) -> set[str]:
    for pattern in _DATA_ASIDE:
        output = pattern.sub(lambda m: m.group(1) if m.re.groups else " ", output)
    return _words(output) & english_words()


@pytest.fixture(scope="module")
def rcm(tmp_path_factory):
    """`rcm(*args, env=...)` on one small database: the compilation, the Spanish XXII declaration
    with a few proposals decided, a round with an answer."""
    folder = tmp_path_factory.mktemp("cli_es")
    db = str(folder / "rcm.db")
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        environment = {"LANG": "C", "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""} | (env or {})
        return runner.invoke(cli, ["--db", db, *args], env=environment, catch_exceptions=False)

    assert invoke("ingest").exit_code == 0
    invoke.folder = folder  # type: ignore[attr-defined]
    return invoke


# The commands in the order they build on each other: (arguments, expected exit code). The
# `--lang es` run is the first of each; read-only commands are run again with LANG alone.
SCENARIO: list[tuple[tuple[str, ...], int]] = [
    (("declaration", "add", str(DATA / "xxii_rcm_es.txt"), "--meeting", "XXII", "--year",
      "2017"), 0),
    (("declaration", "list"), 0),
    (("review", "list"), 0),
    (("review", "show", "1"), 0),
    (("review", "accept", "1"), 0),
    (("review", "reject", "2", "--reason", "no corresponde"), 0),
    (("review", "reject", "2", "--reason", "otra vez"), 5),
    (("review", "reopen", "2", "--reason", "revisar de nuevo"), 0),
    (("review", "split", "3", "--sentence", "2"), None),
    (("review", "merge", "3"), 0),
    (("review", "add", "--declaration", "1", "--text", "Promover la cooperación regional."), 0),
    (("review", "promote", "--declaration", "1", "--preamble", "2"), 0),
    (("review", "show", "--declaration", "1"), 0),
    (("review", "show", "1"), 0),
    (("review", "translations"), 0),
    (("review", "accept", "999"), None),
    (("declaration", "add-version", str(DATA / "xxii_rcm_en.txt"), "--declaration", "1",
      "--lang", "en", "--dry-run"), None),
    (("round", "open", "Consulta de prueba", "--no-mail", "--meeting", "XX..XXI"), 0),
    (("round", "list"), 0),
    (("opinion", "set", "1", "MEX", "{first}", "valid with changes", "--wording",
      "Nueva redacción propuesta."), 0),
    (("round", "status", "1"), 0),
    (("round", "position", "1"), 0),
    (("round", "questionnaire", "1", "--country", "CRI", "-o", "{folder}/cri.xlsx"), 0),
    (("round", "import", "1", "{folder}/cri.xlsx"), 0),
    (("round", "close", "1"), 0),
    (("round", "close", "1"), None),
    (("opinion", "set", "1", "MEX", "{first}", "valid"), None),
    (("round", "reopen", "1"), 0),
    (("round", "status", "99"), None),
    (("declaration", "withdraw", "1", "--reason", "archivo equivocado"), 0),
    (("declaration", "list"), 0),
    (("declaration", "withdraw", "99", "--reason", "no existe"), None),
]  # fmt: skip
READ_ONLY = {("declaration", "list"), ("review", "list"), ("review", "show"), ("round", "list"),
             ("round", "status"), ("round", "position"), ("review", "translations")}  # fmt: skip


def _first_statement(rcm) -> str:
    out = rcm("round", "status", "1", "--json").output
    return re.search(r'"id": "([^"]+-\d+)"', out).group(1)  # type: ignore[union-attr]


def test_every_command_speaks_spanish(rcm):
    failures: list[str] = []
    first = ""
    for args, expected in SCENARIO:
        if "{first}" in args and not first:
            first = _first_statement(rcm)
        args = tuple(a.format(first=first, folder=rcm.folder) for a in args)
        runs = [("--lang es", rcm("--lang", "es", *args))]
        if args[:2] in READ_ONLY:
            runs.append(("LANG=es_ES.UTF-8", rcm(*args, env={"LANG": "es_ES.UTF-8"})))
        for how, result in runs:
            out = result.output + (result.stderr if result.stderr_bytes is not None else "")
            if expected is not None:
                assert result.exit_code == expected, (args, out)
            elif result.exit_code == 0:  # an error case must be an error
                failures.append(f"{how} rcm {' '.join(args)}: succeeded\n{out}")
            if "Traceback" in out or "internal error" in out:
                failures.append(f"{how} rcm {' '.join(args)}: crashed\n{out}")
            left = english_in(out)
            if left:
                failures.append(f"{how} rcm {' '.join(args)}: English {sorted(left)}\n{out}")
            elif not _words(out) & spanish_words():
                failures.append(f"{how} rcm {' '.join(args)}: nothing Spanish\n{out}")
    assert not failures, "\n\n".join(failures)


def test_the_same_commands_in_english_are_caught(rcm):
    """The detector works: without --lang and with LANG=C the same outputs are English."""
    for args in (("review", "list"), ("declaration", "list"), ("review", "show", "4")):
        out = rcm(*args).output
        assert english_in(out), (args, out)
    error = rcm("round", "status", "99")
    assert error.exit_code != 0 and english_in(error.output + error.stderr)


# --- the other commands: ingest, migrate, check, export, serve, users, mail, suggest evaluate,
# gcm coverage, audit, backup and restore ----------------------------------------------------------

# Also data there: an audit event (its time, actor, action, object and values), a table of a backup
# and its row count, an e-mail address, a file or database path.
_OTHER_DATA = [
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ .*$", re.M),
    re.compile(r"^  [a-z_]+ +[\d,]+$", re.M),
    re.compile(r"\S+@\S+"),
    re.compile(r"\S*/\S+"),
    re.compile(r"\b[a-z]+(?:-[a-z]+)+\b"),  # a kind of finding of `rcm check` (as in its JSON)
    re.compile(r"\b[a-z]+-\d+\b"),  # a source document's key: compilation-1
    re.compile(r"\b[A-Z]+(?:_[A-Z0-9]+)+\b"),  # a setting: RCM_SMTP_HOST
    re.compile(r"\b[a-z_]+ \([\d,]+\)"),  # a table and its rows: statements (129)
    re.compile(r"\w+…"),  # a word cut short in a column
]


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    """`other(*args, env=...)` on a database of its own, created by the first command (ingest)."""
    folder = tmp_path_factory.mktemp("cli_es_other")
    db = str(folder / "rcm.db")
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        environment = {"LANG": "C", "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""} | (env or {})
        return runner.invoke(cli, ["--db", db, *args], env=environment, catch_exceptions=False)

    invoke.folder = folder  # type: ignore[attr-defined]
    return invoke


OTHER_SCENARIO: list[tuple[tuple[str, ...], int | None]] = [
    (("ingest",), 0),
    (("ingest", "--dry-run"), 0),
    (("export", "--format", "docx", "--lang", "en", "-o", "{folder}/c.docx"), 0),
    (("ingest", "{folder}/c.docx", "--dry-run"), 0),
    (("ingest", "{folder}/missing.txt"), None),
    (("migrate",), 0),
    (("stats",), 0),
    (("check",), 0),
    (("export", "--format", "csv", "-o", "{folder}/c.csv"), 0),
    (("export", "--country", "MEX"), None),
    (("export", "--format", "json", "--lang", "es"), None),
    (("export", "--format", "csv", "-o", "{folder}"), None),
    (("users", "add", "ana", "--role", "secretariat", "--name", "Ana"), 0),
    (("users", "add", "pepe", "--role", "focal_point", "--country", "MEX"), 0),
    (("users", "add", "pepe2", "--role", "focal_point"), None),
    (("users", "add", "juan", "--role", "observer", "--as", "pepe"), None),
    (("users", "add", "juan", "--role", "observer", "--as", "nadie"), None),
    (("users", "email", "pepe", "no-es-correo"), None),
    (("users", "email", "pepe", ""), 0),
    (("users", "set", "pepe", "--lang", "es"), 0),
    (("users", "disable", "pepe"), 0),
    (("users", "list"), 0),
    (("users", "enable", "pepe"), 0),
    (("users", "enable", "pepe"), 0),
    (("users", "unlock", "pepe"), 0),
    (("users", "reset-password", "pepe"), 0),
    (("users", "disable", "nadie"), None),
    (("round", "open", "Consulta de prueba", "--no-mail", "--meeting", "XX..XXI"), 0),
    (("mail", "log"), 0),
    (("mail", "retry"), 0),
    (("suggest", "evaluate"), 0),
    (("gcm", "coverage"), 0),
    (("audit", "--limit", "5"), 0),
    (("audit", "--limit", "0"), None),
    (("backup", "-o", "{folder}/rcm.backup"), 0),
    (("restore", "{folder}/rcm.backup"), None),
    (("--db", "{folder}/copy.db", "restore", "{folder}/rcm.backup"), 0),
    (("--db", "{folder}/bad.db", "restore", "{folder}/c.csv"), None),
    (("--db", "{folder}/bad.db", "restore", "{folder}/missing.backup"), None),
    (("serve", "--port", "8917"), 0),
]  # fmt: skip
OTHER_READ_ONLY = {("migrate",), ("stats",), ("check",), ("users", "list"), ("mail", "log"),
                   ("gcm", "coverage"), ("audit", "--limit")}  # fmt: skip


def _english_left(output: str) -> set[str]:
    # a source's title, as `rcm stats` lists it after its key, count and kind
    output = re.sub(r"(?m)^  [a-z]+-\d+ +\d+  ([^:\n]+:) .*$", r"\1", output)
    for pattern in _OTHER_DATA:
        output = pattern.sub(" ", output)
    return english_in(output)


def test_the_other_commands_speak_spanish(other, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)  # serve: its first line
    failures: list[str] = []
    for args, expected in OTHER_SCENARIO:
        args = tuple(a.format(folder=other.folder) for a in args)
        runs = [("--lang es", other("--lang", "es", *args))]
        if args[:2] in OTHER_READ_ONLY or args[:1] in OTHER_READ_ONLY:
            runs.append(("LANG=es_ES.UTF-8", other(*args, env={"LANG": "es_ES.UTF-8"})))
        for how, result in runs:
            out = result.output + (result.stderr if result.stderr_bytes is not None else "")
            if expected is not None:
                assert result.exit_code == expected, (args, out)
            elif result.exit_code == 0:
                failures.append(f"{how} rcm {' '.join(args)}: succeeded\n{out}")
            if "Traceback" in out or "internal error" in out:
                failures.append(f"{how} rcm {' '.join(args)}: crashed\n{out}")
            left = _english_left(out)
            if left:
                failures.append(f"{how} rcm {' '.join(args)}: English {sorted(left)}\n{out}")
            elif not _words(out) & spanish_words():
                failures.append(f"{how} rcm {' '.join(args)}: nothing Spanish\n{out}")
    assert not failures, "\n\n".join(failures)


def test_the_other_commands_in_english_are_caught_and_unchanged(other):
    """Without --lang the same commands still print their English (and the detector sees it)."""
    for args in (("check",), ("gcm", "coverage"), ("migrate",), ("users", "list")):
        out = other(*args).output
        assert _english_left(out), (args, out)
    assert other("migrate").output.startswith("schema ")
    error = other("users", "disable", "nadie")
    assert error.exit_code != 0 and "no user 'nadie'" in error.stderr


def test_the_change_report_lines_in_spanish():
    """Each kind of change `rcm ingest` reports (rcm.edit.Change.describe) in Spanish, and the
    English line unchanged."""
    from rcm.edit import KINDS, Change

    where = [{"theme": 2, "subtheme": 1}]
    values = {
        "added": (None, {"text": "Promover la cooperación."}),
        "reworded": ({"version": 1}, {"version": 2, "text": "Promover la cooperación."}),
        "recategorised": ("principle", None),
        "re-placed": (where, []),
        "retired": ({"placements": where}, None),
        "unretired": (None, {"placements": where}),
        "objectives": ([1], [1, 23]),
    }
    assert set(values) == set(KINDS)
    for kind, (before, after) in values.items():
        change = Change(kind, "XIX-0001", before, after)
        spanish = change.describe("es")
        assert spanish != change.describe(), kind
        assert not english_in(spanish) and _words(spanish) & spanish_words(), spanish
    english = Change("re-placed", "XIX-0001", where, []).describe()
    assert english == "re-placed    XIX-0001: 2.1 -> none"
