"""Block Kit and mrkdwn: how survey questions and staff cases look in Slack.

The service layer writes its answers to staff (``/cx``, refusals) in plain Markdown —
``**bold**``, `` `code` ``, ``@U0123`` for a Slack user — and ``mrkdwn`` converts them here,
so that no Slack markup lives outside this adapter.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.core.cases import OPEN, Case, is_crisis
from bot.core.channels import Prompt

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MENTION = re.compile(r"(?<![\w<])@([UW][A-Z0-9]{2,30})\b")


def mrkdwn(markdown: str) -> str:
    """Slack's mrkdwn for the service layer's Markdown: ``**bold**`` is ``*bold*``, and a
    Slack user id after ``@`` becomes a mention."""
    return _MENTION.sub(r"<@\1>", _BOLD.sub(r"*\1*", markdown))


def escape(text: str) -> str:
    """Slack's mrkdwn escapes: a person's text never becomes a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoted(text: str) -> str:
    """A person's text as a mrkdwn quote: escaped, and every line behind ``>`` (Slack quotes
    one line per ``>``: the lines after an unquoted break read as the bot's own words)."""
    return "\n".join(">" + line for line in escape(text).splitlines())


# Slack draws its own emoji (no font needed): the thumbs beside their words.
_THUMBS = {"1": "👍", "0": "👎"}


def button_label(prompt: Prompt, value: str, label: str) -> str:
    """A button's words: a thumbs rating's with its emoji ("👍 Yes")."""
    if prompt.scale == "thumbs" and value in _THUMBS:
        return f"{_THUMBS[value]} {label}"
    return label


def survey_blocks(text: str, prompt: Prompt | None) -> list[dict[str, Any]]:
    """A survey message: its text, and buttons or checkboxes for the question it asks."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)[:3000]}}
    ]
    if prompt is None or not prompt.options:
        return blocks
    block_id = f"q:{prompt.question}"
    if prompt.multiple:
        elements: list[dict[str, Any]] = [
            {
                "type": "checkboxes",
                "action_id": "survey_pick",
                "options": [
                    {"text": {"type": "plain_text", "text": label}, "value": value}
                    for value, label in prompt.options[:10]
                ],
            },
            {
                "type": "button",
                "action_id": "survey_submit",
                "style": "primary",
                "text": {"type": "plain_text", "text": prompt.submit},
                "value": prompt.question,
            },
        ]
    else:
        elements = [
            {
                "type": "button",
                "action_id": f"survey_answer:{value}",
                "text": {
                    "type": "plain_text",
                    "text": button_label(prompt, value, label),
                    "emoji": True,
                },
                "value": f"{prompt.question}|{value}",
            }
            for value, label in prompt.options[:25]
        ]
    blocks.append({"type": "actions", "block_id": block_id, "elements": elements})
    return blocks


_HEADLINE = {"self_harm": "possible self-harm", "violence": "possible threat of violence",
             "emergency": "possible emergency"}  # fmt: skip


def case_text(case: Case) -> str:
    """The notification text of a case (what phones and screen readers show)."""
    crisis = [r.split(":", 1)[1] for r in case["reasons"] if r.startswith("crisis:")]
    service = case.get("service") or "unknown service"
    if crisis:
        what = ", ".join(_HEADLINE.get(c, c) for c in crisis)
        return f"<!channel> :rotating_light: CRISIS: {what} in a {service} message. Act now."
    return f":warning: Customer experience alert for {service}"


def case_blocks(case: Case) -> list[dict[str, Any]]:
    """A case as Block Kit: what happened, scores and its comment's themes, a redacted
    excerpt, and what to do."""
    crisis = is_crisis(case)
    trust = {True: ":thumbsup: positive", False: ":thumbsdown: negative", None: "-"}[
        case.get("trust")
    ]
    sentiment = case.get("sentiment") or "-"
    if case.get("polarity") is not None:
        sentiment = f"{sentiment} ({case['polarity']:+.2f})"
    at = int(datetime.fromisoformat(case["at"]).timestamp())
    fields = [
        ("Service", escape(case.get("service") or "unknown")),
        ("Channel", escape(case["channel"])),
        ("Trust", trust),
        ("Sentiment", escape(sentiment)),
        ("Drivers (negative)", escape(", ".join(case["drivers"]) or "-")),
        ("Themes", escape(", ".join(case.get("themes") or []) or "-")),
        ("Time", f"<!date^{at}^{{date_short_pretty}} {{time}}|{case['at']}>"),
    ]
    title = ":rotating_light: CRISIS: act now" if crisis else ":warning: Customer experience alert"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{name}*\n{value}"}
            for name, value in fields
        ]},
    ]  # fmt: skip
    if excerpt := case.get("excerpt"):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": quoted(excerpt)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _status_line(case)}]})
    if case["status"] in OPEN:
        ref = case["ref"]
        buttons = [("case_claim", "Claim", "primary"), ("case_resolve", "Resolve", None),
                   ("case_dismiss", "Not actionable", "danger")]  # fmt: skip
        if case["status"] == "claimed":
            buttons = buttons[1:]
        blocks.append(
            {
                "type": "actions",
                "block_id": f"case:{case['case_id']}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": action,
                        "value": ref,
                        "text": {"type": "plain_text", "text": label},
                        **({"style": style} if style else {}),
                    }
                    for action, label, style in buttons
                ],
            }
        )
    return blocks


def _status_line(case: Case) -> str:
    def when(value: str | None) -> str:
        if value is None:
            return ""
        moment = int(datetime.fromisoformat(value).timestamp())
        return f"<!date^{moment}^{{date_short_pretty}} {{time}}|{value}>"

    parts = [f"Case `{case['case_id']}`", f"*{case['status']}*"]
    if case.get("claimed_by"):
        parts.append(f"claimed by {who(case['claimed_by'])} {when(case['claimed_at'])}")
    if case.get("closed_by"):
        parts.append(f"{case['status']} by {who(case['closed_by'])} {when(case['closed_at'])}")
    if case.get("escalated_at"):
        parts.append(f"escalated {when(case['escalated_at'])}")
    return " · ".join(parts) + f"\nWhy: {', '.join(case['reasons'])}"


def answered_blocks(text: str, answer: str) -> list[dict[str, Any]]:
    """A survey question once answered: its text and the answer recorded, no buttons."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f":white_check_mark: {escape(answer)}"}]},
    ]  # fmt: skip


def who(user: str | None) -> str:
    """A Slack user as a mention; anyone else (a console user's name) as plain text."""
    user = user or "someone"
    if re.fullmatch(r"[UW][A-Z0-9]{2,30}", user):
        return f"<@{user}>"
    return user.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
