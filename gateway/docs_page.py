"""``/openapi.json`` and a ``/docs`` page, with Swagger UI served from a package.

The assets come from the ``swagger-ui-py`` wheel's static folder (Swagger UI 5, which
renders OpenAPI 3.1), never from a CDN: a mesh often has no internet at run time.
"""

from __future__ import annotations

import mimetypes
from importlib import resources
from pathlib import Path
from typing import Any

from gateway.responses import encode, send_body
from meshkit.asgi import Receive, Send

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
ASSETS_PREFIX = "/docs/assets/"
_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{assets}swagger-ui.css">
<link rel="icon" href="{assets}favicon-32x32.png"></head>
<body><div id="ui"></div>
<script src="{assets}swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{spec}", dom_id: "#ui", deepLinking: true}});</script>
</body></html>
"""


def _asset_dir() -> Path:
    return Path(str(resources.files("swagger_ui") / "static"))


class DocsApp:
    """Serves the OpenAPI document and its viewer; other paths go to ``app``."""

    def __init__(self, app: Any, document: dict[str, Any]) -> None:
        self._app = app
        self._spec = encode(document)
        title = document.get("info", {}).get("title", "API")
        self._page = _PAGE.format(title=title, assets=ASSETS_PREFIX, spec=OPENAPI_PATH).encode()
        folder = _asset_dir()
        self._assets = {name: (folder / name).read_bytes() for name in _ASSETS}

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "HEAD"}:
            await self._app(scope, receive, send)
            return
        path = scope["path"]
        if path == OPENAPI_PATH:
            await send_body(send, 200, self._spec)
        elif path == DOCS_PATH:
            await send_body(send, 200, self._page, b"text/html; charset=utf-8")
        elif path.startswith(ASSETS_PREFIX) and path[len(ASSETS_PREFIX) :] in self._assets:
            name = path[len(ASSETS_PREFIX) :]
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            await send_body(send, 200, self._assets[name], kind.encode())
        else:
            await self._app(scope, receive, send)
