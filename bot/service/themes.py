"""A quarter's theme figures per service, from the measures store's grouped counts (two
queries: the quarter and the one before; no comment or record is read)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core import reports
from bot.core.catalog import Service
from bot.core.sinks import ResponseStore, Window
from bot.core.theme_figures import ThemeRow, by_service, theme_rows
from bot.core.themes_default import DEFAULT


async def quarter_themes(
    store: ResponseStore,
    services: Mapping[str, Service],
    fiscal_year: int,
    quarter: int,
    chosen: Sequence[str],
    min_cell: int,
) -> dict[str, list[ThemeRow]]:
    """For each service of ``chosen``, its themes in the quarter (``theme_rows``: counts
    under ``min_cell`` suppressed, the change from the quarter before)."""
    if not chosen:
        return {}
    now = by_service(
        await store.theme_counts(_windows(services, (fiscal_year, quarter), chosen), chosen)
    )
    earlier = reports.history(fiscal_year, quarter)[-1:]
    before = by_service(
        await store.theme_counts(_windows(services, earlier[0], chosen), chosen)
        if earlier else []
    )  # fmt: skip
    return {
        service: theme_rows(
            now.get(service, {}),
            before.get(service, {}),
            services[service].themes if service in services else DEFAULT,
            min_cell,
        )
        for service in chosen
    }


def _windows(
    services: Mapping[str, Service], quarter: tuple[int, int], chosen: Sequence[str]
) -> list[Window]:
    """The quarter's windows that can hold a chosen service's rows (a service's own zone; the
    default one only for a service the catalog no longer names): each window left out is a
    condition less on every row the count reads."""
    wanted = set(chosen)
    return [
        (ids, start, end)
        for ids, start, end in reports.quarter_windows(services, *quarter)
        if (ids is not None and wanted.intersection(ids))
        or (ids is None and not wanted <= set(services))
    ]
