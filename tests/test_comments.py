"""Comments that can be found: the store's comments table kept by every write (the outbox's,
an import's, retention's rewrite, forgetting), backfilled for rows stored before it, and
searched by word in English and Spanish, service, quarter, sentiment, language, channel and
theme (with theme counts per service from the theme table),
newest first with keyset paging; real SQLite and PostgreSQL. Then ``GET /v1/comments``."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from adapters.sql import SqlStore
from adapters.sql.migrate import alembic_config
from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core.catalog import load_catalog
from bot.core.comments import comment_filter, comment_of
from bot.core.secret import Secret
from bot.core.sinks import CommentFilter, ResponseRecord, ThemeCount
from bot.registry import kinds
from flows import FLOWS_DIR

from .conftest import Bot, make_settings, serving
from .records import FLOWS, T0, response_record
from .test_console import Browser
from .test_store import ALL_REVISIONS, fresh_store

SERVICES = load_catalog(FLOWS_DIR / "services.yaml", FLOWS, kinds())
KINDS = ["sqlite", "postgresql"]
ADMIN = {"Authorization": "Bearer admin-token"}

TEXTS = [  # (comment, language)
    ("I was waiting on hold for an hour", "en"),
    ("The wait was short and the staff kind", "en"),
    ("Esperé mucho tiempo en la oficina", "es"),
    ("Nadie me llamó, espere dos semanas", "es"),
    ("Quick and easy", "en"),
    ("Trámite rápido y fácil", "es"),
]


def commented(n: int, comment: str, language: str, **kw: Any) -> ResponseRecord:
    trust = ("no", "2") if n % 2 else ("yes", "1 3")
    kw.setdefault("completed_at", T0 + timedelta(hours=n))
    return response_record(n, [*trust, comment], language=language, **kw)


async def ids(store: SqlStore, **where: Any) -> list[int]:
    found = await store.comments(CommentFilter(**where), limit=100)
    return [int(c["response_id"], 16) for c in found]


@pytest.fixture(params=KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    sql = await fresh_store(request.param, tmp_path)
    yield sql
    await sql.close()


async def test_words_are_found_in_english_and_spanish(store: SqlStore) -> None:
    for n, (comment, language) in enumerate(TEXTS, start=1):
        await store.write(commented(n, comment, language))
    await store.write(response_record(7, ["yes", "1"]))  # no comment: not listed
    assert await ids(store) == [6, 5, 4, 3, 2, 1]  # newest first
    assert await ids(store, words=("wait",)) == [2, 1]  # "waiting" too
    assert await ids(store, words=("espere",)) == [4, 3]  # "esperé" too, accent or none
    assert await ids(store, words=("esperé",)) == [4, 3]
    assert await ids(store, words=("tramite", "facil")) == [6]  # every word, accents folded
    assert await ids(store, words=("wait", "staff")) == [2]
    assert await ids(store, words=("nothing",)) == []
    assert await ids(store, words=('"', "or", "*")) == []  # search syntax is taken literally
    assert await ids(store, language="es") == [6, 4, 3]
    assert await ids(store, sentiment="negative", language="en") == [1]
    assert await ids(store, channel="whatsapp") == []


async def test_a_comment_row_carries_its_drivers_and_follows_its_record(store: SqlStore) -> None:
    record = commented(1, "Slow, my SSN is 123-45-6789", "en")
    await store.write(record)
    [found] = await store.comments(CommentFilter())
    assert found == comment_of(record)
    assert found["drivers"] == {"branch": "negative", "chosen": ["ease"]}
    assert found["text"] == "Slow, my SSN is [SSN]" and found["service"] == "benefits-application"
    assert found["date"] == "2026-11-02T16:10:00+00:00"  # its end: a response
    changed = {**record, "free_text": "Changed my mind: great"}  # written again: replaced
    await store.write(changed)
    assert [c["text"] for c in await store.comments(CommentFilter())] == ["Changed my mind: great"]
    assert await ids(store, words=("slow",)) == []
    await store.write({**record, "free_text": None})  # retention's rewrite: gone
    assert await store.comments(CommentFilter()) == []
    await store.write(record)
    await store.forget(record["respondent"])
    assert await store.comments(CommentFilter()) == []
    assert await ids(store, words=("slow",)) == []


async def test_filters_quarter_service_and_paging(store: SqlStore) -> None:
    records = []
    for n in range(1, 31):
        comment, language = TEXTS[n % len(TEXTS)]
        service = "permit-renewal" if n % 3 == 0 else "benefits-application"
        flow = "a11-v2-scale" if service == "permit-renewal" else "a11-v2-thumbs"
        replies = ["5" if n % 2 == 0 else "2", "1", comment] if flow == "a11-v2-scale" else None
        record = (response_record(n, replies, service=service, flow_id=flow, language=language,
                                  completed_at=T0 + timedelta(hours=n))
                  if replies else commented(n, comment, language))  # fmt: skip
        records.append(record)
    # two a quarter before: the last evening of September in New York
    for n in (31, 32):
        records.append(commented(n, "wait wait", "en",
                                 completed_at=datetime(2026, 10, 1, 3, 0, tzinfo=UTC)))  # fmt: skip
    await store.write_many(records)
    q1 = comment_filter({"fiscal_year": "2027", "quarter": "1"}, SERVICES)
    assert len(await ids(store, windows=q1.windows)) == 30
    q4 = comment_filter({"fiscal_year": "2026", "quarter": "4"}, SERVICES)
    assert sorted(await ids(store, windows=q4.windows)) == [31, 32]
    permits = comment_filter({"fiscal_year": "2027", "quarter": "1", "service": "permit-renewal",
                              "q": "fácil"}, SERVICES)  # fmt: skip
    assert await ids(store, **permits.__dict__) == [n for n in range(30, 0, -1)
                                                     if n % 3 == 0 and n % 6 == 5]  # fmt: skip
    seen: list[str] = []
    after = None
    while page := await store.comments(q1, after=after, limit=7):
        seen += [c["response_id"] for c in page]
        after = (page[-1]["date"], page[-1]["response_id"])
    assert len(seen) == len(set(seen)) == 30
    assert seen == [c["response_id"] for c in await store.comments(q1, limit=100)]


@pytest.mark.parametrize("kind", KINDS)
async def test_rows_stored_before_the_comments_table_are_backfilled(
    kind: str, tmp_path: Path
) -> None:
    store = await fresh_store(kind, tmp_path)
    try:
        records = [commented(n, TEXTS[n % 6][0], TEXTS[n % 6][1]) for n in range(1, 26)]
        await store.write_many(records)
        async with store.engine.begin() as conn:  # as a store upgraded to 0008 finds them
            await conn.execute(text("DELETE FROM comments"))
            await conn.execute(text("UPDATE responses SET comment_kept = NULL"))
        assert await store.comments(CommentFilter()) == []
        assert await store.backfill_comments(batch=10) == 25
        assert await store.backfill_comments() == 0  # nothing left: quick
        found = await store.comments(CommentFilter(), limit=100)
        assert sorted(found, key=lambda c: c["response_id"]) == [comment_of(r) for r in records]
        assert await ids(store, words=("espere",)) != []
    finally:
        await store.close()


def reference_counts(records: list[ResponseRecord]) -> list[ThemeCount]:
    """Theme counts worked out from records, as the store must group them."""
    counts: dict[tuple[str, str], list[int]] = {}
    for r in records:
        for theme in r.get("themes") or []:
            cell = counts.setdefault((r["service_id"], theme), [0, 0])
            cell[0] += 1
            cell[1] += (r["sentiment"] or {}).get("label") == "negative"
    return sorted(ThemeCount(s, t, n, neg) for (s, t), (n, neg) in counts.items())


async def test_themes_are_kept_found_and_counted(store: SqlStore) -> None:
    records = [commented(n, TEXTS[n % 6][0], TEXTS[n % 6][1]) for n in range(1, 25)]
    records.append(commented(25, "The website logged me out", "en",
                             completed_at=datetime(2026, 10, 1, 3, 0, tzinfo=UTC)))  # fmt: skip
    await store.write_many(records)
    found = await store.comments(CommentFilter(), limit=100)
    assert {c["response_id"]: c["themes"] for c in found} == {
        r["response_id"]: r["themes"] for r in records}  # fmt: skip
    assert found[-1]["themes"] == ["website"]
    phone = [int(r["response_id"], 16) for r in reversed(records) if "phone" in r["themes"]]
    assert phone and await ids(store, theme="phone") == phone
    assert await ids(store, theme="phone", language="en") == [n for n in phone if n % 6 == 0]
    assert await ids(store, theme="money") == []
    q1 = comment_filter({"fiscal_year": "2027", "quarter": "1", "theme": "website"}, SERVICES)
    q4 = comment_filter({"fiscal_year": "2026", "quarter": "4", "theme": "website"}, SERVICES)
    assert await ids(store, **q1.__dict__) == [] and await ids(store, **q4.__dict__) == [25]
    # grouped counts, equal to what the records say; cut by the quarter and the services
    assert sorted(await store.theme_counts(())) == reference_counts(records)
    in_q1 = comment_filter({"fiscal_year": "2027", "quarter": "1"}, SERVICES).windows
    assert sorted(await store.theme_counts(in_q1)) == reference_counts(records[:24])
    assert await store.theme_counts(in_q1, ["permit-renewal"]) == []
    wait = next(c for c in await store.theme_counts(in_q1) if c.theme == "wait_time")
    assert (wait.comments, wait.negative) == (24, 8)
    # a record written again takes its new themes; retention's rewrite keeps them (counts do
    # not change when words are purged); forgetting removes them
    first = records[2]
    assert "phone" in first["themes"]
    await store.write({**first, "themes": ["money"], "free_text": "A refund"})
    assert await ids(store, theme="money") == [3] and 3 not in await ids(store, theme="phone")
    await store.write({**first, "free_text": None})
    assert await ids(store, theme="phone") == [n for n in phone if n != 3]  # no comment…
    assert sorted(await store.theme_counts(())) == reference_counts(records)  # …still counted
    await store.forget(first["respondent"])
    assert sorted(await store.theme_counts(())) == reference_counts(
        [r for r in records if r is not first])  # fmt: skip


def downgrade_before(revision: str) -> Any:
    """A function for ``run_sync``: the store taken back to the revision before ``revision``."""

    def run(connection: Any) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, f"{revision}-1")

    return run


@pytest.mark.parametrize("kind", KINDS)
async def test_rows_stored_before_the_themes_table_are_given_theirs(
    kind: str, tmp_path: Path
) -> None:
    store = await fresh_store(kind, tmp_path)
    try:
        records = [commented(n, TEXTS[n % 6][0], TEXTS[n % 6][1]) for n in range(1, 26)]
        records.append(response_record(26, ["yes", "1"]))  # no comment, no themes
        legacy = {**commented(27, "on hold", "en")}
        del legacy["themes"]  # written before themes were tagged: none to give
        await store.write_many([*records, legacy])
        async with store.engine.begin() as conn:
            await conn.run_sync(downgrade_before("0012"))
            assert not await conn.run_sync(lambda c: store.engine.dialect.has_table(
                c, "comment_themes"))  # fmt: skip
        assert [step.split()[0] for step in await store.migrate()] == ALL_REVISIONS[
            ALL_REVISIONS.index("0012") :]  # fmt: skip
        assert sorted(await store.theme_counts(())) == reference_counts(records)
        assert await ids(store, theme="staff") == [n for n in range(25, 0, -1) if n % 6 == 1]
    finally:
        await store.close()


def test_a_filter_from_parameters() -> None:
    assert comment_filter({}, SERVICES) == CommentFilter()
    viewer = frozenset({"permit-renewal"})
    assert comment_filter({}, SERVICES, viewer).services == ("permit-renewal",)
    with pytest.raises(PermissionError):
        comment_filter({"service": "benefits-application"}, SERVICES, viewer)
    assert comment_filter({"q": "Esperé, WAIT! wait"}, SERVICES).words == ("esperé", "wait")
    assert comment_filter({"theme": "wait_time"}, SERVICES).theme == "wait_time"
    for bad in ({"service": "nope"}, {"fiscal_year": "2027"}, {"quarter": "5", "fiscal_year": "1"},
                {"sentiment": "angry"}, {"language": "en\n"}, {"channel": "SMS"},
                {"q": " ".join(f"w{i}" for i in range(9))}, {"q": "x" * 201},
                {"theme": "Wait time"}, {"theme": "w"}, {"theme": "x" * 41}):  # fmt: skip
        with pytest.raises(ValueError):
            comment_filter(bad, SERVICES)


async def test_the_api_pages_comments_newest_first(bot: Bot) -> None:
    store = bot.rt.store
    assert store is not None
    for n in range(1, 13):
        comment, language = TEXTS[n % len(TEXTS)]
        await store.write(commented(n, comment, language))
    got = await bot.client.get("/v1/comments?fiscal_year=2027&quarter=1&limit=5", headers=ADMIN)
    assert got.status == 200
    body = await got.json()
    assert [int(c["response_id"], 16) for c in body["comments"]] == [12, 11, 10, 9, 8]
    assert set(body["comments"][0]) == {"response_id", "date", "service", "language", "channel",
                                        "sentiment", "drivers", "themes", "text"}  # fmt: skip
    following = f"/v1/comments?fiscal_year=2027&quarter=1&limit=5&cursor={body['next_cursor']}"
    rest = await (await bot.client.get(following, headers=ADMIN)).json()
    assert [int(c["response_id"], 16) for c in rest["comments"]] == [7, 6, 5, 4, 3]
    found = await (await bot.client.get("/v1/comments?q=esperé&language=es",
                                        headers=ADMIN)).json()  # fmt: skip
    assert [int(c["response_id"], 16) for c in found["comments"]] == [9, 8, 3, 2]
    assert found["next_cursor"] is None
    assert (await bot.client.get("/v1/comments")).status == 401
    phone = await (await bot.client.get("/v1/comments?theme=phone", headers=ADMIN)).json()
    assert [int(c["response_id"], 16) for c in phone["comments"]] == [12, 9, 6, 3]
    assert all(c["themes"] == ["phone", "wait_time"] for c in phone["comments"])
    for query in ("quarter=1", "service=nope", "sentiment=x", "limit=0", "limit=x", "cursor=zz",
                  "q=" + "%20".join(f"w{i}" for i in range(9)), "theme=Phone%20lines"):  # fmt: skip
        response = await bot.client.get(f"/v1/comments?{query}", headers=ADMIN)
        assert response.status == 400, query


@pytest.fixture
async def console(redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Bot]:
    """The console, with the catalog letting viewers read permit-renewal's comments."""
    catalog = (
        (FLOWS_DIR / "services.yaml")
        .read_text()
        .replace(
            "  - id: permit-renewal\n", "  - id: permit-renewal\n    comments_for_viewers: true\n"
        )
    )
    (tmp_path / "services.yaml").write_text(catalog)
    settings = make_settings(fake_twilio, tmp_path, viewer_token=Secret("viewer-token"),
                             services_file=tmp_path / "services.yaml")  # fmt: skip
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as served:
        store = served.rt.store
        assert store is not None
        records = [commented(n, TEXTS[n % 6][0], TEXTS[n % 6][1]) for n in range(1, 61)]
        records.append(response_record(61, ["5", "1", "=HYPERLINK(\"x\") wait"],
                                       service="permit-renewal", flow_id="a11-v2-scale",
                                       completed_at=T0 + timedelta(hours=61)))  # fmt: skip
        await store.write_many(records)
        yield served


async def test_the_console_finds_pages_and_downloads_comments(console: Bot) -> None:
    admin = Browser(console)
    await admin.sign_in("admin-token")
    page = await (await admin.get("/admin/comments")).text()
    assert "Comments, fiscal year 2027 quarter 1" in page  # the quarter of the console's clock
    assert "50 comments (redacted), newest first" in page and "Older comments" in page
    for name in ("q", "service", "fiscal_year", "quarter", "sentiment", "language", "channel",
                 "theme"):  # fmt: skip
        assert f'name="{name}"' in page
    assert '<option value="phone">Phone line</option>' in page
    older = page.split('href="/admin/comments?')[-1].split('"')[0].replace("&amp;", "&")
    rest = await (await admin.get(f"/admin/comments?{older}")).text()
    assert "11 comments (redacted)" in rest and "Newest comments" in rest
    found = await (await admin.get("/admin/comments?q=espere&language=es")).text()
    assert found.count('<td lang="es">') == 20 and "Esperé" in found
    none = await admin.get("/admin/comments?q=" + "%20".join(f"w{i}" for i in range(9)))
    assert none.status == 400 and "at most 8 words" in await none.text()
    download = await admin.get("/admin/comments.csv?q=wait&fiscal_year=2027&quarter=1")
    assert download.status == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert 'filename="comments-fy2027-q1.csv"' in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await download.text())))
    assert rows[0] == ["date", "service", "language", "channel", "sentiment", "branch",
                       "drivers", "themes", "comment"]  # fmt: skip
    assert len(rows) == 1 + 21 and rows[1][8] == '\'=HYPERLINK("x") wait'  # not a formula
    assert rows[2][5:8] == ["positive", "effectiveness efficiency", "phone wait_time"]
    phone = await (await admin.get("/admin/comments?theme=phone&language=en")).text()
    assert phone.count('<td lang="en">') == 10 and "<td>Phone line, Wait time</td>" in phone
    assert '<option value="phone" selected>' in phone
    by_theme = await admin.get("/admin/comments.csv?theme=staff")
    themed = list(csv.reader(io.StringIO(await by_theme.text())))[1:]
    assert len(themed) == 10 and all(r[7] == "staff wait_time" for r in themed)
    bad = await admin.get("/admin/comments?theme=%3Cscript%3E")
    assert bad.status == 400 and "theme" in await bad.text()
    entries = await console.rt.store.audit_entries()  # type: ignore[union-attr]
    assert entries[0]["action"] == "comments.csv" and entries[0]["details"]["theme"] == "staff"
    assert entries[1]["action"] == "comments.csv" and entries[1]["details"]["q"] == "wait"


async def test_a_viewer_reads_only_the_comments_the_catalog_lets_viewers_read(
    console: Bot,
) -> None:
    viewer = Browser(console)
    await viewer.sign_in("viewer-token")
    page = await (await viewer.get("/admin/comments")).text()
    assert "HYPERLINK" in page and "Esperé" not in page  # permit-renewal's only
    assert "1 comments (redacted)" in page
    refused = await viewer.get("/admin/comments?service=benefits-application")
    assert refused.status == 403 and "admins only" in await refused.text()
    assert (await viewer.get("/admin/comments.csv?service=benefits-application")).status == 403
    rows = list(csv.reader(io.StringIO(await (await viewer.get("/admin/comments.csv")).text())))
    assert [r[1] for r in rows[1:]] == ["permit-renewal"]
