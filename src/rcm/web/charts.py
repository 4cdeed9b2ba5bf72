"""Charts as server-rendered SVG: readable without JavaScript, printable, with a text alternative.
Every label is escaped; the markup is built here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

BAR = "#0b5394"  # 8:1 on white: the bars need no legend, their labels say what they are


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


HEAT = (0x0B, 0x53, 0x94)  # the cells' blue, over white at the cell's opacity
INKS = {"#1b1b1b": (0x1B, 0x1B, 0x1B), "#fff": (0xFF, 0xFF, 0xFF)}


def _luminance(rgb: tuple[float, ...]) -> float:
    lin = [
        v / 255 / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in rgb
    ]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG's contrast ratio of two sRGB colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def cell_shade(n: int, peak: int) -> tuple[float, str]:
    """A heat cell's opacity and the colour of its number. The lower three quarters of the range
    shade from pale to mid blue under dark numbers, the top quarter is dark blue under white ones:
    between them lies a band of blues on which neither reaches 4.5:1, which no cell takes."""
    if not n:
        return 0.0, "#1b1b1b"
    share = n / max(peak, 1)
    shade = 0.08 + 0.6 * share / 0.75 if share <= 0.75 else 0.86 + 0.14 * (share - 0.75) / 0.25
    cell = tuple(255 * (1 - shade) + v * shade for v in HEAT)
    ink = max(INKS, key=lambda name: contrast(INKS[name], cell))
    return round(shade, 2), ink


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
            shade, ink = cell_shade(n, peak)
            x = left + j * cell_w
            label = f"{escape(name)}, {escape(labels.get(col, col))}: {n}"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="#0b5394" '
                f'fill-opacity="{shade:.2f}" stroke="#d0d7de"><title>{label}</title></rect>'
                f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 4}" text-anchor="middle" '
                f'class="tick" fill="{ink}">{n}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
