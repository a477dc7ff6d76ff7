"""Theme figures per service: the core's rows from grouped counts (suppression under MIN_CELL,
the change from the quarter before), and where they are shown — the JSON report (never the
public one), the console's service page and ``/cx themes``. Real Redis and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.sinks import ResponseRecord, ThemeCount
from bot.core.theme_figures import by_service, theme_rows
from bot.core.themes_default import DEFAULT

from .conftest import Bot
from .records import T0
from .test_comments import commented
from .test_console import Browser

ADMIN = {"Authorization": "Bearer admin-token"}
ON_HOLD = "I was waiting on hold for an hour"  # negative: phone, wait_time
KIND = "The wait was short and the staff kind"  # positive: staff, wait_time
BEFORE = datetime(2026, 9, 15, 15, 0, tzinfo=UTC)  # FY 2026 Q4


def count(theme: str, comments: int, negative: int) -> ThemeCount:
    return ThemeCount("s", theme, comments, negative)


def test_rows_suppress_small_counts_and_compare_with_the_quarter_before() -> None:
    now = {"phone": count("phone", 12, 12), "wait_time": count("wait_time", 18, 12),
           "staff": count("staff", 9, 0), "old_theme": count("old_theme", 30, 3)}  # fmt: skip
    before = {"phone": count("phone", 10, 10), "wait_time": count("wait_time", 4, 4)}
    rows = theme_rows(now, before, DEFAULT, min_cell=10)
    assert [r["theme"] for r in rows[:3]] == ["old_theme", "wait_time", "phone"]
    assert rows[0] == {"theme": "old_theme", "label": "old_theme", "comments": 30,
                       "negative_percent": 10.0, "change": None,
                       "negative_percent_change": None}  # fmt: skip
    assert rows[1] == {"theme": "wait_time", "label": "Wait time", "comments": 18,
                       "negative_percent": 66.7, "change": None,  # 4 before: suppressed
                       "negative_percent_change": None}  # fmt: skip
    assert rows[2]["change"] == 2 and rows[2]["negative_percent_change"] == 0.0
    staff = next(r for r in rows if r["theme"] == "staff")  # 9 < 10: not said, nor its share
    assert staff["comments"] is None and staff["negative_percent"] is None
    assert len(rows) == len(DEFAULT.themes) + 1
    # the suppressed follow the shown, in the taxonomy's order
    assert [r["theme"] for r in rows[3:]] == [t for t in DEFAULT.ids()
                                             if t not in ("phone", "wait_time")]  # fmt: skip
    assert theme_rows(now, {}, DEFAULT, 10, "es")[1]["label"] == "Tiempo de espera"
    assert by_service([ThemeCount("a", "x", 1, 0), ThemeCount("b", "x", 2, 1)]) == {
        "a": {"x": ThemeCount("a", "x", 1, 0)}, "b": {"x": ThemeCount("b", "x", 2, 1)}}  # fmt: skip


def quarters() -> list[ResponseRecord]:
    """Q1 FY2027: 12 on hold (negative), 6 kind (positive); the quarter before: 10 on hold."""
    now = [commented(n, ON_HOLD if n <= 12 else KIND, "en", completed_at=T0 + timedelta(hours=n))
           for n in range(1, 19)]  # fmt: skip
    before = [commented(n, ON_HOLD, "en", completed_at=BEFORE + timedelta(hours=n))
              for n in range(19, 29)]  # fmt: skip
    return now + before


async def test_the_json_report_carries_themes_and_the_public_one_does_not(bot: Bot) -> None:
    assert bot.rt.store is not None
    await bot.rt.store.write_many(quarters())
    url = "/v1/reports/a11?fiscal_year=2027&quarter=1"
    report = await (await bot.client.get(url, headers=ADMIN)).json()
    assert sorted(report["themes"]) == sorted(bot.rt.services)
    rows = {r["theme"]: r for r in report["themes"]["benefits-application"]}
    assert rows["wait_time"] == {"theme": "wait_time", "label": "Wait time", "comments": 18,
                                 "negative_percent": 66.7, "change": 8,
                                 "negative_percent_change": -33.3}  # fmt: skip
    assert (rows["phone"]["comments"], rows["phone"]["change"]) == (12, 2)
    assert rows["staff"]["comments"] is None  # 6 < MIN_CELL
    one = await (await bot.client.get(url + "&service=permit-renewal", headers=ADMIN)).json()
    assert list(one["themes"]) == ["permit-renewal"]
    assert all(r["comments"] is None for r in one["themes"]["permit-renewal"])
    public = await (await bot.client.get(url + "&format=public", headers=ADMIN)).text()
    assert "themes" not in public and "wait_time" not in public


async def test_the_service_page_shows_its_themes_to_every_staff_member(console: Bot) -> None:
    assert console.rt.store is not None
    await console.rt.store.write_many(quarters())
    admin = Browser(console)
    await admin.sign_in("admin-token")
    page = await (await admin.get("/admin/services/benefits-application")).text()
    themes = page.split('id="t-themes"')[1].split("</table>")[0]
    assert themes.index("Wait time") < themes.index("Phone line")  # the most frequent first
    assert "<td>18</td><td>66.7%</td>\n    <td>+8</td>\n    <td>-33.3 points</td>" in themes
    assert "<td>12</td><td>100.0%</td>\n    <td>+2</td>\n    <td>+0.0 points</td>" in themes
    hidden = page.split("(not shown): ")[1].split(".</p>")[0].split(", ")
    assert "Staff" not in themes and "Staff" in hidden  # 6 < MIN_CELL
    assert "Wait time" not in hidden and hidden[-1] == "Housing"  # the service's own, last
    assert len(hidden) == len(console.rt.services["benefits-application"].themes.themes) - 2
    # an admin reads the comments: each theme lists its comments
    link = "/admin/comments?service=benefits-application&amp;theme=phone&amp;fiscal_year=2027"
    assert link in themes
    listed = await (await admin.get(link.replace("&amp;", "&") + "&quarter=1")).text()
    assert listed.count('<td lang="en">') == 12
    # a viewer (who does not read this service's comments) sees the counts, not the links
    viewer = Browser(console)
    await viewer.sign_in("viewer-token")
    seen = await (await viewer.get("/admin/services/benefits-application")).text()
    assert "<td>18</td><td>66.7%</td>" in seen and "theme=phone" not in seen
    assert "shown to admins only" in seen
    empty = await (await admin.get("/admin/services/permit-renewal")).text()
    assert "No theme was found in 10 comments or more this quarter." in empty


def test_counts_read_only_the_windows_of_the_services_asked_for() -> None:
    from bot.core import reports
    from bot.core.catalog import load_catalog
    from bot.registry import kinds
    from bot.service.themes import _windows
    from flows import FLOWS_DIR

    from .records import FLOWS

    services = load_catalog(FLOWS_DIR / "services.yaml", FLOWS, kinds())
    every = reports.quarter_windows(services, 2027, 1)
    [own] = _windows(services, (2027, 1), ["benefits-application"])
    assert own in every and own[0] is not None and "benefits-application" in own[0]
    gone = _windows(services, (2027, 1), ["benefits-application", "a-service-since-removed"])
    assert gone == [own, every[-1]] and every[-1][0] is None  # the default zone's, for it
    assert len(_windows(services, (2027, 1), sorted(services))) == len(every) - 1
