"""The console's live view: a fresh reading compared with the sampler's.

Rates and latencies cover the last minute: the difference between now and the kept reading
closest to a minute ago (the first reading, taken at start, while the server is younger than
that). The history has one point per sampler interval: instances stored per second during it.
CPU is the share of one core each process used since the latest reading at least a second old.
Thread-only (`snapshot` reads the metric files, /proc and the storage filesystem)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pacs.monitoring import collect
from pacs.monitoring.sampler import INTERVAL, Monitor, Reading

WINDOW = 60.0
CPU_MIN_SPAN = 1.0


def _iso(wall: float) -> str:
    return dt.datetime.fromtimestamp(wall, dt.UTC).isoformat(timespec="seconds")


def _base(readings: Sequence[Reading], now: Reading, span: float) -> Reading | None:
    """The latest reading at least ``span`` seconds before ``now``, else the oldest one."""
    older = [r for r in readings if now.at - r.at >= span]
    if older:
        return older[-1]
    return readings[0] if readings else None


def _rate(now: Reading, then: Reading | None) -> float:
    if then is None or now.at <= then.at:
        return 0.0
    return max(0.0, now.totals.stored - then.totals.stored) / (now.at - then.at)


def _history(readings: Sequence[Reading]) -> list[dict[str, Any]]:
    points = []
    for before, after in zip(readings, list(readings)[1:], strict=False):
        points.append({"at": _iso(after.wall), "rate": round(_rate(after, before), 3)})
    return points


def _latency(now: Reading, then: Reading | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, buckets in now.totals.latency.items():
        window = collect.difference(buckets, then.totals.latency.get(name, ()) if then else ())
        count = window[-1][1] if window else 0.0
        p50, p95 = collect.quantile(window, 0.5), collect.quantile(window, 0.95)
        out[name] = {
            "count": int(count),
            "p50_ms": None if p50 is None else round(p50 * 1000, 2),
            "p95_ms": None if p95 is None else round(p95 * 1000, 2),
        }
    return out


def _processes(now: Reading, readings: Sequence[Reading]) -> list[dict[str, Any]]:
    then = next((r for r in reversed(readings) if now.at - r.at >= CPU_MIN_SPAN), None)
    before = {p.pid: p.cpu_seconds for p in then.processes} if then else {}
    out = []
    for stat in now.processes:
        cpu = None
        if then is not None and stat.pid in before:
            cpu = round(100 * (stat.cpu_seconds - before[stat.pid]) / (now.at - then.at), 1)
        out.append(
            {"pid": stat.pid, "role": stat.role, "cpu_percent": cpu, "rss_bytes": stat.rss_bytes}
        )
    return out


def snapshot(monitor: Monitor, live: collect.Live, errors: int) -> dict[str, Any]:
    """The view now, with the last ``errors`` error records of the main process."""
    readings = list(monitor.readings)
    now = monitor.read()
    then = _base(readings, now, WINDOW)
    return {
        "at": _iso(now.wall),
        "uptime_s": round(live.uptime, 3),
        "ingest": {
            "rate": round(_rate(now, then), 3),
            "window_s": round(now.at - then.at, 3) if then else 0.0,
            "stored_total": int(now.totals.stored),
            "interval_s": INTERVAL,
            "history": _history(readings),
        },
        "latency": _latency(now, then),
        "processes": _processes(now, readings),
        "disk": collect.storage_usage(live.storage),
        "queues": dict(live.queues),
        "associations": live.associations,
        "errors": monitor.recent.last(errors),
    }
