"""What every console page shares: a handler's shape, reading a posted form, and the redirect
after a change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.core.text import is_clean
from bot.service.runtime import Runtime
from bot.web.console.auth import Staff

Handler = Callable[[web.Request, Runtime, Staff], Awaitable[web.StreamResponse]]
Wrap = Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]


async def form_of(request: web.Request) -> dict[str, str]:
    """A posted form's text fields; 400 for a body that is not a form (bad bytes, a file)
    or that holds characters no store can keep (NUL and the like)."""
    try:
        form = await request.post()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest() from None
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not all(is_clean(k) and is_clean(v) for k, v in fields.items()):
        raise web.HTTPBadRequest()
    return fields


def see_other(location: str) -> web.Response:
    """303 to ``location`` (a response, so cookies can ride on it)."""
    return web.Response(status=303, headers={"Location": location})
