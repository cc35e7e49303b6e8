"""Socket hand-off between the main process and DICOM worker processes.

The main process accepts each connection and passes its descriptor to the least busy worker
over a Unix socket pair (SCM_RIGHTS); the worker gives it to its pynetdicom server and writes
one byte back when the connection closes. Thread-only on the worker side."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("pacs.dicom.handoff")

CLOSED = b"D"  # worker → main: one connection ended
READY = b"R"  # worker → main: the listener serves


class HandoffReceiver:
    """Worker side: receives descriptors and serves them; reports each close."""

    def __init__(self, control: socket.socket, on_lost: Callable[[], None]) -> None:
        self.control = control
        self.lock = threading.Lock()
        self.on_lost = on_lost  # the main process went away: the worker must stop

    def send(self, signal: bytes) -> None:
        # OSError: the main process is gone or stopping, nothing to count any more
        with self.lock, contextlib.suppress(OSError):
            self.control.sendall(signal)

    def report_closed(self, event: Any) -> None:
        """EVT_CONN_CLOSE handler."""
        del event
        self.send(CLOSED)

    def serve(self, server: Any) -> None:
        """Blocking loop, run in its own thread until the main process closes the pair."""
        while True:
            try:
                _msg, fds, _flags, _addr = socket.recv_fds(self.control, 16, 1)
            except OSError:
                fds = []
            if not fds:
                log.info("hand-off link closed by the main process")
                self.on_lost()
                return
            conn = socket.socket(fileno=fds[0])
            try:
                peer = conn.getpeername()
            except OSError:
                conn.close()
                self.report_closed(None)
                continue
            conn.setblocking(True)
            server.process_request(conn, peer)
