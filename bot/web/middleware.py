"""What wraps every request: the access log line and the error boundary."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Middleware
from redis.exceptions import RedisError

from bot.core.errors import RetryableError
from bot.web.context import json_error
from bot.web.deadlines import Deadlines

log = logging.getLogger("bot.app")


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, the route's pattern, status, size and time. Never the
    path as sent: its query string may carry a token, and a path may carry an id (a web chat
    link's token); the pattern (``/s/{token}``) says which route without them."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s %.1fms", request.method, route_of(request),
                         response.status, response.body_length, 1000 * time)  # fmt: skip


def route_of(request: web.BaseRequest) -> str:
    """The route's pattern (``/s/{token}``, ``/v1/people/{address}``): what a log may say of
    a request, never its path as sent."""
    match = getattr(request, "match_info", None)
    resource = match.route.resource if match is not None else None
    return resource.canonical if resource is not None else "(no route)"


def errors_middleware(deadlines: Deadlines) -> Middleware:
    """No traceback ever reaches a caller; a failing dependency, or a request over its
    deadline, is a 503 to retry. A WebSocket lives as long as its conversation: it has no
    request deadline (its handler gives each message one of its own), only the server's stop
    (``Deadlines.stop``)."""

    @web.middleware
    async def errors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        socket = request.headers.get("Upgrade", "").lower() == "websocket"
        task = deadlines.hold() if socket else deadlines.start()
        timed_out = False
        try:
            try:
                return await handler(request)
            finally:
                timed_out = deadlines.finish(task)
        except web.HTTPException as exc:
            if request.path.startswith("/v1/") and request.match_info.http_exception is exc:
                # No route took the path (a brace in an id, say): the API answers in JSON.
                answer = json_error(exc.status, exc.reason.lower())
                if "Allow" in exc.headers:
                    answer.headers["Allow"] = exc.headers["Allow"]
                return answer
            raise
        except (asyncio.CancelledError, TimeoutError) as exc:
            if isinstance(exc, asyncio.CancelledError) and not timed_out:
                raise  # the server is stopping, not this request's deadline
            log.error("request over its deadline route=%s", route_of(request))
            return json_error(503, "timed out, retry later")
        except RedisError as exc:
            log.error("redis unavailable route=%s error=%s", route_of(request), type(exc).__name__)
            return json_error(503, "temporarily unavailable, retry later")
        except RetryableError as exc:
            return json_error(503, str(exc))
        except Exception:
            log.exception("unhandled error route=%s", route_of(request))
            return json_error(500, "internal error")

    return errors
