"""Charts as markup (pure): a trend's line chart as inline SVG with its table, one component
for the console and the public site, so a trend reads the same wherever it is shown.

The SVG is drawn at its own size in CSS pixels, never scaled (a scaled chart shrinks its
text below the tables' on a phone): its text is the tables' size (0.9375rem, 15 px), each
point carries its value, and a narrow screen scrolls the chart inside its own focusable
region rather than cutting it. The chart is one image with a text summary as its name; the
table beside it holds the same values for everyone, and says why a quarter has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from bot.core import figures
from bot.core.goals import LOWER_IS_BETTER

FONT = 15  # px: the tables' text
STEP = 84  # px between quarters: room for "100.0%" or "12.5 min" at that size
PLOT = 132  # px of plot height
TOP = FONT + 14  # room above the highest point for its value
AXIS = 2 * FONT + 16  # room below for the two lines of each quarter's name
INK, LINE, MUTED, GRID = "#1b1b1b", "#005ea2", "#565c65", "#a9aeb1"  # USWDS, AA on white
HALO = 'stroke="#fff" stroke-width="4" paint-order="stroke"'  # a value legible over a line


def _value(measure: str, value: float | None) -> str:
    return figures.measure(measure, value) if value is not None else "no figure"


def summary(title: str, measure: str, points: Sequence[Mapping[str, Any]]) -> str:
    """The chart in a sentence or two: first and last figure, highest and lowest, and the
    quarters without one."""
    named = [(f"FY{p['fiscal_year']} Q{p['quarter']}", p["value"]) for p in points]
    known = [(q, v) for q, v in named if v is not None]
    if not named:
        return f"{title}: no quarters."
    span = f"{title}, {named[0][0]} to {named[-1][0]}"
    if not known:
        return f"{span}: no quarter has a figure."
    words = [f"{span}: {_value(measure, known[0][1])} in {known[0][0]}"]
    if len(known) > 1:
        words.append(f", {_value(measure, known[-1][1])} in {known[-1][0]}")
        high = max(known, key=lambda k: k[1])
        low = min(known, key=lambda k: k[1])
        words.append(f"; highest {_value(measure, high[1])} ({high[0]}), lowest "
                     f"{_value(measure, low[1])} ({low[0]})")  # fmt: skip
    missing = [q for q, v in named if v is None]
    if missing:
        words.append(f"; no figure for {', '.join(missing)}")
    return "".join(words) + "."


def line_svg(
    measure: str, points: Sequence[Mapping[str, Any]], named_by: str,
    target: float | None = None,
) -> str:  # fmt: skip
    """The line chart: one point per quarter with its value above it, the line broken where
    a quarter has no figure (there the chart says "none" or "not shown"), a dashed line at
    the goal's ``target``; named by the element ``named_by`` (the summary)."""
    shares = measure not in LOWER_IS_BETTER
    known = [p["value"] for p in points if p["value"] is not None]
    top = 1.0 if shares else max([*known, target or 0.0, 0.0]) * 1.15 or 1.0
    width = STEP * max(len(points), 1)
    height = TOP + PLOT + AXIS

    def y(value: float) -> float:
        return round(TOP + PLOT * (1 - max(0.0, min(value, top)) / top), 1)

    parts = [
        f'<svg role="img" aria-labelledby="{escape(named_by)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-size="{FONT}" '
        f'font-family="inherit" fill="{INK}">',
        f'<line x1="0" y1="{TOP + PLOT}" x2="{width}" y2="{TOP + PLOT}" stroke="{GRID}"/>',
    ]
    if target is not None:
        parts.append(f'<line x1="0" y1="{y(target)}" x2="{width}" y2="{y(target)}" '
                     f'stroke="{MUTED}" stroke-width="2" stroke-dasharray="6 4"/>')  # fmt: skip
    path, pen = [], "M"
    for i, p in enumerate(points):
        x = STEP * i + STEP // 2
        if p["value"] is None:
            pen = "M"
            gap = "none" if p.get("note") == "no responses" else "not shown"
            parts.append(f'<text x="{x}" y="{TOP + PLOT - 8}" text-anchor="middle" '
                         f'fill="{MUTED}">{gap}</text>')  # fmt: skip
        else:
            path.append(f"{pen}{x} {y(p['value'])}")
            pen = "L"
            parts.append(
                f'<circle cx="{x}" cy="{y(p["value"])}" r="4.5" fill="{LINE}"/>'
                f'<text x="{x}" y="{y(p["value"]) - 10}" text-anchor="middle" {HALO}>'
                f"{escape(figures.measure(measure, p['value']))}</text>"
            )
        base = TOP + PLOT + FONT + 4
        parts.append(f'<text x="{x}" y="{base}" text-anchor="middle">Q{p["quarter"]}</text>'
                     f'<text x="{x}" y="{base + FONT + 4}" text-anchor="middle" '
                     f'fill="{MUTED}">FY{p["fiscal_year"]}</text>')  # fmt: skip
    if path:
        parts.insert(2, f'<path d="{" ".join(path)}" fill="none" stroke="{LINE}" '
                        'stroke-width="2.5"/>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def trend_figure(
    key: str, title: str, measure: str, points: Sequence[Mapping[str, Any]],
    target: float | None = None,
) -> str:  # fmt: skip
    """A trend's chart and its table (ids start with ``key``, unique on the page): the
    summary that names the chart, the chart in a scrolling region, and the table with each
    quarter's value and 95% interval, or why it has none."""
    k = escape(key)
    goal = ("" if target is None else
            f'<p class="summary">The dashed line is the goal: '
            f"{escape(figures.measure(measure, target))}.</p>")  # fmt: skip
    rows = []
    for p in points:
        name = f"FY{p['fiscal_year']} Q{p['quarter']}"
        if p["value"] is None:
            why = escape(p.get("note") or "no figure")
            cells = f'<td class="suppressed" colspan="2">{why}</td>'
        else:
            shown = escape(figures.measure(measure, p["value"]))
            ci = escape(figures.interval(p.get("ci")) or "–")
            cells = f'<td class="n">{shown}</td><td class="n">{ci}</td>'
        rows.append(f'<tr><th scope="row">{name}</th>{cells}</tr>')
    return (
        f'<div class="trend">'
        f'<p class="summary" id="{k}-sum">{escape(summary(title, measure, points))}</p>{goal}'
        f'<div class="figure">'
        f'<div class="chart-wrap" tabindex="0" role="region" aria-label="{escape(title)}, chart" '
        f'style="overflow-x: auto; max-width: 100%; flex: 0 1 auto;">'
        f"{line_svg(measure, points, f'{key}-sum', target)}</div>"
        f'<div class="table-wrap" tabindex="0" role="region" aria-labelledby="{k}-cap">'
        f'<table><caption id="{k}-cap">{escape(title)}, the last {len(points)} quarters</caption>'
        f'<thead><tr><th scope="col">Quarter</th><th scope="col">{escape(title)}</th>'
        f'<th scope="col">95% interval</th></tr></thead><tbody>{"".join(rows)}</tbody>'
        f"</table></div></div></div>"
    )
