"""Bookkeeping after lossy coding (PS3.3 C.7.6.1.1.5): Lossy Image Compression, its ratio and
method, appended to any earlier lossy history rather than replacing it."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.valuerep import DSfloat

from pacs.imaging.pixels import PixelFormat
from pacs.imaging.syntaxes import Syntax


def original_size(fmt: PixelFormat) -> int:
    return fmt.rows * fmt.columns * fmt.samples * fmt.frames * max(1, fmt.bits_allocated // 8)


def _as_list(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str | DSfloat | float | int):
        return [str(value)]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def mark(ds: Dataset, syntax: Syntax, before: int) -> None:
    encoded = _encoded_size(ds)
    ratio = before / encoded if encoded else 0.0
    ds.LossyImageCompression = "01"
    ratios = [*_as_list(ds.get("LossyImageCompressionRatio")), f"{ratio:.4g}"]
    methods = [*_as_list(ds.get("LossyImageCompressionMethod")), syntax.method]
    ds.LossyImageCompressionRatio = ratios if len(ratios) > 1 else ratios[0]
    ds.LossyImageCompressionMethod = methods if len(methods) > 1 else methods[0]


def _encoded_size(ds: Dataset) -> int:
    value = ds.get("PixelData")
    return len(value) if isinstance(value, bytes | bytearray) else 0
