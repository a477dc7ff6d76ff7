"""Hostile YAML wherever the bot reads it (PUT /v1/flows, the console's flow editor and
settings, `flows check`, the service catalog): alias bombs, deep nesting and a condition bomb
are refused at once with a small answer; every value an error quotes is cut short; anchors
within the budget still work."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bot.core.catalog import load_catalog
from bot.core.errors import FlowValidationError
from bot.core.yamltext import ALIAS_BUDGET, parse_yaml
from bot.registry import kinds
from flows import FLOWS_DIR

from .conftest import Bot
from .records import FLOWS
from .test_cli import env_with, run_cli
from .test_console import Browser
from .test_library import CHANGED, THUMBS, put


def laughs(levels: int) -> str:
    """Anchors x0..xN, each a list of nine aliases of the one before: xN names 9^N strings."""
    lines = ['  x0: &x0 "lollollol"']
    lines += [
        f"  x{n}: &x{n} [" + ", ".join([f"*x{n - 1}"] * 9) + "]" for n in range(1, levels + 1)
    ]
    return "anchors:\n" + "\n".join(lines) + "\n"


def alias_bomb(levels: int) -> str:
    """A flow whose instrument is the bomb: its error quoted the whole value (72 MB)."""
    return laughs(levels) + THUMBS.replace("instrument: a11-v2", f"instrument: *x{levels}")


def condition_bomb(levels: int) -> str:
    """A flow whose last question's condition is 2^levels conditions, in 4 KB."""
    lines = ["  c0: &c0 {answer: question_1, equals: 1}"]
    lines += [f"  c{n}: &c{n} {{any: [*c{n - 1}, *c{n - 1}]}}" for n in range(1, levels + 1)]
    when = f"  - id: question_4\n    when: *c{levels}\n"
    return "anchors:\n" + "\n".join(lines) + "\n" + THUMBS.replace("  - id: question_4\n", when)


DEEP = THUMBS.replace("title: A-11", "title: " + "[" * 100_000 + "]" * 100_000 + "\nx: A-11")
BOMBS = {
    "alias bomb, 7 levels (3.3 KB: a 63 MB answer)": alias_bomb(7),
    "alias bomb, 9 levels (exhausted memory)": alias_bomb(9),
    "condition bomb, 2^25 conditions": condition_bomb(25),
    "nested 100,000 deep": DEEP,
}


@pytest.mark.parametrize("name", BOMBS)
async def test_a_yaml_bomb_is_refused_at_once_with_a_small_answer(bot: Bot, name: str) -> None:
    before = await bot.rt.store.flow_versions("a11-v2-thumbs")  # type: ignore[union-attr]
    started = time.monotonic()
    response = await bot.client.put("/v1/flows/a11-v2-thumbs", data=BOMBS[name].encode(),
                                    headers={"Authorization": "Bearer admin-token",
                                             "Content-Type": "application/yaml"})  # fmt: skip
    body = await response.read()
    took = time.monotonic() - started
    assert response.status == 422 and len(body) < 2_000, (response.status, len(body))
    [error] = json.loads(body)["errors"]
    assert re.fullmatch(r"line \d+, column \d+", error["path"]), error
    assert error["message"] in (
        f"aliases stand for more than {ALIAS_BUDGET:,} values in all: write the values out",
        "nested more than 64 deep",
    )
    assert took < 5, took  # the old code took minutes, or never answered
    assert await bot.rt.store.flow_versions("a11-v2-thumbs") == before  # type: ignore[union-attr]


async def test_an_alias_inside_what_it_names_is_refused(bot: Bot) -> None:
    status, body = await put(bot, "loop: &a [1, *a]\n" + THUMBS)
    assert status == 422
    assert body["errors"] == [{"path": "line 1, column 14",
                               "message": "alias *a is inside what it names"}]  # fmt: skip


async def test_anchors_within_the_budget_still_work(bot: Bot) -> None:
    shared = CHANGED.replace("    max_attempts: 2\n", "    max_attempts: &tries 2\n", 1).replace(
        "    max_attempts: 2\n", "    max_attempts: *tries\n"
    )
    assert "*tries" in shared
    status, body = await put(bot, shared)
    assert status == 201, body


async def test_a_long_value_is_quoted_short_in_an_error(bot: Bot) -> None:
    long = THUMBS.replace("instrument: a11-v2", "instrument: " + "x" * 100_000)
    status, body = await put(bot, long)
    assert status == 422
    [error] = body["errors"]
    assert error["path"] == "instrument" and error["message"].startswith("unknown instrument 'xxx")
    assert len(error["message"]) < 400 and "characters left out" in error["message"]


async def test_an_answer_lists_at_most_a_hundred_errors(bot: Bot) -> None:
    many = THUMBS.replace("languages: [en, es]", "languages: [" + ", ".join(["1"] * 20_000) + "]")
    response = await bot.client.put("/v1/flows/a11-v2-thumbs", data=many.encode(),
                                    headers={"Authorization": "Bearer admin-token",
                                             "Content-Type": "application/yaml"})  # fmt: skip
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert len(errors) == 101 and errors[-1]["message"].startswith("and 19,")
    assert errors[-1]["message"].endswith(" more errors")


async def test_the_console_refuses_bombs_in_a_flow_and_in_a_setting(console: Bot) -> None:
    browser = Browser(console)
    await browser.sign_in("admin-token")
    csrf = await browser.csrf()
    page = await browser.post("/admin/flows/a11-v2-thumbs", {"csrf": csrf, "text": alias_bomb(9)})
    html = await page.text()
    assert page.status == 422 and "aliases stand for more than" in html
    assert len(html) < 40_000  # the page, the text kept for fixing, one error
    long = THUMBS.replace("instrument: a11-v2", "instrument: " + "x" * 5_000)
    page = await browser.post("/admin/flows/a11-v2-thumbs", {"csrf": csrf, "text": long})
    html = await page.text()
    assert page.status == 422 and html.count("x" * 5_000) == 1  # in the text kept, not the error
    assert html.count("characters left out") == 2  # the line shown and the message
    # The settings page has no YAML left to bomb (alert rules and goals are form fields): a
    # bomb posted as the old field is not read, and an overlong field is refused at its field.
    path = "/admin/services/benefits-application/settings"
    form = {"csrf": csrf, "flow": "a11-v2-thumbs", "channels": "sms", "sample_rate": "1.0",
            "delay_minutes": "0", "reminder_hours": "24", "expiry_hours": "72",
            "reporting_dimensions": "region", "alerts.trust_negative": "on",
            "alerts": laughs(9) + "drivers: *x9\n", "goals.trust_positive": "0.8",
            "goals.since": "FY" + "9" * 20_000}  # fmt: skip
    refused = await browser.post(path, form)
    html = await refused.text()
    assert refused.status == 422 and 'id="goals.since-error"' in html
    assert len(html) < 80_000  # the value shown again once, not quoted in the error
    drivers = console.rt.services["benefits-application"].alerts.drivers
    assert drivers == ("humanity", "transparency")  # nothing changed


def test_flows_check_refuses_a_bomb_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "bomb.yaml").write_text(alias_bomb(9), encoding="utf-8")
    started = time.monotonic()
    result = run_cli(["flows", "check", str(folder)], env_with(tmp_path))
    assert result.returncode == 1 and time.monotonic() - started < 20
    assert "bomb.yaml: line 7, column 12: aliases stand for more than" in result.stderr
    assert len(result.stderr) < 1_000


def test_the_catalog_file_refuses_a_bomb(tmp_path: Path) -> None:
    catalog = (FLOWS_DIR / "services.yaml").read_text(encoding="utf-8")
    path = tmp_path / "services.yaml"
    path.write_text(laughs(9) + catalog.replace("name: Benefits application", "name: *x9", 1),
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(FlowValidationError) as refused:
        load_catalog(path, FLOWS, kinds())
    assert len(str(refused.value)) < 500 and "aliases stand for more than" in str(refused.value)
    # a catalog may share a block between services: anchors within the budget
    shared = catalog.replace(
        "    alerts:\n      trust_negative: true\n      polarity",
        "    alerts: &alerts\n      trust_negative: true\n      polarity",
    )
    shared = shared.replace("    alerts:\n      trust_negative: true\n", "    alerts: *alerts\n")
    path.write_text(shared, encoding="utf-8")
    services = load_catalog(path, FLOWS, kinds())
    assert services["permit-renewal"].alerts == services["benefits-application"].alerts
    assert services["permit-renewal"].alerts.drivers == ("humanity", "transparency")


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_parse_yaml_builds_what_the_budget_allows_and_nothing_more() -> None:
    shared = "a: &a [1, 2]\nb: *a\nc: {<<: {x: *a}}"
    assert parse_yaml(shared, "x") == ({"a": [1, 2], "b": [1, 2], "c": {"x": [1, 2]}}, [])
    assert parse_yaml("[" * 64 + "]" * 64, "x") == (nested(64), [])
    # *a stands for its four levels ([[[1]]]) where it is used: the mapping, 59 lists and
    # those four are 64 deep
    assert parse_yaml("a: &a [[[1]]]\nb: " + "[" * 59 + "*a" + "]" * 59, "x")[1] == []
    for deeper in ("[" * 65 + "]" * 65, "a: &a [[[1]]]\nb: " + "[" * 60 + "*a" + "]" * 60):
        data, errors = parse_yaml(deeper, "x")
        assert data is None and [e.message for e in errors] == ["nested more than 64 deep"]
    # at most 50,000 values in all, whatever the text's size (the list itself is one)
    assert len(parse_yaml("[" + "1," * 49_999 + "]", "x")[0]) == 49_999
    data, errors = parse_yaml("[" + "1," * 50_000 + "]", "x")
    assert data is None and [e.message for e in errors] == ["more than 50,000 values"]
