"""Privacy controls through the real routes, Redis and store: retention of free text,
forgetting a person, and the audit log of admin actions."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.service import privacy
from bot.service.privacy import without_free_text

from .conftest import REDIS_URL, Bot
from .records import FLOWS, response_record
from .test_sms import PHONE, invite

ADMIN = {"Authorization": "Bearer admin-token"}


async def answered(bot: Bot, number: str, comment: str) -> None:
    await invite(bot, to=number, tid=f"t{number[1:]}")
    for reply in ("no", "2", comment):
        await bot.text(number, reply)
    assert bot.rt.outbox is not None
    await bot.rt.outbox.step()


def test_a_record_past_retention_keeps_its_numbers_not_its_words() -> None:
    record = response_record(1, ["no", "2 5", "Nobody called me back, 202-555-0100"])
    kept = without_free_text(record, FLOWS["a11-v2-thumbs"])
    assert kept["free_text"] is None and kept["a11"]["question_4"] is None
    assert kept["answers"]["question_4"]["value"] is None
    assert kept["answers"]["question_4"]["status"] == "answered"
    assert kept["a11"]["question_1"] == 0 and kept["a11"]["negative_ease"] == 1
    assert kept["answers"]["drivers"]["value"] == ["ease", "humanity"]
    assert kept["sentiment"] == record["sentiment"]
    # with the flow gone, every text value goes
    assert without_free_text(record, None)["answers"]["question_4"]["value"] is None


async def test_retention_removes_old_free_text_and_says_how_much(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await answered(bot, PHONE, "Too slow, I waited an hour")
    bot.clock.advance(days=10)
    await answered(bot, "+12025550124", "Fine")
    bot.rt.settings = replace(bot.rt.settings, retention_days=5)
    assert bot.rt.store is not None
    with caplog.at_level(logging.INFO):
        assert await privacy.retention(bot.rt) == 1
    old, new = sorted(await bot.rt.store.responses(), key=lambda r: r["timestamps"]["ended"])
    assert old["free_text"] is None and old["a11"]["question_1"] == 0
    assert new["free_text"] == "Fine"
    assert "free text removed from 1 records" in caplog.text
    assert await privacy.retention(bot.rt) == 0  # done once
    [entry, *_] = (await (await bot.client.get("/v1/audit", headers=ADMIN)).json())["entries"]
    assert (entry["actor"], entry["action"], entry["details"]["records"]) == (
        "worker",
        "retention",
        0,
    )
    # once a day, whichever worker asks first
    assert await privacy.retention_due(bot.rt) and not await privacy.retention_due(bot.rt)
    bot.clock.advance(days=1)
    assert await privacy.retention_due(bot.rt)


async def test_forget_a_person_everywhere_but_their_opt_out(bot: Bot, redis: Redis) -> None:
    other = "+12025550124"
    await answered(bot, PHONE, "Call me at 202-555-0100")
    await answered(bot, other, "Fine")
    bot.clock.advance(days=100)  # past the response cool-down
    await invite(bot, tid="open-1")  # an open survey too
    await bot.text(PHONE, "STOP")  # and an opt-out, which must stay
    person = bot.rt.person(PHONE)
    # A number written in another form is the same person.
    response = await bot.client.delete("/v1/people/(202) 555-0123", headers=ADMIN)
    assert response.status == 200, await response.text()
    counts = await response.json()
    assert counts["person"] == person and counts["stored_responses"] == 1
    assert counts["pending"] == 1  # the survey STOP ended, not yet in the store
    assert bot.rt.store is not None
    assert [r["respondent"] for r in await bot.rt.store.responses()] == [bot.rt.person(other)]
    left = [k async for k in redis.scan_iter(match=f"*{person}*")]
    # Nothing keyed on the person but the case their answer opened (cases open with or
    # without Slack), kept for staff without what the person wrote.
    assert all(":case:" in k for k in left)
    for key in left:
        assert json.loads(await redis.get(key))["excerpt"] is None
    optouts = bot.rt.state.k_optouts(bot.rt.state.shard_of(person))
    assert await redis.sismember(optouts, f"{person}|sender:+12025550100")  # kept: never again
    assert await bot.rt.state.opted_out(person, ["sender:+12025550100"])
    [entry, *_] = (await (await bot.client.get("/v1/audit", headers=ADMIN)).json())["entries"]
    assert (entry["action"], entry["target"], entry["actor"]) == ("forget", person, "admin token")
    assert PHONE not in json.dumps(entry) and "555-0123" not in json.dumps(entry)
    assert (await bot.client.delete("/v1/people/not a number!", headers=ADMIN)).status == 400
    assert (await bot.client.delete(f"/v1/people/{person}")).status == 401


async def test_forget_removes_case_excerpts(bot: Bot) -> None:
    ref = f"{bot.rt.person(PHONE)}/{'c' * 32}"
    case = {"case_id": "c" * 32, "status": "received", "excerpt": "I was on hold for hours",
            "created_at": "2026-11-03T15:00:00+00:00", "reasons": ["trust_negative"]}  # fmt: skip
    assert await bot.rt.state.create_case(ref, case, ttl=3600)
    counts = await privacy.forget(bot.rt, PHONE, "test")
    assert counts["case_excerpts"] == 1
    kept = await bot.rt.state.case(ref)
    assert kept is not None and kept["excerpt"] is None and kept["status"] == "received"


async def test_admin_actions_are_in_the_audit_log_and_page(bot: Bot) -> None:
    for quarter in (1, 2, 3):
        url = f"/v1/reports/a11?fiscal_year=2027&quarter={quarter}&format=csv"
        assert (await bot.client.get(url, headers=ADMIN)).status == 200
    page = await (await bot.client.get("/v1/audit?limit=2&action=report", headers=ADMIN)).json()
    assert [e["details"]["quarter"] for e in page["entries"]] == [3, 2]
    assert all(e["action"] == "report" and e["actor"] == "admin token" for e in page["entries"])
    rest = await (await bot.client.get(f"/v1/audit?limit=2&action=report&before={page['before']}",
                                       headers=ADMIN)).json()  # fmt: skip
    assert [e["details"]["quarter"] for e in rest["entries"]] == [1] and rest["before"] is None
    assert (await bot.client.get("/v1/audit")).status == 401
    assert (await bot.client.get("/v1/audit?before=x", headers=ADMIN)).status == 400


def test_forget_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "REDIS_URL": REDIS_URL, "DATA_DIR": str(tmp_path), "DATABASE_URL": "",
           "API_TOKEN": "a", "ADMIN_TOKEN": "b", "PSEUDONYM_KEY": "pseudonym-key",
           "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t",
           "TWILIO_FROM_NUMBER": "+12025550100", "PUBLIC_BASE_URL": "https://x.example.gov",
           "LOG_LEVEL": "WARNING"}  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "bot.cli", "forget", "+1 202 555 0123"],
                            env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stored_responses"] == 0
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "forget", "???"], env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "not a phone number" in bad.stderr


def test_retention_days_is_a_setting() -> None:
    from bot.settings import Settings

    assert Settings.from_env({"RETENTION_DAYS": "30"}).retention_days == 30
    assert Settings().retention_days == 730
    assert timedelta(days=Settings().retention_days).days == 730
