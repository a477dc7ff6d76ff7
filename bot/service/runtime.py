"""The running bot's parts, wired once by the app factory and shared by web and worker."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.catalog import Service
from bot.core.channels import ChannelKind, Outbound, Poster, StaffNotifier
from bot.core.flow import Flow
from bot.core.library import Library
from bot.core.policy import Limits, scopes
from bot.core.pseudonym import pseudonym
from bot.core.records import SurveyRecord, session_of
from bot.core.session import Session
from bot.core.sinks import ResponseStore
from bot.core.themes import Taxonomy
from bot.core.themes_default import DEFAULT as DEFAULT_THEMES
from bot.core.wording import Interface
from bot.service.library import Live
from bot.settings import Settings
from bot.store.consumers import Health
from bot.store.keys import DAY
from bot.store.outbox import Outbox
from bot.store.state import State
from bot.store.streams import consumer_id
from bot.store.work import WorkQueue

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
    # Where reports, console pages and comment search read: a replica (DATABASE_READ_URL),
    # else the store itself. Writes, and reads that must see them, use ``store``.
    reader: ResponseStore | None = None
    outbox: Outbox | None = None
    consumer: str = field(default_factory=consumer_id)
    notifier: StaffNotifier | None = None
    digest: Poster | None = None  # CASE_DIGEST_WEBHOOK: where the hourly case digest goes
    kinds: Mapping[str, ChannelKind] = field(default_factory=dict)  # every channel known
    library: Live | None = None  # flows and catalog changed at run time (None: the files')
    versions: dict[tuple[str, str], Flow] = field(default_factory=dict)
    work: WorkQueue = field(init=False)
    sending: Health = field(init=False)  # the sender's (the worker's reads of fb:send)

    def __post_init__(self) -> None:
        self.work = WorkQueue(self.state, self.clock, consumer=self.consumer)
        self.sending = Health(f"{self.state.p}:send")
        if self.reader is None:
            self.reader = self.store
        if self.library is not None:
            self.adopt(self.library.library)
            self.library.listeners.append(self.adopt)

    def adopt(self, library: Library) -> None:
        """Run on a library from now on (its pick-up is these three assignments, with no
        await between them, so no request sees half of one library and half of another)."""
        self.flows, self.services, self.versions = library.flows, library.services, library.versions

    def flow_of(self, record: SurveyRecord) -> Flow:
        """The flow a survey runs on: the version it started on (``flow_for`` first, where a
        survey may have begun on another process a moment ago), else its flow's active one."""
        flow = self.versions.get((record["flow_id"], record["flow_version"]))
        return flow or self.flows[record["flow_id"]]

    async def flow_for(self, flow_id: str, version: str) -> Flow | None:
        """The flow version a survey started on; when this process has not loaded it yet (a
        survey begun on another process just after an activation), the library is refreshed
        first. A version never stored (a record from before the library) gets the active."""
        flow = self.versions.get((flow_id, version))
        if flow is None and self.library is not None and await self.library.refresh():
            flow = self.versions.get((flow_id, version))
        return flow or self.flows.get(flow_id)

    def themes_of(self, service_id: str) -> Taxonomy:
        """The taxonomy a service's comments are tagged with (as in force now; the default
        one for a service the catalog no longer has)."""
        service = self.services.get(service_id)
        return service.themes if service else DEFAULT_THEMES

    def consumers(self) -> list[Health]:
        """The health of every consumer of a stream this runtime has (running here or not)."""
        own = [self.sending, self.work.health]
        return [*own, self.outbox.health] if self.outbox is not None else own

    def sender(self, channel: str) -> str:
        """Who sends on a channel, for consent scopes (``ChannelKind.sender``)."""
        kind = self.kinds.get(channel)
        return kind.sender(self.settings) if kind and kind.sender else channel

    def texting(self, channel: str) -> bool:
        """Whether the texting rules apply on a channel (quiet hours, segments, the number's
        time zone)."""
        kind = self.kinds.get(channel)
        return bool(kind and kind.texting)

    def interface(self, channel: str) -> Interface:
        """The kind of interface a person has on a channel, which words how to answer
        (``ChannelKind.interface``; a text message for a channel not known)."""
        kind = self.kinds.get(channel)
        return kind.interface if kind else "text"

    def by_link(self, channel: str) -> bool:
        """Whether people take surveys on a channel by a link (``survey_url``), with no
        address to send to (no reminders, no sender's capacity to share)."""
        kind = self.kinds.get(channel)
        return bool(kind and kind.by_link)

    def survey_url(self, token: str, channel: str = "webchat") -> tuple[str, str]:
        """The public link a token opens on a channel taken by link, and the API's name for it
        (``survey_url`` for web chat, ``voice_url`` for a call: ``ChannelKind.link``)."""
        kind = self.kinds.get(channel)
        name, path = kind.link if kind else ("survey_url", "/s/{token}")
        return name, self.settings.public_base_url + path.format(token=token)

    def scope(self, channel: str) -> str:
        """The consent scope a STOP on this channel records."""
        return f"sender:{self.sender(channel)}"

    def scopes(self, service: Service | None, channel: str) -> frozenset[str]:
        """Every scope whose opt-out forbids sending this service's survey on this channel."""
        if service is None:
            return frozenset({"all", self.scope(channel)})
        return scopes(service, self.sender(channel))

    @property
    def limits(self) -> Limits:
        return Limits(
            after_invitation=timedelta(days=self.settings.invitation_cooldown_days),
            after_response=timedelta(days=self.settings.response_cooldown_days),
        )

    def session(self, record: SurveyRecord) -> Session:
        """A stored survey's session with its service's rendering context and its channel's
        interface."""
        return session_of(record, self.services.get(record["service"]),
                          self.interface(record["channel"]))  # fmt: skip

    def person(self, address: str) -> str:
        """The pseudonym of an address (phone number or chat id)."""
        return pseudonym(self.settings.pseudonym_key, address)

    @property
    def case_ttl(self) -> int:
        """Seconds a case is kept in Redis (its outcome is in the store): 400 days, or the
        retention of free text if shorter (a case holds an excerpt)."""
        return int(min(400.0, self.settings.retention_days) * DAY)

    def survey_ttl(self, service: Service) -> int:
        """Seconds a survey record may stay in Redis at most: its delay and expiry, and a day
        (an ended survey leaves at once; this bounds one a stopped worker never ended)."""
        return int((service.delay + service.expiry).total_seconds()) + DAY

    def idempotency_ttl(self, service: Service) -> int:
        """Seconds a transaction's first decision is kept for repeats: ``IDEMPOTENCY_DAYS``,
        or the service's staleness if longer, so that a repeat arriving later is always
        ``stale`` (its transaction older than the service surveys), never a second survey."""
        days = timedelta(days=self.settings.idempotency_days)
        return int(max(days, service.stale_after).total_seconds()) + 3600
