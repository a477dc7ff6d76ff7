"""Cases on a deployment without Slack: a negative SMS answer opens a case that the console's
inbox shows (filtered by service, status, rule and age) and an admin claims and resolves in
Debian's chromium, axe-core clean at desktop width and 320 px; the overview counts it; and
the optional hourly digest (``CASE_DIGEST_WEBHOOK``) posts counts per service and a link to a
loopback webhook — never what the person wrote."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core.secret import Secret
from bot.service import alerts

from .conftest import Bot, free_port, make_settings, serving
from .test_console_browser import SCREENSHOTS, check
from .test_measures_api import forward, survey


class Hook:
    """A loopback incoming webhook: keeps what is posted to it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        async def take(request: web.Request) -> web.Response:
            self.posts.append(await request.json())
            return web.Response(status=self.status, text="ok")

        app = web.Application()
        app.router.add_post("/hooks/T000/B000/secret-token", take)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hooks/T000/B000/secret-token"


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    served = Hook()
    await served.start()
    yield served
    assert served.runner is not None
    await served.runner.cleanup()


@pytest.fixture
async def site(
    redis: Redis, fake_twilio: FakeTwilio, hook: Hook, tmp_path: Path
) -> AsyncIterator[Bot]:
    port = free_port()
    settings = make_settings(fake_twilio, tmp_path, public_base_url=f"http://127.0.0.1:{port}",
                             case_digest_webhook=Secret(hook.url))  # fmt: skip
    assert not settings.slack_bot_token  # no Slack on this deployment
    async with serving(settings, [TwilioChannel(settings)], fake_twilio, port=port) as bot:
        assert bot.rt.notifier is None
        yield bot


async def settle(bot: Bot) -> None:
    """The outbox forwards ended surveys (opening cases), the work queue records them."""
    await forward(bot)
    while await bot.rt.work.step():
        pass


@pytest.mark.parametrize("width", [1280, 320])
async def test_a_negative_sms_answer_opens_a_case_claimed_and_resolved_in_the_console(
    site: Bot, browser: Browser, width: int
) -> None:
    await survey(site, "+12025550123", "neg-1",
                 ["no", "2", "I was on hold for 3 hours, call me at 555-867-5309"])  # fmt: skip
    await survey(site, "+12025550124", "pos-1", ["yes", "1", "Great"])
    await settle(site)
    [case] = await site.rt.state.open_cases()
    assert case["reasons"][0] == "trust_negative" and case["themes"] == ["phone", "wait_time"]
    assert case["service"] == "benefits-application"
    assert site.rt.store is not None
    stored = await site.rt.store.case(case["case_id"])
    assert stored is not None and stored["status"] == "received"  # in the store without Slack

    base = site.settings.public_base_url
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await page.goto(base + "/admin/sign-in")
    await page.get_by_label("Console token").fill("admin-token")
    await page.keyboard.press("Enter")
    overview = page.get_by_role("listitem").filter(has_text="Benefits application")
    await expect(overview.get_by_role("link", name="1", exact=True)).to_be_visible()  # open cases
    await page.get_by_role("link", name="Cases").click()
    await expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    table = page.get_by_role("table", name="1 open case, oldest first")
    await expect(table).to_contain_text("negative trust answer")
    await expect(table).to_contain_text("I was on hold for 3 hours, call me at [PHONE]")
    await expect(table).to_contain_text("Themes: Phone line, Wait time")  # the comment's
    await expect(table).not_to_contain_text("867-5309")
    await check(page, f"cases at {width}")
    if width == 1280 and os.environ.get("WRITE_SCREENSHOTS"):
        await page.screenshot(path=str(SCREENSHOTS / "console-cases.png"), full_page=True)

    for label, value, shown in (("Opened by", "crisis", 0), ("Opened by", "trust_negative", 1),
                                ("Age", "1d", 0), ("Service", "permit-renewal", 0)):  # fmt: skip
        await page.goto(base + "/admin/cases")
        await page.get_by_label(label).select_option(value)
        await page.get_by_role("button", name="Filter").click()
        rows = page.get_by_role("table", name=re.compile("open case"))
        await expect(rows).to_have_count(shown)

    await page.goto(base + "/admin/cases")
    await page.get_by_role("button", name=re.compile("^Claim: case")).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("cell", name="claimed by admin (token)")).to_be_visible()
    await page.get_by_role("button", name=re.compile("^Resolve: case")).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("No open cases.")).to_be_visible()
    closed = page.get_by_role("table", name="1 recently closed case, newest first")
    await expect(closed).to_contain_text("resolved by admin (token)")
    await check(page, f"cases after resolving at {width}")
    assert await site.rt.state.open_cases() == []
    stored = await site.rt.store.case(case["case_id"])
    assert stored is not None and stored["status"] == "resolved"
    await page.close()


async def test_the_digest_posts_counts_and_a_link_never_comment_text(site: Bot, hook: Hook) -> None:
    await survey(site, "+12025550123", "neg-1", ["no", "2", "Nobody called me back"])
    await survey(site, "+12025550125", "neg-2", ["no", "2", "The clerk was rude"])
    await settle(site)
    rt = site.rt
    hour = await alerts.digest_due(rt)  # the hour that began at 15:00
    assert hour is not None and await alerts.digest_due(rt) is None  # once an hour, anywhere
    site.clock.advance(hours=1)  # the cases opened at 15:00 are in the hour to 16:00
    end = await alerts.digest_due(rt)
    assert end is not None and end == hour + timedelta(hours=1)
    counts = await alerts.send_digest(rt, end)
    assert counts == {"benefits-application": 2}
    [posted] = hook.posts
    assert posted["new_cases"] == {"benefits-application": 2}
    assert posted["link"] == site.settings.public_base_url + "/admin/cases"
    assert posted["text"].startswith(
        "2 new cases in the hour to 16:00 UTC: Benefits application 2."
    )
    text = json.dumps(posted)
    for said in ("Nobody", "called", "rude", "clerk", "+1202"):
        assert said not in text  # no response content in a notification
    site.clock.advance(hours=1)
    quiet = await alerts.digest_due(rt)
    assert quiet is not None and await alerts.send_digest(rt, quiet) == {}
    assert len(hook.posts) == 1  # nothing posted for an hour with no new case
    hook.status = 500
    site.clock.advance(hours=-1)
    with pytest.raises(Exception, match="answered 500"):
        await alerts.send_digest(rt, end)
    assert "secret-token" not in repr(rt.digest)
