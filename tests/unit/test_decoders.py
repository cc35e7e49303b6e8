"""The imagecodecs decoding plugin: pacs uses it, it agrees with pydicom's default plugins, and a
stream it cannot decode still decodes through pydicom's own choice."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import imagecodecs
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.pixels import pixel_array
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import UID

from pacs.imaging import decoders
from pacs.imaging.pixels import decoded, iter_decoded
from pacs.imaging.transcode import transcode
from tests.imagegen import FORMATS, make_image

FMTS = {fmt.name: fmt for fmt in FORMATS}
LOSSLESS = [
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.201",
]
NAMES = {"jpeg8_decode", "jpegls_decode", "htj2k_decode"}


class Codecs:
    """Stands in for the imagecodecs module inside pacs.imaging.decoders: counts the decoder
    calls, and fails them from call ``fail_from`` on."""

    def __init__(self, fail_from: int | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.fail_from = fail_from

    def __getattr__(self, name: str) -> Any:
        func = getattr(imagecodecs, name)
        if name not in NAMES:
            return func

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if self.fail_from is not None and sum(self.calls.values()) >= self.fail_from:
                raise RuntimeError("refused by the test")
            return func(*args, **kwargs)

        return call


@pytest.fixture
def codecs(monkeypatch: pytest.MonkeyPatch) -> Codecs:
    stub = Codecs()
    monkeypatch.setattr(decoders, "imagecodecs", stub)
    return stub


def reread(ds: Dataset) -> Dataset:
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def default(ds: Dataset, *, as_rgb: bool) -> np.ndarray:
    """What pydicom decodes with its own choice of plugin."""
    return pixel_array(ds, as_rgb=as_rgb)


def test_registered_once_for_each_syntax() -> None:
    decoders.register()
    decoders.register()
    for tsyntax in decoders.SYNTAXES:
        assert decoders.LABEL in get_decoder(tsyntax).available_plugins
    assert decoders.LABEL not in get_decoder(UID("1.2.840.10008.1.2.4.90")).available_plugins


@pytest.mark.parametrize("target", LOSSLESS)
@pytest.mark.parametrize("name", ["u8", "s12", "s16", "u16", "mono1-u12", "odd-u8", "rgb-p1"])
def test_lossless_agrees_with_pydicom(codecs: Codecs, target: str, name: str) -> None:
    ds = reread(transcode(make_image(FMTS[name]), target))
    ours = decoded(ds, as_rgb=False)
    assert sum(codecs.calls.values()) == 1
    np.testing.assert_array_equal(ours, default(ds, as_rgb=False))
    assert ours.dtype == default(ds, as_rgb=False).dtype


@pytest.mark.parametrize("target", LOSSLESS)
def test_multi_frame_signed_frame_by_frame(codecs: Codecs, target: str) -> None:
    ds = reread(transcode(make_image(FMTS["multi-s16"]), target))
    frames = list(iter_decoded(ds, as_rgb=False))
    assert sum(codecs.calls.values()) == 3
    np.testing.assert_array_equal(np.stack(frames), default(ds, as_rgb=False))


def test_jpeg_ybr_to_rgb_in_libjpeg_turbo(codecs: Codecs) -> None:
    """Decoded straight to RGB by libjpeg-turbo (the IJG upsampling and conversion DCMTK's
    dcmdjpeg also gives); pydicom's default plugin upsamples chroma differently, so the two
    agree closely on average but not sample for sample on a noise image."""
    ds = reread(transcode(make_image(FMTS["rgb-odd-multi"]), "1.2.840.10008.1.2.4.50"))
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    ours = decoded(ds, as_rgb=True)
    assert codecs.calls["jpeg8_decode"] == 2
    frames = [
        imagecodecs.jpeg8_decode(f) for f in generate_frames(ds.PixelData, number_of_frames=2)
    ]
    np.testing.assert_array_equal(ours, np.stack(frames))
    error = np.abs(ours.astype(int) - default(ds, as_rgb=True).astype(int))
    assert error.mean() < 1.5
    kept = decoded(ds, as_rgb=False)  # not asked for RGB: YBR samples, as pydicom returns them
    assert np.abs(kept.astype(int) - default(ds, as_rgb=False).astype(int)).mean() < 1.5


def test_rejected_stream_falls_back() -> None:
    """A Part 1 JPEG 2000 codestream under HTJ2K: OpenJPH refuses it, pydicom's default plugin
    (OpenJPEG) decodes it."""
    ds = make_image(FMTS["u12"])
    stream = imagecodecs.jpeg2k_encode(ds.pixel_array, level=0, codecformat="J2K")
    ds.PixelData = encapsulate([stream])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.201")
    with pytest.raises(imagecodecs.Htj2kError):
        imagecodecs.htj2k_decode(stream)
    np.testing.assert_array_equal(decoded(ds, as_rgb=False), default(ds, as_rgb=False))


def test_failure_mid_series_continues_with_pydicom(monkeypatch: pytest.MonkeyPatch) -> None:
    stub = Codecs(fail_from=2)
    monkeypatch.setattr(decoders, "imagecodecs", stub)
    ds = reread(transcode(make_image(FMTS["multi-s16"]), "1.2.840.10008.1.2.4.80"))
    frames = list(iter_decoded(ds, as_rgb=False))
    assert len(frames) == 3
    np.testing.assert_array_equal(np.stack(frames), default(ds, as_rgb=False))
    np.testing.assert_array_equal(decoded(ds, as_rgb=False), default(ds, as_rgb=False))
