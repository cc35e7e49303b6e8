"""Event-driven waiting for pynetdicom's transport and association threads. Thread-only: every
sleep here runs on one of pynetdicom's threads, never on trio's.

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

The association thread polls the same way: each pass of its reactor starts with a 1 ms
sleep. On an acceptor every request we serve (each C-STORE, C-FIND, C-ECHO) waited for it;
on a requestor every send (each C-STORE of a C-MOVE) did, since a sender pauses the reactor by
spinning until the reactor reaches its checkpoint. `install` replaces that one sleep, for
attached associations, by a wait on the association's DIMSE message queue, which the DUL
thread fills with each decoded message, and which `attach` also has woken by every ACSE
primitive (release, abort) and by every request to pause the reactor.
"""

from __future__ import annotations

import contextlib
import queue
import select
import socket
import threading
import time
from typing import Any

from pynetdicom import association

_POLL = 0.001  # pynetdicom's own idle sleep, kept for a connection already closed
IDLE = 0.02  # longest wait before either loop looks at its timers and flags again
REACTOR_TICK = 0.001  # the sleep at the top of each pass of pynetdicom's association reactor


def _notify(messages: queue.Queue[Any]) -> None:
    """Wake a reactor waiting on ``messages`` (see `_ReactorClock`)."""
    with messages.not_empty:
        messages.not_empty.notify_all()


class _NotifyingQueue(queue.Queue[Any]):
    """The DUL's queue of ACSE primitives for the association thread; each put also wakes a
    reactor waiting on the DIMSE message queue (see `_ReactorClock`)."""

    def __init__(self, messages: queue.Queue[Any]) -> None:
        super().__init__()
        self._messages = messages

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        _notify(self._messages)


class _Checkpoint(threading.Event):
    """The reactor's pause checkpoint; a pause request (clear) also wakes a waiting reactor
    so that it reaches the checkpoint at once."""

    def __init__(self, messages: queue.Queue[Any], *, is_set: bool) -> None:
        super().__init__()
        self._messages = messages
        if is_set:
            self.set()

    def clear(self) -> None:
        super().clear()
        _notify(self._messages)


class _ReactorClock:
    """Stands for the ``time`` module inside pynetdicom.association: the reactor's per-pass
    sleep on an attached association becomes a wait for its next message; anything else is
    `time` itself."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        thread: Any = threading.current_thread()
        messages = getattr(thread, "_pacs_messages", None)
        if seconds != REACTOR_TICK or messages is None:
            time.sleep(seconds)
            return
        if not thread._reactor_checkpoint.is_set():  # someone is pausing it: get there now
            return
        with messages.not_empty:  # the queue's own lock: nothing is put while we look
            if not messages.queue:
                messages.not_empty.wait(IDLE)
            if messages.queue:  # a put wakes one waiter: pass it on to any other (a sender)
                messages.not_empty.notify_all()


def install() -> None:
    """Give pynetdicom's association module `_ReactorClock` for ``time`` (idempotent)."""
    association.time = _ReactorClock()  # type: ignore[attr-defined,assignment]


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
    _move(dul.to_provider_queue, outgoing)
    dul.to_provider_queue = outgoing
    _wake_reactor(assoc)
    check = dul._is_transport_event

    def transport_event() -> bool:
        _wait(dul, outgoing, ring)
        return bool(check())

    dul._is_transport_event = transport_event
    dul._run_loop_delay = 0


def _wake_reactor(assoc: Any) -> None:
    """Let the association's reactor wait for messages (see `_ReactorClock`)."""
    messages = assoc.dimse.msg_queue
    primitives = _NotifyingQueue(messages)
    _move(assoc.dul.to_user_queue, primitives)
    assoc.dul.to_user_queue = primitives
    checkpoint = assoc._reactor_checkpoint
    assoc._reactor_checkpoint = _Checkpoint(messages, is_set=checkpoint.is_set())
    assoc._pacs_messages = messages


def _move(source: queue.Queue[Any], target: queue.Queue[Any]) -> None:
    """Anything already queued goes along to the replacement queue."""
    while True:
        try:
            target.put(source.get_nowait())
        except queue.Empty:
            return


def _wait(dul: Any, outgoing: _WakingQueue, ring: socket.socket) -> None:
    """Block until the peer sends, we queue something, or `IDLE` passes; return at once if
    the DUL has work already or is stopping."""
    sock = getattr(dul.socket, "socket", None)
    if sock is None:  # connection gone, thread not stopped yet: poll as pynetdicom does
        time.sleep(_POLL)
        return
    outgoing.waiting = True
    try:
        if dul._kill_thread or not dul.event_queue.empty() or not outgoing.empty():
            return
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
