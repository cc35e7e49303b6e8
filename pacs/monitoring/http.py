"""Measuring the HTTP edge: an ASGI wrapper around the app times every request until its last
byte is sent (a WADO-RS study streams for a while after its handler returned) and counts the
bytes of request and response bodies; an ``after_request`` hook tells it which route answered.

Each request is observed in ``pacs_http_request_seconds{method, route}``; DICOMweb requests also in
``pacs_dicomweb_request_seconds{kind}``, kind being qido (searches), wado (WADO-RS: instances,
metadata, frames, rendered), wado_uri (/wado) or stow."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from quart import Response, request

from pacs.monitoring import metrics

ROUTE = "pacs.route"  # set in the ASGI scope by `note_route`
UNMATCHED = "unmatched"
SEARCHES = ("/studies", "/series", "/instances")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


def kind_of(method: str, route: str) -> str | None:
    """The DICOMweb kind of a route (None for any other route)."""
    if route == "/wado":
        return "wado_uri"
    if not route.startswith("/dicomweb/"):
        return None
    if method == "POST":
        return "stow"
    if method in ("GET", "HEAD"):
        return "qido" if route.endswith(SEARCHES) else "wado"
    return None


async def note_route(response: Response) -> Response:
    """``after_request``: the matched route, for the wrapper (which sees only the ASGI scope)."""
    rule = request.url_rule
    request.scope[ROUTE] = rule.rule if rule is not None else UNMATCHED  # type: ignore[literal-required]
    return response


def _record(
    scope: MutableMapping[str, Any], seconds: float, got: int, sent: int, status: int
) -> None:
    counted = metrics.active()
    if counted is None:
        return
    method = str(scope.get("method", ""))
    route = str(scope.get(ROUTE, UNMATCHED))
    counted.http_seconds.labels(method, route).observe(seconds)
    kind = kind_of(method, route)
    if kind is not None:
        counted.dicomweb_seconds.labels(kind).observe(seconds)
    if got:
        counted.http_bytes.labels("in").inc(got)
    if sent:
        counted.http_bytes.labels("out").inc(sent)
    if status >= 500:
        counted.errors.labels("http_5xx").inc()


def measured(app: App) -> App:
    """Wrap an ASGI app (``app.asgi_app = measured(app.asgi_app)``)."""

    async def wrapper(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"in": 0, "out": 0, "status": 0}

        async def counting_receive() -> Message:
            message = await receive()
            if message.get("type") == "http.request":
                state["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                state["status"] = int(message.get("status", 0))
            elif kind == "http.response.body":
                state["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await app(scope, counting_receive, counting_send)
        finally:
            _record(
                scope, time.perf_counter() - started, state["in"], state["out"], state["status"]
            )

    return wrapper
