"""The bot's error hierarchy: every error says whether trying again can help."""

from __future__ import annotations

from typing import Literal, cast

SendFailure = Literal["opted_out", "invalid_address", "rejected", "unavailable", "unknown"]


class BotError(Exception):
    """Base of every error the bot raises on purpose."""

    retryable: bool = False


class RetryableError(BotError):
    """A passing failure (timeout, rate limit, outage): the same work may succeed later."""

    retryable = True


class PermanentError(BotError):
    """The work can never succeed as given: do not retry, record why."""


class FlowError(PermanentError):
    """One problem in a flow file, located by file and node path."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"


class FlowValidationError(PermanentError):
    """A flow file or folder failed validation; carries every problem found."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class SendError(BotError):
    """A channel could not send a message.

    ``kind`` says what follows: ``opted_out`` (the carrier has the address opted out),
    ``invalid_address`` (never deliverable), ``rejected`` (this message will never go),
    ``unavailable`` (try later), or ``unknown`` (it may have gone: look it up before resending).
    """

    def __init__(self, message: str, *, kind: str, code: int | None = None) -> None:
        super().__init__(message)
        self.kind = cast(SendFailure, kind)
        self.code = code
        self.retryable = kind in ("unavailable", "unknown")
