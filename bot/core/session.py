"""Survey session state: a plain value that serialises to JSON, so it can live in Redis."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from bot.core.wording import INTERFACES, Interface

AnswerStatus = Literal["answered", "skipped", "unanswered"]
SessionStatus = Literal["active", "completed", "expired"]
AnswerValue = int | str | list[str] | None


@dataclass(frozen=True)
class Answer:
    """What became of one question."""

    status: AnswerStatus
    value: AnswerValue = None
    polarity: Literal["positive", "negative"] | None = None  # drivers: the branch asked
    offered: tuple[str, ...] = ()  # drivers/choice: options offered, in order
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "value": self.value}
        if self.polarity:
            data["polarity"] = self.polarity
        if self.offered:
            data["offered"] = list(self.offered)
        data["attempts"] = self.attempts
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return _build(
            cls,
            status=data["status"],
            value=data.get("value"),
            polarity=data.get("polarity"),
            offered=tuple(data.get("offered", ())),
            attempts=int(data.get("attempts", 1)),
        )


@dataclass(frozen=True)
class Session:
    """One person's progress through one flow."""

    flow_id: str
    flow_version: str
    language: str
    status: SessionStatus
    started_at: datetime
    updated_at: datetime
    expires_at: datetime
    question: str | None = None  # the question awaiting a reply
    attempts: int = 0  # failed tries at the current question
    answers: dict[str, Answer] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    offered_drivers: tuple[str, ...] | None = None  # None: every driver the flow lists
    reminders: int = 0
    # The kind of interface the person answers on (their channel's): how to answer is worded
    # for it. Not kept with a stored survey: its channel says it (``records.session_of``).
    interface: Interface = "text"

    @property
    def ended(self) -> bool:
        return self.status != "active"

    def with_(self, **changes: Any) -> Session:
        if not _SESSION_FIELDS.issuperset(changes):
            unknown = sorted(changes.keys() - _SESSION_FIELDS)
            raise TypeError(f"Session has no field {unknown[0]!r}")
        return _build(Session, **{**self.__dict__, **changes})

    def to_dict(self, *, context: bool = True) -> dict[str, Any]:
        """The session as plain JSON values; ``context=False`` leaves out the rendering context
        (a stored survey has its service's, from the catalog: see ``bot.records``)."""
        data = {
            "flow_id": self.flow_id,
            "flow_version": self.flow_version,
            "language": self.language,
            "status": self.status,
            "started_at": stamp(self.started_at),
            "updated_at": stamp(self.updated_at),
            "expires_at": stamp(self.expires_at),
            "question": self.question,
            "attempts": self.attempts,
            "answers": {k: a.to_dict() for k, a in self.answers.items()},
            "context": self.context,
            "offered_drivers": (
                list(self.offered_drivers) if self.offered_drivers is not None else None
            ),
            "reminders": self.reminders,
            "interface": self.interface,
        }
        if not context:
            del data["context"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        offered = data.get("offered_drivers")
        return _build(
            cls,
            flow_id=data["flow_id"],
            flow_version=data["flow_version"],
            language=data["language"],
            status=data["status"],
            started_at=datetime.fromisoformat(data["started_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            question=data.get("question"),
            attempts=int(data.get("attempts", 0)),
            answers={k: Answer.from_dict(v) for k, v in data.get("answers", {}).items()},
            context=dict(data.get("context", {})),
            offered_drivers=tuple(offered) if offered is not None else None,
            reminders=int(data.get("reminders", 0)),
            interface=_interface(data.get("interface")),
        )


def _interface(value: Any) -> Interface:
    return cast(Interface, value) if value in INTERFACES else "text"


_SESSION_FIELDS = frozenset(f.name for f in fields(Session))
_T = TypeVar("_T")


def _build(cls: type[_T], **values: Any) -> _T:
    # A frozen dataclass's __init__ sets each field through object.__setattr__: several times
    # slower than filling __dict__, and the engine makes a few sessions and answers per reply.
    # Only for values read back from a trusted form (every field given, no defaults needed).
    new = object.__new__(cls)
    new.__dict__.update(values)
    return new


def stamp(moment: datetime) -> str:
    """A moment as survey records keep it: ISO 8601 to the second (a stored survey is kept
    small; no rule needs a finer time)."""
    return moment.isoformat(timespec="seconds")


def disposition(session: Session) -> str:
    """completed, partial (ended with at least one answer) or expired (no answer at all)."""
    if session.status == "completed":
        return "completed"
    if any(a.status == "answered" for a in session.answers.values()):
        return "partial"
    return "expired" if session.status == "expired" else "active"
