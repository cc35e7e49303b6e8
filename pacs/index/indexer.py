"""The indexer actor: the single writer of the index, batching many instances per transaction.

Every request is answered only after its transaction committed, so an acknowledgement to a
sender always follows a durable index row."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

import trio
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from pacs.errors import IndexFailure, PacsError
from pacs.index import writes
from pacs.messages import IndexRequest, IndexResult, StoreOutcome
from pacs.runtime.limits import Limits
from pacs.runtime.rpc import Envelope

log = logging.getLogger("pacs.indexer")

IndexInbox = trio.MemoryReceiveChannel[Envelope[IndexRequest, IndexResult]]
IndexOutbox = trio.MemorySendChannel[Envelope[IndexRequest, IndexResult]]


class _Known(NamedTuple):
    id: int | None
    file_path: str


def _commit(
    engine: Engine, cache: writes.LevelCache, requests: Sequence[IndexRequest]
) -> list[IndexResult]:
    results: list[IndexResult] = []
    with engine.begin() as conn:
        batch = writes.Batch(conn=conn, now=dt.datetime.now(dt.UTC), cache=cache)
        existing = writes.existing_instances(conn, list(requests))
        for req in requests:
            uid = req.summary.instance.sop_uid
            result = writes.store(batch, req, existing.get(uid))
            if result.outcome is StoreOutcome.STORED:  # the same SOP twice in one batch
                existing[uid] = _Known(None, req.path)
            results.append(result)
        writes.finish(batch)
    if batch.invalidate:
        cache.clear()
    else:
        cache.absorb(batch.fresh)
    return results


def commit_batch(
    engine: Engine, cache: writes.LevelCache, requests: Sequence[IndexRequest]
) -> list[IndexResult | PacsError]:
    """Commit all requests in one transaction; when that fails, commit them one by one so a
    single bad instance cannot fail its neighbours. Thread-only."""
    try:
        return list(_commit(engine, cache, requests))
    except SQLAlchemyError as exc:
        cache.clear()
        if len(requests) == 1:
            log.error("index commit failed for %s: %s", requests[0].summary.instance.sop_uid, exc)
            return [IndexFailure(f"index commit failed: {type(exc).__name__}")]
        log.warning("batch of %d failed (%s); retrying one by one", len(requests), exc)
    out: list[IndexResult | PacsError] = []
    for req in requests:
        out.extend(commit_batch(engine, cache, [req]))
    return out


async def run(
    engine: Engine,
    inbox: IndexInbox,
    limits: Limits,
    *,
    batch_size: int = 256,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve index requests until every sender has closed its end of ``inbox``."""
    cache = writes.LevelCache()
    task_status.started()
    async for first in inbox:
        batch = [first]
        while len(batch) < batch_size:
            try:
                batch.append(inbox.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                break
        try:
            results = await trio.to_thread.run_sync(
                commit_batch,
                engine,
                cache,
                [env.request for env in batch],
                limiter=limits.db_write,
            )
        except BaseException:
            for env in batch:
                env.reply(IndexFailure("indexer failed; see the server log"))
            raise
        for env, result in zip(batch, results, strict=True):
            env.reply(result)
        log.debug("committed %d", len(batch))
    log.info("index inbox closed; indexer stopped")
