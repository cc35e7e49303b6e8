"""The monitoring side of a DICOM worker process: its metrics counted with the main process's
(`pacs.monitoring.metrics`), its errors counted, and the log levels set at run time followed
(`pacs.logs.runtime`)."""

from __future__ import annotations

from typing import Any

import trio

from pacs.logs import runtime
from pacs.monitoring import errors, metrics
from pacs.settings import Settings


def _enable(settings: Settings) -> None:
    metrics.enable(runtime.run_dir(settings.logging.dir) / "metrics")
    errors.install(errors.ErrorCounter())


async def run(
    settings: Settings, shutdown: trio.Event, *, task_status: Any = trio.TASK_STATUS_IGNORED
) -> None:
    """Start counting (before the listener starts), then follow the log levels until
    ``shutdown``."""
    await trio.to_thread.run_sync(_enable, settings)
    task_status.started()
    await runtime.follow(runtime.run_dir(settings.logging.dir), shutdown)
