"""Reference data shipped with the package: themes, sub-themes, categories, meetings, countries and
the Global Compact for Migration's objectives and guiding principles (see README.md here)."""

from __future__ import annotations

import colorsys
import csv
import io
from functools import cache
from importlib.resources import files

from rcm.model import (
    Category,
    CategoryInfo,
    Country,
    GcmObjective,
    GcmPrinciple,
    Meeting,
    MeetingKind,
    Subtheme,
    Theme,
)

__all__ = [
    "CATEGORY_COLOURS",
    "categories",
    "category_css",
    "countries",
    "edge_colour",
    "gcm_objectives",
    "gcm_principles",
    "label_es",
    "meetings",
    "themes",
]


# The categories' colours, the one place they are written: the rows' shading in the Word
# compilation (docs/docx-layout.md) and the Excel workbook, and the web pages' row edges
# (:func:`category_css`). The original's colours were lost with the text export; these are ours,
# and a document's own colour legend overrides them when it is read.
CATEGORY_COLOURS: dict[Category, str] = {
    Category.PRINCIPLE: "C6D9F1",
    Category.UNDERSTANDING: "D7E4BC",
    Category.COMMITMENT: "FBD4B4",
}

EDGE_LIGHTNESS = 0.35  # a row edge on a white page: the same hue, dark enough to stand out


def edge_colour(rgb: str) -> str:
    """A category's colour darkened for a thin edge on a white page (same hue and saturation,
    lightness ``EDGE_LIGHTNESS``): ``"C6D9F1"`` -> a dark blue."""
    r, g, b = (int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    h, _, s = colorsys.rgb_to_hls(r, g, b)
    return "".join(f"{round(x * 255):02X}" for x in colorsys.hls_to_rgb(h, EDGE_LIGHTNESS, s))


def category_css() -> str:
    """The web pages' category colours as a stylesheet (served at /categories.css): a custom
    property per category (its shade and its edge) and the row edges of the statement tables."""
    lines = [":root {"]
    for category, rgb in CATEGORY_COLOURS.items():
        lines.append(f"  --cat-{category.value}: #{rgb};")
        lines.append(f"  --cat-{category.value}-edge: #{edge_colour(rgb)};")
    lines.append("}")
    for category in CATEGORY_COLOURS:
        lines.append(
            f"tr.cat-{category.value} td:first-child "
            f"{{ border-left: 6px solid var(--cat-{category.value}-edge); }}"
        )
    return "\n".join(lines) + "\n"


def _rows(name: str) -> list[dict[str, str]]:
    text = files(__name__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


@cache
def themes() -> tuple[Theme, ...]:
    subs: dict[int, list[Subtheme]] = {}
    for row in _rows("subthemes.tsv"):
        theme = int(row["theme"])
        subs.setdefault(theme, []).append(
            Subtheme(
                theme, int(row["order"]), row["title"], int(row["page"]) if row["page"] else None
            )
        )
    return tuple(
        Theme(
            number=int(row["number"]),
            title=row["title"],
            un_title=row["un_title"],
            consultation=row["consultation"],
            subthemes=tuple(subs.get(int(row["number"]), ())),
        )
        for row in _rows("themes.tsv")
    )


@cache
def categories() -> tuple[CategoryInfo, ...]:
    return tuple(
        CategoryInfo(Category(row["category"]), row["label"], row["definition"])
        for row in _rows("categories.tsv")
    )


@cache
def meetings() -> tuple[Meeting, ...]:
    return tuple(
        Meeting(
            code=row["code"],
            number=int(row["number"]),
            label=row["label"],
            year=int(row["year"]) if row["year"] else None,
            kind=MeetingKind(row["kind"]),
        )
        for row in _rows("meetings.tsv")
    )


@cache
def countries() -> tuple[Country, ...]:
    return tuple(
        Country(row["iso3"], row["iso2"], row["name_en"], row["name_es"])
        for row in _rows("countries.tsv")
    )


@cache
def gcm_objectives() -> tuple[GcmObjective, ...]:
    return tuple(GcmObjective(int(r["number"]), r["title"]) for r in _rows("gcm_objectives.tsv"))


@cache
def gcm_principles() -> tuple[GcmPrinciple, ...]:
    return tuple(GcmPrinciple(r["letter"], r["name"]) for r in _rows("gcm_guiding_principles.tsv"))


def regular_meeting(number: int) -> Meeting:
    """The regular meeting ``number`` (1 = I RCM). Meetings after XXI follow the yearly series."""
    for m in meetings():
        if m.number == number and m.kind is MeetingKind.REGULAR:
            return m
    raise KeyError(number)


@cache
def _labels_es() -> dict[tuple[str, str], str]:
    return {(r["scheme"], r["notation"]): r["label_es"] for r in _rows("labels_es.tsv")}


def label_es(scheme: str, notation: str) -> str | None:
    """The Spanish name of a theme ("theme", "1"), sub-theme ("subtheme", "1.2"), category
    ("category", "principle") or GCM objective ("gcm", "10") from labels_es.tsv, or None."""
    return _labels_es().get((scheme, notation))
