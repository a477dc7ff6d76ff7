"""What the core needs from a channel adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Sent:
    """A message the provider accepted, with the status it reported at once."""

    message_id: str
    status: str


@dataclass(frozen=True)
class Inbound:
    """A verified inbound message, as the core sees it."""

    channel: str
    address: str
    text: str
    message_id: str


class Outbound(Protocol):
    """Sends on one or more channels; raises ``bot.errors.SendError`` when it cannot."""

    channels: tuple[str, ...]

    async def send(self, channel: str, to: str, text: str) -> Sent: ...

    async def find_sent(self, channel: str, to: str, text: str, since: datetime) -> Sent | None:
        """A message with this text already sent to ``to`` since ``since``, if any."""
        ...
