"""Slack from outside: unsigned and malformed requests, odd signed payloads, large payloads,
and late clicks on old questions, through the real route with genuinely signed requests."""

from __future__ import annotations

import copy
import io
import json
import time
from typing import Any
from urllib.parse import urlencode

from .slack_helpers import block_actions, buttons, drain
from .test_slack import USER, World, click, slack_invitation, submit, world

__all__ = ["world"]  # the fixture, shared with test_slack
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def empty_messages(w: World) -> list[dict[str, Any]]:
    """Every chat.postMessage or chat.update made with empty text or an empty block."""
    bad = []
    for method in ("chat.postMessage", "chat.update"):
        for params in w.fake.called(method):
            blocks = params.get("blocks") or []
            empty_block = any(
                b.get("type") == "section" and not (b.get("text") or {}).get("text", "").strip()
                and not b.get("fields")
                for b in blocks
            )  # fmt: skip
            if not str(params.get("text", "")).strip() or empty_block:
                bad.append(params)
    return bad


async def test_unsigned_requests_of_any_shape_are_401(world: World) -> None:
    s = world.slack
    stamp = str(int(time.time()))
    good = s.headers("{}")
    cases: list[tuple[bytes, dict[str, str]]] = [
        (b"{}", {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": good["X-Slack-Signature"]}),
        (b"{}", {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}),
        (b"{bad", {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=00"}),
        (b"payload=%7Bbad", {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=1"}),
        (b"[1,2]", {"X-Slack-Request-Timestamp": stamp}),
        (b"\xff\xfe", {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=2"}),
        (b"ssl_check=1&token=x", {}),  # Bolt would answer 200 before verifying
    ]
    for body, headers in cases:
        response = await s.client.post(
            "/slack/events", data=body, headers={**headers, "Content-Type": FORM}
        )
        assert response.status == 401, body
    # A signature header that is not ASCII, and a body in an unknown charset.
    raw = await s.client.post(
        "/slack/events", data=b"{}",
        headers={"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=\udcff",
                 "Content-Type": "application/json; charset=klingon"},
    )  # fmt: skip
    assert raw.status == 401


async def test_signed_but_malformed_bodies_are_400(world: World) -> None:
    s = world.slack
    for body, content_type in [
        ("{bad", JSON),
        ("payload=%7Bbad", FORM),
        ("[1,2]", JSON),
        ('"text"', JSON),
        ("payload=%5B1%5D", FORM),
    ]:
        assert (await s.post(body, content_type)).status == 400, body
    body = b"\xff\xfe{}"
    headers = s.headers(body.decode("latin-1"))  # signed over other bytes: still unsigned
    response = await s.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    assert world.fake.calls == []


async def test_signed_odd_payloads_are_acknowledged_and_ignored(world: World) -> None:
    s = world.slack
    no_ts = {"type": "message", "channel_type": "im", "channel": "D0PERSON1", "user": USER,
             "text": "hello"}  # fmt: skip
    assert (await s.event(no_ts, "Ev-no-ts")).status == 200
    # a user that is not an id: Bolt cannot read it, so it is signed but malformed
    assert (await s.event({"type": "message", "user": 5, "ts": 3}, "Ev-odd")).status == 400
    for actions in ([], None, [None], "x"):
        payload = {"type": "block_actions", "user": {"id": USER}, "actions": actions}
        assert (await s.action(payload)).status == 200, actions
    no_user = block_actions(USER, {"action_id": "survey_answer:1", "value": "question_1|1"},
                            channel="D0PERSON1")  # fmt: skip
    no_user["user"] = None
    assert (await s.action(no_user)).status == 200
    envelope = {"type": "event_callback", "event_id": "Ev-none", "event": None}
    assert (await s.post(json.dumps(envelope), JSON)).status == 200
    assert (await s.command("", "")).status == 200
    await drain(world.rt)
    assert empty_messages(world) == []
    assert world.fake.called("chat.postMessage") == []


async def test_signed_ssl_check_is_answered(world: World) -> None:
    assert (await world.slack.post("ssl_check=1&token=x", FORM)).status == 200


async def test_large_signed_interactive_payload_is_taken(world: World) -> None:
    # A static_select in a large view: about 94 KB, as in the SDK's socket-mode tests.
    options = [
        {"text": {"type": "plain_text", "text": f"Option {i} " + "x" * 60}, "value": f"v{i}"}
        for i in range(1000)
    ]
    select = {"type": "static_select", "action_id": "pick_office", "block_id": "b1",
              "selected_option": options[7], "action_ts": f"{time.time():.6f}"}  # fmt: skip
    payload = {"type": "block_actions", "user": {"id": USER}, "team": {"id": "T0FAKE"},
               "actions": [select], "trigger_id": "1.2.3",
               "view": {"id": "V1", "type": "modal", "blocks": [{"type": "input", "element": {
                   "type": "static_select", "options": options}}]}}  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)})
    assert 90_000 < len(body) < 1024 * 1024
    assert (await world.slack.post(body, FORM)).status == 200
    huge = io.BytesIO(b"payload=" + b"x" * (1024 * 1024))
    headers = {**world.slack.headers("ignored"), "Content-Type": FORM}
    response = await world.slack.client.post("/slack/events", data=huge, headers=headers)
    assert response.status == 413


async def test_late_click_after_the_survey_closed_changes_nothing(world: World) -> None:
    invitation = await slack_invitation(world)
    first_question = copy.deepcopy(invitation)
    await click(world, invitation, 1)  # 👎
    await submit(world, world.fake.posted("D0PERSON1")[-1], ["2"])
    await world.slack.dm(USER, "skip", "Ev-skip")
    await drain(world.rt)
    assert "Thank you!" in world.fake.posted("D0PERSON1")[-1]["text"]
    updates = len(world.fake.called("chat.update"))
    posts = len(world.fake.called("chat.postMessage"))
    await click(world, first_question, 0)  # 👍 on the first question, after the end
    assert len(world.fake.called("chat.update")) == updates  # the message keeps its answer
    assert len(world.fake.called("chat.postMessage")) == posts
    [note] = world.fake.called("chat.postEphemeral")
    assert note["user"] == USER and "closed" in note["text"]
    [record] = [r for r in await world.rt.store.responses() if r["channel"] == "slack"]
    assert record["a11"]["question_1"] == 0
    assert ":white_check_mark: 👎" in json.dumps(invitation["blocks"], ensure_ascii=False)
    assert empty_messages(world) == []


async def test_late_click_mid_survey_changes_nothing(world: World) -> None:
    invitation = await slack_invitation(world)
    first_question = copy.deepcopy(invitation)
    await click(world, invitation, 1)  # 👎: the drivers question is now pending
    updates = len(world.fake.called("chat.update"))
    posts = len(world.fake.called("chat.postMessage"))
    await click(world, first_question, 0)  # 👍 on question 1 again
    assert len(world.fake.called("chat.update")) == updates
    assert len(world.fake.called("chat.postMessage")) == posts
    [note] = world.fake.called("chat.postEphemeral")
    assert "already answered" in note["text"]
    ref = await world.rt.state.open_survey(world.rt.person(USER), "slack")
    record = await world.rt.state.survey(ref)
    assert record["session"]["answers"]["question_1"]["value"] == 0
    assert record["session"]["question"] == "drivers"
    assert ":white_check_mark: 👎" in json.dumps(invitation["blocks"], ensure_ascii=False)
    assert buttons(world.fake.posted("D0PERSON1")[-1])  # the drivers question still asks
    assert empty_messages(world) == []


async def test_cx_scores_for_a_quarter_that_cannot_exist_is_answered_at_once(
    world: World,
) -> None:
    response = await world.slack.command("U0STAFF01", "scores FY0001Q1")
    assert "There is no quarter FY0001Q1" in (await response.json())["text"]
    assert (await world.rt.work.status())["waiting"] == 0  # no job that could only fail
