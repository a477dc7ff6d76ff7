"""Responses forwarded to GSA Touchpoints: each exactly once, mapped to the form's own fields,
through outages and a lost answer; a form that does not fit its flow stops start-up.

Against a loopback Touchpoints (``adapters/testing/touchpoints_fake.py``) built from
Touchpoints' controller rules; its API answers are checked here against Touchpoints' own
OpenAPI document (``tests/data/touchpoints/openapi.yml``, from GSA/touchpoints at
4933e27d, public domain).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from jsonschema import Draft4Validator
from redis.asyncio import Redis

from adapters.sql import SqlStore
from adapters.testing.touchpoints_fake import FakeTouchpoints, a11_v2_form
from adapters.touchpoints import TouchpointsSink
from bot.core.catalog import Service, load_catalog
from bot.core.library import by_id
from bot.core.secret import Secret
from bot.core.touchpoints import map_form, parse_form
from bot.registry import kinds
from bot.startup import StartupError
from bot.store.outbox import Outbox
from bot.store.state import State
from bot.wiring import open_runtime

from .conftest import PUBLIC, REDIS_URL, make_settings
from .records import FLOWS, REPORTED, ended_survey
from .test_store import drain, feed
from .test_store import store as store  # the fixture

OPENAPI = Path(__file__).parent / "data" / "touchpoints" / "openapi.yml"
FORM = "a11thumb"
SERVICES = load_catalog(Path("flows/services.yaml"), FLOWS, kinds())


def with_form(form: str = FORM, service: str = "benefits-application") -> dict[str, Service]:
    return {**SERVICES, service: dataclasses.replace(SERVICES[service], touchpoints_form=form)}


@pytest.fixture
async def touchpoints() -> AsyncIterator[FakeTouchpoints]:
    fake = FakeTouchpoints()
    fake.add(a11_v2_form(FORM, whitelist=(PUBLIC,)))
    await fake.start()
    yield fake
    await fake.stop()


def sink(fake: FakeTouchpoints, forward_log: SqlStore | None, *, timeout: float = 10.0,
         services: dict[str, Service] | None = None) -> TouchpointsSink:  # fmt: skip
    services = services or with_form()
    return TouchpointsSink(fake.base_url, fake.api_url, Secret(fake.api_key), PUBLIC, services,
                           FLOWS, forward_log, timeout=timeout)  # fmt: skip


def schema(name: str) -> Draft4Validator:
    """A schema of Touchpoints' OpenAPI 3.0 document, its ``nullable`` made JSON Schema."""
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))

    def convert(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: convert(v) for k, v in node.items()}
            if node.pop("nullable", False) and "type" in node:
                node["type"] = [node["type"], "null"]
                if "enum" in node:
                    node["enum"] = [*node["enum"], None]
            return node
        return [convert(v) for v in node] if isinstance(node, list) else node

    schemas = convert(document["components"]["schemas"])
    return Draft4Validator({**schemas[name], "components": {"schemas": schemas}})


async def test_the_fake_answers_as_touchpoints_openapi_document_says(
    touchpoints: FakeTouchpoints,
) -> None:
    headers = {"X-Api-Key": touchpoints.api_key}
    async with aiohttp.ClientSession(headers=headers) as http:
        post = await http.post(f"{touchpoints.base_url}/touchpoints/{FORM}/submissions.json",
                               json={"submission": {"answer_01": "1"}})  # fmt: skip
        assert post.status == 201
        form = await (await http.get(f"{touchpoints.api_url}/forms/{FORM}")).json()
        responses = await (await http.get(f"{touchpoints.api_url}/forms/{FORM}/responses")).json()
    async with aiohttp.ClientSession() as no_key:
        assert (await no_key.get(f"{touchpoints.api_url}/forms/{FORM}")).status == 400
    schema("FormResource").validate(form["data"])
    [submission] = responses["data"]
    schema("SubmissionResource").validate(submission)
    schema("PaginationMeta").validate(responses["meta"])


async def test_responses_arrive_once_with_the_forms_fields_through_an_outage(
    touchpoints: FakeTouchpoints,
    store: SqlStore,
    redis: Redis,
) -> None:
    tp = sink(touchpoints, store)
    await tp.start()
    outbox = Outbox(State(redis), [store, tp], by_id(FLOWS), lambda: datetime.now(UTC),
                    reported=REPORTED, base_delay=0.001)  # fmt: skip
    await outbox.ensure_group()
    surveys = [
        ended_survey(1, ["yes", "1 2", "Fast and easy, thanks"]),  # 👍, effectiveness + ease
        ended_survey(2, ["no", "4", "skip"], language="es"),  # 👎, transparency; no comment
        ended_survey(3, [], expire=True),  # never answered: not a response, not forwarded
        ended_survey(4, ["yes", "1", "ok"], service="permit-renewal", flow_id="a11-v2-scale"),
    ]
    touchpoints.outage = 3  # Touchpoints is down for the first tries
    await feed(outbox.state, surveys)
    await drain(outbox)
    await tp.close()
    assert len(touchpoints.posts) >= 3  # refused, then retried
    by_response = {s.fields["query_string"]: s for s in touchpoints.submissions}
    assert sorted(by_response) == [f"response_id={1:032x}", f"response_id={2:032x}"]
    first = by_response[f"response_id={1:032x}"].fields
    assert first["answer_01"] == "1" and first["answer_02"] == "effectiveness,ease"
    assert "answer_03" not in first and first["answer_04"] == "Fast and easy, thanks"
    assert (first["language"], first["page"]) == ("en", "/sms/benefits-application")
    assert first["referer"] == PUBLIC and first["hostname"] == "feedback.example.gov"
    second = by_response[f"response_id={2:032x}"].fields
    assert (second["answer_01"], second["answer_03"], second["language"]) == ("0", "transparency",
                                                                              "es")  # fmt: skip
    assert "answer_04" not in second
    assert all(post["referer"] == PUBLIC for post in touchpoints.posts)
    for survey_id, submitted in by_response.items():
        forward = await store.forward(survey_id.split("=")[1], "touchpoints")
        assert forward is not None and forward.remote_id == submitted.uuid
    # A replay of everything posts nothing again: each response has its Touchpoints id.
    posts = len(touchpoints.posts)
    await tp.start()
    for record in await store.responses(limit=100):
        await tp.write(record)
    await tp.close()
    assert len(touchpoints.posts) == posts and len(touchpoints.submissions) == 2
    # Forgetting a person forgets what was forwarded of them too (Touchpoints keeps its copy).
    await store.forget(surveys[0]["person"])
    assert await store.forward(f"{1:032x}", "touchpoints") is None


async def test_an_answer_lost_after_touchpoints_took_the_submission_is_found_not_sent_again(
    touchpoints: FakeTouchpoints,
    store: SqlStore,
    redis: Redis,
) -> None:
    tp = sink(touchpoints, store, timeout=1.0)
    await tp.start()
    outbox = Outbox(State(redis), [store, tp], by_id(FLOWS), lambda: datetime.now(UTC),
                    reported=REPORTED, base_delay=0.001)  # fmt: skip
    await outbox.ensure_group()
    touchpoints.lose_answers = 1  # taken, then the answer times out
    await feed(outbox.state, [ended_survey(7, ["yes", "1", "good"])])
    await drain(outbox)
    await tp.close()
    assert len(touchpoints.posts) == 1  # looked up, not posted again
    [taken] = touchpoints.submissions
    forward = await store.forward(f"{7:032x}", "touchpoints")
    assert forward is not None and forward.remote_id == taken.uuid


async def test_a_refusal_is_dead_lettered_at_once_with_touchpoints_message(
    touchpoints: FakeTouchpoints,
    store: SqlStore,
    redis: Redis,
) -> None:
    tp = sink(touchpoints, store)
    await tp.start()
    # The agency edits the form after start-up: "ease" is no longer an option.
    form = touchpoints.forms[FORM]
    form.questions[1].options = tuple(v for v in form.questions[1].options if v != "ease")
    outbox = Outbox(State(redis), [store, tp], by_id(FLOWS), lambda: datetime.now(UTC),
                    reported=REPORTED, base_delay=0.001)  # fmt: skip
    await outbox.ensure_group()
    await feed(outbox.state, [ended_survey(8, ["yes", "1 2", "ok"])])
    await drain(outbox)
    await tp.close()
    [dead] = await outbox.dead_letters()
    assert dead["attempts"] == "1"
    assert "422" in dead["error"] and "answer_02 contains invalid values: ease" in dead["error"]
    assert "sql" in json.loads(dead["progress"])["done"]  # the store has it; a replay skips it
    status = await outbox.sink_status(["sql", "touchpoints"])
    assert status == {"sql": {"retrying": 0, "dead": 0}, "touchpoints": {"retrying": 0, "dead": 1}}


async def forms_problems(fake: FakeTouchpoints, **form: Any) -> list[str]:
    fake.add(a11_v2_form("otherfrm", **form))
    tp = sink(fake, None, services=with_form("otherfrm"))
    await tp.open()
    try:
        return await tp.check()
    finally:
        await tp.close()


async def test_a_form_that_does_not_fit_the_flow_is_named_line_by_line(
    touchpoints: FakeTouchpoints,
) -> None:
    where = "service benefits-application: Touchpoints form otherfrm"
    problems = await forms_problems(touchpoints, scale="five_point", required_comment=True)
    assert problems == [
        f"{where}: the trust item must come first as big_thumbs_up_down_buttons (the flow "
        "a11-v2-thumbs asks thumbs up/down); answer_01 is radio_buttons",
        f"{where}: answer_04 is required, but a person may skip it",
        f"{where}: the form does not allow-list the bot's PUBLIC_BASE_URL ({PUBLIC}): add it "
        "to the form's whitelist URLs, or every submission is refused as from an unauthorized "
        "host",
    ]


def test_a_required_question_the_bot_cannot_fill_and_a_missing_driver_question() -> None:
    fake = FakeTouchpoints()
    form = a11_v2_form("abcd1234", whitelist=(PUBLIC,))
    form.questions[2].question_type = "text_email_field"  # no second checkbox
    form.questions[2].is_required = True
    form.questions[3].question_type = "date_select"  # and nowhere for the comment
    parsed = parse_form({"data": fake.form_resource(form)})
    service = with_form("abcd1234")["benefits-application"]
    mapped, problems = map_form(service, FLOWS["a11-v2-thumbs"], parsed, PUBLIC)
    assert mapped is None
    assert [p.split(": ", 2)[2] for p in problems] == [
        "expected two checkbox questions (what went well, what did not), found 1",
        "no text question for the comment (textarea, text_field, rich_textarea)",
        "answer_03 is required, but the bot cannot fill it",
    ]


async def test_a_mismatch_stops_start_up_with_one_line_per_problem(
    touchpoints: FakeTouchpoints, redis: Redis, tmp_path: Path
) -> None:
    touchpoints.add(a11_v2_form("scalefrm", scale="five_point", whitelist=(PUBLIC,)))
    catalog = Path("flows/services.yaml").read_text()
    catalog = catalog.replace("    flow: a11-v2-thumbs\n", "    flow: a11-v2-thumbs\n"
                              "    touchpoints_form: scalefrm\n", 1)  # fmt: skip
    (tmp_path / "services.yaml").write_text(catalog)
    settings = make_settings_tp(touchpoints, tmp_path)
    with pytest.raises(StartupError) as stopped:
        async with open_runtime(settings, channels=[]):
            pass
    lines = str(stopped.value).splitlines()
    assert lines[0] == "cannot start:"
    assert lines[1].startswith(
        "service benefits-application: Touchpoints form scalefrm: the trust item must come "
        "first as big_thumbs_up_down_buttons"
    )
    # A form that fits: the outbox feeds it after the store.
    catalog = catalog.replace("touchpoints_form: scalefrm", f"touchpoints_form: {FORM}")
    (tmp_path / "services.yaml").write_text(catalog)
    async with open_runtime(settings, channels=[]) as rt:
        assert rt.outbox is not None
        assert [sink.name for sink in rt.outbox.sinks] == ["sql", "touchpoints"]
    # Named but not configured: a clear line too.
    unset = dataclasses.replace(settings, touchpoints_url="")
    with pytest.raises(StartupError, match="touchpoints_form, but TOUCHPOINTS_URL is not set"):
        async with open_runtime(unset, channels=[]):
            pass


def make_settings_tp(fake: FakeTouchpoints, tmp_path: Path) -> Any:
    from adapters.testing.twilio_fake import FakeTwilio

    return make_settings(FakeTwilio(), tmp_path, services_file=tmp_path / "services.yaml",
                         touchpoints_url=fake.base_url, touchpoints_api_url=fake.api_url,
                         touchpoints_api_key=Secret(fake.api_key))  # fmt: skip


def test_touchpoints_check_command(touchpoints_server: tuple[str, str], tmp_path: Path) -> None:
    base, key = touchpoints_server
    catalog = Path("flows/services.yaml").read_text()
    (tmp_path / "ok.yaml").write_text(catalog.replace(
        "    flow: a11-v2-thumbs\n", f"    flow: a11-v2-thumbs\n    touchpoints_form: {FORM}\n", 1
    ))  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "REDIS_URL": REDIS_URL, "TOUCHPOINTS_URL": base,
           "TOUCHPOINTS_API_KEY": key, "PUBLIC_BASE_URL": PUBLIC,
           "SERVICES_FILE": str(tmp_path / "ok.yaml")}  # fmt: skip
    ok = subprocess.run([sys.executable, "-m", "bot.cli", "touchpoints", "check"], env=env,
                        capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == (
        f"service benefits-application: Touchpoints form {FORM}: ok (trust answer_01, drivers "
        "answer_02 and answer_03, comment answer_04)"
    )
    wrong_key = subprocess.run([sys.executable, "-m", "bot.cli", "touchpoints", "check"],
                               env={**env, "TOUCHPOINTS_API_KEY": "nope"}, capture_output=True,
                               text=True, timeout=60, check=False)  # fmt: skip
    assert wrong_key.returncode == 2
    assert "refused TOUCHPOINTS_API_KEY (401)" in wrong_key.stderr
    assert "nope" not in wrong_key.stderr + wrong_key.stdout


@pytest.fixture
def touchpoints_server() -> Any:
    """A loopback Touchpoints in a thread of its own (for a command run as a process)."""
    import asyncio
    import threading

    ready: dict[str, Any] = {}
    stop = threading.Event()

    def serve() -> None:
        async def main() -> None:
            fake = FakeTouchpoints()
            fake.add(a11_v2_form(FORM, whitelist=(PUBLIC,)))
            await fake.start()
            ready["fake"] = fake
            while not stop.is_set():
                await asyncio.sleep(0.05)
            await fake.stop()

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    while "fake" not in ready:
        stop.wait(0.02)
    yield ready["fake"].base_url, ready["fake"].api_key
    stop.set()
    thread.join(5)


async def test_a_flow_changed_at_run_time_is_mapped_again_before_the_next_submission(
    touchpoints: FakeTouchpoints, tmp_path: Path
) -> None:
    from bot.core.sinks import SinkError

    from .records import response_record

    log = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'forwards.sqlite3'}")
    await log.migrate()
    tp = sink(touchpoints, log)
    await tp.start()
    assert "benefits-application" in tp.maps  # the thumbs form fits the thumbs flow
    # An admin moves the service to the five-point flow: its thumbs form no longer fits, and
    # the sink says so rather than posting answers into the wrong questions.
    moved = dataclasses.replace(with_form()["benefits-application"], flow="a11-v2-scale")
    tp.use({**with_form(), "benefits-application": moved}, FLOWS)
    assert tp.maps == {}
    with pytest.raises(SinkError, match=r"radio_buttons|thumbs") as refused:
        await tp.write(response_record(1, ["4", "1", "fine"], flow_id="a11-v2-scale"))
    assert not refused.value.retryable and touchpoints.submissions == []
    await tp.close()
    await log.close()
