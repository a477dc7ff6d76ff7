"""Who gets surveyed and when: a pure decision for each transaction, with its reason."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.core.catalog import Service
from bot.core.quiet_hours import next_allowed, recipient_zones, state_for_number, window_for
from bot.core.transactions import Transaction


@dataclass(frozen=True)
class Person:
    """What the bot knows of a recipient (by keyed hash) when a transaction arrives."""

    opted_out: frozenset[str] = frozenset()  # consent scopes: all, sender:..., agency:...
    open_survey_service: str | None = None  # a survey scheduled or open on this channel
    last_invited: datetime | None = None
    last_responded: datetime | None = None


@dataclass(frozen=True)
class Limits:
    """Per-person caps across services and channels."""

    after_invitation: timedelta = timedelta(days=30)
    after_response: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class Decision:
    """Scheduled with a send time, or suppressed; always with its reason."""

    status: Literal["scheduled", "suppressed"]
    reason: str
    send_at: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)


def scopes(service: Service, sender: str) -> frozenset[str]:
    """The consent scopes an opt-out may have been recorded under for this service."""
    return frozenset({"all", f"sender:{sender}", f"agency:{service.agency}"})


def sampled(transaction_id: str, rate: float) -> bool:
    """A stable draw per transaction id: a repeat gets the same answer."""
    if rate >= 1:
        return True
    digest = hashlib.sha256(transaction_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def decide(
    txn: Transaction,
    service: Service,
    now: datetime,
    person: Person,
    *,
    sender: str,
    texting: bool,
    limits: Limits = Limits(),
) -> Decision:
    """Decide at once whether to survey a transaction's customer, and when (``texting``: the
    channel's texting rules apply, quiet hours and state windows among them)."""
    if service.paused:
        return Decision("suppressed", "service_paused")
    if service.omb_expired(now):
        return Decision("suppressed", "omb_control_expired")
    if person.opted_out & scopes(service, sender):
        return Decision("suppressed", "opted_out")
    if person.open_survey_service is not None:
        same = person.open_survey_service == service.id
        return Decision("suppressed", "duplicate" if same else "survey_open")
    if person.last_responded and now < person.last_responded + limits.after_response:
        return Decision("suppressed", "frequency_cap")
    if person.last_invited and now < person.last_invited + limits.after_invitation:
        return Decision("suppressed", "frequency_cap")
    if not sampled(txn.transaction_id, service.sample_rate):
        return Decision("suppressed", "not_sampled")
    completed = txn.completed_at or now
    stale_at = completed + service.stale_after
    if stale_at <= now:
        return Decision("suppressed", "stale")
    earliest = max(now, completed + service.delay)
    if not texting:
        return Decision("scheduled", "eligible", earliest)
    state = txn.attributes.get("state") or state_for_number(txn.to)
    window = window_for(str(state) if state else None, service.quiet_hours)
    zones = recipient_zones(txn.timezone, txn.to, texting=True)
    send_at = next_allowed(earliest, zones, window)
    if send_at >= stale_at:
        return Decision("suppressed", "stale", details={"would_send_at": send_at.isoformat()})
    reason = "eligible" if send_at == earliest else "deferred_quiet_hours"
    return Decision("scheduled", reason, send_at, {"zones": ",".join(zones)})
