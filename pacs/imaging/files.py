"""Imaging work on stored files: read a Part 10 file, do one imaging operation, return the
result's bytes. Thread- or process-only (blocking file I/O and CPU-bound codecs); everything here
is picklable so the transcoder can run it in worker processes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from pacs.errors import ImagingError, InvalidDataset, PacsError
from pacs.imaging.deid import DeidOptions, deidentify
from pacs.imaging.render import render
from pacs.imaging.transcode import TranscodeOptions, transcode
from pacs.messages import AnonymizeRequest, RenderRequest, TranscodeRequest
from pacs.storage.dicomfile import read_header


def read_dataset(path: Path) -> Dataset:
    """The whole data set (pixel data included); unreadable input is InvalidDataset. pydicom
    reads a cut file without complaint, so the header's structural check runs first."""
    try:
        header = read_header(path) if path.exists() else None
    except InvalidDataset as exc:
        raise InvalidDataset(f"{path.name}: {exc.message}") from exc
    if header is not None and len(header) == 0:
        raise InvalidDataset(f"{path.name}: no data set after the file meta (truncated?)")
    try:
        ds = pydicom.dcmread(path)
    except FileNotFoundError as exc:
        raise ImagingError(f"{path.name}: file not found") from exc
    except InvalidDicomError as exc:
        raise InvalidDataset(f"{path.name}: not a DICOM file: {exc}") from exc
    except (OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        raise InvalidDataset(f"{path.name}: cannot read: {type(exc).__name__}: {exc}") from exc
    if not getattr(ds, "file_meta", {}).get("TransferSyntaxUID"):
        raise InvalidDataset(f"{path.name}: no Transfer Syntax UID in the file meta information")
    return ds


def part10_bytes(ds: Dataset) -> bytes:
    """``ds`` as a Part 10 file (preamble, file meta, data set in its file meta's syntax)."""
    buf = io.BytesIO()
    try:
        pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise ImagingError(f"cannot encode the data set: {type(exc).__name__}: {exc}") from exc
    return buf.getvalue()


def transcode_file(request: TranscodeRequest) -> bytes:
    ds = read_dataset(request.path)
    out = transcode(ds, request.transfer_syntax, TranscodeOptions(quality=request.quality))
    return part10_bytes(out)


def anonymize_file(request: AnonymizeRequest) -> bytes:
    out = deidentify(read_dataset(request.path), DeidOptions(secret=request.secret))
    if request.transfer_syntax:
        options = TranscodeOptions(quality=request.quality)
        out = transcode(out, request.transfer_syntax, options)
    return part10_bytes(out)


def render_file(request: RenderRequest) -> bytes:
    return render(read_dataset(request.path), request.options)


OPERATIONS: dict[type, Callable[[Any], bytes]] = {
    TranscodeRequest: transcode_file,
    RenderRequest: render_file,
    AnonymizeRequest: anonymize_file,
}


def perform(request: Any) -> bytes:
    """Run the operation ``request`` asks for. Expected failures are PacsErrors; anything else
    is a defect, reported as an ImagingError naming its type (it must cross a process)."""
    operation = OPERATIONS.get(type(request))
    if operation is None:
        raise ImagingError(f"unknown imaging request {type(request).__name__}")
    try:
        return operation(request)
    except PacsError:
        raise
    except Exception as exc:  # a codec's own error type, or a defect
        raise ImagingError(f"imaging failed: {type(exc).__name__}: {exc}") from None
