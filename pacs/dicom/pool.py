"""The DICOM edge spread over worker processes (``[dicom] workers`` > 0).

One Python process tops out at what one core does (the GIL); pynetdicom's receive path is CPU
bound. The main process accepts every connection, sets TCP_NODELAY, and hands the socket to the
worker with the fewest open associations; each worker stores on its own and asks this process's
indexer, over a socket pair, to commit. Workers are supervised children: a crash restarts it."""

from __future__ import annotations

import array
import logging
import socket
import sys
from typing import Any

import attrs
import trio

from pacs.dicom.handoff import CLOSED, READY
from pacs.errors import PacsError
from pacs.index.indexer import IndexOutbox
from pacs.runtime import rpc
from pacs.runtime.supervisor import start_child
from pacs.runtime.wire import FrameReader, send_frame
from pacs.settings import Settings

log = logging.getLogger("pacs.dicom.pool")

# A-ASSOCIATE-RJ: rejected-transient (2), service-provider presentation (3), local limit (2)
REJECT_BUSY = bytes([0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2])


class WorkerExited(Exception):
    """A worker process ended while the server was running."""


@attrs.define(eq=False)
class Worker:
    number: int
    control: Any = None  # trio socket, main end of the hand-off pair
    process: trio.Process | None = None
    active: int = 0
    ready: bool = False
    stopping: bool = False
    local: bool = False  # the main process's own listener, reached over an in-process pair


async def _bridge(stream: trio.SocketStream, index: IndexOutbox, timeout: float) -> None:
    """Answer one worker's index requests through the indexer, concurrently."""
    lock = trio.Lock()

    async def answer(req_id: int, request: Any) -> None:
        try:
            result: Any = await rpc.call(index, request, timeout=timeout, what="indexer")
        except PacsError as exc:
            result = exc
        async with lock:
            await send_frame(stream, (req_id, result))

    reader = FrameReader(stream)
    async with index, trio.open_nursery() as nursery:
        while (frame := await reader.read()) is not None:
            nursery.start_soon(answer, *frame)


async def _signals_from(worker: Worker, ready: trio.Event) -> None:
    while data := await worker.control.recv(4096):
        if READY in data:
            worker.ready = True
            ready.set()
        worker.active = max(0, worker.active - data.count(CLOSED))


def _command(settings: Settings, worker: Worker, control_fd: int, index_fd: int) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "pacs",
        "worker",
        "--worker-id",
        str(worker.number),
        "--control-fd",
        str(control_fd),
        "--index-fd",
        str(index_fd),
    ]
    if settings.source != "embedded defaults":
        cmd += ["--config", settings.source]
    return cmd


async def _worker_life(
    settings: Settings,
    worker: Worker,
    index: IndexOutbox,
    *,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Start one worker process, serve it until it exits; raise if it was not asked to."""
    control, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    link, link_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    cmd = _command(settings, worker, control_child.fileno(), link_child.fileno())
    process = await trio.lowlevel.open_process(
        cmd, pass_fds=(control_child.fileno(), link_child.fileno())
    )
    control_child.close()
    link_child.close()
    worker.control, worker.process = trio.socket.from_stdlib_socket(control), process
    worker.active, worker.ready = 0, False
    ready = trio.Event()
    stream = trio.SocketStream(trio.socket.from_stdlib_socket(link))
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_bridge, stream, index.clone(), settings.dicom.store_timeout)
            nursery.start_soon(_signals_from, worker, ready)
            with trio.fail_after(60):  # a worker that cannot start is restarted (budget)
                await ready.wait()
            task_status.started()
            code = await process.wait()
            nursery.cancel_scope.cancel()
    finally:
        if process.returncode is None:
            process.kill()
    worker.ready = False
    worker.control.close()
    if not worker.stopping:
        raise WorkerExited(f"DICOM worker {worker.number} exited with {code}")


async def _reject_busy(conn: trio.socket.SocketType) -> None:
    """Answer an association request beyond ``max_associations`` with A-ASSOCIATE-RJ."""
    with conn, trio.move_on_after(5):
        await conn.recv(65536)
        await conn.send(REJECT_BUSY)


def _choose(ready: list[Worker]) -> Worker:
    """A lone association is served by the main process itself (no hop to the indexer: the
    fastest path for one sender); any further one goes to the least busy worker process."""
    local = [w for w in ready if w.local]
    remote = [w for w in ready if not w.local]
    if local and (not remote or not any(w.active for w in ready)):
        return local[0]
    return min(remote, key=lambda w: w.active)


async def _hand_over(
    conn: trio.socket.SocketType, workers: list[Worker], limit: int, nursery: trio.Nursery
) -> None:
    ready = [w for w in workers if w.ready]
    if not ready or sum(w.active for w in workers) >= limit:
        nursery.start_soon(_reject_busy, conn)
        return
    worker = _choose(ready)
    with conn:
        fds = array.array("i", [conn.fileno()])
        await worker.control.sendmsg([b"C"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        worker.active += 1


async def _accept(
    listener: trio.socket.SocketType, workers: list[Worker], limit: int, stop: trio.CancelScope
) -> None:
    """Hand connections over until ``stop`` is cancelled; then close the listening socket."""
    with stop, listener:
        await _accept_loop(listener, workers, limit)


async def _accept_loop(listener: trio.socket.SocketType, workers: list[Worker], limit: int) -> None:
    async with trio.open_nursery() as nursery:
        while True:
            conn, _addr = await listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await _hand_over(conn, workers, limit, nursery)
            except OSError as exc:
                log.warning("could not hand a connection to a worker: %s", exc)


async def _stop(workers: list[Worker], grace: float) -> None:
    for worker in workers:
        worker.stopping = True
        if worker.process is not None and worker.process.returncode is None:
            worker.process.terminate()
    with trio.move_on_after(grace):
        for worker in workers:
            if worker.process is not None:
                await worker.process.wait()
    for worker in workers:
        if worker.process is not None and worker.process.returncode is None:
            log.warning("worker %d did not stop in %.0f s; killing it", worker.number, grace)
            worker.process.kill()


async def run(
    settings: Settings,
    index: IndexOutbox,
    local: socket.socket,
    shutdown: trio.Event,
    *,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Accept on the DICOM port and feed the workers until ``shutdown``. ``local`` is the pool's
    end of a socket pair whose other end feeds this process's own listener.
    ``task_status.started(pool)`` reports a `Pool` once every worker is ready."""
    dicom = settings.dicom
    listener = trio.socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    await listener.bind((dicom.host, dicom.port))
    listener.listen(128)
    own = Worker(number=0, local=True, ready=True, control=trio.socket.from_stdlib_socket(local))
    workers = [Worker(number=n + 1) for n in range(dicom.workers)]
    async with index, trio.open_nursery() as nursery:
        nursery.start_soon(_signals_from, own, trio.Event())
        async with trio.open_nursery() as starting:  # all workers start at once
            for worker in workers:
                starting.start_soon(
                    start_child,
                    nursery,
                    f"dicom-worker-{worker.number}",
                    _worker_life,
                    settings,
                    worker,
                    index,
                )
        stop_accepting = trio.CancelScope()
        everyone = [own, *workers]
        nursery.start_soon(_accept, listener, everyone, dicom.max_associations, stop_accepting)
        task_status.started(Pool(port=listener.getsockname()[1], workers=everyone))
        log.info(
            "DICOM %s listening on %s:%d with %d worker processes",
            dicom.ae_title,
            dicom.host,
            listener.getsockname()[1],
            len(workers),
        )
        await shutdown.wait()
        stop_accepting.cancel()
        await _stop(workers, grace=15.0)
        nursery.cancel_scope.cancel()
    own.control.close()


@attrs.frozen
class Pool:
    port: int
    workers: list[Worker]

    @property
    def associations(self) -> int:
        return sum(w.active for w in self.workers)
