"""The startup sweep: bring the index and the storage area back in line after a crash.

A file without an index row (placed, then the process died before the commit) is indexed; a row
without a file is reported. Runs in the background; the server is already up meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

import attrs
import trio
from sqlalchemy import Engine

from pacs.errors import PacsError
from pacs.index import catalog
from pacs.index.indexer import IndexOutbox
from pacs.messages import IndexResult, PlacedFile, Source
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


@attrs.frozen(kw_only=True)
class FileIndexer:
    """Indexes files that already sit in the area (sweep, reindex)."""

    area: StorageArea
    engine: Engine
    fallbacks: Sequence[str]
    index: IndexOutbox
    limits: Limits
    timeout: float = 60.0

    def _parse(self, rel: str) -> PlacedFile:
        path = self.area.absolute(rel)
        parsed = ingest.parse_file(path, self.fallbacks)
        return PlacedFile(
            summary=parsed.summary,
            transfer_syntax=parsed.transfer_syntax,
            rel=rel,
            size=path.stat().st_size,
        )

    async def index_file(self, rel: str, *, source: Source = Source.SWEEP) -> IndexResult:
        """Index the file at ``rel``; raises PacsError when it is not a readable instance."""
        placed = await trio.to_thread.run_sync(self._parse, rel, limiter=self.limits.disk)
        req = ingest.index_request(placed, source=source)
        result: IndexResult = await rpc.call(self.index, req, timeout=self.timeout, what="indexer")
        return result

    async def index_orphans(self, report: SweepReport) -> None:
        walker = _batches(self.area.walk(), BATCH)
        empty: list[str] = []
        while batch := await trio.to_thread.run_sync(next, walker, empty, limiter=self.limits.disk):
            report.files += len(batch)
            known = await trio.to_thread.run_sync(
                catalog.known_paths, self.engine, batch, limiter=self.limits.db_read
            )
            for rel in (r for r in batch if r not in known):
                try:
                    await self.index_file(rel)
                    report.indexed += 1
                    log.info("sweep: indexed %s (file without index row)", rel)
                except PacsError as exc:
                    report.unreadable += 1
                    log.warning("sweep: %s is not a readable instance: %s", rel, exc.message)

    def _missing(self, rows: list[tuple[int, str]]) -> list[str]:
        return [path for _, path in rows if not self.area.absolute(path).is_file()]

    async def report_missing(self, report: SweepReport) -> None:
        after = 0
        while rows := await trio.to_thread.run_sync(
            catalog.page_paths, self.engine, after, BATCH, limiter=self.limits.db_read
        ):
            after = rows[-1][0]
            missing = await trio.to_thread.run_sync(self._missing, rows, limiter=self.limits.disk)
            for path in missing:
                report.missing_files += 1
                log.error("sweep: index row without file: %s", path)


def _batches(items: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(islice(items, size)):
        yield chunk


async def run(files: FileIndexer, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Sweep once; closes ``files.index`` when the orphans are indexed."""
    task_status.started()
    report = SweepReport()
    async with files.index:
        await files.index_orphans(report)
    await files.report_missing(report)
    log.info(
        "startup sweep: %d files checked, %d indexed, %d unreadable, %d rows without file",
        report.files,
        report.indexed,
        report.unreadable,
        report.missing_files,
    )
