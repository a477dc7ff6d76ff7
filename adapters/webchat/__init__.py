"""Web chat: the survey on the agency's own page, or by link (``survey_url``). The kind here is
light; the adapter (its pages, the WebSocket, the embeddable widget) is
``adapters.webchat.channel``."""

from __future__ import annotations

import re
from typing import Any

from bot.core.channels import ChannelKind

_VISITOR = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def _problems(settings: Any) -> list[str]:
    problems = []
    if not settings.public_base_url:
        problems.append(
            "PUBLIC_BASE_URL is not set (the webchat channel's survey links are made from it)"
        )
    for origin in settings.webchat_allowed_origins:
        if not re.match(r"^https?://[A-Za-z0-9.-]+(:\d+)?$", origin):
            problems.append(
                f"WEBCHAT_ALLOWED_ORIGINS must be origins such as https://www.agency.gov "
                f"({origin!r} is not one)"
            )
    return problems


WEBCHAT = ChannelKind(
    name="webchat", reported="chatbot", texting=False,
    address=lambda raw: raw if _VISITOR.match(raw) else None,
    address_hint="not a visitor id (1-128 letters, digits and . _ : @ -)",
    adapter="adapters.webchat.channel:WebChatChannel", interface="web", by_link=True,
    problems=_problems,
)  # fmt: skip
