"""The running bot's parts, wired once by the app factory and shared by web and worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.catalog import Service
from bot.channels import Outbound
from bot.flow import Flow
from bot.outbox import Outbox
from bot.pseudonym import pseudonym
from bot.settings import Settings
from bot.sinks import ResponseStore
from bot.state import State

log = logging.getLogger("bot")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Settings, state, flows, services and outbound channels."""

    settings: Settings
    state: State
    flows: dict[str, Flow]
    services: dict[str, Service]
    outbound: dict[str, Outbound] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    store: ResponseStore | None = None
    outbox: Outbox | None = None

    def person(self, address: str) -> str:
        """The pseudonym of an address (phone number or chat id)."""
        return pseudonym(self.settings.pseudonym_key, address)

    def survey_ttl(self, service: Service) -> int:
        """Seconds a survey record is kept: its expiry plus a week for late replies."""
        return int(service.delay.total_seconds() + service.expiry.total_seconds()) + 7 * 86_400
