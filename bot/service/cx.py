"""``/cx``, the staff command (in Slack): scores, open cases and flows for staff; pause and
resume for admins. Answers are Markdown; the notifier's adapter renders them.

Answers that need only memory or Redis come back at once; scores read the measures store,
so they are computed by a job and posted to the command's response URL.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any, TypedDict

from bot.core import reports, trends
from bot.core.a11 import DRIVER_LABELS
from bot.core.theme_figures import ThemeRow
from bot.service import alerts
from bot.service.runtime import Runtime
from bot.service.themes import quarter_themes

USAGE = (
    "**/cx** commands:\n"
    "• `/cx scores [service] [FY2027Q1]`: percent positive trust, response rate, driver shares\n"
    "• `/cx themes <service> [FY2027Q1]`: what its comments were about, with the negative share\n"
    "• `/cx cases`: open cases\n"
    "• `/cx flows`: loaded survey flows and their versions\n"
    "• `/cx pause <service>` / `/cx resume <service>` (admins)"
)
_QUARTER = re.compile(r"^(?:fy)?(\d{4})[-\s]?q([1-4])$", re.IGNORECASE)


class ScoresJob(TypedDict):
    """The payload of job ``cx.scores``."""

    service: str | None
    quarter: list[int]  # [fiscal year, quarter]
    response_url: str  # where the answer goes


def parse_quarter(text: str) -> tuple[int, int] | None:
    """``FY2027Q1``, ``2027Q1`` or ``2027-q1`` as (fiscal year, quarter)."""
    match = _QUARTER.match(text.strip())
    return (int(match[1]), int(match[2])) if match else None


async def command(rt: Runtime, user: str, text: str, response_url: str) -> str:
    """The immediate answer to ``/cx <text>`` from ``user``."""
    words = text.split()
    verb, args = (words[0].lower(), words[1:]) if words else ("help", [])
    if verb in ("pause", "resume"):
        return await _pause(rt, user, verb, args)
    if verb == "flows":
        return flows(rt)
    if verb == "cases":
        return await open_cases(rt)
    if verb == "scores":
        service, quarter, problem = _scores_args(rt, args)
        if problem:
            return problem
        job: ScoresJob = {"service": service, "quarter": quarter, "response_url": response_url}
        await rt.work.enqueue("cx.scores", job)
        return "Working out the scores…"
    if verb == "themes":
        service, quarter, problem = _scores_args(rt, args)
        if problem:
            return problem
        if service is None:
            known = ", ".join(sorted(rt.services))
            return f"Usage: `/cx themes <service> [FY2027Q1]`; services: {known}"
        themes: ScoresJob = {"service": service, "quarter": quarter, "response_url": response_url}
        await rt.work.enqueue("cx.themes", themes)
        return "Counting the themes…"
    return USAGE


async def _pause(rt: Runtime, user: str, verb: str, args: list[str]) -> str:
    if user not in rt.settings.slack_admins:
        return (
            f"Sorry, only the bot's admins can {verb} a service's surveys. "
            "Ask one of them, or see `/cx` for what you can do."
        )
    if len(args) != 1 or args[0] not in rt.services:
        known = ", ".join(sorted(rt.services))
        return f"Usage: `/cx {verb} <service>`; services: {known}"
    service = args[0]
    if rt.library is None:
        return "Services cannot be paused here: the bot runs on its files alone."
    pause = verb == "pause"
    if rt.services[service].paused == pause:
        return f"{service} is already paused." if pause else f"{service} was not paused."
    # A setting like any other (the console's, the API's): kept in the store, audited, and
    # seen by every process within a second.
    await rt.library.change_service(service, {"paused": pause}, f"slack:{user}", action=verb)
    if pause:
        return f"Paused {service}: no new survey invitations until `/cx resume {service}`."
    return f"Resumed {service}: new transactions are surveyed again."


def flows(rt: Runtime) -> str:
    lines = ["**Loaded flows**"]
    for flow in sorted(rt.flows.values(), key=lambda f: f.id):
        users = [s.id for s in rt.services.values() if s.flow == flow.id]
        lines.append(
            f"• `{flow.id}` version `{flow.version}` ({', '.join(flow.languages)})"
            f"{': ' + ', '.join(users) if users else ''}"
        )
    return "\n".join(lines)


async def open_cases(rt: Runtime) -> str:
    cases = await rt.state.open_cases()
    if not cases:
        return "No open cases."
    now = rt.clock()
    lines = [f"**Open cases** ({len(cases)})"]
    for case in cases:
        who = f", claimed by @{case['claimed_by']}" if case.get("claimed_by") else ""
        lines.append(
            f"• `{case['case_id']}` {case.get('service') or 'unknown service'}: "
            f"{', '.join(case['reasons'])} ({case['status']}{who}, {alerts.age(case, now)} old)"
        )
    return "\n".join(lines)


def _scores_args(rt: Runtime, args: list[str]) -> tuple[str | None, list[int], str | None]:
    service: str | None = None
    quarter: tuple[int, int] | None = None
    for arg in args:
        if arg in rt.services:
            service = arg
        elif (parsed := parse_quarter(arg)) is not None:
            if parsed[0] not in reports.FISCAL_YEARS:
                return None, [], f"There is no quarter {arg}: give one like FY2027Q1."
            quarter = parsed
        else:
            return (
                None,
                [],
                f"I don't know `{arg}`: give a service id and/or a quarter like FY2027Q1.",
            )
    if quarter is None:
        quarter = reports.fiscal_quarter(rt.clock(), "America/New_York")
    return service, list(quarter), None


def scores_text(report: dict[str, Any]) -> str:
    """The scores part of a quarterly report, for staff (Markdown)."""
    head = f"**A-11 scores, FY{report['fiscal_year']} Q{report['quarter']}**"
    if not report["scores"]:
        return head + "\nNo responses in this quarter yet."
    lines = [head]
    for row in report["scores"]:
        pct = "-" if row["percent_positive"] is None else f"{row['percent_positive']:.1f}%"
        rate = "-" if row["response_rate"] is None else f"{100 * row['response_rate']:.1f}%"
        lines.append(
            f"• **{row['service_id']}**: trust {pct} positive ({row['trust_answers']} answers), "
            f"response rate {rate} ({row['respondents']} of {row['delivered']} reached)"
        )
        for branch in ("positive", "negative"):
            shares = [
                f"{DRIVER_LABELS.get(d, d)} {100 * v:.0f}%"
                for d, v in row["drivers"][branch].items()
                if v
            ]
            if shares:
                lines.append(f"    {branch} drivers: {', '.join(shares)}")
        lines += [f"    goal, {reports.goal_line(goal)}" for goal in row["goals"]]
    return "\n".join(lines)


async def scores_job(rt: Runtime, payload: ScoresJob) -> None:
    """Job ``cx.scores``: compute a quarter's scores and post them to the response URL."""
    fiscal_year, quarter = payload["quarter"]
    service = payload.get("service")
    if rt.reader is None:
        text = "No measures store is configured."
    else:
        report = await trends.build(
            rt.reader, rt.services, rt.flows, fiscal_year, quarter, service, rt.settings.min_cell
        )
        text = scores_text(report)
    await alerts.notifier(rt).tell("", payload["response_url"], text)


def themes_text(service: str, quarter: tuple[int, int], rows: list[ThemeRow],
                min_cell: int) -> str:  # fmt: skip
    """A service's themes in a quarter, for staff (Markdown): counts under ``min_cell`` are
    not given, as every other count."""
    head = f"**Themes of {service}'s comments, FY{quarter[0]} Q{quarter[1]}**"
    shown = [r for r in rows if r["comments"] is not None]
    hidden = [r["label"] for r in rows if r["comments"] is None]
    lines = [head]
    if not shown:
        lines.append(f"No theme was found in {min_cell} comments or more.")
    for row in shown:
        change = ""
        if row["change"] is not None and row["negative_percent_change"] is not None:
            change = (f" ({row['change']:+d} comments, {row['negative_percent_change']:+.1f} "
                      "points negative from last quarter)")  # fmt: skip
        lines.append(f"• {row['label']}: {row['comments']} comments, "
                     f"{row['negative_percent']:.1f}% negative{change}")  # fmt: skip
    if hidden and shown:
        lines.append(f"Fewer than {min_cell} comments: {', '.join(hidden)}")
    return "\n".join(lines)


async def themes_job(rt: Runtime, payload: ScoresJob) -> None:
    """Job ``cx.themes``: count a service's themes in a quarter (grouped SQL) and post them
    to the response URL."""
    fiscal_year, quarter = payload["quarter"]
    service = payload.get("service") or ""
    if rt.reader is None:
        text = "No measures store is configured."
    else:
        min_cell = rt.settings.min_cell
        found = await quarter_themes(rt.reader, rt.services, fiscal_year, quarter, [service],
                                     min_cell)  # fmt: skip
        text = themes_text(service, (fiscal_year, quarter), found[service], min_cell)
    await alerts.notifier(rt).tell("", payload["response_url"], text)


def register(rt: Runtime) -> None:
    rt.work.register("cx.scores", partial(scores_job, rt))
    rt.work.register("cx.themes", partial(themes_job, rt))
