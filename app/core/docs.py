"""Swagger UI at /docs served from the installed package, never from a CDN.

FastAPI's own /docs page loads Swagger UI's script and styles from jsDelivr, so on a machine without
internet it is a blank page. The `swagger-ui-bundle-v2` wheel carries Swagger UI itself (5.x, which
renders OpenAPI 3.1); its files are served under /docs/assets. ReDoc has no such wheel and is off.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"


def install_offline_docs(app: FastAPI) -> None:
    """Serve Swagger UI for `app.openapi_url` at /docs with assets from the local package.

    The app must be built with `docs_url=None` and `redoc_url=None` so FastAPI's CDN pages are off.
    """
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    oauth2_redirect = f"{DOCS_PATH}/oauth2-redirect"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url=oauth2_redirect,
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
