"""The HTTP API fuzzed from its OpenAPI document, and the webhooks fuzzed past their signatures.

Schemathesis generates requests for every operation in ``bot/web/openapi.yaml`` and sends them to
a real ``feedback-bot web`` process (real Redis, the real SQL store: PostgreSQL, as in
production), each with a valid and with a wrong credential; every response must be one the
document describes, with its documented schema and content type, and never a 5xx. The Twilio
and Slack webhooks get Hypothesis fuzzers that sign what they generate, so the fuzzing
reaches past the signature checks. The counts of the last run are in the README.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from slack_sdk.signature import SignatureVerifier
from twilio.request_validator import RequestValidator

from bot.web.openapi import openapi_document

from .test_store import PG_URL

FUZZ_REDIS = os.environ.get("TEST_FUZZ_REDIS_URL", "redis://127.0.0.1:6379/14")
TWILIO_TOKEN = "fuzz-twilio-auth-token"
SLACK_SECRET = "fuzz-slack-signing-secret"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))  # per operation (about two minutes)
COUNTS: Counter[str] = Counter()  # what the run sent, for the summary at its end

schema = schemathesis.openapi.from_dict(openapi_document())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip

# Characters no store keeps (PostgreSQL refuses NUL in text), which generated text almost
# never holds: a path or query parameter, at times, carries one. Without this the fuzzing
# never sent a NUL to the console, whose answer to one was a 503 on PostgreSQL.
UNKEPT = st.tuples(st.text(max_size=4), st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x9f"]),
                   st.text(max_size=4)).map("".join)  # fmt: skip


def _with_unkept(values: dict[str, Any] | None) -> Any:
    """``values`` as generated, or with one of them holding a character no store keeps."""
    if not values:
        return st.just(values)
    one = st.tuples(st.sampled_from(sorted(values)), UNKEPT)
    return st.just(values) | one.map(lambda pair: {**values, pair[0]: pair[1]})


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    return _with_unkept(query)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    return _with_unkept(path_parameters)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``feedback-bot web`` on its own Redis database and the PostgreSQL store."""
    import redis as sync_redis

    sync_redis.Redis.from_url(FUZZ_REDIS).flushdb()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = tmp_path_factory.mktemp("fuzz")
    env = {
        **os.environ,
        "PORT": str(port),
        "PUBLIC_BASE_URL": base,
        "REDIS_URL": FUZZ_REDIS,
        "DATABASE_URL": PG_URL,
        "DATA_DIR": str(data),
        "API_TOKEN": "api-token",
        "ADMIN_TOKEN": "admin-token",
        "PSEUDONYM_KEY": "pseudonym-key",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": "+12025550100",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:1",  # nothing is sent from here
        "CHANNELS": "sms,whatsapp,slack,webchat,voice",
        "SLACK_BOT_TOKEN": "xoxb-fuzz",
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": "http://127.0.0.1:1/api/",
        "SLACK_ALERT_CHANNEL": "C0ALERTS",
        "LOG_LEVEL": "ERROR",
    }
    log = data / "web.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"the web process did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)  # it stops within seconds (README: stopping on a deploy)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"the web process did not exit within 20 s of SIGTERM (killed): "
                        f"{log.read_text()[-2000:]}")  # fmt: skip
        tail = log.read_text()
        assert "Traceback" not in tail, tail[-4000:]  # no request raised an unhandled error


TOKENS = {"apiToken": "api-token", "adminToken": "admin-token"}


@pytest.fixture(scope="module")
def console_session(server: str) -> str:
    """An admin's console session, signed in through the sign-in page."""
    http = requests.Session()
    page = http.get(f"{server}/admin/sign-in", timeout=10).text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    signed = http.post(f"{server}/admin/sign-in", data={"token": "admin-token", "csrf": csrf},
                       headers={"Origin": server}, allow_redirects=False, timeout=10)  # fmt: skip
    assert signed.status_code == 303, signed.status_code
    return str(signed.cookies["fb_console"])


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_every_operation_answers_as_documented(
    case: Any, server: str, console_session: str
) -> None:
    schemes = [name for requirement in case.operation.definition.raw.get("security", [])
               for name in requirement]  # fmt: skip
    if "consoleSession" in schemes:  # the console: as a signed-in admin, then a forged cookie
        for cookie in (console_session, console_session[:-4] + "AAAA"):
            response = case.call_and_validate(
                base_url=server, headers={"Cookie": f"fb_console={cookie}", "Origin": server},
                checks=CHECKS, allow_redirects=False,
            )  # fmt: skip
            COUNTS[f"console {response.status_code}"] += 1
            if cookie != console_session:  # no session: to the sign-in page, whatever else
                # (but a path or parameter no store keeps: refused before anything is read)
                assert response.status_code in (303, 400, 405), response.status_code
        return
    credentials = [TOKENS[s] for s in schemes] + ["wrong-token"] if schemes else [None]
    for token in credentials:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = case.call_and_validate(base_url=server, headers=headers, checks=CHECKS,
                                          allow_redirects=False)  # fmt: skip
        COUNTS[f"api {response.status_code}"] += 1
        if token == "wrong-token":  # refused, whatever else is wrong (405: another method)
            # (404 only from the router: no route takes a path parameter with a brace or a
            # slash, so there is nothing yet to authorise)
            unroutable = any(c in unquote(str(v)) for v in (case.path_parameters or {}).values()
                             for c in "{}/")  # fmt: skip
            assert response.status_code in (401, 405) or (
                response.status_code == 404 and unroutable
            ), response.status_code


# The webhooks, signed. Field names Twilio sends, and any others; values of any text.
TWILIO_FIELDS = ["MessageSid", "From", "To", "Body", "AccountSid", "MessageStatus", "ErrorCode",
                 "NumMedia", "SmsStatus"]  # fmt: skip
text = st.text(st.characters(codec="utf-8"), max_size=200)
values = text | st.sampled_from(
    ["+12025550123", "whatsapp:+12025550123", "whatsapp:US.1234", "SM" + "a" * 32, "yes",
     "STOP", "HELP", "START", "21610", "63018", "delivered", "failed", "²", "1" * 5000]
)  # fmt: skip
# Half the forms look like Twilio's (a message id and a sender), so the fuzzing reaches the
# conversation and the status handling, not only the field checks.
twilio_forms = st.tuples(
    st.one_of(st.just([]), st.tuples(
        st.just("MessageSid"), st.sampled_from(["SM" + "b" * 32, "SM" + "c" * 32])
    ).map(lambda p: [p, ("From", "+12025550123"), ("MessageStatus", "delivered")])),
    st.lists(st.tuples(st.sampled_from(TWILIO_FIELDS) | text, values), max_size=6),
).map(lambda parts: parts[0] + parts[1])  # fmt: skip


@given(pairs=twilio_forms, path=st.sampled_from(["/webhooks/twilio/messages",
                                                 "/webhooks/twilio/status"]))  # fmt: skip
@settings(max_examples=EXAMPLES * 8, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_twilio_webhooks_never_fail(server: str, pairs: list[tuple[str, str]],
                                           path: str) -> None:  # fmt: skip
    validator = RequestValidator(TWILIO_TOKEN)
    url = server + path
    signature = validator.compute_signature(url, MultiDict(pairs))
    body = urlencode(pairs).encode()
    response = requests.post(
        url,
        data=body,
        timeout=10,
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    COUNTS[f"twilio {response.status_code}"] += 1
    assert response.status_code in (200, 204, 400), (response.status_code, response.text[:200])


@pytest.fixture(scope="module")
def voice_token(server: str) -> str:
    """A live voice link's token, so that the fuzzing reaches the survey by phone."""
    body = {"transaction_id": "fuzz-voice", "service": "benefits-application",
            "channel": "voice", "to": "+12025550199"}  # fmt: skip
    answered = requests.post(f"{server}/v1/transactions", json=body, timeout=10,
                             headers={"Authorization": "Bearer api-token"}).json()  # fmt: skip
    return str(answered["voice_url"]).rpartition("t=")[2]


VOICE_FIELDS = ["CallSid", "From", "To", "CallStatus", "Digits", "SpeechResult", "AnsweredBy",
                "AccountSid", "RecordingUrl", "RecordingDuration", "TranscriptionStatus",
                "TranscriptionText"]  # fmt: skip
call_sids = st.sampled_from(["CA" + "b" * 32, "CA" + "c" * 32, "CA" + "d" * 32])
voice_values = text | st.sampled_from(
    ["1", "2", "13", "9", "*", "#", "13#", "yes", "sí", "repeat", "completed", "busy",
     "no-answer", "in-progress", "machine_start", "human", "1" * 5000]
)  # fmt: skip
voice_forms = st.tuples(
    st.one_of(st.just([]), call_sids.map(lambda sid: [("CallSid", sid)])),
    st.lists(st.tuples(st.sampled_from(VOICE_FIELDS) | text, voice_values), max_size=6),
).map(lambda parts: parts[0] + parts[1])  # fmt: skip
voice_queries = st.dictionaries(
    st.sampled_from(["t", "n", "o", "s", "r"]) | text,
    st.sampled_from(["TOKEN", "0", "1", "3", "201", "x", "1,0", "%ZZ", ",,,", "a" * 22]) | text,
    max_size=3,
)


@given(
    pairs=voice_forms,
    query=voice_queries,
    path=st.sampled_from(
        [
            "/webhooks/twilio/voice",
            "/webhooks/twilio/voice/status",
            "/webhooks/twilio/voice/transcription",
        ]
    ),
)
@settings(max_examples=EXAMPLES * 8, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_voice_webhooks_never_fail(server: str, voice_token: str,
                                          pairs: list[tuple[str, str]], query: dict[str, str],
                                          path: str) -> None:  # fmt: skip
    query = {k: voice_token if v == "TOKEN" else v for k, v in query.items()}
    url = server + path + ("?" + urlencode(query) if query else "")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, MultiDict(pairs))
    response = requests.post(url, data=urlencode(pairs).encode(), timeout=10, headers={
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    COUNTS[f"voice {response.status_code}"] += 1
    assert response.status_code in (200, 204, 400), (response.status_code, response.text[:200])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
slack_shapes = st.one_of(
    st.fixed_dictionaries({"type": st.just("event_callback"), "event_id": text,
                           "event": st.dictionaries(st.sampled_from(
                               ["type", "channel_type", "user", "text", "ts", "client_msg_id",
                                "bot_id", "subtype"]), json_values)}),
    st.fixed_dictionaries({"type": st.just("block_actions"), "user": json_values,
                           "actions": json_values, "channel": json_values,
                           "message": json_values, "state": json_values}),
    st.dictionaries(text, json_values, max_size=5),
)  # fmt: skip


@given(payload=slack_shapes, form=st.booleans())
@settings(max_examples=EXAMPLES * 8, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_slack_requests_never_fail(server: str, payload: dict[str, Any],
                                          form: bool) -> None:  # fmt: skip
    if form:
        body = urlencode({"payload": json.dumps(payload)})
        content_type = "application/x-www-form-urlencoded"
    else:
        body, content_type = json.dumps(payload), "application/json"
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=stamp, body=body)
    response = requests.post(f"{server}/slack/events", data=body.encode(), timeout=10, headers={
        "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
        "Content-Type": content_type})  # fmt: skip
    COUNTS[f"slack {response.status_code}"] += 1
    assert response.status_code in (200, 400, 401), (response.status_code, response.text[:200])


def test_fuzz_counts(server: str) -> None:
    """The run's totals, printed for the README's reliability section (``pytest -s``)."""
    assert COUNTS, "the fuzz tests above did not run"
    print("\nfuzz counts:", json.dumps(dict(sorted(COUNTS.items()))))
