"""Event-driven waiting for pynetdicom's transport thread. Thread-only; no trio here.

pynetdicom's DUL thread polls: whenever a pass over its loop finds nothing to do it sleeps
1 ms, so every PDU from the peer and every message we queue to send waits up to a millisecond
(and a GIL hand-off) before anything happens. One C-STORE is a request and a response, so a
sender pays that wait twice per instance: on loopback it cost 25-40 % of a bare SCP's
throughput and of a C-MOVE's sub-operation rate.

`attach` (called on EVT_CONN_OPEN) turns the sleep off and makes the idle pass wait in
``select()`` on the association's socket and on a wake-up socket pair written whenever a
primitive is queued for sending. The thread then reacts at once to either, and costs nothing
while the association is idle. The wait is bounded (`IDLE`), so pynetdicom's own timers
(ARTIM, network idle timeout) and its stop flag are still seen within that bound.
"""

from __future__ import annotations

import contextlib
import queue
import select
import socket
import time
from typing import Any

_POLL = 0.001  # pynetdicom's own idle sleep, kept for a connection already closed
IDLE = 0.02  # longest wait in select() before the DUL loop looks at its timers again


class _WakingQueue(queue.Queue[Any]):
    """The DUL's outgoing-primitive queue; each put wakes the DUL thread's select()."""

    def __init__(self, wake: socket.socket) -> None:
        super().__init__()
        self._wake = wake
        # set by the DUL thread before it checks this queue and waits: a put that sees it
        # clear is found by that check, so only a put that sees it set needs to wake it
        self.waiting = False

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        if not self.waiting:
            return
        # a full buffer means a wake-up is already pending; a closed pair means the
        # association is gone and nobody waits any more
        with contextlib.suppress(OSError):
            self._wake.send(b"\0")


def attach(assoc: Any) -> None:
    """Make ``assoc``'s DUL thread wait for events instead of polling. Idempotent."""
    dul = assoc.dul
    if getattr(dul, "_pacs_wakeup", None) is not None:
        return
    ring, wake = socket.socketpair()
    ring.setblocking(False)
    wake.setblocking(False)
    dul._pacs_wakeup = (ring, wake)
    outgoing = _WakingQueue(wake)
    while True:  # anything queued before we got here goes along
        try:
            outgoing.put(dul.to_provider_queue.get_nowait())
        except queue.Empty:
            break
    dul.to_provider_queue = outgoing
    check = dul._is_transport_event

    def transport_event() -> bool:
        _wait(dul, outgoing, ring)
        return bool(check())

    dul._is_transport_event = transport_event
    dul._run_loop_delay = 0


def _wait(dul: Any, outgoing: _WakingQueue, ring: socket.socket) -> None:
    """Block until the peer sends, we queue something, or `IDLE` passes; return at once if
    the DUL has work already or is stopping."""
    outgoing.waiting = True
    try:
        if dul._kill_thread or not dul.event_queue.empty() or not outgoing.empty():
            return
        sock = getattr(dul.socket, "socket", None)
        if sock is None:  # connection gone, thread not stopped yet: poll as pynetdicom does
            raise ValueError
        ready, _, _ = select.select([sock, ring], [], [], IDLE)
    except (OSError, ValueError):  # closed under us: pynetdicom's own check reports it
        time.sleep(_POLL)
        return
    finally:
        outgoing.waiting = False
    if ring in ready:
        with contextlib.suppress(OSError):
            ring.recv(4096)


def detach(assoc: Any) -> None:
    """Close the wake-up pair (EVT_CONN_CLOSE)."""
    pair = getattr(assoc.dul, "_pacs_wakeup", None)
    if pair is None:
        return
    for end in pair:
        end.close()
