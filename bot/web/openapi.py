"""The HTTP API's OpenAPI 3.1 document (``bot/web/openapi.yaml``), served as JSON; its list of
channels comes from the channel registry."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from bot import registry

OPENAPI_PATH = Path(__file__).parent / "openapi.yaml"


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document, with the channels every installed adapter registers."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    transaction = document["components"]["schemas"]["Transaction"]["properties"]
    transaction["channel"]["enum"] = sorted(registry.kinds())
    return document


async def get_openapi(request: web.Request) -> web.Response:
    """``GET /v1/openapi.json``."""
    return web.json_response(openapi_document())


ROUTES = [web.get("/v1/openapi.json", get_openapi)]
