"""An HTTPS sink: each response record POSTed as JSON, signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import json

import aiohttp

from bot.core.secret import Secret
from bot.core.sinks import ResponseRecord, SinkError

SIGNATURE_HEADER = "X-Feedback-Signature"


def signature(secret: Secret, body: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of the exact request body."""
    return "sha256=" + hmac.new(secret.reveal().encode(), body, hashlib.sha256).hexdigest()


class HttpsSink:
    """POSTs to one URL; the receiver de-duplicates on the ``Idempotency-Key`` header."""

    def __init__(self, url: str, secret: Secret, timeout: float = 10.0) -> None:
        self.url = url
        self.safe_url = url.split("?")[0]  # a query may carry a credential: never log it
        self.name = f"https:{self.safe_url}"
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"HttpsSink({self.safe_url!r})"

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def write(self, record: ResponseRecord) -> None:
        if self._session is None:
            raise RuntimeError("HttpsSink.start() was not awaited")
        body = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self.secret, body),
            "Idempotency-Key": record["response_id"],
        }
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SinkError(
                f"{self.safe_url} unreachable: {type(exc).__name__}", retryable=True
            ) from None
        if 200 <= status < 300:
            return
        retryable = status in (408, 425, 429) or status >= 500
        raise SinkError(f"{self.safe_url} answered {status}", retryable=retryable)
