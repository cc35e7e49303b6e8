"""Monitoring over HTTP: ``/metrics`` for Prometheus (text format; any account, Basic or bearer)
and ``/api/monitoring``, the console's live snapshot (any account).

Registering the blueprint also instruments the app: every request is timed until its last byte
and its bytes counted (`pacs.monitoring.http`)."""

from __future__ import annotations

import functools

import trio
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field
from quart import Blueprint, Response
from quart_schema import validate_querystring, validate_response

from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices
from pacs.monitoring import collect, snapshot
from pacs.monitoring.http import measured, note_route
from pacs.monitoring.sampler import Monitor


class SnapshotArgs(BaseModel):
    errors: int = Field(20, ge=0, le=100, description="how many recent error records")


class Latency(BaseModel):
    count: int = Field(description="observations in the window")
    p50_ms: float | None
    p95_ms: float | None


class IngestPoint(BaseModel):
    at: str
    rate: float = Field(description="instances stored per second during the interval")


class Ingest(BaseModel):
    rate: float = Field(description="instances stored per second over the window")
    window_s: float
    stored_total: int = Field(description="instances stored since the server started")
    interval_s: float
    history: list[IngestPoint]


class ProcessInfo(BaseModel):
    pid: int
    role: str = Field(description="main, dicom-worker-N or helper")
    cpu_percent: float | None = Field(description="of one core, since the last reading")
    rss_bytes: int


class Disk(BaseModel):
    path: str
    free_bytes: int
    total_bytes: int


class ErrorRecord(BaseModel):
    ts: str
    level: str
    logger: str
    service: str
    msg: str


class Snapshot(BaseModel):
    """Rates and latencies over the last minute (or since start, when younger)."""

    at: str
    uptime_s: float
    ingest: Ingest
    latency: dict[str, Latency] = Field(description="cstore, qido, wado")
    processes: list[ProcessInfo]
    disk: Disk
    queues: dict[str, int]
    associations: int | None
    errors: list[ErrorRecord] = Field(description="the main process's last error records")


def _monitor(web: WebServices) -> Monitor:
    monitor: Monitor | None = getattr(web, "monitor", None)
    if monitor is None:
        raise HttpProblem(503, "monitoring is not running in this server")
    return monitor


def blueprint(web: WebServices) -> Blueprint:
    bp = Blueprint("monitoring", __name__)

    def instrument(state: object) -> None:
        app = state.app  # type: ignore[attr-defined]
        app.asgi_app = measured(app.asgi_app)

    bp.record_once(instrument)
    bp.after_app_request(note_route)

    @bp.get("/metrics")
    async def metrics_text() -> Response:
        """Prometheus metrics: every process's counters and histograms summed, and gauges."""
        monitor = _monitor(web)
        body = await trio.to_thread.run_sync(
            collect.exposition, monitor.metrics_dir, monitor.live()
        )
        return Response(body, content_type=CONTENT_TYPE_LATEST)

    @bp.get("/api/monitoring")
    @validate_querystring(SnapshotArgs)
    @validate_response(Snapshot)
    async def monitoring(query_args: SnapshotArgs) -> Snapshot:
        """Ingest rate and its history, latencies, processes, disk, queues, recent errors."""
        monitor = _monitor(web)
        view = functools.partial(snapshot.snapshot, monitor, monitor.live(), query_args.errors)
        return Snapshot.model_validate(await trio.to_thread.run_sync(view))

    return bp
