"""Equity, effort and goals (pure): who takes part, what a survey asks of people, and how a
service stands against the goals it set. What the store keeps beside each response record
(``tally_fields``, ``figure_fields``, ``progress_key``, ``dimension_groups``) and the figures
made of the store's counts of them (``participation_of``, ``effort_of``, ``summary`` …); the
same figures worked out from whole records are the reference the tests hold these equal to
(``tests/reference.py``).

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

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson

from bot.core.a11 import DRIVERS, trust_field, trust_question
from bot.core.dimensions import (
    BUILT_IN,
    MAX_GROUP_CHARS,
    MAX_GROUPS,
    NOT_STATED,
    OTHER,
    group_of,
    identifying,
)
from bot.core.flow import Flow
from bot.core.goals import LOWER_IS_BETTER, Interval, Value
from bot.core.response import is_offered, is_respondent, reported_at
from bot.core.sinks import DimensionGroup, QuarterCounts, ResponseRecord, TallyGroup

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


@dataclass(frozen=True)
class Tally:
    """The counts behind a group's participation figures."""

    transactions: int
    delivered: int
    respondents: int
    trust_answers: int
    trust_positive: int

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


def _overall(tally: Tally, min_cell: int) -> tuple[dict[str, Any], bool]:
    """Participation's first row (dimension ``all``), and whether it is shown: blanked when
    the service has fewer than ``min_cell`` respondents."""
    total = _row("all", "all", tally, None)
    shown = tally.respondents >= min_cell
    if not shown:
        total.update(dict.fromkeys(_HIDDEN), suppressed=True, hidden="small")
    return total, shown


def _minutes(record: ResponseRecord, until: Literal["first_reply", "ended"]) -> float | None:
    """Minutes from a record's invitation to one of its later timestamps."""
    start, end = record["timestamps"]["invited"], record["timestamps"][until]
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 60


def measure_values(
    tally: Tally, work: dict[str, Any], min_cell: int = MIN_CELL
) -> dict[str, Value]:
    """Every goal measure's value and interval for one service's quarter (from its ``Tally``
    and effort figures, ``effort_of``); the value is None where it is not measurable: fewer
    than ``min_cell`` respondents, or for a time fewer than ``min_cell`` completed surveys."""
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


# --- tallies: what the store keeps beside each record so a summary needs no record -------
# The summary a page shows every time (the console's overview) cannot read a quarter's whole
# records: at 100,000 that takes seconds. The store keeps, beside each record, these fields
# (from the response's own predicates: ``bot.core.response``) and sums them in SQL;
# ``summary`` turns the sums into the figures the reference gives from whole records
# (``tests/reference.py``: a test holds the two equal).


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


DRIVER_FIELDS: tuple[str, ...] = tuple(f"{b}_{d}" for b in ("positive", "negative")
                                       for d in DRIVERS)  # fmt: skip
V1_ITEMS: tuple[str, ...] = tuple(f"q{n}" for n in range(1, 12))


def figure_fields(record: ResponseRecord) -> dict[str, Any]:
    """What the store keeps beside a record, besides ``tally_fields``, so that drivers, the
    A-11 v1 counts and the per-question effort are summed without the record: each driver
    cell as the record has it (1, 0 or None), each v1 answer (None: not a v1 record; 0: a v1
    record with no answer from 1 to 5 there), and how far the survey went
    (``progress_key``)."""
    a11 = record["a11"]
    v1 = "q1" in a11  # what makes a record count in the A-11 v1 counts (``v1_of``)
    fields: dict[str, Any] = {
        f: (int(v) if isinstance(v := a11.get(f), int) else None) for f in DRIVER_FIELDS
    }
    for item in V1_ITEMS:
        value = a11.get(item)
        fields[item] = (value if isinstance(value, int) and 1 <= value <= 5 else 0) if v1 else None
    fields["progress"] = progress_key(record)
    return fields


def progress_key(record: ResponseRecord) -> str:
    """The questions a survey reached, each with whether it was answered, as compact JSON
    (``{"q1":1,"q2":0}``): few distinct values, so the store counts records per value and
    the effort figures are worked out from the counts (``effort_of``)."""
    reached: dict[str, int] = {}
    for question_id, answer in record["answers"].items():
        if answer is not None:
            reached[question_id] = int(answer.get("status") == "answered")
    last = record.get("last_question")
    if last is not None:
        reached.setdefault(last, 0)
    text = orjson.dumps(reached, option=orjson.OPT_SORT_KEYS).decode()
    # orjson's text is the standard library's (compact, keys sorted; ten times as quick: an
    # import computes it for every record) unless a question id is not ASCII, which the
    # standard library escapes: the stored key must stay the same text.
    return text if text.isascii() else json.dumps(reached, sort_keys=True, separators=(",", ":"))


def dimension_groups(record: ResponseRecord) -> dict[str, str]:
    """The groups a record falls in on every attribute that could be a reporting dimension
    (``group_of``), but ``not stated``: the store keeps these (a narrow table) so that any
    dimension a catalog declares, now or later, is counted without the record. Names that
    could identify a person are never a dimension, so they are not kept."""
    out = {}
    for name in record["attributes"]:
        if len(name) > MAX_GROUP_CHARS or identifying(name):
            continue
        group = group_of(record, name)
        if group != NOT_STATED and "\x00" not in group:
            out[name] = group
    return out


def _reprompts(record: ResponseRecord) -> int:
    """Answers the bot could not read and asked again for."""
    return sum(max(0, int(a.get("attempts", 1)) - 1) for a in record["answers"].values())


# --- figures from the store's counts ----------------------------------------------------
# Each below gives exactly what its namesake in ``tests/reference.py`` gives from whole
# records (a test holds them equal on SQLite and PostgreSQL); the decisions (suppression,
# intervals, which side of a scale is positive) are the same functions.

# What participation counts records by: flow, trust answer, offered, responded; and how many.
_Part = tuple[str, int | None, bool, bool, int]


def _part(g: TallyGroup | DimensionGroup) -> _Part:
    return g.flow_id, g.trust_value, g.offered, g.responded, g.count


def positive_side(flow_id: str, trust_value: int | None, flows: Mapping[str, Flow]) -> bool | None:
    """Whether the trust answer of records alike in flow and trust answer is on the positive
    side of its scale (None: no trust answer, or a flow the bot no longer knows)."""
    flow = flows.get(flow_id)
    question = trust_question(flow) if flow else None
    if question is None or trust_value is None:
        return None
    return trust_value >= (question.positive_from or 1)


def tally_of_groups(groups: Iterable[TallyGroup], flows: Mapping[str, Flow]) -> Tally:
    """The ``Tally`` of the records a summary's groups stand for."""
    return tally_of(map(_part, groups), flows)


def tally_of(parts: Iterable[_Part], flows: Mapping[str, Flow]) -> Tally:
    """The ``Tally`` of the records these counts stand for."""
    transactions = delivered = respondents = answers = positive = 0
    for flow_id, trust_value, offered, responded, count in parts:
        transactions += count
        delivered += count if offered else 0
        if responded:
            respondents += count
            side = positive_side(flow_id, trust_value, flows)
            if side is not None:
                answers += count
                positive += count if side else 0
    return Tally(transactions, delivered, respondents, answers, positive)


def participation_of(
    counts: QuarterCounts,
    flows: Mapping[str, Flow],
    dimensions: Sequence[str],
    min_cell: int = MIN_CELL,
) -> list[dict[str, Any]]:
    """One service's participation from its counts: the overall row (dimension ``all``), then
    per dimension (``language``, ``channel``, then the declared ones) a row per group,
    suppressed where small. Language and channel come from its groups, a declared dimension
    from the store's dimension rows, and ``not stated`` from the rest."""
    everyone = [_part(g) for g in counts.groups]
    overall = tally_of(everyone, flows)
    total, total_shown = _overall(overall, min_cell)
    out = [total]
    for dimension in (*BUILT_IN, *dimensions):
        groups: dict[str, list[_Part]] = defaultdict(list)
        if dimension in BUILT_IN:
            for g in counts.groups:
                groups[g.language if dimension == "language" else g.channel].append(_part(g))
        else:
            rest: dict[tuple[str, int | None, bool, bool], int] = defaultdict(int)
            for flow_id, trust_value, offered, responded, count in everyone:
                rest[(flow_id, trust_value, offered, responded)] += count
            for d in counts.dimensions:
                if d.dimension == dimension:
                    groups[d.group].append(_part(d))
                    rest[(d.flow_id, d.trust_value, d.offered, d.responded)] -= d.count
            unstated = [(*key, count) for key, count in rest.items() if count]
            if unstated:
                groups[NOT_STATED] += unstated
        if len(groups) > MAX_GROUPS:  # a free-form attribute: fold the long tail
            size = {g: sum(p[-1] for p in parts) for g, parts in groups.items()}
            ranked = sorted(groups, key=lambda g: (-size[g], g))
            for name in ranked[MAX_GROUPS - 1 :]:
                tail = groups.pop(name)
                groups.setdefault(OTHER, []).extend(tail)
        rows = [_row(dimension, g, tally_of(parts, flows), overall)
                for g, parts in sorted(groups.items())]  # fmt: skip
        _suppress(rows, min_cell, total_shown)
        out += rows
    return out


def effort_of(counts: QuarterCounts, flow: Flow | None) -> dict[str, Any]:
    """What the survey asked of the people it reached (see the module's method), from a
    service's counts: times from the store's percentiles, and per question the offered
    records that reached and answered it (from ``progress_key``)."""
    started = completed = reprompts = 0
    for g in counts.groups:
        started += g.count if g.started else 0
        if g.completed:
            completed += g.count
            reprompts += g.reprompts
    progress = [(json.loads(key), count) for key, count in counts.progress.items()]
    questions = []
    for question in flow.questions if flow else ():
        reached = sum(count for went, count in progress if question.id in went)
        answered = sum(count for went, count in progress if went.get(question.id) == 1)
        questions.append({"id": question.id, "reached": reached, "answered": answered})
    return {
        **{k: counts.percentiles.get(k) for k in TIMES},
        "reprompts_per_completed": round(reprompts / completed, 2) if completed else None,
        "started": started,
        "completed": completed,
        "questions": questions,
    }


TIMES = ("first_reply_minutes_p50", "first_reply_minutes_p90", "completion_minutes_p50",
         "completion_minutes_p90")  # fmt: skip


def drivers_of(
    counts: QuarterCounts, flows: Mapping[str, Flow]
) -> tuple[dict[str, int], dict[str, dict[str, float | None]]]:
    """Respondents per trust branch, and per branch each driver's share among the
    respondents on it whose form offered it (the report's ``drivers``)."""
    members = {"positive": 0, "negative": 0}
    cells: dict[str, dict[str, list[int]]] = {b: {d: [0, 0] for d in DRIVERS} for b in members}
    for sums in counts.drivers:
        side = positive_side(sums.flow_id, sums.trust_value, flows)
        if side is None:
            continue
        branch = "positive" if side else "negative"
        members[branch] += sums.count
        for d in DRIVERS:
            answered, chosen = sums.cells.get(f"{branch}_{d}", (0, 0))
            cells[branch][d][0] += answered
            cells[branch][d][1] += chosen
    shares = {b: {d: round(s / n, 4) if n else None for d, (n, s) in per.items()}
              for b, per in cells.items()}  # fmt: skip
    return members, shares


def sentiment_of(counts: QuarterCounts) -> dict[str, dict[str, int]]:
    """Respondents' sentiment labels per language, languages and labels in order."""
    by_language: dict[str, dict[str, int]] = defaultdict(dict)
    for g in counts.groups:
        if g.responded and g.sentiment is not None:
            per = by_language[g.language]
            per[g.sentiment] = per.get(g.sentiment, 0) + g.count
    return {lang: dict(sorted(c.items())) for lang, c in sorted(by_language.items())}


def summary(
    groups: Sequence[TallyGroup],
    flows: Mapping[str, Flow],
    percentiles: Mapping[str, float | None],
    min_cell: int = MIN_CELL,
) -> tuple[Tally, dict[str, Any], dict[str, int], dict[str, Value]]:
    """A service's quarter from the store's sums: its ``Tally``, the effort figures a
    summary shows (no per-question counts), the sentiment mix of its respondents, and the
    goal measures' values. ``percentiles`` are the store's (``first_reply_minutes_p50`` …)."""
    started = completed = reprompts = 0
    sentiment: dict[str, int] = {}
    for g in groups:
        started += g.count if g.started else 0
        if g.completed:
            completed += g.count
            reprompts += g.reprompts
        if g.responded and g.sentiment:
            sentiment[g.sentiment] = sentiment.get(g.sentiment, 0) + g.count
    tally = tally_of_groups(groups, flows)
    work: dict[str, Any] = {
        **{k: percentiles.get(k) for k in ("first_reply_minutes_p50", "first_reply_minutes_p90",
                                           "completion_minutes_p50", "completion_minutes_p90")},
        "reprompts_per_completed": round(reprompts / completed, 2) if completed else None,
        "started": started,
        "completed": completed,
        "questions": [],
    }  # fmt: skip
    return tally, work, dict(sorted(sentiment.items())), measure_values(tally, work, min_cell)
