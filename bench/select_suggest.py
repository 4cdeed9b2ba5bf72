"""Model selection for the suggesters by nested cross-validation, never on the test folds.

    .venv/bin/python bench/select_suggest.py [--round 3] [--json FILE]

The candidate settings (``CATEGORY_CANDIDATES``, ``THEME_CANDIDATES``) are written down before
any run. For each outer fold of ``rcm suggest evaluate`` (category: 5 folds stratified and grouped
by normal form; themes: leave one meeting out, copies of held-out statements removed), the
candidates are compared by an inner cross-validation over the outer *training* part only; the
winner is trained on that part and scored on the outer test fold. The outer figure is therefore
an honest estimate of "select, then train" (nested CV). The settings to ship are those the same
inner procedure selects on all the data; ``rcm suggest evaluate`` with them is then, by
construction, a little optimistic, and this script's nested figure is the one to trust.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from rcm.model import Category, Compendium
from rcm.parse import read_compilation
from rcm.parse.text import normal_form
from rcm.suggest import label_compendium, training_labels
from rcm.suggest.category import CategoryModel, CategorySettings
from rcm.suggest.compute import one_thread
from rcm.suggest.themes import ThemeModel, ThemeSettings

CATEGORY_CANDIDATES = [
    CategorySettings(governing=g, chars=ch, clauses=cl, c=c)
    for g in (False, True)
    for ch in (False, True)
    for cl in (False, True)
    for c in (1.0, 4.0, 16.0)
]
# The grid of the last full run (32 settings: chars, objectives, relative, balanced, c) chose
# objectives=True in every outer fold and balanced=True in 19 of 20, so those two are fixed here;
# the grid then crosses the remaining choices with ``briefs`` (the sessions' key terms), 16
# settings, so the nested selection decides whether the briefs are used. ``--without-briefs``
# runs the same grid without them, for the figure to compare.
THEME_CANDIDATES = [
    ThemeSettings(chars=ch, objectives=True, relative=r, balanced=True, c=c, briefs=br)
    for br in (False, True)
    for ch in (False, True)
    for r in (None, 0.7)
    for c in (10.0, 1.0)
]
# Round 3 (issue 16): the lists pre-registered in bench/select_suggest_round3.md, in its order
# (ties go to the earlier candidate; the first is the setting shipped before the round).
_CAT_NOW = CategorySettings(governing=False, chars=True, clauses=True, c=16.0)
CATEGORY_ROUND3 = [
    _CAT_NOW,
    CategorySettings(governing=False, chars=True, clauses=True, c=4.0),
    CategorySettings(governing=True, chars=True, clauses=False, c=4.0),
    CategorySettings(governing=False, chars=False, clauses=True, c=16.0),
    CategorySettings(governing=False, chars=True, clauses=True, c=16.0, cue_weight=4.0),
    CategorySettings(governing=False, chars=True, clauses=True, c=4.0, cue_weight=4.0),
    CategorySettings(governing=False, chars=True, clauses=True, c=0.1, learner="svm"),
    CategorySettings(governing=False, chars=True, clauses=True, c=1.0, learner="svm"),
    CategorySettings(governing=False, chars=True, clauses=True, c=16.0, learner="cnb"),
    CategorySettings(governing=False, chars=True, clauses=True, c=16.0, learner="ensemble"),
]
_THEME_NOW = ThemeSettings(
    chars=True, objectives=True, relative=None, balanced=True, c=1.0, briefs=True
)
THEME_ROUND3 = [
    _THEME_NOW,
    replace(_THEME_NOW, chars=False),
    replace(_THEME_NOW, threshold=0.4),
    replace(_THEME_NOW, threshold=0.6),
    replace(_THEME_NOW, per_theme=True),
    replace(_THEME_NOW, knowledge=True),
    replace(_THEME_NOW, learner="chain"),
    replace(_THEME_NOW, learner="svm", c=0.1),
]


# Round 4 (issue 16): the category list pre-registered in bench/select_suggest_round4.md, in its
# order (embeddings from the `wordllama` wheel's files; the package's label knowledge as examples).
def _round4() -> list[Any]:
    from suggest_round4 import Round4Settings as R4

    return [
        _CAT_NOW,
        R4(_CAT_NOW, embed=0.5),
        R4(_CAT_NOW, embed=1.0),
        R4(_CAT_NOW, embed=2.0),
        R4(_CAT_NOW, knowledge=True),
        R4(_CAT_NOW, embed=1.0, knowledge=True),
        R4(_CAT_NOW, ensemble=True),
    ]


INNER_FOLDS = 4
SEED = 0


def _category_accuracy(
    texts: Sequence[str], gold: Sequence[str], train: Sequence[int], test: Sequence[int], s: Any
) -> int:
    kind: Any = CategoryModel
    if not isinstance(s, CategorySettings):  # a round-4 candidate (bench/suggest_round4.py)
        from suggest_round4 import Round4CategoryModel as kind
    model = kind([texts[i] for i in train], [Category(gold[i]) for i in train], s)
    found = model.suggest_many([texts[i] for i in test])
    return sum(1 for i, f in zip(test, found, strict=True) if f.category.value == gold[i])


def _select_category(
    texts: Sequence[str],
    gold: Sequence[str],
    groups: Sequence[str],
    part: Sequence[int],
    scores: list[float] | None = None,
) -> CategorySettings:
    from sklearn.model_selection import StratifiedGroupKFold

    inner = StratifiedGroupKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=SEED)
    splits = list(inner.split(list(part), [gold[i] for i in part], [groups[i] for i in part]))
    best, best_score = CATEGORY_CANDIDATES[0], -1
    for settings in CATEGORY_CANDIDATES:
        score = sum(
            _category_accuracy(texts, gold, [part[k] for k in tr], [part[k] for k in te], settings)
            for tr, te in splits
        )
        if scores is not None:
            scores.append(round(score / len(part), 3))
        if score > best_score:  # ties: the earlier (simpler) candidate
            best, best_score = settings, score
    return best


def select_categories(c: Compendium) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedGroupKFold

    from rcm.suggest.evaluate import FOLDS
    from rcm.suggest.evaluate import SEED as OUTER_SEED

    labels = training_labels(c)
    items = [s for s in c.statements if s.id in labels]
    texts = [s.text for s in items]
    gold = [labels[s.id].value for s in items]
    groups = [normal_form(s.text) for s in items]
    outer = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=OUTER_SEED)
    right, chosen = 0, []
    for train, test in outer.split(texts, gold, groups):
        settings = _select_category(texts, gold, groups, list(train))
        chosen.append(asdict(settings))
        right += _category_accuracy(texts, gold, train, test, settings)
    inner: list[float] = []
    ship = _select_category(texts, gold, groups, list(range(len(items))), inner)
    return {
        "inner_accuracy_on_all_data_per_candidate": inner,
        "nested_accuracy": round(right / len(items), 3),
        "chosen_per_outer_fold": chosen,
        "ship": asdict(ship),
        "candidates": len(CATEGORY_CANDIDATES),
    }


def _theme_counts(
    texts: Sequence[str],
    places: Sequence[list[tuple[int, int]]],
    train: Sequence[int],
    test: Sequence[int],
    s: ThemeSettings,
) -> tuple[int, int, int]:
    """True positives, predicted and gold theme labels of ``test``."""
    model = ThemeModel([texts[i] for i in train], [places[i] for i in train], s, subthemes=False)
    tp = predicted = gold = 0
    for i, found in zip(test, model.suggest_many([texts[i] for i in test]), strict=True):
        truth = {t for t, _ in places[i]}
        tp += len(truth & set(found.themes))
        predicted += len(found.themes)
        gold += len(truth)
    return tp, predicted, gold


def _without_copies(texts: Sequence[str], train: Sequence[int], test: Sequence[int]) -> list[int]:
    held = {normal_form(texts[i]) for i in test}
    return [i for i in train if normal_form(texts[i]) not in held]


def _micro_f1(counts: Sequence[tuple[int, int, int]]) -> float:
    tp = sum(x[0] for x in counts)
    return 2 * tp / (sum(x[1] for x in counts) + sum(x[2] for x in counts))


def _select_theme(
    texts: Sequence[str],
    places: Sequence[list[tuple[int, int]]],
    meetings: Sequence[str],
    part: Sequence[int],
    scores: list[float] | None = None,
) -> ThemeSettings:
    from sklearn.model_selection import GroupKFold

    splits = list(GroupKFold(n_splits=INNER_FOLDS).split(part, groups=[meetings[i] for i in part]))
    best, best_score = THEME_CANDIDATES[0], -1.0
    for settings in THEME_CANDIDATES:
        counts = []
        for tr, te in splits:
            test = [part[k] for k in te]
            train = _without_copies(texts, [part[k] for k in tr], test)
            counts.append(_theme_counts(texts, places, train, test, settings))
        score = _micro_f1(counts)
        if scores is not None:
            scores.append(round(score, 3))
        if score > best_score:
            best, best_score = settings, score
    return best


def select_themes(c: Compendium) -> dict[str, Any]:
    placed: dict[str, list[tuple[int, int]]] = {}
    for p in c.placements:
        placed.setdefault(p.statement_id, []).append((p.theme, p.subtheme))
    items = [s for s in c.statements if s.id in placed]
    texts = [s.text for s in items]
    places = [placed[s.id] for s in items]
    meetings = [s.meeting for s in items]
    counts, chosen = [], []
    for meeting in sorted(set(meetings), key=lambda code: c.meeting(code).number):
        test = [i for i, m in enumerate(meetings) if m == meeting]
        train = _without_copies(texts, [i for i, m in enumerate(meetings) if m != meeting], test)
        settings = _select_theme(texts, places, meetings, train)
        chosen.append(asdict(settings))
        counts.append(_theme_counts(texts, places, train, test, settings))
    inner: list[float] = []
    ship = _select_theme(texts, places, meetings, list(range(len(items))), inner)
    return {
        "inner_micro_f1_on_all_data_per_candidate": inner,
        "nested_micro_f1": round(_micro_f1(counts), 3),
        "chosen_per_outer_fold": dict(Counter(json.dumps(x, sort_keys=True) for x in chosen)),
        "ship": asdict(ship),
        "candidates": len(THEME_CANDIDATES),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", choices=["category", "themes"])
    parser.add_argument("--without-briefs", action="store_true")
    parser.add_argument(
        "--round",
        type=int,
        choices=[2, 3, 4],
        default=2,
        help="3, 4: the candidate lists pre-registered for that round (4: category only)",
    )
    args = parser.parse_args()
    if args.round == 4:
        CATEGORY_CANDIDATES[:] = _round4()
        args.only = "category"
    if args.round == 3:
        CATEGORY_CANDIDATES[:] = CATEGORY_ROUND3
        THEME_CANDIDATES[:] = THEME_ROUND3
    if args.without_briefs:
        THEME_CANDIDATES[:] = [s for s in THEME_CANDIDATES if not s.briefs]
    c = label_compendium(read_compilation())
    report: dict[str, Any] = {"inner_folds": INNER_FOLDS, "round": args.round}
    with one_thread():
        if args.only != "themes":
            started = time.perf_counter()
            report["category"] = select_categories(c)
            report["category"]["seconds"] = round(time.perf_counter() - started, 1)
            print(json.dumps(report["category"]), flush=True)
        if args.only != "category":
            started = time.perf_counter()
            report["themes"] = select_themes(c)
            report["themes"]["seconds"] = round(time.perf_counter() - started, 1)
            print(json.dumps(report["themes"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
