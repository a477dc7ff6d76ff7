"""Channels are plugins: a channel the bot knows but does not enable is refused at intake, and
a package registers a channel of its own through the ``feedback_bot.channels`` entry points."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from bot import registry
from bot.service import delivery
from bot.web.app import RUNTIME, create_app
from bot.web.openapi import openapi_document

from .conftest import Bot, Clock, make_settings

# A whole channel, as a third party would write it: its kind, and an adapter that keeps what
# it sends and turns a JSON post into the core's inbound message.
TINY = """
from aiohttp import web
from bot.core.channels import ChannelKind, Core, Inbound, Sent


class TinyChannel:
    channels = ("tiny",)

    def __init__(self, settings):
        self.sent = []

    async def start(self):
        pass

    async def close(self):
        pass

    async def send(self, channel, to, text, prompt=None, *, tag=None):
        self.sent.append((to, text))
        return Sent(f"tiny-{len(self.sent)}", "delivered")

    async def find_sent(self, channel, to, text, since):
        return None

    def jobs(self):
        return {}

    def routes(self, core: Core):
        async def inbound(request):
            body = await request.json()
            reply = await core.message(Inbound("tiny", body["from"], body["text"], body["id"]))
            return web.json_response({"messages": list(reply.messages)})

        return [web.post("/tiny/in", inbound)]


TINY = ChannelKind(
    name="tiny", reported="chatbot", texting=False,
    address=lambda raw: raw if raw.startswith("tiny-") else None,
    address_hint="not a tiny id", adapter="tiny_channel:TinyChannel", interface="text",
)
"""


@pytest.fixture
def tiny_package(tmp_path: Path) -> Iterator[Path]:
    """An installed distribution (a module and its dist-info) that registers ``tiny``."""
    site = tmp_path / "site"
    (site / "tiny_channel-0.1.dist-info").mkdir(parents=True)
    (site / "tiny_channel.py").write_text(TINY)
    (site / "tiny_channel-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tiny-channel\nVersion: 0.1\n"
    )
    (site / "tiny_channel-0.1.dist-info" / "entry_points.txt").write_text(
        "[feedback_bot.channels]\ntiny = tiny_channel:TINY\n"
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    registry.kinds.cache_clear()
    openapi_document.cache_clear()
    yield site
    sys.path.remove(str(site))
    sys.modules.pop("tiny_channel", None)
    registry.kinds.cache_clear()
    openapi_document.cache_clear()


async def test_a_known_channel_not_enabled_is_refused_and_costs_no_cap(
    bot: Bot, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    started = " ".join(r.getMessage() for r in caplog.get_records("setup"))
    assert "benefits-application lists channels not enabled here" in started
    assert "slack, voice, webchat" in started
    # webchat is in the catalog, but this deployment enables only sms and whatsapp
    item = {"transaction_id": "w1", "service": "benefits-application", "channel": "webchat",
            "to": "visitor-1"}  # fmt: skip
    response = await bot.transactions(item)
    assert response.status == 422
    body = await response.json()
    assert (body["status"], body["errors"]) == ("invalid", {"channel": "not enabled"})
    assert await delivery.deliver_due(bot.rt) == 0
    person = bot.rt.person("visitor-1")
    assert not await redis.exists(bot.rt.state.k_person(person))  # no cap, no cool-down


async def test_a_channel_registered_by_a_package_surveys_end_to_end(
    tiny_package: Path, redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    assert "tiny" in registry.kinds()
    catalog = (
        Path("flows/services.yaml")
        .read_text()
        .replace("channels: [sms, whatsapp, slack, webchat, voice]", "channels: [sms, tiny]")
    )
    (tmp_path / "services.yaml").write_text(textwrap.dedent(catalog))
    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "tiny"),
                             services_file=tmp_path / "services.yaml")  # fmt: skip
    clock = Clock()
    app = create_app(settings, clock=clock)  # the adapters come from the registry
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        rt = app[RUNTIME]
        schema = openapi_document()["components"]["schemas"]["Transaction"]
        assert "tiny" in schema["properties"]["channel"]["enum"]
        bad = await client.post(
            "/v1/transactions", headers={"Authorization": "Bearer api-token"},
            json={"transaction_id": "t0", "service": "benefits-application", "channel": "tiny",
                  "to": "+12025550123"},
        )  # fmt: skip
        assert (await bad.json())["errors"] == {"to": "not a tiny id"}
        accepted = await client.post(
            "/v1/transactions", headers={"Authorization": "Bearer api-token"},
            json={"transaction_id": "t1", "service": "benefits-application", "channel": "tiny",
                  "to": "tiny-ana"},
        )  # fmt: skip
        assert accepted.status == 202, await accepted.text()
        assert await delivery.deliver_due(rt) == 1
        adapter = rt.outbound["tiny"]
        [(to, invitation)] = adapter.sent  # type: ignore[attr-defined]
        assert to == "tiny-ana" and "Example Benefits Agency" in invitation
        reply = await client.post("/tiny/in", json={"from": "tiny-ana", "text": "yes", "id": "m1"})
        messages = (await reply.json())["messages"]
        assert messages and messages[0] != invitation  # the next question, from the same engine
        survey = await rt.state.survey(await rt.state.open_survey(rt.person("tiny-ana"), "tiny"))
        assert survey is not None and survey["channel"] == "tiny"
    finally:
        await client.close()
