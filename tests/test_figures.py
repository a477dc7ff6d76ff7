"""The report's figures from the store's grouped counts equal the reference worked out from
the records (``reference.quarterly_report``), on SQLite and on PostgreSQL: participation by
language, channel and declared dimensions (with suppression, the complement, not stated and
the long tail folded), the funnel, drivers on both branches, sentiment per language, effort,
the collection detail, the v1 counts, the per-response CSV's row count, goals and their
history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from adapters.sql.schema import response_dimensions, responses
from adapters.sql.store import SqlStore
from bot.core import reports
from bot.core.catalog import Service, load_catalog
from bot.core.goals import Goal
from bot.core.measures import DRIVER_FIELDS, V1_ITEMS
from bot.core.sinks import ResponseRecord
from bot.registry import kinds
from flows import FLOWS_DIR

from . import reference
from .records import FLOWS, T0, response_record
from .test_store import fresh_store

MIN_CELL = 5
SCRIPTS = [["yes", "1 3", "Quick and easy, thank you"], ["no", "2 5", "Too slow, nobody helped"],
           ["maybe", "yes", "1", "skip"], ["no"], [], ["sí", "1", "Muy amables"],
           ["yes", "4", "It was fine"], ["no", "6", "Terrible, awful wait"]]  # fmt: skip
PLANS = [("benefits-application", "a11-v2-thumbs"), ("permit-renewal", "a11-v2-scale"),
         ("helpdesk-call", "a11-v1"), ("retired-service", "a11-v2-thumbs")]  # fmt: skip
CHANNELS = ("sms", "whatsapp", "webchat")
REGIONS = ("north", "south", "east", "west")


def catalog() -> dict[str, Service]:
    """The demo catalog, with goals on times and a free-form dimension of many groups."""
    services = load_catalog(FLOWS_DIR / "services.yaml", FLOWS, kinds())
    services["permit-renewal"] = replace(
        services["permit-renewal"],
        reporting_dimensions=("office", "region"),
        goals=(Goal("trust_positive", 0.5), Goal("completion_minutes_p90", 20),
               Goal("reprompts_per_completed", 0.2), Goal("completion_rate", 0.5)),
    )  # fmt: skip
    return services


def attributes(n: int) -> dict[str, Any]:
    """A region for most (a tiny one, none, null, blank and a literal "not stated" for a
    few), an office of 57 (more than a breakdown shows), and an identifying attribute."""
    found: dict[str, Any] = {"case_number": f"C-{n}", "office": f"office {n % 57}"}
    if n % 47 == 0:
        found["region"] = "tiny"
    elif n % 19 == 0:
        found["region"] = None
    elif n % 17 == 0:
        found["region"] = " "
    elif n % 29 == 0:
        found["region"] = "not stated"
    elif n % 13 != 0:
        found["region"] = REGIONS[(n + n // 4) % 4 if n % 3 else 0]
    return found


def varied_records(count: int = 600) -> list[ResponseRecord]:
    """Four services (one the catalog no longer names), three flows, two languages, three
    channels, both trust branches with drivers, comments of each sentiment, expiries, varied
    times, over this quarter, the four before and the quarter's edge."""
    records = []
    for n in range(count):
        service, flow = PLANS[n % 4]
        script = SCRIPTS[(n + n // 4) % len(SCRIPTS)]  # each service meets every script
        replies = script
        if flow == "a11-v2-scale":
            replies = [{"yes": "5", "no": "2", "sí": "4", "maybe": "3"}.get(r, r) for r in replies]
        if flow == "a11-v1":
            replies = ["5", "4", "4", "3", "5", "agree", "Great help"] if n % 3 else ["2", "1"]
        if n < count - 8:  # two thirds in this quarter, the rest in the two before
            back = n // 4 % 6
            at = T0 - timedelta(days=45 * back if back < 3 else 0, hours=n % 24)
        else:  # 23:55 on Sept 30 in New York: Q1 in UTC, Q4 in the service's zone
            at = datetime(2026, 10, 1, 3, 55, tzinfo=UTC)
        records.append(response_record(
            n, replies, service=service, flow_id=flow, channel=CHANNELS[n % 7 % 3],
            language="es" if script[:1] == ["sí"] or n % 11 == 0 else "en",
            completed_at=at, attributes=attributes(n),
            first_reply_after=timedelta(minutes=1 + n % 7, seconds=n % 13),
            ended_after=timedelta(minutes=3 + n % 11, seconds=7 * (n % 5)),
            expire=n % 9 == 4,
        ))  # fmt: skip
    return records


async def stored(kind: str, tmp_path: Path, records: list[ResponseRecord]) -> SqlStore:
    """A store holding the records, kept each way the bot keeps them: the outbox's writes
    one by one and in a batch, an import, and rows stored before migration 0010 given what
    it added by the backfill."""
    store = await fresh_store(kind, tmp_path)
    third, one_by_one = len(records) // 3, min(20, len(records) // 3)
    await store.write_many(records[:third])
    for record in records[third : third + one_by_one]:
        await store.write(record)
    rest = records[third + one_by_one :]
    assert await store.add(rest) == len(rest)
    # the first third as rows stored before 0010: nothing of it, then the backfill
    ids = [r["response_id"] for r in records[:third]]
    async with store.engine.begin() as conn:
        await conn.execute(response_dimensions.delete().where(
            response_dimensions.c.response_id.in_(ids)))  # fmt: skip
        await conn.execute(
            update(responses)
            .where(responses.c.response_id.in_(ids))
            .values(
                {**dict.fromkeys((*DRIVER_FIELDS, *V1_ITEMS, "progress")), "figures_kept": None}
            )
        )
    assert await store.backfill_figures(batch=50) == third
    assert await store.backfill_figures() == 0
    return store


def differences(fast: Any, slow: Any, path: str = "") -> list[str]:
    """Where two reports differ, by path (an assertion that names the figure)."""
    if isinstance(fast, dict) and isinstance(slow, dict):
        keys = sorted(set(fast) | set(slow))
        return [d for k in keys for d in differences(fast.get(k), slow.get(k), f"{path}.{k}")]
    if isinstance(fast, list) and isinstance(slow, list) and len(fast) == len(slow):
        return [d for i, (a, b) in enumerate(zip(fast, slow, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]  # fmt: skip
    return [] if fast == slow else [f"{path}: {fast!r} != {slow!r}"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_report_from_the_stores_counts_equals_the_reference_from_records(
    kind: str, tmp_path: Path
) -> None:
    services = catalog()
    records = varied_records()
    store = await stored(kind, tmp_path, records)
    try:
        quarters = [(2027, 1), (2026, 4)]
        fast = {q: await reports.build(store, services, FLOWS, *q, min_cell=MIN_CELL)
                for q in quarters}  # fmt: skip
        one = await reports.build(store, services, FLOWS, 2027, 1, "permit-renewal",
                                  min_cell=MIN_CELL)  # fmt: skip
    finally:
        await store.close()
    for q in quarters:
        slow = reference.quarterly_report(records, services, FLOWS, *q, min_cell=MIN_CELL)
        assert differences(fast[q], slow) == []
    slow_one = reference.quarterly_report(records, services, FLOWS, 2027, 1, "permit-renewal",
                                        min_cell=MIN_CELL)  # fmt: skip
    assert differences(one, slow_one) == []
    # What the data set exercises, so the equality says something.
    report = fast[(2027, 1)]
    rows = {r["service_id"]: r for r in report["scores"]}
    assert set(rows) == {"benefits-application", "permit-renewal", "helpdesk-call",
                         "retired-service"}  # fmt: skip
    permits = rows["permit-renewal"]["participation"]
    offices = [p for p in permits if p["dimension"] == "office"]
    assert len(offices) == 50 and any(p["group"] == "other" for p in offices)
    regions = [p for p in rows["benefits-application"]["participation"]
               if p["dimension"] == "region"]  # fmt: skip
    assert {"not stated", "tiny", "north"} <= {p["group"] for p in regions}
    assert any(p["suppressed"] for p in regions) and not all(p["suppressed"] for p in regions)
    assert {p["group"] for p in permits if p["dimension"] == "channel"} == set(CHANNELS)
    assert set(rows["benefits-application"]["sentiment_by_language"]) == {"en", "es"}
    for branch in ("positive", "negative"):
        assert any(v for v in rows["benefits-application"]["drivers"][branch].values())
    effort = rows["permit-renewal"]["effort"]
    assert effort["completion_minutes_p90"] is not None and effort["questions"][0]["reached"]
    assert report["v1_counts"]["helpdesk-call"]["q1_5"] > 0
    goals = rows["permit-renewal"]["goals"]
    assert all(any(h["value"] is not None for h in g["history"]) for g in goals)
    # the per-response CSV's rows: the v2 respondents, not the v1 ones nor the unanswered
    respondents = sum(r["volume_of_respondents"] for r in report["collection_detail"])
    assert 50 < report["per_response_rows"] < respondents


async def test_a_report_reads_no_record_for_its_figures(tmp_path: Path) -> None:
    """Building a report never reads a record's JSON: every figure, and the per-response
    CSV's row count, comes from the counted columns (the store's records are made unreadable
    here)."""
    services = catalog()
    records = varied_records(160)
    store = await stored("sqlite", tmp_path, records)
    try:
        expected = reference.quarterly_report(records, services, FLOWS, 2027, 1, min_cell=MIN_CELL)
        async with store.engine.begin() as conn:
            await conn.execute(update(responses).values(record={"unreadable": True}))
        report = await reports.build(store, services, FLOWS, 2027, 1, min_cell=MIN_CELL)
    finally:
        await store.close()
    assert differences(report, expected) == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_percentiles_of_one_two_and_three_times(kind: str, tmp_path: Path) -> None:
    """The database's percentiles of the fewest times (one: itself; two and three:
    interpolated between ranks) are the reference's, to the tenth of a minute."""
    services = catalog()
    records = [
        response_record(n, ["5" if flow == "a11-v2-scale" else "yes", "1", "Fine"],
                        service=service, flow_id=flow,
                        first_reply_after=timedelta(minutes=1 + n, seconds=7 * n),
                        ended_after=timedelta(minutes=5 + 3 * n, seconds=11 * n))
        for n, (service, flow) in enumerate(
            [PLANS[0]] + [PLANS[1]] * 2 + [PLANS[3]] * 3)
    ]  # fmt: skip
    store = await stored(kind, tmp_path, records)
    try:
        fast = await reports.build(store, services, FLOWS, 2027, 1, min_cell=1)
        hidden = await reports.build(store, services, FLOWS, 2027, 1, min_cell=3)
    finally:
        await store.close()
    slow = reference.quarterly_report(records, services, FLOWS, 2027, 1, min_cell=1)
    assert differences(fast, slow) == []
    # a service too small to show at all: its whole row is suppressed, as the reference's
    slow = reference.quarterly_report(records, services, FLOWS, 2027, 1, min_cell=3)
    assert differences(hidden, slow) == []
    assert hidden["scores"][0]["participation"][0]["hidden"] == "small"
    times = [row["effort"]["completion_minutes_p90"] for row in fast["scores"]]
    assert len(times) == 3 and None not in times
