"""Reading for trends: the drivers respondents chose, summed per service, window, flow and
trust answer (``bot.core.trends``); the quarters' other figures are ``Figures.tallies``."""

from __future__ import annotations

from bot.core.measures import DRIVER_FIELDS
from bot.core.sinks import DriverSums

from .figures import Figures
from .rollups import FIGURES, Windows, cuts_of_spans
from .schema import DRIVER_CELLS


class Trends(Figures):
    """What trends read beyond the tallies."""

    async def driver_sums(self, windows: Windows) -> dict[tuple[str, int], list[DriverSums]]:
        """Per (service, window index): its respondents' driver cells by flow and trust
        answer, summed in one grouped query over the cells the report's figures count too
        (``positive_effectiveness`` …, migration 0010): per cell how many are not null (the
        form offered it) and their sum (chose it), as ``quarter_counts`` sums one quarter."""
        rows = await self.grouped(
            FIGURES,
            cuts_of_spans(windows),
            ("flow_id", "trust_value"),
            ("n", *DRIVER_CELLS),
            {"responded": True},
        )
        out: dict[tuple[str, int], list[DriverSums]] = {}
        for service, flow, trust, index, count, *sums in rows:
            per = {f: (sums[2 * i], sums[2 * i + 1]) for i, f in enumerate(DRIVER_FIELDS)}
            out.setdefault((service, int(index)), []).append(DriverSums(flow, trust, count, per))
        return out
