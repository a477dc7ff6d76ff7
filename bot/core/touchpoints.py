"""GSA Touchpoints' A-11 v2 forms (pure): how a form's questions line up with a flow, and a
response record as the form's submission.

Built from Touchpoints' own code: a submission carries the form's questions' ``answer_field``s
only (``SubmissionsController#submission_params``), checkbox answers are comma-separated
option values (``Form#to_a11_v2_csv`` reads them back with ``split(',')``), the trust item is a
``big_thumbs_up_down_buttons`` question (1/0) or, on the 1–5 variant, ``radio_buttons``
(``db/seeds/forms/a11_v2.rb``), and a form accepts a submission whose referer starts with one
of its allow-listed URLs (``allowed_submission_referer?``). The form's definition comes from
``GET /api/v1/forms/{short_uuid}`` (JSON:API; ``FormQuestion`` in Touchpoints'
``public/api/v1/openapi.yml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.core.a11 import DRIVERS, trust_question
from bot.core.catalog import Service
from bot.core.flow import Flow
from bot.core.sinks import ResponseRecord

# The trust item's question type for each scale.
TRUST_TYPES = {"thumbs": "big_thumbs_up_down_buttons", "five_point": "radio_buttons"}
TEXT_TYPES = ("textarea", "text_field", "rich_textarea")
DISPLAY_TYPES = ("text_display", "custom_text_display")
ALLOW_LIST = ("whitelist_url", *(f"whitelist_url_{n}" for n in range(1, 10)), "whitelist_test_url")


@dataclass(frozen=True)
class FormQuestion:
    """One question of a Touchpoints form."""

    answer_field: str
    question_type: str
    text: str
    is_required: bool
    position: int


@dataclass(frozen=True)
class Form:
    """A Touchpoints form as its API describes it."""

    short_uuid: str
    kind: str
    questions: tuple[FormQuestion, ...]
    allow_list: tuple[str, ...]  # URL prefixes a submission's referer may start with


@dataclass(frozen=True)
class FormMap:
    """Where each A-11 answer goes on a service's form."""

    short_uuid: str
    trust: str
    positive: str
    negative: str
    comment: str | None


def parse_form(document: Mapping[str, Any]) -> Form:
    """A form from the API's JSON:API document; ValueError when it is not one."""
    try:
        data = document["data"]
        attributes = data["attributes"]
        questions = tuple(
            sorted(
                (
                    FormQuestion(
                        answer_field=str(q["answer_field"]),
                        question_type=str(q["question_type"]),
                        text=str(q.get("text") or ""),
                        is_required=bool(q.get("is_required")),
                        position=int(q.get("position") or 0),
                    )
                    for q in data["relationships"]["questions"]["data"]
                ),
                key=lambda q: (q.position, q.answer_field),
            )
        )
        allow = tuple(str(attributes[k]) for k in ALLOW_LIST if attributes.get(k))
        return Form(str(attributes["short_uuid"]), str(attributes.get("kind") or ""), questions,
                    allow)  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a Touchpoints form document ({type(exc).__name__}: {exc})") from None


def map_form(
    service: Service, flow: Flow, form: Form, public_base_url: str
) -> tuple[FormMap | None, list[str]]:
    """How the service's flow fills the form, or every reason it cannot (one line each,
    naming the service, the form and the field)."""
    where = f"service {service.id}: Touchpoints form {form.short_uuid}"
    problems: list[str] = []
    trust = trust_question(flow)
    if flow.instrument != "a11-v2" or trust is None or trust.scale is None:
        return None, [f"{where}: the flow {flow.id} is not an A-11 v2 survey"]
    answering = [q for q in form.questions if q.question_type not in DISPLAY_TYPES]
    first = answering[0] if answering else None
    expected = TRUST_TYPES[trust.scale]
    if first is None or first.question_type != expected:
        found = f"{first.answer_field} is {first.question_type}" if first else "it has no question"
        problems.append(
            f"{where}: the trust item must come first as {expected} (the flow {flow.id} asks "
            f"{'thumbs up/down' if trust.scale == 'thumbs' else '1-5'}); {found}"
        )
    checkboxes = [q for q in answering if q.question_type == "checkbox"]
    if len(checkboxes) != 2:
        problems.append(
            f"{where}: expected two checkbox questions (what went well, what did not), "
            f"found {len(checkboxes)}"
        )
    texts = [q for q in answering if q.question_type in TEXT_TYPES]
    asks_text = any(q.type == "text" for q in flow.questions)
    comment = texts[0] if texts and asks_text else None
    if asks_text and comment is None:
        problems.append(f"{where}: no text question for the comment ({', '.join(TEXT_TYPES)})")
    mapped = {q.answer_field for q in (first, *checkboxes[:2], comment) if q is not None}
    for q in answering:
        if q.is_required and q is not first:
            why = "a person may skip it" if q.answer_field in mapped else "the bot cannot fill it"
            problems.append(f"{where}: {q.answer_field} is required, but {why}")
    if not any(public_base_url.startswith(prefix) for prefix in form.allow_list):
        problems.append(
            f"{where}: the form does not allow-list the bot's PUBLIC_BASE_URL "
            f"({public_base_url}): add it to the form's whitelist URLs, or every submission "
            "is refused as from an unauthorized host"
        )
    if problems or first is None:
        return None, problems
    return (
        FormMap(form.short_uuid, first.answer_field, checkboxes[0].answer_field,
                checkboxes[1].answer_field, comment.answer_field if comment else None),
        [],
    )  # fmt: skip


def submission(record: ResponseRecord, form: FormMap, public_base_url: str) -> dict[str, str]:
    """The form fields of a response (its trust item answered): the trust answer, the drivers
    chosen on each branch as comma-separated values, the redacted comment, and where it came
    from: ``page`` ``/<channel>/<service>``, ``referer`` and ``hostname`` the bot's public
    URL, and ``query_string`` the response's id, by which a submission whose answer was lost
    (a timeout) is found again."""
    a11 = record["a11"]
    fields: dict[str, str] = {form.trust: str(a11["question_1"])}
    for branch, field in (("positive", form.positive), ("negative", form.negative)):
        chosen = [d for d in DRIVERS if a11.get(f"{branch}_{d}") == 1]
        if chosen:
            fields[field] = ",".join(chosen)
    comment = a11.get("question_4")
    if form.comment and isinstance(comment, str) and comment.strip():
        fields[form.comment] = comment
    fields.update(
        language=record["language"],
        page=f"/{record['channel']}/{record['service_id']}",
        referer=public_base_url,
        hostname=urlsplit(public_base_url).hostname or "",
        query_string=query_string(record["response_id"]),
    )
    return fields


def query_string(response_id: str) -> str:
    """What a submission carries to be found again: the response's id (random, not personal)."""
    return f"response_id={response_id}"


def same_submission(found: Mapping[str, Any], sent: Mapping[str, str]) -> bool:
    """Whether a submission listed by the API is the one sent: its query string (the response
    id) and every answer field agree."""
    return all(
        str(found.get(key) or "") == value
        for key, value in sent.items()
        if key == "query_string" or key.startswith("answer_")
    )
