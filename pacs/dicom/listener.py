"""The DICOM listener actor: runs pynetdicom's threaded server inside our trio run.

On shutdown it stops accepting, lets open associations finish for a grace period (their
in-flight stores complete and are acknowledged), aborts what remains, and only then closes its
end of the store channel so the writer can drain."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio
from pynetdicom import evt

from pacs.dicom.ae import (
    CONNECTION_EVENTS,
    build_ae,
    configure_pynetdicom,
    quick_copy_contexts,
)
from pacs.dicom.handlers.echo import handle_echo
from pacs.dicom.handlers.find import handle_find
from pacs.dicom.handlers.qr import QueryRetrieve
from pacs.dicom.handlers.retrieve import handle_get, handle_move
from pacs.dicom.handlers.store import StoreService, handle_store
from pacs.dicom.handoff import HandoffReceiver
from pacs.messages import PlacedFile, StoreRequest
from pacs.monitoring.dicom import DATA_EVENTS, timed_store
from pacs.runtime.portal import Portal
from pacs.settings import DicomSettings
from pacs.storage.writer import StoreOutbox

log = logging.getLogger("pacs.dicom")


def _log_association(event: Any) -> None:
    requestor = event.assoc.requestor
    log.info(
        "association %s from %s@%s:%s",
        event.event.name.removeprefix("EVT_").lower(),
        str(requestor.ae_title).strip(),
        requestor.address,
        requestor.port,
    )


def _start(
    settings: DicomSettings,
    service: StoreService,
    handoff: HandoffReceiver | None,
    qr: QueryRetrieve | None,
) -> Any:
    ae = build_ae(settings)
    handlers: list[Any] = [
        *CONNECTION_EVENTS,
        (evt.EVT_C_ECHO, handle_echo),
        (evt.EVT_C_STORE, timed_store(handle_store), [service]),
        *DATA_EVENTS,
        (evt.EVT_ESTABLISHED, _log_association),
        (evt.EVT_ABORTED, _log_association),
        (evt.EVT_REJECTED, _log_association),
    ]
    if qr is not None:
        handlers += [
            (evt.EVT_C_FIND, handle_find, [qr]),
            (evt.EVT_C_MOVE, handle_move, [qr]),
            (evt.EVT_C_GET, handle_get, [qr]),
        ]
    if handoff is None:
        server = ae.start_server((settings.host, settings.port), block=False, evt_handlers=handlers)
        quick_copy_contexts(server)
        return server
    # a worker: connections arrive from the main process; the server's own socket stays idle
    handlers.append((evt.EVT_CONN_CLOSE, handoff.report_closed))
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
    quick_copy_contexts(server)
    threading.Thread(target=handoff.serve, args=(server,), name="handoff", daemon=True).start()
    return server


async def _drain(server: Any, grace: float) -> int:
    """Wait up to ``grace`` s for open associations to end; abort the rest."""
    with trio.move_on_after(grace):
        # pynetdicom's association threads give no signal that reaches trio: poll their list
        while server.active_associations:  # noqa: ASYNC110
            await trio.sleep(0.05)
    remaining = list(server.active_associations)
    for assoc in remaining:
        await trio.to_thread.run_sync(assoc.abort)
    return len(remaining)


async def run(
    settings: DicomSettings,
    spool: Path,
    store: StoreOutbox,
    place: Callable[[StoreRequest], PlacedFile],
    shutdown: trio.Event,
    *,
    handoff: HandoffReceiver | None = None,
    qr: QueryRetrieve | None = None,
    grace: float = 10.0,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen until ``shutdown`` is set. ``task_status.started(server)`` reports the server."""
    configure_pynetdicom(spool)
    service = StoreService(
        portal=Portal.current(), store=store, place=place, timeout=settings.store_timeout
    )
    if qr is not None:
        qr = attrs.evolve(qr, portal=service.portal)
    server = await trio.to_thread.run_sync(_start, settings, service, handoff, qr)
    host, port = server.server_address[:2]
    log.info("DICOM %s listening on %s:%d", settings.ae_title, host, port)
    task_status.started(server)
    try:
        await shutdown.wait()
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(server.shutdown)
            log.info(
                "DICOM listener closed; waiting for %d association(s)",
                len(server.active_associations),
            )
            aborted = await _drain(server, grace)
            if aborted:
                log.warning("aborted %d association(s) still open after %.0f s", aborted, grace)
    await store.aclose()
