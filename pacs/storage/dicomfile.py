"""Reading the header of a stored or spooled Part 10 file. Thread-only: blocking file I/O.

Only the header is parsed (elements stay raw, pixel data is never read); a cheap structural check
catches truncated objects whose pixel data is shorter than it claims."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from pacs.errors import InvalidDataset

UNDEFINED = 0xFFFFFFFF
DEFLATED = "1.2.840.10008.1.2.1.99"
PIXEL_TAGS = {(0x7FE0, 0x0010), (0x7FE0, 0x0008), (0x7FE0, 0x0009)}
LONG_VRS = {
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"SQ",
    b"SV",
    b"UC",
    b"UN",
    b"UR",
    b"UT",
    b"UV",
}


def read_header(path: Path) -> Dataset:
    """Parse everything before the pixel data; raise InvalidDataset for anything unreadable."""
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as fp:
            ds = dcmread(fp, stop_before_pixels=True, defer_size=1 << 16)
            if ds.file_meta.get("TransferSyntaxUID") != DEFLATED:  # offsets are inflated ones
                _check_elements(ds, size, at_pixels=fp.tell() < size)
                _check_pixel_length(fp, ds, size)
    except InvalidDicomError as exc:
        raise InvalidDataset(f"not a DICOM file: {exc}") from exc
    except InvalidDataset:
        raise
    except (
        EOFError,
        ValueError,
        struct.error,
        KeyError,
        TypeError,
        AttributeError,
        NotImplementedError,
        OSError,
        LookupError,
    ) as exc:
        raise InvalidDataset(f"cannot parse dataset: {type(exc).__name__}: {exc}") from exc
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        raise InvalidDataset("file meta information lacks Transfer Syntax UID")
    return ds


def _check_elements(ds: Dataset, size: int, *, at_pixels: bool) -> None:
    """Every element must end inside the file; without pixel data the last one must end where
    the file ends (pydicom stops quietly at a cut value or a partial element header)."""
    last_end = 0
    undefined_last = False
    for tag in ds.keys():  # noqa: SIM118 (iterating a Dataset would convert each element)
        elem = ds.get_item(tag)
        tell, length = getattr(elem, "value_tell", None), getattr(elem, "length", None)
        if tell is None or length is None:
            continue
        if length == UNDEFINED:
            undefined_last = True
            continue
        if tell + length > size:
            raise InvalidDataset(
                f"truncated: element {tag} claims {length} bytes, file holds {size - tell}"
            )
        last_end, undefined_last = max(last_end, tell + length), False
    if not at_pixels and not undefined_last and last_end and last_end != size:
        raise InvalidDataset(f"dataset ends inside an element header ({size - last_end} bytes)")


def _check_pixel_length(fp: BinaryIO, ds: Dataset, size: int) -> None:
    """After stop_before_pixels the file sits at the pixel element's tag: compare its declared
    length with what is really there."""
    here = fp.tell()
    if here >= size:
        return
    little = ds.original_encoding[1] if ds.original_encoding[1] is not None else True
    implicit = ds.original_encoding[0] if ds.original_encoding[0] is not None else False
    head = fp.read(12)
    if len(head) < 8:
        raise InvalidDataset("dataset ends inside an element header")
    order = "<" if little else ">"
    group, elem = struct.unpack(order + "HH", head[:4])
    if (group, elem) not in PIXEL_TAGS:
        return
    if implicit:
        length, start = struct.unpack(order + "L", head[4:8])[0], here + 8
    elif head[4:6] in LONG_VRS:
        length, start = struct.unpack(order + "L", head[8:12])[0], here + 12
    else:
        length, start = struct.unpack(order + "H", head[6:8])[0], here + 8
    if length != 0xFFFFFFFF and start + length > size:
        raise InvalidDataset(
            f"truncated: pixel data claims {length} bytes, file holds {size - start}"
        )
