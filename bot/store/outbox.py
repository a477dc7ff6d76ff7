"""The outbox: ended surveys flow from a Redis stream to every sink, each exactly once; the
same stream carries the consent ledger's changes to the measures store (``bot.store.consent``).

A consumer group reads the stream of ended surveys; an entry is acknowledged only when every
sink took its record (see ``bot.streams``). Sinks write idempotently on the response id, so a
retry after a partial success duplicates nothing; ``feedback-bot outbox replay`` re-drives
dead letters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.core import response
from bot.core.library import FlowLookup
from bot.core.response import MalformedRecord
from bot.core.sinks import ConsentLedger, Sink, SinkError
from bot.core.themes import Taxonomy
from bot.core.themes_default import DEFAULT as DEFAULT_THEMES
from bot.store.consent import consent_change
from bot.store.consumers import OUTBOX_GROUP
from bot.store.state import State
from bot.store.streams import StreamConsumer, StreamKeys

log = logging.getLogger("bot.outbox")


class Outbox(StreamConsumer):
    """Forwards ended surveys to the sinks."""

    group = OUTBOX_GROUP
    name = "outbox"
    kind = "ended"

    def __init__(
        self,
        state: State,
        sinks: list[Sink],
        flow_for: FlowLookup,
        clock: Callable[[], datetime],
        *,
        reported: Mapping[str, str],
        themes_for: Callable[[str], Taxonomy] = lambda service: DEFAULT_THEMES,
        ledger: ConsentLedger | None = None,
        **options: Any,
    ) -> None:
        """``reported``: the federal channel name each channel is reported under;
        ``themes_for``: a service's taxonomy of themes (its catalog entry's, as in force);
        ``ledger``: where consent changes go (the measures store, one of ``sinks``)."""
        super().__init__(state, clock, **options)
        self.ledger = ledger
        self.sinks = sinks
        self.flow_for = flow_for
        self.reported = reported
        self.themes_for = themes_for

    def keys(self, shard: str) -> StreamKeys:
        s = self.state
        return StreamKeys(s.k_ended(shard), s.k_retries(shard), s.k_dead(shard))

    async def handle(self, fields: dict[str, str], progress: dict[str, Any]) -> None:
        """Write the record to every sink that has not taken it yet (``progress["done"]``:
        a retry does not send a record again to a sink that took it). A consent change goes
        to the ledger alone."""
        change = consent_change(fields)
        if change is not None:
            if self.ledger is None:
                raise SinkError("no consent ledger to take the change", retryable=True)
            # The other sinks have nothing to take: their names count it as theirs done, so
            # that ``sink_status`` says only the ledger's store has it to take.
            ledger: object = self.ledger
            progress["done"] = [s.name for s in self.sinks if s is not ledger]
            await self.ledger.record_consent(change)
            return
        try:
            survey = json.loads(fields["record"])
            if isinstance(survey, dict) and survey.get("trial"):
                return  # an admin trying a flow in the console: nothing is recorded
            reported = self.reported[survey["channel"]]
            flow = await self.flow_for(survey["flow_id"], survey["flow_version"])
            record = response.build(survey, flow, reported, self.themes_for(survey["service"]))
            response.validate(record)
        except (KeyError, ValueError, TypeError) as exc:
            raise MalformedRecord(f"malformed: {exc}") from None
        done: list[str] = progress.setdefault("done", [])
        failures: list[SinkError] = []
        for sink in self.sinks:
            if sink.name in done:
                continue
            try:
                await sink.write(record)
            except SinkError as exc:
                failures.append(exc)
                log.warning("sink %s failed: %s", sink.name, exc)
            else:
                done.append(sink.name)
        if failures:
            # Permanent as soon as one sink can never take it: waiting helps no one, and the
            # dead letter says why (a replay, once mended, skips the sinks done).
            raise SinkError(
                "; ".join(str(f) for f in failures), retryable=all(f.retryable for f in failures)
            )

    async def sink_status(self, names: list[str]) -> dict[str, dict[str, int]]:
        """For each sink, how many records it has yet to take among those retrying and those
        dead-lettered (a record another sink refused counts only where it is missing)."""
        replies = await self.state.each_shard(
            lambda pipe, s: (pipe.hvals(self.keys(s).retries), pipe.xrange(self.keys(s).dead))
        )
        retrying = [json.loads(v).get("progress") or {} for v in _flat(replies[0::2])]
        dead = [json.loads(f.get("progress") or "{}") for _, f in _flat(replies[1::2])]
        return {
            name: {
                "retrying": sum(name not in p.get("done", ()) for p in retrying),
                "dead": sum(name not in p.get("done", ()) for p in dead),
            }
            for name in names
        }


def _flat(per_shard: list[Any]) -> list[Any]:
    return [item for items in per_shard for item in items]
