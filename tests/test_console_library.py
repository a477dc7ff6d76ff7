"""The console's flow and settings pages through their real routes: admins only, errors at
their lines, preview, activation and rollback, diff, a try of a flow that records nothing,
settings with errors at their fields, pause and resume, history and restore."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.slack.channel import SlackChannel
from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from adapters.webchat.channel import WebChatChannel
from bot.core.secret import Secret

from .conftest import Bot, make_settings, serving
from .forms import fields_of
from .slack_helpers import FakeSlack
from .test_console import Browser
from .test_library import CHANGED, THUMBS
from .test_webchat import form_of, post


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def console(
    redis: Redis, fake_twilio: FakeTwilio, slack: FakeSlack, tmp_path: Any
) -> AsyncIterator[Bot]:
    """The console with web chat (to try flows) and Slack (where alerts would go)."""
    settings = make_settings(
        fake_twilio, tmp_path, viewer_token=Secret("viewer-token"),
        channels=("sms", "webchat"), slack_bot_token=Secret(slack.token),
        slack_signing_secret=Secret("slack-secret"), slack_api_url=slack.base_url,
        slack_alert_channel="C0ALERTS",
    )  # fmt: skip
    channels = [TwilioChannel(settings), WebChatChannel(settings), SlackChannel(settings)]
    async with serving(settings, channels, fake_twilio) as served:
        yield served


async def admin(console: Bot) -> tuple[Browser, str]:
    browser = Browser(console)
    await browser.sign_in("admin-token")
    return browser, await browser.csrf()


async def test_flow_pages_are_for_admins_only(console: Bot) -> None:
    browser = Browser(console)
    assert (await browser.get("/admin/flows")).status == 303  # signed out: to the sign-in
    await browser.sign_in("viewer-token")
    assert "/admin/flows" not in await (await browser.get("/admin")).text()  # not offered
    for path in ("/admin/flows", "/admin/flows/a11-v2-thumbs",
                 "/admin/services/benefits-application/settings"):  # fmt: skip
        assert (await browser.get(path)).status == 403
    csrf = await browser.csrf()
    refused = await browser.post("/admin/services/benefits-application/pause", {"csrf": csrf})
    assert refused.status == 403 and not console.rt.services["benefits-application"].paused


async def test_an_error_is_shown_at_its_line_then_the_fixed_flow_is_kept_and_activated(
    console: Bot,
) -> None:
    browser, csrf = await admin(console)
    broken = CHANGED.replace("scale: thumbs", "scale: thumb")
    page = await browser.post("/admin/flows/a11-v2-thumbs", {"csrf": csrf, "text": broken})
    html = await page.text()
    line = broken.splitlines().index("    scale: thumb") + 1
    assert page.status == 422
    assert (
        f'<a href="#line-{line}">Line {line}</a> (<code>scale: thumb</code>), '
        "<code>questions[0].scale</code>"
    ) in html
    assert 'aria-invalid="true"' in html and "scale: thumb</textarea>" not in html  # escaped
    assert "scale: thumb\n" in html.split("<textarea")[1]  # the text is kept to fix
    kept = await browser.post("/admin/flows/a11-v2-thumbs", {"csrf": csrf, "text": CHANGED})
    assert kept.status == 303
    version_page = kept.headers["Location"]
    version = version_page.rsplit("/", 1)[1]
    html = await (await browser.get(version_page)).text()
    assert "three short questions" in html and "Activate this version" in html
    spanish = html.split('id="lang-es"')[1]
    assert re.search(r"aumentó mi confianza.*?</td><td>UCS-2</td><td class=\"n\">2</td>", spanish)
    # Each kind of interface in its own words: a page without keywords, a call spoken.
    assert "Text message (sms, whatsapp)" in html and "Chat with buttons (slack)" in html
    assert "Web page (webchat)" in html and "Voice call (voice)" in html
    web = html.split('id="lang-en-web"')[1].split("</table>")[0]
    assert "three short questions about Benefits application. OMB 1234-5678</td>" in web
    assert "STOP" not in web and "Reply" not in web and "Segments" not in web
    voice = html.split('id="lang-es-voice"')[1].split("</table>")[0]
    assert "Oprima 1 para sí, 2 para no, o diga sí o no." in voice
    assert '<th scope="col">Seconds to say</th>' in voice  # and how long each takes to say
    assert re.search(r'o diga sí o no\.</td><td class="n">[1-9][0-9]?</td>', voice)
    activated = await browser.post("/admin/flows/a11-v2-thumbs/activate",
                                   {"csrf": csrf, "version": version})  # fmt: skip
    assert activated.status == 303
    assert console.rt.flows["a11-v2-thumbs"].version == version
    listing = await (await browser.get("/admin/flows/a11-v2-thumbs")).text()
    old = re.findall(r"Roll back to (\w+)", listing)
    assert len(old) == 1  # the file's version, now older than the active one
    diff = await browser.get(f"/admin/flows/a11-v2-thumbs/diff?from={old[0]}&to={version}")
    text = await diff.text()
    assert '<span class="del">-    en: &#34;{agency}: 3 quick questions' in text
    assert '<span class="ins">+    en: &#34;{agency}: three short questions' in text
    back = await browser.post("/admin/flows/a11-v2-thumbs/activate",
                              {"csrf": csrf, "version": old[0]})  # fmt: skip
    assert back.status == 303 and console.rt.flows["a11-v2-thumbs"].version == old[0]
    entries = await console.rt.store.audit_entries(target="a11-v2-thumbs")  # type: ignore[union-attr]
    assert [e["action"] for e in entries[:3]] == ["flow.activate", "flow.activate", "flow.upload"]
    assert entries[0]["actor"] == "admin (token)"


async def test_a_new_flow_is_added_from_the_list(console: Bot) -> None:
    browser, csrf = await admin(console)
    text = THUMBS.replace("id: a11-v2-thumbs", "id: short-thumbs")
    kept = await browser.post("/admin/flows", {"csrf": csrf, "flow_id": "short-thumbs",
                                               "text": text})  # fmt: skip
    assert kept.status == 303 and kept.headers["Location"].startswith("/admin/flows/short-thumbs/")
    wrong = await browser.post("/admin/flows", {"csrf": csrf, "flow_id": "other", "text": text})
    assert wrong.status == 422 and "must be &#39;other&#39;" in await wrong.text()


async def test_trying_a_flow_records_nothing(console: Bot, slack: FakeSlack) -> None:
    browser, csrf = await admin(console)
    kept = await browser.post("/admin/flows/a11-v2-thumbs", {"csrf": csrf, "text": CHANGED})
    version = kept.headers["Location"].rsplit("/", 1)[1]
    tried = await browser.post(f"/admin/flows/a11-v2-thumbs/versions/{version}/try",
                               {"csrf": csrf, "language": "es"})  # fmt: skip
    assert tried.status == 303
    path = tried.headers["Location"]
    assert path.startswith("/s/")
    html = await (await console.client.get(path)).text()
    assert '<html lang="es">' in html and "3 preguntas breves" in html  # the tried version
    await post(console, path, {**form_of(html), "answer": "0"})
    html = await (await console.client.get(path)).text()
    await post(console, path, {**form_of(html), "answer": "", "choice": ["2"]})
    html = await (await console.client.get(path)).text()
    done = await post(
        console, path, {**form_of(html), "answer": "", "text": "Una prueba: I will bring a gun"}
    )
    assert "Gracias" in await done.text()
    assert console.rt.outbox is not None
    while await console.rt.outbox.step() + await console.rt.work.step():
        pass
    assert console.rt.store is not None
    assert await console.rt.store.responses(limit=10) == []  # nothing recorded
    assert console.rt.notifier is not None and slack.posted("C0ALERTS") == []  # no alert
    assert console.rt.flows["a11-v2-thumbs"].version != version  # nor was it activated


async def test_settings_with_errors_at_their_fields_then_saved_paused_and_restored(
    console: Bot,
) -> None:
    browser, csrf = await admin(console)
    before = console.rt.services["benefits-application"]
    path = "/admin/services/benefits-application/settings"
    html = await (await browser.get(path)).text()
    fields = dict(re.findall(r'<input type="text" inputmode="decimal" id="(\w+)" name="\w+" '
                             r'value="([^"]*)"', html))  # fmt: skip
    assert fields == {"sample_rate": "1.0", "delay_minutes": "0", "reminder_hours": "24",
                      "expiry_hours": "72"}  # fmt: skip
    shown = fields_of(html, 'class="settings"')
    assert ("alerts.trust_negative", "on") in shown and ("goals.since", "FY2027Q1") in shown
    drivers = [("alerts.drivers", v) for k, v in shown if k == "alerts.drivers"]
    assert drivers == [("alerts.drivers", "transparency"), ("alerts.drivers", "humanity")]
    form = {**dict(shown), "flow": "a11-v2-thumbs", "channels": "sms",
            "reporting_dimensions": "region"}  # fmt: skip
    assert form["csrf"] == csrf

    def with_(**changes: str) -> list[tuple[str, str]]:
        return [*{**form, **changes}.items(), *drivers]

    bad = await browser.post(path, with_(sample_rate="lots", expiry_hours="-3"))
    html = await bad.text()
    assert bad.status == 422
    assert '<span class="field-error" id="sample_rate-error">Enter a number.</span>' in html
    assert 'aria-describedby="sample_rate-error sample_rate-hint" aria-invalid="true"' in html
    assert console.rt.services["benefits-application"].sample_rate == 1.0
    bad = await browser.post(path, with_(expiry_hours="-3"))
    assert bad.status == 422 and 'id="expiry_hours-error"' in await bad.text()
    saved = await browser.post(path, with_(sample_rate="0.25"))
    assert saved.status == 303
    service = console.rt.services["benefits-application"]
    # webchat unticked; whatsapp, slack and voice, listed but not enabled here, are not on the form
    assert service.sample_rate == 0.25 and service.channels == ("sms", "whatsapp", "slack", "voice")
    assert service.alerts == before.alerts and service.goals == before.goals  # untouched
    paused = await browser.post("/admin/services/benefits-application/pause", {"csrf": csrf})
    assert paused.status == 303 and console.rt.services["benefits-application"].paused
    html = await (await browser.get(path)).text()
    assert "Resume surveys" in html
    changes = re.findall(r'name="change" value="(\d+)"', html)
    assert len(changes) == 2  # newest first: the pause, then the save
    restored = await browser.post("/admin/services/benefits-application/restore",
                                  {"csrf": csrf, "change": changes[1]})  # fmt: skip
    assert restored.status == 303
    service = console.rt.services["benefits-application"]
    assert service.sample_rate == 1.0 and "webchat" in service.channels
    assert service.paused  # restoring the save does not undo the later pause
    await browser.post("/admin/services/benefits-application/resume", {"csrf": csrf})
    assert not console.rt.services["benefits-application"].paused


async def test_restoring_a_change_that_is_not_there_is_a_404(console: Bot) -> None:
    browser, csrf = await admin(console)
    for change in ("9999999999", "0", "12"):  # past the column's range, none, no such change
        refused = await browser.post("/admin/services/benefits-application/restore",
                                     {"csrf": csrf, "change": change})  # fmt: skip
        assert refused.status == 404, change
