"""Genuinely signed Slack requests (slack_sdk's SignatureVerifier) to the real route."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestClient
from slack_sdk.signature import SignatureVerifier

from adapters.testing.slack_fake import FakeSlack
from bot.service.runtime import Runtime
from bot.web.app import RUNTIME

SIGNING_SECRET = "slack-signing-secret"


@dataclass
class SlackClient:
    client: TestClient[Any, Any]
    fake: FakeSlack
    secret: str = SIGNING_SECRET

    @property
    def rt(self) -> Runtime:
        return self.client.app[RUNTIME]  # type: ignore[index]

    def headers(
        self, body: str, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret or self.secret).generate_signature(
            timestamp=stamp, body=body
        )
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}

    async def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> aiohttp.ClientResponse:
        signed = headers if headers is not None else self.headers(body, **kw)
        return await self.client.post(
            "/slack/events", data=body.encode(), headers={**signed, "Content-Type": content_type}
        )

    async def event(
        self, event: dict[str, Any], event_id: str, retry: int | None = None
    ) -> aiohttp.ClientResponse:
        envelope = {
            "type": "event_callback",
            "team_id": "T0FAKE",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
        body = json.dumps(envelope)
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        headers = {**self.headers(body), **(extra if retry else {})}
        return await self.post(body, "application/json", headers=headers)

    async def dm(self, user: str, text: str, event_id: str) -> aiohttp.ClientResponse:
        event = {"type": "message", "channel_type": "im", "channel": "D" + user[1:], "user": user,
                 "text": text, "ts": f"{time.time():.6f}", "client_msg_id": event_id}  # fmt: skip
        return await self.event(event, event_id)

    async def action(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def command(self, user: str, text: str) -> aiohttp.ClientResponse:
        body = urlencode({"command": "/cx", "text": text, "user_id": user, "team_id": "T0FAKE",
                          "channel_id": "CSTAFF", "response_url": self.fake.response_url(),
                          "trigger_id": "1.2.3"})  # fmt: skip
        return await self.post(body, "application/x-www-form-urlencoded")


def block_actions(
    user: str, action: dict[str, Any], *, channel: str, message: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A block_actions interaction payload as Slack sends it."""
    action = {"action_ts": f"{time.time():.6f}", "type": "button", **action}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T0FAKE"},
        "team": {"id": "T0FAKE"},
        "api_app_id": "A0FAKE",
        "trigger_id": "1.2.3",
        "channel": {"id": channel},
        "container": {
            "type": "message",
            "channel_id": channel,
            "message_ts": (message or {}).get("ts", "1.1"),
        },
        "actions": [action],
        "response_url": "https://hooks.slack.invalid/actions/1",
    }
    if message is not None:
        payload["message"] = {"ts": message["ts"], "text": message.get("text", "")}
    if state is not None:
        payload["state"] = {"values": state}
    return payload


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements of a posted message."""
    return [e for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


async def drain(rt: Runtime) -> int:
    """Run the worker's queues until nothing is left to do now."""
    total = 0
    assert rt.outbox is not None
    while handled := await rt.outbox.step() + await rt.work.step():
        total += handled
    return total


__all__ = ["FakeSlack", "SlackClient", "block_actions", "buttons", "drain"]
