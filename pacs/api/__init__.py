"""The REST API under /api: typed request and response models (pydantic) that also write the
OpenAPI document at /api/openapi.json; Swagger UI at /docs from assets installed by the set-up
(`scripts/web-assets`), never a CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from quart import Blueprint, Response
from quart_schema import QuartSchema, RequestSchemaValidationError
from quart_schema.openapi import APIKeySecurityScheme, HttpSecurityScheme, Info
from quart_trio import QuartTrio

from pacs import __version__
from pacs.http.problems import HttpProblem, problem
from pacs.http.services import WebServices
from pacs.http.static import inside, send_asset

SWAGGER = Path(__file__).resolve().parents[2] / ".cache" / "swagger-ui" / "dist"
SECURITY: dict[str, Any] = {
    "basic": HttpSecurityScheme(scheme="basic"),
    "bearer": HttpSecurityScheme(scheme="bearer"),
    "session": APIKeySecurityScheme(in_="cookie", name="pacs_session"),
}


def register(app: QuartTrio, web: WebServices) -> None:
    app.config["QUART_SCHEMA_SWAGGER_JS_URL"] = "/static/swagger-ui/swagger-ui-bundle.js"
    app.config["QUART_SCHEMA_SWAGGER_CSS_URL"] = "/static/swagger-ui/swagger-ui.css"
    app.config["QUART_SCHEMA_CONVERT_CASING"] = False
    QuartSchema(
        app,
        openapi_path="/api/openapi.json",
        swagger_ui_path="/docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
        info=Info(title="pacs", version=__version__),
        security_schemes=SECURITY,
        security=[{"basic": []}, {"bearer": []}, {"session": []}],
    )
    app.register_blueprint(_static())

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid(exc: RequestSchemaValidationError) -> Response:
        return problem(400, _explain(exc.validation_error))

    from pacs.api.studies import blueprint as studies  # noqa: PLC0415

    app.register_blueprint(studies(web))
    from pacs.api import logs, monitoring  # noqa: PLC0415

    app.register_blueprint(logs.blueprint(web))
    app.register_blueprint(monitoring.blueprint(web))


def _static() -> Blueprint:
    bp = Blueprint("swagger_assets", __name__)

    @bp.get("/static/swagger-ui/<path:name>")
    async def swagger_asset(name: str) -> Response:
        if not SWAGGER.is_dir():
            raise HttpProblem(503, "Swagger UI is not installed: run scripts/web-assets")
        path = inside(SWAGGER.resolve(), name)
        if path is None or not path.is_file():
            raise HttpProblem(404, f"no asset {name!r}")
        return await send_asset(path)

    return bp


def _explain(error: Exception) -> str:
    """A validation error in words: each field and what is wrong with it."""
    if isinstance(error, ValidationError):
        parts = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ())) or "request"
            parts.append(f"{where}: {item.get('msg', 'invalid')}")
        return "; ".join(parts)
    return str(error) or "invalid request"
