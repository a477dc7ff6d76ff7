"""Stopping within the platform's grace (SIGTERM, then SIGKILL 30 s later): the requests in
flight end by the drain, a WebSocket is closed as going away rather than waited for, and the
worker's job in hand has a bounded time. The ``feedback-bot web`` process itself:
``test_cli.py``."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from bot.service.tasks import cancel_and_wait
from bot.service.worker import run_worker
from bot.web.deadlines import Deadlines

from .conftest import Bot


async def test_the_stop_ends_every_request_in_flight_by_the_drain() -> None:
    deadlines = Deadlines(5, tick=0.02)
    sweep = asyncio.create_task(deadlines.sweep())
    loop = asyncio.get_running_loop()

    async def request(kind: str, seconds: float) -> str:
        task = deadlines.hold() if kind == "socket" else deadlines.start()
        if kind == "stream":
            deadlines.release()  # its first bytes are out: no deadline of its own
        try:
            try:
                await asyncio.sleep(seconds)
            finally:
                timed_out = deadlines.finish(task)
        except asyncio.CancelledError:
            return "over its deadline" if timed_out else "cancelled"
        return "done"

    try:
        running = {kind: asyncio.create_task(request(kind, 60))
                   for kind in ("request", "stream", "socket")}  # fmt: skip
        quick = asyncio.create_task(request("request", 0.1))
        await asyncio.sleep(0.05)
        stopped = loop.time()
        assert deadlines.stop(0.3) == 4
        # one coming in after the stop (a keep-alive connection's) has the stop as deadline
        running["after the stop"] = asyncio.create_task(request("request", 60))
        ended = dict(zip(running, await asyncio.gather(*running.values()), strict=True))
        elapsed = loop.time() - stopped
        assert await quick == "done"  # over before the stop: untouched
    finally:
        sweep.cancel()
    # An ordinary request answers that it ran out of time (a 503); a stream and a socket are
    # cut. All of them at the stop, not at their 5 s deadline nor never.
    assert ended == {"request": "over its deadline", "stream": "cancelled",
                     "socket": "cancelled", "after the stop": "over its deadline"}  # fmt: skip
    assert 0.3 <= elapsed < 2.5, elapsed


async def test_a_socket_is_closed_as_the_server_stops_once_its_answer_is_out() -> None:
    deadlines = Deadlines(5, tick=0.02)
    answering, release = asyncio.Event(), asyncio.Event()

    async def talk(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in deadlines.messages(ws):
            if message.data == "slow":
                answering.set()
                await release.wait()
            await ws.send_str(f"answer to {message.data}")
        return ws

    app = web.Application()
    app.router.add_get("/ws", talk)
    sweep = asyncio.create_task(deadlines.sweep())
    loop = asyncio.get_running_loop()
    try:
        async with TestClient(TestServer(app)) as client:
            idle = await client.ws_connect("/ws")
            busy = await client.ws_connect("/ws")
            await idle.send_str("hello")
            assert await idle.receive_str(timeout=5) == "answer to hello"
            await busy.send_str("slow")
            await asyncio.wait_for(answering.wait(), 5)
            stopped = loop.time()
            deadlines.stop(5)
            # the one waiting for a message: closed at once, as going away
            closed = await idle.receive(timeout=5)
            assert (closed.type, closed.data) == (WSMsgType.CLOSE, WSCloseCode.GOING_AWAY)
            assert loop.time() - stopped < 2.5  # not at the drain (5 s)
            # the one answering: its answer first, then the same close
            assert not busy.closed
            release.set()
            assert await busy.receive_str(timeout=5) == "answer to slow"
            closed = await busy.receive(timeout=5)
            assert (closed.type, closed.data) == (WSMsgType.CLOSE, WSCloseCode.GOING_AWAY)
            assert closed.extra == "server stopping"
    finally:
        sweep.cancel()


async def test_the_worker_stops_within_its_grace_and_its_job_in_hand_is_taken_over(
    bot: Bot,
) -> None:
    rt = bot.rt
    started, cut = asyncio.Event(), asyncio.Event()

    async def endless(payload: object) -> None:  # a job that does not end by itself
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cut.set()
            raise

    rt.work.register("test.endless", endless)
    await rt.work.enqueue("test.endless", {}, rt.state.shards[0])
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(rt, stop, idle=0.05, grace=0.5))
    await asyncio.wait_for(started.wait(), 10)
    loop = asyncio.get_running_loop()
    stopped = loop.time()
    stop.set()
    await asyncio.wait_for(worker, 10)
    elapsed = loop.time() - stopped
    assert 0.5 <= elapsed < 3, elapsed  # the grace, then cancelled: not the job's hour
    assert cut.is_set()
    # cut as a crash would cut it: unacknowledged, neither failed nor dead, for another
    # worker (or this one's next start) to take over
    status = await rt.work.status()
    assert (status["in_flight"], status["retrying"], status["dead"]) == (1, 0, 0)


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
