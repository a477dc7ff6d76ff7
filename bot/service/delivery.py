"""The worker's jobs: send due invitations, run reminder and expiry timers, track statuses."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from bot.core import engine, retry
from bot.core.catalog import Service
from bot.core.channels import DeliveryStatus, Prompt
from bot.core.errors import RetryableError, SendError
from bot.core.quiet_hours import next_allowed, recipient_zones, state_for_number, window_for
from bot.core.records import (
    SurveyRecord,
    end_unless_ended,
    ended_by_session,
    stored,
    stored_session,
)
from bot.core.segments import segment_info
from bot.core.session import stamp
from bot.service import consent
from bot.service.runtime import Runtime
from bot.store.keys import survey_timer
from bot.store.surveys import STATUS_RANK, UNDELIVERABLE

log = logging.getLogger("bot.delivery")

MAX_SEND_ATTEMPTS = 6
LEASE_MARGIN = 5.0  # seconds between a send given up and another worker looking it up


def send_lease(rt: Runtime) -> timedelta:
    """How long after a survey is marked "sending" its send has surely settled: the longest an
    adapter waits for its provider (``TWILIO_SEND_TIMEOUT``; Slack's 10 s), which delivery also
    enforces, and a margin. Another worker looks the send up only after that."""
    return timedelta(seconds=max(rt.settings.twilio_send_timeout, 10.0) + LEASE_MARGIN)


def _zones(record: SurveyRecord) -> tuple[str, ...]:
    # Only a texting channel's surveys are asked for their zones (``Runtime.texting``).
    return recipient_zones(record.get("recipient_timezone"), record["address"], texting=True)


def _window(record: SurveyRecord, service: Service) -> tuple[int, int]:
    state = record.get("attributes", {}).get("state") or state_for_number(record["address"])
    return window_for(str(state) if state else None, service.quiet_hours)


def backoff(attempt: int) -> float:
    """Seconds before send attempt ``attempt + 1``: doubling from 15 s, at most an hour."""
    return retry.backoff(attempt, 15.0, 3600.0)


async def deliver_due(rt: Runtime, limit: int = 100, stop: asyncio.Event | None = None) -> int:
    """Send the invitations that are due; returns how many were handled.

    Due invitations move from the schedule to a stream read by a consumer group, so any
    number of workers share them; an entry is acknowledged only when its send is settled, and
    one a dead worker left behind is taken over after ``STALLED_AFTER_SECONDS``. Up to
    ``SEND_CONCURRENCY`` sends are in flight at once (a provider that hangs costs one timeout
    per batch, not per message), all within the sender's token bucket. When ``stop`` is set
    the sends in hand are finished and the rest are left unacknowledged for another worker.
    """
    await rt.state.pump_due(rt.clock().timestamp())
    stalled_ms = int(rt.settings.stalled_after * 1000)
    entries = await rt.state.take_sends(rt.consumer, count=limit, stalled_ms=stalled_ms)
    rt.sending.read(rt.clock())
    slots = asyncio.Semaphore(rt.settings.send_concurrency)
    handled = 0

    async def one(entry_id: str, ref: str) -> None:
        nonlocal handled
        async with slots:
            if stop is not None and stop.is_set():
                return
            await deliver(rt, ref)
            await rt.state.done_send(ref, entry_id)
            rt.sending.read(rt.clock())  # a long batch is progress, not a stall
            handled += 1

    async with asyncio.TaskGroup() as group:
        for entry_id, ref in entries:
            group.create_task(one(entry_id, ref))
    return handled


async def throttle(rt: Runtime, channel: str, text: str, *, call: bool = False) -> None:
    """Wait for the sender's capacity: a token bucket in segments per second, in Redis, shared
    by every worker (none on a channel taken by link: nothing is sent), or, for a ``call``
    (a call-back), in calls per second (``VOICE_CALL_RATE``), a bucket of its own."""
    if call:
        rate = rt.settings.voice_call_rate
        while wait := await rt.state.take_capacity(f"call:{rt.sender(channel)}", 1, rate, 1.0):
            await asyncio.sleep(wait)
        return
    if rt.by_link(channel):
        return
    segments = segment_info(text).segments
    rate, burst = rt.settings.send_rate, rt.settings.send_burst
    while wait := await rt.state.take_capacity(rt.sender(channel), segments, rate, burst):
        await asyncio.sleep(wait)


def calls_back(rt: Runtime, channel: str, service: Service) -> bool:
    """Whether the bot reaches the person itself on a channel taken by link (a call-back):
    only where the service's catalog entry allows it."""
    return rt.by_link(channel) and service.call_back


async def deliver(rt: Runtime, ref: str, *, opened: bool = False) -> None:
    """Send one invitation, at most once; or, ``opened``, start a survey whose link the person
    has just opened (nothing to send, whatever the hour: the person is there)."""
    state = rt.state
    record = await state.survey(ref)
    if record is None or record["status"] not in ("scheduled", "sending"):
        return
    if opened and record["status"] != "scheduled":
        return
    now = rt.clock()
    channel, address = record["channel"], record["address"]
    outbound = rt.outbound.get(channel)
    if outbound is None:
        await _end(rt, ref, "undeliverable", "channel_unavailable")
        return
    service = rt.services[record["service"]]
    await rt.flow_for(record["flow_id"], record["flow_version"])  # loaded, if just activated
    try:
        opted_out = await consent.opted_out(rt, record["person"], rt.scopes(service, channel))
    except RetryableError:  # Redis cannot tell (being restored) and the store is away
        await state.schedule(ref, now.timestamp() + backoff(record.get("send_attempts", 0)))
        return
    if opted_out:
        await _end(rt, ref, "suppressed", "opted_out")
        return
    if record["status"] == "scheduled" and service.paused:
        await _end(rt, ref, "suppressed", "service_paused")
        return
    # The person waits for nothing on a link not yet opened: the link is there when they
    # come, and the bot reaches them itself only where the service allows it (a call-back).
    call = calls_back(rt, channel, service) and not opened
    if rt.by_link(channel) and not call and not opened:
        opened = True
    if record["status"] == "scheduled" and (rt.texting(channel) or call) and not opened:
        # Late (a retry, a backlog): the quiet hours are checked again at the moment of sending.
        allowed = next_allowed(now, _zones(record), _window(record, service))
        if allowed > now:
            stale_at = datetime.fromisoformat(record["completed_at"]) + service.stale_after
            if allowed >= stale_at:
                await _end(rt, ref, "suppressed", "stale")
            else:
                await state.schedule(ref, allowed.timestamp())
            return

    if record["status"] == "sending":
        # A send was marked under way: its worker may have died, or may still be on it (a long
        # batch lets another take the entry over). Until the send must have settled, leave it
        # to that worker: a lookup now could miss a request still on its way, and send twice.
        settled = datetime.fromisoformat(record["sending_since"]) + send_lease(rt)
        if now < settled:
            await state.schedule(ref, settled.timestamp())
            return
        since = datetime.fromisoformat(record["sending_since"]) - timedelta(minutes=1)
        try:
            found = await outbound.find_sent(channel, address, record["pending"], since)
        except SendError:
            await state.schedule(ref, now.timestamp() + backoff(record.get("send_attempts", 0)))
            return
        if found is not None:
            await _activated(rt, ref, found.message_id, found.status)
            return
        text, session = record["pending"], record["session"]
        prompt = engine.prompt(rt.flow_of(record), rt.session(record))
        await throttle(rt, channel, text, call=call)
        taken_from = record.get("sending_by")

        def taken(current: SurveyRecord) -> bool:  # still the send that was looked up
            return current["status"] == "sending" and current.get("sending_by") == taken_from
    else:
        flow = rt.flow_of(record)
        step = engine.start(
            flow,
            now=now,
            context={**service.context(), "attributes": record.get("attributes", {})},
            language=record["language"],
            ttl=service.expiry,
            offered_drivers=service.drivers,
            interface=rt.interface(channel),
        )
        text, session = "\n".join(step.messages), stored(step.session)
        prompt = engine.prompt(flow, step.session)
        # Capacity first: the survey is marked sending only just before the call, so another
        # worker that takes the entry over meanwhile finds it still scheduled.
        if not opened:
            await throttle(rt, channel, text, call=call)

        def taken(current: SurveyRecord) -> bool:
            return current["status"] == "scheduled"

    # Only the worker whose mark is on the record sends: two that read it at once both see it
    # as theirs to take, and the compare-and-set lets one of them write its mark.
    mark = secrets.token_hex(8)

    def sending(current: SurveyRecord) -> SurveyRecord | None:
        if not taken(current):
            return None
        current.update(
            {"status": "sending", "sending_since": stamp(rt.clock()), "sending_by": mark,
             "pending": text, "session": session}
        )  # fmt: skip
        return current

    updated = await state.update_survey(ref, sending)
    if updated is None or updated.get("sending_by") != mark:
        return

    if opened:  # the person is there: nothing goes out
        await _activated(rt, ref, f"{channel}-opened-{secrets.token_hex(8)}", "delivered")
        return
    try:
        async with asyncio.timeout(send_lease(rt).total_seconds() - LEASE_MARGIN):
            sent = await outbound.send(channel, address, text, prompt, tag=ref)
    except TimeoutError:
        await _send_failed(rt, ref, updated, SendError("no answer in time", kind="unknown"))
        return
    except SendError as exc:
        await _send_failed(rt, ref, updated, exc)
        return
    await _activated(rt, ref, sent.message_id, sent.status)


async def _activated(rt: Runtime, ref: str, message_id: str, status: str) -> None:
    now = rt.clock()

    def active(current: SurveyRecord) -> SurveyRecord | None:
        if current["status"] != "sending":
            return None
        # what only sending needed
        for gone in ("pending", "sending_since", "sending_by", "send_at"):
            cast(dict[str, Any], current).pop(gone, None)
        current.update({"status": "active", "invited_at": stamp(now)})
        # Twilio sends no callback for a message's first status (the send's answer, queued or
        # accepted: callbacks then move it on); a chat API may answer with delivery (Slack).
        if status == "delivered":
            current.update({"delivery": STATUS_RANK[status], "delivered_at": stamp(now)})
        current["message_ids"] = [message_id]
        reminder = rt.services[current["service"]].reminder
        expires = datetime.fromisoformat(current["session"]["expires_at"])
        # A survey taken by link has no address to remind: it only expires.
        if now + reminder < expires and not rt.by_link(current["channel"]):
            current["remind_at"] = int((now + reminder).timestamp())
        return current

    record = await rt.state.update_survey(ref, active)
    if record is None or record["status"] != "active":
        return
    await rt.state.set_timer(survey_timer(ref), _next_due(record))
    log.info("invitation sent survey=%s channel=%s", record["survey_id"], record["channel"])


async def _send_failed(rt: Runtime, ref: str, record: SurveyRecord, exc: SendError) -> None:
    log.warning("send failed survey=%s kind=%s code=%s", record["survey_id"], exc.kind, exc.code)
    if exc.kind == "opted_out":
        await _carrier_opt_out(rt, ref, record)
        return
    if not exc.retryable:
        await _end(rt, ref, "undeliverable", exc.kind)
        return
    attempts = int(record.get("send_attempts", 0)) + 1
    if attempts >= MAX_SEND_ATTEMPTS:
        await _end(rt, ref, "undeliverable", "send_attempts_exhausted")
        return

    def retry(current: SurveyRecord) -> SurveyRecord | None:
        current["send_attempts"] = attempts
        if exc.kind != "unknown":  # it surely did not go: start over; else look it up first
            current["status"] = "scheduled"
        return current

    await rt.state.update_survey(ref, retry)
    await rt.state.schedule(ref, rt.clock().timestamp() + backoff(attempts))


async def _carrier_opt_out(rt: Runtime, ref: str, record: SurveyRecord) -> None:
    # The carrier has the number opted out (Twilio 21610): as binding as a STOP.
    scope = rt.scope(record["channel"])
    await consent.opt_out(rt, record["person"], scope, "carrier", record["channel"])
    await _end(rt, ref, "opted_out", "carrier_opt_out")


async def _end(rt: Runtime, ref: str, disposition: str, reason: str) -> None:
    now = rt.clock()
    await rt.state.update_survey(ref, lambda r: end_unless_ended(r, now, disposition, reason))


async def run_timers(rt: Runtime, limit: int = 100) -> int:
    """Fire the timers that are due (a survey's reminder or expiry, a case's escalation);
    returns how many fired."""
    members = await rt.state.claim_timers(rt.clock().timestamp(), limit)
    for member in members:
        try:
            kind, _, ref = member.partition(":")
            if kind in ("survey", "remind", "expire"):  # the last two: set by earlier versions
                await _survey_timer(rt, ref)
            elif kind == "escalate":  # Slack work belongs on the work queue, with retries
                await rt.work.enqueue("case.escalate", {"ref": ref}, rt.state.shard_of_ref(ref))
        finally:
            await rt.state.finish_timer(member)
    return len(members)


def _next_due(record: SurveyRecord) -> float:
    """When an active survey's timer is next due: its reminder, if one is still to come, else
    its expiry."""
    expires = datetime.fromisoformat(record["session"]["expires_at"]).timestamp()
    remind = record.get("remind_at")
    return min(expires, float(remind)) if remind else expires


async def _survey_timer(rt: Runtime, ref: str) -> None:
    """A survey's one timer: expire it when its time has come, else send the reminder that is
    due, then wait for what is next."""
    record = await rt.state.survey(ref)
    if record is None or record["status"] != "active":
        return
    now = rt.clock()
    if now.timestamp() >= datetime.fromisoformat(record["session"]["expires_at"]).timestamp():
        await _expire(rt, ref)
        return
    remind = record.get("remind_at")
    if remind and now.timestamp() >= float(remind):
        record = await _remind(rt, ref, record, now)
    if record is not None and record["status"] == "active":
        await rt.state.set_timer(survey_timer(ref), _next_due(record))


async def _remind(
    rt: Runtime, ref: str, current: SurveyRecord, now: datetime
) -> SurveyRecord | None:
    """The one reminder, to someone who has not replied, checked against the quiet hours and
    holidays when it fires, as an invitation is: deferred to the next allowed moment, or
    dropped when that would come after the survey has expired. Returns the record as it now
    is."""
    later: datetime | None = None  # deferred to then by the quiet hours
    dropped = False  # deferred past the survey's expiry
    if rt.texting(current["channel"]) and not current.get("first_reply_at"):
        service = rt.services[current["service"]]
        allowed = next_allowed(now, _zones(current), _window(current, service))
        if allowed > now:
            if allowed < datetime.fromisoformat(current["session"]["expires_at"]):
                later = allowed
            else:
                dropped = True
                log.info("reminder dropped: quiet hours until expiry survey=%s",
                         current["survey_id"])  # fmt: skip
    texts: list[str] = []
    prompts: list[Prompt | None] = []

    def remind(current: SurveyRecord) -> SurveyRecord | None:
        texts.clear()
        if current["status"] != "active" or not current.get("remind_at"):
            return None
        if later is not None:
            current["remind_at"] = int(later.timestamp())
            return current
        del current["remind_at"]  # one reminder at most, sent or not
        if dropped or current.get("first_reply_at"):
            return current
        flow = rt.flow_of(current)
        step = engine.remind(flow, rt.session(current), now)
        if step.messages:
            texts[:] = step.messages
            prompts[:] = [engine.prompt(flow, step.session)]
            current["session"] = stored(step.session)
        return current

    record = await rt.state.update_survey(ref, remind, current)
    if record is None or not texts:
        return record
    service = rt.services[record["service"]]
    try:
        opted_out = await consent.opted_out(rt, record["person"],
                                            rt.scopes(service, record["channel"]))  # fmt: skip
    except RetryableError:  # neither Redis (being restored) nor the store can tell: none sent
        return record
    if opted_out:
        return record
    outbound = rt.outbound.get(record["channel"])
    if outbound is None:
        return record
    text = "\n".join(texts)
    await throttle(rt, record["channel"], text)
    try:
        await outbound.send(record["channel"], record["address"], text, prompts[0])
    except SendError as exc:
        # One reminder at most: a failed one is not retried.
        log.warning("reminder failed survey=%s kind=%s", record["survey_id"], exc.kind)
    return record


async def _expire(rt: Runtime, ref: str) -> None:
    now = rt.clock()

    def expire(current: SurveyRecord) -> SurveyRecord | None:
        if current["status"] != "active":
            return None
        session = stored_session(current)
        if now < session.expires_at:  # a timer left from an earlier send of this survey
            return None
        flow = rt.flow_of(current)
        step = engine.expire(flow, session, now)
        return ended_by_session(current, step.session, now)

    await rt.state.update_survey(ref, expire)


async def on_status(rt: Runtime, report: DeliveryStatus) -> None:
    """A provider's status callback for an invitation: its status moves forward, never
    backwards; a final failure acts.

    A carrier opt-out is recorded for its recipient even when the message is not one of ours
    (sent before a restore, or by another system on the same number). An invitation that
    failed for a passing reason (a rate limit, an unreachable handset) is sent again later;
    one that failed for good ends the survey as undeliverable. Reports on other messages (a
    reminder), or on surveys that have ended, change nothing.
    """
    state = rt.state
    ref = report.tag
    record = await state.survey(ref) if ref else None
    if report.failure == "opted_out":
        person = record["person"] if record else (
            rt.person(report.address) if report.address else None
        )  # fmt: skip
        if person is not None:
            await consent.opt_out(rt, person, rt.scope(report.channel), "carrier", report.channel)
        if ref and record:
            await _end(rt, ref, "opted_out", "carrier_opt_out")
        return
    rank = STATUS_RANK.get(report.status)
    if ref is None or record is None or rank is None:
        return
    moved: list[bool] = []

    def forward(current: SurveyRecord) -> SurveyRecord | None:
        moved.clear()
        invitation = current.get("message_ids", [None])[:1] == [report.message_id]
        if not invitation or current["status"] != "active" or rank <= current.get("delivery", -1):
            return None
        moved.append(True)
        current["delivery"] = rank
        if report.status == "delivered":
            current.setdefault("delivered_at", stamp(rt.clock()))
        return current

    updated = await state.update_survey(ref, forward, record)
    if not moved or updated is None:
        return
    if report.status in UNDELIVERABLE and not updated.get("first_reply_at"):
        if report.failure == "unavailable":
            await _send_again(rt, ref, updated)
        else:
            await _end(rt, ref, "undeliverable", report.status)


async def _send_again(rt: Runtime, ref: str, record: SurveyRecord) -> None:
    """An invitation the provider took but could not deliver for a passing reason: schedule
    it again (its timer dropped), unless it has been tried enough."""
    attempts = int(record.get("send_attempts", 0)) + 1
    if attempts >= MAX_SEND_ATTEMPTS:
        await _end(rt, ref, "undeliverable", "send_attempts_exhausted")
        return

    def again(current: SurveyRecord) -> SurveyRecord | None:
        if current["status"] != "active" or current.get("first_reply_at"):
            return None
        for gone in ("session", "invited_at", "delivered_at", "delivery", "remind_at"):
            cast(dict[str, Any], current).pop(gone, None)
        # The next send is the invitation: a late report on this one changes nothing.
        current.update({"status": "scheduled", "send_attempts": attempts, "message_ids": []})
        return current

    updated = await rt.state.update_survey(ref, again)
    if updated is None or updated["status"] != "scheduled":
        return
    await rt.state.clear_timers(ref)
    await rt.state.schedule(ref, rt.clock().timestamp() + backoff(attempts))


async def recover(rt: Runtime) -> int:
    """Requeue timers whose worker died (invitations are taken over from the stream)."""
    now = rt.clock().timestamp()
    return await rt.state.recover_stalled_timers(now - rt.settings.stalled_after, now)
