"""Reading what a caller sent, whatever it is: credential headers as bytes, bodies bounded,
the client's address past the proxies the deployment trusts."""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from collections.abc import Mapping, Sequence

from aiohttp import web

from bot.settings import Network

log = logging.getLogger("bot.app")
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


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


def client_address(
    request: web.BaseRequest, trusted: Sequence[Network], header: str = "X-Forwarded-For"
) -> str:
    """The address of the client a request came from, as the proxies in front report it.

    The connection's peer is the client unless it is one of ``trusted`` (a platform's router,
    a load balancer); then the forwarded chain (``header``: ``X-Forwarded-For``, or RFC 7239
    ``Forwarded``'s ``for=``) is read from the right, each proxy having appended the address
    it saw: the first hop that is not trusted is the client. Hops to its left were written
    by the client and are never believed. Only the header the proxies write is read: a
    client could send the other one through them unchanged."""
    peer = _address(request.remote or "")
    if peer is None:
        return request.remote or "unknown"
    nearest = peer
    if not _trusted(peer, trusted):
        if header in request.headers:
            _untrusted_forwarding(header)
    else:
        for hop in reversed(_hops(request.headers.getall(header, []), header)):
            address = _address(hop)
            if address is None:  # not an address (``unknown``, a garbled hop): stop here
                break
            nearest = address
            if not _trusted(address, trusted):
                break
    return str(nearest)


@functools.cache
def _untrusted_forwarding(header: str) -> None:
    """Say once per process that forwarded addresses arrive from a peer not trusted: behind
    a proxy that TRUSTED_PROXIES does not name, every client would look like the proxy."""
    log.warning(
        "a request carried %s from a peer TRUSTED_PROXIES does not name: its client is taken "
        "to be the peer (behind a proxy or load balancer, name its addresses there)",
        header,
    )


def _hops(values: Sequence[str], header: str) -> list[str]:
    """The forwarded chain, left to right, from every copy of the header in order."""
    joined = ",".join(values)
    if header.lower() == "forwarded":
        hops = []
        for element in joined.split(","):
            match = _FOR.search(element)
            hops.append(match.group(1).strip('"') if match else "")
        return hops
    return [hop.strip() for hop in joined.split(",")]


def _address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as a hop may write it (``[2001:db8::1]:4711``, ``192.0.2.1:8080``), an
    IPv4 address mapped into IPv6 as itself; None for anything else."""
    text = raw.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # an IPv4 address with a port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]
) -> bool:
    return any(address in network for network in trusted)
