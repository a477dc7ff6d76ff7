"""Web chat: the survey on the agency's own page, or by link. (Its adapter comes with the web
chat channel; until then the kind is known and the channel cannot be enabled.)"""

from __future__ import annotations

import re

from bot.core.channels import ChannelKind

_CHAT_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")

WEBCHAT = ChannelKind(
    name="webchat", reported="chatbot", texting=False,
    address=lambda raw: raw if _CHAT_ID.match(raw) else None,
    address_hint="not a chat user id (1-128 letters, digits and . _ : @ -)",
    adapter="adapters.webchat:WebChatChannel", by_link=True,
    problems=lambda settings: ["the webchat channel has no adapter yet"],
)  # fmt: skip
