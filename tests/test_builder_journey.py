"""The survey builder end to end, in Debian's chromium and by keyboard alone: an admin builds a
new A-11 v2 flow in English and Spanish (no YAML typed), watches a text's segment count change
as a sentence grows past one segment, fixes two errors shown at once at their fields,
previews it for a service whose catalog narrows the drivers, tries it (the page says it is a
test), confirms its activation, finds the activation on the Audit page and puts a service on
it; then a real SMS survey runs on the new version through Twilio's signed webhook. axe-core
finds nothing serious at desktop width and at 320 px."""

from __future__ import annotations

import os
import re

import pytest
from playwright.async_api import Browser, Page, expect

from bot.service import delivery

from .conftest import Bot
from .test_console_browser import SCREENSHOTS, check
from .test_library_browser import site  # noqa: F401 (SMS and web chat, on a known port)
from .test_library_browser import tab_to as tab_along
from .test_measures_api import forward

LONGER = " We read every answer and use it to make this service better for you."


async def press(page: Page, name: str) -> None:
    await tab_to(page, name)
    await page.keyboard.press("Enter")


async def tab_to(page: Page, name: str) -> None:
    """Tab until ``name`` has the focus (the builder's form is long)."""
    await tab_along(page, name, limit=400)


@pytest.mark.parametrize("width", [1280, 320])
async def test_a_flow_built_by_keyboard_answers_a_real_sms_survey(
    site: Bot,  # noqa: F811
    browser: Browser,
    width: int,
) -> None:
    base = site.settings.public_base_url
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await page.goto(base + "/admin/sign-in")
    await tab_to(page, "token")
    await page.keyboard.type("admin-token")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    await press(page, "Flows")
    await expect(page.get_by_role("heading", name="Survey flows")).to_be_visible()
    await press(page, "Create a flow with the builder")
    await expect(page.get_by_role("heading", name="New flow", level=1)).to_be_visible()
    await check(page, "new flow")
    await tab_to(page, "start-id")
    await page.keyboard.type("benefits-short")
    await tab_to(page, "start-title")
    await page.keyboard.type("Benefits, short")
    await tab_to(page, "start-a11-v2-thumbs")
    assert await page.evaluate("document.activeElement.checked")  # the default: thumbs
    await press(page, "Open in the builder")
    await expect(page.get_by_role("heading", level=1)).to_have_text("New flow benefits-short")
    await check(page, "builder")
    if os.environ.get("WRITE_SCREENSHOTS") and width == 1280:
        await page.screenshot(path=str(SCREENSHOTS / "console-builder.png"), full_page=True)

    # The closing grows past one segment: its count follows the typing.
    count = page.locator("[id='messages.closing.en-sms']")
    await expect(count).to_have_text(re.compile(r"^GSM-7, 1 segment \("))
    await tab_to(page, "messages.closing.en")
    await page.keyboard.press("End")
    await page.keyboard.type(LONGER + LONGER)
    await expect(count).to_have_text(re.compile(r"^GSM-7, 2 segments \(1\d\d characters"))

    # Two mistakes: the Spanish closing emptied, and 'ease' (A-11 requires it) unticked.
    await tab_to(page, "messages.closing.es")
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await tab_to(page, "questions[1].options-ease")
    await page.keyboard.press("Space")
    await press(page, "Check for errors")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("2 errors, each at its field")
    closing = page.get_by_role("group", name=re.compile("^Closing"))
    await expect(closing).to_contain_text("missing translation for 'es'")
    drivers = page.get_by_role("group", name="Drivers offered (A-11's list)")
    await expect(drivers).to_contain_text("the driver list must include 'ease'")
    await expect(page.locator("[id='messages.closing.en-sms']")).to_contain_text("2 segments")
    await check(page, "builder with two errors")
    await tab_to(page, "messages.closing.es")
    await page.keyboard.type("¡Gracias por su tiempo!")
    await tab_to(page, "questions[1].options-ease")
    await page.keyboard.press("Space")
    await press(page, "Keep as a new version")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("benefits-short, version")
    version = page.url.split("#")[0].rsplit("/", 1)[1]

    # The preview, for a service whose catalog offers six of the seven drivers.
    await expect(page.locator("#p-service")).to_have_value("benefits-application")
    said = page.locator("#preview-for")
    await expect(said).to_contain_text("Benefits application would send it")
    await expect(said).to_contain_text("6 drivers offered (its catalog entry narrows")
    english = page.get_by_role("table", name="Every en message as a person sees it by text message")
    positive = english.get_by_role("row", name=re.compile(r"^questions\[1\] drivers positive"))
    await expect(positive).to_contain_text("Getting my need met")
    await expect(positive).not_to_contain_text("Staff")  # the service does not offer it
    await check(page, "preview")
    await press(page, "Try it in English (a test: records nothing)")
    await expect(page.get_by_role("note")).to_contain_text("nothing you answer is recorded")
    await page.go_back()

    await press(page, "Activate this version…")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Activate benefits-short version {version}?"
    )
    await expect(page.get_by_text("No service uses this flow")).to_be_visible()
    await check(page, "confirm the activation")
    assert "benefits-short" not in site.rt.flows  # nothing changed before the confirmation
    await press(page, f"Activate: version {version}")
    await expect(page.get_by_role("heading", name="Flow benefits-short")).to_be_visible()
    assert site.rt.flows["benefits-short"].version == version

    await press(page, "Audit")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Audit")
    audit = page.get_by_role("table", name=re.compile("newest first"))
    first = audit.get_by_role("row").nth(1)
    await expect(first).to_contain_text("flow version activated")
    await expect(first).to_contain_text(f"active version none → {version}")
    await expect(first).to_contain_text("admin (token)")
    await check(page, "audit")
    if os.environ.get("WRITE_SCREENSHOTS") and width == 1280:
        await page.screenshot(path=str(SCREENSHOTS / "console-audit.png"), full_page=True)

    # The service moves to the new flow (its settings, by keyboard too).
    await page.goto(base + "/admin/services/benefits-application/settings")
    await tab_to(page, "flow")
    await page.keyboard.type("benefits-short")
    await press(page, "Save settings")
    await expect(page.get_by_role("table", name="Changes, newest first")).to_contain_text(
        '"benefits-short"'
    )
    await page.close()

    # A real SMS survey on the new version.
    assert site.rt.services["benefits-application"].flow == "benefits-short"
    body = {"transaction_id": f"journey-{width}", "service": "benefits-application",
            "channel": "sms", "to": "+12025550142", "timezone": "America/New_York"}  # fmt: skip
    assert (await site.transactions(body)).status == 202
    await delivery.deliver_due(site.rt)
    [invitation] = [m for m in site.fake.messages if m.to == "+12025550142"]
    assert invitation.body.startswith("Example Benefits Agency: 3 quick questions")
    drivers_text = await site.text("+12025550142", "yes")
    assert "Getting my need met" in drivers_text and "Staff" not in drivers_text
    await site.text("+12025550142", "1 2")
    closing = await site.text("+12025550142", "Quick and kind")
    assert "We read every answer" in closing
    await forward(site)
    assert site.rt.store is not None
    [record] = [r for r in await site.rt.store.responses() if r["transaction_id"] == body[
        "transaction_id"]]  # fmt: skip
    assert (record["flow_id"], record["flow_version"]) == ("benefits-short", version)
    assert record["disposition"] == "completed" and record["a11"]["question_1"] == 1
