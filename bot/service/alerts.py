"""Cases at work: opened from bad responses and crisis messages, posted to staff, claimed,
resolved or dismissed, escalated when nobody claims them, and written to the measures store.

Opening a case touches Redis only; everything that talks to Slack or the store runs as a job
on the work queue, so a web request never waits on it and nothing is lost when Slack is down.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import TypedDict

from bot.core import cases
from bot.core.cases import Case, CaseError
from bot.core.channels import StaffNotifier
from bot.core.records import survey_ref
from bot.core.sinks import ResponseRecord
from bot.service.runtime import Runtime

log = logging.getLogger("bot.alerts")


class CaseRef(TypedDict):
    """The payload of jobs ``case.post``, ``case.escalate`` and ``case.refresh``."""

    ref: str


class CaseAction(TypedDict):
    """The payload of job ``case.act``: a staff member's click on a case."""

    ref: str
    action: str  # one of bot.core.cases.ACTIONS
    user: str
    action_id: str  # the click's own id: a retried job acts once
    where: str  # where to tell the user when the action is refused


def notifier(rt: Runtime) -> StaffNotifier:
    if rt.notifier is None:
        raise CaseError("no staff notifier is configured")
    return rt.notifier


async def open_case(rt: Runtime, ref: str, case: Case) -> bool:
    """Keep a new case and queue its post; False when the reference has a case already."""
    case = {**case, "ref": ref}
    if not await rt.state.create_case(ref, case, ttl=rt.case_ttl):
        return False
    await rt.work.enqueue("case.post", {"ref": ref}, rt.state.shard_of_ref(ref))
    log.info("case opened case=%s reasons=%s", case["case_id"], ",".join(case["reasons"]))
    return True


async def screen_message(
    rt: Runtime, person: str, ref: str | None, service: str | None, channel: str,
    message_id: str, text: str,
) -> None:  # fmt: skip
    """Open a crisis case at once for a message in crisis language."""
    categories = cases.crisis(text)
    if not categories:
        return
    if ref is None:
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:20]
        ref = survey_ref(person, f"m{digest}")
    case_id = ref.partition("/")[2]
    case = cases.from_message(case_id, service, channel, text, categories, rt.clock())
    await open_case(rt, ref, case)


class AlertSink:
    """A sink of response records that opens a case for each response its service's rules
    (or the crisis screen) flag. Opening is idempotent on the survey."""

    name = "alerts"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def write(self, record: ResponseRecord) -> None:
        rt = self.rt
        service = rt.services.get(record["service_id"])
        flow = await rt.flow_for(record["flow_id"], record["flow_version"])
        reasons = cases.alert_reasons(record, flow, service.alerts if service else None)
        if not reasons:
            return
        case = cases.from_response(record, flow, reasons, rt.clock())
        ref = survey_ref(record["respondent"], record["survey_id"])
        if not await open_case(rt, ref, case):
            # A crisis message opened this survey's case already: add what the response says.
            await _merge(rt, ref, case)


async def _merge(rt: Runtime, ref: str, new: Case) -> None:
    def merge(current: Case) -> Case | None:
        if current.get("response_id"):
            return None
        reasons = list(dict.fromkeys([*current["reasons"], *new["reasons"]]))
        merged = current.copy()
        merged.update({"response_id": new["response_id"], "trust": new.get("trust"),
                       "sentiment": new.get("sentiment"), "polarity": new.get("polarity"),
                       "drivers": new.get("drivers", []), "excerpt": new.get("excerpt"),
                       "themes": new.get("themes", []), "reasons": reasons})  # fmt: skip
        return merged

    merged = await rt.state.update_case(ref, merge)
    if merged is not None and merged.get("post"):
        await rt.work.enqueue("case.refresh", {"ref": ref}, rt.state.shard_of_ref(ref))


def _rules(rt: Runtime, case: Case) -> cases.AlertRules:
    """The alert rules of a case's service (the defaults when it has none)."""
    service = rt.services.get(case.get("service") or "")
    return service.alerts if service and service.alerts else cases.AlertRules()


def _where(rt: Runtime, case: Case) -> tuple[str, str]:
    """The alert channel and the escalation target for a case's service."""
    rules = _rules(rt, case)
    channel = rules.channel or rt.settings.slack_alert_channel
    return channel, rules.escalate_to or rt.settings.slack_escalation_target


async def post(rt: Runtime, payload: CaseRef) -> None:
    """Job ``case.post``: post a case once; a crisis is escalated at once, any other case
    gets its escalation timer."""
    ref = payload["ref"]
    case = await rt.state.case(ref)
    if case is None or case.get("post"):
        return
    if rt.notifier is None:  # no Slack: the console (and the digest) is where staff see it
        await _record(rt, case)
        return
    slack = notifier(rt)
    channel, _ = _where(rt, case)
    where = await slack.find_case(case, channel) if case.get("posting") else None
    if where is None:
        await rt.state.update_case(ref, lambda c: {**c, "posting": True})
        where = await slack.post_case(case, channel)
    posted = await rt.state.update_case(
        ref, lambda c: {**c, "posting": False, "post": {"channel": where[0], "ts": where[1]}}
    )
    if posted is None:
        return
    await _record(rt, posted)  # before escalating, which records the case as escalated
    if cases.is_crisis(posted):
        await escalate(rt, {"ref": ref})
    else:
        due = rt.clock() + _rules(rt, posted).escalate_after
        await rt.state.set_timer(f"escalate:{ref}", due.timestamp())


async def act(rt: Runtime, payload: CaseAction) -> None:
    """Job ``case.act``: a staff member claims, resolves or dismisses a case (in Slack)."""
    case, refusal = await apply(rt, payload["ref"], payload["action"], payload["user"],
                                payload["action_id"])  # fmt: skip
    if refusal is not None:
        await notifier(rt).tell(payload["user"], payload.get("where", ""), refusal)
    elif case is not None:
        await notifier(rt).update_case(case)
        await _record(rt, case)


async def apply(
    rt: Runtime, ref: str, action: str, user: str, action_id: str
) -> tuple[Case | None, str | None]:
    """Claim, resolve or dismiss a case, once per ``action_id``: the case as it now is, or
    why the action was refused (None, None when this action was applied before)."""
    now = rt.clock()
    refusal: list[str] = []

    def change(current: Case) -> Case | None:
        if any(h.get("id") == action_id for h in current["history"]):
            return None  # this job ran before a crash: only the side effects are left
        try:
            after = cases.act(current, action, user, now)
        except CaseError as exc:
            refusal.append(str(exc))
            return None
        after["history"][-1]["id"] = action_id
        return after

    case = await rt.state.update_case(ref, change)
    if refusal:
        return None, refusal[0]
    if case is not None:
        log.info("case %s case=%s", action, case["case_id"])
    return case, None


async def escalate(rt: Runtime, payload: CaseRef) -> None:
    """Job ``case.escalate``: tell the escalation target about an unclaimed case, once."""
    ref = payload["ref"]
    case = await rt.state.case(ref)
    now = rt.clock()
    if case is None or cases.escalate(case, now) is None:
        return
    _, target = _where(rt, case)
    await notifier(rt).escalate_case(case, target)
    escalated = await rt.state.update_case(ref, lambda c: cases.escalate(c, now))
    if escalated is not None:
        await notifier(rt).update_case(escalated)
        await _record(rt, escalated)
        log.info("case escalated case=%s", escalated["case_id"])


async def refresh(rt: Runtime, payload: CaseRef) -> None:
    """Job ``case.refresh``: show a case's message as the case now is."""
    case = await rt.state.case(payload["ref"])
    if case is not None and case.get("post"):
        await notifier(rt).update_case(case)
        await _record(rt, case)


async def _record(rt: Runtime, case: Case) -> None:
    if rt.store is not None:
        await rt.store.write_case(cases.outcome(case))


def register(rt: Runtime) -> None:
    """Put the case jobs on the runtime's work queue."""
    for kind, job in (("case.post", post), ("case.act", act), ("case.escalate", escalate),
                      ("case.refresh", refresh)):  # fmt: skip
        rt.work.register(kind, partial(job, rt))


DIGEST_HOURS = 1  # the digest covers the hour before it, once an hour when a case opened


async def digest_due(rt: Runtime) -> datetime | None:
    """The hour whose digest is to go now (its end), once across every worker; None when it
    went already or there is nowhere to send it."""
    if rt.digest is None or rt.store is None:
        return None
    end = rt.clock().replace(minute=0, second=0, microsecond=0)
    return end if await rt.state.first_time("case-digest", end.isoformat(), 2 * 3600) else None


async def send_digest(rt: Runtime, end: datetime) -> dict[str, int]:
    """Post the counts of cases opened in the hour before ``end``, per service, with a link
    to the console's inbox — never a comment, an excerpt or anything a person wrote (GSA
    Touchpoints' ATO forbids response content in notifications). Nothing is posted for an
    hour with no new case. The counts posted."""
    assert rt.digest is not None and rt.store is not None
    start = end - timedelta(hours=DIGEST_HOURS)
    counts = await rt.store.case_counts(start, end)
    if not counts:
        return counts
    names = {s.id: s.name for s in rt.services.values()}
    total = sum(counts.values())
    each = ", ".join(f"{names.get(s, s)} {n}" for s, n in sorted(counts.items()))
    link = f"{rt.settings.public_base_url}/admin/cases"
    text = (f"{total} new {'case' if total == 1 else 'cases'} in the hour to "
            f"{end:%H:%M} UTC: {each}. See them in the console: {link}")  # fmt: skip
    await rt.digest.post({"text": text, "new_cases": counts, "from": start.isoformat(),
                          "to": end.isoformat(), "link": link})  # fmt: skip
    log.info("case digest posted cases=%s", total)
    return counts


def age(case: Case, now: datetime) -> str:
    """How long ago a case was opened, for people."""
    minutes = int((now - datetime.fromisoformat(case["created_at"])).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} d"
