"""Text analysis shared by the search index, the query parser and the snippet highlighter, so that
SQLite and PostgreSQL see exactly the same tokens: accents folded, lower case, Snowball stems
(English for English text, Spanish for Spanish text)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache, lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")

LANGUAGES = {"en": "english", "es": "spanish"}

# Words too common to narrow a search; dropped from queries (never from the index, so phrases work).
STOP_WORDS = frozenset(
    """a an and are as at be by for from has have in is it its of on or that the their they this to
    was were which will with we our also all any been but can could may must not should such these
    those than then there into other upon within without both some each more most only own same so
    very y de la el en los las del por para con
    que se su sus un una al lo""".split()
)
# Dropped from queries too, not from the suggesters' features: Spanish function words whose English
# counterparts are above (on, between, or, as, from, without, during, our, this, which, also,
# more, very, all …), so that "intercambio de información sobre tráfico" needs no "sobre". Not
# "sin" (without): in a term it says what is missing ("migrantes sin documentos").
QUERY_STOP_WORDS = STOP_WORDS | frozenset(
    """o u e ni sobre entre como desde hasta hacia ante tras durante mediante segun les le nos
    nuestro nuestra nuestros nuestras este esta estos estas ese esa esos esas cual cuales donde
    cuando tambien asi mas muy todo toda todos todas dicho dicha dichos dichas""".split()
)


def fold(text: str) -> str:
    """Lower case with accents removed: "México" -> "mexico"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _base_letter(ch: str) -> str:
    base = unicodedata.normalize("NFKD", ch)[:1]
    return base if len(base) == 1 and base.isalpha() else ch


# Latin letters with diacritics -> their base letter, one character for one: offsets are kept.
_SAME_LENGTH_FOLD = {cp: _base_letter(chr(cp)) for cp in range(0xC0, 0x250)}


def fold_in_place(text: str) -> str:
    """Accents removed without changing the length, for finding words and mapping back."""
    return text.translate(_SAME_LENGTH_FOLD)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, folded word) for each word of the original text, for highlighting."""
    for m in _WORD.finditer(text):
        yield m.start(), m.end(), _fold_word(m.group())


@lru_cache(maxsize=1 << 16)
def _fold_word(word: str) -> str:
    return fold(word)


@cache
def _stemmer(lang: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(LANGUAGES[lang])


def stems(tokens: list[str], lang: str = "en") -> list[str]:
    return list(_stemmer(lang).stemWords(tokens))


def stem(token: str, lang: str = "en") -> str:
    return str(_stemmer(lang).stemWord(token))


def index_body(
    text: str, text_es: str | None = None, lang: str = "en", text_en: str | None = None
) -> str:
    """What the full-text index holds for a statement: its stems, space-separated, in order, each
    text stemmed in its own language (``lang`` is the language of ``text``: a statement added
    from a Spanish declaration is stemmed as Spanish; ``text_es`` is always Spanish, ``text_en``
    always English)."""
    body = " ".join(stems(words(text), "es" if lang == "es" else "en"))
    if text_es and not (lang == "es" and text_es == text):
        body += " " + " ".join(stems(words(text_es), "es"))
    if text_en and lang == "es":  # the English wording of a Spanish statement
        body += " " + " ".join(stems(words(text_en), "en"))
    return body
