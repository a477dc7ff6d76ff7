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

from bot.core.a11 import DRIVERS, V2_COLUMNS, trust_field, trust_question
from bot.core.catalog import Service
from bot.core.flow import Flow, render
from bot.core.response import is_respondent, reported_at
from bot.core.sinks import ResponseRecord, ResponseStore

# Enough to cover every US time zone when a quarter's bounds are widened for a query.
ZONE_SLACK = timedelta(hours=14)
DEFAULT_ZONE = "America/New_York"
QUARTER_CUT = (
    "a response (trust item answered) falls in the quarter in which it was received (its "
    "survey's end); any other survey in the quarter of its transaction; each in its "
    "service's time zone"
)
# The collection detail with Touchpoints' field names (CxCollectionDetail), then ours.
COLLECTION_COLUMNS: tuple[str, ...] = (
    "fiscal_year", "quarter", "service_provider_name", "service_id", "service_name",
    "transaction_point", "channel", "volume_of_customers",
    "volume_of_customers_provided_survey_opportunity", "volume_of_respondents",
    "omb_control_number", "federal_register_url", "survey_type", "survey_title",
    "trust_question_text", "volume_of_customers_source",
)  # fmt: skip


FISCAL_YEARS = range(2000, 2201)  # the quarters a report may ask for


def quarter_bounds(fiscal_year: int, quarter: int, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a federal fiscal quarter in a time zone (FY 2027 Q1 = Oct-Dec 2026);
    ValueError for a quarter that is not 1-4 or a fiscal year outside 2000-2200."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1, 2, 3 or 4")
    if fiscal_year not in FISCAL_YEARS:
        raise ValueError("fiscal year must be 2000-2200")
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
    return await store.records_between(start - ZONE_SLACK, end + ZONE_SLACK, service)


def zone_of(services: Mapping[str, Service], service_id: str) -> str:
    """The time zone a service's quarters are cut in."""
    service = services.get(service_id)
    return service.timezone if service else DEFAULT_ZONE


def in_quarter(records: Iterable[ResponseRecord], services: Mapping[str, Service],
               fiscal_year: int, quarter: int) -> list[ResponseRecord]:  # fmt: skip
    """Records that fall in the quarter, in order: a response by when it was received, any
    other survey by its transaction (``bot.response.reported_at``), in each service's zone."""
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


def _cell(value: Any) -> str:
    return "null" if value is None else str(value)


def per_response_csv(records: Iterable[ResponseRecord]) -> str:
    """The OMB upload, as Touchpoints exports it (``Form#to_a11_v2_csv``): exactly the 17
    columns, one row per A-11 v2 response (trust item answered), drivers 1 / 0 / null."""
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


def trust_question_text(flow: Flow, service: Service) -> str:
    """The trust item verbatim, as the service renders it, without the reply instructions
    that follow it in a text message (its first sentence)."""
    question = trust_question(flow)
    if question is None:
        return ""
    template = question.prompt[flow.default_language].split(". ")[0].rstrip(".")
    return render(template, {**service.context(), "provider": service.provider}) + "."


def survey_type(flow: Flow | None) -> str:
    """Touchpoints' ``survey_type`` of a flow: its trust item's scale."""
    question = trust_question(flow) if flow else None
    return "thumbs_up_down" if question and question.scale == "thumbs" else "likert_scale"


def collection_detail(
    records: list[ResponseRecord],
    services: Mapping[str, Service],
    flows: Mapping[str, Flow],
    fiscal_year: int,
    quarter: int,
) -> list[dict[str, Any]]:
    """Per service and reported channel, the quarter's collection detail with Touchpoints'
    field names (``CxCollectionDetail``): the service and survey facts and three volumes."""
    groups: dict[tuple[str, str], list[ResponseRecord]] = defaultdict(list)
    for record in records:
        groups[(record["service_id"], record["reported_channel"])].append(record)
    rows = []
    for (service_id, channel), group in sorted(groups.items()):
        service = services.get(service_id)
        flow = flows.get(service.flow) if service else flows.get(group[0]["flow_id"])
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
                "volume_of_customers_provided_survey_opportunity": sum(map(_delivered, group)),
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


def _customers(
    service: Service | None, fiscal_year: int, quarter: int, channel: str, transactions: int
) -> tuple[int, str]:
    """``volume_of_customers`` and where it comes from: the agency's count in the catalog,
    the transactions reported times the catalog's multiplier, or the transactions reported."""
    if service is not None:
        count = service.customer_volume(fiscal_year, quarter, channel)
        if count is not None:
            return count, "catalog"
        if service.customers_per_transaction is not None:
            # Half up, not Python's half to even: an estimate of people, not a statistic.
            return int(transactions * service.customers_per_transaction + 0.5), "multiplier"
    return transactions, "transactions"


def collection_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The collection detail as CSV: Touchpoints' field names, then where the customer volume
    came from; empty cells for values not set."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLLECTION_COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in COLLECTION_COLUMNS])
    return out.getvalue()


def _positive(flow: Flow | None, value: Any) -> bool | None:
    question = trust_question(flow) if flow else None
    if question is None or not isinstance(value, int):
        return None
    return value >= (question.positive_from or 1)


def scores(records: list[ResponseRecord], flows: Mapping[str, Flow]) -> list[dict[str, Any]]:
    """Per service: percent positive trust, driver shares, rates, sentiment distribution."""
    by_service: dict[str, list[ResponseRecord]] = defaultdict(list)
    for record in records:
        by_service[record["service_id"]].append(record)
    out = []
    for service_id, group in sorted(by_service.items()):
        respondents = [r for r in group if is_respondent(r)]
        delivered = sum(map(_delivered, group))
        branches: dict[str, list[ResponseRecord]] = {"positive": [], "negative": []}
        for r in respondents:
            field = trust_field(r["a11"])
            positive = _positive(flows.get(r["flow_id"]), r["a11"].get(field or ""))
            if positive is not None:
                branches["positive" if positive else "negative"].append(r)
        trust_answers = len(branches["positive"]) + len(branches["negative"])
        drivers: dict[str, dict[str, float | None]] = {}
        for branch, members in branches.items():
            drivers[branch] = {}
            for d in DRIVERS:
                # Among the respondents on this branch whose form offered the driver.
                cells = [v for r in members if (v := r["a11"].get(f"{branch}_{d}")) is not None]
                drivers[branch][d] = round(sum(cells) / len(cells), 4) if cells else None
        sentiment = Counter(
            s["label"] for r in respondents if (s := r.get("sentiment")) is not None
        )
        out.append(
            {
                "service_id": service_id,
                "transactions": len(group),
                "delivered": delivered,
                "respondents": len(respondents),
                "percent_positive": (
                    round(100 * len(branches["positive"]) / trust_answers, 2)
                    if trust_answers
                    else None
                ),
                "trust_answers": trust_answers,
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
    zones = sorted({zone_of(services, r["service_id"]) for r in kept})
    return {
        "fiscal_year": fiscal_year,
        "quarter": quarter,
        "service": service,
        "quarter_cut": {"by": QUARTER_CUT, "time_zones": zones},
        "collection_detail": collection_detail(kept, services, flows, fiscal_year, quarter),
        "scores": scores(kept, flows),
        "v1_counts": v1_counts(kept),
        "per_response_csv": per_response_csv(kept),
    }


def as_table(report: dict[str, Any]) -> str:
    """The report for people: a few aligned columns."""
    lines = [f"A-11 report, fiscal year {report['fiscal_year']} Q{report['quarter']}", ""]
    lines.append(f"{'service':<24}{'channel':<20}{'customers':>10}{'offered':>9}{'resp.':>7}")
    sources = set()
    for row in report["collection_detail"]:
        mark = {"catalog": " ", "multiplier": "*", "transactions": "†"}[
            row["volume_of_customers_source"]
        ]
        sources.add(row["volume_of_customers_source"])
        lines.append(
            f"{row['service_id']:<24}{row['channel']:<20}"
            f"{row['volume_of_customers']:>9}{mark}"
            f"{row['volume_of_customers_provided_survey_opportunity']:>9}"
            f"{row['volume_of_respondents']:>7}"
        )
    if "multiplier" in sources:
        lines.append("  * customers: transactions reported x customers_per_transaction")
    if "transactions" in sources:
        lines.append("  † customers: the transactions reported to the bot (none in the catalog)")
    lines += ["", f"{'service':<24}{'% positive':>11}{'resp. rate':>11}  sentiment"]
    for row in report["scores"]:
        pct = "-" if row["percent_positive"] is None else f"{row['percent_positive']:.1f}"
        rate = "-" if row["response_rate"] is None else f"{100 * row['response_rate']:.1f}%"
        sentiment = ", ".join(f"{k} {v}" for k, v in row["sentiment"].items()) or "-"
        lines.append(f"{row['service_id']:<24}{pct:>11}{rate:>11}  {sentiment}")
    for service_id, counts in sorted(report["v1_counts"].items()):
        lines += [
            "",
            f"A-11 v1 answers, {service_id}",
            "       " + "".join(f"{v:>6}" for v in range(1, 6)),
        ]
        for n in range(1, 12):
            points = [counts[f"q{n}_{v}"] for v in range(1, 6)]
            if any(points):
                lines.append(f"  q{n:<3}" + "".join(f"{p:>6}" for p in points))
    rows = report["per_response_csv"].count("\n") - 1
    cut = report["quarter_cut"]
    lines += [
        "",
        f"OMB per-response CSV: {rows} rows (--format csv; A-11 v2 responses only)",
        f"Quarter: {cut['by']} ({', '.join(cut['time_zones']) or '-'}).",
    ]
    return "\n".join(lines) + "\n"
