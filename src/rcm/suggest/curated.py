"""The curated files in ``data/``: our own category label and GCM objectives for every statement
of the shipped compilation (see the two GUIDELINE files beside them). Curated values win over
suggestions everywhere; a malformed file is a bug in the package and fails loudly."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from rcm.model import Category

_DATA = files("rcm.suggest").joinpath("data")


@dataclass(frozen=True)
class CuratedCategory:
    category: Category
    evidence: str
    note: str


def _rows(name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    text = _DATA.joinpath(name).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    if tuple(reader.fieldnames or ()) != columns:
        raise ValueError(f"{name}: expected the columns {columns}, found {reader.fieldnames}")
    rows = list(reader)
    seen: set[str] = set()
    for n, row in enumerate(rows, 2):
        if None in row or any(row[c] is None for c in columns):
            raise ValueError(f"{name} line {n}: expected {len(columns)} tab-separated fields")
        if row["id"] in seen:
            raise ValueError(f"{name} line {n}: {row['id']} appears twice")
        seen.add(row["id"])
    return rows


@cache
def curated_categories() -> dict[str, CuratedCategory]:
    out = {}
    for n, row in enumerate(_rows("categories.tsv", ("id", "category", "evidence", "note")), 2):
        try:
            category = Category(row["category"])
        except ValueError:
            raise ValueError(
                f"categories.tsv line {n}: {row['category']!r} is not one of "
                f"{', '.join(c.value for c in Category)}"
            ) from None
        out[row["id"]] = CuratedCategory(category, row["evidence"], row["note"])
    return out


@cache
def curated_objectives() -> dict[str, tuple[int, ...]]:
    """Statement id -> objective numbers, most central first (empty: serves none)."""
    out = {}
    for n, row in enumerate(_rows("gcm_links.tsv", ("id", "objectives", "note")), 2):
        value = row["objectives"].strip()
        try:
            numbers = () if value == "-" else tuple(int(x) for x in value.split(","))
        except ValueError:
            raise ValueError(
                f"gcm_links.tsv line {n}: {value!r} is not a list of numbers"
            ) from None
        if any(not 1 <= x <= 23 for x in numbers) or len(set(numbers)) != len(numbers):
            raise ValueError(f"gcm_links.tsv line {n}: objectives must be distinct numbers 1–23")
        out[row["id"]] = numbers
    return out


@cache
def objective_profiles() -> dict[int, str]:
    return {
        int(row["number"]): row["profile"]
        for row in csv.DictReader(
            io.StringIO(_DATA.joinpath("gcm_profiles.tsv").read_text(encoding="utf-8")),
            delimiter="\t",
            quoting=csv.QUOTE_NONE,
        )
    }
