"""The API reference UI at ``/docs``, served entirely by the gateway.

Swagger UI 5.35.0 (``swagger-ui-dist`` from the npm registry, Apache-2.0: LICENSE and NOTICE
beside it in ``docs_ui/``) renders OpenAPI 3.1. Its files are checked in, so the page needs
no other host: a partner's network without CDN access still gets the reference, and the UI
cannot change under us. The validator badge is turned off (it would call swagger.io).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

ASSETS = Path(__file__).resolve().parent / "docs_ui"
ASSETS_PATH = "/docs/assets"
SWAGGER_UI_VERSION = "5.35.0"

_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
    <link rel="stylesheet" href="{assets}/swagger-ui.css?v={version}">
    <style>body {{ margin: 0 }}</style>
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{assets}/swagger-ui-bundle.js?v={version}"></script>
    <script>
      window.ui = SwaggerUIBundle({{
        url: "/openapi.json",
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        defaultModelsExpandDepth: 0,
        docExpansion: "list",
        tryItOutEnabled: false
      }});
    </script>
  </body>
</html>
"""


class BundledSwaggerUI(OpenAPIRenderPlugin):
    """``/docs`` (and ``/docs/swagger``): Swagger UI from the gateway's own files."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = str(openapi_schema.get("info", {}).get("title", "API reference"))
        page = _PAGE.format(title=_escape(title), assets=ASSETS_PATH, version=SWAGGER_UI_VERSION)
        return page.encode()


def assets_router() -> Router:
    """The UI's script, stylesheet and icon, cached by browsers for a day (the page names
    them with ``?v=<version>``, so an upgrade is fetched at once)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS],
        include_in_schema=False,
        name="docs-assets",
        cache_control=CacheControlHeader(max_age=86_400, public=True),
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
