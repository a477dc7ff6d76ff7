"""A flow in the earlier format in the console, in Debian's chromium: kept with its warnings, each
at its line, on the version's page and in the editor, axe-core finding nothing serious on
either, at desktop width and at 320 px."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel

from .conftest import Bot, free_port, make_settings, serving
from .test_console_browser import check
from .test_earlier_format import admin_text


@pytest.fixture
async def site(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    port = free_port()
    settings = make_settings(fake_twilio, tmp_path, public_base_url=f"http://127.0.0.1:{port}")
    async with serving(settings, [TwilioChannel(settings)], fake_twilio, port=port) as served:
        yield served


@pytest.mark.parametrize("width", [1280, 320])
async def test_an_earlier_flow_is_kept_with_its_warnings_at_their_lines(
    site: Bot, browser: Browser, width: int
) -> None:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    await page.goto(site.settings.public_base_url + "/admin/flows/a11-v2-thumbs")
    await page.get_by_label("Console token").fill("admin-token")
    await page.get_by_role("button", name="Sign in").click()
    await page.goto(site.settings.public_base_url + "/admin/flows/a11-v2-thumbs")
    text = admin_text()
    await page.get_by_label("Flow a11-v2-thumbs (YAML or JSON)").fill(text)
    await page.get_by_role("button", name="Check and keep as a new version").click()

    await expect(page.get_by_role("heading", level=1)).to_contain_text("a11-v2-thumbs, version")
    warnings = page.locator("#flow-warnings")
    await expect(warnings.get_by_role("heading")).to_have_text(
        "10 warnings: this flow runs, and should change"
    )
    line = text.splitlines().index('      es: "Esta interacción aumentó mi confianza en '
                                   '{provider}. 1=Sí 0=No"') + 1  # fmt: skip
    await expect(warnings).to_contain_text(
        f'Line {line} (es: "Esta interacción aumentó mi confianza en {{provider}}. 1=Sí 0=No"), '
        "questions[0].prompt.es: earlier format (runs as before): leave '1=Sí 0=No' out"
    )
    await check(page, "a version with warnings")

    await page.get_by_role("link", name="All versions").click()
    # the newest version (this one) is the first row
    await page.get_by_role("link", name=re.compile(r"^Edit \w+ as YAML$")).first.click()
    editor = page.get_by_label("Flow a11-v2-thumbs (YAML or JSON)")
    await expect(editor).to_have_value(text)
    await expect(editor).to_have_attribute("aria-describedby", "flow-warnings text-hint")
    await expect(page.locator("#flow-warnings")).to_contain_text("10 warnings")
    await check(page, "the editor with warnings")
    await context.close()
