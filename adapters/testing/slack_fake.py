"""A loopback stand-in for Slack's Web API (and response URLs), for tests and the demo.

A real HTTP server on 127.0.0.1 that the real ``slack_sdk`` client talks to. It checks the bot
token, records every call, keeps the messages posted per channel (so updates and history
work), and can be told to fail a method the way Slack fails.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeSlack:
    token: str = "xoxb-fake-token"
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _port: int = 0
    _ts: int = 1_780_000_000_000_000

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"http://127.0.0.1:{self._port}/respond/{name}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, method: str, error: str = "ratelimited", times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``error``."""
        self.failures.setdefault(method, []).extend([error] * times)

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def posted(self, channel: str) -> list[dict[str, Any]]:
        return self.messages.get(channel, [])

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        for key in ("blocks", "metadata"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        self.calls.append(Call(method, params))
        if self.failures.get(method):
            error = self.failures[method].pop(0)
            status = 429 if error == "ratelimited" else 200
            headers = {"Retry-After": "1"} if status == 429 else {}
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response({"ok": True, **handler(params)})

    def _next_ts(self) -> str:
        self._ts += 100
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://fake.slack.com/", "team": "Fake", "user": "cxbot",
                "team_id": "T0FAKE", "user_id": "UBOT", "bot_id": "BBOT"}  # fmt: skip

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(params["users"])[1:]}}

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        message = {**params, "ts": self._next_ts(), "bot_id": "BBOT", "type": "message"}
        self.messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": message["ts"], "message": message}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages.get(str(params["channel"]), []):
            if message["ts"] == params["ts"]:
                message.update({k: v for k, v in params.items() if k in ("text", "blocks")})
                return {"channel": params["channel"], "ts": params["ts"]}
        return {"ok": False, "error": "message_not_found"}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = str(params["message_ts"]).replace(".", "")
        return {"permalink": f"https://fake.slack.com/archives/{params['channel']}/p{ts}"}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        oldest = float(params.get("oldest", 0))
        kept = [m for m in self.messages.get(str(params["channel"]), []) if float(m["ts"]) > oldest]
        return {"messages": list(reversed(kept)), "has_more": False}
