"""Deleting a study, series or instance: files into the trash, the index's removal committed
by the indexer (the single writer), then the trash emptied (`pacs.storage.trash`)."""

from __future__ import annotations

import functools
import logging

import attrs
import trio
from sqlalchemy import Engine

from pacs.errors import NotFound, PacsError
from pacs.index import catalog
from pacs.index.indexer import IndexOutbox
from pacs.messages import DeleteRequest, DeleteResult, Level
from pacs.runtime import rpc
from pacs.runtime.limits import Limits
from pacs.storage import trash
from pacs.storage.area import StorageArea

log = logging.getLogger("pacs.storage")


@attrs.frozen(kw_only=True)
class Deleter:
    area: StorageArea
    engine: Engine
    index: IndexOutbox
    limits: Limits
    timeout: float

    async def delete(self, level: Level, uid: str) -> DeleteResult:
        """Remove everything stored under ``uid``; NotFound when nothing is."""
        paths = await trio.to_thread.run_sync(
            catalog.paths_of, self.engine, level.value, uid, limiter=self.limits.db_read
        )
        if not paths:
            raise NotFound(f"no such {level.value} in the archive")
        await trio.to_thread.run_sync(trash.to_trash, self.area, paths, limiter=self.limits.disk)
        try:
            result: DeleteResult = await rpc.call(
                self.index,
                DeleteRequest(level=level, uid=uid),
                timeout=self.timeout,
                what="indexer",
            )
        except PacsError:
            await trio.to_thread.run_sync(trash.restore, self.area, paths, limiter=self.limits.disk)
            raise
        removed = await trio.to_thread.run_sync(
            functools.partial(trash.purge, self.area, list(result.paths)), limiter=self.limits.disk
        )
        log.info("deleted %s %s: %d instance(s), %d file(s)", level.value, uid,
                 len(result.paths), removed)  # fmt: skip
        return result
