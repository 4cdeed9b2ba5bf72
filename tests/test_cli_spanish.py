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

import gettext
import os
import re
from functools import cache
from importlib.resources import files
from pathlib import Path

import click
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
    text = re.sub(r"\{\w*(?:![rsa])?\}|%\(\w+\)[sd]", " ", text)  # {n}, {name!r}, %(prog)s
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
def known_spanish() -> frozenset[str]:
    """Every word a Spanish output may hold: the Spanish messages of either catalog (less what
    they quote as code), the data's Spanish, country names and the taxonomy's Spanish labels."""
    spanish: set[str] = set()
    for resource in ("locales/es/LC_MESSAGES/rcm.po", "web/locales/es/LC_MESSAGES/messages.po"):
        for msgid, msgstr in _catalog(resource):
            if msgstr and msgstr != msgid:  # its options and commands are no Spanish words
                spanish |= _words(_CODE.sub(" ", msgstr))
    spanish |= _words((DATA / "xxii_rcm_es.txt").read_text(encoding="utf-8"))  # the data's
    for iso3 in (c.iso3 for c in taxonomy.countries()):
        spanish |= _words(taxonomy.country_name(iso3, "es"))
    spanish |= {w for label in taxonomy.labels("es").values() for w in _words(label.text)}
    return frozenset(spanish)


@cache
def english_words() -> frozenset[str]:
    english: set[str] = set()
    for msgid, _ in _catalog("locales/es/LC_MESSAGES/rcm.po"):
        english |= _words(msgid)
    # every literal of the command line: a message left out of the catalog shows up here
    for literal in re.findall(r'"([^"\n]{4,})"', CLI_SOURCE.read_text(encoding="utf-8")):
        if " " in literal:
            english |= _words(literal)
    codes = {c.iso3.lower() for c in taxonomy.countries()}
    return frozenset(english - known_spanish() - NEUTRAL - codes)


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
    # errors of the review queue's commands, said in Spanish too
    (("review", "accept", "4", "--category", "foo"), None),
    (("review", "accept", "4", "--place", "x"), None),
    (("review", "accept", "4", "--place", "9.9"), None),
    (("review", "accept", "4", "--objective", "40"), None),
    (("review", "promote", "--declaration", "1", "--preamble", "99"), None),
    (("review", "promote", "--declaration", "1", "--preamble", "2"), None),
    (("review", "split", "4"), None),
    (("declaration", "add", str(DATA / "xxii_rcm_es.txt"), "--meeting", "XXII", "--year",
      "2017"), None),
    (("declaration", "add", str(DATA / "xxii_rcm_es.txt"), "--meeting", "bad", "--year",
      "2017"), None),
    (("declaration", "add-version", str(DATA / "xxii_rcm_en.txt"), "--declaration", "1",
      "--lang", "en", "--dry-run"), None),
    (("round", "open", "Consulta de prueba", "--no-mail", "--meeting", "XX..XXI"), 0),
    (("round", "list"), 0),
    (("round", "open", "Otra consulta", "--deadline", "mañana", "--no-mail"), None),
    (("opinion", "set", "1", "MEX", "{first}", "quizás"), None),
    (("round", "questionnaire", "1", "--country", "ZZZ", "-o", "{folder}/zzz.xlsx"), None),
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
_ADDRESS = re.compile(r"\S+@\S+")
_PATH = re.compile(r"\S*/\S+")
_SETTING = re.compile(r"\b[A-Z]+(?:_[A-Z0-9]+)+\b")  # RCM_SMTP_HOST
_OTHER_DATA = [
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ .*$", re.M),
    re.compile(r"^  [a-z_]+ +[\d,]+$", re.M),
    _ADDRESS,
    _PATH,
    re.compile(r"\b[a-z]+-\d+\b"),  # a source document's key: compilation-1
    _SETTING,
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
    (("users", "set", "pepe", "--lang", "xx"), None),
    (("migrate", "--ranking", "rum"), None),
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
    # on its own too (another worker may hold the scenario's database): a compendium, an account
    assert other("ingest").exit_code == 0
    other("users", "add", "zoe", "--role", "observer")  # already there after a first run: refused
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


# --- --help and Click's own messages -------------------------------------------------------------

HELP_DEFAULT = re.compile(r"\b((?:predeterminado|default):\s+)[\w.]+(?=[;\]])")  # a value: json


def _run(*args: str, env: dict[str, str] | None = None):
    environment = {"LANG": "C", "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""} | (env or {})
    return CliRunner().invoke(
        cli, list(args), env=environment, catch_exceptions=False, prog_name="rcm"
    )


def _commands(command: click.Command = cli, path: tuple[str, ...] = ()):
    """Every command and sub-command, as the rcm group lists them (the path to each)."""
    yield path
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _commands(sub, (*path, name))


def _help_words(output: str, names: set[str]) -> set[str]:
    """The words of a --help: less the names of commands, the values of the choices and the
    defaults, and what english_in sets aside (options, quoted commands, files)."""
    output = re.sub(r"\[[\w.|-]+\|[\w.|-]+\]", " ", output)  # [json|csv|…]: values
    output = HELP_DEFAULT.sub(r"\1", output)
    for pattern in (_ADDRESS, _PATH, _SETTING, _CODE):
        output = pattern.sub(" ", output)
    output = re.sub(r"(?m)^  (?:[a-z][\w-]*) {2,}", " ", output)  # a command in the list
    for pattern in _DATA_ASIDE:
        output = pattern.sub(lambda m: m.group(1) if m.re.groups else " ", output)
    return _words(output) - names


@cache
def _names() -> frozenset[str]:
    return frozenset(word for path in _commands() for name in path for word in _words(name))


def test_every_help_speaks_spanish():
    """`--help` of the rcm group and of every command and sub-command it has (found from the group,
    not listed here), with `rcm --lang es` and with LANG=es_ES.UTF-8, holds no word of its English
    help that no Spanish message has, and Spanish words."""
    paths = list(_commands())
    assert len(paths) > 60 and ("review", "accept-translation") in paths
    english = {path: _run(*path, "--help").output for path in paths}
    reference = set().union(*(_help_words(out, _names()) for out in english.values()))
    codes = {c.iso3.lower() for c in taxonomy.countries()}  # --country CRI
    reference = (reference - known_spanish() - NEUTRAL - codes) | english_words()
    failures = []
    for path in paths:
        runs = [("--lang es", _run("--lang", "es", *path, "--help"))]
        runs.append(("LANG=es_ES.UTF-8", _run(*path, "--help", env={"LANG": "es_ES.UTF-8"})))
        for how, result in runs:
            out = result.output
            assert result.exit_code == 0, (how, path, out)
            left = _help_words(out, _names()) & reference
            if left:
                failures.append(f"{how} rcm {' '.join(path)} --help: English {sorted(left)}\n{out}")
            elif not out.startswith("Uso: rcm") or "Opciones:" not in out:
                failures.append(f"{how} rcm {' '.join(path)} --help: Click's words\n{out}")
            elif not _words(out) & spanish_words():
                failures.append(f"{how} rcm {' '.join(path)} --help: nothing Spanish\n{out}")
    assert not failures, "\n\n".join(failures)


def test_every_help_in_english_stays_english():
    """Without --lang, under LANG=C, every --help is Click's and rcm's English, also after a Spanish
    one (Click makes the --help option once per command), and the detector sees it as English."""
    _run("--lang", "es", "round", "open", "--help")
    for path in _commands():
        out = _run(*path, "--help").output
        assert out.startswith("Usage: rcm") and "Options:" in out, (path, out)
        assert "Show this message and exit." in out and "Uso:" not in out, (path, out)
        assert not _words(out) & {"opciones", "muestra", "predeterminado"}, (path, out)
    out = _run("stats", "--help").output
    assert "Counts: statements, placements per theme and sub-theme" in out
    assert "Print the figures as JSON." in out
    assert _help_words(out, _names()) & english_words() >= {"print", "figures", "counts"}


# Click's usage errors: the command line and the words the Spanish error must hold.
USAGE_ERRORS = [
    (("search", "--bogus"), "Error: No existe la opción '--bogus'."),
    (("--bogus",), "Error: No existe la opción '--bogus'."),
    (("round", "status"), "Error: Falta el argumento 'RONDA'."),
    (("round", "report", "1"), "Error: Falta la opción '-o' / '--output'."),
    (("export", "--format", "bogus"), "Valor no válido para '--format': 'bogus' no es uno de"),
    (("users", "add", "ana", "--role", "boss"), "Valor no válido para '--role': 'boss' no es uno"),
    (("round", "status", "x"), "Error: Valor no válido para 'RONDA': 'x' no es un número válido."),
    (("related", "--limit", "0", "X"), "'--limit': 0 no está en el intervalo 1<=x<=50."),
    (("migrate", "xyz"), "Error: Sobra un argumento inesperado (xyz)"),
    (("bogus",), "Error: No existe el comando 'bogus'."),
    (("round", "bogus"), "Error: No existe el comando 'bogus'."),
    (("search", "--sort"), "Error: La opción '--sort' requiere un argumento."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS]
)
def test_click_usage_errors_in_spanish(args, expected):
    runs = [("--lang es", _run("--lang", "es", *args))]
    runs.append(("LANG=es_ES.UTF-8", _run(*args, env={"LANG": "es_ES.UTF-8"})))
    for how, result in runs:
        out = result.output + result.stderr
        assert result.exit_code == 2, (how, out)
        assert expected in out, (how, out)
        assert "Usage:" not in out and "Try 'rcm" not in out, (how, out)
        if "requiere un argumento" not in expected:  # Click gives that one without the usage
            assert out.startswith("Uso: rcm") and "Pruebe 'rcm" in out, (how, out)
        left = _words(re.sub(r"'[^']*'", " ", out)) & english_words() - _names()
        assert not left, (how, sorted(left), out)


def test_click_usage_errors_in_english():
    result = _run("search", "--bogus")
    assert result.exit_code == 2
    assert result.stderr == (
        "Usage: rcm search [OPTIONS] [QUERY]...\nTry 'rcm search --help' for help.\n\n"
        "Error: No such option '--bogus'.\n"
    )
    out = _run("round", "status").stderr
    assert "Usage: rcm round status [OPTIONS] ROUND" in out
    assert "Error: Missing argument 'ROUND'." in out
    assert "is not one of 'json', 'csv'" in _run("export", "--format", "bogus").stderr
    assert _run("--version").output.startswith("rcm, version ")
    assert _run("--lang", "es", "--version").output.startswith("rcm, versión ")
    # rcm's --lang anywhere before the command; a command's own --lang is its document's
    assert _run("--help", "--lang", "es").output.startswith("Uso: rcm [OPCIONES] COMANDO")
    assert "Error: No existe la opción '--bogus'." in _run("--bogus", "--lang=es").stderr
    assert "Error: No such option '--bogus'." in _run("export", "--lang", "es", "--bogus").stderr


def _runner_keeping_language(args: list[str], env: dict[str, str]):
    """A run whose runner does not set or put back LANGUAGE itself."""
    return CliRunner().invoke(cli, args, env=env, prog_name="rcm")


def test_the_language_is_put_back_after_a_command():
    """A Spanish command changes neither the process's LANGUAGE nor gettext's domain for what
    runs after it."""
    before = os.environ.get("LANGUAGE"), gettext.textdomain()
    result = _runner_keeping_language(["--lang", "es", "round", "--help"], {"LANG": "C"})
    assert "Uso: rcm round" in result.output
    assert (os.environ.get("LANGUAGE"), gettext.textdomain()) == before
    result = _runner_keeping_language(["round", "--help"], {"LANG": "es_ES.UTF-8"})
    assert "Uso: rcm round" in result.output
    assert (os.environ.get("LANGUAGE"), gettext.textdomain()) == before


# What the walk above does not run, said in Spanish: the search's sentence and notes, related's,
# show's source line, the suggester's rule and features, check's kinds; and the same in English.
SAID = [
    (("search", "migrantes", "--theme", "TS3", "--limit", "1"),
     ["el texto coincide con 'migrantes' y el tema es TS3", "(también se buscó en español: "],
     ["text matches 'migrantes' and theme is TS3", "(also searched in Spanish: "]),
    (("related", "XIX-0021", "--limit", "1"),
     ["disposiciones parecidas a XIX-0021", "(raíces comparadas: "],
     ["statements like XIX-0021", "(compared on: "]),
    (("show", "XIX-0021"),
     ["de: compilación: ", " [archivo rcm_compilation_1996_2016.txt, sha256 "],
     ["from: compilation: ", " [file rcm_compilation_1996_2016.txt, sha256 "]),
    (("suggest", "text", "Promover la cooperación regional en migración laboral."),
     ["(empieza con un infinitivo (plan de acción))", "[cláusulas: Compromiso]"],
     ["(infinitive opening (plan of action))", "[clauses: commitment]"]),
    (("check",),
     ["\nnota-menciona-tema-no-clasificado (", "\nclasificada-sin-nota ("],
     ["\nnote-names-unplaced-theme (", "\nplaced-without-note ("]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "spanish", "english"), SAID, ids=[a[0] for a, _, _ in SAID])
def test_what_the_other_commands_say_in_spanish(rcm, args, spanish, english):
    for result in (rcm("--lang", "es", *args), rcm(*args, env={"LANG": "es_ES.UTF-8"})):
        assert result.exit_code == 0, result.output
        for said in spanish:
            assert said in result.output, (said, result.output)
        for said in english:
            assert said not in result.output, (said, result.output)
    result = rcm(*args)
    for said in english:
        assert said in result.output, (said, result.output)
    if args == ("check",):
        from rcm.check import KINDS

        assert not any(f"\n{kind} (" in rcm("--lang", "es", *args).output for kind in KINDS)


# --- a declaration refused, in the reader's language ----------------------------------------------

OWN = Path(__file__).parent / "data" / "declarations" / "own"


@pytest.mark.parametrize(
    ("name", "spanish", "english"),
    [
        ("otro_organismo_es.txt", "es una declaración de otro organismo", "of another body"),
        ("news_en.txt", "se lee como una noticia", "reads as a news article"),
        ("plantilla_es.txt", "es una plantilla vacía", "is an empty template"),
    ],
)
def test_a_refused_declaration_is_explained_in_spanish(tmp_path, name, spanish, english):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert _run("--db", db, "ingest").exit_code == 0
    add = ("--db", db, "declaration", "add", str(OWN / name), "--meeting", "XXX", "--year", "2030")
    es = _run("--lang", "es", *add)
    assert es.exit_code == 4 and spanish in es.output and english not in es.output
    assert "se esperaba" in es.output  # says what was expected
    en = _run(*add)
    assert en.exit_code == 4 and english in en.output and "expected" in en.output


def test_a_file_of_another_kind_is_refused_in_spanish_with_its_advice(tmp_path):
    pdf = tmp_path / "declaracion.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert _run("--db", db, "ingest").exit_code == 0
    add = ("--db", db, "declaration", "add", str(pdf), "--meeting", "XXX", "--year", "2030")
    es = _run("--lang", "es", *add)
    assert "tipo de archivo no admitido «.pdf»" in es.output
    assert "copie su texto en un archivo .txt" in es.output  # the advice, translated
    assert "unsupported" not in _run("--lang", "es", *add).output
    assert "unsupported file type “.pdf”" in _run(*add).output
