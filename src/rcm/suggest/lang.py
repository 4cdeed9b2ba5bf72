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


def _table(name: str) -> list[tuple[str, str]]:
    text = files("rcm.suggest").joinpath("data", name).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    out = []
    for row in csv.DictReader(rows, delimiter="\t", quoting=csv.QUOTE_NONE):
        out.append((fold(row["es"]).strip(), row["en"].strip()))
    return out


def _inflect(lemma: str, tense: str) -> str:
    """An English verb in one of the forms a Spanish form stands for."""
    head, _, rest = lemma.partition(" ")
    irregular = {"take": "took", "hold": "held", "seek": "sought", "meet": "met"}
    if tense == "3sg":
        if head.endswith(("s", "sh", "ch", "x")):
            head += "es"
        elif head.endswith("y") and head[-2:-1] not in "aeiou":
            head = head[:-1] + "ies"
        else:
            head += "s"
    elif tense == "past":
        if head in irregular:
            head = irregular[head]
        elif head.endswith("e"):
            head += "d"
        elif head.endswith("y") and head[-2:-1] not in "aeiou":
            head = head[:-1] + "ied"
        elif head in ("commit", "submit"):
            head += "ted"
        else:
            head += "ed"
    word = f"{head} {rest}".strip()
    return {
        "we": f"we {word}",
        "will": f"will {word}",
        "we will": f"we will {word}",
        "inf": f"to {word}",  # the Spanish infinitive is the English to-infinitive
    }.get(tense, word)


# Spanish endings -> the person and tense they stand for, by conjugation (stem + ending).
_ENDINGS = {
    "ar": [("a", "3sg", True), ("an", "base", True), ("o", "past", False),
           ("aron", "past", False), ("amos", "we", False), ("ara", "will", False),
           ("aran", "will", False), ("aremos", "we will", False), ("aba", "past", False),
           ("aban", "past", False), ("ar", "inf", False), ("arse", "inf", False),
           ("arnos", "inf", False)],
    "er": [("e", "3sg", True), ("en", "base", True), ("io", "past", False),
           ("ieron", "past", False), ("emos", "we", False), ("imos", "we", False),
           ("era", "will", False), ("eran", "will", False), ("eremos", "we will", False),
           ("er", "inf", False), ("erse", "inf", False), ("ernos", "inf", False)],
    "ir": [("e", "3sg", True), ("en", "base", True), ("io", "past", False),
           ("ieron", "past", False), ("imos", "we", False), ("ira", "will", False),
           ("iran", "will", False), ("iremos", "we will", False), ("ir", "inf", False),
           ("irse", "inf", False), ("irnos", "inf", False)],
}  # fmt: skip


@cache
def _verb_forms() -> dict[str, str]:
    """Folded Spanish verb form -> its English gloss ("reconocemos" -> "we recognize")."""
    out: dict[str, str] = {}
    for es, en in _table("verbs_es_en.tsv"):
        infinitive, _, present = es.partition(":")
        stem, conjugation = infinitive[:-2], infinitive[-2:]
        for ending, tense, uses_present in _ENDINGS[conjugation]:
            base = (present or stem) if uses_present else stem
            if ending.startswith(("ar", "er", "ir")) and ending[:2] == conjugation:
                out.setdefault(stem + ending, _inflect(en, tense))
            elif not ending.startswith(("ar", "er", "ir")):
                out.setdefault(base + ending, _inflect(en, tense))
    return out


@cache
def _words() -> tuple[re.Pattern[str], dict[str, str]]:
    pairs = dict(_table("words_es_en.tsv"))
    pairs.update(_verb_forms())
    phrases = sorted((k for k in pairs if " " in k), key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(a) for a in phrases) + r")\b")
    return pattern, pairs


# Regular Spanish-English cognate endings: "cooperacion" -> "cooperation", "capacidad" ->
# "capacity", "efectivamente" -> "effectively".
_COGNATES = [
    ("ciones", "tions"), ("cion", "tion"), ("dades", "ties"), ("dad", "ty"), ("ismo", "ism"),
    ("encias", "ences"), ("encia", "ence"), ("ancias", "ances"), ("ancia", "ance"),
    ("icos", "ic"), ("icas", "ic"), ("ico", "ic"), ("ica", "ic"), ("ivos", "ive"),
    ("ivas", "ive"), ("ivo", "ive"), ("iva", "ive"), ("mente", "ly"), ("osos", "ous"),
    ("osas", "ous"), ("oso", "ous"), ("osa", "ous"), ("arios", "ary"), ("arias", "ary"),
    ("ario", "ary"), ("aria", "ary"), ("ales", "al"),
]  # fmt: skip
_TOKEN = re.compile(r"[a-zñ]+")


def _word(m: re.Match[str]) -> str:
    w = m.group(0)
    pairs = _words()[1]
    if w in pairs:
        return pairs[w]
    for es, en in _COGNATES:
        if w.endswith(es) and len(w) > len(es) + 2:
            return w[: -len(es)] + en
    return w


def gloss(text: str) -> str:
    """The text (folded) read into English: the domain glossary's terms, then the verbs with
    their person and tense, everyday words and regular cognates; what is left stays as it is."""
    pattern, pairs = _glossary()
    english = pattern.sub(lambda m: f" {pairs[m.group(0)]} ", fold(text))
    phrase, words_table = _words()
    english = phrase.sub(lambda m: f" {words_table[m.group(0)]} ", english)
    return re.sub(r"\s+", " ", _TOKEN.sub(_word, english)).strip()


def prepare(text: str, lang: str) -> str:
    """What the English-trained models read: the text itself, or a Spanish text's gloss."""
    return gloss(text) if lang == "es" else text
