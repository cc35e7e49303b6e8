"""Composition root: settings → limits → channels → supervised actors → listeners.

The only top-level nursery. Actors start consumers first (indexer, writer), then producers
(sweeper, DICOM listener, HTTP). Shutdown runs the other way by closing channels: the listener
stops and closes the store channel, the writer drains and closes the index channel, the indexer
drains and returns."""

from __future__ import annotations

import functools
import logging
import secrets
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
import trio
from sqlalchemy import Engine

from pacs.auth import accounts
from pacs.dicom import listener, pool
from pacs.dicom.handlers.qr import QueryRetrieve
from pacs.dicom.handoff import HandoffReceiver
from pacs.http import server as http_server
from pacs.http.app import Health
from pacs.http.services import WebServices
from pacs.imaging import transcoder
from pacs.index import catalog, indexer
from pacs.index.db import make_engine
from pacs.monitoring import sampler
from pacs.runtime.limits import Limits
from pacs.runtime.supervisor import start_child
from pacs.settings import Settings
from pacs.storage import sweeper, trash, writer
from pacs.storage.area import StorageArea
from pacs.storage.deleter import Deleter

log = logging.getLogger("pacs.app")

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Core:
    """The storage path shared by `serve` and the CLI's `import`: area, index, two actors."""

    area: StorageArea
    engine: Engine
    limits: Limits
    store_writer: writer.Writer
    store: writer.StoreOutbox
    index: indexer.IndexOutbox

    def file_indexer(self, settings: Settings) -> sweeper.FileIndexer:
        """For files already in the area; holds its own clone of the index channel."""
        return sweeper.FileIndexer(
            area=self.area,
            engine=self.engine,
            limits=self.limits,
            fallbacks=settings.charset.fallback,
            index=self.index.clone(),
        )


async def start_core(nursery: trio.Nursery, settings: Settings, limits: Limits) -> Core:
    """Open the area and the index and start the indexer and the writer (consumers first)."""
    area = StorageArea(settings.storage.path, fsync=settings.storage.fsync)
    await trio.to_thread.run_sync(area.prepare)
    swept = await trio.to_thread.run_sync(area.sweep_spool)
    if swept:
        log.warning("removed %d unacknowledged spool file(s) left by an earlier run", swept)
    engine = await trio.to_thread.run_sync(make_engine, settings.database.url)
    restored, removed = await trio.to_thread.run_sync(
        trash.recover, area, functools.partial(catalog.known_paths, engine)
    )
    if restored or removed:
        log.warning("an interrupted delete: %d file(s) put back, %d removed", restored, removed)
    index_send, index_recv = trio.open_memory_channel[Any](settings.database.batch_size * 2)
    await start_child(
        nursery,
        "indexer",
        indexer.run,
        engine,
        index_recv,
        limits,
        batch_size=settings.database.batch_size,
    )
    store_writer, store_send = await writer.start(
        nursery, area, settings, index_send.clone(), limits
    )
    return Core(
        area=area,
        engine=engine,
        limits=limits,
        store_writer=store_writer,
        store=store_send,
        index=index_send,
    )


def _health(
    core: Core, imaging: transcoder.ImagingOutbox, port: int, associations: Callable[[], int]
) -> Health:
    def depth(channel: Any) -> int:
        return int(channel.statistics().current_buffer_used)

    return Health(
        queues={
            "store": lambda: depth(core.store),
            "index": lambda: depth(core.index),
            "imaging": lambda: depth(imaging),
        },
        gauges={"dicom": lambda: {"port": port, "associations": associations()}},
    )


async def _start_imaging(
    nursery: trio.Nursery, settings: Settings, limits: Limits, shutdown: trio.Event
) -> transcoder.ImagingOutbox:
    """The transcoder; its channel closes on shutdown (users hold clones of it)."""
    send, receive = transcoder.open_channel(settings.imaging)
    await start_child(nursery, "transcoder", transcoder.run, receive, settings.imaging, limits)
    nursery.start_soon(_close_on, shutdown, send)
    return send


async def _close_on(event: trio.Event, channel: trio.MemorySendChannel[Any]) -> None:
    await event.wait()
    await channel.aclose()


async def _start_dicom(
    nursery: trio.Nursery, settings: Settings, core: Core, shutdown: trio.Event, qr: QueryRetrieve
) -> tuple[int, Callable[[], int]]:
    """The DICOM edge: in this process, or spread over worker processes. Returns its port and
    a probe of open associations."""
    handoff = pool_end = None
    if settings.dicom.workers:  # this process serves what the pool hands it over a socket pair
        pool_end, listener_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        handoff = HandoffReceiver(listener_end, on_lost=lambda: None)
    server = await start_child(
        nursery,
        "dicom",
        listener.run,
        settings.dicom,
        core.area.spool,
        core.store,
        core.store_writer.place,
        shutdown,
        handoff=handoff,
        qr=qr,
    )
    if pool_end is not None:
        pool_: pool.Pool = await nursery.start(
            pool.run, settings, core.index.clone(), pool_end, shutdown
        )
        return pool_.port, lambda: pool_.associations
    return int(server.server_address[1]), lambda: len(server.active_associations)


async def _web_services(
    settings: Settings, core: Core, imaging: transcoder.ImagingOutbox, limits: Limits
) -> WebServices:
    """What the HTTP edge uses, with its own channel clones; the first start also creates
    the default account."""
    await trio.to_thread.run_sync(accounts.ensure_default_admin, core.engine)
    return WebServices(
        settings=settings,
        engine=core.engine,
        area=core.area,
        store=core.store.clone(),
        imaging=imaging.clone(),
        limits=limits,
        deleter=Deleter(
            area=core.area,
            engine=core.engine,
            index=core.index.clone(),
            limits=limits,
            timeout=settings.dicom.store_timeout,
        ),
        anonymize_secret=settings.imaging.anonymize_secret or secrets.token_hex(16),
    )


async def _signals(shutdown: trio.Event, everything: trio.CancelScope) -> None:
    """First SIGTERM/SIGINT: orderly stop. A second one: stop now."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            name = signal.Signals(signum).name
            if shutdown.is_set():
                log.warning("received %s again: stopping without draining", name)
                everything.cancel()
                return
            log.info("received %s: stopping (in-flight stores finish first)", name)
            shutdown.set()


async def _sweep(files: sweeper.FileIndexer, shutdown: trio.Event) -> None:
    """The startup sweep, cut short by shutdown."""
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_cancel_on, shutdown, scope)
            await sweeper.run(files)
            nursery.cancel_scope.cancel()


async def _cancel_on(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


async def run_until_signal(body: Callable[[trio.Event], Awaitable[T]]) -> T:
    """Run ``body(shutdown)``; the first SIGTERM/SIGINT sets ``shutdown``, a second one cancels."""
    shutdown = trio.Event()
    async with trio.open_nursery() as outer:
        outer.start_soon(_signals, shutdown, outer.cancel_scope)
        result = await body(shutdown)
        outer.cancel_scope.cancel()
    return result


async def serve(settings: Settings, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Run the whole server until SIGTERM/SIGINT; return after an orderly drain."""
    limits = Limits.create(codec=settings.imaging.workers)
    core = await run_until_signal(
        functools.partial(_serve, settings, limits, task_status=task_status)
    )
    await trio.to_thread.run_sync(core.engine.dispose)
    log.info("pacs stopped")


async def _serve(
    settings: Settings, limits: Limits, shutdown: trio.Event, *, task_status: Any
) -> Core:
    async with trio.open_nursery() as nursery:
        # metrics and log levels of this run, before any DICOM worker process starts
        monitor = await trio.to_thread.run_sync(sampler.prepare, settings)
        core = await start_core(nursery, settings, limits)
        if settings.storage.startup_sweep:
            nursery.start_soon(_sweep, core.file_indexer(settings), shutdown)
        imaging = await _start_imaging(nursery, settings, limits, shutdown)
        qr = QueryRetrieve(engine=core.engine, settings=settings, imaging=imaging)
        dicom_port, associations = await _start_dicom(nursery, settings, core, shutdown, qr)
        web = await _web_services(settings, core, imaging, limits)
        await core.index.aclose()  # the writer, the sweeper, the workers and the web hold clones
        health = _health(core, imaging, dicom_port, associations)
        await nursery.start(sampler.run, monitor, health, shutdown)
        web = attrs.evolve(web, monitor=monitor)
        http_port = await nursery.start(http_server.run, settings.http, health, web, shutdown)
        log.info(
            "pacs ready: DICOM %s on %d, HTTP on %d, storage %s, index %s",
            settings.dicom.ae_title,
            dicom_port,
            http_port,
            settings.storage.path,
            core.engine.url.render_as_string(hide_password=True),
        )
        task_status.started((dicom_port, http_port))
    return core
