"""The startup sweep: bring the index and the storage area back in line after a crash.

A file without an index row (placed, then the process died before the commit) is indexed; a row
without a file is reported. Runs in the background at low priority; the server is already up."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

import attrs
import trio
from sqlalchemy import Engine

from pacs.errors import PacsError
from pacs.index import catalog
from pacs.index.indexer import IndexOutbox
from pacs.messages import IndexResult, Source
from pacs.runtime import rpc
from pacs.runtime.limits import Limits
from pacs.storage import ingest
from pacs.storage.area import StorageArea

log = logging.getLogger("pacs.sweeper")

BATCH = 512


@attrs.define
class SweepReport:
    files: int = 0
    indexed: int = 0
    unreadable: int = 0
    missing_files: int = 0


def _batches(items: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(islice(items, size)):
        yield chunk


async def index_file(area: StorageArea, rel: str, fallbacks: Sequence[str], index: IndexOutbox,
                     limits: Limits, *, source: Source, timeout: float = 60.0) -> IndexResult:
    """Index a file that already sits in the area at ``rel``; raises PacsError if unreadable."""
    path = area.absolute(rel)
    parsed = await trio.to_thread.run_sync(ingest.parse_file, path, fallbacks,
                                           limiter=limits.disk)
    size = os.path.getsize(path)
    req = ingest.index_request(parsed, rel, size, source=source)
    result: IndexResult = await rpc.call(index, req, timeout=timeout, what="indexer")
    return result


async def _index_orphans(area: StorageArea, engine: Engine, fallbacks: Sequence[str],
                         index: IndexOutbox, limits: Limits, report: SweepReport) -> None:
    walker = _batches(area.walk(), BATCH)
    while True:
        batch = await trio.to_thread.run_sync(next, walker, None, limiter=limits.disk)
        if batch is None:
            return
        report.files += len(batch)
        known = await trio.to_thread.run_sync(catalog.known_paths, engine, batch,
                                              limiter=limits.db_read)
        for rel in (r for r in batch if r not in known):
            try:
                await index_file(area, rel, fallbacks, index, limits, source=Source.SWEEP)
                report.indexed += 1
                log.info("sweep: indexed %s (file without index row)", rel)
            except PacsError as exc:
                report.unreadable += 1
                log.warning("sweep: %s is not a readable instance: %s", rel, exc.message)


def _missing(area: StorageArea, rows: list[tuple[int, str]]) -> list[str]:
    return [path for _, path in rows if not area.absolute(path).is_file()]


async def _report_missing(area: StorageArea, engine: Engine, limits: Limits,
                          report: SweepReport) -> None:
    after = 0
    while rows := await trio.to_thread.run_sync(catalog.page_paths, engine, after, BATCH,
                                                 limiter=limits.db_read):
        after = rows[-1][0]
        for path in await trio.to_thread.run_sync(_missing, area, rows, limiter=limits.disk):
            report.missing_files += 1
            log.error("sweep: index row without file: %s", path)


async def run(area: StorageArea, engine: Engine, fallbacks: Sequence[str], index: IndexOutbox,
              limits: Limits, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    task_status.started()
    report = SweepReport()
    async with index:
        await _index_orphans(area, engine, fallbacks, index, limits, report)
    await _report_missing(area, engine, limits, report)
    log.info("startup sweep: %d files checked, %d indexed, %d unreadable, %d rows without file",
             report.files, report.indexed, report.unreadable, report.missing_files)
