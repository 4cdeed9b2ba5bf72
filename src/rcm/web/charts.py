"""Charts as server-rendered SVG: readable without JavaScript, printable, with a text alternative.
Every label is escaped; the markup is built here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

# --- contrast (WCAG 2.x) -----------------------------------------------------------------------

#: The lowest contrast of a number on its cell (WCAG AA for normal text).
MIN_CONTRAST = 4.5
# The page's ink and white, and black where neither reads on a middle shade.
INKS = ("#1b1b1b", "#ffffff", "#000000")


def rgb(colour: str) -> tuple[int, int, int]:
    """``#rgb`` or ``#rrggbb`` as three 0–255 channels."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    if len(h) != 6:
        raise ValueError(f"not a colour: {colour!r}")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(colour: str) -> float:
    """WCAG's relative luminance of an sRGB colour."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def blend(colour: str, opacity: float, under: str = "#ffffff") -> str:
    """``colour`` laid at ``opacity`` over ``under``, as the browser paints it."""
    top, bottom = rgb(colour), rgb(under)
    mixed = (round(t * opacity + u * (1 - opacity)) for t, u in zip(top, bottom, strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def ink_for(background: str) -> str:
    """The text colour for a background: the page's ink or white, whichever contrasts more,
    and black where neither reaches :data:`MIN_CONTRAST` (black or white always does)."""
    best = max(INKS[:2], key=lambda ink: contrast(ink, background))
    if contrast(best, background) >= MIN_CONTRAST:
        return best
    return max(INKS, key=lambda ink: contrast(ink, background))


# The dashboard's shades (site.css ``.heat-0`` … ``.heat-5``, each with its :func:`ink_for`): the
# share of a theme's statements a country has answered, from none to all.
HEAT_LEVELS = ("#f6f8fa", "#deebf7", "#9ecae1", "#4292c6", "#2171b5", "#08306b")


def heat_level(n: int, of: int) -> int:
    """The shade of ``n`` answered of ``of``: 0 none, 1 under a quarter, 2 under half, 3 under
    three quarters, 4 not all, 5 all."""
    if n <= 0 or of <= 0:
        return 0
    if n >= of:
        return len(HEAT_LEVELS) - 1
    return 1 + min(3, 4 * n // of)


# Six colours distinguishable by most colour-blind readers (Okabe–Ito), one per theme.
THEME_COLOURS = {1: "#0072B2", 2: "#E69F00", 3: "#009E73", 4: "#CC79A7", 5: "#D55E00", 6: "#56B4E9"}


def stacked_bars(rows: list[dict[str, Any]], title: str, legend: dict[int, str]) -> str:
    """Statements per meeting, stacked by theme (a statement filed under several themes counts
    once under each)."""
    width, height, left, bottom, top = 760, 300, 40, 40, 20
    totals = [sum(r["themes"].values()) for r in rows]
    peak = max([*totals, 1])
    bar = (width - left - 10) / max(len(rows), 1)
    scale = (height - bottom - top) / peak
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 30}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(0, peak + 1, max(1, peak // 5)):
        y = height - bottom - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick}</text>'
        )
    for i, r in enumerate(rows):
        x = left + i * bar + 2
        y = height - bottom
        for theme, n in sorted((int(k), v) for k, v in r["themes"].items()):
            h = n * scale
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
                f'fill="{THEME_COLOURS.get(theme, "#777")}"><title>{escape(r["label"])}: '
                f"TS{theme} {n}</title></rect>"
            )
        parts.append(
            f'<text x="{x + (bar - 4) / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'class="tick">{escape(r["code"])}</text>'
        )
    x = left
    for theme, label in sorted(legend.items()):
        parts.append(
            f'<rect x="{x}" y="{height + 8}" width="12" height="12" fill="{THEME_COLOURS[theme]}"/>'
            f'<text x="{x + 16}" y="{height + 18}" class="tick">{escape(label)}</text>'
        )
        x += 120
    parts.append("</svg>")
    return "".join(parts)


HEAT_FILL = "#0b5394"


def heat_table(
    rows: list[dict[str, Any]],
    columns: list[str],
    title: str,
    labels: dict[str, str],
    row_label: Callable[[dict[str, Any]], str] | None = None,
) -> str:
    """A grid of shaded cells with the count in each (themes × category, countries × themes).
    Each row is {"counts": {column: n}, …}; ``row_label`` names it (default: its theme)."""
    cell_w, cell_h, left, top = 120, 34, 60, 30
    peak = max([max(r["counts"].values(), default=0) for r in rows] + [1])
    width = left + cell_w * len(columns) + 10
    height = top + cell_h * len(rows) + 10
    parts = [
        f'<svg class="chart heat" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for j, col in enumerate(columns):
        parts.append(
            f'<text x="{left + j * cell_w + cell_w / 2}" y="{top - 10}" text-anchor="middle" '
            f'class="tick">{escape(labels.get(col, col))}</text>'
        )
    for i, r in enumerate(rows):
        y = top + i * cell_h
        name = row_label(r) if row_label else f"TS{int(r['theme'])}"
        parts.append(
            f'<text x="{left - 8}" y="{y + cell_h / 2 + 4}" text-anchor="end" class="tick">'
            f"{escape(name)}</text>"
        )
        for j, col in enumerate(columns):
            n = int(r["counts"].get(col, 0))
            shade = 0.08 + 0.82 * n / peak if n else 0.0
            x = left + j * cell_w
            label = f"{escape(name)}, {escape(labels.get(col, col))}: {n}"
            ink = ink_for(blend(HEAT_FILL, shade))
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{HEAT_FILL}" '
                f'fill-opacity="{shade:.2f}" stroke="#d0d7de"><title>{label}</title></rect>'
                f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 4}" text-anchor="middle" '
                f'class="heat-count" fill="{ink}">{n}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
