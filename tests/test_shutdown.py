"""Stopping within the platform's grace (SIGTERM, then SIGKILL 30 s later): a background task
is stopped even when it lost its cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from bot.service.tasks import cancel_and_wait


async def test_a_task_that_lost_its_cancellation_is_stopped_all_the_same() -> None:
    loop = asyncio.get_running_loop()
    replies: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def poll() -> None:  # as the library watch polls Redis, through redis-py's wait_for
        while True:
            reply: asyncio.Future[None] = loop.create_future()
            replies.put_nowait(reply)
            await asyncio.wait_for(reply, 5)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(poll())
    (await replies.get()).set_result(None)  # a reply comes in...
    task.cancel()  # ...as the stop cancels the poll, before it has woken up
    ended, _ = await asyncio.wait([task], timeout=0.5)
    # Python 3.11's wait_for loses that cancellation (CPython gh-86296): the poll goes on,
    # and awaiting it would never return. 3.12 keeps it.
    assert bool(ended) == (sys.version_info >= (3, 12))
    loop_time = loop.time()
    assert await cancel_and_wait(task, "the poll", within=5)
    assert task.cancelled() and loop.time() - loop_time < 2.5


async def test_a_task_that_will_not_end_is_left_after_the_bound() -> None:
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):  # a bug: cancelling it fails
                await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await cancel_and_wait(task, "the stubborn task", within=0.5) is False
    assert 0.5 <= loop.time() - started < 2 and not task.done()
    released.set()  # the test's own tidying
    task.cancel()
    await task
