"""Web chat over HTTP: a survey link per transaction, plain forms that work without script, a
live WebSocket, the checks on every answer, and records like SMS's (channel ``webchat``,
reported as ``chatbot``). The same pages in a real browser: ``test_webchat_browser.py``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from adapters.webchat.channel import PER_LINK, SOCKETS_PER_LINK, WebChatChannel
from bot.core import response
from bot.service import delivery
from bot.store.state import State
from bot.web.app import RUNTIME, create_app

from .conftest import PUBLIC, Bot, Clock, make_settings, serving
from .records import REPORTED

VISITOR = "visitor-42"


@pytest.fixture
async def web(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "webchat"),
                             webchat_allowed_origins=("https://www.agency.gov",))  # fmt: skip
    channels = [TwilioChannel(settings), WebChatChannel(settings)]
    async with serving(settings, channels, fake_twilio) as served:
        yield served


async def link(web: Bot, tid: str = "w1", **kw: Any) -> str:
    body = {"transaction_id": tid, "service": "benefits-application", "channel": "webchat",
            "to": VISITOR, **kw}  # fmt: skip
    result = await (await web.transactions(body)).json()
    assert result["status"] == "scheduled", result
    url = str(result["survey_url"])
    assert url.startswith(f"{PUBLIC}/s/")
    return url.removeprefix(PUBLIC)


def thumbs_button(html: str, value: str, words: str) -> bool:
    """Whether the page has a thumbs button as it should be drawn: an icon (an inline SVG, no
    emoji font needed, hidden from screen readers) beside its words, which name it."""
    return bool(re.search(rf'name="answer" value="{value}"><svg class="icon" viewBox="[^"]+" '
                          rf'aria-hidden="true" focusable="false"><path[^>]*/></svg>{words}'
                          "</button>", html))  # fmt: skip


def form_of(html: str) -> dict[str, str]:
    """The hidden fields of the page's answer form."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html)[:3])


async def post(web: Bot, path: str, fields: dict[str, Any], *, origin: str = PUBLIC) -> Any:
    return await web.client.post(path, data=fields, headers={"Origin": origin},
                                 allow_redirects=False)  # fmt: skip


async def test_a_survey_taken_by_link_without_script(web: Bot, redis: Redis) -> None:
    path = await link(web)
    token = path.removeprefix("/s/")
    assert len(token) == 22  # 128 random bits, URL-safe
    repeat = {"transaction_id": "w1", "service": "benefits-application", "channel": "webchat",
              "to": VISITOR}  # fmt: skip
    again = await (await web.transactions(repeat)).json()
    assert again["survey_url"] == f"{PUBLIC}{path}"  # a repeat gets the same link
    page = await web.client.get(path)
    html = await page.text()
    assert page.status == 200 and '<html lang="en">' in html
    assert "Example Benefits Agency: 3 quick questions" in html  # opening it delivered it
    assert thumbs_button(html, "1", "Yes") and thumbs_button(html, "0", "No")
    for header, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    ):
        assert page.headers[header] == value
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.agency.gov" in csp and "script-src 'self'" in csp
    fields = form_of(html)
    thumbs = await post(web, path, {**fields, "answer": "1"})
    assert thumbs.status == 303 and thumbs.headers["Location"] == f"{path}#question"
    html = await (await web.client.get(path)).text()
    assert '<li class="turn person"><span class="sr-only">You: </span>Yes</li>' in html
    assert 'type="checkbox" id="choice-1" name="choice" value="1"' in html
    fields = form_of(html)
    await post(web, path, {**fields, "answer": "", "choice": ["1", "2"]})
    html = await (await web.client.get(path)).text()
    assert "Getting my need met, Ease" in html and "<textarea" in html
    done = await post(
        web, path, {**form_of(html), "answer": "", "text": "Quick, my email is a@b.gov"}
    )
    assert done.status == 200
    thanks = await done.text()
    assert "Thank you! Your feedback helps Example Benefits Agency improve." in thanks
    assert thanks.count("Thank") == 1 and "You can close this page." in thanks  # thanked once
    # The link is dead once the survey has ended.
    closed = await (await web.client.get(path)).text()
    assert "This survey has closed" in closed and "<form" not in closed
    assert closed.count("Thank") == 1
    [record] = await State(redis).ended_records()
    built = response.build(record, web.rt.flows[record["flow_id"]], REPORTED["webchat"])
    assert (built["channel"], built["reported_channel"], built["disposition"]) == (
        "webchat", "chatbot", "completed")  # fmt: skip
    assert built["a11"]["question_1"] == 1 and built["a11"]["positive_ease"] == 1
    assert "a@b.gov" not in str(built) and built["free_text"] == "Quick, my email is [EMAIL]"


async def test_typing_goes_through_the_sms_parser_and_spanish_follows_the_switch(
    web: Bot,
) -> None:
    path = await link(web)
    html = await (await web.client.get(path)).text()
    await post(web, path, {**form_of(html), "answer": "español"})
    html = await (await web.client.get(path)).text()
    assert '<html lang="es">' in html and thumbs_button(html, "1", "Sí") and "English" in html
    await post(web, path, {**form_of(html), "answer": "", "text": "sí"})  # typed, not clicked
    html = await (await web.client.get(path)).text()
    assert '<span class="sr-only">Usted: </span>Sí</li>' in html


# What a text message says that a page must not: keywords to type, numbers to reply with.
KEYWORD_WORDING = re.compile(r"Reply|Responda|\bSTOP\b|\bSKIP\b|OMITIR|e\.g\. 1 3|ej\. 1 3|1=Sí")


def visible(html: str) -> str:
    """The page's text as a person reads it (tags and the forms' hidden values left out)."""
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("language", ["en", "es"])
async def test_the_page_says_how_to_answer_in_a_page_s_words(web: Bot, language: str) -> None:
    path = await link(web, language=language)
    pages = [await (await web.client.get(path)).text()]
    await post(web, path, {**form_of(pages[-1]), "answer": "1"})
    pages.append(await (await web.client.get(path)).text())
    await post(web, path, {**form_of(pages[-1]), "answer": "", "choice": ["1"]})
    pages.append(await (await web.client.get(path)).text())
    for html in pages:
        assert not KEYWORD_WORDING.search(visible(html)), visible(html)
    intro, drivers, comment = pages
    if language == "en":
        assert "3 quick questions about Benefits application. OMB 1234-5678</li>" in intro
        assert ">What went well? Choose all that apply.</legend>" in drivers
        assert ">Anything else you want us to know about your experience?</legend>" in comment
        assert ">Don&#39;t ask me again</button>" in intro
    else:
        assert "3 preguntas breves sobre Benefits application. OMB 1234-5678</li>" in intro
        assert ">¿Qué estuvo bien? Elija todas las que apliquen.</legend>" in drivers
        assert ">No me pregunte de nuevo</button>" in intro


async def test_a_typed_answer_not_understood_is_hinted_in_the_page_s_words(web: Bot) -> None:
    path = await link(web)
    html = await (await web.client.get(path)).text()
    hinted = await post(web, path, {**form_of(html), "answer": "", "text": "purple"})
    html = await hinted.text()
    assert hinted.status == 200  # the question stays; the page says why, once
    assert ('role="status">Sorry, I didn&#39;t get that. Choose Yes or No, or skip this '
            "question.</p>") in html  # fmt: skip
    assert 'name="question" value="question_1"' in html


async def test_don_t_ask_me_again_is_kept_as_a_text_s_stop(web: Bot, redis: Redis) -> None:
    path = await link(web, language="es")
    html = await (await web.client.get(path)).text()
    await post(web, path, {**form_of(html), "answer": "1"})  # the first question answered
    html = await (await web.client.get(path)).text()
    form = html.split("No me pregunte de nuevo")[0].rsplit("<form", 1)[1]
    stop = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert "question" not in stop  # it answers no question: it ends the survey
    done = await post(web, path, {**stop, "answer": "stop"})
    page = await done.text()
    assert done.status == 200 and "no le volveremos a pedir su opinión" in page
    assert "START" not in page and "<form" not in page
    # As an SMS STOP: the consent ledger, the survey ended as opted out with what it had.
    [record] = await State(redis).ended_records()
    assert record["disposition"] == "opted_out"
    assert record["session"]["answers"]["question_1"]["value"] == 1  # type: ignore[index]
    service = web.rt.services["benefits-application"]
    assert await web.rt.state.opted_out(web.rt.person(VISITOR), web.rt.scopes(service, "webchat"))
    again = await (await web.transactions({"transaction_id": "w2", "service":
                                           "benefits-application", "channel": "webchat",
                                           "to": VISITOR})).json()  # fmt: skip
    assert again["status"] == "suppressed" and again["reason"] == "opted_out"


async def test_stop_typed_on_the_page_opts_out_too(web: Bot, redis: Redis) -> None:
    path = await link(web)
    html = await (await web.client.get(path)).text()
    done = await post(web, path, {**form_of(html), "answer": "", "text": "STOP"})
    assert "we will not ask you for feedback again" in await done.text()
    [record] = await State(redis).ended_records()
    assert record["disposition"] == "opted_out"


async def test_every_answer_is_checked(web: Bot) -> None:
    path = await link(web)
    html = await (await web.client.get(path)).text()
    fields = form_of(html)
    forged = await post(web, path, {**fields, "csrf": "0" * 32, "answer": "1"})
    assert forged.status == 403
    cross_site = await post(web, path, {**fields, "answer": "1"}, origin="https://evil.example")
    assert cross_site.status == 403
    missing = await web.client.get("/s/" + "A" * 22)
    assert missing.status == 404 and "Survey not found" in await missing.text()
    assert (await web.client.get("/s/not-a-token")).status == 404
    # An old form (the back button): its question was answered, the page says so.
    await post(web, path, {**fields, "answer": "1"})
    stale = await post(web, path, {**fields, "nonce": "other", "answer": "0"})
    html = await stale.text()
    assert stale.status == 200 and 'role="status">That question was already answered' in html
    assert html.count(">Yes</li>") == 1 and ">No</li>" not in html


@pytest.mark.parametrize("token", ["%7B", "%7Bx%7D", "a%2Fb", "%7D%2F%7B"])
async def test_a_link_that_is_no_token_is_the_page_s_own_not_found(web: Bot, token: str) -> None:
    """Any text after /s/ (braces and slashes too, which a plain route parameter refuses) is
    answered by the survey's own page: HTML that says so, as the document has it."""
    for answer in (await web.client.get("/s/" + token),
                   await web.client.post("/s/" + token, data={"answer": "1"})):  # fmt: skip
        assert answer.status == 404
        assert answer.content_type == "text/html"
        assert "Survey not found" in await answer.text()
    socket = await web.client.get(f"/s/{token}/ws")
    assert socket.status == 404


async def test_rate_limits_per_link(web: Bot) -> None:
    path = await link(web)
    statuses = [(await web.client.get(path)).status for _ in range(PER_LINK[0] + 1)]
    assert statuses[:-1] == [200] * PER_LINK[0] and statuses[-1] == 429


async def test_the_socket_answers_live_and_checks_its_origin(web: Bot) -> None:
    path = await link(web)
    html = await (await web.client.get(path)).text()
    fields = form_of(html)
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await web.client.ws_connect(f"{path}/ws", headers={"Origin": "https://evil.example"})
    ws = await web.client.ws_connect(f"{path}/ws", headers={"Origin": PUBLIC})
    await ws.send_json({**fields, "answer": "0"})
    reply = await ws.receive_json()
    assert reply["state"] == "open" and "What didn" in reply["said"]
    assert ">No</li>" in reply["html"] and 'id="question"' in reply["html"]
    await ws.send_json({**fields, "csrf": "forged", "answer": "1"})
    assert (await ws.receive_json()) == {"error": "not taken"}
    # A change of language redraws the header and the title too, not only the conversation.
    await ws.send_json({**fields, "question": "drivers", "nonce": "lang", "answer": "español"})
    reply = await ws.receive_json()
    assert reply["language"] == "es"
    assert reply["title"] == "Example Benefits Agency: Benefits application – Encuesta de opinión"
    assert "Ir a la pregunta" in reply["top"] and "Encuesta de opinión" in reply["top"]
    await ws.close()


async def sockets(web: Bot, path: str, count: int, client: str | None = None,
                  ) -> tuple[list[aiohttp.ClientWebSocketResponse], int]:  # fmt: skip
    """Try to open ``count`` sockets on a link (from ``client``, as a proxy reports it):
    those opened, and how many were refused (429)."""
    headers = {"Origin": PUBLIC, **({"X-Forwarded-For": client} if client else {})}
    opened, refused = [], 0
    for _ in range(count):
        try:
            opened.append(await web.client.ws_connect(f"{path}/ws", headers=headers))
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 429
            refused += 1
    return opened, refused


async def test_a_link_holds_a_few_sockets_at_most(web: Bot) -> None:
    path = await link(web)
    # one client opens many sockets on one link: a few stay open, the rest are refused
    kept, refused = await sockets(web, path, 40)
    assert len(kept) == SOCKETS_PER_LINK and refused == 40 - SOCKETS_PER_LINK
    fields = form_of(await (await web.client.get(path)).text())
    await kept[0].send_json({**fields, "answer": "1"})  # the ones kept still answer
    assert (await kept[0].receive_json())["state"] == "open"
    # a socket closed frees its place
    await kept.pop().close()
    for _ in range(50):
        again, _ = await sockets(web, path, 1)
        if again:
            break
        await asyncio.sleep(0.02)
    assert len(again) == 1
    for ws in [*kept, *again]:
        await ws.close()


@pytest.mark.parametrize("trusted", [True, False])
async def test_a_client_holds_so_many_sockets_at_most(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path, trusted: bool
) -> None:
    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "webchat"),
                             webchat_sockets_per_client=8,
                             **({} if trusted else {"trusted_proxies": ()}))  # fmt: skip
    channels = [TwilioChannel(settings), WebChatChannel(settings)]
    async with serving(settings, channels, fake_twilio) as web:
        paths = [await link(web, f"w{n}", to=f"visitor-{n}") for n in range(6)]
        # one client, as the router reports it: five on one link, then one on each other
        # link, up to WEBCHAT_SOCKETS_PER_CLIENT in all
        held = [await sockets(web, paths[0], 6, "198.51.100.1")]
        held += [await sockets(web, p, 1, "198.51.100.1") for p in paths[1:]]
        assert [len(o) for o, _ in held] == [5, 1, 1, 1, 0, 0]
        # another client behind the same router is not held back by the first, when the
        # router is trusted; from a peer that is not, "another client" is only a claim
        other, _ = await sockets(web, paths[5], 1, "203.0.113.8")
        assert len(other) == (1 if trusted else 0)
        for ws in [*other, *(w for o, _ in held for w in o)]:
            await ws.close()


async def test_a_conversation_outlives_the_request_deadline(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    # A person takes minutes; the socket must not be cut at REQUEST_DEADLINE_SECONDS (the
    # deadline's 503 written into an upgraded socket is a broken frame to the browser).
    settings = make_settings(fake_twilio, tmp_path, channels=("sms", "webchat"),
                             request_deadline=0.4)  # fmt: skip
    app = create_app(settings, channels=[TwilioChannel(settings), WebChatChannel(settings)],
                     clock=Clock())  # fmt: skip
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    web = Bot(client, fake_twilio, Clock(), settings)
    try:
        path = await link(web)
        fields = form_of(await (await web.client.get(path)).text())
        ws = await web.client.ws_connect(f"{path}/ws", headers={"Origin": PUBLIC})
        await asyncio.sleep(1.0)  # thinking, longer than the deadline
        await ws.send_json({**fields, "answer": "1"})
        reply = await ws.receive_json()
        assert reply["state"] == "open" and ">Yes</li>" in reply["html"]
        await ws.close()
    finally:
        await client.close()


async def test_no_reminder_and_an_abandoned_page_expires(web: Bot, redis: Redis) -> None:
    path = await link(web)
    html = await (await web.client.get(path)).text()
    await post(web, path, {**form_of(html), "answer": "1"})
    web.clock.advance(hours=25)
    await delivery.run_timers(web.rt)
    assert web.fake.messages == []  # nothing is ever sent: no address
    web.clock.advance(hours=48)
    await delivery.run_timers(web.rt)
    [record] = await State(redis).ended_records()
    assert record["disposition"] == "partial" and "remind_at" not in record
    assert "This survey has closed" in await (await web.client.get(path)).text()


async def test_the_widget_script_is_served(web: Bot) -> None:
    script = await web.client.get("/webchat.js")
    assert script.status == 200 and script.content_type == "text/javascript"
    assert "data-survey-url" in await script.text()
    css = await web.client.get("/static/webchat.css")
    assert css.status == 200 and css.content_type == "text/css"
    assert (await web.client.get("/static/../channel.py")).status == 404
    rt = web.client.app[RUNTIME]  # type: ignore[index]
    assert rt.by_link("webchat") and not rt.texting("webchat")
