"""Quarterly A-11 reports from response records (pure): the OMB per-response CSV, the
collection-detail volumes, scores, and the legacy v1 count table."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.a11 import DRIVERS, V2_COLUMNS
from bot.catalog import Service
from bot.flow import Flow, render
from bot.response import is_respondent
from bot.sinks import ResponseRecord, ResponseStore

# Enough to cover every US time zone when a quarter's bounds are widened for a query.
ZONE_SLACK = timedelta(hours=14)


def quarter_bounds(fiscal_year: int, quarter: int, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a federal fiscal quarter in a time zone (FY 2027 Q1 = Oct-Dec 2026)."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1, 2, 3 or 4")
    zone = ZoneInfo(timezone)
    year, month = (fiscal_year - 1, 10) if quarter == 1 else (fiscal_year, 3 * quarter - 5)
    start = datetime(year, month, 1, tzinfo=zone)
    end_year, end_month = (year + 1, 1) if month == 10 else (year, month + 3)
    return start, datetime(end_year, end_month, 1, tzinfo=zone)


def fiscal_quarter(moment: datetime, timezone: str) -> tuple[int, int]:
    """The (fiscal year, quarter) a moment falls in, in a time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    if local.month >= 10:
        return local.year + 1, 1
    return local.year, (local.month - 1) // 3 + 2


async def fetch_quarter(
    store: ResponseStore, fiscal_year: int, quarter: int, service: str | None
) -> list[ResponseRecord]:
    """The records a quarter's report needs (widened by a day; cut per service zone later).
    The one function here that does I/O."""
    start, end = quarter_bounds(fiscal_year, quarter, "UTC")
    return await store.transactions_between(start - ZONE_SLACK, end + ZONE_SLACK, service)


def in_quarter(records: Iterable[ResponseRecord], services: Mapping[str, Service],
               fiscal_year: int, quarter: int) -> list[ResponseRecord]:  # fmt: skip
    """Records whose transaction falls in the quarter, cut in each service's time zone."""
    bounds: dict[str, tuple[datetime, datetime]] = {}
    kept = []
    for record in records:
        service = services.get(record["service_id"])
        zone = service.timezone if service else "America/New_York"
        if zone not in bounds:
            bounds[zone] = quarter_bounds(fiscal_year, quarter, zone)
        start, end = bounds[zone]
        if start <= datetime.fromisoformat(record["timestamps"]["transaction"]) < end:
            kept.append(record)
    return sorted(kept, key=lambda r: (r["timestamps"]["transaction"], r["response_id"]))


def _cell(value: Any) -> str:
    return "null" if value is None else str(value)


def per_response_csv(records: Iterable[ResponseRecord]) -> str:
    """The OMB upload: exactly the 17 columns, one row per A-11 v2 respondent."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(V2_COLUMNS)
    for record in records:
        a11 = record["a11"]
        if "question_1" not in a11 or not is_respondent(record):
            continue
        row = [record["response_id"], _cell(a11.get("question_1"))]
        row += [_cell(a11.get(column)) for column in V2_COLUMNS[2:-1]]
        row.append(a11.get("question_4") or "")
        writer.writerow(row)
    return out.getvalue()


def _delivered(record: ResponseRecord) -> bool:
    return record["timestamps"]["invited"] is not None and record["disposition"] != "undeliverable"


def _trust_question(flow: Flow, service: Service) -> str:
    first = flow.questions[0]
    text = render(first.prompt[flow.default_language], service.context())
    return text.split(". ")[0].rstrip(".") + "."


def collection_detail(
    records: list[ResponseRecord], services: Mapping[str, Service], flows: Mapping[str, Flow]
) -> list[dict[str, Any]]:
    """Per service and reported channel: the volumes OMB asks for and the survey's facts."""
    groups: dict[tuple[str, str], list[ResponseRecord]] = defaultdict(list)
    for record in records:
        groups[(record["service_id"], record["reported_channel"])].append(record)
    rows = []
    for (service_id, channel), group in sorted(groups.items()):
        service = services.get(service_id)
        flow = flows.get(service.flow) if service else None
        scale = flow.questions[0].scale if flow and flow.questions else None
        rows.append(
            {
                "service_id": service_id,
                "service_name": service.name if service else service_id,
                "channel": channel,
                "survey_type": "post_interaction",
                "scale_type": "thumbs_up_down" if scale == "thumbs" else "likert_scale",
                "survey_title": flow.title if flow else "",
                "trust_question": _trust_question(flow, service) if flow and service else "",
                "omb_control_number": service.omb_control_number if service else None,
                "volume_of_customers": len(group),
                "volume_of_customers_provided_survey_opportunity": sum(map(_delivered, group)),
                "volume_of_respondents": sum(map(is_respondent, group)),
            }
        )
    return rows


def scores(records: list[ResponseRecord], flows: Mapping[str, Flow]) -> list[dict[str, Any]]:
    """Per service: percent positive trust, driver shares, rates, sentiment distribution."""
    by_service: dict[str, list[ResponseRecord]] = defaultdict(list)
    for record in records:
        by_service[record["service_id"]].append(record)
    out = []
    for service_id, group in sorted(by_service.items()):
        respondents = [r for r in group if is_respondent(r)]
        delivered = sum(map(_delivered, group))
        trust = [r["a11"]["question_1"] for r in respondents
                 if isinstance(r["a11"].get("question_1"), int)]  # fmt: skip
        flow = flows.get(group[0]["flow_id"])
        thumbs = bool(flow and flow.questions[0].scale == "thumbs")
        positive = sum(1 for v in trust if (v == 1 if thumbs else v >= 4))
        drivers: dict[str, dict[str, float | None]] = {}
        for branch in ("positive", "negative"):
            drivers[branch] = {}
            for d in DRIVERS:
                offered = [r["a11"].get(f"{branch}_{d}") for r in respondents]
                asked = [v for v in offered if v is not None]
                drivers[branch][d] = round(sum(asked) / len(asked), 4) if asked else None
        sentiment = Counter(
            r["sentiment"]["label"] for r in respondents if r.get("sentiment") is not None
        )
        out.append(
            {
                "service_id": service_id,
                "transactions": len(group),
                "delivered": delivered,
                "respondents": len(respondents),
                "percent_positive": round(100 * positive / len(trust), 2) if trust else None,
                "trust_answers": len(trust),
                "response_rate": round(len(respondents) / delivered, 4) if delivered else None,
                "offer_rate": round(delivered / len(group), 4) if group else None,
                "drivers": drivers,
                "sentiment": dict(sorted(sentiment.items())),
            }
        )
    return out


def v1_counts(records: list[ResponseRecord]) -> dict[str, dict[str, int]]:
    """Legacy v1 summary per service: for q1..q11, the count of answers at each scale point."""
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
) -> dict[str, Any]:
    """Everything for one fiscal quarter (optionally one service)."""
    chosen = [r for r in records if service is None or r["service_id"] == service]
    kept = in_quarter(chosen, services, fiscal_year, quarter)
    return {
        "fiscal_year": fiscal_year,
        "quarter": quarter,
        "service": service,
        "collection_detail": collection_detail(kept, services, flows),
        "scores": scores(kept, flows),
        "v1_counts": v1_counts(kept),
        "per_response_csv": per_response_csv(kept),
    }


def as_table(report: dict[str, Any]) -> str:
    """The report for people: a few aligned columns."""
    lines = [f"A-11 report, fiscal year {report['fiscal_year']} Q{report['quarter']}", ""]
    lines.append(f"{'service':<24}{'channel':<20}{'customers':>10}{'offered':>9}{'resp.':>7}")
    for row in report["collection_detail"]:
        lines.append(
            f"{row['service_id']:<24}{row['channel']:<20}{row['volume_of_customers']:>10}"
            f"{row['volume_of_customers_provided_survey_opportunity']:>9}"
            f"{row['volume_of_respondents']:>7}"
        )
    lines += ["", f"{'service':<24}{'% positive':>11}{'resp. rate':>11}  sentiment"]
    for row in report["scores"]:
        pct = "-" if row["percent_positive"] is None else f"{row['percent_positive']:.1f}"
        rate = "-" if row["response_rate"] is None else f"{100 * row['response_rate']:.1f}%"
        sentiment = ", ".join(f"{k} {v}" for k, v in row["sentiment"].items()) or "-"
        lines.append(f"{row['service_id']:<24}{pct:>11}{rate:>11}  {sentiment}")
    rows = report["per_response_csv"].count("\n") - 1
    lines += ["", f"OMB per-response CSV: {rows} rows (--format csv)"]
    return "\n".join(lines) + "\n"
