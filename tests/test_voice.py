"""The survey by phone (Twilio Voice): a transfer at the end of a call opens the survey's
``voice_url``; a simulated caller (``adapters.testing.twilio_fake.converse``) follows the
bot's TwiML and answers each ``<Gather>`` by keypad or speech, every request genuinely signed.
Records are channel ``voice``, reported as ``automated_phone``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from redis.asyncio import Redis

from adapters.testing.twilio_fake import (
    Answer,
    FakeCall,
    FakeTwilio,
    caller_script,
    converse,
    new_call,
    transcribe,
)
from adapters.twilio.channel import TwilioChannel
from adapters.voice.channel import VoiceChannel, answer_text
from bot.core import response, touchpoints
from bot.core.secret import Secret
from bot.service import consent, delivery
from bot.store.state import State
from flows import FLOWS_DIR

from . import reference
from .conftest import PUBLIC, Bot, make_settings, serving
from .records import REPORTED

CALLER = "+12025550123"
LINE = "+12025550100"
STATUS = "/webhooks/twilio/voice/status"


@pytest.fixture
async def phone(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "voice"),
                             voice_es="Polly.Lupe-Neural")  # fmt: skip
    async with serving(settings, [TwilioChannel(settings), VoiceChannel(settings)],
                       fake_twilio) as served:  # fmt: skip
        yield served


async def voice_url(bot: Bot, tid: str = "v1", **kw: Any) -> str:
    body = {"transaction_id": tid, "service": "benefits-application", "channel": "voice",
            "to": CALLER, **kw}  # fmt: skip
    result = await (await bot.transactions(body)).json()
    assert result["status"] == "scheduled", result
    url = str(result["voice_url"])
    assert url.startswith(f"{PUBLIC}/webhooks/twilio/voice?t=") and "survey_url" not in result
    return url


def public_to_local(bot: Bot) -> Any:
    return lambda url: str(bot.client.make_url(url.removeprefix(PUBLIC)))


async def call(bot: Bot, url: str, script: list[Answer]) -> FakeCall:
    """A caller transferred to ``url`` answers from ``script``."""
    placed = new_call(LINE, CALLER, url)
    return await converse(bot.client.session, bot.fake.auth_token, placed, script,
                          public_to_local(bot), bot.fake.account_sid)  # fmt: skip


async def status(bot: Bot, sid: str, value: str, query: str = "") -> int:
    params = {"CallSid": sid, "CallStatus": value, "AccountSid": bot.fake.account_sid}
    response_ = await bot.twilio(STATUS + query, params)
    return response_.status


async def only_record(redis: Redis, bot: Bot) -> dict[str, Any]:
    [record] = await State(redis).ended_records()
    return dict(response.build(record, bot.rt.flows[record["flow_id"]], REPORTED["voice"]))


async def test_a_whole_survey_by_keypad(phone: Bot, redis: Redis) -> None:
    url = await voice_url(phone)
    comment = {"SpeechResult": "Quick and kind. My email is a@b.gov"}
    done = await call(phone, url, [{"Digits": "1"}, {"Digits": "23"}, comment])
    assert done.ended_by == "bot"
    words = done.words()
    assert "Example Benefits Agency: 3 quick questions" in words
    assert "To stop these calls, press 9." in words  # said in the intro
    assert "Press 1 for yes, 2 for no, or say yes or no." in words
    assert "For Ease, press 2." in words and "then the pound key" in words  # a numbered list
    assert "Thank you! Your feedback helps Example Benefits Agency improve." in words
    # A gather plays no tone: the comment is asked for now, not "after the tone".
    assert "Please say your comment now." in words and "tone" not in words
    assert {g["language"] for g in done.gathers} == {"en-US"}
    assert all(g["input"] == "dtmf speech" for g in done.gathers)
    assert done.gathers[0]["numDigits"] == "1" and done.gathers[1]["finishOnKey"] == "#"
    assert {language for language, _ in done.said} == {"en-US"}
    built = await only_record(redis, phone)
    assert (built["channel"], built["reported_channel"], built["disposition"]) == (
        "voice", "automated_phone", "completed")  # fmt: skip
    assert built["a11"]["question_1"] == 1
    assert built["a11"]["positive_ease"] == 1 and built["a11"]["positive_efficiency"] == 1
    assert built["a11"]["positive_effectiveness"] == 0
    assert built["free_text"] == "Quick and kind. My email is [EMAIL]"
    assert built["sentiment"] is not None and built["sentiment"]["label"] == "positive"


async def test_a_survey_by_speech_in_spanish(phone: Bot, redis: Redis) -> None:
    url = await voice_url(phone, language="es")
    done = await call(phone, url, [{"SpeechResult": "No."}, {"SpeechResult": "uno y tres"},
                                   {"SpeechResult": "Esperé mucho tiempo."}])  # fmt: skip
    assert done.ended_by == "bot"
    words = done.words()
    assert "Para no recibir más llamadas, oprima 9." in words
    assert "Oprima 1 para sí, 2 para no" in words and "¿Qué no estuvo tan bien?" in words
    assert "¡Gracias!" in words
    assert {g["language"] for g in done.gathers} == {"es-US"}
    assert "sí" in done.gathers[0]["hints"]
    built = await only_record(redis, phone)
    assert built["disposition"] == "completed" and built["language"] == "es"
    assert built["a11"]["question_1"] == 0
    assert built["a11"]["negative_effectiveness"] == 1
    assert built["a11"]["negative_efficiency"] == 1
    assert built["free_text"] == "Esperé mucho tiempo."


async def test_omb_and_touchpoints_get_the_call_as_automated_phone(
    phone: Bot, redis: Redis
) -> None:
    await call(phone, await voice_url(phone, "v1"), [{"Digits": "1"}, {"Digits": "2"}, {}, {}])
    records = [response.build(r, phone.rt.flows[r["flow_id"]], REPORTED["voice"])
               for r in await State(redis).ended_records()]  # fmt: skip
    assert [r["disposition"] for r in records] == ["completed"]
    rows = reference.collection_detail(records, phone.rt.services, phone.rt.flows, 2026, 1)
    assert [(row["channel"], row["volume_of_respondents"]) for row in rows] == [
        ("automated_phone", 1)]  # fmt: skip
    form = touchpoints.FormMap("f00d1234", "answer_01", "answer_02", "answer_03", "answer_04")
    sent = touchpoints.submission(records[0], form, PUBLIC)
    assert sent["answer_01"] == "1" and sent["page"] == "/voice/benefits-application"


async def test_the_agencys_voice_says_each_language(phone: Bot) -> None:
    url = await voice_url(phone, language="es")
    placed = new_call(LINE, CALLER, url)
    async with phone.client.post(url.removeprefix(PUBLIC), data=_params(placed),
                                 headers=_signed(phone, url, placed)) as answered:  # fmt: skip
        twiml = await answered.text()
    says = list(ElementTree.fromstring(twiml).iter("Say"))
    assert says and {s.get("voice") for s in says} == {"Polly.Lupe-Neural"}


async def test_one_reprompt_then_the_question_is_skipped(phone: Bot, redis: Redis) -> None:
    url = await voice_url(phone)
    done = await call(phone, url, [{}, {"SpeechResult": "banana"}, {"Digits": "#"}])
    words = done.words()
    assert words.count("Sorry, I didn't get that.") == 1  # one reprompt, then skipped
    assert "What went well?" not in words  # no trust answer: no drivers question
    assert "Anything else" in words and done.ended_by == "bot"
    built = await only_record(redis, phone)
    assert built["a11"]["question_1"] is None and built["free_text"] in (None, "")


async def test_star_or_repeat_says_the_question_again(phone: Bot, redis: Redis) -> None:
    url = await voice_url(phone)
    done = await call(phone, url, [{"Digits": "*"}, {"SpeechResult": "Repeat."}, {"Digits": "1"},
                                   {"Digits": "1"}, {"Digits": "#"}])  # fmt: skip
    assert done.words().count("This interaction increased my trust") == 3
    assert "Sorry" not in done.words()  # a repeat is not a wrong answer
    built = await only_record(redis, phone)
    assert built["a11"]["question_1"] == 1 and built["disposition"] == "completed"


async def test_nine_opts_the_number_out_of_voice_surveys(phone: Bot, redis: Redis) -> None:
    url = await voice_url(phone)
    done = await call(phone, url, [{"Digits": "9"}])
    assert done.ended_by == "bot"
    assert "you will get no more survey calls. Goodbye." in done.words()
    built = await only_record(redis, phone)
    assert built["disposition"] == "opted_out"
    rt = phone.rt
    assert await rt.state.opted_out(rt.person(CALLER), {rt.scope("voice")})  # the ledger
    again = {"transaction_id": "v2", "service": "benefits-application", "channel": "voice",
             "to": CALLER}  # fmt: skip
    result = await (await phone.transactions(again)).json()
    assert (result["status"], result["reason"]) == ("suppressed", "opted_out")
    assert "voice_url" not in result
    assert not await rt.state.opted_out(rt.person(CALLER), {rt.scope("sms")})  # texts go on


async def test_a_hang_up_keeps_what_was_answered(phone: Bot, redis: Redis) -> None:
    url = await voice_url(phone)
    done = await call(phone, url, [{"Digits": "2"}, None])  # no, then hangs up
    assert done.ended_by == "caller"
    assert await State(redis).ended_records() == []  # open until Twilio says the call ended
    assert await status(phone, done.sid, "completed") == 204
    built = await only_record(redis, phone)
    assert built["disposition"] == "partial" and built["a11"]["question_1"] == 0
    assert await status(phone, done.sid, "completed") == 204  # again: nothing more
    assert len(await State(redis).ended_records()) == 1


async def test_a_link_opens_one_call_only(phone: Bot, redis: Redis) -> None:
    url = await voice_url(phone)
    first = await call(phone, url, [{"Digits": "1"}, None])
    second = await call(phone, url, [{"Digits": "1"}])
    assert second.ended_by == "bot" and "This survey is no longer available." in second.words()
    assert "quick questions" not in second.words()
    # The first call goes on where it was.
    resumed = await converse(phone.client.session, phone.fake.auth_token,
                             _again(first), [{"Digits": "#"}, {"Digits": "#"}],
                             public_to_local(phone),
                             phone.fake.account_sid)  # fmt: skip
    assert "Anything else" in resumed.words() and resumed.ended_by == "bot"
    assert (await only_record(redis, phone))["disposition"] == "completed"
    # Dead once used: the survey has ended.
    third = await call(phone, url, [{"Digits": "1"}])
    assert "no longer available" in third.words()


async def test_a_link_that_does_not_exist_or_has_expired(phone: Bot) -> None:
    done = await call(phone, f"{PUBLIC}/webhooks/twilio/voice?t={'A' * 22}", [{"Digits": "1"}])
    assert "no longer available" in done.words() and done.ended_by == "bot"
    url = await voice_url(phone)
    phone.clock.advance(hours=24 * 4)  # past the service's expiry (72 hours)
    assert "no longer available" in (await call(phone, url, [{"Digits": "1"}])).words()


async def test_webhooks_are_signed_and_checked(phone: Bot) -> None:
    url = await voice_url(phone)
    placed = new_call(LINE, CALLER, url)
    path = url.removeprefix(PUBLIC)
    forged = await phone.client.post(path, data=_params(placed),
                                     headers={"X-Twilio-Signature": "Zm9yZ2Vk"})  # fmt: skip
    assert forged.status == 403
    unsigned = await phone.client.post(STATUS, data={"CallSid": placed.sid})
    assert unsigned.status == 403
    assert (await phone.twilio(path, {"CallSid": "not-a-call"})).status == 400
    assert (await phone.twilio(STATUS, {"CallSid": placed.sid})).status == 400
    assert (await phone.twilio("/webhooks/twilio/voice?n=x", _params(placed))).status == 400
    assert await status(phone, placed.sid, "ringing") == 204  # nothing to do
    assert await status(phone, placed.sid, "completed") == 204  # a call that held nothing


def test_keys_and_speech_become_what_a_text_would_say() -> None:
    thumbs = ["1", "0"]
    assert answer_text("1", "", thumbs) == "1" and answer_text("2", "", thumbs) == "0"
    assert answer_text("13", "", []) == "1 3" and answer_text("9", "", thumbs) == "stop"
    assert answer_text("#", "", []) == "skip" and answer_text("", "cinco", []) == "cinco"
    assert answer_text("7", "", thumbs) == "7"  # not an option: not understood, reprompted


def _params(placed: FakeCall) -> dict[str, str]:
    return {"CallSid": placed.sid, "From": CALLER, "To": LINE, "CallStatus": "in-progress"}


def _signed(bot: Bot, url: str, placed: FakeCall) -> dict[str, str]:
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(bot.fake.auth_token).compute_signature(url, _params(placed))
    return {"X-Twilio-Signature": signature}


def _again(first: FakeCall) -> FakeCall:
    """The first call again at its first answer's action, as Twilio retries a request: the
    answer is not taken twice, the question now asked (drivers) is said again."""
    return FakeCall(sid=first.sid, to=first.to, from_=first.from_,
                    url=f"{PUBLIC}/webhooks/twilio/voice?n=1")  # fmt: skip


# Call-back: the service's catalog allows the bot to call the person itself.
@pytest.fixture
async def calling(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    catalog = (FLOWS_DIR / "services.yaml").read_text()
    catalog = catalog.replace("flow: a11-v2-thumbs\n", "flow: a11-v2-thumbs\n    call_back: true\n")
    (tmp_path / "services.yaml").write_text(catalog)
    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "voice"),
                             services_file=tmp_path / "services.yaml")  # fmt: skip
    async with serving(settings, [TwilioChannel(settings), VoiceChannel(settings)],
                       fake_twilio) as served:  # fmt: skip
        fake_twilio.post_to = public_to_local(served)
        yield served


async def test_a_call_back_surveys_the_person_who_answers(calling: Bot, redis: Redis) -> None:
    calling.fake.callers[CALLER] = caller_script("1, 2#, say:Good.")
    heard: list[str] = []
    calling.fake.on_say = heard.append  # what twilio-fake prints
    await voice_url(calling)
    assert await delivery.deliver_due(calling.rt) == 1
    await calling.fake.settle()
    [placed] = calling.fake.calls
    assert (placed.to, placed.from_, placed.machine_detection) == (CALLER, LINE, "Enable")
    assert placed.url.startswith(f"{PUBLIC}/webhooks/twilio/voice?s=")
    assert "3 quick questions" in placed.words() and placed.ended_by == "bot"
    assert " ".join(heard) == placed.words()
    built = await only_record(redis, calling)
    assert (built["disposition"], built["reported_channel"]) == ("completed", "automated_phone")
    assert built["a11"]["question_1"] == 1 and built["a11"]["positive_ease"] == 1


async def test_an_answering_machine_is_not_surveyed(calling: Bot, redis: Redis) -> None:
    calling.fake.answered_by[CALLER] = "machine_end_beep"
    calling.fake.callers[CALLER] = [{"Digits": "1"}]
    await voice_url(calling)
    await delivery.deliver_due(calling.rt)
    await calling.fake.settle()
    [placed] = calling.fake.calls
    assert placed.said == [] and placed.ended_by == "bot"  # hung up at once, nothing said
    built = await only_record(redis, calling)
    assert built["disposition"] == "answering_machine" and built["reason"] == "answering_machine"
    assert not response.is_offered(built)  # no survey opportunity for the A-11 counts


async def test_a_call_never_connected_is_undeliverable(calling: Bot, redis: Redis) -> None:
    calling.fake.unreached[CALLER] = "no-answer"
    await voice_url(calling)
    await delivery.deliver_due(calling.rt)
    await calling.fake.settle()
    built = await only_record(redis, calling)
    assert (built["disposition"], built["reason"]) == ("undeliverable", "no_answer")


async def test_call_backs_keep_quiet_hours_and_the_transfer_comes_first(
    calling: Bot, redis: Redis
) -> None:
    calling.clock.now = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)  # 1 a.m. in Washington, DC
    calling.fake.callers[CALLER] = [{"Digits": "1"}, {"Digits": "#"}, {"Digits": "#"}]
    await voice_url(calling)
    await delivery.deliver_due(calling.rt)
    assert calling.fake.calls == []  # deferred to the morning
    calling.clock.now = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)  # 9 a.m.
    await delivery.deliver_due(calling.rt)
    await calling.fake.settle()
    assert len(calling.fake.calls) == 1
    assert (await only_record(redis, calling))["disposition"] == "completed"
    # A caller transferred at the end of the call takes the survey there: no call-back.
    url = await voice_url(calling, "v2", to="+12025550124")
    done = await call(calling, url, [{"Digits": "1"}, {"Digits": "#"}, {"Digits": "#"}])
    assert done.ended_by == "bot"
    await delivery.deliver_due(calling.rt)
    assert len(calling.fake.calls) == 1


async def test_call_backs_respect_the_opt_out(calling: Bot, redis: Redis) -> None:
    rt = calling.rt
    # pressed 9 on an earlier call
    await consent.opt_out(rt, rt.person(CALLER), rt.scope("voice"), "stop", "voice")
    result = await (await calling.transactions({"transaction_id": "v9", "channel": "voice",
                                                "service": "benefits-application",
                                                "to": CALLER})).json()  # fmt: skip
    assert (result["status"], result["reason"]) == ("suppressed", "opted_out")
    await delivery.deliver_due(calling.rt)
    assert calling.fake.calls == []


def test_the_settings_check_names_what_the_voice_channel_lacks(
    fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    from bot.settings import ConfigError

    good = make_settings(fake_twilio, tmp_path, channels=("voice",))
    good.check()
    bad = make_settings(fake_twilio, tmp_path, channels=("voice",), voice_en="Polly Joanna<x>",
                        voice_call_rate=0.0, twilio_auth_token=Secret(""))  # fmt: skip
    with pytest.raises(ConfigError) as refused:
        bad.check()
    said = str(refused.value)
    assert "VOICE_EN must be a Twilio voice name" in said and "VOICE_ES" not in said
    assert "VOICE_CALL_RATE must be more than 0" in said
    assert "TWILIO_AUTH_TOKEN is not set (the voice channel needs it)" in said


# The agency's option: comments recorded, transcribed by Twilio after the call.
@pytest.fixture
async def recording(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    settings = make_settings(fake_twilio, tmp_path, channels=("voice",), voice_comments="record")
    async with serving(settings, [VoiceChannel(settings)], fake_twilio) as served:
        yield served


async def test_a_recorded_comment_arrives_transcribed_after_the_call(
    recording: Bot, redis: Redis
) -> None:
    url = await voice_url(recording)
    recorded = {"RecordingDuration": "7",
                "TranscriptionText": "The agent was kind. Call me at 202-555-0188."}  # fmt: skip
    done = await call(recording, url, [{"Digits": "1"}, {"Digits": "2"}, recorded])
    [record_verb] = [g for g in done.gathers if "transcribe" in g]
    assert record_verb["transcribe"] == "true" and record_verb["playBeep"] == "true"
    assert record_verb["transcribeCallback"] == f"{PUBLIC}/webhooks/twilio/voice/transcription"
    assert done.ended_by == "bot" and "Thank you!" in done.words()  # the closing, said at once
    # The call ends before its words arrive: the survey waits for them.
    assert await status(recording, done.sid, "completed") == 204
    assert await State(redis).ended_records() == []
    assert await transcribe(recording.client.session, recording.fake.auth_token, done,
                            public_to_local(recording)) == [204]  # fmt: skip
    built = await only_record(redis, recording)
    assert built["disposition"] == "completed" and built["a11"]["question_1"] == 1
    assert built["free_text"] == "The agent was kind. Call me at [PHONE]."


async def test_a_recording_left_empty_skips_the_comment(recording: Bot, redis: Redis) -> None:
    url = await voice_url(recording)
    done = await call(recording, url, [{"Digits": "1"}, {"Digits": "2"},
                                       {"RecordingDuration": "0"}])  # fmt: skip
    assert done.ended_by == "bot" and "Thank you!" in done.words()
    built = await only_record(redis, recording)
    assert built["disposition"] == "completed" and not built["free_text"]


async def test_spanish_comments_are_heard_by_gather_when_recording(recording: Bot) -> None:
    url = await voice_url(recording, language="es")
    done = await call(recording, url, [{"Digits": "1"}, {"Digits": "2"}, None])
    assert done.gathers[-1]["input"] == "dtmf speech"  # Twilio transcribes English only


def test_a_simulated_callers_script_in_one_line() -> None:
    assert caller_script("1, 13#, #, *, say:uno y tres, -, hangup") == [
        {"Digits": "1"}, {"Digits": "13"}, {"Digits": "#"}, {"Digits": "*"},
        {"SpeechResult": "uno y tres"}, {}, None]  # fmt: skip
    with pytest.raises(ValueError, match="not a key"):
        caller_script("1, yes")


def test_twilio_fake_takes_a_callers_script_or_says_what_is_wrong(capsys: Any) -> None:
    from bot.cli import build_parser, main

    default = build_parser().parse_args(["twilio-fake"]).caller
    assert caller_script(default)[0] == {"Digits": "1"}  # the default parses
    assert main(["twilio-fake", "--caller", "1,yes"]) == 2
    assert "--caller: not a key, say:words, - or hangup: 'yes'" in capsys.readouterr().err
