"""DCMTK and GDCM as independent encoders and decoders for the codec interoperability tests:
running them on data sets, and measuring what they decode against the original pixels."""

from __future__ import annotations

import copy
import io
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.pixels import pixel_array
from pydicom.uid import UID

from pacs.imaging import syntaxes as ts
from tests.imagegen import FORMATS, make_image

BY_NAME = {fmt.name: fmt for fmt in FORMATS}
TOOL_TIMEOUT = 60.0
# A lossy decode may fall short of the other side's by this much (rounding in the inverse
# transforms and colour conversion differs between implementations).
PSNR_SLACK_DB = 1.0


@dataclass(frozen=True)
class Tool:
    """A command line converter run as ``argv... input output``. ``syntax`` is the transfer
    syntax an encoder must produce; ``relabel`` maps a transfer syntax the tool does not know to
    one it decodes the same frames under."""

    name: str
    argv: tuple[str, ...]
    syntax: str = ""
    relabel: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.name

    def convert(self, ds: Dataset, folder: Path) -> Dataset:
        """Run the tool on ``ds`` written as a Part 10 file; fail the test with the tool's own
        message when it reports an error."""
        require(self.argv[0])
        step = len(list(folder.glob("*.dcm")))
        src, dst = folder / f"{step}-{self.argv[0]}-in.dcm", folder / f"{step}-{self.argv[0]}.dcm"
        label = dict(self.relabel).get(str(ds.file_meta.TransferSyntaxUID))
        write(src, relabelled(ds, label) if label else ds)
        proc = subprocess.run(
            [*self.argv, str(src), str(dst)], capture_output=True, text=True, timeout=TOOL_TIMEOUT
        )
        if proc.returncode != 0:
            pytest.fail(
                f"{' '.join(self.argv)} exited with {proc.returncode}:\n{proc.stderr}{proc.stdout}"
            )
        out = pydicom.dcmread(dst)
        if self.syntax:
            assert str(out.file_meta.TransferSyntaxUID) == self.syntax, (
                f"{self} wrote another syntax"
            )
        return out


def require(binary: str) -> None:
    if shutil.which(binary) is None:
        package = "libgdcm-tools" if binary.startswith("gdcm") else "dcmtk"
        pytest.skip(f"{binary} is not installed (Debian package {package})")


def image(name: str) -> Dataset:
    return make_image(BY_NAME[name])


def write(path: Path, ds: Dataset) -> None:
    pydicom.dcmwrite(path, ds, enforce_file_format=True)


def reread(ds: Dataset) -> Dataset:
    """Write and read back: what a peer or a viewer would get."""
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def relabelled(ds: Dataset, uid: str) -> Dataset:
    """``ds`` under another Transfer Syntax UID; ``ds`` itself keeps its own."""
    out = copy.copy(ds)
    out.file_meta = copy.deepcopy(ds.file_meta)
    out.file_meta.TransferSyntaxUID = UID(uid)
    return out


def is_native(ds: Dataset) -> bool:
    syntax = ts.lookup(str(ds.file_meta.TransferSyntaxUID))
    return syntax is not None and not syntax.encapsulated


def assert_exact(original: Dataset, decoded: Dataset) -> None:
    """The stored sample values (colour space as stored, no conversion) are the original ones,
    with the same shape and signedness."""
    want = pixel_array(original, as_rgb=False)
    got = pixel_array(decoded, as_rgb=False)
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    assert got.dtype == want.dtype, f"samples are {got.dtype}, expected {want.dtype}"
    wrong = got != want
    if wrong.any():
        at = tuple(int(i) for i in np.argwhere(wrong)[0])
        pytest.fail(
            f"{int(wrong.sum())} of {wrong.size} samples differ; first at {at}: "
            f"{got[at]} instead of {want[at]}"
        )


def psnr(want: NDArray[Any], got: NDArray[Any], bits: int) -> float:
    error = want.astype(np.float64) - got.astype(np.float64)
    mse = float(np.mean(error**2))
    return math.inf if mse == 0 else 10 * math.log10((2**bits - 1) ** 2 / mse)


def jpeg_ls_near(stream: Dataset) -> int:
    """The NEAR parameter in the scan header of the first frame of a JPEG-LS data set."""
    frames = int(stream.get("NumberOfFrames", 1) or 1)
    frame = next(generate_frames(stream.PixelData, number_of_frames=frames))
    sos = frame.index(b"\xff\xda")
    components = frame[sos + 4]
    return frame[sos + 5 + 2 * components]


def assert_lossy_interop(
    original: Dataset, decoded: Dataset, reference: Dataset, stream: Dataset
) -> None:
    """``decoded`` (one implementation's reading of ``stream``) is as close to the original as
    ``reference`` (the encoding side's own reading of it), in RGB for colour; a JPEG-LS stream is
    also held to the NEAR bound it declares."""
    bits = int(original.BitsStored)
    want = pixel_array(original, as_rgb=True)
    got = pixel_array(decoded, as_rgb=True)
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    ours = psnr(want, got, bits)
    theirs = psnr(want, pixel_array(reference, as_rgb=True), bits)
    assert ours >= theirs - PSNR_SLACK_DB, f"PSNR {ours:.1f} dB, the encoding side {theirs:.1f} dB"
    if str(stream.file_meta.TransferSyntaxUID) == ts.JPEG_LS_NEAR:
        assert_near(original, decoded, jpeg_ls_near(stream))


def assert_near(original: Dataset, decoded: Dataset, near: int) -> None:
    """No sample is off by more than ``near``, compared in the colour space the samples were
    coded in: as stored, or RGB when the encoder was given RGB converted from YCbCr."""
    as_rgb = decoded.PhotometricInterpretation != original.PhotometricInterpretation
    want = pixel_array(original, as_rgb=as_rgb).astype(np.int64)
    got = pixel_array(decoded, as_rgb=as_rgb).astype(np.int64)
    error = np.abs(want - got)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape))
    assert error[worst] <= near, (
        f"error {error[worst]} > NEAR {near} at {worst}: {got[worst]} instead of {want[worst]}"
    )
