"""Theme and sub-theme suggester, learned from the compilation's own placements.

Multi-label: a statement can belong to several thematic sessions, as 36 of the compilation's do. One
logistic regression per theme (one-vs-rest) over stemmed uni/bigrams says how likely each theme is;
every theme at or above ``THRESHOLD`` is suggested, and always at least the most likely one. Within
each suggested theme, a second one-vs-rest model over sub-themes picks the sub-theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from rcm.analyze import STOP_WORDS, stems, words

THRESHOLD = 0.5  # fixed before any evaluation; the top theme is always suggested


def analyzer(text: str) -> list[str]:
    """Stems without stop words, and the bigrams of those stems."""
    tokens = [s for s in stems(words(text)) if s not in STOP_WORDS and not s.isdigit()]
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


@dataclass(frozen=True)
class ThemeScore:
    theme: int
    score: float
    subtheme: int | None  # the best sub-theme of this theme
    subtheme_score: float | None
    suggested: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "theme": self.theme,
            "score": round(self.score, 3),
            "subtheme": self.subtheme,
            "subtheme_score": None
            if self.subtheme_score is None
            else round(self.subtheme_score, 3),
            "suggested": self.suggested,
        }


@dataclass(frozen=True)
class ThemeSuggestion:
    scores: tuple[ThemeScore, ...]  # every theme seen in training, most likely first

    @property
    def themes(self) -> tuple[int, ...]:
        return tuple(s.theme for s in self.scores if s.suggested)

    @property
    def placements(self) -> tuple[tuple[int, int], ...]:
        return tuple(
            (s.theme, s.subtheme) for s in self.scores if s.suggested and s.subtheme is not None
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "themes": list(self.themes),
            "placements": [list(p) for p in self.placements],
            "scores": [s.as_dict() for s in self.scores],
        }


def _one_vs_rest(
    features: object, labels: list[list[object]]
) -> tuple[OneVsRestClassifier, list[object]]:
    binarizer = MultiLabelBinarizer()
    y = binarizer.fit_transform(labels)
    model = OneVsRestClassifier(
        LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", max_iter=1000)
    )
    model.fit(features, y)
    return model, list(binarizer.classes_)


def session_documents() -> tuple[list[str], list[list[tuple[int, int]]]]:
    """One document per sub-theme of the thematic sessions, from their official titles
    (A/RES/71/280's session titles and the sub-theme titles of the compilation's table), placed
    under that sub-theme: what a session is about, known before any statement is placed."""
    from rcm import taxonomy

    texts: list[str] = []
    places: list[list[tuple[int, int]]] = []
    for theme in taxonomy.themes():
        for sub in theme.subthemes:
            texts.append(f"{theme.un_title}. {sub.title}")
            places.append([(theme.number, sub.order)])
    return texts, places


class ThemeModel:
    """Trained on (text, placements) pairs; placements are (theme, sub-theme) pairs, together
    with one document per sub-theme from the sessions' official titles (``session_documents``)."""

    def __init__(
        self, texts: Sequence[str], placements: Sequence[Sequence[tuple[int, int]]]
    ) -> None:
        extra_texts, extra_places = session_documents()
        texts = [*texts, *extra_texts]
        placements = [*placements, *extra_places]
        themes = [sorted({t for t, _ in ps}) for ps in placements]
        if len({t for ts in themes for t in ts}) < 2:
            raise ValueError("a theme model needs statements under at least two themes")
        self.vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
        x = self.vectorizer.fit_transform(texts)
        self.theme_model, theme_classes = _one_vs_rest(x, [list(t) for t in themes])
        self.themes = [int(str(c)) for c in theme_classes]
        subs = [sorted({f"{t}.{s}" for t, s in ps}) for ps in placements]
        self.subtheme_model, sub_classes = _one_vs_rest(x, [list(s) for s in subs])
        self.subthemes = [tuple(int(p) for p in str(c).split(".")) for c in sub_classes]

    def suggest_many(self, texts: Sequence[str]) -> list[ThemeSuggestion]:
        x = self.vectorizer.transform(texts)
        theme_p = self.theme_model.predict_proba(x)
        sub_p = self.subtheme_model.predict_proba(x)
        out = []
        for i in range(len(texts)):
            order = np.argsort(-theme_p[i], kind="stable")
            scores = []
            for rank, j in enumerate(order):
                theme = self.themes[j]
                p = float(theme_p[i][j])
                candidates = [
                    (float(sub_p[i][k]), sub[1])
                    for k, sub in enumerate(self.subthemes)
                    if sub[0] == theme
                ]
                best = max(candidates, key=lambda c: (c[0], -c[1])) if candidates else None
                scores.append(
                    ThemeScore(
                        theme=theme,
                        score=p,
                        subtheme=best[1] if best else None,
                        subtheme_score=best[0] if best else None,
                        suggested=rank == 0 or p >= THRESHOLD,
                    )
                )
            out.append(ThemeSuggestion(tuple(scores)))
        return out


def keyword_themes(text: str, vocabulary: dict[int, set[str]]) -> tuple[int, ...]:
    """The keyword-rule baseline: themes whose title and sub-theme titles share the most stems
    with the statement (ties all kept); none when nothing is shared."""
    tokens = set(analyzer(text))
    overlap = {theme: len(tokens & vocab) for theme, vocab in vocabulary.items()}
    best = max(overlap.values(), default=0)
    return tuple(sorted(t for t, n in overlap.items() if n == best and n > 0))
