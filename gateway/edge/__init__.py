"""The gateway's edge: API management as plain ASGI middleware around the transcoder.

Health and drain, request limits, CORS, authentication, rate limiting and a response
cache, each an independent middleware (``X(app, config)``) in its own module, stacked
by ``build_edge``; ``edge_config_from_env`` builds their one configuration object and
``server`` runs the result under uvicorn with the guards uvicorn lacks.
"""

from gateway.edge.config import EdgeConfig, edge_config_from_env
from gateway.edge.drain import Drain
from gateway.edge.stack import build_edge

__all__ = ["Drain", "EdgeConfig", "build_edge", "edge_config_from_env"]
