"""Shared fixtures: real Redis, a loopback fake Twilio, the real app on a real socket."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from twilio.request_validator import RequestValidator

from adapters.testing.oidc_fake import FakeOidc
from adapters.testing.twilio_fake import FakeMessage, FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core.secret import Secret
from bot.service.runtime import Runtime
from bot.settings import Settings
from bot.web.app import RUNTIME, create_app

from .browsing import browser  # noqa: F401 (the real browser, for the page tests)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PUBLIC = "https://feedback.example.gov"  # what Twilio signs: we sit behind a TLS proxy


class Clock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def free_port() -> int:
    """A port free on 127.0.0.1 now (for a server whose public URL must be known first)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except Exception as exc:  # pragma: no cover - the machine must have Redis
        pytest.fail(f"tests need a real Redis at {REDIS_URL}: {exc}")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


class RedisServer:
    """A redis-server of the test's own, to flush, kill and restart: by default without
    persistence (a restart comes back empty); ``options`` are redis-server's, after those."""

    def __init__(self, directory: Path, *options: str) -> None:
        server = shutil.which("redis-server")
        assert server, "the tests need redis-server on the PATH"
        self.port = free_port()
        self.command = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", str(directory), *options]  # fmt: skip
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.clients: list[Redis] = []

    def client(self) -> Redis:
        """A client of the test's own (closed with the server)."""
        self.clients.append(Redis.from_url(self.url, decode_responses=True))
        return self.clients[-1]

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                                  capture_output=True, text=True, check=False)  # fmt: skip
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        for client in server.clients:
            await client.aclose()
        server.kill()


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


def make_settings(fake: FakeTwilio, data_dir: Path, **changes: Any) -> Settings:
    base = Settings(
        redis_url=REDIS_URL,
        data_dir=data_dir,
        public_base_url=PUBLIC,
        api_token=Secret("api-token"),
        admin_token=Secret("admin-token"),
        pseudonym_key=Secret("pseudonym-key"),
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=Secret(fake.auth_token),
        twilio_from_number="+12025550100",
        twilio_api_base_url=fake.base_url,
        twilio_send_timeout=2.0,
        send_rate=1000.0,
        send_burst=1000.0,
    )
    return replace(base, **changes)


@dataclass
class Bot:
    """The app under test and the handles a test needs."""

    client: TestClient[Any, Any]
    fake: FakeTwilio
    clock: Clock
    settings: Settings

    @property
    def rt(self) -> Runtime:
        return self.client.app[RUNTIME]  # type: ignore[index]

    async def transactions(self, body: Any, token: str = "api-token") -> aiohttp.ClientResponse:
        return await self.client.post(
            "/v1/transactions", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    async def twilio(
        self, path: str, params: dict[str, str], *, signature: str | None = None
    ) -> aiohttp.ClientResponse:
        if signature is None:
            signature = RequestValidator(self.fake.auth_token).compute_signature(
                self.settings.public_base_url + path, params
            )
        return await self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})

    async def status(self, message: FakeMessage, status: str, code: int | None = None) -> int:
        """Twilio reports a message status (signed over the public URL, sent to the app)."""
        url = str(self.client.make_url("/webhooks/twilio/status"))
        return await self.fake.send_status(
            self.client.session, message, status, error_code=code, post_to=url
        )

    async def text(self, number: str, body: str, sid: str | None = None) -> str:
        """A person texts the bot; returns the TwiML the bot answered with."""
        self.sequence = getattr(self, "sequence", 0) + 1
        params = {
            "MessageSid": sid or f"SMin{self.sequence:030d}",
            "AccountSid": self.fake.account_sid,
            "From": number,
            "To": "+12025550100",
            "Body": body,
        }
        response = await self.twilio("/webhooks/twilio/messages", params)
        assert response.status == 200, await response.text()
        return await response.text()


@asynccontextmanager
async def serving(
    settings: Settings,
    channels: list[Any],
    fake: FakeTwilio,
    *,
    port: int | None = None,
    worker: bool = False,
) -> AsyncIterator[Bot]:
    """The real app under test on its own server, with its clock (on ``port`` when its
    public URL must name it, as a browser's pages do; with ``worker``, the worker's loops
    run in it too, as in ``feedback-bot run``)."""
    clock = Clock()
    app = create_app(settings, channels=channels, clock=clock, worker=worker)
    server = TestServer(app, host="127.0.0.1", port=port) if port else TestServer(app)
    async with TestClient(server) as client:
        yield Bot(client, fake, clock, settings)


@pytest.fixture
async def bot(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    settings = make_settings(fake_twilio, tmp_path)
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as served:
        yield served


@pytest.fixture
async def console(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    """The app with the console's two sign-in tokens (admin and viewer)."""
    settings = make_settings(fake_twilio, tmp_path, viewer_token=Secret("viewer-token"))
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as served:
        yield served


@pytest.fixture
async def provider() -> AsyncIterator[FakeOidc]:
    """The loopback OpenID Connect provider, on a port of its own."""
    fake = FakeOidc()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.issuer = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


@pytest.fixture
async def oidc_console(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path, provider: FakeOidc
) -> AsyncIterator[Bot]:
    """The app, signing in to the console through that provider."""
    settings = replace(
        make_settings(fake_twilio, tmp_path), oidc_issuer=provider.issuer,
        oidc_client_id=provider.client_id, oidc_client_secret=Secret(provider.client_secret),
    )  # fmt: skip
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as served:
        yield served
