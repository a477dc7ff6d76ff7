"""Reporting dimensions (pure): the groups participation is broken down by, and the attribute
names that may never be one because they could single a person out."""

from __future__ import annotations

import unicodedata

from bot.core.sinks import ResponseRecord

NOT_STATED = "not stated"  # the group of records without the attribute
OTHER = "other"  # the groups past MAX_GROUPS, folded together
MAX_GROUPS = 50
MAX_GROUP_CHARS = 64
BUILT_IN = ("language", "channel")  # always reported

# A name is refused when one of its words (split on "_", "-", "." or a capital) is one of these.
IDENTIFYING: frozenset[str] = frozenset(
    "id ids uuid guid name names first last full email mail phone mobile cell tel telephone "
    "fax address street addr ssn tin itin ein passport license licence dob birth birthday "
    "birthdate account acct number num no case ticket claim record ip device user username "
    "person customer visitor zip zipcode postal postcode latitude longitude lat lon lng "
    "medicare medicaid member policy".split()
)


# A reporting dimension's values are group labels in reports, on the console and in the public
# data.csv: plain words, never markup, a formula or a line of their own.
LABEL_PUNCTUATION = frozenset(" '’.,()/&+#:_-")
LABEL_RULE = (
    f"1-{MAX_GROUP_CHARS} letters, digits, spaces and ' . , ( ) / & + # : _ -, beginning "
    "with a letter or digit"
)


def is_label(value: object) -> bool:
    """True for a value a reporting dimension may take: null, true, false, or text (a number
    as written) of ``LABEL_RULE``: so never one that begins with a formula character
    (``=``, ``+``, ``-``, ``@``), a space or a line break."""
    if value is None or isinstance(value, bool):
        return True
    text = str(value) if isinstance(value, int | float) else value
    return (
        isinstance(text, str)
        and 0 < len(text) <= MAX_GROUP_CHARS
        and text[0].isalnum()
        # combining marks: an accent written as its own character ("e" + U+0301)
        and all(c.isalnum() or c in LABEL_PUNCTUATION or unicodedata.category(c) == "Mn"
                for c in text)
    )  # fmt: skip


def identifying(name: str) -> bool:
    """True when an attribute's name says it could identify a person."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in name)
    words = spaced.replace("_", " ").replace("-", " ").replace(".", " ").split()
    return any(w in IDENTIFYING for w in words)


def group_of(record: ResponseRecord, dimension: str) -> str:
    """The group a record falls in on a dimension: its language, its channel, or its
    transaction's attribute (``not stated`` without one)."""
    if dimension == "language":
        return record["language"]
    if dimension == "channel":
        return record["channel"]
    value = record["attributes"].get(dimension)
    if value is None or isinstance(value, dict | list):
        return NOT_STATED
    return str(value).strip()[:MAX_GROUP_CHARS] or NOT_STATED
