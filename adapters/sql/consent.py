"""The consent ledger's system of record: opt-outs by person (a pseudonym) and scope, kept for
ever. The outbox writes each change (``record_consent``), in the order it was said whatever
order it arrives in; Redis is restored from it a page at a time (``opt_out_page``) and reads
it for a person while that is under way (``opted_out_of``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError

from bot.core.sinks import ConsentChange

from .base import SqlBase, sink_error
from .schema import as_utc, consent

ID_CHUNK = 1000  # people a lookup names at most


class ConsentRows(SqlBase):
    """The ``consent`` table."""

    async def record_consent(self, change: ConsentChange) -> None:
        """Apply an opt-out (its rows made or turned on) or an opt-in (existing rows turned
        off), unless a row holds a later change: a retried opt-out never undoes a START said
        after it. SinkError says whether to retry."""
        at = as_utc(change["at"])
        values = {"opted_out": change["opted_out"], "at": at, "how": change["how"][:16],
                  "channel": change["channel"][:16]}  # fmt: skip
        c = consent.c
        try:
            async with self.engine.begin() as conn:
                if change["opted_out"]:
                    rows = [{"person": change["person"], "scope": s, **values}
                            for s in change["scopes"]]  # fmt: skip
                    insert = self._insert()(consent).values(rows)
                    await conn.execute(insert.on_conflict_do_update(
                        index_elements=[c.person, c.scope],
                        set_={k: insert.excluded[k] for k in values},
                        where=c.at <= insert.excluded.at,
                    ))  # fmt: skip
                else:
                    await conn.execute(consent.update().where(
                        c.person == change["person"], c.scope.in_(change["scopes"]), c.at <= at
                    ).values(**values))  # fmt: skip
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise sink_error(exc) from None

    async def keep_opt_outs(self, pairs: Sequence[tuple[str, str]], at: datetime) -> None:
        """Keep these (person, scope) opt-outs where no row exists for them (a row is later
        news: left as it is). StoreUnavailable when the store cannot take them."""
        if not pairs:
            return
        rows = [{"person": p, "scope": s, "opted_out": True, "at": as_utc(at), "how": "redis",
                 "channel": ""} for p, s in pairs]  # fmt: skip
        async with self._writing() as conn:
            await conn.execute(self._insert()(consent).values(rows).on_conflict_do_nothing())

    async def opted_out_of(self, people: Sequence[str]) -> dict[str, frozenset[str]]:
        """The scopes each of these people is opted out of (only people with any)."""
        found: dict[str, set[str]] = {}
        unique = sorted(set(people))
        for start in range(0, len(unique), ID_CHUNK):
            chunk = unique[start : start + ID_CHUNK]
            query = select(consent.c.person, consent.c.scope).where(
                consent.c.person.in_(chunk), consent.c.opted_out
            )
            for person, scope in await self._rows(query):
                found.setdefault(person, set()).add(scope)
        return {person: frozenset(scopes) for person, scopes in found.items()}

    async def opt_out_page(
        self, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str]]:
        """Opted-out (person, scope) pairs in key order after ``after`` (keyset paging on the
        primary key: a page costs the same however far in)."""
        c = consent.c
        query = select(c.person, c.scope).where(c.opted_out)
        if after is not None:
            # Spelled out rather than a row comparison, which SQLite's planner may not seek on.
            query = query.where(or_(c.person > after[0],
                                    and_(c.person == after[0], c.scope > after[1])))  # fmt: skip
        query = query.order_by(c.person, c.scope).limit(limit)
        return [(str(p), str(s)) for p, s in await self._rows(query)]
