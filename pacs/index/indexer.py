"""The indexer actor: the single writer of the index, batching many instances per transaction.

Every request is answered only after its transaction committed, so an acknowledgement to a
sender always follows a durable index row."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import trio
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from pacs.errors import IndexFailure, PacsError
from pacs.index import writes
from pacs.messages import IndexRequest, IndexResult
from pacs.runtime.limits import Limits
from pacs.runtime.rpc import Envelope

log = logging.getLogger("pacs.indexer")

IndexInbox = trio.MemoryReceiveChannel[Envelope[IndexRequest, IndexResult]]
IndexOutbox = trio.MemorySendChannel[Envelope[IndexRequest, IndexResult]]


def _commit(engine: Engine, requests: Sequence[IndexRequest]) -> list[IndexResult]:
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        batch = writes.Batch(conn=conn, now=now)
        results = [writes.store(batch, req) for req in requests]
        writes.apply_counts(batch)
    return results


def commit_batch(engine: Engine, requests: Sequence[IndexRequest]) -> list[IndexResult | PacsError]:
    """Commit all requests in one transaction; when that fails, commit them one by one so a
    single bad instance cannot fail its neighbours. Thread-only."""
    try:
        return list(_commit(engine, requests))
    except SQLAlchemyError as exc:
        if len(requests) == 1:
            log.error("index commit failed for %s: %s", requests[0].summary.instance.sop_uid, exc)
            return [IndexFailure(f"index commit failed: {type(exc).__name__}")]
        log.warning("batch of %d failed (%s); retrying one by one", len(requests), exc)
    out: list[IndexResult | PacsError] = []
    for req in requests:
        out.extend(commit_batch(engine, [req]))
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
                commit_batch, engine, [env.request for env in batch], limiter=limits.db_write
            )
        except BaseException:
            for env in batch:
                env.reply(IndexFailure("indexer failed; see the server log"))
            raise
        for env, result in zip(batch, results, strict=True):
            env.reply(result)
        log.debug("committed %d", len(batch))
    log.info("index inbox closed; indexer stopped")
