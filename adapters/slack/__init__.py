"""Slack: surveys as direct messages, and the staff notifier (cases, ``/cx``). The kind here
is light; the adapter, with Bolt and the SDK, is ``adapters.slack.channel``."""

from __future__ import annotations

import re
from typing import Any

from bot.core.channels import ChannelKind

_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def _problems(settings: Any) -> list[str]:
    problems = []
    if not settings.slack_bot_token:
        problems.append("SLACK_BOT_TOKEN is not set (the slack channel needs it)")
    if not settings.slack_signing_secret:
        problems.append("SLACK_SIGNING_SECRET is not set (Slack requests are verified)")
    return problems


SLACK = ChannelKind(
    name="slack", reported="chatbot", texting=False,
    address=lambda raw: raw if _USER.match(raw) else None,
    address_hint="not a Slack user id (e.g. U012AB3CD)",
    adapter="adapters.slack.channel:SlackChannel", interface="buttons", problems=_problems,
)  # fmt: skip
