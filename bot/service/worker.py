"""The worker loop: due invitations, timers and recovery, until asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from bot.core.errors import RetryableError
from bot.service import alerts, consent, delivery, privacy
from bot.service.runtime import Runtime
from bot.service.tasks import cancel_and_wait
from bot.store.streams import consume

log = logging.getLogger("bot.worker")
RECOVER_EVERY = 30.0
HOUSEKEEPING_EVERY = 60.0  # how often a worker asks whether today's retention pass is due
COUNT_DAYS_EVERY = 60.0  # how often a worker counts the figures of days that are over
# How long after ``stop`` the job in hand may take before it is cancelled. The platform kills
# a process 30 s after SIGTERM: this leaves the rest to close Redis and the store. A send
# settles within TWILIO_SEND_TIMEOUT (10 s by default); what is longer (a first count of a
# large store's days, a long pass of jobs) is cut as a crash would cut it, and safely: an entry
# is acknowledged only once its work is done, so an unfinished one is taken over, and a count
# is one transaction.
STOP_GRACE = 15.0


async def run_worker(
    rt: Runtime, stop: asyncio.Event, idle: float = 0.2, *, grace: float = STOP_GRACE
) -> None:
    """Deliver and forward, and keep Redis's opt-outs restored, until ``stop`` is set; the
    job in hand is finished first, for up to ``grace`` seconds, then cancelled."""
    jobs = [deliver_loop(rt, stop, idle), rt.work.run(stop), consent.keep_restored(rt, stop),
            count_days(rt, stop)]  # fmt: skip
    if rt.outbox is not None:
        jobs.append(rt.outbox.run(stop))
    running: asyncio.Future[list[None]] = asyncio.gather(*jobs)
    stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([running, stopped], return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            await asyncio.wait({running}, timeout=grace)
        if not running.done():
            log.warning("worker: the job in hand was not done %.0f s after the stop: "
                        "cancelled (its entry is taken over)", grace)  # fmt: skip
            await cancel_and_wait(running, "the worker")
            return
        await running  # a job's error, if one failed
    finally:
        stopped.cancel()
        running.cancel()  # a no-op once done; else this task itself was cancelled


async def deliver_loop(rt: Runtime, stop: asyncio.Event, idle: float = 0.2) -> None:
    """Invitations, timers and recovery until ``stop`` is set."""
    loop = asyncio.get_running_loop()
    next_recover = next_housekeeping = 0.0

    async def one_pass() -> int:
        nonlocal next_recover, next_housekeeping
        if loop.time() >= next_recover:
            await delivery.recover(rt)
            next_recover = loop.time() + RECOVER_EVERY
        if loop.time() >= next_housekeeping:
            next_housekeeping = loop.time() + HOUSEKEEPING_EVERY
            if await privacy.retention_due(rt):
                await privacy.retention(rt)
            if (hour := await alerts.digest_due(rt)) is not None:
                await _digest(rt, hour)

        handled = await delivery.deliver_due(rt, stop=stop)
        return handled + await delivery.run_timers(rt)

    log.info("worker started")
    await consume(rt.state, rt.sending, rt.clock, one_pass, stop, idle)
    log.info("worker stopped")


async def count_days(rt: Runtime, stop: asyncio.Event, every: float = COUNT_DAYS_EVERY) -> None:
    """Count the figures of the days that are over (``ResponseStore.roll_up``) every
    ``every`` seconds until ``stop`` is set: its own job, so a first count of a large store
    (seconds) holds up no delivery. A store that cannot answer is tried again next time."""
    while not stop.is_set():
        if rt.store is not None:
            try:
                if days := await rt.store.roll_up():
                    log.info("figures counted days=%d", days)
            except RetryableError as exc:
                log.warning("figures not counted: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def _digest(rt: Runtime, hour: datetime) -> None:
    """The hourly case digest; a webhook that fails is logged, and the next hour's goes on
    (it is a nudge to open the console, where every case is)."""
    try:
        await alerts.send_digest(rt, hour)
    except Exception as exc:  # the webhook's failure must not stop the worker's pass
        log.warning("case digest not posted: %s", exc)
