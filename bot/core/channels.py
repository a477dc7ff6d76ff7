"""What the core needs from a channel adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from bot.core.a11 import FederalChannel
from bot.core.cases import Case
from bot.core.wording import Interface


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


@dataclass(frozen=True)
class ChannelKind:
    """What the bot knows of a channel without loading its adapter: its name, the federal
    channel name it is reported under, whether the texting rules apply (quiet hours and state
    windows, the phone number's time zone, segment counts), how an address on it is checked
    and normalised, the adapter that serves it (``module:attribute``, a factory taking the
    settings, imported only when the channel is enabled), and the kind of interface a person
    has on it (``interface``: ``text``, ``buttons``, ``web`` or ``voice``), which picks the
    words that say how to answer (``bot.core.wording``).

    Channels are registered in one place (``bot.registry``): the built-in ones by a line
    there, others by a package's entry point in the group ``feedback_bot.channels``.
    """

    name: str
    reported: FederalChannel
    texting: bool
    address: Callable[[str], str | None]
    address_hint: str
    adapter: str
    interface: Interface
    # The problems of the settings this channel needs (names of what is missing).
    problems: Callable[[Any], list[str]] = lambda settings: []
    # A person may take a survey here by a link alone (``survey_url``): no address to send to.
    by_link: bool = False
    # The API's field naming a survey's link on this channel, and the link's path ({token}).
    link: tuple[str, str] = ("survey_url", "/s/{token}")
    # Who sends on the channel, for the consent scope a STOP records (``sender:<who>``): a
    # number or messaging service shared by channels (Twilio's), else the channel itself.
    sender: Callable[[Any], str] | None = None


def by_interface(kinds: Mapping[str, ChannelKind]) -> dict[Interface, list[str]]:
    """The channels of each kind of interface, by name (``{"text": ["sms", "whatsapp"]}``)."""
    found: dict[Interface, list[str]] = {}
    for name in sorted(kinds):
        found.setdefault(kinds[name].interface, []).append(name)
    return found


class Outbound(Protocol):
    """Sends on one or more channels; raises ``bot.core.errors.SendError`` when it cannot."""

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
    through the same parser as a text and yields the same answer; a label is words (a thumbs
    rating's are "Yes" and "No": each channel draws its own icons, by ``scale``).
    """

    question: str
    kind: str  # rating, drivers, choice, text
    scale: str = ""  # a rating's: thumbs or five_point
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


@dataclass(frozen=True)
class Live:
    """A survey taken live on a link (a call): what to say now (the intro and a question, a
    reprompt, the closing), the language it is said in, and the question now asked (None: the
    survey has ended, the session ends too)."""

    messages: tuple[str, ...]
    language: str
    prompt: Prompt | None = None


@dataclass(frozen=True)
class Turn:
    """One message of a conversation as a page shows it: the bot's, or the person's answer."""

    who: Literal["bot", "person"]
    text: str


@dataclass(frozen=True)
class ChatView:
    """A survey as a page shows it (web chat): what was said so far, the question now asked
    (None once it has ended), and, for an answer that was not taken, why. ``state`` is
    ``open``, ``ended`` (just now: ``turns`` end with the closing message) or ``closed`` (it
    ended or expired before; ``turns`` say so)."""

    state: Literal["open", "ended", "closed"]
    language: str
    title: str
    turns: tuple[Turn, ...]
    question: str = ""  # the text of the question now asked
    prompt: Prompt | None = None
    note: str | None = None
    trial: bool = False  # an admin's test from the console: the page says nothing is recorded


class Poster(Protocol):
    """Somewhere a JSON message is posted (the case digest's incoming webhook)."""

    async def post(self, payload: Mapping[str, Any]) -> None:
        """Post it; raise on failure (a connection that fails, a status that is not 2xx)."""


@runtime_checkable
class StaffNotifier(Protocol):
    """Tells staff about cases (Slack); raises ``bot.errors.SendError`` when it cannot."""

    async def post_case(self, case: Case, channel: str) -> tuple[str, str]:
        """Post a case; returns where it went: (channel, message ts)."""
        ...

    async def find_case(self, case: Case, channel: str) -> tuple[str, str] | None:
        """A post of this case already made (a crash after posting), if any."""
        ...

    async def update_case(self, case: Case) -> None: ...

    async def escalate_case(self, case: Case, target: str) -> None: ...

    async def tell(self, user: str, where: str, text: str) -> None:
        """A note only ``user`` sees, in channel ``where`` (or at a response URL)."""
        ...


class Core(Protocol):
    """What the core offers a channel adapter's routes (the adapter converts, the core acts).

    ``message`` answers at once (inline, as Twilio wants); ``chat`` answers later through the
    work queue and returns None, or, for a click that was not taken (its question already
    answered, its survey closed), why, to tell the person alone.
    """

    async def message(self, msg: Inbound) -> Reply: ...

    async def status(self, report: DeliveryStatus) -> None: ...

    async def chat(self, msg: Inbound) -> str | None: ...

    async def case_action(
        self, ref: str, action: str, user: str, action_id: str, where: str
    ) -> None: ...

    async def command(self, user: str, text: str, response_url: str) -> str: ...

    async def enqueue(self, kind: str, payload: Mapping[str, Any]) -> None: ...

    async def first_time(self, kind: str, key: str, ttl: int) -> bool:
        """True the first time ``key`` is seen within ``ttl`` seconds (de-duplication)."""
        ...

    async def forget(self, kind: str, key: str) -> None:
        """Let ``key`` be seen for the first time again (its handling failed)."""
        ...

    async def allow(self, kind: str, key: str, limit: int, window: int) -> bool:
        """True while ``key`` has been seen at most ``limit`` times in ``window`` seconds (a
        rate limit; the key is kept only as a keyed hash)."""
        ...

    async def view(self, token: str) -> ChatView | None:
        """The survey a link's token opens, as a page shows it (None: no such link)."""
        ...

    async def answer(
        self, token: str, text: str, question: str | None, message_id: str
    ) -> ChatView | None:
        """An answer given on a link's page (a click on ``question``, or typed text), and the
        survey as it then is (None: no such link)."""
        ...

    async def take(
        self, holder: str, token: str | None = None, ref: str | None = None
    ) -> Live | None:
        """A live session (a call, ``holder``) takes a survey by its link's token (or, for a
        session the bot itself started, by the survey's reference): the first holder keeps it
        for the survey's life. Returns what to say: the intro and the question the first
        time, the question again after; None when there is no such open survey or another
        session holds it (a link is used once)."""
        ...

    async def say(self, holder: str, text: str, message_id: str) -> Live | None:
        """An answer in the survey a live session holds (parsed as a text's), and what to say
        next (None: the session holds no open survey)."""
        ...

    async def later(self, holder: str) -> Live | None:
        """The answer to the question now asked will come after the session ends (a
        recording's transcription): what to say meanwhile (the closing), the session's end
        leaving the survey open for it (None: the session holds no open survey)."""
        ...

    async def late(self, holder: str, text: str, message_id: str) -> None:
        """The late answer ``later`` announced: taken, then the survey ends with it."""
        ...

    async def leave(
        self, holder: str, ref: str | None, reason: str, disposition: str | None = None
    ) -> None:
        """A live session ended (``reason``: why): the survey it holds, or ``ref``, ends with
        what was answered (partial; expired when nothing was), or with ``disposition`` when
        the person was never surveyed (undeliverable: never reached)."""
        ...


# A job takes its payload (a TypedDict where the adapter declares one; JSON on the queue).
Job = Callable[[Any], Awaitable[None]]


@runtime_checkable
class Channel(Outbound, Protocol):
    """A channel adapter: started and closed with the process, its routes mounted on the app,
    its jobs run by the worker."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def routes(self, core: Core) -> list[Any]:
        """The aiohttp routes it serves (``aiohttp.web.RouteDef``), bound to the core."""
        ...

    def jobs(self) -> dict[str, Job]:
        """Work-queue jobs it runs, by kind (its own slow work: updating a message...)."""
        ...
