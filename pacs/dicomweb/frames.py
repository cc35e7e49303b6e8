"""Frames and bulk data of a stored instance (PS3.18 10.4.1.1.4-5). Thread-only.

A native frame travels as raw little-endian bytes, an encapsulated one as its bare codestream
(fragments joined, no item tags). Which syntax a client gets is decided by `plan`: the stored
one when it takes it, else one the imaging actor converts to first."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import attrs
import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames

from pacs.errors import BadRenderRequest, InvalidDataset, NotFound, UnsupportedConversion
from pacs.http.mediatypes import Offer
from pacs.imaging import syntaxes as ts

OCTET = "application/octet-stream"
# The media type of each encapsulated syntax's codestream, and what each type defaults to.
CODESTREAM_TYPES = {
    ts.JPEG_BASELINE: "image/jpeg",
    ts.JPEG_EXTENDED: "image/jpeg",
    ts.JPEG_LOSSLESS: "image/jpeg",
    ts.JPEG_LOSSLESS_SV1: "image/jpeg",
    ts.JPEG_LS_LOSSLESS: "image/jls",
    ts.JPEG_LS_NEAR: "image/jls",
    ts.J2K_LOSSLESS: "image/jp2",
    ts.J2K: "image/jp2",
    ts.HTJ2K_LOSSLESS: "image/jphc",
    ts.HTJ2K_LOSSLESS_RPCL: "image/jphc",
    ts.HTJ2K: "image/jphc",
    ts.RLE: "image/x-dicom-rle",
}
DEFAULT_SYNTAX = {
    "image/jpeg": ts.JPEG_LOSSLESS_SV1,
    "image/jls": ts.JPEG_LS_LOSSLESS,
    "image/jp2": ts.J2K_LOSSLESS,
    "image/jphc": ts.HTJ2K_LOSSLESS,
    "image/x-dicom-rle": ts.RLE,
    OCTET: ts.EXPLICIT_LE,
}
PART_TYPES = (OCTET, *dict.fromkeys(CODESTREAM_TYPES.values()))
MULTIPART_OFFERS = tuple(Offer("multipart/related", part_type=t) for t in PART_TYPES)
SINGLE_OFFERS = tuple(Offer(t) for t in PART_TYPES)
DIRECT = frozenset({ts.EXPLICIT_LE, ts.IMPLICIT_LE})  # native syntaxes sliced as stored


@attrs.frozen(kw_only=True)
class Plan:
    """What to send: frames in ``syntax`` as ``media_type`` parts; ``convert``: the stored file
    must be converted to ``syntax`` first."""

    media_type: str
    syntax: str
    convert: bool


def plan(part_type: str, asked: str | None, stored: str) -> Plan:
    """``asked``: the range's transfer-syntax (None absent, ``*`` as stored)."""
    if asked == "*" or (asked is None and part_type != OCTET):
        wanted = stored if _fits(part_type, stored) else DEFAULT_SYNTAX[part_type]
    else:
        wanted = asked or DEFAULT_SYNTAX[part_type]
    if wanted in DIRECT:
        if part_type != OCTET:
            raise UnsupportedConversion(f"{part_type} frames cannot be uncompressed")
        # Implicit and explicit VR little endian frames are the same bytes.
        return Plan(media_type=OCTET, syntax=ts.EXPLICIT_LE, convert=stored not in DIRECT)
    media = CODESTREAM_TYPES.get(wanted)
    if media is None:
        raise UnsupportedConversion(f"frames cannot be sent in transfer syntax {wanted}")
    if part_type not in (OCTET, media):
        raise UnsupportedConversion(f"transfer syntax {wanted} frames are {media}, not {part_type}")
    return Plan(media_type=part_type, syntax=wanted, convert=wanted != stored)


def _fits(part_type: str, stored: str) -> bool:
    if part_type == OCTET:
        return stored in DIRECT or stored in CODESTREAM_TYPES
    return CODESTREAM_TYPES.get(stored) == part_type


def parse_numbers(text: str) -> list[int]:
    """``1,3,5`` → [1, 3, 5] (1-based); 400 on anything else."""
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError:
        raise BadRenderRequest(f"frame list {text!r}: expected numbers like 1,3,5") from None
    if not numbers or min(numbers) < 1:
        raise BadRenderRequest(f"frame list {text!r}: frame numbers start at 1")
    return numbers


def _dataset(source: Path | bytes) -> Dataset:
    try:
        return pydicom.dcmread(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        raise InvalidDataset(f"cannot read the stored instance: {exc}") from exc


def frames(source: Path | bytes, numbers: Sequence[int] | None) -> list[bytes]:
    """The frames ``numbers`` (1-based; None: all) of a Part 10 file or its bytes."""
    ds = _dataset(source)
    if "PixelData" not in ds:
        raise BadRenderRequest("this instance has no pixel data")
    count = int(ds.get("NumberOfFrames", 1) or 1)
    wanted = list(numbers) if numbers is not None else list(range(1, count + 1))
    beyond = [n for n in wanted if n > count]
    if beyond:
        raise BadRenderRequest(f"frame {beyond[0]} asked; this instance has {count}")
    if str(ds.file_meta.TransferSyntaxUID) in DIRECT:
        size = _frame_size(ds)
        data = bytes(ds.PixelData)
        return [data[(n - 1) * size : n * size] for n in wanted]
    stream = list(generate_frames(ds.PixelData, number_of_frames=count))
    return [stream[n - 1] for n in wanted]


def _frame_size(ds: Dataset) -> int:
    samples = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1) or 1)
    bits = int(ds.BitsAllocated)
    return (samples * bits + 7) // 8


def bulk_value(path: Path, tag_path: str) -> bytes:
    """The bytes of the binary value at ``tag_path`` (``7FE00010`` or ``00880200/0/7FE00010``)."""
    ds: Dataset = _dataset(path)
    parts = tag_path.split("/")
    try:
        for seq_tag, index in zip(parts[:-1:2], parts[1:-1:2], strict=True):
            ds = ds[int(seq_tag, 16)].value[int(index)]
        value = ds[int(parts[-1], 16)].value
    except (KeyError, IndexError, ValueError):
        raise NotFound(f"no bulk data at {tag_path}") from None
    if not isinstance(value, bytes):
        raise BadRenderRequest(f"{tag_path} is not binary data")
    return value
