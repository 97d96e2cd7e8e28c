"""``/openapi.json`` and ``/docs``: the generated document and Swagger UI from local assets."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from service import openapi

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Weather Warehouse API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

# A separate script rather than an inline one, so a strict CSP can forbid inline code.
_INIT = b"""window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
});
"""


def routes(operations: Sequence[openapi.Operation], version: str) -> list[BaseRoute]:
    """The documentation routes for ``operations``."""
    document = orjson.dumps(
        openapi.document(operations, title="Weather Warehouse API", version=version)
    )

    async def openapi_json(request: Request) -> Response:
        return Response(document, media_type="application/json")

    async def docs_page(request: Request) -> Response:
        return HTMLResponse(_PAGE)

    async def docs_init(request: Request) -> Response:
        return Response(_INIT, media_type="text/javascript")

    return [
        Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False),
        Route("/docs", docs_page, methods=["GET"], include_in_schema=False),
        Route("/docs/init.js", docs_init, methods=["GET"], include_in_schema=False),
        Mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets"),
    ]
