"""C-STORE: the dataset already sits in the spool (pynetdicom streamed it there); hand its path to
the storage writer and answer with what the writer reports, only after it is stored and indexed."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from pacs.dicom.handlers.status import failure
from pacs.errors import PacsError
from pacs.messages import Source, StoreRequest
from pacs.runtime import rpc
from pacs.runtime.portal import Portal
from pacs.storage.writer import StoreOutbox

log = logging.getLogger("pacs.dicom.store")


def handle_store(event: Any, portal: Portal, store: StoreOutbox, timeout: float) -> int | Dataset:
    request = event.request
    req = StoreRequest(
        path=Path(event.dataset_path),
        source=Source.DICOM,
        calling_ae=str(event.assoc.requestor.ae_title).strip(),
        sop_class_uid=str(request.AffectedSOPClassUID or ""),
        sop_instance_uid=str(request.AffectedSOPInstanceUID or ""),
    )
    try:
        portal.run(functools.partial(rpc.call, store, req, timeout=timeout, what="storage"))
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
