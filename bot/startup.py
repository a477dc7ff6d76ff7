"""Start-up that fails clearly: backing services waited for, then named in one line.

Platforms start processes before their add-ons are ready, so the web and worker processes
wait for Redis and the measures store with backoff (``STARTUP_WAIT_SECONDS``), logging each
retry on one line; a setting that cannot work, or a service still unreachable after that,
stops start-up with one line naming the setting and its address, password masked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from bot.settings import ConfigError

log = logging.getLogger("bot.startup")


class StartupError(ConfigError):
    """A backing service the settings name cannot be used; start-up stops with this line."""


def mask_url(url: str) -> str:
    """A URL fit for a log line: its password (and a token-like user alone) masked."""
    try:
        parts = urlsplit(url)
        if parts.password is None and not parts.username:
            return url
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = parts.username or ""
        credentials = f"{user}:***" if parts.password is not None else "***"
        return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))
    except ValueError:
        return "(a malformed URL)"


def reason(exc: BaseException) -> str:
    """What went wrong, in one short line: the driver's own message when there is one
    (SQLAlchemy wraps it in text about the statement and a link), else the error's type."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    # asyncpg's errors reach SQLAlchemy as "<class 'asyncpg...InvalidCatalogNameError'>: ..."
    if text.startswith("<class '"):
        qualified, _, text = text.partition("'>: ")
        name = qualified.rsplit(".", 1)[-1]
    else:
        name = type(original).__name__
    if not text:
        return name
    return (text if name == "Error" else f"{name}: {text}")[:300]


async def wait_for(
    setting: str,
    address: str,
    check: Callable[[], Awaitable[object]],
    seconds: float,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run ``check`` until it succeeds, retrying with backoff for ``seconds``; StartupError
    naming ``setting`` and ``address`` when it still fails."""
    deadline = time.monotonic() + seconds
    delay, tries = 0.5, 0
    while True:
        tries += 1
        try:
            await check()
            return
        except Exception as exc:  # whatever a driver raises when it cannot connect
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartupError(
                    f"cannot start: {setting} {address}: {reason(exc)} "
                    f"(tried {tries} times over {seconds:g} s; STARTUP_WAIT_SECONDS)"
                ) from None
            log.warning("waiting for %s %s: %s (try %d, %.0f s left)",
                        setting, address, reason(exc), tries, left)  # fmt: skip
            await sleep(min(delay, left))
            delay = min(delay * 2, 5.0)
