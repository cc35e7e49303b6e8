"""HTTP problem responses (RFC 9457 ``application/problem+json``): every error the HTTP edge
returns says what went wrong in words, and every PacsError is translated here, once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from quart import Response, json

from pacs.errors import PacsError

log = logging.getLogger("pacs.http")


class HttpProblem(Exception):
    """Raised by a handler to answer with a problem response."""

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def problem(
    status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> Response:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body), status=status, content_type="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def bad_request(detail: str) -> HttpProblem:
    return HttpProblem(400, detail)


def not_found(detail: str) -> HttpProblem:
    return HttpProblem(404, detail)


def from_exception(exc: BaseException) -> Response:
    """The response for an exception escaping a handler."""
    if isinstance(exc, HttpProblem):
        return problem(exc.status, exc.detail, headers=exc.headers)
    if isinstance(exc, PacsError):
        return problem(exc.http_status, exc.message)
    log.exception("unexpected error answering a request", exc_info=exc)
    return problem(500, f"internal error ({type(exc).__name__}); the server log has details")


def warning(text: str) -> str:
    """A ``Warning: 299`` header value carrying ``text`` (made safe for a header line)."""
    safe = text.replace('"', "'").replace("\r", " ").replace("\n", " ")
    safe = safe.encode("ascii", "backslashreplace").decode("ascii")[:2000]
    return f'299 pacs "{safe}"'
