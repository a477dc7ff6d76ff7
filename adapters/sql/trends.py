"""Reading for trends: the drivers respondents chose, summed per service, window, flow and
trust answer (``bot.core.trends``); the quarters' other figures are ``Figures.tallies``."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from bot.core.measures import DRIVER_FIELDS
from bot.core.sinks import DriverSums

from .figures import Figures, Windows, windowed
from .schema import responses


class Trends(Figures):
    """What trends read beyond the tallies."""

    async def driver_sums(self, windows: Windows) -> dict[tuple[str, int], list[DriverSums]]:
        """Per (service, window index): its respondents' driver cells by flow and trust
        answer, summed in one grouped query over the cells the report's figures count too
        (``positive_effectiveness`` …, migration 0010): per cell how many are not null (the
        form offered it) and their sum (chose it), as ``quarter_counts`` sums one quarter."""
        c = responses.c
        if not windows or not any(cuts for _, cuts in windows):
            return {}
        bucket, where = windowed(windows)
        where = and_(where, c.responded.is_(True))
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
