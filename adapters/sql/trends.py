"""Reading for trends: the drivers respondents chose, summed per service, window, flow and
trust answer (``bot.core.trends``); the quarters' other figures are ``Figures.tallies``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, select

from bot.core.measures import DRIVER_FIELDS
from bot.core.sinks import DriverSums

from .figures import Figures
from .schema import as_utc, responses


class Trends(Figures):
    """What trends read beyond the tallies."""

    async def driver_sums(
        self, windows: Sequence[tuple[Sequence[str], Sequence[tuple[datetime, datetime]]]]
    ) -> dict[tuple[str, int], list[DriverSums]]:
        """Per (service, window index): its respondents' driver cells by flow and trust
        answer, summed in one grouped query over the cells the report's figures count too
        (``positive_effectiveness`` …, migration 0010): per cell how many are not null (the
        form offered it) and their sum (chose it), as ``quarter_counts`` sums one quarter."""
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
        keys = (c.service_id, bucket, c.flow_id, c.trust_value)
        cells = [aggregate(c[f]) for f in DRIVER_FIELDS for aggregate in (func.count, func.sum)]
        rows = await self._counted(select(*keys, func.count(), *cells).where(where).group_by(*keys))
        out: dict[tuple[str, int], list[DriverSums]] = {}
        for service, index, flow, trust, count, *sums in rows:
            if index is None:
                continue
            per = {f: (int(sums[2 * i]), int(sums[2 * i + 1] or 0))
                   for i, f in enumerate(DRIVER_FIELDS)}  # fmt: skip
            out.setdefault((service, int(index)), []).append(
                DriverSums(flow, trust, int(count), per)
            )
        return out
