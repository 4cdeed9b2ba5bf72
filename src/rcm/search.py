"""Full-text search with facets, filters, sorting, paging, snippets and related statements.

The same behaviour on SQLite (FTS5, bm25) and PostgreSQL (tsvector + GIN, ts_rank_cd): both index
the stems that :mod:`rcm.analyze` produces, and queries are stemmed the same way before they reach
the database. User text never reaches SQL or the full-text syntax unquoted: the query language is
parsed here into terms made only of letters and digits, and every value travels as a bound
parameter. ``build_search_sql`` builds the SQL; ``search`` runs it.

Query language (what people already know): words (all must match), ``"exact phrase"``, ``OR``
between two terms, ``-exclude``, ``prefix*``. Common words ("the", "of") are ignored.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Connection, text

from rcm import analyze, taxonomy
from rcm.errors import RcmError
from rcm.model import MeetingRef, meeting_order, parse_meeting, to_roman
from rcm.store import Lookups, Store
from rcm.store.search_index import (
    COMBO_MASK,
    MEETING_SHIFT,
    SEQ_BITS,
    Combo,
    bits,
    combo_of,
    subtheme_bit,
    subtheme_pairs,
    theme_bit,
)
from rcm.taxonomy import thesaurus
from rcm.taxonomy.thesaurus import Concept

__all__ = [
    "Filter",
    "Hit",
    "SearchError",
    "SearchParams",
    "SearchRequest",
    "SearchResult",
    "build_search_sql",
    "parse_query",
    "related",
    "scope_in",
    "search",
]

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
MIN_PREFIX = 3
MAX_LIMIT = 500
MAX_OFFSET = 10_000

Sort = Literal["relevance", "oldest", "newest"]
SORTS: tuple[str, ...] = ("relevance", "oldest", "newest")


class SearchError(RcmError):
    """A query or filter that cannot be run, with what to do instead."""

    status = 400
    exit_code = 1


# --- the query language -------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One searchable unit: a word, a phrase (several words in order) or a prefix."""

    kind: Literal["word", "phrase", "prefix", "all"]
    typed: str
    words: tuple[str, ...]
    # None: the words as typed, stemmed as English and as Spanish; "en"/"es": a thesaurus term
    # of that language, stemmed in that language only (cross-language expansion).
    lang: str | None = None

    def stems(self, lang: str) -> tuple[str, ...]:
        if self.kind == "prefix":
            return (_prefix_stem(self.words[0], lang),)
        return tuple(analyze.stems(list(self.words), lang))

    def variants(self) -> list[tuple[str, ...]]:
        """The stem sequences this term matches: English, and Spanish where it differs (a "all"
        term: all its stems, in any order)."""
        if self.lang is not None:
            return [self.stems(self.lang)]
        out = [self.stems("en")]
        es = self.stems("es")
        if es != out[0]:
            out.append(es)
        return out


def _prefix_stem(word: str, lang: str) -> str:
    # The index holds stems: "migration*" must match "migrat", "migratori"…: use the common
    # prefix of the word and its stem ("polic" for "policy" -> "polici").
    stemmed = analyze.stem(word, lang)
    n = 0
    while n < min(len(word), len(stemmed)) and word[n] == stemmed[n]:
        n += 1
    return word[: max(n, MIN_PREFIX)] if n >= MIN_PREFIX else word


@dataclass(frozen=True)
class Clause:
    """Terms joined by OR; a negated clause excludes what it matches."""

    terms: tuple[Term, ...]
    negated: bool = False


@dataclass(frozen=True)
class Notice:
    """A message about the query for the reader: ``message`` is English with ``%(name)s``
    placeholders (also the key of its translations: the web shows it in the page's language),
    ``values`` what fills them."""

    message: str
    values: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.message % dict(self.values)

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "values": dict(self.values), "text": str(self)}


@dataclass(frozen=True)
class Expansion:
    """Terms of the other language searched too: what the reader typed (``typed``, recognised
    as ``lang``), the thesaurus concept, and the other language's terms (``also``)."""

    typed: str
    lang: str
    concept: str
    also: tuple[str, ...]
    excluded: bool = False  # the term was an -exclusion: its translations are excluded too

    def as_dict(self) -> dict[str, Any]:
        return {
            "typed": self.typed,
            "lang": self.lang,
            "concept": self.concept,
            "also": list(self.also),
            "excluded": self.excluded,
        }


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    clauses: tuple[Clause, ...] = ()
    notices: tuple[Notice, ...] = ()
    expansions: tuple[Expansion, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(str(n) for n in self.notices)

    @property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.negated)

    @property
    def negative(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.negated)

    @property
    def empty(self) -> bool:
        return not self.clauses

    def highlight_stems(self) -> tuple[set[str], tuple[str, ...]]:
        """Stems to highlight in snippets, and prefixes."""
        stems: set[str] = set()
        prefixes: list[str] = []
        for clause in self.positive:
            for term in clause.terms:
                for variant in term.variants():
                    if term.kind == "prefix":
                        prefixes.extend(variant)
                    else:
                        stems.update(variant)
        return stems, tuple(prefixes)


_TOKEN = re.compile(r'"(?P<phrase>[^"]*)"|(?P<bare>[^\s"]+)|(?P<quote>")')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_query(query: str) -> ParsedQuery:
    """Parse the user's query; raises SearchError with what to change."""
    raw = _CONTROL.sub(" ", query or "")
    if len(raw) > MAX_QUERY_CHARS:
        raise SearchError(
            "the query is %(n)s characters long; the limit is %(limit)s: "
            "search for the few words that matter",
            n=f"{len(raw):,}",
            limit=f"{MAX_QUERY_CHARS:,}",
        )
    if raw.count('"') % 2:
        raise SearchError(
            'unbalanced quote at character %(n)s: close the "exact phrase" '
            "with a second quote mark, or remove it",
            n=raw.rfind(chr(34)) + 1,
        )
    notes: list[Notice] = []
    ignored_common: list[str] = []
    items: list[tuple[Term | None, bool] | str] = []  # (term, negated) or "OR"
    for m in _TOKEN.finditer(raw):
        negated = False
        if m.group("phrase") is not None:
            start = m.start()
            negated = (
                start > 0 and raw[start - 1] == "-" and (start == 1 or raw[start - 2].isspace())
            )
            found = analyze.words(m.group("phrase"))
            if not found:
                notes.append(Notice('ignored an empty phrase ""'))
                continue
            kind: Literal["word", "phrase", "prefix", "all"] = (
                "phrase" if len(found) > 1 else "word"
            )
            items.append((Term(kind, m.group("phrase"), tuple(found)), negated))
            continue
        token = m.group("bare")
        if token == "-":
            continue
        if token.startswith("-") and raw[m.end() : m.end() + 1] == '"':
            continue  # the minus of a -"phrase", handled with the phrase
        if token in ("OR", "|"):
            items.append("OR")
            continue
        if token in ("AND", "&&"):
            continue  # all words must match anyway
        if token in ("NOT",):
            items.append("NOT")
            continue
        if token.startswith("-"):
            negated, token = True, token.lstrip("-")
        prefix = token.endswith("*")
        found = analyze.words(token)
        if not found:
            if "*" in token:
                notes.append(
                    Notice(
                        "ignored %(token)s: a * must follow at least %(n)s letters",
                        (("token", repr(token)), ("n", str(MIN_PREFIX))),
                    )
                )
            continue
        if prefix:
            if len(found) > 1:
                items.append((Term("phrase", token, tuple(found[:-1])), negated))
            last = found[-1]
            if len(last) < MIN_PREFIX:
                notes.append(
                    Notice(
                        "ignored %(token)s: a prefix needs at least %(n)s letters",
                        (("token", repr(token)), ("n", str(MIN_PREFIX))),
                    )
                )
                continue
            items.append((Term("prefix", token, (last,)), negated))
        elif len(found) > 1:  # "long-term", "16-18": the words in that order
            items.append((Term("phrase", token, tuple(found)), negated))
        elif found[0] in analyze.QUERY_STOP_WORDS and not negated:
            ignored_common.append(found[0])
            items.append((None, False))
        else:
            items.append((Term("word", token, tuple(found)), negated))
    clauses = _group(items, notes)
    if ignored_common:
        words = ", ".join(dict.fromkeys(ignored_common))
        notes.append(Notice("ignored common words: %(words)s", (("words", words),)))
    if not clauses and ignored_common:
        raise SearchError(
            "the query has only common words (%(words)s): add a more specific word, or use an "
            '"exact phrase"',
            words=", ".join(dict.fromkeys(ignored_common)),
        )
    if sum(len(c.terms) for c in clauses) > MAX_TERMS:
        raise SearchError(
            "the query has more than %(n)s terms: search for fewer words", n=MAX_TERMS
        )
    if clauses and all(c.negated for c in clauses) and len(clauses) > MAX_TERMS:
        raise SearchError("too many exclusions")
    return ParsedQuery(text=query, clauses=tuple(clauses), notices=tuple(notes))


def _group(items: list[tuple[Term | None, bool] | str], notes: list[Notice]) -> list[Clause]:
    clauses: list[Clause] = []
    pending_or = False
    pending_not = False
    for item in items:
        if item == "OR":
            if not clauses or pending_or:
                notes.append(Notice("ignored an OR with nothing before it"))
            else:
                pending_or = True
            continue
        if item == "NOT":
            pending_not = True
            continue
        assert not isinstance(item, str)
        term, negated = item
        negated = negated or pending_not
        pending_not = False
        if term is None:  # a common word: it breaks an OR chain but adds nothing
            pending_or = False
            continue
        if pending_or:
            previous = clauses[-1]
            if previous.negated or negated:
                raise SearchError("OR cannot join an -excluded term: write -a -b to exclude both")
            clauses[-1] = Clause((*previous.terms, term))
            pending_or = False
        else:
            clauses.append(Clause((term,), negated))
    if pending_or:
        notes.append(Notice("ignored an OR with nothing after it"))
    return clauses


# --- cross-language expansion through the thesaurus --------------------------------------------

MAX_LABEL_WORDS = 8
MAX_EXPANSIONS = 64  # other-language terms added to one query, at most
OTHER = {"en": "es", "es": "en"}


def _content(words: Sequence[str]) -> list[str]:
    return [w for w in words if w not in analyze.QUERY_STOP_WORDS]


@lru_cache(maxsize=1)
def _lexicon() -> dict[tuple[str, tuple[str, ...]], tuple[tuple[Concept, str], ...]]:
    """(language, stems of a term's content words, in any order) -> the concepts with that term,
    and the term: how a query's words are recognised, in the language they are stemmed in. Words
    typed without quotes are all required whatever their order, so "retorno digno y seguro" names
    "retorno seguro y digno" too."""
    found: dict[tuple[str, tuple[str, ...]], list[tuple[Concept, str]]] = {}
    for concept in thesaurus.concepts():
        for lang in ("en", "es"):
            for label in concept.terms(lang):
                content = _content(analyze.words(label))
                if content:
                    key = (lang, tuple(sorted(analyze.stems(content, lang))))
                    found.setdefault(key, []).append((concept, label))
    return {k: tuple(v) for k, v in found.items()}


@lru_cache(maxsize=1)
def _single_words() -> tuple[tuple[str, str, Concept], ...]:
    """(language, folded word, concept) for every one-word term: what a prefix* is matched on."""
    out = []
    for (lang, key), entries in _lexicon().items():
        if len(key) == 1:
            for concept, label in entries:
                content = _content(analyze.words(label))
                out.append((lang, content[0], concept))
    return tuple(out)


def _recognise(words: Sequence[str]) -> list[tuple[str, Concept]]:
    """The concepts whose term (in English or in Spanish) has exactly these content words."""
    content = _content(words)
    if not content or len(content) > MAX_LABEL_WORDS:
        return []
    out: list[tuple[str, Concept]] = []
    for lang in ("en", "es"):
        key = tuple(sorted(analyze.stems(content, lang)))
        for concept, _ in _lexicon().get((lang, key), ()):
            if (lang, concept) not in out:
                out.append((lang, concept))
    return out


def _other_terms(
    matched: Sequence[tuple[str, Concept]], kind: str, seen: set[tuple[str, ...]]
) -> tuple[list[Term], list[Expansion]]:
    """The other language's terms of the matched concepts, as search terms of ``kind`` ("all":
    every content word; "phrase": the words in order; "prefix": one-word terms as prefixes);
    terms that match nothing new (same stems as what is already searched) are left out."""
    terms: list[Term] = []
    expansions: list[Expansion] = []
    for lang, concept in matched:
        target = OTHER[lang]
        added: list[str] = []
        for label in concept.terms(target):
            all_words = tuple(analyze.words(label))
            content = tuple(_content(all_words))
            if not content:
                continue
            if kind == "prefix" and len(content) == 1:
                term = Term("prefix", label, content, target)
            elif kind == "phrase" and len(all_words) > 1:
                term = Term("phrase", label, all_words, target)
            elif len(content) == 1:
                term = Term("word", label, content, target)
            else:
                term = Term("all", label, content, target)
            key = (term.kind, *term.variants()[0])
            if key in seen:
                continue
            seen.add(key)
            terms.append(term)
            added.append(label)
        if added:
            expansions.append(Expansion("", lang, concept.id, tuple(added)))
    return terms, expansions


def _prefix_concepts(term: Term) -> list[tuple[str, Concept]]:
    prefix = term.words[0]
    out: list[tuple[str, Concept]] = []
    for lang, word, concept in _single_words():
        if word.startswith(prefix) and (lang, concept) not in out:
            out.append((lang, concept))
    return out


def _expand_term(term: Term, seen: set[tuple[str, ...]]) -> tuple[list[Term], list[Expansion]]:
    if term.lang is not None:
        return [], []
    matched = _prefix_concepts(term) if term.kind == "prefix" else _recognise(term.words)
    kind = "phrase" if term.kind == "phrase" else term.kind
    terms, expansions = _other_terms(matched, kind, seen)
    return terms, [Expansion(term.typed, e.lang, e.concept, e.also) for e in expansions]


def _seen(terms: Iterable[Term]) -> set[tuple[str, ...]]:
    return {(t.kind, *v) for t in terms for v in t.variants()}


def expand(parsed: ParsedQuery) -> ParsedQuery:
    """The query with each term, phrase, or run of words that names a thesaurus concept in one
    language ORed with the concept's terms in the other language, stemmed in that language:
    ``trata de personas`` also searches "trafficking in persons", ``human rights`` "derechos
    humanos". Words typed without quotes are recognised as a run (the longest first), and their
    translations need all their words; a "phrase" is translated as phrases; a prefix* takes the
    concepts of the one-word terms it begins; an -exclusion excludes the translations too."""
    clauses = list(parsed.clauses)
    out: list[Clause] = []
    expansions: list[Expansion] = []
    budget = MAX_EXPANSIONS
    i = 0
    while i < len(clauses):
        clause = clauses[i]
        run = _run_at(clauses, i)
        if run > 1:
            words = tuple(w for c in clauses[i : i + run] for w in c.terms[0].words)
            typed = " ".join(c.terms[0].typed for c in clauses[i : i + run])
            original = Term("all", typed, words)
            seen = _seen([original])
            terms, found = _other_terms(_recognise(words), "all", seen)
            terms = terms[:budget]
            budget -= len(terms)
            out.append(Clause((original, *terms)))
            expansions += [Expansion(typed, e.lang, e.concept, e.also) for e in found]
            i += run
            continue
        new_terms: list[Term] = list(clause.terms)
        seen = _seen(clause.terms)
        for term in clause.terms:
            terms, found = _expand_term(term, seen)
            terms = terms[:budget]
            budget -= len(terms)
            new_terms += terms
            expansions += [replace(e, excluded=clause.negated) for e in found]
        out.append(Clause(tuple(new_terms), clause.negated))
        i += 1
    return replace(parsed, clauses=tuple(out), expansions=tuple(expansions))


@lru_cache(maxsize=2048)
def parsed_query(query: str, expanded: bool = True) -> ParsedQuery:
    """``parse_query``, then ``expand`` when asked: cached by the query's text (both are pure
    functions of it and of the thesaurus shipped with the package); a query that cannot be parsed
    raises each time."""
    parsed = parse_query(query)
    return expand(parsed) if expanded else parsed


def _run_at(clauses: Sequence[Clause], i: int) -> int:
    """The length of the longest run of plain words from clause ``i`` (words all required, none
    excluded) that names a concept; 0 if none longer than one word does."""
    plain = 0
    while (
        i + plain < len(clauses)
        and plain < MAX_LABEL_WORDS
        and not clauses[i + plain].negated
        and len(clauses[i + plain].terms) == 1
        and _plain(clauses[i + plain].terms[0])
    ):
        plain += 1
    for n in range(plain, 1, -1):
        words = tuple(w for c in clauses[i : i + n] for w in c.terms[0].words)
        if _recognise(words):
            return n
    return 0


def _plain(term: Term) -> bool:
    """A word, or a hyphenated compound typed as one token ("non-governmental", "extra-regional"),
    not a "quoted phrase": what a run of words is made of."""
    return term.kind == "word" or (
        term.kind == "phrase" and not any(c.isspace() for c in term.typed)
    )


def also_searched(expansions: Sequence[Expansion]) -> tuple[Notice, ...]:
    """The notices saying what else was searched, one per language typed: "also searched:
    trafficking in persons" (in the reader's language on the web)."""
    messages = {
        ("es", False): "also searched in English: %(terms)s",
        ("en", False): "also searched in Spanish: %(terms)s",
        ("es", True): "also excluded in English: %(terms)s",
        ("en", True): "also excluded in Spanish: %(terms)s",
    }
    out = []
    for (lang, excluded), message in messages.items():
        terms = list(
            dict.fromkeys(
                t for e in expansions if (e.lang, e.excluded) == (lang, excluded) for t in e.also
            )
        )
        if terms:
            out.append(Notice(message, (("terms", ", ".join(terms)),)))
    return tuple(out)


# --- filters: SQL and a sentence ------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """One condition on a facet combination ``c`` (a row of ``facet_combos``): its SQL, with bound
    parameters only, and its sentence."""

    sql: str
    params: dict[str, Any]
    sentence: str
    # What the filter asks, for its sentence in another language (:func:`describe_in`): the kind
    # ("theme", "subtheme", "category", "meeting", "year", "several", "xref") and its values.
    kind: str = ""
    args: tuple[str, ...] = ()


def _or_list(labels: Sequence[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def _theme_mask_filter(
    column: str, themes: Sequence[int], sentence: str, kind: str = "theme"
) -> Filter:
    for t in themes:
        if not 1 <= t <= 6:
            raise SearchError("no theme TS%(n)s; valid: TS1, TS2, TS3, TS4, TS5, TS6", n=t)
    mask = sum(theme_bit(t) for t in set(themes))
    labels = _or_list([f"TS{t}" for t in sorted(set(themes))])
    return Filter(
        f"(c.{column} & :{column}_mask) != 0",
        {f"{column}_mask": mask},
        sentence + labels,
        kind,
        tuple(str(t) for t in sorted(set(themes))),
    )


def theme_filter(themes: Sequence[int]) -> Filter:
    return _theme_mask_filter("themes", themes, "theme is ")


def subtheme_filter(
    subthemes: Sequence[tuple[int, int]], titles: dict[tuple[int, int], str]
) -> Filter:
    for key in subthemes:
        if key not in titles:
            valid = ", ".join(f"TS{t}.{o}" for t, o in sorted(titles))
            raise SearchError(
                "no sub-theme TS%(theme)s.%(order)s; valid: %(valid)s",
                theme=key[0],
                order=key[1],
                valid=valid,
            )
    mask = sum(subtheme_bit(t, o) for t, o in set(subthemes))
    labels = [f"TS{t}.{o} \u00ab{titles[(t, o)]}\u00bb" for t, o in sorted(set(subthemes))]
    return Filter(
        "(c.subthemes & :sub_mask) != 0",
        {"sub_mask": mask},
        "sub-theme is " + _or_list(labels),
        "subtheme",
        tuple(f"{t}.{o}" for t, o in sorted(set(subthemes))),
    )


CATEGORY_VALUES = ("principle", "understanding", "commitment", "unassigned")


def category_filter(categories: Sequence[str]) -> Filter:
    chosen = sorted(set(categories))
    bad = [c for c in chosen if c not in CATEGORY_VALUES]
    if bad:
        raise SearchError(
            "unknown category %(value)s; valid: %(valid)s",
            value=repr(bad[0]),
            valid=", ".join(CATEGORY_VALUES),
        )
    named = [c for c in chosen if c != "unassigned"]
    parts = []
    params: dict[str, Any] = {}
    if named:
        keys = [f"cat{i}" for i in range(len(named))]
        parts.append(f"c.category IN ({', '.join(':' + k for k in keys)})")
        params.update(zip(keys, named, strict=True))
    if "unassigned" in chosen:
        parts.append("c.category IS NULL")
    return Filter(
        "(" + " OR ".join(parts) + ")",
        params,
        "category is " + _or_list(chosen),
        "category",
        tuple(chosen),
    )


def _ref(value: int | MeetingRef | None) -> MeetingRef | None:
    return MeetingRef(value) if isinstance(value, int) else value


def meeting_filter(low: int | MeetingRef | None, high: int | MeetingRef | None) -> Filter:
    """Meetings from ``low`` to ``high`` in the compendium's order (:class:`MeetingRef`: by
    number, the ordinary meeting before the extraordinary ones of its cycle): "XXII.." takes
    XXV-E1 too; "XXV" alone is the ordinary XXV RCM, "XXV-E1" its first extraordinary one."""
    lo, hi = _ref(low), _ref(high)
    if lo is not None and hi is not None and lo > hi:
        raise SearchError("meeting range %(low)s..%(high)s is backwards", low=lo.code, high=hi.code)
    parts: list[str] = []
    params: dict[str, Any] = {}
    if lo is not None:
        params["m_low"] = lo.number
        if lo.extraordinary:
            # the same cycle's extraordinary meetings from the k-th on
            params["m_low_e"] = f"{to_roman(lo.number)}-E%"
            before = [MeetingRef(lo.number, k).code for k in range(1, lo.extraordinary)]
            keys = [f"m_low_x{i}" for i in range(len(before))]
            params.update(zip(keys, before, strict=True))
            not_in = (
                f" AND c.meeting_code NOT IN ({', '.join(':' + k for k in keys)})" if keys else ""
            )
            parts.append(
                f"(c.meeting > :m_low OR (c.meeting = :m_low AND c.meeting_code LIKE :m_low_e"
                f"{not_in}))"
            )
        else:
            parts.append("c.meeting >= :m_low")
    if hi is not None:
        params["m_high"] = hi.number
        upto = [MeetingRef(hi.number, k).code for k in range(hi.extraordinary + 1)]
        keys = [f"m_high_x{i}" for i in range(len(upto))]
        params.update(zip(keys, upto, strict=True))
        parts.append(
            f"(c.meeting < :m_high OR c.meeting_code IN ({', '.join(':' + k for k in keys)}))"
        )
    if not parts:
        raise SearchError("a meeting range needs at least one end, e.g. XII..XXI or XII..")
    if lo is not None and hi is not None:
        if lo == hi:
            return Filter(
                "c.meeting_code = :m_code",
                {"m_code": lo.code},
                f"meeting is {lo.label}",
                "meeting",
                (lo.code, hi.code),
            )
        sentence = f"meeting is between {lo.label} and {hi.label}"
    elif lo is not None:
        sentence = f"meeting is {lo.label} or later"
    else:
        assert hi is not None
        sentence = f"meeting is {hi.label} or earlier"
    ends = (lo.code if lo else "", hi.code if hi else "")
    return Filter("(" + " AND ".join(parts) + ")", params, sentence, "meeting", ends)


def year_filter(low: int | None, high: int | None) -> Filter:
    if low is not None and high is not None and low > high:
        raise SearchError("year range %(low)s..%(high)s is backwards", low=low, high=high)
    if low is not None and high is not None:
        sentence = f"year is {low}" if low == high else f"year is between {low} and {high}"
        return Filter(
            "c.year BETWEEN :y_low AND :y_high",
            {"y_low": low, "y_high": high},
            sentence,
            "year",
            (str(low), str(high)),
        )
    if low is not None:
        return Filter(
            "c.year >= :y_low", {"y_low": low}, f"year is {low} or later", "year", (str(low), "")
        )
    if high is not None:
        return Filter(
            "c.year <= :y_high",
            {"y_high": high},
            f"year is {high} or earlier",
            "year",
            ("", str(high)),
        )
    raise SearchError("a year range needs at least one end, e.g. 2005..2010")


def multi_theme_filter(several: bool = True) -> Filter:
    if several:
        return Filter("c.n_themes > 1", {}, "placed under several themes", "several", ("yes",))
    return Filter(
        "c.n_themes <= 1 AND c.n_themes >= 0", {}, "placed under one theme", "several", ("no",)
    )


def xref_filter(themes: Sequence[int]) -> Filter:
    return _theme_mask_filter("xrefs", themes, "a note cross-references ", "xref")


# Parsers for what people type on the command line or in a URL.

_THEME = re.compile(r"^\s*(?:TS|ST)?\s*(\d{1,2})\s*$", re.I)
_SUBTHEME = re.compile(r"^\s*(?:TS)?\s*(\d{1,2})\s*[./:]\s*(\d{1,2})\s*$", re.I)


def parse_theme(value: str) -> int:
    m = _THEME.match(value)
    if not m:
        raise SearchError("%(value)s is not a theme; valid: TS1 … TS6", value=repr(value))
    return int(m.group(1))


def parse_subtheme(value: str) -> tuple[int, int]:
    m = _SUBTHEME.match(value)
    if not m:
        raise SearchError(
            "%(value)s is not a sub-theme; write TS3.2 for the second sub-theme of TS3",
            value=repr(value),
        )
    return int(m.group(1)), int(m.group(2))


def _meeting_ref(value: str) -> MeetingRef:
    try:
        return parse_meeting(value)
    except ValueError as exc:
        # rcm.model's own explanation (which part is wrong); its general form is translated
        general = (
            "%(value)s is not a meeting; write it as XII, XII RCM or XXV-E1 (the first "
            "extraordinary meeting of the XXV cycle)"
        )
        if str(exc) == general % {"value": repr(value)}:
            raise SearchError(general, value=repr(value)) from None
        raise SearchError(str(exc)) from None


def parse_meeting_range(value: str) -> tuple[MeetingRef | None, MeetingRef | None]:
    """ "XII..XXI", "XXII..", "..X", "XII", "XXV-E1", "XXII..XXV-E1"; each end is read by
    :func:`rcm.model.parse_meeting`."""
    if ".." in value:
        low, high = value.split("..", 1)
        return (
            _meeting_ref(low) if low.strip() else None,
            _meeting_ref(high) if high.strip() else None,
        )
    ref = _meeting_ref(value)
    return ref, ref


def parse_range(value: str, kind: Literal["year"] = "year") -> tuple[int | None, int | None]:
    """ "2000..2010", "2005", "2005..", "..2010" (years; meetings: :func:`parse_meeting_range`)."""
    if ".." in value:
        low, high = value.split("..", 1)
        return (_year(low) if low.strip() else None, _year(high) if high.strip() else None)
    n = _year(value)
    return n, n


def _year(value: str) -> int:
    if not re.fullmatch(r"[0-9]{4}", value.strip()):
        raise SearchError("%(value)s is not a year such as 2005", value=repr(value))
    return int(value)


# --- the request, the SQL and the result ----------------------------------------------------------


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    filters: tuple[Filter, ...] = ()
    sort: str | None = None  # default: relevance with a text query, oldest without
    limit: int = 20
    offset: int = 0
    expand: bool = True  # also search the other language's terms (the thesaurus)
    retired: str = "exclude"  # exclude (default) | include | only: retired statements

    def effective_sort(self, parsed: ParsedQuery) -> str:
        sort = self.sort or ("oldest" if not parsed.positive else "relevance")
        if sort not in SORTS:
            raise SearchError(
                "unknown sort %(value)s; valid: %(valid)s", value=repr(sort), valid=", ".join(SORTS)
            )
        return sort


def _fts_phrase(stems: tuple[str, ...]) -> str:
    # Stems are letters and digits only (rcm.analyze), so quoting cannot be escaped.
    return '"' + " ".join(s.replace('"', '""') for s in stems) + '"'


def _fts_variant(term: Term, stems: tuple[str, ...]) -> str:
    if term.kind == "all" and len(stems) > 1:
        return "(" + " AND ".join(_fts_phrase((s,)) for s in stems) + ")"
    return _fts_phrase(stems) + ("*" if term.kind == "prefix" else "")


def _fts_term(term: Term) -> str:
    alternatives = [_fts_variant(term, v) for v in term.variants()]
    return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"


def _fts_clause(clause: Clause) -> str:
    parts = [_fts_term(t) for t in clause.terms]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def fts5_match(parsed: ParsedQuery) -> tuple[str | None, str | None]:
    """FTS5 MATCH strings: what to match (with FTS5's own NOT for exclusions), and, for a query
    of exclusions only, what to leave out (FTS5 cannot match "everything but")."""
    pos = " AND ".join(_fts_clause(c) for c in parsed.positive) or None
    neg = " OR ".join(_fts_clause(c) for c in parsed.negative) or None
    if pos and neg:
        return f"({pos}) NOT ({neg})", None
    return pos, neg


def _pg_term(term: Term, params: dict[str, Any]) -> str:
    parts = []
    for variant in term.variants():
        key = f"q{len(params)}"
        if term.kind == "prefix":
            params[key] = variant[0] + ":*"
            parts.append(f"to_tsquery('simple', :{key})")
        elif len(variant) > 1 and term.kind == "all":
            params[key] = " ".join(variant)
            parts.append(f"plainto_tsquery('simple', :{key})")
        elif len(variant) > 1:
            params[key] = " ".join(variant)
            parts.append(f"phraseto_tsquery('simple', :{key})")
        else:
            params[key] = variant[0]
            parts.append(f"plainto_tsquery('simple', :{key})")
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _pg_clause(clause: Clause, params: dict[str, Any]) -> str:
    parts = [_pg_term(t, params) for t in clause.terms]
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def pg_tsquery(parsed: ParsedQuery, params: dict[str, Any]) -> tuple[str | None, str | None]:
    pos = " && ".join(_pg_clause(c, params) for c in parsed.positive) or None
    neg = " || ".join(_pg_clause(c, params) for c in parsed.negative) or None
    return pos, neg


_COMBO = f"((s.docid >> {SEQ_BITS}) & {COMBO_MASK})"
_MEETING = f"(s.docid >> {MEETING_SHIFT})"

_ORDER = {
    "relevance": "score DESC, s.docid ASC",
    "oldest": f"{_MEETING} ASC, score DESC, s.docid ASC",
    "newest": f"{_MEETING} DESC, score DESC, s.docid ASC",
}


# Retired statements (all their rows deleted from the compilation) have combinations of their own
# (``n_themes`` -1, ``rcm.store.search_index``): the default search leaves them out.
RETIRED = ("exclude", "include", "only")
RETIRED_CONDITIONS = {"exclude": "c.n_themes >= 0", "include": "1 = 1", "only": "c.n_themes < 0"}


def _retired_mode(store: Store, wanted: str) -> str:
    """``wanted``, or "include" when leaving retired statements out would change nothing (no
    statement is retired: the search's SQL stays as it was)."""
    with store.connection() as conn:
        return _retired_for(store.lookups(conn), wanted)


def _retired_for(known: Lookups, wanted: str) -> str:
    if wanted not in RETIRED:
        raise SearchError("retired must be one of %(valid)s", valid=", ".join(RETIRED))
    if wanted == "exclude" and not known.has_retired:
        return "include"
    return wanted


def _combo_condition(filters: Sequence[Filter], params: dict[str, Any]) -> str:
    """The filters as one condition on the docid's facet combination; adds their parameters."""
    for f in filters:
        params.update(f.params)
    condition = " AND ".join(f.sql for f in filters)
    return f"{_COMBO} IN (SELECT c.id FROM facet_combos AS c WHERE {condition})"


def matching_ids(store: Store, filters: Sequence[Filter]) -> list[str]:
    """Every statement id the filters choose (all when none; never a retired one), oldest
    meeting first: no ranking, no snippets, no page limit."""
    params: dict[str, Any] = {}
    where = _combo_condition(filters, params) if filters else "1 = 1"
    if _retired_mode(store, "exclude") == "exclude":
        where += (
            f" AND {_COMBO} IN (SELECT c.id FROM facet_combos AS c WHERE "
            f"{RETIRED_CONDITIONS['exclude']})"
        )
    sql = f"SELECT s.statement_id FROM statement_search AS s WHERE {where} ORDER BY s.docid"
    with store.connection() as conn:
        return [r[0] for r in conn.execute(text(sql), params)]


@dataclass(frozen=True)
class SearchSQL:
    page: str  # docid, score of the requested page, in order
    # combo, n: how many matches of the text (and the retired rule) each facet combination has,
    # before the filters: the facets' counts leave out their own facet's filter (``facet_rule``)
    facets: str
    params: dict[str, Any]
    # RUM: ``page`` gives (docid, distance) of the ``:top`` nearest matches in the index's order
    # instead, and ``page_rows`` reads as many as the page needs (ties completed and put in docid
    # order).
    nearest: bool = False
    # combo id, then 1 or 0 for each filter in order: which combinations each filter lets through
    # (None without filters)
    passes: str | None = None


def passes_sql(filters: Sequence[Filter], params: dict[str, Any]) -> str:
    """Every facet combination with, for each filter, 1 when it passes that filter: the facet
    counts apply the filters to combinations here, with the filters' own SQL (one definition of
    what a filter chooses, on both backends)."""
    columns = []
    for i, f in enumerate(filters):
        params.update(f.params)
        columns.append(f"CASE WHEN {f.sql} THEN 1 ELSE 0 END AS f{i}")
    return f"SELECT c.id, {', '.join(columns)} FROM facet_combos AS c"


def build_search_sql(
    dialect: str,
    parsed: ParsedQuery,
    filters: Sequence[Filter],
    sort: str,
    limit: int,
    offset: int,
    exclude_docid: int | None = None,
    retired: str = "include",
    ranking: str | None = None,
    every: bool = False,
) -> SearchSQL:
    """Two statements over the same matches: the ranked page, and the number of matches per facet
    combination (no ranking: the cheap half). Filters select combinations, so neither backend
    reads a statement row per match; the docid carries the meeting and the combination.
    ``ranking`` (PostgreSQL, ``index_state.ranking``): "rum" reads the relevance page in the RUM
    index's order (``tsv <=> q``: no ranking of every match; its score is ``rum_ts_score``),
    anything else ranks every match with ``ts_rank_cd`` (GIN)."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    rum = False
    where: list[str] = []  # what the page and the facets share: the text and the retired rule
    filtered: list[str] = []  # the page's own: the filters
    if filters:
        filtered.append(_combo_condition(filters, params))
    if retired in RETIRED_CONDITIONS and retired != "include":
        where.append(
            f"{_COMBO} IN (SELECT c.id FROM facet_combos AS c WHERE {RETIRED_CONDITIONS[retired]})"
        )
    if exclude_docid is not None:
        where.append("s.docid != :exclude_docid")
        params["exclude_docid"] = exclude_docid
    if dialect == "sqlite":
        pos, neg = fts5_match(parsed)
        if pos:
            params["match"] = pos
            # The FTS5 rowid is the docid.
            source = (
                "(SELECT rowid AS docid, bm25(statement_fts) AS rank FROM statement_fts "
                "WHERE statement_fts MATCH :match) AS s"
            )
            count_source = (
                "(SELECT rowid AS docid FROM statement_fts WHERE statement_fts MATCH :match) AS s"
            )
            score = "-s.rank"
        else:
            source = count_source = "statement_search AS s"
            score = "0.0"
        if neg:
            params["exclude"] = neg
            where.append(
                "s.docid NOT IN "
                "(SELECT rowid FROM statement_fts WHERE statement_fts MATCH :exclude)"
            )
    elif dialect == "postgresql":
        pos, neg = pg_tsquery(parsed, params)
        source = count_source = "statement_search AS s"
        score = "0.0"
        if pos:
            source = count_source = f"statement_search AS s CROSS JOIN (SELECT {pos} AS q) AS query"
            # ``@@@`` is PostgreSQL's other name for ``@@`` (the same function, the same
            # estimates), but only GIN's operator class indexes it, not RUM's: every read but the
            # RUM page's goes through the GIN index (or no index). RUM is read only in its own
            # order, for the top hits: at a million statements the planner chose RUM's bitmap
            # scan to count a prefix query's matches, and the server crashed in it once (rum
            # 1.3.13; see bench/README.md). Counting needs no positions: GIN is the safer index.
            where.insert(0, "s.tsv @@@ query.q")
            # A prefix query (``smuggl*``) is ranked by GIN even where RUM is chosen: at a
            # million statements under concurrent load the server crashed twice in RUM's scans
            # of prefix queries (rum 1.3.13; bench/README.md).
            prefix = any(t.kind == "prefix" for c in parsed.positive for t in c.terms)
            rum = ranking == "rum" and not prefix
            score = "rum_ts_score(s.tsv, query.q)" if rum else "ts_rank_cd(s.tsv, query.q, 1)"
        if neg:
            where.append(f"NOT (s.tsv @@ ({neg}))")
    else:
        raise SearchError("search is not available on %(dialect)s", dialect=dialect)
    unfiltered = " AND ".join(where) or "1 = 1"
    condition = " AND ".join(where + filtered) or "1 = 1"
    page = (
        f"SELECT s.docid AS docid, {score} AS score FROM {source} WHERE {condition} "
        f"ORDER BY {_ORDER[sort]} LIMIT :limit OFFSET :offset"
    )
    if rum and sort == "relevance" and every:
        # Every match in the RUM page's order (a download, ``stream_hits``): the distance as the
        # score, ties in docid order, as ``page_rows`` puts them; the matches found through GIN.
        page = (
            f"SELECT s.docid AS docid, s.tsv <=> query.q AS score FROM {source} "
            f"WHERE {condition} ORDER BY score ASC, s.docid ASC LIMIT :limit OFFSET :offset"
        )
    elif rum and sort == "relevance":
        # The index returns the matches nearest first; ``page_rows`` reads only as many as the
        # page needs. ORDER BY the distance alone: a second key (the docid, for ties) would make
        # PostgreSQL rank every match to sort them; ``page_rows`` completes the ties instead.
        nearest = " AND ".join(["s.tsv @@ query.q", *where[1:], *filtered])  # RUM's operator
        page = (
            f"SELECT s.docid AS docid, s.tsv <=> query.q AS distance FROM {source} "
            f"WHERE {nearest} ORDER BY s.tsv <=> query.q LIMIT :top"
        )
    facets = (
        f"SELECT {_COMBO} AS combo, COUNT(*) AS n FROM {count_source} WHERE {unfiltered} "
        f"GROUP BY {_COMBO}"
    )
    return SearchSQL(
        page,
        facets,
        params,
        nearest=rum and sort == "relevance",
        passes=passes_sql(filters, params) if filters else None,
    )


def page_rows(store: Store, conn: Connection, sql: SearchSQL) -> list[tuple[int, float]]:
    """(docid, score) of the page ``sql`` asks for, best first, ties in docid order. On the RUM
    path the index gives the matches nearest first, but in no set order among equal distances:
    the page's worth and one more are read, then more (``Store.read_while``) while the last read
    ties with the page's last, so that every match as near as the page's last is in hand without
    reading every match; the page is cut from them in (distance, docid) order, as the GIN path's
    ORDER BY would. The score is RUM's rank (``rum_ts_score``, the inverse of the
    distance)."""
    if not sql.nearest:
        rows = store.read_rows(conn, sql.page, sql.params)
        return [(int(r[0]), float(r[1] or 0.0)) for r in rows]
    limit, offset = int(sql.params["limit"]), int(sql.params["offset"])
    wanted = limit + offset
    rows = store.read_while(
        conn, sql.page, sql.params, wanted + 1, lambda rows: rows[-1][1] == rows[wanted - 1][1]
    )
    ordered = sorted((float(r[1]), int(r[0])) for r in rows)[offset:wanted]
    return [(docid, 1.0 / distance if distance else 0.0) for distance, docid in ordered]


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet. ``count``: the statements with this value among those the search
    finds with every other facet's filters (not this facet's own: ``facet_rule``), so choosing
    this value alone in its facet gives ``count`` statements. ``adds``: in a facet where values
    are chosen already (any of them matches), how many statements choosing this one as well
    adds to the result; None otherwise. ``chosen``: the search filters on this value."""

    value: str
    label: str
    count: int
    chosen: bool = False
    adds: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "label": self.label,
            "count": self.count,
            "chosen": self.chosen,
            "adds": self.adds,
        }


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    snippet: str  # HTML-escaped text with <mark>…</mark> around matched words
    meeting: int
    meeting_label: str
    year: int | None
    category: str | None
    themes: tuple[int, ...]
    subthemes: tuple[tuple[int, int], ...]
    heading: str | None
    text: str
    lang: str = "en"  # the language of ``text`` and ``snippet``
    # the snippet of each other wording the statement has, by language ("es": …)
    other_snippets: dict[str, str] = field(default_factory=dict)

    def snippet_in(self, lang: str) -> tuple[str, str]:
        """The snippet in ``lang`` where the statement has a wording in it, else in its own
        language: (snippet, the language it is in), to print marked with that language."""
        if lang != self.lang and lang in self.other_snippets:
            return self.other_snippets[lang], lang
        return self.snippet, self.lang

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": round(self.score, 6),
            "snippet": self.snippet,
            "meeting": self.meeting,
            "meeting_label": self.meeting_label,
            "year": self.year,
            "category": self.category,
            "themes": list(self.themes),
            "subthemes": [f"TS{t}.{o}" for t, o in self.subthemes],
            "heading": self.heading,
            "text": self.text,
            "lang": self.lang,
            # the snippet of every wording the statement has, by language
            "snippets": {self.lang: self.snippet, **self.other_snippets},
        }


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    sentence: str
    sort: str
    limit: int
    offset: int
    notes: tuple[str, ...] = field(default=())
    # the notes as messages to translate, and the thesaurus terms searched too
    notices: tuple[Notice, ...] = field(default=())
    also_searched: tuple[Expansion, ...] = field(default=())
    # what the sentence is made of, for :func:`describe_in` (another language)
    text_query: str | None = None
    filters: tuple[Filter, ...] = field(default=())

    def sentence_in(self, lang: str, gettext: Callable[[str], str]) -> str:
        """The sentence in ``lang`` (:func:`describe_in`)."""
        return describe_in(self.text_query, self.filters, lang, gettext)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "filter": self.sentence,
            "sort": self.sort,
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "notes": list(self.notes),
            "notices": [n.as_dict() for n in self.notices],
            "also_searched": [e.as_dict() for e in self.also_searched],
            "hits": [h.as_dict() for h in self.hits],
            "facets": {name: [v.as_dict() for v in values] for name, values in self.facets.items()},
        }


def describe(parsed: ParsedQuery, filters: Sequence[Filter]) -> str:
    parts = []
    if parsed.clauses:
        parts.append(f"text matches {parsed.text.strip()!r}")
    parts.extend(f.sentence for f in filters)
    return " and ".join(parts) if parts else "all statements"


# The sentence in the reader's language: the same parts, each an English message (the key of its
# translation) that ``gettext`` translates, and the taxonomy's labels in ``lang``.
_PHRASES = {
    "theme": "theme is %(values)s",
    "xref": "a note cross-references %(values)s",
    "subtheme": "sub-theme is %(values)s",
    "category": "category is %(values)s",
    "several:yes": "placed under several themes",
    "several:no": "placed under one theme",
}
_RANGES = {  # (kind, both ends given, same) -> message
    "one": "%(kind)s is %(low)s",
    "between": "%(kind)s is between %(low)s and %(high)s",
    "later": "%(kind)s is %(low)s or later",
    "earlier": "%(kind)s is %(high)s or earlier",
}
_CATEGORY_WORDS = {"unassigned": "not yet assigned"}


def _joined(items: Sequence[str], word: str, gettext: Callable[[str], str]) -> str:
    if len(items) == 1:
        return items[0]
    template = gettext("%(first)s and %(last)s" if word == "and" else "%(first)s or %(last)s")
    return template % {"first": ", ".join(items[:-1]), "last": items[-1]}


def _range_phrase(kind: str, low: str, high: str, gettext: Callable[[str], str]) -> str:
    shape = (
        ("one" if low == high else "between") if low and high else ("later" if low else "earlier")
    )
    return gettext(_RANGES[shape]) % {"kind": gettext(kind), "low": low, "high": high}


def _filter_phrase(f: Filter, lang: str, gettext: Callable[[str], str]) -> str:
    if f.kind in ("theme", "xref"):
        values = [f"TS{t}" for t in f.args]
    elif f.kind == "subtheme":
        values = [
            f"TS{key} \u00ab{taxonomy.label('subtheme', key, lang, default=key)}\u00bb"
            for key in f.args
        ]
    elif f.kind == "category":
        values = [gettext(_CATEGORY_WORDS.get(c, c)) for c in f.args]
    elif f.kind == "several":
        return gettext(_PHRASES[f"several:{f.args[0]}"])
    elif f.kind == "meeting":
        low, high = (taxonomy.meeting_label(x, lang) if x else "" for x in f.args)
        return _range_phrase("meeting", low, high, gettext)
    elif f.kind == "year":
        return _range_phrase("year", f.args[0], f.args[1], gettext)
    else:
        return f.sentence
    return gettext(_PHRASES[f.kind]) % {"values": _joined(values, "or", gettext)}


def describe_in(
    text_query: str | None,
    filters: Sequence[Filter],
    lang: str,
    gettext: Callable[[str], str],
) -> str:
    """What a search asked, in ``lang``: :func:`describe`'s sentence made of messages that
    ``gettext`` translates ("text matches %(query)s", "theme is %(values)s" …) and the taxonomy's
    labels in ``lang`` (sub-themes, meetings: "XIX CRM"). ``text_query``: the words typed, or None
    when they give no clause."""
    parts = []
    if text_query:
        parts.append(gettext("text matches %(query)s") % {"query": repr(text_query)})
    parts.extend(_filter_phrase(f, lang, gettext) for f in filters)
    return _joined(parts, "and", gettext) if parts else gettext("all statements")


# The clauses of a sentence :func:`describe` (or ``rcm.consult.open_round``) wrote, for
# :func:`scope_in`: each kind with its pattern, tried in this order at the start of a clause; a
# clause ends at " and " or at the end (no label these patterns accept contains " and ").
_ONE_OF = r"(?:, | or )"
_TS = r"TS[1-6]"
_SUB = r"TS[1-6]\.\d+ \u00ab[^\u00bb]*\u00bb"
_CAT = "(?:" + "|".join(CATEGORY_VALUES) + ")"
_END = r"(?= and |$)"
_CLAUSES = [
    ("theme", re.compile(rf"theme is ({_TS}(?:{_ONE_OF}{_TS})*){_END}")),
    ("xref", re.compile(rf"a note cross-references ({_TS}(?:{_ONE_OF}{_TS})*){_END}")),
    ("subtheme", re.compile(rf"sub-theme is ({_SUB}(?:{_ONE_OF}{_SUB})*){_END}")),
    ("category", re.compile(rf"category is ({_CAT}(?:{_ONE_OF}{_CAT})*){_END}")),
    ("several", re.compile(rf"placed under (several|one) themes?{_END}")),
    ("between", re.compile(rf"(meeting|year) is between (.+?) and (.+?){_END}")),
    ("later", re.compile(rf"(meeting|year) is (.+?) or later{_END}")),
    ("earlier", re.compile(rf"(meeting|year) is (.+?) or earlier{_END}")),
    ("one", re.compile(rf"(meeting|year) is (.+?){_END}")),
]


def _end_value(kind: str, text: str) -> str:
    """A meeting's code or a year from a range's end as the sentence gives it; ValueError if it
    is neither."""
    if kind == "meeting":
        return parse_meeting(text).code
    if not re.fullmatch(r"\d{4}", text):
        raise ValueError(text)
    return text


def _read_clause(sentence: str, at: int) -> tuple[Filter, int] | None:
    for kind, pattern in _CLAUSES:
        m = pattern.match(sentence, at)
        if not m:
            continue
        said = m.group(0)
        if kind in ("theme", "xref"):
            args = tuple(re.findall(r"TS([1-6])", m.group(1)))
        elif kind == "subtheme":
            args = tuple(re.findall(r"TS([1-6]\.\d+) \u00ab", m.group(1)))
        elif kind == "category":
            args = tuple(re.findall(_CAT, m.group(1)))
        elif kind == "several":
            args = ("yes" if m.group(1) == "several" else "no",)
        else:
            try:
                ends = [_end_value(m.group(1), x) for x in m.groups()[1:]]
            except ValueError:
                continue
            low, high = {
                "between": (ends[0], ends[-1]),
                "later": (ends[0], ""),
                "earlier": ("", ends[0]),
                "one": (ends[0], ends[0]),
            }[kind]
            kind, args = m.group(1), (low, high)
        return Filter("", {}, said, kind, args), m.end()
    return None


def scope_in(scope: str, lang: str, gettext: Callable[[str], str]) -> str | None:
    """A round's scope (the English sentence of its filters, as ``rcm.consult.open_round``
    records it: "theme is TS5 and category is commitment") in ``lang``, said as
    :func:`describe_in` says a search's filters; None if the sentence cannot be read back (a
    shape this version does not write), for the caller to show it as it is."""
    if lang == "en":
        return scope
    if scope == "all statements":
        return describe_in(None, [], lang, gettext)
    filters, at = [], 0
    while True:
        found = _read_clause(scope, at)
        if found is None:
            return None
        filters.append(found[0])
        at = found[1]
        if at == len(scope):
            return describe_in(None, filters, lang, gettext)
        at += len(" and ")


def selected_filters(
    result: SearchResult, lang: str, gettext: Callable[[str], str]
) -> list[dict[str, str]]:
    """The filters a search applies, one entry per chosen value ("TS5 — Human rights", "TS5 ·
    5.2 Protection of …", "category is commitment", "year is between 2005 and 2010"), in ``lang``:
    ``param`` and ``value`` name the address's parameter and value that remove it."""
    labels = {(name, v.value): v.label for name, values in result.facets.items() for v in values}
    out = []
    for f in result.filters:
        if f.kind == "theme":
            for a in f.args:
                title = labels.get(("theme", f"TS{a}"), f"TS{a}")[len(f"TS{a}") + 1 :]
                name = taxonomy.label("theme", a, lang, default=title or None)
                out.append({"param": "theme", "value": f"TS{a}", "label": f"TS{a} \u2014 {name}"})
        elif f.kind == "subtheme":
            for a in f.args:
                title = labels.get(("subtheme", f"TS{a}"), "")
                name = taxonomy.label("subtheme", a, lang, default=title or a)
                theme = a.split(".")[0]
                label = f"TS{theme} \u00b7 {a} {name}"
                out.append({"param": "subtheme", "value": f"TS{a}", "label": label})
        elif f.kind in ("category", "xref"):
            for a in f.args:
                one = replace(f, args=(a,))
                value = a if f.kind == "category" else f"TS{a}"
                label = _filter_phrase(one, lang, gettext)
                out.append({"param": f.kind, "value": value, "label": label})
        elif f.kind in ("meeting", "year", "several"):
            out.append({"param": f.kind, "value": "", "label": _filter_phrase(f, lang, gettext)})
    return out


def search(store: Store, request: SearchRequest, conn: Connection | None = None) -> SearchResult:
    """Run a search. With ``request.expand`` (the default) the query is expanded through the
    bilingual thesaurus (:func:`expand`) and the result says what else was searched. ``conn``: an
    open connection to read on (a download's snapshot, ``Store.snapshot``), else a new one."""
    parsed = parsed_query(request.query, request.expand)
    sort = request.effective_sort(parsed)
    if not 1 <= request.limit <= MAX_LIMIT:
        raise SearchError("limit must be between 1 and %(n)s", n=MAX_LIMIT)
    if not 0 <= request.offset <= MAX_OFFSET:
        raise SearchError(
            "offset must be between 0 and %(n)s: narrow the search instead", n=f"{MAX_OFFSET:,}"
        )
    # One connection, four reads (after PostgreSQL's settings for them, ``Store.tune_search``):
    # the index generation (the cached lookups are still good), the page, the facet counts, the
    # page's statements.
    with store.connection() if conn is None else nullcontext(conn) as conn:
        known = store.lookups(conn)
        store.tune_search(conn)
        sql = build_search_sql(
            store.dialect,
            parsed,
            request.filters,
            sort,
            request.limit,
            request.offset,
            retired=_retired_for(known, request.retired),
            ranking=known.ranking,
        )
        page = page_rows(store, conn, sql)
        groups = store.read_rows(conn, sql.facets, sql.params)
        passes = (
            {
                int(r[0]): tuple(bool(x) for x in r[1:])
                for r in store.read_rows(conn, sql.passes, sql.params)
            }
            if sql.passes
            else {}
        )
        details = store.hit_details(conn, [docid for docid, _ in page])
    combos, meetings = known.combos, known.meetings
    titles, theme_titles = known.subtheme_titles, known.theme_titles
    counted = [(combos[int(g[0])], int(g[1]), passes.get(int(g[0]), ())) for g in groups]
    total, facets = facet_rule(counted, request.filters, meetings, titles, theme_titles)
    return SearchResult(
        query=request.query,
        total=total,
        hits=_hits(page, details, combos, meetings, parsed.highlight_stems()),
        facets=facets,
        sentence=describe(parsed, request.filters),
        sort=sort,
        limit=request.limit,
        offset=request.offset,
        notes=parsed.notes + tuple(str(n) for n in also_searched(parsed.expansions)),
        notices=parsed.notices + also_searched(parsed.expansions),
        also_searched=parsed.expansions,
        text_query=parsed.text.strip() if parsed.clauses else None,
        filters=tuple(request.filters),
    )


#: How many matches a download (``stream_hits``) reads at a time: its memory is one batch's,
#: whatever the number of matches.
DOWNLOAD_BATCH = 500


def stream_hits(
    store: Store, request: SearchRequest, conn: Connection, batch: int | None = None
) -> Iterator[list[Hit]]:
    """Every match of a search, in the search's order, ``batch`` (``DOWNLOAD_BATCH``) at a time:
    the page's statement without its limit, read through ``Store.read_batches``, on ``conn``
    (``Store.snapshot``: every batch from the same state of the data). No page limit and no
    ``MAX_OFFSET``: the downloads hold every match. On PostgreSQL the matches are ranked with
    ``ts_rank_cd`` (GIN's ranking) even where the pages use the RUM index's order: RUM is read
    only in bounded reads (``Store.read_while``)."""
    size = batch or DOWNLOAD_BATCH
    parsed = parsed_query(request.query, request.expand)
    sort = request.effective_sort(parsed)
    known = store.lookups(conn)
    store.tune_search(conn)
    sql = build_search_sql(
        store.dialect,
        parsed,
        request.filters,
        sort,
        1,
        0,
        retired=_retired_for(known, request.retired),
        ranking=known.ranking,
        every=True,
    )
    # No limit: SQLite's LIMIT -1, PostgreSQL's LIMIT NULL.
    params = dict(sql.params, limit=-1 if store.dialect == "sqlite" else None, offset=0)
    highlight = parsed.highlight_stems()
    for rows in store.read_batches(conn, sql.page, params, size):
        if sql.nearest:  # RUM's distance: the score is its inverse, as on the pages
            page = [(int(r[0]), 1.0 / float(r[1]) if r[1] else 0.0) for r in rows]
        else:
            page = [(int(r[0]), float(r[1] or 0.0)) for r in rows]
        details = store.hit_details(conn, [docid for docid, _ in page])
        yield _hits(page, details, known.combos, known.meetings, highlight)


def _hits(
    page: Sequence[tuple[int, float]],
    details: dict[int, dict[str, Any]],
    combos: dict[int, Combo],
    meetings: dict[str, tuple[str, int | None]],
    highlight: tuple[set[str], tuple[str, ...]],
) -> list[Hit]:
    hits = []
    for docid, score in page:
        d = details[docid]
        combo = combos[combo_of(docid)]
        label, year = meetings.get(combo.meeting_code, (combo.meeting_code, None))
        hits.append(
            Hit(
                id=d["id"],
                score=score,
                snippet=snippet(d["text"], *highlight),
                meeting=combo.meeting,
                meeting_label=label,
                year=year,
                category=combo.category,
                themes=tuple(bits(combo.themes)),
                subthemes=tuple(subtheme_pairs(combo.subthemes)),
                heading=d["heading"],
                text=d["text"],
                lang=d.get("lang") or "en",
                other_snippets={
                    lang: snippet(d[f"text_{lang}"], *highlight)
                    for lang in ("en", "es")
                    if lang != d.get("lang") and d.get(f"text_{lang}")
                },
            )
        )
    return hits


_meeting_key = lru_cache(maxsize=4096)(meeting_order)

# Each facet and the kind of filter that chooses its values (``Filter.kind``). In the facets
# of MULTIPLE any of the chosen values matches (OR); the others choose one value, which replaces
# what was chosen. Across facets every filter applies (AND).
FACET_KINDS = {
    "theme": "theme",
    "subtheme": "subtheme",
    "category": "category",
    "meeting": "meeting",
    "year": "year",
    "several_themes": "several",
    "cross_reference": "xref",
}
MULTIPLE = ("theme", "subtheme", "category", "cross_reference")


def chosen_values(filters: Sequence[Filter]) -> dict[str, set[str]]:
    """The facet values (``FacetValue.value``) the filters choose, by facet; a range of
    meetings or years chooses no single value."""
    out: dict[str, set[str]] = {name: set() for name in FACET_KINDS}
    for f in filters:
        if f.kind in ("theme", "xref", "subtheme"):
            name = {"theme": "theme", "xref": "cross_reference", "subtheme": "subtheme"}[f.kind]
            out[name].update(f"TS{a}" for a in f.args)
        elif f.kind == "category":
            out["category"].update(f.args)
        elif f.kind in ("meeting", "year") and f.args[0] and f.args[0] == f.args[1]:
            out[f.kind].add(f.args[0])
        elif f.kind == "several":
            out["several_themes"].add("several" if f.args[0] == "yes" else "one")
    return out


def facet_rule(
    counted: Sequence[tuple[Combo, int, tuple[bool, ...]]],
    filters: Sequence[Filter],
    meetings: dict[str, tuple[str, int | None]],
    titles: dict[tuple[int, int], str],
    theme_titles: dict[int, str],
) -> tuple[int, dict[str, list[FacetValue]]]:
    """The number of statements found and the facets, from the matches of the text counted by
    facet combination, each with whether it passes each filter. The rule: a facet's counts are
    taken over the statements that pass every filter but its own facet's (so a count is what
    choosing that value alone in its facet gives: a value replaces a meeting, a year or "several
    themes", and in the facets of MULTIPLE a value chosen alone); where values are chosen already
    in a facet of MULTIPLE, ``adds`` says how many statements choosing one more value adds (the
    statements with it that none of the chosen values has). Chosen values are always listed,
    with 0 when nothing else chosen leaves them any statement."""
    kinds = [f.kind for f in filters]
    # The combinations that pass every filter (key None) and those that fail the filters of one
    # kind only (key: that kind); a combination failing two kinds counts in no facet.
    bucket: dict[str | None, list[tuple[Combo, int]]] = {None: []}
    for combo, n, combo_passes in counted:
        failed = {k for p, k in zip(combo_passes, kinds, strict=True) if not p}
        if len(failed) <= 1:
            bucket.setdefault(failed.pop() if failed else None, []).append((combo, n))
    total = sum(n for _, n in bucket[None])
    chosen = chosen_values(filters)
    plain = [name for name, kind in FACET_KINDS.items() if kind not in kinds]
    every = count_facets(bucket[None], meetings, titles, theme_titles, names=plain)
    facets: dict[str, list[FacetValue]] = {name: every[name] for name in plain}
    for name, kind in FACET_KINDS.items():
        if name in facets:
            continue
        outside = bucket.get(kind, [])  # pass the other facets' filters, not this one's
        values = count_facets(
            bucket[None] + outside,
            meetings,
            titles,
            theme_titles,
            {name: chosen[name]},
            names=[name],
        )[name]
        adds: dict[str, int] | None = None
        if name in MULTIPLE:
            counts = count_facets(outside, meetings, titles, theme_titles, names=[name])[name]
            adds = {v.value: v.count for v in counts}
        facets[name] = [
            replace(
                v,
                chosen=v.value in chosen[name],
                adds=None if adds is None or v.value in chosen[name] else adds.get(v.value, 0),
            )
            for v in values
        ]
    return total, facets


def count_facets(
    counted: Sequence[tuple[Combo, int]],
    meetings: dict[str, tuple[str, int | None]],
    titles: dict[tuple[int, int], str],
    theme_titles: dict[int, str],
    listed: dict[str, set[str]] | None = None,
    names: Sequence[str] = tuple(FACET_KINDS),
) -> dict[str, list[FacetValue]]:
    """Statements per facet value over ``counted``, for the facets ``names`` (the others are
    left empty); the values of ``listed`` (by facet) appear even with no statement."""
    theme: Counter[int] = Counter()
    sub: Counter[tuple[int, int]] = Counter()
    category: Counter[str] = Counter()
    meeting: Counter[str] = Counter()
    year: Counter[int] = Counter()
    several: Counter[str] = Counter()
    xref: Counter[int] = Counter()
    for name, values in (listed or {}).items():
        for value in values:
            if name == "theme":
                theme[int(value[2:])] += 0
            elif name == "cross_reference":
                xref[int(value[2:])] += 0
            elif name == "subtheme":
                t, o = value[2:].split(".")
                sub[(int(t), int(o))] += 0
            elif name == "category":
                category[value] += 0
            elif name == "meeting":
                meeting[value] += 0
            elif name == "year":
                year[int(value)] += 0
            elif name == "several_themes":
                several[value] += 0
    want = set(names)
    want_theme, want_sub, want_xref = "theme" in want, "subtheme" in want, "cross_reference" in want
    want_category, want_meeting, want_year = "category" in want, "meeting" in want, "year" in want
    want_several = "several_themes" in want
    for g, n in counted:
        if want_theme or want_several:
            themes = bits(g.themes)
            if want_theme:
                for th in themes:
                    theme[th] += n
            if want_several:
                several["several" if len(themes) > 1 else "one"] += n
        if want_sub:
            for pair in subtheme_pairs(g.subthemes):
                sub[pair] += n
        if want_xref:
            for th in bits(g.xrefs):
                xref[th] += n
        if want_category:
            category[g.category or "unassigned"] += n
        if want_meeting:
            meeting[g.meeting_code] += n
        if want_year and g.year is not None:
            year[g.year] += n
    return {
        "theme": [
            FacetValue(f"TS{t}", f"TS{t} {theme_titles.get(t, '')}".strip(), n)
            for t, n in sorted(theme.items())
        ],
        "subtheme": [
            FacetValue(f"TS{t}.{o}", titles.get((t, o), f"TS{t}.{o}"), n)
            for (t, o), n in sorted(sub.items())
        ],
        "category": [FacetValue(c, c, category[c]) for c in CATEGORY_VALUES if c in category],
        "meeting": [
            FacetValue(code, meetings.get(code, (code, None))[0], n)
            for code, n in sorted(meeting.items(), key=lambda kv: _meeting_key(kv[0]))
        ],
        "year": [FacetValue(str(y), str(y), n) for y, n in sorted(year.items())],
        "several_themes": [
            FacetValue(
                v,
                "placed under several themes" if v == "several" else "placed under one theme",
                several[v],
            )
            for v in ("several", "one")
            if v in several
        ],
        "cross_reference": [
            FacetValue(f"TS{t}", f"a note names TS{t}", n) for t, n in sorted(xref.items())
        ],
    }


# --- snippets -----------------------------------------------------------------------------------

SNIPPET_CHARS = 240


_fold_word = lru_cache(maxsize=1 << 16)(analyze.fold)


@lru_cache(maxsize=1 << 16)
def _word_stems(word: str) -> tuple[str, str]:
    return analyze.stem(word, "en"), analyze.stem(word, "es")


def _matches(word: str, stems: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    en, es = _word_stems(word)
    return (
        en in stems or es in stems or any(en.startswith(p) or word.startswith(p) for p in prefixes)
    )


@lru_cache(maxsize=1024)
def _candidates(keys: frozenset[str]) -> re.Pattern[str] | None:
    # Words that may match: those starting like a stem (stems are prefixes of their words, give
    # or take the last letters); each candidate is then checked exactly.
    if not keys:
        return None
    alternatives = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.I)


def snippet(
    text_: str, stems: set[str], prefixes: tuple[str, ...], size: int = SNIPPET_CHARS
) -> str:
    """About ``size`` characters of the statement around its densest run of matches, cut at word
    boundaries, HTML-escaped, with matched words in <mark>."""
    frozen = frozenset(stems)
    pattern = _candidates(frozenset(k[:4] for k in (*stems, *prefixes)))
    found: list[tuple[int, int]] = []
    if pattern is not None:
        for m in pattern.finditer(analyze.fold_in_place(text_)):
            if _matches(_fold_word(m.group()), frozen, prefixes):
                found.append((m.start(), m.end()))
    begin = 0
    if found and len(text_) > size:
        best, j = 0, 0
        for i in range(len(found)):  # the window [start_i, start_i + size) holding most matches
            while j < len(found) and found[j][0] < found[i][0] + size:
                j += 1
            if j - i > best:
                best, begin = j - i, found[i][0]
        begin = max(0, begin - 40)
        if begin:
            begin = text_.rfind(" ", 0, begin) + 1
    end = len(text_)
    if end - begin > size:
        cut = text_.find(" ", begin + size)
        end = len(text_) if cut < 0 else cut
    out = ["\u2026 " if begin > 0 else ""]
    cursor = begin
    for start, stop in found:
        if start < begin or stop > end:
            continue
        out.append(html.escape(text_[cursor:start]))
        out.append("<mark>" + html.escape(text_[start:stop]) + "</mark>")
        cursor = stop
    out.append(html.escape(text_[cursor:end]))
    if end < len(text_):
        out.append(" \u2026")
    return "".join(out)


# --- related statements -------------------------------------------------------------------------

RELATED_TERMS = 12


def related(store: Store, statement_id: str, limit: int = 5) -> SearchResult:
    """The statements most like this one (lexical: its most distinctive stems, tf-idf weighted,
    as an OR query ranked by the backend's relevance), excluding itself."""
    statement, _ = store.statement(statement_id)
    tokens = [
        w for w in analyze.words(statement.text) if w not in analyze.STOP_WORDS and len(w) > 2
    ]
    tf = Counter(analyze.stems(tokens, "en"))
    if not tf:
        raise SearchError("%(id)s has no words to compare", id=statement.id)
    with store.connection() as conn:
        total, df = store.document_frequencies(conn, sorted(tf))
        own = store.docid(conn, statement.id)
    weights = {s: n * math.log(1 + total / (1 + df.get(s, 0))) for s, n in tf.items()}
    chosen = sorted(weights, key=lambda s: (-weights[s], s))[:RELATED_TERMS]
    clause = Clause(tuple(_StemmedTerm("word", s, (s,)) for s in chosen))
    parsed = ParsedQuery(text=" OR ".join(chosen), clauses=(clause,))
    with store.connection() as conn:
        known = store.lookups(conn)
        store.tune_search(conn)
        sql = build_search_sql(
            store.dialect,
            parsed,
            [],
            "relevance",
            limit,
            0,
            exclude_docid=own,
            retired=_retired_for(known, "exclude"),
            ranking=known.ranking,
        )
        page = page_rows(store, conn, sql)
        details = store.hit_details(conn, [docid for docid, _ in page])
    combos, meetings = known.combos, known.meetings
    hits = _hits(page, details, combos, meetings, (set(chosen), ()))
    return SearchResult(
        query=f"related to {statement.id}",
        total=len(hits),
        hits=hits,
        facets={},
        sentence=f"statements like {statement.id}",
        sort="relevance",
        limit=limit,
        offset=0,
        notes=(f"compared on: {', '.join(chosen)}",),
    )


class _StemmedTerm(Term):
    """A term that is already a stem (related statements): not stemmed again."""

    def variants(self) -> list[tuple[str, ...]]:
        return [self.words]


def make_filters(
    store: Store,
    *,
    themes: Sequence[str] = (),
    subthemes: Sequence[str] = (),
    categories: Sequence[str] = (),
    meetings: str | None = None,
    years: str | None = None,
    several_themes: bool | None = None,
    xrefs: Sequence[str] = (),
) -> tuple[Filter, ...]:
    """Filters from what people type ("TS5", "TS3.2", "commitment", "XII..XXI", "2005..")."""
    filters: list[Filter] = []
    if themes:
        filters.append(theme_filter([parse_theme(t) for t in themes]))
    if subthemes:
        with store.connection() as conn:
            titles = store.subtheme_titles_in(conn)
        filters.append(subtheme_filter([parse_subtheme(s) for s in subthemes], titles))
    if categories:
        filters.append(category_filter([c.strip().lower() for c in categories]))
    if meetings:
        filters.append(meeting_filter(*parse_meeting_range(meetings)))
    if years:
        filters.append(year_filter(*parse_range(years)))
    if several_themes is not None:
        filters.append(multi_theme_filter(several_themes))
    if xrefs:
        filters.append(xref_filter([parse_theme(t) for t in xrefs]))
    return tuple(filters)


# --- the search's parameters, one definition for the CLI, the web pages, the API and its schema --

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 500
MAX_LIST_PARAMS = 20
MAX_RAW_QUERY = 10_000  # refused before parsing; parse_query reads at most MAX_QUERY_CHARS

# Names that drifted in before the parameters had one definition (the CLI's option names, a plural
# here and there): still accepted, and documented as old names.
OLD_NAMES: dict[str, str] = {
    "themes": "theme",
    "subthemes": "subtheme",
    "categories": "category",
    "meetings": "meeting",
    "years": "year",
    "several_themes": "several",
    "xrefs": "xref",
    "limit": "size",
}
LISTS = ("theme", "subtheme", "category", "xref")

# name → (description, JSON schema of one value)
_DESCRIBED: dict[str, tuple[str, dict[str, Any]]] = {
    "q": (
        'words, "exact phrase", OR, -exclude, prefix*',
        {"type": "string", "maxLength": MAX_QUERY_CHARS},
    ),
    "page": ("page number", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
    "size": ("hits per page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
    "sort": (
        "relevance (default with words), oldest (default without), newest",
        {"type": "string", "enum": list(SORTS)},
    ),
    "theme": ("TS1…TS6; repeat for any of several", {"type": "string"}),
    "subtheme": ("TS3.2 (theme.order)", {"type": "string"}),
    "category": ("principle, understanding, commitment, unassigned", {"type": "string"}),
    "meeting": ("XII, XII..XXI, XXII.., ..X, XXV-E1", {"type": "string", "maxLength": 40}),
    "year": ("2005, 2005..2010", {"type": "string", "maxLength": 20}),
    "year_from": (
        "first year (the page's two year fields: year_from=2005&year_to=2010 is year=2005..2010)",
        {"type": "string", "maxLength": 4},
    ),
    "year_to": ("last year (see year_from)", {"type": "string", "maxLength": 4}),
    "several": (
        "yes: placed under several themes; no: under one",
        {"type": "string", "enum": ["yes", "no"]},
    ),
    "xref": ("a cross-reference note names this theme (TS3)", {"type": "string"}),
    "expand": (
        "1 (default): also search the other language's terms of the bilingual thesaurus; "
        "0: only the words as typed",
        {"type": "string", "enum": ["0", "1"]},
    ),
    "retired": (
        "include: also retired statements (all their rows deleted from the compilation); "
        "only: just those; left out by default",
        {"type": "string", "enum": ["include", "only"]},
    ),
}


@dataclass(frozen=True)
class SearchParams:
    """What a search asks for, under the names the API publishes. ``from_query`` reads an
    address's query (old names too), ``to_query`` writes one back, ``to_request`` makes the
    ``SearchRequest`` that ``search`` runs."""

    q: str = ""
    page: int = 1
    size: int = PAGE_SIZE
    sort: str | None = None
    theme: tuple[str, ...] = ()
    subtheme: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    meeting: str | None = None
    year: str | None = None
    several: str | None = None  # "yes" or "no"
    xref: tuple[str, ...] = ()
    expand: bool = True
    retired: str | None = None  # "include" or "only"; None leaves retired statements out

    @classmethod
    def from_query(cls, pairs: Iterable[tuple[str, str]]) -> SearchParams:
        """The parameters of a query string (as ``(name, value)`` pairs, repeated names for the
        lists), read: a ``SearchError`` says what cannot be read; ``check`` then says whether
        the numbers are in range."""
        lists: dict[str, list[str]] = {name: [] for name in LISTS}
        last: dict[str, str] = {}
        pairs_list = list(pairs)
        for raw_name, value in pairs_list:
            name = OLD_NAMES.get(raw_name, raw_name)
            if name in lists:
                if value.strip():
                    lists[name].append(value)
            elif name in _DESCRIBED:
                last[name] = value
        for name, values in lists.items():
            if len(values) > MAX_LIST_PARAMS:
                raise SearchError("at most %(n)s values for %(name)s", n=MAX_LIST_PARAMS, name=name)
        q = last.get("q", "")
        if len(q) > MAX_RAW_QUERY:
            raise SearchError("the query is too long")
        year = last.get("year") or None
        ends = [dict(pairs_list).get(k, "").strip() for k in ("year_from", "year_to")]
        if any(ends):
            # the page's two year fields: the same as year=FROM..TO
            year = ends[0] if ends[0] == ends[1] else f"{ends[0]}..{ends[1]}"
        return cls(
            q=q,
            page=_whole_number("page", last.get("page", ""), 1),
            size=_whole_number("size", last.get("size", ""), PAGE_SIZE),
            sort=_sort(last.get("sort", "")),
            theme=tuple(lists["theme"]),
            subtheme=tuple(lists["subtheme"]),
            category=tuple(lists["category"]),
            meeting=last.get("meeting") or None,
            year=year,
            several=last.get("several") or None,
            xref=tuple(lists["xref"]),
            expand=last.get("expand", "1").strip().lower() not in ("0", "no", "false", "off"),
            retired=last.get("retired") or None,
        )

    def check(self, max_size: int = MAX_PAGE_SIZE) -> None:
        if not 1 <= self.page <= MAX_PAGE:
            raise SearchError("page must be between 1 and %(n)s", n=MAX_PAGE)
        if not 1 <= self.size <= max_size:
            raise SearchError("size must be between 1 and %(n)s", n=max_size)
        if self.several not in (None, "", "yes", "no"):
            raise SearchError("several must be yes or no")
        if self.retired not in (None, "", "include", "only"):
            raise SearchError("retired must be include or only")

    def to_query(self) -> list[tuple[str, str]]:
        """The query string's pairs, published names only, defaults left out."""
        pairs: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        for name in (
            "theme",
            "subtheme",
            "category",
            "meeting",
            "year",
            "several",
            "xref",
            "retired",
        ):
            value = getattr(self, name)
            if isinstance(value, tuple):
                pairs += [(name, v) for v in value]
            elif value:
                pairs.append((name, value))
        if self.sort:
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        if self.size != PAGE_SIZE:
            pairs.append(("size", str(self.size)))
        if not self.expand:
            pairs.append(("expand", "0"))
        return pairs

    def to_request(self, store: Store) -> SearchRequest:
        filters = make_filters(
            store,
            themes=self.theme,
            subthemes=self.subtheme,
            categories=self.category,
            meetings=self.meeting,
            years=self.year,
            several_themes={"yes": True, "no": False}.get(self.several or ""),
            xrefs=self.xref,
        )
        if self.retired not in (None, "", "include", "only"):
            raise SearchError("retired must be include or only")
        return SearchRequest(
            self.q,
            filters,
            self.sort,
            self.size,
            (self.page - 1) * self.size,
            self.expand,
            retired=self.retired or "exclude",
        )

    def canonical(self) -> SearchParams:
        """The same search with each value written one way (theme=5 and theme=ts5 as TS5,
        sub-themes as TS3.2, categories in lower case) and none twice, so that the page's links
        and its "selected filters" name each value as the facets do. Raises ``SearchError`` on
        a value that cannot be read (as the search does)."""

        def once(values: Iterable[str]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(values))

        return replace(
            self,
            theme=once(f"TS{parse_theme(t)}" for t in self.theme),
            subtheme=once("TS{}.{}".format(*parse_subtheme(v)) for v in self.subtheme),
            category=once(c.strip().lower() for c in self.category),
            xref=once(f"TS{parse_theme(t)}" for t in self.xref),
        )

    def form(self) -> dict[str, Any]:
        """For the search form's template: every published name, lists as lists."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in vars(self).items()
        }

    @staticmethod
    def openapi_parameters() -> list[dict[str, Any]]:
        """The parameters as OpenAPI describes them (the JSON API's schema is made from this)."""
        old = {new: [o for o, n in OLD_NAMES.items() if n == new] for new in _DESCRIBED}
        parameters = []
        for name, (description, schema) in _DESCRIBED.items():
            if name in LISTS:
                schema = {"type": "array", "items": schema, "maxItems": MAX_LIST_PARAMS}
            if old[name]:
                description += " (also accepted under its old name " + ", ".join(old[name]) + ")"
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": description,
                    "schema": schema,
                    "explode": True,
                }
            )
        return parameters


# Sort values the page once sent: its "best first" option sent an empty value (the default:
# relevance with words, oldest without), the same order as "relevance", now its only option.
OLD_SORTS: dict[str, str | None] = {"": None}


def _sort(raw: str) -> str | None:
    value = raw.strip().lower()
    return OLD_SORTS.get(value, value)


def _whole_number(name: str, raw: str, default: int) -> int:
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:  # "²".isdigit() is true
        raise SearchError("%(name)s must be a whole number", name=name)
    return int(raw)
