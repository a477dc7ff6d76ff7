"""Trends from the store's grouped sums against the same figures computed from records: the
last eight quarters of trust, response rate and each goal's measure, and the drivers this
quarter against the one before, on SQLite and PostgreSQL, over ten quarters of records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from adapters.sql.schema import responses
from bot.core import reports, trends
from bot.core.catalog import Service, load_catalog
from bot.core.goals import Goal
from bot.core.measures import DRIVER_FIELDS
from bot.core.sinks import ResponseRecord
from bot.registry import kinds
from flows import FLOWS_DIR

from .records import FLOWS, T0, response_record
from .reference import in_quarter, scores, service_values
from .test_store import fresh_store

MIN_CELL = 5
NOW = (2027, 1)


def catalog() -> dict[str, Service]:
    services = load_catalog(FLOWS_DIR / "services.yaml", FLOWS, kinds())
    services["permit-renewal"] = replace(services["permit-renewal"], goals=(
        Goal("trust_positive", 0.5), Goal("completion_minutes_p90", 20),
        Goal("reprompts_per_completed", 0.2), Goal("completion_rate", 0.6),
    ))  # fmt: skip
    return services


def ten_quarters() -> list[ResponseRecord]:
    """Records in each of ten quarters up to FY2027 Q1, in three services and zones: some
    quarters full, one with too few respondents, one with none; drivers chosen on both
    branches; and one response on a quarter's boundary in Eastern time."""
    scripts = [["yes", "1 3", "Quick and easy"], ["no", "2 5", "Too slow, nobody helped"],
               ["yes", "2", "Fine"], ["no", "1", "Lost my papers"], ["no"], [],
               ["maybe", "yes", "3 4", "skip"]]  # fmt: skip
    plans = [("benefits-application", "a11-v2-thumbs"), ("permit-renewal", "a11-v2-scale"),
             ("helpdesk-call", "a11-v1")]  # fmt: skip
    records = []
    number = 0
    for back in range(10):
        people = {3: 4, 6: 0}.get(back, 24 + 3 * back)  # FY2026 Q2: too few; FY2025 Q3: none
        for n in range(people):
            service, flow = plans[n % 3]
            replies = scripts[(n + back) % len(scripts)]
            if flow == "a11-v2-scale":
                replies = [{"yes": "5", "no": "2"}.get(r, r) for r in replies]
            if flow == "a11-v1":
                replies = ["5", "4", "4", "3", "5", "agree", "Great help"] if n % 2 else ["2"]
            records.append(response_record(
                number, replies, service=service, flow_id=flow,
                completed_at=T0 - timedelta(days=91 * back, hours=n % 40),
                first_reply_after=timedelta(minutes=1 + n % 7),
                ended_after=timedelta(minutes=3 + (n + back) % 11), expire=n % 9 == 8,
            ))  # fmt: skip
            number += 1
    # 23:55 on Sept 30 in New York: FY2026 Q4 there, FY2027 Q1 in UTC
    records.append(
        response_record(number, scripts[0], completed_at=datetime(2026, 10, 1, 3, 55, tzinfo=UTC))
    )
    return records


def reference(records: list[ResponseRecord], services: dict[str, Service]) -> dict[str, Any]:
    """Per quarter of the trend, from records: every service's measure values and its
    ``scores`` row (trust, drivers)."""
    out = {}
    for q in trends.last_quarters(NOW):
        kept = in_quarter(records, services, *q)
        values = service_values(kept, services, FLOWS, MIN_CELL, everyone=True)
        rows = {r["service_id"]: r for r in scores(kept, services, FLOWS, q,
                                                 min_cell=MIN_CELL)}  # fmt: skip
        out[q] = (values, rows)
    return out


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_series_from_sums_equals_the_figures_from_records(
    kind: str, tmp_path: Path
) -> None:
    services = catalog()
    records = ten_quarters()
    store = await fresh_store(kind, tmp_path)
    try:
        await store.write_many(records[:150])
        for record in records[150:170]:  # both ways of writing keep the driver bits
            await store.write(record)
        await store.add(records[170:])
        # Rows stored before migration 0010 get their driver cells from their record at
        # start-up (``backfill_figures``); the trends read those cells.
        async with store.engine.begin() as conn:
            await conn.execute(
                update(responses)
                .where(responses.c.response_id.in_([r["response_id"] for r in records[:60]]))
                .values(figures_kept=None, **dict.fromkeys(DRIVER_FIELDS))
            )
        assert await store.backfill_figures() == 60
        series = await trends.load(store, services, FLOWS, NOW, MIN_CELL)
        # The goals' history handed from the series to the count-based report is the one
        # the report reads from the store itself: the two reports differ only by ``series``.
        shown_with = await trends.build(store, services, FLOWS, *NOW, min_cell=MIN_CELL)
        alone = await reports.build(store, services, FLOWS, *NOW, min_cell=MIN_CELL)
        one = await trends.build(store, services, FLOWS, *NOW, "permit-renewal", MIN_CELL)
        one_alone = await reports.build(store, services, FLOWS, *NOW, "permit-renewal", MIN_CELL)
    finally:
        await store.close()
    want = reference(records, services)
    quarters = trends.last_quarters(NOW)
    assert len(quarters) == 8 and quarters[-1] == NOW and quarters[0] == (2025, 2)
    assert set(series) == set(services)
    shown = 0
    for service_id, s in series.items():
        assert s.quarters == tuple(quarters)
        assert s.measures[:2] == ("trust_positive", "response_rate")
        for q in quarters:
            values, rows = want[q]
            for measure in s.measures:
                expected = values.get(service_id, {}).get(measure, (None, None))
                assert s.values[q][measure] == expected, (service_id, q, measure)
                shown += expected[0] is not None
            row = rows.get(service_id)
            assert s.respondents[q] == (row["respondents"] if row else 0)
            if q in quarters[-2:]:
                shares, people = s.drivers[q]
                if row:
                    assert shares == row["drivers"], (service_id, q)
                    assert people == row["branch_respondents"], (service_id, q)
                else:
                    assert not any(people.values())
    assert shown > 40  # the comparison is of figures, not of empty quarters
    for with_series, without in ((shown_with, alone), (one, one_alone)):
        for row in with_series["scores"]:
            assert row.pop("series") == series[row["service_id"]].as_dict(MIN_CELL)
        assert with_series == without
    [permit_row] = [r for r in alone["scores"] if r["service_id"] == "permit-renewal"]
    assert sum(h["value"] is not None for g in permit_row["goals"] for h in g["history"]) > 6
    permit = series["permit-renewal"]
    assert permit.measures == ("trust_positive", "response_rate", "completion_minutes_p90",
                               "reprompts_per_completed", "completion_rate")  # fmt: skip
    # FY2026 Q2 had four people: every figure of it is suppressed, and says so
    few = permit.line("trust_positive", MIN_CELL)[4]
    assert (few["fiscal_year"], few["quarter"], few["value"]) == (2026, 2, None)
    assert few["note"] == f"fewer than {MIN_CELL} respondents: not shown"
    none = permit.line("response_rate", MIN_CELL)[0]
    assert (none["fiscal_year"], none["quarter"], none["note"]) == (2025, 2, None)
    assert permit.line("response_rate", MIN_CELL)[1]["note"] == "no responses"  # FY2025 Q3
    change = series["benefits-application"].driver_change()
    assert change["quarter"] == [2027, 1] and change["previous"] == [2026, 4]
    rows = change["branches"]["negative"]["rows"]
    assert rows and all(r["change"] == round(r["now"] - r["before"], 4) for r in rows
                        if r["now"] is not None and r["before"] is not None)  # fmt: skip


def test_records_loaded_by_import_show_their_history_at_once(tmp_path: Path) -> None:
    """An agency that loads its earlier quarters with ``feedback-bot import`` sees them in
    the next report at once: the goals' history and the trend (from the store's sums)."""
    import json
    import os

    from .test_transfer import cli

    lines = [json.dumps(r) for r in ten_quarters() if r["service_id"] == "benefits-application"]
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "", "MIN_CELL": "5"}
    loaded = cli(["import", str(path)], env)
    assert loaded.returncode == 0, loaded.stderr
    shown = cli(["report", "--fiscal-year", "2027", "--quarter", "1", "--format", "public"], env)
    assert shown.returncode == 0, shown.stderr
    [service] = [s for s in json.loads(shown.stdout)["services"]
                 if s["service_id"] == "benefits-application"]  # fmt: skip
    trend = service["trend"]
    assert [(p["fiscal_year"], p["quarter"]) for p in trend][::7] == [(2025, 2), (2027, 1)]
    assert sum(p["value"] is not None for p in trend) >= 5  # the earlier quarters are there
    assert trend[4]["value"] is None and "not shown" in trend[4]["note"]  # FY2026 Q2: too few
    history = service["goals"][0]["history"]
    assert [h["value"] is not None for h in history] == [True, False, True, True]
