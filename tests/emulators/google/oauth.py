"""Service accounts, domain-wide delegation and the OAuth 2.0 token endpoint.

google-auth's service-account credentials sign a JWT with the key from the
JSON key file and post it to ``token_uri`` as a ``jwt-bearer`` grant. Note that
google-auth always puts Google's own endpoint in ``aud``
(``https://oauth2.googleapis.com/token``), whatever ``token_uri`` says, so that
is the audience the emulator checks (it also takes its own token URI, as Google
takes its legacy ones). With ``sub`` set, the service account acts as that
user, and only for scopes an admin delegated to the account's client id.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import OAuthError, invalid_credentials, login_required

Json = dict[str, Any]
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
LEGACY_AUDIENCES = (
    "https://accounts.google.com/o/oauth2/token",
    "https://www.googleapis.com/oauth2/v4/token",
)
TOKEN_LIFETIME_SECONDS = 3599
MAX_ASSERTION_SECONDS = 3600
CLOCK_SKEW_SECONDS = 300
UNAUTHORIZED_CLIENT = (
    "Client is unauthorized to retrieve access tokens using this method, "
    "or client not authorized for any of the scopes requested."
)
BAD_TIMES = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
    "timeframe. Check your iat and exp values in the JWT claim."
)


@dataclass
class ServiceAccount:
    email: str
    client_id: str
    keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)


@dataclass(frozen=True)
class AccessGrant:
    """What an access token stands for: who acts, with which scopes, until when."""

    principal: str
    scopes: frozenset[str]
    expiry: float
    client_id: str
    delegated: bool


class TokenService:
    def __init__(
        self, clock: Callable[[], float], token_uri: Callable[[], str],
        subject_ok: Callable[[str], bool], project_id: str = "warden-emulator",
    ) -> None:
        self.clock = clock
        self.token_uri = token_uri
        self.subject_ok = subject_ok
        self.project_id = project_id
        self.accounts: dict[str, ServiceAccount] = {}
        self.delegations: dict[str, frozenset[str]] = {}
        self.tokens: dict[str, AccessGrant] = {}
        self.lock = threading.Lock()

    # -- setup -------------------------------------------------------------

    def new_key(self, client_id: str | None = None, client_email: str | None = None) -> Json:
        """A fresh RSA key for a (new or existing) service account, as a JSON key file."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        with self.lock:
            account = self._account(client_id, client_email)
            account.keys[key_id] = private.public_key()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": account.email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri(),
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + account.email.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }

    def _account(self, client_id: str | None, client_email: str | None) -> ServiceAccount:
        for account in self.accounts.values():
            if client_id and account.client_id == client_id:
                return account
            if client_email and account.email == client_email:
                return account
        client_id = client_id or str(secrets.randbelow(9 * 10**20) + 10**20)
        if client_email is None:
            suffix = f"-{len(self.accounts) + 1}" if self.accounts else ""
            client_email = f"warden{suffix}@{self.project_id}.iam.gserviceaccount.com"
        account = ServiceAccount(client_email, client_id)
        self.accounts[client_email] = account
        return account

    def grant_delegation(self, client_id: str, scopes: list[str] | tuple[str, ...]) -> None:
        """What an admin enters under Security > API controls > Domain-wide delegation."""
        with self.lock:
            self.delegations[client_id] = frozenset(scopes)

    def revoke_tokens(self) -> None:
        """Forget every access token (as if they all expired)."""
        with self.lock:
            self.tokens.clear()

    # -- the token endpoint --------------------------------------------------

    def exchange(self, form: dict[str, str]) -> Json:
        grant_type = form.get("grant_type", "")
        if grant_type != JWT_GRANT:
            raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        assertion = form.get("assertion")
        if not assertion:
            raise OAuthError(400, "invalid_request", "Missing required parameter: assertion")
        claims = self._verified_claims(assertion)
        grant = self._grant_for(claims)
        token = "ya29.emu-" + secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = grant
        return {
            "access_token": token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "token_type": "Bearer",
        }

    def _verified_claims(self, assertion: str) -> Json:
        header, claims, signing_input, signature = _decode_jwt(assertion)
        account = self.accounts.get(str(claims.get("iss", "")))
        if account is None:
            raise OAuthError(400, "invalid_grant", "Invalid grant: account not found")
        if header.get("alg") != "RS256" or not self._signed_by(
            account, header.get("kid"), signing_input, signature
        ):
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        audiences = (GOOGLE_TOKEN_URI, *LEGACY_AUDIENCES, self.token_uri())
        if claims.get("aud") not in audiences:
            raise OAuthError(
                400, "invalid_grant",
                f"Invalid JWT: Failed audience check. The right audience is {GOOGLE_TOKEN_URI}",
            )
        self._check_times(claims)
        return {**claims, "client_id": account.client_id}

    def _signed_by(
        self, account: ServiceAccount, key_id: object, signing_input: bytes, signature: bytes
    ) -> bool:
        keys = [account.keys[key_id]] if key_id in account.keys else account.keys.values()
        for key in keys:
            try:
                key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
                return True
            except InvalidSignature:
                continue
        return False

    def _check_times(self, claims: Json) -> None:
        iat, exp, now = claims.get("iat"), claims.get("exp"), self.clock()
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise OAuthError(400, "invalid_grant", BAD_TIMES)
        too_long = exp - iat > MAX_ASSERTION_SECONDS or exp <= iat
        if too_long or iat > now + CLOCK_SKEW_SECONDS or exp < now - CLOCK_SKEW_SECONDS:
            raise OAuthError(400, "invalid_grant", BAD_TIMES)

    def _grant_for(self, claims: Json) -> AccessGrant:
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            raise OAuthError(
                400, "invalid_scope", "Invalid OAuth scope or ID token audience provided."
            )
        client_id = claims["client_id"]
        expiry = self.clock() + TOKEN_LIFETIME_SECONDS
        subject = claims.get("sub")
        if not subject:
            return AccessGrant(str(claims["iss"]), scopes, expiry, client_id, False)
        subject = str(subject).lower()
        if not self.subject_ok(subject):
            raise OAuthError(400, "invalid_grant", "Invalid email or User ID")
        with self.lock:
            delegated = self.delegations.get(client_id, frozenset())
        if not scopes <= delegated:
            raise OAuthError(401, "unauthorized_client", UNAUTHORIZED_CLIENT)
        return AccessGrant(subject, scopes, expiry, client_id, True)

    # -- checking tokens on API calls ----------------------------------------

    def authenticate(self, authorization: str | None, query_token: str | None) -> AccessGrant:
        token = query_token
        if authorization:
            kind, _, value = authorization.partition(" ")
            token = value.strip() if kind.lower() == "bearer" else None
            if token is None:
                raise invalid_credentials()
        if not token:
            raise login_required()
        with self.lock:
            grant = self.tokens.get(token)
        if grant is None or grant.expiry <= self.clock():
            raise invalid_credentials()
        return grant


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _decode_jwt(assertion: str) -> tuple[Json, Json, bytes, bytes]:
    parts = assertion.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("a JWT has three parts")
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise ValueError("JWT header and claims are JSON objects")
    except (ValueError, binascii.Error) as error:
        raise OAuthError(400, "invalid_grant", "Invalid JWT: cannot be decoded") from error
    signing_input = f"{parts[0]}.{parts[1]}".encode()
    return header, claims, signing_input, signature
