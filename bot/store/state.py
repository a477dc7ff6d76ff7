"""The bot's working memory in Redis: decisions, surveys, queues, consent, de-duplication.

Keys are spread over shards: a person's keys and the queues of that person's shard share one
hash tag, so every script touches a single Redis Cluster slot, and workers visit every shard.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from bot.core.cases import OPEN
from bot.core.policy import Person
from bot.store.pipelined import Pipelined

SurveyRecord = dict[str, Any]
SEND_GROUP = "senders"
DAY = 86_400
INBOUND_TTL = DAY  # how long an inbound message id is remembered (a provider retries for hours)
LAYOUT = "2"  # the key layout this code writes (see State.upgrade_layout)
CLOSED_TTL = 7 * DAY  # how long a late reply is answered "this survey has closed"


class AlreadyHandled(Exception):
    """The inbound message was handled already (a provider's retry, or a concurrent copy)."""


# Status ranks: a callback may arrive late; a message's status never moves backwards.
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
UNDELIVERABLE = frozenset({"undelivered", "failed", "canceled"})

# Extend a key's life to at least ARGV seconds from now (EXPIRE GT needs Redis 7; the embedded
# Redis is 6.2).
_EXTEND = """
local function _extend(key, ttl)
  if redis.call('TTL', key) < tonumber(ttl) then redis.call('EXPIRE', key, ttl) end
end
"""
_INTAKE = (
    _EXTEND
    + """
local existing = redis.call('GET', KEYS[1])
if existing then return {'exists', existing} end
if ARGV[2] == 'scheduled' then
  local open = redis.call('HGET', KEYS[4], 'open:' .. ARGV[5])
  if open then return {'conflict', open} end
  local last = tonumber(redis.call('HGET', KEYS[7], 'invited') or '0')
  if tonumber(ARGV[11]) > 0 and last > tonumber(ARGV[11]) then
    return {'capped', tostring(last)}
  end
  -- the invitation counts against the cap from the moment it is scheduled; the person's
  -- key (caps and open surveys) is kept as long as a cap or the survey can still need it
  redis.call('HSET', KEYS[4], 'open:' .. ARGV[5], ARGV[4], 'invited', ARGV[6])
  _extend(KEYS[4], ARGV[12])
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[8])
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[10])
else
  redis.call('XADD', KEYS[5], '*', 'record', ARGV[9])
  redis.call('INCR', KEYS[6])
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[7])
return {'ok', ARGV[1]}
"""
)
_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], ARGV[1], id)
end
return ids
"""
_ACK = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if KEYS[2] then redis.call('HDEL', KEYS[2], ARGV[2]) end
if KEYS[3] then redis.call('XADD', KEYS[3], '*', unpack(ARGV, 3)) end
return 1
"""
# For a person: the scopes (ARGV[2..], as "<person>|<scope>" members of the shard's opt-out
# set) opted out of, the open survey on the channel ARGV[1], and the cap timings.
_PERSON = """
local timing = redis.call('HMGET', KEYS[3], 'invited', 'responded')
local opted = {}
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then opted[#opted + 1] = ARGV[i] end
end
return {opted, redis.call('HGET', KEYS[2], 'open:' .. ARGV[1]) or '', timing[1] or '',
        timing[2] or ''}
"""
_PUMP = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'ref', id)
end
return #ids
"""
# A token bucket per sender, in message segments: returns 0 when the cost was taken, else the
# seconds to wait. ARGV[4] = '1' takes the cost even if that leaves the bucket in debt.
_BUCKET = """
if redis.replicate_commands then redis.replicate_commands() end
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1e6
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= cost or ARGV[4] == '1' then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""
_RECOVER = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], ARGV[2], id)
end
return #ids
"""
# A compare-and-set of a JSON value (KEYS[1]) on its revision (ARGV[1]), writing ARGV[2]; what
# follows runs only when it wrote. The bot writes "rev" as the first key, so it is read
# without decoding the whole record (Redis runs scripts one at a time; records are a few KB);
# anything else (written before that) is decoded.
_COMPARE_AND_SET = """
local function _rev(raw)
  local rev = string.match(raw, '^{"rev":(%d+)[,}]')
  if rev then return tonumber(rev) end
  return tonumber(cjson.decode(raw)['rev'] or 0)
end
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if _rev(raw) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
"""
# A survey record's change: -1 when the inbound message ARGV[9] was handled already (a field
# of the person's inbound hash KEYS[9]). A survey that ends is handed off to the ended stream
# and leaves: its record (the stream holds it until the store has it), its open pointer, its
# timers and any schedule entry; a small closed pointer stays for late replies.
_CAS = (
    _EXTEND
    + "if KEYS[9] and redis.call('HEXISTS', KEYS[9], ARGV[9]) == 1 then return -1 end\n"
    + _COMPARE_AND_SET
    + """if KEYS[9] then
  redis.call('HSET', KEYS[9], ARGV[9], '1')
  redis.call('EXPIRE', KEYS[9], ARGV[8])
end
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[6], 'responded', ARGV[7])
  _extend(KEYS[6], ARGV[10])
end
if ARGV[3] == '1' then
  local open = redis.call('HGET', KEYS[2], 'open:' .. ARGV[4])
  if open and string.sub(open, -string.len(ARGV[5])) == ARGV[5] then
    redis.call('HDEL', KEYS[2], 'open:' .. ARGV[4])
  end
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[11])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
  redis.call('XADD', KEYS[4], '*', 'record', ARGV[2])
  redis.call('INCR', KEYS[5])
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[7], 'survey:' .. ARGV[12], 'remind:' .. ARGV[12],
             'expire:' .. ARGV[12])
  redis.call('ZREM', KEYS[8], ARGV[12])
end
return 1
"""
)
# The survey key is built here, not declared: it carries the person's shard tag, so it lives
# in the same cluster slot as the declared keys.
_INBOUND = """
local first = redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0
local open = redis.call('HGET', KEYS[2], 'open:' .. ARGV[1])
local optout = 0
for i = 4, #ARGV do
  if redis.call('SISMEMBER', KEYS[3], ARGV[i]) == 1 then optout = 1 end
end
local record = ''
if first and open then
  local id = string.sub(open, string.find(open, ':', 1, true) + 1)
  record = redis.call('GET', ARGV[2] .. id) or ''
end
return {first and 1 or 0, open or '', optout, record}
"""
_SWAP = _COMPARE_AND_SET + "return 1\n"


Send = Callable[..., Awaitable[Any]]


class Script:
    """A Lua script run by EVALSHA (loaded on first miss).

    Sent through ``send`` (a shared pipelined connection, or ``execute_command``), not
    redis-py's own Script wrapper, whose argument checks cost more than the script itself on
    the hot path.
    """

    def __init__(self, redis: Redis, source: str, send: Send) -> None:
        self.redis = redis
        self.send = send
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self.loaded = False

    async def load(self) -> None:
        """Make sure Redis has the script (for use in pipelines, where a miss cannot retry)."""
        if not self.loaded:
            await self.redis.script_load(self.source)
            self.loaded = True

    def arguments(self, keys: list[str], args: list[Any]) -> list[Any]:
        """What follows EVALSHA for these keys and arguments."""
        return [self.sha, len(keys), *keys, *args]

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self.send("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.loaded = False
            await self.load()
            return await self.send("EVALSHA", self.sha, len(keys), *keys, *args)

    async def run_many(self, calls: Iterable[tuple[list[str], list[Any]]]) -> list[Any]:
        """Run the script once per (keys, args) in one pipelined round trip, in order; if Redis
        lost its scripts (a restart), load it again and run them all again."""
        calls = list(calls)
        for _ in range(2):
            await self.load()
            pipe = self.redis.pipeline(transaction=False)
            for keys, args in calls:
                pipe.execute_command("EVALSHA", *self.arguments(keys, args))
            replies = await pipe.execute(raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in replies):
                break
            self.loaded = False
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return list(replies)


def pack_decision(decision: dict[str, Any]) -> str:
    """A decision as the transaction's idempotency key keeps it: ``status|reason|survey id|
    send at`` (the transaction id is in the key's name)."""
    return "|".join(
        (decision["status"], decision["reason"] or "", decision["survey_id"],
         decision.get("send_at", ""))
    )  # fmt: skip


def unpack_decision(txn_id: str, packed: str) -> dict[str, Any]:
    """The decision a repeat of ``txn_id`` gets: the one recorded first."""
    if packed.startswith("{"):  # kept whole by earlier versions
        return cast(dict[str, Any], orjson.loads(packed))
    status, reason, survey_id, send_at = packed.split("|", 3)
    out: dict[str, Any] = {"transaction_id": txn_id, "survey_id": survey_id, "status": status,
                           "reason": reason or None}  # fmt: skip
    if send_at:
        out["send_at"] = send_at
    return out


def _for_one_of(fields: dict[str, str], addresses: Iterable[str]) -> bool:
    """Whether a work-queue job is for one of these addresses (a chat answer to send)."""
    payload = orjson.loads(fields["payload"])
    return bool({payload.get("to"), payload.get("user")} & set(addresses))


def survey_timer(ref: str) -> str:
    """A survey's one timer (its reminder, then its expiry: see ``bot.delivery``)."""
    return f"survey:{ref}"


def timer_members(ref: str) -> tuple[str, str, str]:
    """Every timer a survey may have: its own, and the two that earlier versions set."""
    return survey_timer(ref), f"remind:{ref}", f"expire:{ref}"


def _moment(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


_REF = re.compile(r"^[0-9a-f]{32}/[A-Za-z0-9]{1,64}$")


def is_ref(value: str) -> bool:
    """Whether a value from outside (a button's value) is a well-formed survey reference."""
    return bool(_REF.match(value))


def survey_ref(person: str, survey_id: str) -> str:
    """How the bot refers to a survey internally: its person's pseudonym and its id, so the
    survey's keys can be placed in the person's shard."""
    return f"{person}/{survey_id}"


def _open_ref(person: str, open_value: str | bytes | None) -> str | None:
    # An open pointer holds "<service>:<survey id>".
    return survey_ref(person, str(open_value).split(":", 1)[1]) if open_value else None


@dataclass(frozen=True)
class IntakeRequest:
    """One decision to record: scheduled (with its survey) or suppressed (ended at once)."""

    txn_id: str
    decision: dict[str, Any]
    person: str
    channel: str
    survey: SurveyRecord | None
    send_at: float
    ended: SurveyRecord | None
    txn_ttl: int
    survey_ttl: int
    cap_since: float = 0.0


@dataclass(frozen=True)
class Closed:
    """What is kept of an ended survey for a late reply: enough to answer it in its words."""

    service: str
    language: str
    flow_id: str


@dataclass(frozen=True)
class IntakeResult:
    """What the intake script did: ``ok``, ``exists``, ``conflict`` or ``capped``."""

    outcome: str
    value: str


class State:
    """Typed access to the Redis keys; all the bot's shared state goes through here."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "fb",
        shards: int = 16,
        lane: Pipelined | None = None,
        invited_ttl: int = 30 * DAY,
        responded_ttl: int = 90 * DAY,
    ) -> None:
        """``lane``, when given, carries the scripts and the other short commands of the hot
        paths (see ``bot.pipelined``); everything else goes through ``redis``. A person's key
        (cap timings, open surveys) is kept at least ``invited_ttl`` seconds after an
        invitation is scheduled (the invitation cool-down, and the longest a survey stays
        open) and ``responded_ttl`` after a response (the response cool-down)."""
        self.redis = redis
        self.invited_ttl = invited_ttl
        self.responded_ttl = responded_ttl
        self.send: Send = lane.execute if lane is not None else redis.execute_command
        self.p = prefix
        self.shards = [f"s{n:02d}" for n in range(shards)]
        self._tagged = [f"{prefix}:{{{shard}}}:" for shard in self.shards]  # key heads by shard
        self._intake = Script(redis, _INTAKE, self.send)
        self._claim = Script(redis, _CLAIM, self.send)
        self._pump = Script(redis, _PUMP, self.send)
        self._person = Script(redis, _PERSON, self.send)
        self._bucket = Script(redis, _BUCKET, self.send)
        self._recover = Script(redis, _RECOVER, self.send)
        self._cas = Script(redis, _CAS, self.send)
        self._inbound = Script(redis, _INBOUND, self.send)
        self._swap = Script(redis, _SWAP, self.send)
        self.ack = Script(redis, _ACK, self.send)

    async def upgrade_layout(self) -> None:
        """Bring keys written by earlier versions to today's layout, once (idempotent, so
        processes starting together may all run it): each person's hash of opt-outs becomes
        members of the shard's set; open pointers move into the person's key; person keys
        without an expiry get one."""
        if await self.redis.get(self.k_layout) == LAYOUT:
            return
        async for key in self.redis.scan_iter(match=f"{self.p}:{{s*}}:optout:*", count=1000):
            person = key.rsplit(":", 1)[1]
            scopes = [str(s) for s in await self.redis.hkeys(key)]
            if scopes:
                await self.redis.sadd(self._k_optouts_of(person),
                                      *self.optout_members(person, scopes))  # fmt: skip
            await self.redis.delete(key)
        async for key in self.redis.scan_iter(match=f"{self.p}:{{s*}}:open:*", count=1000):
            person = key.rsplit(":", 1)[1]
            pointers = cast(dict[str, str], await self.redis.hgetall(key))
            fields: dict[Any, Any] = {f"open:{c}": v for c, v in pointers.items()}
            if fields:
                await self.redis.hset(self.k_person(person), mapping=fields)
            await self.redis.delete(key)
        async for key in self.redis.scan_iter(match=f"{self.p}:{{s*}}:person:*", count=1000):
            if await self.redis.ttl(key) == -1:
                await self.redis.expire(key, self.responded_ttl)
        await self.redis.set(self.k_layout, LAYOUT)

    # keys. A person's keys and the queues of the person's shard share one hash tag, so every
    # script touches a single Redis Cluster slot; workers visit every shard.
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

    def _k_optouts_of(self, person: str) -> str:
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

    def k_seen(self, kind: str, key: str) -> str:
        return f"{self.p}:seen:{kind}:{{{key}}}"

    def shard_of_ref(self, ref: str) -> str:
        return self.shard_of(ref.partition("/")[0])

    async def each_shard(self, command: Callable[[Any, str], Any]) -> list[Any]:
        """Run ``command`` (which may queue several commands) for every shard, in one round
        trip; the replies come in order."""
        pipe = self.redis.pipeline(transaction=False)
        for shard in self.shards:
            command(pipe, shard)
        return list(await pipe.execute())

    async def ended_count(self) -> int:
        """How many surveys have ended (or been suppressed) since the state began."""
        counts = await self.each_shard(lambda pipe, s: pipe.get(self.k_ended_count(s)))
        return sum(int(c or 0) for c in counts)

    async def queue_sizes(self) -> dict[str, int]:
        """Invitations scheduled and due to send, timers pending, ended surveys unforwarded."""
        pipe = self.redis.pipeline(transaction=False)
        for shard in self.shards:
            pipe.zcard(self.k_due(shard))
            pipe.xlen(self.k_send(shard))
            pipe.zcard(self.k_timers(shard))
            pipe.xlen(self.k_ended(shard))
        values = [int(v) for v in await pipe.execute()]
        names = ("scheduled", "sending", "timers", "unforwarded")
        return {name: sum(values[i::4]) for i, name in enumerate(names)}

    async def decisions(self, transactions: list[tuple[str, str]]) -> list[str | None]:
        """The decisions already recorded for these (person, transaction id) pairs."""
        if not transactions:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for person, txn_id in transactions:
            pipe.get(self.k_txn(person, txn_id))
        return cast(list[str | None], await pipe.execute())

    async def people(self, people: list[tuple[str, str, Iterable[str]]]) -> list[Person]:
        """For each (pseudonym, channel, consent scopes that forbid the survey): the scopes
        opted out of, the open survey's service on that channel, and when the person was last
        invited and last responded."""
        replies = await self._person.run_many(
            ([self._k_optouts_of(p), self.k_open(p), self.k_person(p)],
             [channel, *self.optout_members(p, scopes)])
            for p, channel, scopes in people
        )  # fmt: skip
        out: list[Person] = []
        for members, open_value, invited, responded in replies:
            out.append(
                Person(
                    opted_out=frozenset(m.partition("|")[2] for m in members),
                    open_survey_service=open_value.split(":", 1)[0] if open_value else None,
                    last_invited=_moment(invited),
                    last_responded=_moment(responded),
                )
            )
        return out

    async def record_intakes(self, requests: list[IntakeRequest]) -> list[IntakeResult]:
        """Record decisions once per transaction id, each scheduling its survey atomically,
        all in one round trip (scripts run in order, so a later item sees an earlier one).

        Outcomes: ``ok``; ``exists`` (the first decision); ``conflict`` (another survey is
        open for the person on the channel); ``capped`` (invited after ``cap_since``).
        """
        replies = await self._intake.run_many(self._intake_args(r) for r in requests)
        return [IntakeResult(str(r[0]), str(r[1])) for r in replies]

    def _intake_args(self, r: IntakeRequest) -> tuple[list[str], list[Any]]:
        survey_id = r.decision["survey_id"]
        ref = survey_ref(r.person, survey_id)
        service = r.survey["service"] if r.survey else ""
        shard = self.shard_of(r.person)
        keys = [
            self.k_txn(r.person, r.txn_id),
            self.k_survey(ref),
            self.k_due(shard),
            self.k_open(r.person),
            self.k_ended(shard),
            self.k_ended_count(shard),
            self.k_person(r.person),
        ]
        args = [
            pack_decision(r.decision),
            r.decision["status"],
            orjson.dumps(r.survey) if r.survey else "",
            f"{service}:{survey_id}",
            r.channel,
            int(r.send_at),  # whole seconds (the sending rechecks the quiet hours)
            r.txn_ttl,
            r.survey_ttl,
            orjson.dumps(r.ended) if r.ended else "",
            ref,
            r.cap_since,
            self.invited_ttl,
        ]
        return keys, args

    # surveys
    async def survey(self, ref: str) -> SurveyRecord | None:
        raw = await self.redis.get(self.k_survey(ref))
        return cast(SurveyRecord, orjson.loads(raw)) if raw else None

    async def open_survey(self, person: str, channel: str) -> str | None:
        """The reference of the person's scheduled or open survey on a channel, if any."""
        return _open_ref(person, await self.redis.hget(self.k_open(person), f"open:{channel}"))

    async def open_surveys(self, person: str) -> list[str]:
        """The references of every scheduled or open survey of a person, on any channel."""
        fields = cast(dict[str, str], await self.redis.hgetall(self.k_open(person)))
        return [ref for f, v in fields.items() if f.startswith("open:")
                if (ref := _open_ref(person, v))]  # fmt: skip

    async def closed_survey(self, person: str, channel: str) -> Closed | None:
        """What is kept of the person's most recently ended survey on a channel (for
        ``CLOSED_TTL``), if any: its service, language and flow."""
        value = await self.redis.hget(self.k_closed(person), channel)
        if not value:
            return None
        service, _, rest = str(value).partition("|")
        language, _, flow_id = rest.partition("|")
        return Closed(service, language, flow_id) if flow_id else None

    async def update_survey(
        self,
        ref: str,
        change: Callable[[SurveyRecord], SurveyRecord | None],
        current: SurveyRecord | None = None,
        responded: datetime | None = None,
        message: tuple[str, str] | None = None,
    ) -> SurveyRecord | None:
        """Apply ``change`` to a survey record atomically; returns the record as it now is.

        ``change`` gets a copy and returns the new record, or None to leave it as it is. The
        write is a compare-and-set on the record's revision, retried on a conflict, so pass
        ``current`` when the record was just read to save a round trip. A record whose status
        becomes ``ended`` is handed off to the ended-surveys stream in the same script, its
        person's open pointer cleared and a closed pointer kept for late replies. With
        ``responded``, the person's response cool-down starts then, in the same write. With
        ``message`` (person, message key), that inbound message is marked handled in the same
        write, and AlreadyHandled is raised when it was: an answer and its mark are kept or lost
        together, so a retry of a message whose answer was not kept is answered again.
        """
        key = self.k_survey(ref)
        survey_id = ref.partition("/")[2]

        async def write(revision: int, before: SurveyRecord, after: SurveyRecord) -> bool:
            ending = after["status"] == "ended" and before["status"] != "ended"
            person, channel = after["person"], after["channel"]
            shard = self.shard_of(person)
            keys = [key, self.k_open(person), self.k_closed(person), self.k_ended(shard),
                    self.k_ended_count(shard), self.k_person(person), self.k_timers(shard),
                    self.k_due(shard)]  # fmt: skip
            if message is not None:
                keys.append(self.k_inbound(message[0]))
            language = (after.get("session") or {}).get("language") or after["language"]
            closed = f"{after['service']}|{language}|{after['flow_id']}"
            args = [revision, orjson.dumps(after), int(ending), channel, survey_id, CLOSED_TTL,
                    int(responded.timestamp()) if responded else "", INBOUND_TTL,
                    message[1] if message else "", self.responded_ttl, closed, ref]  # fmt: skip
            written = int(await self._cas(keys=keys, args=args))
            if written < 0:
                raise AlreadyHandled(message)
            return written == 1

        return await self._change(key, change, write, current)

    async def _change(
        self,
        key: str,
        change: Callable[[dict[str, Any]], dict[str, Any] | None],
        write: Callable[[int, dict[str, Any], dict[str, Any]], Awaitable[bool]],
        current: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The compare-and-set loop on a JSON value's revision: ``write`` stores the changed
        value only if the revision is still the one read; on a conflict, read and redo."""
        while True:
            if current is None:
                raw = await self.redis.get(key)
                if raw is None:
                    return None
                current = cast(dict[str, Any], orjson.loads(raw))
            after = change(dict(current))
            if after is None:
                return current
            revision = int(current.get("rev", 0))
            after.pop("rev", None)
            after = {"rev": revision + 1, **after}  # first: see _COMPARE_AND_SET
            if await write(revision, current, after):
                return after
            current = None  # someone else wrote first: read again and redo the change

    async def ended_records(self) -> list[SurveyRecord]:
        """Every record in the ended-surveys stream, oldest first."""
        shards = await self.each_shard(lambda pipe, s: pipe.xrange(self.k_ended(s)))
        entries = sorted(
            (tuple(map(int, entry_id.split("-"))), fields)
            for shard in shards
            for entry_id, fields in shard
        )
        return [cast(SurveyRecord, orjson.loads(fields["record"])) for _, fields in entries]

    async def hand_off(self, person: str, record: str) -> None:
        """Append an ended-survey record to its shard's stream (tests, replays)."""
        await self.redis.xadd(self.k_ended(self.shard_of(person)), {"record": record})

    async def forget_person(
        self, person: str, addresses: Iterable[str] = ()
    ) -> tuple[dict[str, int], list[str]]:
        """Remove what Redis holds of a person (a pseudonym) but an opt-out: surveys open or
        recently ended (their schedules and timers), ended surveys not yet in the store, the
        transactions' decisions, caps, de-duplication, late-reply pointer, chat jobs for one of
        ``addresses``; cases are kept for staff, their excerpts removed. Returns counts of
        each and the references of the cases changed."""
        shard = self.shard_of(person)

        async def scan(name: str) -> list[str]:
            return [k async for k in self.redis.scan_iter(match=f"{self._k(person, name)}:*")]

        surveys, txns, case_keys = await scan("survey"), await scan("txn"), await scan("case")
        refs = [survey_ref(person, key.rsplit(":", 1)[1]) for key in surveys]
        refs += await self.open_surveys(person)  # scheduled ones not yet sent have keys too
        pipe = self.redis.pipeline(transaction=False)
        for ref in set(refs):
            pipe.zrem(self.k_due(shard), ref)
            pipe.zrem(self.k_timers(shard), *timer_members(ref))
        existing = [self.k_person(person), self.k_closed(person), self.k_inbound(person),
                    self.k_notice(person)]  # fmt: skip
        pipe.exists(*existing)
        pipe.delete(*surveys, *txns, *existing)
        replies = await pipe.execute()
        pending = 0
        for key, mine in (
            (self.k_ended(shard), lambda f: orjson.loads(f["record"]).get("person") == person),
            (self.k_dead(shard), lambda f: orjson.loads(f["record"]).get("person") == person),
            (self.k_work(shard), lambda f: _for_one_of(f, addresses)),
            (f"{self.k_work(shard)}:dead", lambda f: _for_one_of(f, addresses)),
        ):
            entries = cast(list[tuple[str, dict[str, str]]], await self.redis.xrange(key))
            for entry_id, fields in entries:
                try:
                    if not mine(fields):
                        continue
                except (KeyError, orjson.JSONDecodeError):
                    continue
                pending += 1
                await self.redis.xdel(key, entry_id)
                await self.redis.hdel(self.k_retries(shard), entry_id)
        changed: list[str] = []
        for key in case_keys:
            ref = survey_ref(person, key.rsplit(":", 1)[1])
            case = await self.case(ref)
            if case is not None and case.get("excerpt"):
                await self.update_case(ref, lambda c: {**c, "excerpt": None})
                changed.append(ref)
        counts = {"surveys": len(surveys), "pending": pending, "decisions": len(txns),
                  "person_entries": int(replies[-2]), "case_excerpts": len(changed)}  # fmt: skip
        return counts, changed

    # queues
    async def ensure_group(self, stream: str, group: str) -> None:
        """Create a consumer group (and its stream) unless it exists."""
        try:
            await self.redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def pump_due(self, now: float, limit: int = 500) -> int:
        """Move invitations whose time has come from the schedules to the send streams."""
        moved = await self._pump.run_many(
            ([self.k_due(s), self.k_send(s)], [now, limit]) for s in self.shards
        )
        return sum(int(m) for m in moved)

    async def take_sends(
        self, consumer: str, *, count: int = 100, stalled_ms: int
    ) -> list[tuple[str, str]]:
        """Send-stream entries for this worker, from every shard: first those a dead worker left
        unfinished for ``stalled_ms``, then new ones. Each is (entry id, survey reference)."""
        per_shard = max(1, count // len(self.shards))
        replies = await self.each_shard(
            lambda pipe, s: (
                pipe.xautoclaim(self.k_send(s), SEND_GROUP, consumer, stalled_ms, "0-0",
                                count=per_shard),
                pipe.xreadgroup(SEND_GROUP, consumer, {self.k_send(s): ">"}, count=per_shard),
            )
        )  # fmt: skip
        entries: list[tuple[str, dict[str, str]]] = []
        for claimed, fresh in zip(replies[0::2], replies[1::2], strict=True):
            # Redis 6.2 answers [cursor, entries]; 7 adds the ids of deleted entries.
            entries.extend((i, f) for i, f in claimed[1] if f)
            for _stream, items in fresh or []:
                entries.extend((i, f) for i, f in items if f)
        return [(i, f["ref"]) for i, f in entries]

    async def done_send(self, ref: str, entry_id: str) -> None:
        await self.ack(keys=[self.k_send(self.shard_of_ref(ref))], args=[SEND_GROUP, entry_id])

    async def claim_timers(self, now: float, limit: int = 100) -> list[str]:
        claimed = await self._claim.run_many(
            ([self.k_timers(s), self.k_timers_inflight(s)], [now, limit]) for s in self.shards
        )
        return [str(member) for members in claimed for member in members]

    def _timer_shard(self, member: str) -> str:
        return self.shard_of_ref(member.partition(":")[2])

    async def finish_timer(self, member: str) -> None:
        await self.redis.zrem(self.k_timers_inflight(self._timer_shard(member)), member)

    async def schedule(self, ref: str, when: float) -> None:
        await self.redis.zadd(self.k_due(self.shard_of_ref(ref)), {ref: when})

    async def clear_timers(self, ref: str) -> None:
        """Drop a survey's reminder and expiry timers."""
        await self.redis.zrem(self.k_timers(self.shard_of_ref(ref)), *timer_members(ref))

    async def set_timer(self, member: str, when: float) -> None:
        """Set a timer; ``member`` is ``<kind>:<survey reference>``."""
        await self.redis.zadd(self.k_timers(self._timer_shard(member)), {member: when})

    async def recover_stalled_timers(self, older_than: float, now: float) -> int:
        """Put timers claimed by a worker that died back on their queues."""
        moved = await self._recover.run_many(
            ([self.k_timers(s), self.k_timers_inflight(s)], [older_than, now]) for s in self.shards
        )
        return sum(int(m) for m in moved)

    async def take_capacity(
        self, sender: str, segments: int, rate: float, burst: float, *, force: bool = False
    ) -> float:
        """Take ``segments`` from the sender's bucket; 0.0 when taken, else seconds to wait."""
        wait = await self._bucket(
            keys=[self.k_bucket(sender)],
            args=[rate, max(burst, segments), segments, "1" if force else "0"],
        )
        return float(wait)

    # consent
    async def opted_out(self, person: str, scopes: Iterable[str]) -> bool:
        """True when the person opted out under any of these scopes."""
        members = self.optout_members(person, scopes)
        found = await self.redis.smismember(self._k_optouts_of(person), members)
        return any(found)

    async def opt_out(self, person: str, scope: str) -> bool:
        """Record an opt-out under a scope, for ever; True when it is new (so confirm it once
        only). Only the keyed hash of the address is kept, as a member of the shard's set."""
        return bool(await self.redis.sadd(self._k_optouts_of(person), f"{person}|{scope}"))

    async def opt_in(self, person: str, scope: str) -> bool:
        """Lift an opt-out under a scope (and a blanket one); True when there was one."""
        members = self.optout_members(person, (scope, "all"))
        return bool(await self.redis.srem(self._k_optouts_of(person), *members))

    # inbound messages
    async def inbound(
        self, message_id: str, person: str, channel: str, scopes: Iterable[str]
    ) -> tuple[bool, str | None, bool, SurveyRecord | None]:
        """In one round trip: is this message id not handled yet?, the person's open survey
        on this channel (reference and record), and whether the person has opted out (any
        scope). Nothing is marked here: see ``mark_inbound`` and ``update_survey``."""
        first, open_value, opted_out, raw = await self._inbound(
            keys=[self.k_inbound(person), self.k_open(person), self._k_optouts_of(person)],
            args=[channel, self.k_survey(survey_ref(person, "")), message_id,
                  *self.optout_members(person, scopes)],
        )  # fmt: skip
        record = cast(SurveyRecord, orjson.loads(raw)) if raw else None
        return bool(first), _open_ref(person, open_value), bool(opted_out), record

    async def mark_inbound(self, person: str, message_id: str) -> bool:
        """Mark an inbound message handled; False when it was already."""
        key = self.k_inbound(person)
        # Sent in the same turn: one write on the pipelined connection.
        new, _ = await asyncio.gather(self.send("HSETNX", key, message_id, "1"),
                                      self.send("EXPIRE", key, INBOUND_TTL))  # fmt: skip
        return bool(new)

    async def notice_due(self, person: str) -> bool:
        """True at most once a day per person: the no-open-survey answer."""
        return bool(await self.redis.set(self.k_notice(person), "1", nx=True, ex=DAY))

    # cases
    async def create_case(self, ref: str, case: dict[str, Any], ttl: int) -> bool:
        """Store a new case unless one exists for ``ref``; True when it is new."""
        created = await self.redis.set(self.k_case(ref), orjson.dumps(case), nx=True, ex=ttl)
        if created:
            await self.redis.zadd(self.k_open_cases, {ref: datetime.fromisoformat(
                case["created_at"]).timestamp()})  # fmt: skip
        return bool(created)

    async def case(self, ref: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.k_case(ref))
        return cast(dict[str, Any], orjson.loads(raw)) if raw else None

    async def update_case(
        self, ref: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """Apply ``change`` to a case atomically (compare-and-set on its revision); returns the
        case as it now is. A case that is no longer open leaves the open-cases index."""
        key = self.k_case(ref)

        async def write(revision: int, before: dict[str, Any], after: dict[str, Any]) -> bool:
            return bool(await self._swap(keys=[key], args=[revision, orjson.dumps(after)]))

        case = await self._change(key, change, write)
        if case is not None and case["status"] not in OPEN:
            await self.redis.zrem(self.k_open_cases, ref)
        return case

    async def open_cases(self, limit: int = 50) -> list[dict[str, Any]]:
        """Open cases, oldest first."""
        refs = cast(list[str], await self.redis.zrange(self.k_open_cases, 0, limit - 1))
        pipe = self.redis.pipeline(transaction=False)
        for ref in refs:
            pipe.get(self.k_case(ref))
        return [orjson.loads(raw) for raw in await pipe.execute() if raw]

    # services paused at run time (shared by every process)
    async def paused(self) -> dict[str, dict[str, str]]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.k_paused))
        return {k: orjson.loads(v) for k, v in raw.items()}

    async def pause(self, service: str, by: str, at: str) -> bool:
        """Pause a service's surveys; False when it was paused already."""
        value = orjson.dumps({"by": by, "at": at})
        return bool(await self.redis.hsetnx(self.k_paused, service, value))

    async def resume(self, service: str) -> bool:
        """Resume a paused service; False when it was not paused."""
        return bool(await self.redis.hdel(self.k_paused, service))

    async def first_time(self, kind: str, key: str, ttl: int) -> bool:
        """True the first time ``key`` is seen within ``ttl`` seconds (de-duplication)."""
        return bool(await self.redis.set(self.k_seen(kind, key), "1", nx=True, ex=ttl))

    async def forget(self, kind: str, key: str) -> None:
        """Let ``key`` be seen for the first time again (its handling failed)."""
        await self.redis.delete(self.k_seen(kind, key))
