"""Cross-validation of the codecs with independent implementations. Streams pacs writes are
decoded by DCMTK and GDCM; streams DCMTK and GDCM write are decoded, and transcoded into other
syntaxes, by pacs. Either way the pixels must be the original ones: exactly for lossless syntaxes,
and for lossy ones as close as the encoding side's own decoder gets them.

Combinations the tools themselves cannot handle are left out of the matrices (``TOOL_LIMITS``);
a failing case that is a defect of pacs is marked as a strict expected failure naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydicom.pixels import pixel_array

from pacs.imaging import syntaxes as ts
from pacs.imaging.transcode import transcode
from tests.imagegen import FORMATS
from tests.interop import (
    Tool,
    assert_exact,
    assert_lossy_interop,
    image,
    is_native,
    reread,
)

pytestmark = [
    pytest.mark.dcmtk,
    # pydicom notes that a tiny noisy frame compressed to the size of the raw pixels
    pytest.mark.filterwarnings("ignore:The number of bytes of compressed pixel data:UserWarning"),
]

# Decoders: DCMTK's +cn keeps YCbCr samples as stored, so lossless colour compares exactly.
DCMDJPEG = Tool("dcmdjpeg+cn", ("dcmdjpeg", "+cn"))
DCMDJPEG_RGB = Tool("dcmdjpeg", ("dcmdjpeg",))  # converts YCbCr to RGB, as a viewer would
DCMDJPEG_GUESS = Tool("dcmdjpeg+cg", ("dcmdjpeg", "+cg"))  # converts what the stream says is YCbCr
DCMDJPLS = Tool("dcmdjpls", ("dcmdjpls",))
DCMDRLE = Tool("dcmdrle", ("dcmdrle",))
DCMCONV = Tool("dcmconv+te", ("dcmconv", "+te"))
GDCM_RAW = Tool("gdcmconv--raw", ("gdcmconv", "--raw"))
# GDCM 3.0 has no HTJ2K transfer syntax, but the OpenJPEG (>= 2.5) it decodes JPEG 2000 with
# reads HTJ2K code streams: the frames are handed to it labelled as JPEG 2000.
GDCM_HTJ2K = Tool(
    "gdcmconv--raw(htj2k-as-j2k)",
    ("gdcmconv", "--raw"),
    relabel=((ts.HTJ2K_LOSSLESS, ts.J2K_LOSSLESS), (ts.HTJ2K, ts.J2K)),
)

# Encoders, with the transfer syntax each must write.
DCMCJPEG_SV1 = Tool("dcmcjpeg+e1", ("dcmcjpeg", "+e1"), ts.JPEG_LOSSLESS_SV1)
DCMCJPEG_SV6 = Tool("dcmcjpeg+el", ("dcmcjpeg", "+el"), ts.JPEG_LOSSLESS)  # predictor 6
DCMCJPLS = Tool("dcmcjpls", ("dcmcjpls",), ts.JPEG_LS_LOSSLESS)
DCMCRLE = Tool("dcmcrle", ("dcmcrle",), ts.RLE)
GDCM_JPEG = Tool("gdcmconv--jpeg", ("gdcmconv", "--jpeg"), ts.JPEG_LOSSLESS_SV1)
GDCM_JPEGLS = Tool("gdcmconv--jpegls", ("gdcmconv", "--jpegls"), ts.JPEG_LS_LOSSLESS)
GDCM_RLE = Tool("gdcmconv--rle", ("gdcmconv", "--rle"), ts.RLE)
GDCM_J2K = Tool("gdcmconv--j2k", ("gdcmconv", "--j2k"), ts.J2K_LOSSLESS)
DCMCJPEG_BASELINE = Tool("dcmcjpeg+eb", ("dcmcjpeg", "+eb"), ts.JPEG_BASELINE)
DCMCJPEG_EXTENDED = Tool("dcmcjpeg+ee", ("dcmcjpeg", "+ee"), ts.JPEG_EXTENDED)
DCMCJPLS_NEAR = Tool("dcmcjpls+en", ("dcmcjpls", "+en"), ts.JPEG_LS_NEAR)  # NEAR 2
# GDCM's default lossy J2K comes back exact on these images; PSNR target 60 dB is visibly lossy.
GDCM_J2K_LOSSY = Tool(
    "gdcmconv--j2k-q60", ("gdcmconv", "--quiet", "--j2k", "--lossy", "-q", "60"), ts.J2K
)

ALL = [fmt.name for fmt in FORMATS]
# pacs refuses to code palette indices lossily
NOT_PALETTE = [fmt.name for fmt in FORMATS if fmt.pi != "PALETTE COLOR"]
COLOUR = [fmt.name for fmt in FORMATS if fmt.samples == 3]
GREY_8 = ["u8", "odd-u8"]
UNSIGNED = [fmt.name for fmt in FORMATS if not fmt.signed]

# What the installed tools cannot do with these formats (not pacs's business, so not tested).
DCMTK_NO_422 = {"ybr-422": "DCMTK's encoders refuse native YBR_FULL_422"}
TOOL_LIMITS: dict[Tool, dict[str, str]] = {
    DCMCJPEG_SV1: DCMTK_NO_422,
    DCMCJPEG_SV6: DCMTK_NO_422,
    DCMCJPLS: DCMTK_NO_422,
    DCMCRLE: DCMTK_NO_422,
    GDCM_RLE: {"odd-u8": "gdcmRLECodec asserts 'partition % dims[1] == 0' on 7x5 frames"},
    GDCM_J2K: {
        "odd-u8": "gdcmconv crashes (SIGSEGV) on 7x5 frames",
        "rgb-odd-multi": "gdcmconv: 'Could not change the Transfer Syntax'",
    },
}
TOOL_LIMITS[GDCM_J2K_LOSSY] = TOOL_LIMITS[GDCM_J2K]


def short(uid: str) -> str:
    return uid.removeprefix("1.2.840.10008.")


def cases(
    rows: list[tuple[Any, ...]], xfails: dict[tuple[Any, str], pytest.MarkDecorator]
) -> list[Any]:
    """``rows`` of (syntaxes and tools..., format name) as parameters named after them, less
    what a tool in the row cannot do; a row whose (first, format) pair is in ``xfails`` carries
    that mark."""
    out = []
    for row in rows:
        fmt = row[-1]
        if any(fmt in TOOL_LIMITS.get(v, {}) for v in row if isinstance(v, Tool)):
            continue
        parts = [short(v) if isinstance(v, str) else str(v) for v in row[:-1]]
        mark = xfails.get((row[0], fmt))
        out.append(pytest.param(*row, id="-".join([*parts, fmt]), marks=[mark] if mark else []))
    return out


# -- ours -> theirs ------------------------------------------------------------------------------

LOSSLESS_DECODERS = {
    ts.JPEG_LOSSLESS: (DCMDJPEG, GDCM_RAW),
    ts.JPEG_LOSSLESS_SV1: (DCMDJPEG, GDCM_RAW),
    ts.JPEG_LS_LOSSLESS: (DCMDJPLS, GDCM_RAW),
    ts.RLE: (DCMDRLE, GDCM_RAW),
    ts.J2K_LOSSLESS: (GDCM_RAW,),
    ts.HTJ2K_LOSSLESS: (GDCM_HTJ2K,),
    ts.IMPLICIT_LE: (DCMCONV,),
    ts.EXPLICIT_LE: (DCMCONV,),
    ts.EXPLICIT_BE: (DCMCONV,),
    ts.DEFLATED_LE: (DCMCONV,),
}
OURS_LOSSLESS = [
    (uid, tool, fmt) for uid, tools in LOSSLESS_DECODERS.items() for tool in tools for fmt in ALL
]


@pytest.mark.parametrize(("target", "decoder", "fmt"), cases(OURS_LOSSLESS, {}))
def test_lossless_streams_we_write_decode_exactly_elsewhere(
    target: str, decoder: Tool, fmt: str, tmp_path: Path
) -> None:
    ds = image(fmt)
    theirs = decoder.convert(transcode(ds, target), tmp_path)
    assert is_native(theirs)
    assert_exact(ds, theirs)


@pytest.mark.parametrize("target", [ts.JPEG_LOSSLESS, ts.JPEG_LOSSLESS_SV1], ids=short)
@pytest.mark.parametrize("fmt", COLOUR)
def test_our_lossless_colour_streams_declare_their_colour_space(
    target: str, fmt: str, tmp_path: Path
) -> None:
    """With +cg DCMTK converts to RGB only what the stream's own markers say is YCbCr: RGB must
    stay as it is, YCbCr must come out as its RGB conversion (to within rounding)."""
    ds = image(fmt)
    theirs = DCMDJPEG_GUESS.convert(transcode(ds, target), tmp_path)
    assert theirs.PhotometricInterpretation == "RGB"
    want = pixel_array(ds, as_rgb=True)
    error = abs(want.astype(int) - pixel_array(theirs, as_rgb=False).astype(int))
    assert error.max() <= 1, f"differs from the original's RGB by up to {error.max()}"


LOSSY_DECODERS = {
    ts.JPEG_BASELINE: (DCMDJPEG_RGB, GREY_8 + COLOUR),
    ts.JPEG_EXTENDED: (DCMDJPEG_RGB, [*GREY_8, "u12", "mono1-u12"]),
    ts.JPEG_LS_NEAR: (DCMDJPLS, [n for n in NOT_PALETTE if n in UNSIGNED]),  # pacs refuses signed
    ts.J2K: (GDCM_RAW, NOT_PALETTE),
    ts.HTJ2K: (GDCM_HTJ2K, NOT_PALETTE),
}
OURS_LOSSY = [(uid, tool, fmt) for uid, (tool, fmts) in LOSSY_DECODERS.items() for fmt in fmts]


@pytest.mark.parametrize(("target", "decoder", "fmt"), cases(OURS_LOSSY, {}))
def test_lossy_streams_we_write_decode_as_well_elsewhere(
    target: str, decoder: Tool, fmt: str, tmp_path: Path
) -> None:
    ds = image(fmt)
    ours = reread(transcode(ds, target))
    theirs = decoder.convert(ours, tmp_path)
    assert is_native(theirs)
    assert_lossy_interop(ds, decoded=theirs, reference=ours, stream=ours)


# -- theirs -> ours ------------------------------------------------------------------------------

LOSSLESS_ENCODERS = (
    DCMCJPEG_SV1,
    DCMCJPEG_SV6,
    DCMCJPLS,
    DCMCRLE,
    GDCM_JPEG,
    GDCM_JPEGLS,
    GDCM_RLE,
    GDCM_J2K,
)
THEIRS_LOSSLESS = [(tool, fmt) for tool in LOSSLESS_ENCODERS for fmt in ALL]


@pytest.mark.parametrize(("encoder", "fmt"), cases(THEIRS_LOSSLESS, {}))
def test_lossless_streams_written_elsewhere_decode_exactly(
    encoder: Tool, fmt: str, tmp_path: Path
) -> None:
    ds = image(fmt)
    theirs = encoder.convert(ds, tmp_path)
    assert_exact(ds, reread(transcode(theirs, ts.EXPLICIT_LE)))


LOSSY_ENCODERS = (
    (DCMCJPEG_BASELINE, DCMDJPEG_RGB, GREY_8 + COLOUR),
    (DCMCJPEG_EXTENDED, DCMDJPEG_RGB, [*GREY_8, "u12", "mono1-u12", "rgb-p1"]),
    (DCMCJPLS_NEAR, DCMDJPLS, [n for n in NOT_PALETTE if n in UNSIGNED and n != "ybr-422"]),
    (GDCM_J2K_LOSSY, GDCM_RAW, NOT_PALETTE),
)
THEIRS_LOSSY = [(enc, dec, fmt) for enc, dec, fmts in LOSSY_ENCODERS for fmt in fmts]


@pytest.mark.parametrize(("encoder", "decoder", "fmt"), cases(THEIRS_LOSSY, {}))
def test_lossy_streams_written_elsewhere_decode_as_well(
    encoder: Tool, decoder: Tool, fmt: str, tmp_path: Path
) -> None:
    ds = image(fmt)
    theirs = encoder.convert(ds, tmp_path)
    reference = decoder.convert(theirs, tmp_path)
    ours = reread(transcode(theirs, ts.EXPLICIT_LE))
    assert_lossy_interop(ds, decoded=ours, reference=reference, stream=theirs)


# Their stream -> our other lossless syntax: back to native by pacs and by an independent decoder.
CHAINS = (
    (DCMCJPLS, ts.J2K_LOSSLESS),
    (GDCM_J2K, ts.JPEG_LS_LOSSLESS),
    (DCMCJPEG_SV6, ts.HTJ2K_LOSSLESS),
    (DCMCRLE, ts.JPEG_LOSSLESS_SV1),
    (GDCM_JPEGLS, ts.RLE),
    (DCMCJPEG_SV1, ts.JPEG_LOSSLESS),
)
THEIRS_TO_OURS = [
    (enc, uid, fmt) for enc, uid in CHAINS for fmt in ("s12", "multi-s16", "rgb-p1", "ybr-full-p1")
]


@pytest.mark.parametrize(("encoder", "target", "fmt"), cases(THEIRS_TO_OURS, {}))
def test_streams_written_elsewhere_transcode_exactly_into_ours(
    encoder: Tool, target: str, fmt: str, tmp_path: Path
) -> None:
    ds = image(fmt)
    ours = reread(transcode(encoder.convert(ds, tmp_path), target))
    assert str(ours.file_meta.TransferSyntaxUID) == target
    assert_exact(ds, reread(transcode(ours, ts.EXPLICIT_LE)))
    assert_exact(ds, LOSSLESS_DECODERS[target][0].convert(ours, tmp_path))
