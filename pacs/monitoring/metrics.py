"""The server's counters and histograms, summed over its processes.

The DICOM edge runs in worker processes, so counting must cross processes. prometheus_client's
multiprocess mode does exactly that: each process keeps its values in a small memory-mapped file
of its own (``<log dir>/.run/metrics/<kind>_<pid>.db``) written as it counts, and the main
process adds the files up when /metrics is read. An observation is in the file before the
handler that made it returns, so an acknowledged C-STORE is already counted; the folder is
emptied by the main process at each start (before any worker starts) and files of workers that
were restarted keep counting towards the totals, as counters should.

Like logging, metrics are process-wide: `enable` is called once per process (`pacs.monitoring`'s
`sampler.prepare` in the main process, `worker.run` in a DICOM worker) and the recording
functions below do nothing in a process that never enabled them (the CLI's import, tests)."""

from __future__ import annotations

import os
from pathlib import Path

import attrs
from prometheus_client import Counter, Histogram, values

LATENCY = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
ENV = "PROMETHEUS_MULTIPROC_DIR"


@attrs.frozen(kw_only=True)
class Metrics:
    store_seconds: Histogram
    dicomweb_seconds: Histogram
    http_seconds: Histogram
    stored: Counter
    stored_bytes: Counter
    dicom_bytes: Counter
    http_bytes: Counter
    errors: Counter


def _create() -> Metrics:
    return Metrics(
        store_seconds=Histogram(
            "pacs_dicom_store_seconds",
            "C-STORE: from the complete dataset received to the response (placed and indexed)",
            buckets=LATENCY,
            registry=None,
        ),
        dicomweb_seconds=Histogram(
            "pacs_dicomweb_request_seconds",
            "DICOMweb requests by kind (qido, wado, wado_uri, stow), until the last byte is sent",
            ["kind"],
            buckets=LATENCY,
            registry=None,
        ),
        http_seconds=Histogram(
            "pacs_http_request_seconds",
            "HTTP requests by route, until the last byte is sent",
            ["method", "route"],
            buckets=LATENCY,
            registry=None,
        ),
        stored=Counter(
            "pacs_instances_stored",
            "Instances stored and indexed, by source (dicom, stow, import) and outcome",
            ["source", "outcome"],
            registry=None,
        ),
        stored_bytes=Counter(
            "pacs_stored_bytes", "Bytes of the files stored, by source", ["source"], registry=None
        ),
        dicom_bytes=Counter(
            "pacs_dicom_bytes",
            "Bytes of PDUs on accepted DICOM associations, by direction (in, out)",
            ["direction"],
            registry=None,
        ),
        http_bytes=Counter(
            "pacs_http_bytes",
            "Bytes of HTTP request and response bodies, by direction (in, out)",
            ["direction"],
            registry=None,
        ),
        errors=Counter(
            "pacs_errors",
            "Errors by kind: dicom_store (a failed C-STORE), http_5xx, log_<service> (a log "
            "record at ERROR or above)",
            ["kind"],
            registry=None,
        ),
    )


_active: Metrics | None = None


def enable(folder: Path) -> Metrics:
    """Count into ``folder`` from now on (once per process; later calls return the same)."""
    global _active
    if _active is None:
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[ENV] = str(folder)  # also read by the processes this one starts
        if not getattr(values.ValueClass, "_multiprocess", False):
            # chosen when prometheus_client was imported, which may predate the variable
            values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
        _active = _create()
    return _active


def active() -> Metrics | None:
    return _active


def folder() -> Path | None:
    """Where this process's metrics are counted, if they are."""
    where = os.environ.get(ENV)
    return Path(where) if _active is not None and where else None


def stored(source: str, outcome: str, size: int) -> None:
    """An instance was stored and indexed (called by the storage writer)."""
    if _active is not None:
        _active.stored.labels(source, outcome).inc()
        _active.stored_bytes.labels(source).inc(size)


def error(kind: str) -> None:
    if _active is not None:
        _active.errors.labels(kind).inc()
