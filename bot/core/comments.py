"""Comments that can be found: a response's redacted free text with what it is found by (its
service, language, channel, sentiment and themes, the drivers chosen, the quarter it is
reported in)
and which of them a request asks for (``CommentFilter``), newest first.

A filter is one field here, one check in ``comment_filter`` and one condition in the store
(``adapters/sql/comments.py``): a new one (as a comment's theme was) is added in those
three places and the API and console pick it up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.core.catalog import Service
from bot.core.reports import quarter_bounds, quarter_windows
from bot.core.response import reported_at
from bot.core.sinks import Comment, CommentFilter, Drivers, ResponseRecord, Window

__all__ = ["Comment", "CommentFilter", "Drivers", "comment_filter", "comment_of", "words_of"]

SENTIMENTS = ("positive", "neutral", "negative", "unscored")
MAX_WORDS = 8
MAX_QUERY = 200
_WORD = re.compile(r"\w+")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_CHANNEL = re.compile(r"[a-z][a-z0-9_-]{1,31}")
THEME = re.compile(r"[a-z][a-z0-9_]{1,39}")  # a theme id, as the catalog's schema has it


def comment_of(record: ResponseRecord) -> Comment | None:
    """The comment a record holds, with what it is found by; None without free text."""
    text = record["free_text"]
    if not text or not text.strip():
        return None
    branch = next((str(a["polarity"]) for a in record["answers"].values() if a.get("polarity")),
                  None)  # fmt: skip
    prefix = f"{branch}_"
    chosen = [key[len(prefix) :] for key, value in record["a11"].items()
              if branch and key.startswith(prefix) and value == 1]  # fmt: skip
    return {
        "response_id": record["response_id"],
        "date": datetime.fromisoformat(reported_at(record)).astimezone(UTC).isoformat(),
        "service": record["service_id"],
        "language": record["language"],
        "channel": record["channel"],
        "sentiment": (record["sentiment"] or {}).get("label"),
        "drivers": {"branch": branch, "chosen": chosen},
        "themes": sorted({str(t) for t in record.get("themes") or []}),
        "text": text,
    }


def words_of(query: str) -> tuple[str, ...]:
    """The words of a search: letters and digits (accents kept), lower case; ValueError for
    more than ``MAX_WORDS`` or a query over ``MAX_QUERY`` characters."""
    if len(query) > MAX_QUERY:
        raise ValueError(f"q: at most {MAX_QUERY} characters")
    found = tuple(dict.fromkeys(w.lower() for w in _WORD.findall(query) if len(w) <= 64))
    if len(found) > MAX_WORDS:
        raise ValueError(f"q: at most {MAX_WORDS} words")
    return found


def comment_filter(
    params: Mapping[str, str],
    services: Mapping[str, Service],
    allowed: frozenset[str] | None = None,
) -> CommentFilter:
    """A filter from a request's parameters (``service``, ``fiscal_year`` and ``quarter``,
    ``q``, ``sentiment``, ``language``, ``channel``, ``theme``), ``allowed`` the services whose
    comments the asker may read (None: all). ValueError saying which parameter is wrong;
    PermissionError for a service the asker may not read."""
    service = params.get("service") or None
    if service is not None and service not in services:
        raise ValueError("service: no such service")
    if service is not None and allowed is not None and service not in allowed:
        raise PermissionError(service)
    chosen = (service,) if service else (tuple(sorted(allowed)) if allowed is not None else None)
    windows: tuple[Window, ...] = ()
    year, quarter = params.get("fiscal_year") or None, params.get("quarter") or None
    if (year is None) != (quarter is None):
        raise ValueError("fiscal_year and quarter go together")
    if year is not None and quarter is not None:
        try:
            fiscal = (int(year), int(quarter))
            quarter_bounds(*fiscal, "UTC")
        except ValueError:
            raise ValueError("fiscal_year (2000-2200) and quarter (1-4)") from None
        windows = tuple(quarter_windows(services, *fiscal))
    sentiment = params.get("sentiment") or None
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise ValueError(f"sentiment: one of {', '.join(SENTIMENTS)}")
    language = params.get("language") or None
    if language is not None and not _LANGUAGE.fullmatch(language):
        raise ValueError("language: a language code such as en or es")
    channel = params.get("channel") or None
    if channel is not None and not _CHANNEL.fullmatch(channel):
        raise ValueError("channel: a channel name such as sms")
    theme = params.get("theme") or None
    if theme is not None and not THEME.fullmatch(theme):
        raise ValueError("theme: a theme id such as wait_time")
    return CommentFilter(windows, chosen, words_of(params.get("q", "")), sentiment, language,
                         channel, theme)  # fmt: skip
