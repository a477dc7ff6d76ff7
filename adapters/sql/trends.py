"""Reading for trends: the drivers respondents chose, summed per service, window, flow and
trust answer (``bot.core.trends``); the quarters' other figures are ``Figures.tallies``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select

from bot.core.a11 import DRIVERS
from bot.core.sinks import DriverGroup
from bot.core.trends import BRANCHES

from .base import SqlBase
from .schema import as_utc, responses


class Trends(SqlBase):
    """What trends read beyond the tallies."""

    async def driver_sums(
        self, windows: Sequence[tuple[Sequence[str], Sequence[tuple[datetime, datetime]]]]
    ) -> dict[tuple[str, int], list[DriverGroup]]:
        """Per (service, window index): its respondents' driver counts by flow and trust
        answer, from the bit sets each row keeps (migration 0011), in one grouped query over
        the index on (service, reported time)."""
        c = responses.c
        within = [
            (and_(c.service_id.in_(list(ids)), c.reported_at >= as_utc(start),
                  c.reported_at < as_utc(end)), index)
            for ids, cuts in windows
            for index, (start, end) in enumerate(cuts)
        ]  # fmt: skip
        if not within:
            return {}
        bucket = case(*within, else_=None).label("bucket")
        bounds = [moment for _, cuts in windows for cut in cuts for moment in cut]
        where = and_(
            c.service_id.in_([i for ids, _ in windows for i in ids]),
            c.reported_at >= as_utc(min(bounds)),
            c.reported_at < as_utc(max(bounds)),
            c.responded.is_(True),
        )
        names = [(branch, driver) for branch in BRANCHES for driver in DRIVERS]
        sums: list[Any] = []
        for branch, driver in names:
            bit = 1 << DRIVERS.index(driver)
            for kind in ("offered", "chosen"):
                column = c[f"{branch}_{kind}"]
                sums.append(func.sum(case((column.op("&")(bit) != 0, 1), else_=0)))
        keys = (c.service_id, bucket, c.flow_id, c.trust_value)
        rows = await self._rows(select(*keys, func.count(), *sums).where(where).group_by(*keys))
        out: dict[tuple[str, int], list[DriverGroup]] = {}
        for row in rows:
            if row[1] is None:
                continue
            counts = {
                f"{branch}_{driver}": (int(row[5 + 2 * i]), int(row[6 + 2 * i]))
                for i, (branch, driver) in enumerate(names)
            }
            out.setdefault((row[0], int(row[1])), []).append(
                DriverGroup(row[2], row[3], int(row[4]), counts)
            )
        return out
