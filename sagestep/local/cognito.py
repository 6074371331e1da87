"""Users and tokens of a user pool in moto's cognito-idp, and token verification as API Gateway does it.

`LocalUserPool` creates confirmed users (admin_create_user + a permanent password) and signs them in with
`USER_PASSWORD_AUTH`. `CognitoAuthorizer` checks a token the way a REST API's `COGNITO_USER_POOLS`
authorizer does: RS256 signature against the pool's JWKS, issuer, expiry, `token_use` (an ID token, or an
access token carrying one of the method's OAuth scopes when the method has scopes) and the app client
(`aud` / `client_id` must be a client of the pool). A refused token raises `Unauthorized` carrying the
message API Gateway answers with 401.

moto signs every pool's tokens with one RSA key bundled in the moto package; its issuer is the AWS one,
`https://cognito-idp.{region}.amazonaws.com/{pool id}`. The JWKS is read from the moto server
(`/{pool id}/.well-known/jwks.json`), or from the moto package when the server does not answer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

logger = logging.getLogger(__name__)

UNAUTHORIZED = "Unauthorized"
TOKEN_EXPIRED = "The incoming token has expired"
USER_PASSWORD_FLOWS = frozenset({"ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"})
_CLAIM_TIME_FORMAT = "%a %b %d %H:%M:%S UTC %Y"


class Unauthorized(Exception):
    """A token API Gateway would refuse with 401.

    Attributes:
        message: the body's `message`, as API Gateway words it (`Unauthorized`, or
            `The incoming token has expired`).
        reason: why, for logs (API Gateway does not say).
    """

    def __init__(self, reason: str, message: str = UNAUTHORIZED) -> None:
        super().__init__(f"{message}: {reason}")
        self.message = message
        self.reason = reason


class SignInError(Exception):
    """Signing in did not produce tokens (wrong password, a pending challenge, a disabled auth flow)."""


@dataclass(frozen=True)
class Tokens:
    """The tokens of a signed-in user; `id_token` is what the API's Cognito authorizer wants."""

    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int


class LocalUserPool:
    """Users of one user pool (and app client) in moto.

    Args:
        cognito: a boto3 `cognito-idp` client of the moto server.
        user_pool_id: the local pool id (`ProvisionedStack.user_pool.user_pool_id`).
        client_id: the app client users sign in with.
    """

    def __init__(self, cognito: Any, user_pool_id: str, client_id: str) -> None:
        self.cognito = cognito
        self.user_pool_id = user_pool_id
        self.client_id = client_id

    def create_user(
        self,
        username: str,
        password: str,
        *,
        attributes: Mapping[str, str] | None = None,
        groups: Iterable[str] = (),
    ) -> str:
        """Create a confirmed user with a permanent password (or reset an existing user's password).

        Args:
            username: the user name (an e-mail address for pools signing in by e-mail).
            password: must satisfy the pool's password policy.
            attributes: user attributes; `email` is set from `username` when it looks like an address,
                and e-mail addresses are marked verified.
            groups: user pool groups to add the user to.

        Returns:
            The user's `sub`.
        """
        wanted = dict(attributes or {})
        if "@" in username:
            wanted.setdefault("email", username)
        if "email" in wanted:
            wanted.setdefault("email_verified", "true")
        user_attributes = [{"Name": k, "Value": v} for k, v in wanted.items()]
        try:
            self.cognito.admin_create_user(
                UserPoolId=self.user_pool_id,
                Username=username,
                UserAttributes=user_attributes,
                TemporaryPassword=password,
                MessageAction="SUPPRESS",
            )
        except self.cognito.exceptions.UsernameExistsException:
            if user_attributes:
                self.cognito.admin_update_user_attributes(
                    UserPoolId=self.user_pool_id, Username=username, UserAttributes=user_attributes
                )
        self.cognito.admin_set_user_password(
            UserPoolId=self.user_pool_id, Username=username, Password=password, Permanent=True
        )
        for group in groups:
            self.cognito.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)
        user = self.cognito.admin_get_user(UserPoolId=self.user_pool_id, Username=username)
        return next(str(a["Value"]) for a in user["UserAttributes"] if a["Name"] == "sub")

    def sign_in(self, username: str, password: str) -> Tokens:
        """Sign in with `USER_PASSWORD_AUTH` (`initiate_auth`), as the sagestep client does.

        Raises:
            SignInError: the app client does not allow the flow (the real pool would refuse it too), the
                password is wrong, or Cognito asks for a challenge.
        """
        client = self.cognito.describe_user_pool_client(UserPoolId=self.user_pool_id, ClientId=self.client_id)[
            "UserPoolClient"
        ]
        flows = set(client.get("ExplicitAuthFlows") or [])
        if flows and not flows & USER_PASSWORD_FLOWS:
            raise SignInError(
                f"app client {self.client_id} does not allow USER_PASSWORD_AUTH (ExplicitAuthFlows: {sorted(flows)})"
            )
        parameters = {"USERNAME": username, "PASSWORD": password}
        if client.get("ClientSecret"):
            parameters["SECRET_HASH"] = _secret_hash(username, self.client_id, client["ClientSecret"])
        try:
            answer = self.cognito.initiate_auth(
                ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters
            )
        except self.cognito.exceptions.NotAuthorizedException as exc:
            raise SignInError(f"sign-in of {username} refused: {exc}") from exc
        if "AuthenticationResult" not in answer:
            raise SignInError(f"sign-in of {username} needs challenge {answer.get('ChallengeName')}")
        result = answer["AuthenticationResult"]
        return Tokens(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken"),
            expires_in=int(result.get("ExpiresIn", 3600)),
        )


def _secret_hash(username: str, client_id: str, client_secret: str) -> str:
    import base64
    import hashlib
    import hmac

    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class CognitoAuthorizer:
    """Verifies Cognito tokens as a REST API's `COGNITO_USER_POOLS` authorizer; thread-safe.

    Args:
        cognito: a boto3 `cognito-idp` client of the moto server (for the pools' app clients and the
            JWKS endpoint).
        jwks: a JWKS document to use instead of fetching it (tests).
        leeway_seconds: clock skew allowed on `exp`.
    """

    def __init__(self, cognito: Any, *, jwks: Mapping[str, Any] | None = None, leeway_seconds: int = 0) -> None:
        self.cognito = cognito
        self.leeway_seconds = leeway_seconds
        self._fixed_jwks = jwt.PyJWKSet.from_dict(dict(jwks)) if jwks is not None else None
        self._jwks: dict[str, jwt.PyJWKSet] = {}
        self._clients: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def authorize(
        self, header_value: str | None, user_pool_ids: Iterable[str], scopes: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Verify the identity header's token (raw, or after `Bearer `) and return its claims.

        Raises:
            Unauthorized: no header, or a token API Gateway would refuse.
        """
        token = (header_value or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Unauthorized("no token in the identity header")
        return self.verify(token, user_pool_ids, scopes)

    def verify(self, token: str, user_pool_ids: Iterable[str], scopes: Iterable[str] = ()) -> dict[str, Any]:
        """Verify a token issued by one of `user_pool_ids` and return its claims.

        With `scopes` (the method's `AuthorizationScopes`), an access token carrying at least one of them
        is required, otherwise an ID token.

        Raises:
            Unauthorized: bad signature, unknown key, wrong issuer, wrong token type, foreign app client,
                missing scope, or expired (`message` is then `The incoming token has expired`).
        """
        pools = {_issuer(pool): pool for pool in user_pool_ids}
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"not a JWT: {exc}") from exc
        pool = pools.get(str(unverified.get("iss")))
        if pool is None:
            raise Unauthorized(f"issuer {unverified.get('iss')!r} is not one of the authorizer's user pools")
        key = self._key(pool, str(header.get("kid")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=_issuer(pool),
                leeway=self.leeway_seconds,
                options={"verify_aud": False, "require": ["exp", "iss", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired", TOKEN_EXPIRED) from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"token rejected: {exc}") from exc
        wanted_scopes = set(scopes)
        if wanted_scopes:
            if claims["token_use"] != "access":
                raise Unauthorized("the method has OAuth scopes: an access token is required")
            if not wanted_scopes & set(str(claims.get("scope", "")).split()):
                raise Unauthorized(f"the token has none of the scopes {sorted(wanted_scopes)}")
            client_id = claims.get("client_id")
        else:
            if claims["token_use"] != "id":
                raise Unauthorized("the method has no OAuth scopes: an ID token is required")
            client_id = claims.get("aud")
        if str(client_id) not in self._client_ids(pool, str(client_id)):
            raise Unauthorized(f"app client {client_id!r} is not a client of {pool}")
        return claims

    def _key(self, pool: str, kid: str) -> Any:
        if self._fixed_jwks is not None:
            jwks = self._fixed_jwks
        else:
            with self._lock:
                if pool not in self._jwks:
                    self._jwks[pool] = jwt.PyJWKSet.from_dict(self._fetch_jwks(pool))
                jwks = self._jwks[pool]
        try:
            return jwks[kid].key
        except KeyError:
            raise Unauthorized(f"unknown signing key {kid!r}") from None

    def _fetch_jwks(self, pool: str) -> dict[str, Any]:
        endpoint = str(getattr(self.cognito.meta, "endpoint_url", "")).rstrip("/")
        url = f"{endpoint}/{pool}/.well-known/jwks.json"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                document: dict[str, Any] = json.loads(response.read())
                return document
        except (OSError, ValueError) as exc:
            logger.info("JWKS not served at %s (%s); using moto's bundled key", url, exc)
        from moto.utilities.utils import load_resource

        bundled: dict[str, Any] = load_resource("cognitoidp/resources/jwks-public.json")
        return bundled

    def _client_ids(self, pool: str, wanted: str) -> frozenset[str]:
        with self._lock:
            known = self._clients.get(pool)
        if known is not None and wanted in known:
            return known
        ids: set[str] = set()
        for page in self.cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool, MaxResults=60):
            ids.update(str(c["ClientId"]) for c in page.get("UserPoolClients", []))
        with self._lock:
            self._clients[pool] = frozenset(ids)
        return frozenset(ids)


def _issuer(user_pool_id: str) -> str:
    region = user_pool_id.split("_", 1)[0]
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def api_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as a REST API passes them in `requestContext.authorizer.claims`: every value a string,
    `exp` and `iat` as dates (`Sun Nov 22 13:55:01 UTC 2026`), booleans as `true`/`false`, lists
    comma-separated (`cognito:groups`)."""
    formatted: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, (int, float)):
            formatted[name] = time.strftime(_CLAIM_TIME_FORMAT, time.gmtime(value))
        elif isinstance(value, bool):
            formatted[name] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            formatted[name] = ",".join(str(v) for v in value)
        elif isinstance(value, dict):
            formatted[name] = json.dumps(value)
        else:
            formatted[name] = str(value)
    return formatted
