"""The survey builder: a flow's YAML as form fields and back, through the core (every built-in
flow posted back unchanged is the same text; comments and what the builder does not show stay
untouched) and through the console's real routes (a new flow from a template, two errors at
their fields at once, kept as YAML that the editor shows and the checks accept)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import builder
from bot.core.library import read_flow_text
from flows import FLOWS_DIR

from .conftest import Bot
from .forms import fields_of
from .test_console import Browser
from .test_console_library import console, slack  # noqa: F401 (the console with web chat)

BUILT_IN = sorted(p for p in FLOWS_DIR.glob("*.yaml") if p.name != "services.yaml")


def posted(form: builder.Form) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The fields the builder's page would post for a form left as it is."""
    one: dict[str, str] = {"id": form.id, "title": form.title, "instrument": form.instrument,
                           "default_language": form.default_language, "version": form.version,
                           "questions": str(len(form.questions))}  # fmt: skip
    many: dict[str, list[str]] = {"languages": form.languages}
    for m in form.messages:
        for lang, text in m["texts"].items():
            one[f"messages.{m['name']}.{lang}"] = text
    for q in form.questions:
        p = f"questions[{q['index']}]"
        one[f"{p}.origin"] = str(q["index"])
        for key in ("id", "type", "field", "scale", "positive_from", "rating", "max_attempts",
                    "max_length"):  # fmt: skip
            one[f"{p}.{key}"] = str(q[key])
        for lang in form.languages:
            one[f"{p}.prompt.{lang}"] = q["prompt"][lang]
            one[f"{p}.reprompt.{lang}"] = q["reprompt"][lang]
            for branch in ("positive", "negative"):
                one[f"{p}.prompt.{branch}.{lang}"] = q[branch][lang]
            for j, o in enumerate(q["options"]):
                one[f"{p}.options[{j}].label.{lang}"] = o["label"][lang]
        if q["type"] == "choice":
            one[f"{p}.options"] = str(len(q["options"]))
            for j, o in enumerate(q["options"]):
                one[f"{p}.options[{j}].value"] = o["value"]
        many[f"{p}.options"] = q["drivers"]
    return one, many


def apply(text: str, one: dict[str, str], many: dict[str, list[str]], do: str = "") -> str:
    out, errors = builder.apply(text, lambda k: one.get(k, ""), lambda k: many.get(k, []), do)
    assert errors == []
    return out


@pytest.mark.parametrize("path", BUILT_IN, ids=[p.stem for p in BUILT_IN])
def test_a_flow_posted_back_unchanged_is_the_same_text(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    one, many = posted(builder.form_of(text))
    assert apply(text, one, many) == text


KEPT = """\
# The agency's own note: kept.
id: with-extras
title: Extras
instrument: a11-v2
default_language: en
languages: [en, es]
skip_words: [pass]
messages:
  intro:
    en: "{agency}: 3 questions. {opt_out} {omb_notice}"  # said first
    es: "{agency}: 3 preguntas. {opt_out} {omb_notice}"
  omb_notice: {en: "OMB {omb_control_number}", es: "OMB {omb_control_number}"}
  closing: {en: "Thanks.", es: "Gracias."}
  closed: {en: "Closed.", es: "Cerrada."}
questions:
  - id: question_1
    type: rating
    scale: thumbs
    field: question_1
    prompt: {en: "Trust {provider}?", es: "Confia en {provider}?"}
  - id: drivers
    type: drivers
    rating: question_1
    options: [effectiveness, ease, other]
    labels:
      other: {en: "Something else", es: "Otra cosa"}
    prompt:
      positive: {en: "What went well?", es: "Que estuvo bien?"}
      negative: {en: "What did not?", es: "Que no?"}
  - id: question_4
    type: text
    field: question_4
    when: {answer: question_1, equals: 0}
    prompt: {en: "Tell us more.", es: "Cuentenos."}
"""


def test_an_edit_keeps_comments_and_what_the_builder_does_not_show() -> None:
    form = builder.form_of(KEPT)
    assert form.kept == ["the extra skip words", "question drivers: its driver labels",
                         "question question_4: its condition (when it is asked)"]  # fmt: skip
    one, many = posted(form)
    one["questions[2].prompt.en"] = "Anything else you want us to know?"
    many["questions[1].options"] = ["effectiveness", "ease", "efficiency", "other"]
    text = apply(KEPT, one, many)
    assert text.startswith("# The agency's own note: kept.\n")
    assert "# said first" in text and "skip_words: [pass]" in text
    assert "when: {answer: question_1, equals: 0}" in text
    assert 'other: {en: "Something else", es: "Otra cosa"}' in text
    assert "options: [effectiveness, ease, efficiency, other]" in text
    flow, errors = read_flow_text(text, "with-extras", "builder")
    assert errors == [] and flow is not None
    assert flow.questions[2].prompt["en"] == "Anything else you want us to know?"
    assert flow.questions[2].when is not None and flow.skip_words == frozenset({"pass"})


def test_questions_are_added_moved_and_removed() -> None:
    one, many = posted(builder.form_of(KEPT))
    added = builder.form_of(apply(KEPT, one, many, "add:choice"))
    assert [q["id"] for q in added.questions] == ["question_1", "drivers", "question_4",
                                                  "question_5"]  # fmt: skip
    assert added.questions[3]["type"] == "choice" and len(added.questions[3]["options"]) == 2
    one, many = posted(added)
    moved = builder.form_of(apply(added.text, one, many, "up:3"))
    assert [q["id"] for q in moved.questions][2:] == ["question_5", "question_4"]
    one, many = posted(moved)
    removed = builder.form_of(apply(moved.text, one, many, "remove:2"))
    assert [q["id"] for q in removed.questions] == ["question_1", "drivers", "question_4"]
    assert "when: {answer: question_1, equals: 0}" in removed.text  # it moved with its node


def test_a_number_that_is_not_one_is_an_error_at_its_field() -> None:
    one, many = posted(builder.form_of(KEPT))
    one["questions[0].max_attempts"] = "three"
    _, errors = builder.apply(KEPT, lambda k: one.get(k, ""), lambda k: many.get(k, []))
    assert [(e.path, e.message) for e in errors] == [
        ("questions[0].max_attempts", "enter a whole number")
    ]


def test_counts_fill_the_placeholders() -> None:
    filled = builder.fill({"agency": "U.S. Example Agency", "omb_control_number": "1234-5678"},
                          {"en": "OMB {omb_control_number}"})  # fmt: skip
    cost = builder.sms("{agency}: hello. {omb_notice}", filled["en"])
    assert cost == {"encoding": "GSM-7", "segments": 1, "units": 41, "non_gsm": ""}
    assert builder.sms("Sí, {agency}", filled["en"]) == {
        "encoding": "UCS-2",
        "segments": 1,
        "units": 23,
        "non_gsm": "í",
    }


async def test_a_new_flow_is_built_checked_and_kept(console: Bot) -> None:  # noqa: F811
    browser = Browser(console)
    await browser.sign_in("admin-token")
    csrf = await browser.csrf()
    start = await browser.get("/admin/builder?id=Bad+Id&title=&start=a11-v2-thumbs")
    assert start.status == 422
    page = await start.text()
    assert "Use 2 to 63 lower-case letters" in page and "Give the flow a title." in page
    opened = await browser.get("/admin/builder?id=quick-thumbs&title=Quick&start=a11-v2-thumbs")
    assert opened.status == 200
    fields = dict(fields_of(await opened.text()))
    assert fields["id"] == "quick-thumbs" and fields["questions"] == "3"
    assert fields["messages.intro.es"].startswith("{agency}: 3 preguntas")
    assert [v for k, v in fields_of(await opened.text()) if k == "languages"] == ["en", "es"]
    # Two mistakes: a Spanish closing left empty, and a drivers list without 'ease'.
    form = [
        (k, v)
        for k, v in fields_of(await opened.text())
        if k != "messages.closing.es" and not (k == "questions[1].options" and v == "ease")
    ]
    form += [("csrf", csrf), ("do", "check")]
    checked = await browser.bot.client.post("/admin/builder", data=form, headers={
        **browser._headers({"Origin": console.settings.public_base_url})})  # fmt: skip
    assert checked.status == 422
    page = await checked.text()
    assert "2 errors, each at its field" in page
    assert 'id="messages.closing-error1">missing translation for &#39;es&#39;' in page
    assert "the driver list must include &#39;ease&#39;" in page
    assert 'id="questions[1].options-error1"' in page
    fixed = [
        (k, v)
        for k, v in fields_of(page)
        if k not in ("questions[1].options", "messages.closing.es")
    ]
    body = [
        *fixed,
        ("messages.closing.es", "¡Gracias!"),
        ("csrf", csrf),
        ("do", "save"),
        *[("questions[1].options", d) for d in ("effectiveness", "ease", "other")],
    ]
    origin = browser._headers({"Origin": console.settings.public_base_url})
    saved = await browser.bot.client.post(
        "/admin/builder", data=body, allow_redirects=False, headers=origin
    )
    assert saved.status == 303, await saved.text()
    version = saved.headers["Location"].rsplit("/", 1)[1]
    kept = await console.rt.library.version("quick-thumbs", version)  # type: ignore[union-attr]
    flow, errors = read_flow_text(kept.text, "quick-thumbs", "kept")
    assert errors == [] and flow is not None and flow.title == "Quick"
    assert [o.value for o in flow.questions[1].options] == ["effectiveness", "ease", "other"]
    assert kept.text.startswith("# OMB Circular A-11")  # the template's comments came along
    editor = await (await browser.get(f"/admin/flows/quick-thumbs?from={version}")).text()
    assert "¡Gracias!" in editor and "options: [effectiveness, ease, other]" in editor
    rebuilt = await (await browser.get(f"/admin/flows/quick-thumbs/builder?from={version}")).text()
    assert dict(fields_of(rebuilt))["messages.closing.es"] == "¡Gracias!"


def test_answering_instructions_per_interface_are_kept_and_named() -> None:
    """A flow with per-interface answering instructions (the format webwording adds) opens in
    the builder, which names them as kept, and an edit leaves them as they were."""
    text = KEPT.replace(
        "questions:\n",
        """instructions:
  text:
    thumbs: {en: "Reply 1 for Yes, 0 for No.", es: "1=Sí 0=No"}  # said after the question
  web:
    thumbs: {en: "", es: ""}
questions:
""",
        1,
    )
    form = builder.form_of(text)
    assert "the answering instructions per kind of interface" in form.kept
    one, many = posted(form)
    one["title"] = "Extras, renamed"
    out = apply(text, one, many)
    block = text[text.index("instructions:") : text.index("questions:")]
    assert block in out and "title: Extras, renamed" in out


async def test_hostile_builder_posts_get_an_answer_never_a_500(console: Bot) -> None:  # noqa: F811
    browser = Browser(console)
    await browser.sign_in("admin-token")
    csrf = await browser.csrf()
    page = await (await browser.get("/admin/flows/a11-v2-thumbs/builder")).text()
    fields = fields_of(page)
    path = "/admin/flows/a11-v2-thumbs/builder"
    cases: list[tuple[list[tuple[str, str]], int]] = [
        ([("base", "a: ["), ("do", "check")], 422),  # not YAML
        ([("base", "- a list"), ("do", "check")], 422),  # not a flow's shape
        ([("base", "x: " + "[" * 5000 + "]" * 5000), ("do", "check")], 422),  # too deep
        ([("base", "x" * (300 * 1024)), ("do", "check")], 413),
        ([*fields, ("do", "remove:999")], 200),
        ([*fields, ("do", "unoption:x:y")], 200),
        ([*fields, ("do", "add:nonsense")], 200),
        ([*fields, ("questions", "99999999999999999999"), ("do", "check")], 200),
    ]
    for body, status in cases:
        answer = await browser.post(path, [*body, ("csrf", csrf)])
        assert answer.status == status, (body[-1], await answer.text())
    # a format spec that would make a gigabyte is counted as written, and refused by the checks
    huge = [(k, "{agency:>999999999}" if k == "messages.closing.en" else v) for k, v in fields]
    answer = await browser.post(path, [*huge, ("csrf", csrf), ("do", "check")])
    assert answer.status in (200, 422) and len(await answer.text()) < 2_000_000
