"""The application entity: presentation contexts, timeouts and pynetdicom settings, set once."""

from __future__ import annotations

import functools
import socket
import tempfile
from pathlib import Path
from typing import Any

from pydicom.uid import AllTransferSyntaxes
from pynetdicom import AE, AllStoragePresentationContexts, _config, dimse_messages, evt
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from pacs.dicom import commands, wakeup
from pacs.dicom.handlers import identifier
from pacs.settings import DicomSettings

# Uncompressed first: it is what peers prefer when they offer several.
TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.2",
    *[
        str(uid)
        for uid in AllTransferSyntaxes
        if str(uid) not in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2")
    ],
]


QUERY_RETRIEVE = (
    "1.2.840.10008.5.1.4.1.2.1.1",  # Patient Root FIND
    "1.2.840.10008.5.1.4.1.2.1.2",  # Patient Root MOVE
    "1.2.840.10008.5.1.4.1.2.1.3",  # Patient Root GET
    "1.2.840.10008.5.1.4.1.2.2.1",  # Study Root FIND
    "1.2.840.10008.5.1.4.1.2.2.2",  # Study Root MOVE
    "1.2.840.10008.5.1.4.1.2.2.3",  # Study Root GET
)


def configure_pynetdicom(spool: Path) -> None:
    """Process-wide pynetdicom settings: stream C-STORE datasets to files in our spool (on the
    storage filesystem, so placing them is a rename) instead of holding them in memory."""
    _config.STORE_RECV_CHUNKED_DATASET = True
    # a C-STORE of a file path streams the file from disk (C-MOVE/C-GET sub-operations)
    _config.STORE_SEND_CHUNKED_DATASET = True
    # pynetdicom formats every query identifier for its log even when nothing is logged: about
    # a tenth of the cost of each C-FIND match
    _config.LOG_REQUEST_IDENTIFIERS = False
    _config.LOG_RESPONSE_IDENTIFIERS = False
    # C-FIND matches arrive encoded already (see identifier.py); command sets are written
    # without pydicom's general writer (see commands.py)
    identifier.install()
    commands.install()
    # an acceptor's reactor waits for its next request instead of polling (see wakeup.py)
    wakeup.install()
    # pynetdicom opens its spool files with tempfile.NamedTemporaryFile and offers no setting
    # for the folder; point its module-level name at our spool.
    dimse_messages.NamedTemporaryFile = functools.partial(  # type: ignore[assignment,attr-defined]
        tempfile.NamedTemporaryFile, dir=str(spool)
    )


def build_ae(settings: DicomSettings) -> Any:
    ae = AE(ae_title=settings.ae_title)
    ae.maximum_pdu_size = settings.max_pdu
    ae.maximum_associations = settings.max_associations
    ae.acse_timeout = settings.acse_timeout
    ae.dimse_timeout = settings.dimse_timeout
    ae.network_timeout = settings.network_timeout
    # outbound (C-MOVE destinations): a host that drops packets must not hold a move for the
    # operating system's TCP timeout
    ae.connection_timeout = settings.acse_timeout
    if settings.allowed_calling_aets:
        ae.require_calling_aet = list(settings.allowed_calling_aets)
    for cx in AllStoragePresentationContexts:
        # both roles: peers store to us, and a C-GET requestor takes our C-STOREs as SCP
        ae.add_supported_context(
            str(cx.abstract_syntax), TRANSFER_SYNTAXES, scu_role=True, scp_role=True
        )
    ae.add_supported_context(Verification, TRANSFER_SYNTAXES)
    for uid in QUERY_RETRIEVE:
        ae.add_supported_context(uid, TRANSFER_SYNTAXES[:3])
    return ae


def tune_connection(event: Any) -> None:
    """EVT_CONN_OPEN: without TCP_NODELAY peers stall ~40 ms per message (Nagle); without
    `wakeup` pynetdicom's transport thread notices each message up to 1 ms late."""
    sock = event.assoc.dul.socket.socket
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wakeup.attach(event.assoc)


def release_connection(event: Any) -> None:
    """EVT_CONN_CLOSE: undo what `tune_connection` holds open."""
    wakeup.detach(event.assoc)


CONNECTION_EVENTS = [
    (evt.EVT_CONN_OPEN, tune_connection),
    (evt.EVT_CONN_CLOSE, release_connection),
]


class _QuickCopyContext(PresentationContext):
    """A presentation context whose deep copy is a shallow one with its own transfer-syntax
    list: every other value it holds (UIDs, ints, None) is immutable. pynetdicom deep-copies
    the server's contexts for every association it accepts, and for our 177 contexts that
    took 30 ms: most of the time to set up an association, which a modality sending one image
    per association pays for every image."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _QuickCopyContext:
        new: _QuickCopyContext = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._transfer_syntax = list(self._transfer_syntax)
        return new


def quick_copy_contexts(server: Any) -> None:
    """Make the contexts ``server`` copies for each association cheap to copy."""
    contexts = []
    for cx in server.contexts:
        quick: _QuickCopyContext = object.__new__(_QuickCopyContext)
        quick.__dict__.update(cx.__dict__)
        contexts.append(quick)
    server.contexts = contexts
