"""build_edge as a whole: non-HTTP scopes pass through every layer untouched."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.edge import Drain, EdgeConfig, build_edge
from gateway.edge.config import Credential

STRICT = EdgeConfig(
    auth_default="api_key",
    api_keys=(Credential("web", "web-key-0123456789abcdef"),),
    rate_per_s=1.0,
    rate_burst=1,
    max_concurrency=1,
    cache_ttls=(("/", 60.0),),
    cors_origins=("*",),
)


async def test_lifespan_messages_reach_the_app_through_every_layer() -> None:
    """The transcoder's lifespan startup/shutdown is neither blocked nor rewritten."""
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        for reply in ("lifespan.startup.complete", "lifespan.shutdown.complete"):
            seen.append((scope, await receive()))
            await send({"type": reply})

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    edge = build_edge(app, STRICT, Drain())
    await asyncio.wait_for(edge(scope, receive, send), 2)
    assert [message["type"] for _, message in seen] == ["lifespan.startup", "lifespan.shutdown"]
    assert all(seen_scope is scope for seen_scope, _ in seen)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
