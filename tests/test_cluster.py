"""The bot's Redis paths on a three-node Redis Cluster started here from redis-server."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio.cluster import RedisCluster

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.service import delivery
from bot.web.app import create_app

from .conftest import Bot, Clock, make_settings


def free_port() -> int:
    """A free port whose cluster-bus port (port + 10000) is free and valid too."""
    for port in random.sample(range(20000, 40000), 200):
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise AssertionError("no free port pair")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    assert server and cli, "redis-server and redis-cli are needed for the cluster test"
    base = tmp_path_factory.mktemp("cluster")
    ports: list[int] = []
    while len(ports) < 3:
        port = free_port()
        if all(abs(port - p) not in (0, 10000) for p in ports):
            ports.append(port)
    processes = []
    for port in ports:
        workdir = base / str(port)
        workdir.mkdir()
        processes.append(
            subprocess.Popen(
                [server, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--dir", str(workdir), "--save", "",
                 "--appendonly", "no", "--daemonize", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
    try:
        for port in ports:
            wait_ready(cli, port, ["ping"], "PONG")
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        for port in ports:
            wait_ready(cli, port, ["cluster", "info"], "cluster_state:ok")
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


def wait_ready(cli: str, port: int, command: list[str], expect: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result = subprocess.run([cli, "-p", str(port), *command], capture_output=True, text=True,
                                check=False)  # fmt: skip
        if expect in result.stdout:
            return
        time.sleep(0.1)
    raise AssertionError(f"redis on {port} never answered {expect}")


@pytest.fixture
async def cluster_bot(cluster: str, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    client_redis = RedisCluster.from_url(cluster, decode_responses=True)
    await client_redis.flushall()
    settings = make_settings(fake_twilio, tmp_path, redis_url=cluster, redis_cluster=True)
    clock = Clock()
    app = create_app(settings, channels=[TwilioChannel(settings)], clock=clock)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    yield Bot(client, fake_twilio, clock, settings)
    await client.close()
    await client_redis.aclose()


async def test_keys_of_one_person_share_a_slot_with_their_shard(cluster_bot: Bot) -> None:
    from redis.crc import key_slot

    state = cluster_bot.rt.state
    person = cluster_bot.rt.person("+12025550123")
    shard = state.shard_of(person)
    keys = [state.k_open(person), state.k_optouts(shard), state.k_survey(f"{person}/x"),
            state.k_txn(person, "t"), state.k_due(shard), state.k_ended(shard),
            state.k_send(shard), state.k_timers(shard), state.k_retries(shard),
            state.k_inbound(person), state.k_closed(person), state.k_person(person)]  # fmt: skip
    assert len({key_slot(k.encode()) for k in keys}) == 1


async def test_the_whole_sms_path_on_a_cluster(cluster_bot: Bot) -> None:
    bot = cluster_bot
    numbers = [f"+1202555{4000 + i:04d}" for i in range(12)]  # spread over shards and nodes
    batch = {"transactions": [
        {"transaction_id": f"c{i}", "service": "benefits-application", "channel": "sms", "to": n}
        for i, n in enumerate(numbers)
    ]}  # fmt: skip
    response = await bot.transactions(batch)
    assert response.status == 202
    repeat = await bot.transactions(batch)
    assert [r["survey_id"] for r in (await repeat.json())["results"]] == [
        r["survey_id"] for r in (await response.json())["results"]
    ]
    assert await delivery.deliver_due(bot.rt, limit=200) == len(numbers)
    assert {m.to for m in bot.fake.messages} == set(numbers)
    assert await bot.status(bot.fake.messages[0], "delivered") == 204
    # answers, a STOP, HELP, and people who never answer
    for number in numbers[:6]:
        assert "What went well?" in await bot.text(number, "yes")
        assert "Anything else" in await bot.text(number, "1 3")
        assert "Thank you!" in await bot.text(number, "Fast")
    assert "unsubscribed" in await bot.text(numbers[6], "STOP")
    assert "Questions?" in await bot.text(numbers[7], "HELP")
    bot.clock.advance(hours=25)
    await delivery.run_timers(bot.rt)
    assert len(bot.fake.messages) == len(numbers) + 5  # reminders for the five who never wrote
    bot.clock.advance(hours=48)
    await delivery.run_timers(bot.rt)
    assert await bot.rt.state.ended_count() == len(numbers)
    suppressed = await (await bot.transactions(
        {"transaction_id": "c-again", "service": "benefits-application", "channel": "sms",
         "to": numbers[6]})).json()  # fmt: skip
    assert suppressed["reason"] == "opted_out"
    # the outbox forwards every ended survey from every shard to the store
    outbox = bot.rt.outbox
    assert outbox is not None and bot.rt.store is not None
    await outbox.ensure_group()
    while await outbox.step():
        pass
    stored = await bot.rt.store.responses(limit=100)
    dispositions = sorted(r["disposition"] for r in stored)
    assert dispositions.count("completed") == 6 and dispositions.count("opted_out") == 1
    assert len(stored) == len(numbers) + 1  # and the suppressed transaction
    assert await outbox.status() == {"waiting": 0, "in_flight": 0, "retrying": 0, "dead": 0}
    assert await bot.rt.state.take_capacity("sender", 1, rate=5, burst=1) == 0.0
    assert (await bot.client.get("/readyz")).status == 200
