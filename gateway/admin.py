"""Admin routes take an API key, whatever the edge's other authentication rules say.

With admin routes on (``GATEWAY_ADMIN_ROUTES``) the route table also holds the ADMIN
RPCs. ``admin_policy`` makes the edge demand an API key (``x-api-key``) for every request
the table routes to one of them, and leaves every other request to the configured rules
(``GATEWAY_AUTH_DEFAULT``, ``GATEWAY_AUTH_ROUTES``): those can neither open an admin route
nor let a bearer token into one. The decision is the table's own match of the raw path,
the match the transcoder makes next, so no spelling of a path (``%2F``, ``%3A``, escaped
letters) reaches an admin RPC without the key.
"""

from __future__ import annotations

from gateway.edge.auth import Policy
from gateway.edge.config import AuthRule, EdgeConfig
from gateway.routes import Match, RouteTable, request_path
from gateway.visibility import Visibility
from meshkit.asgi import Scope
from meshkit.env import GATEWAY_ENV_PREFIX, ConfigError

ADMIN_ROUTES_SETTING = f"{GATEWAY_ENV_PREFIX}ADMIN_ROUTES"
API_KEY_SETTINGS = f"{GATEWAY_ENV_PREFIX}API_KEYS or {GATEWAY_ENV_PREFIX}API_KEYS_FILE"


def check_admin_keys(admin_routes: bool, edge: EdgeConfig) -> None:
    """Admin routes without any API key could only ever answer 401: refuse to start."""
    if admin_routes and not edge.api_keys:
        raise ConfigError(
            f"{ADMIN_ROUTES_SETTING} is on but no API key is set ({API_KEY_SETTINGS}):"
            " admin routes accept API keys only"
        )


def admin_policy(table: RouteTable, otherwise: Policy) -> Policy:
    """``api_key`` for a request the table routes to an ADMIN RPC, else ``otherwise``."""

    def policy(scope: Scope) -> AuthRule:
        found = table.match(scope["method"], request_path(scope))
        if isinstance(found, Match) and found.route.visibility is Visibility.ADMIN:
            return "api_key"
        return otherwise(scope)

    return policy
