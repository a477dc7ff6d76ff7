"""Twilio's edge cases, through the real routes and the loopback Twilio: error codes by class,
carrier opt-outs for unknown messages, WhatsApp user ids, retries of answered messages, and
reminders in quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from twilio.base.exceptions import TwilioRestException

from adapters.testing.twilio_fake import FakeMessage
from adapters.twilio.errors import TWILIO_ERRORS, classify, error_kind
from bot.service import delivery

from .conftest import PUBLIC, Bot
from .test_sms import PHONE, invite, txn

STATUS = "/webhooks/twilio/status"


@pytest.mark.parametrize(
    ("code", "kind", "retryable"),
    [
        (21610, "opted_out", False),
        (21211, "invalid_address", False),
        (30006, "invalid_address", False),
        (21617, "rejected", False),
        (63016, "rejected", False),
        (63018, "unavailable", True),
        (30022, "unavailable", True),
        (20429, "unavailable", True),
    ],
)
def test_error_codes_by_class(code: int, kind: str, retryable: bool) -> None:
    error = classify(TwilioRestException(400, "uri", msg="x", code=code))
    assert (error.kind, error.retryable, error.code) == (kind, retryable, code)


def test_codes_not_in_the_table_are_read_by_their_http_status() -> None:
    assert 99999 not in TWILIO_ERRORS
    assert error_kind(99999, 503) == "unavailable" and error_kind(99999, 429) == "unavailable"
    assert error_kind(99999, 400) == "rejected" and error_kind(None) == "rejected"
    assert set(TWILIO_ERRORS.values()) == {"opted_out", "invalid_address", "rejected",
                                           "unavailable"}  # fmt: skip


async def test_a_transient_send_error_is_retried_not_undeliverable(bot: Bot) -> None:
    response = await bot.transactions(txn("r1"))
    assert (await response.json())["status"] == "scheduled"
    bot.fake.fail_next.append((429, 63018))  # rate limit exceeded for channel
    await delivery.deliver_due(bot.rt)
    [ref] = await bot.rt.state.open_surveys(bot.rt.person(PHONE))
    record = await bot.rt.state.survey(ref)
    assert record is not None and record["status"] == "scheduled"
    assert record["send_attempts"] == 1
    bot.clock.advance(minutes=5)
    assert await delivery.deliver_due(bot.rt) == 1
    assert len(bot.fake.sent_to(PHONE)) == 1


async def test_a_transient_failure_reported_later_sends_the_invitation_again(bot: Bot) -> None:
    await invite(bot)
    [first] = bot.fake.sent_to(PHONE)
    assert await bot.status(first, "failed", code=63018) == 204
    [ref] = await bot.rt.state.open_surveys(bot.rt.person(PHONE))
    record = await bot.rt.state.survey(ref)
    assert record is not None and record["status"] == "scheduled"
    state = bot.rt.state
    assert await state.redis.zcard(state.k_timers(state.shard_of_ref(ref))) == 0  # no timers
    bot.clock.advance(minutes=5)
    assert await delivery.deliver_due(bot.rt) == 1
    assert len(bot.fake.sent_to(PHONE)) == 2
    # A failure that can never pass ends it.
    second = bot.fake.sent_to(PHONE)[1]
    assert await bot.status(second, "undelivered", code=30006) == 204
    assert await bot.rt.state.open_surveys(bot.rt.person(PHONE)) == []


async def test_a_carrier_opt_out_for_an_unknown_message_is_recorded(bot: Bot) -> None:
    stranger = FakeMessage(sid="SM" + "f" * 32, to="+12025550177", from_="+12025550100",
                           body="", status_callback=PUBLIC + STATUS,
                           created=datetime.now(UTC))  # fmt: skip
    assert await bot.status(stranger, "failed", code=21610) == 204
    person = bot.rt.person("+12025550177")
    assert await bot.rt.state.opted_out(person, [bot.rt.scope("sms")])
    result = await (await bot.transactions(txn("u1", to="+12025550177"))).json()
    assert (result["status"], result["reason"]) == ("suppressed", "opted_out")


async def test_whatsapp_user_ids_are_taken_as_chat_ids(bot: Bot) -> None:
    user = "US.13491208655302741918"
    response = await bot.transactions(txn("w1", channel="whatsapp", to=f"whatsapp:{user}",
                                          timezone="America/New_York"))  # fmt: skip
    body = await response.json()
    assert response.status == 202 and body["status"] == "scheduled", body
    assert await delivery.deliver_due(bot.rt) == 1
    [message] = bot.fake.sent_to(user)
    assert message.to == f"whatsapp:{user}"
    reply = await bot.text(f"whatsapp:{user}", "yes")
    assert "What went well?" in reply
    [ref] = await bot.rt.state.open_surveys(bot.rt.person(user))
    assert user not in ref  # pseudonymised like a number
    # and an unknown one writes in first: answered, not refused
    assert "no open survey" in await bot.text("whatsapp:MX.55501", "hola")


async def test_a_retry_of_an_answered_message_gets_the_current_question(bot: Bot) -> None:
    await invite(bot)
    first = await bot.text(PHONE, "yes", sid="SMretry")
    retry = await bot.text(PHONE, "yes", sid="SMretry")
    assert "What went well?" in first and "What went well?" in retry
    [ref] = await bot.rt.state.open_surveys(bot.rt.person(PHONE))
    record = await bot.rt.state.survey(ref)
    assert record is not None and record["session"]["answers"]["question_1"]["attempts"] == 1


async def remind_at(bot: Bot, local: datetime, **changes: timedelta) -> list[FakeMessage]:
    """Invite at ``local`` (a New York time) with the service changed so, then let the
    reminder fire when it falls due."""
    from dataclasses import replace

    service = bot.rt.services["benefits-application"]
    bot.rt.services["benefits-application"] = replace(service, **changes)
    bot.clock.now = local.astimezone(UTC)
    await invite(bot, timezone="America/New_York")
    bot.clock.now += changes.get("reminder", service.reminder)
    await delivery.run_timers(bot.rt)
    return bot.fake.sent_to(PHONE)


NEW_YORK = ZoneInfo("America/New_York")


async def test_a_reminder_in_quiet_hours_waits_for_the_morning(bot: Bot) -> None:
    # Invited at 19:00 with a reminder three hours later: 22:00 is closed, so 8:00 it is.
    sent = await remind_at(bot, datetime(2026, 11, 4, 19, 0, tzinfo=NEW_YORK),
                           reminder=timedelta(hours=3))  # fmt: skip
    assert len(sent) == 1  # the invitation only
    bot.clock.now = datetime(2026, 11, 5, 7, 59, tzinfo=NEW_YORK).astimezone(UTC)
    await delivery.run_timers(bot.rt)
    assert len(bot.fake.sent_to(PHONE)) == 1
    bot.clock.now = datetime(2026, 11, 5, 8, 0, 30, tzinfo=NEW_YORK).astimezone(UTC)
    await delivery.run_timers(bot.rt)
    sent = bot.fake.sent_to(PHONE)
    assert len(sent) == 2 and sent[1].body.startswith("Reminder from")


async def test_a_reminder_never_goes_on_a_federal_holiday(bot: Bot) -> None:
    # Invited on Wednesday 25 November 2026 at 10:00: the reminder falls due on Thanksgiving.
    sent = await remind_at(bot, datetime(2026, 11, 25, 10, 0, tzinfo=NEW_YORK))
    assert len(sent) == 1
    bot.clock.now = datetime(2026, 11, 27, 8, 0, 30, tzinfo=NEW_YORK).astimezone(UTC)
    await delivery.run_timers(bot.rt)
    assert len(bot.fake.sent_to(PHONE)) == 2


async def test_a_reminder_deferred_past_the_expiry_is_dropped(bot: Bot) -> None:
    # Due at 22:00, allowed at 8:00, but the survey closes at 7:00.
    sent = await remind_at(bot, datetime(2026, 11, 4, 19, 0, tzinfo=NEW_YORK),
                           reminder=timedelta(hours=3), expiry=timedelta(hours=12))  # fmt: skip
    assert len(sent) == 1
    bot.clock.now = datetime(2026, 11, 5, 8, 0, 30, tzinfo=NEW_YORK).astimezone(UTC)
    await delivery.run_timers(bot.rt)
    assert len(bot.fake.sent_to(PHONE)) == 1  # never reminded


async def test_keyword_answers_follow_the_persons_language(bot: Bot) -> None:
    # AYUDA is Spanish whatever the survey; HELP from a Spanish survey is answered in Spanish.
    assert "Responda STOP" in await bot.text("+12025550188", "AYUDA")
    await invite(bot, language="es")
    assert "Responda STOP" in await bot.text(PHONE, "HELP")
    # STOP and START on a Spanish survey: both confirmed in Spanish, the survey now closed.
    assert "se ha dado de baja" in await bot.text(PHONE, "STOP")
    assert "se ha suscrito de nuevo" in await bot.text(PHONE, "START")
    # an English survey's STOP stays English
    await invite(bot, tid="en-1", to="+12025550177")
    assert "you are unsubscribed" in await bot.text("+12025550177", "STOP")
