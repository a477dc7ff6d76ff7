"""The consent ledger: opt-outs recorded in Redis and handed to the measures store, its
system of record, in one write; looked up in Redis, or in the store while Redis is being
restored from it; and restored into a Redis that lost them.

How the gap is closed. A Redis that comes back empty (restarted without persistence, failed
over, flushed, its keys evicted) has no opt-out set, and a set is taken as whole only once it
holds the member that a finished restore adds (``bot.store.consent.RESTORED``). Until then
every check that Redis cannot answer — the intake's, the sender's and the reminder's, the
inbound reply's — asks the store for that person (one indexed read), so nothing is sent or
scheduled for someone who opted out, at any moment. Every process restores the sets at
start-up, in the background (it serves at once); the worker checks every ``RESTORE_EVERY``
seconds and restores any set found missing, a page of ``RESTORE_PAGE`` opt-outs at a time,
one process per shard at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from redis.exceptions import RedisError

from bot.core.errors import BotError
from bot.core.policy import Person
from bot.core.session import stamp
from bot.core.sinks import ConsentChange
from bot.service.runtime import Runtime

log = logging.getLogger("bot.consent")
RESTORE_PAGE = 2000  # opt-outs read from the store, and added to Redis, at a time
RESTORE_EVERY = 1.0  # seconds between a worker's checks that Redis's opt-outs are whole
# When an opt-out found in Redis by the first version that kept the ledger in the store was
# said: not known, so before any change the outbox brings (which then wins).
UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def change(rt: Runtime, person: str, *, opted_out: bool, how: str, channel: str) -> ConsentChange:
    """A change said now (``scopes`` are filled in by the state)."""
    return {"person": person, "scopes": [], "opted_out": opted_out, "at": stamp(rt.clock()),
            "how": how, "channel": channel}  # fmt: skip


async def opt_out(rt: Runtime, person: str, scope: str, how: str, channel: str) -> bool:
    """Record an opt-out (Redis now, the store through the outbox); True when it is new."""
    said = change(rt, person, opted_out=True, how=how, channel=channel)
    return await rt.state.opt_out(person, scope, said)


async def opt_in(rt: Runtime, person: str, scope: str, channel: str) -> bool:
    """Lift an opt-out under a scope and a blanket one (Redis now, the store through the
    outbox); True when Redis held one."""
    said = change(rt, person, opted_out=False, how="start", channel=channel)
    return await rt.state.opt_in(person, scope, said)


async def opted_out(rt: Runtime, person: str, scopes: frozenset[str]) -> bool:
    """Whether the person opted out under any of these scopes: Redis's answer, or the
    store's while Redis cannot tell. StoreUnavailable when neither can."""
    found = await rt.state.opted_out(person, scopes)
    return found if found is not None else await in_store(rt, person, scopes)


async def in_store(rt: Runtime, person: str, scopes: frozenset[str]) -> bool:
    """Whether the store has the person opted out under any of these scopes (what is asked
    while Redis cannot tell). StoreUnavailable when it cannot answer."""
    return bool((await from_store(rt, [person])).get(person, frozenset()) & scopes)


async def from_store(rt: Runtime, people: Sequence[str]) -> dict[str, frozenset[str]]:
    """The scopes the store has these people opted out of (none without a store)."""
    if rt.store is None or not people:
        return {}
    return await rt.store.opted_out_of(people)


async def complete(
    rt: Runtime, people: list[tuple[str, frozenset[str]]], known: list[tuple[Person, bool]]
) -> list[Person]:
    """The people as the intake decides on them: each with the opt-outs Redis holds, and,
    where Redis's are not whole, the store's too (of ``scopes``; one read for all of them):
    an opt-out said meanwhile may be in Redis and not yet in the store."""
    unknown = [pid for (pid, _), (_, whole) in zip(people, known, strict=True) if not whole]
    found = await from_store(rt, unknown)
    return [
        person if whole else replace(
            person, opted_out=person.opted_out | (found.get(pid, frozenset()) & scopes)
        )
        for (pid, scopes), (person, whole) in zip(people, known, strict=True)
    ]  # fmt: skip


async def restore(rt: Runtime, page: int = RESTORE_PAGE) -> int | None:
    """Restore every opt-out set Redis lacks (or holds only in part) from the store; how
    many opt-outs were read (None: nothing to do here, or another process is at it), ``page``
    at a time.

    What a set holds already and the store lacks is kept in the store first (opt-outs
    recorded before the store kept the ledger); then the store's are added a page at a time,
    leaving out any lifted meanwhile; last the set is marked whole. A shard whose restore this
    process no longer holds (Redis lost its memory again, or the restore stalled for
    ``RESTORE_TTL``) is left for the next check."""
    if rt.store is None:
        return None
    state, store = rt.state, rt.store
    token = secrets.token_hex(8)
    mine = await state.begin_restore(await state.unrestored(), token)
    if not mine:
        return None
    try:
        for shard in mine:
            async for pairs in state.members_of(shard, page):
                await store.keep_opt_outs(pairs, UNKNOWN_TIME)
        after: tuple[str, str] | None = None
        read = 0
        while mine and (pairs := await store.opt_out_page(after, page)):
            mine = await state.restore_page(token, mine, pairs)
            read += len(pairs)
            after = pairs[-1]
    except BaseException:
        with contextlib.suppress(RedisError):
            await state.end_restore(token, mine, finished=False)
        raise
    whole = await state.end_restore(token, mine, finished=True)
    if whole:
        log.info("consent: %d shard(s) of Redis's opt-outs restored from the store "
                    "(%d opt-outs in the store)", len(whole), read)  # fmt: skip
    return read


async def restore_once(rt: Runtime, *, quiet: bool = False) -> bool:
    """``restore``, a failure logged (unless ``quiet``: it was already) rather than raised;
    whether it succeeded (a process's start-up, and each of the worker's checks)."""
    try:
        await restore(rt)
    except Exception as exc:  # Redis or the store away, or a bug: the caller goes on
        if not quiet:
            expected = isinstance(exc, RedisError | BotError | OSError)
            (log.warning if expected else log.exception)(
                "consent: restoring Redis's opt-outs failed (%s); the worker tries again every "
                "%.0f s, the store answering for them meanwhile", type(exc).__name__,
                RESTORE_EVERY,
            )  # fmt: skip
        return False
    return True


async def keep_restored(rt: Runtime, stop: asyncio.Event, every: float = RESTORE_EVERY) -> None:
    """Until ``stop`` is set: restore Redis's opt-outs whenever some are found missing. A
    failure (Redis or the store away) is logged once until a restore succeeds again."""
    failing = False
    while not stop.is_set():
        failing = not await restore_once(rt, quiet=failing)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
