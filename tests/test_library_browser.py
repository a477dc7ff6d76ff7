"""Changing a flow and a service in Debian's chromium: an admin uploads a flow with an error,
sees it at its line and path, fixes it, previews the Spanish messages with their segment
counts, tries it on the web chat page, activates it, then edits a service's settings (an
error at its field, then saved) — axe-core finding nothing serious on any page, at desktop
width and at 320 px."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from adapters.webchat.channel import WebChatChannel

from .conftest import Bot, free_port, make_settings, serving
from .test_console_browser import SCREENSHOTS, check
from .test_library import CHANGED


@pytest.fixture
async def site(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    port = free_port()
    settings = make_settings(fake_twilio, tmp_path, public_base_url=f"http://127.0.0.1:{port}",
                             channels=("sms", "webchat"))  # fmt: skip
    channels = [TwilioChannel(settings), WebChatChannel(settings)]
    async with serving(settings, channels, fake_twilio, port=port) as served:
        yield served


@pytest.mark.parametrize("width", [1280, 320])
async def test_an_admin_changes_a_flow_and_a_service(
    site: Bot, browser: Browser, width: int
) -> None:
    base = site.settings.public_base_url
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    await page.goto(base + "/admin")
    await page.get_by_label("Console token").fill("admin-token")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("link", name="Flows").click()
    await expect(page.get_by_role("heading", name="Survey flows")).to_be_visible()
    await check(page, "flows")
    await page.get_by_role("link", name="a11-v2-thumbs", exact=True).click()
    await expect(page.get_by_role("heading", name="Flow a11-v2-thumbs")).to_be_visible()
    await check(page, "flow")

    editor = page.get_by_label("Flow a11-v2-thumbs (YAML or JSON)")
    await editor.fill(CHANGED.replace("scale: thumbs", "scale: thumb"))
    await page.get_by_role("button", name="Check and keep as a new version").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("questions[0].scale: unknown scale 'thumb'")
    line = CHANGED.splitlines().index("    scale: thumbs") + 1
    await expect(alert).to_contain_text(f"Line {line} (scale: thumb)")
    await expect(editor).to_have_attribute("aria-invalid", "true")
    await check(page, "flow with an error")
    if os.environ.get("WRITE_SCREENSHOTS") and width == 1280:
        await page.screenshot(path=str(SCREENSHOTS / "console-flow-error.png"), full_page=True)

    await editor.fill(CHANGED)
    await page.get_by_role("button", name="Check and keep as a new version").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("a11-v2-thumbs, version")
    spanish = page.get_by_role("table", name="Every es message as a person sees it by text")
    trust = spanish.get_by_role("row", name=re.compile(r"^questions\[0\] question_1 Esta"))
    await expect(trust).to_contain_text("UCS-2")
    await expect(trust.get_by_role("cell").nth(2)).to_have_text("2")  # segments
    await expect(spanish).to_contain_text("3 preguntas breves")
    await check(page, "preview")
    if os.environ.get("WRITE_SCREENSHOTS") and width == 1280:
        await page.screenshot(path=str(SCREENSHOTS / "console-flow-preview.png"), full_page=True)

    version_url = page.url
    await page.get_by_role("button", name="Try it in Spanish (records nothing)").click()
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    await expect(page.get_by_text("3 preguntas breves")).to_be_visible()
    await page.goto(version_url)

    await page.get_by_role("button", name="Activate this version").click()
    await expect(page.get_by_role("heading", name="Flow a11-v2-thumbs")).to_be_visible()
    assert site.rt.flows["a11-v2-thumbs"].messages["intro"]["en"].startswith("{agency}: three")
    await expect(page.get_by_role("button", name="Roll back to")).to_have_count(1)
    await check(page, "flow activated")

    await page.goto(base + "/admin/services/benefits-application/settings")
    await page.get_by_label("Share of transactions surveyed").fill("most")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("Enter a number.").first).to_be_visible()
    await check(page, "settings with an error")
    await page.get_by_label("Share of transactions surveyed").fill("0.5")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("table", name="Changes, newest first")).to_contain_text(
        "sample_rate: 0.5"
    )
    assert site.rt.services["benefits-application"].sample_rate == 0.5
    await page.get_by_role("button", name="Pause surveys").click()
    await expect(page.get_by_role("button", name="Resume surveys")).to_be_visible()
    await check(page, "settings")
    await context.close()


async def tab_to(page: Page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused element is the one with this accessible id or name."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "(() => { const e = document.activeElement;"
            " return [e.id, e.textContent.trim(), e.getAttribute('name')]; })()"
        )
        if name in focused:
            return
    raise AssertionError(f"{name!r} cannot be reached by Tab")


async def test_a_flow_and_a_service_by_keyboard_only(site: Bot, browser: Browser) -> None:
    base = site.settings.public_base_url
    page = await browser.new_page(viewport={"width": 320, "height": 640})
    await page.goto(base + "/admin/sign-in")
    await tab_to(page, "token")
    await page.keyboard.type("admin-token")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    await tab_to(page, "Flows")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Survey flows")).to_be_visible()
    await tab_to(page, "a11-v2-thumbs")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Flow a11-v2-thumbs")).to_be_visible()
    await tab_to(page, "text")  # the editor
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(CHANGED.replace("scale: thumbs", "scale: thumb"))
    await tab_to(page, "Check and keep as a new version")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("questions[0].scale")
    await page.goto(base + "/admin/services/benefits-application/settings")
    await tab_to(page, "Pause surveys")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Resume surveys")).to_be_visible()
    assert site.rt.services["benefits-application"].paused
    await page.close()
