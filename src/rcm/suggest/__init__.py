"""Suggestions a person confirms: category, themes and sub-themes, GCM objectives.

    suggester = Suggester.train(compendium)     # learns from the compendium's own statements
    s = suggester.suggest("We commit to strengthen consular protection …")
    s.category.category, s.category.confidence, s.category.evidence
    s.themes.placements, s.objectives

``label_compendium`` is the pipeline step between reading the compilation and storing it: curated
labels (``data/``) where we have them, suggestions (marked as such, with a confidence) elsewhere.
Everything here is deterministic and offline; scikit-learn is imported only when a model is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rcm import taxonomy
from rcm.analyze import spans, stem
from rcm.model import Category, CategorySource, Compendium, ObjectiveLink, Statement
from rcm.suggest.compute import one_thread
from rcm.suggest.curated import curated_categories, curated_objectives, objective_profiles
from rcm.suggest.lang import prepare

if TYPE_CHECKING:
    from rcm.suggest.category import CategoryModel, CategorySuggestion
    from rcm.suggest.gcm import GcmLink, GcmLinker
    from rcm.suggest.themes import ThemeModel, ThemeSuggestion

__all__ = [
    "Suggester",
    "Suggestions",
    "label_compendium",
    "readable_evidence",
    "training_labels",
]


@dataclass(frozen=True)
class Suggestions:
    category: CategorySuggestion
    themes: ThemeSuggestion
    objectives: tuple[GcmLink, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category.as_dict(),
            "themes": self.themes.as_dict(),
            "objectives": [o.as_dict() for o in self.objectives],
        }


def readable_evidence(evidence: Sequence[str], text: str, lang: str = "en") -> list[str]:
    """A suggestion's evidence as the words a reader sees ("smuggl migrant" -> "smuggling
    migrants"): each stem shown as the first word of the text the models read (a Spanish text's
    English gloss) that has it; a governing phrase's stems likewise; a stem found in no word, as
    it is. Features that are not words are left out: character n-grams, which say nothing to a
    reader, and the cue and clause kinds, which the page shows as the governing phrase."""
    read = prepare(text, lang)
    surface: dict[str, str] = {}
    for start, end, folded in spans(read):  # a feature is a stem or a folded word
        surface.setdefault(stem(folded), read[start:end])
        surface.setdefault(folded, read[start:end])
    out: list[str] = []
    for item in evidence:
        inner = item
        if item.startswith("[") and item.endswith("]") and ": " in item:
            kind, inner = item[1:-1].split(": ", 1)
            if kind in ("chars", "cue", "clauses"):
                continue
        shown = " ".join(surface.get(part, part) for part in inner.split())
        if shown and shown not in out:
            out.append(shown)
    return out


def statement_text(s: Statement) -> str:
    return s.text


def training_labels(c: Compendium) -> dict[str, Category]:
    """Category labels a person gave: stored curated categories (e.g. accepted in review), else the
    curated file's, for the compendium's statements."""
    curated = curated_categories()
    out = {}
    for s in c.statements:
        if s.category is not None and s.category_source == CategorySource.CURATED:
            out[s.id] = s.category
        elif s.id in curated:
            out[s.id] = curated[s.id].category
    return out


class Suggester:
    """The three suggesters trained on one compendium."""

    def __init__(self, category: CategoryModel, themes: ThemeModel, gcm: GcmLinker) -> None:
        self.category_model = category
        self.theme_model = themes
        self.linker = gcm

    @classmethod
    def train(cls, c: Compendium) -> Suggester:
        with one_thread():
            return cls._train(c)

    @classmethod
    def _train(cls, c: Compendium) -> Suggester:
        from rcm.suggest.category import CategoryModel
        from rcm.suggest.gcm import GcmLinker
        from rcm.suggest.themes import ThemeModel

        labels = training_labels(c)
        labelled = [s for s in c.statements if s.id in labels]
        placed: dict[str, list[tuple[int, int]]] = {}
        for p in c.placements:
            placed.setdefault(p.statement_id, []).append((p.theme, p.subtheme))
        with_places = [s for s in c.statements if s.id in placed]
        return cls(
            CategoryModel([statement_text(s) for s in labelled], [labels[s.id] for s in labelled]),
            ThemeModel(
                [statement_text(s) for s in with_places], [placed[s.id] for s in with_places]
            ),
            GcmLinker(
                taxonomy.gcm_objectives(),
                objective_profiles(),
                [statement_text(s) for s in c.statements],
            ),
        )

    def suggest_many(
        self, texts: Sequence[str], langs: Sequence[str] | None = None
    ) -> list[Suggestions]:
        """Suggestions for each text; ``langs`` ("en", "es") guessed from the text if not given."""
        from rcm.suggest.lang import guess_language

        if not texts:
            return []
        with one_thread():
            return self._suggest_many(texts, langs, guess_language)

    def _suggest_many(
        self, texts: Sequence[str], langs: Sequence[str] | None, guess_language: Any
    ) -> list[Suggestions]:
        langs = list(langs) if langs is not None else [guess_language(x) for x in texts]
        read = [prepare(x, lang) for x, lang in zip(texts, langs, strict=True)]
        categories = self.category_model.suggest_many(texts, langs)
        themes = self.theme_model.suggest_many(read)
        objectives = self.linker.link_many(read)
        return [
            Suggestions(c, t, o) for c, t, o in zip(categories, themes, objectives, strict=True)
        ]

    def suggest(self, text: str, lang: str | None = None) -> Suggestions:
        return self.suggest_many([text], None if lang is None else [lang])[0]


def label_compendium(c: Compendium) -> Compendium:
    """Categories and GCM objectives for every statement: curated where ``data/`` has them,
    else suggested (with the model's confidence or the linker's score). Statements already
    carrying a category keep it."""
    curated = curated_categories()
    links = curated_objectives()
    statements = []
    unlabelled = []
    for s in c.statements:
        if s.category is None and s.id in curated:
            s = replace(
                s,
                category=curated[s.id].category,
                category_source=CategorySource.CURATED,
                category_confidence=None,
            )
        if s.category is None:
            unlabelled.append(s)
        statements.append(s)
    objective_links = [
        ObjectiveLink(s.id, n, CategorySource.CURATED, rank)
        for s in statements
        if s.id in links
        for rank, n in enumerate(links[s.id], 1)
    ]
    missing_links = [s for s in statements if s.id not in links]
    if unlabelled or missing_links:
        with one_thread():
            return _suggest_missing(c, statements, unlabelled, missing_links, objective_links)
    return replace(c, statements=statements, objective_links=objective_links)


def _suggest_missing(
    c: Compendium,
    statements: list[Statement],
    unlabelled: list[Statement],
    missing_links: list[Statement],
    objective_links: list[ObjectiveLink],
) -> Compendium:
    suggester = Suggester.train(replace(c, statements=statements))
    by_id = {}
    if unlabelled:
        for s, cat in zip(
            unlabelled,
            suggester.category_model.suggest_many(
                [statement_text(x) for x in unlabelled], [x.lang for x in unlabelled]
            ),
            strict=True,
        ):
            by_id[s.id] = replace(
                s,
                category=cat.category,
                category_source=CategorySource.SUGGESTED,
                category_confidence=round(cat.confidence, 3),
            )
        statements = [by_id.get(s.id, s) for s in statements]
    if missing_links:
        for s, found in zip(
            missing_links,
            suggester.linker.link_many([prepare(statement_text(x), x.lang) for x in missing_links]),
            strict=True,
        ):
            objective_links.extend(
                ObjectiveLink(s.id, g.objective, CategorySource.SUGGESTED, rank, round(g.score, 3))
                for rank, g in enumerate(found, 1)
            )
    return replace(c, statements=statements, objective_links=objective_links)
