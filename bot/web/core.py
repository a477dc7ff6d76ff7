"""The core's side of the channel adapters' routes (``bot.core.channels.Core``), bound to the
app's runtime once it has started."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.core import cases
from bot.core.channels import ChatView, DeliveryStatus, Inbound, Live, Reply
from bot.core.records import is_ref
from bot.service import conversation, cx, delivery, live, webchat
from bot.service.alerts import CaseAction
from bot.service.runtime import Runtime
from bot.web.context import RUNTIME

log = logging.getLogger("bot.app")


class AppCore:
    """What an adapter's routes call: each method turns one converted request into the
    service layer's action. The runtime is looked up per call: routes are mounted before the
    app starts, the runtime exists only once it has."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    @property
    def _rt(self) -> Runtime:
        return self._app[RUNTIME]

    async def message(self, msg: Inbound) -> Reply:
        return await conversation.handle(self._rt, msg)

    async def status(self, report: DeliveryStatus) -> None:
        await delivery.on_status(self._rt, report)

    async def chat(self, msg: Inbound) -> str | None:
        return await conversation.answer_later(self._rt, msg)

    async def case_action(
        self, ref: str, action: str, user: str, action_id: str, where: str
    ) -> None:
        if not is_ref(ref) or action not in cases.ACTIONS:
            log.warning("case action with a malformed reference ignored")
            return
        payload: CaseAction = {"ref": ref, "action": action, "user": user,
                               "action_id": action_id, "where": where}  # fmt: skip
        rt = self._rt
        await rt.work.enqueue("case.act", payload, rt.state.shard_of_ref(ref))

    async def command(self, user: str, text: str, response_url: str) -> str:
        return await cx.command(self._rt, user, text, response_url)

    async def enqueue(self, kind: str, payload: Mapping[str, Any]) -> None:
        await self._rt.work.enqueue(kind, payload)

    async def first_time(self, kind: str, key: str, ttl: int) -> bool:
        return await self._rt.state.first_time(kind, key, ttl)

    async def forget(self, kind: str, key: str) -> None:
        await self._rt.state.forget(kind, key)

    async def allow(self, kind: str, key: str, limit: int, window: int) -> bool:
        rt = self._rt
        return await rt.state.count(kind, rt.person(key), window) <= limit

    async def view(self, token: str) -> ChatView | None:
        return await webchat.view(self._rt, token)

    async def answer(
        self, token: str, text: str, question: str | None, message_id: str
    ) -> ChatView | None:
        return await webchat.answer(self._rt, token, text, question, message_id)

    async def take(
        self, holder: str, token: str | None = None, ref: str | None = None
    ) -> Live | None:
        if ref is not None and not is_ref(ref):
            return None
        return await live.take(self._rt, holder, token, ref)

    async def say(self, holder: str, text: str, message_id: str) -> Live | None:
        return await live.say(self._rt, holder, text, message_id)

    async def later(self, holder: str) -> Live | None:
        return await live.later(self._rt, holder)

    async def late(self, holder: str, text: str, message_id: str) -> None:
        await live.late(self._rt, holder, text, message_id)

    async def leave(
        self, holder: str, ref: str | None, reason: str, disposition: str | None = None
    ) -> None:
        if ref is not None and not is_ref(ref):
            ref = None
        await live.leave(self._rt, holder, ref, reason, disposition)
