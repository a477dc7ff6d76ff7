"""Stopping a background task at shutdown, even one that lost its cancellation.

Python 3.11's ``asyncio.wait_for`` swallows a cancellation that arrives as what it waits for
completes (CPython gh-86296, fixed in 3.12), and redis-py sends every command through
``wait_for`` when its client has a socket timeout (the embedded Redis's client had redis-py's
default of 5 s; a cluster client still has it). A polling loop cancelled at that moment goes on
polling, and a plain ``task.cancel(); await task`` waits for it for ever: ``feedback-bot web``
on the demo's data hung so in its library watch, until the platform's SIGKILL, in 3 of 10 stops
after serving console pages on a loaded machine (load 8 on 2 CPUs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

log = logging.getLogger("bot.tasks")

RECANCEL_EVERY = 1.0  # seconds a cancelled task has to end (its own clean-up) before another


async def cancel_and_wait(task: asyncio.Future[Any], what: str, within: float = 5.0) -> bool:
    """Cancel ``task`` and wait for it to end, cancelling it again each second it runs on (a
    lost cancellation), for up to ``within`` seconds; whether it ended (if not, it is said
    and left to end with the process). An error it ended with is raised, as awaiting it would."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.warning("%s still running %.0f s after it was cancelled: left to end with the "
                        "process", what, within)  # fmt: skip
            return False
        task.cancel()
        await asyncio.wait([task], timeout=min(RECANCEL_EVERY, remaining))
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return True
