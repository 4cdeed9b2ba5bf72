"""The ``rcm`` command: each command parses its options, calls one core function, and turns
domain errors into one clear line and a non-zero exit (never a traceback)."""

from __future__ import annotations

import contextlib
import copy
import gettext
import inspect
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rcm import gcm, review
from rcm.check import KINDS, check_compendium
from rcm.cite import citation, document_line, document_said, meeting_line, sources_report
from rcm.errors import DocumentError, Problem, RcmError
from rcm.export import registry
from rcm.i18n import Words, check_lang, global_gettext, lang_from_env, speak, words
from rcm.model import CategorySource, SourceDocument
from rcm.parse import read_compilation, read_declaration
from rcm.parse.declaration import at_a_glance
from rcm.search import (
    SORTS,
    SearchParams,
    SearchResult,
    describe_in,
    make_filters,
    related,
    search,
)
from rcm.serialize import statement_dict
from rcm.store import Store
from rcm.suggest import label_compendium

if TYPE_CHECKING:
    from rcm.consult import Actor

_F = TypeVar("_F", bound=Callable[..., Any])

INTERNAL_ERROR = 70


# --- the help in the messages' language -------------------------------------------------------
# Click's own words ("Usage:", "Options", "Error: No such option …") come through gettext, pointed
# at rcm's catalogue for the length of a command (Rcm.main, rcm.i18n.global_gettext). rcm's own help
# texts are translated as they are printed: a command's help and epilog paragraph by paragraph, an
# option's help whole, a metavar's words (FILE, NAME; "TS5" and "en|es" are codes, left as they
# are) by the catalogue's "metavar" context.

_METAVAR_WORD = re.compile(r"\b[A-Z][A-Z_]*[A-Z]\b")


def _help_in(text: str | None, w: Words) -> str | None:
    """A help text in the messages' language: each paragraph by the catalogue, its lines joined
    (Click wraps them again); a paragraph Click prints as it is ("\\b") keeps its lines."""
    if not text or not w.spanish:
        return text
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b\n"):
            paragraphs.append("\b\n" + w(paragraph[2:]))
        else:
            paragraphs.append(w(" ".join(paragraph.split("\n"))))
    return "\n\n".join(paragraphs)


def _metavar_in(metavar: str, w: Words) -> str:
    """A metavar in the messages' language: whole ("COMMAND [ARGS]..."), else word by word
    ("[FILE]" -> "[ARCHIVO]"); codes stay."""
    if not w.spanish:
        return metavar
    whole = w.ctx("metavar", metavar)
    if whole != metavar:
        return whole
    return _METAVAR_WORD.sub(lambda m: w.ctx("metavar", m[0]), metavar)


class Option(click.Option):
    """An option whose help and metavar are said in the messages' language."""

    def make_metavar(self, ctx: click.Context) -> str:
        return _metavar_in(super().make_metavar(ctx), _words(ctx))

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        said = copy.copy(self)
        said.help = _help_in(self.help, _words(ctx))
        return super(Option, said).get_help_record(ctx)


class Argument(click.Argument):
    def make_metavar(self, ctx: click.Context) -> str:
        return _metavar_in(super().make_metavar(ctx), _words(ctx))


def option(*decls: str, **attrs: Any) -> Callable[[_F], _F]:
    """``click.option`` with :class:`Option`."""
    return click.option(*decls, cls=Option, **attrs)


def argument(*decls: str, **attrs: Any) -> Callable[[_F], _F]:
    return click.argument(*decls, cls=Argument, **attrs)


class Command(click.Command):
    """A command whose help, short help, epilog and usage line are said in the messages'
    language."""

    def _said(self, w: Words) -> Command:
        if not w.spanish:
            return self
        said = copy.copy(self)
        said.help = _help_in(self.help, w)
        said.short_help = _help_in(self.short_help, w)
        said.epilog = _help_in(self.epilog, w)
        return said

    def get_short_help_str(self, limit: int = 45) -> str:
        return super(Command, self._said(_current_words())).get_short_help_str(limit)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super(Command, self._said(_words(ctx))).format_help_text(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super(Command, self._said(_words(ctx))).format_epilog(ctx, formatter)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        w = _words(ctx)
        return [_metavar_in(piece, w) for piece in super().collect_usage_pieces(ctx)]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        # Click makes the --help option once per command, its help said (gettext) in the language
        # of that moment: it is said again in the language of this one.
        help_option = super().get_help_option(ctx)
        if help_option is not None:
            help_option.help = gettext.gettext("Show this message and exit.")
        return help_option


class Group(Command, click.Group):
    """A group of commands, said as :class:`Command` is; its commands are :class:`Command` and
    its groups :class:`Group`."""

    command_class = Command
    group_class: type[click.Group | type] | None = type


def _switch_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``rcm --lang``: checked, and said from then on, Click's words too (:meth:`Rcm.parse_args`
    has looked for it before the line was read)."""
    if value:
        try:
            value = check_lang(value)
        except RcmError as exc:
            raise click.BadParameter(_error_text(exc, _words(ctx)), ctx, param) from None
        speak(value)
    return value


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``rcm --version``, in Click's words ("rcm, version 0.1.0") of the messages' language."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    said = gettext.gettext("%(prog)s, version %(version)s")
    click.echo(said % {"prog": "rcm", "version": version("rcm-compendium")})
    ctx.exit()


class Rcm(Group):
    """The ``rcm`` group: Click's words in the messages' language for the whole command
    (:meth:`main`), and domain errors as one line and an exit code (:meth:`invoke`)."""

    group_class = Group

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with global_gettext():
            return super().main(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Click reads the whole line before it calls an option's callback: --lang is looked for
        # first, so that what the reading itself says (`rcm --help --lang es`, `rcm --lang es
        # --bogus`) is said in its language too.
        lang = self._lang_given(ctx, args)
        if lang is not None:
            speak(lang)
        return super().parse_args(ctx, args)

    def _lang_given(self, ctx: click.Context, args: list[str]) -> str | None:
        """The --lang of the line ``args``, read as Click reads it, unknown options let by."""
        reading = click.Context(self, info_name=ctx.info_name, ignore_unknown_options=True)
        try:
            options, _, _ = self.make_parser(reading).parse_args(args=list(args))
            return check_lang(options["lang"]) if options.get("lang") else None
        except (click.UsageError, RcmError):
            return None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RcmError as exc:
            w = _words(ctx)
            click.echo(f"rcm: error: {_error_text(exc, w)}", err=True)
            if isinstance(exc, DocumentError) and len(exc.problems) > 1:
                for problem in exc.problems[1:20]:
                    click.echo(f"  {_problem_text(problem, w)}", err=True)
                if len(exc.problems) > 20:
                    more = w("… {n} more", n=len(exc.problems) - 20)
                    click.echo(f"  {more}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`rcm export | head`): stop quietly, as other Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(141)
        except KeyboardInterrupt:
            click.echo("rcm: " + _words(ctx)("interrupted"), err=True)
            ctx.exit(130)
        except Exception as exc:
            if os.environ.get("RCM_DEBUG"):
                raise
            click.echo(
                "rcm: "
                + _words(ctx)(
                    "internal error: {kind}: {error} (set RCM_DEBUG=1 to see the traceback, and "
                    "please report it)",
                    kind=type(exc).__name__,
                    error=exc,
                ),
                err=True,
            )
            ctx.exit(INTERNAL_ERROR)


@click.group(cls=Rcm, context_settings={"help_option_names": ["-h", "--help"]})
@option(
    "--db",
    "db",
    metavar="URL",
    envvar="RCM_DATABASE_URL",
    help="Database URL or SQLite path [env RCM_DATABASE_URL; default ./rcm.db]. "
    "PostgreSQL: postgresql://user@host/dbname.",
)
@option(
    "--lang",
    "lang",
    metavar="en|es",
    is_eager=True,
    callback=_switch_language,
    help="The language of rcm's messages (default: from LANG, es_* for Spanish) and, given "
    "here, of the documents it writes.",
)
@option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def cli(ctx: click.Context, db: str | None, lang: str | None) -> None:
    """RCM Compendium: the Regional Conference on Migration's statements, 1996 onwards."""
    ctx.obj = {"db": db, "lang": check_lang(lang) if lang else None}


def _words(ctx: click.Context) -> Words:
    """The language of the messages: ``rcm --lang``, else the environment's (LANG=es_MX.UTF-8)."""
    chosen = (ctx.obj or {}).get("lang") if isinstance(ctx.obj, dict) else None
    return words(chosen or lang_from_env())


def _current_words() -> Words:
    """The messages' language where no context is passed down (the file writers)."""
    ctx = click.get_current_context(silent=True)
    return _words(ctx) if ctx is not None else words(lang_from_env())


def _doc_lang(ctx: click.Context, lang: str | None) -> str:
    """The language of a document: the command's --lang, else ``rcm --lang``, else English (LANG
    changes the messages, not the files written)."""
    if lang:
        return check_lang(lang)
    return (ctx.obj or {}).get("lang") or "en"


# Messages of the core that the command line gives in Spanish too: a pattern of the English
# message and the catalogue's message with the same named parts. The others go through the
# catalogue as they are (constant messages), or stay English.
_ERRORS = [
    (r"no statement (?P<id>\S+)", "no statement {id}"),
    (r"no meeting (?P<code>\S+)", "no meeting {code}"),
    (
        r"no database at (?P<db>.+): run `rcm ingest` first \(or pass --db\)",
        "no database at {db}: run `rcm ingest` first (or pass --db)",
    ),
    (
        r"database (?P<db>.+) holds no compendium: run `rcm ingest` first",
        "database {db} holds no compendium: run `rcm ingest` first",
    ),
    (
        r"database (?P<db>.+) has schema (?P<current>\S+), this rcm needs (?P<head>\S+): run "
        r"`rcm migrate`",
        "database {db} has schema {current}, this rcm needs {head}: run `rcm migrate`",
    ),
    (r"no theme TS(?P<n>\d+); valid: (?P<valid>.+)", "no theme TS{n}; valid: {valid}"),
    (r"(?P<value>.+) is not a theme; valid: TS1 … TS6", "{value} is not a theme; valid: TS1 … TS6"),
    (
        r"unknown category (?P<bad>.+); valid: (?P<valid>.+)",
        "unknown category {bad}; valid: {valid}",
    ),
    (r"no sub-theme (?P<key>\S+); valid: (?P<valid>.+)", "no sub-theme {key}; valid: {valid}"),
    (r"(?P<value>.+) is not a year such as 2005", "{value} is not a year such as 2005"),
    (
        r"(?P<text>.+) is not a meeting; write it as XII, XII RCM or XXV-E1 \(the first "
        r"extraordinary meeting of the XXV cycle\)",
        "{text} is not a meeting; write it as XII, XII RCM or XXV-E1 (the first extraordinary "
        "meeting of the XXV cycle)",
    ),
    (r"no round (?P<id>\S+)", "no round {id}"),
    (r"no language (?P<lang>.+): one of (?P<valid>.+)", "no language {lang}: one of {valid}"),
    (
        r"deadline (?P<value>.+) is not a date such as 2017-06-30",
        "deadline {value} is not a date such as 2017-06-30",
    ),
    (
        r"a comment needs between 1 and (?P<n>[\d,]+) characters",
        "a comment needs between 1 and {n} characters",
    ),
    # the review queue's
    (
        r"(?P<file>.+) was already added as declaration (?P<id>\d+) \((?P<meeting>[^,]+?)"
        r"(?P<since>, since \w+)?\); see `rcm review list --declaration \d+`",
        "{file} was already added as declaration {id} ({meeting}{since}); see `rcm review list "
        "--declaration {id}`",
    ),
    (
        r"(?P<part>preamble|closing) paragraph (?P<k>\d+) of declaration (?P<declaration>\d+) was "
        r"already promoted as proposal (?P<id>\d+), (?P<state>\w+)(?P<hint> \(reopen it to review "
        r"it again\))?",
        "{part} paragraph {k} of declaration {declaration} was already promoted as proposal {id}, "
        "{state}{hint}",
    ),
    (
        r"(?P<text>.+) is not a meeting number such as XXII or 22 \(or XXII-E2 for a cycle's "
        r"second extraordinary meeting\)",
        "{text} is not a meeting number such as XXII or 22 (or XXII-E2 for a cycle's second "
        "extraordinary meeting)",
    ),
    (
        r"(?P<text>.+) is not a meeting number such as XXII or 22",
        "{text} is not a meeting number such as XXII or 22",
    ),
    (
        r"(?P<text>.+) is an extraordinary meeting: give its cycle \((?P<cycle>\w+)\) and mark it "
        r"extraordinary \(--extraordinary\)",
        "{text} is an extraordinary meeting: give its cycle ({cycle}) and mark it extraordinary "
        "(--extraordinary)",
    ),
    (
        r"year (?P<year>-?\d+) is not plausible for an RCM meeting \(1990–2100\)",
        "year {year} is not plausible for an RCM meeting (1990–2100)",
    ),
    (
        r"(?P<text>.+) is not a placement: write theme\.sub-theme, e\.g\. 5\.2 for TS5's 2nd "
        r"sub-theme",
        "{text} is not a placement: write theme.sub-theme, e.g. 5.2 for TS5's 2nd sub-theme",
    ),
    (
        r"unknown category (?P<bad>.+): use one of (?P<valid>.+)",
        "unknown category {bad}: use one of {valid}",
    ),
    (
        r"there is no sub-theme (?P<key>\d+\.\d+): see `rcm stats` for the themes and their "
        r"sub-themes",
        "there is no sub-theme {key}: see `rcm stats` for the themes and their sub-themes",
    ),
    (r"(?P<n>-?\d+) is not a GCM objective \(1–23\)", "{n} is not a GCM objective (1–23)"),
    (
        r"proposal (?P<id>\d+) is (?P<state>\w+): only a rejected proposal goes back in the queue",
        "proposal {id} is {state}: only a rejected proposal goes back in the queue",
    ),
    (
        r"(?P<value>.+) is not a part of a declaration: use preamble or closing",
        "{value} is not a part of a declaration: use preamble or closing",
    ),
    (
        r"declaration (?P<id>\d+) has no (?P<part>preamble|closing) paragraphs",
        "declaration {id} has no {part} paragraphs",
    ),
    (
        r"declaration (?P<id>\d+)'s (?P<part>preamble|closing) has paragraphs 1 to (?P<n>\d+), "
        r"not (?P<k>-?\d+)",
        "declaration {id}'s {part} has paragraphs 1 to {n}, not {k}",
    ),
    (
        r"(?P<quote>'.*'|\".*\") is not in proposal (?P<id>\d+)'s text",
        "{quote} is not in proposal {id}'s text",
    ),
    (
        r"proposal (?P<id>\d+) is the last of declaration (?P<declaration>\d+): there is no next "
        r"proposal to merge it with",
        "proposal {id} is the last of declaration {declaration}: there is no next proposal to "
        "merge it with",
    ),
    (
        r"the next proposal, (?P<id>\d+), is (?P<state>\w+): only two pending proposals are merged",
        "the next proposal, {id}, is {state}: only two pending proposals are merged",
    ),
    (
        r"(?P<country>.+) is not a Member Country; valid: (?P<valid>.+)",
        "{country} is not a Member Country; valid: {valid}",
    ),
    (
        r"(?P<country>.+) is not a Member Country: (?P<valid>.+)",
        "{country} is not a Member Country: {valid}",
    ),
    (
        r"(?P<value>.+) is not an answer; valid: (?P<answers>.+)",
        "{value} is not an answer; valid: {answers}",
    ),
    (r"no user (?P<name>.+)", "no user {name}"),
    (r"no declaration (?P<id>\S+)", "no declaration {id}"),
    (r"no proposal (?P<id>\S+)", "no proposal {id}"),
    (r"no translation (?P<id>\S+)", "no translation {id}"),
    (r"round (?P<id>\S+) is already (?P<state>\w+)", "round {id} is already {state}"),
    (r"round (?P<id>\S+) is closed: it is read-only", "round {id} is closed: it is read-only"),
    (
        r"statement (?P<sid>\S+) is not in round (?P<id>\S+)",
        "statement {sid} is not in round {id}",
    ),
    (
        r"proposal (?P<id>\d+) was already (?P<state>\w+) by (?P<who>.+?) on (?P<when>.+?)"
        r"(?: as (?P<sid>\S+))?: a decision is taken once",
        "proposal {id} was already {state} by {who} on {when}: a decision is taken once",
    ),
    (
        r"proposal (?P<id>\d+) is one (?P<kind>sentence|item): there is nothing to split",
        "proposal {id} is one {kind}: there is nothing to split",
    ),
    (
        r"proposal (?P<id>\d+) is (?P<state>\w+): only a pending proposal is split, merged or "
        r"promoted(?: \(it is statement \S+\))?",
        "proposal {id} is {state}: only a pending proposal is split, merged or promoted",
    ),
    (r"limit must be between 1 and (?P<n>\d+)", "limit must be between 1 and {n}"),
    # files, exports, accounts and backups
    (r"cannot write (?P<file>.+): (?P<why>.+)", "cannot write {file}: {why}"),
    (r"cannot read (?P<file>.+): (?P<why>.+)", "cannot read {file}: {why}"),
    (r"(?P<file>.+) is a folder; give a file name", "{file} is a folder; give a file name"),
    (
        r"a \.(?P<fmt>\w+) file is not for the terminal: give -o FILE \(or -o - to pipe it\)",
        "a .{fmt} file is not for the terminal: give -o FILE (or -o - to pipe it)",
    ),
    (
        r"the (?P<name>\w+) format has no language to choose: --lang (?P<lang>\w+) is for "
        r"(?P<langs>.+)",
        "the {name} format has no language to choose: --lang {lang} is for {langs}",
    ),
    (
        r"there is no account (?P<name>.+) to act as \(see `rcm users list`\)",
        "there is no account {name} to act as (see `rcm users list`)",
    ),
    (
        r"the account (?P<name>.+) is disabled: it cannot act",
        "the account {name} is disabled: it cannot act",
    ),
    (
        r"only the Secretariat may (?P<what>.+); (?P<name>.+) is (?P<role>an observer|a focal "
        r"point)",
        "only the Secretariat may {what}; {name} is {role}",
    ),
    (r"there is already a user (?P<name>.+)", "there is already a user {name}"),
    (
        r"(?P<value>.+) is not an e-mail address such as name@example\.org",
        "{value} is not an e-mail address such as name@example.org",
    ),
    (
        r"a focal point needs --country, one of (?P<valid>.+)",
        "a focal point needs --country, one of {valid}",
    ),
    (r"unknown role (?P<role>.+); valid: (?P<valid>.+)", "unknown role {role}; valid: {valid}"),
    (
        r"a password needs at least (?P<n>\d+) characters",
        "a password needs at least {n} characters",
    ),
    (r"a password has at most (?P<n>\d+) characters", "a password has at most {n} characters"),
    (
        r"database (?P<db>.+) holds nothing to back up",
        "database {db} holds nothing to back up",
    ),
    (r"cannot back up (?P<db>.+?): (?P<why>.+)", "cannot back up {db}: {why}"),
    (
        r"database (?P<db>.+) has schema (?P<current>\S+), this rcm needs (?P<head>\S+): run "
        r"`rcm migrate` first",
        "database {db} has schema {current}, this rcm needs {head}: run `rcm migrate` first",
    ),
    (
        r"database (?P<db>.+) has schema (?P<current>\S+), the backup (?P<head>\S+): run "
        r"`rcm migrate` on it first",
        "database {db} has schema {current}, the backup {head}: run `rcm migrate` on it first",
    ),
    (
        r"database (?P<db>.+) is not empty \(it holds rows in (?P<tables>.+)\): restore only "
        r"into a new database; nothing was written",
        "database {db} is not empty (it holds rows in {tables}): restore only into a new "
        "database; nothing was written",
    ),
    (
        r"restore into (?P<db>.+?) failed and was rolled back: (?P<why>.+)",
        "restore into {db} failed and was rolled back: {why}",
    ),
]


# A document's problems (and the alignment's notices) the command line gives in Spanish too; the
# quoted parts are the document's own words.
_PROBLEMS = [
    (
        r"statement (?P<n>\d+) \((?P<quote>.+)\) aligns with no proposal of declaration "
        r"(?P<id>\d+)",
        "statement {n} ({quote}) aligns with no proposal of declaration {id}",
    ),
    (
        r"proposal (?P<id>\d+) \(position (?P<n>\d+), (?P<state>\w+), (?P<quote>.+)\) has no "
        r"statement in (?P<file>.+)",
        "proposal {id} (position {n}, {state}, {quote}) has no statement in {file}",
    ),
    (
        r"proposal (?P<id>\d+) was rejected: its (?P<lang>\w+) wording is not queued",
        "proposal {id} was rejected: its {lang} wording is not queued",
    ),
    (r"cannot be read \((?P<why>.+)\)", "cannot be read ({why})"),
    (
        r"is not an rcm backup \(no (?P<fmt>\S+) header\): make one with `rcm backup -o FILE`",
        "is not an rcm backup (no {fmt} header): make one with `rcm backup -o FILE`",
    ),
    (
        r"is not an rcm backup \(its format is (?P<found>.+), not (?P<fmt>\S+)\)",
        "is not an rcm backup (its format is {found}, not {fmt})",
    ),
    (
        r"is damaged: the rows of (?P<table>\S+) do not match their checksum",
        "is damaged: the rows of {table} do not match their checksum",
    ),
    (r"is not a valid backup: (?P<what>.+)", "is not a valid backup: {what}"),
]


def _value_words(values: dict[str, str], w: Words) -> dict[str, str]:
    """The values of a message that are words of the program, in the messages' language: a
    meeting ("XXII RCM": "XXII CRM"), a status ("accepted", "closed"), a proposal's parts
    ("sentence", "items"), a part of a declaration ("preamble")."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if key in ("meeting", "meeting2"):
            out[key] = w.meeting(value)
        elif key == "state":
            out[key] = w.status(value)
        elif key in ("kind", "part", "when"):  # "when": a date, or "earlier"
            out[key] = w(value)
    return out


def _translated(text: str, patterns: list[tuple[str, str]], w: Words) -> str | None:
    """``text`` in the messages' language where one of ``patterns`` matches it, else None."""
    import re

    for pattern, message in patterns:
        m = re.fullmatch(pattern, text, re.S)
        if m:
            parts = {k: v or "" for k, v in m.groupdict().items()}
            if "answers" in parts:  # the answers as typed, each with its meaning
                parts["answers"] = ", ".join(
                    f"'{a}'" + (f" ({w.status(a)})" if w.spanish else "")
                    for a in parts["answers"].split(", ")
                )
            parts.update(_value_words(parts, w))
            if "tables" in parts:  # "statements (129), rounds (1) and 18 more tables"
                parts["tables"] = re.sub(
                    r" and (\d+) more tables$",
                    lambda t: " " + w("and {n} more tables", n=t[1]),
                    parts["tables"],
                )
            for key in ("role", "what", "why", "part", "since", "hint"):  # "a focal point"
                if key in parts:
                    parts[key] = w(parts[key])  # "why": the system's ("Permission denied")
            return w(message, **parts)
    return None


def _problem_text(problem: Problem, w: Words) -> str:
    """One problem of a document ("line 34: …") in the messages' language."""
    if not w.spanish:
        return str(problem)
    if problem.values:  # a template with its values
        values = dict(problem.values)
        values.update(_value_words(values, w))
        for key in ("hint", "why"):  # the program's advice, the system's reason
            if key in values:
                values[key] = w(values[key])
        try:
            message = w(problem.template) % values
        except (KeyError, ValueError, TypeError):  # a translation that does not fit its values
            message = problem.message
    else:
        message = _translated(problem.message, _PROBLEMS, w) or w(problem.message)
    return w("line {n}", n=problem.line) + f": {message}" if problem.line else message


def _error_text(exc: RcmError, w: Words) -> str:
    """An error's message in the language of the messages."""
    text = str(exc)
    if not w.spanish:
        return text
    if isinstance(exc, DocumentError):
        more = len(exc.problems) - 1
        tail = " " + w("(and {n} more problems)", n=more) if more else ""
        return f"{exc.source}: {_problem_text(exc.problems[0], w)}{tail}"
    if exc.values:  # a template with its values (AccountError): translated as the web does
        values = dict(exc.values)
        if "reason" in values:  # the system's or the core's own words ("cannot rank with …")
            values["reason"] = _translated(values["reason"], _ERRORS, w) or w(values["reason"])
        values.update(_value_words(values, w))
        return w(exc.template) % values
    return _translated(text, _ERRORS, w) or w(text)


def _store(ctx: click.Context, create: bool = False) -> Store:
    return Store(ctx.obj["db"], create=create)


def _emit(text: str, output: str | None) -> None:
    """Write to stdout, or to a file (atomically: _write_file)."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    _write_file(output, text.encode("utf-8"))
    click.echo(_current_words()("wrote {file}", file=output), err=True)


def _new_file_mode(target: Path, private: bool) -> int:
    """Owner-only for private files; else an existing file's own mode, or what the umask gives."""
    if private:
        return 0o600
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def _write_file(output: str, data: bytes, *, private: bool = False) -> None:
    """Write data to the file `output` so that a full disk, a crash or a power cut leaves the old
    file or the new one, never half of one: a temporary file beside it, written and flushed to
    the disk, then renamed over it (and the folder flushed). A failure removes the temporary file
    and is one clear RcmError. A new file gets the usual permissions (umask), or owner-only when
    `private` (backups hold password hashes); a replaced file keeps its own."""
    target = Path(output)
    if target.is_dir():
        raise RcmError(f"{output} is a folder; give a file name")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode(target, private))
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise RcmError(f"cannot write {output}: {exc.strerror or exc}") from None
    # The rename itself reaches the disk when the folder is flushed; where a folder cannot be
    # opened for that (some file systems), the file is written all the same.
    with contextlib.suppress(OSError):
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _known_meetings(ctx: click.Context) -> list[Any]:
    """The database's meetings, for reading a Word compilation exported from it; none when there
    is no database yet (it is not created for that)."""
    try:
        with _store(ctx) as existing:
            return existing.known_meetings()
    except RcmError:
        return []


@cli.command()
@argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@option(
    "--dry-run",
    is_flag=True,
    help="Read and check everything, print the change report, write nothing.",
)
@option(
    "--apply-everywhere",
    is_flag=True,
    help="A statement reworded in one of its rows only: reword it everywhere (else an error).",
)
@option("--json", "as_json", is_flag=True, help="Print the change report as JSON.")
@option(
    "--as",
    "actor",
    metavar="NAME",
    help="Act as this account for the audit trail (an active Secretariat account); without "
    "it the changes are recorded as made by `ingest`.",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    file: Path | None,
    dry_run: bool,
    apply_everywhere: bool,
    as_json: bool,
    actor: str | None,
) -> None:
    """Read the compilation FILE (default: the shipped 1996–2016 compilation) into the database.

    FILE is the compilation's text export or a Word compilation (.docx, docs/docx-layout.md:
    categories from the rows' shading). All or nothing, and idempotent: ingesting the same
    document again changes nothing. The Word compilation `rcm export --format docx` writes
    prints each row's id: its rows are matched to the statements by id (a reworded row rewords
    its statement, a reshaded one recategorises it, a moved one re-places it, a row without an
    id adds a statement, a statement whose rows were all deleted is retired), every change
    audited and printed in a change report.

    A Spanish edition of the compilation (titled "Compilación …", docs/spanish-edition.md) adds
    no statements: its rows are aligned to the English statements and each wording is queued for
    review (`rcm review translations`); a row that does not align is reported and nothing is
    written."""
    from rcm import edit

    if file is not None and _spanish_edition(file):
        _ingest_edition(ctx, file, dry_run=dry_run, as_json=as_json, actor=actor)
        return
    # A Word compilation exported from this database may name meetings added from declarations
    # (XXII RCM, Extraordinary Meeting of the XXV RCM): the reader knows them. A database that
    # does not exist yet is not created before the file has been read.
    try:
        with _store(ctx) as existing:
            known = existing.known_meetings()
    except RcmError:
        known = []
    compendium = label_compendium(read_compilation(file, known))
    with _store(ctx, create=True) as store:
        who = _acting(store, actor) if actor else "ingest"
        report = edit.ingest(
            store, compendium, actor=who, apply_everywhere=apply_everywhere, dry_run=dry_run
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    result = report.result
    findings = check_compendium(compendium)
    w = _words(ctx)
    click.echo(
        (w("dry run, nothing written:") + " " if dry_run else "")
        + w(
            "{source}: {n} statements ({added} added, {updated} updated, {unchanged} unchanged), "
            "{placements} placements",
            source=result.source,
            n=len(compendium.statements),
            added=result.added,
            updated=result.updated,
            unchanged=result.unchanged,
            placements=result.placements,
        )
        + ("" if result.placements_changed else " " + w("(unchanged)"))
        + (
            "; "
            + w("{n} statements stored earlier are not in this document (kept)", n=result.absent)
            if result.absent
            else ""
        )
    )
    if report.by_id:
        counts = ", ".join(
            f"{report.count(kind)} {w.ctx('change', kind)}" for kind in edit.KINDS[:5]
        )
        click.echo(w("changes by id:") + f" {counts}")
        for change in report.changes:
            click.echo(f"  {change.describe(w.lang)}")
    click.echo(w("{n} source consistency findings: see `rcm check`", n=len(findings)))


def _spanish_edition(file: Path) -> bool:
    from rcm.parse.spanish_edition import is_spanish_edition

    try:
        return is_spanish_edition(file.read_bytes())
    except OSError:
        return False  # the compilation reader says why the file cannot be read


def _ingest_edition(
    ctx: click.Context, file: Path, *, dry_run: bool, as_json: bool, actor: str | None
) -> None:
    from rcm import translate
    from rcm.parse.spanish_edition import parse_spanish_edition

    edition = parse_spanish_edition(file.read_bytes(), str(file))
    with _store(ctx) as store:
        who = _acting(store, actor) if actor else "ingest"
        report = translate.queue_edition(store, edition, actor=who, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    what = w(
        "Spanish edition, {rows} rows in {tables} sub-theme tables",
        rows=len(edition.rows),
        tables=len(edition.sections),
    )
    _print_alignment(report, what, w)


def _print_alignment(report: Any, what: str, w: Words) -> None:
    click.echo(
        (w("dry run, nothing written:") + " " if report.dry_run else "")
        + w(
            "{source}: {what} aligned to {n} statements: {queued} queued for review, "
            "{unchanged} unchanged, {waiting} already waiting",
            source=report.source,
            what=what,
            n=len(report.pairs),
            queued=len(report.queued),
            unchanged=len(report.unchanged),
            waiting=len(report.already_queued),
        )
    )
    for notice in report.notices:
        click.echo(f"  {_translated(notice, _PROBLEMS, w) or notice}")
    if report.queued and not report.dry_run:
        click.echo(w("next:") + " rcm review translations")


@cli.command()
@option(
    "--ranking",
    type=click.Choice(["gin", "rum"]),
    help="PostgreSQL only: rank searches with GIN (the default) or a RUM index (the rum "
    "extension; see the README's caution). Without it, a new database follows RCM_PG_RANKING.",
)
@click.pass_context
def migrate(ctx: click.Context, ranking: str | None) -> None:
    """Create the database or bring its schema up to date."""
    with _store(ctx, create=True) as store:
        before, after = store.migrate()
        if ranking is not None:
            store.use_ranking(ranking)
        chosen = store.ranking()
    w = _words(ctx)
    click.echo(
        w("schema {before} -> {after}", before=before or w("(empty)"), after=after)
        if before != after
        else w("schema {after}: up to date", after=after)
    )
    if chosen is not None:
        click.echo(w("PostgreSQL ranking: {ranking}", ranking=chosen))


@cli.command()
@option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Counts: statements, placements per theme and sub-theme, per meeting, per category."""
    with _store(ctx) as store:
        data = store.counts()
        sources = sources_report(store)
    for m in data["meetings"]:
        m.update(sources["meetings"].get(m["meeting"], {}))
    data["covers"], data["sources"] = sources["covers"], sources["sources"]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    click.echo(f"{w('covers'):<22}{data['covers']}")
    pad = 22 if not w.spanish else 30
    for label, key in (
        ("statements", "statements"),
        ("placements", "placements"),
        ("under several themes", "multi_theme_statements"),
        ("placements with note", "placements_with_note"),
    ):
        click.echo(f"{w(label):<{pad}}{data[key]}")
    click.echo("\n" + w("placements per theme and sub-theme"))
    for th in data["themes"]:
        total = sum(s["placements"] for s in th["subthemes"])
        click.echo(
            f"  TS{th['theme']} {w.theme(th['theme'], th['title'])}: "
            + w(
                "{total} placements, {statements} statements",
                total=total,
                statements=th["statements"],
            )
        )
        for s in th["subthemes"]:
            title = w.subtheme(th["theme"], s["subtheme"], s["title"])
            click.echo(f"    {s['placements']:>4}  {title}")
    click.echo("\n" + w("statements per meeting"))
    for m in data["meetings"]:
        held = ", ".join(x for x in (m.get("place"), m.get("date")) if x)
        click.echo(
            f"  {w.meeting(m['label']):<10} {m['year'] or '':<5} {m['statements']:>4}"
            + (f"  {w('held')} {held}" if held else "")
            + (f"  {w('from')} {m['source']}" if m.get("source") else "")
        )
    click.echo("\n" + w("statements per category"))
    for name, n in data["categories"].items():
        shown = w.category(name, w(name) if name == "unassigned" else name)
        click.echo(f"  {shown:<14} {n:>4}")
    if data["retired"]:
        click.echo(
            "\n" + w("retired statements (out of the compilation): {n}", n=len(data["retired"]))
        )
        for r in data["retired"]:
            by = w("by {who}", who=r["retired_by"])
            click.echo(f"  {r['id']:<14} {r['retired_at'][:10]}  {by}")
    click.echo("\n" + w("sources"))
    for d in data["sources"]:
        kind = w.ctx("source kind", d["kind"])
        click.echo(f"  {d['key']:<16} {d['statements']:>4}  {kind}: {d['title'] or d['name']}")


@cli.command()
@argument("statement_id", metavar="ID")
@option("--json", "as_json", is_flag=True, help="Print the statement as JSON.")
@click.pass_context
def show(ctx: click.Context, statement_id: str, as_json: bool) -> None:
    """Show one statement (e.g. XIX-0021): text, meeting, placements, notes, citation."""
    with _store(ctx) as store:
        statement, placements = store.statement(statement_id)
        meeting = store.meeting(statement.meeting)
        titles = store.subtheme_titles()
        document = store.document_of(statement.id)
        cite = citation(statement, meeting, document)
        links = gcm.objective_links(store, statement.id)
        objectives = gcm.objective_titles(store)
        versions = store.earlier_versions(statement.id)
    if as_json:
        data = statement_dict(
            statement, meeting, placements, titles, links, versions, document=document
        )
        extra = {"citation": cite, "document": document.as_dict() if document else None}
        click.echo(json.dumps(data | extra, ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    if w.spanish:
        click.echo(f"{statement.id}  {w.meeting(meeting.label)} ({meeting.year})")
    else:
        click.echo(f"{statement.id}  {meeting_line(meeting)}")
    if document is not None:
        click.echo(f"{w('from')}: {_document_line(document, w)}")
    if statement.retired_at is not None:
        click.echo(
            w(
                "RETIRED on {day}: all its rows were deleted from the compilation (kept with its "
                "history and opinions)",
                day=statement.retired_at.date().isoformat(),
            )
        )
    if statement.version > 1:
        click.echo(w("wording: version {version}", version=statement.version))
    category = (
        w.category(statement.category.value, statement.category.value)
        if statement.category is not None
        else ""
    )
    if statement.category is None:
        click.echo(w("category: not yet assigned"))
    elif statement.category_source == CategorySource.SUGGESTED:
        click.echo(
            w(
                "category: {category} (suggested, confidence {confidence}; not yet confirmed)",
                category=category,
                confidence=f"{statement.category_confidence or 0:.2f}",
            )
        )
    else:
        click.echo(w("category: {category} (curated)", category=category))
    if links:
        click.echo(
            w("GCM objectives: ")
            + "; ".join(
                f"{x.objective}. {w.objective(x.objective, objectives[x.objective])}"
                + (w(" (suggested)") if x.source == CategorySource.SUGGESTED else "")
                for x in links
            )
        )
    click.echo("")
    if w.spanish and statement.text_es:
        click.echo(statement.text_es)
        click.echo("")
    if w.spanish and statement.lang != "es":
        click.echo(w.english_mark())
    if statement.items:
        click.echo(f"{statement.heading}:")
        for item in statement.items:
            click.echo(f"  - {item}")
    else:
        click.echo(statement.text)
    for v in reversed(versions):
        click.echo(
            "\n"
            + w(
                "earlier wording, version {version} ({day}, {actor}, {origin}):",
                version=v["version"],
                day=v["at"][:10],
                actor=v["actor"],
                origin=v["origin"],
            )
            + f"\n  {v['text']}"
        )
    click.echo("\n" + w("filed under:"))
    for p in placements:
        note = "  " + w("note: {note}", note=p.note) if p.note else ""
        title = w.subtheme(p.theme, p.subtheme, titles[(p.theme, p.subtheme)])
        where = w("(row {row}, line {line})", row=p.position, line=p.line)
        click.echo(f"  TS{p.theme} / {title} {where}{note}")
    click.echo("\n" + w("cite as: {cite}", cite=cite))


def _document_line(document: SourceDocument, w: Words) -> str:
    """:func:`rcm.cite.document_line` in the messages' language: its kind, its meeting and its
    file said; what a citation says of it (its title) as the document has it."""
    if not w.spanish:
        return document_line(document)
    kind = w.ctx("source kind", document.kind.value)
    meeting = f" ({w.meeting(document.meeting_label)})" if document.meeting_label else ""
    what = document_said(document)
    file = w("[file {name}, sha256 {sha256}…]", name=document.name, sha256=document.sha256[:12])
    return f"{kind}{meeting}: {what} {file}"


@cli.command()
@argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def check(ctx: click.Context, file: Path | None, as_json: bool) -> None:
    """List where the compilation contradicts itself (notes vs placements, copies whose notes
    disagree, rows out of meeting order, near-copies kept apart, text that is not a statement).

    Checks the compendium in the database, or FILE without storing it. The document is not
    corrected: the findings are shown."""
    retired: list[dict[str, Any]] = []
    if file is not None:
        # A Word compilation exported from the database may name meetings added from
        # declarations (XXII RCM, Extraordinary Meeting of the XXV RCM): the reader knows them.
        compendium = read_compilation(file, _known_meetings(ctx))
    else:
        with _store(ctx) as store:
            compendium = store.load()
            retired = store.retired()
    findings = check_compendium(compendium)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "source": compendium.source.name,
                    "sha256": compendium.source.sha256,
                    "total": len(findings),
                    "kinds": KINDS,
                    "findings": [f.as_dict() for f in findings],
                    "retired": retired,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    w = _words(ctx)
    titles = {sub.title: (t.number, sub.order) for t in compendium.themes for sub in t.subthemes}
    click.echo(w("{source}: {n} findings", source=compendium.source.name, n=len(findings)))
    for kind, meaning in KINDS.items():
        group = [f for f in findings if f.kind == kind]
        if group:
            click.echo(f"\n{w.ctx('check kind', kind)} ({len(group)}): {w(meaning)}")
            for f in group:
                click.echo(f"  - {_finding_text(f.message, w, titles)}")
    if retired:
        click.echo(
            "\n"
            + w(
                "retired ({n}): statements all of whose rows were deleted from the compilation "
                "(kept with their history; `rcm show ID`)",
                n=len(retired),
            )
        )
        for r in retired:
            click.echo(
                "  - "
                + w(
                    "{id} retired {date} by {who}",
                    id=r["id"],
                    date=r["retired_at"][:10],
                    who=r["retired_by"],
                )
            )


# The findings of `rcm check` (rcm.check) the command line gives in Spanish too: where a copy is
# ("TS2 «title» row 1 (line 181)"), its note (the document's own words, quoted), the rest.
_WHERE = r"TS(?P<t>\d+) «(?P<title>.+?)» row (?P<row>\d+) \(line (?P<line>\d+)\)"
_NOTE = r"(?P<note>note '.*'|no note)"
_FINDINGS = [
    (
        rf"(?P<sid>\S+): the copy in (?P<where>{_WHERE}) has {_NOTE}, naming TS(?P<n>\d+), but "
        r"the statement is not filed under TS\d+",
        "{sid}: the copy in {where} has {note}, naming TS{n}, but the statement is not filed "
        "under TS{n}",
    ),
    (
        rf"(?P<sid>\S+): filed under TS(?P<n>\d+), but the copy in (?P<where>{_WHERE}) has "
        rf"{_NOTE}, which does not name TS\d+",
        "{sid}: filed under TS{n}, but the copy in {where} has {note}, which does not name TS{n}",
    ),
    (
        r"(?P<sid>\S+): its (?P<n>\d+) copies disagree on where it belongs: (?P<copies>.+)",
        "{sid}: its {n} copies disagree on where it belongs: {copies}",
    ),
    (
        r"(?P<sid>\S+): appears twice in TS(?P<t>\d+) «(?P<title>.+?)» \(rows (?P<a>\d+) and "
        r"(?P<b>\d+)\)",
        "{sid}: appears twice in TS{t} «{title}» (rows {a} and {b})",
    ),
    (
        rf"(?P<sid>\S+): (?P<here>\S+) RCM in (?P<where>{_WHERE}) follows a (?P<before>\S+) RCM "
        r"row",
        "{sid}: {here} RCM in {where} follows a {before} RCM row",
    ),
    (
        r"(?P<a>\S+) and (?P<b>\S+) are (?P<pct>\d+%) alike but differ in wording: kept as two "
        r"statements",
        "{a} and {b} are {pct} alike but differ in wording: kept as two statements",
    ),
]


def _finding_text(message: str, w: Words, titles: dict[str, tuple[int, int]]) -> str:
    """A finding of `rcm check` in the messages' language (``titles``: a sub-theme's title, its
    theme and order, for its Spanish name)."""
    import re

    if not w.spanish:
        return message

    def title(theme: str, text: str) -> str:
        t, order = titles.get(text, (int(theme), 0))
        return w.subtheme(t, order, text) if order else text

    def where(m: re.Match[str]) -> str:
        return w(
            "TS{t} «{title}» row {row} (line {line})",
            t=m["t"],
            title=title(m["t"], m["title"]),
            row=m["row"],
            line=m["line"],
        )

    def note(text: str) -> str:
        return w("no note") if text == "no note" else w("note {quote}", quote=text[5:])

    for pattern, template in _FINDINGS:
        m = re.fullmatch(pattern, message, re.S)
        if not m:
            continue
        parts = {k: v or "" for k, v in m.groupdict().items()}
        if "where" in parts:
            parts["where"] = where(re.fullmatch(_WHERE, parts["where"]))  # type: ignore[arg-type]
        if "note" in parts:
            parts["note"] = note(parts["note"])
        if "title" in parts:
            parts["title"] = title(parts["t"], parts["title"])
        if "here" in parts:
            parts["here"] = w.meeting(parts["here"] + " RCM").removesuffix(" CRM")
            parts["before"] = w.meeting(parts["before"] + " RCM").removesuffix(" CRM")
        if "copies" in parts:
            copies = []
            for copy in parts["copies"].split("; "):
                c = re.fullmatch(r"line (?P<line>\d+) \(TS(?P<t>\d+)\): (?P<note>.*)", copy)
                if c is None:
                    copies.append(copy)
                    continue
                said = w("no note") if c["note"] == "no note" else repr(c["note"])
                copies.append(w("line {n}", n=c["line"]) + f" (TS{c['t']}): {said}")
            parts["copies"] = "; ".join(copies)
        return w(template, **{k: v for k, v in parts.items() if k not in ("t", "row", "line")})
    notice = re.fullmatch(r"(?P<what>.+?): (?P<quote>'.*'|\".*\")", message, re.S)
    if notice:
        return f"{w(notice['what'])}: {notice['quote']}"
    return w(message)


def _format_help(document: str) -> str:
    return "; ".join(f"{f.name}: {f.help}" for f in registry.formats(document)) + "."


@cli.command()
@option(
    "--format",
    "fmt",
    type=click.Choice([f.name for f in registry.formats()]),
    default="json",
    show_default=True,
    help=_format_help("compendium"),
)
@option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@option("--theme", "themes", multiple=True, metavar="TS5", help="Only this theme (repeat).")
@option(
    "--subtheme", "subthemes", multiple=True, metavar="TS3.2", help="Only this sub-theme (repeat)."
)
@option(
    "--category", "categories", multiple=True, metavar="NAME", help="Only this category (repeat)."
)
@option("--meeting", "meetings", metavar="XII..XXI", help="Only these meetings (XXII.., XXV-E1 …).")
@option("--year", "years", metavar="2005..2010", help="Only these years.")
@option(
    "--round",
    "round_id",
    type=int,
    help="docx/pdf: only this round's statements, with its results in the Still valid? column.",
)
@option("--country", metavar="CRI", help="With --round: one country's filled-in copy.")
@option(
    "--lang",
    "lang",
    metavar="en|es",
    help="docx, pdf, xlsx: the document's language (es: the Spanish edition). Default: "
    "`rcm --lang`, else English.",
)
@click.pass_context
def export(
    ctx: click.Context,
    fmt: str,
    output: str | None,
    themes: tuple[str, ...],
    subthemes: tuple[str, ...],
    categories: tuple[str, ...],
    meetings: str | None,
    years: str | None,
    round_id: int | None,
    country: str | None,
    lang: str | None,
) -> None:
    """Export the compendium, or a focused part of it (filters as in search)."""
    from rcm.export.docx import Selection, narrow
    from rcm.search import matching_ids, parse_subtheme, parse_theme

    if country and round_id is None:
        raise RcmError("--country needs --round: the answers come from a consultation round")
    if round_id is not None and fmt not in ("docx", "pdf"):
        raise RcmError("--round fills the Still valid? column of the docx or pdf compilation")
    form = registry.get_format(fmt)
    doc_lang = _doc_lang(ctx, lang)
    if lang is not None:
        registry.check_language(form, doc_lang)
    elif doc_lang not in form.languages:
        doc_lang = "en"  # `rcm --lang es export --format json`: the data has no language
    if not form.text and output is None and sys.stdout.isatty():
        raise RcmError(f"a .{fmt} file is not for the terminal: give -o FILE (or -o - to pipe it)")
    with _store(ctx) as store:
        compendium = store.load()
        filters = make_filters(
            store,
            themes=themes,
            subthemes=subthemes,
            categories=categories,
            meetings=meetings,
            years=years,
        )
        ids = set(matching_ids(store, filters)) if filters else None
        filled = None
        if round_id is not None:
            from rcm import consult
            from rcm.export.still_valid import still_valid

            filled = still_valid(consult.round_status(store, round_id), country, doc_lang)
            ids = set(filled.scope) if ids is None else ids & filled.scope
    sentence = "; ".join(f.sentence for f in filters)
    if ids is not None or themes or subthemes:
        compendium = narrow(
            compendium,
            Selection(
                statement_ids=frozenset(ids) if ids is not None else None,
                themes=frozenset(parse_theme(x) for x in themes) if themes else None,
                subthemes=frozenset(parse_subtheme(x) for x in subthemes) if subthemes else None,
                sentence=sentence,
            ),
        )
    options: dict[str, Any] = {"sentence": sentence, "still_valid": filled}
    if doc_lang != "en":
        options["lang"] = doc_lang
    data = form.write(compendium, **options)
    if form.text:
        _emit(data.decode("utf-8"), output)
    else:
        _emit_bytes(data, output)
    if form.beside is not None and output not in (None, "-"):
        for name, extra in form.beside(compendium, Path(output).stem).items():
            _emit_bytes(extra, str(Path(output).with_name(name)))


def _emit_bytes(data: bytes, output: str | None, *, private: bool = False) -> None:
    """Binary output: to a pipe, or to a file (atomically: _write_file)."""
    if output is None or output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    _write_file(output, data, private=private)
    w = _current_words()
    click.echo(w("wrote {file} ({size:,} bytes)", file=output, size=len(data)), err=True)


def _plain(snippet: str, color: bool) -> str:
    import html as _html

    start, end = ("\033[1m", "\033[0m") if color else ("[", "]")
    return _html.unescape(snippet.replace("<mark>", start).replace("</mark>", end))


def _print_result(
    result: SearchResult,
    facets: bool = True,
    w: Words | None = None,
    sentence: str | None = None,
    notes: tuple[str, ...] | None = None,
) -> None:
    """A page of results; ``sentence`` and ``notes`` in the messages' language (default: the
    search's own, its sentence and notices said as the web says them)."""
    w = w or words()
    color = sys.stdout.isatty()
    first = result.offset + 1 if result.hits else 0
    last = result.offset + len(result.hits)
    if sentence is None:
        sentence = result.sentence_in(w.lang, w) if w.spanish else result.sentence
    if notes is None:
        notes = (
            tuple(w(n.message) % dict(n.values) for n in result.notices)
            if w.spanish
            else result.notes
        )
    click.echo(
        w.n(
            "1 statement: {sentence}; sorted by {sort}; showing {first}–{last}",
            "{n} statements: {sentence}; sorted by {sort}; showing {first}–{last}",
            result.total,
            sentence=sentence,
            sort=w.ctx("sort", result.sort),
            first=first,
            last=last,
        )
    )
    for note in notes:
        click.echo(f"  ({note})")
    for hit in result.hits:
        themes = ",".join(f"TS{t}" for t in hit.themes)
        click.echo(f"\n{hit.id:<12} {w.meeting(hit.meeting_label)} ({hit.year})  {themes}")
        click.echo(f"  {_plain(hit.snippet_in(w.lang)[0], color)}")
    if facets and result.facets:
        click.echo("")
        for name in ("theme", "category", "meeting"):
            values = result.facets.get(name, [])
            if values:
                click.echo(
                    f"{w.ctx('facet', name)}: "
                    + "  ".join(
                        f"{'*' if v.chosen else ''}{_facet_value(name, v.value, w)} "
                        + (f"+{v.adds}" if v.adds is not None else str(v.count))
                        for v in values
                    )
                )


def _facet_value(name: str, value: str, w: Words) -> str:
    if not w.spanish:
        return value
    if name == "meeting":
        return w.meeting(value)
    if name == "category":
        return w.category(value, w(value) if value == "unassigned" else value)
    return value


@cli.command(name="search")
@argument("query", nargs=-1)
@option(
    "--theme",
    "theme",
    multiple=True,
    metavar="TS5",
    help="Filed under this theme (repeat for any of several).",
)
@option(
    "--subtheme",
    "subtheme",
    multiple=True,
    metavar="TS3.2",
    help="Filed under this sub-theme (theme.order).",
)
@option(
    "--category",
    "category",
    multiple=True,
    metavar="NAME",
    help="principle, understanding, commitment or unassigned.",
)
@option(
    "--meeting",
    "meeting",
    metavar="XII..XXI",
    help="Meeting or range: XII, XII..XXI, XXII.., ..X, XXV-E1 (in date order)",
)
@option("--year", "year", metavar="2005..2010", help="Year or range of years.")
@option(
    "--several",
    type=click.Choice(["yes", "no"]),
    default=None,
    help="yes: placed under several themes; no: under one.",
)
@option(
    "--several-themes/--one-theme",
    "several_themes",
    default=None,
    help="The old spelling of --several yes / --several no.",
)
@option(
    "--xref", "xref", multiple=True, metavar="TS3", help="A cross-reference note names this theme."
)
@option(
    "--retired",
    type=click.Choice(["include", "only"]),
    is_flag=False,
    flag_value="include",
    default=None,
    help="Also retired statements (all their rows deleted from the compilation), or "
    "--retired only: just those. Left out by default.",
)
@option(
    "--sort",
    type=click.Choice(list(SORTS)),
    default=None,
    help="Default: relevance, or oldest first without words.",
)
@option(
    "--size",
    "--limit",
    "size",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Hits per page (--limit: its old name).",
)
@option("--page", type=click.IntRange(1, None), default=1, show_default=True)
@option(
    "--expand/--no-expand",
    default=True,
    help="Also search the other language's terms of the bilingual thesaurus (default), or not.",
)
@option("--json", "as_json", is_flag=True, help="Print {query, total, hits, facets} as JSON.")
@click.pass_context
def search_command(
    ctx: click.Context,
    query: tuple[str, ...],
    theme: tuple[str, ...],
    subtheme: tuple[str, ...],
    category: tuple[str, ...],
    meeting: str | None,
    year: str | None,
    several: str | None,
    several_themes: bool | None,
    xref: tuple[str, ...],
    retired: str | None,
    sort: str | None,
    size: int,
    page: int,
    expand: bool,
    as_json: bool,
) -> None:
    """Search the statements: words (all must match), "exact phrase", OR, -exclude, prefix*.

    With no words, lists every statement (filtered), oldest meeting first. The options are the
    web's and the API's search parameters (``rcm.search.SearchParams``)."""
    if several is None and several_themes is not None:
        several = "yes" if several_themes else "no"
    params = SearchParams(
        q=" ".join(query),
        page=page,
        size=size,
        sort=sort,
        theme=theme,
        subtheme=subtheme,
        category=category,
        meeting=meeting,
        year=year,
        several=several,
        xref=xref,
        expand=expand,
        retired=retired,
    )
    with _store(ctx) as store:
        result = search(store, params.to_request(store))
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_result(result, w=_words(ctx))


@cli.command(name="related")
@argument("statement_id", metavar="ID")
@option("--limit", type=click.IntRange(1, 50), default=5, show_default=True)
@option("--json", "as_json", is_flag=True, help="Print the related statements as JSON.")
@click.pass_context
def related_command(ctx: click.Context, statement_id: str, limit: int, as_json: bool) -> None:
    """The statements most like ID (to follow how a statement was restated across meetings)."""
    with _store(ctx) as store:
        result = related(store, statement_id, limit)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    stems = result.notes[0].removeprefix("compared on: ") if result.notes else ""
    _print_result(
        result,
        facets=False,
        w=w,
        sentence=w("statements like {id}", id=result.query.removeprefix("related to ")),
        notes=(w("compared on: {stems}", stems=stems),) if stems else (),
    )


def _settings_epilog(w: Words) -> str:
    from rcm.settings import SETTINGS

    return (
        w("Settings (environment variables; docs/deploy.md):")
        + "\n\n"
        + "\n\n".join(
            f"\b\n{x.name} [{w('default: {default}', default=w(x.default))}]\n  {w(x.help)}"
            for x in SETTINGS
        )
    )


class _Serve(Command):
    """``rcm serve``: its epilog, the settings, said setting by setting."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        said = copy.copy(self)
        said.epilog = _settings_epilog(_words(ctx))
        click.Command.format_epilog(said, ctx, formatter)


@cli.command(cls=_Serve, epilog=_settings_epilog(words("en")))
@option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web app (pages, JSON API under /api/, OpenAPI at /openapi.json).

    Production: RCM_ENV=production with RCM_SECRET_KEY and RCM_ALLOWED_HOSTS, several workers
    behind a reverse proxy (docs/deploy.md)."""
    import uvicorn

    from rcm import settings
    from rcm.web import create_app

    config = settings.current()  # wrong or unsafe settings stop here, with one clear line
    settings.configure_logging(config)
    store = _store(ctx)
    store.require_current()
    click.echo(
        _words(ctx).n(
            "serving {db} on http://{host}:{port}/ ({env}, {n} worker)",
            "serving {db} on http://{host}:{port}/ ({env}, {n} workers)",
            workers,
            db=store.display_url,
            host=host,
            port=port,
            env=_words(ctx).ctx("environment", config.env),
        ),
        err=True,
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,  # rcm logs each request itself (rcm.request), as JSON in production
        "proxy_headers": True,
        "forwarded_allow_ips": config.forwarded_allow_ips,
    }
    if workers == 1:
        uvicorn.run(create_app(store, config), **options)
        return
    # Several worker processes each build the app from the environment.
    os.environ["RCM_DATABASE_URL"] = store.url
    uvicorn.run("rcm.web:app_from_env", factory=True, workers=workers, **options)


def _acting(store: Store, name: str | None) -> Actor:
    """Who a command acts as (an ``rcm.consult.Actor``). Without ``--as``: the operator at this
    terminal, who has the database itself and so may do anything, named ``cli:$USER`` in the audit
    trail. With ``--as NAME``: that account, which must exist and be active; the core then allows
    the action only if the account's role does, the same rules as on the web."""
    if name is None:
        return f"cli:{os.environ.get('USER') or os.environ.get('USERNAME') or 'unknown'}"
    from rcm.users import acting_user

    return acting_user(store, name)


def _as_option(who: str) -> Callable[[_F], _F]:
    return option(
        "--as",
        "actor",
        metavar="NAME",
        help=f"Act as this account (for the audit trail): it must be active and {who}. Without "
        "it: the operator at this terminal, named cli:$USER.",
    )


_SECRETARIAT = "a Secretariat account"
_ANSWERER = "allowed to answer for the country (the Secretariat, or that country's focal point)"


@cli.group(name="round")
def round_group() -> None:
    """Consultation rounds: "Still valid?" asked of the Member Countries."""


@round_group.command(name="open")
@argument("title")
@option("--purpose", default="", help="What the round is for.")
@option("--deadline", metavar="YYYY-MM-DD", help="The last day answers are expected.")
@option("--theme", "themes", multiple=True, metavar="TS5", help="Only statements under this theme.")
@option("--category", "categories", multiple=True, metavar="NAME", help="Only this category.")
@option("--meeting", "meetings", metavar="XII..XXI", help="Only these meetings (XXII.., XXV-E1 …).")
@option("--silence-is-consent", is_flag=True, help="After the deadline, no answer = no objection.")
@option("--public", is_flag=True, help="Results may be published.")
@option(
    "--no-mail",
    is_flag=True,
    help="Do not e-mail the invitations (recorded as not sent; `rcm round invite` sends them).",
)
@_as_option(_SECRETARIAT)
@click.pass_context
def round_open(
    ctx: click.Context,
    title: str,
    purpose: str,
    deadline: str | None,
    themes: tuple[str, ...],
    categories: tuple[str, ...],
    meetings: str | None,
    silence_is_consent: bool,
    public: bool,
    no_mail: bool,
    actor: str | None,
) -> None:
    """Open a round on all statements, or those the filters choose, and e-mail the invitations
    to the focal points (rcm.mail; not with --no-mail). Prints the round's id last."""
    from rcm import consult, mail, settings

    config = None if no_mail else settings.current().mail  # wrong settings stop here, first
    with _store(ctx) as store:
        filters = make_filters(store, themes=themes, categories=categories, meetings=meetings)
        who = _acting(store, actor)
        rnd = consult.open_round(
            store,
            title,
            filters=filters,
            purpose=purpose,
            deadline=deadline,
            silence_is_consent=silence_is_consent,
            public=public,
            actor=who,
        )
        w = _words(ctx)
        click.echo(
            w(
                "opened round {id} “{title}”: {n} statements ({scope})",
                id=rnd.id,
                title=rnd.title,
                n=rnd.statements,
                # the scope as recorded is English; the filters say it in the messages' language
                scope=describe_in(None, filters, w.lang, w) if w.spanish else rnd.scope,
            )
        )
        try:  # the round is open whatever happens to the mail
            report = mail.invite(store, rnd.id, actor=who, config=config, send=not no_mail)
            click.echo(report.sentence(w.lang))
        except RcmError as exc:
            message = _error_text(exc, w)
            click.echo(w("warning: the invitations were not sent: {why}", why=message), err=True)
    click.echo(rnd.id)


@round_group.command(name="invite")
@argument("round_id", metavar="ROUND", type=int)
@option("--force", is_flag=True, help="Also those already invited to this round.")
@_as_option(_SECRETARIAT)
@click.pass_context
def round_invite(ctx: click.Context, round_id: int, force: bool, actor: str | None) -> None:
    """E-mail the invitation to the focal points not yet invited to an open round (opened with
    --no-mail, new focal points, addresses added since)."""
    from rcm import mail, settings

    config = settings.current().mail
    with _store(ctx) as store:
        report = mail.invite(store, round_id, actor=_acting(store, actor), config=config,
                             force=force)  # fmt: skip
    click.echo(report.sentence(_words(ctx).lang))


@round_group.command(name="remind")
@argument("round_id", metavar="ROUND", type=int)
@option("--force", is_flag=True, help="Also those reminded within the last --hours.")
@option(
    "--hours",
    type=click.IntRange(0, 24 * 30),
    default=24,
    show_default=True,
    help="No second reminder to a person within this many hours.",
)
@_as_option(_SECRETARIAT)
@click.pass_context
def round_remind(
    ctx: click.Context, round_id: int, force: bool, hours: int, actor: str | None
) -> None:
    """E-mail a reminder, in their language, to the focal points of the countries that have not
    answered every statement of an open round: their progress and the days left."""
    from datetime import timedelta

    from rcm import mail, settings

    config = settings.current().mail
    with _store(ctx) as store:
        report = mail.remind(
            store,
            round_id,
            actor=_acting(store, actor),
            config=config,
            force=force,
            again_after=timedelta(hours=hours),
        )
    click.echo(report.sentence(_words(ctx).lang))


@round_group.command(name="close")
@argument("round_id", metavar="ROUND", type=int)
@_as_option(_SECRETARIAT)
@click.pass_context
def round_close(ctx: click.Context, round_id: int, actor: str | None) -> None:
    """Close a round: it becomes read-only."""
    from rcm import consult

    with _store(ctx) as store:
        rnd = consult.close_round(store, round_id, _acting(store, actor))
    click.echo(_words(ctx)("round {id} closed", id=rnd.id))


@round_group.command(name="reopen")
@argument("round_id", metavar="ROUND", type=int)
@_as_option(_SECRETARIAT)
@click.pass_context
def round_reopen(ctx: click.Context, round_id: int, actor: str | None) -> None:
    """Reopen a closed round."""
    from rcm import consult

    with _store(ctx) as store:
        rnd = consult.reopen_round(store, round_id, _acting(store, actor))
    click.echo(_words(ctx)("round {id} open", id=rnd.id))


@round_group.command(name="list")
@option("--json", "as_json", is_flag=True)
@click.pass_context
def round_list(ctx: click.Context, as_json: bool) -> None:
    """List the rounds."""
    from rcm import consult

    with _store(ctx) as store:
        rounds = consult.list_rounds(store)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rounds], ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    if rounds:
        click.echo(
            f"{'':>4}  {w('state'):<8}  {w('deadline'):<10}  {w('statements'):>5}  {w('title')}"
        )
    for r in rounds:
        state = w.status(r.state)
        click.echo(f"{r.id:>4}  {state:<8}  {r.deadline or '':<10}  {r.statements:>5}  {r.title}")


def _may_see_results(store: Store, round_id: int, name: str | None) -> None:
    """With ``--as NAME``: that account must be allowed to see the round's results (the web's
    rule, ``rcm.consult.check_can_see_results``); the operator may always."""
    from rcm import consult
    from rcm.users import acting_user

    if name is not None:
        consult.check_can_see_results(acting_user(store, name), consult.get_round(store, round_id))


@round_group.command(name="status")
@argument("round_id", metavar="ROUND", type=int)
@option("--json", "as_json", is_flag=True)
@_as_option("allowed to see the results (the Secretariat, an observer, anyone once published)")
@click.pass_context
def round_status_command(
    ctx: click.Context, round_id: int, as_json: bool, actor: str | None
) -> None:
    """Per statement its status (reaffirmed, to be updated, contested, pending) and each
    country's answer; per country how many it answered."""
    from rcm import consult

    with _store(ctx) as store:
        _may_see_results(store, round_id, actor)
        data = consult.round_status(store, round_id)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    rnd = data["round"]
    click.echo(
        w(
            "round {id} “{title}” ({state}): {n} statements",
            id=rnd["id"],
            title=rnd["title"],
            state=w.status(rnd["state"]),
            n=rnd["statements"],
        )
    )
    click.echo("  " + ", ".join(f"{w.status(k)} {v}" for k, v in sorted(data["totals"].items())))
    earlier = data["earlier_wording"]
    if earlier["answers"]:
        click.echo(
            "  "
            + w(
                "{answers} answers are to an earlier wording ({n} statements reworded since; the "
                "answers still count)",
                answers=earlier["answers"],
                n=earlier["statements"],
            )
        )
    click.echo(
        w("countries:")
        + " "
        + "  ".join(f"{c} {v['answered']}/{v['total']}" for c, v in data["countries"].items())
    )
    for s in data["statements"]:
        answered = sum(1 for a in s["answers"].values() if a)
        count = w("{k}/{n} answered", k=answered, n=len(s["answers"]))
        click.echo(f"  {s['id']:<12} {w.status(s['status']):<14} {count}")
        if s["earlier_wording"]:
            click.echo(f"    {_wording_changed(s, w)}")


@round_group.command(name="position")
@argument("round_id", metavar="ROUND", type=int)
@option("--json", "as_json", is_flag=True)
@_as_option("allowed to see the results (the Secretariat, an observer, anyone once published)")
@click.pass_context
def round_position(ctx: click.Context, round_id: int, as_json: bool, actor: str | None) -> None:
    """The regional position: statements reaffirmed by theme and category, those to be updated
    with the proposed wording, and, apart, the contested and pending ones."""
    from rcm import consult

    with _store(ctx) as store:
        _may_see_results(store, round_id, actor)
        data = consult.regional_position(store, round_id)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    rnd = data["round"]
    click.echo(w("Regional position — round {id} “{title}”", id=rnd["id"], title=rnd["title"]))
    for section in data["themes"]:
        click.echo(f"\nTS{section['theme']} {w.theme(section['theme'], section['title'])}")
        for category, entries in sorted(section["reaffirmed"].items()):
            click.echo(
                f"  {w.status('reaffirmed')} ({w.category(category, category)}): "
                + ", ".join(e["id"] for e in entries)
            )
        for e in section["to_be_updated"]:
            click.echo(f"  {w.status('to be updated')}: {e['id']}")
            for country, wording in sorted(e["proposed_wording"].items()):
                click.echo(f"    {country}: {wording}")
    for kind in ("contested", "pending"):
        if data[kind]:
            click.echo(f"\n{w.status(kind)}: " + ", ".join(e["id"] for e in data[kind]))
    flagged = [e for s in data["themes"] for group in s["reaffirmed"].values() for e in group]
    flagged += [e for s in data["themes"] for e in s["to_be_updated"]]
    flagged += data["contested"] + data["pending"]
    reworded = {e["id"]: e for e in flagged if e["earlier_wording"]}
    if reworded:
        click.echo("\n" + w("answered before the wording changed (still counted):"))
        for sid, e in sorted(reworded.items()):
            click.echo(f"  {sid}: {_wording_changed(e, w)}")


def _wording_changed(entry: dict[str, Any], w: Words) -> str:
    from rcm.export.position import wording_changed

    return wording_changed(entry, w)


@round_group.command(name="report")
@argument("round_id", metavar="ROUND", type=int)
@option(
    "--format",
    "fmt",
    type=click.Choice([f.name for f in registry.formats("position")]),
    default="docx",
    show_default=True,
    help=_format_help("position"),
)
@option("-o", "--output", required=True, metavar="FILE", help="Where to write it.")
@option("--lang", "lang", metavar="en|es", help="The document's language (default: English).")
@click.pass_context
def round_report(
    ctx: click.Context, round_id: int, fmt: str, output: str, lang: str | None
) -> None:
    """The round's regional position document: reaffirmed by theme and category, proposed wording,
    objections with their reasons, who has not answered."""
    doc_lang = _doc_lang(ctx, lang)
    with _store(ctx) as store:
        data = registry.get_format(fmt, "position").write(store, round_id, lang=doc_lang)
    _emit_bytes(data, output)


@round_group.command(name="questionnaire")
@argument("round_id", metavar="ROUND", type=int)
@option("--country", required=True, metavar="CRI", help="The Member Country (ISO 3166 alpha-3).")
@option("-o", "--output", required=True, metavar="FILE.xlsx")
@option(
    "--lang",
    "lang",
    metavar="en|es",
    help="Its language; default: `rcm --lang`, else that of the country's focal point accounts "
    "(`rcm users set NAME --lang es`), else English.",
)
@click.pass_context
def round_questionnaire(
    ctx: click.Context, round_id: int, country: str, output: str, lang: str | None
) -> None:
    """Write a country's questionnaire (.xlsx): one sheet per theme, with a drop-down."""
    chosen = _doc_lang(ctx, lang) if lang or (ctx.obj or {}).get("lang") else None
    with _store(ctx) as store:
        data = registry.get_format("xlsx", "questionnaire").write(
            store, round_id, country, lang=chosen
        )
    _write_file(output, data)
    click.echo(_words(ctx)("wrote {file}", file=output))


@round_group.command(name="import")
@argument("round_id", metavar="ROUND", type=int)
@argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_as_option(_ANSWERER)
@click.pass_context
def round_import(ctx: click.Context, round_id: int, file: Path, actor: str | None) -> None:
    """Read a filled-in questionnaire back: all answers or none."""
    from rcm import consult

    try:
        with file.open("rb") as fh:  # one byte more than allowed is enough to refuse it
            data = fh.read(consult.MAX_XLSX_BYTES + 1)
    except OSError as exc:
        raise RcmError(f"cannot read {file}: {exc.strerror or exc}") from None
    with _store(ctx) as store:
        result = consult.import_questionnaire(
            store, round_id, data, file.name, _acting(store, actor)
        )
    w = _words(ctx)
    click.echo(
        w(
            "{country}: {written} answers written, {unchanged} unchanged, {blank} left blank",
            country=result.country,
            written=result.written,
            unchanged=result.unchanged,
            blank=result.blank,
        )
    )
    if result.earlier_wording:
        click.echo(
            w(
                "{n} of them answer an earlier wording than the current one (recorded against "
                "the wording the questionnaire showed):",
                n=len(result.earlier_wording),
            )
        )
        for sid, shown, now in result.earlier_wording:
            line = w(
                "answered version {shown}; the wording is now version {now}", shown=shown, now=now
            )
            click.echo(f"  {sid}: {line}")


@cli.group(name="opinion")
def opinion_group() -> None:
    """A Member Country's answer on one statement in one round."""


@opinion_group.command(name="set")
@argument("round_id", metavar="ROUND", type=int)
@argument("country", metavar="COUNTRY")
@argument("statement_id", metavar="ID")
@argument("value", metavar="VALUE")
@option("--wording", help="The proposed wording (required for “valid with changes”).")
@option("--reason", help="Why (required for “no longer valid”).")
@option("--comment")
@option("--expect-version", type=int, help="Refuse if the opinion changed since this version.")
@option(
    "--statement-version",
    type=int,
    metavar="N",
    help="The version of the statement's wording answered (default: the current one, as "
    "`rcm show` prints it).",
)
@_as_option(_ANSWERER)
@click.pass_context
def opinion_set(
    ctx: click.Context,
    round_id: int,
    country: str,
    statement_id: str,
    value: str,
    wording: str | None,
    reason: str | None,
    comment: str | None,
    expect_version: int | None,
    statement_version: int | None,
    actor: str | None,
) -> None:
    """Record an answer: valid, "valid with changes", "no longer valid" or abstain."""
    from rcm import consult

    with _store(ctx) as store:
        op = consult.set_opinion(
            store,
            round_id,
            country,
            statement_id,
            value,
            proposed_wording=wording,
            reason=reason,
            comment=comment,
            author=_acting(store, actor),
            expected_version=expect_version,
            statement_version=statement_version,
        )
        later = consult.reworded_since(store, [op])
    w = _words(ctx)
    click.echo(
        w(
            "{country} on {id}: {value} (version {version}, to version {wording} of the wording)",
            country=op.country,
            id=op.statement_id,
            value=w.status(op.value.value),
            version=op.version,
            wording=op.statement_version,
        )
    )
    for n in later:
        note = w(
            "note: the wording changed on {on} (now version {version}):",
            on=n["changed_on"],
            version=n["version"],
        )
        click.echo(f"{note} {n['text']}")


def _managing_accounts(store: Store, name: str | None) -> str:
    # rcm.users' account functions take the name for the audit trail; the rule is the core's.
    from rcm.consult import secretariat_name

    return secretariat_name(_acting(store, name), "manage accounts")


@cli.group(name="users")
def users_group() -> None:
    """People: the Secretariat, country focal points, observers."""


@users_group.command(name="add")
@argument("username")
@option("--role", type=click.Choice(["secretariat", "focal_point", "observer"]), required=True)
@option("--country", metavar="CRI", help="A focal point's country (ISO 3166 alpha-3).")
@option("--name", default="", help="Full name.")
@option("--email", default=None, help="Where invitations and reminders go.")
@option(
    "--lang",
    "lang",
    default="en",
    show_default=True,
    metavar="en|es",
    help="The language of their documents (a focal point's questionnaire by default).",
)
@_as_option(_SECRETARIAT)
@click.pass_context
def users_add(
    ctx: click.Context,
    username: str,
    role: str,
    country: str | None,
    name: str,
    email: str | None,
    lang: str,
    actor: str | None,
) -> None:
    """Create a user; prints a generated password once."""
    from rcm import users

    with _store(ctx) as store:
        user, password = users.add_user(
            store,
            username,
            role,
            country=country,
            name=name,
            email=email,
            actor=_managing_accounts(store, actor),
            lang=lang,
        )
    w = _words(ctx)
    role = w.ctx("role", user.role.value) + (" " + user.country if user.country else "")
    click.echo(w("added {user} ({role})", user=user.username, role=role))
    click.echo(w("password: {password}", password=password))


@users_group.command(name="email")
@argument("username")
@argument("address")
@_as_option(_SECRETARIAT)
@click.pass_context
def users_email(ctx: click.Context, username: str, address: str, actor: str | None) -> None:
    """Set the e-mail address of an account ("" removes it)."""
    from rcm import users

    with _store(ctx) as store:
        user = users.set_email(store, username, address, actor=_managing_accounts(store, actor))
    click.echo(f"{user.username}: {user.email or _words(ctx)('no e-mail address')}")


@users_group.command(name="set")
@argument("username")
@option(
    "--lang",
    "lang",
    required=True,
    metavar="en|es",
    help="The language of their documents (a focal point's questionnaire by default).",
)
@_as_option(_SECRETARIAT)
@click.pass_context
def users_set(ctx: click.Context, username: str, lang: str, actor: str | None) -> None:
    """Change a user's settings: the language of their documents."""
    from rcm import users

    with _store(ctx) as store:
        user = users.set_language(store, username, lang, actor=_managing_accounts(store, actor))
    click.echo(f"{user.username}: " + _words(ctx)("language {lang}", lang=user.lang))


@users_group.command(name="list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List the users: name, role, country, and whether active, disabled or locked."""
    from rcm import users

    w = _words(ctx)
    with _store(ctx) as store:
        for u in users.list_users(store):
            if not u.active:
                state = w.ctx("account", "disabled")
            elif u.locked() and u.locked_until is not None:
                state = w(
                    "sign-in delayed until {when} UTC", when=f"{u.locked_until:%Y-%m-%d %H:%M:%S}"
                )
            else:
                state = w.ctx("account", "active")
            role = w.ctx("role", u.role.value)
            click.echo(f"{u.username:<24} {role:<12} {u.country or '':<4} {state:<10} {u.name}")


@users_group.command(name="disable")
@argument("username")
@_as_option(_SECRETARIAT)
@click.pass_context
def users_disable(ctx: click.Context, username: str, actor: str | None) -> None:
    """Disable a user and end their sessions (`rcm users enable` undoes it)."""
    from rcm import users

    with _store(ctx) as store:
        user = users.disable_user(store, username, actor=_managing_accounts(store, actor))
    click.echo(_words(ctx)("disabled {user}", user=user.username))


@users_group.command(name="enable")
@argument("username")
@_as_option(_SECRETARIAT)
@click.pass_context
def users_enable(ctx: click.Context, username: str, actor: str | None) -> None:
    """Enable a disabled user again (and lift their sign-in delays); on an enabled one, lift
    the delays (as `rcm users unlock`)."""
    from rcm import users

    with _store(ctx) as store:
        acting = _managing_accounts(store, actor)
        if users.get_user(store, username).active:
            lifted = users.unlock_user(store, username, actor=acting)
            user = users.get_user(store, username)
            w = _words(ctx)
            click.echo(
                w("{user} was already enabled;", user=user.username) + f" {_lifted(lifted, w)}"
            )
            return
        user = users.enable_user(store, username, actor=acting)
    click.echo(_words(ctx)("enabled {user}", user=user.username))


def _lifted(count: int, w: Words) -> str:
    if not count:
        return w("no sign-in delay to lift")
    return w.n(
        "sign-in delays lifted (from {n} address)",
        "sign-in delays lifted (from {n} addresses)",
        count,
    )


@users_group.command(name="unlock")
@argument("username")
@_as_option(_SECRETARIAT)
@click.pass_context
def users_unlock(ctx: click.Context, username: str, actor: str | None) -> None:
    """Lift a user's sign-in delays after failed attempts, from every address (audited)."""
    from rcm import users

    with _store(ctx) as store:
        lifted = users.unlock_user(store, username, actor=_managing_accounts(store, actor))
        user = users.get_user(store, username)
    click.echo(f"{user.username}: {_lifted(lifted, _words(ctx))}")


@users_group.command(name="reset-password")
@argument("username")
@_as_option(_SECRETARIAT)
@click.pass_context
def users_reset_password(ctx: click.Context, username: str, actor: str | None) -> None:
    """Give a user a new, generated password (printed once); ends their sessions."""
    from rcm import users

    with _store(ctx) as store:
        password = users.reset_password(store, username, actor=_managing_accounts(store, actor))
    click.echo(_words(ctx)("password: {password}", password=password))


# --- suggestions, the GCM, new declarations and their review ------------------------------------


@cli.group(name="mail")
def mail_group() -> None:
    """The e-mail of the consultation: invitations and reminders (docs/deploy.md)."""


@mail_group.command(name="retry")
@option("--now", "everything", is_flag=True, help="Also those still waiting to be retried.")
@_as_option(_SECRETARIAT)
@click.pass_context
def mail_retry(ctx: click.Context, everything: bool, actor: str | None) -> None:
    """Send the messages that are due: failed ones whose wait is over, and those a run left
    for the next (at most 100 a run; run it from cron)."""
    from rcm import mail, settings

    config = settings.current().mail
    with _store(ctx) as store:
        report = mail.deliver_due(
            store, actor=_acting(store, actor), config=config, everything=everything
        )
    click.echo(report.sentence(_words(ctx).lang))


@mail_group.command(name="log")
@option("--round", "round_id", type=int, metavar="ROUND", help="Only this round's.")
@option("--json", "as_json", is_flag=True)
@click.pass_context
def mail_log_command(ctx: click.Context, round_id: int | None, as_json: bool) -> None:
    """The latest messages, newest first: to whom, what, their state and why."""
    from rcm import mail

    with _store(ctx) as store:
        rows = mail.mail_log(store, round_id)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    for r in rows:
        why = f"  ({w(r['error'])})" if r["error"] else ""
        kind, state = w.ctx("mail", r["kind"]), w.ctx("mail", r["state"])
        click.echo(
            f"{r['created_at'][:16]}  {w('round')} {r['round_id']:<4} {kind:<10} {state:<8} "
            f"{r['attempts']}×  {r['username']} <{r['recipient'] or '-'}>{why}"
        )


@cli.group(name="suggest")
def suggest_group() -> None:
    """Machine suggestions (category, themes, GCM objectives) and how good they are."""


@suggest_group.command(name="evaluate")
@option("--json", "as_json", is_flag=True, help="Print every figure as JSON.")
@click.pass_context
def suggest_evaluate(ctx: click.Context, as_json: bool) -> None:
    """Cross-validated quality of the suggesters beside simple baselines."""
    from rcm.suggest.evaluate import evaluate

    with _store(ctx) as store:
        report = evaluate(store.load())
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    cat, th, ob = report["category"], report["themes"], report["objectives"]
    w = _words(ctx)

    def name_of(name: str) -> str:
        return f"{w.ctx('suggester', name):<14}"

    click.echo(
        w(
            "category ({n} curated labels, {folds}-fold cross-validation, copies kept in one fold)",
            n=cat["statements"],
            folds=cat["folds"],
        )
    )
    for name in ("model", "rules", "majority"):
        e = cat[name]
        accuracy = w("accuracy")
        click.echo(
            f"  {name_of(name)} {accuracy} {e['accuracy']:.3f}  macro-F1 {e['macro_f1']:.3f}"
        )
    click.echo(
        w(
            "themes ({n} statements, leave one meeting out, {k} meetings)",
            n=th["statements"],
            k=th["meetings_held_out"],
        )
    )
    for name in ("model", "rules", "majority"):
        e = th[name]
        sub = (
            "  " + w("sub-theme") + f" micro-F1 {e['subtheme_micro_f1']:.3f}"
            if "subtheme_micro_f1" in e
            else ""
        )
        click.echo(
            f"  {name_of(name)} micro-F1 {e['micro_f1']:.3f}  macro-F1 {e['macro_f1']:.3f}{sub}"
        )
    click.echo(
        w(
            "GCM objectives ({links} curated links on {n} statements)",
            links=ob["links"],
            n=ob["statements"],
        )
    )
    for name in ("model", "titles_only"):
        e = ob[name]
        click.echo(
            f"  {name_of(name)} precision@1 {e['precision_at_1']:.3f}  "
            f"recall@3 {e['recall_at_3']:.3f}  micro-F1 {e['micro_f1']:.3f}"
        )
    e = ob["majority"]
    click.echo(
        f"  {name_of('majority')} precision@1 {e['precision_at_1']:.3f}  "
        f"micro-F1 {e['micro_f1']:.3f}  " + w("(always objective {n})", n=e["objective"])
    )


@suggest_group.command(name="text")
@argument("text")
@option("--json", "as_json", is_flag=True, help="Print the suggestions as JSON.")
@click.pass_context
def suggest_text(ctx: click.Context, text: str, as_json: bool) -> None:
    """Suggest a category, themes and GCM objectives for TEXT (nothing is stored)."""
    from rcm.suggest import Suggester

    if not text.strip():
        raise RcmError("give the text of a statement to suggest for")
    with _store(ctx) as store:
        compendium = store.load()
        objectives = gcm.objective_titles(store)
    s = Suggester.train(compendium).suggest(text)
    if as_json:
        click.echo(json.dumps(s.as_dict(), indent=2, ensure_ascii=False))
        return
    titles = {(th.number, sub.order): sub.title for th in compendium.themes for sub in th.subthemes}
    _print_suggestions(s.as_dict(), titles, objectives, _words(ctx))


def _print_suggestions(
    s: dict[str, Any],
    titles: dict[tuple[int, int], str],
    objectives: dict[int, str],
    w: Words,
) -> None:
    c = s["category"]
    cue = (
        "; " + w("governing phrase") + f" “{c['cue']['phrase']}” ({w(c['cue']['rule'])})"
        if c["cue"]
        else ""
    )
    category = _category_name(c["category"], w)
    confidence = w("confidence {value}", value=f"{c['confidence']:.2f}")
    click.echo("  " + w("category:") + f" {category} ({confidence}{cue})")
    if c["evidence"]:
        shown = [_cue_mark(e, w) for e in c["evidence"]]
        click.echo("    " + w("words that weighed most:") + f" {', '.join(shown)}")
    suggested = w.status("suggested")
    for score in s["themes"]["scores"][:3]:
        mark = suggested if score["suggested"] else " " * len(suggested)
        sub = w.subtheme(
            score["theme"], score["subtheme"], titles.get((score["theme"], score["subtheme"]), "")
        )
        click.echo(f"  {mark} TS{score['theme']} {score['score']:.2f}  {sub}")
    for o in s["objectives"]:
        title = w.objective(o["objective"], objectives.get(o["objective"], ""))
        click.echo(
            f"  {_gcm(w)} {o['objective']:>2} {o['score']:.2f}  {title}"
            f"  [{', '.join(o['evidence'])}]"
        )
    if not s["objectives"]:
        click.echo(f"  {_gcm(w)}: " + w("no objective scores high enough"))


def _cue_mark(evidence: str, w: Words) -> str:
    """The suggester's own features "[cue: commitment]", "[clauses: commitment to a norm]" in the
    messages' words; other evidence (the stems that weighed) is the model's, shown as it is."""
    if evidence.startswith("[cue: ") and evidence.endswith("]"):
        name = evidence[6:-1]
        shown = w("none") if name == "none" else w.category(name, name)
        return "[" + w("cue: {category}", category=shown) + "]"
    if evidence.startswith("[clauses: ") and evidence.endswith("]"):
        name = evidence[10:-1]
        shown = w.category(name, name) if " " not in name else w(name)
        return "[" + w("clauses: {category}", category=shown) + "]"
    return evidence


def _gcm(w: Words) -> str:
    """The Compact's abbreviation: GCM, in Spanish PMM (Pacto Mundial para la Migración)."""
    return "PMM" if w.spanish else "GCM"


@cli.group(name="gcm")
def gcm_group() -> None:
    """The Global Compact for Migration's 23 objectives and the statements that serve them."""


@gcm_group.command(name="coverage")
@option(
    "--source",
    type=click.Choice(gcm.SOURCES),
    default="all",
    show_default=True,
    help="all: curated and suggested links; curated: only links a person chose.",
)
@option("--json", "as_json", is_flag=True, help="Print the matrix as JSON.")
@click.pass_context
def gcm_coverage(ctx: click.Context, source: str, as_json: bool) -> None:
    """Coverage matrix: GCM objectives × thematic sessions, how many statements."""
    with _store(ctx) as store:
        cov = gcm.coverage(store, source)
    if as_json:
        click.echo(json.dumps(cov.as_dict(), indent=2, ensure_ascii=False))
        return
    themes = list(cov.themes)
    w = _words(ctx)
    header = w.ctx("coverage column", "objective").ljust(52)
    click.echo(header + "".join(f"TS{n:<4}" for n in themes) + w.statements_column.lower())
    for r in cov.rows:
        title = f"{r.objective:>2}. {w.objective(r.objective, r.title)}"
        title = title if len(title) <= 50 else title[:49] + "…"
        cells = "".join(f"{(r.by_theme[n] or '·')!s:<6}" for n in themes)
        click.echo(f"{title:<52}{cells}{r.statements}")
    click.echo(
        w(
            "{n} statements linked; objectives without any statement: {which}",
            n=cov.statements,
            which=", ".join(str(n) for n in cov.uncovered) or w("none"),
        )
    )


@cli.group(name="declaration")
def declaration_group() -> None:
    """New declarations: split into statements and queued for review."""


@declaration_group.command(name="add")
@argument("file", type=click.Path(dir_okay=False, path_type=Path))
@option(
    "--meeting",
    required=True,
    metavar="XXII",
    help="The meeting (Roman or number; XXV-E2 for a cycle's second extraordinary meeting).",
)
@option("--year", required=True, type=int, help="The year it was held.")
@option("--extraordinary", is_flag=True, help="The extraordinary meeting of that cycle (XXV-E1).")
@option("--place", help="Where it was held, e.g. 'San Salvador, El Salvador'.")
@option("--date", metavar="YYYY-MM-DD", help="When it was held.")
@option(
    "--reference",
    metavar="SYMBOL|URL",
    help="The declaration's document symbol or address, which citations name.",
)
@_as_option(_SECRETARIAT)
@click.pass_context
def declaration_add(
    ctx: click.Context,
    file: Path,
    meeting: str,
    year: int,
    extraordinary: bool,
    place: str | None,
    date: str | None,
    reference: str | None,
    actor: str | None,
) -> None:
    """Split FILE (.txt or .docx) into statements and queue them, with suggestions, for review.

    A meeting has one declaration: a corrected file of it goes through `rcm declaration
    replace`."""
    w = _words(ctx)
    text = read_declaration(file)
    for line in at_a_glance(text.reading, say=w):
        click.echo(line)
    with _store(ctx) as store:
        record, queued = review.add_declaration(
            store,
            text,
            meeting=meeting,
            year=year,
            extraordinary=extraordinary,
            place=place,
            date=date,
            reference=reference,
            actor=_acting(store, actor),
        )
    click.echo(
        w(
            "declaration {id}: {meeting} ({year}), {n} statements queued for review, {preamble} "
            "preamble paragraphs and {closing} closing lines kept apart",
            id=record.id,
            meeting=w.meeting(record.meeting.label),
            year=record.meeting.year,
            n=len(queued),
            preamble=len(text.preamble),
            closing=len(text.closing),
        )
    )
    click.echo(w("next:") + f" rcm review list --declaration {record.id}")


@declaration_group.command(name="list")
@option("--json", "as_json", is_flag=True, help="Print the declarations as JSON.")
@click.pass_context
def declaration_list(ctx: click.Context, as_json: bool) -> None:
    """Declarations added for review, with how many statements are pending, accepted, rejected."""
    with _store(ctx) as store:
        found = review.declarations(store)
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in found], indent=2, ensure_ascii=False))
        return
    w = _words(ctx)
    if not found:
        click.echo(
            w("no declarations added yet:") + " rcm declaration add FILE --meeting XXII --year 2017"
        )
    for d in found:
        state = "" if d.active else f"  [{_closed_state(d, w)}]"
        click.echo(
            f"{d.id:>3}  {w.meeting(d.meeting.label)} ({d.meeting.year})  {d.name}  "
            f"{_counts(d.counts, w)}{state}"
        )


def _counts(c: dict[str, int], w: Words) -> str:
    """A declaration's proposals by state: "pending 2, accepted 1, rejected 0"."""
    return ", ".join(f"{w.status(s)} {c[s]}" for s in ("pending", "accepted", "rejected"))


@declaration_group.command(name="add-version")
@argument("file", type=click.Path(dir_okay=False, path_type=Path))
@option("--declaration", "declaration_id", type=int, required=True, help="The declaration.")
@option("--lang", type=click.Choice(("en", "es")), required=True, help="The language of FILE.")
@option("--dry-run", is_flag=True, help="Align and report, write nothing.")
@option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_as_option(_SECRETARIAT)
@click.pass_context
def declaration_add_version(
    ctx: click.Context,
    file: Path,
    declaration_id: int,
    lang: str,
    dry_run: bool,
    as_json: bool,
    actor: str | None,
) -> None:
    """Align FILE, the declaration in its other language, to its statements, and queue each
    wording for review (`rcm review translations`). A statement that does not align is reported
    and nothing is written."""
    from rcm import translate

    text = read_declaration(file)
    with _store(ctx) as store:
        report = translate.add_version(
            store,
            text,
            declaration_id=declaration_id,
            lang=lang,
            actor=_acting(store, actor),
            dry_run=dry_run,
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    w = _words(ctx)
    _print_alignment(report, w("{n} statements", n=len(text.statements)), w)


def _closed_state(d: review.Declaration, w: Words) -> str:
    if d.state == "replaced":
        return w("replaced by declaration {id}", id=d.replaced_by)
    if d.state == "withdrawn":
        return w("withdrawn: {reason}", reason=d.withdrawn_reason)
    return w.status(d.state)


@declaration_group.command(name="withdraw")
@argument("declaration_id", type=int)
@option("--reason", required=True, help="Why it is taken out of review.")
@_as_option(_SECRETARIAT)
@click.pass_context
def declaration_withdraw(
    ctx: click.Context, declaration_id: int, reason: str, actor: str | None
) -> None:
    """Take declaration DECLARATION_ID out of review: its pending proposals are rejected in one
    step. Statements already accepted from it stay in the compendium (listed)."""
    with _store(ctx) as store:
        closed = review.withdraw_declaration(
            store, declaration_id, reason=reason, actor=_acting(store, actor)
        )
    d = closed.declaration
    w = _words(ctx)
    click.echo(
        w(
            "declaration {id} ({meeting}) withdrawn: {n} pending proposals rejected",
            id=d.id,
            meeting=w.meeting(d.meeting.label),
            n=len(closed.rejected),
        )
    )
    _print_kept(closed.kept, w)


def _print_kept(kept: list[str], w: Words, corrected: bool = False) -> None:
    if kept:
        message = (
            "{n} statements accepted from it are not in the corrected file and stay: {ids} "
            "(retire or reword them as any statement of the compendium)"
            if corrected
            else "{n} statements accepted from it stay in the compendium: {ids} (retire or "
            "reword them as any statement of the compendium)"
        )
        click.echo(w(message, n=len(kept), ids=", ".join(kept)))
    else:
        click.echo(w("no statement had been accepted from it"))


@declaration_group.command(name="replace")
@argument("declaration_id", type=int)
@argument("file", type=click.Path(dir_okay=False, path_type=Path))
@option("--reason", help="Why (default: a corrected file).")
@option("--year", type=int, help="The year it was held (default: as before).")
@option("--place", help="Where it was held (default: as before).")
@option("--date", metavar="YYYY-MM-DD", help="When it was held (default: as before).")
@_as_option(_SECRETARIAT)
@click.pass_context
def declaration_replace(
    ctx: click.Context,
    declaration_id: int,
    file: Path,
    reason: str | None,
    year: int | None,
    place: str | None,
    date: str | None,
    actor: str | None,
) -> None:
    """Replace declaration DECLARATION_ID by a corrected FILE, for the same meeting.

    The old declaration's pending proposals are rejected. A statement of FILE with the same text
    (letters and digits, whatever spacing, case or punctuation) as one accepted from the old
    file is linked to that statement, not queued again; the rest is queued for review."""
    text = read_declaration(file)
    with _store(ctx) as store:
        closed = review.replace_declaration(
            store,
            declaration_id,
            text,
            actor=_acting(store, actor),
            reason=reason,
            year=year,
            place=place,
            date=date,
        )
    new = closed.replacement
    assert new is not None
    w = _words(ctx)
    click.echo(
        w(
            "declaration {old} replaced by declaration {id}: {meeting} ({year}); {n} pending "
            "proposals of the old file rejected",
            old=declaration_id,
            id=new.id,
            meeting=w.meeting(new.meeting.label),
            year=new.meeting.year,
            n=len(closed.rejected),
        )
    )
    click.echo(
        w(
            "{n} statements queued for review, {k} linked to statements already accepted",
            n=new.counts["pending"],
            k=len(closed.carried),
        )
        + "".join(
            f"\n  {sid} (" + w("proposal {old} -> {new}", old=old, new=pid) + ")"
            for old, pid, sid in closed.carried
        )
    )
    if closed.not_in_new_file:
        _print_kept(closed.not_in_new_file, w, corrected=True)
    click.echo(w("next:") + f" rcm review show --declaration {new.id}")


@cli.group(name="review")
def review_group() -> None:
    """The review queue: accept, edit or reject each statement of a new declaration."""


@review_group.command(name="list")
@option("--declaration", "declaration_id", type=int, help="Only this declaration.")
@option("--state", type=click.Choice(review.STATES), help="Only proposals in this state.")
@option("--json", "as_json", is_flag=True, help="Print the proposals as JSON.")
@click.pass_context
def review_list(
    ctx: click.Context, declaration_id: int | None, state: str | None, as_json: bool
) -> None:
    """Proposals with their suggested category and placements."""
    with _store(ctx) as store:
        found = review.proposals(store, declaration_id=declaration_id, state=state)
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in found], indent=2, ensure_ascii=False))
        return
    w = _words(ctx)
    if not found:
        click.echo(w("nothing to review"))
    for p in found:
        places = " ".join(f"{a}.{b}" for a, b in p.suggested_placements)
        text = p.text if len(p.text) <= 90 else p.text[:89] + "…"
        done = f" -> {p.statement_id}" if p.statement_id else ""
        category = _category_name(p.suggested_category, w)
        click.echo(
            f"{p.id:>4}  {w.status(p.state):<9}{done}  {p.meeting_code} #{p.position}  "
            f"[{category}; {places}]  {text}"
        )


def _category_name(name: str | None, w: Words) -> str:
    """A category's value ("principle") as the messages name it ("Principio" in Spanish)."""
    return w.category(name, name) if name else w("none")


@review_group.command(name="show")
@argument("proposal_id", type=int, required=False)
@option(
    "--declaration",
    "declaration_id",
    type=int,
    help="Show a declaration: its numbered preamble, proposals and closing paragraphs.",
)
@option("--json", "as_json", is_flag=True, help="Print it as JSON.")
@click.pass_context
def review_show(
    ctx: click.Context, proposal_id: int | None, declaration_id: int | None, as_json: bool
) -> None:
    """One proposal: its text, where it came from, every suggestion and why; or (--declaration)
    a whole declaration as read, its preamble and closing paragraphs numbered apart."""
    if (proposal_id is None) == (declaration_id is None):
        raise click.UsageError("give a PROPOSAL_ID or --declaration N")
    if declaration_id is not None:
        _show_declaration(ctx, declaration_id, as_json)
        return
    assert proposal_id is not None
    with _store(ctx) as store:
        p = review.proposal(store, proposal_id)
        titles = store.subtheme_titles()
        objectives = gcm.objective_titles(store)
    if as_json:
        click.echo(json.dumps(p.as_dict(), indent=2, ensure_ascii=False))
        return
    w = _words(ctx)
    origin = w("declaration") if p.origin in (None, "", "declaration") else p.origin
    line = w("line {n}", n=p.line) if p.line else origin
    head = w(
        "proposal {id}: {meeting}, statement {n} ({line}), {state}",
        id=p.id,
        meeting=p.meeting_code,
        n=p.position,
        line=line,
        state=w.status(p.state),
    )
    click.echo(head)
    if p.lead:
        click.echo("  " + w("under:") + f" {p.lead}")
    click.echo("")
    click.echo(p.text)
    parts = review.split_points(p)
    if p.state == "pending" and len(parts) > 1:
        click.echo("\n" + w("it can be split before") + " (rcm review split --sentence K):")
        for k, part in enumerate(parts[1:], 2):
            click.echo(f"  {k}. {part}")
    click.echo("\n" + w("suggestions:"))
    _print_suggestions(p.suggestions, titles, objectives, w)
    if p.state != "pending":
        when = w(" on {when} UTC", when=f"{p.decided_at:%Y-%m-%d %H:%M}") if p.decided_at else ""
        by = w("{state} by {who}", state=w.status(p.state), who=p.decided_by)
        click.echo(f"\n{by}{when}")
        for line in _decision_lines(p.decision or {}, w):
            click.echo(f"  {line}")


def _decision_lines(decision: dict[str, Any], w: Words) -> list[str]:
    """What was decided on a proposal: the recorded JSON in English (scripts read it), one line
    per part in Spanish."""
    if not w.spanish:
        return [json.dumps(decision, ensure_ascii=False)]
    lines = []
    if "category" in decision:
        how = w("as suggested") if decision.get("category_as_suggested") else w("changed")
        lines.append(w("category:") + f" {_category_name(decision['category'], w)} ({how})")
    if "placements" in decision:
        places = ", ".join(f"TS{a}.{b}" for a, b in decision["placements"])
        how = w("as suggested") if decision.get("placements_as_suggested") else w("changed")
        lines.append(w("filed under:") + f" {places} ({how})")
    if "objectives" in decision:
        chosen = ", ".join(map(str, decision["objectives"])) or w("none")
        how = w("as suggested") if decision.get("objectives_as_suggested") else w("changed")
        lines.append(w("GCM objectives:") + f" {chosen} ({how})")
    if "text_edited" in decision:
        lines.append(w("text edited:") + " " + (w("yes") if decision["text_edited"] else w("no")))
    if "reason" in decision:
        lines.append(w("reason:") + f" {decision['reason']}")
    if "carried_over_from" in decision:
        lines.append(
            w(
                "linked as the same text to proposal {p} of declaration {d}",
                p=decision["carried_over_from"],
                d=decision.get("declaration", ""),
            )
        )
    return lines


def _show_declaration(ctx: click.Context, declaration_id: int, as_json: bool) -> None:
    with _store(ctx) as store:
        d = review.declaration_record(store, declaration_id)
        queue = review.proposals(store, declaration_id=declaration_id)
    if as_json:
        data = d.as_dict() | {"proposals": [p.as_dict() for p in queue]}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    w = _words(ctx)
    state = w.status(d.state) if d.active else _closed_state(d, w)
    click.echo(
        w("declaration {id}:", id=d.id)
        + f" {w.meeting(d.meeting.label)} ({d.meeting.year}), {d.name}, {state}; "
        + _counts(d.counts, w)
    )
    click.echo(d.title)
    if d.reading is not None:
        click.echo(
            "\n" + w("as read (line numbers of the file; paragraph numbers in a Word file):")
        )
        for line in at_a_glance(d.reading, say=w):
            click.echo(line)
    for part, paragraphs in (("preamble", d.preamble), ("closing", d.closing)):
        if part == "closing":
            click.echo("\n" + w("statements:"))
            for p in queue:
                done = f" -> {p.statement_id}" if p.statement_id else ""
                what = w("proposal {id}", id=p.id) + f" {w.status(p.state)}{done}"
                click.echo(f"  #{p.position:<3} {what}: {p.text}")
        click.echo(f"\n{w(part)} ({w('kept apart')}; rcm review promote --{part} K):")
        if not paragraphs:
            click.echo("  (" + w("none") + ")")
        for k, text in enumerate(paragraphs, 1):
            made = d.promoted_from(part, k)
            mark = (
                "  [" + w("promoted: proposal {ids}", ids=", ".join(map(str, made))) + "]"
                if made
                else ""
            )
            click.echo(f"  {k}. {text}{mark}")


@review_group.command(name="promote")
@option("--declaration", "declaration_id", type=int, required=True)
@option("--preamble", type=int, metavar="K", help="The preamble's K-th paragraph.")
@option("--closing", type=int, metavar="K", help="The closing's K-th paragraph.")
@_as_option(_SECRETARIAT)
@click.pass_context
def review_promote(
    ctx: click.Context,
    declaration_id: int,
    preamble: int | None,
    closing: int | None,
    actor: str | None,
) -> None:
    """Make a preamble or closing paragraph a proposal to review (see `rcm review show
    --declaration N` for their numbers)."""
    if (preamble is None) == (closing is None):
        raise click.UsageError("give --preamble K or --closing K")
    part, number = ("preamble", preamble) if preamble is not None else ("closing", closing)
    assert number is not None
    with _store(ctx) as store:
        p = review.promote_paragraph(
            store, declaration_id, part, number, actor=_acting(store, actor)
        )
    w = _words(ctx)
    message = (
        "preamble paragraph {k} is proposal {id} (statement {n}), pending: [{category}]"
        if part == "preamble"
        else "closing paragraph {k} is proposal {id} (statement {n}), pending: [{category}]"
    )
    category = _category_name(p.suggested_category, w)
    click.echo(w(message, k=number, id=p.id, n=p.position, category=category))


@review_group.command(name="split")
@argument("proposal_id", type=int)
@option("--at", "at", metavar="TEXT", help="The text the second part starts with.")
@option("--sentence", type=int, metavar="K", help="The second part starts at part K (≥ 2).")
@_as_option(_SECRETARIAT)
@click.pass_context
def review_split(
    ctx: click.Context, proposal_id: int, at: str | None, sentence: int | None, actor: str | None
) -> None:
    """Cut a pending proposal in two at a sentence (or, for a list, an item)."""
    with _store(ctx) as store:
        a, b = review.split_proposal(
            store, proposal_id, at=at, sentence=sentence, actor=_acting(store, actor)
        )
    w = _words(ctx)
    for p in (a, b):
        click.echo(_proposal_line(p, w))


def _proposal_line(p: review.Proposal, w: Words) -> str:
    """ "proposal 12 (statement 3) [Principio]: text" """
    head = w("proposal {id} (statement {n})", id=p.id, n=p.position)
    return f"{head} [{_category_name(p.suggested_category, w)}]: {p.text}"


@review_group.command(name="merge")
@argument("proposal_id", type=int)
@_as_option(_SECRETARIAT)
@click.pass_context
def review_merge(ctx: click.Context, proposal_id: int, actor: str | None) -> None:
    """Join a pending proposal with the next one of its declaration."""
    with _store(ctx) as store:
        p = review.merge_proposal(store, proposal_id, actor=_acting(store, actor))
    click.echo(_proposal_line(p, _words(ctx)))


@review_group.command(name="add")
@option("--declaration", "declaration_id", type=int, required=True)
@option("--text", required=True, help="The statement's wording.")
@_as_option(_SECRETARIAT)
@click.pass_context
def review_add(ctx: click.Context, declaration_id: int, text: str, actor: str | None) -> None:
    """Add a statement by hand to a declaration: a proposal reviewed like the others."""
    with _store(ctx) as store:
        p = review.add_proposal(store, declaration_id, text, actor=_acting(store, actor))
    w = _words(ctx)
    head = w("proposal {id} (statement {n}) added, pending:", id=p.id, n=p.position)
    click.echo(f"{head} [{_category_name(p.suggested_category, w)}]")


@review_group.command(name="accept")
@argument("proposal_id", type=int)
@option("--text", help="The statement's wording, where it should differ from the draft.")
@option("--category", help="principle, understanding or commitment (default: suggested).")
@option(
    "--place",
    "places",
    multiple=True,
    metavar="5.2",
    help="File under theme.sub-theme (repeat for several; default: as suggested).",
)
@option(
    "--objective",
    "objectives",
    multiple=True,
    type=int,
    metavar="N",
    help="GCM objective it serves (repeat; default: as suggested, marked suggested).",
)
@_as_option(_SECRETARIAT)
@click.pass_context
def review_accept(
    ctx: click.Context,
    proposal_id: int,
    text: str | None,
    category: str | None,
    places: tuple[str, ...],
    objectives: tuple[int, ...],
    actor: str | None,
) -> None:
    """Add the proposal to the compendium, as suggested or with your changes."""
    placements = [review.parse_placement(x) for x in places] or None
    with _store(ctx) as store:
        p = review.accept_proposal(
            store,
            proposal_id,
            actor=_acting(store, actor),
            text=text,
            category=category,
            placements=placements,
            objectives=list(objectives) if objectives else None,
        )
    d = p.decision or {}
    w = _words(ctx)
    click.echo(
        w(
            "proposal {id} accepted as {statement}: {category}, filed under",
            id=p.id,
            statement=p.statement_id,
            category=_category_name(d.get("category"), w),
        )
        + " "
        + ", ".join(f"TS{a}.{b}" for a, b in d.get("placements", []))
    )


@review_group.command(name="reject")
@argument("proposal_id", type=int)
@option("--reason", required=True, help="Why it does not belong in the compendium.")
@_as_option(_SECRETARIAT)
@click.pass_context
def review_reject(ctx: click.Context, proposal_id: int, reason: str, actor: str | None) -> None:
    """Keep the proposal out of the compendium, saying why."""
    with _store(ctx) as store:
        p = review.reject_proposal(store, proposal_id, actor=_acting(store, actor), reason=reason)
    click.echo(_words(ctx)("proposal {id} rejected", id=p.id))


@review_group.command(name="reopen")
@argument("proposal_id", type=int)
@option("--reason", required=True, help="Why it goes back in the queue.")
@_as_option(_SECRETARIAT)
@click.pass_context
def review_reopen(ctx: click.Context, proposal_id: int, reason: str, actor: str | None) -> None:
    """Put a rejected proposal back in the queue, saying why (the rejection stays audited)."""
    with _store(ctx) as store:
        p = review.reopen_proposal(store, proposal_id, actor=_acting(store, actor), reason=reason)
    click.echo(_words(ctx)("proposal {id} is pending again", id=p.id))


@review_group.command(name="translations")
@option("--state", type=click.Choice(("pending", "accepted", "rejected")))
@option("--statement", "statement_id", help="Only this statement's.")
@option("--declaration", "declaration_id", type=int, help="Only this declaration's.")
@option("--json", "as_json", is_flag=True, help="Print them as JSON.")
@click.pass_context
def review_translations(
    ctx: click.Context,
    state: str | None,
    statement_id: str | None,
    declaration_id: int | None,
    as_json: bool,
) -> None:
    """Wordings in the other language (from a Spanish edition or a declaration's version)."""
    from rcm import translate

    with _store(ctx) as store:
        found = translate.translations(
            store, state=state, statement_id=statement_id, declaration_id=declaration_id
        )
    if as_json:
        click.echo(json.dumps([x.as_dict() for x in found], indent=2, ensure_ascii=False))
        return
    w = _words(ctx)
    if not found:
        click.echo(w("no translations to review"))
    for x in found:
        target = x.statement_id or w("proposal {id}", id=x.proposal_id)
        text = x.text if len(x.text) <= 80 else x.text[:79] + "…"
        score = x.likeness.get("score")
        click.echo(f"{x.id:>4}  {w.status(x.state):<9}  {target}  [{x.lang}, {score}]  {text}")


@review_group.command(name="accept-translation")
@argument("translation_id", type=int)
@option("--text", help="The wording, where it should differ from the one aligned.")
@_as_option(_SECRETARIAT)
@click.pass_context
def review_accept_translation(
    ctx: click.Context, translation_id: int, text: str | None, actor: str | None
) -> None:
    """Give the statement this wording in the other language."""
    from rcm import translate

    with _store(ctx) as store:
        x = translate.accept_translation(
            store, translation_id, actor=_acting(store, actor), text=text
        )
    click.echo(
        _words(ctx)(
            "translation {id} accepted: statement {statement} has its {lang} text",
            id=x.id,
            statement=x.statement_id,
            lang=x.lang,
        )
    )


@review_group.command(name="reject-translation")
@argument("translation_id", type=int)
@option("--reason", required=True, help="Why the wording is not the statement's.")
@_as_option(_SECRETARIAT)
@click.pass_context
def review_reject_translation(
    ctx: click.Context, translation_id: int, reason: str, actor: str | None
) -> None:
    """Keep this wording off the statement, saying why."""
    from rcm import translate

    with _store(ctx) as store:
        x = translate.reject_translation(
            store, translation_id, actor=_acting(store, actor), reason=reason
        )
    click.echo(_words(ctx)("translation {id} rejected", id=x.id))


# --- backups --------------------------------------------------------------------------------------


def _print_tables(tables: dict[str, int], err: bool = False) -> None:
    width = max(len(name) for name in tables)
    for name, n in tables.items():
        click.echo(f"  {name:<{width}}  {n:>9,}", err=err)


@cli.command(name="audit")
@option("--action", metavar="KIND[.VERB]", help='e.g. "user" or "round.close".')
@option("--actor", metavar="NAME", help="Only changes made by this person.")
@option("--object", "obj", metavar="TEXT", help='Objects containing TEXT, e.g. "round 3".')
@option("--limit", type=int, default=50, show_default=True)
@option("--offset", type=int, default=0, show_default=True)
@option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@click.pass_context
def audit_command(
    ctx: click.Context,
    action: str | None,
    actor: str | None,
    obj: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """The audit trail, newest first: every change to rounds and opinions, the review queue and
    the accounts, who made it and when, with what it was before and after."""
    from rcm.audit import audit_trail

    with _store(ctx) as store:
        page = audit_trail(store, action=action, actor=actor, obj=obj, limit=limit, offset=offset)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "total": page.total,
                    "offset": page.offset,
                    "limit": page.limit,
                    "events": [e.as_dict() for e in page.events],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for e in page.events:
        change = json.dumps(e.after, ensure_ascii=False) if e.after is not None else ""
        if len(change) > 120:  # the whole of it: --json
            change = change[:119] + "…"
        click.echo(f"{e.at:%Y-%m-%d %H:%M:%S}Z  {e.actor:<16} {e.action:<22} {e.object}  {change}")
    w = _words(ctx)
    shown = f"{offset + 1}–{offset + len(page.events)}" if page.events else w("none")
    click.echo(w("{shown} of {total} events", shown=shown, total=page.total), err=True)


@cli.command(name="backup")
@option("-o", "--output", required=True, metavar="FILE", help="Where to write it (- = stdout).")
@click.pass_context
def backup_command(ctx: click.Context, output: str) -> None:
    """Back up the whole database to FILE (rcm-backup/1: gzip-compressed JSON Lines).

    Consistent even while people write (one read transaction). Holds users' password hashes: keep
    it as safe as the database. Sign-in sessions and the search index are not in it. Signed with
    RCM_SECRET_KEY (HMAC-SHA256), unless that is the development key."""
    from rcm import backup as backups

    with _store(ctx) as store:
        data = backups.backup(store)
    header = backups.read_header(data, output)
    _emit_bytes(data, output, private=True)
    to_stderr = output == "-"  # the backup itself is on stdout
    tables: dict[str, int] = header["tables"]
    w = _words(ctx)
    signed = w("signed") if "signature" in header else w("unsigned (development key)")
    click.echo(
        w(
            "{format}, schema {schema}, {signed}: {rows:,} rows in {n} tables",
            format=header["format"],
            schema=header["schema_revision"],
            signed=signed,
            rows=sum(tables.values()),
            n=len(tables),
        ),
        err=to_stderr,
    )
    _print_tables(tables, err=to_stderr)


@cli.command(name="restore")
@argument("file", type=click.Path(path_type=Path))
@option(
    "--allow-unsigned",
    is_flag=True,
    help="Restore all the same a backup that is unsigned (refused in production) or whose "
    "signature does not match RCM_SECRET_KEY (refused everywhere). Only for a file you know the "
    "origin of.",
)
@click.pass_context
def restore_command(ctx: click.Context, file: Path, allow_unsigned: bool) -> None:
    """Restore the backup FILE (from `rcm backup`) into a new, empty database (--db).

    SQLite and PostgreSQL either way round. The whole file is checked first (every row, and its
    signature against RCM_SECRET_KEY: a wrong one is refused, and in production an unsigned one
    too, unless --allow-unsigned); then everything is written in one transaction, or nothing.
    Users sign in again (sessions are not in a backup)."""
    from rcm import backup as backups
    from rcm.errors import Problem

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise backups.BackupError(
            str(file), [Problem(0, f"cannot be read ({exc.strerror or exc})")]
        ) from None
    w = _words(ctx)
    with _store(ctx, create=True) as store:
        result = backups.restore(store, data, name=str(file), allow_unsigned=allow_unsigned)
        where = store.display_url
    if result.signature != "valid":
        why = w("unsigned") if result.signature == "unsigned" else w("signed with another key")
        click.echo(
            "rcm: "
            + w(
                "warning: {file} is {why}: nothing proves it was not changed since it was made; "
                "restored all the same",
                file=file,
                why=why,
            ),
            err=True,
        )
    click.echo(
        w(
            "restored {file} ({format}, schema {schema}, made by rcm {version} at {made}) into "
            "{db}: {rows:,} rows in {n} tables, {indexed:,} statements indexed",
            file=file,
            format=result.format,
            schema=result.schema_revision,
            version=result.rcm_version,
            made=result.created_at,
            db=where,
            rows=result.rows,
            n=len(result.tables),
            indexed=result.indexed,
        )
    )
    _print_tables(result.tables)


def main() -> None:
    cli.main(prog_name="rcm")


if __name__ == "__main__":  # pragma: no cover
    main()
