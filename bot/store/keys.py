"""The key schema: every Redis key the bot writes, named in one place.

A person's keys and the queues of the person's shard share one hash tag (``{sNN}``), so every
script touches a single Redis Cluster slot; workers visit every shard.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.records import is_ref, survey_ref

__all__ = ["is_ref", "survey_ref"]  # defined in the core; keys are named after them

DAY = 86_400
INBOUND_TTL = DAY  # how long an inbound message id is remembered (a provider retries for hours)
CLOSED_TTL = 7 * DAY  # how long a late reply is answered "this survey has closed"


def survey_timer(ref: str) -> str:
    """A survey's one timer (its reminder, then its expiry: see ``bot.delivery``)."""
    return f"survey:{ref}"


def timer_members(ref: str) -> tuple[str, str, str]:
    """Every timer a survey may have: its own, and the two that earlier versions set."""
    return survey_timer(ref), f"remind:{ref}", f"expire:{ref}"


def open_ref(person: str, open_value: str | bytes | None) -> str | None:
    """The survey an open pointer (``<service>:<survey id>``) points to."""
    # An open pointer holds "<service>:<survey id>".
    return survey_ref(person, str(open_value).split(":", 1)[1]) if open_value else None


class Keys:
    """Key names for a prefix and a number of shards."""

    def __init__(self, prefix: str = "fb", shards: int = 16) -> None:
        self.p = prefix
        self.shards = [f"s{n:02d}" for n in range(shards)]
        self._tagged = [f"{prefix}:{{{shard}}}:" for shard in self.shards]  # key heads by shard

    def shard_of(self, person: str) -> str:
        return self.shards[int(person[:6], 16) % len(self.shards)]

    def _k(self, person: str, name: str) -> str:
        # The hot paths build several of these per message: no call to shard_of here.
        return f"{self._tagged[int(person[:6], 16) % len(self._tagged)]}{name}:{person}"

    def k_txn(self, person: str, txn_id: str) -> str:
        # The repeat of a transaction is recognised with its recipient.
        return f"{self._k(person, 'txn')}:{txn_id}"

    def _k_ref(self, ref: str, name: str) -> str:
        person, _, item = ref.partition("/")
        return f"{self._k(person, name)}:{item}"

    def k_survey(self, ref: str) -> str:
        return self._k_ref(ref, "survey")

    def k_open(self, person: str) -> str:
        """Where a person's open surveys are (``open:<channel>`` fields): the person's key,
        beside the cap timings, so an open survey costs no key of its own."""
        return self.k_person(person)

    def k_closed(self, person: str) -> str:
        return self._k(person, "closed")

    def k_optouts(self, shard: str) -> str:
        """The shard's opt-outs: a set of ``<person>|<scope>``, kept for ever."""
        return f"{self.p}:{{{shard}}}:optouts"

    def optout_members(self, person: str, scopes: Iterable[str]) -> list[str]:
        return [f"{person}|{scope}" for scope in scopes]

    def k_optouts_of(self, person: str) -> str:
        """The opt-out set of a person's shard."""
        return f"{self._tagged[int(person[:6], 16) % len(self._tagged)]}optouts"

    def k_person(self, person: str) -> str:
        return self._k(person, "person")

    def k_notice(self, person: str) -> str:
        return self._k(person, "notice")

    def k_inbound(self, person: str) -> str:
        """The inbound message ids handled for a person lately (a hash; its fields expire
        together, ``INBOUND_TTL`` after the last one)."""
        return self._k(person, "inbound")

    def k_bucket(self, sender: str) -> str:
        return f"{self.p}:bucket:{{{sender}}}"

    def k_due(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:due"

    def k_send(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:send"

    def k_timers(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:timers"

    def k_timers_inflight(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:timers:inflight"

    def k_ended(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:ended"

    def k_ended_count(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:ended:count"

    def k_dead(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:ended:dead"

    def k_retries(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:outbox:retries"

    def k_case(self, ref: str) -> str:
        return self._k_ref(ref, "case")

    def k_work(self, shard: str) -> str:
        return f"{self.p}:{{{shard}}}:work"

    @property
    def k_open_cases(self) -> str:
        return f"{self.p}:cases:open"

    @property
    def k_layout(self) -> str:
        return f"{self.p}:layout"

    @property
    def k_paused(self) -> str:
        return f"{self.p}:paused"

    def k_console_session(self, key: str) -> str:
        """A console session, by the hash of its id."""
        return f"{self.p}:console:session:{key}"

    def k_seen(self, kind: str, key: str) -> str:
        return f"{self.p}:seen:{kind}:{{{key}}}"

    def shard_of_ref(self, ref: str) -> str:
        return self.shard_of(ref.partition("/")[0])
