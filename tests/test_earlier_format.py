"""Flows in the earlier format — written before each kind of interface worded how to answer: a
literal "Reply STOP to opt out." in the intro, "Reply 1 for Yes, 0 for No." in the prompts —
still load and run after the upgrade: by text exactly as before, byte for byte; on the other
interfaces never with the text instruction twice; `flows check`, the API and the console say,
as warnings, how to move them to the new form.

What "before" sent is recorded in ``tests/data/earlier/sent-before.json``: the engine of commit
efe6ce9 (the last before per-interface wording) run by ``tests/data/earlier/record.py`` on the
flows of ``tests/data/earlier`` (that commit's built-in flow files, and an agency's own flow in
English and Vietnamese), and on an admin's version of the thumbs flow (``admin_text``)."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from adapters.webchat.channel import WebChatChannel
from bot.core import engine
from bot.core.catalog import load_catalog
from bot.core.flow import Flow
from bot.core.flowfile import check_directory, parse_flow
from bot.core.library import digest
from bot.core.preview import preview_rows
from bot.core.reports import trust_question_text
from bot.core.segments import segment_info
from bot.core.session import Answer
from bot.core.sinks import FlowVersion
from bot.core.wording import DEFAULTS, Interface
from bot.registry import kinds
from bot.service import delivery
from bot.store.state import State
from bot.wiring import open_store_ready
from flows import FLOWS_DIR

from .conftest import Bot, make_settings, serving
from .test_cli import env_with, run_cli
from .test_console import Browser
from .test_library import ADMIN, YAML
from .test_webchat import KEYWORD_WORDING, form_of, post, visible

EARLIER = Path(__file__).parent / "data" / "earlier"
BEFORE = json.loads((EARLIER / "sent-before.json").read_text(encoding="utf-8"))
OLD_THUMBS = (EARLIER / "a11-v2-thumbs.yaml").read_text(encoding="utf-8")
T0 = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


def admin_text() -> str:
    """An admin's version of the thumbs flow, kept at run time in the earlier format: the
    English intro changed, the Spanish one saying how to opt out in words of its own."""
    return OLD_THUMBS.replace(
        "3 quick questions about {service}. Reply STOP",
        "3 short questions about {service}. Reply STOP",
    ).replace("Responda STOP para cancelar.", "Para no recibir más mensajes, responda STOP.")


def earlier_flows() -> dict[str, Flow]:
    flows, errors = check_directory(EARLIER)
    assert errors == []
    return flows


def said(twiml: str) -> str:
    """What a TwiML answer says, its messages one per line."""
    return "\n".join(m.text or "" for m in ET.fromstring(twiml).iter("Message"))


# --- the flow format ------------------------------------------------------------------------


def test_by_text_an_earlier_flow_says_exactly_what_it_said_before() -> None:
    flows = earlier_flows()
    assert sorted(flows) == sorted(BEFORE["previews"])
    for flow_id, flow in flows.items():
        now = {f"{r['language']} {r['name']}": r["text"] for r in preview_rows(flow)
               if r["interface"] == "text"}  # fmt: skip
        before: dict[str, str] = BEFORE["previews"][flow_id]
        assert now == before, flow_id
        for name, text in now.items():  # the same texts: the same encoding and segments
            assert segment_info(text) == segment_info(before[name]), (flow_id, name)


# What the other interfaces show of an earlier flow: a prompt that ends with the text
# instruction has it moved out, and each interface adds its own; a prompt in words of its own
# is said as written, nothing added; the intro's "Reply STOP to opt out." becomes {opt_out}.
OTHERS = [
    # flow, interface, language, message, answers so far, as said
    ("a11-v2-thumbs", "web", "en", "intro", {},
     "U.S. Example Agency: 3 quick questions about Passport renewal. OMB 1234-5678"),
    ("a11-v2-thumbs", "web", "en", "question_1", {},
     "This interaction increased my trust in Passport renewal."),
    ("a11-v2-thumbs", "web", "es", "drivers", {"question_1": 1},
     "¿Qué estuvo bien? Elija todas las que apliquen."),
    ("a11-v2-thumbs", "buttons", "en", "drivers", {"question_1": 0},
     "What didn't go so well? Choose all that apply, then Submit."),
    ("a11-v2-thumbs", "voice", "en", "question_1", {},
     "This interaction increased my trust in Passport renewal. Press 1 for yes, 2 for no, or "
     "say yes or no."),
    # "comentario", not the built-in "mensaje": said as written on every interface
    ("a11-v2-thumbs", "web", "es", "question_4", {},
     "¿Hay algo que quiera contarnos de su experiencia? Escriba su comentario u OMITIR."),
    ("a11-v2-thumbs", "buttons", "es", "question_4", {},
     "¿Hay algo que quiera contarnos de su experiencia? Escriba su comentario u OMITIR."),
    ("a11-v1", "web", "en", "intro", {},
     "U.S. Example Agency: a short survey about Passport renewal. Answer 1 (strongly disagree) "
     "to 5 (strongly agree). OMB 1234-5678"),
    ("a11-v1", "web", "en", "q2", {},
     "This interaction increased my trust in Passport renewal. (1-5)"),
    ("a11-v1", "buttons", "es", "q2", {},
     "Esta interacción aumentó mi confianza en Passport renewal. (1-5)"),
    ("a11-v1", "web", "en", "comment", {}, "Any additional feedback for Passport renewal?"),
    # Vietnamese has no built-in wording: its words as written, its options as they were listed.
    ("a11-v2-vi", "web", "vi", "intro", {},
     "U.S. Example Agency: 3 câu hỏi ngắn về Passport renewal. Trả lời STOP để hủy. OMB 1234-5678"),
    ("a11-v2-vi", "voice", "vi", "drivers", {"question_1": 1},
     "Điều gì tốt? Trả lời các số phù hợp, ví dụ 1 3\n1 Đáp ứng nhu cầu\n2 Dễ dàng\n3 Khác"),
    ("a11-v2-vi", "web", "en", "question_1", {},
     "This interaction increased my trust in Passport renewal."),
]  # fmt: skip


@pytest.mark.parametrize(("flow_id", "interface", "language", "name", "answers", "expected"),
                         OTHERS)  # fmt: skip
def test_other_interfaces_show_an_earlier_flow_in_their_words_or_as_written(
    flow_id: str, interface: Interface, language: str, name: str, answers: dict[str, int],
    expected: str,
) -> None:  # fmt: skip
    flow = earlier_flows()[flow_id]
    context = {"agency": "U.S. Example Agency", "service": "Passport renewal",
               "omb_control_number": "1234-5678"}  # fmt: skip
    step = engine.start(flow, now=T0, context=context, language=language, interface=interface)
    if name == "intro":
        assert step.messages[0] == expected
        return
    session = step.session.with_(answers={q: Answer("answered", v) for q, v in answers.items()})
    assert engine.question_text(flow, session, flow.question(name)) == expected


def test_no_interface_says_a_text_instruction_twice() -> None:
    instructions = {how for wording in DEFAULTS.values() for text in wording.values()
                    for how in text.values() if len(how) > 8}  # fmt: skip
    for flow in earlier_flows().values():
        for row in preview_rows(flow):
            for how in instructions:
                assert row["text"].count(how) <= 1, (flow.id, row["interface"], row["name"])
            if row["interface"] == "web":  # a web page says STOP only where a flow wrote it
                assert ("STOP" in row["text"]) == (
                    row["name"] == "intro" and row["language"] == "vi"
                ), (flow.id, row["name"], row["language"])


def test_warnings_say_how_to_move_an_earlier_flow_to_the_new_form() -> None:
    thumbs = earlier_flows()["a11-v2-thumbs"]
    warned = {w.path: w.message for w in thumbs.warnings}
    assert set(warned) == {
        "messages.intro.en", "messages.intro.es", "questions[0].prompt.en",
        "questions[0].prompt.es", "questions[1].prompt.positive.en",
        "questions[1].prompt.negative.en", "questions[1].prompt.positive.es",
        "questions[1].prompt.negative.es", "questions[2].prompt.en", "questions[2].prompt.es",
    }  # fmt: skip
    assert warned["messages.intro.en"] == (
        "earlier format (runs as before): write {opt_out} for 'Reply STOP to opt out.', and "
        "each channel says how to opt out in its own words"
    )
    assert warned["questions[0].prompt.es"] == (
        "earlier format (runs as before): leave '1=Sí 0=No' out, and each channel adds how to "
        "answer in its own words"
    )
    assert warned["questions[2].prompt.es"] == (
        "earlier format (runs as before): said as written on every channel; write the question "
        "alone, and each channel adds how to answer (by text 'Escriba su mensaje u OMITIR.')"
    )
    assert all(str(w).startswith(f"{EARLIER / 'a11-v2-thumbs.yaml'}: ") for w in thumbs.warnings)
    # Moved as the warnings say, it is a flow in the new form: no warning, and by text the
    # same words (but the one the built-in wording says otherwise).
    moved = OLD_THUMBS.replace("Reply STOP to opt out.", "{opt_out}").replace(
        "Responda STOP para cancelar.", "{opt_out}")  # fmt: skip
    for how in ("Reply 1 for Yes, 0 for No.", "1=Sí 0=No", "Reply all that apply, e.g. 1 3",
                "Elija todas las que apliquen, ej. 1 3", "Reply with a message, or SKIP.",
                "Escriba su comentario u OMITIR."):  # fmt: skip
        moved = moved.replace(" " + how, "")
    flow, errors = parse_flow(yaml.safe_load(moved), "moved")
    assert flow is not None and errors == [] and flow.warnings == ()
    texts = {f"{r['language']} {r['name']}": r["text"] for r in preview_rows(flow)
             if r["interface"] == "text"}  # fmt: skip
    differ = {k for k, v in texts.items() if v != BEFORE["previews"]["a11-v2-thumbs"][k]}
    assert differ == {"es questions[2] question_4"}
    # The built-in flows are in the new form.
    flows, _ = check_directory(FLOWS_DIR)
    assert all(f.warnings == () for f in flows.values())


def test_flows_check_passes_an_earlier_folder_with_its_warnings(tmp_path: Path) -> None:
    done = run_cli(["flows", "check", str(EARLIER)], env_with(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "all 4 flow(s) valid, 48 warning(s)" in done.stdout
    assert "\n48 warning(s):\n" in done.stderr and "error" not in done.stderr
    assert (f"  {EARLIER / 'a11-v1.yaml'}: questions[1].prompt.en: earlier format (runs as "
            "before): said as written on every channel") in done.stderr  # fmt: skip


# --- a deployment upgraded ------------------------------------------------------------------


async def keep(store: Any, text: str, by: str) -> str:
    version = digest(text)
    await store.add_flow_version(FlowVersion("a11-v2-thumbs", version, version, text,
                                             "2026-10-01T00:00:00+00:00", by))  # fmt: skip
    return version


async def invite(bot: Bot, tid: str, to: str, channel: str = "sms", **kw: Any) -> dict[str, Any]:
    body = {"transaction_id": tid, "service": "benefits-application", "channel": channel,
            "to": to, **kw}  # fmt: skip
    decided: dict[str, Any] = await (await bot.transactions(body)).json()
    assert decided["status"] == "scheduled", decided
    if channel == "sms":
        assert await delivery.deliver_due(bot.rt) == 1
    return decided


async def test_an_earlier_version_active_in_the_store_starts_and_surveys_as_before(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The agency's own flow files (the earlier built-in ones), and its store as the code
    # before the upgrade left it: the file's thumbs flow seeded, an admin's version of it kept
    # and activated at run time.
    folder = tmp_path / "flows"
    shutil.copytree(EARLIER, folder)
    settings = make_settings(fake_twilio, tmp_path, flows_dir=folder,
                             services_file=FLOWS_DIR / "services.yaml",
                             channels=("sms", "webchat"))  # fmt: skip
    store = await open_store_ready(settings)
    try:
        seeded = await keep(store, OLD_THUMBS, "file a11-v2-thumbs.yaml")
        admins = await keep(store, admin_text(), "admin token")
        await store.set_active("a11-v2-thumbs", admins, seeded=seeded, by="admin token")
    finally:
        await store.close()

    channels = [TwilioChannel(settings), WebChatChannel(settings)]
    async with serving(settings, channels, fake_twilio) as bot:  # a strict start-up
        assert bot.rt.flows["a11-v2-thumbs"].version == admins  # still the one in use
        assert (f"library: flow a11-v2-thumbs version {admins} has 10 warning(s): `feedback-bot "
                "flows check` or its page in the console says each") in caplog.messages  # fmt: skip
        # By text, every message as the code before the upgrade sent it.
        for n, conversation in enumerate(BEFORE["conversations"]):
            phone = f"+1202555013{n}"
            await invite(bot, f"t{n}", phone, language=conversation["language"])
            [invitation] = bot.fake.sent_to(phone)
            sent = [invitation.body]
            for reply in conversation["replies"]:
                sent.append(said(await bot.text(phone, reply)))
            assert sent == conversation["said"]
        ended = await State(redis).ended_records()
        assert [r["flow_version"] for r in ended] == [admins, admins]
        assert {r["disposition"] for r in ended} == {"completed"}

        # On the web page, in the page's words where the flow's were the built-in text ones,
        # and "Don't ask me again" to opt out.
        path = (await invite(bot, "w1", "visitor-1", "webchat"))["survey_url"]
        path = path.removeprefix(settings.public_base_url)
        html = await (await bot.client.get(path)).text()
        assert ("Example Benefits Agency: 3 short questions about Benefits application. OMB "
                "1234-5678") in html  # fmt: skip
        assert '<legend id="question" tabindex="-1">This interaction increased my trust in ' \
               "Example Benefits Agency.</legend>" in html  # fmt: skip
        assert 'value="stop" class="link">Don&#39;t ask me again</button>' in html
        assert not KEYWORD_WORDING.search(visible(html))
        await post(bot, path, {**form_of(html), "answer": "1"})
        html = await (await bot.client.get(path)).text()
        assert "What went well? Choose all that apply." in html
        await post(bot, path, {**form_of(html), "answer": "", "choice": ["2"]})
        html = await (await bot.client.get(path)).text()
        assert "Anything else you want us to know about your experience?</legend>" in html
        done = await post(bot, path, {**form_of(html), "answer": "", "text": "Easy"})
        assert "Thank you! Your feedback helps Example Benefits Agency improve." in (
            await done.text()
        )
        # In Spanish the admin's own words about STOP are said as written, the button beside.
        path = (await invite(bot, "w2", "visitor-2", "webchat", language="es"))["survey_url"]
        html = await (await bot.client.get(path.removeprefix(settings.public_base_url))).text()
        assert "Para no recibir más mensajes, responda STOP. OMB 1234-5678" in html
        assert "Esta interacción aumentó mi confianza en Example Benefits Agency.</legend>" in html
        assert 'value="stop" class="link">No me pregunte de nuevo</button>' in html


async def test_a_survey_open_on_an_earlier_version_finishes_on_it_after_the_upgrade(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    phone = "+12025550123"
    settings = make_settings(fake_twilio, tmp_path)
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as before:
        # The store before the upgrade held the earlier built-in thumbs flow (the code then
        # seeded it from its file), and a survey in Spanish was open on it, at the drivers:
        # its record names that version, as a record of the code then did (their form did
        # not change with the upgrade).
        earlier = await keep(before.rt.store, OLD_THUMBS, "file a11-v2-thumbs.yaml")
        await invite(before, "t1", phone, language="es")
        await before.text(phone, "no")
        ref = await before.rt.state.open_survey(before.rt.person(phone), "sms")
        assert ref is not None

        def on_earlier(record: Any) -> Any:
            return {**record, "flow_version": earlier}

        assert await before.rt.state.update_survey(ref, on_earlier) is not None
    # The upgrade: a new process, whose own built-in thumbs flow is the one in use.
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as after:
        assert after.rt.flows["a11-v2-thumbs"].version != earlier
        # (message ids of its own: this test server's count starts again)
        assert said(await after.text(phone, "2", sid="SMupgraded1")) == (
            "¿Hay algo que quiera contarnos de su experiencia? Escriba su comentario u OMITIR."
        )  # the earlier version's words ("comentario"), not the new one's ("mensaje")
        assert said(await after.text(phone, "SKIP", sid="SMupgraded2")).startswith("¡Gracias!")
    [ended] = await State(redis).ended_records()
    assert ended["flow_version"] == earlier and ended["disposition"] == "completed"


# --- the API and the console ----------------------------------------------------------------


async def test_the_api_and_the_console_keep_an_earlier_flow_with_its_warnings(bot: Bot) -> None:
    text = admin_text()
    response = await bot.client.put("/v1/flows/a11-v2-thumbs", data=text.encode(), headers=YAML)
    body = await response.json()
    assert response.status == 201 and body["created"] is True
    assert len(body["warnings"]) == 10
    assert body["warnings"][1] == {
        "path": "messages.intro.es",
        "message": "earlier format (runs as before): how to opt out is said as written on "
        "every channel; write {opt_out} for it, and each channel says it in its own words (by "
        "text 'Responda STOP para cancelar.')",
    }
    url = f"/v1/flows/a11-v2-thumbs/versions/{body['version']}"
    version = await (await bot.client.get(url, headers=ADMIN)).json()
    assert version["warnings"] == body["warnings"]
    activated = await bot.client.post("/v1/flows/a11-v2-thumbs/activate",
                                      json={"version": body["version"]}, headers=ADMIN)  # fmt: skip
    assert activated.status == 200
    again = await bot.client.put("/v1/flows/a11-v2-thumbs", data=text.encode(), headers=YAML)
    assert again.status == 200 and (await again.json())["warnings"] == body["warnings"]

    browser = Browser(bot)
    await browser.sign_in("admin-token")
    lines = text.splitlines()
    for page in (
        f"/admin/flows/a11-v2-thumbs/versions/{body['version']}",
        "/admin/flows/a11-v2-thumbs",
    ):  # the version, and the editor holding it
        html = await (await browser.get(page)).text()
        assert "10 warnings: this flow runs, and should change" in html
        line = lines.index('      en: "This interaction increased my trust in {provider}. '
                           'Reply 1 for Yes, 0 for No."') + 1  # fmt: skip
        assert re.search(
            rf"Line {line} \(<code>en: &#34;This interaction .*</code>\), "
            r"<code>questions\[0\]\.prompt\.en</code>: earlier format",
            html,
        ), page
    # A flow in the new form has none.
    built_in = digest((FLOWS_DIR / "a11-v2-thumbs.yaml").read_text(encoding="utf-8"))
    html = await (await browser.get(f"/admin/flows/a11-v2-thumbs?from={built_in}")).text()
    assert "this flow runs, and should change" not in html


def test_the_omb_collection_detail_names_an_earlier_trust_item_by_its_words_alone() -> None:
    flows = earlier_flows()
    services = load_catalog(FLOWS_DIR / "services.yaml", flows, kinds())
    assert {s: trust_question_text(flows[services[s].flow], services[s]) for s in services} == {
        "benefits-application": "This interaction increased my trust in Example Benefits Agency.",
        "permit-renewal": "This interaction increased my trust in Example Permits Office.",
        "helpdesk-call": "This interaction increased my trust in Example Tax Service.",
    }  # a11-v1's "(1-5)" (said as written) left out, as the code before did


def test_a_flow_with_very_many_warnings_lists_a_hundred_then_says_how_many_more() -> None:
    data = yaml.safe_load((EARLIER / "a11-v2-vi.yaml").read_text(encoding="utf-8"))
    codes = [f"x{chr(97 + n // 26)}{chr(97 + n % 26)}" for n in range(30)]  # 30 made-up ones

    def spread(node: Any) -> Any:  # every Vietnamese text said in each made-up language too
        if isinstance(node, dict):
            node = {k: spread(v) for k, v in node.items()}
            return {**node, **dict.fromkeys(codes, node["vi"])} if "vi" in node else node
        return [spread(v) for v in node] if isinstance(node, list) else node

    data = spread(data)
    data["languages"] += codes
    flow, errors = parse_flow(data, "many")
    assert flow is not None and errors == []
    # 5 places per language: the intro and 4 prompts, each said as written
    assert len(flow.warnings) == 101
    assert flow.warnings[-1].message == f"and {5 * (len(codes) + 2) - 100} more warnings"
