"""Slack end to end: the real route, genuinely signed requests, a loopback fake Slack Web API,
real Redis and the real SQL store."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from adapters.slack.channel import SlackChannel
from adapters.testing.slack_fake import FakeSlack
from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core import response
from bot.core.secret import Secret
from bot.service import delivery
from bot.web.app import create_app

from .conftest import Bot, Clock, make_settings
from .slack_helpers import SIGNING_SECRET, SlackClient, block_actions, buttons, drain
from .test_theme_figures import quarters

PHONE = "+12025550123"
USER = "U0PERSON1"
STAFF = "U0STAFF01"
ADMIN = "U0ADMIN01"


class World:
    def __init__(self, bot: Bot, slack: SlackClient, fake: FakeSlack) -> None:
        self.bot, self.slack, self.fake = bot, slack, fake

    @property
    def rt(self) -> Any:
        return self.bot.rt


@pytest.fixture
async def world(
    request: pytest.FixtureRequest, redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path
) -> AsyncIterator[World]:
    fake = FakeSlack()
    await fake.start()
    clock = Clock()
    settings = make_settings(
        fake_twilio,
        tmp_path,
        channels=("sms", "whatsapp", "slack"),
        slack_bot_token=Secret(fake.token),
        slack_signing_secret=Secret(SIGNING_SECRET),
        slack_api_url=fake.base_url,
        slack_alert_channel="C0ALERTS",
        slack_escalation_target=getattr(request, "param", "S0ONCALL"),
        slack_admins=(ADMIN,),
    )
    app = create_app(
        settings, channels=[TwilioChannel(settings), SlackChannel(settings)], clock=clock
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    yield World(Bot(client, fake_twilio, clock, settings), SlackClient(client, fake), fake)
    await client.close()
    await fake.stop()


async def sms_survey(w: World, *replies: str, tid: str = "t1", to: str = PHONE) -> str:
    body = {"transaction_id": tid, "service": "benefits-application", "channel": "sms",
            "to": to}  # fmt: skip
    response = await w.bot.transactions(body)
    assert response.status == 202, await response.text()
    assert await delivery.deliver_due(w.rt) == 1
    for reply in replies:
        await w.bot.text(to, reply)
    return str((await response.json())["survey_id"])


def alerts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in fake.posted("C0ALERTS") if "thread_ts" not in m]


def texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# signing and replay ------------------------------------------------------------------------


async def test_unsigned_old_wrong_and_replayed_requests_are_refused(world: World) -> None:
    s = world.slack
    body = "command=%2Fcx&text=flows&user_id=U0STAFF01&response_url=x"
    form = "application/x-www-form-urlencoded"
    assert (await s.post(body, form, headers={})).status == 401
    old = int(time.time()) - 6 * 60
    assert (await s.post(body, form, timestamp=old)).status == 401
    assert (await s.post(body, form, secret="not-the-secret")).status == 401
    headers = s.headers(body)
    first = await s.post(body, form, headers=headers)
    assert first.status == 200 and "a11-v2-thumbs" in (await first.json())["text"]
    assert (await s.post(body, form, headers=headers)).status == 401  # the same request again
    assert world.fake.called("chat.postMessage") == []


async def test_retried_event_is_handled_once(world: World) -> None:
    await slack_invitation(world)
    await drain(world.rt)
    event = {"type": "message", "channel_type": "im", "channel": "D0PERSON1", "user": USER,
             "text": "yes", "ts": "1780000001.000100", "client_msg_id": "m-1"}  # fmt: skip
    assert (await world.slack.event(event, "Ev001")).status == 200
    again = await world.slack.event(event, "Ev001", retry=1)
    assert again.status == 200
    await drain(world.rt)
    dm = world.fake.posted("D0PERSON1")
    assert len(dm) == 2  # the invitation and one answer, not two
    assert "What went well?" in dm[1]["text"]


async def test_requests_are_acknowledged_fast_while_slack_is_down(world: World) -> None:
    await sms_survey(world, "no", "4", "They were rude")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    world.fake.fail("chat.update", "ratelimited", times=1)
    started = time.monotonic()
    claim = block_actions(STAFF, buttons(alert)[0], channel="C0ALERTS", message=alert)
    response = await world.slack.action(claim)
    assert response.status == 200 and time.monotonic() - started < 3
    await drain(world.rt)
    assert (await world.rt.work.status())["retrying"] == 1  # kept, not lost
    world.bot.clock.advance(minutes=10)
    await drain(world.rt)
    assert (await world.rt.work.status()) == {"waiting": 0, "in_flight": 0, "retrying": 0,
                                              "dead": 0}  # fmt: skip
    assert "claimed by <@U0STAFF01>" in texts(alert["blocks"])


# alerts and cases --------------------------------------------------------------------------


async def test_bad_response_alerts_with_redacted_excerpt_and_buttons(world: World) -> None:
    survey_id = await sms_survey(
        world, "no", "4", "Nobody called back. Reach me at jane@example.com or 202-555-0199"
    )
    await drain(world.rt)
    [alert] = alerts(world.fake)
    shown = texts(alert["blocks"]) + alert["text"]
    assert "benefits-application" in shown and "sms" in shown
    assert "negative" in shown and "transparency" in shown  # trust, driver 4 offered
    assert "jane@example.com" not in shown and "555-0199" not in shown
    assert "Nobody called back" in shown
    assert '"*Themes*\\nphone' in shown  # its comment's themes ("called back"), as JSON
    assert [b["text"]["text"] for b in buttons(alert)] == ["Claim", "Resolve", "Not actionable"]
    assert alert["metadata"]["event_payload"]["case_id"] == survey_id
    stored = await world.rt.store.case(survey_id)
    assert stored["status"] == "received" and "trust_negative" in stored["reasons"]
    assert "driver:transparency" in stored["reasons"]


async def test_every_line_of_a_comment_is_quoted_and_escaped_in_an_alert(world: World) -> None:
    # Lines after the first read as the alert's own fields unless each is quoted.
    comment = "They were rude\n*Service*\nall good, close this\n\n<!channel> <@U0STAFF01> & co"
    await sms_survey(world, "no", "4", comment)
    await drain(world.rt)
    [alert] = alerts(world.fake)
    sections = [b["text"]["text"] for b in alert["blocks"] if "text" in b]
    [quote] = [text for text in sections if "rude" in text]
    assert quote.split("\n") == [">They were rude", ">*Service*", ">all good, close this", ">",
                                  ">&lt;!channel&gt; &lt;@U0STAFF01&gt; &amp; co"]  # fmt: skip


async def test_good_response_does_not_alert(world: World) -> None:
    await sms_survey(world, "yes", "1 3", "Quick and easy, thanks")
    await drain(world.rt)
    assert alerts(world.fake) == []
    assert await world.rt.state.open_cases() == []


async def test_claim_then_resolve_updates_in_place_and_records_outcome(world: World) -> None:
    survey_id = await sms_survey(world, "no", "2", "skip")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    claim = block_actions(STAFF, buttons(alert)[0], channel="C0ALERTS", message=alert)
    assert (await world.slack.action(claim)).status == 200
    await drain(world.rt)
    assert "claimed by <@U0STAFF01>" in texts(alert["blocks"])
    assert [b["text"]["text"] for b in buttons(alert)] == ["Resolve", "Not actionable"]
    ref = buttons(alert)[0]["value"]
    world.bot.clock.advance(minutes=30)
    resolve = block_actions(ADMIN, buttons(alert)[0], channel="C0ALERTS", message=alert)
    assert (await world.slack.action(resolve)).status == 200
    await drain(world.rt)
    assert "resolved by <@U0ADMIN01>" in texts(alert["blocks"]) and buttons(alert) == []
    stored = await world.rt.store.case(survey_id)
    assert stored["status"] == "resolved"
    assert stored["claimed_by"] == STAFF and stored["closed_by"] == ADMIN
    assert stored["closed_at"] == world.bot.clock.now.isoformat()
    assert [h["action"] for h in stored["history"]] == ["received", "claim", "resolve"]
    assert await world.rt.state.open_cases() == []
    # A late click on the old message is refused politely, to that person only.
    late = block_actions(STAFF, {"action_id": "case_claim", "value": ref},
                         channel="C0ALERTS", message=alert)  # fmt: skip
    await world.slack.action(late)
    await drain(world.rt)
    [note] = world.fake.called("chat.postEphemeral")
    assert note["user"] == STAFF and "already resolved" in note["text"]


async def test_a_case_moved_in_the_console_or_in_slack_shows_in_both(world: World) -> None:
    from .test_console import Browser

    await sms_survey(world, "no", "2", "skip")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    console = Browser(world.bot)
    await console.sign_in("admin-token")
    [case] = await world.rt.state.open_cases()
    claimed = await console.post(f"/admin/cases/{case['case_id']}/claim",
                                 {"csrf": await console.csrf()})  # fmt: skip
    assert claimed.status == 303
    await drain(world.rt)  # the console queued the Slack message's refresh
    assert "claimed by admin (token)" in texts(alert["blocks"])
    assert [b["text"]["text"] for b in buttons(alert)] == ["Resolve", "Not actionable"]
    # and a click in Slack shows in the console
    resolve = block_actions(ADMIN, buttons(alert)[0], channel="C0ALERTS", message=alert)
    assert (await world.slack.action(resolve)).status == 200
    await drain(world.rt)
    page = await (await console.get("/admin/cases")).text()
    assert "No open cases" in page and f"resolved by {ADMIN}" in page


async def test_dismissed_as_not_actionable(world: World) -> None:
    survey_id = await sms_survey(world, "no", "1", "skip")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    dismiss = block_actions(STAFF, buttons(alert)[2], channel="C0ALERTS", message=alert)
    await world.slack.action(dismiss)
    await drain(world.rt)
    assert (await world.rt.store.case(survey_id))["status"] == "dismissed"


async def test_unclaimed_case_escalates_after_the_timer(world: World) -> None:
    survey_id = await sms_survey(world, "no", "1", "skip")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    world.bot.clock.advance(hours=3, minutes=59)
    await delivery.run_timers(world.rt)
    await drain(world.rt)
    assert [m for m in world.fake.posted("C0ALERTS") if "thread_ts" in m] == []
    world.bot.clock.advance(minutes=2)
    assert await delivery.run_timers(world.rt) == 1
    await drain(world.rt)
    [ping] = [m for m in world.fake.posted("C0ALERTS") if "thread_ts" in m]
    assert ping["thread_ts"] == alert["ts"] and "<!subteam^S0ONCALL>" in ping["text"]
    assert "escalated" in texts(alert["blocks"])
    assert (await world.rt.store.case(survey_id))["escalated_at"] is not None


@pytest.mark.parametrize("world", ["C0ESCALATE"], indirect=True)
async def test_escalation_to_a_channel(world: World) -> None:
    await sms_survey(world, "no", "1", "skip")
    await drain(world.rt)
    world.bot.clock.advance(hours=4, minutes=1)
    await delivery.run_timers(world.rt)
    await drain(world.rt)
    [escalation] = world.fake.posted("C0ESCALATE")
    assert escalation["text"].startswith(":alarm_clock: Unclaimed case for benefits-application")
    assert "https://fake.slack.com/archives/C0ALERTS/p" in escalation["text"]
    assert [b["text"]["text"] for b in buttons(escalation)] == [
        "Claim",
        "Resolve",
        "Not actionable",
    ]


async def test_claimed_case_does_not_escalate(world: World) -> None:
    await sms_survey(world, "no", "1", "skip")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    await world.slack.action(block_actions(STAFF, buttons(alert)[0], channel="C0ALERTS",
                                           message=alert))  # fmt: skip
    await drain(world.rt)
    world.bot.clock.advance(hours=5)
    await delivery.run_timers(world.rt)
    await drain(world.rt)
    assert [m for m in world.fake.posted("C0ALERTS") if "thread_ts" in m] == []


async def test_crisis_message_alerts_at_once_and_loudly(world: World) -> None:
    survey_id = await sms_survey(world)
    # Mid-survey, in reply to the rating question: nothing waits for the survey to end.
    await world.bot.text(PHONE, "I can't take this anymore, I want to kill myself")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    assert alert["text"].startswith("<!channel> :rotating_light: CRISIS: possible self-harm")
    assert "CRISIS" in texts(alert["blocks"])
    [ping] = [m for m in world.fake.posted("C0ALERTS") if "thread_ts" in m]
    assert "<!subteam^S0ONCALL>" in ping["text"]  # escalated at once, not after hours
    # The survey goes on; its end adds the scores to the same case, with no second alert.
    await world.bot.text(PHONE, "no")
    await world.bot.text(PHONE, "4")
    await world.bot.text(PHONE, "skip")
    await drain(world.rt)
    assert len(alerts(world.fake)) == 1
    case = await world.rt.store.case(survey_id)
    assert case["response_id"] == survey_id
    assert {"crisis:self_harm", "trust_negative"} <= set(case["reasons"])


async def test_crisis_in_final_comment_whatever_the_scores(world: World) -> None:
    await sms_survey(world, "yes", "1", "Great staff. But if this happens again I will bring a gun")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    assert "possible threat of violence" in alert["text"] and "<!channel>" in alert["text"]
    assert "gun" in texts(alert["blocks"])  # redacted, not removed: staff must see the threat


async def test_crisis_from_a_number_without_a_survey(world: World) -> None:
    await world.bot.text(PHONE, "Necesito ayuda, es una emergencia")
    await drain(world.rt)
    [alert] = alerts(world.fake)
    assert "possible emergency" in alert["text"]
    assert PHONE not in json.dumps([c.params for c in world.fake.calls])


# /cx ---------------------------------------------------------------------------------------


async def test_non_admin_cannot_pause(world: World) -> None:
    response = await world.slack.command(STAFF, "pause benefits-application")
    assert response.status == 200
    assert "only the bot's admins" in (await response.json())["text"]
    assert not world.rt.services["benefits-application"].paused


async def test_admin_pause_and_resume(world: World) -> None:
    response = await world.slack.command(ADMIN, "pause benefits-application")
    assert "Paused benefits-application" in (await response.json())["text"]
    body = {"transaction_id": "p1", "service": "benefits-application", "channel": "sms",
            "to": PHONE}  # fmt: skip
    suppressed = await (await world.bot.transactions(body)).json()
    assert suppressed["status"] == "suppressed" and suppressed["reason"] == "service_paused"
    services = await world.bot.client.get(
        "/v1/services", headers={"Authorization": "Bearer admin-token"}
    )
    [benefits] = [
        s for s in (await services.json())["services"] if s["id"] == "benefits-application"
    ]
    assert benefits["active"] is False
    response = await world.slack.command(ADMIN, "resume benefits-application")
    assert "Resumed" in (await response.json())["text"]
    body["transaction_id"] = "p2"
    assert (await (await world.bot.transactions(body)).json())["status"] == "scheduled"


async def test_pause_stops_invitations_already_scheduled(world: World) -> None:
    body = {"transaction_id": "s1", "service": "benefits-application", "channel": "sms",
            "to": PHONE}  # fmt: skip
    assert (await (await world.bot.transactions(body)).json())["status"] == "scheduled"
    await world.slack.command(ADMIN, "pause benefits-application")
    await delivery.deliver_due(world.rt)
    assert world.bot.fake.sent_to(PHONE) == []


async def test_cx_scores_cases_flows_and_help(world: World) -> None:
    await sms_survey(world, "yes", "1 3", "Fast", tid="a")
    await sms_survey(world, "no", "4", "skip", tid="b", to="+12025550124")
    await drain(world.rt)
    response = await world.slack.command(STAFF, "scores benefits-application FY2027Q1")
    assert "Working" in (await response.json())["text"]
    await drain(world.rt)
    [posted] = world.fake.responses
    assert posted["response_type"] == "ephemeral"
    assert "FY2027 Q1" in posted["text"] and "benefits-application" in posted["text"]
    # the catalog's goals, one line each: two respondents are too few to measure
    assert "goal, trust positive: - against at least 80.0%: not yet measurable" in posted["text"]
    cases = await (await world.slack.command(STAFF, "cases")).json()
    assert cases["text"].startswith("*Open cases* (")
    flows = await (await world.slack.command(STAFF, "flows")).json()
    assert "a11-v2-scale" in flows["text"] and "version" in flows["text"]
    usage = await (await world.slack.command(STAFF, "")).json()
    assert "/cx scores" in usage["text"]
    bad = await (await world.slack.command(STAFF, "scores nowhere")).json()
    assert "don't know `nowhere`" in bad["text"]


async def test_cx_themes_counts_a_services_themes_by_grouped_sql(world: World) -> None:
    await world.rt.store.write_many(quarters())
    response = await world.slack.command(STAFF, "themes benefits-application")
    assert "Counting" in (await response.json())["text"]
    await drain(world.rt)
    [posted] = world.fake.responses
    text = posted["text"]
    assert "Themes of benefits-application's comments, FY2027 Q1" in text
    assert ("• Wait time: 18 comments, 66.7% negative (+8 comments, -33.3 points negative "
            "from last quarter)") in text  # fmt: skip
    assert "• Phone line: 12 comments, 100.0% negative (+2 comments" in text
    fewer = text.split("Fewer than 10 comments: ")[1]
    assert "Staff" in fewer and "Wait time" not in fewer  # 6: not given
    await world.slack.command(STAFF, "themes benefits-application FY2026Q4")
    await drain(world.rt)
    before = world.fake.responses[-1]["text"]
    assert "• Wait time: 10 comments, 100.0% negative\n" in before  # Q3: none to compare
    await world.slack.command(STAFF, "themes permit-renewal")
    await drain(world.rt)
    assert "No theme was found in 10 comments or more." in world.fake.responses[-1]["text"]
    usage = await (await world.slack.command(STAFF, "themes")).json()
    assert usage["text"].startswith("Usage: `/cx themes <service>")
    bad = await (await world.slack.command(STAFF, "themes nowhere")).json()
    assert "don't know `nowhere`" in bad["text"]
    help_text = await (await world.slack.command(STAFF, "help")).json()
    assert "/cx themes" in help_text["text"]


# Slack as a survey channel -----------------------------------------------------------------


async def slack_invitation(w: World, tid: str = "s1") -> dict[str, Any]:
    body = {"transaction_id": tid, "service": "benefits-application", "channel": "slack",
            "to": USER}  # fmt: skip
    response = await w.bot.transactions(body)
    assert response.status == 202, await response.text()
    assert (await response.json())["status"] == "scheduled"
    assert await delivery.deliver_due(w.rt) == 1
    return w.fake.posted("D0PERSON1")[-1]


async def click(w: World, message: dict[str, Any], index: int) -> None:
    action = buttons(message)[index]
    response = await w.slack.action(block_actions(USER, action, channel="D0PERSON1",
                                                  message=message))  # fmt: skip
    assert response.status == 200
    await drain(w.rt)


async def submit(w: World, message: dict[str, Any], values: list[str]) -> None:
    checkboxes, button = buttons(message)
    chosen = [o for o in checkboxes["options"] if o["value"] in values]
    state = {f"q:{button['value']}": {"survey_pick": {"type": "checkboxes",
                                                      "selected_options": chosen}}}  # fmt: skip
    payload = block_actions(USER, button, channel="D0PERSON1", message=message, state=state)
    assert (await w.slack.action(payload)).status == 200
    await drain(w.rt)


async def test_slack_survey_positive_branch(world: World) -> None:
    invitation = await slack_invitation(world)
    assert "Example Benefits Agency" in invitation["text"] and "OMB 1234-5678" in invitation["text"]
    # A chat with buttons: the buttons say the answers, the text does not list keys to type.
    assert "Reply 1 for Yes" not in invitation["text"]
    assert invitation["text"].endswith("This interaction increased my trust in Example Benefits "
                                       "Agency.")  # fmt: skip
    assert [b["text"]["text"] for b in buttons(invitation)] == ["👍 Yes", "👎 No"]
    await click(world, invitation, 0)
    assert "✅" in texts(invitation["blocks"]) or ":white_check_mark:" in texts(
        invitation["blocks"]
    )
    assert buttons(invitation) == []  # answered: the buttons are gone
    drivers = world.fake.posted("D0PERSON1")[-1]
    assert drivers["text"] == "What went well? Choose all that apply, then Submit."
    checkboxes, button = buttons(drivers)
    assert checkboxes["type"] == "checkboxes" and button["text"]["text"] == "Submit"
    await submit(world, drivers, ["1", "3"])
    comment = world.fake.posted("D0PERSON1")[-1]
    assert "Anything else" in comment["text"] and buttons(comment) == []
    await world.slack.dm(USER, "Very quick, thank you. Call me at 202-555-0188", "Ev-c1")
    await drain(world.rt)
    assert "Thank you!" in world.fake.posted("D0PERSON1")[-1]["text"]
    [record] = [r for r in await world.rt.store.responses() if r["channel"] == "slack"]
    assert record["reported_channel"] == "chatbot" and record["disposition"] == "completed"
    assert record["timestamps"]["delivered"] is not None
    assert record["a11"]["question_1"] == 1
    assert record["answers"]["drivers"]["value"] == ["effectiveness", "efficiency"]
    assert "555-0188" not in json.dumps(record)
    response.validate(record)
    assert alerts(world.fake) == []


async def test_slack_survey_negative_branch_same_shape_as_sms(world: World) -> None:
    invitation = await slack_invitation(world)
    await click(world, invitation, 1)
    drivers = world.fake.posted("D0PERSON1")[-1]
    assert "What didn't go so well?" in drivers["text"]
    await submit(world, drivers, ["2"])
    await world.slack.dm(USER, "skip", "Ev-n1")
    await drain(world.rt)
    await sms_survey(world, "no", "2", "skip", tid="sms-1")
    await drain(world.rt)
    records = {r["channel"]: r for r in await world.rt.store.responses()}
    slack, sms = records["slack"], records["sms"]
    assert slack["a11"]["question_1"] == 0 and slack["answers"]["drivers"]["value"] == ["ease"]
    assert slack.keys() == sms.keys() and slack["a11"].keys() == sms["a11"].keys()
    assert {k: v for k, v in slack["a11"].items()} == {k: v for k, v in sms["a11"].items()}
    assert len(alerts(world.fake)) == 2  # both negative: an alert each


async def test_click_on_an_old_question_is_ignored(world: World) -> None:
    invitation = await slack_invitation(world)
    await click(world, invitation, 0)
    # The buttons were taken away, but a stale client may still send the old click.
    stale = {"action_id": "survey_answer:0", "value": "question_1|0",
             "text": {"type": "plain_text", "text": "👎"}}  # fmt: skip
    payload = block_actions(USER, stale, channel="D0PERSON1", message=invitation)
    assert (await world.slack.action(payload)).status == 200
    await drain(world.rt)
    ref = await world.rt.state.open_survey(world.rt.person(USER), "slack")
    record = await world.rt.state.survey(ref)
    assert record["session"]["answers"]["question_1"]["value"] == 1
    assert len(world.fake.posted("D0PERSON1")) == 2  # invitation and drivers only


async def test_a_typed_reply_not_understood_gets_the_buttons_hint_and_the_buttons(
    world: World,
) -> None:
    await slack_invitation(world)
    await world.slack.dm(USER, "purple", "Ev-r1")
    await drain(world.rt)
    hint = world.fake.posted("D0PERSON1")[-1]
    assert hint["text"] == "Sorry, I didn't get that. Choose Yes or No, or reply SKIP."
    assert [b["text"]["text"] for b in buttons(hint)] == ["👍 Yes", "👎 No"]


async def test_slack_stop_opts_out(world: World) -> None:
    await slack_invitation(world)
    await world.slack.dm(USER, "STOP", "Ev-stop")
    await drain(world.rt)
    assert "unsubscribed" in world.fake.posted("D0PERSON1")[-1]["text"]
    body = {"transaction_id": "s2", "service": "benefits-application", "channel": "slack",
            "to": USER}  # fmt: skip
    again = await (await world.bot.transactions(body)).json()
    assert again["status"] == "suppressed" and again["reason"] == "opted_out"


async def test_slack_needs_its_settings(tmp_path: Path, fake_twilio: FakeTwilio) -> None:
    from bot.settings import ConfigError

    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "slack"))
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set"):
        settings.check()
    settings = make_settings(fake_twilio, tmp_path, slack_bot_token=Secret("xoxb-1"),
                             slack_signing_secret=Secret("s"))  # fmt: skip
    with pytest.raises(ConfigError, match="SLACK_ALERT_CHANNEL"):
        settings.check()
    assert "xoxb-1" not in repr(settings)


async def test_no_user_id_text_or_secret_in_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    invitation = await slack_invitation(world)
    await click(world, invitation, 1)
    await submit(world, world.fake.posted("D0PERSON1")[-1], ["2"])
    await world.slack.dm(USER, "My SSN is 123-45-6789 and I feel like giving up", "Ev-p1")
    await drain(world.rt)
    assert alerts(world.fake)  # the negative answer alerted staff
    logged = caplog.text + repr(world.bot.settings) + repr(world.rt.outbound)
    for secret in (USER, "D0PERSON1", "123-45-6789", "giving up", world.fake.token,
                   SIGNING_SECRET):  # fmt: skip
        assert secret not in logged


async def test_dead_letters_and_replay_of_jobs(world: World) -> None:
    await sms_survey(world, "no", "1", "skip")
    world.fake.fail("chat.postMessage", "ratelimited", times=50)
    for _ in range(26):  # retried for a day (OUTBOX_RETRY_HOURS), then dead-lettered
        await drain(world.rt)
        world.bot.clock.advance(hours=1)
    assert (await world.rt.work.status())["dead"] == 1 and alerts(world.fake) == []
    world.fake.failures.clear()
    assert await world.rt.work.replay() == 1
    await drain(world.rt)
    assert len(alerts(world.fake)) == 1
