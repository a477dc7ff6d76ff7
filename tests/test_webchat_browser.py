"""Web chat in a real browser: Debian's chromium driven by Playwright (no browser download at
test time). A survey is completed by clicking, by keyboard only, and with JavaScript off; axe-core
checks every step (no "serious" or "critical" violation), at a phone's 320 px too; the widget
opens the survey on an agency's page of another origin."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aioweb
from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from adapters.webchat.channel import SOCKETS_PER_LINK, WebChatChannel
from bot.store.state import State

from .browsing import accessible
from .conftest import Bot, free_port, make_settings, serving

SCREENSHOT = Path(__file__).parent / "screenshots" / "webchat.png"
SCREENSHOT_320 = Path(__file__).parent / "screenshots" / "webchat-320.png"


@pytest.fixture
async def site(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot on a real port, its public URL the one the browser uses; an agency page on
    another origin may embed it."""
    port = free_port()
    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "webchat"),
                             public_base_url=f"http://127.0.0.1:{port}",
                             webchat_allowed_origins=("http://localhost:8765",))  # fmt: skip
    channels = [TwilioChannel(settings), WebChatChannel(settings)]
    async with serving(settings, channels, fake_twilio, port=port) as served:
        yield served


async def survey_url(site: Bot, tid: str = "b1", language: str | None = None) -> str:
    body: dict[str, Any] = {"transaction_id": tid, "service": "benefits-application",
                            "channel": "webchat", "to": f"visitor-{tid}"}  # fmt: skip
    if language:
        body["language"] = language
    result = await (await site.transactions(body)).json()
    return str(result["survey_url"])


async def focused_id(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.id"))


async def test_a_survey_by_clicking_live_and_accessible_at_every_step(
    site: Bot, browser: Browser, redis: Redis
) -> None:
    page = await browser.new_page()
    await page.goto(await survey_url(site))
    await page.evaluate("window.stayed = true")  # a reload would lose it
    await accessible(page, "first question")
    await page.get_by_role("button", name="Yes", exact=True).click()
    await expect(page.get_by_role("checkbox", name="Ease")).to_be_visible()
    assert await focused_id(page) == "question"  # focus moved to the new question
    await expect(page.locator("#said")).to_contain_text("What went well?")
    await accessible(page, "drivers")
    await page.get_by_role("checkbox", name="Getting my need met").check()
    await page.get_by_role("checkbox", name="Ease").check()
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_label("Your answer")).to_be_visible()
    await accessible(page, "comment")
    await page.get_by_label("Your answer").fill("Clear and quick.")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("main")).to_contain_text("Thank you! Your feedback helps")
    await accessible(page, "thank you")
    assert await page.evaluate("window.stayed === true")  # no page reload on the way
    [record] = await State(redis).ended_records()
    assert record["disposition"] == "completed" and record["channel"] == "webchat"


async def test_a_survey_by_keyboard_only(site: Bot, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(await survey_url(site, "k1"))
    # From the top of the page: the skip link, then the first answer.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to the question"
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Yes"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("checkbox", name="Ease")).to_be_visible()
    await page.keyboard.press("Tab")  # focus is on the question: next, the first checkbox
    await page.keyboard.press("Space")
    for _ in range(6):  # past the other five options to the submit button
        await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Submit"
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Your answer")).to_be_visible()
    await page.keyboard.press("Tab")
    await page.keyboard.type("Fine")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_contain_text("Thank you!")


async def test_a_survey_with_javascript_off_in_spanish_at_320_px(
    site: Bot, browser: Browser, redis: Redis
) -> None:
    context = await browser.new_context(java_script_enabled=False,
                                        viewport={"width": 320, "height": 640})  # fmt: skip
    page = await context.new_page()
    await page.goto(await survey_url(site, "j1", language="es"))
    await accessible_without_script(page, "primera pregunta")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320  # nothing wider than the phone
    async with page.expect_navigation():
        await page.get_by_role("button", name="No", exact=True).click()
    assert page.url.endswith("#question")
    await page.get_by_role("checkbox", name="Claridad").check()
    await page.get_by_role("button", name="Enviar").click()
    await page.wait_for_load_state()
    await page.get_by_role("button", name="Omitir esta pregunta").click()
    await expect(page.locator("main")).to_contain_text("¡Gracias!")
    [record] = await State(redis).ended_records()
    assert record["language"] == "es" and record["disposition"] == "completed"
    await context.close()


async def test_switching_to_spanish_live_changes_the_whole_page(
    site: Bot, browser: Browser
) -> None:
    for width in (1280, 320):
        page = await browser.new_page(viewport={"width": width, "height": 800})
        await page.goto(await survey_url(site, f"l{width}"))
        await page.evaluate("window.stayed = true")
        await expect(page).to_have_title(
            "Example Benefits Agency: Benefits application – Customer feedback survey"
        )
        await page.get_by_role("button", name="Español").click()
        await expect(page.get_by_role("button", name="Sí", exact=True)).to_be_visible()
        # Everything, over the socket: the title, the header, the skip link, the page's lang.
        await expect(page).to_have_title(
            "Example Benefits Agency: Benefits application – Encuesta de opinión"
        )
        await expect(page.locator("header")).to_contain_text("Encuesta de opinión")
        assert await page.evaluate("document.documentElement.lang") == "es"
        assert await page.locator("a.skip").text_content() == "Ir a la pregunta"
        assert await page.evaluate("window.stayed === true")  # no reload
        await accessible(page, f"Spanish at {width} px")
        text = await page.locator("body").inner_text()
        for english in ("Customer feedback survey", "Skip this question", "Or type your answer",
                        "Don't ask me again", "Yes"):  # fmt: skip
            assert english not in text, english
        await page.close()


async def test_a_page_refused_its_socket_answers_with_its_forms(
    site: Bot, browser: Browser, redis: Redis
) -> None:
    """Past its limits the server refuses a socket (429): the page, script and all, answers
    by posting its forms, as without script, rather than waiting for a socket for ever."""
    url = await survey_url(site, "f1")
    origin = site.settings.public_base_url
    held = [await site.client.ws_connect(url.removeprefix(origin) + "/ws",
                                         headers={"Origin": origin})
            for _ in range(SOCKETS_PER_LINK)]  # fmt: skip
    page = await browser.new_page()
    await page.goto(url)
    await page.evaluate("window.stayed = true")
    await page.get_by_role("button", name="Yes", exact=True).click()
    await expect(page.get_by_role("checkbox", name="Ease")).to_be_visible()
    assert await page.evaluate("window.stayed === undefined")  # a form posted: a new page
    await page.get_by_role("checkbox", name="Ease").check()
    await page.get_by_role("button", name="Submit").click()
    await page.get_by_label("Your answer").fill("Quick.")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("main")).to_contain_text("Thank you!")
    [record] = await State(redis).ended_records()
    assert record["disposition"] == "completed" and record["channel"] == "webchat"
    for ws in held:
        await ws.close()


async def test_the_thumbs_are_drawn_without_an_emoji_font(site: Bot, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(await survey_url(site, "i1"))
    for name in ("Yes", "No"):
        button = page.get_by_role("button", name=name, exact=True)
        icon = await button.locator("svg").bounding_box()
        assert icon is not None and icon["width"] >= 16 and icon["height"] >= 16
        assert await button.text_content() == name  # the icon adds no words
    assert "👍" not in await page.content() and "👎" not in await page.content()


async def test_don_t_ask_me_again_live(site: Bot, browser: Browser, redis: Redis) -> None:
    page = await browser.new_page(viewport={"width": 320, "height": 640})
    await page.goto(await survey_url(site, "o1"))
    await page.get_by_role("button", name="Don't ask me again").click()
    await expect(page.locator("main")).to_contain_text("we will not ask you for feedback again")
    assert await page.get_by_role("button").count() == 0  # nothing left to answer
    await accessible(page, "opted out")
    [record] = await State(redis).ended_records()
    assert record["disposition"] == "opted_out"


async def test_the_first_load_is_light(site: Bot, browser: Browser) -> None:
    """Under 50 KB transferred, headers included, with script (and its socket) and without."""
    for script in (True, False):
        context = await browser.new_context(java_script_enabled=script,
                                            viewport={"width": 320, "height": 640})  # fmt: skip
        page = await context.new_page()
        weight = await first_load(page, await survey_url(site, f"w{script}"))
        assert weight < 50_000, weight
        if os.environ.get("WRITE_SCREENSHOTS") and script:  # the README's picture
            await page.screenshot(path=str(SCREENSHOT_320), full_page=True)
        await context.close()


async def first_load(page: Page, url: str) -> int:
    """Bytes the browser took over the network to open ``url`` (headers and bodies, as
    Chrome's DevTools count them), once the page is idle."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    sizes: dict[str, int] = {}

    def finished(event: dict[str, Any]) -> None:
        sizes[event["requestId"]] = event["encodedDataLength"]

    cdp.on("Network.loadingFinished", finished)
    await page.goto(url)
    await page.wait_for_load_state("networkidle")
    assert len(sizes) >= 3  # the page, its styles (and its script): all counted
    return sum(sizes.values())


async def accessible_without_script(page: Page, step: str) -> None:
    """axe needs script in the page: the same page's HTML checked in a page with it on."""
    html = await page.content()
    with_script = await page.context.browser.new_page(viewport={"width": 320, "height": 640})  # type: ignore[union-attr]
    await with_script.route(
        "**/*", lambda route: route.fulfill(body=html, content_type="text/html")
    )
    await with_script.goto(page.url)
    await accessible(with_script, step)
    await with_script.close()


async def test_the_widget_opens_the_survey_on_an_agency_page(site: Bot, browser: Browser) -> None:
    url = await survey_url(site, "g1")
    base = url.split("/s/")[0]
    agency = aioweb.Application()

    async def home(request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(content_type="text/html", text=(
            '<!doctype html><html lang="en"><head><title>Apply for benefits</title></head>'
            "<body><main><h1>Your application was received</h1>"
            f'<script src="{base}/webchat.js" data-survey-url="{url}"></script>'
            "</main></body></html>"
        ))  # fmt: skip

    agency.router.add_get("/", home)
    runner = aioweb.AppRunner(agency)
    await runner.setup()
    await aioweb.TCPSite(runner, "localhost", 8765).start()
    try:
        page = await browser.new_page(viewport={"width": 900, "height": 760})
        await page.goto("http://localhost:8765/")
        opener = page.get_by_role("button", name="Give feedback")
        await opener.click()
        frame = page.frame_locator('iframe[title="Survey"]')
        await frame.get_by_role("button", name="Yes", exact=True).click()
        await expect(frame.get_by_role("checkbox", name="Ease")).to_be_visible()
        await accessible(page, "agency page with the survey open")
        if os.environ.get("WRITE_SCREENSHOTS"):  # the README's picture, made on purpose
            await page.screenshot(path=str(SCREENSHOT))
        await page.get_by_role("button", name="Close the survey").click()
        assert await page.evaluate("document.activeElement.textContent") == "Give feedback"
    finally:
        await runner.cleanup()
