"""Request deadlines: one periodic sweep over the requests in flight, not a timer per request.

``asyncio.timeout`` costs a timer (a heap entry, a handle, a cancellation) on every request;
on the inbound reply path that was a few per cent of the server's CPU. Here a request registers
itself in a dict and a sweep every ``tick`` seconds cancels those past their deadline, so a
request may run up to one tick longer than its deadline.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web


class Deadlines:
    """The deadlines of the requests in flight; ``sweep`` must run for them to fire."""

    def __init__(self, seconds: float, tick: float | None = None) -> None:
        self.seconds = seconds
        self.tick = tick if tick is not None else min(0.5, seconds / 4)
        self._due: dict[asyncio.Task[Any], float] = {}
        self._cancelled: set[asyncio.Task[Any]] = set()

    def start(self) -> asyncio.Task[Any]:
        """Start the current task's deadline; pass the task to ``finish`` when it is done."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Deadlines.start() outside a task")
        self._due[task] = task.get_loop().time() + self.seconds
        return task

    def finish(self, task: asyncio.Task[Any]) -> bool:
        """End the task's deadline; True when the deadline cancelled it (the cancellation is
        then withdrawn, so the task can answer that it ran out of time)."""
        self._due.pop(task, None)
        if task not in self._cancelled:
            return False
        self._cancelled.discard(task)
        task.uncancel()
        return True

    def release(self) -> None:
        """End the current task's deadline without cancelling it: a streamed download whose
        first bytes are out runs as long as its rows take (a quarter's CSV is minutes); the
        deadline is there so that a caller hears something in time."""
        task = asyncio.current_task()
        if task is not None and task not in self._cancelled:
            self._due.pop(task, None)

    async def sweep(self) -> None:
        """Cancel the tasks past their deadline, every tick, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.tick)
            now = loop.time()
            for task, due in list(self._due.items()):
                if due <= now and task not in self._cancelled:
                    self._cancelled.add(task)
                    task.cancel()


DEADLINES = web.AppKey("deadlines", Deadlines)


async def stream(request: web.Request, response: web.StreamResponse) -> None:
    """Send a streamed response's headers, and free it of the request's deadline."""
    await response.prepare(request)
    request.app[DEADLINES].release()
