"""Reading what a caller sent, whatever it is: credential headers as bytes, bodies bounded."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web


def header_bytes(headers: Mapping[str, str], name: str) -> bytes:
    """A header's value as the bytes that arrived (b"" when absent).

    aiohttp keeps bytes that are not UTF-8 as surrogate escapes; credentials are compared as
    bytes, since ``hmac.compare_digest`` refuses text that is not ASCII.
    """
    try:
        return headers.get(name, "").encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # not from the wire: a surrogate no decoding produces
        return b"\xff"


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refused with 413 over ``limit`` bytes (before reading, when the
    Content-Length says so). ``read()`` gives only what has arrived so far: a body split over
    several packets needs more reads."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    body = b""
    while chunk := await request.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return body


def too_large(limit: int) -> web.HTTPRequestEntityTooLarge:
    """413, saying the limit."""
    return web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=limit + 1)
