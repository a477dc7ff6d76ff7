"""The console says whose it is and speaks to people, in Debian's chromium: the agency's name
and logo in the header and the title, the USWDS ".gov" banner on a .gov host (opened by
keyboard), a favicon (no request answered 404), counts with their nouns ("1 response"), a
goal with no value yet said once, questions in the effort table by their words — axe-core
clean at desktop width and 320 px."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel

from .browsing import CHROMIUM
from .conftest import Bot, free_port, make_settings, serving
from .records import response_record
from .test_console_browser import check

HOST = "feedback.example.gov"  # resolved to 127.0.0.1 by the browser


@pytest.fixture
async def site(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    port = free_port()
    logo = tmp_path / "seal.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                    '<circle cx="5" cy="5" r="5" fill="#1a4480"/></svg>')  # fmt: skip
    settings = make_settings(fake_twilio, tmp_path, public_base_url=f"http://{HOST}:{port}",
                             agency_name="Example Benefits Agency", agency_logo=logo)  # fmt: skip
    async with serving(settings, [TwilioChannel(settings)], fake_twilio, port=port) as bot:
        assert bot.rt.store is not None
        await bot.rt.store.write(response_record(1, ["no", "2", "Slow"]))
        yield bot


@pytest.fixture
async def gov_browser() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", f"--host-resolver-rules=MAP {HOST} 127.0.0.1"],
        )
        yield launched
        await launched.close()


@pytest.mark.parametrize("width", [1280, 320])
async def test_the_console_names_its_agency_and_speaks_to_people(
    site: Bot, gov_browser: Browser, width: int
) -> None:
    base = site.settings.public_base_url
    page = await gov_browser.new_page(viewport={"width": width, "height": 900})
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    await page.goto(base + "/admin/sign-in")
    banner = page.get_by_role("region", name="Official website of the United States government")
    await expect(banner).to_contain_text("An official website of the United States government")
    await expect(banner.get_by_text("Official websites use .gov.")).to_be_hidden()
    await banner.locator("summary").focus()
    await page.keyboard.press("Enter")
    await expect(banner.get_by_text("Official websites use .gov.")).to_be_visible()
    await check(page, f"sign-in on .gov at {width}")
    await page.get_by_label("Console token").fill("admin-token")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("banner")).to_contain_text("Example Benefits Agency: CX console")
    assert await page.title() == "Overview · Example Benefits Agency CX console"
    logo = page.locator("header img.logo")
    assert await logo.evaluate("img => img.complete && img.naturalWidth > 0")
    card = page.get_by_role("listitem").filter(has_text="Benefits application")
    await expect(card).to_contain_text("1 response from 1 invitation delivered")
    await expect(card).to_contain_text("not yet measurable")
    await expect(card).not_to_contain_text("(not measurable)")
    await expect(card).to_contain_text("Trust: share positive, at least 80.0%")
    await check(page, f"overview at {width}")
    await page.goto(base + "/admin/services/benefits-application")
    effort = page.get_by_role("table", name="Where people stopped")
    await expect(effort).to_contain_text("1. This interaction increased my trust in")
    await expect(effort).not_to_contain_text("question_1")
    await check(page, f"service at {width}")
    href = await page.locator("link[rel=icon]").get_attribute("href")
    icon = await page.goto(base + str(href))
    assert icon is not None and icon.status == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert missing == []  # no favicon, logo or asset answered 404
    await page.close()


async def test_no_banner_off_a_gov_host(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path, browser: Browser
) -> None:
    port = free_port()
    settings = make_settings(fake_twilio, tmp_path, public_base_url=f"http://127.0.0.1:{port}")
    async with serving(settings, [TwilioChannel(settings)], fake_twilio, port=port):
        page = await browser.new_page()
        await page.goto(f"http://127.0.0.1:{port}/admin/sign-in")
        await expect(page.get_by_role("heading", name="Sign in to the CX console")).to_be_visible()
        assert await page.get_by_text("An official website").count() == 0
        # three agencies in the catalog and no AGENCY_NAME: the console names none
        assert await page.title() == "Sign in · CX console"
        await page.close()
