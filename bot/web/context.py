"""What every web module shares: the app's runtime key and the JSON error shape."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.service.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    """An error answer: ``{"error": why, ...}`` with its status."""
    return web.json_response({"error": message, **extra}, status=status)
