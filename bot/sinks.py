"""What the core needs from the measures store and other sinks of response records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.errors import BotError

ResponseRecord = dict[str, Any]


class SinkError(BotError):
    """A sink could not take a record; ``retryable`` says whether to try again later."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sink(Protocol):
    """Takes response records; writing the same record twice must not duplicate it."""

    name: str

    async def write(self, record: ResponseRecord) -> None: ...


class ResponseStore(Sink, Protocol):
    """The measures store: a sink that can also be queried."""

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

    async def records_between(
        self, since: datetime, until: datetime, service: str | None = None
    ) -> list[ResponseRecord]:
        """Every record whose transaction or end time falls in [since, until)."""
        ...

    async def write_case(self, case: dict[str, Any]) -> None:
        """Keep a staff case's outcome (upsert on its id); raises SinkError when it cannot."""
        ...

    async def ping(self) -> None: ...
