"""Rendering one frame of an image object for display: JPEG or PNG bytes.

One options object serves every caller: WADO-URI (``contentType``, ``rows``, ``columns``,
``windowCenter``/``windowWidth``, ``frameNumber``, ``imageQuality``), DICOMweb rendered resources
(``viewport``, ``window``, ``quality``, the frame in the path) and console thumbnails (a size
box). ``RenderOptions.frame`` is a 0-based index; the 1-based frame numbers of the web and command
line edges are translated by ``wado_uri_options``/``rendered_options`` and by the CLI.

``render`` is pure and thread-safe; its only failures are ``ImagingError`` (the pixel data cannot
be shown, 422) and ``BadRenderRequest`` (the request does not fit the object, 400)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, Literal, TypeGuard, get_args

import attrs
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pydicom.dataset import Dataset

from pacs.errors import BadRenderRequest, ImagingError, PacsError
from pacs.imaging.lut import Window, display
from pacs.imaging.pixels import decoded, has_pixels

ImageFormat = Literal["jpeg", "png"]
FORMATS: tuple[ImageFormat, ...] = get_args(ImageFormat)
MEDIA_TYPES: dict[ImageFormat, str] = {"jpeg": "image/jpeg", "png": "image/png"}
DEFAULT_QUALITY = 90
MAX_SIDE = 8192  # an upscaled output larger than this is refused: it is a request for memory
PNG_COMPRESS_LEVEL = 3  # zlib level: ~10% larger than 6 for a quarter less time

WindowLike = Window | tuple[float, float] | tuple[float, float, str]


def _as_window(value: WindowLike | None) -> Window | None:
    """Callers may give ``(center, width)`` or ``(center, width, function)``."""
    if value is None or isinstance(value, Window):
        return value
    return Window(*value)


def is_format(value: str) -> TypeGuard[ImageFormat]:
    return value in FORMATS


@attrs.frozen(kw_only=True)
class RenderOptions:
    """What to render and how. ``frame`` is 0-based. ``rows``/``columns`` bound the output height
    and width (either may be absent); the aspect ratio is always kept and the image is never made
    larger than the frame unless ``upscale``. ``window`` overrides the object's VOI; it is in
    modality units (after rescale) and ignored for colour images. ``quality`` is JPEG's 1-100."""

    frame: int = 0
    fmt: ImageFormat = "jpeg"
    quality: int = DEFAULT_QUALITY
    window: Window | None = attrs.field(default=None, converter=_as_window)
    rows: int | None = None
    columns: int | None = None
    upscale: bool = False

    def __attrs_post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise BadRenderRequest(problem)

    def _problem(self) -> str:
        if self.frame < 0:
            return f"frame index {self.frame} is negative (frame numbers start at 1)"
        if self.fmt not in FORMATS:
            return f"unknown image format {self.fmt!r} (expected {' or '.join(FORMATS)})"
        if not 1 <= self.quality <= 100:
            return f"quality {self.quality} is outside 1-100"
        for name, side in (("rows", self.rows), ("columns", self.columns)):
            if side is not None and not 1 <= side <= MAX_SIDE:
                return f"{name} {side} is outside 1-{MAX_SIDE}"
        return self.window.problem() if self.window is not None else ""

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]


def frame_count(ds: Dataset) -> int:
    """How many frames ``ds`` holds: 0 without pixel data, else Number of Frames (at least 1).
    Valid ``RenderOptions.frame`` values are 0 .. frame_count - 1."""
    if not has_pixels(ds):
        return 0
    try:
        return max(1, int(ds.get("NumberOfFrames") or 1))
    except (TypeError, ValueError) as exc:
        raise ImagingError(f"invalid Number of Frames {ds.get('NumberOfFrames')!r}") from exc


def render(ds: Dataset, options: RenderOptions | None = None) -> bytes:
    """One frame of ``ds`` as JPEG or PNG bytes (``options.media_type`` says which).

    Any failure below (decoder, numpy, Pillow, malformed attributes) is the object's fault and
    comes out as ImagingError, so an edge never has to know those libraries' exceptions."""
    opts = options or RenderOptions()
    try:
        image = _image(ds, opts)
        return _encode(image, opts)
    except PacsError:
        raise
    except Exception as exc:  # deliberately broad: see the docstring
        raise ImagingError(
            f"cannot render frame {opts.frame + 1}: {type(exc).__name__}: {exc}"
        ) from exc


def _image(ds: Dataset, opts: RenderOptions) -> Image.Image:
    count = frame_count(ds)
    if count == 0:
        raise ImagingError("the object has no pixel data")
    if opts.frame >= count:
        raise BadRenderRequest(
            f"frame {opts.frame + 1} does not exist: the object has {count} frame(s)"
        )
    arr = _decode(ds, opts.frame)
    pixels = display(arr, ds, opts.frame, opts.window)
    image = Image.fromarray(np.ascontiguousarray(pixels))
    size = fit_size(image.width, image.height, opts.columns, opts.rows, upscale=opts.upscale)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return image


def _decode(ds: Dataset, frame: int) -> NDArray[Any]:
    """Only the requested frame is decoded; YBR comes back as RGB whatever the encoding."""
    try:
        return decoded(ds, as_rgb=True, index=frame)
    except ImagingError as exc:
        raise ImagingError(f"frame {frame + 1}: {exc.message}") from exc


def _encode(image: Image.Image, opts: RenderOptions) -> bytes:
    out = io.BytesIO()
    if opts.fmt == "jpeg":
        image.save(out, format="JPEG", quality=opts.quality)
    else:
        image.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def fit_size(
    width: int, height: int, max_width: int | None, max_height: int | None, *, upscale: bool = False
) -> tuple[int, int]:
    """The largest size with the aspect ratio of ``width`` x ``height`` inside the box (a missing
    side does not constrain); the original size when it already fits and ``upscale`` is off."""
    scales = [bound / side for bound, side in ((max_width, width), (max_height, height)) if bound]
    if not scales:
        return width, height
    scale = min(scales)
    if scale >= 1 and not upscale:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


# -- request parameters -> options ------------------------------------------------------------


def format_for(media_type: str) -> ImageFormat | None:
    """``image/jpeg`` -> ``jpeg``; None for a media type this module does not produce."""
    base = media_type.split(";", 1)[0].strip().lower()
    return next((fmt for fmt, mt in MEDIA_TYPES.items() if mt == base), None)


def wado_uri_options(query: Mapping[str, str]) -> RenderOptions:
    """PS3.18 WADO-URI parameters -> options. ``frameNumber`` is 1-based; ``windowCenter`` and
    ``windowWidth`` come together or not at all; ``rows``/``columns`` bound the output."""
    media = query.get("contentType") or MEDIA_TYPES["jpeg"]
    fmt = format_for(media)
    if fmt is None:
        raise BadRenderRequest(f"contentType {media!r} cannot be rendered (image/jpeg, image/png)")
    center, width = query.get("windowCenter"), query.get("windowWidth")
    if (center is None) != (width is None):
        raise BadRenderRequest("windowCenter and windowWidth must be given together")
    window = None
    if center is not None and width is not None:
        window = Window(_number("windowCenter", center), _number("windowWidth", width))
    return RenderOptions(
        frame=_frame_index(query.get("frameNumber")),
        fmt=fmt,
        quality=_integer("imageQuality", query.get("imageQuality"), DEFAULT_QUALITY),
        window=window,
        rows=_optional_integer("rows", query.get("rows")),
        columns=_optional_integer("columns", query.get("columns")),
    )


def rendered_options(
    query: Mapping[str, str], *, fmt: ImageFormat = "jpeg", frame_number: int | None = None
) -> RenderOptions:
    """PS3.18 rendered-resource parameters -> options: ``viewport=vw,vh`` (cropping with
    ``sx,sy,sw,sh`` is not supported), ``window=center,width,function`` (``linear``,
    ``linear-exact``, ``sigmoid``), ``quality``. ``frame_number`` (from the path) is 1-based."""
    rows = columns = None
    if query.get("viewport"):
        parts = query["viewport"].split(",")
        if len(parts) != 2:
            raise BadRenderRequest("viewport must be vw,vh (cropping is not supported)")
        columns = _optional_integer("viewport width", parts[0].strip() or None)
        rows = _optional_integer("viewport height", parts[1].strip() or None)
    window = None
    if query.get("window"):
        window = parse_window(query["window"])
    return RenderOptions(
        frame=_frame_index(None if frame_number is None else str(frame_number)),
        fmt=fmt,
        quality=_integer("quality", query.get("quality"), DEFAULT_QUALITY),
        window=window,
        rows=rows,
        columns=columns,
    )


def parse_window(text: str) -> Window:
    """``center,width`` or ``center,width,function`` -> Window (BadRenderRequest if malformed)."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) not in (2, 3):
        raise BadRenderRequest(f"window {text!r} must be center,width[,function]")
    window = Window(_number("window center", parts[0]), _number("window width", parts[1]))
    if len(parts) == 3:
        window = attrs.evolve(window, function=parts[2])
    problem = window.problem()
    if problem:
        raise BadRenderRequest(problem)
    return window


def _frame_index(number: str | None) -> int:
    return _integer("frame number", number, 1) - 1


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise BadRenderRequest(f"{name} {text!r} is not a number") from None


def _integer(name: str, text: str | None, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRenderRequest(f"{name} {text!r} is not an integer") from None


def _optional_integer(name: str, text: str | None) -> int | None:
    return None if text is None or text == "" else _integer(name, text, 0)
