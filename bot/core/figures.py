"""Figures as people read them (pure): shares as percentages, intervals, a goal measure's
value. One wording for the console, the public site and the CLI's table, so a figure reads
the same wherever it is shown."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.goals import LOWER_IS_BETTER


def pct(value: float | None, missing: str = "–") -> str:
    """A share (0-1) as a percentage to one place."""
    return missing if value is None else f"{100 * value:.1f}%"


def interval(ci: Sequence[float] | None) -> str:
    """A 95% interval, read aloud well too ("58.9% to 86.2%")."""
    return "" if not ci else f"{pct(ci[0])} to {pct(ci[1])}"


def measure(name: str, value: float | None) -> str:
    """A goal measure's value: minutes or a count for the measures where less is better, a
    percentage for shares; ``not measurable`` without one."""
    if value is None:
        return "not measurable"
    if name in LOWER_IS_BETTER:
        return f"{value:g}" if name == "reprompts_per_completed" else f"{value:g} min"
    return pct(value)
