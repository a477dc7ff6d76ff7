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
        # Grouped by the bit sets themselves: people choose few combinations, so the rows are
        # few and the database only counts (28 conditional sums per row cost it far more);
        # the bits are read here, per combination.
        bits = [c[f"{branch}_{kind}"] for branch in BRANCHES for kind in ("offered", "chosen")]
        keys = (c.service_id, bucket, c.flow_id, c.trust_value, *bits)
        rows = await self._rows(select(*keys, func.count()).where(where).group_by(*keys))
        found: dict[tuple[str, int, str, int | None], dict[str, Any]] = {}
        for service, index, flow, trust, *masks, count in rows:
            if index is None:
                continue
            group = found.setdefault((service, int(index), flow, trust),
                                     {"people": 0, "counts": {}})  # fmt: skip
            group["people"] += count
            for b, branch in enumerate(BRANCHES):
                offered, chosen = masks[2 * b] or 0, masks[2 * b + 1] or 0
                for bit, driver in enumerate(DRIVERS):
                    if offered >> bit & 1:
                        key = f"{branch}_{driver}"
                        o, ch = group["counts"].get(key, (0, 0))
                        group["counts"][key] = (o + count, ch + (chosen >> bit & 1) * count)
        out: dict[tuple[str, int], list[DriverGroup]] = {}
        for (service, index, flow, trust), group in found.items():
            out.setdefault((service, index), []).append(
                DriverGroup(flow, trust, group["people"], group["counts"])
            )
        return out
