"""Who is signed in to the console: sessions kept in Redis, sign-in with a token or through
the agency's OpenID Connect provider, roles, what a role may read, CSRF.

- A session is a random id in a cookie signed with a key derived from ``PSEUDONYM_KEY``
  (itsdangerous): HttpOnly, ``Secure`` when the public URL is https, ``SameSite=Lax``,
  limited to ``/admin``. What it holds (the person's name, role, CSRF token, when it began)
  is in Redis under a hash of the id, so a copied cookie dies with the session: signing out
  deletes it; it ends after ``ADMIN_SESSION_MINUTES`` idle (each request renews it) and
  ``ADMIN_SESSION_MAX_HOURS`` after it began, however busy; a token's session ends when the
  token is changed (it keeps a keyed hash of the token it was made with, checked on every
  request); a provider's session is checked with the provider again (its refresh token)
  at least every ``ADMIN_SESSION_MINUTES``, and ends when the person lost the role.
- OpenID Connect: the authorization code flow with PKCE and a nonce, through Authlib's client;
  the ID token's signature, issuer, audience, expiry and nonce are checked with joserfc (the
  JOSE library Authlib itself now uses) against the provider's published keys. The role comes
  from ``OIDC_ROLES_CLAIM``: a value ``admin`` or ``viewer`` (a string or a list of strings;
  any other shape is refused). Each sign-in's state is used once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.core.catalog import Service
from bot.service.runtime import Runtime
from bot.settings import Settings

if TYPE_CHECKING:  # imported when a sign-in through the provider starts: a lighter process
    import httpx2
    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

Role = Literal["viewer", "admin"]
COOKIE = "fb_console"
OIDC_COOKIE = "fb_console_oidc"  # state, nonce and PKCE verifier between the two legs
PRE_COOKIE = "fb_console_pre"  # the sign-in form's CSRF token, before there is a session
OIDC_LEG_SECONDS = 600
PATH = "/admin"
SCOPES = "openid profile email"


@dataclass(frozen=True)
class Staff:
    """A signed-in person: a display name (for the audit log), a role, the session's CSRF
    token, and the session's key in Redis."""

    name: str
    role: Role
    csrf: str
    session: str = ""

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    def reads_comments(self, service: Service | None) -> bool:
        """The one rule for people's own words — comments, text answers, a case's excerpt —
        on every page and download of the console: an admin reads them; a viewer reads a
        service's only when its catalog entry sets ``comments_for_viewers``."""
        return self.admin or (service is not None and service.comments_for_viewers)


@dataclass(frozen=True)
class Grant:
    """What the provider said of a person: a name, a role, who they are to it (``sub``), and
    the refresh token that lets the console ask again (None when it gave none)."""

    name: str
    role: Role
    subject: str
    refresh_token: str | None


def _digest(value: str | bytes) -> bytes:
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    return hashlib.sha256(raw).digest()


class Sessions:
    """Console sessions: the signed cookie that names one, and what Redis keeps of it."""

    def __init__(self, settings: Settings, oidc: Oidc | None = None) -> None:
        self._key = hmac.new(
            settings.pseudonym_key.reveal().encode(), b"console-session", hashlib.sha256
        ).digest()
        key = self._key.hex()
        self._signer = URLSafeTimedSerializer(key, salt="console")
        self._oidc = URLSafeTimedSerializer(key, salt="console-oidc")
        self.oidc = oidc
        self.idle = settings.admin_session_minutes * 60  # seconds
        self._idle_ms = max(1, int(1000 * self.idle))  # how long Redis keeps an idle session
        self.lifetime = settings.admin_session_max_hours * 3600
        self.secure = settings.public_base_url.startswith("https://")
        # The token each role signs in with, as sessions keep it: a session made with a
        # token that has since changed is no session.
        self._tokens: dict[str, str | None] = {
            "admin": self._fingerprint(settings.admin_token.reveal()),
            "viewer": self._fingerprint(settings.viewer_token.reveal()),
        }

    def _fingerprint(self, token: str) -> str | None:
        if not token:
            return None
        return hmac.new(self._key, b"token|" + _digest(token), hashlib.sha256).hexdigest()

    # --- the session ----------------------------------------------------------------------
    async def start(
        self, rt: Runtime, response: web.StreamResponse, name: str, role: Role, *,
        token: str | None = None, grant: Grant | None = None,
    ) -> Staff:  # fmt: skip
        """A new session, for a token's sign-in or the provider's ``grant``; its cookie is
        set on ``response``."""
        sid = secrets.token_urlsafe(32)
        now = rt.clock().timestamp()
        session: dict[str, Any] = {"name": name, "role": role, "csrf": secrets.token_urlsafe(24),
                                   "started": now}  # fmt: skip
        if token is not None:
            session["token"] = self._fingerprint(token)
        if grant is not None:
            session.update(sub=grant.subject, checked=now,
                           refresh=_seal(sid, grant.refresh_token))  # fmt: skip
        key = _key_of(sid)
        await rt.state.start_console_session(key, session, self._idle_ms)
        self._set(response, COOKIE, self._signer.dumps(sid), int(self.idle))
        return Staff(name, role, session["csrf"], key)

    async def read(
        self, request: web.Request, rt: Runtime, *, recheck: bool = True
    ) -> Staff | None:
        """The session's person, or None: no cookie, a forged one, or a session that has
        ended (signed out, idle, past its lifetime, its token changed, its role withdrawn by
        the provider). Its idle clock restarts. With ``recheck``, a provider's session due a
        check is checked first (``OidcUnavailable`` when the provider cannot answer: the
        session is kept for the next request)."""
        raw = request.cookies.get(COOKIE)
        try:
            sid = self._signer.loads(raw or "", max_age=int(self.lifetime) + 1)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(sid, str):
            return None
        key = _key_of(sid)
        # Read and renewed in one command (a session past its lifetime, renewed here, is
        # ended just below).
        session = await rt.state.console_session(key, self._idle_ms)
        now = rt.clock().timestamp()
        if session is None:
            return None
        if not self._valid(session, now):
            await rt.state.end_console_session(key)
            return None
        due = recheck and "sub" in session and now - float(session["checked"]) >= self.idle
        # One request asks the provider; others meanwhile go on with the session as it is.
        if due and await rt.state.first_time("console-recheck", key, 60):
            try:
                changed = await self._recheck(sid, session, now)
            finally:
                await rt.state.forget("console-recheck", key)
            if changed is None or not await rt.state.change_console_session(
                key, changed, self._idle_ms
            ):
                await rt.state.end_console_session(key)
                return None
            session = changed
        return Staff(str(session["name"]), session["role"], str(session["csrf"]), key)

    def _valid(self, session: dict[str, Any], now: float) -> bool:
        if session.get("role") not in ("viewer", "admin"):
            return False
        if now - float(session["started"]) >= self.lifetime:
            return False
        if "token" in session:
            current = self._tokens.get(session["role"])
            return current is not None and hmac.compare_digest(current, str(session["token"]))
        return "sub" in session and self.oidc is not None

    async def _recheck(
        self, sid: str, session: dict[str, Any], now: float
    ) -> dict[str, Any] | None:
        """Ask the provider again who the person is: the session as it now is, or None when
        it must end (no refresh token to ask with, the provider refused it, another person,
        no role). ``OidcUnavailable`` when the provider does not answer."""
        refresh = _unseal(sid, session.get("refresh"))
        if self.oidc is None or refresh is None:
            return None
        try:
            grant = await self.oidc.refresh(refresh)
        except OidcUnavailable:
            raise
        except OidcError as exc:
            log.info("console: a session through the provider ended at its check: %s", exc)
            return None
        if grant.subject != session["sub"]:
            return None
        return {**session, "name": grant.name, "role": grant.role, "checked": now,
                "refresh": _seal(sid, grant.refresh_token or refresh)}  # fmt: skip

    async def end(self, rt: Runtime, response: web.StreamResponse, staff: Staff | None) -> None:
        """Sign out: the session is deleted (a copy of its cookie is worth nothing), and the
        browser's cookie cleared."""
        if staff is not None:
            await rt.state.end_console_session(staff.session)
        response.del_cookie(COOKIE, path=PATH)

    def renew_cookie(self, request: web.Request, response: web.StreamResponse) -> None:
        """Keep the browser's cookie as long as the session may stay idle."""
        raw = request.cookies.get(COOKIE)
        if raw and COOKIE not in response.cookies:
            self._set(response, COOKIE, raw, int(self.idle))

    def _set(self, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max(1, max_age),
            path=PATH,
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )

    # --- between the legs of a sign-in ------------------------------------------------------
    def start_sign_in(self, response: web.StreamResponse, token: str) -> None:
        """Bind the sign-in form's CSRF token to this browser (no session holds it yet)."""
        self._set(response, PRE_COOKIE, self._oidc.dumps({"csrf": token}), OIDC_LEG_SECONDS)

    def sign_in_ok(self, request: web.Request, given: str | None) -> bool:
        """The sign-in form came back with the token its page was given, in time."""
        try:
            data = self._oidc.loads(request.cookies.get(PRE_COOKIE, ""), max_age=OIDC_LEG_SECONDS)
        except BadSignature:
            return False
        expected = data.get("csrf") if isinstance(data, dict) else None
        return (
            isinstance(expected, str)
            and given is not None
            and hmac.compare_digest(_digest(given), _digest(expected))
        )

    def start_oidc(self, response: web.StreamResponse, leg: dict[str, str]) -> None:
        self._set(response, OIDC_COOKIE, self._oidc.dumps(leg), OIDC_LEG_SECONDS)

    def oidc_leg(self, request: web.Request) -> dict[str, str] | None:
        raw = request.cookies.get(OIDC_COOKIE)
        try:
            data = self._oidc.loads(raw or "", max_age=OIDC_LEG_SECONDS)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None


def _key_of(sid: str) -> str:
    """Where Redis keeps a session: a hash of its id, so what Redis holds opens nothing."""
    return hashlib.sha256(sid.encode()).hexdigest()


def _seal(sid: str, secret: str | None) -> str | None:
    """A refresh token as Redis keeps it: encrypted with a key made from the session's id,
    which only the person's cookie holds."""
    if secret is None:
        return None
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_digest(b"console-refresh|" + sid.encode())).encrypt(
        nonce, secret.encode(), None
    )
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def _unseal(sid: str, sealed: Any) -> str | None:
    if not isinstance(sealed, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed)
        return (
            AESGCM(_digest(b"console-refresh|" + sid.encode()))
            .decrypt(raw[:12], raw[12:], None)
            .decode()
        )
    except (ValueError, InvalidTag):
        return None


def token_role(settings: Settings, token: str) -> Role | None:
    """The role a sign-in token gives: ``ADMIN_TOKEN`` admin, ``VIEWER_TOKEN`` viewer.
    Compared as digests, in constant time, whatever bytes were typed."""
    given = _digest(token)
    if settings.admin_token and hmac.compare_digest(given, _digest(settings.admin_token.reveal())):
        return "admin"
    viewer = settings.viewer_token
    if viewer and hmac.compare_digest(given, _digest(viewer.reveal())):
        return "viewer"
    return None


def csrf_ok(staff: Staff, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(_digest(given), _digest(staff.csrf))


def same_origin(request: web.Request, public_base_url: str) -> bool:
    """A form post came from our own pages: its Origin (or, without one, its Referer) is the
    public URL's origin. A browser always sends one of them on a cross-site post."""
    claimed = request.headers.get("Origin") or request.headers.get("Referer")
    if not claimed or claimed == "null":
        return False
    ours, theirs = urlsplit(public_base_url), urlsplit(claimed)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


class OidcError(Exception):
    """Sign-in through the provider was refused; the message is safe to show."""


class OidcUnavailable(OidcError):
    """The provider could not be reached or answered what cannot be read."""


def role_of(claims: dict[str, Any], claim: str) -> Role | None:
    """The console role an ID token's claims give: ``admin`` or ``viewer`` among the values
    of ``claim``, a string or a list of strings. A value of any other shape is refused
    (``{"admin": false}`` names no role: ``"admin" in`` it must not grant one)."""
    value = claims.get(claim)
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise OidcError(
            f"the sign-in service sent the role claim {claim!r} in a form the console does "
            "not accept (it must be a text or a list of texts): ask its administrator"
        )
    return "admin" if "admin" in values else "viewer" if "viewer" in values else None


class Oidc:
    """The agency's OpenID Connect provider, read from its discovery document."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self._secret = settings.oidc_client_secret
        self.roles_claim = settings.oidc_roles_claim
        self.redirect_uri = settings.public_base_url + PATH + "/oidc/callback"
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def _discover(self, http: httpx2.AsyncClient) -> dict[str, Any]:
        if self._metadata is None:
            reply = await http.get(self.issuer + "/.well-known/openid-configuration")
            reply.raise_for_status()
            metadata = reply.json()
            if metadata.get("issuer") != self.issuer:
                raise OidcError("the provider's discovery document names another issuer")
            self._metadata = metadata
        return self._metadata

    async def _ready(self) -> dict[str, Any]:
        """The discovery document and the provider's keys, read once."""
        import httpx2
        from joserfc.jwk import KeySet

        async with httpx2.AsyncClient(timeout=10) as http:
            metadata = await self._discover(http)
            if self._keys is None:
                reply = await http.get(metadata["jwks_uri"])
                reply.raise_for_status()
                self._keys = KeySet.import_key_set(reply.json())
        return metadata

    def _client(self, metadata: dict[str, Any]) -> AsyncOAuth2Client:
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        # A refresh token is what lets the console ask again whether the person still has
        # the role; providers that offer one (Entra ID, Okta, Keycloak…) want this scope.
        offline = "offline_access" in (metadata.get("scopes_supported") or ())
        return AsyncOAuth2Client(
            self.client_id,
            self._secret.reveal(),
            scope=SCOPES + (" offline_access" if offline else ""),
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    async def start(self) -> tuple[str, dict[str, str]]:
        """The provider's authorization URL, and what the callback must find again."""
        import httpx2

        try:
            return await self._start()
        except (httpx2.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise OidcUnavailable(type(exc).__name__) from None

    async def _start(self) -> tuple[str, dict[str, str]]:
        import httpx2

        leg = {
            "state": secrets.token_urlsafe(24),
            "nonce": secrets.token_urlsafe(24),
            "verifier": secrets.token_urlsafe(48),
        }
        async with httpx2.AsyncClient(timeout=10) as http:
            metadata = await self._discover(http)
        async with self._client(metadata) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=leg["state"],
                nonce=leg["nonce"],
                code_verifier=leg["verifier"],
            )
        return url, leg

    async def finish(self, code: str, leg: dict[str, str]) -> Grant:
        """Exchange the code, check the ID token: who signed in, with what role."""
        return await self._asking(self._finish(code, leg))

    async def refresh(self, refresh_token: str) -> Grant:
        """Ask the provider again, with the session's refresh token: who the person now is
        (``OidcError`` when it refuses: the account was disabled, the grant revoked)."""
        return await self._asking(self._refresh(refresh_token))

    async def _asking(self, asked: Awaitable[Grant]) -> Grant:
        """The provider's answer; what goes wrong on the way said as ``OidcError`` (refused)
        or ``OidcUnavailable`` (not answering, or answering what cannot be read)."""
        import httpx2
        from authlib.integrations.base_client.errors import OAuthError

        try:
            return await asked
        except OAuthError as exc:  # the provider refused the code or the refresh token
            raise OidcError(f"the sign-in service refused the sign-in ({exc.error})") from None
        except (httpx2.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise OidcUnavailable(type(exc).__name__) from None

    async def _finish(self, code: str, leg: dict[str, str]) -> Grant:
        metadata = await self._ready()
        async with self._client(metadata) as client:
            token = await client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=leg["verifier"]
            )
        return self._grant(token, leg["nonce"])

    async def _refresh(self, refresh_token: str) -> Grant:
        metadata = await self._ready()
        async with self._client(metadata) as client:
            token = await client.refresh_token(
                metadata["token_endpoint"], refresh_token=refresh_token
            )
        return self._grant(token, None)

    def _grant(self, token: dict[str, Any], nonce: str | None) -> Grant:
        """The person an answer of the token endpoint names: its ID token checked (a
        refreshed one carries no nonce), the role read from it."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        id_token = token.get("id_token")
        if not isinstance(id_token, str) or self._keys is None:
            raise OidcError("the provider sent no ID token")
        expected: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }
        if nonce is not None:
            expected["nonce"] = {"essential": True, "value": nonce}
        try:
            decoded = jwt.decode(id_token, self._keys, algorithms=["RS256", "ES256"])
            jwt.JWTClaimsRegistry(now=int(time.time()), leeway=60, **expected).validate(
                decoded.claims
            )
        except (JoseError, ValueError) as exc:
            raise OidcError(f"the ID token was refused ({type(exc).__name__})") from None
        claims = decoded.claims
        role = role_of(claims, self.roles_claim)
        if role is None:
            raise OidcError(f"your account has no console role (claim {self.roles_claim!r})")
        name = str(claims.get("name") or claims.get("email") or claims.get("sub"))[:120]
        refresh = token.get("refresh_token")
        return Grant(name, role, str(claims["sub"]), refresh if isinstance(refresh, str) else None)
