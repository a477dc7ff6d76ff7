"""A loopback OpenID Connect provider for the console's tests: discovery, an authorization
endpoint that signs the configured person in at once, a token endpoint that checks the client
secret, the code and its PKCE verifier, and the keys that sign its RS256 ID tokens. Asked
for ``offline_access``, it issues a refresh token, rotated on each use (as Okta and Entra ID
may), whose ID token carries the account's claims as they are at that moment: a test
changes ``accounts`` to withdraw a role, or removes an account to disable it."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class FakeOidc:
    """The provider; ``person`` is who signs in next (claims added to the ID token)."""

    client_id: str = "console-client"
    client_secret: str = "console-secret"
    person: dict[str, Any] = field(
        default_factory=lambda: {"sub": "u-1", "name": "Ada Admin", "roles": ["admin"]}
    )
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    )
    signing_key: RSAKey | None = None  # set: ID tokens are signed with it, not the published key
    issuer: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by sub, as they now are
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> sub
    down: bool = False  # the token endpoint answers 503, as a provider in an outage does
    offline: bool = True  # offers refresh tokens (Login.gov, for one, does not)
    tokens_issued: int = 0
    token_requests: int = 0
    refreshed: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        app.router.add_get("/jwks", self.jwks)
        return app

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email",
                                 *(["offline_access"] if self.offline else [])],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        })  # fmt: skip

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return web.json_response({"error": "invalid_request"}, status=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(16)
        sub = str(self.person["sub"])
        self.accounts[sub] = dict(self.person)
        self.codes[code] = {"nonce": q.get("nonce", ""), "challenge": q["code_challenge"],
                            "redirect_uri": q.get("redirect_uri", ""), "sub": sub,
                            "scope": q.get("scope", "")}  # fmt: skip
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})
        return web.Response(status=302, headers={"Location": target})

    def _client_ok(self, request: web.Request, form: Any) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (user, password) == (self.client_id, self.client_secret)
        return (form.get("client_id"), form.get("client_secret")) == (
            self.client_id, self.client_secret
        )  # fmt: skip

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        if self.down:
            return web.Response(status=503, text="Service Unavailable")
        form = await request.post()
        if not self._client_ok(request, form):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") == "refresh_token":
            return self._refresh(str(form.get("refresh_token", "")))
        grant = self.codes.pop(str(form.get("code", "")), None)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if grant is None or challenge.rstrip(b"=").decode() != grant["challenge"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("redirect_uri") not in (None, grant["redirect_uri"]):
            return web.json_response({"error": "invalid_grant"}, status=400)
        offline = self.offline and "offline_access" in grant["scope"].split()
        return self._tokens(grant["sub"], {"nonce": grant["nonce"]}, refresh=offline)

    def _refresh(self, refresh_token: str) -> web.Response:
        """A refresh: the token is spent (a new one comes back), and the ID token says who
        the account is now; a disabled account's token is refused."""
        sub = self.refresh_tokens.pop(refresh_token, None)
        if sub is None or sub not in self.accounts:
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.refreshed += 1
        return self._tokens(sub, {}, refresh=True)

    def _tokens(self, sub: str, extra: dict[str, str], *, refresh: bool) -> web.Response:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  **extra, **self.accounts[sub]}  # fmt: skip
        key = self.signing_key or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        self.tokens_issued += 1
        body: dict[str, str | int] = {"access_token": secrets.token_urlsafe(16),
                                      "token_type": "Bearer", "expires_in": 300,
                                      "id_token": id_token}  # fmt: skip
        if refresh:
            refresh_token = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh_token] = sub
            body["refresh_token"] = refresh_token
        return web.json_response(body)

    async def jwks(self, request: web.Request) -> web.Response:
        public = self.key.as_dict(private=False)
        return web.json_response({"keys": [{**public, "use": "sig", "alg": "RS256"}]})
