"""Images of every pixel format the imaging layer must carry, made on the fly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from tests.dicomgen import SECONDARY_CAPTURE, make_ct


@dataclass(frozen=True)
class Fmt:
    name: str
    allocated: int = 16
    stored: int = 16
    signed: bool = False
    pi: str = "MONOCHROME2"
    planar: int = 0
    rows: int = 24
    columns: int = 20
    frames: int = 1

    @property
    def samples(self) -> int:
        return 3 if self.pi in ("RGB", "YBR_FULL", "YBR_FULL_422") else 1


FORMATS = [
    Fmt("u8", allocated=8, stored=8),
    Fmt("u12", stored=12),
    Fmt("s12", stored=12, signed=True),
    Fmt("u16", stored=16),
    Fmt("s16", stored=16, signed=True),
    Fmt("mono1-u12", stored=12, pi="MONOCHROME1"),
    Fmt("odd-u8", allocated=8, stored=8, rows=7, columns=5),
    Fmt("multi-s16", stored=16, signed=True, frames=3),
    Fmt("rgb-p0", allocated=8, stored=8, pi="RGB"),
    Fmt("rgb-p1", allocated=8, stored=8, pi="RGB", planar=1),
    Fmt("rgb-odd-multi", allocated=8, stored=8, pi="RGB", rows=9, columns=11, frames=2),
    Fmt("ybr-full", allocated=8, stored=8, pi="YBR_FULL"),
    Fmt("ybr-full-p1", allocated=8, stored=8, pi="YBR_FULL", planar=1),
    Fmt("ybr-422", allocated=8, stored=8, pi="YBR_FULL_422"),
    Fmt("palette-u8", allocated=8, stored=8, pi="PALETTE COLOR"),
    Fmt("palette-u16", stored=16, pi="PALETTE COLOR"),
]


def _values(fmt: Fmt, rng: np.random.Generator) -> NDArray[Any]:
    shape: tuple[int, ...] = (fmt.rows, fmt.columns)
    if fmt.samples == 3:
        shape = (*shape, 3)
    if fmt.frames > 1:
        shape = (fmt.frames, *shape)
    if fmt.signed:
        lo, hi = -(2 ** (fmt.stored - 1)), 2 ** (fmt.stored - 1)
    else:
        lo, hi = 0, 2**fmt.stored
    dtype = f"{'i' if fmt.signed else 'u'}{fmt.allocated // 8}"
    smooth = np.linspace(lo, hi - 1, num=int(np.prod(shape))).reshape(shape)
    noise = rng.integers(lo, hi, shape)
    # half smooth (compressible), half noise (exercises every bit)
    return np.where(rng.random(shape) < 0.5, smooth, noise).astype(dtype)


def _ybr_422_bytes(arr: NDArray[Any]) -> bytes:
    """Native YBR_FULL_422: per pair of pixels Y1 Y2 Cb Cr (chroma of the pair's first pixel)."""
    y = arr[..., 0]
    cb = arr[..., 0::2, 1]
    cr = arr[..., 0::2, 2]
    out = np.empty((*y.shape[:-1], y.shape[-1] * 2), dtype=np.uint8)
    out[..., 0::4] = y[..., 0::2]
    out[..., 1::4] = y[..., 1::2]
    out[..., 2::4] = cb
    out[..., 3::4] = cr
    return out.tobytes()


def _palette(ds: Dataset, fmt: Fmt) -> None:
    entries = 256 if fmt.stored == 8 else 4096
    first = 0
    lut = np.linspace(0, 65535, entries).astype("<u2")
    for colour, data in (("Red", lut), ("Green", lut[::-1].copy()), ("Blue", lut // 2)):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [entries % 65536, first, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", data.tobytes())


def make_image(fmt: Fmt, seed: int = 1) -> Dataset:
    """A Secondary Capture (or CT for greyscale) instance holding ``fmt`` pixels."""
    rng = np.random.default_rng(seed)
    arr = _values(fmt, rng)
    if fmt.pi == "PALETTE COLOR" and fmt.stored == 16:
        arr = (arr % 4096).astype(arr.dtype)
    ds = make_ct(rows=fmt.rows, columns=fmt.columns, bits=fmt.allocated)
    if fmt.samples == 3 or fmt.pi == "PALETTE COLOR":
        ds.SOPClassUID = SECONDARY_CAPTURE
        ds.file_meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
        ds.Modality = "OT"
    ds.SamplesPerPixel = fmt.samples
    ds.PhotometricInterpretation = fmt.pi
    ds.BitsStored, ds.HighBit = fmt.stored, fmt.stored - 1
    ds.PixelRepresentation = int(fmt.signed)
    if fmt.samples == 3:
        ds.PlanarConfiguration = fmt.planar
    if fmt.frames > 1:
        ds.NumberOfFrames = fmt.frames
    if fmt.pi == "PALETTE COLOR":
        _palette(ds, fmt)
    ds.PixelData = _encode(arr, fmt)
    ds["PixelData"].VR = "OB" if fmt.allocated == 8 else "OW"
    return ds


def _encode(arr: NDArray[Any], fmt: Fmt) -> bytes:
    if fmt.pi == "YBR_FULL_422":
        return _ybr_422_bytes(arr)
    if fmt.samples == 3 and fmt.planar == 1:
        axes = (0, 3, 1, 2) if fmt.frames > 1 else (2, 0, 1)
        arr = np.transpose(arr, axes)
    return np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
