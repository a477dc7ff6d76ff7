"""What the core needs from a channel adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


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
    question: str | None = None  # a click answers this question only


@dataclass(frozen=True)
class DeliveryStatus:
    """A provider's report on a message it took (a status callback).

    ``failure`` says what a failed delivery means, as ``bot.errors.SendError.kind`` does
    (``opted_out``, ``invalid_address``, ``rejected``, ``unavailable``: it may go later);
    ``address`` is the recipient when the provider names it, so that a carrier opt-out is
    recorded even for a message the bot does not know; ``tag`` is what the bot gave the send
    (``Outbound.send``), handed back: the survey the message belongs to.
    """

    message_id: str
    status: str
    channel: str
    address: str | None = None
    failure: str | None = None
    code: int | None = None
    tag: str | None = None


class Outbound(Protocol):
    """Sends on one or more channels; raises ``bot.errors.SendError`` when it cannot."""

    channels: tuple[str, ...]

    async def send(
        self, channel: str, to: str, text: str, prompt: Prompt | None = None,
        *, tag: str | None = None,
    ) -> Sent:  # fmt: skip
        """Send a message; a channel whose provider reports on it later (status callbacks)
        hands ``tag`` back with each report (``DeliveryStatus.tag``)."""
        ...

    async def find_sent(self, channel: str, to: str, text: str, since: datetime) -> Sent | None:
        """A message with this text already sent to ``to`` since ``since``, if any."""
        ...


@dataclass(frozen=True)
class Prompt:
    """The question a message asks, for channels that can offer buttons and checkboxes.

    ``options`` are (value, label): the value is what a typed reply would say, so a click goes
    through the same parser as a text and yields the same answer.
    """

    question: str
    kind: str  # rating, drivers, choice, text
    options: tuple[tuple[str, str], ...] = ()
    multiple: bool = False
    submit: str = "Submit"


@dataclass(frozen=True)
class Reply:
    """What the core answers to an inbound message: texts, and the question now asked; for a
    click that was not taken, why (for the person alone: nothing was recorded or sent)."""

    messages: tuple[str, ...] = ()
    prompt: Prompt | None = None
    refusal: str | None = None
    duplicate: bool = False  # the message was handled already (``messages``: asked again)


class StaffNotifier(Protocol):
    """Tells staff about cases (Slack); raises ``bot.errors.SendError`` when it cannot."""

    async def post_case(self, case: dict[str, Any], channel: str) -> tuple[str, str]:
        """Post a case; returns where it went: (channel, message ts)."""
        ...

    async def find_case(self, case: dict[str, Any], channel: str) -> tuple[str, str] | None:
        """A post of this case already made (a crash after posting), if any."""
        ...

    async def update_case(self, case: dict[str, Any]) -> None: ...

    async def escalate_case(self, case: dict[str, Any], target: str) -> None: ...

    async def tell(self, user: str, where: str, text: str) -> None:
        """A note only ``user`` sees, in channel ``where`` (or at a response URL)."""
        ...


@dataclass(frozen=True)
class Hooks:
    """What the core offers a channel adapter's routes.

    ``message`` answers at once (inline, as Twilio wants); ``chat`` answers later through the
    work queue and returns None, or, for a click that was not taken (its question already
    answered, its survey closed), why, to tell the person alone.
    """

    message: Callable[[Inbound], Awaitable[Reply]]
    status: Callable[[DeliveryStatus], Awaitable[None]]
    chat: Callable[[Inbound], Awaitable[str | None]]
    case_action: Callable[[str, str, str, str, str], Awaitable[None]]
    command: Callable[[str, str, str], Awaitable[str]]
    enqueue: Callable[[str, dict[str, Any]], Awaitable[None]]
    first_time: Callable[[str, str, int], Awaitable[bool]]
    forget: Callable[[str, str], Awaitable[None]]
