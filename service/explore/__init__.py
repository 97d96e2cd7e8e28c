"""``/explore``: a page to look at the data, served with its assets from the package.

The page is static: HTML, CSS and plain JavaScript modules under ``static/``
and the vendored libraries and basemaps under ``static/vendor/`` (copied from
npm by ``scripts/vendor_explore.py``). It reads only the public API, from the
browser, so it needs nothing from the app but the path prefix it is served
under, which the HTML carries in a ``<meta>`` tag.
"""

from __future__ import annotations

import functools
import html
import os
from os import PathLike
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"
# The page changes only with a new release; the assets' URLs do not carry a
# version, so a browser revalidates them (ETag from StaticFiles) rather than
# trusting a stale copy.
_REVALIDATE = {"Cache-Control": "no-cache"}


@functools.lru_cache(maxsize=16)
def _page(root: str) -> str:
    template = (STATIC / "explore.html").read_text(encoding="utf-8")
    return template.replace("{root}", html.escape(root))


async def explore(request: Request) -> Response:
    """The page, with the request's path prefix for its assets and API calls."""
    root = str(request.scope.get("root_path", ""))
    return HTMLResponse(_page(root), headers=_REVALIDATE)


class _Assets(StaticFiles):
    """StaticFiles that asks browsers to revalidate (see ``_REVALIDATE``)."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, or a 304, marked for revalidation."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(_REVALIDATE)
        return response


ROUTES: list[BaseRoute] = [
    Route("/explore", explore, methods=["GET"], include_in_schema=False),
    Mount("/explore/assets", _Assets(directory=str(STATIC)), name="explore-assets"),
]
