"""Quarterly A-11 reports (pure) from the store's counts of the response records: how a
quarter is cut, the OMB per-response CSV's lines, the collection-detail volumes, scores, the
legacy v1 count table, and the report as a table for people. The same report worked out from
whole records is the reference the tests hold this one equal to (``tests/reference.py``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot.core import figures, measures
from bot.core.a11 import V2_COLUMNS, trust_question
from bot.core.catalog import Service
from bot.core.csvfile import csv_lines, csv_text
from bot.core.flow import Flow, render
from bot.core.goals import LOWER_IS_BETTER, Quarter, Value, previous_quarters, progress
from bot.core.sinks import QuarterCounts, ResponseStore, Upload, Window

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
TREND = ("trust_positive", "response_rate")  # the measures a report's trend follows


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


def history(fiscal_year: int, quarter: int) -> list[Quarter]:
    """The quarters before this one that goals and trends look back on (none before
    FY 2000)."""
    return [p for p in previous_quarters((fiscal_year, quarter)) if p[0] in FISCAL_YEARS]


def zone_of(services: Mapping[str, Service], service_id: str) -> str:
    """The time zone a service's quarters are cut in."""
    service = services.get(service_id)
    return service.timezone if service else DEFAULT_ZONE


def quarter_windows(
    services: Mapping[str, Service], fiscal_year: int, quarter: int
) -> list[Window]:
    """Where a quarter lies for a store's query: the catalog's services grouped by time zone,
    each group with the quarter's [start, end) in its zone, then (None: any other service, one
    a catalog no longer names) in the default zone. ValueError for a quarter out of range."""
    zones: dict[str, list[str]] = {}
    for service in services.values():
        zones.setdefault(service.timezone, []).append(service.id)
    windows: list[Window] = [
        (tuple(sorted(ids)), *quarter_bounds(fiscal_year, quarter, zone))
        for zone, ids in sorted(zones.items())
    ]
    return [*windows, (None, *quarter_bounds(fiscal_year, quarter, DEFAULT_ZONE))]


def _cell(value: Any) -> str:
    return "null" if value is None else str(value)


def csv_address(fiscal_year: int, quarter: int, service: str | None = None) -> str:
    """Where the API serves a quarter's per-response CSV (of one service): the JSON report
    gives this and the CSV's row count, not the CSV itself (at national volume it is
    tens of megabytes, streamed a page at a time)."""
    query: dict[str, str | int] = {"fiscal_year": fiscal_year, "quarter": quarter, "format": "csv"}
    if service is not None:
        query["service"] = service
    return "/v1/reports/a11?" + urlencode(query)


def upload_header() -> str:
    """The OMB upload's first line: its 17 column names."""
    return csv_lines([V2_COLUMNS])


def upload_lines(responses: Iterable[Upload]) -> str:
    """The OMB upload's lines of these responses (each a respondent: the store's
    ``upload_pages``), every cell through the core's CSV writer: the header and these lines,
    a page at a time, are the quarter's OMB upload as Touchpoints exports it
    (``Form#to_a11_v2_csv``): exactly the 17 columns, one row per A-11 v2 response (trust item
    answered), drivers 1 / 0 / null. Of a respondent's record, ``is_respondent`` is true, so
    the A-11 v2 ones are those with ``question_1``."""
    return csv_lines(_upload_row(u.response_id, u.a11) for u in responses
                     if "question_1" in u.a11)  # fmt: skip


def _upload_row(response_id: str, a11: Mapping[str, Any]) -> list[str]:
    """The id, the trust answer and drivers (``null`` for none), and the comment."""
    return [
        response_id,
        *(_cell(a11.get(c)) for c in V2_COLUMNS[1:-1]),
        a11.get("question_4") or "",
    ]


def trust_question_text(flow: Flow, service: Service) -> str:
    """The trust item verbatim, as the service renders it (its words alone: how to answer is
    added per channel, ``bot.core.wording``)."""
    question = trust_question(flow)
    if question is None:
        return ""
    template = question.prompt[flow.default_language]
    context = {**service.context(), "provider": service.provider}
    if flow.default_language not in question.as_written:
        return render(template, context)
    # A flow in the earlier format says how to answer after its words: its first sentence.
    return render(template.split(". ")[0].rstrip("."), context) + "."


def survey_type(flow: Flow | None) -> str:
    """Touchpoints' ``survey_type`` of a flow: its trust item's scale."""
    question = trust_question(flow) if flow else None
    return "thumbs_up_down" if question and question.scale == "thumbs" else "likert_scale"


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
    return csv_text(COLLECTION_COLUMNS, ([row[c] for c in COLLECTION_COLUMNS] for row in rows))


# --- the report from the store's counts (what every page, report and job uses) ----------
# The bot never reads a quarter's records for its figures: the store counts them
# (``ResponseStore.quarter_counts``) and the functions below make the report of the counts,
# with the decisions of ``bot.core.measures``. ``tests/reference.py`` works the same report
# out from whole records (its ``quarterly_report``, ``collection_detail``, ``scores`` and
# ``v1_counts`` are ``report_of``, ``collection_of``, ``scores_of`` and ``v1_of`` here): it
# is the reference a test holds these equal to, and what a record-level test checks a
# definition with.


def _flow_of_counts(
    service_id: str, counts: QuarterCounts | None, services: Mapping[str, Service],
    flows: Mapping[str, Flow],
) -> Flow | None:  # fmt: skip
    """The flow a service's figures are read against: the catalog's, else the flow of the
    service's first record in the quarter (``QuarterCounts.first_flow``)."""
    service = services.get(service_id)
    if service is not None:
        return flows.get(service.flow)
    return flows.get(counts.first_flow or "") if counts else None


def collection_of(
    counts: Mapping[str, QuarterCounts], services: Mapping[str, Service],
    flows: Mapping[str, Flow], fiscal_year: int, quarter: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """Per service and reported channel, the quarter's collection detail with Touchpoints'
    field names (``CxCollectionDetail``): the service and survey facts and three volumes,
    from the store's counts."""
    volumes: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for service_id, found in counts.items():
        for g in found.groups:
            volume = volumes[(service_id, g.reported_channel)]
            volume[0] += g.count
            volume[1] += g.count if g.offered else 0
            volume[2] += g.count if g.responded else 0
    rows = []
    for (service_id, channel), (transactions, offered, respondents) in sorted(volumes.items()):
        service = services.get(service_id)
        flow = _flow_of_counts(service_id, counts.get(service_id), services, flows)
        customers, source = _customers(service, fiscal_year, quarter, channel, transactions)
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
                "volume_of_customers_provided_survey_opportunity": offered,
                "volume_of_respondents": respondents,
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


EMPTY = QuarterCounts([], [], [], {}, {}, {})  # a service without a record in the quarter


def scores_of(
    counts: Mapping[str, QuarterCounts],
    services: Mapping[str, Service],
    flows: Mapping[str, Flow],
    quarter: Quarter,
    past: Mapping[Quarter, Mapping[str, Mapping[str, Value]]] | None = None,
    only: str | None = None,
    min_cell: int = measures.MIN_CELL,
) -> list[dict[str, Any]]:
    """Per service, from the store's counts: percent positive trust, driver shares, rates,
    sentiment (overall and by language), participation by group, effort, and goals against
    this quarter and the four before (``past``: ``quarter_values`` per earlier quarter)."""
    chosen = dict(counts)
    for known in services.values():  # a service with goals shows them, responses or not
        if known.goals and (only is None or known.id == only):
            chosen.setdefault(known.id, EMPTY)
    out = []
    for service_id, found in sorted(chosen.items()):
        service = services.get(service_id)
        flow = _flow_of_counts(service_id, found, services, flows)
        tally = measures.tally_of_groups(found.groups, flows)
        branches, drivers = measures.drivers_of(found, flows)
        by_language = measures.sentiment_of(found)
        overall: Counter[str] = Counter()
        for per in by_language.values():
            overall.update(per)
        work = measures.effort_of(found, flow)
        values = {earlier: per.get(service_id, {}) for earlier, per in (past or {}).items()}
        values[quarter] = measures.measure_values(tally, work, min_cell)
        out.append(
            {
                "service_id": service_id,
                **headline(tally),
                "branch_respondents": branches,
                "drivers": drivers,
                "sentiment": dict(sorted(overall.items())),
                "sentiment_by_language": by_language,
                "participation": measures.participation_of(
                    found, flows, service.reporting_dimensions if service else (), min_cell
                ),
                "effort": work,
                **goals_and_trend(service, quarter, values, past),
            }
        )
    return out


def headline(tally: measures.Tally) -> dict[str, Any]:
    """A service's score row's counts and rates, with their intervals, from its ``Tally``."""
    return {
        "transactions": tally.transactions,
        "delivered": tally.delivered,
        "respondents": tally.respondents,
        "percent_positive": (
            round(100 * tally.trust_positive / tally.trust_answers, 2)
            if tally.trust_answers
            else None
        ),
        "trust_answers": tally.trust_answers,
        "trust_positive_ci": measures.wilson(tally.trust_positive, tally.trust_answers),
        "response_rate": tally.response_rate,
        "response_rate_ci": measures.wilson(tally.respondents, tally.delivered),
        "offer_rate": (
            round(tally.delivered / tally.transactions, 4) if tally.transactions else None
        ),
    }


def goals_and_trend(
    service: Service | None,
    quarter: Quarter,
    values: Mapping[Quarter, Mapping[str, Value]],
    past: Mapping[Quarter, object] | None,
) -> dict[str, Any]:
    """A score row's goals against ``values`` (this quarter's and the earlier ones'), and its
    trend over the earlier quarters (``past``)."""
    return {
        "goals": progress(service.goals, quarter, values) if service else [],
        "trend": [
            {
                "fiscal_year": fy,
                "quarter": q,
                **{m: values.get((fy, q), {}).get(m, (None, None))[0] for m in TREND},
            }
            for fy, q in sorted(past or {})
        ],
    }


def v1_of(counts: Mapping[str, QuarterCounts]) -> dict[str, dict[str, int]]:
    """Legacy v1 summary per service, from the store's counts: for q1..q11, the count of
    answers at each scale point."""
    table = {}
    for service_id, found in sorted(counts.items()):
        if found.v1:
            table[service_id] = {f"q{n}_{v}": found.v1.get(f"q{n}_{v}", 0)
                                 for n in range(1, 12) for v in range(1, 6)}  # fmt: skip
    return table


def report_of(
    counts: Mapping[str, QuarterCounts],
    services: Mapping[str, Service],
    flows: Mapping[str, Flow],
    fiscal_year: int,
    quarter: int,
    service: str | None = None,
    min_cell: int = measures.MIN_CELL,
    past: Mapping[Quarter, Mapping[str, Mapping[str, Value]]] | None = None,
) -> dict[str, Any]:
    """Everything for one fiscal quarter (optionally one ``service``) from the store's counts
    of the quarter (``quarter_counts``); ``past``, each earlier quarter's ``quarter_values``,
    feeds the goals' history and the trend. Groups with fewer than ``min_cell`` respondents
    are suppressed. The per-response CSV is not in it: its row count and address are."""
    return {
        "fiscal_year": fiscal_year,
        "quarter": quarter,
        "service": service,
        "quarter_cut": {
            "by": QUARTER_CUT,
            "time_zones": sorted({zone_of(services, s) for s in counts}),
        },
        "min_cell": min_cell,
        "methods": measures.methods(min_cell),
        "collection_detail": collection_of(counts, services, flows, fiscal_year, quarter),
        "scores": scores_of(
            counts, services, flows, (fiscal_year, quarter), past, service, min_cell
        ),
        "v1_counts": v1_of(counts),
        "per_response_rows": sum(c.uploads for c in counts.values()),
        "per_response_csv_url": csv_address(fiscal_year, quarter, service),
    }


async def quarter_counts(
    store: ResponseStore, services: Mapping[str, Service], fiscal_year: int, quarter: int,
    service: str | None = None,
) -> dict[str, QuarterCounts]:  # fmt: skip
    """Per service (or ``service`` only), the store's counts of a quarter, cut in each
    service's time zone, broken down by every dimension the catalog declares."""
    declared = sorted({d for s in services.values() for d in s.reporting_dimensions})
    windows = quarter_windows(services, fiscal_year, quarter)
    return await store.quarter_counts(windows, service, declared)


async def quarter_values(
    store: ResponseStore, services: Mapping[str, Service], flows: Mapping[str, Flow],
    quarters: Sequence[Quarter], ids: Sequence[str], min_cell: int = measures.MIN_CELL,
) -> dict[Quarter, dict[str, dict[str, Value]]]:  # fmt: skip
    """Per quarter and per service of ``ids`` (the catalog's) with a record in it, every goal
    measure's value and interval (``measures.measure_values``), from the store's sums of any
    quarters (one query; times only for a service with a goal on one: sorting is their
    cost). What goals look back on, and a trend's series."""
    zones: dict[str, list[str]] = {}
    for service_id in ids:
        zones.setdefault(zone_of(services, service_id), []).append(service_id)
    timed = [i for i in ids if i in services
             and any(g.measure in LOWER_IS_BETTER for g in services[i].goals)]  # fmt: skip
    found = await store.tallies([
        (sorted(members), [quarter_bounds(*q, zone) for q in quarters])
        for zone, members in sorted(zones.items())
    ], timed) if zones and quarters else {}  # fmt: skip
    out: dict[Quarter, dict[str, dict[str, Value]]] = {q: {} for q in quarters}
    for (service_id, index), (groups, cuts) in found.items():
        *_, values = measures.summary(groups, flows, cuts, min_cell)
        out[quarters[index]][service_id] = values
    return out


async def build(
    store: ResponseStore, services: Mapping[str, Service], flows: Mapping[str, Flow],
    fiscal_year: int, quarter: int, service: str | None = None,
    min_cell: int = measures.MIN_CELL, *,
    past: Mapping[Quarter, Mapping[str, Mapping[str, Value]]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A quarter's report (``report_of``) from the store's counts; the goals' four
    quarters before from ``past`` when given (``bot.core.trends.build`` has them from its
    series), else from the store's sums. The per-response CSV is not in it: its row count
    and its address are (``bot.service.exports`` streams it)."""
    counts = await quarter_counts(store, services, fiscal_year, quarter, service)
    if past is None:
        past = {}
        if any(s.goals for s in services.values()):
            earlier = history(fiscal_year, quarter)
            with_goals = [s.id for s in services.values()
                          if s.goals and (service is None or s.id == service)]  # fmt: skip
            past = await quarter_values(store, services, flows, earlier, with_goals, min_cell)
    return report_of(counts, services, flows, fiscal_year, quarter, service, min_cell, past)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _ci(interval: Sequence[float] | None) -> str:
    return "" if not interval else f" ({100 * interval[0]:.1f}-{100 * interval[1]:.1f})"


def goal_line(goal: Mapping[str, Any]) -> str:
    """One goal for people: measure, target, this quarter's value, status, history."""
    name = goal["measure"]

    def show(value: float | None) -> str:
        return "-" if value is None else figures.measure(name, value)

    history = ", ".join(
        f"FY{h['fiscal_year']}Q{h['quarter']} {show(h['value'])}" for h in goal["history"]
    )
    ci = f" ({figures.interval(goal['ci'])})" if goal["ci"] else ""
    most = name in LOWER_IS_BETTER
    return (f"{name.replace('_', ' ')}: {show(goal['value'])}{ci} against "
            f"{'at most' if most else 'at least'} {show(goal['target'])}: {goal['status']}"
            f" (before: {history})")  # fmt: skip


def _measures_table(row: Mapping[str, Any], min_cell: int) -> list[str]:
    lines = ["", f"Participation, {row['service_id']} (95% intervals; * suppressed, fewer than "
             f"{min_cell} respondents; ! non-response flag)",
             f"  {'dimension':<14}{'group':<18}{'trans.':>7}{'deliv.':>7}{'resp.':>6}"
             f"{'resp. rate':>24}{'trust +':>24}"]  # fmt: skip
    for p in row["participation"]:
        if p["suppressed"]:
            rate = trust = "*"
        else:
            rate = _pct(p["response_rate"]) + _ci(p["response_rate_ci"])
            trust = _pct(p["trust_positive"]) + _ci(p["trust_positive_ci"])
        rate += "!" if p["flag"] else ""
        resp = "*" if p["respondents"] is None else p["respondents"]
        lines.append(f"  {p['dimension'][:13]:<14}{p['group'][:17]:<18}{p['transactions']:>7}"
                     f"{p['delivered']:>7}{resp:>6}{rate:>24}{trust:>24}")  # fmt: skip
    e = row["effort"]

    def minutes(value: float | None) -> str:
        return "-" if value is None else f"{value:g} min"

    lines += [
        f"Effort, {row['service_id']}: first reply {minutes(e['first_reply_minutes_p50'])} "
        f"(p90 {minutes(e['first_reply_minutes_p90'])}), completion "
        f"{minutes(e['completion_minutes_p50'])} (p90 {minutes(e['completion_minutes_p90'])}), "
        f"reprompts per completed {e['reprompts_per_completed'] if e['completed'] else '-'}",
        "  reached/answered: "
        + (", ".join(f"{q['id']} {q['answered']}/{q['reached']}" for q in e["questions"]) or "-"),
    ]
    if row["goals"]:
        lines.append(f"Goals, {row['service_id']}:")
        lines += [f"  {goal_line(g)}" for g in row["goals"]]
    if row["sentiment_by_language"]:
        lines.append(f"Sentiment by language, {row['service_id']}: " + "; ".join(
            f"{lang} " + ", ".join(f"{k} {v}" for k, v in counts.items())
            for lang, counts in row["sentiment_by_language"].items()))  # fmt: skip
    return lines


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
    for row in report["scores"]:
        lines += _measures_table(row, report["min_cell"])
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
    cut = report["quarter_cut"]
    lines += [
        "",
        f"OMB per-response CSV: {report['per_response_rows']} rows (--format csv; A-11 v2 "
        "responses only)",
        f"Quarter: {cut['by']} ({', '.join(cut['time_zones']) or '-'}).",
    ]
    return "\n".join(lines) + "\n"
