"""The OpenAPI document describes exactly the app's routes, and is a valid OpenAPI 3.1."""

from __future__ import annotations

from pathlib import Path

from openapi_spec_validator import validate

from adapters.slack.channel import SlackChannel
from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from adapters.voice.channel import VoiceChannel
from adapters.webchat.channel import WebChatChannel
from bot.core.secret import Secret
from bot.web.app import create_app
from bot.web.openapi import openapi_document

from .conftest import Bot, make_settings


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)  # type: ignore[arg-type]


def test_every_route_is_documented_and_every_documented_route_exists(
    tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    channels = ("sms", "whatsapp", "slack", "webchat", "voice")
    settings = make_settings(fake_twilio, tmp_path, channels=channels,
                             slack_bot_token=Secret("xoxb-1"), slack_signing_secret=Secret("s"),
                             slack_alert_channel="C0ALERTS")  # fmt: skip
    adapters = [TwilioChannel(settings), SlackChannel(settings), WebChatChannel(settings),
                VoiceChannel(settings)]  # fmt: skip
    app = create_app(settings, channels=adapters)
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {
        (method, path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
        if method != "parameters"  # shared by a path's operations, not one of them
    }
    assert routes - documented == set(), "routes missing from bot/web/openapi.yaml"
    assert documented - routes == set(), "documented operations the app does not have"


def test_every_console_operation_documents_the_refusal_its_middleware_gives() -> None:
    """The console answers 400 to a NUL or other control character anywhere in the path or
    query, before any handler: every operation under /admin can give it, so each says so."""
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in openapi_document()["paths"].items()
        if path.startswith("/admin")
        for method, operation in operations.items()
        if method != "parameters" and "400" not in operation["responses"]
    ]
    assert undocumented == []


async def test_the_document_is_served(bot: Bot) -> None:
    response = await bot.client.get("/v1/openapi.json")
    assert response.status == 200
    assert (await response.json())["paths"]["/v1/transactions"]["post"]["security"]
