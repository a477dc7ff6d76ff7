"""Console sessions held in Redis, through the real routes: a copied cookie is worth nothing
after sign-out, after the sign-in token is changed and the bot restarted, and after the
absolute lifetime; a provider's session is asked about again (its refresh token, at the
loopback OpenID Connect provider) and ends when the role is withdrawn; the provider's roles
claim is taken only as a text or a list of texts; a sign-in's state is used once; wrong
tokens are counted per client, and only wrong ones."""

from __future__ import annotations

from typing import Any

import aiohttp
from redis.asyncio import Redis

from adapters.testing.oidc_fake import FakeOidc
from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core.secret import Secret
from bot.web.console import SIGN_IN_LIMIT

from .conftest import PUBLIC, Bot, make_settings, serving
from .test_console import Browser, through_provider


def thief_with(bot: Bot, cookies: dict[str, str]) -> Browser:
    """Someone holding a copy of a browser's cookies."""
    thief = Browser(bot)
    thief.cookies = dict(cookies)
    return thief


async def test_a_copied_cookie_dies_at_sign_out(console: Bot, redis: Redis) -> None:
    browser = Browser(console)
    await browser.sign_in("admin-token")
    copied = dict(browser.cookies)
    assert (await thief_with(console, copied).get("/admin")).status == 200
    out = await browser.post("/admin/sign-out", {"csrf": await browser.csrf()})
    assert out.status == 303 and out.headers["Location"] == "/admin/sign-in"
    assert "fb_console" not in browser.cookies
    for path in ("/admin", "/admin/cases", "/admin/reports/a11.csv"):
        refused = await thief_with(console, copied).get(path)
        assert refused.status == 303 and refused.headers["Location"] == "/admin/sign-in", path
    assert [k async for k in redis.scan_iter(match="fb:console:session:*")] == []
    # Redis keeps a session under a hash of its id: the cookie's id is nowhere in it
    await browser.sign_in("admin-token")
    [key] = [k async for k in redis.scan_iter(match="fb:console:session:*")]
    assert browser.cookies["fb_console"].split(".")[0] not in key + str(await redis.get(key))


async def test_a_token_session_dies_when_the_token_is_changed(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Any
) -> None:
    before = make_settings(fake_twilio, tmp_path, viewer_token=Secret("viewer-token"))
    async with serving(before, [TwilioChannel(before)], fake_twilio) as bot:
        admin, viewer = Browser(bot), Browser(bot)
        await admin.sign_in("admin-token")
        await viewer.sign_in("viewer-token")
        admin_cookie, viewer_cookie = dict(admin.cookies), dict(viewer.cookies)
    # A restart alone keeps both sessions (they are in Redis, not in the process) ...
    async with serving(before, [TwilioChannel(before)], fake_twilio) as bot:
        assert (await thief_with(bot, admin_cookie).get("/admin")).status == 200
        assert (await thief_with(bot, viewer_cookie).get("/admin")).status == 200
    # ... ADMIN_TOKEN rotated and the bot restarted: the admin's session is over, whatever
    # the cookie (its key comes from PSEUDONYM_KEY, which did not change); the viewer's,
    # made with a token that did not change, goes on.
    rotated = make_settings(fake_twilio, tmp_path, viewer_token=Secret("viewer-token"),
                            admin_token=Secret("new-admin-token"))  # fmt: skip
    async with serving(rotated, [TwilioChannel(rotated)], fake_twilio) as bot:
        refused = await thief_with(bot, admin_cookie).get("/admin")
        assert refused.status == 303 and refused.headers["Location"] == "/admin/sign-in"
        assert (await thief_with(bot, viewer_cookie).get("/admin")).status == 200
        newcomer = Browser(bot)
        assert (await newcomer.sign_in("admin-token")).status == 401
        assert (await newcomer.sign_in("new-admin-token")).status == 303
    # VIEWER_TOKEN removed: the viewer's session ends too
    no_viewer = make_settings(fake_twilio, tmp_path, admin_token=Secret("new-admin-token"))
    async with serving(no_viewer, [TwilioChannel(no_viewer)], fake_twilio) as bot:
        assert (await thief_with(bot, viewer_cookie).get("/admin")).status == 303


async def test_a_busy_session_ends_at_its_absolute_lifetime(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Any
) -> None:
    settings = make_settings(fake_twilio, tmp_path)  # ADMIN_SESSION_MAX_HOURS: 12 by default
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as bot:
        browser = Browser(bot)
        await browser.sign_in("admin-token")
        copied = dict(browser.cookies)
        for _ in range(35):  # used every 20 minutes for 11 h 40: never idle for long
            bot.clock.advance(minutes=20)
            assert (await browser.get("/admin/cases")).status == 200, bot.clock.now
        # twelve hours after sign-in it has ended, for the browser and for a copy alike
        bot.clock.advance(minutes=20)
        assert (await browser.get("/admin")).status == 303
        assert (await thief_with(bot, copied).get("/admin")).status == 303
        assert (await browser.sign_in("admin-token")).status == 303  # a new one begins
        assert (await browser.get("/admin")).status == 200


async def test_a_provider_session_is_asked_about_again(
    oidc_console: Bot, provider: FakeOidc
) -> None:
    browser = Browser(oidc_console)
    assert (await through_provider(browser)).status == 303
    copied = dict(browser.cookies)
    # within ADMIN_SESSION_MINUTES (30) the provider is not asked again
    for _ in range(3):
        oidc_console.clock.advance(minutes=9)
        assert "Ada Admin (admin)" in await (await browser.get("/admin")).text()
    assert provider.refreshed == 0
    # past it, the next page asks the provider (the refresh token, rotated by the provider)
    oidc_console.clock.advance(minutes=4)
    assert (await browser.get("/admin")).status == 200
    assert provider.refreshed == 1
    # the provider demotes the person: the next check makes the session a viewer's
    provider.accounts["u-1"]["roles"] = ["viewer"]
    oidc_console.clock.advance(minutes=31)
    assert "Ada Admin (viewer)" in await (await browser.get("/admin")).text()
    assert (await browser.get("/admin/flows")).status == 403
    # the provider is down when a check falls due: the page says so, the session is kept
    provider.down = True
    oidc_console.clock.advance(minutes=31)
    down = await browser.get("/admin")
    assert down.status == 503 and "sign-in service is not answering" in await down.text()
    assert down.headers["Content-Type"].startswith("text/html")
    provider.down = False
    assert (await browser.get("/admin")).status == 200
    assert provider.refreshed == 3
    # the role is withdrawn: at the next check the session ends, for every copy of it
    provider.accounts["u-1"]["roles"] = ["staff"]
    oidc_console.clock.advance(minutes=31)
    ended = await browser.get("/admin")
    assert ended.status == 303 and ended.headers["Location"] == "/admin/sign-in"
    assert (await thief_with(oidc_console, copied).get("/admin")).status == 303
    # a disabled account (its refresh token refused) ends the session the same way
    provider.accounts["u-1"]["roles"] = ["admin"]
    assert (await through_provider(browser)).status == 303
    del provider.accounts["u-1"]
    oidc_console.clock.advance(minutes=31)
    assert (await browser.get("/admin")).status == 303


async def test_a_provider_without_refresh_tokens_is_signed_in_again(
    oidc_console: Bot, provider: FakeOidc
) -> None:
    # a provider that issues no refresh token (Login.gov): the session cannot be checked
    # again, so it lasts ADMIN_SESSION_MINUTES from sign-in, and the person signs in again
    provider.offline = False
    browser = Browser(oidc_console)
    await through_provider(browser)
    assert provider.refresh_tokens == {}
    oidc_console.clock.advance(minutes=29)
    assert (await browser.get("/admin")).status == 200
    oidc_console.clock.advance(minutes=2)
    assert (await browser.get("/admin")).status == 303
    assert provider.token_requests == 1  # the code's exchange only: nothing to ask with
    assert (await through_provider(browser)).status == 303  # signing in again works


async def test_the_roles_claim_is_a_text_or_a_list_of_texts(
    oidc_console: Bot, provider: FakeOidc
) -> None:
    for value in ({"admin": False}, {"admin": True}, 1, True, ["admin", 1], [["admin"]], 0):
        provider.person = {"sub": "u-9", "name": "Odd Claim", "roles": value}
        browser = Browser(oidc_console)
        refused = await through_provider(browser)
        text = await refused.text()
        assert refused.status == 403, (value, refused.status)
        assert "in a form the console does not accept" in text, value
        assert refused.headers["Content-Type"].startswith("text/html")
        assert "fb_console" not in browser.cookies
    for value, role in (("admin", "admin"), (["staff", "viewer"], "viewer")):
        provider.person = {"sub": "u-8", "name": "Fine Claim", "roles": value}
        browser = Browser(oidc_console)
        assert (await through_provider(browser)).status == 303
        assert f"Fine Claim ({role})" in await (await browser.get("/admin")).text()


async def test_a_replayed_callback_is_refused(oidc_console: Bot, provider: FakeOidc) -> None:
    browser = Browser(oidc_console)
    start = await browser.get("/admin/oidc/start")
    leg_cookie = dict(browser.cookies)
    async with (
        aiohttp.ClientSession() as http,
        http.get(start.headers["Location"], allow_redirects=False) as at_provider,
    ):
        back = at_provider.headers["Location"].removeprefix(PUBLIC)
    assert (await browser.get(back)).status == 303
    asked = provider.token_requests
    # the same callback again, with the same cookie (someone who copied both)
    replay = await thief_with(oidc_console, leg_cookie).get(back)
    assert replay.status == 400 and "used already" in await replay.text()
    assert provider.token_requests == asked  # refused here, before the provider is asked


async def test_only_wrong_tokens_count_and_per_client(console: Bot) -> None:
    # Everyone reaches the bot through one router (the test client, 127.0.0.1, a private
    # address: trusted by default); each client is the address the router reports.
    office = {"X-Forwarded-For": "198.51.100.7"}
    home = {"X-Forwarded-For": "203.0.113.9"}

    async def sign_in(token: str, forwarded: dict[str, str], bot: Bot = console) -> int:
        browser = Browser(bot)
        page = await (await browser.get("/admin/sign-in")).text()
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        response = await browser.post("/admin/sign-in", {"token": token, "csrf": csrf},
                                      headers={"Origin": PUBLIC, **forwarded})  # fmt: skip
        return response.status

    limit = SIGN_IN_LIMIT[0]
    for _ in range(3 * limit):  # people signing in all day lock no one out
        assert await sign_in("admin-token", office) == 303
    for _ in range(limit):
        assert await sign_in("guess", office) == 401
    assert await sign_in("guess", office) == 429
    assert await sign_in("admin-token", office) == 429  # that client waits, right or wrong
    assert await sign_in("admin-token", home) == 303  # another client does not
    # a forwarded address from a peer that is not a trusted proxy is not believed: the
    # client is the peer, whatever it claims
    spoofed = {"X-Forwarded-For": "192.0.2.1"}
    settings = make_settings(console.fake, console.settings.data_dir, trusted_proxies=())
    async with serving(settings, [TwilioChannel(settings)], console.fake) as direct:
        for n in range(limit):
            assert await sign_in("guess", {"X-Forwarded-For": f"192.0.2.{n}"}, direct) == 401
        assert await sign_in("admin-token", spoofed, direct) == 429
