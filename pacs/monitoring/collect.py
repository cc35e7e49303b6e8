"""Reading the metrics: the Prometheus text of /metrics, and the few sums the sampler keeps.
Thread-only (reads the per-process metric files and /proc).

/metrics is the processes' counters and histograms (`pacs.monitoring.metrics`) summed, plus
values read when asked: queue depths, open associations, free space of the storage area, CPU
time and resident memory of the server's processes, uptime."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from pacs.monitoring.procs import ProcessStat, server_processes

# The latency series the console shows: name → (histogram, label filter).
SERIES: dict[str, tuple[str, Mapping[str, tuple[str, ...]]]] = {
    "cstore": ("pacs_dicom_store_seconds", {}),
    "qido": ("pacs_dicomweb_request_seconds", {"kind": ("qido",)}),
    "wado": ("pacs_dicomweb_request_seconds", {"kind": ("wado", "wado_uri")}),
}
Buckets = tuple[tuple[float, float], ...]  # (upper bound, cumulative count), +Inf last


@attrs.frozen(kw_only=True)
class Live:
    """Values read on the trio thread (channel statistics) for one exposition."""

    uptime: float
    queues: Mapping[str, int]
    associations: int | None
    storage: Path


@attrs.frozen(kw_only=True)
class Totals:
    stored: float
    latency: Mapping[str, Buckets]


def _families(folder: Path) -> Iterable[Metric]:
    return MultiProcessCollector.merge(sorted(folder.glob("*.db")), accumulate=True)  # type: ignore[no-untyped-call, no-any-return]


def _wanted(labels: Mapping[str, str], filters: Mapping[str, tuple[str, ...]]) -> bool:
    return all(labels.get(name) in allowed for name, allowed in filters.items())


def _buckets(family: Metric, filters: Mapping[str, tuple[str, ...]]) -> Buckets:
    sums: dict[float, float] = {}
    for sample in family.samples:
        if sample.name.endswith("_bucket") and _wanted(sample.labels, filters):
            bound = float(sample.labels["le"])
            sums[bound] = sums.get(bound, 0.0) + sample.value
    return tuple(sorted(sums.items()))


def totals(folder: Path) -> Totals:
    """What the sampler keeps of the processes' metrics."""
    families = {family.name: family for family in _families(folder)}
    stored = families.get("pacs_instances_stored")
    count = sum(s.value for s in (stored.samples if stored else []) if s.name.endswith("_total"))
    latency: dict[str, Buckets] = {}
    for name, (histogram, filters) in SERIES.items():
        family = families.get(histogram)
        latency[name] = _buckets(family, filters) if family is not None else ()
    return Totals(stored=count, latency=latency)


def quantile(buckets: Buckets, q: float) -> float | None:
    """The ``q`` quantile of a histogram's cumulative buckets, interpolated within its bucket
    as Prometheus does; None without observations; the largest finite bound when it falls in
    the +Inf bucket."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank and count > below:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def difference(now: Buckets, then: Buckets) -> Buckets:
    """Observations between two readings of the same histogram."""
    before = dict(then)
    return tuple((bound, count - before.get(bound, 0.0)) for bound, count in now)


class _LiveCollector:
    def __init__(self, live: Live, processes: list[ProcessStat]) -> None:
        self.live = live
        self.processes = processes

    def collect(self) -> Iterator[Metric]:
        live = self.live
        yield GaugeMetricFamily(
            "pacs_uptime_seconds", "Seconds since the server started", value=live.uptime
        )
        queues = GaugeMetricFamily(
            "pacs_queue_depth", "Requests waiting in a queue", labels=["queue"]
        )
        for name, depth in sorted(live.queues.items()):
            queues.add_metric([name], depth)
        yield queues
        if live.associations is not None:
            yield GaugeMetricFamily(
                "pacs_dicom_associations", "Open DICOM associations", value=live.associations
            )
        usage = shutil.disk_usage(live.storage)
        yield GaugeMetricFamily(
            "pacs_storage_free_bytes", "Free space of the storage area", value=usage.free
        )
        yield GaugeMetricFamily(
            "pacs_storage_size_bytes", "Size of the storage area's filesystem", value=usage.total
        )
        yield from self._processes()

    def _processes(self) -> Iterator[Metric]:
        cpu = CounterMetricFamily(
            "pacs_process_cpu_seconds", "CPU time of the server's processes", labels=["process"]
        )
        rss = GaugeMetricFamily(
            "pacs_process_resident_memory_bytes",
            "Resident memory of the server's processes",
            labels=["process"],
        )
        by_role: dict[str, list[ProcessStat]] = {}
        for stat in self.processes:
            by_role.setdefault(stat.role, []).append(stat)
        for role, stats in sorted(by_role.items()):
            cpu.add_metric([role], sum(s.cpu_seconds for s in stats))
            rss.add_metric([role], sum(s.rss_bytes for s in stats))
        yield cpu
        yield rss


def exposition(folder: Path | None, live: Live) -> bytes:
    """The text of /metrics (Prometheus text format)."""
    registry = CollectorRegistry(auto_describe=False)
    if folder is not None and folder.is_dir():
        MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    registry.register(_LiveCollector(live, server_processes()))
    return generate_latest(registry)


def storage_usage(path: Path) -> dict[str, Any]:
    usage = shutil.disk_usage(path)
    return {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}
