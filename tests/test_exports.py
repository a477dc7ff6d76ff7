"""The per-response CSV streamed: the store reads a quarter's responses a page at a time
(keyset paging, each page its own query), and the CLI, the API and the console send the file
as its pages come (chunked, no length), byte for byte the file the report made from every
record at once; real SQLite and PostgreSQL, the real app and the command itself."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import event

from adapters.sql import SqlStore
from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core import reports
from bot.core.public import public_report
from bot.core.sinks import ResponseRecord
from bot.service import exports
from bot.service.publish import render, write_site

from . import reference
from .conftest import make_settings, serving
from .records import FLOWS, T0, response_record
from .test_console import Browser
from .test_reports import SERVICES
from .test_store import PG_URL, fresh_store

KINDS = ["sqlite", "postgresql"]
HOSTILE = ["=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)", "-2 stars", "ok\r=1+1", "fine, thanks"]


def quarter_of_records() -> list[ResponseRecord]:
    """Responses of both services and scales, comments a spreadsheet would run, answers
    without a comment, surveys never answered, several ending at the same moment (their ids
    then give the order, stored out of it), one of a service the catalog no longer names, and
    some on either side of the quarter's edges in New York."""
    out = []
    for n in range(1, 41):
        scale = n % 3 == 0
        replies = [["yes", "1 3", HOSTILE[n % 6]], ["no", "2", "skip"], []][n % 4 % 3]
        if scale:
            replies = [{"yes": "5", "no": "2"}.get(r, r) for r in replies]
        out.append(response_record(
            n, replies, service="permit-renewal" if scale else "benefits-application",
            flow_id="a11-v2-scale" if scale else "a11-v2-thumbs",
            language="es" if n % 4 == 0 else "en", expire=n % 7 == 0,
            completed_at=T0 + timedelta(hours=n % 9),  # ties: ended at the same moment
        ))  # fmt: skip
    out.append(response_record(50, ["yes", "1", "gone"], service="retired-service"))
    for n, moment in (
        (60, datetime(2026, 10, 1, 3, 30, tzinfo=UTC)),  # Sept 30, 23:30 ET
        (61, datetime(2026, 10, 1, 4, 30, tzinfo=UTC)),  # Oct 1, 00:30 ET
        (62, datetime(2027, 1, 1, 4, 30, tzinfo=UTC)),  # Dec 31, 23:30 ET
        (63, datetime(2027, 1, 1, 5, 30, tzinfo=UTC)),
    ):  # Jan 1 ET: Q2
        out.append(response_record(n, ["yes", "1", "edge"], completed_at=moment,
                                   ended_after=timedelta(0)))  # fmt: skip
    return sorted(out, key=lambda r: r["response_id"], reverse=True)  # stored out of order


def today(records: list[ResponseRecord], service: str | None = None) -> str:
    """The file as the core makes it from every record of the quarter at once (the
    reference)."""
    chosen = [r for r in records if service is None or r["service_id"] == service]
    return reference.per_response_csv(reference.in_quarter(chosen, SERVICES, 2027, 1))


@asynccontextmanager
async def filled(kind: str, tmp_path: Path) -> AsyncIterator[tuple[SqlStore, list[Any]]]:
    """A fresh store holding the quarter's records, and the statements it is sent."""
    store = await fresh_store(kind, tmp_path)
    sent: list[Any] = []

    def note(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        sent.append(statement)

    try:
        await store.write_many(quarter_of_records())
        event.listen(store.engine.sync_engine, "before_cursor_execute", note)
        yield store, sent
    finally:
        await store.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_the_streamed_csv_is_the_report_s_byte_for_byte_read_a_page_a_query(
    kind: str, tmp_path: Path
) -> None:
    records = quarter_of_records()
    expected = today(records)
    rows = len(list(csv.reader(io.StringIO(expected)))) - 1
    assert rows == 33 and "'=1+1" in expected and "ok\n=1+1" in expected  # what is at stake
    async with filled(kind, tmp_path) as (store, sent):
        for page in (3, 7, 28, 1000):
            sent.clear()
            parts = [p async for p in exports.per_response_csv(store, SERVICES, 2027, 1,
                                                               page=page)]  # fmt: skip
            assert "".join(parts) == expected
            # One query a page (the last one short, or empty when the rows fill the pages),
            # and as many parts; no query reads more than a page.
            pages = rows // page + 1
            reads = [s for s in sent if "FROM responses" in s]
            assert len(reads) == pages and len(parts) == max(1, rows // page + (rows % page > 0))
            assert all("LIMIT" in s for s in reads)
        for service in ("permit-renewal", "benefits-application", "retired-service"):
            one = [p async for p in exports.per_response_csv(store, SERVICES, 2027, 1, service,
                                                             page=4)]  # fmt: skip
            assert "".join(one) == today(records, service)
        empty = [p async for p in exports.per_response_csv(store, SERVICES, 2026, 3)]
        assert empty == [reports.upload_header()]


@pytest.mark.parametrize("kind", KINDS)
async def test_the_api_and_the_console_send_the_csv_chunked_as_it_is_read(
    kind: str, tmp_path: Path, redis: Redis, fake_twilio: FakeTwilio
) -> None:
    # The app's own store is where its settings say: the records go there first.
    store = await fresh_store(kind, tmp_path)
    records = quarter_of_records()
    await store.write_many(records)
    await store.close()
    settings = make_settings(fake_twilio, tmp_path,
                             database_url="" if kind == "sqlite" else PG_URL)  # fmt: skip
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as bot:
        query = "fiscal_year=2027&quarter=1"
        api = await bot.client.get(f"/v1/reports/a11?{query}&format=csv",
                                   headers={"Authorization": "Bearer admin-token"})  # fmt: skip
        admin = Browser(bot)
        await admin.sign_in("admin-token")
        console = await admin.get(f"/admin/reports/a11.csv?{query}")
        one = await bot.client.get(f"/v1/reports/a11?{query}&format=csv&service=permit-renewal",
                                   headers={"Authorization": "Bearer admin-token"})  # fmt: skip
        for response, expected in ((api, today(records)), (console, today(records)),
                                   (one, today(records, "permit-renewal"))):  # fmt: skip
            assert response.status == 200
            assert "Content-Length" not in response.headers
            assert response.headers["Transfer-Encoding"] == "chunked"
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
            assert (await response.read()).decode("utf-8") == expected
        assert api.headers["Content-Disposition"] == 'attachment; filename="a11-fy2027-q1.csv"'


@pytest.mark.parametrize("kind", KINDS)
async def test_the_json_report_gives_the_csv_s_row_count_and_address_not_the_csv(
    kind: str, tmp_path: Path, redis: Redis, fake_twilio: FakeTwilio
) -> None:
    """The JSON report carries the per-response CSV's row count and its address, never the
    CSV (a quarter's is tens of megabytes at national volume): the count is the CSV's
    own, v1 respondents and unanswered surveys apart, and the address gives it."""
    store = await fresh_store(kind, tmp_path)
    v1 = [response_record(100 + n, ["5", "4", "4", "3", "5", "agree", "Great help"],
                          service="helpdesk-call", flow_id="a11-v1") for n in range(3)]  # fmt: skip
    # and one of a custom flow (no trust item: a respondent for having answered, no CSV row)
    custom = response_record(200, ["yes", "1", "ok"], service="permit-renewal")
    custom["a11"] = {"satisfaction": 4, "comment": "ok"}
    # Flows whose fields are another instrument's (the builder offers them whatever the
    # instrument): a custom flow's trust-like ``q2`` without ``q1`` (a respondent, no CSV
    # row), and a v2 record that also names ``q1`` (a CSV row: it has ``question_1``).
    borrowed = response_record(201, ["yes", "1", "ok"], service="permit-renewal")
    borrowed["a11"] = {"q2": 4, "comment": "ok"}
    both = response_record(202, ["yes", "1", "ok"], service="benefits-application")
    both["a11"] = {**both["a11"], "q1": 3}
    records = [*quarter_of_records(), *v1, custom, borrowed, both]
    await store.write_many(records)
    await store.close()
    settings = make_settings(fake_twilio, tmp_path,
                             database_url="" if kind == "sqlite" else PG_URL)  # fmt: skip
    admin = {"Authorization": "Bearer admin-token"}
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as bot:
        for service, rows in ((None, 34), ("permit-renewal", 10), ("helpdesk-call", 0),
                              ("benefits-application", 23)):  # fmt: skip
            query = "fiscal_year=2027&quarter=1"
            one = f"&service={service}" if service else ""
            response = await bot.client.get(f"/v1/reports/a11?{query}{one}", headers=admin)
            assert response.status == 200
            report = await response.json()
            assert "per_response_csv" not in report and "external_id" not in await response.text()
            expected = today(records, service)
            assert report["per_response_rows"] == rows  # a comment may hold a line break
            assert len(list(csv.reader(io.StringIO(expected)))) == 1 + rows
            assert report["per_response_csv_url"] == f"/v1/reports/a11?{query}&format=csv{one}"
            got = await bot.client.get(report["per_response_csv_url"], headers=admin)
            text = (await got.read()).decode("utf-8")
            assert text == expected
            # the respondents the collection detail counts include the v1 ones: not CSV rows
            respondents = sum(d["volume_of_respondents"] for d in report["collection_detail"])
            others = {None: 5, "permit-renewal": 2, "helpdesk-call": 3, "benefits-application": 0}
            assert respondents == rows + others[service]


def test_the_cli_writes_the_csv_as_it_reads(tmp_path: Path) -> None:
    import asyncio

    async def fill() -> None:
        store = await fresh_store("postgresql", tmp_path)
        await store.write_many(quarter_of_records())
        await store.close()

    asyncio.run(fill())
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": PG_URL}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "--fiscal-year", "2027", "--quarter", "1",
         "--format", "csv"], capture_output=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8") == today(quarter_of_records())


def test_publish_writes_the_rendered_files_their_cells_neutralised(tmp_path: Path) -> None:
    records = [
        response_record(
            n, ["yes" if n % 3 else "no", "1 3", "ok"], attributes={"region": f"=r{n % 2}"}
        )
        for n in range(700)
    ]
    public = public_report(reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1), SERVICES)
    files = render(public)
    assert len(list(csv.reader(io.StringIO(files["data.csv"])))) > 1
    written = write_site(public, tmp_path / "site")
    assert {p.name: p.read_bytes() for p in written} == {
        name: text.encode("utf-8") for name, text in files.items()}  # fmt: skip
    assert "'=r0" in files["data.csv"]  # through the core's writer
