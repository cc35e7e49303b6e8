"""The event-driven DUL wait (pacs.dicom.wakeup) on real pynetdicom associations over loopback:
messages still flow both ways, a release and an abort still end the association, and the
wake-up pair is closed afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from pacs.dicom import wakeup
from pacs.dicom.ae import CONNECTION_EVENTS


@pytest.fixture
def server() -> Iterator[tuple[Any, list[Any]]]:
    seen: list[Any] = []
    wakeup.install()  # the acceptor's reactor waits for messages too
    ae = AE(ae_title="WAKE")
    ae.add_supported_context(Verification)

    def opened(event: Any) -> None:
        seen.append(event.assoc)

    handlers = [*CONNECTION_EVENTS, (evt.EVT_CONN_OPEN, opened)]
    srv = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
    try:
        yield srv, seen
    finally:
        srv.shutdown()


def _requestor(srv: Any) -> Any:
    ae = AE()
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
    port = srv.server_address[1]
    assoc = ae.associate("127.0.0.1", port, ae_title="WAKE", evt_handlers=CONNECTION_EVENTS)
    assert assoc.is_established
    return assoc


def _closed(assoc: Any) -> bool:
    ring, wake = assoc.dul._pacs_wakeup
    return bool(ring.fileno() == -1 and wake.fileno() == -1)


def test_many_round_trips_then_release(server: tuple[Any, list[Any]]) -> None:
    srv, seen = server
    assoc = _requestor(srv)
    assert assoc.dul._run_loop_delay == 0  # polling replaced on our side
    statuses = [assoc.send_c_echo().Status for _ in range(200)]
    assert statuses == [0] * 200
    assoc.release()
    assert assoc.is_released
    assert _closed(assoc)
    (acceptor,) = seen
    acceptor.join(timeout=5)
    assert not acceptor.is_alive()
    assert acceptor.dul._run_loop_delay == 0
    assert acceptor._pacs_messages is acceptor.dimse.msg_queue
    assert _closed(acceptor)


def test_abort_ends_both_sides(server: tuple[Any, list[Any]]) -> None:
    srv, seen = server
    assoc = _requestor(srv)
    assoc.abort()
    assert assoc.is_aborted
    (acceptor,) = seen
    acceptor.join(timeout=5)
    assert not acceptor.is_alive()


def test_idle_association_still_answers(server: tuple[Any, list[Any]]) -> None:
    """An association that waited longer than the select bound wakes for the next message."""
    srv, _ = server
    assoc = _requestor(srv)
    threading.Event().wait(wakeup.IDLE * 5)
    assert assoc.send_c_echo().Status == 0
    assoc.release()


def test_attach_is_idempotent(server: tuple[Any, list[Any]]) -> None:
    srv, _ = server
    assoc = _requestor(srv)
    pair = assoc.dul._pacs_wakeup
    wakeup.attach(assoc)
    assert assoc.dul._pacs_wakeup is pair
    assert assoc.send_c_echo().Status == 0
    assoc.release()


def test_server_contexts_copy_cheaply_and_independently() -> None:
    """pynetdicom deep-copies the server's contexts per association; ours copy in a fraction of
    the time and a copy's changes never reach the server's own."""
    import copy

    from pacs.dicom.ae import build_ae, quick_copy_contexts
    from pacs.settings import DicomSettings

    ae = build_ae(DicomSettings())
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        before = [(cx.abstract_syntax, list(cx.transfer_syntax)) for cx in server.contexts]
        quick_copy_contexts(server)
        copies = copy.deepcopy(server.contexts)
        assert [(cx.abstract_syntax, list(cx.transfer_syntax)) for cx in copies] == before
        copies[0].transfer_syntax = ["1.2.840.10008.1.2"]
        copies[0].context_id = 1
        assert server.contexts[0].transfer_syntax == before[0][1]
        assert server.contexts[0].context_id is None
        assert len(before) > 100  # every storage class, Q/R and verification
    finally:
        server.shutdown()
