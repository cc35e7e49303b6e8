"""The HTTP server actor: hypercorn's trio worker serving the app until shutdown."""

from __future__ import annotations

import logging
import socket
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from pacs.http.app import Health, create_app
from pacs.http.services import WebServices
from pacs.settings import HttpSettings

log = logging.getLogger("pacs.http")


def _bind(settings: HttpSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def run(
    settings: HttpSettings,
    health: Health,
    web: WebServices | None,
    shutdown: trio.Event,
    *,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve HTTP until ``shutdown``. Binds first (port 0 = any) and reports the port. The
    channels in ``web`` are this server's own clones: closed when it stops."""
    sock = _bind(settings)
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = logging.getLogger("pacs.http.access")
    config.errorlog = logging.getLogger("pacs.http")
    config.graceful_timeout = 5.0
    log.info("HTTP listening on %s:%d", settings.host, port)
    task_status.started(port)
    # hypercorn adopts the descriptor (socket(fileno=...)) and closes it when it stops.
    try:
        await serve(create_app(health, web), config, shutdown_trigger=shutdown.wait)
    finally:
        if web is not None:
            await web.store.aclose()
            await web.imaging.aclose()
            await web.deleter.index.aclose()
