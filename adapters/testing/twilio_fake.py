"""A loopback stand-in for Twilio's Messages API, for the demo, tests and benchmarks.

A real HTTP server on 127.0.0.1 that the real ``twilio`` client talks to. It records every
message, can be told to fail the way Twilio fails, and can send genuinely signed status
callbacks.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.core.segments import segment_info


@dataclass
class FakeMessage:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    created: datetime
    status: str = "queued"

    def resource(self, account_sid: str) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "direction": "outbound-api",
            "num_segments": str(segment_info(self.body).segments),
            "num_media": "0",
            "date_created": format_datetime(self.created),
            "date_updated": format_datetime(self.created),
            "date_sent": format_datetime(self.created),
            "error_code": None,
            "error_message": None,
            "price": None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json",
        }


@dataclass
class FakeTwilio:
    """The fake API. ``failures`` maps a number to (HTTP status, Twilio error code)."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-auth-token"
    messages: list[FakeMessage] = field(default_factory=list)
    failures: dict[str, tuple[int, int]] = field(default_factory=dict)
    fail_next: list[tuple[int, int]] = field(default_factory=list)
    delay: float = 0.0
    arrival_delay: float = 0.0  # the request takes this long to reach Twilio: no message before
    on_send: Callable[[FakeMessage], None] | None = None
    requests: int = 0
    _runner: web.AppRunner | None = None
    base_url: str = ""

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        prefix = "/2010-04-01/Accounts/{account}/Messages"
        app.router.add_post(prefix + ".json", self._create)
        app.router.add_get(prefix + ".json", self._list)
        app.router.add_get(prefix + "/{sid}.json", self._fetch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", port))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def sent_to(self, number: str) -> list[FakeMessage]:
        return [m for m in self.messages if m.to.removeprefix("whatsapp:") == number]

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}" and (
            request.match_info["account"] == self.account_sid
        )

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        body = {"code": code, "message": message, "more_info": "", "status": status}
        return web.json_response(body, status=status)

    async def _create(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.arrival_delay:  # still on its way: a lookup meanwhile finds nothing
            await asyncio.sleep(self.arrival_delay)
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        form = await request.post()
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        sender = str(form.get("From") or form.get("MessagingServiceSid") or "")
        if not to or not sender:
            return self._error(400, 21604, "A 'To' and a 'From' are required")
        if self.fail_next:
            status, code = self.fail_next.pop(0)
            return self._error(status, code, "scripted failure")
        failure = self.failures.get(to.removeprefix("whatsapp:"))
        if failure is not None:
            return self._error(failure[0], failure[1], "scripted failure")
        callback = form.get("StatusCallback")
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16),
            to=to,
            from_=sender,
            body=body,
            status_callback=str(callback) if callback else None,
            created=datetime.now(UTC),
        )
        self.messages.append(message)
        if self.on_send is not None:
            self.on_send(message)
        if self.delay:  # accepted, but the answer is slow (the caller may time out)
            await asyncio.sleep(self.delay)
        return web.json_response(message.resource(self.account_sid), status=201)

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        to = request.query.get("To")
        found = [m.resource(self.account_sid) for m in self.messages if not to or m.to == to]
        return web.json_response(
            {"messages": found, "page": 0, "page_size": 50, "next_page_uri": None, "uri": ""}
        )

    async def _fetch(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        for m in self.messages:
            if m.sid == request.match_info["sid"]:
                return web.json_response(m.resource(self.account_sid))
        return self._error(404, 20404, "not found")

    async def send_status(
        self,
        session: aiohttp.ClientSession,
        message: FakeMessage,
        status: str,
        *,
        error_code: int | None = None,
        post_to: str | None = None,
    ) -> int:
        """POST a signed status callback for ``message``, as Twilio would; returns the HTTP
        status. ``post_to`` is where to send it when the public URL is a proxy's."""
        if not message.status_callback:
            raise ValueError("message has no status callback")
        params = {
            "MessageSid": message.sid,
            "MessageStatus": status,
            "AccountSid": self.account_sid,
            "To": message.to,
            "From": message.from_,
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        message.status = status
        signature = RequestValidator(self.auth_token).compute_signature(
            message.status_callback, params
        )
        if post_to is not None and "?" in message.status_callback:
            post_to += "?" + message.status_callback.split("?", 1)[1]
        async with session.post(
            post_to or message.status_callback,
            data=params,
            headers={"X-Twilio-Signature": signature},
        ) as response:
            return response.status
