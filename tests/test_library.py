"""Flows and services changed at run time, through the API: versions validated as `flows
check` validates files, activation and rollback, open surveys on their own version, a second
process picking a change up, restarts that keep run-time changes, export, and the audit log."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from adapters.twilio.channel import TwilioChannel
from bot.core.flowfile import check_directory
from bot.service import delivery
from bot.web.app import create_app
from bot.web.context import RUNTIME
from bot.wiring import open_runtime
from flows import FLOWS_DIR

from .conftest import REDIS_URL, Bot, make_settings
from .test_cli import env_with, run_cli

ADMIN = {"Authorization": "Bearer admin-token"}
YAML = {**ADMIN, "Content-Type": "application/yaml"}
PHONE, OTHER = "+12025550123", "+12025550124"
THUMBS = (FLOWS_DIR / "a11-v2-thumbs.yaml").read_text(encoding="utf-8")
NEW_INTRO = "{agency}: three short questions about {service}."
CHANGED = THUMBS.replace("{agency}: 3 quick questions about {service}.", NEW_INTRO).replace(
    '"What went well?"', '"What worked well?"'
)


async def put(bot: Bot, text: str, flow_id: str = "a11-v2-thumbs") -> Any:
    response = await bot.client.put(f"/v1/flows/{flow_id}", data=text.encode(), headers=YAML)
    return response.status, await response.json()


async def activate(bot: Bot, version: str, flow_id: str = "a11-v2-thumbs") -> Any:
    response = await bot.client.post(
        f"/v1/flows/{flow_id}/activate", json={"version": version}, headers=ADMIN
    )
    return response.status, await response.json()


async def invite(bot: Bot, tid: str, to: str) -> None:
    body = {"transaction_id": tid, "service": "benefits-application", "channel": "sms", "to": to}
    response = await bot.transactions(body)
    assert (await response.json())["status"] == "scheduled"
    assert await delivery.deliver_due(bot.rt) == 1


def with_edited_reminder(folder: Path) -> Path:
    """A copy of the built-in flow files whose thumbs flow's reminder says "A reminder"."""
    folder.mkdir()
    for path in FLOWS_DIR.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    edited = THUMBS.replace("Reminder from {agency}:", "A reminder from {agency}:")
    (folder / "a11-v2-thumbs.yaml").write_text(edited, encoding="utf-8")
    return folder


async def audit(bot: Bot, **narrow: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in narrow.items())
    return list(
        (await (await bot.client.get(f"/v1/audit?{query}", headers=ADMIN)).json())["entries"]
    )


# --- flows ----------------------------------------------------------------------------------


async def test_an_invalid_flow_is_refused_with_every_error_at_its_path(bot: Bot) -> None:
    broken = CHANGED.replace("scale: thumbs", "scale: thumb").replace(
        "max_length: 1000", "max_length: many"
    )
    status, body = await put(bot, broken)
    assert status == 422
    assert {e["path"] for e in body["errors"]} == {"questions[0].scale", "questions[2].max_length"}
    # the checks past the schema, as `feedback-bot flows check` makes them of a file
    status, body = await put(bot, CHANGED.replace('es: "Esta interacción', 'fr: "Esta interacción'))
    assert status == 422 and "questions[0].prompt" in {e["path"] for e in body["errors"]}, body
    status, body = await put(bot, "id: a11-v2-thumbs\nquestions: [\n")
    assert status == 422 and body["errors"][0]["path"].startswith("line ")
    status, body = await put(bot, THUMBS, flow_id="another-flow")
    assert status == 422 and [e["path"] for e in body["errors"]] == ["id"]
    assert (
        await bot.client.put("/v1/flows/a11-v2-thumbs", data=b"\xff", headers=YAML)
    ).status == 400
    assert (await bot.client.put("/v1/flows/a11-v2-thumbs", data=CHANGED)).status == 401
    versions = await (
        await bot.client.get("/v1/flows/a11-v2-thumbs/versions", headers=ADMIN)
    ).json()
    assert len(versions["versions"]) == 1  # nothing refused was kept


async def test_a_new_version_activates_and_an_open_survey_finishes_on_its_own(
    bot: Bot, redis: Redis
) -> None:
    await invite(bot, "t1", PHONE)  # an open survey on the file's version
    old = bot.rt.flows["a11-v2-thumbs"].version
    status, body = await put(bot, CHANGED)
    assert status == 201 and body["created"] is True
    new = body["version"]
    assert new != old and bot.rt.flows["a11-v2-thumbs"].version == old  # kept, not active
    status, again = await put(bot, CHANGED + "\n# a comment changes no content\n")
    assert status == 200 and again == {"flow_id": "a11-v2-thumbs", "version": new,
                                       "created": False, "warnings": []}  # fmt: skip

    status, body = await activate(bot, new)
    assert status == 200 and body == {"flow_id": "a11-v2-thumbs", "active": new, "before": old}
    await invite(bot, "t2", OTHER)  # the next survey uses the new version
    [invitation] = bot.fake.sent_to(OTHER)
    assert invitation.body.startswith("Example Benefits Agency: three short questions")
    assert "What worked well?" in await bot.text(OTHER, "yes")
    # the survey opened before finishes on the version it started with
    assert "What went well?" in await bot.text(PHONE, "yes")
    await bot.text(PHONE, "1")
    await bot.text(PHONE, "SKIP")
    from bot.store.state import State

    [ended] = await State(redis).ended_records()
    assert ended["flow_version"] == old

    listed = await (await bot.client.get("/v1/flows", headers=ADMIN)).json()
    thumbs = next(f for f in listed["flows"] if f["id"] == "a11-v2-thumbs")
    assert thumbs["active_version"] == new and "benefits-application" in thumbs["services"]

    # rollback is the same call
    status, body = await activate(bot, old)
    assert status == 200 and body["before"] == new
    await invite(bot, "t3", "+12025550125")
    assert bot.fake.sent_to("+12025550125")[0].body.startswith(
        "Example Benefits Agency: 3 quick questions"
    )
    entries = await audit(bot, target="a11-v2-thumbs", action="flow.")
    assert [(e["action"], e["actor"], e["details"].get("before"), e["details"].get("after"))
            for e in entries[:3]] == [
        ("flow.activate", "admin token", new, old),
        ("flow.activate", "admin token", old, new),
        ("flow.upload", "admin token", None, None),
    ]  # fmt: skip
    assert entries[2]["details"] == {"version": new}


async def test_unknown_version_and_flow_are_404_and_a_version_a_service_cannot_use_is_422(
    bot: Bot,
) -> None:
    assert (await activate(bot, "nope"))[0] == 404
    assert (await bot.client.get("/v1/flows/no-such-flow/versions", headers=ADMIN)).status == 404
    # the services on this flow survey in English: a version in Spanish only is refused
    spanish = THUMBS.replace("languages: [en, es]", "languages: [es]")
    spanish = spanish.replace("default_language: en", "default_language: es")
    spanish = "\n".join(line for line in spanish.splitlines() if not line.strip().startswith("en:"))
    status, body = await put(bot, spanish)
    assert status == 201, body
    status, body = await activate(bot, body["version"])
    assert status == 422 and any("has no 'en'" in e["message"] for e in body["errors"]), body
    assert bot.rt.flows["a11-v2-thumbs"].languages == ("en", "es")


async def test_preview_shows_every_message_with_its_encoding_and_segments(bot: Bot) -> None:
    _, body = await put(bot, CHANGED)
    url = f"/v1/flows/a11-v2-thumbs/versions/{body['version']}"
    version = await (await bot.client.get(url, headers=ADMIN)).json()
    assert version["text"] == CHANGED and version["active"] is False
    rows = {(r["language"], r["name"]): r for r in version["preview"] if r["interface"] == "text"}
    intro = rows[("en", "intro")]
    assert intro["text"].startswith("Example Benefits Agency: three short questions")
    assert intro["encoding"] == "GSM-7" and intro["segments"] == 1
    assert rows[("es", "questions[1] drivers positive")]["encoding"] == "GSM-7"
    trust = rows[("es", "questions[0] question_1")]
    assert trust["encoding"] == "UCS-2" and trust["non_gsm"] == "óí" and trust["segments"] == 2
    # Each kind of interface in its own words; only a text message has a cost in segments.
    web = {r["name"]: r for r in version["preview"] if (r["interface"], r["language"]) ==
           ("web", "en")}  # fmt: skip
    assert web["intro"]["text"] == (
        "Example Benefits Agency: three short questions about Benefits application. OMB 1234-5678"
    )
    assert web["intro"]["segments"] is None and web["intro"]["encoding"] is None
    assert {r["interface"] for r in version["preview"]} == {"text", "buttons", "web", "voice"}


async def test_a_second_process_sees_an_activation_within_two_seconds(
    bot: Bot, redis: Redis
) -> None:
    async with open_runtime(bot.settings, channels=[]) as worker:
        old = worker.flows["a11-v2-thumbs"].version
        _, body = await put(bot, CHANGED)
        await activate(bot, body["version"])
        started = time.monotonic()
        while worker.flows["a11-v2-thumbs"].version == old:
            assert time.monotonic() - started < 2.0, "the worker did not pick up the change"
            await asyncio.sleep(0.05)
        assert worker.flows["a11-v2-thumbs"].messages["intro"]["en"].startswith(NEW_INTRO)
        # and a service change the same way
        response = await bot.client.patch(
            "/v1/services/permit-renewal", json={"paused": True}, headers=ADMIN
        )
        assert response.status == 200
        started = time.monotonic()
        while not worker.services["permit-renewal"].paused:
            assert time.monotonic() - started < 2.0
            await asyncio.sleep(0.05)


async def test_a_restart_keeps_run_time_changes_and_takes_a_changed_file(
    bot: Bot, redis: Redis, tmp_path: Path
) -> None:
    _, body = await put(bot, CHANGED)
    await activate(bot, body["version"])
    await bot.client.patch("/v1/services/permit-renewal", json={"sample_rate": 0.5}, headers=ADMIN)
    async with open_runtime(bot.settings, channels=[]) as again:  # the same files: kept
        assert again.flows["a11-v2-thumbs"].version == body["version"]
        assert again.services["permit-renewal"].sample_rate == 0.5
    # a deployment that changes the file: the file's flow becomes active
    files = with_edited_reminder(tmp_path / "flows")
    settings = make_settings(bot.fake, bot.settings.data_dir, flows_dir=files,
                             services_file=files / "services.yaml")  # fmt: skip
    async with open_runtime(settings, channels=[]) as deployed:
        flow = deployed.flows["a11-v2-thumbs"]
        assert flow.messages["reminder"]["en"].startswith("A reminder from")
        assert deployed.services["permit-renewal"].sample_rate == 0.5
    entries = await audit(bot, target="a11-v2-thumbs", action="flow.activate")
    assert entries[0]["actor"] == "files" and entries[0]["details"]["file"] == "a11-v2-thumbs.yaml"


async def test_export_writes_the_active_flows_back_as_files(bot: Bot, tmp_path: Path) -> None:
    _, body = await put(bot, CHANGED)
    await activate(bot, body["version"])
    await bot.client.patch("/v1/services/helpdesk-call", json={"paused": True}, headers=ADMIN)
    assert bot.rt.library is not None
    written = await bot.rt.library.export(tmp_path / "out")
    assert (tmp_path / "out" / "a11-v2-thumbs.yaml").read_text(encoding="utf-8") == CHANGED
    assert tmp_path / "out" / "services.yaml" in written
    flows, errors = check_directory(tmp_path / "out")
    assert not errors and flows["a11-v2-thumbs"].version == body["version"]
    from bot.core.catalog import load_catalog
    from bot.registry import kinds

    catalog = load_catalog(tmp_path / "out" / "services.yaml", flows, kinds())
    assert catalog["helpdesk-call"].paused and not catalog["permit-renewal"].paused


# --- services -------------------------------------------------------------------------------


async def test_service_settings_are_validated_by_the_catalogs_rules(bot: Bot) -> None:
    async def patch(change: dict[str, Any]) -> Any:
        response = await bot.client.patch(
            "/v1/services/benefits-application", json=change, headers=ADMIN
        )
        return response.status, await response.json()

    status, body = await patch({"sample_rate": 2, "delay_minutes": -1})
    assert status == 422
    assert {e["path"] for e in body["errors"]} == {"sample_rate", "delay_minutes"}, body
    status, body = await patch({"channels": ["sms", "pager"]})
    assert status == 422 and [e["path"] for e in body["errors"]] == ["channels[1]"], body
    status, body = await patch({"agency": "Another Agency", "omb_control_number": "9"})
    assert status == 422 and {e["path"] for e in body["errors"]} == {"agency", "omb_control_number"}
    assert "only in the catalog file" in body["errors"][0]["message"]
    status, body = await patch({"flow": "no-such-flow"})
    assert status == 422 and body["errors"][0]["path"] == "flow"
    status, body = await patch({"reporting_dimensions": ["email"]})
    assert status == 422 and body["errors"][0]["path"] == "reporting_dimensions[0]"
    assert (await bot.client.patch("/v1/services/nope", json={"paused": True},
                                   headers=ADMIN)).status == 404  # fmt: skip
    assert (await patch({}))[0] == 400
    assert bot.rt.services["benefits-application"].sample_rate == 1.0  # nothing was changed


async def test_pause_history_and_restore(bot: Bot) -> None:
    response = await bot.client.patch(
        "/v1/services/benefits-application", json={"paused": True, "expiry_hours": 24},
        headers=ADMIN,
    )  # fmt: skip
    body = await response.json()
    assert response.status == 200
    assert body["before"] == {"paused": False, "expiry_hours": 72}
    assert body["after"] == {"paused": True, "expiry_hours": 24}
    txn = {"transaction_id": "p1", "service": "benefits-application", "channel": "sms", "to": PHONE}
    decided = await (await bot.transactions(txn)).json()
    assert decided["reason"] == "service_paused"
    settings = await (await bot.client.get("/v1/services/benefits-application/settings",
                                           headers=ADMIN)).json()  # fmt: skip
    [change] = settings["history"]
    assert change["actor"] == "admin token" and change["action"] == "service.change"
    assert settings["settings"]["paused"] is True
    response = await bot.client.post("/v1/services/benefits-application/restore",
                                     json={"change": change["id"]}, headers=ADMIN)  # fmt: skip
    assert response.status == 200
    assert (await response.json())["settings"]["expiry_hours"] == 72
    assert not bot.rt.services["benefits-application"].paused
    txn["transaction_id"] = "p2"
    assert (await (await bot.transactions(txn)).json())["status"] == "scheduled"
    [restored, _] = (await (await bot.client.get("/v1/services/benefits-application/settings",
                                                 headers=ADMIN)).json())["history"]  # fmt: skip
    assert restored["action"] == "service.restore"
    assert restored["details"]["after"] == {"paused": False, "expiry_hours": 72}


async def test_pauses_kept_in_redis_before_become_settings(
    redis: Redis, fake_twilio: Any, tmp_path: Path
) -> None:
    await redis.hset("fb:paused", "permit-renewal", '{"by": "U1", "at": "2026-11-01T00:00:00"}')
    settings = make_settings(fake_twilio, tmp_path)
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_app(settings, channels=[TwilioChannel(settings)]))
    )
    await client.start_server()
    try:
        rt = client.app[RUNTIME]  # type: ignore[index]
        assert rt.services["permit-renewal"].paused
        assert not await redis.exists("fb:paused")
    finally:
        await client.close()


async def test_the_export_command_writes_what_the_running_bot_uses(
    bot: Bot, tmp_path: Path
) -> None:
    _, body = await put(bot, CHANGED)
    await activate(bot, body["version"])
    env = env_with(bot.settings.data_dir, REDIS_URL=REDIS_URL)
    out = tmp_path / "exported"
    done = await asyncio.to_thread(run_cli, ["flows", "export", str(out)], env)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out / 'a11-v2-thumbs.yaml'}" in done.stdout
    assert (out / "a11-v2-thumbs.yaml").read_text(encoding="utf-8") == CHANGED
    assert (out / "a11-v1.yaml").read_text(encoding="utf-8") == (
        FLOWS_DIR / "a11-v1.yaml"
    ).read_text(encoding="utf-8")
    assert not (out / "services.yaml").exists()  # no service setting was changed
    # the export is a folder `flows check` passes, and seeds a bot the same
    assert (await asyncio.to_thread(run_cli, ["flows", "check", str(out)], env)).returncode == 0
    # a command run beside other files (an operator's checkout) changes nothing the bot runs
    other = with_edited_reminder(tmp_path / "checkout")
    env_other = {**env, "FLOWS_DIR": str(other), "SERVICES_FILE": str(other / "services.yaml")}
    again = await asyncio.to_thread(run_cli, ["flows", "export", str(tmp_path / "again")],
                                    env_other)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "a11-v2-thumbs.yaml").read_text(encoding="utf-8") == CHANGED
    assert bot.rt.library is not None
    await bot.rt.library.reload()
    assert bot.rt.flows["a11-v2-thumbs"].version == body["version"]


async def test_a_flow_as_json_is_the_same_version_as_its_yaml(bot: Bot) -> None:
    import json

    import yaml

    as_json = json.dumps(yaml.safe_load(CHANGED))
    json_headers = {**ADMIN, "Content-Type": "application/json"}
    response = await bot.client.put("/v1/flows/a11-v2-thumbs", data=as_json.encode(),
                                    headers=json_headers)  # fmt: skip
    assert response.status == 201
    status, body = await put(bot, CHANGED)  # the same content as YAML: the version kept
    assert status == 200 and body["version"] == (await response.json())["version"]
    nan = await bot.client.put("/v1/flows/a11-v2-thumbs", data=b'{"id": NaN}',
                               headers=json_headers)  # fmt: skip
    assert nan.status == 400 and "not valid JSON" in (await nan.json())["error"]


def test_an_errors_path_is_found_at_its_line() -> None:
    from bot.core.library import line_of

    lines = THUMBS.splitlines()
    for path, expected in (
        ("questions[0].scale", "    scale: thumbs"),
        ("questions[1].prompt.positive.es", '        es: "¿Qué estuvo bien?'),
        ("messages.intro.en", '    en: "{agency}: 3 quick questions'),
        ("questions[99]", "questions:"),  # as deep as the path goes
    ):
        found = line_of(THUMBS, path)
        assert found is not None and lines[found - 1].startswith(expected), path
    assert line_of(THUMBS, "line 7, column 3") == 7  # a YAML error says its own line
    assert line_of("a: [", "questions") is None and line_of(THUMBS, "") is None


async def test_a_change_builds_on_one_another_process_made_a_moment_before(bot: Bot) -> None:
    async with open_runtime(bot.settings, channels=[]) as other:
        assert other.library is not None
        await other.library.change_service("permit-renewal", {"sample_rate": 0.5}, "other")
        # this process has not reloaded yet, and changes another field of the same service
        response = await bot.client.patch(
            "/v1/services/permit-renewal", json={"expiry_hours": 24}, headers=ADMIN
        )
        assert response.status == 200
        settings = (await response.json())["settings"]
        assert settings["sample_rate"] == 0.5 and settings["expiry_hours"] == 24


async def test_conditions_nested_hundreds_deep_are_refused_not_a_500(bot: Bot) -> None:
    condition = "{not: " * 300 + "{answer: question_1, equals: 1}" + "}" * 300
    deep = THUMBS.replace("  - id: question_4\n", f"  - id: question_4\n    when: {condition}\n")
    status, body = await put(bot, deep)
    assert status == 422 and body["errors"][0]["message"] == "nested more than 64 deep"


async def test_an_intro_that_is_no_template_is_refused_not_a_500(bot: Bot) -> None:
    broken = THUMBS.replace('en: "{agency}: 3 quick', 'en: "{agency: 3 quick')
    status, body = await put(bot, broken)
    assert status == 422 and body["errors"] == [
        {"path": "messages.intro.en", "message": "invalid template: unmatched '{' in format spec"}
    ]
