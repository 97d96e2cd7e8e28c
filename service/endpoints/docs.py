"""``/openapi.json`` and ``/docs``: the generated document and Swagger UI from local assets."""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Sequence

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from service import openapi
from service.lists.negotiation import quality

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Weather Warehouse API</title>
<link rel="stylesheet" href="{root}/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="{root}/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{root}/docs/assets/swagger-ui-bundle.js"></script>
<script src="{root}/docs/init.js"></script>
</body>
</html>
"""

# A separate script rather than an inline one, so a strict CSP can forbid inline code.
_INIT = """window.ui = SwaggerUIBundle({{
  url: {spec},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
}});
"""


def routes(operations: Sequence[openapi.Operation], version: str) -> list[BaseRoute]:
    """The documentation routes for ``operations``.

    Under a path prefix (the request's ``root_path``: ``ROOT_PATH``,
    ``PUBLIC_URL`` or a trusted ``X-Forwarded-Prefix``) the page loads its
    assets and the document from under the prefix, and the document names
    the prefix as its server, so that "Try it out" calls the right URLs.
    """
    document = openapi.document(operations, title="Weather Warehouse API", version=version)

    @functools.lru_cache(maxsize=16)
    def rendered(root: str) -> tuple[bytes, str, bytes]:
        spec = {**document, "servers": [{"url": root}]} if root else document
        page = _PAGE.format(root=html.escape(root))
        init = _INIT.format(spec=json.dumps(f"{root}/openapi.json")).encode()
        return orjson.dumps(spec), page, init

    def root_of(request: Request) -> str:
        return str(request.scope.get("root_path", ""))

    async def openapi_json(request: Request) -> Response:
        return Response(rendered(root_of(request))[0], media_type="application/json")

    async def docs_page(request: Request) -> Response:
        return HTMLResponse(rendered(root_of(request))[1])

    async def docs_init(request: Request) -> Response:
        return Response(rendered(root_of(request))[2], media_type="text/javascript")

    async def index(request: Request) -> Response:
        # Who opens the bare host or /api finds the documentation and the data from here;
        # a browser that asks for a page before JSON is sent to the page that shows the data.
        root = root_of(request)
        if wants_html(request.headers.get("accept")):
            return RedirectResponse(f"{root}/explore", 303, headers=_VARY)
        return Response(orjson.dumps(_index(operations, root)), headers=_VARY, media_type=_JSON)

    return [
        Route("/", index, methods=["GET"], include_in_schema=False),
        Route("/api", index, methods=["GET"], include_in_schema=False),
        Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False),
        Route("/docs", docs_page, methods=["GET"], include_in_schema=False),
        Route("/docs/init.js", docs_init, methods=["GET"], include_in_schema=False),
        Mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets"),
    ]


_JSON = "application/json"
_HTML = "text/html"
_VARY = {"Vary": "Accept"}


def wants_html(accept: str | None) -> bool:
    """Whether ``Accept`` names HTML and ranks it above JSON (a browser, not curl's ``*/*``)."""
    if not accept or _HTML not in accept.lower():
        return False
    return quality(accept, _HTML) > 0 and quality(accept, _HTML) >= quality(accept, _JSON)


def _index(operations: Sequence[openapi.Operation], root: str) -> dict[str, object]:
    """The landing document: links to the documentation and to each collection."""
    links = [
        {"rel": "service-doc", "href": f"{root}/docs", "type": "text/html",
         "title": "Interactive API documentation"},
        {"rel": "service-desc", "href": f"{root}/openapi.json", "type": _JSON,
         "title": "OpenAPI 3.1 description"},
        {"rel": "alternate", "href": f"{root}/explore", "type": _HTML,
         "title": "Explore the data: stations on a map, a station's years in charts, the yield"},
    ]  # fmt: skip
    links += [
        {"rel": "data", "href": f"{root}{op.path}", "type": _JSON, "title": op.summary}
        for op in operations
        if op.method == "get"
        and "{" not in op.path
        and op.path.startswith("/api/")
        and not _needs_parameters(op)
    ]
    return {"title": "Weather Warehouse API", "links": links}


def _needs_parameters(op: openapi.Operation) -> bool:
    # A link must answer as it stands: nearest needs a point, so it is not one.
    fields = op.query.model_fields.values() if op.query else ()
    return any(field.is_required() for field in fields)
