"""The published site in a real browser: axe-core finds nothing serious at a desktop width and
at a phone's 320 px, nothing scrolls sideways but the tables in their own focusable region,
and every chart has its data table."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser

from bot.core import reports
from bot.core.public import public_report
from bot.service.publish import write_site

from .browsing import accessible
from .records import FLOWS, response_record
from .test_measures import SERVICES, regional


async def test_the_published_site_is_accessible_at_desktop_and_phone_widths(
    browser: Browser, tmp_path: Path
) -> None:
    records = regional("north", 0, 14) + regional("south", 100, 12, silent=20)
    records += [response_record(200 + i, ["sí", "1", "Muy amables"], language="es",
                                attributes={"region": "north"}) for i in range(11)]  # fmt: skip
    report = reports.quarterly_report(records, SERVICES, FLOWS, 2027, 1)
    write_site(public_report(report, SERVICES), tmp_path)
    for width in (1280, 320):
        page = await browser.new_page(viewport={"width": width, "height": 800})
        await page.goto((tmp_path / "index.html").as_uri())
        await accessible(page, f"published site at {width} px")
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        charts = await page.locator("ul.bars").count()
        assert charts >= 1 and await page.locator("table").count() >= charts
        assert await page.locator("caption", has_text="Participation by group").count() == 1
        assert await page.get_by_text("answers less often than others").count() >= 1
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.className") == "skip"
        await page.close()
