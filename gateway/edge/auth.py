"""Authentication per route: none, an API key (``x-api-key``) or a bearer token.

Which rule applies is a ``Policy(scope)``; by default the config's longest prefix of the
request's path, else its default rule. The path is normalised first, so ``//``, ``/./``
or ``/../`` spellings cannot dodge a prefix rule. (The gateway's policy also puts the API
key in front of every admin route: ``gateway.admin``.) Presented secrets are hashed and
compared with every accepted one in constant time; they are never logged, echoed, or
passed on: the header the edge consumed is removed before the app sees the request,
and the app gets the client's configured name in ``scope["state"]["client_id"]``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus

from gateway.edge.config import AuthRule, Credential, EdgeConfig
from gateway.http_status import GrpcCode, send_status
from meshkit.asgi import ASGIApp, Receive, Scope, Send, header_values

Policy = Callable[[Scope], AuthRule]
"""An HTTP request's scope → the rule that applies to it."""

API_KEY_HEADER = b"x-api-key"
AUTHORIZATION = b"authorization"
CLIENT_ID = "client_id"
"""Key in ``scope["state"]`` naming the authenticated client (the rate limiter reads it)."""

_log = logging.getLogger("shopmesh.gateway.edge")


def prefix_policy(default: AuthRule, routes: Iterable[tuple[str, AuthRule]]) -> Policy:
    """The rule of the longest prefix of the request's normalised path, else ``default``;
    the method is ignored."""
    longest_first = sorted(routes, key=lambda route: len(route[0]), reverse=True)

    def policy(scope: Scope) -> AuthRule:
        path = normalize_path(scope["path"])
        return next((rule for prefix, rule in longest_first if path.startswith(prefix)), default)

    return policy


def normalize_path(path: str) -> str:
    """``path`` with empty, ``.`` and ``..`` segments resolved (never above the root)."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return "/" + "/".join(segments)


class SecretTable:
    """Accepted secrets → client ids, matched without timing leaks."""

    def __init__(self, credentials: Iterable[Credential]) -> None:
        # Comparing fixed-length digests hides the secrets' lengths as well.
        self._entries = [
            (hashlib.sha256(cred.secret.encode()).digest(), cred.client_id) for cred in credentials
        ]

    def client_for(self, presented: bytes) -> str | None:
        digest = hashlib.sha256(presented).digest()
        found = None
        for expected, client_id in self._entries:  # no early exit: every entry is compared
            if hmac.compare_digest(expected, digest):
                found = client_id
        return found


class Authenticate:
    """Rejects requests without a valid credential for their route with 401."""

    def __init__(self, app: ASGIApp, config: EdgeConfig, policy: Policy | None = None) -> None:
        self._app = app
        self._policy = policy or prefix_policy(config.auth_default, config.auth_routes)
        self._tables = {
            "api_key": SecretTable(config.api_keys),
            "bearer": SecretTable(config.bearer_tokens),
        }
        self._challenges = {
            "api_key": f'ApiKey realm="{config.auth_realm}", header="x-api-key"',
            "bearer": f'Bearer realm="{config.auth_realm}"',
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        rule = self._policy(scope)
        if rule == "none":
            await self._app(scope, receive, send)
            return
        consumed = API_KEY_HEADER if rule == "api_key" else AUTHORIZATION
        presented = _presented(header_values(scope, consumed), rule)
        client_id = self._tables[rule].client_for(presented) if presented else None
        if client_id is None:
            await self._reject(scope, rule, presented is not None, send)
            return
        scope.setdefault("state", {})[CLIENT_ID] = client_id
        headers = [(name, value) for name, value in scope["headers"] if name != consumed]
        await self._app({**scope, "headers": headers}, receive, send)

    async def _reject(self, scope: Scope, rule: str, presented: bool, send: Send) -> None:
        reason = "invalid" if presented else "missing"
        peer = (scope.get("client") or ("unknown",))[0]
        message = "authentication failed: %s %s credential for %s %s from %s"
        _log.info(message, reason, rule, scope["method"], scope["path"], peer)
        challenge = self._challenges[rule]
        if presented and rule == "bearer":
            challenge += ', error="invalid_token"'  # RFC 6750 §3
        await send_status(
            send,
            HTTPStatus.UNAUTHORIZED,
            GrpcCode.UNAUTHENTICATED,
            f"{reason} credential: this route needs {rule.replace('_', ' ')} authentication",
            [(b"www-authenticate", challenge.encode())],
        )


def _presented(values: list[bytes], rule: str) -> bytes | None:
    """The credential in the header's values; ``b""`` (invalid) when ambiguous or malformed."""
    if not values:
        return None
    if len(values) > 1:
        return b""
    if rule == "api_key":
        return values[0].strip()
    scheme, _, token = values[0].strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return None  # another scheme (Basic, ...): no bearer token was presented
    return token.strip()
