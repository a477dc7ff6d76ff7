"""The measures store's tables, and how a response record becomes a row of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    or_,
)

from bot.core.comments import comment_of
from bot.core.measures import (
    DRIVER_FIELDS,
    V1_ITEMS,
    dimension_groups,
    figure_fields,
    tally_fields,
)
from bot.core.response import reported_at
from bot.core.sinks import ResponseRecord, Window

metadata = MetaData()
responses = Table(
    "responses",
    metadata,
    Column("response_id", String(64), primary_key=True),
    Column("survey_id", String(64), nullable=False),
    Column("transaction_id", String(128), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("flow_id", String(64), nullable=False),
    Column("flow_version", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("reported_channel", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("respondent", String(64), nullable=False),
    Column("disposition", String(32), nullable=False),
    Column("reason", String(64)),
    Column("transaction_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=False),
    Column("question_1", Integer),
    Column("sentiment_label", String(16)),
    Column("sentiment_polarity", Float),
    Column("free_text", Text),
    Column("record", JSON, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    # What summaries sum (bot.core.measures.tally_fields), so the console's overview needs no
    # record (migration 0005; rows stored before it were backfilled from their record).
    Column("reported_at", DateTime(timezone=True)),
    Column("offered", Boolean),
    Column("responded", Boolean),
    Column("trust_value", Integer),
    Column("started", Boolean),
    Column("completed", Boolean),
    Column("first_reply_minutes", Float),
    Column("completion_minutes", Float),
    Column("reprompts", Integer),
    # Whether the comments table has this row's comment (or it has none): migration 0008.
    Column("comment_kept", Boolean),
    # What the report's figures count beyond the tallies (bot.core.measures.figure_fields;
    # migration 0010): each driver cell, each A-11 v1 answer, how far the survey went; and
    # whether they and the row's ``response_dimensions`` are kept (rows stored before 0010
    # are given them from their record when the bot next starts).
    *(Column(name, Integer) for name in (*DRIVER_FIELDS, *V1_ITEMS)),
    Column("progress", Text),
    Column("figures_kept", Boolean),
)

# The group each response falls in on each attribute that could be a reporting dimension
# (bot.core.measures.dimension_groups: never ``not stated``, never an identifying name), with
# what participation counts, so a dimension is counted from its index alone (migration 0010).
response_dimensions = Table(
    "response_dimensions",
    metadata,
    Column("response_id", String(64), primary_key=True),
    Column("dimension", String(64), primary_key=True),
    Column("value", String(64), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("flow_id", String(64), nullable=False),
    Column("trust_value", Integer),
    Column("offered", Boolean, nullable=False),
    Column("responded", Boolean, nullable=False),
)

# Each response's comment and what it is found by (bot.core.comments.Comment; migration 0008):
# on PostgreSQL ``search`` is its words' tsvector (English and Spanish), on SQLite the FTS5
# table ``comments_fts`` follows it.
comments = Table(
    "comments",
    metadata,
    Column("response_id", String(64), primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("language", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("sentiment", String(16)),
    Column("branch", String(8)),
    Column("drivers", String(255), nullable=False),
    Column("text", Text, nullable=False),
)

# Each response's themes (sorted ids of its service's taxonomy as it was scored; migration
# 0012), with what theme counts are grouped and cut by: one row per response and theme.
comment_themes = Table(
    "comment_themes",
    metadata,
    Column("response_id", String(64), primary_key=True),
    Column("theme", String(64), primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("sentiment", String(16)),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("response_id", String(64)),
    Column("service_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("reasons", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(32)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("closed_by", String(32)),
    Column("closed_at", DateTime(timezone=True)),
    Column("escalated_at", DateTime(timezone=True)),
    Column("record", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255)),
    Column("details", JSON, nullable=False),
)

# What an outside store answered for a response: the attempt is recorded before each post,
# the remote id once it took it (Touchpoints has no idempotency key of its own).
forwards = Table(
    "forwards",
    metadata,
    Column("response_id", String(64), primary_key=True),
    Column("sink", String(64), primary_key=True),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("remote_id", String(64)),
    Column("forwarded_at", DateTime(timezone=True)),
)

# The library (bot.core.library): every version of every flow, the active one of each, and
# the settings of services changed at run time (migration 0006).
flow_versions = Table(
    "flow_versions",
    metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(128), nullable=False),
)
flow_active = Table(
    "flow_active",
    metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("seeded", String(64)),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(128), nullable=False),
)
service_settings = Table(
    "service_settings",
    metadata,
    Column("service_id", String(64), primary_key=True),
    Column("settings", JSON, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(128), nullable=False),
)

# Each closed UTC day's grouped counts per service (migration 0013; ``adapters.sql.rollups``):
# what the figures group ``responses``, ``response_dimensions`` and ``comment_themes`` by, with
# their counts and sums, so a quarter is read as days of groups. ``day_marks`` (moved by the
# tables' triggers at every change) and ``rolled_days`` (the mark a day was counted at) say
# which days' counts still hold.
_day = (Column("service_id", String(64), primary_key=True), Column("day", Date, primary_key=True))
day_marks = Table("day_marks", metadata, *(c._copy() for c in _day),
                  Column("generation", Integer, nullable=False))  # fmt: skip
rolled_days = Table("rolled_days", metadata, *(c._copy() for c in _day),
                    Column("generation", Integer, nullable=False))  # fmt: skip
FIGURE_KEYS = ("flow_id", "trust_value", "sentiment_label", "offered", "responded", "started",
               "completed", "language", "channel", "reported_channel", "progress")  # fmt: skip
DRIVER_CELLS = tuple(f"{f}_{part}" for f in DRIVER_FIELDS for part in ("n", "sum"))
V1_CELLS = tuple(f"{item}_{value}" for item in V1_ITEMS for value in range(1, 6))
FIGURE_SUMS = ("n", "reprompts", "q1_n", *DRIVER_CELLS, *V1_CELLS, "question_1_n")
day_figures = Table(
    "day_figures",
    metadata,
    Column("service_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    *(responses.c[key]._copy() for key in FIGURE_KEYS),
    *(Column(name, Integer, nullable=False) for name in FIGURE_SUMS),
)
DIMENSION_KEYS = ("dimension", "value", "flow_id", "trust_value", "offered", "responded")
day_dimensions = Table(
    "day_dimensions",
    metadata,
    Column("service_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    *(response_dimensions.c[key]._copy() for key in DIMENSION_KEYS),
    Column("n", Integer, nullable=False),
)
day_themes = Table(
    "day_themes",
    metadata,
    Column("service_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("theme", String(64), nullable=False),
    Column("n", Integer, nullable=False),
    Column("negative", Integer, nullable=False),
)
# How many of a service's times (in minutes) of a day fall in each tenth of a minute: the bins
# a time's percentile is found in before its exact value is read (``Figures._percentiles``).
day_first_replies, day_completions = (
    Table(name, metadata, Column("service_id", String(64), nullable=False),
          Column("day", Date, nullable=False), Column("tenth", Integer, nullable=False),
          Column("n", Integer, nullable=False))
    for name in ("day_first_replies", "day_completions")
)  # fmt: skip

# The consent ledger's system of record (migration 0009): one row per person (a pseudonym,
# never an address) and scope, kept for ever; ``opted_out`` false once lifted. Redis holds
# the working copy the hot paths read (bot.store.consent).
consent = Table(
    "consent",
    metadata,
    Column("person", String(64), primary_key=True),
    Column("scope", String(160), primary_key=True),
    Column("opted_out", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("how", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
)


def reported_within(table: Table, windows: Sequence[Window]) -> ColumnElement[bool]:
    """A query's condition: a row's ``service_id`` and ``reported_at`` fall in one of the
    windows (``bot.core.reports.quarter_windows``; a window of None ids takes the services
    no other window names)."""
    named = [i for ids, _, _ in windows if ids for i in ids]
    c = table.c
    # The span of all windows first, a plain range an index on reported_at serves (newest
    # first, a page stops early); which window a row falls in is then checked row by row.
    span = and_(c.reported_at >= as_utc(min(start for _, start, _ in windows)),
                c.reported_at < as_utc(max(end for _, _, end in windows)))  # fmt: skip
    return and_(span, or_(*(
        and_(c.service_id.in_(ids) if ids is not None else c.service_id.not_in(named),
             c.reported_at >= as_utc(start), c.reported_at < as_utc(end))
        for ids, start, end in windows
    )))  # fmt: skip


def as_utc(value: str | datetime) -> datetime:
    """A moment as stored: in UTC (SQLite keeps no offset, so mixed offsets would misorder)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC)


def from_db(moment: datetime) -> datetime:
    """A moment read back: SQLite gives back the UTC it was given, without an offset."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def response_row(record: ResponseRecord) -> dict[str, Any]:
    """A response record as the responses table keeps it: the columns reports filter on,
    what summaries sum, and the whole record."""
    tallied = tally_fields(record)
    return {
        "response_id": record["response_id"],
        "survey_id": record["survey_id"],
        "transaction_id": record["transaction_id"],
        "service_id": record["service_id"],
        "flow_id": record["flow_id"],
        "flow_version": record["flow_version"],
        "channel": record["channel"],
        "reported_channel": record["reported_channel"],
        "language": record["language"],
        "respondent": record["respondent"],
        "disposition": record["disposition"],
        "reason": record["reason"],
        "transaction_at": as_utc(record["timestamps"]["transaction"]),
        "ended_at": as_utc(record["timestamps"]["ended"]),
        "question_1": record["a11"].get("question_1"),
        "sentiment_label": (record["sentiment"] or {}).get("label"),
        "sentiment_polarity": (record["sentiment"] or {}).get("polarity"),
        "free_text": record["free_text"],
        "record": record,
        "schema_version": record["schema_version"],
        "stored_at": datetime.now(UTC),
        **tallied,
        "reported_at": as_utc(tallied["reported_at"]),
        "comment_kept": True,
        **figure_fields(record),
        "figures_kept": True,
    }


def dimension_rows(record: ResponseRecord, head: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``response_dimensions`` rows of a record (``head``: its ``responses`` row)."""
    return [{
        "response_id": head["response_id"], "dimension": name, "value": group,
        "service_id": head["service_id"], "reported_at": head["reported_at"],
        "flow_id": head["flow_id"], "trust_value": head["trust_value"],
        "offered": head["offered"], "responded": head["responded"],
    } for name, group in sorted(dimension_groups(record).items())]  # fmt: skip


def comment_rows(record: ResponseRecord) -> list[dict[str, Any]]:
    """The comments table's row of a record (none without free text)."""
    found = comment_of(record)
    if found is None:
        return []
    drivers = found["drivers"]
    return [{
        "response_id": found["response_id"], "service_id": found["service"],
        "reported_at": as_utc(found["date"]), "language": found["language"],
        "channel": found["channel"], "sentiment": found["sentiment"],
        "branch": drivers["branch"], "drivers": ",".join(drivers["chosen"]),
        "text": found["text"],
    }]  # fmt: skip


def theme_rows(record: ResponseRecord) -> list[dict[str, Any]]:
    """The comment_themes table's rows of a record: one per theme it was tagged with (none
    for a record without themes). Kept when retention removes the words: counts stay."""
    themes = record.get("themes") or []
    if not isinstance(themes, list):
        raise TypeError("themes: not a list")
    moment = as_utc(reported_at(record))
    sentiment = (record["sentiment"] or {}).get("label")
    return [
        {"response_id": record["response_id"], "theme": theme,
         "service_id": record["service_id"], "reported_at": moment, "sentiment": sentiment}
        for theme in sorted({str(t) for t in themes})
    ]  # fmt: skip


INT32 = 2**31 - 1  # the store's INTEGER columns (PostgreSQL's are 32-bit)


def misfit(table: Table, row: dict[str, Any]) -> str | None:
    """Why ``row`` cannot go into ``table`` as it is declared (a text longer than its column,
    a number beyond an INTEGER, a NUL character), or None: what PostgreSQL would refuse, said
    before it is sent (SQLite would take it, and a store moved to PostgreSQL later would not)."""
    texts, whole = _limits(table)
    for name, length in texts:
        value = row.get(name)
        if isinstance(value, str):
            if length is not None and len(value) > length:
                return f"{name}: {len(value)} characters, more than the store's {length}"
            if "\x00" in value:
                return f"{name}: a NUL character"
    for name in whole:
        value = row.get(name)
        if isinstance(value, int) and abs(value) > INT32:
            return f"{name}: {value} is beyond the store's whole numbers"
    return None


@cache
def _limits(table: Table) -> tuple[tuple[tuple[str, int | None], ...], tuple[str, ...]]:
    """A table's text columns with their length (None: any), and its INTEGER columns: what
    ``misfit`` looks at (checked for every record of an import, so worked out once)."""
    texts = tuple((c.name, c.type.length) for c in table.c if isinstance(c.type, String))
    return texts, tuple(c.name for c in table.c if isinstance(c.type, Integer))


Rows = dict[Table, list[dict[str, Any]]]


def rows_of(record: ResponseRecord) -> Rows:
    """Every row a response record is kept as: its ``responses`` row, and the rows of each
    table derived from it (keyed on ``response_id``). The one place that says so: the
    outbox's writes, imports and backfills all keep a record through it."""
    head = response_row(record)
    return {
        responses: [head],
        comments: comment_rows(record),
        comment_themes: theme_rows(record),
        response_dimensions: dimension_rows(record, head),
    }


def storable(record: ResponseRecord) -> Rows | str:
    """A record's rows (``rows_of``), or why the store could never take them."""
    try:
        rows = rows_of(record)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # a time out of range…
        return f"cannot be stored: {type(exc).__name__}: {exc}"
    for table, kept in rows.items():
        for row in kept:
            if why := misfit(table, row):
                return why
    return rows


def record_of(value: Any) -> ResponseRecord:
    record: ResponseRecord = json.loads(value) if isinstance(value, str) else value
    return record
