"""A real browser for the page tests: Debian's chromium driven by Playwright (never a
download at test time), and axe-core's verdict on a page."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM} in CI")
        pytest.skip("no chromium (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                    args=["--no-sandbox"])  # fmt: skip
        yield launched
        await launched.close()


async def accessible(page: Page, step: str) -> None:
    """axe-core finds nothing serious or critical on the page as it is now."""
    results = await Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{step}: " + "; ".join(f"{v['id']}: {v['help']}" for v in bad)
