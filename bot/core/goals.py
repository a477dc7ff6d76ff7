"""Service goals (pure): what a goal may be set on, and how a quarter stands against one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

Interval = tuple[float, float]
Quarter = tuple[int, int]  # (fiscal year, quarter)
Value = tuple[float | None, Interval | None]  # a measure's value (None: not measurable)

# What a goal may be set on, and which way is better.
Measure = Literal[
    "trust_positive", "response_rate", "completion_rate", "completion_minutes_p50",
    "completion_minutes_p90", "first_reply_minutes_p50", "reprompts_per_completed",
]  # fmt: skip
MEASURES: tuple[Measure, ...] = get_args(Measure)
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"completion_minutes_p50", "completion_minutes_p90", "first_reply_minutes_p50",
     "reprompts_per_completed"}
)  # fmt: skip
GoalStatus = Literal["met", "not met", "not yet measurable", "not started"]
HISTORY = 4  # quarters shown before the one reported


@dataclass(frozen=True)
class Goal:
    """A service's target on one measure, in force from a fiscal quarter (None: always)."""

    measure: Measure
    target: float
    since: Quarter | None = None

    def status(self, quarter: Quarter, value: float | None) -> GoalStatus:
        """Where a quarter's value stands against the goal."""
        if self.since is not None and quarter < self.since:
            return "not started"
        if value is None:
            return "not yet measurable"
        if self.measure in LOWER_IS_BETTER:
            return "met" if value <= self.target else "not met"
        return "met" if value >= self.target else "not met"


def previous_quarters(quarter: Quarter, count: int = HISTORY) -> list[Quarter]:
    """The ``count`` fiscal quarters before ``quarter``, oldest first."""
    fiscal_year, q = quarter
    out = []
    for _ in range(count):
        fiscal_year, q = (fiscal_year - 1, 4) if q == 1 else (fiscal_year, q - 1)
        out.append((fiscal_year, q))
    return out[::-1]


def _value(values: Mapping[Quarter, Mapping[str, Value]], quarter: Quarter, goal: Goal) -> Value:
    return values.get(quarter, {}).get(goal.measure, (None, None))


def progress(
    goals: Sequence[Goal], quarter: Quarter, values: Mapping[Quarter, Mapping[str, Value]]
) -> list[dict[str, Any]]:
    """Each goal against this quarter's value and the four quarters before (``values``: per
    quarter, each measure's value and interval)."""
    out = []
    for goal in goals:
        value, interval = _value(values, quarter, goal)
        status = goal.status(quarter, value)
        out.append(
            {
                "measure": goal.measure,
                "target": goal.target,
                "since": list(goal.since) if goal.since else None,
                "value": value,
                "ci": list(interval) if interval else None,
                "met": {"met": True, "not met": False}.get(status),
                "status": status,
                "history": [
                    {"fiscal_year": fy, "quarter": q, "value": _value(values, (fy, q), goal)[0]}
                    for fy, q in previous_quarters(quarter)
                ],
            }
        )
    return out
