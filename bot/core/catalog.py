"""The service catalog: which services survey, with which flow, on which channels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.a11 import REQUIRED_DRIVERS
from bot.core.cases import AlertRules
from bot.core.channels import ChannelKind
from bot.core.dimensions import BUILT_IN, identifying
from bot.core.errors import FlowError, FlowValidationError, at_most
from bot.core.flow import Flow
from bot.core.flowfile import read_yaml, schema_errors
from bot.core.goals import MEASURES, Goal
from bot.core.themes import Taxonomy, parse_themes
from bot.core.themes_default import DEFAULT as DEFAULT_THEMES
from flows import FLOWS_DIR


@dataclass(frozen=True)
class Service:
    """One service in the catalog."""

    id: str
    name: str
    agency: str
    program: str
    flow: str
    channels: tuple[str, ...]
    language: str = "en"
    delay: timedelta = timedelta(0)
    expiry: timedelta = timedelta(hours=72)
    reminder: timedelta = timedelta(hours=24)
    omb_control_number: str | None = None
    omb_expires: date | None = None
    contact: str = ""
    timezone: str = "America/New_York"
    drivers: tuple[str, ...] | None = None
    paused: bool = False
    provider: str = ""  # who the trust question names; the agency unless set
    sample_rate: float = 1.0
    stale_after: timedelta = timedelta(hours=72)
    quiet_hours: tuple[int, int] | None = None  # a narrower local window than the law's
    alerts: AlertRules | None = None  # None: only crisis language alerts
    # Touchpoints' collection detail: who provides the service, where in the journey the
    # survey is asked, the survey's Federal Register notice.
    service_provider: str = ""  # the High-Impact Service Provider or unit; the agency unless set
    transaction_point: str = "post_interaction"
    federal_register_url: str | None = None
    # All the service's customers, which the bot may not see: per (fiscal year, quarter,
    # reported channel) from the agency, or a multiplier of the transactions reported.
    customers: tuple[tuple[int, int, str, int], ...] = ()
    customers_per_transaction: float | None = None
    touchpoints_form: str | None = None  # the short UUID of its A-11 v2 form in Touchpoints
    # Equity and goals: transaction attributes participation is broken down by, and targets.
    reporting_dimensions: tuple[str, ...] = ()
    goals: tuple[Goal, ...] = ()
    comments_for_viewers: bool = False  # the console shows viewers its redacted comments
    # On a channel taken by link that can reach the person itself (voice: a call), the bot
    # does when the link was not used by the time the survey is due.
    call_back: bool = False
    themes: Taxonomy = DEFAULT_THEMES  # what its comments are tagged with

    def customer_volume(self, fiscal_year: int, quarter: int, channel: str) -> int | None:
        """The agency's count of customers on a reported channel in a quarter, if given."""
        for fy, q, ch, count in self.customers:
            if (fy, q, ch) == (fiscal_year, quarter, channel):
                return count
        return None

    def omb_expired(self, now: datetime) -> bool:
        """True when the service's OMB control number has lapsed (in the service's zone)."""
        if self.omb_expires is None:
            return False
        return now.astimezone(ZoneInfo(self.timezone)).date() > self.omb_expires

    def context(self) -> dict[str, str]:
        """The placeholders a flow renders for this service."""
        ctx = {
            "provider": self.provider or self.agency,
            "service": self.name,
            "agency": self.agency,
            "program": self.program,
            "contact": self.contact,
        }
        if self.omb_control_number:
            ctx["omb_control_number"] = self.omb_control_number
        return ctx


def parse_catalog(
    data: Any, source: str, flows: dict[str, Flow], kinds: Mapping[str, ChannelKind]
) -> tuple[dict[str, Service], list[FlowError]]:
    """Validate catalog data against the schema and the loaded flows; every problem at once
    (the services that break the schema are left out of the checks that need a valid entry)."""
    errors = schema_errors(data, source, FLOWS_DIR / "services.schema.json")
    if any(e.path in ("(root)", "services") for e in errors):
        return {}, at_most(errors)
    broken = {e.path.split(".")[0] for e in errors}
    services: dict[str, Service] = {}
    seen: set[str] = set()
    for i, raw in enumerate(data["services"]):
        path = f"services[{i}]"
        if path in broken:
            continue
        if raw["id"] in seen:
            errors.append(FlowError(source, f"{path}.id", f"duplicate service id {raw['id']!r}"))
        seen.add(raw["id"])
        for n, channel in enumerate(raw["channels"]):
            if channel not in kinds:
                errors.append(FlowError(source, f"{path}.channels[{n}]",
                                        f"unknown channel {channel!r}"))  # fmt: skip
        flow = flows.get(raw["flow"])
        if flow is None:
            errors.append(FlowError(source, f"{path}.flow", f"unknown flow {raw['flow']!r}"))
        language = raw.get("language", flow.default_language if flow else "en")
        if flow is not None and language not in flow.languages:
            errors.append(
                FlowError(source, f"{path}.language", f"flow {flow.id!r} has no {language!r}")
            )
        try:
            ZoneInfo(raw.get("timezone", "America/New_York"))
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(
                FlowError(source, f"{path}.timezone", f"unknown time zone {raw['timezone']!r}")
            )
        drivers = raw.get("drivers")
        if drivers is not None:
            for required in REQUIRED_DRIVERS:
                if required not in drivers:
                    errors.append(
                        FlowError(source, f"{path}.drivers", f"must include {required!r}")
                    )
        customers = _customers(raw, path, source, errors, kinds)
        for n, dimension in enumerate(raw.get("reporting_dimensions", ())):
            if identifying(dimension):
                errors.append(FlowError(source, f"{path}.reporting_dimensions[{n}]",
                    f"{dimension!r} could identify a person: report by a grouping such as "
                    "region, program, office or age_band"))  # fmt: skip
            elif dimension in (*BUILT_IN, "all"):
                errors.append(FlowError(source, f"{path}.reporting_dimensions[{n}]",
                    f"{dimension!r} is always reported"))  # fmt: skip
        hours = raw.get("quiet_hours")
        if hours is not None and not hours[0] < hours[1]:
            errors.append(FlowError(source, f"{path}.quiet_hours", "start must be before end"))
        if raw.get("omb_control_number") and not raw.get("omb_expires"):
            errors.append(
                FlowError(source, f"{path}.omb_expires", "an OMB control number needs its expiry")
            )
        try:
            omb_expires = date.fromisoformat(raw["omb_expires"]) if "omb_expires" in raw else None
        except ValueError:
            errors.append(FlowError(source, f"{path}.omb_expires", "not a valid date"))
            omb_expires = None
        themes = DEFAULT_THEMES
        if raw.get("themes") or raw.get("default_themes") is False:
            themes, more = parse_themes(
                raw.get("themes", []),
                DEFAULT_THEMES if raw.get("default_themes", True) else None,
                flow.languages if flow else (language,),
                source,
                f"{path}.themes",
            )
            errors += more
        if errors:
            continue  # nothing is built from a catalog with errors; checks go on
        services[raw["id"]] = Service(
            id=raw["id"],
            name=raw["name"],
            agency=raw["agency"],
            program=raw.get("program", raw["name"]),
            flow=raw["flow"],
            channels=tuple(raw["channels"]),
            language=language,
            delay=timedelta(minutes=raw.get("delay_minutes", 0)),
            expiry=timedelta(hours=raw.get("expiry_hours", 72)),
            reminder=timedelta(hours=raw.get("reminder_hours", 24)),
            omb_control_number=raw.get("omb_control_number"),
            omb_expires=omb_expires,
            contact=raw.get("contact", ""),
            timezone=raw.get("timezone", "America/New_York"),
            drivers=tuple(drivers) if drivers is not None else None,
            paused=raw.get("paused", False),
            provider=raw.get("provider", raw["agency"]),
            sample_rate=float(raw.get("sample_rate", 1.0)),
            stale_after=timedelta(hours=raw.get("stale_after_hours", raw.get("expiry_hours", 72))),
            quiet_hours=(raw["quiet_hours"][0], raw["quiet_hours"][1])
            if "quiet_hours" in raw
            else None,
            alerts=_alert_rules(raw["alerts"]) if "alerts" in raw else None,
            service_provider=raw.get("service_provider", raw["agency"]),
            transaction_point=raw.get("transaction_point", "post_interaction"),
            federal_register_url=raw.get("federal_register_url"),
            touchpoints_form=raw.get("touchpoints_form"),
            customers=customers,
            customers_per_transaction=raw.get("customers_per_transaction"),
            reporting_dimensions=tuple(raw.get("reporting_dimensions", ())),
            goals=_goals(raw.get("goals", {})),
            comments_for_viewers=raw.get("comments_for_viewers", False),
            call_back=raw.get("call_back", False),
            themes=themes,
        )
    return services, at_most(errors)


def _customers(
    raw: dict[str, Any], path: str, source: str, errors: list[FlowError],
    kinds: Mapping[str, ChannelKind],
) -> tuple[tuple[int, int, str, int], ...]:  # fmt: skip
    """``customers: {FY2027Q1: 1200}`` (the one reported channel) or
    ``{FY2027Q1: {sms_text_messages: 1000, chatbot: 200}}``, flattened."""
    reported = sorted({kinds[c].reported for c in raw["channels"] if c in kinds})
    out: list[tuple[int, int, str, int]] = []
    for key, value in raw.get("customers", {}).items():
        fiscal_year, quarter = int(key[2:6]), int(key[7])
        if isinstance(value, int):
            if len(reported) != 1:
                errors.append(FlowError(source, f"{path}.customers.{key}",
                    f"the service reports {len(reported)} channels ({', '.join(reported)}): "
                    "give a count per channel"))  # fmt: skip
                continue
            value = {reported[0]: value}
        for channel, count in value.items():
            if channel not in reported:
                errors.append(FlowError(source, f"{path}.customers.{key}.{channel}",
                    f"the service does not report on {channel!r}"))  # fmt: skip
            out.append((fiscal_year, quarter, channel, count))
    return tuple(out)


def _goals(raw: dict[str, Any]) -> tuple[Goal, ...]:
    """``goals: {since: FY2027Q1, trust_positive: 0.8, ...}`` (the schema checked it)."""
    since = raw.get("since")
    start = (int(since[2:6]), int(since[7])) if since else None
    return tuple(Goal(m, float(raw[m]), start) for m in MEASURES if m in raw)


def _alert_rules(raw: dict[str, Any]) -> AlertRules:
    defaults = AlertRules()
    return AlertRules(
        trust_negative=raw.get("trust_negative", defaults.trust_negative),
        polarity_at_most=raw.get("polarity_at_most"),
        drivers=tuple(raw.get("drivers", ())),
        channel=raw.get("channel", ""),
        escalate_after=timedelta(minutes=raw["escalate_after_minutes"])
        if "escalate_after_minutes" in raw
        else defaults.escalate_after,
        escalate_to=raw.get("escalate_to", ""),
    )


def load_catalog(
    path: Path, flows: dict[str, Flow], kinds: Mapping[str, ChannelKind]
) -> dict[str, Service]:
    """Read and validate the catalog file; raises with every error."""
    data, errors = read_yaml(path, str(path))
    services, more = parse_catalog(data, str(path), flows, kinds) if not errors else ({}, [])
    if errors or more:
        raise FlowValidationError(errors + more)
    return services
