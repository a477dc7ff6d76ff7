"""Who gets surveyed and when: a pure decision for each transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.catalog import Service
from bot.transactions import Transaction


@dataclass(frozen=True)
class Decision:
    """Scheduled with a send time, or suppressed with a reason."""

    status: Literal["scheduled", "suppressed"]
    reason: str | None = None
    send_at: datetime | None = None


def decide(
    txn: Transaction,
    service: Service,
    now: datetime,
    *,
    opted_out: bool,
    open_survey_service: str | None,
) -> Decision:
    """Decide at once whether to survey a transaction's customer, and when.

    ``open_survey_service`` is the service of a survey this person already has scheduled or
    open on the same channel, if any: replies could not be told apart, so no second one.
    """
    if service.paused:
        return Decision("suppressed", "service_paused")
    if service.omb_expired(now):
        return Decision("suppressed", "omb_control_expired")
    if opted_out:
        return Decision("suppressed", "opted_out")
    if open_survey_service is not None:
        same = open_survey_service == service.id
        return Decision("suppressed", "duplicate" if same else "survey_open")
    completed = txn.completed_at or now
    if completed + service.expiry <= now:
        return Decision("suppressed", "stale")
    return Decision("scheduled", send_at=max(now, completed + service.delay))
