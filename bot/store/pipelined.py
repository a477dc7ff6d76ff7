"""One Redis connection shared by every caller, commands issued in the same loop turn written
together (implicit pipelining).

On the inbound reply path each request makes two or three short script calls. Through a
connection pool each of them costs a connection checkout, its own write and its own read; here
concurrent requests share one write and one read per loop turn, and Redis reads them as a
pipeline. Only short, non-blocking commands belong here: a blocking command (``XREADGROUP
BLOCK``, ``BLPOP``) would hold up every caller behind it, and transactions need their own
connection. Cluster clients are left to redis-py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from typing import Any, cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError, DataError, NoScriptError, ResponseError

CONNECT_TIMEOUT = 5.0


def pack(args: tuple[Any, ...]) -> bytes:
    """A command in the Redis protocol (RESP), arguments encoded as redis-py encodes them."""
    try:
        return bytes(hiredis.pack_command(args))
    except TypeError:
        kinds = ", ".join(sorted({type(a).__name__ for a in args}))
        raise DataError(f"Redis takes str, bytes, int and float; this has {kinds}") from None


def _error(reply: ResponseError) -> ResponseError:
    message = str(reply)
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    return reply


class _Protocol(asyncio.Protocol):
    """The connection: replies come back in the order the commands went out."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.outgoing: list[bytes] = []
        self.lost = False
        self._reader = hiredis.Reader(encoding="utf-8", replyError=ResponseError)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports do not derive from asyncio's.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        if self.lost or self.transport is None:
            raise ConnectionError("Redis connection lost")
        data = pack(args)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self.outgoing:
            loop.call_soon(self._flush)
        self.outgoing.append(data)
        self.waiting.append(future)
        return future

    def _flush(self) -> None:
        data, self.outgoing = b"".join(self.outgoing), []
        if self.transport is not None and not self.lost:
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while True:
            try:
                reply = self._reader.gets()
            except hiredis.ProtocolError:
                self._fail("Redis sent a malformed reply")
                if self.transport is not None:
                    self.transport.abort()
                return
            if reply is False:  # no complete reply yet
                return
            future = self.waiting.popleft()
            if future.done():  # its caller stopped waiting (a deadline): drop the reply
                continue
            if isinstance(reply, ResponseError):
                future.set_exception(_error(reply))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail("Redis connection lost")

    def _fail(self, message: str) -> None:
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError(message))


class Pipelined:
    """Sends commands over one shared connection, opened on first use and again after a loss.

    A command in flight when the connection drops fails with redis-py's ``ConnectionError``
    and is not sent again: it may have run, and the callers' compare-and-set scripts are not
    safe to run twice blindly.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        self._params = params
        self._protocol: _Protocol | None = None
        self._connecting = asyncio.Lock()

    def __repr__(self) -> str:
        where = self._params.get("path") or f"{self._params['host']}:{self._params['port']}"
        tls = ", tls" if "ssl" in self._params else ""
        return f"Pipelined({where}, db={self._params.get('db', 0)}{tls})"

    @classmethod
    def for_client(cls, redis: Redis) -> Pipelined | None:
        """A shared connection to the server ``redis`` talks to (same address, credentials,
        database and TLS settings), or None when ``redis`` is a cluster client."""
        pool = getattr(redis, "connection_pool", None)
        if pool is None:
            return None
        kind = pool.connection_class
        if kind not in (Connection, SSLConnection, UnixDomainSocketConnection):
            return None
        kwargs = pool.connection_kwargs
        if not kwargs.get("decode_responses"):
            return None  # replies here are always text, as the bot's clients are configured
        keys = ("path", "host", "port", "db", "username", "password", "socket_connect_timeout")
        params = {key: kwargs[key] for key in keys if kwargs.get(key) is not None}
        if kind is SSLConnection:
            # redis-py's own reading of the ssl_* options (CA, client certificate, checks).
            params["ssl"] = SSLConnection(**kwargs).ssl_context.get()
        return cls(params)

    def execute(self, *args: Any) -> Awaitable[Any]:
        """Send one command; await the result for its reply (errors raised as redis-py raises
        them)."""
        protocol = self._protocol
        if protocol is None or protocol.lost:
            return self._connect_and_send(args)
        # The future itself, not a coroutine around it: one frame less on every reply.
        return protocol.send(args)

    async def _connect_and_send(self, args: tuple[Any, ...]) -> Any:
        protocol = await self._connect()
        return await protocol.send(args)

    async def close(self) -> None:
        """Close the connection; a later command opens a new one."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()

    async def _connect(self) -> _Protocol:
        async with self._connecting:
            if self._protocol is not None and not self._protocol.lost:
                return self._protocol  # another caller connected while this one waited
            p = self._params
            try:
                async with asyncio.timeout(p.get("socket_connect_timeout", CONNECT_TIMEOUT)):
                    protocol = await self._open()
            except OSError as exc:
                raise ConnectionError(f"cannot connect to Redis: {type(exc).__name__}") from None
            except TimeoutError:
                raise ConnectionError("cannot connect to Redis: timed out") from None
            self._protocol = protocol
            return protocol

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        p = self._params
        if "path" in p:
            _, protocol = await loop.create_unix_connection(_Protocol, p["path"])
        else:
            _, protocol = await loop.create_connection(
                _Protocol, p["host"], p["port"], ssl=p.get("ssl")
            )
        handshake = []
        if "password" in p:
            user = (p["username"],) if "username" in p else ()
            handshake.append(protocol.send(("AUTH", *user, p["password"])))
        if p.get("db"):
            handshake.append(protocol.send(("SELECT", p["db"])))
        try:
            await asyncio.gather(*handshake)
        except BaseException as exc:
            if protocol.transport is not None:
                protocol.transport.close()
            if isinstance(exc, ResponseError):
                raise ConnectionError(f"Redis refused the connection: {exc}") from None
            raise
        return protocol
