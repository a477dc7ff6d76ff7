"""What the core needs from the measures store and other sinks of response records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, NotRequired, Protocol, TypedDict

from bot.core.errors import BotError

# Where in time a store's query looks: services (None: any service no other window names) and
# the [start, end) their records are reported in (``reports.quarter_windows``).
Window = tuple[tuple[str, ...] | None, datetime, datetime]


class Decided(TypedDict):
    """The policy's decision, as the record keeps it."""

    status: str
    reason: str | None


class Timestamps(TypedDict):
    """When each step of a survey happened (ISO 8601, UTC), as far as it went."""

    transaction: str
    received: str
    invited: str | None
    delivered: str | None
    first_reply: str | None
    ended: str


class ResponseRecord(TypedDict):
    """What an ended survey becomes in the measures store and every sink (schema
    ``bot/schemas/response-record.v1.json``; a plain dict at run time). ``a11`` holds the
    A-11 fields as Touchpoints names them; ``free_text`` is redacted."""

    schema_version: int
    response_id: str
    survey_id: str
    transaction_id: str
    service_id: str
    flow_id: str
    flow_version: str
    channel: str
    reported_channel: str  # the federal channel name (Touchpoints' service channels)
    language: str
    respondent: str  # the address's pseudonym
    disposition: str
    reason: str | None
    decision: Decided | None
    timestamps: Timestamps
    answers: dict[str, dict[str, Any]]
    a11: dict[str, Any]
    free_text: str | None
    sentiment: dict[str, Any] | None
    attributes: dict[str, Any]
    # The question awaiting a reply when the survey ended (None: none was); records written
    # before it was kept lack it.
    last_question: NotRequired[str | None]
    # The themes of the free text, tagged with the service's taxonomy as it was scored
    # (sorted ids; [] for none); records written before themes were kept lack it.
    themes: NotRequired[list[str]]


class Drivers(TypedDict):
    """The drivers a person chose, on the branch they were shown (None: no driver question
    was reached, as in an A-11 v1 survey)."""

    branch: str | None
    chosen: list[str]


class Comment(TypedDict):
    """A comment as the API, the console and their CSV show it."""

    response_id: str
    date: str  # when the response is reported (ISO 8601, UTC): what places it in a quarter
    service: str
    language: str
    channel: str
    sentiment: str | None
    drivers: Drivers
    themes: list[str]  # its themes' ids, sorted ([] for none)
    text: str  # redacted when it was received


@dataclass(frozen=True)
class CommentFilter:
    """Which comments a request asks for; each field narrows (empty or None: any)."""

    windows: tuple[Window, ...] = ()  # reported in these (a quarter, per service zone)
    services: tuple[str, ...] | None = None  # of these services only
    words: tuple[str, ...] = ()  # holding every one of these words (in English or Spanish)
    sentiment: str | None = None
    language: str | None = None
    channel: str | None = None
    theme: str | None = None  # tagged with this theme (an id of its service's taxonomy)


@dataclass(frozen=True, order=True)
class ThemeCount:
    """How many of a service's comments in a quarter were tagged with a theme, and how many
    of those were negative (the store's grouped count)."""

    service: str
    theme: str
    comments: int
    negative: int


@dataclass(frozen=True)
class TallyGroup:
    """One row of the store's sums: records alike in everything a summary counts by."""

    flow_id: str
    trust_value: int | None
    sentiment: str | None
    offered: bool
    responded: bool
    started: bool
    completed: bool
    count: int
    reprompts: int
    # What participation and the collection detail break them down by (the overview's sums
    # leave them empty: it shows no breakdown).
    language: str = ""
    channel: str = ""
    reported_channel: str = ""


@dataclass(frozen=True)
class DimensionGroup:
    """One row of the store's sums by a declared reporting dimension: records alike in the
    group they fall in (``bot.core.dimensions.group_of``) and in what participation counts.
    Records not stated on a dimension have no row: they are the rest of the service's."""

    dimension: str
    group: str
    flow_id: str
    trust_value: int | None
    offered: bool
    responded: bool
    count: int


@dataclass(frozen=True)
class DriverSums:
    """Respondents alike in flow and trust answer, with each driver field's cells among them
    (``positive_effectiveness`` …): how many are not null, and their sum."""

    flow_id: str
    trust_value: int | None
    count: int
    cells: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class QuarterCounts:
    """Everything a service's quarter figures are worked out from, as the store counts it
    (``ResponseStore.quarter_counts``): no record is read to make it."""

    groups: list[TallyGroup]
    dimensions: list[DimensionGroup]
    drivers: list[DriverSums]
    # offered records per how far they went (``bot.core.measures.progress_key``)
    progress: dict[str, int]
    # A-11 v1 answers: ``q3_4`` -> how many answered 4 to q3; empty: no v1 record
    v1: dict[str, int]
    percentiles: dict[str, float | None]  # first_reply_minutes_p50 …
    # the flow of the service's first record in the quarter (for a service the catalog no
    # longer names; None for the others)
    first_flow: str | None = None
    # the rows of the OMB per-response CSV: respondents with an A-11 v2 trust answer
    # (``question_1``), the ones ``ResponseStore.upload_pages`` reads
    uploads: int = 0


class Upload(NamedTuple):
    """What the OMB upload needs of a response (trust item answered): its id, its A-11
    fields, and what says who may read its comment (its service, its flow's version)."""

    response_id: str
    service_id: str
    flow_id: str
    flow_version: str
    a11: dict[str, Any]


class SinkError(BotError):
    """A sink could not take a record; ``retryable`` says whether to try again later."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Refused(SinkError):
    """The store can never take the record at ``index`` of a batch: the records before it are
    stored (``stored`` of them were new), none after it."""

    def __init__(self, message: str, index: int, stored: int = 0) -> None:
        super().__init__(message, retryable=False)
        self.index = index
        self.stored = stored


@dataclass
class Prepared:
    """Lines of an import made ready for a store to write (each parsed, checked against the
    record's schema and turned into the rows the store keeps), by ``Preparer.prepare``: each
    ready record's ``response_id`` and rows (in the store's own form, which only the store
    reads), and the first line that is not a storable record, if any (its index among the
    lines given, and why): the lines before it are ready, none after it."""

    ids: list[str]
    rows: list[Any]
    bad: tuple[int, str] | None = None
    shape: Any = None  # what the store needs to read ``rows`` (its own business too)


@dataclass(frozen=True)
class Preparer:
    """How a store has an import's lines made ready: ``prepare`` (a module's function of the
    lines, so that it can run in another process) and whether it may (``apart``: it needs
    nothing of this process, and what it gives back is quick to send)."""

    prepare: Callable[[list[bytes]], Prepared]
    apart: bool


class Sink(Protocol):
    """Takes response records; writing the same record twice must not duplicate it."""

    name: str

    async def write(self, record: ResponseRecord) -> None: ...


@dataclass(frozen=True)
class Forward:
    """What an outside store answered for a response: its id there once it took it (None: a
    send was attempted at ``attempted_at`` and its outcome is not known)."""

    remote_id: str | None
    attempted_at: datetime


class ForwardLog(Protocol):
    """Where a sink without idempotency keys of its own notes what it sent (the store)."""

    async def forward(self, response_id: str, sink: str) -> Forward | None: ...

    async def forward_attempted(self, response_id: str, sink: str, at: datetime) -> None: ...

    async def forwarded(
        self, response_id: str, sink: str, remote_id: str, at: datetime
    ) -> None: ...


class StartedSink(Sink, Protocol):
    """A sink with a connection of its own, opened and closed with the process."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class FlowVersion:
    """One stored version of a flow: its text as the admin gave it (comments kept)."""

    flow_id: str
    version: str
    digest: str  # the content hash, whatever ``version`` says
    text: str
    created_at: str
    created_by: str


@dataclass(frozen=True)
class Active:
    """Which version of a flow new surveys use; ``seeded``: the version its file last had."""

    version: str
    seeded: str | None = None


class LibraryStore(Protocol):
    """Where versions, activations and service settings are kept (the measures store)."""

    async def flow_versions(self, flow_id: str | None = None) -> list[FlowVersion]:
        """Every stored version (of one flow), oldest first."""
        ...

    async def add_flow_version(self, version: FlowVersion) -> bool:
        """Keep a version; False when one of that flow and version is kept already."""
        ...

    async def active_flows(self) -> dict[str, Active]: ...

    async def set_active(
        self, flow_id: str, version: str, *, seeded: str | None = None, by: str = ""
    ) -> None:
        """Make ``version`` the flow's active one (``seeded``: also note the file's)."""
        ...

    async def service_settings(self) -> dict[str, dict[str, Any]]: ...

    async def set_service_settings(
        self, service_id: str, settings: dict[str, Any], by: str
    ) -> None:
        """Replace a service's settings (an empty mapping: the file's values again)."""
        ...


class ConsentChange(TypedDict):
    """An opt-out or its lifting, as the consent ledger's system of record keeps it: the
    person's pseudonym (never an address), the scopes it concerns, which way, when it was said
    (ISO 8601, UTC) and how (``stop``: a STOP keyword or button; ``carrier``: the carrier
    has the number opted out; ``start``: START, UNSTOP or YES; ``redis``: found in Redis by
    the version that first kept the ledger in the store)."""

    person: str
    scopes: list[str]
    opted_out: bool
    at: str
    how: str
    channel: str


class ConsentLedger(Protocol):
    """The consent ledger's system of record (the measures store); Redis holds its working
    copy (``bot.store.consent``)."""

    async def record_consent(self, change: ConsentChange) -> None:
        """Apply a change unless a later one (by ``at``) is kept already: an opt-out keeps
        or makes its rows, an opt-in turns existing ones off. SinkError says whether to
        retry."""
        ...

    async def keep_opt_outs(self, pairs: Sequence[tuple[str, str]], at: datetime) -> None:
        """Keep these (person, scope) opt-outs where the ledger has no row for them yet
        (whatever it has is later news). StoreUnavailable when it cannot."""
        ...

    async def opted_out_of(self, people: Sequence[str]) -> dict[str, frozenset[str]]:
        """The scopes each of these people is opted out of (only people with any)."""
        ...

    async def opt_out_page(
        self, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str]]:
        """Opted-out (person, scope) pairs in key order, after ``after``: a page at a time."""
        ...


class ResponseStore(Sink, LibraryStore, ConsentLedger, Protocol):
    """The measures store: a sink that can also be queried, and the library's keeper."""

    async def responses(
        self,
        *,
        service: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        disposition: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
    ) -> list[ResponseRecord]:
        """Records ordered by (ended time, response id); ``after`` is a paging cursor."""
        ...

    async def tallies(
        self,
        windows: Sequence[tuple[Sequence[str], Sequence[tuple[datetime, datetime]]]],
        timed: Sequence[str] = (),
    ) -> dict[tuple[str, int], tuple[list[TallyGroup], dict[str, float | None]]]:
        """Per (service, window index): the sums of its records reported in the window, and
        for the ``timed`` services their time percentiles (``first_reply_minutes_p50`` …);
        ``windows`` pairs services with the windows they are cut by."""
        ...

    async def quarter_counts(
        self, windows: Sequence[Window], service: str | None = None,
        dimensions: Sequence[str] = (),
    ) -> dict[str, QuarterCounts]:  # fmt: skip
        """Per service, the counts of its records reported within ``windows`` (one quarter,
        ``reports.quarter_windows``; ``service``: that one only), broken down by the declared
        ``dimensions`` as well as language and channel, with its time percentiles."""
        ...

    async def driver_sums(
        self, windows: Sequence[tuple[Sequence[str], Sequence[tuple[datetime, datetime]]]]
    ) -> dict[tuple[str, int], list[DriverSums]]:
        """Per (service, window index): its respondents' driver counts by flow and trust
        answer (``DriverSums``); ``windows`` as for ``tallies``."""
        ...

    async def roll_up(self, now: datetime | None = None) -> int:
        """Count the figures of each day that is over and whose counts are missing or no
        longer hold (what keeps a quarter's pages quick; never needed for a figure to be
        right); how many (service, day)s were counted."""
        ...

    async def add(self, records: Sequence[ResponseRecord]) -> int:
        """Keep the records whose ``response_id`` is not stored yet, as ``write`` keeps one;
        how many were new. Refused when one can never be stored (those before it are)."""
        ...

    def preparer(self) -> Preparer:
        """How an import's lines are made ready for ``add_prepared``."""
        ...

    async def add_prepared(self, prepared: Prepared) -> int:
        """Keep the ready records of ``prepared`` (not its bad line) whose ``response_id`` is
        not stored yet, exactly as ``add`` keeps them; how many were new. Refused when the
        store refuses one (those before it are stored)."""
        ...

    def record_texts(
        self, windows: Sequence[Window] = (), service: str | None = None
    ) -> AsyncIterator[list[str]]:
        """Every stored record (reported within ``windows``, of ``service``) as its JSON text,
        one line each, a few thousand at a time, in no particular order."""
        ...

    def upload_pages(
        self, windows: Sequence[Window], service: str | None = None, page: int = 2000
    ) -> AsyncIterator[list[Upload]]:
        """The responses (trust item answered) reported within ``windows`` (of ``service``),
        what the OMB upload needs of each, ordered by (reported time, response id), ``page``
        at a time (keyset paging)."""
        ...

    async def comments(
        self, where: CommentFilter, *, after: tuple[str, str] | None = None, limit: int = 50
    ) -> list[Comment]:
        """The comments ``where`` selects, newest first; ``after``: the (date, response id)
        of the last one of the page before."""
        ...

    def comment_batches(self, where: CommentFilter) -> AsyncIterator[list[Comment]]:
        """Every comment ``where`` selects, newest first, a batch at a time (a download)."""
        ...

    async def theme_counts(
        self, windows: Sequence[Window], services: Sequence[str] | None = None
    ) -> list[ThemeCount]:
        """Per service and theme, the comments reported within ``windows`` (of ``services``;
        None: all) tagged with it and how many were negative: one grouped query."""
        ...

    async def write_case(self, case: dict[str, Any]) -> None:
        """Keep a staff case's outcome (upsert on its id); raises SinkError when it cannot."""
        ...

    async def recent_cases(
        self, *, service: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Cases' outcomes, the most recently changed first."""
        ...

    async def case_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """How many cases were opened in ``[since, until)``, per service."""
        ...

    async def with_text_before(self, cutoff: datetime, limit: int = 500) -> list[ResponseRecord]:
        """Records that ended before ``cutoff`` and still hold free text (for retention)."""
        ...

    async def forget(self, respondent: str) -> dict[str, int]:
        """Delete a respondent's responses and their cases; the numbers deleted."""
        ...

    async def audit(
        self, actor: str, action: str, target: str | None, details: dict[str, Any] | None = None
    ) -> None:
        """Write one entry of the audit log."""
        ...

    async def audit_entries(
        self, *, before: int | None = None, limit: int = 100, target: str | None = None,
        action: str | None = None, actor: str | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Audit entries, newest first; ``before`` is an entry id (paging); ``target``,
        ``action`` (a prefix, such as ``service.``) and ``actor`` narrow them."""
        ...

    async def ping(self) -> None: ...

    async def replica_lag(self) -> float | None:
        """Seconds a replica is behind its primary (0: caught up); None on a primary."""
        ...
