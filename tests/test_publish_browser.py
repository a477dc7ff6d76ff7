"""The published site in a real browser, read as a member of the public would: axe-core finds
nothing serious at a desktop width and at a phone's 320 px, nothing scrolls sideways, the
headline says what the trust question meant, hidden groups are rows that say why, bars carry
their values, group names are words, the goals are one table, and the agency's name, logo,
contact, period, date and the .gov banner are there."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from playwright.async_api import Browser

from bot.core.public import public_report
from bot.service.publish import Site, write_site

from . import reference
from .browsing import accessible
from .records import FLOWS, response_record
from .test_measures import SERVICES, regional

SCREENSHOTS = Path(__file__).parent / "screenshots"
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="#005ea2"/></svg>'  # noqa: E501


def _site(tmp_path: Path) -> Path:
    # north 25 shown; south 12 hidden as the complement of west's 3; Spanish speakers say no
    records = regional("north", 0, 14) + regional("south", 100, 12, silent=20)
    records += regional("west", 300, 3)
    records += [response_record(200 + i, ["no", "2 3", "Muy lento"], language="es",
                                attributes={"region": "north"}) for i in range(11)]  # fmt: skip
    records += [response_record(400 + i, ["5", "1", "ok"], service="permit-renewal")
                for i in range(4)]  # fmt: skip
    report = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1)
    logo = tmp_path / "agency.svg"
    logo.write_text(LOGO)
    site = Site(agency="Example Benefits Agency", contact="cx@example.gov", official=True,
                published=date(2027, 1, 20), logo=logo, logo_href="logo.svg")  # fmt: skip
    out = tmp_path / "site"
    write_site(public_report(report, SERVICES), out, site)
    return out


async def test_the_published_site_is_accessible_at_desktop_and_phone_widths(
    browser: Browser, tmp_path: Path
) -> None:
    out = _site(tmp_path)
    for width in (1280, 320):
        page = await browser.new_page(viewport={"width": width, "height": 800})
        await page.goto((out / "index.html").as_uri())
        await accessible(page, f"published site at {width} px")
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        if os.environ.get("WRITE_SCREENSHOTS"):  # the README's pictures, made on purpose
            await page.set_viewport_size({"width": width, "height": 1200 if width < 400 else 1000})
            await page.screenshot(path=str(SCREENSHOTS / f"public-{width}.png"))
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.className") == "skip"
        # every bar is labelled with its value, in the same cell
        cells = page.locator("td:has(.bar)")
        assert await cells.count() >= 10
        for text in await cells.all_inner_texts():
            assert text.strip().endswith("%"), text
        # on a phone the tables stack: each figure carries its column's name
        if width == 320:
            label = await page.locator("td[data-label='Response rate']").first.evaluate(
                "cell => getComputedStyle(cell, '::before').content"
            )
            assert label == '"Response rate: "'
            assert await page.locator("table.stacked thead").first.evaluate(
                "head => head.getBoundingClientRect().height"
            ) <= 1  # fmt: skip
        await page.close()


async def test_the_published_site_reads_in_plain_words(browser: Browser, tmp_path: Path) -> None:
    out = _site(tmp_path)
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto((out / "index.html").as_uri())
    text = await page.locator("body").inner_text()
    # who, when, and whom to ask
    assert await page.locator("section.gov-banner").count() == 1
    assert "Example Benefits Agency" in await page.title()
    assert await page.locator("header img").evaluate("img => img.naturalWidth") == 40
    assert "October to December 2026" in text and "Published January 20, 2027" in text
    assert await page.locator("a[href='mailto:cx@example.gov']").count() >= 1
    # the headline with the question's meaning (was "agreed they trust the agency")
    headline = page.locator("#s-1 ~ .headline")
    assert await headline.inner_text() == (
        "72% said this interaction increased their trust in Example Benefits Agency."
    )
    assert "agreed they trust" not in text
    # the drivers: what went well, and what did not
    went_well = page.locator("table[aria-labelledby='d-positive-1']")
    assert "Getting my need met\t100.0%" in await went_well.inner_text()
    did_not = page.locator("table[aria-labelledby='d-negative-1']")
    assert "Ease\t100.0%" in await did_not.inner_text()
    # group names in words; hidden groups are rows that say why
    assert "Spanish" in text and "English" in text and "Text message" in text
    by_region = await page.locator("table:has(caption:text('By region'))").inner_text()
    assert "west\tfewer than 10 people answered — not shown" in by_region
    assert "south\tnot shown, so that a smaller group's figures cannot be worked out" in by_region
    # a service with too few people says so at a glance and in its section
    assert "Permit renewal: fewer than 10 people answered, so no figures are shown." in text
    # the goals: one compact table for every service
    assert await page.locator("caption", has_text="goals").count() == 1
    goals = page.locator("table:has(caption:text('Our goals')) tbody tr")
    assert await goals.count() == 3
    assert await goals.first.inner_text() == "Benefits application\tTrust\t80.0%\t72.5%\tnot met"
    # the data dictionary is one click away, not in the way
    assert not await page.locator("dt", has_text="ci_low").is_visible()
    await page.close()


async def test_a_breakdown_whose_groups_are_all_hidden_says_why(
    browser: Browser, tmp_path: Path
) -> None:
    records = regional("north", 0, 8) + regional("south", 100, 7)
    report = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1)
    write_site(public_report(report, SERVICES), tmp_path)
    page = await browser.new_page(viewport={"width": 320, "height": 800})
    await page.goto((tmp_path / "index.html").as_uri())
    why = page.locator("p.why", has_text="By region")
    assert await why.inner_text() == (
        "By region: Fewer than 10 people answered in each group, so no group's figures are shown."
    )
    assert await page.locator("caption", has_text="By region").count() == 0
    await accessible(page, "a breakdown all hidden")
    await page.close()
