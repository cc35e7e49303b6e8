"""The sampler actor of the main process and the `Monitor` it fills.

`prepare` runs first, before any DICOM worker starts: it empties this run's state folder
(``<log dir>/.run``), turns metrics on, publishes the configured log levels for the workers and
installs the error handlers. `run` then takes a reading every `INTERVAL` seconds (instances stored,
the latency histograms, CPU time of each process) and keeps the last `KEEP` of them in memory:
ten minutes, the history the console draws. `pacs.monitoring.snapshot` compares a fresh reading
with these."""

from __future__ import annotations

import collections
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from pacs.logs import runtime, services
from pacs.monitoring import collect, errors, metrics
from pacs.monitoring.procs import ProcessStat, server_processes
from pacs.settings import Settings

if TYPE_CHECKING:
    from pacs.http.app import Health

INTERVAL = 10.0
KEEP = 61  # ten minutes of intervals


@attrs.frozen(kw_only=True)
class Reading:
    at: float  # time.monotonic()
    wall: float  # time.time()
    totals: collect.Totals
    processes: tuple[ProcessStat, ...]


@attrs.define(kw_only=True)
class Monitor:
    """What the monitoring API reads; filled by `run`."""

    settings: Settings
    run_dir: Path
    metrics_dir: Path
    recent: errors.RecentErrors
    started: float = attrs.field(factory=time.monotonic)
    health: Health | None = None
    readings: collections.deque[Reading] = attrs.field(
        factory=lambda: collections.deque(maxlen=KEEP)
    )

    def read(self) -> Reading:
        """Thread-only: a reading now."""
        return Reading(
            at=time.monotonic(),
            wall=time.time(),
            totals=collect.totals(self.metrics_dir),
            processes=tuple(server_processes()),
        )

    def live(self) -> collect.Live:
        """Queue depths and open associations (trio thread: reads channel statistics)."""
        queues: Mapping[str, Callable[[], int]] = self.health.queues if self.health else {}
        gauges: Mapping[str, Callable[[], Any]] = self.health.gauges if self.health else {}
        dicom = gauges["dicom"]() if "dicom" in gauges else {}
        associations = dicom.get("associations") if isinstance(dicom, dict) else None
        return collect.Live(
            uptime=time.monotonic() - self.started,
            queues={name: int(probe()) for name, probe in queues.items()},
            associations=int(associations) if associations is not None else None,
            storage=self.settings.storage.path,
        )


def prepare(settings: Settings) -> Monitor:
    """Thread-only. The main process's first step, before any worker process starts."""
    run = runtime.run_dir(settings.logging.dir)
    shutil.rmtree(run, ignore_errors=True)
    metrics_dir = run / "metrics"
    metrics.enable(metrics_dir)
    runtime.publish(run, services.current())
    recent = errors.RecentErrors()
    errors.install(errors.ErrorCounter(), recent)
    return Monitor(settings=settings, run_dir=run, metrics_dir=metrics_dir, recent=recent)


async def run(
    monitor: Monitor,
    health: Health,
    shutdown: trio.Event,
    *,
    interval: float = INTERVAL,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Take a reading every ``interval`` seconds until ``shutdown``."""
    monitor.health = health
    monitor.readings.append(await trio.to_thread.run_sync(monitor.read))
    task_status.started(monitor)
    due = trio.current_time()
    while not shutdown.is_set():
        due += interval
        with trio.move_on_at(due):
            await shutdown.wait()
        if not shutdown.is_set():
            monitor.readings.append(await trio.to_thread.run_sync(monitor.read))
