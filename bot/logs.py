"""Logging, configured in one place: the format (text, or one JSON object per line for log
shippers), and the libraries that would log personal data kept quiet."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Loggers of libraries that log what must not reach a log: the twilio client logs every
# request, phone numbers and bodies included, at INFO; aiosqlite logs each statement with its
# parameters (free text) at DEBUG; slack_sdk logs request bodies (user ids, texts) at DEBUG and
# Bolt logs payloads of unhandled requests (the adapter hands both these loggers).
QUIET = {
    "alembic": logging.WARNING,  # not personal: a dozen lines of set-up at every start
    "twilio": logging.WARNING,
    "aiosqlite": logging.INFO,
    "bot.slack.sdk": logging.WARNING,
    "bot.slack.bolt": logging.WARNING,
}


def quiet_libraries() -> None:
    """Hold the loggers in ``QUIET`` at their level, whatever the root's."""
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception's type and
    text). A dozen lines of the standard library rather than another dependency."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Set up the process's logging: ``LOG_LEVEL`` and ``LOG_FORMAT`` (``text`` or ``json``)."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_libraries()
