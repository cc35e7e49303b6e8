"""C-STORE: the dataset already sits in the spool (pynetdicom streamed it there). The association
thread places it durably itself (thread-only work, no hop), then hands it to the storage writer
through the portal and answers only after the writer reports it indexed."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from pydicom.dataset import Dataset

from pacs.dicom.handlers.status import failure
from pacs.errors import PacsError
from pacs.messages import PlacedFile, Source, StoreRequest
from pacs.runtime import rpc
from pacs.runtime.portal import Portal
from pacs.storage.writer import StoreOutbox

log = logging.getLogger("pacs.dicom.store")


@attrs.frozen(kw_only=True)
class StoreService:
    portal: Portal
    store: StoreOutbox
    place: Callable[[StoreRequest], PlacedFile]
    timeout: float


def handle_store(event: Any, service: StoreService) -> int | Dataset:
    request = event.request
    req = StoreRequest(
        path=Path(event.dataset_path),
        source=Source.DICOM,
        calling_ae=str(event.assoc.requestor.ae_title).strip(),
        sop_class_uid=str(request.AffectedSOPClassUID or ""),
        sop_instance_uid=str(request.AffectedSOPInstanceUID or ""),
    )
    try:
        req = attrs.evolve(req, placed=service.place(req))
        call = functools.partial(
            rpc.call, service.store, req, timeout=service.timeout, what="storage"
        )
        service.portal.run(call)
    except PacsError as exc:
        log.warning(
            "C-STORE %s from %s failed: 0x%04X %s",
            req.sop_instance_uid,
            req.calling_ae,
            exc.dimse_status,
            exc.message,
        )
        return failure(exc)
    return 0x0000
