"""Equity, effort and goals from response records (pure): who takes part, what a survey asks
of people, and how a service stands against the goals it set.

Method (documented because agencies publish these figures):

- **Intervals** are 95% Wilson score intervals (Wilson 1927), which stay inside 0-1 and keep
  their coverage for small groups and shares near 0 or 1, where the normal interval fails.
- **Participation** is cut by language, channel and each attribute the service declares as a
  reporting dimension. A group's response rate is respondents over invitations delivered; its
  trust-positive share is positive trust answers over trust answers.
- **Small cells**: a group with fewer than ``MIN_CELL`` respondents has its respondents, rates
  and shares replaced by null and ``suppressed: true``. When one cell alone in a dimension is
  suppressed, the next smallest is suppressed too (complementary suppression): otherwise the
  total minus the shown groups would give the hidden one back.
- **Non-response** is flagged when the response rate of everyone else in the dimension lies
  outside a group's interval: the scores may not speak for that group (or for the rest).
- **Effort** is minutes from the invitation to the first reply and to the end of a completed
  survey (median and 90th percentile, linear interpolation between ranks), reprompts (answers
  the bot could not read and asked again) per completed survey, and per question how many
  people reached it and how many answered it.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.core.a11 import trust_field, trust_question
from bot.core.dimensions import BUILT_IN, MAX_GROUPS, OTHER, group_of
from bot.core.flow import Flow
from bot.core.goals import LOWER_IS_BETTER, Interval, Value
from bot.core.response import is_offered, is_respondent, reported_at
from bot.core.sinks import ResponseRecord, TallyGroup

MIN_CELL = 10  # the default; MIN_CELL in the environment


def methods(min_cell: int = MIN_CELL) -> dict[str, str]:
    """The methods note every report and the public site carry (plain words for the public)."""
    return {
        "intervals": "95% Wilson score intervals: with 95% confidence the true share lies in "
        "the interval; a wide interval means few answers.",
        "suppression": f"A group with fewer than {min_cell} respondents is not shown (its "
        "figures are suppressed); when only one group in a breakdown would be hidden, the next "
        "smallest is hidden too, so the hidden one cannot be worked out from the total.",
        "nonresponse": "A group is flagged when the response rate of everyone else lies outside "
        "the group's interval: its scores may not speak for everyone.",
        "effort": "Minutes from the invitation to the first reply and to the end of a completed "
        "survey (median and 90th percentile), questions asked again because the answer could "
        "not be read, and how many people reached and answered each question.",
        "response_rate": "Respondents (people who answered the trust question) over invitations "
        "delivered.",
    }


Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson(successes: int, trials: int, z: float = Z95) -> Interval | None:
    """The Wilson score interval of a proportion (None with no trials), to 4 places."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def trust_positive(record: ResponseRecord, flows: Mapping[str, Flow]) -> bool | None:
    """Whether a response's trust answer is on the positive side of its scale (None: no
    trust answer, or a flow the bot no longer knows)."""
    flow = flows.get(record["flow_id"])
    question = trust_question(flow) if flow else None
    value = record["a11"].get(trust_field(record["a11"]) or "")
    if question is None or not isinstance(value, int):
        return None
    return value >= (question.positive_from or 1)


@dataclass(frozen=True)
class Tally:
    """The counts behind a group's participation figures."""

    transactions: int
    delivered: int
    respondents: int
    trust_answers: int
    trust_positive: int

    @classmethod
    def of(cls, records: Sequence[ResponseRecord], flows: Mapping[str, Flow]) -> Tally:
        respondents = [r for r in records if is_respondent(r)]
        trust = [p for r in respondents if (p := trust_positive(r, flows)) is not None]
        return cls(len(records), sum(map(is_offered, records)), len(respondents), len(trust),
                   sum(trust))  # fmt: skip

    @property
    def response_rate(self) -> float | None:
        return _share(self.respondents, self.delivered)

    @property
    def trust_share(self) -> float | None:
        return _share(self.trust_positive, self.trust_answers)


def _row(dimension: str, group: str, tally: Tally, overall: Tally | None) -> dict[str, Any]:
    rate, share = tally.response_rate, tally.trust_share
    row: dict[str, Any] = {
        "dimension": dimension,
        "group": group,
        "transactions": tally.transactions,
        "delivered": tally.delivered,
        "respondents": tally.respondents,
        "response_rate": rate,
        "response_rate_ci": wilson(tally.respondents, tally.delivered),
        "trust_positive": share,
        "trust_positive_ci": wilson(tally.trust_positive, tally.trust_answers),
        "response_rate_gap": None,
        "trust_positive_gap": None,
        "suppressed": False,
        # why a suppressed row is hidden: "small" (fewer than min_cell respondents) or
        # "complement" (shown, it would give a small group's figures back by subtraction)
        "hidden": None,
        "flag": None,
    }
    if overall is not None:
        if rate is not None and overall.response_rate is not None:
            row["response_rate_gap"] = round(rate - overall.response_rate, 4)
        if share is not None and overall.trust_share is not None:
            row["trust_positive_gap"] = round(share - overall.trust_share, 4)
        row["flag"] = _nonresponse(tally, overall)
    return row


def _nonresponse(group: Tally, overall: Tally) -> str | None:
    """``lower_response`` / ``higher_response`` when everyone else's response rate lies
    outside this group's interval."""
    rest_delivered = overall.delivered - group.delivered
    interval = wilson(group.respondents, group.delivered)
    if interval is None or rest_delivered <= 0:
        return None
    rest = (overall.respondents - group.respondents) / rest_delivered
    if rest > interval[1]:
        return "lower_response"
    if rest < interval[0]:
        return "higher_response"
    return None


_HIDDEN = ("respondents", "response_rate", "response_rate_ci", "trust_positive",
           "trust_positive_ci", "response_rate_gap", "trust_positive_gap", "flag")  # fmt: skip


def _suppress(rows: list[dict[str, Any]], min_cell: int, total_shown: bool) -> None:
    """Blank small cells in one dimension's rows, and their complement (in place)."""
    small = [r for r in rows if r["respondents"] < min_cell]
    shown = sorted((r for r in rows if r["respondents"] >= min_cell),
                   key=lambda r: (r["respondents"], r["group"]))  # fmt: skip
    for row in small:
        row.update(dict.fromkeys(_HIDDEN), suppressed=True, hidden="small")
    if total_shown and len(small) == 1 and shown:
        shown[0].update(dict.fromkeys(_HIDDEN), suppressed=True, hidden="complement")


def participation(
    records: Sequence[ResponseRecord],
    flows: Mapping[str, Flow],
    dimensions: Sequence[str],
    min_cell: int = MIN_CELL,
) -> list[dict[str, Any]]:
    """One service's participation: the overall row (dimension ``all``), then per dimension
    (``language``, ``channel``, then the declared ones) a row per group, suppressed where
    small."""
    overall = Tally.of(records, flows)
    total = _row("all", "all", overall, None)
    total_shown = overall.respondents >= min_cell
    if not total_shown:
        total.update(dict.fromkeys(_HIDDEN), suppressed=True, hidden="small")
    out = [total]
    for dimension in (*BUILT_IN, *dimensions):
        groups: dict[str, list[ResponseRecord]] = defaultdict(list)
        for record in records:
            groups[group_of(record, dimension)].append(record)
        if len(groups) > MAX_GROUPS:  # a free-form attribute: fold the long tail
            ranked = sorted(groups, key=lambda g: (-len(groups[g]), g))
            for name in ranked[MAX_GROUPS - 1 :]:
                tail = groups.pop(name)
                groups.setdefault(OTHER, []).extend(tail)
        rows = [_row(dimension, g, Tally.of(rs, flows), overall)
                for g, rs in sorted(groups.items())]  # fmt: skip
        _suppress(rows, min_cell, total_shown)
        out += rows
    return out


def _minutes(record: ResponseRecord, until: Literal["first_reply", "ended"]) -> float | None:
    """Minutes from a record's invitation to one of its later timestamps."""
    start, end = record["timestamps"]["invited"], record["timestamps"][until]
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 60


def percentile(values: Sequence[float], q: int) -> float | None:
    """The q-th percentile, interpolated between ranks (numpy's default), to 0.1."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


def effort(records: Sequence[ResponseRecord], flow: Flow | None) -> dict[str, Any]:
    """What the survey asked of the people it reached (see the module's method)."""
    offered = [r for r in records if is_offered(r)]
    first = [m for r in offered if (m := _minutes(r, "first_reply")) is not None]
    completed = [r for r in offered if r["disposition"] == "completed"]
    done = [m for r in completed if (m := _minutes(r, "ended")) is not None]
    reprompts = sum(_reprompts(r) for r in completed)
    questions = []
    for question in flow.questions if flow else ():
        reached = answered = 0
        for record in offered:
            answer = record["answers"].get(question.id)
            if answer is not None or record.get("last_question") == question.id:
                reached += 1
                answered += answer is not None and answer.get("status") == "answered"
        questions.append({"id": question.id, "reached": reached, "answered": answered})
    return {
        "first_reply_minutes_p50": percentile(first, 50),
        "first_reply_minutes_p90": percentile(first, 90),
        "completion_minutes_p50": percentile(done, 50),
        "completion_minutes_p90": percentile(done, 90),
        "reprompts_per_completed": round(reprompts / len(completed), 2) if completed else None,
        "started": len(first),
        "completed": len(completed),
        "questions": questions,
    }


def measure_values(
    tally: Tally, work: dict[str, Any], min_cell: int = MIN_CELL
) -> dict[str, Value]:
    """Every goal measure's value and interval for one service's quarter (from its ``Tally``
    and ``effort``); the value is None where it is not measurable: fewer than ``min_cell``
    respondents, or for a time fewer than ``min_cell`` completed surveys."""
    enough = tally.respondents >= min_cell
    timed = enough and work["completed"] >= min_cell
    completed, started = work["completed"], work["started"]
    values: dict[str, Value] = {
        "trust_positive": (tally.trust_share, wilson(tally.trust_positive, tally.trust_answers)),
        "response_rate": (tally.response_rate, wilson(tally.respondents, tally.delivered)),
        "completion_rate": (_share(completed, started), wilson(completed, started)),
        **{m: (work[m], None) for m in LOWER_IS_BETTER},
    }
    return {
        m: (v if (timed if m in LOWER_IS_BETTER else enough) else (None, None))
        for m, v in values.items()
    }


def by_service(records: Iterable[ResponseRecord]) -> dict[str, list[ResponseRecord]]:
    """Records grouped by service, in the order given."""
    out: dict[str, list[ResponseRecord]] = defaultdict(list)
    for record in records:
        out[record["service_id"]].append(record)
    return out


# --- tallies: what the store keeps beside each record so a summary needs no record -------
# The summary a page shows every time (the console's overview) cannot read a quarter's whole
# records: at 100,000 that takes seconds. The store keeps, beside each record, these fields
# (from the same predicates as above) and sums them in SQL; ``summary`` turns the sums into
# the figures ``Tally`` and ``effort`` give from records (a test holds the two equal).


def tally_fields(record: ResponseRecord) -> dict[str, Any]:
    """A record's contribution to the summaries, as the store keeps it beside the record."""
    offered = is_offered(record)
    completed = offered and record["disposition"] == "completed"
    first = _minutes(record, "first_reply") if offered else None
    a11 = record["a11"]
    trust = a11.get(trust_field(a11) or "")
    return {
        "reported_at": reported_at(record),
        "offered": offered,
        "responded": is_respondent(record),
        "trust_value": trust if isinstance(trust, int) else None,
        "started": first is not None,
        "completed": completed,
        "first_reply_minutes": first,
        "completion_minutes": _minutes(record, "ended") if completed else None,
        "reprompts": _reprompts(record) if completed else 0,
    }


def _reprompts(record: ResponseRecord) -> int:
    """Answers the bot could not read and asked again for."""
    return sum(max(0, int(a.get("attempts", 1)) - 1) for a in record["answers"].values())


def summary(
    groups: Sequence[TallyGroup],
    flows: Mapping[str, Flow],
    percentiles: Mapping[str, float | None],
    min_cell: int = MIN_CELL,
) -> tuple[Tally, dict[str, Any], dict[str, int], dict[str, Value]]:
    """A service's quarter from the store's sums: its ``Tally``, the ``effort`` figures a
    summary shows (no per-question counts), the sentiment mix of its respondents, and the
    goal measures' values. ``percentiles`` are the store's (``first_reply_minutes_p50`` …)."""
    transactions = delivered = respondents = answers = positive = 0
    started = completed = reprompts = 0
    sentiment: dict[str, int] = {}
    for g in groups:
        transactions += g.count
        delivered += g.count if g.offered else 0
        started += g.count if g.started else 0
        if g.completed:
            completed += g.count
            reprompts += g.reprompts
        if not g.responded:
            continue
        respondents += g.count
        if g.sentiment:
            sentiment[g.sentiment] = sentiment.get(g.sentiment, 0) + g.count
        flow = flows.get(g.flow_id)
        question = trust_question(flow) if flow else None
        if question is not None and g.trust_value is not None:
            answers += g.count
            positive += g.count if g.trust_value >= (question.positive_from or 1) else 0
    tally = Tally(transactions, delivered, respondents, answers, positive)
    work: dict[str, Any] = {
        **{k: percentiles.get(k) for k in ("first_reply_minutes_p50", "first_reply_minutes_p90",
                                           "completion_minutes_p50", "completion_minutes_p90")},
        "reprompts_per_completed": round(reprompts / completed, 2) if completed else None,
        "started": started,
        "completed": completed,
        "questions": [],
    }  # fmt: skip
    return tally, work, dict(sorted(sentiment.items())), measure_values(tally, work, min_cell)
