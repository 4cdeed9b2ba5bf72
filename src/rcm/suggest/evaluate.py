"""The evaluation harness behind ``rcm suggest evaluate``.

Every figure is cross-validated so that no statement is tested by a model that saw it in training,
not even as a copy: the compilation repeats some statements word for word in later meetings, so
copies (same normal form) always fall in the same fold.

- Category: 5-fold stratified, grouped by normal form, against the curated labels; baselines: the
  training folds' majority class, and the governing-verb keyword rules alone.
- Themes: leave-one-meeting-out against the compilation's placements (train on every other meeting,
  minus copies of the held-out statements); micro/macro-F1 over themes and micro-F1 over
  sub-themes; baselines: the training folds' most frequent theme, and keyword rules (the themes
  whose titles and sub-theme titles share the most stems with the statement; nothing learned).
- GCM objectives: the linker learns nothing from the curated mapping, so it is scored on all of it
  (precision of the first suggestion, recall of the top three, micro-F1 of the suggested set);
  baselines: always the most common objective, and the linker with objective titles only.

Settings are fixed in the modules (``SETTINGS``, reported with each figure); they were chosen by
nested cross-validation inside training folds (bench/select_suggest.py), never on these folds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, replace
from typing import Any

from rcm import taxonomy
from rcm.model import Category, Compendium
from rcm.parse.text import normal_form
from rcm.suggest import training_labels
from rcm.suggest.curated import curated_objectives, objective_profiles

FOLDS = 5
SEED = 0


def _round(x: float) -> float:
    return round(float(x), 3)


def evaluate_categories(c: Compendium) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.model_selection import StratifiedGroupKFold

    from rcm.suggest.category import SETTINGS, CategoryModel, rule_category

    labels = training_labels(c)
    items = [s for s in c.statements if s.id in labels]
    texts = [s.text for s in items]
    gold = [labels[s.id].value for s in items]
    groups = [normal_form(s.text) for s in items]
    predicted = {
        "model": [""] * len(items),
        "majority": [""] * len(items),
        "rules": [""] * len(items),
    }
    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train, test in splitter.split(texts, gold, groups):
        majority = Category(Counter(gold[i] for i in train).most_common(1)[0][0])
        model = CategoryModel([texts[i] for i in train], [Category(gold[i]) for i in train])
        for i, s in zip(test, model.suggest_many([texts[i] for i in test]), strict=True):
            predicted["model"][i] = s.category.value
            predicted["majority"][i] = majority.value
            predicted["rules"][i] = rule_category(texts[i], majority).value
    order = [cat.value for cat in Category]
    report: dict[str, Any] = {
        "statements": len(items),
        "folds": FOLDS,
        "grouping": "copies of a statement (same normal form) stay in one fold",
        "labels": dict(Counter(gold)),
        "settings": asdict(SETTINGS),
    }
    for name, values in predicted.items():
        report[name] = {
            "accuracy": _round(accuracy_score(gold, values)),
            "macro_f1": _round(
                f1_score(gold, values, labels=order, average="macro", zero_division=0)
            ),
            "f1": {
                k: _round(v)
                for k, v in zip(
                    order,
                    f1_score(gold, values, labels=order, average=None, zero_division=0),
                    strict=True,
                )
            },
        }
    report["model"]["confusion"] = {
        "labels": order,
        "rows_gold_columns_predicted": confusion_matrix(
            gold, predicted["model"], labels=order
        ).tolist(),
    }
    return report


def theme_vocabulary(c: Compendium) -> dict[int, set[str]]:
    from rcm.suggest.themes import analyzer

    return {
        th.number: {
            token
            for text in [th.title, th.un_title, *(s.title for s in th.subthemes)]
            for token in analyzer(text)
            if " " not in token
        }
        for th in c.themes
    }


def evaluate_themes(c: Compendium) -> dict[str, Any]:
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    from rcm.suggest.themes import SETTINGS, ThemeModel, keyword_themes

    placed: dict[str, list[tuple[int, int]]] = {}
    for p in c.placements:
        placed.setdefault(p.statement_id, []).append((p.theme, p.subtheme))
    items = [s for s in c.statements if s.id in placed]
    gold_themes = [sorted({t for t, _ in placed[s.id]}) for s in items]
    gold_subs = [sorted({f"{t}.{n}" for t, n in placed[s.id]}) for s in items]
    vocabulary = theme_vocabulary(c)
    out: dict[str, list[list[Any]]] = {
        "model": [[] for _ in items],
        "majority": [[] for _ in items],
        "rules": [[] for _ in items],
    }
    out_subs: dict[str, list[list[str]]] = {
        "model": [[] for _ in items],
        "majority": [[] for _ in items],
    }
    meetings = sorted({s.meeting for s in items}, key=lambda code: c.meeting(code).number)
    for meeting in meetings:
        test = [i for i, s in enumerate(items) if s.meeting == meeting]
        held_out = {normal_form(items[i].text) for i in test}
        train = [
            i
            for i, s in enumerate(items)
            if s.meeting != meeting and normal_form(s.text) not in held_out
        ]
        model = ThemeModel([items[i].text for i in train], [placed[items[i].id] for i in train])
        top_theme = Counter(t for i in train for t in gold_themes[i]).most_common(1)[0][0]
        top_sub = Counter(x for i in train for x in gold_subs[i]).most_common(1)[0][0]
        suggestions = model.suggest_many([items[i].text for i in test])
        for i, s in zip(test, suggestions, strict=True):
            out["model"][i] = list(s.themes)
            out_subs["model"][i] = [f"{t}.{n}" for t, n in s.placements]
            out["majority"][i] = [top_theme]
            out_subs["majority"][i] = [top_sub]
            out["rules"][i] = list(keyword_themes(items[i].text, vocabulary))
    themes = sorted(vocabulary)
    binarizer = MultiLabelBinarizer(classes=themes).fit([themes])
    y = binarizer.transform(gold_themes)
    all_subs = sorted({x for g in gold_subs for x in g})
    sub_binarizer = MultiLabelBinarizer(classes=all_subs).fit([all_subs])
    y_subs = sub_binarizer.transform(gold_subs)
    report: dict[str, Any] = {
        "statements": len(items),
        "meetings_held_out": len(meetings),
        "several_themes": sum(1 for g in gold_themes if len(g) > 1),
        "method": "leave one meeting out; copies of held-out statements removed from training",
        "settings": asdict(SETTINGS),
    }
    for name, values in out.items():
        x = binarizer.transform(values)
        entry = {
            "micro_f1": _round(f1_score(y, x, average="micro", zero_division=0)),
            "macro_f1": _round(f1_score(y, x, average="macro", zero_division=0)),
            "exact_match": _round(
                sum(1 for g, p in zip(gold_themes, values, strict=True) if sorted(p) == g)
                / len(items)
            ),
        }
        if name in out_subs:
            entry["subtheme_micro_f1"] = _round(
                f1_score(
                    y_subs,
                    sub_binarizer.transform(out_subs[name]),
                    average="micro",
                    zero_division=0,
                )
            )
        report[name] = entry
    return report


def evaluate_objectives(c: Compendium) -> dict[str, Any]:
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    from rcm.suggest.gcm import GcmLinker

    curated = curated_objectives()
    items = [s for s in c.statements if s.id in curated]
    gold = [list(curated[s.id]) for s in items]
    texts = [s.text for s in items]
    corpus = [s.text for s in c.statements]
    objectives = taxonomy.gcm_objectives()
    common = Counter(n for g in gold for n in g).most_common(1)[0][0]
    linkers = {
        "model": GcmLinker(objectives, objective_profiles(), corpus),
        "titles_only": GcmLinker(objectives, {}, corpus),
    }
    numbers = [o.number for o in objectives]
    binarizer = MultiLabelBinarizer(classes=numbers).fit([numbers])
    y = binarizer.transform(gold)
    with_links = [i for i, g in enumerate(gold) if g]
    report: dict[str, Any] = {
        "statements": len(items),
        "with_objectives": len(with_links),
        "links": sum(len(g) for g in gold),
        "method": "the linker learns nothing from the curated mapping: scored on all of it",
    }
    for name, linker in linkers.items():
        suggested = [[g.objective for g in links] for links in linker.link_many(texts)]
        ranked = linker.ranked(texts)
        report[name] = {
            "precision_at_1": _round(
                sum(1 for i in with_links if ranked[i][0] in gold[i]) / len(with_links)
            ),
            "recall_at_3": _round(
                sum(len(set(ranked[i][:3]) & set(gold[i])) for i in with_links)
                / sum(len(gold[i]) for i in with_links)
            ),
            "micro_f1": _round(
                f1_score(y, binarizer.transform(suggested), average="micro", zero_division=0)
            ),
        }
    report["majority"] = {
        "objective": common,
        "precision_at_1": _round(sum(1 for i in with_links if common in gold[i]) / len(with_links)),
        "micro_f1": _round(
            f1_score(y, binarizer.transform([[common] for _ in gold]), average="micro")
        ),
    }
    return report


def evaluate(c: Compendium) -> dict[str, Any]:
    """Every figure of the harness, for the compendium's statements (only the labelled ones)."""
    from rcm.suggest.compute import one_thread

    c = replace(c, statements=list(c.statements))
    with one_thread():
        return {
            "category": evaluate_categories(c),
            "themes": evaluate_themes(c),
            "objectives": evaluate_objectives(c),
        }
