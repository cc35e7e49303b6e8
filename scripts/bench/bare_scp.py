"""Bare pynetdicom Storage SCP: the "only writes the received bytes" baseline.

Accepts every storage SOP class with every transfer syntax, sets TCP_NODELAY on each accepted
socket and writes each C-STORE data set, with preamble + DICM + file meta, straight to
``DIR/<SOPInstanceUID>.dcm``. No parsing, no fsync, no index.

With ``--durable`` it is the floor of any durable store instead: data sets stream to a spool
file (pynetdicom's chunked mode), which is fsynced, renamed into DIR and the folder fsynced
before the answer. Still no parsing and no index.

    .venv/bin/python scripts/bench/bare_scp.py --port 11113 --dir /tmp/out [--ae BARE] [--durable]
"""

from __future__ import annotations

import argparse
import functools
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

from pynetdicom import (
    AE,
    ALL_TRANSFER_SYNTAXES,
    AllStoragePresentationContexts,
    _config,
    dimse_messages,
    evt,
)
from pynetdicom.events import Event
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]


def _on_open(event: Event) -> None:
    event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _store_handler(out: Path) -> Callable[[Event], int]:
    def on_store(event: Event) -> int:
        path = out / f"{event.request.AffectedSOPInstanceUID}.dcm"
        with path.open("wb") as f:
            f.write(event.encoded_dataset(include_meta=True))
        return 0x0000

    return on_store


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _durable_handler(out: Path) -> Callable[[Event], int]:
    def on_store(event: Event) -> int:
        spooled = Path(event.dataset_path)
        _fsync(spooled)
        os.replace(spooled, out / f"{event.request.AffectedSOPInstanceUID}.dcm")
        _fsync(out)
        return 0x0000

    return on_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--ae", default="BARE")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--durable", action="store_true", help="spool, fsync, rename, fsync dir")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    handler = _store_handler(args.dir)
    if args.durable:
        spool = args.dir / ".spool"
        spool.mkdir(exist_ok=True)
        _config.STORE_RECV_CHUNKED_DATASET = True
        dimse_messages.NamedTemporaryFile = functools.partial(  # type: ignore[attr-defined]
            tempfile.NamedTemporaryFile, dir=str(spool)
        )
        handler = _durable_handler(args.dir)

    ae = AE(ae_title=args.ae)
    ae.maximum_pdu_size = 131072
    ae.maximum_associations = 32
    ae.acse_timeout = 60
    ae.dimse_timeout = 600
    ae.network_timeout = 600
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification, ALL_TRANSFER_SYNTAXES)
    handlers = [(evt.EVT_CONN_OPEN, _on_open), (evt.EVT_C_STORE, handler)]
    ae.start_server((args.host, args.port), block=True, evt_handlers=handlers)


if __name__ == "__main__":
    main()
