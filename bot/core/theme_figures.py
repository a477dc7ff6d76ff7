"""Theme figures (pure): a service's themes in a quarter from the store's grouped counts — how
many comments each was about, the share of those that were negative, and the change from the
quarter before — with counts under ``MIN_CELL`` suppressed as every other count is.

The store counts (``ResponseStore.theme_counts``: one grouped query, no comment read); this
module only turns counts into the rows the console, the JSON report and ``/cx themes`` show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypedDict

from bot.core.sinks import ThemeCount
from bot.core.themes import Taxonomy


class ThemeRow(TypedDict):
    """One theme of a service in a quarter. None where a count under ``min_cell`` is
    suppressed (and a change when either quarter's count is)."""

    theme: str
    label: str
    comments: int | None  # comments tagged with it
    negative_percent: float | None  # of those, the percent scored negative
    change: int | None  # comments, less the quarter before's
    negative_percent_change: float | None  # percentage points, from the quarter before's


def by_service(counts: Iterable[ThemeCount]) -> dict[str, dict[str, ThemeCount]]:
    """Counts as service -> theme -> count."""
    out: dict[str, dict[str, ThemeCount]] = {}
    for count in counts:
        out.setdefault(count.service, {})[count.theme] = count
    return out


def _percent(count: ThemeCount) -> float:
    return round(100 * count.negative / count.comments, 1)


def theme_rows(
    now: Mapping[str, ThemeCount],
    before: Mapping[str, ThemeCount],
    taxonomy: Taxonomy,
    min_cell: int,
    language: str = "en",
) -> list[ThemeRow]:
    """Every theme of the service's taxonomy (and any other its comments were tagged with
    this quarter: a theme since removed), the most frequent first; themes whose count is
    suppressed follow in the taxonomy's order."""
    ids = [*taxonomy.ids(), *sorted(t for t in now if taxonomy.get(t) is None)]
    rows: list[ThemeRow] = []
    for theme in ids:
        count, earlier = now.get(theme), before.get(theme)
        shown = count is not None and count.comments >= min_cell
        was = earlier is not None and earlier.comments >= min_cell
        rows.append({
            "theme": theme,
            "label": taxonomy.label(theme, language),
            "comments": count.comments if shown and count else None,
            "negative_percent": _percent(count) if shown and count else None,
            "change": count.comments - earlier.comments if shown and was and count and earlier
            else None,
            "negative_percent_change": round(_percent(count) - _percent(earlier), 1)
            if shown and was and count and earlier else None,
        })  # fmt: skip
    order = {theme: n for n, theme in enumerate(ids)}
    rows.sort(key=lambda r: (r["comments"] is None, -(r["comments"] or 0), order[r["theme"]]))
    return rows
