"""The storage writer actor: spool file → storage area (durable) → indexer → answer.

Each request is answered only once its file is fsynced in place and its index row committed.
Several requests are handled at once (one per association in flight), bounded by a semaphore;
the bounded inbox pushes back on the senders when the disk or index falls behind."""

from __future__ import annotations

import functools
import logging
from typing import Any

import attrs
import trio

from pacs.errors import DuplicateRejected, PacsError, StorageFailure
from pacs.index.indexer import IndexOutbox
from pacs.messages import (
    IndexResult,
    PlacedFile,
    StoreOutcome,
    StoreRequest,
    StoreResult,
)
from pacs.monitoring import metrics
from pacs.runtime import rpc
from pacs.runtime.limits import Limits
from pacs.runtime.supervisor import start_child
from pacs.settings import CharsetSettings, Settings, StorageSettings
from pacs.storage import ingest
from pacs.storage.area import StorageArea
from pacs.storage.layout import Layout, compile_layout
from pacs.storage.rewrite import rewrite_as_utf8

log = logging.getLogger("pacs.writer")

STORE_QUEUE = 64

StoreInbox = trio.MemoryReceiveChannel[rpc.Envelope[StoreRequest, StoreResult]]
StoreOutbox = trio.MemorySendChannel[rpc.Envelope[StoreRequest, StoreResult]]


@attrs.frozen(kw_only=True)
class Writer:
    area: StorageArea
    layout: Layout
    storage: StorageSettings
    charset: CharsetSettings
    index: IndexOutbox
    limits: Limits
    timeout: float

    def place(self, req: StoreRequest) -> PlacedFile:
        """Thread-only: parse the header, optionally rewrite, and place the file durably.
        On failure a consumed source is removed (it was never acknowledged)."""
        try:
            return self._place(req)
        except PacsError:
            if req.consume:
                self.area.discard(req.path)
            raise

    def _place(self, req: StoreRequest) -> PlacedFile:
        parsed = ingest.parse_file(
            req.path,
            self.charset.fallback,
            sop_class_uid=req.sop_class_uid,
            sop_instance_uid=req.sop_instance_uid,
        )
        src, consume = req.path, req.consume
        if self.charset.rewrite_files and parsed.summary.repairs:
            src = rewrite_as_utf8(self.area.copy_to_spool(req.path), self.charset.fallback)
            if req.consume:
                self.area.discard(req.path)
            consume = True
        rel = ingest.layout_path(self.layout, parsed.summary)
        size = self.area.place(
            src, rel, consume=consume, overwrite=self.storage.duplicates == "replace"
        )
        return PlacedFile(
            summary=parsed.summary, transfer_syntax=parsed.transfer_syntax, rel=rel, size=size
        )

    async def store(self, req: StoreRequest) -> StoreResult:
        if req.placed is not None:
            return await self.commit(req, req.placed)
        placed = await trio.to_thread.run_sync(self.place, req, limiter=self.limits.disk)
        return await self.commit(req, placed)

    async def commit(self, req: StoreRequest, placed: PlacedFile) -> StoreResult:
        """Index a placed file, settle duplicates, and answer."""
        index_req = ingest.index_request(
            placed,
            source=req.source,
            calling_ae=req.calling_ae,
            replace=self.storage.duplicates == "replace",
        )
        result: IndexResult = await rpc.call(
            self.index, index_req, timeout=self.timeout, what="indexer"
        )
        await self._settle(result)
        metrics.stored(req.source, result.outcome, placed.size)
        uid = placed.summary.instance.sop_uid
        self._log(req, result, placed)
        if result.outcome is StoreOutcome.DUPLICATE and self.storage.duplicates == "reject":
            raise DuplicateRejected(f"duplicate SOP instance {uid} rejected")
        return StoreResult(
            outcome=result.outcome,
            sop_instance_uid=uid,
            path=self.area.absolute(result.path),
            repairs=len(placed.summary.repairs),
        )

    async def _settle(self, result: IndexResult) -> None:
        """Remove the copy the index did not keep (a duplicate elsewhere, a replaced file)."""
        if result.superseded_path:
            await trio.to_thread.run_sync(
                self.area.remove, result.superseded_path, limiter=self.limits.disk
            )

    def _log(self, req: StoreRequest, result: IndexResult, placed: PlacedFile) -> None:
        summary = placed.summary
        for repair in summary.repairs:
            log.info(
                "charset repair: %s %s declared %r decoded as %s: %r",
                summary.instance.sop_uid,
                repair.keyword,
                repair.declared,
                repair.used,
                repair.text,
            )
        log.debug(
            "%s %s from %s (%s) -> %s",
            result.outcome,
            summary.instance.sop_uid,
            req.calling_ae or req.source,
            placed.transfer_syntax,
            result.path,
        )


async def _serve_one(
    writer: Writer, env: rpc.Envelope[StoreRequest, StoreResult], slots: trio.Semaphore
) -> None:
    try:
        env.reply(await writer.store(env.request))
    except PacsError as exc:
        log.warning(
            "store failed for %s from %s: %s",
            env.request.sop_instance_uid or env.request.path.name,
            env.request.calling_ae or env.request.source,
            exc.message,
        )
        env.reply(exc)
    except Exception as exc:  # a defect must fail this instance, not the writer
        log.exception("unexpected error storing %s", env.request.path)
        env.reply(StorageFailure(f"internal error: {type(exc).__name__}"))
    finally:
        slots.release()


async def run(
    writer: Writer,
    inbox: StoreInbox,
    *,
    concurrency: int = 32,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Store requests until every producer closed ``inbox``; then finish in-flight work and
    close this writer's end of the index channel."""
    slots = trio.Semaphore(concurrency)
    async with trio.open_nursery() as nursery:
        task_status.started()
        async for env in inbox:
            await slots.acquire()
            nursery.start_soon(functools.partial(_serve_one, writer, env, slots))
    await writer.index.aclose()
    log.info("store inbox closed; writer stopped")


async def start(
    nursery: trio.Nursery,
    area: StorageArea,
    settings: Settings,
    index: IndexOutbox,
    limits: Limits,
) -> tuple[Writer, StoreOutbox]:
    """Create the writer and start it supervised; returns it and the channel that feeds it."""
    store_send, store_recv = trio.open_memory_channel[Any](STORE_QUEUE)
    store_writer = Writer(
        area=area,
        layout=compile_layout(settings.storage.layout),
        storage=settings.storage,
        charset=settings.charset,
        index=index,
        limits=limits,
        timeout=settings.dicom.store_timeout,
    )
    await start_child(nursery, "writer", run, store_writer, store_recv)
    return store_writer, store_send
