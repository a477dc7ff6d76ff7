"""The admin console through its real routes, real Redis and a real store: sign-in with a
token and through a loopback OpenID Connect provider (real HTTP, RS256-signed ID tokens),
roles (a viewer changes nothing: 403), CSRF and origin checks, idle expiry, the pages, a case
claimed from the browser, CSV downloads and dead-letter replay, each change in the audit log."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import re
from dataclasses import replace
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from adapters.testing.oidc_fake import FakeOidc
from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core import cases
from bot.core.records import survey_ref
from bot.core.secret import Secret
from bot.web.app import create_app

from .conftest import PUBLIC, Bot, Clock, make_settings, serving
from .records import FLOWS, response_record
from .test_measures_api import forward, survey

ORIGIN = {"Origin": PUBLIC}


class Browser:
    """What a browser keeps for the console: its session cookie, sent back by hand (the
    cookie is ``Secure`` for the https public URL while the test server is plain http)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.cookies: dict[str, str] = {}

    def _keep(self, response: aiohttp.ClientResponse) -> None:
        for header in response.headers.getall("Set-Cookie", []):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**({"Cookie": cookie} if cookie else {}), **(extra or {})}

    async def get(self, path: str) -> aiohttp.ClientResponse:
        response = await self.bot.client.get(path, headers=self._headers(),
                                             allow_redirects=False)  # fmt: skip
        self._keep(response)
        return response

    async def post(self, path: str, data: dict[str, str] | list[tuple[str, str]],
                   headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:  # fmt: skip
        response = await self.bot.client.post(path, data=data, allow_redirects=False,
                                              headers=self._headers(ORIGIN if headers is None
                                                                    else headers))  # fmt: skip
        self._keep(response)
        return response

    async def sign_in(self, token: str) -> aiohttp.ClientResponse:
        page = await (await self.get("/admin/sign-in")).text()
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        return await self.post("/admin/sign-in", {"token": token, "csrf": csrf})

    async def csrf(self) -> str:
        page = await (await self.get("/admin")).text()
        return page.split('name="csrf" value="')[1].split('"')[0] if 'name="csrf"' in page else ""


async def test_pages_need_a_session(console: Bot) -> None:
    for path in ("/admin", "/admin/cases", "/admin/services/benefits-application",
                 "/admin/reports", "/admin/reports/a11.csv", "/admin/delivery"):  # fmt: skip
        response = await console.client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/admin/sign-in"
    page = await console.client.get("/admin/sign-in")
    assert page.status == 200 and 'name="token"' in await page.text()


async def test_token_sign_in_sets_a_safe_session_cookie(console: Bot) -> None:
    browser = Browser(console)
    assert (await browser.sign_in("wrong")).status == 401
    for body in (b"token=%ff%fe", b"token=\xff", b"\x00\x01", b"token=" + b"a" * 5000):
        hostile = await console.client.post("/admin/sign-in", data=body, headers={
            **ORIGIN, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert hostile.status in (400, 401, 403), body  # never a 500
    no_origin = await browser.post("/admin/sign-in", {"token": "admin-token"}, headers={})
    assert no_origin.status == 403  # a cross-site (or origin-less) post
    no_token = await browser.post("/admin/sign-in", {"token": "admin-token"})
    assert no_token.status == 403  # the form's CSRF token is missing
    stranger = Browser(console)  # a token from someone else's page does not fit this browser
    await stranger.get("/admin/sign-in")
    page = await (await browser.get("/admin/sign-in")).text()
    theirs = page.split('name="csrf" value="')[1].split('"')[0]
    assert (await stranger.post("/admin/sign-in", {"token": "admin-token",
                                                   "csrf": theirs})).status == 403  # fmt: skip
    response = await browser.sign_in("admin-token")
    assert response.status == 303 and response.headers["Location"] == "/admin"
    cookie = response.headers["Set-Cookie"]
    for part in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/admin", "Max-Age=1800"):
        assert part in cookie
    overview = await browser.get("/admin")
    assert overview.status == 200
    text = await overview.text()
    assert "Benefits application" in text and "Signed in with the admin token" in text
    assert "admin (token) (admin)" not in text
    entries = await console.rt.store.audit_entries()  # type: ignore[union-attr]
    assert entries[0]["actor"] == "admin (token)" and entries[0]["action"] == "console.sign-in"


async def test_a_forged_or_idle_session_is_no_session(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Any
) -> None:
    settings = make_settings(fake_twilio, tmp_path, admin_session_minutes=1 / 60)
    app = create_app(settings, channels=[TwilioChannel(settings)], clock=Clock())
    async with TestClient(TestServer(app)) as client:
        bot = Bot(client, fake_twilio, Clock(), settings)
        browser = Browser(bot)
        await browser.sign_in("admin-token")
        assert (await browser.get("/admin")).status == 200
        browser.cookies["fb_console"] = browser.cookies["fb_console"][:-2] + "xx"
        assert (await browser.get("/admin")).status == 303  # a tampered signature
        await browser.sign_in("admin-token")
        await asyncio.sleep(2.2)  # idle past ADMIN_SESSION_MINUTES (a second here)
        expired = await browser.get("/admin")
        assert expired.status == 303 and expired.headers["Location"] == "/admin/sign-in"


async def open_case(bot: Bot) -> dict[str, Any]:
    record = response_record(7, ["no", "2", "Nobody called me back"])
    case = cases.from_response(record, FLOWS["a11-v2-thumbs"], ("trust_negative",),
                               bot.rt.clock())  # fmt: skip
    ref = survey_ref(record["respondent"], record["survey_id"])
    assert await bot.rt.state.create_case(ref, {**case, "ref": ref}, ttl=3600)
    return case


async def test_an_admin_claims_and_resolves_a_case_with_the_csrf_token(console: Bot) -> None:
    case = await open_case(console)
    browser = Browser(console)
    await browser.sign_in("admin-token")
    listing = await (await browser.get("/admin/cases?service=benefits-application")).text()
    assert case["case_id"] in listing and "Nobody called me back" in listing
    path = f"/admin/cases/{case['case_id']}/claim"
    assert (await browser.post(path, {})).status == 403  # no CSRF token
    assert (await browser.post(path, {"csrf": "forged"})).status == 403
    token = await browser.csrf()
    assert (
        await browser.post(path, {"csrf": token}, headers={"Origin": "https://evil.example"})
    ).status == 403
    done = await browser.post(path, {"csrf": token})
    assert done.status == 303 and done.headers["Location"] == "/admin/cases"
    [claimed] = await console.rt.state.open_cases()
    assert claimed["status"] == "claimed" and claimed["claimed_by"] == "admin (token)"
    again = await browser.post(path, {"csrf": token})
    assert again.status == 409  # already claimed: said, not repeated
    resolved = await browser.post(f"/admin/cases/{case['case_id']}/resolve", {"csrf": token})
    assert resolved.status == 303 and await console.rt.state.open_cases() == []
    # the outcome went to the store (as a Slack click's does): listed as recently closed
    listing = await (await browser.get("/admin/cases?status=resolved")).text()
    assert "1 recently closed case," in listing and "resolved by admin (token)" in listing
    assert "No open cases match" in listing
    entries = await console.rt.store.audit_entries()  # type: ignore[union-attr]
    assert [e["action"] for e in entries[:2]] == ["case.resolve", "case.claim"]
    assert entries[0]["actor"] == "admin (token)" and entries[0]["target"] == case["case_id"]
    gone = await browser.post(f"/admin/cases/{case['case_id']}/claim", {"csrf": token})
    assert gone.status == 404


async def test_a_viewer_reads_but_changes_nothing(console: Bot) -> None:
    case = await open_case(console)
    browser = Browser(console)
    await browser.sign_in("viewer-token")
    assert (await browser.get("/admin")).status == 200
    listing = await (await browser.get("/admin/cases")).text()
    assert case["case_id"][:8] in listing and "Claim" not in listing
    # no action is offered, and the routes refuse a viewer even with a valid CSRF token
    csrf = await browser.csrf()  # the sign-out form's
    assert csrf
    for path, data in ((f"/admin/cases/{case['case_id']}/claim", {}),
                       ("/admin/delivery/replay", {"queue": "outbox"})):  # fmt: skip
        refused = await browser.post(path, {**data, "csrf": csrf})
        assert refused.status == 403 and "Only an admin" in await refused.text()
    [still] = await console.rt.state.open_cases()
    assert still["status"] == "received"


async def test_service_page_reports_and_downloads(console: Bot) -> None:
    await survey(console, "+12025550140", "r1", ["yes", "1 3", "Great, thanks"])
    await survey(console, "+12025550141", "r2", ["no", "2", "Too slow"])
    await forward(console)
    admin, viewer = Browser(console), Browser(console)
    await admin.sign_in("admin-token")
    await viewer.sign_in("viewer-token")
    page = await (await admin.get("/admin/services/benefits-application")).text()
    assert "From transaction to response" in page and "Participation by group" in page
    assert "suppressed (fewer than 10 respondents)" in page
    assert "Too slow" in page  # an admin sees the redacted comments
    hidden = await (await viewer.get("/admin/services/benefits-application")).text()
    assert "Too slow" not in hidden and "shown to admins only" in hidden
    assert (await admin.get("/admin/services/nowhere")).status == 404
    csv = await admin.get("/admin/reports/a11.csv?fiscal_year=2027&quarter=1")
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert (await csv.text()).startswith("external_id,question_1,")
    collection = await admin.get("/admin/reports/collection.csv?fiscal_year=2027&quarter=1")
    assert "fiscal_year,quarter,service_provider_name" in await collection.text()
    public = await admin.get("/admin/reports/public?fiscal_year=2027&quarter=1")
    assert "Customer experience results" in await public.text()
    assert "· Published " in await public.text()  # the preview is dated as it would publish
    assert "Too slow" not in await public.text()
    entries = await console.rt.store.audit_entries()  # type: ignore[union-attr]
    assert any(e["action"] == "report" and e["actor"] == "admin (token)" for e in entries)


async def test_one_rule_keeps_comments_from_viewers_on_every_page_and_download(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Any
) -> None:
    """With ``comments_for_viewers`` off for a service, a viewer reads none of its comments
    anywhere in the console — every GET route the app has, every download — while an admin
    reads them all, and a service that sets it shows its comments to viewers too."""
    catalog = (Path("flows/services.yaml").read_text()
               .replace("  - id: permit-renewal\n",
                        "  - id: permit-renewal\n    comments_for_viewers: true\n"))  # fmt: skip
    (tmp_path / "services.yaml").write_text(catalog)
    settings = make_settings(fake_twilio, tmp_path, viewer_token=Secret("viewer-token"),
                             services_file=tmp_path / "services.yaml")  # fmt: skip
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as bot:
        hidden = ("Nobody answered the phone", "Clerk was rude")
        await survey(bot, "+12025550150", "h1", ["no", "2", hidden[0]])
        await survey(bot, "+12025550151", "h2", ["no", "4", hidden[1]])
        await survey(bot, "+12025550152", "s1", ["5", "1", "Permit came fast"],
                     service="permit-renewal")  # fmt: skip
        await forward(bot)
        case = await open_case(bot)  # benefits-application's, with its excerpt
        hidden += (case["excerpt"],)
        admin, viewer = Browser(bot), Browser(bot)
        await admin.sign_in("admin-token")
        await viewer.sign_in("viewer-token")
        flow = bot.rt.flows["a11-v2-thumbs"]
        values = {"service": ["benefits-application", "permit-renewal"], "name": ["a11",
                  "collection", "console.css"], "flow_id": [flow.id], "version": [flow.version],
                  "case_id": [case["case_id"]], "verb": ["pause", "resume"]}  # fmt: skip
        paths = []
        for route in bot.client.app.router.routes():
            pattern = route.resource.canonical if route.resource else ""
            if route.method != "GET" or not pattern.startswith("/admin"):
                continue
            names = re.findall(r"{(\w+)}", pattern)
            assert all(n in values for n in names), f"a new console route: {pattern}"
            for combo in itertools.product(*(values[n] for n in names)):
                paths.append(pattern.format(**dict(zip(names, combo, strict=True))))
        assert len(paths) > 15
        seen = ""
        for path in paths:
            response = await viewer.get(path)
            assert response.status in (200, 303, 403, 404), (path, response.status)
            body = await response.text()
            for words in hidden:
                assert words not in body, (path, words)
            seen += body
        assert "Permit came fast" in seen  # the service that shares its comments does
        # the OMB CSV keeps its shape for the viewer: every row and column, the comment blank
        rows = {}
        for who in (admin, viewer):
            got = await who.get("/admin/reports/a11.csv")
            rows[who] = list(csv.DictReader(io.StringIO(await got.text())))
        assert len(rows[admin]) == len(rows[viewer]) == 3
        assert [list(r) for r in rows[admin]] == [list(r) for r in rows[viewer]]
        assert sorted(r["question_4"] for r in rows[admin]) == sorted(
            [*hidden[:2], "Permit came fast"]
        )
        assert sorted(r["question_4"] for r in rows[viewer]) == ["", "", "Permit came fast"]
        for r_admin, r_viewer in zip(rows[admin], rows[viewer], strict=True):
            assert {k: v for k, v in r_admin.items() if k != "question_4"} == {
                k: v for k, v in r_viewer.items() if k != "question_4"
            }
        # the admin reads them where they are shown
        page = await (await admin.get("/admin/services/benefits-application")).text()
        assert hidden[0] in page
        assert case["excerpt"] in await (await admin.get("/admin/cases")).text()


async def test_characters_no_store_keeps_are_the_consoles_own_400_on_postgresql(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Any
) -> None:
    """A NUL (or another control character, or half a surrogate pair) in a console path,
    parameter or form is refused before any handler reads it: 400 as the console's page.
    PostgreSQL refuses such text, and the store's error used to come back as a JSON 503."""
    from .test_store import PG_URL, fresh_store

    await (await fresh_store("postgresql", tmp_path)).close()  # empty and migrated
    settings = make_settings(fake_twilio, tmp_path, database_url=PG_URL)
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as bot:
        admin = Browser(bot)
        await admin.sign_in("admin-token")
        csrf = await admin.csrf()
        for path in ("/admin/cases?service=%00", "/admin/flows/%00", "/admin/cases?status=a%01b",
                     "/admin/flows/a11-v1/versions/%00", "/admin/flows/%00/diff?from=a&to=b",
                     "/admin/services/%00/settings", "/admin/flows/a11-v1?from=%00",
                     "/admin/sign-in?next=%00", "/admin/%00", "/admin/cases?%00=1",
                     "/admin/reports/a11.csv?quarter=%00", "/admin/flows/%ED%A0%80",
                     "/admin/cases?service=%ED%A0%80"):  # fmt: skip
            response = await admin.get(path)
            text = await response.text()
            # (bytes that are not UTF-8 reach no handler as text: no such page, or ignored)
            wanted = (400,) if "%ED" not in path else (200, 404)
            assert response.status in wanted, (path, response.status, text[:200])
            assert response.headers["Content-Type"].startswith("text/html"), path
            assert "· CX console</title>" in text, path
        for path, form in (
            ("/admin/flows", {"flow_id": "a\x00b", "text": "id: x"}),
            ("/admin/flows/a11-v1/activate", {"version": "\x00"}),
            ("/admin/services/benefits-application/restore", {"change": "1\x00"}),
            ("/admin/services/benefits-application/settings", {"flow": "a11-v1\x00"}),
            ("/admin/services/benefits-application/settings",
             {"reporting_dimensions": "region\x00"}),
        ):  # fmt: skip
            response = await admin.post(path, {**form, "csrf": csrf})
            assert response.status == 400, (path, response.status)
            assert "<title>Not done · CX console</title>" in await response.text(), path
        # an unknown console page is the console's page too
        missing = await admin.get("/admin/nowhere")
        assert missing.status == 404 and "There is no such page" in await missing.text()
        assert (await admin.get("/admin/cases")).status == 200  # the session is unharmed


async def test_dead_letters_are_shown_without_payload_and_replayed_by_an_admin(
    console: Bot,
) -> None:
    rt = console.rt
    await rt.work.ensure_group()
    await rt.work.enqueue("no.such.job", {"secret": "+12025550199"})
    while await rt.work.step():
        pass
    assert (await rt.work.status())["dead"] == 1
    admin = Browser(console)
    await admin.sign_in("admin-token")
    page = await (await admin.get("/admin/delivery")).text()
    assert "Dead letters (1 shown)" in page and "+12025550199" not in page
    replayed = await admin.post("/admin/delivery/replay",
                                {"queue": "work", "csrf": await admin.csrf()})  # fmt: skip
    assert replayed.status == 303 and (await rt.work.status())["dead"] == 0


# OpenID Connect ---------------------------------------------------------------------------


async def through_provider(browser: Browser) -> aiohttp.ClientResponse:
    """Start at the console, go to the provider over real HTTP, come back with the code."""
    start = await browser.get("/admin/oidc/start")
    assert start.status == 303
    async with (
        aiohttp.ClientSession() as http,
        http.get(start.headers["Location"], allow_redirects=False) as at_provider,
    ):
        assert at_provider.status == 302, await at_provider.text()
        back = at_provider.headers["Location"]
    assert back.startswith(PUBLIC + "/admin/oidc/callback?")
    return await browser.get(back.removeprefix(PUBLIC))


async def test_sign_in_through_the_agency_provider(oidc_console: Bot, provider: FakeOidc) -> None:
    browser = Browser(oidc_console)
    page = await (await browser.get("/admin/sign-in")).text()
    assert "Sign in with your agency account" in page
    done = await through_provider(browser)
    assert done.status == 303 and done.headers["Location"] == "/admin", await done.text()
    overview = await (await browser.get("/admin")).text()
    assert "Ada Admin (admin)" in overview
    assert provider.tokens_issued == 1
    entries = await oidc_console.rt.store.audit_entries()  # type: ignore[union-attr]
    assert entries[0]["actor"] == "Ada Admin"


async def test_the_provider_decides_the_role(oidc_console: Bot, provider: FakeOidc) -> None:
    provider.person = {"sub": "u-2", "email": "val@example.gov", "roles": "viewer"}
    browser = Browser(oidc_console)
    await through_provider(browser)
    assert "val@example.gov (viewer)" in await (await browser.get("/admin")).text()
    provider.person = {"sub": "u-3", "name": "No Role", "roles": ["staff"]}
    stranger = Browser(oidc_console)
    refused = await through_provider(stranger)
    assert refused.status == 403 and "no console role" in await refused.text()
    assert "fb_console" not in stranger.cookies


async def test_a_callback_that_did_not_start_here_is_refused(
    oidc_console: Bot, provider: FakeOidc
) -> None:
    browser = Browser(oidc_console)
    forged = await browser.get("/admin/oidc/callback?code=abc&state=xyz")
    assert forged.status == 400
    start = await browser.get("/admin/oidc/start")
    assert start.status == 303
    wrong_state = await browser.get("/admin/oidc/callback?code=abc&state=not-the-one")
    assert wrong_state.status == 400
    # an ID token signed with a key the provider does not publish is refused
    provider.signing_key = type(provider.key).generate_key(2048, parameters={"kid": "k1"},
                                                            private=True)  # fmt: skip
    other = Browser(oidc_console)
    signed_elsewhere = await through_provider(other)
    assert signed_elsewhere.status == 403
    assert "ID token was refused" in await signed_elsewhere.text()
    assert "fb_console" not in other.cookies


# The overview's sums against the report's records ---------------------------------------

SHOWN = ("transactions", "delivered", "respondents", "percent_positive", "trust_positive_ci",
         "response_rate", "sentiment", "goals", "trend")  # fmt: skip
EFFORT = ("first_reply_minutes_p50", "first_reply_minutes_p90", "completion_minutes_p50",
          "completion_minutes_p90", "reprompts_per_completed", "started", "completed")  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_overview_from_the_stores_sums_equals_the_report_from_records(
    kind: str, tmp_path: Any
) -> None:
    """The console's overview reads the store's sums (fast at any volume); the report reads
    the records. Over varied records — three services and flows, two quarters and a quarter
    boundary, languages, reprompts, expiries, undeliverable — they give the same figures."""
    from datetime import UTC, datetime, timedelta

    from bot.core.catalog import load_catalog
    from bot.core.goals import Goal
    from bot.registry import kinds
    from bot.web.console.views import summaries
    from flows import FLOWS_DIR

    from . import reference
    from .records import T0
    from .test_store import fresh_store

    services = load_catalog(FLOWS_DIR / "services.yaml", FLOWS, kinds())
    services["permit-renewal"] = replace(services["permit-renewal"], goals=(
        Goal("trust_positive", 0.5), Goal("completion_minutes_p90", 20),
        Goal("reprompts_per_completed", 0.2),
    ))  # fmt: skip
    scripts = [["yes", "1 3", "Quick and easy"], ["no", "2", "Too slow, nobody helped"],
               ["maybe", "yes", "1", "skip"], ["no"], [], ["sí", "1", "Muy amables"]]  # fmt: skip
    plans = [("benefits-application", "a11-v2-thumbs"), ("permit-renewal", "a11-v2-scale"),
             ("helpdesk-call", "a11-v1")]  # fmt: skip
    records = []
    for n in range(150):
        service, flow = plans[n % 3]
        replies = scripts[n % len(scripts)]
        if flow == "a11-v2-scale":
            replies = [{"yes": "5", "no": "2", "sí": "4"}.get(r, r) for r in replies]
        if flow == "a11-v1":
            replies = ["5", "4", "4", "3", "5", "agree", "Great help"] if n % 2 else ["2"]
        records.append(response_record(
            n, replies, service=service, flow_id=flow,
            language="es" if scripts[n % len(scripts)][:1] == ["sí"] else "en",
            completed_at=(T0 - timedelta(days=45 * (n // 3 % 3)) if n < 140
                          else datetime(2026, 10, 1, 3, 55, tzinfo=UTC)),  # 23:55 on Sept 30 ET
            first_reply_after=timedelta(minutes=1 + n % 7),
            ended_after=timedelta(minutes=3 + n % 11), expire=n % 5 == 4,
        ))  # fmt: skip
    store = await fresh_store(kind, tmp_path)
    try:
        await store.write_many(records[:100])
        for record in records[100:]:  # both ways of writing keep the sums
            await store.write(record)
        fast = {r["service_id"]: r for r in await summaries(store, services, FLOWS, (2027, 1), 5)}
    finally:
        await store.close()
    report = reference.quarterly_report(records, services, FLOWS, 2027, 1, min_cell=5, trend=True)
    slow = {r["service_id"]: r for r in report["scores"]}
    assert set(fast) == set(slow) == {"benefits-application", "permit-renewal", "helpdesk-call"}
    for service_id, row in slow.items():
        for key in SHOWN:
            assert fast[service_id][key] == row[key], (service_id, key)
        timed = service_id != "helpdesk-call"  # the overview reads times for goals only
        for key in EFFORT:
            want = row["effort"][key] if timed or "minutes" not in key else None
            assert fast[service_id]["effort"][key] == want, (service_id, key)
    assert slow["permit-renewal"]["goals"][0]["status"] in ("met", "not met")
    assert any(t["trust_positive"] is not None for r in slow.values() for t in r["trend"])
