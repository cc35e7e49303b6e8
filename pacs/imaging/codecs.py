"""Frame encoders for the syntaxes pydicom cannot write well (JPEG processes 1, 2/4 and 14,
JPEG-LS, JPEG 2000 with small frames, HTJ2K), built on imagecodecs (libjpeg-turbo, CharLS,
OpenJPEG, OpenJPH). pydicom's own encoder covers RLE; ``ENCODERS`` says which syntax goes where."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imagecodecs
import jpeg_ls
import numpy as np
from numpy.typing import NDArray

from pacs.errors import ImagingError
from pacs.imaging import syntaxes as ts
from pacs.imaging.pixels import PixelFormat

FrameEncoder = Callable[[NDArray[Any], PixelFormat, int], bytes]

# Syntaxes pydicom's Dataset.compress() writes, and the plugin it must use for them.
PYDICOM_ENCODED = {ts.RLE: "pylibjpeg"}


def _unsigned(frame: NDArray[Any], fmt: PixelFormat) -> NDArray[Any]:
    """JPEG codes sample bit patterns: signed samples go in as their two's complement, cut to
    Bits Stored, and come back sign-extended by the decoder's caller."""
    if not fmt.signed:
        return frame
    width = np.uint8 if fmt.bits_allocated == 8 else np.uint16
    mask = (1 << fmt.bits_stored) - 1
    return (frame.astype(np.int32) & mask).astype(width)


def _jpeg_lossy(frame: NDArray[Any], fmt: PixelFormat, quality: int) -> bytes:
    if fmt.samples == 3:  # RGB in, YCbCr 4:2:2 out: what YBR_FULL_422 declares
        return bytes(
            imagecodecs.jpeg8_encode(
                frame, level=quality, colorspace="RGB", outcolorspace="YCbCr", subsampling="422"
            )
        )
    bits = 12 if fmt.bits_stored > 8 else 8
    data = frame.astype(np.uint16 if bits == 12 else np.uint8)
    return bytes(imagecodecs.jpeg8_encode(data, level=quality, bitspersample=bits))


def _jpeg_lossless(frame: NDArray[Any], fmt: PixelFormat, _quality: int) -> bytes:
    """Process 14, selection value 1: a valid .57 stream and the only .70 one. Colour is coded
    without any transform (lossless means as stored); YCbCr samples are coded the same way and
    then labelled as YCbCr, because the encoder's own YCbCr lossless path is not exact."""
    space = "RGB" if fmt.samples == 3 else None
    stream = bytes(
        imagecodecs.jpeg8_encode(
            _unsigned(frame, fmt),
            lossless=True,
            predictor=1,
            bitspersample=fmt.bits_stored,
            colorspace=space,
            outcolorspace=space,
        )
    )
    if fmt.samples == 3 and fmt.photometric.startswith("YBR"):
        return relabel_ycbcr(stream)
    return stream


RGB_IDS = {0x52: 1, 0x47: 2, 0x42: 3}  # component ids "R", "G", "B" -> 1, 2, 3


def relabel_ycbcr(stream: bytes) -> bytes:
    """Give an untransformed three-component stream the component ids 1-3 and drop the APP14
    segment that declares RGB, so decoders take the samples as the YCbCr they are."""
    out = bytearray(stream[:2])
    pos = 2
    while pos + 4 <= len(stream) and stream[pos] == 0xFF:
        marker = stream[pos + 1]
        end = pos + 2 + int.from_bytes(stream[pos + 2 : pos + 4], "big")
        segment = bytearray(stream[pos:end])
        if marker == 0xEE:  # APP14
            pos = end
            continue
        if marker == 0xC3:  # SOF3: ids at 10, 13, 16
            for at in range(10, 10 + 3 * segment[9], 3):
                segment[at] = RGB_IDS.get(segment[at], segment[at])
        if marker == 0xDA:  # SOS: ids at 5, 7, 9, then the entropy-coded data follows
            for at in range(5, 5 + 2 * segment[4], 2):
                segment[at] = RGB_IDS.get(segment[at], segment[at])
            return bytes(out + segment + stream[end:])
        out += segment
        pos = end
    raise ImagingError("unexpected JPEG stream layout from the lossless encoder")


def _jpeg_ls(near: bool) -> FrameEncoder:
    """CharLS at the precision of Bits Stored (what decoders sign-extend signed samples from).
    Its output buffer guess can be too small for tiny noisy frames; those go through the
    16-bit-precision encoder, whose streams decode to the same values. The NEAR parameter for
    .81 comes from quality (100 -> 1, 1 -> 10)."""

    def encode(frame: NDArray[Any], fmt: PixelFormat, quality: int) -> bytes:
        error = max(1, round((100 - quality) / 11) + 1) if near else 0
        data = _unsigned(frame, fmt)
        try:
            return bytes(
                jpeg_ls.encode_buffer(
                    data.tobytes(), fmt.rows, fmt.columns, fmt.samples, fmt.bits_stored,
                    lossy_error=error, interleave_mode=2 if fmt.samples == 3 else 0,
                )
            )  # fmt: skip
        except RuntimeError:
            wide = frame.view(np.uint16) if frame.dtype.itemsize == 2 else data
            return bytes(imagecodecs.jpegls_encode(wide, error))

    return encode


def _resolutions(fmt: PixelFormat) -> int:
    """Wavelet levels the frame size allows (small frames cannot take the usual six)."""
    return max(1, min(6, min(fmt.rows, fmt.columns).bit_length()))


def _j2k(reversible: bool) -> FrameEncoder:
    """JPEG 2000 code stream, no colour transform (the photometric interpretation stays as it
    is); lossy quality maps to a target PSNR of 30-70 dB."""

    def encode(frame: NDArray[Any], fmt: PixelFormat, quality: int) -> bytes:
        level = None if reversible else 30 + (2 * quality) // 5
        return bytes(
            imagecodecs.jpeg2k_encode(
                frame,
                level,
                codecformat="J2K",
                reversible=reversible,
                mct=False,
                bitspersample=fmt.bits_stored,
                resolutions=_resolutions(fmt),
            )
        )

    return encode


def _htj2k(reversible: bool) -> FrameEncoder:
    """HTJ2K code stream; lossy quality maps to a quantisation step of 10^(-q/25)."""

    def encode(frame: NDArray[Any], fmt: PixelFormat, quality: int) -> bytes:
        level = None if reversible else 10 ** (-quality / 25)
        return bytes(imagecodecs.htj2k_encode(frame, level, rgb=False, reversible=reversible))

    return encode


ENCODERS: dict[str, FrameEncoder] = {
    ts.JPEG_BASELINE: _jpeg_lossy,
    ts.JPEG_EXTENDED: _jpeg_lossy,
    ts.JPEG_LOSSLESS: _jpeg_lossless,
    ts.JPEG_LOSSLESS_SV1: _jpeg_lossless,
    ts.JPEG_LS_LOSSLESS: _jpeg_ls(near=False),
    ts.JPEG_LS_NEAR: _jpeg_ls(near=True),
    ts.J2K_LOSSLESS: _j2k(reversible=True),
    ts.J2K: _j2k(reversible=False),
    ts.HTJ2K_LOSSLESS: _htj2k(reversible=True),
    ts.HTJ2K: _htj2k(reversible=False),
}


def encodable(uid: str) -> bool:
    return uid in ENCODERS or uid in PYDICOM_ENCODED


def encode_frame(uid: str, frame: NDArray[Any], fmt: PixelFormat, quality: int) -> bytes:
    try:
        return ENCODERS[uid](frame, fmt, quality)
    except (ValueError, RuntimeError, TypeError, imagecodecs.DelayedImportError) as exc:
        raise ImagingError(f"encoding a frame failed: {exc}") from exc
    except Exception as exc:  # imagecodecs raises its own per-codec error classes
        if type(exc).__module__.startswith("imagecodecs"):
            raise ImagingError(f"encoding a frame failed: {exc}") from exc
        raise
