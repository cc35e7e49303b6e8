"""Log levels changed while the server runs, in every process.

The main process sets a service's loggers at once (`services.set_level`) and publishes the whole
map of levels to ``<log dir>/.run/levels.json`` (written whole and renamed into place). Each DICOM
worker process follows that file: it looks at it once a second and applies what changed, logging
one INFO line that says so. A worker started later (or restarted) applies the file at its start,
so it never runs on stale levels; the main process writes the file from the configuration at
each start, so run-time changes last until the server restarts (``[logging] levels`` is what
survives a restart).

The file was chosen over a message on the hand-off socket: that socket carries descriptors
(SCM_RIGHTS) on a byte stream read in a thread; a second kind of message would need framing
there, while a polled file needs nothing from the DICOM edge and reaches workers that are being
restarted."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import trio

from pacs.logs import services

log = logging.getLogger("pacs.logs")  # in no service: follows [logging] level

LEVELS_FILE = "levels.json"
POLL_SECONDS = 1.0


def run_dir(log_dir: Path) -> Path:
    """The per-run state of this server (levels, metrics): a hidden folder in the log dir,
    emptied by the main process at each start."""
    return log_dir / ".run"


def publish(run: Path, levels: dict[str, str]) -> None:
    """Thread-only: write ``levels`` for the workers, atomically."""
    run.mkdir(parents=True, exist_ok=True)
    tmp = run / f".{LEVELS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(levels, sort_keys=True), encoding="utf-8")
    os.replace(tmp, run / LEVELS_FILE)


def read(run: Path) -> dict[str, str]:
    """Thread-only: the published levels ({} when there are none or the file is damaged)."""
    try:
        data = json.loads((run / LEVELS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


async def change(run: Path, service: str, level: str) -> str:
    """Set ``service`` to ``level`` in this process now and publish it for the workers; returns
    the level it had. KeyError for an unknown service, ValueError for an unknown level."""
    level = services.level_name(level)
    if service not in services.SERVICES:
        raise KeyError(service)
    before = services.current()[service]
    services.set_level(service, level)
    await trio.to_thread.run_sync(publish, run, services.current())
    return before


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


async def follow(run: Path, shutdown: trio.Event, *, interval: float = POLL_SECONDS) -> None:
    """In a worker: apply the published levels at start and whenever they change, until
    ``shutdown``."""
    path = run / LEVELS_FILE
    seen: tuple[int, int] | None = None
    while not shutdown.is_set():
        stamp = await trio.to_thread.run_sync(_stamp, path)
        if stamp is not None and stamp != seen:
            seen = stamp
            changed = services.apply(await trio.to_thread.run_sync(read, run))
            if changed:
                text = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
                log.info("log levels changed: %s", text)
        with trio.move_on_after(interval):
            await shutdown.wait()
