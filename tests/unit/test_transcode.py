"""Transcoding: every lossless target returns the stored pixel values exactly, over the pixel
formats a PACS meets; lossy targets record their lossy history; impossible requests are typed."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments, parse_basic_offsets
from pydicom.pixels import pixel_array

from pacs.errors import ImagingError, UnsupportedConversion
from pacs.imaging import syntaxes as ts
from pacs.imaging.pixels import PixelFormat
from pacs.imaging.transcode import supported_targets, transcode
from tests.imagegen import FORMATS, Fmt, make_image

LOSSLESS = [uid for uid in supported_targets() if not ts.SYNTAXES[uid].lossy]


def reread(ds: Dataset) -> Dataset:
    """Write and read back: what a peer or a viewer would get."""
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def stored_values(ds: Dataset) -> np.ndarray:
    return pixel_array(ds, as_rgb=False)


@pytest.mark.parametrize("target", LOSSLESS, ids=lambda u: ts.SYNTAXES[u].name)
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_lossless_round_trip_is_exact(fmt: Fmt, target: str) -> None:
    ds = make_image(fmt)
    expected = stored_values(ds)
    out = reread(transcode(ds, target))
    assert str(out.file_meta.TransferSyntaxUID) == target
    assert "LossyImageCompression" not in out
    assert np.array_equal(stored_values(out), expected)
    back = reread(transcode(out, ts.EXPLICIT_LE))
    assert np.array_equal(stored_values(back), expected)


LOSSY_CASES = [
    ("u8", ts.JPEG_BASELINE, "ISO_10918_1", 12),
    ("rgb-p1", ts.JPEG_BASELINE, "ISO_10918_1", 40),
    ("u12", ts.JPEG_EXTENDED, "ISO_10918_1", 200),
    ("u16", ts.JPEG_LS_NEAR, "ISO_14495_1", 4),
    ("u16", ts.J2K, "ISO_15444_1", 3000),
    ("u12", ts.HTJ2K, "ISO_15444_15", 400),
]


@pytest.mark.parametrize(("name", "target", "method", "tolerance"), LOSSY_CASES)
def test_lossy_targets_record_their_history(
    name: str, target: str, method: str, tolerance: int
) -> None:
    fmt = next(f for f in FORMATS if f.name == name)
    ds = make_image(fmt)
    original = pixel_array(ds).astype(np.int64)
    out = reread(transcode(ds, target))
    assert out.LossyImageCompression == "01"
    assert out.LossyImageCompressionMethod == method
    assert float(out.LossyImageCompressionRatio) > 0
    assert out.SOPInstanceUID == ds.SOPInstanceUID
    assert np.abs(pixel_array(out).astype(np.int64) - original).mean() < tolerance
    if fmt.samples == 3:
        assert out.PhotometricInterpretation == "YBR_FULL_422"
        assert out.PlanarConfiguration == 0


def test_a_second_lossy_step_appends_to_the_history() -> None:
    ds = make_image(next(f for f in FORMATS if f.name == "u8"))
    once = reread(transcode(ds, ts.JPEG_BASELINE))
    twice = reread(transcode(once, ts.J2K))
    assert list(twice.LossyImageCompressionMethod) == ["ISO_10918_1", "ISO_15444_1"]
    assert len(twice.LossyImageCompressionRatio) == 2


@pytest.mark.parametrize(
    ("name", "target", "reason"),
    [
        ("u16", ts.JPEG_BASELINE, "at most 8 bits"),
        ("s12", ts.JPEG_EXTENDED, "unsigned samples only"),
        ("s16", ts.JPEG_LS_NEAR, "unsigned samples only"),
        ("rgb-p0", ts.JPEG_EXTENDED, "greyscale only"),
        ("palette-u8", ts.JPEG_BASELINE, "lossy codec would corrupt PALETTE COLOR"),
        ("u8", "1.2.3.4", "cannot encode transfer syntax 1.2.3.4"),
        ("u8", ts.HTJ2K_LOSSLESS_RPCL, "no installed codec writes"),
        ("u8", "1.2.840.10008.1.2.4.102", "cannot encode transfer syntax"),
    ],
)
def test_impossible_requests_are_typed_and_explained(name: str, target: str, reason: str) -> None:
    ds = make_image(next(f for f in FORMATS if f.name == name))
    with pytest.raises(UnsupportedConversion, match=reason):
        transcode(ds, target)


def test_video_is_never_transcoded() -> None:
    ds = make_image(FORMATS[0])
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.102"
    with pytest.raises(UnsupportedConversion, match="video"):
        transcode(ds, ts.EXPLICIT_LE)


def test_the_input_is_left_as_it_was() -> None:
    ds = make_image(next(f for f in FORMATS if f.name == "ybr-422"))
    before = reread(ds)
    transcode(ds, ts.JPEG_BASELINE)
    transcode(ds, ts.EXPLICIT_BE)
    assert ds.file_meta.TransferSyntaxUID == ts.EXPLICIT_LE
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    assert reread(ds).PixelData == before.PixelData
    assert "LossyImageCompression" not in ds


def test_objects_without_pixels_change_only_their_encoding() -> None:
    ds = make_image(FORMATS[0])
    del ds.PixelData
    ds.ReferencedStudySequence = [Dataset()]
    ds.ReferencedStudySequence[0].ReferencedSOPInstanceUID = "1.2.3"
    for target in (ts.IMPLICIT_LE, ts.EXPLICIT_BE, ts.DEFLATED_LE, ts.JPEG_LS_LOSSLESS):
        out = reread(transcode(ds, target))
        assert str(out.file_meta.TransferSyntaxUID) == target
        assert out.ReferencedStudySequence[0].ReferencedSOPInstanceUID == "1.2.3"
        assert out.PatientName == ds.PatientName


@pytest.mark.parametrize("target", [ts.JPEG_LS_LOSSLESS, ts.J2K_LOSSLESS, ts.RLE, ts.HTJ2K])
def test_multi_frame_encapsulation_follows_annex_a4(target: str) -> None:
    """One fragment per frame, each of even length, and a Basic Offset Table whose offsets
    point at each frame's first fragment item."""
    ds = make_image(next(f for f in FORMATS if f.name == "multi-s16"))
    out = reread(transcode(ds, target))
    data = out.PixelData
    assert out["PixelData"].is_undefined_length
    offsets = [int(x) for x in parse_basic_offsets(io.BytesIO(data), endianness="<")]
    fragments = list(generate_fragments(data))[1:]  # the first item is the offset table
    assert len(fragments) == 3 and len(offsets) == 3
    assert all(len(fragment) % 2 == 0 for fragment in fragments)
    bot_end = 8 + 4 * len(offsets)
    expected, position = [], 0
    for fragment in fragments:
        expected.append(position)
        position += 8 + len(fragment)
    assert offsets == expected
    assert data[bot_end + offsets[1] : bot_end + offsets[1] + 4] == b"\xfe\xff\x00\xe0"


@pytest.mark.parametrize("name", ["rgb-p0", "rgb-p1", "ybr-full", "ybr-422"])
@pytest.mark.parametrize("target", [ts.EXPLICIT_LE, ts.JPEG_LS_LOSSLESS, ts.RLE])
def test_lossy_colour_decodes_to_rgb_when_leaving_jpeg(name: str, target: str) -> None:
    """A YBR_FULL_422 JPEG becomes RGB samples labelled RGB, close to the original colours."""
    ds = make_image(next(f for f in FORMATS if f.name == name))
    want = pixel_array(ds).astype(np.int64)  # RGB, whatever the stored colour space
    jpeg = reread(transcode(ds, ts.JPEG_BASELINE))
    out = reread(transcode(jpeg, target))
    assert out.PhotometricInterpretation == "RGB"
    assert np.abs(pixel_array(out, as_rgb=False).astype(np.int64) - want).mean() < 40


def test_lossy_samples_beyond_bits_stored_are_clipped() -> None:
    """A stream coded at 16-bit precision for data declared 12-bit (as some encoders write it):
    samples the codec puts above 4095 must come out as 4095, not wrapped to small values."""
    ds = make_image(next(f for f in FORMATS if f.name == "u16"))
    j2k = reread(transcode(ds, ts.J2K))
    j2k.BitsStored, j2k.HighBit = 12, 11
    assert int(pixel_array(j2k).max()) > 4095  # the premise: the decoder does not mask
    out = reread(transcode(j2k, ts.RLE))
    values = pixel_array(out)
    assert int(values.max()) == 4095
    assert int((values == 4095).sum()) == int((pixel_array(j2k) >= 4095).sum())


@pytest.mark.parametrize("missing", ["Rows", "Columns", "BitsAllocated"])
def test_incomplete_pixel_module_is_a_clear_error(missing: str) -> None:
    ds = make_image(FORMATS[0])
    delattr(ds, missing)
    stored = ds.file_meta.TransferSyntaxUID
    target = ts.RLE if stored == ts.EXPLICIT_LE else ts.EXPLICIT_LE
    with pytest.raises(ImagingError, match=f"incomplete Image Pixel module: {missing} is missing"):
        transcode(ds, target)


def test_pixel_format_defaults_for_optional_attributes() -> None:
    ds = make_image(FORMATS[0])
    for keyword in ("SamplesPerPixel", "PixelRepresentation", "NumberOfFrames"):
        if keyword in ds:
            delattr(ds, keyword)
    fmt = PixelFormat.of(ds)
    assert (fmt.samples, fmt.signed, fmt.frames) == (1, False, 1)
