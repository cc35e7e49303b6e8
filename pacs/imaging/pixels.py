"""What the pixel data of a data set is, and whether a target syntax can hold it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.pixels.utils import iter_pixels, pixel_array

from pacs.errors import ImagingError, UnsupportedConversion
from pacs.imaging import decoders
from pacs.imaging.syntaxes import Syntax

decoders.register()

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
YBR_FAMILY = frozenset({"YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420"})
# Photometric interpretations a lossy codec may be given: it changes the values, so an index into
# a palette (or a segmentation label) must never go through one.
LOSSY_OK = frozenset({"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422"})


@attrs.frozen(kw_only=True)
class PixelFormat:
    rows: int
    columns: int
    samples: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    photometric: str
    planar: int
    frames: int

    @classmethod
    def of(cls, ds: Dataset) -> PixelFormat:
        # by tag, not keyword: this runs once per transcode, and keyword lookups were a
        # measurable part of decoding a small frame
        try:
            allocated = int(_value(ds, 0x00280100, "BitsAllocated"))
            return cls(
                rows=int(_value(ds, 0x00280010, "Rows")),
                columns=int(_value(ds, 0x00280011, "Columns")),
                samples=int(_value(ds, 0x00280002, default=1)),
                bits_allocated=allocated,
                bits_stored=int(_value(ds, 0x00280101, default=allocated)),
                signed=int(_value(ds, 0x00280103, default=0)) == 1,
                photometric=str(_value(ds, 0x00280004, default="MONOCHROME2")).strip(),
                planar=int(_value(ds, 0x00280006, default=0) or 0),
                frames=int(_value(ds, 0x00280008, default=1) or 1),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ImagingError(f"incomplete Image Pixel module: {exc}") from exc

    def describe(self) -> str:
        sign = "signed" if self.signed else "unsigned"
        return (
            f"{self.bits_stored}/{self.bits_allocated}-bit {sign} {self.photometric} "
            f"({self.samples} sample(s))"
        )


def _value(ds: Dataset, tag: int, required: str = "", default: object = None) -> Any:
    """The value at ``tag``; ``default`` when absent or empty, unless ``required`` names it."""
    elem = ds.get(tag)
    value = None if elem is None else elem.value
    if value is None or value == "":
        if required:
            raise ValueError(f"{required} is missing")
        return default
    return value


def has_pixels(ds: Dataset) -> bool:
    return any(keyword in ds for keyword in PIXEL_KEYWORDS)


def check_target(target: Syntax, fmt: PixelFormat) -> None:
    """Raise UnsupportedConversion when ``target`` cannot represent pixel data of ``fmt``."""
    reason = _refusal(target, fmt)
    if reason:
        raise UnsupportedConversion(
            f"{fmt.describe()} cannot be encoded as {target.name}: {reason}"
        )


def _refusal(target: Syntax, fmt: PixelFormat) -> str:
    if fmt.bits_stored > target.max_bits:
        return f"it holds at most {target.max_bits} bits per sample"
    if fmt.bits_allocated not in target.allocated:
        return f"it takes Bits Allocated {', '.join(map(str, target.allocated))}"
    if fmt.signed and not target.signed:
        return "it holds unsigned samples only"
    if fmt.samples == 3 and not target.colour:
        return "it holds greyscale only"
    if fmt.samples not in (1, 3):
        return f"{fmt.samples} samples per pixel are not supported"
    if target.lossy and fmt.photometric not in LOSSY_OK:
        return f"a lossy codec would corrupt {fmt.photometric} values"
    return ""


_CODEC_ERRORS = (ValueError, RuntimeError, NotImplementedError, TypeError, KeyError)
NATIVE_LE = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"})


def _native(ds: Dataset, *, as_rgb: bool) -> NDArray[Any] | None:
    """Little-endian 8/16-bit native pixels read straight from the element's bytes (always
    frames first), the unused high bits cleared or sign-extended as pydicom does; None for anything
    else (big endian, 1/32-bit, subsampled or to-be-converted colour), which pydicom decodes.
    Reading the buffer in place saves a copy and pydicom's per-call set-up on every frame."""
    meta = getattr(ds, "file_meta", None)
    value = ds.get("PixelData")
    if meta is None or str(meta.get("TransferSyntaxUID", "")) not in NATIVE_LE:
        return None
    fmt = PixelFormat.of(ds)
    colour_change = as_rgb and fmt.photometric.startswith("YBR")
    if fmt.bits_allocated not in (8, 16) or fmt.photometric == "YBR_FULL_422" or colour_change:
        return None
    if not isinstance(value, bytes | bytearray) or fmt.samples not in (1, 3):
        return None
    dtype = np.dtype(f"<{'i' if fmt.signed else 'u'}{fmt.bits_allocated // 8}")
    count = fmt.frames * fmt.rows * fmt.columns * fmt.samples
    if len(value) < count * dtype.itemsize:
        return None
    arr: NDArray[Any] = np.frombuffer(value, dtype=dtype, count=count)
    if fmt.samples == 3 and fmt.planar == 1:
        arr = np.moveaxis(arr.reshape(fmt.frames, 3, fmt.rows, fmt.columns), 1, -1)
    else:
        arr = arr.reshape(fmt.frames, fmt.rows, fmt.columns, *([3] if fmt.samples == 3 else []))
    shift = fmt.bits_allocated - fmt.bits_stored
    if shift > 0:
        arr = (arr << shift) >> shift if fmt.signed else arr & ((1 << fmt.bits_stored) - 1)
    return arr


def _fast(ds: Dataset, *, as_rgb: bool) -> dict[str, Any] | None:
    """pydicom options that pick pacs's imagecodecs plugin for ``ds``, or None when pydicom's own
    choice decodes it. For lossy colour JPEG wanted as RGB, libjpeg-turbo does the conversion and
    pydicom is told not to (its numpy conversion is a third of the decode time)."""
    meta = getattr(ds, "file_meta", None)
    tsyntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if not decoders.handles(tsyntax):
        return None
    photometric = str(ds.get("PhotometricInterpretation", "")).strip()
    in_codec = as_rgb and decoders.to_rgb_in_codec(tsyntax, photometric)
    return {
        "decoding_plugin": decoders.LABEL,
        "as_rgb": as_rgb and not in_codec,
        decoders.YCC_TO_RGB: in_codec,
    }


def decoded(ds: Dataset, *, as_rgb: bool, index: int | None = None) -> NDArray[Any]:
    """All frames as one array (frames first when more than one), or frame ``index`` alone;
    codec failures become
    ImagingError so the edges can answer them. A stream the imagecodecs plugin refuses is
    decoded again with pydicom's default plugin."""
    arr: NDArray[Any]
    native = _native(ds, as_rgb=as_rgb)
    if native is not None and (index is None or 0 <= index < len(native)):
        arr = native[index] if index is not None else native if len(native) > 1 else native[0]
        return arr
    try:
        fast = _fast(ds, as_rgb=as_rgb)
        if fast is not None:
            try:
                arr = pixel_array(ds, index=index, **fast)
                return arr
            except _CODEC_ERRORS:
                pass
        arr = pixel_array(ds, index=index, as_rgb=as_rgb)
    except _CODEC_ERRORS as exc:
        raise ImagingError(f"cannot decode the pixel data: {exc}") from exc
    return arr


def iter_decoded(ds: Dataset, *, as_rgb: bool) -> Iterator[NDArray[Any]]:
    """One decoded frame (rows, columns[, samples]) at a time; from a frame the imagecodecs plugin
    refuses on, pydicom's default plugin decodes the rest."""
    done = 0
    native = _native(ds, as_rgb=as_rgb)
    if native is not None:
        for frame in native:
            yield np.ascontiguousarray(frame)
        return
    try:
        fast = _fast(ds, as_rgb=as_rgb)
        if fast is not None:
            try:
                for frame in iter_pixels(ds, **fast):
                    yield np.ascontiguousarray(frame)
                    done += 1
                return
            except _CODEC_ERRORS:
                pass
        rest = range(done, int(ds.get("NumberOfFrames", 1) or 1)) if done else None
        for frame in iter_pixels(ds, indices=rest, as_rgb=as_rgb):
            yield np.ascontiguousarray(frame)
    except _CODEC_ERRORS as exc:
        raise ImagingError(f"cannot decode the pixel data: {exc}") from exc
