"""Decoded samples -> 8-bit display values.

Greyscale follows PS3.3 C.11: modality LUT (rescale or Modality LUT Sequence), then a VOI
transformation (a window, a VOI LUT Sequence, or an automatic window), then MONOCHROME1 inversion.
Colour becomes 8-bit RGB: RGB and YBR arrive as RGB from the decoder, palette colour goes through
its lookup tables. Everything is vectorised numpy; the data set is only read, never modified, so
frames of one object can be rendered from several threads at once."""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, apply_voi

from pacs.errors import ImagingError

FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
# The automatic window ignores the extreme tails (padding, metal, hot pixels) that would otherwise
# squeeze the anatomy into a few grey levels; it is estimated on a subsample to stay cheap.
AUTO_PERCENTILES = (0.5, 99.5)
AUTO_SAMPLE = 65_536
# Attributes an enhanced multi-frame object keeps per frame (or shared) in functional groups.
FRAME_GROUPS = (
    ("PixelValueTransformationSequence", ("RescaleSlope", "RescaleIntercept")),
    ("FrameVOILUTSequence", ("WindowCenter", "WindowWidth", "VOILUTFunction")),
)
MODALITY_KEYWORDS = ("ModalityLUTSequence", "RescaleSlope", "RescaleIntercept")
VOI_KEYWORDS = ("WindowCenter", "WindowWidth", "VOILUTFunction")

Image8 = NDArray[np.uint8]


def _function_name(value: str) -> str:
    """DICOMweb spells the functions ``linear-exact``; the VOI LUT Function attribute
    ``LINEAR_EXACT``. Both are accepted."""
    return str(value).strip().upper().replace("-", "_")


@attrs.frozen
class Window:
    """A VOI window in modality units (after rescale) and its PS3.3 C.11.2.1 function."""

    center: float
    width: float
    function: str = attrs.field(default="LINEAR", converter=_function_name)

    def problem(self) -> str:
        """Why this window cannot be applied, or '' when it can. A request's window with a
        problem is the client's error; a file's is ignored in favour of the next VOI source."""
        if not (math.isfinite(self.center) and math.isfinite(self.width)):
            return "window centre and width must be finite numbers"
        if self.function not in FUNCTIONS:
            return f"unknown VOI LUT function {self.function!r} (expected {', '.join(FUNCTIONS)})"
        if self.function == "LINEAR" and self.width < 1:
            return f"window width {self.width:g} is below 1, the minimum for LINEAR"
        if self.width <= 0:
            return f"window width {self.width:g} must be greater than 0"
        return ""


def windowed(values: NDArray[Any], window: Window) -> Image8:
    """Apply ``window`` straight into 0..255 with the formulas of PS3.3 C.11.2.1.2 (LINEAR) and
    C.11.2.1.3 (LINEAR_EXACT, SIGMOID). Both linear forms are continuous at the window edges, so
    clipping the ramp equals the standard's piecewise definition."""
    c, w = window.center, window.width
    if window.function == "LINEAR" and w == 1:  # a step: the ramp has zero length
        step: Image8 = np.where(values > c - 0.5, 255, 0).astype(np.uint8)
        return step
    if window.function == "LINEAR":
        c, w = c - 0.5, w - 1
    y: NDArray[np.float64] = np.subtract(values, c, dtype=np.float64)
    y /= w
    if window.function == "SIGMOID":
        np.multiply(y, -4.0, out=y)
        np.clip(y, -60.0, 60.0, out=y)  # beyond this the result rounds to 0 or 255 anyway
        np.exp(y, out=y)
        y += 1.0
        np.reciprocal(y, out=y)
    else:
        y += 0.5
    np.clip(y, 0.0, 1.0, out=y)
    y *= 255.0
    np.rint(y, out=y)
    return y.astype(np.uint8)


def frame_view(ds: Dataset, frame: int) -> Dataset:
    """The modality and VOI attributes that apply to ``frame``. Enhanced multi-frame objects keep
    them in functional groups (per-frame before shared) instead of the top level, where pydicom's
    LUT helpers look; the returned data set puts them there. Without groups it is ``ds``."""
    lifted = _group_attributes(ds, frame)
    if not lifted:
        return ds
    view = Dataset()
    for keyword in (*MODALITY_KEYWORDS, *VOI_KEYWORDS):
        if keyword in lifted:
            view.add(lifted[keyword])
        elif keyword in ds:
            view.add(ds[keyword])
    if hasattr(ds, "file_meta"):  # LUT data in OW needs the byte order
        view.file_meta = ds.file_meta
    return view


def _group_attributes(ds: Dataset, frame: int) -> dict[str, Any]:
    """Elements found in the frame's functional groups, the per-frame one taking precedence."""
    groups = (
        _item(ds, "PerFrameFunctionalGroupsSequence", frame),
        _item(ds, "SharedFunctionalGroupsSequence", 0),
    )
    found: dict[str, Any] = {}
    for group in groups:
        for sequence, keywords in FRAME_GROUPS:
            item = _item(group, sequence, 0)
            for keyword in keywords:
                if item is not None and keyword in item:
                    found.setdefault(keyword, item[keyword])
    return found


def _item(ds: Dataset | None, keyword: str, index: int) -> Dataset | None:
    items = ds.get(keyword) if ds is not None else None
    if not items or index >= len(items):
        return None
    item: Dataset = items[index]
    return item


def file_window(view: Dataset) -> Window | None:
    """The first window the object declares, if it is usable (PS3.3 C.11.2: several windows are
    alternatives, the first is the default one)."""
    if "WindowCenter" not in view or "WindowWidth" not in view:
        return None
    function = str(view.get("VOILUTFunction") or "LINEAR")
    try:
        window = Window(_first(view.WindowCenter), _first(view.WindowWidth), function)
    except (TypeError, ValueError, IndexError):
        return None
    return None if window.problem() else window


def _first(value: Any) -> float:
    if isinstance(value, str | bytes | int | float):
        return float(value)
    return float(value[0])  # a multi-valued DS


def auto_window(values: NDArray[Any], ds: Dataset) -> Window:
    """A window for objects that declare none. Data of at most 8 stored bits with no rescale is
    shown over its full range (an 8-bit secondary capture appears as stored); anything else is
    stretched between robust percentiles of its modality values."""
    bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 16)
    if np.issubdtype(values.dtype, np.integer) and bits <= 8:
        signed = int(ds.get("PixelRepresentation") or 0) == 1
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    else:
        flat = values.reshape(-1)
        sample = flat[:: max(1, flat.size // AUTO_SAMPLE)]
        lo, hi = (float(v) for v in np.percentile(sample, AUTO_PERCENTILES))
        if hi <= lo:  # nearly constant: fall back to the full extent
            lo, hi = float(flat.min()), float(flat.max())
    if hi <= lo:  # constant: any window shows it as black
        return Window(lo + 0.5, 1.0, "LINEAR_EXACT")
    return Window((lo + hi) / 2, hi - lo, "LINEAR_EXACT")


def voi_lut(values: NDArray[Any], ds: Dataset) -> Image8:
    """The first VOI LUT Sequence item, scaled from its declared output depth to 8 bits."""
    item = ds.VOILUTSequence[0]
    entries, first, bits = (int(v) for v in item.LUTDescriptor)
    entries = entries or 65_536
    inputs = np.rint(values) if np.issubdtype(values.dtype, np.floating) else values
    # Clipped here: the helper narrows to the LUT's integer type before clipping.
    inputs = np.clip(inputs, first, first + entries - 1).astype(np.int64)
    out = apply_voi(inputs, ds)
    return _scaled(out, bits)


def _scaled(values: NDArray[Any], bits: int) -> Image8:
    """Unsigned values of ``bits`` bits -> 0..255, rounded."""
    if bits == 8 and values.dtype == np.uint8:
        return values
    top = float(2**bits - 1)
    out: NDArray[np.float64] = np.multiply(values, 255.0 / top, dtype=np.float64)
    np.clip(out, 0.0, 255.0, out=out)
    np.rint(out, out=out)
    return out.astype(np.uint8)


def grey(arr: NDArray[Any], ds: Dataset, frame: int, window: Window | None) -> Image8:
    """One greyscale frame -> 8-bit display values. ``window`` (from the request) wins over the
    object's window, which wins over its VOI LUT Sequence, which wins over the automatic one."""
    view = frame_view(ds, frame)
    values: NDArray[Any] = apply_modality_lut(arr, view)
    if np.issubdtype(values.dtype, np.floating) and not np.isfinite(values).all():
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    chosen = window or file_window(view)
    if chosen is not None:
        out = windowed(values, chosen)
    elif ds.get("VOILUTSequence"):
        out = voi_lut(values, ds)
    else:
        out = windowed(values, auto_window(values, ds))
    if _photometric(ds) == "MONOCHROME1":
        inverted: Image8 = np.subtract(np.uint8(255), out)
        out = inverted
    return out


def colour(arr: NDArray[Any], ds: Dataset) -> NDArray[np.uint8]:
    """One colour frame -> 8-bit RGB. The decoder already returns RGB for RGB and the YBR family
    (any planar configuration); palette colour indices are looked up here."""
    photometric = _photometric(ds)
    if photometric == "PALETTE COLOR" and arr.ndim == 2:
        rgb = apply_color_lut(arr, ds)[..., :3]  # an alpha table, if any, is not shown
        bits = 16 if rgb.dtype == np.uint16 else 8
    elif arr.ndim == 3 and arr.shape[-1] == 3:
        rgb = arr
        bits = int(ds.get("BitsStored") or arr.dtype.itemsize * 8)
    else:
        samples = arr.shape[-1] if arr.ndim == 3 else 1
        raise ImagingError(f"cannot display {photometric} with {samples} sample(s) per pixel")
    return _scaled(rgb, bits)


def _photometric(ds: Dataset) -> str:
    return str(ds.get("PhotometricInterpretation") or "MONOCHROME2").strip().upper()


def is_colour(ds: Dataset) -> bool:
    return int(ds.get("SamplesPerPixel") or 1) > 1 or _photometric(ds) == "PALETTE COLOR"


def display(arr: NDArray[Any], ds: Dataset, frame: int, window: Window | None) -> Image8:
    """A decoded frame -> (rows, columns) grey or (rows, columns, 3) RGB, both uint8. A window
    has no meaning for colour and is ignored there."""
    if is_colour(ds):
        return colour(arr, ds)
    if arr.ndim != 2:
        raise ImagingError(f"a greyscale frame should be 2-D, the decoder returned {arr.shape}")
    return grey(arr, ds, frame, window)
