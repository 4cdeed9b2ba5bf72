"""Charts as server-rendered SVG: readable without JavaScript, printable, with a text alternative.
Every label is escaped; the markup is built here and nowhere else."""

from __future__ import annotations

from html import escape
from typing import Any

BAR = "#0b5394"  # 8:1 on white: the bars need no legend, their labels say what they are


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


def nice_ticks(peak: int, most: int = 6) -> list[int]:
    """Axis ticks from 0 to the first "nice" value (1, 2 or 5 times a power of ten per step) at or
    above ``peak``, at most ``most`` of them: the tallest bar never rises above the top tick."""
    peak = max(peak, 1)
    scale = 1
    while True:
        for step in (scale, 2 * scale, 5 * scale):
            top = -(-peak // step) * step
            if top // step + 1 <= most:
                return list(range(0, top + 1, step))
        scale *= 10


def column_chart(rows: list[dict[str, Any]], title: str) -> str:
    """One bar per row (``label`` under it, ``value`` on top, ``name`` in its tooltip), on ticks
    that reach above the tallest; ``title`` says what the chart shows (its point)."""
    width, height, left, bottom, top = 760, 300, 40, 40, 24
    ticks = nice_ticks(max([int(r["value"]) for r in rows] + [1]))
    ceiling = ticks[-1]
    bar = (width - left - 10) / max(len(rows), 1)
    scale = (height - bottom - top) / ceiling
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in ticks:
        y = height - bottom - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick}</text>'
        )
    for i, r in enumerate(rows):
        n = int(r["value"])
        x = left + i * bar + 2
        h = n * scale
        y = height - bottom - h
        middle = x + (bar - 4) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
            f'fill="{BAR}"><title>{escape(str(r.get("name", r["label"])))}: {n}</title></rect>'
            f'<text x="{middle:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="value">{n}</text>'
            f'<text x="{middle:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'class="tick">{escape(str(r["label"]))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_list(rows: list[dict[str, Any]], title: str) -> str:
    """Horizontal bars, each labelled directly above it (``label``) with its ``value`` at its end:
    nothing to match against a legend, so no two rows can be mistaken for each other by colour."""
    width, row_h, left = 760, 46, 4
    peak = max([int(r["value"]) for r in rows] + [1])
    room = width - left - 60
    height = row_h * len(rows) + 8
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, r in enumerate(rows):
        n = int(r["value"])
        y = i * row_h + 4
        w = room * n / peak
        parts.append(
            f'<text x="{left}" y="{y + 14}" class="label">{escape(str(r["label"]))}</text>'
            f'<rect class="bar" x="{left}" y="{y + 20}" width="{w:.1f}" height="18" '
            f'fill="{BAR}"><title>{escape(str(r["label"]))}: {n}</title></rect>'
            f'<text x="{left + w + 6:.1f}" y="{y + 34}" class="value">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
