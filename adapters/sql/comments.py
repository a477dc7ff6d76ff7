"""Finding comments (``bot.core.comments``): the comments table, newest first by
(``reported_at``, ``response_id``) with keyset paging, narrowed by a ``CommentFilter``. Words
are found on PostgreSQL by full-text search over the English and the Spanish configuration
(a word matches when either language's stem of it is in the comment: "waiting" finds
"wait", "espere" finds "esperé"), on SQLite by the FTS5 table (Porter stems, accents
removed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.exc import SQLAlchemyError

from bot.core.comments import Comment, CommentFilter
from bot.core.sinks import ThemeCount, Window

from .base import StoreUnavailable, describe
from .rollups import THEMES, Rollups, cuts_of
from .schema import as_utc, comment_themes, comments, from_db, reported_within

BATCH = 1000  # comments read at a time
ENGLISH: Any = literal_column("'english'::regconfig")
SPANISH: Any = literal_column("'spanish'::regconfig")


class Comments(Rollups):
    """Comments, found."""

    async def comments(
        self, where: CommentFilter, *, after: tuple[str, str] | None = None, limit: int = 50
    ) -> list[Comment]:
        """The comments ``where`` selects, newest first; ``after`` is the (date, response id)
        of the last one of the page before."""
        c = comments.c
        conditions = self._conditions(where)
        if after is not None:
            moment, response_id = as_utc(after[0]), after[1]
            earlier = and_(c.reported_at == moment, c.response_id < response_id)
            conditions.append(or_(c.reported_at < moment, earlier))
        found: list[Comment] = []
        async for rows in self._found(conditions, limit=limit):
            found += rows
        return found

    async def comment_batches(self, where: CommentFilter) -> AsyncIterator[list[Comment]]:
        """Every comment ``where`` selects, newest first, ``BATCH`` at a time through a
        server-side cursor (a CSV of a quarter: one query, memory that does not grow)."""
        async for rows in self._found(self._conditions(where)):
            yield rows

    async def _found(
        self, conditions: list[ColumnElement[bool]], limit: int | None = None
    ) -> AsyncIterator[list[Comment]]:
        c = comments.c
        query = (
            select(c.response_id, c.reported_at, c.service_id, c.language, c.channel,
                   c.sentiment, c.branch, c.drivers, c.text, self._themes())
            .where(and_(true(), *conditions))
            .order_by(c.reported_at.desc(), c.response_id.desc())
            .limit(limit)
            .execution_options(yield_per=BATCH)
        )  # fmt: skip
        try:
            async with self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    # Planned for its own words: a prepared statement run a few times gets a
                    # generic plan, blind to whether a word is common (walk the newest first,
                    # stop at a page) or rare (the GIN index, then sort the few found);
                    # measured, it took a common word with a service from 35 ms to 234 ms.
                    await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
                result = await conn.stream(query)
                async for rows in result.partitions():
                    yield [_comment(row) for row in rows]
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None

    def _conditions(self, where: CommentFilter) -> list[ColumnElement[bool]]:
        c = comments.c
        conditions: list[ColumnElement[bool]] = []
        if where.windows:
            conditions.append(reported_within(comments, where.windows))
        if where.services is not None:
            conditions.append(c.service_id.in_(where.services))
        for name in ("sentiment", "language", "channel"):
            if (value := getattr(where, name)) is not None:
                conditions.append(c[name] == value)
        if where.words:
            conditions.append(self._words(where.words))
        if where.theme is not None:
            t = comment_themes.c
            # the theme's rows cut as the comments are (its index: theme, reported_at)
            tagged = select(t.response_id).where(t.theme == where.theme)
            if where.windows:
                tagged = tagged.where(reported_within(comment_themes, where.windows))
            conditions.append(c.response_id.in_(tagged))
        return conditions

    def _themes(self) -> Any:
        """A comment's themes, joined by commas (a look-up by the theme table's key)."""
        t = comment_themes.c
        joined = (func.string_agg(t.theme, literal_column("','")) if self.dialect == "postgresql"
                  else func.group_concat(t.theme, ","))  # fmt: skip
        return select(joined).where(t.response_id == comments.c.response_id).scalar_subquery()

    async def theme_counts(
        self, windows: Sequence[Window], services: Sequence[str] | None = None
    ) -> list[ThemeCount]:
        """Per service and theme, the comments reported within ``windows`` (of ``services``;
        None: all) tagged with it and how many were negative: one grouped query over the
        theme table's (service, reported_at) index, no comment read."""
        if windows:
            chosen = None if services is None else list(services)
            rows = await self.grouped(
                THEMES, cuts_of(windows), ("theme",), ("n", "negative"),
                None if chosen is None else (lambda columns: columns.service_id.in_(chosen)),
            )  # fmt: skip
            return [ThemeCount(service, theme, count, negative)
                    for service, theme, _, count, negative in rows]  # fmt: skip
        t = comment_themes.c  # every quarter's (a rare question, not a page's)
        negative = func.sum(case((t.sentiment == "negative", 1), else_=0))
        query = select(t.service_id, t.theme, func.count(), negative).group_by(
            t.service_id, t.theme
        )
        if services is not None:
            query = query.where(t.service_id.in_(services))
        return [ThemeCount(row[0], row[1], int(row[2]), int(row[3] or 0))
                for row in await self._rows(query)]  # fmt: skip

    def _words(self, words: Sequence[str]) -> ColumnElement[bool]:
        """The comment holds every word (in English or in Spanish)."""
        if self.dialect == "postgresql":
            query: Any = None
            for word in words:
                either = func.plainto_tsquery(ENGLISH, word).op("||")(
                    func.plainto_tsquery(SPANISH, word)
                )
                query = either if query is None else query.op("&&")(either)
            return literal_column("comments.search").op("@@")(query)
        # FTS5: each word a quoted string (its syntax taken literally), all of them required.
        match = " ".join('"' + word.replace('"', '""') + '"' for word in words)
        found: Any = select(literal_column("rowid")).select_from(text("comments_fts")).where(
            text("comments_fts MATCH :match").bindparams(match=match)
        )  # fmt: skip
        return literal_column("comments.rowid").in_(found)


def _comment(row: Any) -> Comment:
    return {"response_id": row[0], "date": from_db(row[1]).isoformat(), "service": row[2],
            "language": row[3], "channel": row[4], "sentiment": row[5],
            "drivers": {"branch": row[6], "chosen": row[7].split(",") if row[7] else []},
            "themes": sorted(row[9].split(",")) if row[9] else [], "text": row[8]}  # fmt: skip
