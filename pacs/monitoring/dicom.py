"""Measuring the DICOM edge: pynetdicom handlers for the listener (association threads).

`timed_store` wraps the C-STORE handler: pynetdicom calls it once the whole dataset is in the
spool file and sends the response as soon as it returns, so the time it takes is the instance's
time from received to acknowledged (placed durably and indexed). `DATA_EVENTS` count the bytes of
every PDU received and sent on an accepted association (C-STORE data in, C-GET data out, ...)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from pynetdicom import evt

from pacs.monitoring import metrics


def _code(status: Any) -> int:
    if isinstance(status, int):
        return status
    return int(getattr(status, "Status", 0xC000))


def _failed(code: int) -> bool:
    """Neither success (0x0000) nor a warning (0x0001, 0xB000-0xBFFF)."""
    return code not in (0x0000, 0x0001) and not 0xB000 <= code <= 0xBFFF


def timed_store(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def measured(event: Any, *args: Any) -> Any:
        started = time.perf_counter()
        status = handler(event, *args)
        counted = metrics.active()
        if counted is not None:
            counted.store_seconds.observe(time.perf_counter() - started)
            if _failed(_code(status)):
                counted.errors.labels("dicom_store").inc()
        return status

    return measured


def _received(event: Any) -> None:
    counted = metrics.active()
    if counted is not None:
        counted.dicom_bytes.labels("in").inc(len(event.data))


def _sent(event: Any) -> None:
    counted = metrics.active()
    if counted is not None:
        counted.dicom_bytes.labels("out").inc(len(event.data))


DATA_EVENTS: list[Any] = [(evt.EVT_DATA_RECV, _received), (evt.EVT_DATA_SENT, _sent)]
