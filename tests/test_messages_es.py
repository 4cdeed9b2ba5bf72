"""Every message the core gives an error in English has a Spanish translation.

The messages are found by reading the source (``ast``), not from a list: each call of
:class:`rcm.errors.RcmError` or of one of its subclasses (found by their bases), and each
:class:`rcm.errors.Problem` and :class:`rcm.drafts.FieldProblem`, whose message is written out in
the call: a string, strings side by side, an f-string without placeholders, either branch of
``a if c else b``, or a module's constant (``NUL_MESSAGE``). The message is the key the command
line (``rcm.i18n``) and the web (``rcm.web.i18n``) look up; either catalogue may hold it.

An f-string with placeholders cannot be looked up (its key changes with its values): the message
becomes a template (``%(id)s``) with its values given by name. The modules already turned so are
held to it; the f-strings left elsewhere are counted, and their number may only go down.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from click.testing import CliRunner, Result

from rcm import review
from rcm.cli import cli
from rcm.suggest import label_compendium
from webclient import add_people, client_for, csrf_of

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "rcm"
CATALOGUES = (
    SRC / "locales" / "es" / "LC_MESSAGES" / "rcm.po",
    SRC / "web" / "locales" / "es" / "LC_MESSAGES" / "messages.po",
)

# Where the message is among the positional arguments, and its keyword, for the calls that are
# not ``SomeError(message, **values)``.
POSITION = {
    "Problem": (1, "message"),
    "FieldProblem": (2, "template"),
    "of": (1, "template"),  # Problem.of(line, template, **values)
    "_error": (1, "message"),  # rcm.parse.declaration's refusals: _error(name, message, line)
}
# Classes whose first argument is not a message: a document's name and its problems (their
# messages are found in the Problem calls), a list of FieldProblems.
NOT_A_MESSAGE = {"DocumentError", "FormProblems"}

# Modules whose errors are all templates: no f-string with placeholders is given to an error.
TEMPLATES_ONLY = (
    "audit.py",
    "backup.py",
    "drafts.py",
    "edit.py",
    "mail.py",
    "review.py",
    "settings.py",
    "store/__init__.py",
    "translate.py",
)
# The f-strings with placeholders given to errors elsewhere (the command line translates most of
# them by pattern, ``rcm.cli._ERRORS``; the web shows them in English): at most this many.
F_STRINGS_LEFT = 14


@dataclass(frozen=True)
class Found:
    where: str  # "review.py:638"
    call: str  # "ConflictError", "Problem"
    message: str | None  # None: an f-string with placeholders
    code: str


def _trees() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(SRC.rglob("*.py"))}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """RcmError and every class that derives from it, by name."""
    bases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {n for b in node.bases if (n := _name(b))}
    found = {"RcmError"}
    while True:
        more = {name for name, of in bases.items() if of & found} - found
        if not more:
            return found
        found |= more


def _constants(trees: dict[Path, ast.Module]) -> dict[str, str]:
    """Module-level ``NAME = "text"``: the messages kept in a constant."""
    out: dict[str, str] = {}
    for tree in trees.values():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign | ast.AnnAssign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id.isupper():
                        out[target.id] = node.value.value
    return out


def _messages(arg: ast.expr, constants: dict[str, str]) -> Iterator[str | None]:
    """The message(s) an argument is written as; None for an f-string with placeholders."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        yield arg.value
    elif isinstance(arg, ast.JoinedStr):
        if any(isinstance(v, ast.FormattedValue) for v in arg.values):
            yield None
        else:
            yield "".join(v.value for v in arg.values if isinstance(v, ast.Constant))
    elif isinstance(arg, ast.IfExp):
        yield from _messages(arg.body, constants)
        yield from _messages(arg.orelse, constants)
    elif isinstance(arg, ast.Name) and arg.id in constants:
        yield constants[arg.id]
    elif (
        isinstance(arg, ast.BinOp)
        and isinstance(arg.op, ast.Add)
        and any(isinstance(side, ast.Constant | ast.JoinedStr) for side in (arg.left, arg.right))
    ):
        yield None  # "text " + ", ".join(...): a message built by hand, like an f-string


@cache
def found_messages() -> list[Found]:
    trees = _trees()
    errors = _error_classes(trees)
    constants = _constants(trees)
    not_messages = {n for n in errors if n in NOT_A_MESSAGE} | {
        n
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and (n := node.name)
        and any(_name(b) in NOT_A_MESSAGE for b in node.bases)
    }
    out: list[Found] = []
    for path, tree in trees.items():
        # An error's own message: ``super().__init__(message)`` in the class of an error.
        inits = {
            id(node): cls.name
            for cls in ast.walk(tree)
            if isinstance(cls, ast.ClassDef) and cls.name in errors - not_messages
            for node in ast.walk(cls)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "__init__"
            and isinstance(node.func.value, ast.Call)
            and _name(node.func.value.func) == "super"
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = inits.get(id(node)) or _name(node.func)
            if name is None or name in not_messages:
                continue
            if name in errors:
                index, keyword = 0, "message"
            elif name in POSITION:
                index, keyword = POSITION[name]
            else:
                continue
            if len(node.args) > index:
                arg: ast.expr | None = node.args[index]
            else:
                arg = next((k.value for k in node.keywords if k.arg == keyword), None)
            if arg is None:
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            for message in _messages(arg, constants):
                out.append(Found(where, name, message, ast.unparse(arg)))
    return out


@cache
def _catalogue() -> dict[str, str]:
    """msgid: its Spanish, from both catalogues (no context, not fuzzy, translated)."""
    out: dict[str, str] = {}
    for po in CATALOGUES:
        with po.open("rb") as fh:
            for m in read_po(fh, locale="es"):
                if (
                    isinstance(m.id, str)
                    and m.id
                    and not m.context
                    and not m.fuzzy
                    and isinstance(m.string, str)
                    and m.string
                ):
                    out.setdefault(m.id, m.string)
    return out


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|\{(\w+)\}")


def _placeholders(text: str) -> list[str]:
    return sorted(a or b for a, b in _PLACEHOLDER.findall(text))


def test_the_scan_finds_the_messages() -> None:
    """The scan sees what it is meant to: errors, problems, constants, both branches."""
    found = found_messages()
    messages = {f.message for f in found}
    wheres = {f.where.split(":")[0] for f in found}
    assert len(found) > 200
    assert {"review.py", "settings.py", "backup.py", "edit.py", "translate.py"} <= wheres
    assert "the file is empty" in messages  # a Problem
    assert "no such file" in messages  # a declaration's refusal (rcm.parse.declaration._error)
    assert "no statement %(id)s" in messages or any(  # an error's template, or an f-string
        f.message is None and f.where.startswith("edit.py") for f in found
    )
    from rcm.store import NUL_MESSAGE

    assert NUL_MESSAGE in messages  # a module's constant


def test_every_message_has_its_spanish() -> None:
    catalogue = _catalogue()
    missing = sorted(
        {f"{f.where}: {f.message!r}" for f in found_messages() if f.message is not None}
        - {f"{f.where}: {f.message!r}" for f in found_messages() if f.message in catalogue}
    )
    assert not missing, f"{len(missing)} messages without Spanish:\n" + "\n".join(missing)


def test_the_spanish_keeps_the_placeholders() -> None:
    catalogue = _catalogue()
    wrong = sorted(
        {
            f"{f.where}: {f.message!r} -> {catalogue[f.message]!r}"
            for f in found_messages()
            if f.message in catalogue
            and _placeholders(f.message) != _placeholders(catalogue[f.message])
        }
    )
    assert not wrong, "\n".join(wrong)


def _f_strings() -> list[Found]:
    """The f-strings with placeholders given to errors. A problem's (Problem, FieldProblem) is
    not one: the command line translates those by pattern (``rcm.cli._PROBLEMS``)."""
    return [f for f in found_messages() if f.message is None and f.call not in POSITION]


def test_f_strings_left_elsewhere() -> None:
    left = [
        f"{f.where}: {f.call}({f.code})"
        for f in _f_strings()
        if not f.where.startswith(TEMPLATES_ONLY)
    ]
    assert len(left) <= F_STRINGS_LEFT, "\n".join(left)


@pytest.mark.parametrize("module", TEMPLATES_ONLY)
def test_errors_are_templates(module: str) -> None:
    """No f-string with placeholders is given to an error in these modules: a template."""
    here = [
        f"{f.where}: {f.call}({f.code})" for f in _f_strings() if f.where.startswith(module + ":")
    ]
    assert not here, f"{len(here)} f-strings given to errors in {module}:\n" + "\n".join(here)


# --- the errors said in Spanish, end to end: the command line (--lang es, LANG=es_*) and the web
# (?lang=es) ---

DECLARATIONS = ROOT / "tests" / "data" / "declarations"


def _rcm(db: str, *args: str, env: dict[str, str] | None = None) -> Result:
    environment = {"LANG": "C", "LC_ALL": "", "LC_MESSAGES": "", "LANGUAGE": ""} | (env or {})
    return CliRunner().invoke(cli, ["--db", db, *args], env=environment, catch_exceptions=False)


def test_the_command_line_says_conflicts_and_refusals_in_spanish(tmp_path):
    db = str(tmp_path / "rcm.db")
    assert _rcm(db, "ingest").exit_code == 0
    spanish = str(DECLARATIONS / "xxii_rcm_es.txt")
    added = _rcm(db, "declaration", "add", spanish, "--meeting", "XXII", "--year", "2017")
    assert added.exit_code == 0, added.output
    assert _rcm(db, "review", "accept", "1").exit_code == 0

    # a decision taken twice: the status and the sentence in Spanish
    r = _rcm(db, "--lang", "es", "review", "accept", "1")
    assert r.exit_code == 5
    assert "la propuesta 1 ya fue aceptada por " in r.output, r.output
    assert "una decisión se toma una sola vez" in r.output and "already" not in r.output
    r = _rcm(db, "review", "reject", "1", "--reason", "x", env={"LANG": "es_MX.UTF-8"})
    assert r.exit_code == 5 and "la propuesta 1 ya fue aceptada por " in r.output, r.output
    r = _rcm(db, "review", "accept", "1")  # the English is as it was
    assert "proposal 1 was already accepted by " in r.output, r.output
    assert "a decision is taken once" in r.output

    # a meeting the compendium already has
    english = str(DECLARATIONS / "xxii_rcm_en.txt")
    r = _rcm(
        db, "--lang", "es", "declaration", "add", english, "--meeting", "XXI", "--year", "2016"
    )
    assert r.exit_code == 5
    assert "la XXI CRM ya existe en el compendio: se añade una sola declaración por reunión" in (
        r.output
    ), r.output

    # the consultation's errors: a statement outside the round, a closed round, a long reason
    assert _rcm(db, "round", "open", "TS4", "--theme", "TS4", "--no-mail").exit_code == 0
    r = _rcm(db, "--lang", "es", "opinion", "set", "1", "MEX", "I-3529", "valid")
    assert "la disposición I-3529 no está en la ronda 1" in r.output, r.output
    long = "x" * 5001
    r = _rcm(db, "--lang", "es", "opinion", "set", "1", "MEX", "I-6681", "abstain",
             "--comment", long)  # fmt: skip
    assert "el comentario tiene 5,001 caracteres; como máximo 5,000" in r.output, r.output
    assert _rcm(db, "round", "close", "1").exit_code == 0
    r = _rcm(db, "--lang", "es", "opinion", "set", "1", "MEX", "I-6681", "valid")
    assert r.exit_code == 5 and "la ronda 1 está cerrada: es de solo lectura" in r.output
    r = _rcm(db, "opinion", "set", "1", "MEX", "I-6681", "valid")  # the English as it was
    assert "round 1 is closed: it is read-only" in r.output, r.output

    # a restore into a database that holds something: refused, in Spanish
    backup = str(tmp_path / "rcm.backup")
    assert _rcm(db, "backup", "-o", backup).exit_code == 0
    r = _rcm(db, "--lang", "es", "restore", backup)
    assert r.exit_code == 5
    assert "rcm: error: la base de datos sqlite:///" in r.output, r.output
    assert "rcm.db no está vacía (tiene filas en statements (" in r.output, r.output
    assert "restaure solo en una base de datos nueva; no se escribió nada" in r.output


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"RCM_ENV": "staging"}, "RCM_ENV debe ser `development` o `production`, no 'staging'"),
        (
            {"RCM_CACHE_MAX_AGE": "forever"},
            "RCM_CACHE_MAX_AGE debe ser un número de segundos (de 0 a 31536000), no 'forever'",
        ),
        (
            {"RCM_ENV": "production", "RCM_SECRET_KEY": "q3JX9vTz0bL7sWc2Rk8NfY1hGm5PdA4uE6yKiO"},
            "RCM_ALLOWED_HOSTS es obligatorio en producción",
        ),
        (
            {"RCM_ENV": "production", "RCM_SECRET_KEY": "secret" * 6},
            "RCM_SECRET_KEY es un fragmento corto repetido: use un valor aleatorio largo (p. ej., "
            'python -c "import secrets; print(secrets.token_urlsafe(48))")',
        ),
        ({"RCM_LOG_LEVEL": "loud"}, "RCM_LOG_LEVEL debe ser `debug`, `info`, `warning` o `error`"),
    ],
)
def test_rcm_serve_says_a_bad_setting_in_spanish(tmp_path, monkeypatch, env, said):
    from rcm import settings

    for name in ("RCM_ENV", "RCM_SECRET_KEY", "RCM_ALLOWED_HOSTS", "RCM_CACHE_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    settings.current.cache_clear()
    try:
        db = str(tmp_path / "rcm.db")
        r = _rcm(db, "--lang", "es", "serve", "--port", "8917", env=env)
        assert r.exit_code == 1 and said in r.output, r.output
        r = _rcm(db, "serve", "--port", "8917", env={**env, "LANG": "es_ES.UTF-8"})
        assert r.exit_code == 1 and said in r.output, r.output
    finally:
        settings.current.cache_clear()


@pytest.fixture
def site(store, compendium):
    store.ingest(label_compendium(compendium))
    return store, add_people(store, "sec")


def test_the_web_says_review_conflicts_in_spanish(site):
    store, passwords = site
    c = client_for(store, passwords, "sec", next="/review")
    token = csrf_of(c, "/review")
    english = DECLARATIONS / "xxii_rcm_en.txt"
    form = {"csrf": token, "meeting": "XXII", "year": "2017"}
    files = {"file": (english.name, english.read_bytes(), "text/plain")}
    assert c.post("/review/declarations", data=form, files=files).status_code == 303
    first = review.proposals(store, declaration_id=1)[0]
    reject = {"csrf": token, "reason": "not operative"}
    assert c.post(f"/review/{first.id}/reject", data=reject).status_code == 303

    r = c.post(f"/review/{first.id}/reject?lang=es", data=reject)
    assert r.status_code == 409
    alert = BeautifulSoup(r.text, "html.parser").select_one(".error[role=alert]")
    text = " ".join((alert or BeautifulSoup(r.text, "html.parser")).get_text().split())
    assert f"la propuesta {first.id} ya fue rechazada por sec el " in text, text
    assert "una decisión se toma una sola vez" in text and "already" not in text
    r = c.post(f"/review/{first.id}/reject?lang=en", data=reject)
    assert r.status_code == 409 and "already rejected" in r.text  # the English is as it was

    assert c.post(f"/review/{first.id}/reopen", data=reject).status_code == 303
    r = c.post(f"/review/{first.id}/reopen?lang=es", data=reject)
    assert r.status_code == 409
    text = " ".join(BeautifulSoup(r.text, "html.parser").get_text().split())
    assert (
        f"la propuesta {first.id} está pendiente: solo una propuesta rechazada vuelve a la cola"
        in (text)
    ), text

    # the same file again; a meeting the compendium already has
    r = c.post("/review/declarations?lang=es", data=form, files=files)
    assert r.status_code == 409
    text = " ".join(BeautifulSoup(r.text, "html.parser").get_text().split())
    assert "xxii_rcm_en.txt ya se añadió como declaración 1 (XXII CRM)" in text, text
    spanish = DECLARATIONS / "xxii_rcm_es.txt"
    again = {**form, "meeting": "XXI", "year": "2016"}
    files = {"file": (spanish.name, spanish.read_bytes(), "text/plain")}
    r = c.post("/review/declarations?lang=es", data=again, files=files)
    assert r.status_code == 409
    text = " ".join(BeautifulSoup(r.text, "html.parser").get_text().split())
    assert "la XXI CRM ya existe en el compendio: se añade una sola declaración por reunión" in (
        text
    ), text
