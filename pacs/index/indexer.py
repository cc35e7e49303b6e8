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
from pacs.messages import DeleteRequest, DeleteResult, IndexRequest, IndexResult, StoreOutcome
from pacs.runtime.limits import Limits
from pacs.runtime.rpc import Envelope

log = logging.getLogger("pacs.indexer")

IndexInbox = trio.MemoryReceiveChannel[Envelope[Any, Any]]
IndexOutbox = trio.MemorySendChannel[Envelope[Any, Any]]
# Requests: IndexRequest → IndexResult (batched), DeleteRequest → DeleteResult (one at a time).


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


def delete(engine: Engine, cache: writes.LevelCache, req: DeleteRequest) -> DeleteResult:
    """Remove what ``req`` names from the index in one transaction. Thread-only."""
    cache.clear()
    try:
        with engine.begin() as conn:
            batch = writes.Batch(conn=conn, now=dt.datetime.now(dt.UTC), cache=cache)
            paths, study = writes.delete_instances(batch, req.level.value, req.uid)
            writes.finish(batch)
    except SQLAlchemyError as exc:
        log.error("index delete of %s %s failed: %s", req.level, req.uid, exc)
        raise IndexFailure(f"index delete failed: {type(exc).__name__}") from exc
    return DeleteResult(paths=tuple(paths), study_uid=study)


async def _delete(
    engine: Engine, cache: writes.LevelCache, env: Envelope[Any, Any], limits: Limits
) -> None:
    try:
        env.reply(
            await trio.to_thread.run_sync(
                delete, engine, cache, env.request, limiter=limits.db_write
            )
        )
    except PacsError as exc:
        env.reply(exc)


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
        if isinstance(first.request, DeleteRequest):
            await _delete(engine, cache, first, limits)
            continue
        batch, held = [first], None
        while len(batch) < batch_size:
            try:
                env = inbox.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                break
            if isinstance(env.request, DeleteRequest):
                held = env  # after this batch: a delete is not batched with stores
                break
            batch.append(env)
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
        if held is not None:
            await _delete(engine, cache, held, limits)
    log.info("index inbox closed; indexer stopped")
