"""The response record: what an ended survey becomes in the measures store."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from bot.core import engine
from bot.core.a11 import a11_fields, trust_field
from bot.core.errors import PermanentError
from bot.core.flow import Flow
from bot.core.records import SurveyRecord, received_at, stored_session
from bot.core.redact import redact
from bot.core.sentiment import score
from bot.core.sinks import ResponseRecord
from bot.core.themes import Taxonomy, tag
from bot.core.themes_default import DEFAULT as DEFAULT_THEMES

SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "response-record.v1.json"
SCHEMA_VERSION = 1


class MalformedRecord(PermanentError):
    """A response record that does not match its schema; never retried."""


@cache
def _validator() -> jsonschema_rs.Validator:
    # jsonschema-rs: the same Draft 2020-12 checks as the jsonschema package, about a hundred
    # times faster (7 µs a record against 760), which an import of a million records needs;
    # times are checked as RFC 3339 date-times (with their offset).
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def problems(record: Any) -> list[str]:
    """What in ``record`` breaks the schema, one line per problem naming its path; never the
    value of a long text (a comment must not reach an error, a log or a terminal)."""
    if _validator().is_valid(record):  # the usual case, a third quicker than listing none
        return []
    found = [(".".join(str(p) for p in e.instance_path) or "(root)", _describe(e))
             for e in _validator().iter_errors(record)]  # fmt: skip
    return [f"{path}: {why}" for path, why in sorted(found)]


def validate(record: Any) -> None:
    """Raise MalformedRecord, naming every problem, when ``record`` breaks the schema."""
    found = problems(record)
    if found:
        raise MalformedRecord(
            f"response record does not match schema v{SCHEMA_VERSION}: {'; '.join(found)}"
        )


def from_line(line: bytes) -> ResponseRecord:
    """A response record from a line of ``feedback-bot export`` (JSON, one record); raises
    MalformedRecord saying what is wrong with it, without quoting it."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise MalformedRecord(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
        raise MalformedRecord(f"a JSON {kind.get(type(value), 'null')}, not a record (an object)")
    if "schema_version" not in value:
        raise MalformedRecord("no schema_version: not a response record")
    if value["schema_version"] != SCHEMA_VERSION:
        raise MalformedRecord(f"schema_version {value['schema_version']!r}: this bot reads "
                              f"version {SCHEMA_VERSION}")  # fmt: skip
    if found := problems(value):
        raise MalformedRecord("; ".join(found))
    record: ResponseRecord = value  # type: ignore[assignment]  # checked against its schema
    return record


def _describe(error: jsonschema_rs.ValidationError) -> str:
    if isinstance(error.instance, str) and len(error.instance) > 40:
        kind = type(error.kind).__name__
        return f"a text of {len(error.instance)} characters fails {kind[:1].lower()}{kind[1:]}"
    return error.message


def build(
    survey: SurveyRecord,
    flow: Flow | None,
    reported_channel: str,
    themes: Taxonomy = DEFAULT_THEMES,
) -> ResponseRecord:
    """The response record of an ended survey (free text redacted, then scored and tagged
    with the service's ``themes``), its channel reported under ``reported_channel`` (its
    kind's federal channel name)."""
    session = stored_session(survey) if survey.get("session") else None
    answers = {k: a.to_dict() for k, a in session.answers.items()} if session else {}
    a11 = a11_fields(flow, session) if flow is not None and session is not None else {}
    texts = [
        str(answers[q.id]["value"])
        for q in (flow.questions if flow is not None else ())
        if q.type == "text" and answers.get(q.id, {}).get("status") == "answered"
    ]
    free_text = redact("\n".join(texts)) if texts else None
    for q in flow.questions if flow is not None else ():
        if q.type == "text" and q.field and isinstance(a11.get(q.field), str):
            a11[q.field] = redact(str(a11[q.field]))
    language = session.language if session else str(survey.get("language", "en"))
    record: ResponseRecord = {
        "schema_version": SCHEMA_VERSION,
        "response_id": survey["survey_id"],
        "survey_id": survey["survey_id"],
        "transaction_id": survey["transaction_id"],
        "service_id": survey["service"],
        "flow_id": survey["flow_id"],
        "flow_version": survey["flow_version"],
        "channel": survey["channel"],
        "reported_channel": reported_channel,
        "language": language,
        "respondent": survey["person"],
        "disposition": survey["disposition"],
        "reason": survey.get("reason"),
        "decision": survey.get("decision"),
        "timestamps": {
            "transaction": survey["completed_at"],
            "received": received_at(survey),
            "invited": survey.get("invited_at"),
            "delivered": survey.get("delivered_at"),
            "first_reply": survey.get("first_reply_at"),
            "ended": survey["ended_at"],
        },
        "answers": answers,
        "a11": a11,
        "free_text": free_text,
        "sentiment": score(free_text, language).to_dict() if free_text else None,
        "themes": list(tag(free_text, language, themes)),
        "attributes": survey.get("attributes", {}),
        "last_question": (engine.pending_question(flow, session) if session and flow else None),
    }
    return record


def is_respondent(record: ResponseRecord) -> bool:
    """A response in the OMB sense: the survey's trust item was answered (a custom flow
    without one: any question was). Touchpoints exports submitted forms only, and its A-11
    forms require the trust item; a survey that ended without it stays in the store with its
    disposition but is not a response."""
    a11 = record["a11"]
    field = trust_field(a11)
    if field is not None:
        return a11[field] is not None
    return any(a.get("status") == "answered" for a in record["answers"].values())


def is_offered(record: ResponseRecord) -> bool:
    """Whether the person was given the chance to answer: an invitation went out and was not
    refused as undeliverable, nor a call a machine answered (Touchpoints' "provided survey
    opportunity")."""
    return record["timestamps"]["invited"] is not None and record["disposition"] not in (
        "undeliverable", "answering_machine")  # fmt: skip


def reported_at(record: ResponseRecord) -> str:
    """The moment that places a survey in a fiscal quarter: for a response, when it was
    received (the survey's end: the whole response is in, as a Touchpoints submission's
    ``created_at`` is the moment the form was submitted); for anything else, the
    transaction's time."""
    timestamps = record["timestamps"]
    return str(timestamps["ended"] if is_respondent(record) else timestamps["transaction"])
