"""Request deadlines: one periodic sweep over the requests in flight, not a timer per request;
and the server's stop, a deadline for every request still in flight.

``asyncio.timeout`` costs a timer (a heap entry, a handle, a cancellation) on every request;
on the inbound reply path that was a few per cent of the server's CPU. Here a request registers
itself in a dict and a sweep every ``tick`` seconds cancels those past their deadline, so a
request may run up to one tick longer than its deadline.

When the server stops (SIGTERM), ``stop`` bounds whatever is still in flight: the platform
kills the process some seconds later, and what the process does after its requests (the
worker's job in hand, closing Redis and the store) needs some of that time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

# What ends a socket's messages: the peer's close, or ours under way (``WebSocketResponse``'s
# own iteration stops at the same ones).
_CLOSED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)


class Deadlines:
    """The deadlines of the requests in flight; ``sweep`` must run for them to fire."""

    def __init__(self, seconds: float, tick: float | None = None) -> None:
        self.seconds = seconds
        self.tick = tick if tick is not None else min(0.5, seconds / 4)
        self._due: dict[asyncio.Task[Any], float] = {}
        self._cancelled: set[asyncio.Task[Any]] = set()
        # Requests with no deadline of their own (a stream past its first bytes, a WebSocket):
        # they run until the server stops.
        self._open: set[asyncio.Task[Any]] = set()
        self._stop_at: float | None = None  # the server's stop: no request outlasts it
        self._idle: set[web.WebSocketResponse] = set()  # sockets waiting for a message
        self._closing: set[asyncio.Task[Any]] = set()

    def start(self) -> asyncio.Task[Any]:
        """Start the current task's deadline; pass the task to ``finish`` when it is done."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Deadlines.start() outside a task")
        due = task.get_loop().time() + self.seconds
        if self._stop_at is not None and self._stop_at < due:
            due = self._stop_at
        self._due[task] = due
        return task

    def hold(self) -> asyncio.Task[Any]:
        """Register the current task without a deadline (a WebSocket: it lives as long as its
        conversation) until the server stops; pass it to ``finish`` when it is done."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Deadlines.hold() outside a task")
        self._open.add(task)
        return task

    def finish(self, task: asyncio.Task[Any]) -> bool:
        """End the task's deadline; True when the deadline cancelled it (the cancellation is
        then withdrawn, so the task can answer that it ran out of time)."""
        self._due.pop(task, None)
        self._open.discard(task)
        if task not in self._cancelled:
            return False
        self._cancelled.discard(task)
        task.uncancel()
        return True

    def release(self) -> None:
        """End the current task's deadline without cancelling it: a streamed download whose
        first bytes are out runs as long as its rows take (a quarter's CSV is minutes), or
        until the server stops; the deadline is there so that a caller hears something in
        time."""
        task = asyncio.current_task()
        if task is None or task in self._cancelled:
            return
        if self._due.pop(task, None) is not None:
            self._open.add(task)

    def stop(self, seconds: float) -> int:
        """The server is stopping: no request in flight outlasts ``seconds`` from now. An
        ordinary request's deadline comes by then at the latest (a 503, as its own would);
        a socket waiting for a message is closed now, one answering once it has answered
        (going away, 1001: a web chat page opens another to the next process when it next
        needs one); a stream or a socket still open at the stop is cancelled (a download is
        cut). Returns how many requests are in flight."""
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + seconds
        if self._stop_at is None or stop_at < self._stop_at:
            self._stop_at = stop_at
        for task, due in self._due.items():
            if due > stop_at:
                self._due[task] = stop_at
        for ws in self._idle:
            closing = asyncio.create_task(_going_away(ws))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        return len(self._due) + len(self._open)

    async def messages(self, ws: web.WebSocketResponse) -> AsyncIterator[WSMessage]:
        """A prepared socket's messages, until the peer closes it or the server stops (then
        it is closed as going away, once the message in hand is answered)."""
        while self._stop_at is None:
            self._idle.add(ws)
            try:
                message = await ws.receive()
            finally:
                self._idle.discard(ws)
            if message.type in _CLOSED:
                break
            yield message  # answered before the loop looks at the stop again
        if self._stop_at is not None:
            await _going_away(ws)

    async def sweep(self) -> None:
        """Cancel the tasks past their deadline, every tick, until cancelled; once the server
        has stopped, every request still in flight."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.tick)
            now = loop.time()
            for task, due in list(self._due.items()):
                if due <= now and task not in self._cancelled:
                    self._cancelled.add(task)
                    task.cancel()
            if self._stop_at is not None and now >= self._stop_at and self._open:
                # Cancelled as the server stops, not by a deadline: the cancellation stands.
                for task in self._open:
                    task.cancel()
                self._open.clear()


async def _going_away(ws: web.WebSocketResponse) -> None:
    """Close a socket as the server stops (a no-op on one already closed or closing)."""
    await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")


DEADLINES = web.AppKey("deadlines", Deadlines)


async def stream(request: web.Request, response: web.StreamResponse) -> None:
    """Send a streamed response's headers, and free it of the request's deadline."""
    await response.prepare(request)
    request.app[DEADLINES].release()
