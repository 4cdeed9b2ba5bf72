"""How alike an English statement and a Spanish wording are, and the alignment of two sequences
of rows by that likeness (for :mod:`rcm.translate`).

:func:`similarity` combines evidence that survives translation, each part in [0, 1]:

- ``length``: the ratio of the lengths (Spanish runs about 15 % longer than English);
- ``numbers``: the figures both print (years, counts, article numbers), where either prints one;
- ``cognates``: words of five letters or more sharing their first four once accents are removed
  and spellings brought together ("migration" / "migración", "phenomenon" / "fenómeno"), and
  acronyms with the same letters in another order ("RCM" / "CRM", "IOM" / "OIM", "NGO" / "ONG");
- ``terms``: the concepts of the bilingual thesaurus (``rcm.taxonomy.thesaurus``) each text
  names, where either names one ("trafficking in persons" / "trata de personas").

:func:`align` pairs two sequences in order (a monotone alignment, as rows of one table are),
allowing a pair only where the caller's ``allowed`` says so (same meeting) and the likeness is at
least ``threshold``; it leaves unpaired what has no counterpart, so each can be reported.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TypeVar

from rcm.taxonomy import thesaurus

THRESHOLD = 0.45  # the least likeness of an aligned pair (see docs/spanish-edition.md)
SPANISH_RATIO = 1.15  # the usual length of a Spanish text over its English original
WEIGHTS = {"length": 0.25, "cognates": 0.45, "numbers": 0.15, "terms": 0.15}

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}s?\b")
PREFIX = 4  # letters two words share to count as cognates
MIN_WORD = 5  # shorter words (articles, prepositions) are not compared
_DOUBLE = re.compile(r"(.)\1")

A = TypeVar("A")
B = TypeVar("B")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _spelling(word: str) -> str:
    """English and Spanish spellings brought together: ph/f, th/t, y/i, double letters once."""
    word = word.replace("ph", "f").replace("th", "t").replace("y", "i")
    return _DOUBLE.sub(r"\1", word)


def _stems(text: str) -> Counter[str]:
    return Counter(_spelling(w)[:PREFIX] for w in _WORD.findall(_plain(text)) if len(w) >= MIN_WORD)


def _acronyms(text: str) -> Counter[str]:
    return Counter("".join(sorted(a.rstrip("s"))) for a in _ACRONYM.findall(text))


def _numbers(text: str) -> set[str]:
    return {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}


def _dice(a: Counter[str], b: Counter[str]) -> float | None:
    total = sum(a.values()) + sum(b.values())
    if not total:
        return None
    return 2 * sum((a & b).values()) / total


@cache
def _term_patterns() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    out: dict[str, list[tuple[str, re.Pattern[str]]]] = {"en": [], "es": []}
    for concept in thesaurus.concepts():
        for lang in ("en", "es"):
            for term in concept.terms(lang):
                words = _plain(term).split()
                if not words:
                    continue
                pattern = re.compile(r"\b" + r"\s+".join(map(re.escape, words)) + r"\b")
                out[lang].append((concept.id, pattern))
    return out


def concepts_named(text: str, lang: str) -> frozenset[str]:
    """The thesaurus concepts ``text`` names (by any of their terms in ``lang``)."""
    plain = _plain(text)
    return frozenset(cid for cid, p in _term_patterns()[lang] if p.search(plain))


@dataclass(frozen=True)
class Likeness:
    """A pair's likeness (``score``, in [0, 1]) and its parts (None where a part has nothing to
    compare: neither text prints a figure, or names a thesaurus concept)."""

    score: float
    parts: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "score": round(self.score, 3),
            **{k: None if v is None else round(v, 3) for k, v in self.parts.items()},
        }


def similarity(english: str, spanish: str) -> Likeness:
    """How likely ``spanish`` is a translation of ``english``."""
    if not english.strip() or not spanish.strip():
        return Likeness(0.0, dict.fromkeys(WEIGHTS))
    ratio = len(spanish) / len(english)
    length = math.exp(-3 * abs(math.log(ratio / SPANISH_RATIO)))
    cognates = _dice(_stems(english) + _acronyms(english), _stems(spanish) + _acronyms(spanish))
    n_en, n_es = _numbers(english), _numbers(spanish)
    numbers = len(n_en & n_es) / len(n_en | n_es) if (n_en or n_es) else None
    c_en, c_es = concepts_named(english, "en"), concepts_named(spanish, "es")
    terms = len(c_en & c_es) / len(c_en | c_es) if (c_en or c_es) else None
    parts: dict[str, float | None] = {
        "length": length,
        "cognates": cognates or 0.0,
        "numbers": numbers,
        "terms": terms,
    }
    weight = sum(WEIGHTS[k] for k, v in parts.items() if v is not None)
    score = sum(WEIGHTS[k] * v for k, v in parts.items() if v is not None) / weight
    return Likeness(score, parts)


def align(
    left: Sequence[A],
    right: Sequence[B],
    likeness: Callable[[A, B], Likeness],
    allowed: Callable[[A, B], bool] = lambda a, b: True,
    threshold: float = THRESHOLD,
) -> list[tuple[int, int, Likeness]]:
    """The monotone pairing of ``left`` and ``right`` with the most pairs (then the greatest
    total likeness), each pair ``allowed`` and at least ``threshold`` alike. Returns (index in
    left, index in right, likeness) in order; what is not paired has no counterpart."""
    n, m = len(left), len(right)
    scores: dict[tuple[int, int], Likeness] = {}
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            if allowed(a, b):
                s = likeness(a, b)
                if s.score >= threshold:
                    scores[(i, j)] = s
    # best[i][j]: the best value of aligning left[i:] with right[j:]; a pair is worth 1 + score,
    # so more pairs always win and likeness breaks ties.
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            value = max(best[i + 1][j], best[i][j + 1])
            if (i, j) in scores:
                value = max(value, 1 + scores[(i, j)].score + best[i + 1][j + 1])
            best[i][j] = value
    pairs: list[tuple[int, int, Likeness]] = []
    i = j = 0
    while i < n and j < m:
        here = scores.get((i, j))
        if here is not None and math.isclose(best[i][j], 1 + here.score + best[i + 1][j + 1]):
            pairs.append((i, j, here))
            i, j = i + 1, j + 1
        elif math.isclose(best[i][j], best[i + 1][j]):
            i += 1
        else:
            j += 1
    return pairs
