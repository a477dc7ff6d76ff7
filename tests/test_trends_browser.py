"""Trends in Debian's chromium: the overview and a service page show the last eight quarters
as line charts with their tables and the drivers against the quarter before; axe-core finds
nothing serious at 1280 and 320 px, no label is cut, the charts' text is the tables' size, and
a quarter with too few respondents is a gap the table explains. With WRITE_SCREENSHOTS=1 it
saves the README's picture of a trend."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel

from .browsing import accessible
from .conftest import Bot, free_port, make_settings, serving
from .records import FLOWS, T0, response_record
from .test_console_browser import SCREENSHOTS, check

SCRIPTS = [["yes", "1 3", "Quick and easy"], ["yes", "1 2", "Fine"],
           ["no", "1 2", "Too slow"], ["yes", "1", "Good"]]  # fmt: skip


@pytest.fixture
async def site(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    port = free_port()
    settings = make_settings(fake_twilio, tmp_path, public_base_url=f"http://127.0.0.1:{port}")
    async with serving(settings, [TwilioChannel(settings)], fake_twilio, port=port) as bot:
        store = bot.rt.store
        assert store is not None
        records = []
        for back in range(9):  # nine quarters, FY2027 Q1 back; FY2026 Q2 with four people
            for n in range(4 if back == 3 else 12 + 2 * back):
                replies = SCRIPTS[(n + back) % len(SCRIPTS)] if (n + back) % 5 else ["no", "2"]
                records.append(response_record(
                    1000 * back + n, replies,
                    completed_at=T0 - timedelta(days=91 * back, hours=n),
                ))  # fmt: skip
        await store.write_many(records)
        yield bot


async def sign_in(page: Page, base: str) -> None:
    await page.goto(base + "/admin/sign-in")
    await page.get_by_label("Console token").fill("admin-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")


async def nothing_cut(page: Page) -> None:
    """Every text of every chart lies inside its chart, and every bar label is whole."""
    outside = await page.evaluate("""() => [...document.querySelectorAll('.chart-wrap svg')]
      .flatMap(svg => [...svg.querySelectorAll('text')].filter(t => {
        const b = t.getBBox();
        return b.x < 0 || b.y < 0 || b.x + b.width > svg.width.baseVal.value
               || b.y + b.height > svg.height.baseVal.value;
      }).map(t => t.textContent))""")
    assert outside == []
    cut = await page.evaluate("""() => [...document.querySelectorAll('.bar-label')]
      .filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent)""")
    assert cut == []


async def test_trends_on_the_overview_and_a_service_page(site: Bot, browser: Browser) -> None:
    base = site.settings.public_base_url
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await sign_in(page, base)
    trust = page.get_by_role("table", name="Trust, the last 8 quarters")
    await expect(trust.first).to_be_visible()
    await check(page, "overview with trends")
    await expect(page.get_by_text("a quarter with fewer than 10 respondents has no figure").first
                 ).to_be_visible()  # fmt: skip
    await nothing_cut(page)
    # one chart per line: trust, response rate and the service's goal on minutes to finish
    charts = page.locator("#trend-benefits-application ~ .trend svg[role=img]")
    assert await charts.count() >= 3
    name = await page.locator("svg[role=img]").first.evaluate(
        "svg => document.getElementById(svg.getAttribute('aria-labelledby')).textContent"
    )
    assert name.startswith("Trust, FY2025 Q2 to FY2027 Q1:") and "no figure for FY2026 Q2" in name
    # the quarter with four people is a gap, and the table says why
    row = trust.first.get_by_role("row", name="FY2026 Q2")
    await expect(row).to_contain_text("fewer than 10 respondents: not shown")
    sizes = await page.evaluate("""() => [
      getComputedStyle(document.querySelector('.chart-wrap svg text')).fontSize,
      getComputedStyle(document.querySelector('.trend td')).fontSize]""")
    assert sizes[0] == sizes[1] == "15px"
    values = await page.locator(".chart-wrap svg").first.locator("text").all_text_contents()
    assert sum(v.endswith("%") for v in values) == 7  # a value on every point shown

    await page.get_by_role("link", name="Benefits application").first.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Benefits application")
    await check(page, "service page with trends")
    await nothing_cut(page)
    drivers = page.get_by_role("table", name="What went well (trust answered yes): share who "
                               "chose each driver")  # fmt: skip
    await expect(drivers).to_be_visible()
    await expect(drivers.get_by_role("columnheader")).to_have_text(
        ["Driver", "FY2027 Q1", "FY2026 Q4", "Change"]
    )
    await expect(drivers.get_by_role("row", name="Ease")).to_contain_text("points")
    # the label that was cut to "Getting my need me" is whole, each bar with its quarter
    await expect(page.locator(".bar-label", has_text="Getting my need met").first).to_be_visible()
    await expect(page.get_by_text("100.0% FY2026 Q4", exact=True).first).to_be_visible()
    if os.environ.get("WRITE_SCREENSHOTS"):
        await page.locator(".trend").first.screenshot(path=str(SCREENSHOTS / "console-trend.png"))
    await page.close()


async def test_trends_at_320_px(site: Bot, browser: Browser) -> None:
    base = site.settings.public_base_url
    page = await browser.new_page(viewport={"width": 320, "height": 640})
    await sign_in(page, base)
    for path in ("/admin", "/admin/services/benefits-application"):
        await page.goto(base + path)
        await check(page, f"{path} at 320 px")  # the page itself never scrolls sideways
        await nothing_cut(page)
        chart = page.locator(".chart-wrap").first
        # the chart keeps its size and scrolls in its own region, reachable by keyboard
        assert await chart.evaluate("e => e.scrollWidth > e.clientWidth")
        await chart.focus()
        await page.keyboard.press("ArrowRight")
        handle = await chart.element_handle()
        await page.wait_for_function("e => e.scrollLeft > 0", arg=handle, timeout=5000)


async def test_the_published_site_shows_each_services_trust_trend(
    browser: Browser, tmp_path: Path
) -> None:
    """``feedback-bot publish``'s page: per service its trust over eight quarters as the
    console's chart and table, axe-clean at 1280 and 320 px, nothing cut."""
    from bot.core import trends
    from bot.core.public import public_report
    from bot.service.publish import write_site

    from .test_store import fresh_store
    from .test_trends import catalog, ten_quarters

    services = catalog()
    store = await fresh_store("sqlite", tmp_path)
    try:
        await store.write_many(ten_quarters())
        report = await trends.build(store, services, FLOWS, 2027, 1, min_cell=5)
    finally:
        await store.close()
    write_site(public_report(report, services), tmp_path / "site")
    for width in (1280, 320):
        page = await browser.new_page(viewport={"width": width, "height": 800})
        await page.goto((tmp_path / "site" / "index.html").as_uri())
        await accessible(page, f"published trends at {width} px")
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        await nothing_cut(page)
        assert await page.locator(".chart-wrap svg[role=img]").count() == len(report["scores"])
        table = page.get_by_role("table", name="Trust, the last 8 quarters").first
        await expect(table.get_by_role("row", name="FY2026 Q2")).to_contain_text(
            "fewer than 5 respondents: not shown"
        )
        await page.close()
    # Lighthouse on the page with its trends, as CI runs it on the published report
    from aiohttp import web

    from .test_lighthouse import scores

    host = web.Application()
    host.router.add_static("/", tmp_path / "site")
    runner = web.AppRunner(host, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        found = await scores(f"http://127.0.0.1:{port}/index.html")
    finally:
        await runner.cleanup()
    assert found["accessibility"] == 100 and found["performance"] >= 95, found
