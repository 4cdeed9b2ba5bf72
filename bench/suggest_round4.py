"""Round 4 of the category model's selection (bench/select_suggest_round4.md): sentence
embeddings from a model that ships inside a registry package, read offline, and the package's
label knowledge as examples. Benchmarks only: nothing here is imported by rcm, and round 4 adopted
nothing (see the results in bench/select_suggest_round4.md).

The model is WordLlama's ``l2_supercat`` token embeddings (PyPI ``wordllama``, MIT): a 32,000 x 256
table and its tokenizer, both files inside the installed wheel. A text's embedding is the mean of
its tokens' vectors, normalised to unit length, as WordLlama computes it; the files are read here
with ``tokenizers`` and ``safetensors`` (wordllama's own dependencies) rather than through
``wordllama``'s loader, which would try to download a file it looks for in the wrong folder and
configures the root logger when imported. Nothing is ever downloaded.

Install with ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from rcm import taxonomy
from rcm.model import Category
from rcm.suggest.category import CategoryModel, CategorySettings, clause_reading
from rcm.suggest.lang import prepare

DIMENSIONS = 256
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")


def _files() -> tuple[Path, Path] | None:
    spec = find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    weights, tokenizer = root.joinpath(*_WEIGHTS), root.joinpath(*_TOKENIZER)
    if not (weights.is_file() and tokenizer.is_file()):
        return None
    return weights, tokenizer


def available() -> bool:
    """Whether the embedding model is installed (the ``bench`` extra)."""
    return _files() is not None and find_spec("tokenizers") is not None


@cache
def _model() -> tuple[Any, np.ndarray]:
    found = _files()
    if found is None:
        raise RuntimeError("the embedding model is not installed: pip install -e '.[bench]'")
    from safetensors import safe_open
    from tokenizers import Tokenizer

    weights, tokenizer_file = found
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    with safe_open(str(weights), framework="np", device="cpu") as f:
        table = np.ascontiguousarray(f.get_tensor("embedding.weight").astype(np.float32))
    return tokenizer, table


def embed(texts: Sequence[str]) -> np.ndarray:
    """One unit-length row per text (a text with no token gives a row of zeros)."""
    tokenizer, table = _model()
    out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    for i, encoding in enumerate(tokenizer.encode_batch(list(texts), add_special_tokens=False)):
        if encoding.ids:
            v = table[encoding.ids].mean(axis=0)
            n = float(np.linalg.norm(v))
            out[i] = v / n if n > 0 else v
    return out


@dataclass(frozen=True)
class Round4Settings:
    """A round-4 candidate: the shipped settings (``base``) plus

    - ``embed``: the weight of the sentence embedding of what the word features read (a Spanish
      text's gloss) beside the other features; 0: none;
    - ``knowledge``: the package's label knowledge as training examples (``label_knowledge``);
    - ``ensemble``: the mean of the model's probabilities and those of a second logistic
      regression (balanced, C=1) over the embedding, the clause readings and the cue only."""

    base: CategorySettings
    embed: float = 0.0
    knowledge: bool = False
    ensemble: bool = False


def label_knowledge() -> list[tuple[str, Category]]:
    """Each GCM objective's title is a commitment (A/RES/73/195 para. 16, "we commit to fulfil
    the objectives"), each guiding principle's name a principle (para. 15), each of the
    compilation's definitions of the three categories its own category."""
    out = [(o.title, Category.COMMITMENT) for o in taxonomy.gcm_objectives()]
    out += [(p.name, Category.PRINCIPLE) for p in taxonomy.gcm_principles()]
    out += [(d.definition, d.category) for d in taxonomy.categories()]
    return out


def _embedding(texts: Sequence[str], langs: Sequence[str], weight: float) -> sparse.csr_matrix:
    read = [prepare(x, lang) for x, lang in zip(texts, langs, strict=True)]
    return sparse.csr_matrix(embed(read) * weight)


class Round4CategoryModel(CategoryModel):
    """``CategoryModel`` with the round-4 additions; the same suggestions otherwise."""

    def __init__(
        self, texts: Sequence[str], labels: Sequence[Category], settings: Round4Settings
    ) -> None:
        self.round4 = settings
        if settings.knowledge:
            extra = label_knowledge()
            texts = [*texts, *(t for t, _ in extra)]
            labels = [*labels, *(c for _, c in extra)]
        super().__init__(texts, labels, settings.base)
        if settings.embed > 0:
            self.feature_names += [f"[embedding {k}]" for k in range(DIMENSIONS)]
        self.second: LogisticRegression | None = None
        if settings.ensemble:
            self.second = LogisticRegression(
                C=1.0, class_weight="balanced", solver="lbfgs", max_iter=2000
            )
            self.second.fit(
                self._second_features(texts, ["en"] * len(texts)), [c.value for c in labels]
            )

    def _second_features(self, texts: Sequence[str], langs: Sequence[str]) -> sparse.csr_matrix:
        w = self.round4.base.cue_weight
        rows = [clause_reading(x, lang) for x, lang in zip(texts, langs, strict=True)]
        return sparse.hstack(
            [
                _embedding(texts, langs, 1.0),
                sparse.csr_matrix(np.array(rows)) * w,
                sparse.csr_matrix(self._cues(texts, langs)) * w,
            ]
        ).tocsr()

    @staticmethod
    def _cues(texts: Sequence[str], langs: Sequence[str]) -> Any:
        from rcm.suggest.category import _cue_features

        return _cue_features(texts, langs)

    def _features(
        self, words: sparse.csr_matrix, texts: Sequence[str], langs: Sequence[str]
    ) -> sparse.csr_matrix:
        x = super()._features(words, texts, langs)
        if self.round4.embed > 0:
            x = sparse.hstack([x, _embedding(texts, langs, self.round4.embed)]).tocsr()
        return x

    def _probabilities(
        self, x: sparse.csr_matrix, texts: Sequence[str], langs: Sequence[str]
    ) -> np.ndarray:
        p = super()._probabilities(x, texts, langs)
        if self.second is not None:
            p = (p + self.second.predict_proba(self._second_features(texts, langs))) / 2
        return p


def guard() -> dict[str, Any]:
    """The pre-registered guard, measured once after the decision: the parity of the setting the
    round selected (candidate 4, embedding weight 2) on the held-out parallel pairs and the own
    parallel declarations, as bench/bench_suggest_quality.py measures the shipped setting."""
    import bench_suggest_quality as q
    from rcm.parse import read_compilation
    from rcm.suggest import Suggester, label_compendium, statement_text, training_labels
    from rcm.suggest.category import SETTINGS

    c = label_compendium(read_compilation())
    shipped = Suggester.train(c)
    labels = training_labels(c)
    labelled = [s for s in c.statements if s.id in labels]
    chosen = Round4CategoryModel(
        [statement_text(s) for s in labelled],
        [labels[s.id] for s in labelled],
        Round4Settings(SETTINGS, embed=2.0),
    )
    out: dict[str, Any] = {}
    for name, model in (("shipped", shipped.category_model), ("round4", chosen)):
        suggester = Suggester(model, shipped.theme_model, shipped.linker)
        out[name] = q.parity_figures(suggester)
    return out


if __name__ == "__main__":
    import json
    import sys

    from rcm.suggest.compute import one_thread

    with one_thread():
        report = guard()
    print(json.dumps(report, indent=2))
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
