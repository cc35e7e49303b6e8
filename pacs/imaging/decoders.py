"""Frame decoders on imagecodecs, registered with pydicom as a decoding plugin.

pydicom prefers pylibjpeg's decoders, which hold the GIL and are several times slower than the
libjpeg-turbo / CharLS / OpenJPH builds in imagecodecs (already a pacs dependency for encoding).
The functions here follow pydicom's plugin contract: return the frame's samples as bytes in the
colour space the runner's Photometric Interpretation names, pixel-interleaved, in a container
sized for the stream's precision, and leave sign correction and colour conversion to pydicom.
Any error here makes pacs decode the data set again with pydicom's own choice of plugin.

J2K (.90/.91) stays with pydicom's default: OpenJPEG is behind both, at about the same speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imagecodecs
from numpy.typing import NDArray
from pydicom import uid
from pydicom.pixels.decoders.base import DecodeRunner, get_decoder

LABEL = "pacs-imagecodecs"
# Runner option pacs sets (with as_rgb=False) to have lossy colour JPEG decoded straight to RGB by
# libjpeg-turbo: pydicom then sees YBR data it was told not to convert, and passes it through.
YCC_TO_RGB = "pacs_ycc_to_rgb"

JPEG_LOSSY = frozenset({uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit})
JPEG_LOSSLESS = frozenset({uid.JPEGLossless, uid.JPEGLosslessSV1})
JPEG_LS = frozenset({uid.JPEGLSLossless, uid.JPEGLSNearLossless})
HTJ2K = frozenset({uid.HTJ2KLossless, uid.HTJ2KLosslessRPCL, uid.HTJ2K})
SYNTAXES = JPEG_LOSSY | JPEG_LOSSLESS | JPEG_LS | HTJ2K
YBR_FULL = frozenset({"YBR_FULL", "YBR_FULL_422"})


def _checked(arr: NDArray[Any], runner: DecodeRunner) -> NDArray[Any]:
    """The decoder's array, if it has the frame's geometry: a stream that disagrees with the data
    set is left to pydicom's default plugin, which has its own answer for it."""
    samples = runner.samples_per_pixel
    want = (runner.rows, runner.columns) if samples == 1 else (runner.rows, runner.columns, samples)
    if arr.shape != want:
        raise ValueError(f"decoded shape {arr.shape}, the data set says {want}")
    if arr.dtype.kind not in "ui":
        raise ValueError(f"decoded samples of type {arr.dtype}")
    if samples > 1:
        runner.set_option("planar_configuration", 0)
    return arr


def _sized(arr: NDArray[Any], runner: DecodeRunner) -> bytes:
    """Samples in the container pydicom will read them with: the stream's precision for JPEG-LS
    and HTJ2K (pydicom sizes those by precision), Bits Allocated for JPEG."""
    if runner.transfer_syntax in JPEG_LS or runner.transfer_syntax in HTJ2K:
        runner.set_option("bits_allocated", 8 * arr.dtype.itemsize)
    elif 8 * arr.dtype.itemsize != runner.bits_allocated:
        if runner.bits_allocated not in (8, 16, 32):
            raise ValueError(f"Bits Allocated {runner.bits_allocated}")
        arr = arr.astype(f"u{runner.bits_allocated // 8}")
    return arr.tobytes()


def _jpeg_colorspaces(runner: DecodeRunner) -> tuple[str | None, str | None]:
    """libjpeg-turbo guesses the stream's colour space from markers; pydicom decides it from the
    Photometric Interpretation (conformed to the stream). Naming both spaces keeps the samples
    as pydicom means them: unconverted, unless pacs asked for RGB from YBR."""
    if runner.samples_per_pixel != 3:
        return None, None
    if runner.transfer_syntax in JPEG_LOSSLESS:
        return "RGB", "RGB"  # lossless JPEG has no colour transform
    if runner.photometric_interpretation in YBR_FULL:
        out = "RGB" if runner.get_option(YCC_TO_RGB, False) else "YCbCr"
        return "YCbCr", out
    if runner.photometric_interpretation == "RGB":
        return "RGB", "RGB"
    raise ValueError(f"JPEG colour in {runner.photometric_interpretation}")


def decode_jpeg(src: bytes, runner: DecodeRunner) -> bytes:
    """JPEG baseline, extended and lossless through libjpeg-turbo (8 to 16 bits). Signed
    lossless samples come back as their bit patterns, as from pylibjpeg."""
    colorspace, outcolorspace = _jpeg_colorspaces(runner)
    arr = imagecodecs.jpeg8_decode(src, colorspace=colorspace, outcolorspace=outcolorspace)
    return _sized(_checked(arr, runner), runner)


def decode_jpegls(src: bytes, runner: DecodeRunner) -> bytes:
    """JPEG-LS through CharLS: unsigned samples pixel-interleaved whatever the interleave mode;
    pydicom sign-extends them by the stream's precision."""
    arr = imagecodecs.jpegls_decode(src)
    return _sized(_checked(arr, runner), runner)


def decode_htj2k(src: bytes, runner: DecodeRunner) -> bytes:
    """HTJ2K through OpenJPH. A colour transform in the stream is undone by the decoder, so the
    samples are RGB, as pydicom's default plugin reports them too."""
    arr = imagecodecs.htj2k_decode(src, planar=False)
    arr = _checked(arr, runner)
    if runner.photometric_interpretation in ("YBR_ICT", "YBR_RCT"):
        runner.set_option("photometric_interpretation", "RGB")
    return _sized(arr, runner)


_FUNCTIONS: dict[str, tuple[frozenset[uid.UID], Callable[[bytes, DecodeRunner], bytes]]] = {
    "decode_jpeg": (JPEG_LOSSY | JPEG_LOSSLESS, decode_jpeg),
    "decode_jpegls": (JPEG_LS, decode_jpegls),
    "decode_htj2k": (HTJ2K, decode_htj2k),
}


# pydicom's plugin contract: what each syntax needs, and whether it is there
DECODER_DEPENDENCIES = {tsyntax: ("imagecodecs>=2024.1",) for tsyntax in SYNTAXES}


def is_available(tsyntax: str) -> bool:
    return tsyntax in SYNTAXES


def register() -> None:
    """Add the plugin to pydicom's decoders once; pydicom keeps its own plugins, and only uses
    this one when asked for it by name."""
    for name, (syntaxes, _) in _FUNCTIONS.items():
        for tsyntax in syntaxes:
            decoder = get_decoder(tsyntax)
            if LABEL not in decoder.available_plugins:
                decoder.add_plugin(LABEL, (__name__, name))


def handles(tsyntax: str) -> bool:
    return tsyntax in SYNTAXES


def to_rgb_in_codec(tsyntax: str, photometric: str) -> bool:
    """Whether libjpeg-turbo, rather than pydicom's numpy code, turns YBR into RGB."""
    return tsyntax in JPEG_LOSSY and photometric in YBR_FULL
