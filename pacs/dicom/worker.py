"""A DICOM worker process (``[dicom] workers`` > 0): its own trio run with the listener and the
storage writer; connections arrive from the main process (see `pacs.dicom.handoff`), and index
requests go to the main process's single indexer over a socket, request/reply, so an answer to a
sender still follows the commit."""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import socket
from typing import Any

import trio

from pacs.dicom import listener
from pacs.dicom.handlers.qr import QueryRetrieve
from pacs.dicom.handoff import READY, HandoffReceiver
from pacs.errors import ServiceStopped
from pacs.index.db import make_engine
from pacs.index.indexer import IndexInbox
from pacs.messages import IndexRequest, IndexResult
from pacs.monitoring import worker as monitoring
from pacs.runtime.limits import Limits
from pacs.runtime.rpc import Envelope
from pacs.runtime.supervisor import start_child
from pacs.runtime.wire import FrameReader, send_frame
from pacs.settings import Settings
from pacs.storage import writer
from pacs.storage.area import StorageArea

log = logging.getLogger("pacs.worker")


async def _replies(
    reader: FrameReader, pending: dict[int, Envelope[IndexRequest, IndexResult]]
) -> None:
    while (frame := await reader.read()) is not None:
        req_id, result = frame
        env = pending.pop(req_id, None)
        if env is not None:
            env.reply(result)
    for env in pending.values():
        env.reply(ServiceStopped("the main process closed the index link"))
    pending.clear()


async def index_client(
    stream: trio.SocketStream, inbox: IndexInbox, *, task_status: Any = trio.TASK_STATUS_IGNORED
) -> None:
    """Forward the writer's index requests to the main process and route the answers back."""
    pending: dict[int, Envelope[IndexRequest, IndexResult]] = {}
    ids = itertools.count()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_replies, FrameReader(stream), pending)
        task_status.started()
        async for env in inbox:
            req_id = next(ids)
            pending[req_id] = env
            await send_frame(stream, (req_id, env.request))
        nursery.cancel_scope.cancel()
    await stream.aclose()


def _set_from_thread(event: trio.Event, token: trio.lowlevel.TrioToken) -> None:
    with contextlib.suppress(trio.RunFinishedError):
        trio.from_thread.run_sync(event.set, trio_token=token)


async def _run(
    settings: Settings, control: socket.socket, index_sock: socket.socket, shutdown: trio.Event
) -> None:
    limits = Limits.create()
    area = StorageArea(settings.storage.path, fsync=settings.storage.fsync)
    index_send, index_recv = trio.open_memory_channel[Any](settings.database.batch_size)
    stream = trio.SocketStream(trio.socket.from_stdlib_socket(index_sock))
    handoff = HandoffReceiver(
        control,
        on_lost=functools.partial(_set_from_thread, shutdown, trio.lowlevel.current_trio_token()),
    )
    # reads (C-FIND, C-MOVE, C-GET) go to the index directly; writes cross to the main process
    engine = await trio.to_thread.run_sync(make_engine, settings.database.url)
    async with trio.open_nursery() as nursery:
        await nursery.start(monitoring.run, settings, shutdown)  # metrics, run-time log levels
        await nursery.start(index_client, stream, index_recv)
        store_writer, store = await writer.start(nursery, area, settings, index_send, limits)
        await start_child(
            nursery,
            "dicom",
            listener.run,
            settings.dicom,
            area.spool,
            store,
            store_writer.place,
            shutdown,
            handoff=handoff,
            qr=QueryRetrieve(engine=engine, settings=settings),
        )
        handoff.send(READY)
    await trio.to_thread.run_sync(engine.dispose)


async def main(settings: Settings, control_fd: int, index_fd: int) -> None:
    """Serve handed-over associations until SIGTERM, then drain like the main process does."""
    from pacs.app import run_until_signal  # noqa: PLC0415 (app imports this module)

    control = socket.socket(fileno=control_fd)
    index_sock = socket.socket(fileno=index_fd)
    await run_until_signal(functools.partial(_run, settings, control, index_sock))
    log.info("worker stopped")
