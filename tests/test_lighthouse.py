"""Lighthouse's verdict on the two pages the public sees, with its mobile settings (a
mid-range phone on a slow 4G link, simulated): the published report's index and the web chat
survey score 100 for accessibility and at least 95 for performance.

Lighthouse comes from npm (``.ci/run`` installs it into ``.ci/lighthouse``; ``LIGHTHOUSE``
may name another ``cli/index.js``) and drives Debian's chromium through ``CHROME_PATH``: no
browser is downloaded. In CI a missing Lighthouse fails the test rather than skipping it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from adapters.webchat.channel import WebChatChannel
from bot.core.public import public_report
from bot.service.publish import Site, write_site

from . import reference
from .browsing import CHROMIUM
from .conftest import Bot, free_port, make_settings, serving
from .records import FLOWS, response_record
from .test_measures import SERVICES, regional

ROOT = Path(__file__).parent.parent
INSTALLED = ROOT / ".ci" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"


def _lighthouse() -> list[str]:
    """The command that runs Lighthouse, or the test's end when there is none."""
    script = Path(os.environ.get("LIGHTHOUSE", INSTALLED))
    node = shutil.which("node")
    if node and script.is_file() and Path(CHROMIUM).exists():
        return [node, str(script)]
    message = (f"Lighthouse needs node, {script} (npm install --prefix .ci/lighthouse "
               f"lighthouse, as .ci/run does) and chromium at {CHROMIUM}")  # fmt: skip
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


async def scores(url: str) -> dict[str, Any]:
    """Lighthouse's accessibility and performance scores (0-100) of ``url`` on mobile, and
    the audits that cost points (in an asyncio subprocess: the bot under test answers on
    this event loop meanwhile)."""
    command = _lighthouse()
    process = await asyncio.create_subprocess_exec(
        *command, url, "--quiet", "--output=json", "--output-path=stdout",
        "--only-categories=accessibility,performance", "--form-factor=mobile",
        "--chrome-flags=--headless=new --no-sandbox", "--disable-full-page-screenshot",
        "--skip-audits=screenshot-thumbnails,final-screenshot",  # unscored, and slow
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()[-2000:]
    result = json.loads(out)
    found: dict[str, Any] = {k: round(100 * c["score"]) for k, c in result["categories"].items()}
    found["lost"] = sorted(
        ref["id"]
        for category in result["categories"].values()
        for ref in category["auditRefs"]
        if ref["weight"] and (result["audits"][ref["id"]]["score"] or 0) < 1
    )
    return found


@pytest.fixture
async def site(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    port = free_port()
    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "webchat"),
                             public_base_url=f"http://127.0.0.1:{port}")  # fmt: skip
    channels = [TwilioChannel(settings), WebChatChannel(settings)]
    async with serving(settings, channels, fake_twilio, port=port) as served:
        yield served


async def test_the_public_pages_score_100_for_accessibility_and_95_for_performance(
    site: Bot, tmp_path: Path
) -> None:
    _lighthouse()  # before anything else: CI fails at once when Lighthouse is missing
    # the published report, served as an agency would host it
    records = regional("north", 0, 14) + regional("south", 100, 12, silent=20)
    records += regional("west", 300, 3)
    records += [response_record(200 + i, ["no", "2 3", "Muy lento"], language="es",
                                attributes={"region": "north"}) for i in range(11)]  # fmt: skip
    report = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1)
    out = tmp_path / "site"
    write_site(public_report(report, SERVICES), out, Site(agency="Example Benefits Agency",
                                                          contact="cx@example.gov"))  # fmt: skip
    host = web.Application()
    host.router.add_static("/", out)
    runner = web.AppRunner(host, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        published = await scores(f"http://127.0.0.1:{port}/index.html")
    finally:
        await runner.cleanup()
    # the web chat survey's first page, as the invited person opens it
    body = {"transaction_id": "lh1", "service": "benefits-application", "channel": "webchat",
            "to": "visitor-lh1"}  # fmt: skip
    url = (await (await site.transactions(body)).json())["survey_url"]
    webchat = await scores(url)
    print(f"lighthouse: published report {published}, web chat {webchat}")  # for -s
    for name, found in (("published report", published), ("web chat", webchat)):
        assert found["accessibility"] == 100, (name, found)
        assert found["performance"] >= 95, (name, found)
