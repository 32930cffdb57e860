"""``build_edge``: the edge middlewares around an ASGI app, in a deliberate order.

Outermost first:

1. ``HealthAndDrain`` — /healthz must answer even when every limit below is saturated,
   and the in-flight count the drain waits on must cover every request.
2. ``HeaderLimits`` — checks the scope alone (431/400/415): the cheapest rejections
   come first, before a concurrency slot is taken or a body byte read.
3. ``ConcurrencyLimit`` — the slot is taken before the body is read, so slow uploads
   count against the cap (a flood of them meets fast 503s, not an unbounded pile-up).
4. ``BodyLimit`` — the whole JSON body under its size and time limits (413/408), so
   nothing inside ever sees an oversized or trickled body.
5. ``Cors`` — preflights carry no credentials, so they are answered before auth; and
   everything from here inward (401, 429, cache hits, the app) gets CORS headers, so a
   browser app can read those answers. (Rejections from layers 1 to 4 carry none: to a
   browser they look like network errors, acceptable for abuse-level limits.)
6. ``Authenticate`` — establishes the client id the next two layers key on.
7. ``RateLimit`` — per authenticated client (else per peer); before the cache, so a
   cache hit still spends a token.
8. ``ResponseCache`` — innermost: a hit has passed auth and rate limiting, and the key
   holds the identity auth established; CORS headers are added outside, never stored.
"""

from __future__ import annotations

from gateway.edge.auth import Authenticate, Policy
from gateway.edge.body import BodyLimit
from gateway.edge.cache import ResponseCache
from gateway.edge.concurrency import ConcurrencyLimit
from gateway.edge.config import EdgeConfig
from gateway.edge.cors import Cors
from gateway.edge.drain import Drain, HealthAndDrain
from gateway.edge.headers import HeaderLimits
from gateway.edge.ratelimit import RateLimit
from meshkit.asgi import ASGIApp


def build_edge(
    app: ASGIApp, config: EdgeConfig, drain: Drain, *, policy: Policy | None = None
) -> ASGIApp:
    """``app`` wrapped in every edge middleware; ``policy`` overrides the config's
    path-prefix authentication rules."""
    wrapped: ASGIApp = ResponseCache(app, config)
    wrapped = RateLimit(wrapped, config)
    wrapped = Authenticate(wrapped, config, policy)
    wrapped = Cors(wrapped, config)
    wrapped = BodyLimit(wrapped, config)
    wrapped = ConcurrencyLimit(wrapped, config)
    wrapped = HeaderLimits(wrapped, config)
    return HealthAndDrain(wrapped, config, drain)
