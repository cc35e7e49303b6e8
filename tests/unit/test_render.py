"""Rendering: exact grey levels for known windows (PNG is lossless), the VOI precedence, colour
models, frames, sizes, compressed input, request parsing and typed errors."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, JPEGLSLossless, RLELossless

from pacs.errors import BadRenderRequest, ImagingError
from pacs.imaging.lut import Window
from pacs.imaging.render import (
    RenderOptions,
    fit_size,
    frame_count,
    parse_window,
    render,
    rendered_options,
    wado_uri_options,
)
from pacs.imaging.transcode import transcode
from tests.dicomgen import make_ct

pytestmark = [
    pytest.mark.filterwarnings("error::UserWarning"),
    pytest.mark.filterwarnings("error::DeprecationWarning"),
]


def mono(pixels: np.ndarray, *, bits_stored: int | None = None, **extra: object) -> Dataset:
    """A greyscale object holding ``pixels`` (rows, columns) or (frames, rows, columns)."""
    arr = np.ascontiguousarray(pixels)
    rows, columns = arr.shape[-2:]
    ds = make_ct(rows=rows, columns=columns)
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = int(arr.dtype.kind == "i")
    if arr.ndim == 3:
        ds.NumberOfFrames = arr.shape[0]
    ds.PixelData = arr.tobytes()
    for key, value in extra.items():
        setattr(ds, key, value)
    return ds


def colour(raw: bytes, rows: int, columns: int, photometric: str, planar: int = 0) -> Dataset:
    ds = make_ct(rows=rows, columns=columns, bits=8)
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = photometric
    ds.PlanarConfiguration = planar
    ds.PixelData = raw
    return ds


def png(ds: Dataset, **options: object) -> np.ndarray:
    data = render(ds, RenderOptions(fmt="png", **options))  # type: ignore[arg-type]
    assert data.startswith(b"\x89PNG")
    return np.asarray(Image.open(io.BytesIO(data)))


def linear(x: np.ndarray, c: float, w: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2, written out piecewise, into 0..255."""
    x = x.astype(np.float64)
    y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255
    y = np.where(x <= c - 0.5 - (w - 1) / 2, 0, y)
    y = np.where(x > c - 0.5 + (w - 1) / 2, 255, y)
    return np.rint(y).astype(np.uint8)


RAMP = np.arange(0, 201, dtype=np.uint16).reshape(1, 201)


# -- greyscale: windows and their precedence ---------------------------------------------------


def test_linear_exact_window_gives_the_formula_values() -> None:
    out = png(mono(RAMP), window=(100, 200, "LINEAR_EXACT"))
    assert out.shape == (1, 201)
    assert out.dtype == np.uint8
    assert [out[0, x] for x in (0, 50, 100, 150, 200)] == [0, 64, 128, 191, 255]
    assert np.all(np.diff(out[0].astype(int)) >= 0)


def test_linear_window_matches_the_piecewise_definition() -> None:
    ramp = np.arange(-300, 400, dtype=np.int16).reshape(7, 100)
    out = png(mono(ramp), window=(40, 400))
    assert np.array_equal(out, linear(ramp, 40, 400))
    assert out.min() == 0
    assert out.max() == 255


def test_file_window_first_value_and_function_are_used() -> None:
    ds = mono(RAMP, WindowCenter=[100, 7], WindowWidth=[200, 3], VOILUTFunction="LINEAR_EXACT")
    assert np.array_equal(png(ds), png(mono(RAMP), window=(100, 200, "LINEAR_EXACT")))


def test_sigmoid_function() -> None:
    ds = mono(RAMP, WindowCenter=100, WindowWidth=80, VOILUTFunction="SIGMOID")
    expected = np.rint(255 / (1 + np.exp(-4 * (RAMP - 100.0) / 80))).astype(np.uint8)
    assert np.array_equal(png(ds), expected)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_steep_sigmoid_does_not_overflow() -> None:
    ds = mono(RAMP, WindowCenter=100, WindowWidth=0.001, VOILUTFunction="SIGMOID")
    out = png(ds)
    assert out[0, 0] == 0
    assert out[0, -1] == 255


def test_request_window_overrides_the_file() -> None:
    ds = mono(RAMP, WindowCenter=10, WindowWidth=5)
    assert np.array_equal(png(ds, window=(100, 201)), linear(RAMP, 100, 201))


def test_unusable_file_window_falls_back_to_automatic() -> None:
    ds = mono(RAMP, WindowCenter=100, WindowWidth=0)  # width 0 is invalid for LINEAR
    out = png(ds)
    assert out[0, 0] == 0
    assert out[0, -1] == 255


def test_signed_pixels_with_rescale_are_windowed_in_modality_units() -> None:
    stored = np.arange(-500, 500, 5, dtype=np.int16).reshape(10, 20)
    ds = mono(stored, RescaleSlope=2, RescaleIntercept=-100, WindowCenter=0, WindowWidth=1000)
    assert np.array_equal(png(ds), linear(stored * 2.0 - 100, 0, 1000))


def test_monochrome1_is_inverted() -> None:
    plain = png(mono(RAMP), window=(100, 200, "LINEAR_EXACT"))
    inverted = png(
        mono(RAMP, PhotometricInterpretation="MONOCHROME1"), window=(100, 200, "LINEAR_EXACT")
    )
    assert np.array_equal(inverted, 255 - plain)
    assert inverted[0, 0] == 255


def test_8bit_without_window_is_shown_as_stored() -> None:
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert np.array_equal(png(mono(pixels)), pixels)


def test_12bit_in_16_ignores_the_unused_high_bits() -> None:
    ramp = np.arange(4096, dtype=np.uint16).reshape(64, 64)
    clean = png(mono(ramp, bits_stored=12))
    dirty = png(mono(ramp | 0xF000, bits_stored=12))
    assert np.array_equal(clean, dirty)
    assert clean.min() == 0
    assert clean.max() == 255
    assert np.all(np.diff(clean.reshape(-1).astype(int)) >= 0)


def test_automatic_window_uses_the_full_output_range() -> None:
    rng = np.random.default_rng(3)
    ds = mono(rng.integers(1000, 3000, (64, 64), dtype=np.uint16), RescaleIntercept=-1024)
    ds.RescaleSlope = 1
    out = png(ds)
    assert out.min() == 0
    assert out.max() == 255


def test_constant_image_renders() -> None:
    out = png(mono(np.full((8, 8), 700, dtype=np.uint16)))
    assert out.shape == (8, 8)
    assert len(np.unique(out)) == 1


def voi_item(descriptor: list[int], data: list[int]) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = descriptor
    item.LUTData = data
    return item


def test_voi_lut_sequence_maps_through_the_table() -> None:
    pixels = np.array([[0, 1, 2, 3, 9]], dtype=np.uint16)
    ds = mono(pixels, VOILUTSequence=Sequence([voi_item([4, 0, 16], [0, 65535, 32768, 1000])]))
    expected = np.rint(np.array([0, 65535, 32768, 1000, 1000]) * 255 / 65535)
    assert png(ds).tolist() == [expected.astype(int).tolist()]


def test_file_window_wins_over_voi_lut_sequence() -> None:
    lut = Sequence([voi_item([256, 0, 16], [0] * 256)])
    ds = mono(RAMP, WindowCenter=100, WindowWidth=201, VOILUTSequence=lut)
    assert np.array_equal(png(ds), linear(RAMP, 100, 201))


def test_modality_lut_sequence_feeds_the_window() -> None:
    pixels = np.array([[0, 1, 2, 3]], dtype=np.uint16)
    ds = mono(pixels, ModalityLUTSequence=Sequence([voi_item([4, 0, 16], [10, 55, 110, 150])]))
    ds.ModalityLUTSequence[0].ModalityLUTType = "HU"
    out = png(ds, window=(80, 100, "LINEAR_EXACT"))
    assert out.tolist() == [[0, 64, 204, 255]]


def test_enhanced_multiframe_reads_functional_groups() -> None:
    frames = np.stack([np.arange(0, 201, dtype=np.uint16).reshape(1, 201)] * 2)
    ds = mono(frames)
    shared = Dataset()
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth, voi.VOILUTFunction = 100, 200, "LINEAR_EXACT"
    shared.FrameVOILUTSequence = Sequence([voi])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for intercept in (0, 100):
        transform = Dataset()
        transform.RescaleSlope, transform.RescaleIntercept = 1, intercept
        transform.RescaleType = "US"
        group = Dataset()
        group.PixelValueTransformationSequence = Sequence([transform])
        per_frame.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    first, second = png(ds, frame=0), png(ds, frame=1)
    assert [first[0, x] for x in (0, 50, 100, 200)] == [0, 64, 128, 255]
    assert [second[0, x] for x in (0, 50, 100)] == [128, 191, 255]


# -- colour ------------------------------------------------------------------------------------

RGB = np.array(
    [[[255, 0, 0], [0, 255, 0], [0, 0, 255]], [[10, 20, 30], [200, 100, 50], [255, 255, 255]]],
    dtype=np.uint8,
)


@pytest.mark.parametrize("planar", [0, 1])
def test_rgb_in_either_planar_configuration(planar: int) -> None:
    raw = RGB.tobytes() if planar == 0 else RGB.transpose(2, 0, 1).tobytes()
    out = png(colour(raw, 2, 3, "RGB", planar))
    assert np.array_equal(out, RGB)


def test_ybr_full_is_converted_to_rgb() -> None:
    rgb = RGB.astype(np.float64)
    y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    cb = -0.168736 * rgb[..., 0] - 0.331264 * rgb[..., 1] + 0.5 * rgb[..., 2] + 128
    cr = 0.5 * rgb[..., 0] - 0.418688 * rgb[..., 1] - 0.081312 * rgb[..., 2] + 128
    ybr = np.clip(np.rint(np.stack([y, cb, cr], axis=-1)), 0, 255).astype(np.uint8)
    out = png(colour(ybr.tobytes(), 2, 3, "YBR_FULL"))
    assert np.abs(out.astype(int) - RGB.astype(int)).max() <= 2


def test_ybr_full_422_shares_chroma_between_pixel_pairs() -> None:
    # Y0 Y1 Cb Cr per pair: a grey pair, then a bright pair.
    raw = bytes([100, 100, 128, 128, 250, 250, 128, 128])
    ds = colour(raw, 1, 4, "YBR_FULL_422")
    assert png(ds).tolist() == [[[100] * 3, [100] * 3, [250] * 3, [250] * 3]]


def test_palette_colour_maps_indices_to_the_lut_entries() -> None:
    ds = mono(np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8))
    ds.PhotometricInterpretation = "PALETTE COLOR"
    for name in ("Red", "Green", "Blue"):
        setattr(ds, f"{name}PaletteColorLookupTableDescriptor", [3, 0, 16])
    ds.RedPaletteColorLookupTableData = np.array([0xFFFF, 0, 0], "<u2").tobytes()
    ds.GreenPaletteColorLookupTableData = np.array([0, 0x8000, 0], "<u2").tobytes()
    ds.BluePaletteColorLookupTableData = np.array([0, 0, 0x1000], "<u2").tobytes()
    entries = [[255, 0, 0], [0, 128, 0], [0, 0, 16]]
    assert png(ds).tolist() == [[entries[i] for i in row] for row in ([0, 1, 2], [2, 1, 0])]
    assert png(ds, window=(1, 1)).tolist() == png(ds).tolist()  # a window means nothing here


def test_jpeg_output_decodes_with_the_right_mode_and_size() -> None:
    grey = Image.open(io.BytesIO(render(make_ct(rows=40, columns=30))))
    assert (grey.format, grey.mode, grey.size) == ("JPEG", "L", (30, 40))
    rgb = Image.open(io.BytesIO(render(colour(RGB.tobytes(), 2, 3, "RGB"), RenderOptions())))
    assert (rgb.format, rgb.mode, rgb.size) == ("JPEG", "RGB", (3, 2))


# -- frames, sizes, compressed input -----------------------------------------------------------


def test_multiframe_selects_the_frame() -> None:
    frames = np.stack([np.full((4, 5), v, dtype=np.uint16) for v in (0, 50, 200)])
    ds = mono(frames)
    assert frame_count(ds) == 3
    levels = [int(png(ds, frame=i, window=(100, 200, "LINEAR_EXACT"))[0, 0]) for i in range(3)]
    assert levels == [0, 64, 255]


def test_odd_sizes_keep_every_pixel() -> None:
    pixels = np.arange(35, dtype=np.uint8).reshape(5, 7)
    assert np.array_equal(png(mono(pixels)), pixels)


def test_resize_keeps_aspect_ratio_and_never_upscales_unless_asked() -> None:
    ds = make_ct(rows=32, columns=64)
    assert png(ds, rows=16, columns=16).shape == (8, 16)
    assert png(ds, rows=8).shape == (8, 16)
    assert png(ds, columns=128).shape == (32, 64)
    assert png(ds, columns=128, upscale=True).shape == (64, 128)


def test_fit_size() -> None:
    assert fit_size(512, 256, 100, 100) == (100, 50)
    assert fit_size(256, 512, 100, None) == (100, 200)
    assert fit_size(100, 50, None, None) == (100, 50)
    assert fit_size(100, 50, 400, 400) == (100, 50)
    assert fit_size(100, 50, 400, 400, upscale=True) == (400, 200)
    assert fit_size(1000, 1, 10, 10) == (10, 1)


@pytest.mark.parametrize("syntax", [RLELossless, JPEGLSLossless, JPEG2000Lossless])
def test_compressed_input_renders_like_the_native_one(syntax: str) -> None:
    native = make_ct(rows=48, columns=40, seed=5, WindowCenter=2000, WindowWidth=3000)
    compressed = copy.deepcopy(native)
    compressed.compress(syntax)
    assert compressed.file_meta.TransferSyntaxUID == syntax
    assert np.array_equal(png(compressed), png(native))


def test_jpeg_baseline_colour_is_decoded_to_rgb() -> None:
    rgb = np.zeros((16, 16, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, np.arange(16, dtype=np.uint8) * 16, 50
    lossy = transcode(colour(rgb.tobytes(), 16, 16, "RGB"), JPEGBaseline8Bit)
    assert lossy.PhotometricInterpretation == "YBR_FULL_422"
    out = png(lossy)
    assert out.shape == (16, 16, 3)
    assert np.abs(out.astype(int) - rgb.astype(int)).max() <= 10


def test_rendering_leaves_the_dataset_untouched() -> None:
    ds = mono(RAMP, RescaleSlope=1, RescaleIntercept=-10, WindowCenter=50, WindowWidth=100)
    before = copy.deepcopy(ds)
    render(ds)
    assert ds == before


# -- errors ------------------------------------------------------------------------------------


def test_frame_out_of_range_is_a_bad_request() -> None:
    with pytest.raises(BadRenderRequest, match="frame 2 does not exist") as info:
        render(make_ct(), RenderOptions(frame=1))
    assert info.value.http_status == 400


def test_no_pixel_data() -> None:
    ds = make_ct()
    del ds.PixelData
    assert frame_count(ds) == 0
    with pytest.raises(ImagingError, match="no pixel data") as info:
        render(ds)
    assert not isinstance(info.value, BadRenderRequest)
    assert info.value.http_status == 422


def test_undecodable_pixel_data_is_wrapped() -> None:
    ds = make_ct(rows=16, columns=16)
    ds.PixelData = ds.PixelData[:100]
    with pytest.raises(ImagingError, match="frame 1: cannot decode") as info:
        render(ds)
    assert info.value.__cause__ is not None


def test_failures_past_decoding_are_wrapped_too() -> None:
    # Decodes fine, but the palette tables are missing.
    ds = mono(np.array([[0, 1]], dtype=np.uint8), PhotometricInterpretation="PALETTE COLOR")
    with pytest.raises(ImagingError, match="cannot render frame 1") as info:
        render(ds)
    assert not isinstance(info.value, BadRenderRequest)
    assert info.value.__cause__ is not None


def test_unsupported_photometric_is_an_imaging_error() -> None:
    ds = colour(bytes(12), 2, 2, "RGB")
    ds.SamplesPerPixel = 4
    ds.PhotometricInterpretation = "ARGB"
    ds.PixelData = bytes(16)
    with pytest.raises(ImagingError):
        render(ds)


@pytest.mark.parametrize(
    "options",
    [
        {"window": (40, 0)},
        {"window": (40, 0.5)},
        {"window": (40, 400, "CUBIC")},
        {"window": (float("nan"), 400)},
        {"quality": 0},
        {"quality": 101},
        {"rows": 0},
        {"columns": 100_000},
        {"frame": -1},
        {"fmt": "gif"},
    ],
)
def test_bad_options_are_bad_requests(options: dict[str, object]) -> None:
    with pytest.raises(BadRenderRequest):
        RenderOptions(**options)  # type: ignore[arg-type]


# -- request parameters ------------------------------------------------------------------------


def test_wado_uri_parameters() -> None:
    opts = wado_uri_options(
        {
            "contentType": "image/png",
            "frameNumber": "2",
            "windowCenter": "40",
            "windowWidth": "400",
            "rows": "64",
            "imageQuality": "70",
        }
    )
    assert opts == RenderOptions(
        frame=1, fmt="png", quality=70, window=Window(40, 400), rows=64, columns=None
    )
    assert opts.media_type == "image/png"
    assert wado_uri_options({}) == RenderOptions()


@pytest.mark.parametrize(
    "query",
    [
        {"windowCenter": "40"},
        {"windowCenter": "40", "windowWidth": "wide"},
        {"frameNumber": "0"},
        {"rows": "ten"},
        {"contentType": "image/gif"},
    ],
)
def test_bad_wado_uri_parameters(query: dict[str, str]) -> None:
    with pytest.raises(BadRenderRequest):
        wado_uri_options(query)


def test_rendered_resource_parameters() -> None:
    opts = rendered_options(
        {"viewport": "128,96", "window": "40,400,linear-exact", "quality": "50"},
        fmt="png",
        frame_number=3,
    )
    assert opts == RenderOptions(
        frame=2, fmt="png", quality=50, window=Window(40, 400, "LINEAR_EXACT"), rows=96, columns=128
    )
    assert rendered_options({"viewport": ",96"}).rows == 96
    assert parse_window("1,2,SIGMOID") == Window(1, 2, "SIGMOID")


@pytest.mark.parametrize(
    "query", [{"viewport": "1,2,3,4,5,6"}, {"window": "40"}, {"window": "40,0"}, {"quality": "x"}]
)
def test_bad_rendered_resource_parameters(query: dict[str, str]) -> None:
    with pytest.raises(BadRenderRequest):
        rendered_options(query)
