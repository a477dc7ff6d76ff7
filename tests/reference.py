"""The oracle the equality tests hold the store's figures to: every A-11 figure computed the
simple way, from whole response records.

The bot never reads a quarter's records for its figures: the store counts them
(``ResponseStore.quarter_counts`` and ``tallies``) and ``bot.core.reports`` and
``bot.core.measures`` make the figures of the counts (``report_of``, ``scores_of``,
``collection_of``, ``v1_of``, ``participation_of``, ``effort_of``, ``summary`` …). Here the
same figures are worked out from the records themselves, each function's docstring naming its
count-built twin, with the same decisions (suppression, intervals, the methods note, which
quarter a record falls in, the catalog's flow and customer volumes, goals: the core's own
functions, imported from it). Tests hold the store's report equal to ``quarterly_report`` on a
varied data set on SQLite and on PostgreSQL (``tests/test_figures.py``,
``tests/test_rollups.py``), and record-level tests check a definition with these. Only tests
import this module: it is the reference, not a second way for the bot to count."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.core import measures
from bot.core.a11 import DRIVERS, V2_COLUMNS, trust_field, trust_question
from bot.core.catalog import Service
from bot.core.csvfile import csv_text
from bot.core.dimensions import BUILT_IN, MAX_GROUPS, OTHER, group_of
from bot.core.flow import Flow
from bot.core.goals import Quarter, Value
from bot.core.measures import MIN_CELL, Tally, _minutes, _overall, _reprompts, _row, _suppress
from bot.core.reports import (
    QUARTER_CUT,
    _customers,
    _upload_row,
    csv_address,
    goals_and_trend,
    headline,
    history,
    quarter_bounds,
    survey_type,
    trust_question_text,
    zone_of,
)
from bot.core.response import is_offered, is_respondent, reported_at
from bot.core.sinks import ResponseRecord

# --- measures (``bot.core.measures``) --------------------------------------------------


def trust_positive(record: ResponseRecord, flows: Mapping[str, Flow]) -> bool | None:
    """Whether a response's trust answer is on the positive side of its scale (None: no
    trust answer, or a flow the bot no longer knows): ``measures.positive_side`` of one."""
    flow = flows.get(record["flow_id"])
    question = trust_question(flow) if flow else None
    value = record["a11"].get(trust_field(record["a11"]) or "")
    if question is None or not isinstance(value, int):
        return None
    return value >= (question.positive_from or 1)


def tally_records(records: Sequence[ResponseRecord], flows: Mapping[str, Flow]) -> Tally:
    """The ``Tally`` of these records (``measures.tally_of`` from counts)."""
    respondents = [r for r in records if is_respondent(r)]
    trust = [p for r in respondents if (p := trust_positive(r, flows)) is not None]
    return Tally(len(records), sum(map(is_offered, records)), len(respondents), len(trust),
                 sum(trust))  # fmt: skip


def participation(
    records: Sequence[ResponseRecord],
    flows: Mapping[str, Flow],
    dimensions: Sequence[str],
    min_cell: int = MIN_CELL,
) -> list[dict[str, Any]]:
    """One service's participation: the overall row (dimension ``all``), then per dimension
    (``language``, ``channel``, then the declared ones) a row per group, suppressed where
    small (``measures.participation_of`` of counts)."""
    overall = tally_records(records, flows)
    total, total_shown = _overall(overall, min_cell)
    out = [total]
    for dimension in (*BUILT_IN, *dimensions):
        groups: dict[str, list[ResponseRecord]] = defaultdict(list)
        for record in records:
            groups[group_of(record, dimension)].append(record)
        if len(groups) > MAX_GROUPS:  # a free-form attribute: fold the long tail
            ranked = sorted(groups, key=lambda g: (-len(groups[g]), g))
            for name in ranked[MAX_GROUPS - 1 :]:
                tail = groups.pop(name)
                groups.setdefault(OTHER, []).extend(tail)
        rows = [_row(dimension, g, tally_records(rs, flows), overall)
                for g, rs in sorted(groups.items())]  # fmt: skip
        _suppress(rows, min_cell, total_shown)
        out += rows
    return out


def percentile(values: Sequence[float], q: int) -> float | None:
    """The q-th percentile, interpolated between ranks (numpy's default), to 0.1 (the store
    finds it in SQL: ``Figures._percentiles`` in ``adapters/sql/figures.py``)."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


def effort(records: Sequence[ResponseRecord], flow: Flow | None) -> dict[str, Any]:
    """What the survey asked of the people it reached (see ``bot.core.measures``' method;
    ``measures.effort_of`` of counts)."""
    offered = [r for r in records if is_offered(r)]
    first = [m for r in offered if (m := _minutes(r, "first_reply")) is not None]
    completed = [r for r in offered if r["disposition"] == "completed"]
    done = [m for r in completed if (m := _minutes(r, "ended")) is not None]
    reprompts = sum(_reprompts(r) for r in completed)
    questions = []
    for question in flow.questions if flow else ():
        reached = answered = 0
        for record in offered:
            answer = record["answers"].get(question.id)
            if answer is not None or record.get("last_question") == question.id:
                reached += 1
                answered += answer is not None and answer.get("status") == "answered"
        questions.append({"id": question.id, "reached": reached, "answered": answered})
    return {
        "first_reply_minutes_p50": percentile(first, 50),
        "first_reply_minutes_p90": percentile(first, 90),
        "completion_minutes_p50": percentile(done, 50),
        "completion_minutes_p90": percentile(done, 90),
        "reprompts_per_completed": round(reprompts / len(completed), 2) if completed else None,
        "started": len(first),
        "completed": len(completed),
        "questions": questions,
    }


def by_service(records: Iterable[ResponseRecord]) -> dict[str, list[ResponseRecord]]:
    """Records grouped by service, in the order given."""
    out: dict[str, list[ResponseRecord]] = defaultdict(list)
    for record in records:
        out[record["service_id"]].append(record)
    return out


# --- the quarterly report (``bot.core.reports``) ----------------------------------------


def in_quarter(records: Iterable[ResponseRecord], services: Mapping[str, Service],
               fiscal_year: int, quarter: int) -> list[ResponseRecord]:  # fmt: skip
    """Records that fall in the quarter, in order: a response by when it was received, any
    other survey by its transaction (``bot.core.response.reported_at``), in each service's
    zone (the store reads the same ``reports.quarter_windows``)."""
    bounds: dict[str, tuple[datetime, datetime]] = {}
    kept = []
    for record in records:
        zone = zone_of(services, record["service_id"])
        if zone not in bounds:
            bounds[zone] = quarter_bounds(fiscal_year, quarter, zone)
        start, end = bounds[zone]
        if start <= datetime.fromisoformat(reported_at(record)) < end:
            kept.append(record)
    return sorted(kept, key=lambda r: (datetime.fromisoformat(reported_at(r)), r["response_id"]))


def per_response_csv(records: Iterable[ResponseRecord]) -> str:
    """The OMB upload, as Touchpoints exports it (``Form#to_a11_v2_csv``): exactly the 17
    columns, one row per A-11 v2 response (trust item answered), drivers 1 / 0 / null (what
    ``bot.service.exports.per_response_csv`` streams from the store)."""
    return csv_text(V2_COLUMNS, upload_rows(records))


def upload_rows(records: Iterable[ResponseRecord]) -> Iterator[list[str]]:
    """The OMB upload's rows of these records (the A-11 v2 responses among them), in their
    order: ``per_response_csv`` without its header."""
    return (_upload_row(r["response_id"], r["a11"]) for r in records
            if "question_1" in r["a11"] and is_respondent(r))  # fmt: skip


def collection_detail(
    records: list[ResponseRecord],
    services: Mapping[str, Service],
    flows: Mapping[str, Flow],
    fiscal_year: int,
    quarter: int,
) -> list[dict[str, Any]]:
    """Per service and reported channel, the quarter's collection detail with Touchpoints'
    field names (``CxCollectionDetail``): the service and survey facts and three volumes
    (``reports.collection_of`` of counts)."""
    groups: dict[tuple[str, str], list[ResponseRecord]] = defaultdict(list)
    for record in records:
        groups[(record["service_id"], record["reported_channel"])].append(record)
    rows = []
    for (service_id, channel), group in sorted(groups.items()):
        service = services.get(service_id)
        flow = flow_of(service_id, group, services, flows)
        customers, source = _customers(service, fiscal_year, quarter, channel, len(group))
        rows.append(
            {
                "fiscal_year": fiscal_year,
                "quarter": quarter,
                "service_provider_name": service.service_provider if service else "",
                "service_id": service_id,
                "service_name": service.name if service else service_id,
                "transaction_point": service.transaction_point if service else "post_interaction",
                "channel": channel,
                "volume_of_customers": customers,
                "volume_of_customers_provided_survey_opportunity": sum(map(is_offered, group)),
                "volume_of_respondents": sum(map(is_respondent, group)),
                "omb_control_number": service.omb_control_number if service else None,
                "federal_register_url": service.federal_register_url if service else None,
                "survey_type": survey_type(flow),
                "survey_title": flow.title if flow else "",
                "trust_question_text": (
                    trust_question_text(flow, service) if flow and service else ""
                ),
                "volume_of_customers_source": source,
                "time_zone": zone_of(services, service_id),
            }
        )
    return rows


def flow_of(service_id: str, group: Sequence[ResponseRecord], services: Mapping[str, Service],
            flows: Mapping[str, Flow]) -> Flow | None:  # fmt: skip
    """The flow a service's figures are read against: the catalog's, else its records'
    (``reports._flow_of_counts``)."""
    service = services.get(service_id)
    if service is not None:
        return flows.get(service.flow)
    return flows.get(group[0]["flow_id"]) if group else None


def service_values(
    records: Iterable[ResponseRecord], services: Mapping[str, Service], flows: Mapping[str, Flow],
    min_cell: int = MIN_CELL, everyone: bool = False,
) -> dict[str, dict[str, Value]]:  # fmt: skip
    """Per service with goals (``everyone``: every service), every goal measure's value in
    these records (one quarter's): ``reports.quarter_values`` of the store's sums."""
    out = {}
    for service_id, group in by_service(records).items():
        service = services.get(service_id)
        if everyone or (service is not None and service.goals):
            work = effort(group, flow_of(service_id, group, services, flows))
            tally = tally_records(group, flows)
            out[service_id] = measures.measure_values(tally, work, min_cell)
    return out


def scores(
    records: list[ResponseRecord],
    services: Mapping[str, Service],
    flows: Mapping[str, Flow],
    quarter: Quarter,
    past: Mapping[Quarter, Mapping[str, Mapping[str, Value]]] | None = None,
    only: str | None = None,
    min_cell: int = MIN_CELL,
) -> list[dict[str, Any]]:
    """Per service: percent positive trust, driver shares, rates, sentiment (overall and by
    language), participation by group, effort, and goals against this quarter and the four
    before (``past``: ``service_values`` per earlier quarter): ``reports.scores_of``."""
    groups = by_service(records)
    for known in services.values():  # a service with goals shows them, responses or not
        if known.goals and (only is None or known.id == only):
            groups.setdefault(known.id, [])
    out = []
    for service_id, group in sorted(groups.items()):
        service = services.get(service_id)
        flow = flow_of(service_id, group, services, flows)
        tally = tally_records(group, flows)
        respondents = [r for r in group if is_respondent(r)]
        branches: dict[str, list[ResponseRecord]] = {"positive": [], "negative": []}
        for r in respondents:
            positive = trust_positive(r, flows)
            if positive is not None:
                branches["positive" if positive else "negative"].append(r)
        drivers: dict[str, dict[str, float | None]] = {}
        for branch, members in branches.items():
            drivers[branch] = {}
            for d in DRIVERS:
                # Among the respondents on this branch whose form offered the driver.
                cells = [v for r in members if (v := r["a11"].get(f"{branch}_{d}")) is not None]
                drivers[branch][d] = round(sum(cells) / len(cells), 4) if cells else None
        by_language: dict[str, Counter[str]] = defaultdict(Counter)
        for r in respondents:
            if (s := r.get("sentiment")) is not None:
                by_language[r["language"]][s["label"]] += 1
        work = effort(group, flow)
        values = {earlier: per.get(service_id, {}) for earlier, per in (past or {}).items()}
        values[quarter] = measures.measure_values(tally, work, min_cell)
        out.append(
            {
                "service_id": service_id,
                **headline(tally),
                "branch_respondents": {b: len(m) for b, m in branches.items()},
                "drivers": drivers,
                "sentiment": dict(sorted(sum(by_language.values(), Counter()).items())),
                "sentiment_by_language": {
                    lang: dict(sorted(c.items())) for lang, c in sorted(by_language.items())
                },
                "participation": participation(
                    group, flows, service.reporting_dimensions if service else (), min_cell
                ),
                "effort": work,
                **goals_and_trend(service, quarter, values, past),
            }
        )
    return out


def v1_counts(records: list[ResponseRecord]) -> dict[str, dict[str, int]]:
    """Legacy v1 summary per service: for q1..q11, the count of answers at each scale point
    (``reports.v1_of`` of counts)."""
    table: dict[str, dict[str, int]] = {}
    for record in records:
        a11 = record["a11"]
        if "q1" not in a11:
            continue
        counts = table.setdefault(
            record["service_id"], {f"q{n}_{v}": 0 for n in range(1, 12) for v in range(1, 6)}
        )
        for n in range(1, 12):
            value = a11.get(f"q{n}")
            if isinstance(value, int) and 1 <= value <= 5:
                counts[f"q{n}_{value}"] += 1
    return table


def quarterly_report(
    records: Iterable[ResponseRecord],
    services: Mapping[str, Service],
    flows: Mapping[str, Flow],
    fiscal_year: int,
    quarter: int,
    service: str | None = None,
    min_cell: int = MIN_CELL,
    trend: bool = False,
) -> dict[str, Any]:
    """Everything for one fiscal quarter (optionally one service); records of the four
    quarters before, when given, feed the goals' history (and with ``trend`` every service's
    ``trend``). Groups with fewer than ``min_cell`` respondents are suppressed. The store's
    report, ``reports.report_of`` (``reports.build``), is held equal to this."""
    chosen = [r for r in records if service is None or r["service_id"] == service]
    kept = in_quarter(chosen, services, fiscal_year, quarter)
    zones = sorted({zone_of(services, r["service_id"]) for r in kept})
    looks_back = trend or any(s.goals for s in services.values())
    past = {
        (fy, q): service_values(
            in_quarter(chosen, services, fy, q), services, flows, min_cell, everyone=trend
        )
        for fy, q in (history(fiscal_year, quarter) if looks_back else [])
    }
    return {
        "fiscal_year": fiscal_year,
        "quarter": quarter,
        "service": service,
        "quarter_cut": {"by": QUARTER_CUT, "time_zones": zones},
        "min_cell": min_cell,
        "methods": measures.methods(min_cell),
        "collection_detail": collection_detail(kept, services, flows, fiscal_year, quarter),
        "scores": scores(kept, services, flows, (fiscal_year, quarter), past, service, min_cell),
        "v1_counts": v1_counts(kept),
        "per_response_rows": sum(1 for _ in upload_rows(kept)),
        "per_response_csv_url": csv_address(fiscal_year, quarter, service),
    }
