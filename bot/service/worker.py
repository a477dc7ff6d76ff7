"""The worker loop: due invitations, timers and recovery, until asked to stop."""

from __future__ import annotations

import asyncio
import logging

from bot.service import delivery, privacy
from bot.service.runtime import Runtime
from bot.store.streams import consume

log = logging.getLogger("bot.worker")
RECOVER_EVERY = 30.0
HOUSEKEEPING_EVERY = 60.0  # how often a worker asks whether today's retention pass is due


async def run_worker(rt: Runtime, stop: asyncio.Event, idle: float = 0.2) -> None:
    """Deliver and forward until ``stop`` is set; the job in hand is finished first."""
    jobs = [deliver_loop(rt, stop, idle), rt.work.run(stop)]
    if rt.outbox is not None:
        jobs.append(rt.outbox.run(stop))
    await asyncio.gather(*jobs)


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
        handled = await delivery.deliver_due(rt, stop=stop)
        return handled + await delivery.run_timers(rt)

    log.info("worker started")
    await consume(rt.state, rt.sending, rt.clock, one_pass, stop, idle)
    log.info("worker stopped")
