"""``GET /assets/{name}``: what every page the bot serves shares (``uswds.css``: the USWDS
tokens and base elements of the web chat survey and the admin console)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

HERE = Path(__file__).parent / "static"
ASSETS = {"uswds.css"}


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    response = web.FileResponse(HERE / name)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


ROUTES = [web.get("/assets/{name}", asset)]
