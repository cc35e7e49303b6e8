"""The transcoder actor: imaging requests in, file bytes out, CPU work off the trio thread.

Requests wait in the bounded inbox (backpressure reaches the caller); at most ``workers`` run at
once, in worker processes (``pool = "process"``: codecs and pydicom hold the GIL, and the DICOM
edge shares this process) or threads. A caller that gives up does not stop a running job; a
process job is abandoned on shutdown."""

from __future__ import annotations

import logging
from typing import Any

import trio
import trio_parallel

from pacs.errors import ImagingError, PacsError
from pacs.imaging.files import perform
from pacs.runtime.limits import Limits
from pacs.runtime.rpc import Envelope
from pacs.settings import ImagingSettings

log = logging.getLogger("pacs.transcoder")

ImagingInbox = trio.MemoryReceiveChannel[Envelope[Any, bytes]]
ImagingOutbox = trio.MemorySendChannel[Envelope[Any, bytes]]


def open_channel(settings: ImagingSettings) -> tuple[ImagingOutbox, ImagingInbox]:
    return trio.open_memory_channel[Envelope[Any, bytes]](settings.queue)


async def run(
    inbox: ImagingInbox,
    settings: ImagingSettings,
    limits: Limits,
    *,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve requests until every sender closed its end of ``inbox``."""
    slots = trio.Semaphore(settings.workers)
    async with trio.open_nursery() as nursery:
        task_status.started()
        async for env in inbox:
            await slots.acquire()
            nursery.start_soon(_serve, env, settings.pool, limits, slots)
    log.info("imaging inbox closed; transcoder stopped")


async def _serve(
    env: Envelope[Any, bytes], pool: str, limits: Limits, slots: trio.Semaphore
) -> None:
    try:
        env.reply(await _execute(env.request, pool, limits))
    except PacsError as exc:
        log.info("%s failed: %s", type(env.request).__name__, exc.message)
        env.reply(exc)
    except trio_parallel.BrokenWorkerError as exc:
        log.error("imaging worker died on %r: %s", env.request, exc)
        env.reply(ImagingError("the imaging worker died on this input"))
    finally:
        slots.release()


async def _execute(request: Any, pool: str, limits: Limits) -> bytes:
    if pool == "process":
        result: bytes = await trio_parallel.run_sync(
            perform, request, limiter=limits.codec, kill_on_cancel=True
        )
        return result
    return await trio.to_thread.run_sync(perform, request, limiter=limits.codec)
