"""The Twilio webhook's own form reading and signature, checked against urllib and twilio."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from adapters.twilio.channel import TwilioChannel, form_pairs
from bot.core.secret import Secret
from bot.settings import Settings

# Bodies built from the characters that matter to the format, so that malformed fields,
# escapes (valid, truncated, not UTF-8) and plus signs turn up often.
FORM_TEXT = st.text(alphabet="ab=&+%20C3A9FfZ é\u00a0😀", max_size=40)
FIELD = st.text(max_size=12)


@given(FORM_TEXT)
def test_form_pairs_read_as_urllib_reads_them(text: str) -> None:
    try:
        expected: list[tuple[str, str]] | type[ValueError] = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text)
        )
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            form_pairs(text)
    else:
        assert form_pairs(text) == expected


@given(st.lists(st.tuples(FIELD, FIELD), max_size=6))
def test_encoded_forms_come_back_as_sent(pairs: list[tuple[str, str]]) -> None:
    assert form_pairs(urlencode(pairs)) == pairs


@given(
    st.lists(
        st.tuples(st.sampled_from(["Body", "From", "MessageSid", "b", "B", "é"]), FIELD),
        max_size=8,
    ),
    st.sampled_from(["https://cx.example.gov/webhooks/twilio/messages", "http://h:8080/p?x=1"]),
)
def test_signature_is_the_twilio_validators(pairs: list[tuple[str, str]], url: str) -> None:
    channel = TwilioChannel(Settings(twilio_auth_token=Secret("tok-é")))
    # Repeated names and repeated values included: Twilio signs each distinct value once.
    expected = RequestValidator("tok-é").compute_signature(url, MultiDict(pairs))
    assert channel.signature(url, pairs) == expected
