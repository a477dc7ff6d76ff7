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


# What an error quotes of a value from outside (a flow's text, the catalog) is cut to about
# this many characters: a value may be any size (100 KB of one string, 10,000 aliased ones),
# and the answer, the console's page and the log would each carry it whole.
MAX_QUOTED = 300
MAX_ERRORS = 100  # errors listed for one text; then one that says how many more


def brief(text: str, limit: int = MAX_QUOTED) -> str:
    """Text as an error may quote it: at most about ``limit`` characters, with the middle
    left out and counted."""
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 6
    return f"{text[:head]} … ({len(text) - head - tail:,} characters left out) … {text[-tail:]}"


class FlowError(PermanentError):
    """One problem in a flow file, located by file and node path; its message (which may
    quote a value) and path cut short by ``brief``."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = brief(path)
        self.message = brief(message)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"


def at_most(
    errors: list[FlowError], limit: int = MAX_ERRORS, what: str = "errors"
) -> list[FlowError]:
    """The first ``limit`` errors (or warnings: ``what``), then one that says how many more
    there are (a text of 256 KiB can hold 100,000 wrong values, each its own error)."""
    if len(errors) <= limit:
        return errors
    last = errors[limit]
    more = f"and {len(errors) - limit:,} more {what}"
    return [*errors[:limit], FlowError(last.source, "", more)]


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
