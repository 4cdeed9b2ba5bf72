"""The bilingual migration thesaurus (``thesaurus.tsv``): concepts of the field with their English
and Spanish terms, each concept citing where the equivalence is established (``SOURCES``, from
``thesaurus_sources.tsv``: the IOM Glossary on Migration's Spanish edition, the UN's official
Spanish texts of the Global Compact and the New York Declaration, UNTERM, …). Cross-language
search (:mod:`rcm.search`) expands a query through it; the SKOS export publishes it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

__all__ = ["Concept", "Source", "concepts", "sources"]


@dataclass(frozen=True)
class Source:
    key: str
    citation: str
    url: str


@dataclass(frozen=True)
class Concept:
    """One concept: its terms in each language (the first is the preferred one) and its sources
    (``(key, where)`` pairs: a key of ``sources()`` and the place in it, e.g. "obj. 10")."""

    id: str
    en: tuple[str, ...]
    es: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]

    def terms(self, lang: str) -> tuple[str, ...]:
        return self.en if lang == "en" else self.es


def _rows(name: str) -> list[dict[str, str]]:
    text = files("rcm.taxonomy").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


@cache
def sources() -> dict[str, Source]:
    return {
        r["key"]: Source(r["key"], r["citation"], r["url"]) for r in _rows("thesaurus_sources.tsv")
    }


def _terms(cell: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (cell or "").split("|") if t.strip())


def _sources(cell: str | None) -> tuple[tuple[str, str], ...]:
    out = []
    for part in (cell or "").split(";"):
        part = part.strip()
        if part:
            key, _, where = part.partition(" ")
            out.append((key, where.strip()))
    return tuple(out)


@cache
def concepts() -> tuple[Concept, ...]:
    """Every concept, in the file's order. Raises ValueError on a malformed row (a concept
    without terms in both languages, or without a known source)."""
    known = sources()
    out: list[Concept] = []
    seen: set[str] = set()
    for n, row in enumerate(_rows("thesaurus.tsv"), 2):
        concept = Concept(
            row["id"].strip(), _terms(row["en"]), _terms(row["es"]), _sources(row["sources"])
        )
        if not concept.id or concept.id in seen:
            raise ValueError(f"thesaurus.tsv line {n}: missing or repeated id {concept.id!r}")
        if not concept.en or not concept.es:
            raise ValueError(f"thesaurus.tsv line {n}: {concept.id} needs English and Spanish")
        if not concept.sources:
            raise ValueError(f"thesaurus.tsv line {n}: {concept.id} cites no source")
        for key, _ in concept.sources:
            if key not in known:
                raise ValueError(f"thesaurus.tsv line {n}: unknown source {key!r}")
        seen.add(concept.id)
        out.append(concept)
    return tuple(out)
