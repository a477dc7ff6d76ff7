"""An incoming webhook (Slack's, Microsoft Teams', or any that takes a JSON ``text``): where the
hourly case digest is posted. Its URL holds a token: it is never logged or shown."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp


class WebhookError(Exception):
    """The webhook did not take the post (its reason names no part of the URL)."""


class Webhook:
    """POSTs JSON to one URL, a session per post (an hourly post needs no pool)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        return "Webhook(***)"

    async def post(self, payload: Mapping[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.post(
                    self._url, data=body, headers={"Content-Type": "application/json"}
                ) as response,  # fmt: skip
            ):
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WebhookError(f"unreachable: {type(exc).__name__}") from None
        if not 200 <= status < 300:
            raise WebhookError(f"answered {status}")
