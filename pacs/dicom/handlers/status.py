"""PacsError → DIMSE status dataset with an Error Comment."""

from __future__ import annotations

from pydicom.dataset import Dataset

from pacs.errors import PacsError


def failure(exc: PacsError) -> Dataset:
    status = Dataset()
    status.Status = exc.dimse_status
    status.ErrorComment = exc.message.encode("ascii", "replace").decode()[:64]
    return status
