"""Reference data shipped with the package: themes, sub-themes, categories, meetings, countries and
the Global Compact for Migration's objectives and guiding principles (see README.md here)."""

from __future__ import annotations

import colorsys
import csv
import io
from dataclasses import dataclass
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
    MeetingRef,
    Subtheme,
    Theme,
)

__all__ = [
    "CATEGORY_COLOURS",
    "categories",
    "category_css",
    "countries",
    "country_name",
    "edge_colour",
    "gcm_objectives",
    "gcm_principles",
    "label",
    "label_es",
    "labels",
    "meeting_label",
    "meetings",
    "themes",
]


# The categories' colours, the one place they are written: the rows' shading in the Word
# compilation (docs/docx-layout.md) and the Excel workbook, and the web pages' row shading
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
    property per category (its shade and its edge), and the shading of whatever is marked with
    the category's class (``cat-principle``…): the compilation's rows, a statement's category, the
    legend's swatches. The shades are pale, so the page's dark text and links keep their contrast
    on them; the edge outlines a swatch, so that it stands out on white."""
    lines = [":root {"]
    for category, rgb in CATEGORY_COLOURS.items():
        lines.append(f"  --cat-{category.value}: #{rgb};")
        lines.append(f"  --cat-{category.value}-edge: #{edge_colour(rgb)};")
    lines.append("}")
    for category in CATEGORY_COLOURS:
        name = category.value
        lines.append(f".cat-{name}, tr.cat-{name} > td {{ background-color: var(--cat-{name}); }}")
        lines.append(f".swatch.cat-{name} {{ border-color: var(--cat-{name}-edge); }}")
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


# --- labels in the interface's languages ------------------------------------------------------
# English labels are the data's own (the compilation's headings, A/RES/73/195); Spanish ones are in
# labels_es.tsv (scheme, notation, label_es, source): official UN Spanish where there is one, else
# marked "project translation". Schemes:
#   theme (short title, notation "1"), theme_un (the session's full UN title), consultation (the
#   month it was held), subtheme ("3.2"),
#   category and category_definition ("principle"), gcm (objective "10"), principle (GCM guiding
#   principle "a").

SCHEMES = (
    "theme",
    "theme_un",
    "consultation",
    "subtheme",
    "category",
    "category_definition",
    "gcm",
    "principle",
)


@dataclass(frozen=True)
class Label:
    scheme: str
    notation: str
    text: str
    source: str


@cache
def labels(lang: str = "es") -> dict[tuple[str, str], Label]:
    """Every label of a language other than English, keyed by (scheme, notation), with its source.
    English has none here: its labels are the data's own."""
    if lang != "es":
        return {}
    return {
        (r["scheme"], r["notation"]): Label(r["scheme"], r["notation"], r["label_es"], r["source"])
        for r in _rows("labels_es.tsv")
    }


@cache
def _english() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for th in themes():
        out[("theme", str(th.number))] = th.title
        out[("theme_un", str(th.number))] = th.un_title
        out[("consultation", str(th.number))] = th.consultation
        for sub in th.subthemes:
            out[("subtheme", f"{sub.theme}.{sub.order}")] = sub.title
    for c in categories():
        out[("category", c.category.value)] = c.label
        out[("category_definition", c.category.value)] = c.definition
    for o in gcm_objectives():
        out[("gcm", str(o.number))] = o.title
    for p in gcm_principles():
        out[("principle", p.letter)] = p.name
    return out


def label(scheme: str, notation: object, lang: str, default: str | None = None) -> str:
    """The label of a theme, sub-theme, category, its definition, a GCM objective or guiding
    principle in ``lang``: ``label("gcm", 10, "es")`` -> "Prevenir, combatir y erradicar la trata
    de personas…". ``default`` is the English the caller already holds (the database's own title,
    which may differ from the shipped one); without a label in ``lang`` the English is returned.
    An unknown scheme is an error; an unknown notation gives ``default`` (or KeyError)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown label scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    key = (scheme, str(notation))
    found = labels(lang).get(key)
    if found is not None:
        return found.text
    if default is not None:
        return default
    return _english()[key]


def country_name(iso3: str, lang: str) -> str:
    """A Member Country's name in ``lang`` ("MEX" -> "México" / "Mexico"); an unknown code is
    returned as it is."""
    for c in countries():
        if c.iso3 == iso3.upper():
            return c.name_es if lang == "es" else c.name_en
    return iso3


def meeting_label(code: str, lang: str) -> str:
    """A meeting's label in ``lang`` from its code or any reference ``rcm.model.parse_meeting``
    reads ("XIX" -> "XIX CRM" in Spanish); what cannot be read is returned as it is."""
    from rcm.model import parse_meeting

    try:
        ref: MeetingRef = parse_meeting(code)
    except ValueError:
        return code
    return ref.label_in(lang)


@cache
def _labels_es() -> dict[tuple[str, str], str]:
    return {(r["scheme"], r["notation"]): r["label_es"] for r in _rows("labels_es.tsv")}


def label_es(scheme: str, notation: str) -> str | None:
    """The Spanish name of a theme ("theme", "1"), sub-theme ("subtheme", "1.2"), category
    ("category", "principle") or GCM objective ("gcm", "10") from labels_es.tsv, or None."""
    return _labels_es().get((scheme, notation))
