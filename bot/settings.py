"""Settings from the environment (12-factor), with secrets that never show themselves."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.core.channels import ChannelKind
from bot.core.errors import PermanentError
from bot.core.secret import Secret
from flows import FLOWS_DIR

_POSTGRES = ("postgresql://", "postgres://", "postgresql+asyncpg://")
# The file ``feedback-bot demo`` keeps its settings in, in its data folder: a folder holding
# it is the demo's (the demo writes only into such a folder or an empty one; the service says
# at start-up when its store is the demo's).
DEMO_MARKER = "demo.env"


class ConfigError(PermanentError):
    """The configuration cannot work; start-up stops with this message."""


def _secret(env: Mapping[str, str], name: str) -> Secret:
    return Secret(env.get(name, ""))


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> Any:
    """A numeric setting; ConfigError naming the variable when it is not a number."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, not {raw.strip()[:40]!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name} must be a finite number")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated setting, blanks dropped."""
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# What TRUSTED_PROXIES=private names: loopback, the private ranges of RFC 1918 and RFC 4193,
# and the shared address space of carrier-grade NAT (RFC 6598), where platform routers live.
PRIVATE: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
    "::1/128", "fc00::/7",
))  # fmt: skip


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    """Addresses and networks (``10.0.0.0/8``, ``2001:db8::1``), ``private`` for every
    private network, or ``none``; ConfigError naming an entry that is none of these."""
    found: list[Network] = []
    for item in _list(env, name) if name in env else ("private",):
        if item.lower() == "private":
            found += PRIVATE
        elif item.lower() != "none":
            try:
                found.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ConfigError(
                    f"{name} must list addresses or networks such as 10.0.0.0/8, "
                    f"or private, or none ({item[:40]!r} is not one)"
                ) from None
    return tuple(found)


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    redis_url: str | None = None
    redis_cluster: bool = False  # REDIS_URL names one node of a Redis Cluster
    redis_require_durable: bool = False  # a Redis that may lose its memory stops start-up
    redis_max_connections: int = 100  # pooled connections per process; more requests wait
    redis_dir: Path = Path("var/redis")
    database_url: str | None = None
    # A PostgreSQL streaming replica that reports, console pages, exports and comment search
    # read from (writes, and reads that must see them, stay on DATABASE_URL).
    database_read_url: str | None = None
    data_dir: Path = Path("var")  # the SQLite measures store when DATABASE_URL is unset
    public_base_url: str = ""  # required when a channel checks signatures over it
    port: int = 8080
    api_token: Secret = field(default_factory=lambda: Secret(""))
    admin_token: Secret = field(default_factory=lambda: Secret(""))
    viewer_token: Secret = field(default_factory=lambda: Secret(""))  # the console, read only
    admin_session_minutes: float = 30.0  # a console session ends after this long idle
    admin_session_max_hours: float = 12.0  # and after this long, however busy
    oidc_issuer: str = ""  # console sign-in through the agency's OpenID Connect provider
    oidc_client_id: str = ""
    oidc_client_secret: Secret = field(default_factory=lambda: Secret(""))
    oidc_roles_claim: str = "roles"  # the claim whose values "admin" / "viewer" give the role
    pseudonym_key: Secret = field(default_factory=lambda: Secret(""))
    twilio_account_sid: str = ""
    twilio_auth_token: Secret = field(default_factory=lambda: Secret(""))
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_send_timeout: float = 10.0
    slack_bot_token: Secret = field(default_factory=lambda: Secret(""))
    slack_signing_secret: Secret = field(default_factory=lambda: Secret(""))
    slack_api_url: str = "https://slack.com/api/"
    slack_alert_channel: str = ""  # where alerts go when a service names no channel
    slack_escalation_target: str = ""  # a channel or user group for unclaimed cases
    slack_admins: tuple[str, ...] = ()  # Slack user ids allowed /cx pause and /cx resume
    # An incoming webhook (Slack, Teams, ...) for the hourly count of new cases: its URL holds
    # a token, so it is a secret.
    case_digest_webhook: Secret = field(default_factory=lambda: Secret(""))
    agency_name: str = ""  # the console's header and title (default: the catalog's agency)
    agency_logo: Path | None = None  # a PNG or SVG file the console shows beside the name
    # Who the public report's readers may ask about it: an email address, a web address or
    # a sentence (the report links the first two); unset, each service's catalog contact.
    public_contact: str = ""
    flows_dir: Path = FLOWS_DIR
    services_file: Path = FLOWS_DIR / "services.yaml"
    program_name: str = "A-11 customer feedback surveys"
    help_contact: str = "Reply STOP to opt out."
    webhook_body_limit: int = 64 * 1024
    request_deadline: float = 10.0  # seconds; Twilio gives up on a webhook after 15
    channels: tuple[str, ...] = ("sms", "whatsapp")
    # Agency pages that may embed the web chat survey (its Content-Security-Policy's
    # frame-ancestors), e.g. https://www.agency.gov
    webchat_allowed_origins: tuple[str, ...] = ()
    webchat_sockets_per_client: int = 50  # live web chat pages a client address may hold open
    # The agency's voices for a call's spoken words, per language (Twilio <Say voice=...>).
    voice_en: str = "Polly.Joanna"
    voice_es: str = "Polly.Lupe"
    # Call-backs the bot may place per second (Twilio's default: one call a second a number).
    voice_call_rate: float = 1.0
    # How a call takes a comment: "speech" (a <Gather>'s SpeechResult) or "record" (a
    # <Record> with Twilio's transcription, which arrives after the call).
    voice_comments: str = "speech"
    # The peers whose forwarded addresses are believed (a platform's router, a load
    # balancer), and the header they write: the client address is read past them.
    trusted_proxies: tuple[Network, ...] = PRIVATE
    forwarded_header: str = "X-Forwarded-For"
    sink_urls: tuple[str, ...] = ()
    sink_secret: Secret = field(default_factory=lambda: Secret(""))
    touchpoints_url: str = ""  # GSA Touchpoints, where the catalog's touchpoints_form live
    touchpoints_api_url: str = ""  # its API (the API gateway's); default: TOUCHPOINTS_URL/api/v1
    touchpoints_api_key: Secret = field(default_factory=lambda: Secret(""))
    outbox_retry_hours: float = 24.0  # a record failing this long is dead-lettered
    send_rate: float = 1.0  # message segments per second per sender (long code 1, TF 3, SC 100)
    send_burst: float = 1.0
    send_concurrency: int = 8  # sends in flight at once per worker
    stalled_after: float = 120.0  # seconds before another worker takes over unfinished work
    startup_wait: float = 30.0  # seconds to wait for Redis and the store at start-up
    retention_days: float = 730.0  # free text is removed from records older than this
    min_cell: int = 10  # reports suppress groups with fewer respondents than this
    idempotency_days: float = 7.0  # how long a repeated transaction gets its first decision
    invitation_cooldown_days: float = 30.0
    response_cooldown_days: float = 90.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        defaults = cls()
        port = _number(env, "PORT", defaults.port, int)
        retry_hours = _number(env, "OUTBOX_RETRY_HOURS", defaults.outbox_retry_hours)
        invite_days = _number(env, "INVITATION_COOLDOWN_DAYS", defaults.invitation_cooldown_days)
        idempotency_days = _number(env, "IDEMPOTENCY_DAYS", defaults.idempotency_days)
        retention_days = _number(env, "RETENTION_DAYS", defaults.retention_days)
        response_days = _number(env, "RESPONSE_COOLDOWN_DAYS", defaults.response_cooldown_days)
        timeout = _number(env, "TWILIO_SEND_TIMEOUT", defaults.twilio_send_timeout)
        send_rate = _number(env, "SEND_RATE", defaults.send_rate)
        send_burst = _number(env, "SEND_BURST", send_rate if "SEND_RATE" in env else 1.0)
        stalled_after = _number(env, "STALLED_AFTER_SECONDS", defaults.stalled_after)
        concurrency = _number(env, "SEND_CONCURRENCY", defaults.send_concurrency, int)
        startup_wait = _number(env, "STARTUP_WAIT_SECONDS", defaults.startup_wait)
        deadline = _number(env, "REQUEST_DEADLINE_SECONDS", defaults.request_deadline)
        channels = _list(env, "CHANNELS") if "CHANNELS" in env else defaults.channels
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            redis_cluster=env.get("REDIS_CLUSTER", "").lower() in ("1", "true", "yes"),
            redis_require_durable=env.get("REDIS_REQUIRE_DURABLE", "").lower()
            in ("1", "true", "yes"),
            redis_max_connections=_number(
                env, "REDIS_MAX_CONNECTIONS", defaults.redis_max_connections, int
            ),
            redis_dir=Path(env.get("REDIS_DIR", defaults.redis_dir)),
            database_url=env.get("DATABASE_URL") or None,
            database_read_url=env.get("DATABASE_READ_URL") or None,
            public_base_url=env.get("PUBLIC_BASE_URL", "").strip().rstrip("/"),
            port=port,
            api_token=_secret(env, "API_TOKEN"),
            admin_token=_secret(env, "ADMIN_TOKEN"),
            viewer_token=_secret(env, "VIEWER_TOKEN"),
            admin_session_minutes=_number(
                env, "ADMIN_SESSION_MINUTES", defaults.admin_session_minutes
            ),
            admin_session_max_hours=_number(
                env, "ADMIN_SESSION_MAX_HOURS", defaults.admin_session_max_hours
            ),
            oidc_issuer=env.get("OIDC_ISSUER", "").strip().rstrip("/"),
            oidc_client_id=env.get("OIDC_CLIENT_ID", "").strip(),
            oidc_client_secret=_secret(env, "OIDC_CLIENT_SECRET"),
            oidc_roles_claim=env.get("OIDC_ROLES_CLAIM", "").strip() or defaults.oidc_roles_claim,
            pseudonym_key=_secret(env, "PSEUDONYM_KEY"),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=_secret(env, "TWILIO_AUTH_TOKEN"),
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL", defaults.twilio_api_base_url),
            twilio_send_timeout=timeout,
            slack_bot_token=_secret(env, "SLACK_BOT_TOKEN"),
            slack_signing_secret=_secret(env, "SLACK_SIGNING_SECRET"),
            slack_api_url=env.get("SLACK_API_URL", defaults.slack_api_url),
            slack_alert_channel=env.get("SLACK_ALERT_CHANNEL", ""),
            slack_escalation_target=env.get("SLACK_ESCALATION_TARGET", ""),
            slack_admins=_list(env, "SLACK_ADMINS"),
            case_digest_webhook=_secret(env, "CASE_DIGEST_WEBHOOK"),
            agency_name=env.get("AGENCY_NAME", "").strip(),
            agency_logo=Path(env["AGENCY_LOGO"]) if env.get("AGENCY_LOGO") else None,
            public_contact=env.get("PUBLIC_CONTACT", "").strip(),
            flows_dir=Path(env.get("FLOWS_DIR", defaults.flows_dir)),
            services_file=Path(env.get("SERVICES_FILE", defaults.services_file)),
            program_name=env.get("PROGRAM_NAME", defaults.program_name),
            help_contact=env.get("HELP_CONTACT", defaults.help_contact),
            channels=channels,
            data_dir=Path(env.get("DATA_DIR", defaults.data_dir)),
            sink_urls=_list(env, "SINK_URLS"),
            webchat_allowed_origins=_list(env, "WEBCHAT_ALLOWED_ORIGINS"),
            webchat_sockets_per_client=_number(
                env, "WEBCHAT_SOCKETS_PER_CLIENT", defaults.webchat_sockets_per_client, int
            ),
            voice_en=env.get("VOICE_EN", "").strip() or defaults.voice_en,
            voice_es=env.get("VOICE_ES", "").strip() or defaults.voice_es,
            voice_call_rate=_number(env, "VOICE_CALL_RATE", defaults.voice_call_rate),
            voice_comments=env.get("VOICE_COMMENTS", "").strip() or defaults.voice_comments,
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
            forwarded_header=env.get("FORWARDED_HEADER", "").strip() or defaults.forwarded_header,
            sink_secret=_secret(env, "SINK_SECRET"),
            touchpoints_url=env.get("TOUCHPOINTS_URL", "").rstrip("/"),
            touchpoints_api_url=env.get("TOUCHPOINTS_API_URL", "").rstrip("/"),
            touchpoints_api_key=_secret(env, "TOUCHPOINTS_API_KEY"),
            outbox_retry_hours=retry_hours,
            invitation_cooldown_days=invite_days,
            idempotency_days=idempotency_days,
            min_cell=_number(env, "MIN_CELL", defaults.min_cell, int),
            retention_days=retention_days,
            response_cooldown_days=response_days,
            send_rate=send_rate,
            send_burst=send_burst,
            send_concurrency=concurrency,
            stalled_after=stalled_after,
            startup_wait=startup_wait,
            request_deadline=deadline,
        )

    @property
    def official_site(self) -> bool:
        """The bot is an official U.S. government site (``PUBLIC_BASE_URL`` on a .gov or
        .mil host): its pages and the published report show the USWDS banner."""
        host = urlsplit(self.public_base_url).hostname or ""
        return host.endswith((".gov", ".mil"))

    @property
    def slack_enabled(self) -> bool:
        """Slack is on: as a survey channel, or for staff alerts (a bot token is set)."""
        return "slack" in self.channels or bool(self.slack_bot_token)

    def check(self, kinds: Mapping[str, ChannelKind] | None = None) -> None:
        """Stop start-up when an enabled part lacks what it needs; each channel says what it
        needs (``ChannelKind.problems``), ``kinds`` being the registry's by default."""
        if kinds is None:
            from bot.registry import kinds as registered  # the registry loads channel kinds

            kinds = registered()
        problems: list[str] = []
        for name in ("API_TOKEN", "ADMIN_TOKEN", "PSEUDONYM_KEY"):
            if not getattr(self, name.lower()):
                problems.append(f"{name} is not set")
        if self.public_base_url and not self.public_base_url.startswith(("https://", "http://")):
            problems.append("PUBLIC_BASE_URL must be an http(s):// URL")
        unknown = set(self.channels) - set(kinds)
        if unknown:
            problems.append(
                f"CHANNELS names unknown channels: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(kinds))})"
            )
        for name in self.channels:
            if name in kinds:
                problems += [p for p in kinds[name].problems(self) if p not in problems]
        if self.slack_bot_token:  # staff alerts and /cx, whatever the survey channels
            if not self.slack_signing_secret:
                problems.append("SLACK_SIGNING_SECRET is not set (Slack requests are verified)")
            if not self.slack_alert_channel:
                problems.append("SLACK_ALERT_CHANNEL is not set (crisis alerts need a place)")
        if self.redis_max_connections < 1:
            problems.append("REDIS_MAX_CONNECTIONS must be at least 1")
        if self.request_deadline <= 0:
            problems.append("REQUEST_DEADLINE_SECONDS must be positive")
        if self.send_rate <= 0 or self.send_burst <= 0:
            problems.append("SEND_RATE and SEND_BURST must be positive")
        if self.send_concurrency < 1:
            problems.append("SEND_CONCURRENCY must be at least 1")
        if not 0 < self.port < 65536:
            problems.append("PORT must be 1-65535")
        if self.retention_days <= 0:
            problems.append("RETENTION_DAYS must be positive")
        if self.admin_session_minutes <= 0:
            problems.append("ADMIN_SESSION_MINUTES must be positive")
        if self.admin_session_max_hours * 60 < self.admin_session_minutes:
            problems.append("ADMIN_SESSION_MAX_HOURS must be at least ADMIN_SESSION_MINUTES")
        if self.webchat_sockets_per_client < 1:
            problems.append("WEBCHAT_SOCKETS_PER_CLIENT must be at least 1")
        if self.forwarded_header.lower() not in ("x-forwarded-for", "forwarded"):
            problems.append("FORWARDED_HEADER must be X-Forwarded-For or Forwarded")
        oidc = {"OIDC_ISSUER": self.oidc_issuer, "OIDC_CLIENT_ID": self.oidc_client_id,
                "OIDC_CLIENT_SECRET": self.oidc_client_secret}  # fmt: skip
        if any(oidc.values()) and not all(oidc.values()):
            missing = ", ".join(k for k, v in oidc.items() if not v)
            problems.append(f"console sign-in through OpenID Connect also needs {missing}")
        if self.oidc_issuer and not self.oidc_issuer.startswith(("https://", "http://")):
            problems.append("OIDC_ISSUER must be an http(s):// URL")
        if self.min_cell < 3:
            problems.append("MIN_CELL must be at least 3 (10 or more is usual)")
        if self.idempotency_days <= 0:
            problems.append("IDEMPOTENCY_DAYS must be positive")
        if self.outbox_retry_hours <= 0:
            problems.append("OUTBOX_RETRY_HOURS must be positive")
        if self.touchpoints_url:
            for name, url in (("TOUCHPOINTS_URL", self.touchpoints_url),
                              ("TOUCHPOINTS_API_URL", self.touchpoints_api_url)):  # fmt: skip
                if url and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                    problems.append(f"{name} must be an https:// URL")
            if not self.touchpoints_api_key:
                problems.append("TOUCHPOINTS_API_KEY is not set (TOUCHPOINTS_URL needs it to read "
                                "the forms)")  # fmt: skip
            if not self.public_base_url:
                problems.append("PUBLIC_BASE_URL is not set (Touchpoints checks a submission's "
                                "referer against the form's allow-list)")  # fmt: skip
        if self.database_read_url and not self.database_read_url.startswith(_POSTGRES):
            problems.append("DATABASE_READ_URL must be a postgresql:// URL (a streaming replica)")
        if self.database_read_url and not (self.database_url or "").startswith(_POSTGRES):
            problems.append("DATABASE_READ_URL needs DATABASE_URL: the PostgreSQL it replicates")
        if self.sink_urls and not self.sink_secret:
            problems.append("SINK_SECRET is not set (SINK_URLS need it to sign records)")
        for url in self.sink_urls:
            if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                problems.append(f"SINK_URLS must be https:// URLs ({url.split('?')[0]!r})")
        if problems:
            raise ConfigError("cannot start: " + "; ".join(problems))
