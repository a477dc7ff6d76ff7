"""Trends: a service's last eight quarters of trust, response rate and its goals' measures,
and the drivers people chose this quarter against the quarter before — from the store's
grouped sums (``ResponseStore.tallies`` and ``driver_sums``), never from its records.

The figures of each quarter are the ones a single quarter shows (``measures.summary``): the
same suppression below the minimum cell, the same Wilson intervals; goals' history reads them
(``goals.progress``). ``load`` is the one function here that does I/O, through the store's
protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core import measures, reports
from bot.core.a11 import DRIVERS
from bot.core.catalog import Service
from bot.core.flow import Flow
from bot.core.goals import LOWER_IS_BETTER, Quarter, Value, previous_quarters
from bot.core.sinks import DriverSums, QuarterCounts, ResponseStore, TallyGroup

SPAN = 8  # quarters a trend shows, the one reported included
BRANCHES = ("positive", "negative")
SHOWN = ("trust_positive", "response_rate")  # every trend shows these, then the goals' measures
TIMES = frozenset(m for m in LOWER_IS_BETTER if "minutes" in m)  # need the store's sorting

Found = Mapping[int, tuple[Sequence[TallyGroup], Mapping[str, float | None]]]


def last_quarters(quarter: Quarter, count: int = SPAN) -> list[Quarter]:
    """The ``count`` quarters ending with ``quarter``, oldest first (none before FY 2000)."""
    earlier = previous_quarters(quarter, count - 1)
    return [q for q in earlier if q[0] in reports.FISCAL_YEARS] + [quarter]


def label(quarter: Sequence[int]) -> str:
    """A quarter as the pages write it: ``FY2027 Q1``."""
    return f"FY{quarter[0]} Q{quarter[1]}"


def driver_shares(
    groups: Sequence[DriverSums], flows: Mapping[str, Flow]
) -> tuple[dict[str, dict[str, float | None]], dict[str, int]]:
    """Per branch, the share of its respondents who chose each driver among those whose form
    offered it (None: offered to nobody), and the respondents on each branch: the report's
    own ``measures.drivers_of``, over a window's driver sums."""
    people, shares = measures.drivers_of(QuarterCounts([], [], list(groups), {}, {}, {}), flows)
    return shares, people


@dataclass(frozen=True)
class Series:
    """One service's trend: each quarter's figures (oldest first, the last the one reported)
    and its drivers this quarter and the quarter before."""

    service_id: str
    quarters: tuple[Quarter, ...]
    values: Mapping[Quarter, Mapping[str, Value]]
    respondents: Mapping[Quarter, int]
    completed: Mapping[Quarter, int]
    now: tuple[measures.Tally, dict[str, Any], dict[str, int], dict[str, Value]]
    measures: tuple[str, ...]  # what the trend shows: trust, response rate, goals' measures
    drivers: Mapping[Quarter, tuple[dict[str, dict[str, float | None]], dict[str, int]]]

    def note(self, quarter: Quarter, measure: str, min_cell: int) -> str | None:
        """Why a quarter has no figure for a measure (None: it has one)."""
        if self.values.get(quarter, {}).get(measure, (None, None))[0] is not None:
            return None
        people = self.respondents.get(quarter, 0)
        if not people:
            return "no responses"
        if people < min_cell:
            return f"fewer than {min_cell} respondents: not shown"
        if measure in LOWER_IS_BETTER and self.completed.get(quarter, 0) < min_cell:
            return f"fewer than {min_cell} completed surveys: not shown"
        return "not measurable"

    def line(self, measure: str, min_cell: int) -> list[dict[str, Any]]:
        """A measure's points, oldest first: value and interval, or a note saying why not."""
        out = []
        for q in self.quarters:
            value, ci = self.values.get(q, {}).get(measure, (None, None))
            out.append({"fiscal_year": q[0], "quarter": q[1], "value": value,
                        "ci": list(ci) if ci else None,
                        "note": self.note(q, measure, min_cell)})  # fmt: skip
        return out

    def driver_change(self) -> dict[str, Any]:
        """Drivers this quarter against the quarter before: per branch its respondents in
        both, and per driver offered in either the two shares and the change (a share's
        difference, None where either is missing)."""
        now_q = self.quarters[-1]
        before_q = self.quarters[-2] if len(self.quarters) > 1 else None
        empty: tuple[dict[str, dict[str, float | None]], dict[str, int]] = ({}, {})
        now, now_people = self.drivers.get(now_q, empty)
        before, before_people = self.drivers.get(before_q, empty) if before_q else empty
        branches = {}
        for branch in BRANCHES:
            rows = []
            for driver in DRIVERS:
                a = now.get(branch, {}).get(driver)
                b = before.get(branch, {}).get(driver)
                if a is None and b is None:
                    continue
                change = None if a is None or b is None else round(a - b, 4)
                rows.append({"driver": driver, "now": a, "before": b, "change": change})
            branches[branch] = {
                "respondents": [now_people.get(branch, 0), before_people.get(branch, 0)],
                "rows": rows,
            }
        return {"quarter": list(now_q), "previous": list(before_q) if before_q else None,
                "branches": branches}  # fmt: skip

    def as_dict(self, min_cell: int) -> dict[str, Any]:
        """The trend as the pages and the public report read it."""
        return {
            "quarters": [list(q) for q in self.quarters],
            "lines": {m: self.line(m, min_cell) for m in self.measures},
            "drivers": self.driver_change(),
        }


def series_of(
    service: Service, quarters: Sequence[Quarter], found: Found,
    drivers: Mapping[Quarter, Sequence[DriverSums]], flows: Mapping[str, Flow], min_cell: int,
) -> Series:  # fmt: skip
    """A service's ``Series`` from the store's sums (``found``: per index into ``quarters``
    its tally groups and time percentiles)."""
    values, people, completed = {}, {}, {}
    now: Any = None
    for index, q in enumerate(quarters):
        groups, cuts = found.get(index, ((), {}))
        now = measures.summary(groups, flows, cuts, min_cell)
        tally, work, _, values[q] = now
        people[q], completed[q] = tally.respondents, work["completed"]
    wanted = tuple(dict.fromkeys([*SHOWN, *(g.measure for g in service.goals)]))
    return Series(service.id, tuple(quarters), values, people, completed, now, wanted,
                  {q: driver_shares(g, flows) for q, g in drivers.items()})  # fmt: skip


async def load(
    store: ResponseStore | None, services: Mapping[str, Service], flows: Mapping[str, Flow],
    quarter: Quarter, min_cell: int = measures.MIN_CELL, only: str | None = None,
) -> dict[str, Series]:  # fmt: skip
    """Per catalog service (``only``: that one), its ``Series`` up to ``quarter``: two grouped
    queries over the last eight quarters, each quarter cut in the service's time zone."""
    quarters = last_quarters(quarter)
    recent = quarters[-2:]  # drivers: this quarter and the one before
    chosen = [s for s in services.values() if only is None or s.id == only]
    zones: dict[str, list[str]] = {}
    for service in chosen:
        zones.setdefault(service.timezone, []).append(service.id)
    found: dict[tuple[str, int], Any] = {}
    driven: dict[tuple[str, int], list[DriverSums]] = {}
    if store is not None and zones:
        # Times only where a goal is set on one: they are the costly part (a sort each).
        timed = [s.id for s in chosen if any(g.measure in TIMES for g in s.goals)]
        found, driven = await asyncio.gather(
            store.tallies([(ids, [reports.quarter_bounds(*q, zone) for q in quarters])
                           for zone, ids in zones.items()], timed),
            store.driver_sums([(ids, [reports.quarter_bounds(*q, zone) for q in recent])
                               for zone, ids in zones.items()]),
        )  # fmt: skip
    return {
        s.id: series_of(
            s, quarters, {i: found[(s.id, i)] for i in range(len(quarters)) if (s.id, i) in found},
            {q: driven.get((s.id, i), []) for i, q in enumerate(recent)}, flows, min_cell,
        )
        for s in chosen
    }  # fmt: skip


def past_of(
    series: Mapping[str, Series], services: Mapping[str, Service], quarter: Quarter
) -> dict[Quarter, dict[str, Any]]:
    """The quarters a report's goals look back on (``reports.history``; none when no service
    has goals) with the values in them of each service with goals: what ``reports.build``
    would otherwise ask the store for again, taken from the series already read."""
    if not any(s.goals for s in services.values()):
        return {}
    return {
        q: {sid: dict(s.values.get(q, {})) for sid, s in series.items()
            if sid in services and services[sid].goals}
        for q in reports.history(*quarter)
    }  # fmt: skip


async def build(
    store: ResponseStore, services: Mapping[str, Service], flows: Mapping[str, Flow],
    fiscal_year: int, quarter: int, service: str | None = None,
    min_cell: int = measures.MIN_CELL,
) -> dict[str, Any]:  # fmt: skip
    """A quarter's report (``reports.build``, from the store's counts) with its goals'
    history and each service's trend (``series`` in its ``scores`` row) from the store's
    sums of the last eight quarters."""
    now = (fiscal_year, quarter)
    series = await load(store, services, flows, now, min_cell, service)
    past = past_of(series, services, now)
    report = await reports.build(store, services, flows, fiscal_year, quarter, service,
                                 min_cell, past=past)  # fmt: skip
    attach(report, series, min_cell)
    return report


def attach(report: dict[str, Any], series: Mapping[str, Series], min_cell: int) -> None:
    """Give each ``scores`` row of a report its service's trend (None: not in the catalog)."""
    for row in report["scores"]:
        found = series.get(row["service_id"])
        row["series"] = found.as_dict(min_cell) if found else None
