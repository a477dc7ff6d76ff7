"""What the console's pages show, worked out from the runtime (the report, cases, queues),
and the helpers its templates use (figures as words, charts as server-rendered SVG)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from markupsafe import Markup, escape

from bot.core import charts, figures, measures, reports, trends
from bot.core.a11 import DRIVER_LABELS
from bot.core.cases import Case
from bot.core.catalog import Service
from bot.core.flow import Flow, render
from bot.core.goals import Quarter, progress
from bot.core.sinks import Comment, CommentFilter, ResponseRecord, ResponseStore, Upload
from bot.core.theme_figures import ThemeRow
from bot.service import alerts
from bot.service.privacy import a11_without_text, without_free_text
from bot.service.runtime import Runtime
from bot.service.themes import quarter_themes
from bot.web.console.auth import Staff
from bot.wiring import sink_names

HEADERS = {
    # Everything is served from here: no CDN, no inline script (the builder's enhancement is
    # a file of ours), styles from our own file.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
COMMENTS = 20  # the latest comments a service page shows
TREND_TITLES = {  # what each line of a trend is called
    "trust_positive": "Trust", "response_rate": "Response rate",
    "completion_rate": "Completion rate", "completion_minutes_p50": "Median minutes to finish",
    "completion_minutes_p90": "Minutes within which 9 in 10 finish",
    "first_reply_minutes_p50": "Median minutes to the first answer",
    "reprompts_per_completed": "Questions asked again per finished survey",
}  # fmt: skip


GOAL_WORDS = {  # each goal's label, and how its target is written
    "trust_positive": ("Trust: share positive, at least", "share"),
    "response_rate": ("Response rate, at least", "share"),
    "completion_rate": ("Completion rate, at least", "share"),
    "completion_minutes_p50": ("Median minutes to finish, at most", "minutes"),
    "completion_minutes_p90": ("Minutes within which 9 in 10 finish, at most", "minutes"),
    "first_reply_minutes_p50": ("Median minutes to the first answer, at most", "minutes"),
    "reprompts_per_completed": ("Questions asked again per finished survey, at most", "number"),
}


def count(n: int, word: str, words: str | None = None) -> str:
    """A count with its noun: "1 response", "2 responses"."""
    return f"{n} {word if n == 1 else words or word + 's'}"


def question_words(flow: Flow | None, service: Service) -> dict[str, str]:
    """Each question of a service's flow for people: its number and its words (the first
    sentence, the placeholders filled), not its id."""
    if flow is None:
        return {}
    context = service.context()
    out = {}
    for n, q in enumerate(flow.questions, 1):
        text = render(q.prompt.get("en") or next(iter(q.prompt.values()), q.id), context)
        first = re.split(r"(?<=[.?!])\s", text, maxsplit=1)[0]
        out[q.id] = f"{n}. {first if len(first) <= 70 else first[:69] + '…'}"
    return out


# The case inbox's words: statuses, the rules that open cases, how old a case is.
STATUSES = {"received": "new", "claimed": "claimed", "resolved": "resolved",
            "dismissed": "not actionable"}  # fmt: skip
RULES = {"trust_negative": "negative trust answer", "negative_sentiment": "negative comment",
         "driver": "a driver chosen on the negative branch",
         "crisis": "crisis language"}  # fmt: skip
AGES = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}
AGE_WORDS = {"": "any age", "1h": "open over an hour", "1d": "over a day", "7d": "over a week"}


def rule_of(reason: str) -> str:
    """The rule a case's reason comes from (``driver:humanity`` → ``driver``)."""
    return reason.partition(":")[0]


def reason_words(reason: str) -> str:
    """A case's reason for people: ``driver:humanity`` → "driver chosen: Respect"."""
    rule, _, detail = reason.partition(":")
    if rule == "driver":
        return f"driver chosen: {DRIVER_LABELS['en'].get(detail, detail)}"
    if rule == "crisis":
        return f"crisis language ({detail.replace('_', ' ')})"
    return RULES.get(rule, reason.replace("_", " "))


def theme_words(rt: Runtime, case: Mapping[str, Any]) -> str:
    """A case's comment themes under their labels in its service's taxonomy."""
    service = rt.services.get(case.get("service") or "")
    themes = case.get("themes") or []
    if service is None:
        return ", ".join(themes)
    return ", ".join(service.themes.label(t, "en") for t in themes)


def opened(case: Mapping[str, Any]) -> datetime:
    """When a case was opened (for its age)."""
    return datetime.fromisoformat(case["created_at"])


async def lag(rt: Runtime) -> float | None:
    """How far behind the replica that pages read is (seconds; 0: caught up), or None when
    pages read the store itself."""
    if rt.reader is None or rt.reader is rt.store:
        return None
    return await rt.reader.replica_lag()


def behind(seconds: float | None) -> str | None:
    """A lag in words for the page's notice (None: nothing to say)."""
    if not seconds:
        return None
    if seconds < 1.5:
        return "a second"
    if seconds < 90:
        return f"{round(seconds)} seconds"
    return f"{round(seconds / 60)} minutes" if seconds < 5400 else f"{round(seconds / 3600)} hours"


def quarter_of(request: web.Request, rt: Runtime) -> Quarter:
    """The quarter a page shows: ``?fiscal_year=&quarter=`` when valid, else this one."""
    try:
        fiscal_year = int(request.query["fiscal_year"])
        quarter = int(request.query["quarter"])
        reports.quarter_bounds(fiscal_year, quarter, "UTC")
        return fiscal_year, quarter
    except (KeyError, ValueError):
        return reports.fiscal_quarter(rt.clock(), reports.DEFAULT_ZONE)


def as_read_by(staff: Staff, rt: Runtime, records: list[ResponseRecord]) -> list[ResponseRecord]:
    """Records as ``staff`` may read them (``Staff.reads_comments``): those of a service whose
    comments are not theirs to read without the person's words (as retention removes them),
    so no page or download made from them can show any."""
    services, versions, flows = rt.services, rt.versions, rt.flows
    return [
        r if staff.reads_comments(services.get(r["service_id"])) else without_free_text(
            r, versions.get((r["flow_id"], r["flow_version"])) or flows.get(r["flow_id"]))
        for r in records
    ]  # fmt: skip


def uploads_as_read_by(staff: Staff, rt: Runtime, found: list[Upload]) -> list[Upload]:
    """The OMB upload's responses as ``staff`` may read them: ``as_read_by``'s rule, on the
    A-11 fields (the comment's cell empty where the service's comments are not theirs)."""
    services, versions, flows = rt.services, rt.versions, rt.flows
    return [
        u if staff.reads_comments(services.get(u.service_id)) else u._replace(
            a11=a11_without_text(u.a11, versions.get((u.flow_id, u.flow_version))
                                 or flows.get(u.flow_id)))
        for u in found
    ]  # fmt: skip


async def report(rt: Runtime, quarter: Quarter, service: str | None = None) -> dict[str, Any]:
    """The quarter's report from the store's counts (no record is read; no comment is in it:
    the per-response CSV is its own download); its goals' history and each service's
    ``series`` (with ``service``, the report's own ``series`` too) from the store's sums of
    the last eight quarters (``bot.core.trends``)."""
    services, flows, min_cell = rt.services, rt.flows, rt.settings.min_cell
    found = await trends.load(rt.reader, services, flows, quarter, min_cell, service)
    past = trends.past_of(found, services, quarter)
    if rt.reader is None:  # no store: the report of no record (goals still show)
        out = reports.report_of({}, services, flows, *quarter, service, min_cell, past)
    else:
        out = await reports.build(rt.reader, services, flows, *quarter, service, min_cell,
                                  past=past)  # fmt: skip
    trends.attach(out, found, min_cell)
    if service is not None:
        out["series"] = found[service].as_dict(min_cell) if service in found else None
    return out


async def summaries(
    store: ResponseStore | None, services: Mapping[str, Service], flows: Mapping[str, Flow],
    quarter: Quarter, min_cell: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """Per service, the overview's figures for the quarter, its goals with their history and
    its trend over the last eight quarters, from the store's sums (``bot.core.trends``: no
    record is read, so it stays fast at any volume); the keys and values of the report's
    ``scores`` rows that the overview shows, and ``series``."""
    found = await trends.load(store, services, flows, quarter, min_cell)
    earlier = reports.history(*quarter)
    rows = []
    for service_id, service in sorted(services.items()):
        series = found[service_id]
        tally, work, sentiment, _ = series.now
        if not tally.transactions and not service.goals and not any(series.respondents.values()):
            continue  # nothing to show, now or in the quarters before
        values = series.values
        rows.append({
            "service_id": service_id,
            "transactions": tally.transactions,
            "delivered": tally.delivered,
            "respondents": tally.respondents,
            "percent_positive": (round(100 * tally.trust_positive / tally.trust_answers, 2)
                                 if tally.trust_answers else None),
            "trust_positive_ci": measures.wilson(tally.trust_positive, tally.trust_answers),
            "response_rate": tally.response_rate,
            "effort": work,
            "sentiment": sentiment,
            "goals": progress(service.goals, quarter, values),
            "trend": [{"fiscal_year": fy, "quarter": q,
                       **{m: values[(fy, q)][m][0] for m in reports.TREND}}
                      for fy, q in earlier],
            "series": series.as_dict(min_cell),
        })  # fmt: skip
    return rows


def overview_rows(
    rt: Runtime, summary_rows: Sequence[dict[str, Any]], open_cases: Sequence[Case]
) -> list[dict[str, Any]]:
    """Per service in the catalog: its summary (None without data) and open cases."""
    rows = {r["service_id"]: r for r in summary_rows}
    waiting = Counter(c.get("service") for c in open_cases)
    out = []
    for service in sorted(rt.services.values(), key=lambda s: s.name):
        row = rows.get(service.id)
        trust = completion = None
        if row is not None:
            trust = None if row["percent_positive"] is None else row["percent_positive"] / 100
            started = row["effort"]["started"]
            completion = row["effort"]["completed"] / started if started else None
        out.append(
            {
                "service": service,
                "row": row,
                "open_cases": waiting[service.id],
                "trust": trust,
                "completion": completion,
            }
        )
    return out


async def service_page(
    rt: Runtime, quarter: Quarter, service: str, staff: Staff
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """A service's report for the quarter (from the store's counts) and, when ``staff``
    reads its comments, its latest redacted comments, newest first, with their sentiment
    (from the comments table)."""
    report_ = await report(rt, quarter, service)
    if not staff.reads_comments(rt.services.get(service)):
        return report_, None
    found: list[Comment] = []
    if rt.reader is not None:
        windows = tuple(reports.quarter_windows(rt.services, *quarter))
        where = CommentFilter(windows=windows, services=(service,))
        found = await rt.reader.comments(where, limit=COMMENTS)
    return report_, [
        {"text": c["text"], "ended": c["date"][:10], "language": c["language"],
         "sentiment": c["sentiment"] or ""}
        for c in found
    ]  # fmt: skip


async def service_themes(rt: Runtime, quarter: Quarter, service: str) -> list[ThemeRow]:
    """A service's themes in the quarter, from the store's grouped counts (counts under
    MIN_CELL suppressed: every staff member sees them, as the other figures; none without a
    store)."""
    if rt.reader is None:
        return []
    found = await quarter_themes(rt.reader, rt.services, *quarter, [service], rt.settings.min_cell)
    return found[service]


def cases_as_read_by(
    staff: Staff, rt: Runtime, found: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Cases as ``staff`` may read them: the excerpt of a case of a service whose comments
    are not theirs to read removed (``Staff.reads_comments``)."""
    return [
        dict(c) if staff.reads_comments(rt.services.get(c.get("service") or ""))
        else {**c, "excerpt": None, "themes": []}  # themes say what the words were about
        for c in found
    ]  # fmt: skip


async def queues(rt: Runtime) -> list[dict[str, Any]]:
    """The outbox (records on their way to the sinks) and the work queue, with dead letters'
    kind and error only (never their payload: it may hold a person's data)."""
    out = []
    for name, queue in (("outbox", rt.outbox), ("work", rt.work)):
        if queue is None:
            continue
        status = await queue.status()
        dead = await queue.dead_letters()
        sinks = (
            await rt.outbox.sink_status(sink_names(rt.settings))
            if name == "outbox" and rt.outbox is not None
            else {}
        )
        out.append(
            {
                "name": name,
                "status": status,
                "sinks": sinks,
                "dead": [
                    {
                        "kind": d.get("kind", name),
                        "error": d.get("error", "")[:200],
                        "attempts": d.get("attempts", ""),
                    }
                    for d in dead[:50]
                ],
            }
        )
    return out


def bars(items: Sequence[tuple[str, float | None]], label: str) -> Markup:
    """A horizontal bar chart for sighted readers, as HTML: each label whole on its own line
    (never cut), the value printed beside its bar, in the tables' text size; the data table
    beside it carries the same figures for everyone (so the chart is hidden from assistive
    technology). ``label`` names the chart for its element's title."""
    return grouped_bars([(name, [("", value)]) for name, value in items], label)


def grouped_bars(
    groups: Sequence[tuple[str, Sequence[tuple[str, float | None]]]], label: str
) -> Markup:
    """Bars in groups (``bars``): each group's label once, then a bar per member with its
    value and the member's name beside it (a driver's share this quarter and the one
    before); a member without a value is left out (the table says so)."""
    parts = [f'<ul class="bars" aria-hidden="true" title="{escape(label)}">']
    for name, members in groups:
        parts.append(f'<li><span class="bar-label">{escape(name)}</span>')
        for member, value in members:
            if value is None and member:
                continue
            width = 0 if value is None else round(100 * max(0.0, min(1.0, value)), 1)
            said = f"{figures.pct(value)} {member}".strip()
            parts.append(
                f'<span class="bar-row"><span class="bar-track"><span class="bar-fill" '
                f'style="width: {width}%"></span></span>'
                f'<span class="bar-value">{escape(said)}</span></span>'
            )
        parts.append("</li>")
    parts.append("</ul>")
    return Markup("".join(parts))


def trend_figures(series: Mapping[str, Any] | None, key: str,
                  goals: Sequence[Any] = ()) -> Markup:  # fmt: skip
    """A service's trend: per line (trust, response rate, each goal's measure) its chart and
    table (``bot.core.charts.trend_figure``), a goal's target drawn on its measure's chart."""
    if not series:
        return Markup("")
    targets = {g.measure: g.target for g in goals}
    return Markup("".join(
        charts.trend_figure(f"{key}-{measure}", TREND_TITLES.get(measure, measure), measure,
                            points, targets.get(measure))
        for measure, points in series["lines"].items()
    ))  # fmt: skip


def change(value: float | None) -> str:
    """A share's change between two quarters in percentage points ("+4.2 points")."""
    if value is None:
        return "–"
    return "no change" if value == 0 else f"{100 * value:+.1f} points".replace("-", "−")


def driver_change(
    branch: Mapping[str, Any], quarters: tuple[str, str]
) -> list[tuple[str, list[tuple[str, float | None]]]]:
    """A branch's drivers this quarter and the quarter before, as grouped bars: per driver
    its share in each quarter, labelled with the quarter."""
    labels = DRIVER_LABELS["en"]
    return [
        (labels.get(r["driver"], r["driver"]),
         [(quarters[0], r["now"]), (quarters[1], r["before"])])
        for r in branch["rows"]
    ]  # fmt: skip


def driver_shares(shares: dict[str, float | None]) -> list[tuple[str, float | None]]:
    """A branch's driver shares under their labels, the drivers the form offered only."""
    labels = DRIVER_LABELS["en"]
    return [(labels.get(d, d), v) for d, v in shares.items() if v is not None]


# The audit page: what each action is called for people, and the filters it offers.
ACTIONS = {
    "flow.": "flows: kept or activated",
    "flow.upload": "a flow version kept",
    "flow.activate": "a flow version activated (or rolled back to)",
    "service.": "services' settings: changed, paused, resumed, restored",
    "case.": "cases: claimed, resolved, not actionable",
    "console.sign-in": "console sign-ins",
    "report": "report downloads",
    "replay": "dead letters replayed",
    "forget": "people forgotten",
    "retention": "retention passes",
}
AUDIT_PAGE = 50
DONE = {  # each action as the audit page says it
    "flow.upload": "flow version kept", "flow.activate": "flow version activated",
    "service.change": "settings changed", "service.pause": "surveys paused",
    "service.resume": "surveys resumed", "service.restore": "settings restored",
    "case.claim": "case claimed", "case.resolve": "case resolved",
    "case.dismiss": "case marked not actionable", "console.sign-in": "signed in",
    "report": "report downloaded", "replay": "dead letters replayed",
    "forget": "person forgotten", "retention": "retention pass",
}  # fmt: skip


def audit_link(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """Where an audit entry's change can be seen: a flow's diff or version, a service's
    settings history, the cases (label, path); None for what has no page."""
    action, target, details = entry["action"], entry.get("target") or "", entry["details"]
    if action == "flow.activate" and details.get("before") and details.get("after"):
        return ("the difference", f"/admin/flows/{target}/diff?from={details['before']}"
                f"&to={details['after']}")  # fmt: skip
    if action == "flow.activate" and details.get("after"):
        return ("the version", f"/admin/flows/{target}/versions/{details['after']}")
    if action == "flow.upload" and details.get("version"):
        return ("the version", f"/admin/flows/{target}/versions/{details['version']}")
    if action.startswith("service."):
        return ("the settings history", f"/admin/services/{target}/settings#change-{entry['id']}")
    if action.startswith("case."):
        return ("the cases", "/admin/cases")
    return None


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


def audit_words(entry: Mapping[str, Any]) -> str:
    """What an audit entry changed, in a line (never a person's data: the log holds none)."""
    action, details = entry["action"], entry["details"]
    if action == "flow.activate":
        before = details.get("before") or "none"
        return f"active version {before} → {details.get('after')}"
    if action == "flow.upload":
        return f"version {details.get('version')} kept"
    if action.startswith("service.") and isinstance(details.get("after"), dict):
        return "; ".join(f"{k}: {_compact(details.get('before', {}).get(k))} → "
                         f"{_compact(v)}" for k, v in details["after"].items())  # fmt: skip
    if action == "report":
        fy, q = details.get("fiscal_year"), details.get("quarter")
        return f"{details.get('format')} for FY{fy} Q{q}"
    return ", ".join(f"{k}: {_compact(v)}" for k, v in details.items())


HELPERS: dict[str, Any] = {
    "pct": figures.pct, "ci": figures.interval, "measure": figures.measure, "bars": bars,
    "age": alerts.age, "driver_shares": driver_shares, "reason_words": reason_words,
    "audit_link": audit_link, "audit_words": audit_words, "count": count, "done": DONE,
    "goal_words": GOAL_WORDS, "behind": behind, "trend_figures": trend_figures,
    "grouped_bars": grouped_bars,
    "driver_change": driver_change, "change": change, "quarter_label": trends.label,
    "driver_label": lambda d: DRIVER_LABELS["en"].get(d, d),
}  # fmt: skip
