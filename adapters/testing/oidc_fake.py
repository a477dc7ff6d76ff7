"""A loopback OpenID Connect provider for the console's tests: discovery, an authorization
endpoint that signs the configured person in at once, a token endpoint that checks the client
secret, the code and its PKCE verifier, and the keys that sign its RS256 ID tokens."""

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
    tokens_issued: int = 0

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
        })  # fmt: skip

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return web.json_response({"error": "invalid_request"}, status=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q.get("nonce", ""), "challenge": q["code_challenge"],
                            "redirect_uri": q.get("redirect_uri", "")}  # fmt: skip
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
        form = await request.post()
        if not self._client_ok(request, form):
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self.codes.pop(str(form.get("code", "")), None)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if grant is None or challenge.rstrip(b"=").decode() != grant["challenge"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("redirect_uri") not in (None, grant["redirect_uri"]):
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], **self.person}  # fmt: skip
        key = self.signing_key or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        self.tokens_issued += 1
        return web.json_response({"access_token": secrets.token_urlsafe(16),
                                  "token_type": "Bearer", "expires_in": 300,
                                  "id_token": id_token})  # fmt: skip

    async def jwks(self, request: web.Request) -> web.Response:
        public = self.key.as_dict(private=False)
        return web.json_response({"keys": [{**public, "use": "sig", "alg": "RS256"}]})
