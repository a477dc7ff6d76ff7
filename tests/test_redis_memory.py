"""Redis holds working state only: what a survey leaves, and for how long, through the real
routes on a real Redis (the figures per survey are in bench/redis_memory.py)."""

from __future__ import annotations

from datetime import timedelta

import orjson
from redis.asyncio import Redis

from bot.service import delivery
from bot.store.consent import RESTORED
from bot.store.keys import CLOSED_TTL, DAY, INBOUND_TTL
from bot.store.state import LAYOUT, State

from .conftest import Bot
from .test_sms import PHONE, invite, txn


async def keys_of(redis: Redis, person: str) -> dict[str, int]:
    """Every key about a person, with its TTL."""
    return {key: await redis.ttl(key) async for key in redis.scan_iter(match=f"*{person}*")}


async def complete(bot: Bot, number: str = PHONE) -> str:
    await invite(bot, to=number)
    [ref] = await bot.rt.state.open_surveys(bot.rt.person(number))
    for reply in ("yes", "1 3", "Quick"):
        await bot.text(number, reply)
    return ref


async def test_an_ended_survey_leaves_redis_once_the_store_has_it(bot: Bot, redis: Redis) -> None:
    ref = await complete(bot)
    state, person = bot.rt.state, bot.rt.person(PHONE)
    shard = state.shard_of(person)
    assert await state.survey(ref) is None  # the record left; the stream holds it until...
    assert await redis.xlen(state.k_ended(shard)) == 1
    assert await redis.zcard(state.k_timers(shard)) == 0  # its timer went with it
    assert bot.rt.outbox is not None
    await bot.rt.outbox.step()  # ...the store has it
    assert await redis.xlen(state.k_ended(shard)) == 0
    assert len(await bot.rt.store.responses()) == 1  # type: ignore[union-attr]
    left = await keys_of(redis, person)
    # What is left: the person's caps, the replies just handled, the closed pointer, the
    # transaction's first decision; each with an expiry.
    assert {k.split(":")[2] for k in left} == {"person", "inbound", "closed", "txn"}
    assert all(ttl > 0 for ttl in left.values()), left
    assert left[state.k_inbound(person)] <= INBOUND_TTL
    assert left[state.k_closed(person)] <= CLOSED_TTL
    assert await redis.hget(state.k_closed(person), "sms") == (
        "benefits-application|en|a11-v2-thumbs"
    )  # service, language and flow: enough for a late reply
    assert "has closed" in await bot.text(PHONE, "hello?")


async def test_a_late_reply_is_answered_in_the_surveys_language(bot: Bot) -> None:
    await invite(bot, language="es")
    for reply in ("sí", "1", "omitir"):
        await bot.text(PHONE, reply)
    assert "La encuesta ha cerrado" in await bot.text(PHONE, "hola")


async def test_the_persons_key_lives_as_long_as_a_rule_needs_it(bot: Bot, redis: Redis) -> None:
    state, person = bot.rt.state, bot.rt.person(PHONE)
    await invite(bot)
    invited = await redis.ttl(state.k_person(person))
    settings = bot.settings
    assert (
        (settings.invitation_cooldown_days * DAY)
        <= invited
        <= (settings.invitation_cooldown_days + 2) * DAY
    )  # the invitation cool-down (longer than any survey stays open here)
    await bot.text(PHONE, "yes")  # a response: the response cool-down now
    responded = await redis.ttl(state.k_person(person))
    assert settings.response_cooldown_days * DAY <= responded
    # An opt-out stays for ever, as a member of the shard's set: only the keyed hash.
    await bot.text(PHONE, "STOP")
    optouts = state.k_optouts(state.shard_of(person))
    assert await redis.ttl(optouts) == -1
    # beside the member that says the set is whole (restored from the store: bot.store.consent)
    assert await redis.smembers(optouts) == {f"{person}|sender:+12025550100", RESTORED}


async def test_a_repeat_inside_the_window_gets_the_first_decision_and_later_is_stale(
    bot: Bot, redis: Redis
) -> None:
    from dataclasses import replace

    # No invitation cool-down, so that only the staleness rule stands between a late repeat
    # and a second survey.
    bot.rt.settings = replace(bot.rt.settings, invitation_cooldown_days=0)
    completed = bot.clock.now - timedelta(minutes=5)
    body = txn("idem-1", completed_at=completed.isoformat())
    first = await (await bot.transactions(body)).json()
    assert first["status"] == "scheduled"
    assert await delivery.deliver_due(bot.rt) == 1
    state, person = bot.rt.state, bot.rt.person(PHONE)
    key = state.k_txn(person, "idem-1")
    service = bot.rt.services["benefits-application"]
    window = max(timedelta(days=bot.settings.idempotency_days), service.stale_after)
    assert window.total_seconds() <= await redis.ttl(key) <= window.total_seconds() + 3600
    bot.clock.advance(days=6)
    again = await (await bot.transactions(body)).json()
    assert again == first  # inside the window: the first decision, send time included
    # Past the window Redis has let the key go; the transaction is now older than the service
    # surveys: stale, never a second survey.
    bot.clock.advance(days=2)
    await delivery.run_timers(bot.rt)  # the first survey expired long ago
    await redis.delete(key)
    late = await (await bot.transactions(body)).json()
    assert (late["status"], late["reason"]) == ("suppressed", "stale")
    assert await delivery.deliver_due(bot.rt) == 0
    assert len(bot.fake.sent_to(PHONE)) == 1  # the first survey only


async def test_keys_of_an_earlier_layout_are_brought_up_to_date(redis: Redis) -> None:
    state = State(redis)
    person = "a" * 32
    shard = state.shard_of(person)
    await redis.hset(f"fb:{{{shard}}}:optout:{person}", mapping={"all": "{}", "sender:x": "{}"})
    await redis.hset(f"fb:{{{shard}}}:open:{person}", "sms", f"svc:{'b' * 32}")
    await redis.hset(state.k_person(person), "invited", "1")  # no expiry, as before
    ref = f"{person}/{'c' * 32}"
    posted = {"channel": "C0ALERTS", "ts": "1.2"}
    await redis.set(state.k_case(ref), orjson.dumps({"status": "open", "slack": posted}), ex=99)
    await state.upgrade_layout()
    case = await state.case(ref)
    assert case is not None and case["post"] == posted and "slack" not in case
    assert 0 < await redis.ttl(state.k_case(ref)) <= 99
    assert await state.opted_out(person, ["all"]) and await state.opted_out(person, ["sender:x"])
    assert await state.open_survey(person, "sms") == f"{person}/{'b' * 32}"
    assert await redis.ttl(state.k_person(person)) > 0
    assert not await redis.exists(f"fb:{{{shard}}}:optout:{person}")
    assert await redis.get(state.k_layout) == LAYOUT
    await state.upgrade_layout()  # once done, a no-op
