"""The admin console in Debian's chromium: a signed-in admin walks overview → service → claims
a case → downloads the OMB CSV, axe-core finding nothing serious or critical on any page, at
desktop width and at 320 px; with WRITE_SCREENSHOTS=1 it saves the README's pictures."""

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

from .browsing import accessible
from .conftest import Bot, free_port, make_settings, serving
from .records import response_record
from .test_console import open_case

SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture
async def site(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    port = free_port()
    settings = make_settings(fake_twilio, tmp_path, public_base_url=f"http://127.0.0.1:{port}")
    async with serving(settings, [TwilioChannel(settings)], fake_twilio, port=port) as bot:
        store = bot.rt.store
        assert store is not None
        regions = ["Northeast", "South", "West"]
        for n in range(36):  # a quarter's worth of responses, most positive, in three regions
            replies = ["yes", "1 3", "Quick and easy"] if n % 4 else ["no", "2", "Too slow"]
            await store.write(response_record(n, replies, attributes={"region": regions[n % 3]},
                                              language="es" if n % 5 == 0 else "en"))  # fmt: skip
        await open_case(bot)
        yield bot


async def check(page: Page, step: str) -> None:
    await accessible(page, step)
    width = await page.evaluate("window.innerWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, step


async def test_an_admin_walks_the_console(site: Bot, browser: Browser, tmp_path: Path) -> None:
    base = site.settings.public_base_url
    viewport = {"width": 1280, "height": 900}
    context = await browser.new_context(accept_downloads=True, viewport=viewport)
    page = await context.new_page()
    await page.goto(base + "/admin")
    await expect(page.get_by_role("heading", name="Sign in to the CX console")).to_be_visible()
    await check(page, "sign-in")
    await page.get_by_label("Console token").fill("admin-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(
        page.get_by_role("heading", name="Overview, fiscal year 2027 quarter 1")
    ).to_be_visible()
    await check(page, "overview")
    if os.environ.get("WRITE_SCREENSHOTS"):
        await page.screenshot(path=str(SCREENSHOTS / "console-overview.png"), full_page=True)
    # The quarter picker, by keyboard: the quarter before, then back.
    await page.get_by_label("Fiscal year").focus()
    await page.keyboard.press("ArrowDown")  # 2026
    await page.keyboard.press("Tab")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")  # Q4
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(
        page.get_by_role("heading", name="Overview, fiscal year 2026 quarter 4")
    ).to_be_visible()
    await expect(page.get_by_text("No surveys this quarter.").first).to_be_visible()
    await page.go_back()

    await page.get_by_role("link", name="Benefits application").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Benefits application")
    await expect(page.get_by_role("table", name="Participation by group")).to_be_visible()
    themes = page.get_by_role("table", name=re.compile("^Themes of the quarter's comments"))
    await expect(themes.get_by_role("row", name=re.compile("^Wait time 28 "))).to_be_visible()
    await check(page, "service")
    assert await page.get_by_text("Quick and easy").count() >= 1  # an admin sees comments
    if os.environ.get("WRITE_SCREENSHOTS"):
        await page.screenshot(path=str(SCREENSHOTS / "console-service.png"), full_page=True)

    await page.get_by_role("link", name="Cases").click()
    await expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    await check(page, "cases")
    await page.get_by_role("button", name=re.compile("^Claim: case")).first.click()
    await expect(page.get_by_text("claimed by admin (token)")).to_be_visible()
    await check(page, "cases after a claim")

    await page.get_by_role("link", name="Reports").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Reports")
    await check(page, "reports")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="OMB per-response CSV").click()
    download = await info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert download.suggested_filename == "a11-fy2027-q1.csv"
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("external_id,question_1,") and len(lines) == 37

    await page.get_by_role("link", name="Delivery").click()
    await expect(page.get_by_role("heading", name="Delivery", level=1)).to_be_visible()
    await check(page, "delivery")
    await context.close()


async def test_the_console_at_320_px_by_keyboard(site: Bot, browser: Browser) -> None:
    base = site.settings.public_base_url
    page = await browser.new_page(viewport={"width": 320, "height": 640})
    await page.goto(base + "/admin/sign-in")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    await page.get_by_label("Console token").focus()
    await page.keyboard.type("viewer-token-wrong")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_have_text("That token is not right.")
    await check(page, "sign-in refused at 320 px")
    await page.get_by_label("Console token").fill("admin-token")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    for path in ("/admin", "/admin/services/benefits-application", "/admin/cases",
                 "/admin/reports", "/admin/delivery"):  # fmt: skip
        await page.goto(base + path)
        await check(page, f"{path} at 320 px")


async def test_comments_found_paged_and_downloaded_by_keyboard(
    site: Bot, browser: Browser, tmp_path: Path
) -> None:
    store = site.rt.store
    assert store is not None
    await store.write_many([
        response_record(100 + n, ["no", "2", "Esperé mucho, nadie contestó"], language="es")
        for n in range(60)
    ])  # fmt: skip
    base = site.settings.public_base_url
    for width in (1280, 320):
        context = await browser.new_context(accept_downloads=True,
                                            viewport={"width": width, "height": 800})  # fmt: skip
        page = await context.new_page()
        await page.goto(base + "/admin/sign-in")
        await page.get_by_label("Console token").fill("admin-token")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
        await page.get_by_role("link", name="Comments").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Comments")
        await check(page, f"comments at {width} px")
        await page.get_by_label("Words").focus()
        await page.keyboard.type("espere")  # no accent: Spanish stems fold them
        await page.get_by_label("Language").select_option("es")
        await page.get_by_label("Words").press("Enter")
        await expect(page.get_by_role("table", name="50 comments (redacted), newest first"))\
            .to_be_visible()  # fmt: skip
        assert await page.get_by_text("Quick and easy").count() == 0
        await check(page, f"comments found at {width} px")
        older = page.get_by_role("link", name="Older comments")
        await older.focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("table", name="10 comments (redacted), newest first"))\
            .to_be_visible()  # fmt: skip
        await check(page, f"older comments at {width} px")
        await page.get_by_label("Words").fill("")
        await page.get_by_label("Language").select_option("")
        await page.get_by_label("Theme").focus()
        await page.keyboard.type("Phone")  # a select takes the label typed
        await page.get_by_label("Words").press("Enter")
        phone = page.get_by_role("table", name="50 comments (redacted), newest first")
        await expect(phone).to_be_visible()
        await expect(phone.get_by_role("cell", name="Phone line, Wait time")).to_have_count(50)
        await check(page, f"comments by theme at {width} px")
        await page.get_by_role("link", name="Older comments").click()
        await expect(page.get_by_role("table", name="10 comments (redacted), newest first"))\
            .to_be_visible()  # fmt: skip
        await page.get_by_role("link", name="Newest comments").click()
        await expect(page.get_by_label("Theme")).to_have_value("phone")
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Download every comment").click()
        download = await info.value
        saved = tmp_path / f"{width}-{download.suggested_filename}"
        await download.save_as(saved)
        lines = saved.read_text(encoding="utf-8").splitlines()
        assert download.suggested_filename == "comments-fy2027-q1.csv" and len(lines) == 61
        await context.close()


async def test_themes_previewed_and_saved_by_keyboard(site: Bot, browser: Browser) -> None:
    base = site.settings.public_base_url
    for width in (1280, 320):
        page = await browser.new_page(viewport={"width": width, "height": 800})
        await page.goto(base + "/admin/sign-in")
        await page.get_by_label("Console token").fill("admin-token")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
        await page.goto(base + "/admin/services/benefits-application")
        await page.get_by_role("link", name="Themes: change what comments are tagged with").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Benefits application: themes"
        )
        await check(page, f"themes at {width} px")
        new = page.get_by_role("group", name="A new theme").first
        await new.get_by_label("Id").fill("speed")
        await new.get_by_label("Label in English").fill("Speed")
        await new.get_by_label("Phrases in English").fill("quick\nfast")
        await new.get_by_label("Phrases in Spanish").fill("rapido")
        await page.get_by_role("button", name="Preview matches").click()
        await expect(page.get_by_role("alert")).to_contain_text("another value")  # no label es
        await check(page, f"themes refused at {width} px")
        await page.get_by_role("link", name="theme 1: label").click()  # the summary's link
        await page.get_by_label("Label in Spanish").nth(1).fill("Rapidez")
        await page.get_by_role("button", name="Preview matches").click()
        preview = page.get_by_role("table", name=re.compile("^Sample comments each theme"))
        await expect(preview.get_by_role("row", name=re.compile("^Speed"))).to_contain_text(
            "Quick and easy"
        )
        await check(page, f"themes previewed at {width} px")
        if width == 320:
            await page.get_by_role("button", name="Save themes").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "Benefits application: themes"
            )
            assert site.rt.services["benefits-application"].themes.get("speed") is not None
        await page.close()
