"""create_app(services): the quart-trio application. For now: /healthz."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from quart_trio import QuartTrio

from pacs import __version__


@attrs.frozen(kw_only=True)
class Health:
    """What /healthz reports: probes are cheap callables read on each request."""

    started: float = attrs.field(factory=time.monotonic)
    queues: Mapping[str, Callable[[], int]] = attrs.field(factory=dict)
    gauges: Mapping[str, Callable[[], Any]] = attrs.field(factory=dict)

    def snapshot(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started, 3),
            "queues": {name: probe() for name, probe in self.queues.items()},
            **{name: probe() for name, probe in self.gauges.items()},
        }


def create_app(health: Health) -> QuartTrio:
    app = QuartTrio("pacs")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return health.snapshot()

    return app
