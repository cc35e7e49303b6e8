"""Cross-origin requests: pages of the configured origins may call the API and DICOMweb.
``*`` allows any origin but never with credentials (the browser then sends no cookie)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from quart import Response, request

ALLOWED_HEADERS = "Accept, Authorization, Content-Type"
ALLOWED_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
EXPOSED_HEADERS = "Content-Type, Content-Length, ETag, Warning, Location"


def after_request(origins: Sequence[str]) -> Callable[[Response], Response]:
    allowed = set(origins)

    def add_headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if not origin or not allowed:
            return response
        if origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        elif "*" in allowed:
            response.headers["Access-Control-Allow-Origin"] = "*"
        else:
            return response
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        return response

    return add_headers
