"""The client's address, past the proxies the deployment trusts (``TRUSTED_PROXIES``): one
function (``bot.web.headers.client_address``) read by every limit keyed on a client, asked
here over real connections (the peer is always 127.0.0.1), then where it is used."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import PRIVATE, ConfigError, Settings
from bot.web.headers import client_address

HERE = (ipaddress.ip_network("127.0.0.1/32"),)
LB = (*HERE, ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))

CASES: list[tuple[str, tuple[Any, ...], str, list[str], str]] = [
    # (what, trusted, header, its values, the client)
    ("no proxy trusted: the peer, whatever it forwards", (), "X-Forwarded-For",
     ["203.0.113.5"], "127.0.0.1"),
    ("a trusted peer without the header is the client", HERE, "X-Forwarded-For", [],
     "127.0.0.1"),
    ("the hop the trusted router appended", HERE, "X-Forwarded-For", ["203.0.113.5"],
     "203.0.113.5"),
    ("hops a client wrote before the router's are not believed", HERE, "X-Forwarded-For",
     ["6.6.6.6, 203.0.113.5"], "203.0.113.5"),
    ("past every trusted hop, from the right", LB, "X-Forwarded-For",
     ["6.6.6.6, 198.51.100.4, 10.1.2.3, 10.0.0.9"], "198.51.100.4"),
    ("a trusted hop the client wrote is passed too, never what the router saw", LB,
     "X-Forwarded-For", ["10.9.9.9, 198.51.100.4"], "198.51.100.4"),
    ("every hop trusted: the furthest", LB, "X-Forwarded-For", ["10.1.1.1, 10.2.2.2"],
     "10.1.1.1"),
    ("several copies of the header are one chain, in order", LB, "X-Forwarded-For",
     ["6.6.6.6", "198.51.100.4, 10.0.0.9"], "198.51.100.4"),
    ("a port and brackets are not part of the address", LB, "X-Forwarded-For",
     ["[2001:db9::7]:4711, 10.0.0.9:80"], "2001:db9::7"),
    ("an IPv4 address mapped into IPv6 is the IPv4 address", LB, "X-Forwarded-For",
     ["::ffff:198.51.100.4"], "198.51.100.4"),
    ("a hop that is no address ends the walk at the last trusted one", LB,
     "X-Forwarded-For", ["198.51.100.4, unknown, 10.0.0.9"], "10.0.0.9"),
    ("an empty header: the peer", HERE, "X-Forwarded-For", [""], "127.0.0.1"),
    ("Forwarded, when that is the header the proxies write", LB, "Forwarded",
     ['for=6.6.6.6, for="[2001:db9::7]:4711";proto=https, for=10.0.0.9;by=10.0.0.1'],
     "2001:db9::7"),
    ("Forwarded's header names are in any case", LB, "Forwarded", ["For=198.51.100.4"],
     "198.51.100.4"),
    ("reading Forwarded, an X-Forwarded-For a client sent is ignored", LB, "Forwarded",
     ["for=198.51.100.4"], "198.51.100.4"),
    ("reading X-Forwarded-For, a Forwarded a client sent is ignored", LB, "X-Forwarded-For",
     [], "127.0.0.1"),
]  # fmt: skip


@pytest.fixture
async def echo() -> AsyncIterator[TestClient[Any, Any]]:
    """A real server that answers with the client's address as the function reads it."""

    async def handler(request: web.Request) -> web.Response:
        trusted = [ipaddress.ip_network(n) for n in request.query.getall("trusted", [])]
        header = request.query.get("header", "X-Forwarded-For")
        return web.Response(text=client_address(request, trusted, header))

    app = web.Application()
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@pytest.mark.parametrize(("what", "trusted", "header", "values", "client"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
async def test_the_client_address(
    echo: TestClient[Any, Any], what: str, trusted: tuple[Any, ...], header: str,
    values: list[str], client: str,
) -> None:  # fmt: skip
    other = "Forwarded" if header == "X-Forwarded-For" else "X-Forwarded-For"
    headers = [(header, v) for v in values] + [(other, "for=6.6.6.6" if other == "Forwarded"
                                                else "6.6.6.6")]  # fmt: skip
    query = [("trusted", str(n)) for n in trusted] + [("header", header)]
    response = await echo.get("/", params=query, headers=headers)
    assert await response.text() == client, what


def test_trusted_proxies_setting() -> None:
    assert Settings.from_env({}).trusted_proxies == PRIVATE  # a platform's private network
    assert Settings.from_env({"TRUSTED_PROXIES": "none"}).trusted_proxies == ()
    assert Settings.from_env({"TRUSTED_PROXIES": ""}).trusted_proxies == ()
    chosen = Settings.from_env({"TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::1,192.0.2.7"})
    assert [str(n) for n in chosen.trusted_proxies] == ["10.0.0.0/8", "2001:db8::1/128",
                                                       "192.0.2.7/32"]  # fmt: skip
    both = Settings.from_env({"TRUSTED_PROXIES": "private,35.191.0.0/16"}).trusted_proxies
    assert both[:-1] == PRIVATE and str(both[-1]) == "35.191.0.0/16"
    with pytest.raises(ConfigError, match=r"TRUSTED_PROXIES must list .*'heroku' is not one"):
        Settings.from_env({"TRUSTED_PROXIES": "10.0.0.0/8,heroku"})
    header = Settings.from_env({"FORWARDED_HEADER": "Forwarded"})
    assert header.forwarded_header == "Forwarded"
    with pytest.raises(ConfigError, match="FORWARDED_HEADER must be"):
        Settings.from_env({"FORWARDED_HEADER": "X-Real-IP", "API_TOKEN": "a",
                           "ADMIN_TOKEN": "a", "PSEUDONYM_KEY": "k"}).check({})  # fmt: skip
