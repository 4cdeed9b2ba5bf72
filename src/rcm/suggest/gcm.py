"""GCM objective linker: which of the Global Compact's 23 objectives a statement serves.

There is no training set to learn from (the curated mapping is what we evaluate against), so the
linker is lexical and needs none: each objective has a profile (its title plus the words its
commitment and actions use, ``data/gcm_profiles.tsv``, written from the Compact's text before the
curated mapping existed), and a statement's score for an objective is the cosine similarity of
their tf-idf vectors over stems. The shared stems that weighed most are the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from rcm.model import GcmObjective
from rcm.suggest.themes import analyzer

MIN_SCORE = 0.04  # below this nothing is suggested
RELATIVE = 0.6  # other objectives are suggested when at least this share of the best score
MAX_LINKS = 3


@dataclass(frozen=True)
class GcmLink:
    objective: int
    score: float
    evidence: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "objective": self.objective,
            "score": round(self.score, 3),
            "evidence": list(self.evidence),
        }


class GcmLinker:
    def __init__(
        self,
        objectives: Sequence[GcmObjective],
        profiles: dict[int, str],
        corpus: Sequence[str] = (),
    ) -> None:
        self.objectives = [o.number for o in objectives]
        documents = [f"{o.title} {profiles.get(o.number, '')}" for o in objectives]
        # Document frequencies from the statements too, so that words every statement uses
        # ("migration", "migrants", "region") weigh little.
        self.vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
        self.vectorizer.fit([*documents, *corpus])
        self.profiles = self.vectorizer.transform(documents)
        self.names = self.vectorizer.get_feature_names_out()

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        x = self.vectorizer.transform(texts)
        return np.asarray((x @ self.profiles.T).todense())

    def link_many(self, texts: Sequence[str]) -> list[tuple[GcmLink, ...]]:
        """The suggested links of each text, best first: the best objective when it scores at
        least ``MIN_SCORE``, and up to ``MAX_LINKS`` with at least ``RELATIVE`` of its score."""
        x = self.vectorizer.transform(texts)
        all_scores = np.asarray((x @ self.profiles.T).todense())
        out = []
        for i in range(len(texts)):
            order = np.argsort(-all_scores[i], kind="stable")
            best = float(all_scores[i][order[0]])
            links = []
            if best >= MIN_SCORE:
                row = x.getrow(i)
                for j in order[:MAX_LINKS]:
                    score = float(all_scores[i][j])
                    if score < max(MIN_SCORE, RELATIVE * best):
                        break
                    profile = self.profiles.getrow(int(j))
                    shared = sorted(
                        (
                            (value * profile[0, k], str(self.names[k]))
                            for k, value in zip(row.indices, row.data, strict=True)
                            if profile[0, k] > 0
                        ),
                        reverse=True,
                    )
                    links.append(
                        GcmLink(self.objectives[j], score, tuple(w for _, w in shared[:4]))
                    )
            out.append(tuple(links))
        return out

    def ranked(self, texts: Sequence[str]) -> list[list[int]]:
        """Every objective for each text, best first (for ranking measures)."""
        all_scores = self.scores(texts)
        return [[self.objectives[j] for j in np.argsort(-row, kind="stable")] for row in all_scores]
