"""Who is signed in to the console: signed session cookies, sign-in with a token or through
the agency's OpenID Connect provider, roles, CSRF.

- A session is a cookie signed with a key derived from ``PSEUDONYM_KEY`` (itsdangerous): the
  person's name, role and CSRF token, and when it was last used. It is HttpOnly, ``Secure``
  when the public URL is https, ``SameSite=Lax``, limited to ``/admin``, and ends after
  ``ADMIN_SESSION_MINUTES`` idle (each request renews it).
- OpenID Connect: the authorization code flow with PKCE and a nonce, through Authlib's client;
  the ID token's signature, issuer, audience, expiry and nonce are checked with joserfc (the
  JOSE library Authlib itself now uses) against the provider's published keys. The role comes
  from ``OIDC_ROLES_CLAIM``: a value ``admin`` or ``viewer`` (a string or a list).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

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


@dataclass(frozen=True)
class Staff:
    """A signed-in person: a display name (for the audit log), a role, the session's CSRF
    token."""

    name: str
    role: Role
    csrf: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def _digest(value: str | bytes) -> bytes:
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    return hashlib.sha256(raw).digest()


class Sessions:
    """Signed session cookies."""

    def __init__(self, settings: Settings) -> None:
        key = hmac.new(
            settings.pseudonym_key.reveal().encode(), b"console-session", hashlib.sha256
        ).hexdigest()
        self._signer = URLSafeTimedSerializer(key, salt="console")
        self._oidc = URLSafeTimedSerializer(key, salt="console-oidc")
        self.idle = int(settings.admin_session_minutes * 60)
        self.secure = settings.public_base_url.startswith("https://")

    def read(self, request: web.Request) -> Staff | None:
        """The session's person, or None (no cookie, a forged one, or idle too long)."""
        return self.read_value(request.cookies.get(COOKIE))

    def read_value(self, raw: str | None) -> Staff | None:
        """The person a cookie's value names, if it is ours and fresh."""
        if not raw:
            return None
        try:
            data = self._signer.loads(raw, max_age=self.idle)
        except BadSignature:  # also SignatureExpired: idle too long
            return None
        if not isinstance(data, dict) or data.get("role") not in ("viewer", "admin"):
            return None
        return Staff(str(data["name"]), data["role"], str(data["csrf"]))

    def write(self, response: web.StreamResponse, staff: Staff) -> None:
        """Start or renew a session (its idle clock starts again)."""
        value = self._signer.dumps({"name": staff.name, "role": staff.role, "csrf": staff.csrf})
        self._set(response, COOKIE, value, self.idle)

    def clear(self, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path=PATH)

    def _set(self, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=PATH,
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )

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


def new_staff(name: str, role: Role) -> Staff:
    return Staff(name, role, secrets.token_urlsafe(24))


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

    def _client(self) -> AsyncOAuth2Client:
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        return AsyncOAuth2Client(
            self.client_id,
            self._secret.reveal(),
            scope="openid profile email",
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
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=leg["state"],
                nonce=leg["nonce"],
                code_verifier=leg["verifier"],
            )
        return url, leg

    async def finish(self, code: str, leg: dict[str, str]) -> tuple[str, Role]:
        """Exchange the code, check the ID token; the person's name and role."""
        import httpx2
        from authlib.integrations.base_client.errors import OAuthError

        try:
            return await self._finish(code, leg)
        except OAuthError as exc:  # the provider refused the code
            raise OidcError(f"the sign-in service refused the sign-in ({exc.error})") from None
        except (httpx2.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise OidcUnavailable(type(exc).__name__) from None

    async def _finish(self, code: str, leg: dict[str, str]) -> tuple[str, Role]:
        import httpx2
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        async with httpx2.AsyncClient(timeout=10) as http:
            metadata = await self._discover(http)
            if self._keys is None:
                reply = await http.get(metadata["jwks_uri"])
                reply.raise_for_status()
                self._keys = KeySet.import_key_set(reply.json())
        async with self._client() as client:
            token = await client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=leg["verifier"]
            )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the provider sent no ID token")
        try:
            decoded = jwt.decode(id_token, self._keys, algorithms=["RS256", "ES256"])
            jwt.JWTClaimsRegistry(
                now=int(time.time()),
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": leg["nonce"]},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"the ID token was refused ({type(exc).__name__})") from None
        claims = decoded.claims
        roles = claims.get(self.roles_claim) or []
        roles = [roles] if isinstance(roles, str) else roles
        role: Role | None = "admin" if "admin" in roles else "viewer" if "viewer" in roles else None
        if role is None:
            raise OidcError(f"your account has no console role (claim {self.roles_claim!r})")
        name = str(claims.get("name") or claims.get("email") or claims.get("sub"))[:120]
        return name, role
