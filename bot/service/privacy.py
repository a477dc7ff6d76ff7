"""Privacy controls: free text kept only ``RETENTION_DAYS``, a person forgotten on request,
and every admin action in the audit log."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.core.flow import Flow
from bot.core.sinks import ResponseRecord
from bot.core.transactions import WHATSAPP_USER, normalise_phone
from bot.service.runtime import Runtime
from bot.store.keys import DAY

log = logging.getLogger("bot.privacy")
PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")
RETENTION_BATCH = 500


def without_free_text(record: ResponseRecord, flow: Flow | None) -> ResponseRecord:
    """A response record past its retention: the free text and every text answer removed
    (the flow's text questions; every text value when the flow is gone), the ratings,
    drivers, choices, dispositions, times and the comment's sentiment kept: counts and scores
    stay computable, the words do not."""
    if flow is not None:
        texts = {q.id for q in flow.questions if q.type == "text"}
    else:
        texts = {k for k, a in record["answers"].items() if isinstance(a.get("value"), str)}
    answers = {k: ({**a, "value": None} if k in texts else a)
               for k, a in record["answers"].items()}  # fmt: skip
    a11 = a11_without_text(record["a11"], flow)
    return {**record, "answers": answers, "a11": a11, "free_text": None}


def a11_without_text(a11: Mapping[str, Any], flow: Flow | None) -> dict[str, Any]:
    """A record's A-11 fields without the person's words (``without_free_text``'s): the
    fields of the flow's text questions (every text value when the flow is gone) None."""
    if flow is not None:
        fields = {q.field for q in flow.questions if q.type == "text" and q.field}
    else:
        fields = {k for k, v in a11.items() if isinstance(v, str)}
    return {k: (None if k in fields else v) for k, v in a11.items()}


async def retention(rt: Runtime, actor: str = "worker") -> int:
    """Remove the free text of every record older than ``RETENTION_DAYS``; how many."""
    if rt.store is None:
        return 0
    cutoff = rt.clock() - timedelta(days=rt.settings.retention_days)
    done = 0
    while batch := await rt.store.with_text_before(cutoff, RETENTION_BATCH):
        for record in batch:
            flow = await rt.flow_for(record["flow_id"], record["flow_version"])
            await rt.store.write(without_free_text(record, flow))
        done += len(batch)
    await rt.store.audit(actor, "retention", None, {"records": done, "cutoff": cutoff.isoformat()})
    log.info("retention: free text removed from %d records older than %s days",
             done, rt.settings.retention_days)  # fmt: skip
    return done


async def retention_due(rt: Runtime) -> bool:
    """Whether today's retention pass is still to run (once a day, whichever worker first)."""
    return await rt.state.first_time("retention", rt.clock().date().isoformat(), 2 * DAY)


def person_of(rt: Runtime, address: str) -> tuple[str, list[str]]:
    """The pseudonym of an address as a person gives it (a phone number in any usual form,
    ``whatsapp:`` numbers and ids, a chat user id), or a pseudonym itself; and the addresses
    the bot may hold for it. ValueError when it is none of these."""
    address = address.strip()
    if PSEUDONYM.match(address):
        return address, []
    bare = address.removeprefix("whatsapp:")
    if WHATSAPP_USER.match(bare):
        return rt.person(bare), [bare]
    phone = normalise_phone(bare)
    if phone is not None:
        return rt.person(phone), [phone]
    if re.fullmatch(r"[A-Za-z0-9._:@-]{1,128}", address):
        return rt.person(address), [address]
    raise ValueError("not a phone number, chat user id or pseudonym")


async def forget(rt: Runtime, address: str, actor: str) -> dict[str, Any]:
    """Forget a person: every response and its cases in the store, every survey, pending
    hand-off, decision and consent entry in Redis but an opt-out (kept as a keyed hash, so
    the person is never texted again), the excerpts of their cases (their alerts are redrawn
    without them). The audit log names the pseudonym, never the address."""
    person, addresses = person_of(rt, address)
    redis_counts, cases = await rt.state.forget_person(person, addresses)
    stored = await rt.store.forget(person) if rt.store is not None else {}
    for ref in cases:
        await rt.work.enqueue("case.refresh", {"ref": ref}, rt.state.shard_of_ref(ref))
    counts = {**redis_counts, **{f"stored_{k}": v for k, v in stored.items()}}
    if rt.store is not None:
        await rt.store.audit(actor, "forget", person, counts)
    log.info("person forgotten person=%s", person)
    return {"person": person, **counts}
