"""The language of the documents and of the command line: English (the default, the words as
written in the code) or Spanish (``locales/es/LC_MESSAGES/rcm.po``, compiled in memory).

The command line's own words are in this catalogue too, and so are Click's ("Usage:", "No such
option …"): Click says them through Python's module-level gettext, which :func:`global_gettext`
points at this catalogue for the length of one command.

The web has its own catalogue (``rcm.web.i18n``) for its pages; this one holds what the Word,
PDF and Excel documents, the questionnaire and the ``rcm`` command say. A document asks for a
:class:`Words` in its language and writes every phrase through it; the Spanish names of themes,
sub-themes, categories and GCM objectives come from the taxonomy's labels
(:func:`rcm.taxonomy.label_es`), and a meeting is "XIX CRM" in Spanish (:meth:`Words.meeting`).
"""

from __future__ import annotations

import contextlib
import gettext
import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from functools import cache
from importlib.resources import files
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from rcm import taxonomy
from rcm.errors import BadInput
from rcm.model import Statement, parse_meeting, to_roman

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "ONE_STATEMENT",
    "Words",
    "check_lang",
    "global_gettext",
    "lang_from_env",
    "speak",
    "words",
]

LANGUAGES = ("en", "es")
DEFAULT = "en"

# The word for ONE statement of a declaration (not the declaration as a whole), as column header
# and in sentences: its Spanish is the msgstr of this context in the catalogue, the one place to
# change it.
ONE_STATEMENT = ("one statement", "Statement")
STATEMENTS_COLUMN = ("statements column", "Statements")


def check_lang(lang: str | None) -> str:
    """A language code the documents speak ("en", "es"; "es_MX", "es-419" are Spanish), or the
    default for None; anything else is a clear error."""
    if lang is None or lang == "":
        return DEFAULT
    base = lang.strip().lower().replace("-", "_").split("_")[0]
    if base not in LANGUAGES:
        raise BadInput(f"no language {lang!r}: one of {', '.join(LANGUAGES)}")
    return base


def lang_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The command line's language from the environment as POSIX reads it (LC_ALL, then
    LC_MESSAGES, then LANG; LANGUAGE's first entry before them where it is set): Spanish for
    es_*, else English. "C" and "POSIX" are English."""
    env = os.environ if environ is None else environ
    candidates = [env.get("LANGUAGE", "").split(":")[0], env.get("LC_ALL", "")]
    candidates += [env.get("LC_MESSAGES", ""), env.get("LANG", "")]
    for value in candidates:
        if not value or value in ("C", "POSIX") or value.startswith("C."):
            continue
        base = value.split(".")[0].split("@")[0].lower().replace("-", "_").split("_")[0]
        return base if base in LANGUAGES else DEFAULT
    return DEFAULT


@cache
def _mo(path: str, lang: str) -> bytes:
    """The catalogue at ``path`` compiled (.mo), in memory."""
    with files("rcm").joinpath(path).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _compiled(path: str, lang: str) -> Translations:
    return Translations(fp=io.BytesIO(_mo(path, lang)))


@cache
def _translations(lang: str) -> NullTranslations:
    """This catalogue, and behind it the web's (read as data, not imported): the messages both
    say (search notices, errors of the core) are translated once, for the pages."""
    if lang == DEFAULT:
        return NullTranslations()
    own = _compiled(f"locales/{lang}/LC_MESSAGES/rcm.po", lang)
    own.add_fallback(_compiled(f"web/locales/{lang}/LC_MESSAGES/messages.po", lang))
    return own


class Words:
    """A language's words for a document or the command line: ``w("Contents")``,
    ``w("{n} rows", n=3)`` (placeholders in braces, filled after translation)."""

    def __init__(self, lang: str) -> None:
        self.lang = check_lang(lang)
        self._t = _translations(self.lang)

    @property
    def spanish(self) -> bool:
        return self.lang == "es"

    def __call__(self, message: str, /, **values: object) -> str:
        text = self._t.ugettext(message) if message else message
        return text.format(**values) if values else text

    def n(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        text = self._t.ungettext(singular, plural, count)
        return text.format(n=count, **values)

    def ctx(self, context: str, message: str) -> str:
        return self._t.upgettext(context, message)

    @property
    def one_statement(self) -> str:
        """The word for one statement ("Statement"; its Spanish: the catalogue's)."""
        return self.ctx(*ONE_STATEMENT)

    @property
    def statements_column(self) -> str:
        return self.ctx(*STATEMENTS_COLUMN)

    def meeting(self, label: str) -> str:
        """A meeting as documents print it: "XIX RCM" stays in English; in Spanish it is
        "XIX CRM", "Reunión Extraordinaria de la XXV CRM" (and "(2)" for a second one)."""
        if not self.spanish:
            return label
        try:
            ref = parse_meeting(label)
        except ValueError:
            return label.replace("RCM", "CRM")
        roman = to_roman(ref.number)
        if not ref.extraordinary:
            return f"{roman} CRM"
        k = ref.extraordinary
        return f"Reunión Extraordinaria de la {roman} CRM" + (f" ({k})" if k > 1 else "")

    def theme(self, number: int, title: str) -> str:
        """A thematic session's short title (the heading of its part of the compilation)."""
        return (self.spanish and taxonomy.label_es("theme", str(number))) or title

    def subtheme(self, theme: int, order: int, title: str) -> str:
        return (self.spanish and taxonomy.label_es("subtheme", f"{theme}.{order}")) or title

    def category(self, name: str, label: str) -> str:
        """A category's name ("Principle"); ``name`` is its value ("principle")."""
        return (self.spanish and taxonomy.label_es("category", name)) or label

    def objective(self, number: int, title: str) -> str:
        return (self.spanish and taxonomy.label_es("gcm", str(number))) or title

    def definition(self, definition: str) -> str:
        """A category's definition, from the catalogue (the English where it has none)."""
        return self(definition) if definition else definition

    def status(self, value: str) -> str:
        """A consultation status or answer ("reaffirmed", "valid with changes")."""
        return self.ctx("status", value)

    def statement_text(self, s: Statement) -> tuple[str, str]:
        """The statement's wording in this language where it has one: (text, its language).
        Spanish without a Spanish text gives the English, whose language the caller marks."""
        if self.spanish and s.text_es:
            return s.text_es, "es"
        return s.text, s.lang

    def english_mark(self) -> str:
        """The mark of a text left in English in a Spanish document."""
        return self("[in English]")


@cache
def words(lang: str | None = None) -> Words:
    return Words(check_lang(lang))


# Python's module-level gettext (gettext.gettext, ngettext: what Click calls for its own messages)
# reads compiled catalogues from files only: ``<folder>/<lang>/LC_MESSAGES/rcm.mo``, in a folder of
# the process's own, written once and removed when the process ends.
GETTEXT_DOMAIN = "rcm"


@cache
def _gettext_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="rcm-locale-")


_SPEAKING: ContextVar[bool] = ContextVar("rcm_global_gettext", default=False)


def speak(lang: str) -> None:
    """Within :func:`global_gettext`: gettext, and :func:`lang_from_env`, speak ``lang`` from now
    on (``rcm --lang``). Outside it, nothing: the process's environment is not changed."""
    if _SPEAKING.get():
        _speak(lang)


def _speak(lang: str) -> None:
    lang = check_lang(lang)
    os.environ["LANGUAGE"] = lang  # gettext's first choice of language
    if lang == DEFAULT:
        return  # no catalogue: gettext gives the messages as written
    folder = Path(_gettext_folder().name)
    mo = folder / lang / "LC_MESSAGES" / f"{GETTEXT_DOMAIN}.mo"
    if not mo.exists():
        mo.parent.mkdir(parents=True, exist_ok=True)
        mo.write_bytes(_mo(f"locales/{lang}/LC_MESSAGES/rcm.po", lang))
    gettext.bindtextdomain(GETTEXT_DOMAIN, str(folder))
    gettext.textdomain(GETTEXT_DOMAIN)


@contextlib.contextmanager
def global_gettext(lang: str | None = None) -> Iterator[None]:
    """Within: Python's module-level gettext, and so Click's own messages ("Usage:", "Error: No
    such option …"), speak ``lang`` (default: the environment's, :func:`lang_from_env`), from this
    catalogue; :func:`speak` switches the language (``rcm --lang``). gettext takes the
    language from the environment: LANGUAGE is set to it, so that gettext and
    :func:`lang_from_env` agree. On leaving, LANGUAGE and gettext's text domain are as before."""
    saved_language = os.environ.get("LANGUAGE")
    saved_domain = gettext.textdomain()
    token = _SPEAKING.set(True)
    try:
        _speak(lang or lang_from_env())
        yield
    finally:
        _SPEAKING.reset(token)
        if saved_language is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = saved_language
        gettext.textdomain(saved_domain)
