"""Transcoding a data set from its transfer syntax to another.

Native to native re-encodes the data set (byte order, VR encoding, deflate). Anything involving an
encapsulated syntax decodes the frames with pydicom's plugins and encodes them with pydicom's
encoders or ``codecs.ENCODERS``. The SOP Instance UID is kept: this is a change of encoding for a
peer or a viewer, not a new object (``new_uid_on_lossy`` asks for one after lossy coding)."""

from __future__ import annotations

import copy
import functools
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import UID, generate_uid
from rle.utils import decode_pixel_data as rle_decode

from pacs.errors import ImagingError, UnsupportedConversion
from pacs.imaging import codecs, lossy
from pacs.imaging import syntaxes as ts
from pacs.imaging.native import to_native
from pacs.imaging.pixels import PixelFormat, check_target, decoded, has_pixels, iter_decoded

DEFAULT_QUALITY = 90


@attrs.frozen(kw_only=True)
class TranscodeOptions:
    quality: int = DEFAULT_QUALITY  # 1-100 for every lossy codec (see codecs for the mapping)
    new_uid_on_lossy: bool = False


def transcode(ds: Dataset, target: str, options: TranscodeOptions | None = None) -> Dataset:
    """Return ``ds`` encoded in ``target``; ``ds`` itself is not modified."""
    opts = options or TranscodeOptions()
    tgt = _target(target)
    src_uid = _source_uid(ds)
    out = _shallow(ds)
    if not has_pixels(ds):
        return _relabel(out, tgt)
    src = ts.lookup(src_uid)
    if src is None:
        raise UnsupportedConversion(f"cannot read pixel data in transfer syntax {src_uid}")
    if src.kind is ts.Kind.VIDEO:
        raise UnsupportedConversion(f"video ({src_uid}) is only sent as stored")
    if src_uid == tgt.uid:
        return out
    if not src.encapsulated and not tgt.encapsulated:
        check_target(tgt, PixelFormat.of(ds))
        return to_native(out, src, tgt)
    if src.uid == ts.RLE and not tgt.encapsulated:
        native = _rle_to_native(ds, out)
        if tgt.uid == ts.EXPLICIT_LE:  # what RLE decodes to already
            return native
        return to_native(native, ts.SYNTAXES[ts.EXPLICIT_LE], tgt)
    return _via_pixels(ds, out, src, tgt, opts)


def _rle_to_native(ds: Dataset, out: Dataset) -> Dataset:
    """RLE decodes to the native bytes themselves (colour as planes, each frame in turn), so
    they become the pixel data without an array in between."""
    fmt = PixelFormat.of(ds)
    if fmt.bits_allocated not in (8, 16, 32):
        return _via_pixels(
            ds, out, ts.SYNTAXES[ts.RLE], ts.SYNTAXES[ts.EXPLICIT_LE], TranscodeOptions()
        )
    size: dict[str, Any] = {
        "rows": fmt.rows, "columns": fmt.columns, "bits_allocated": fmt.bits_allocated
    }  # fmt: skip
    try:
        frames: list[Any] = [
            rle_decode(frame, version=2, **size)
            for frame in generate_frames(ds.PixelData, number_of_frames=fmt.frames)
        ]
    except (ValueError, RuntimeError, TypeError) as exc:
        raise ImagingError(f"cannot decode the RLE pixel data: {exc}") from exc
    raw = b"".join(frames)
    if len(raw) != lossy.original_size(fmt):
        raise ImagingError("RLE pixel data decodes to the wrong size for its image attributes")
    if fmt.samples == 3:
        out.PlanarConfiguration = 1
    return _set_native(out, raw, fmt)


_EXPLICIT_LE = UID(ts.EXPLICIT_LE)


def _set_native(out: Dataset, raw: bytes, fmt: PixelFormat) -> Dataset:
    out.PixelData = raw
    out["PixelData"].VR = "OB" if fmt.bits_allocated <= 8 else "OW"
    out["PixelData"].is_undefined_length = False
    out.file_meta.TransferSyntaxUID = _EXPLICIT_LE
    return out


def supported_targets() -> list[str]:
    return [
        uid for uid, syn in ts.SYNTAXES.items() if not syn.encapsulated or codecs.encodable(uid)
    ]


def _target(uid: str) -> ts.Syntax:
    tgt = ts.lookup(uid)
    if tgt is None or tgt.kind is ts.Kind.VIDEO:
        raise UnsupportedConversion(f"cannot encode transfer syntax {uid or '(empty)'}")
    if tgt.encapsulated and not codecs.encodable(uid):
        raise UnsupportedConversion(f"no installed codec writes {tgt.name} ({uid})")
    return tgt


def _source_uid(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    uid = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if not uid:
        raise ImagingError("the data set has no Transfer Syntax UID in its file meta")
    return uid


def _shallow(ds: Dataset) -> Dataset:
    """A copy whose top-level elements can be set without touching ``ds``: pydicom assigns a new
    value into the existing element object, so each element object is copied; values (the pixel
    bytes included) are shared until replaced."""
    out = copy.copy(ds)
    out._dict = _element_copies(ds)
    meta = copy.copy(ds.file_meta) if "file_meta" in ds.__dict__ else FileMetaDataset()
    meta._dict = _element_copies(meta)
    out.file_meta = meta
    return out


def _element_copies(ds: Dataset) -> dict[Any, Any]:
    return {
        tag: _copy_element(elem) if isinstance(elem, DataElement) else elem
        for tag, elem in ds._dict.items()
    }


def _copy_element(elem: DataElement) -> DataElement:
    """A shallow copy, five times cheaper than copy.copy (which goes through __reduce_ex__)."""
    new: DataElement = object.__new__(DataElement)
    new.__dict__.update(elem.__dict__)
    return new


def _relabel(out: Dataset, tgt: ts.Syntax) -> Dataset:
    """No pixel data: only the data set encoding changes; encapsulated syntaxes encode the rest as
    explicit VR little endian, which is what the writer does for them."""
    if tgt.kind in (ts.Kind.NATIVE, ts.Kind.DEFLATED):
        src = ts.lookup(str(out.file_meta.TransferSyntaxUID)) or ts.SYNTAXES[ts.EXPLICIT_LE]
        if not src.encapsulated:
            return to_native(out, src, tgt)
    out.file_meta.TransferSyntaxUID = UID(tgt.uid)
    return out


def _via_pixels(
    ds: Dataset, out: Dataset, src: ts.Syntax, tgt: ts.Syntax, opts: TranscodeOptions
) -> Dataset:
    """Decode from ``ds`` (as stored), encode into ``out``. Lossy targets get RGB (they code
    colour as YCbCr themselves); lossless ones keep the stored colour space, so the round trip is
    exact. Frame encoders take one decoded frame at a time, so a long multi-frame object never
    sits in memory decoded."""
    as_rgb = _decode_as_rgb(ds, src, tgt)
    _set_decoded_photometric(out, as_rgb=as_rgb)
    fmt = PixelFormat.of(out)
    check_target(tgt, fmt)
    before = lossy.original_size(fmt)
    # only a lossy stream can decode beyond Bits Stored; checking costs a pass over the pixels
    fit = functools.partial(in_range, fmt=fmt) if src.lossy else _as_is
    if tgt.uid in codecs.ENCODERS:
        encoded = [
            codecs.encode_frame(tgt.uid, fit(frame), fmt, opts.quality)
            for frame in iter_decoded(ds, as_rgb=as_rgb)
        ]
        _encapsulate(out, encoded, fmt, tgt)
    else:
        arr = fit(decoded(ds, as_rgb=as_rgb))
        _native_pixels(out, arr, fmt)
        if not tgt.encapsulated:
            return to_native(out, ts.SYNTAXES[ts.EXPLICIT_LE], tgt)
        _pydicom_encode(out, arr, tgt)
    if tgt.lossy:
        lossy.mark(out, tgt, before)
        if opts.new_uid_on_lossy:
            out.SOPInstanceUID = generate_uid()
            out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    return out


# Colour spaces that only exist inside a compressed stream: decoded, they are RGB samples.
STREAM_COLOUR = frozenset({"YBR_FULL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT"})


def _decode_as_rgb(ds: Dataset, src: ts.Syntax, tgt: ts.Syntax) -> bool:
    """Lossy targets take RGB (they code colour as YCbCr themselves). Otherwise samples keep the
    stored colour space, so a lossless round trip is exact, except the subsampled or transformed
    spaces of compressed streams, which are decoded to RGB."""
    pi = str(ds.get("PhotometricInterpretation", "")).strip()
    if int(ds.get("SamplesPerPixel", 1)) != 3:
        return False
    return tgt.lossy or (src.encapsulated and pi in STREAM_COLOUR)


def _set_decoded_photometric(out: Dataset, *, as_rgb: bool) -> None:
    if int(out.get("SamplesPerPixel", 1)) != 3:
        return
    pi = str(out.get("PhotometricInterpretation", "")).strip()
    if as_rgb and pi.startswith("YBR"):
        out.PhotometricInterpretation = "RGB"
    elif pi == "YBR_FULL_422":
        out.PhotometricInterpretation = "YBR_FULL"  # native 4:2:2 comes back upsampled


def _as_is(arr: NDArray[Any]) -> NDArray[Any]:
    return arr


def in_range(arr: NDArray[Any], fmt: PixelFormat) -> NDArray[Any]:
    """Clip to what Bits Stored can hold: a lossy source may decode a little beyond it (a stream
    coded at a higher precision than Bits Stored), and a reader that masks to Bits Stored would
    wrap such a sample to the other end of the range. Lossless data is never changed."""
    if fmt.signed:
        low, high = -(1 << (fmt.bits_stored - 1)), (1 << (fmt.bits_stored - 1)) - 1
    else:
        low, high = 0, (1 << fmt.bits_stored) - 1
    if arr.size and (arr.min() < low or arr.max() > high):
        clipped: NDArray[Any] = np.clip(arr, low, high).astype(arr.dtype)
        return clipped
    return arr


def _native_pixels(out: Dataset, arr: NDArray[Any], fmt: PixelFormat) -> Dataset:
    """``out`` with the decoded pixels as native explicit VR little endian pixel data. Colour
    keeps the planar configuration the decoder's memory already has when it can (a decoder that
    returns planes, such as RLE's, would otherwise cost a strided copy as long as the decode)."""
    data = arr
    if fmt.samples == 3:
        planes = np.moveaxis(arr, -1, -3)
        planar = 1 if planes.flags.c_contiguous else fmt.planar
        data = planes if planar == 1 else arr
        if planar != fmt.planar:
            out.PlanarConfiguration = planar
    dtype = f"<{'i' if fmt.signed else 'u'}{max(1, fmt.bits_allocated // 8)}"
    return _set_native(out, np.ascontiguousarray(data).astype(dtype, copy=False).tobytes(), fmt)


def _pydicom_encode(native: Dataset, arr: NDArray[Any], tgt: ts.Syntax) -> None:
    plugin = codecs.PYDICOM_ENCODED[tgt.uid]
    try:
        native.compress(tgt.uid, arr, encoding_plugin=plugin, generate_instance_uid=False)
    except (ValueError, RuntimeError, TypeError, NotImplementedError) as exc:
        raise ImagingError(f"{tgt.name} encoding failed: {exc}") from exc


def _encapsulate(native: Dataset, frames: list[bytes], fmt: PixelFormat, tgt: ts.Syntax) -> None:
    native.PixelData = encapsulate(frames, has_bot=len(frames) > 1)
    native["PixelData"].VR = "OB"
    native["PixelData"].is_undefined_length = True
    if fmt.samples == 3:
        native.PlanarConfiguration = 0
        if tgt.lossy and tgt.uid in (ts.JPEG_BASELINE, ts.JPEG_EXTENDED):
            native.PhotometricInterpretation = "YBR_FULL_422"
    native.file_meta.TransferSyntaxUID = UID(tgt.uid)
