"""A national-volume data set of response records, as JSON lines for ``feedback-bot import``.

    python3 bench/dataset.py --count 1000000 --out var/bench/records.jsonl [--seed 2027]

Two services (``benefits-application``, thumbs; ``permit-renewal``, 1–5), eight regions,
English and Spanish (about a third), spread evenly over fiscal 2026's fourth quarter (July to
September 2026: a quarter that is over, as every day of real data is; rows dated after today
would be no one's). Each
record is a copy, with its own ids, person and times, of one of a few hundred built through
the real engine, redaction and sentiment scorer; their comments are the 250 hand-written ones
of ``bench/data/original`` (English and Spanish), so words such as "wait" and "esperé" are common.
Written in constant memory; a million records are about 1.5 GB.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.sinks import ResponseRecord
from tests.records import response_record

HERE = Path(__file__).resolve().parent
SERVICES = [("benefits-application", "a11-v2-thumbs"), ("permit-renewal", "a11-v2-scale")]
REGIONS = ["Northeast", "Mid-Atlantic", "Southeast", "Midwest", "Plains", "Mountain",
           "Southwest", "Pacific"]  # fmt: skip
FISCAL = (2026, 4)  # the quarter the records are in, as the reports' options name it
QUARTER = (datetime(2026, 7, 1, 4, 0, tzinfo=UTC), datetime(2026, 9, 30, 23, 0, tzinfo=UTC))
TEMPLATES = 600


def comments(name: str) -> list[tuple[str, str]]:
    with (HERE / "data" / name).open(encoding="utf-8") as f:
        return [(row["label"], row["text"]) for row in csv.DictReader(f, delimiter="\t")]


def templates(seed: int) -> list[ResponseRecord]:
    """Records built through the engine: a trust answer that fits the comment's sentiment,
    drivers on its branch, the comment (some skipped, some surveys left unanswered)."""
    rng = random.Random(seed)
    english, spanish = comments("original/sentiment_en.tsv"), comments("original/sentiment_es.tsv")
    out = []
    for n in range(TEMPLATES):
        service, flow = SERVICES[n % 2]
        language = "es" if n % 3 == 0 else "en"
        label, text = rng.choice(spanish if language == "es" else english)
        good = label == "positive" or (label == "neutral" and rng.random() < 0.6)
        trust = ("yes" if good else "no") if flow == "a11-v2-thumbs" else ("5" if good else "2")
        drivers = " ".join(sorted(rng.sample(["1", "2", "3", "4"], rng.randint(1, 3))))
        shape = rng.random()
        if shape < 0.1:
            replies: list[str] = []  # never answered
        elif shape < 0.25:
            replies = [trust, drivers, "skip"]  # no comment
        else:
            replies = [trust, drivers, text]
        out.append(response_record(
            n, replies, service=service, flow_id=flow, language=language,
            attributes={"region": REGIONS[n % len(REGIONS)]},
            first_reply_after=timedelta(minutes=rng.randint(1, 90)),
            ended_after=timedelta(minutes=rng.randint(92, 180)),
        ))  # fmt: skip
    return out


def _shifted(value: str | None, by: timedelta) -> str | None:
    return None if value is None else (datetime.fromisoformat(value) + by).isoformat()


def records(count: int, seed: int = 2027) -> Iterator[ResponseRecord]:
    """``count`` records, each a template with new ids and times spread over the quarter."""
    base = templates(seed)
    start = datetime.fromisoformat(base[0]["timestamps"]["transaction"])
    span = (QUARTER[1] - QUARTER[0]) - timedelta(days=1)
    rng = random.Random(seed + 1)
    for i in range(count):
        template = base[i % len(base)]
        by = QUARTER[0] - start + span * (i / max(1, count))
        by += timedelta(seconds=rng.randint(0, 3600))
        record: Any = {**template}
        record["response_id"] = record["survey_id"] = f"{i + 1:032x}"
        record["transaction_id"] = f"national-{i + 1}"
        record["respondent"] = f"{rng.getrandbits(128):032x}"
        record["timestamps"] = {k: _shifted(v, by) for k, v in template["timestamps"].items()}
        yield record


def write(path: Path, count: int, seed: int = 2027) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for record in records(count, seed):
            out.write(orjson.dumps(record) + b"\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("var/bench/records.jsonl"))
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    t0 = time.perf_counter()
    write(args.out, args.count, args.seed)
    took = time.perf_counter() - t0
    print(f"{args.count} records written to {args.out} in {took:.1f} s")


if __name__ == "__main__":
    main()
