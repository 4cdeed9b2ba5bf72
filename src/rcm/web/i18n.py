"""Spanish and English for the interface: gettext catalogs (``locales/*/LC_MESSAGES/messages.po``),
compiled in memory at start-up, and the choice of language for a request: ``?lang=``, then the
remembered cookie, then ``Accept-Language``. Statements keep the language of the corpus."""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from importlib.resources import files

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup

from rcm import taxonomy
from rcm.errors import DocumentError, Problem, RcmError
from rcm.i18n import words

LANGUAGES = ("en", "es")
DEFAULT = "en"
COOKIE = "rcm_lang"

current: ContextVar[str] = ContextVar("rcm_lang", default=DEFAULT)


def _compiled(package: str, path: tuple[str, ...], lang: str) -> Translations:
    with files(package).joinpath(*path).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


@cache
def translations(lang: str) -> NullTranslations:
    """The pages' catalogue, and behind it the command line's (read as data): the core's errors
    (a review conflict, a failed restore) are translated there once, for both."""
    if lang == DEFAULT:
        return NullTranslations()
    own = _compiled("rcm.web", ("locales", lang, "LC_MESSAGES", "messages.po"), lang)
    own.add_fallback(_compiled("rcm", ("locales", lang, "LC_MESSAGES", "rcm.po"), lang))
    return own


def gettext(message: str) -> str:
    return translations(current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current.get()).ungettext(singular, plural, n)


# The values of a core message that are words of its sentence (a status, a meeting, a proposal's
# parts, a part of a declaration, a date): translated by :func:`value_words`, and on a page not
# set apart as code.
WORDS = frozenset({"state", "meeting", "meeting2", "kind", "part", "when", "hint"})
# ... and on a page, neither are a person's name nor the reason someone gave (prose, not code).
PLAIN = WORDS | {"who", "why"}


def value_words(values: Mapping[str, object]) -> dict[str, object]:
    """The values of a core message that are words of the program, in the reader's language: a
    status ("accepted"), a meeting ("XXII RCM": "XXII CRM"), a proposal's parts ("sentences"), a
    part of a declaration ("preamble"). The rest (ids, names, what was typed) as they are."""
    lang = current.get()
    if lang == DEFAULT:
        return dict(values)
    t = translations(lang)
    out = dict(values)
    for key, value in values.items():
        if not isinstance(value, str):
            continue
        if key == "state":
            out[key] = t.upgettext("status", value)
        elif key in ("meeting", "meeting2"):
            out[key] = words(lang).meeting(value)  # as the documents name it
        elif key in WORDS:
            out[key] = t.ugettext(value)
    return out


def translated(template: str, values: Mapping[str, object] | None = None) -> str:
    """A core message in the reader's language: ``template`` (English, with %(name)s
    placeholders; the catalog's key) filled with ``values`` (an error's, a notice's)."""
    text = gettext(template)
    if not values:
        return text
    try:
        return text % value_words(values)
    except (KeyError, ValueError, TypeError):  # a translation that does not fit its values
        return template % dict(values)


def translated_markup(template: str, values: Mapping[str, object] | None = None) -> Markup:
    """:func:`translated` for a page: the values (what the reader typed, parameter names, codes)
    escaped and set as ``<code>`` in the translated sentence."""
    text = Markup.escape(gettext(template))
    if not values:
        return text
    shown = {
        k: Markup.escape(v) if k in PLAIN else Markup("<code>%s</code>") % v
        for k, v in value_words(values).items()
    }
    try:
        return text % shown
    except (KeyError, ValueError, TypeError):
        return Markup.escape(template) % shown


def error_text(exc: RcmError) -> str:
    """An error of the core in the reader's language: its template with its values, or for a
    document the file, the line and its first problem (and how many more there are)."""
    if isinstance(exc, DocumentError):
        return _document_error(exc, markup=False)
    return translated(exc.template, exc.values)


def error_markup(exc: RcmError) -> Markup:
    """:func:`error_text` for a page (the values set apart as ``<code>``)."""
    if isinstance(exc, DocumentError):
        return Markup(_document_error(exc, markup=True))
    return translated_markup(exc.template, exc.values)


def problem_text(problem: Problem) -> str:
    """One problem of a document ("line 4: …") in the reader's language."""
    return _where(problem) + translated(problem.template or problem.message, dict(problem.values))


def _where(problem: Problem) -> str:
    return gettext("line %(n)s") % {"n": problem.line} + ": " if problem.line else ""


def _document_error(exc: DocumentError, markup: bool) -> str:
    problem = exc.problems[0]
    key, values = problem.template or problem.message, dict(problem.values)
    said = translated_markup(key, values) if markup else translated(key, values)
    where = f"{exc.source}: {_where(problem)}"
    more = len(exc.problems) - 1
    tail = " " + gettext("(and %(n)s more problems)") % {"n": more} if more else ""
    if markup:
        return str(Markup.escape(where) + said + Markup.escape(tail))
    return where + said + tail


def choose(query: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    if accept:
        ranked = []
        for part in accept.split(",")[:20]:
            piece = part.strip().split(";")
            tag = piece[0].strip().lower()
            q = 1.0
            for param in piece[1:]:
                if param.strip().startswith("q="):
                    try:
                        q = float(param.strip()[2:])
                    except ValueError:
                        q = 0.0
            ranked.append((q, tag))
        for _, tag in sorted(ranked, key=lambda x: -x[0]):
            base = tag.split("-")[0]
            if base in LANGUAGES:
                return base
    return DEFAULT


def language_name(lang: str) -> str:
    return str(Locale.parse(lang).get_display_name(lang)).capitalize()


# The taxonomy's labels in the reader's language, for the templates (``rcm.taxonomy``): English is
# the data's own title (``default``), Spanish the shipped label.


def label(scheme: str, notation: object, default: str | None = None) -> str:
    return taxonomy.label(scheme, notation, current.get(), default)


def meeting_label(code: str) -> str:
    return taxonomy.meeting_label(code, current.get())


def country_name(iso3: str | None) -> str:
    return taxonomy.country_name(iso3, current.get()) if iso3 else ""


def round_scope(scope: str) -> Markup:
    """A round's scope in the reader's language (``rcm.search.scope_in``, the words of the search
    page's filter sentence); a sentence that cannot be read back as it is, marked English."""
    from rcm.search import scope_in

    lang = current.get()
    said = scope_in(scope, lang, gettext)
    if said is None:
        return Markup('<span lang="en">%s</span>') % scope
    return Markup.escape(said)
