"""Spanish statements for suggesters that learned from an English compilation.

The compilation is in English; new declarations often come in Spanish, a working language of the
RCM. Rather than pretend, a Spanish text is read through a small domain glossary
(``data/glossary_es_en.tsv``: "trata de personas" -> "trafficking in persons", …) into an English
gloss of its key terms, which the theme and GCM models and the category model's word features see;
the category's governing-verb cue is read from the Spanish itself (``category.governing_cue``).
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from importlib.resources import files

from rcm.analyze import fold, words

# Words frequent in one language and absent from the other.
_ES = frozenset(
    "el la los las del de que y en por para con una uno unos unas su sus al lo se como mas sobre "
    "entre nuestro nuestra nuestros nuestras esta este estos estas sus asi tambien".split()
)
_EN = frozenset(
    "the of and to in for with on that this these those by from their our its as at be is are "
    "was were will which also".split()
)


def guess_language(text: str) -> str:
    """ "es" when Spanish function words outnumber English ones, else "en"."""
    tokens = words(text)
    es = sum(1 for w in tokens if w in _ES)
    en = sum(1 for w in tokens if w in _EN)
    return "es" if es > en else "en"


@cache
def _glossary() -> tuple[re.Pattern[str], dict[str, str]]:
    text = files("rcm.suggest").joinpath("data", "glossary_es_en.tsv").read_text(encoding="utf-8")
    pairs = {
        fold(row["es"]).strip(): row["en"].strip()
        for row in csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    }
    # Longest phrases first, so "trafico ilicito de migrantes" wins over "migrantes".
    alternatives = sorted(pairs, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(a) for a in alternatives) + r")\b")
    return pattern, pairs


def gloss(text: str) -> str:
    """The text (folded) with every glossary term replaced by its English equivalent."""
    pattern, pairs = _glossary()
    return pattern.sub(lambda m: pairs[m.group(0)], fold(text))


def prepare(text: str, lang: str) -> str:
    """What the English-trained models read: the text itself, or a Spanish text's gloss."""
    return gloss(text) if lang == "es" else text
