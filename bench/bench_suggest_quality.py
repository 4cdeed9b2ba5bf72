"""The suggesters' quality in one report: cross-validated figures and parity between languages.

    .venv/bin/python bench/bench_suggest_quality.py [--json FILE]

- ``evaluate``: the figures of ``rcm suggest evaluate`` (category accuracy and macro-F1, 5-fold
  grouped by normal form; themes micro-F1, leave one meeting out; GCM precision@1);
- ``parity_own``: the parallel declarations written with the reader (tests/data/declarations/
  own/, 17 statement pairs): same category, same top theme;
- ``parity_held_out``: 36 parallel statements written before the suggesters were changed and
  never used to set them (tests/data/suggest/parallel_heldout.tsv), with each language's
  agreement with the category a person gave.
Uses only the public API, so the same file measures an older checkout (PYTHONPATH=that/src).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from rcm.parse import read_compilation, read_declaration
from rcm.suggest import Suggester, label_compendium
from rcm.suggest.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent


def _parity(suggester: Suggester, en: list[str], es: list[str]) -> dict[str, Any]:
    a = suggester.suggest_many(en, ["en"] * len(en))
    b = suggester.suggest_many(es, ["es"] * len(es))
    n = len(en)
    return {
        "pairs": n,
        "same_category": round(
            sum(x.category.category == y.category.category for x, y in zip(a, b, strict=True)) / n,
            3,
        ),
        "same_top_theme": round(
            sum(x.themes.themes[0] == y.themes.themes[0] for x, y in zip(a, b, strict=True)) / n,
            3,
        ),
        "_categories": (
            [x.category.category.value for x in a],
            [y.category.category.value for y in b],
        ),
    }


def parity_figures(suggester: Suggester) -> dict[str, Any]:
    """Parity between a statement and its translation: the own parallel declarations (17 pairs)
    and the held-out pairs, with each side's category against the pairs' given one."""
    own = ROOT / "tests" / "data" / "declarations" / "own"
    expected = json.loads((own / "expected.json").read_text(encoding="utf-8"))["declarations"]
    en: list[str] = []
    es: list[str] = []
    for name, entry in expected.items():
        if entry["lang"] == "es":
            es += [s.text for s in read_declaration(own / name).statements]
            en += [s.text for s in read_declaration(own / entry["pair"]).statements]
    out: dict[str, Any] = {"parity_own": _parity(suggester, en, es)}
    out["parity_own"].pop("_categories")
    path = ROOT / "tests" / "data" / "suggest" / "parallel_heldout.tsv"
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    held = _parity(suggester, [r["en"] for r in rows], [r["es"] for r in rows])
    got_en, got_es = held.pop("_categories")
    held["category_as_given_en"] = round(
        sum(g == r["category"] for g, r in zip(got_en, rows, strict=True)) / len(rows), 3
    )
    held["category_as_given_es"] = round(
        sum(g == r["category"] for g, r in zip(got_es, rows, strict=True)) / len(rows), 3
    )
    out["parity_held_out"] = held
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    c = label_compendium(read_compilation())
    suggester = Suggester.train(c)
    report = evaluate(c)
    out: dict[str, Any] = {
        "evaluate": {
            "category_accuracy": report["category"]["model"]["accuracy"],
            "category_macro_f1": report["category"]["model"]["macro_f1"],
            "themes_micro_f1": report["themes"]["model"]["micro_f1"],
            "themes_macro_f1": report["themes"]["model"]["macro_f1"],
            "subthemes_micro_f1": report["themes"]["model"]["subtheme_micro_f1"],
            "gcm_precision_at_1": report["objectives"]["model"]["precision_at_1"],
        }
    }
    out.update(parity_figures(suggester))
    print(json.dumps(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
